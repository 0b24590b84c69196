//! The wrappers against the running kernel, always inside forked children.

use straitjacket_sys::process::{fork_child, in_child, ChildOutcome};
use straitjacket_sys::testing::{native_audit_arch, probe, Probe};
use straitjacket_sys::{prctl, ptrace, seccomp};
use straitjacket_testkit::alone;

fn rec(code: u16, jt: u8, jf: u8, k: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0..2].copy_from_slice(&code.to_ne_bytes());
    b[2] = jt;
    b[3] = jf;
    b[4..8].copy_from_slice(&k.to_ne_bytes());
    b
}

/// ld [nr]; jeq getppid → ERRNO(42); else ALLOW.
fn getppid_errno42() -> Vec<[u8; 8]> {
    vec![
        rec(0x20, 0, 0, 0),
        rec(0x15, 0, 1, Probe::Getppid.nr() as u32),
        rec(0x06, 0, 0, 0x0005_002a),
        rec(0x06, 0, 0, 0x7fff_0000),
    ]
}

#[test]
fn install_applies_the_filter() {
    alone(|| {
        let out = in_child(|| {
            prctl::set_no_new_privs().unwrap();
            assert!(prctl::no_new_privs().unwrap());
            seccomp::install(&getppid_errno42(), seccomp::FilterFlags::TSYNC).unwrap();
            assert_eq!(prctl::seccomp_mode().unwrap(), 2);
            assert!(probe(Probe::Getpid, [0; 6]).is_ok());
            probe(Probe::Getppid, [0; 6]).unwrap_err()
        })
        .unwrap();
        assert_eq!(out, ChildOutcome::Exited(42));
    });
}

#[test]
fn install_refuses_a_bad_filter() {
    alone(|| {
        let out = in_child(|| {
            prctl::set_no_new_privs().unwrap();
            // Last instruction not a ret.
            let e =
                seccomp::install(&[rec(0x20, 0, 0, 0)], seccomp::FilterFlags::NONE).unwrap_err();
            e.raw_os_error().unwrap_or(0)
        })
        .unwrap();
        assert_eq!(out, ChildOutcome::Exited(libc::EINVAL));
    });
}

#[test]
fn arch_is_reported() {
    alone(|| {
        // ld [arch]; jeq native → ERRNO(7) else ERRNO(9), on getpid only.
        let filter = vec![
            rec(0x20, 0, 0, 0),
            rec(0x15, 1, 0, Probe::Getpid.nr() as u32),
            rec(0x06, 0, 0, 0x7fff_0000),
            rec(0x20, 0, 0, 4),
            rec(0x15, 0, 1, native_audit_arch()),
            rec(0x06, 0, 0, 0x0005_0007),
            rec(0x06, 0, 0, 0x0005_0009),
        ];
        let out = in_child(move || {
            prctl::set_no_new_privs().unwrap();
            seccomp::install(&filter, seccomp::FilterFlags::NONE).unwrap();
            probe(Probe::Getpid, [0; 6]).unwrap_err()
        })
        .unwrap();
        assert_eq!(out, ChildOutcome::Exited(7));
    });
}

#[test]
fn reads_filters_back_with_ptrace() {
    alone(|| {
        // SAFETY: geteuid takes no arguments and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            straitjacket_testkit::skip("reading filters needs CAP_SYS_ADMIN (run as root)");
            return;
        }
        let first = getppid_errno42();
        let second = vec![rec(0x06, 0, 0, 0x7fff_0000)];
        let (f1, f2) = (first.clone(), second.clone());
        let child = fork_child(move || {
            prctl::set_no_new_privs().unwrap();
            seccomp::install(&f1, seccomp::FilterFlags::NONE).unwrap();
            seccomp::install(&f2, seccomp::FilterFlags::NONE).unwrap();
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        })
        .unwrap();
        let status = format!("/proc/{}/status", child.pid());
        for _ in 0..500 {
            let s = std::fs::read_to_string(&status).unwrap_or_default();
            if s.contains("Seccomp_filters:\t2") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let filters = ptrace::get_seccomp_filters(child.pid()).unwrap();
        assert_eq!(filters, vec![first.concat(), second.concat()]);
        // Detached: the child can be read again.
        assert_eq!(ptrace::get_seccomp_filters(child.pid()).unwrap().len(), 2);
        assert_eq!(child.kill().unwrap(), ChildOutcome::Signaled(libc::SIGKILL));
    });
}

#[test]
fn unfiltered_process_has_no_filters() {
    alone(|| {
        // SAFETY: geteuid takes no arguments and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            straitjacket_testkit::skip("reading filters needs CAP_SYS_ADMIN (run as root)");
            return;
        }
        let child = fork_child(|| loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        })
        .unwrap();
        assert_eq!(
            ptrace::get_seccomp_filters(child.pid()).unwrap(),
            Vec::<Vec<u8>>::new()
        );
        child.kill().unwrap();
    });
}

