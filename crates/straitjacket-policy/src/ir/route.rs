//! The filter `straitjacket run` installs: which calls the kernel decides by itself and which
//! it hands to the supervisor as a user notification.
//!
//! In: the resolved [`Policy`]. Out: a policy of the same shape whose actions are either the
//! original ones (the kernel decides) or [`Action::Notify`] (the supervisor decides, with
//! [`super::eval::decide`] on the ORIGINAL policy). The transformation never changes what a
//! call ends up doing, only who carries it out:
//! - `kill-process` becomes `notify`, so the supervisor can say which call was blocked and
//!   why before it kills the process with SIGKILL (the thread stays blocked in the kernel
//!   until then, so it never runs on).
//! - `execve` and `execveat` always notify: the launcher's own execve is let through during
//!   the launch phase (even where the policy allows no execve), and the child stays blocked in
//!   it until the supervisor holds the listener (see the launcher). Later execs are answered
//!   as the policy says.
//! - with `report`, `errno(N)` becomes `notify` too, and the supervisor answers the errno.
//! - `allow`, `log`, `kill-thread`, `trap`, `trace` and genuine `notify` stay as they are.
//!
//! The arch check the compiler puts first is not an action of the policy and still kills in
//! the kernel.

use super::{Cond, Filter, Policy, Rule};
use crate::action::Action;
use crate::arch::SyscallNr;

/// The system calls that start a new program.
pub const EXEC_CALLS: [&str; 2] = ["execve", "execveat"];

/// Whether `action` is carried out by the supervisor in run mode.
pub fn supervised(action: Action, report: bool) -> bool {
    match action {
        Action::KillProcess => true,
        Action::Errno(_) => report,
        _ => false,
    }
}

/// The run-mode routing of `policy` (see the module docs).
pub fn route(policy: &Policy, report: bool) -> Policy {
    let mut out = policy.clone();
    for f in &mut out.filters {
        route_filter(f, report);
    }
    out
}

fn route_action(a: Action, report: bool) -> Action {
    if supervised(a, report) {
        Action::Notify
    } else {
        a
    }
}

fn route_filter(f: &mut Filter, report: bool) {
    f.default = route_action(f.default, report);
    f.unknown = route_action(f.unknown, report);
    for rules in f.syscalls.values_mut() {
        for r in rules.iter_mut() {
            r.action = route_action(r.action, report);
        }
    }
    for name in EXEC_CALLS {
        if let Some(sc) = f.arch.syscall(name) {
            f.syscalls.insert(
                SyscallNr(sc.nr),
                vec![Rule {
                    action: Action::Notify,
                    cond: Cond::True,
                    origin: None,
                    span: None,
                }],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;
    use crate::bpf::SeccompData;
    use crate::ir::eval::decide;
    use crate::resolve::{resolve_text, Options};

    fn policy(text: &str) -> Policy {
        let opts = Options {
            native: Arch::X86_64,
        };
        match resolve_text("p.sj", text, &opts) {
            Ok((_, r)) => r.policy,
            Err((s, d)) => panic!("{}", d.iter().map(|d| d.render(&s)).collect::<String>()),
        }
    }

    fn data(name: &str, args: [u64; 6]) -> SeccompData {
        SeccompData {
            nr: Arch::X86_64.syscall(name).unwrap().nr as i32,
            arch: Arch::X86_64.audit_arch(),
            instruction_pointer: 0,
            args,
        }
    }

    #[test]
    fn kills_and_execs_go_to_the_supervisor_the_rest_stays() {
        let p = policy(
            "default kill-process\nallow read, write\nerrno(EPERM) socket\ntrap getuid\nkill getpid if arg0 == 1\nallow getpid\n",
        );
        let r = route(&p, false);
        let cases = [
            ("read", [0; 6], Action::Allow),
            ("openat", [0; 6], Action::Notify),
            ("socket", [0; 6], Action::Errno(1)),
            ("getuid", [0; 6], Action::Trap(0)),
            ("getpid", [1, 0, 0, 0, 0, 0], Action::Notify),
            ("getpid", [0; 6], Action::Allow),
            ("execve", [0; 6], Action::Notify),
            ("execveat", [0; 6], Action::Notify),
        ];
        for (name, args, want) in cases {
            assert_eq!(decide(&r, &data(name, args)).0, want, "{name} {args:?}");
        }
        let rep = route(&p, true);
        assert_eq!(decide(&rep, &data("socket", [0; 6])).0, Action::Notify);
        // The original policy still decides what the supervisor does.
        assert_eq!(decide(&p, &data("execve", [0; 6])).0, Action::KillProcess);
    }

    #[test]
    fn an_allowed_execve_still_notifies() {
        let p = policy("default errno(EPERM)\nallow execve, read\n");
        let r = route(&p, false);
        assert_eq!(decide(&r, &data("execve", [0; 6])).0, Action::Notify);
        assert_eq!(decide(&r, &data("openat", [0; 6])).0, Action::Errno(1));
    }
}
