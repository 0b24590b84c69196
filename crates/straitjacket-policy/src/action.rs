//! What a filter answers: the seccomp return action.
//!
//! One type for the whole pipeline: the language names it, the compiler encodes it into a
//! `ret` instruction, the emulator and the kernel decode it. The canonical text form
//! (`allow`, `errno(1)`, `kill-process`, …) is used everywhere straitjacket prints an action.
//!
//! Encoding facts are from `include/uapi/linux/seccomp.h`; decoding follows
//! `kernel/seccomp.c` (`__seccomp_filter`): the action is the high 16 bits, an unknown action
//! kills the process, and errno data is clamped to MAX_ERRNO (4095).

use std::fmt;

/// `SECCOMP_RET_*` action values (high 16 bits of a filter's return).
pub mod ret {
    pub const KILL_PROCESS: u32 = 0x8000_0000;
    pub const KILL_THREAD: u32 = 0x0000_0000;
    pub const TRAP: u32 = 0x0003_0000;
    pub const ERRNO: u32 = 0x0005_0000;
    pub const USER_NOTIF: u32 = 0x7fc0_0000;
    pub const TRACE: u32 = 0x7ff0_0000;
    pub const LOG: u32 = 0x7ffc_0000;
    pub const ALLOW: u32 = 0x7fff_0000;
    /// Mask of the action part.
    pub const ACTION_FULL: u32 = 0xffff_0000;
    /// Mask of the data part.
    pub const DATA: u32 = 0x0000_ffff;
}

/// The largest errno the kernel passes through (`include/linux/err.h` MAX_ERRNO).
pub const MAX_ERRNO: u16 = 4095;

/// A seccomp action with its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    KillProcess,
    KillThread,
    /// SIGSYS with `si_errno` set to the data.
    Trap(u16),
    Errno(u16),
    /// Notify a ptrace tracer with the data as the event message.
    Trace(u16),
    /// A seccomp user notification: the supervisor decides.
    Notify,
    Log,
    Allow,
}

impl Action {
    /// The 32-bit value a BPF `ret` instruction returns for this action.
    pub fn to_ret(self) -> u32 {
        match self {
            Action::KillProcess => ret::KILL_PROCESS,
            Action::KillThread => ret::KILL_THREAD,
            Action::Trap(d) => ret::TRAP | u32::from(d),
            Action::Errno(d) => ret::ERRNO | u32::from(d),
            Action::Trace(d) => ret::TRACE | u32::from(d),
            Action::Notify => ret::USER_NOTIF,
            Action::Log => ret::LOG,
            Action::Allow => ret::ALLOW,
        }
    }

    /// What the kernel does with a filter's 32-bit return value. Unknown actions kill the
    /// process and errno data above MAX_ERRNO is clamped, as in `kernel/seccomp.c`.
    pub fn from_ret(value: u32) -> Action {
        let data = (value & ret::DATA) as u16;
        match value & ret::ACTION_FULL {
            ret::KILL_PROCESS => Action::KillProcess,
            ret::KILL_THREAD => Action::KillThread,
            ret::TRAP => Action::Trap(data),
            ret::ERRNO => Action::Errno(data.min(MAX_ERRNO)),
            ret::USER_NOTIF => Action::Notify,
            ret::TRACE => Action::Trace(data),
            ret::LOG => Action::Log,
            ret::ALLOW => Action::Allow,
            _ => Action::KillProcess,
        }
    }

    /// The kernel's precedence when stacked filters disagree: lower wins
    /// (`ACTION_ONLY` compared as a signed 32-bit value in `seccomp_run_filters`).
    pub fn precedence(self) -> i32 {
        (self.to_ret() & ret::ACTION_FULL) as i32
    }

    /// True for the actions that let the system call run.
    pub fn runs_call(self) -> bool {
        matches!(self, Action::Allow | Action::Log)
    }

    /// True when the process or thread dies.
    pub fn is_kill(self) -> bool {
        matches!(self, Action::KillProcess | Action::KillThread)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::KillProcess => f.write_str("kill-process"),
            Action::KillThread => f.write_str("kill-thread"),
            Action::Trap(0) => f.write_str("trap"),
            Action::Trap(d) => write!(f, "trap({d})"),
            Action::Errno(d) => write!(f, "errno({d})"),
            Action::Trace(d) => write!(f, "trace({d})"),
            Action::Notify => f.write_str("notify"),
            Action::Log => f.write_str("log"),
            Action::Allow => f.write_str("allow"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_displays() {
        let all = [
            Action::KillProcess,
            Action::KillThread,
            Action::Trap(0),
            Action::Trap(7),
            Action::Errno(1),
            Action::Trace(3),
            Action::Notify,
            Action::Log,
            Action::Allow,
        ];
        for a in all {
            assert_eq!(Action::from_ret(a.to_ret()), a);
        }
        assert_eq!(Action::Errno(13).to_string(), "errno(13)");
        assert_eq!(Action::Trap(0).to_string(), "trap");
        assert_eq!(Action::KillProcess.to_string(), "kill-process");
    }

    #[test]
    fn decodes_like_the_kernel() {
        assert_eq!(Action::from_ret(0x0005_ffff), Action::Errno(4095));
        assert_eq!(Action::from_ret(0x1234_0000), Action::KillProcess);
        assert!(Action::KillProcess.precedence() < Action::KillThread.precedence());
        assert!(Action::Errno(1).precedence() < Action::Notify.precedence());
        assert!(Action::Log.precedence() < Action::Allow.precedence());
    }
}