#[test]
fn reading_filters_unprivileged_says_cap_sys_admin() {
    alone(|| {
        // Drop to an unprivileged uid in a child and try to read our parent's filters.
        let out = in_child(|| {
            // SAFETY: getppid takes no arguments.
            let parent = unsafe { libc::getppid() };
            // SAFETY: setuid takes an integer; failing (not root) is fine, we are unprivileged then.
            unsafe { libc::setuid(65534) };
            match ptrace::get_seccomp_filters(parent) {
                Err(ptrace::DumpError::NeedCapSysAdmin(_)) => 0,
                Err(e) => {
                    eprintln!("{e}");
                    1
                }
                Ok(_) => 2,
            }
        })
        .unwrap();
        assert_eq!(out, ChildOutcome::Exited(0));
    });
}

#[test]
fn a_listener_takes_synchronous_wakeups_and_another_fd_does_not() {
    alone(|| {
        use std::os::fd::AsFd;
        use straitjacket_sys::notify;
        let out = in_child(|| {
            prctl::set_no_new_privs().unwrap();
            let allow = [rec(0x06, 0, 0, 0x7fff_0000)];
            let listener =
                seccomp::install_with_listener(&allow, seccomp::FilterFlags::NONE).unwrap();
            match notify::set_sync_wakeup(listener.as_fd()) {
                Ok(()) => 0,
                Err(e) => e.raw_os_error().unwrap_or(1),
            }
        })
        .unwrap();
        // Linux 6.6 and later; an older kernel refuses the flag with EINVAL.
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        let mut v = release.split(|c: char| !c.is_ascii_digit());
        let major: u32 = v.next().unwrap().parse().unwrap();
        let minor: u32 = v.next().unwrap().parse().unwrap();
        let want = if (major, minor) >= (6, 6) {
            0
        } else {
            libc::EINVAL
        };
        assert_eq!(out, ChildOutcome::Exited(want), "Linux {release}");
        let null = std::fs::File::open("/dev/null").unwrap();
        let e = notify::set_sync_wakeup(null.as_fd()).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTTY));
    });
}

#[test]
fn a_listener_hangs_up_when_no_task_uses_its_filter() {
    alone(|| {
        use std::os::fd::{AsFd, AsRawFd};
        use straitjacket_sys::{pidfd, signals};
        let out = in_child(|| {
            let mut fds = [0; 2];
            // SAFETY: `fds` is a live array of two c_ints for pipe to fill.
            assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
            let (go_r, go_w) = (fds[0], fds[1]);
            // The filter's only task: installs it (its listener moved to fd 200), then waits to
            // be told to exit.
            let task = fork_child(move || {
                // SAFETY: closing our copy of the pipe's write end; nothing else holds it.
                unsafe { libc::close(go_w) };
                prctl::set_no_new_privs().unwrap();
                let allow = [rec(0x06, 0, 0, 0x7fff_0000)];
                let listener =
                    seccomp::install_with_listener(&allow, seccomp::FilterFlags::NONE).unwrap();
                // SAFETY: dup2 takes integers; the listener stays open through it.
                assert_eq!(unsafe { libc::dup2(listener.as_raw_fd(), 200) }, 200);
                let mut b = [0u8; 1];
                // SAFETY: `b` is a live one-byte buffer.
                unsafe { libc::read(go_r, b.as_mut_ptr().cast(), 1) };
                0
            })
            .unwrap();
            let pidfd = pidfd::open(task.pid(), 0).unwrap();
            let start = std::time::Instant::now();
            let listener = loop {
                if let Ok(fd) = pidfd::getfd(pidfd.as_fd(), 200) {
                    break fd;
                }
                assert!(
                    start.elapsed().as_secs() < 10,
                    "the filter was never installed"
                );
                std::thread::sleep(std::time::Duration::from_millis(1));
            };
            let before = signals::poll_ready(&[listener.as_fd()], 0).unwrap()[0];
            assert_eq!(before, signals::Ready::default(), "with its task alive");
            // SAFETY: closing the write end lets the task read EOF and exit.
            unsafe { libc::close(go_w) };
            assert_eq!(task.wait().unwrap(), ChildOutcome::Exited(0));
            let after = signals::poll_ready(&[listener.as_fd()], 1000).unwrap()[0];
            assert_eq!(
                after,
                signals::Ready {
                    readable: false,
                    hung_up: true
                },
                "after its task ended (fd {})",
                listener.as_raw_fd()
            );
            0
        })
        .unwrap();
        assert_eq!(out, ChildOutcome::Exited(0));
    });
}
