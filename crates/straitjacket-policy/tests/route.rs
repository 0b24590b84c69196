//! Routing for run mode (`ir::route`): what goes to the supervisor under each routing, and
//! what the filter keeps.

use straitjacket_policy::action::Action;
use straitjacket_policy::arch::Arch;
use straitjacket_policy::bpf::SeccompData;
use straitjacket_policy::ir::eval::decide;
use straitjacket_policy::ir::route::*;
use straitjacket_policy::ir::Policy;
use straitjacket_policy::resolve::{resolve_text, Options};

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
fn every_routing_has_its_own_index() {
    let all: Vec<Routing> = (0..Routing::COUNT).map(Routing::from_index).collect();
    for (i, r) in all.iter().enumerate() {
        assert_eq!(usize::from(r.index()), i);
    }
    for (i, a) in all.iter().enumerate() {
        assert!(all[i + 1..].iter().all(|b| a != b), "{a:?} twice");
    }
}
#[test]
fn kills_and_execs_go_to_the_supervisor_the_rest_stays() {
    let p = policy(
        "default kill-process\nallow read, write\nerrno(EPERM) socket\ntrap getuid\nkill getpid if arg0 == 1\nallow getpid\n",
    );
    let r = route(&p, &Routing::default());
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
    let rep = route(
        &p,
        &Routing {
            report: true,
            ..Routing::default()
        },
    );
    assert_eq!(decide(&rep, &data("socket", [0; 6])).0, Action::Notify);
    // The original policy still decides what the supervisor does.
    assert_eq!(decide(&p, &data("execve", [0; 6])).0, Action::KillProcess);
}

#[test]
fn an_allowed_execve_still_notifies() {
    let p = policy("default errno(EPERM)\nallow execve, read\n");
    let r = route(&p, &Routing::default());
    assert_eq!(decide(&r, &data("execve", [0; 6])).0, Action::Notify);
    assert_eq!(decide(&r, &data("openat", [0; 6])).0, Action::Errno(1));
}

#[test]
fn fs_and_net_rules_send_their_calls_to_the_supervisor() {
    let p = policy(
        "default errno(EPERM)\nallow openat if flags == 0\nallow read, sendto, connect, stat, io_uring_setup\nkill unlink\n",
    );
    let r = route(
        &p,
        &Routing {
            fs: true,
            net: true,
            ..Routing::default()
        },
    );
    let cases = [
        ("openat", [0; 6], Action::Notify),
        ("openat", [0, 0, 1, 0, 0, 0], Action::Errno(1)),
        ("stat", [0; 6], Action::Notify),
        ("unlink", [0; 6], Action::Notify), // kill goes to the supervisor anyway
        ("mkdir", [0; 6], Action::Errno(1)),
        ("read", [0; 6], Action::Allow),
        ("io_uring_setup", [0; 6], Action::Errno(38)),
        ("open_by_handle_at", [0; 6], Action::Errno(1)),
        ("connect", [0; 6], Action::Notify),
        ("sendto", [3, 0, 0, 0, 0, 0], Action::Allow),
        ("sendto", [3, 0, 0, 0, 0x1000, 16], Action::Notify),
        ("sendmmsg", [0; 6], Action::Errno(1)), // not allowed by the policy
    ];
    for (name, args, want) in cases {
        assert_eq!(decide(&r, &data(name, args)).0, want, "{name} {args:?}");
    }
    // A default allow reaches unnamed file calls too.
    let open = policy("default allow\n");
    let r = route(
        &open,
        &Routing {
            fs: true,
            ..Routing::default()
        },
    );
    assert_eq!(decide(&r, &data("mkdir", [0; 6])).0, Action::Notify);
    // A unix socket named by path is a file: connects and addressed sends are judged too.
    assert_eq!(decide(&r, &data("connect", [0; 6])).0, Action::Notify);
    assert_eq!(decide(&r, &data("sendmmsg", [0; 6])).0, Action::Notify);
    assert_eq!(
        decide(&r, &data("sendto", [3, 0, 0, 0, 0, 0])).0,
        Action::Allow
    );
    // A bind may make a unix socket's file: the supervisor sees it under fs rules alone.
    assert_eq!(decide(&r, &data("bind", [0; 6])).0, Action::Notify);
    // Address rules alone still shut io_uring, which would connect around them.
    let named = policy("default allow\nallow io_uring_setup\n");
    let r = route(
        &named,
        &Routing {
            net: true,
            ..Routing::default()
        },
    );
    assert_eq!(
        decide(&r, &data("io_uring_setup", [0; 6])).0,
        Action::Errno(38)
    );
}

#[test]
fn sealed_memfds_only_where_the_kernel_cannot_refuse_executable_ones() {
    let p = policy("default allow\n");
    let sealed = route(
        &p,
        &Routing {
            seal_memfds: true,
            ..Routing::default()
        },
    );
    // MFD_CLOEXEC alone: refused; with MFD_NOEXEC_SEAL (8): the policy decides.
    assert_eq!(
        decide(&sealed, &data("memfd_create", [0, 1, 0, 0, 0, 0])).0,
        Action::Errno(13)
    );
    assert_eq!(
        decide(&sealed, &data("memfd_create", [0, 9, 0, 0, 0, 0])).0,
        Action::Allow
    );
    let open = route(&p, &Routing::default());
    assert_eq!(
        decide(&open, &data("memfd_create", [0, 1, 0, 0, 0, 0])).0,
        Action::Allow
    );
    // Every routing has its own number, and numbers map back.
    for i in 0..Routing::COUNT {
        assert_eq!(Routing::from_index(i).index(), i);
    }
}
