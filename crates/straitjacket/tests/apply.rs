//! The library API: `Policy::apply` on the calling process. Each case runs alone in a process
//! of its own (the harness's other threads hold no lock there) and confines a child forked from
//! it, so neither the test process nor the harness is ever confined.

use std::sync::mpsc;

use straitjacket::{Error, Policy};
use straitjacket_sys::process::{in_child, ChildOutcome};
use straitjacket_sys::testing::{probe, Probe};
use straitjacket_testkit::alone;

const EACCES: i32 = 13;
const EPERM: i32 = 1;

#[test]
fn a_denied_call_fails_in_every_thread_even_threads_started_before() {
    alone(|| {
        let outcome = in_child(|| {
            // The thread exists before apply; TSYNC must cover it.
            let (go_tx, go_rx) = mpsc::channel::<()>();
            let (res_tx, res_rx) = mpsc::channel();
            let t = std::thread::spawn(move || {
                go_rx.recv().unwrap();
                res_tx.send(probe(Probe::Getppid, [0; 6])).unwrap();
            });
            let policy = Policy::builder()
                .default("allow")
                .deny("getppid", "EACCES")
                .build()
                .unwrap();
            if policy.apply().is_err() {
                return 10;
            }
            if probe(Probe::Getppid, [0; 6]) != Err(EACCES) {
                return 11;
            }
            go_tx.send(()).unwrap();
            if res_rx.recv().unwrap() != Err(EACCES) {
                return 12;
            }
            t.join().unwrap();
            // Allowed calls still run.
            if probe(Probe::Getpid, [0; 6]).is_err() {
                return 13;
            }
            0
        })
        .unwrap();
        assert_eq!(outcome, ChildOutcome::Exited(0));
    });
}

#[test]
fn a_second_apply_cannot_widen_the_first() {
    alone(|| {
        let outcome = in_child(|| {
            let first = Policy::parse("default allow\nerrno(EACCES) getppid\n").unwrap();
            if first.apply().is_err() {
                return 10;
            }
            // Allows everything, and answers getppid differently: the stricter (first) filter
            // still wins for getppid, and the second narrows getuid.
            let second =
                Policy::parse("default allow\nallow getppid\nerrno(EPERM) getuid\n").unwrap();
            if second.apply().is_err() {
                return 11;
            }
            if probe(Probe::Getppid, [0; 6]) != Err(EACCES) {
                return 12;
            }
            if probe(Probe::Getuid, [0; 6]) != Err(EPERM) {
                return 13;
            }
            0
        })
        .unwrap();
        assert_eq!(outcome, ChildOutcome::Exited(0));
    });
}

#[test]
fn a_kill_rule_kills_the_process() {
    alone(|| {
        let outcome = in_child(|| {
            let p = Policy::parse("default allow\nkill getppid\n").unwrap();
            if p.apply().is_err() {
                return 10;
            }
            let _ = probe(Probe::Getppid, [0; 6]);
            0
        })
        .unwrap();
        assert_eq!(outcome, ChildOutcome::Signaled(31));
    });
}

#[test]
fn policies_apply_cannot_honour_are_refused_and_nothing_is_installed() {
    alone(|| {
        let outcome = in_child(|| {
            let p = Policy::parse("default allow\nnotify getppid\n").unwrap();
            match p.apply() {
                Err(Error::NeedsSupervisor(_)) => {}
                _ => return 10,
            }
            if straitjacket_sys::prctl::seccomp_mode().unwrap() != 0 {
                return 11;
            }
            0
        })
        .unwrap();
        assert_eq!(outcome, ChildOutcome::Exited(0));
    });
}

#[test]
fn errors_are_typed_and_readable() {
    let e = Policy::parse("default kill-process\nallow reed\n").unwrap_err();
    assert!(matches!(e, Error::Invalid(_)));
    assert!(e.to_string().contains("policy.sj:2:7: error"), "{e}");
    let e = Policy::preset("strcit").unwrap_err();
    assert!(e.to_string().contains("did you mean `strict`"), "{e}");
    let e = Policy::from_file("/nonexistent/p.sj").unwrap_err();
    assert_eq!(e.to_string(), "/nonexistent/p.sj: no such file");
    let e = Policy::builder()
        .allow("read\nallow ptrace")
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::BadInput(_)));
    assert!(Policy::preset("default").is_ok());
    let b = Policy::builder()
        .default("kill-process")
        .allow("read")
        .allow_if("write", "fd == 1 || fd == 2");
    assert_eq!(
        b.text(),
        "default kill-process\nallow read\nallow write if fd == 1 || fd == 2\n"
    );
    assert!(b.build().is_ok());
}

/// `fs` rules through the library: Landlock confines the (single-threaded) caller to them.
#[test]
fn filesystem_rules_confine_the_caller_with_landlock() {
    alone(|| {
        let dir = std::env::temp_dir().join(format!("sj-apply-fs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("inside"), "in").unwrap();
        let text = format!("default allow\nfs read {}\n", dir.display());
        let outcome = in_child(move || {
            let policy = Policy::parse(&text).unwrap();
            if let Err(e) = policy.apply() {
                eprintln!("apply: {e}");
                return 10;
            }
            if std::fs::read_to_string(dir.join("inside")).ok().as_deref() != Some("in") {
                return 11;
            }
            match std::fs::read_to_string("/etc/hostname") {
                Err(e) if e.raw_os_error() == Some(EACCES) => 0,
                other => {
                    eprintln!("outside read: {other:?}");
                    12
                }
            }
        })
        .unwrap();
        assert_eq!(outcome, ChildOutcome::Exited(0));
    });
}

/// Landlock confines the calling thread only: with other threads running, `fs` rules are
/// refused, never half applied.
#[test]
fn filesystem_rules_are_refused_with_threads_running() {
    alone(|| {
        let outcome = in_child(|| {
            let (tx, rx) = mpsc::channel::<()>();
            let t = std::thread::spawn(move || rx.recv().ok());
            let policy = Policy::parse("default allow\nfs read /usr\n").unwrap();
            let r = policy.apply();
            tx.send(()).unwrap();
            t.join().unwrap();
            match r {
                Err(Error::NeedsSupervisor(m)) if m.contains("threads") => 0,
                other => {
                    eprintln!("{other:?}");
                    10
                }
            }
        })
        .unwrap();
        assert_eq!(outcome, ChildOutcome::Exited(0));
    });
}
