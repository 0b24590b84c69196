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
//! - with `fs` rules ([`Routing::fs`]), every call of [`supervised::FS_CALLS`] the policy
//!   would allow becomes `notify`: the supervisor resolves the path itself and carries the call
//!   out under the rules. The calls of [`supervised::FS_REFUSED`] get their errno in the kernel
//!   whatever the policy says (they would reach files around the path checks). The network
//!   calls notify too, as with address rules (a unix socket's bind makes a file, its connect
//!   or send reaches one), and the i386 `socketcall` that could hide one gets ENOSYS.
//! - with address rules for the network ([`Routing::net`]), `connect`, `bind` and `sendmsg`
//!   the policy would allow become `notify`, and so do `sendmmsg` and `sendto` with a
//!   destination (a `sendto` with a NULL address sends on a connected socket and stays in
//!   the kernel); `io_uring_setup` gets ENOSYS. `--net none` routes as address rules do:
//!   unix sockets named by path stay reachable in an empty network namespace.
//! - with either, the calls of [`supervised::IDENTITY_CALLS`] notify too, so the supervisor
//!   knows when what it caches of a thread (identity, umask, root) goes stale.
//! - `allow`, `log`, `kill-thread`, `trap`, `trace` and genuine `notify` stay as they are.
//!
//! The arch check the compiler puts first is not an action of the policy and still kills in
//! the kernel.

use super::{ArgIndex, Cmp, CmpOp, Cond, Filter, Policy, Rule};
use crate::action::Action;
use crate::arch::{classify, SyscallNr};
use crate::supervised;

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

/// What `run` supervises besides kills and execs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Routing {
    /// `--report`: denials by errno are shown too.
    pub report: bool,
    /// `fs` rules are in force: path-based calls go to the supervisor.
    pub fs: bool,
    /// `net connect|bind` rules name addresses: connects, binds and addressed sends go to
    /// the supervisor.
    pub net: bool,
    /// Exec rules are in force and the kernel cannot be told to refuse executable memfds
    /// (`vm.memfd_noexec`, which only the global root can set): `memfd_create` must ask for
    /// a memfd sealed non-executable (MFD_NOEXEC_SEAL), since Landlock does not judge the
    /// exec of one.
    pub seal_memfds: bool,
}

impl Routing {
    /// How many routings there are: each of report, fs, net and seal_memfds on or off.
    pub const COUNT: u8 = 16;

    /// This routing's number in `0..COUNT`: bit 0 report, bit 1 fs, bit 2 net, bit 3
    /// seal_memfds (the key of the presets' programs compiled at build time).
    pub fn index(self) -> u8 {
        u8::from(self.report)
            | u8::from(self.fs) << 1
            | u8::from(self.net) << 2
            | u8::from(self.seal_memfds) << 3
    }

    /// The routing numbered `index` (bits above the fourth are ignored).
    pub fn from_index(index: u8) -> Routing {
        Routing {
            report: index & 1 != 0,
            fs: index & 2 != 0,
            net: index & 4 != 0,
            seal_memfds: index & 8 != 0,
        }
    }
}

/// The run-mode routing of `policy` (see the module docs).
pub fn route(policy: &Policy, routing: &Routing) -> Policy {
    let mut out = policy.clone();
    for f in &mut out.filters {
        route_filter(f, routing.report);
        if routing.fs {
            supervise(f, supervised::FS_CALLS, supervised::FS_REFUSED, None);
            if !routing.net {
                // A unix socket named by path is a file: its bind makes one (the supervisor
                // checks the directory), its connect or addressed send reaches one (the
                // supervisor checks the socket file against the rules).
                supervise(
                    f,
                    supervised::NET_CALLS,
                    supervised::NET_REFUSED,
                    Some("sendto"),
                );
            }
        }
        if routing.fs || routing.net {
            supervise(f, supervised::IDENTITY_CALLS, &[], None);
        }
        if routing.net {
            supervise(
                f,
                supervised::NET_CALLS,
                supervised::NET_REFUSED,
                Some("sendto"),
            );
            refuse_unaddressed_sockets(f);
        }
        if routing.seal_memfds {
            refuse_executable_memfds(f);
        }
    }
    out
}

/// `(arg & mask) OP value` on a 32-bit unsigned argument (`arg` < 6).
fn int_arg(arg: usize, op: CmpOp, mask: u64, value: u64) -> Cond {
    Cond::Cmp(Cmp {
        arg: ArgIndex::new(arg).expect("argument index below 6"),
        width: crate::arch::Width::W32,
        signed: false,
        op,
        mask,
        value,
    })
}

