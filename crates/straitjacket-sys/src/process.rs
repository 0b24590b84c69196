//! Running a closure in a forked child, so that whatever it does to itself (install a
//! seccomp filter, set NO_NEW_PRIVS, die of SIGSYS) never touches the caller; and waiting
//! for children. The forking half exists only for tests (feature `testing`): its child runs
//! an arbitrary closure, which is sound only in a process no other thread holds a lock in.
//!
//! Meant for tests and probes, not for the launcher (whose child path is prepared in advance
//! and allocates nothing). The closure runs in a copy of a possibly multi-threaded process:
//! only the forking thread exists in the child. glibc's fork resets its own malloc locks, so
//! allocating is fine there; a lock held by another thread at fork time (stdout's, a
//! test harness's) would block forever, so the child arms `alarm(TIMEOUT_SECS)` first and a
//! stuck child ends as `Signaled(SIGALRM)` instead of hanging the caller.

use std::fmt;
use std::io;
#[cfg(any(test, feature = "testing"))]
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::last_error;

#[cfg(any(test, feature = "testing"))]
/// Seconds before a stuck child is killed by SIGALRM.
pub const TIMEOUT_SECS: u32 = 20;

#[cfg(any(test, feature = "testing"))]
/// Exit code of a child whose closure panicked.
pub const PANIC_EXIT: i32 = 101;

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildOutcome {
    /// `_exit(code)`; code is 0..=255.
    Exited(i32),
    /// Killed by a signal.
    Signaled(i32),
}

impl fmt::Display for ChildOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildOutcome::Exited(c) => write!(f, "exited with code {c}"),
            ChildOutcome::Signaled(s) => write!(f, "killed by signal {s}"),
        }
    }
}

#[cfg(any(test, feature = "testing"))]
/// Forks; the child runs `f` and `_exit`s with its return value (truncated to 0..=255 by the
/// kernel; [`PANIC_EXIT`] if it panics); the parent waits and reports how the child ended.
pub fn in_child<F: FnOnce() -> i32>(f: F) -> io::Result<ChildOutcome> {
    fork_child(f)?.wait()
}

#[cfg(any(test, feature = "testing"))]
/// A forked child that is still running. Dropping it kills (SIGKILL) and reaps it.
#[derive(Debug)]
pub struct Child {
    pid: libc::pid_t,
    reaped: bool,
}

#[cfg(any(test, feature = "testing"))]
impl Child {
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Waits for the child to end.
    pub fn wait(mut self) -> io::Result<ChildOutcome> {
        self.reaped = true;
        wait(self.pid)
    }

    /// Sends SIGKILL and reaps the child.
    pub fn kill(mut self) -> io::Result<ChildOutcome> {
        // SAFETY: kill takes integers; `pid` is our unreaped child, so the id cannot have
        // been reused by another process.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        self.reaped = true;
        wait(self.pid)
    }
}

#[cfg(any(test, feature = "testing"))]
impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            // SAFETY: as in `kill`: our own unreaped child.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            let _ = wait(self.pid);
        }
    }
}

#[cfg(any(test, feature = "testing"))]
/// Forks; the child runs `f` and `_exit`s with its return value, as [`in_child`], but the
/// parent gets the running [`Child`] back at once.
pub fn fork_child<F: FnOnce() -> i32>(f: F) -> io::Result<Child> {
    // SAFETY: fork has no memory-safety preconditions of its own; the child below only runs
    // `f` and then `_exit`s without returning into the caller's stack frames or running
    // destructors or atexit handlers that belong to the parent.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(last_error());
    }
    if pid == 0 {
        // SAFETY: alarm takes an integer and only schedules a signal for this process.
        unsafe { libc::alarm(TIMEOUT_SECS) };
        let code = catch_unwind(AssertUnwindSafe(f)).unwrap_or(PANIC_EXIT);
        // SAFETY: _exit ends the child immediately; it takes an integer and never returns.
        unsafe { libc::_exit(code) };
    }
    Ok(Child { pid, reaped: false })
}

/// Waits for child `pid` to end (retrying on EINTR).
pub fn wait(pid: libc::pid_t) -> io::Result<ChildOutcome> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `status` is a live, writable c_int for the duration of the call.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r < 0 {
            let e = last_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if libc::WIFEXITED(status) {
            return Ok(ChildOutcome::Exited(libc::WEXITSTATUS(status)));
        }
        if libc::WIFSIGNALED(status) {
            return Ok(ChildOutcome::Signaled(libc::WTERMSIG(status)));
        }
    }
}

/// CPU time (user + system, milliseconds) of the children this process has waited for,
/// and of their waited-for descendants (`getrusage(RUSAGE_CHILDREN)`).
pub fn children_cpu_ms() -> u64 {
    // SAFETY: rusage is plain data; getrusage fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a live rusage for the kernel to fill.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) } != 0 {
        return 0;
    }
    let ms = |t: libc::timeval| t.tv_sec as u64 * 1000 + t.tv_usec as u64 / 1000;
    ms(ru.ru_utime) + ms(ru.ru_stime)
}

/// Clock ticks per second, for the times in /proc/PID/stat.
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf takes an integer.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// Page size in bytes, for the resident set in /proc/PID/stat.
pub fn page_size() -> u64 {
    // SAFETY: sysconf takes an integer.
    let t = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if t > 0 {
        t as u64
    } else {
        4096
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_exit_codes_signals_and_panics() {
        assert_eq!(in_child(|| 7).unwrap(), ChildOutcome::Exited(7));
        assert_eq!(
            in_child(|| {
                // SAFETY: raising a signal on ourselves; the default action ends the child.
                unsafe { libc::raise(libc::SIGUSR1) };
                0
            })
            .unwrap(),
            ChildOutcome::Signaled(libc::SIGUSR1)
        );
        assert_eq!(
            in_child(|| panic!("in the child")).unwrap(),
            ChildOutcome::Exited(PANIC_EXIT)
        );
    }
}