/// `memfd_create` without MFD_NOEXEC_SEAL refused (EACCES): a memfd that may be executed
/// would run a program no exec rule covers (Landlock does not judge internal files).
fn refuse_executable_memfds(f: &mut Filter) {
    const MFD_NOEXEC_SEAL: u64 = 0x8;
    let Some(sc) = f.arch.syscall("memfd_create") else {
        return;
    };
    let unsealed = int_arg(1, CmpOp::Eq, MFD_NOEXEC_SEAL, 0);
    let rules = f.syscalls.entry(SyscallNr(sc.nr)).or_default();
    rules.insert(0, added(Action::Errno(EACCES), unsealed));
}

/// Sockets whose traffic no address rule can judge, refused (EACCES) at creation under
/// address rules or `--net none`: raw and packet sockets (a raw datagram "to an allowed
/// address" carries any port, and AF_PACKET or SOCK_PACKET sniffs every one), and netlink
/// beyond NETLINK_ROUTE (the C library lists interfaces and addresses over it; the other
/// protocols, NETLINK_USERSOCK among them, reach other processes by port id).
fn refuse_unaddressed_sockets(f: &mut Filter) {
    const AF_NETLINK: u64 = 16;
    const AF_PACKET: u64 = 17;
    const SOCK_RAW: u64 = 3;
    const SOCK_PACKET: u64 = 10;
    const SOCK_TYPE_MASK: u64 = 0xf;
    const NETLINK_ROUTE: u64 = 0;
    let Some(sc) = f.arch.syscall("socket") else {
        return;
    };
    let int = int_arg;
    let all = 0xffff_ffff;
    // Netlink sockets are SOCK_RAW or SOCK_DGRAM whatever their protocol: judged by it.
    let refused = Cond::Or(vec![
        int(0, CmpOp::Eq, all, AF_PACKET),
        Cond::And(vec![
            int(0, CmpOp::Ne, all, AF_NETLINK),
            Cond::Or(vec![
                int(1, CmpOp::Eq, SOCK_TYPE_MASK, SOCK_RAW),
                int(1, CmpOp::Eq, SOCK_TYPE_MASK, SOCK_PACKET),
            ]),
        ]),
        Cond::And(vec![
            int(0, CmpOp::Eq, all, AF_NETLINK),
            int(2, CmpOp::Ne, all, NETLINK_ROUTE),
        ]),
    ]);
    let rules = f.syscalls.entry(SyscallNr(sc.nr)).or_default();
    rules.insert(0, added(Action::Errno(EACCES), refused));
}

const EACCES: u16 = 13;

fn added(action: Action, cond: Cond) -> Rule {
    Rule {
        action,
        cond,
        origin: None,
        span: None,
    }
}

/// Makes `calls` notify where the policy allows them (conditions kept), and `refused` fail
/// with their errno. `addressed`: a call notified only when its fifth argument (the
/// destination address of `sendto`) is not NULL.
fn supervise(f: &mut Filter, calls: &[&str], refused: &[(&str, i32)], addressed: Option<&str>) {
    let passes = |a: Action| matches!(a, Action::Allow | Action::Log);
    for name in calls {
        let Some(sc) = f.arch.syscall(name) else {
            continue;
        };
        let only_with_address = addressed == Some(*name);
        let nr = SyscallNr(sc.nr);
        let mut rules = f.syscalls.remove(&nr).unwrap_or_default();
        if passes(f.default) {
            rules.push(added(f.default, Cond::True));
        }
        let mut out = Vec::with_capacity(rules.len() * 2);
        for r in rules {
            if !passes(r.action) {
                out.push(r);
            } else if only_with_address {
                let width = classify(f.arch, "struct sockaddr *").width;
                let with_address = Cond::Cmp(Cmp {
                    arg: ArgIndex::new(4).expect("index 4 < 6"),
                    width,
                    signed: false,
                    op: CmpOp::Ne,
                    mask: width.mask(),
                    value: 0,
                });
                out.push(Rule {
                    action: Action::Notify,
                    cond: Cond::And(vec![r.cond.clone(), with_address]),
                    ..r.clone()
                });
                out.push(r);
            } else {
                out.push(Rule {
                    action: Action::Notify,
                    ..r
                });
            }
        }
        if !out.is_empty() {
            f.syscalls.insert(nr, out);
        }
    }
    for (name, errno) in refused {
        if let Some(sc) = f.arch.syscall(name) {
            let e = u16::try_from(*errno).expect("errno fits");
            f.syscalls
                .insert(SyscallNr(sc.nr), vec![added(Action::Errno(e), Cond::True)]);
        }
    }
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
