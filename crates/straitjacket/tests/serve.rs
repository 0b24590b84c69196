//! The supervisor's public API serves a seccomp listener it did not create: another process
//! (a libseccomp program standing in for a container runtime) installs a notify filter and
//! sends the listener over a unix socket, as runc and crun do for an OCI `listenerPath`.

use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixListener;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use straitjacket::load;
use straitjacket::sandbox::Reporting;
use straitjacket::supervise::{serve, Mode, Notif, NotifReply, Observer};
use straitjacket_policy::resolve::Options;
use straitjacket_testkit::{skip, TempDir};

const HELPER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/foreign_listener.py"
);

fn have_python_seccomp() -> bool {
    Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import seccomp; seccomp.SyscallFilter(0).get_notify_fd",
        ])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts the helper, takes the listener it sends, and serves it with `serve_it`; the
/// helper's output and status.
fn with_foreign_listener(
    serve_it: impl FnOnce(std::os::fd::OwnedFd),
) -> Option<(String, std::process::ExitStatus)> {
    if !have_python_seccomp() {
        skip("needs /usr/bin/python3 with python3-seccomp (a libseccomp runtime to stand in for crun)");
        return None;
    }
    let t = TempDir::new("serve");
    let path = t.join("agent.sock");
    let sock = UnixListener::bind(&path).unwrap();
    let child = Command::new("/usr/bin/python3")
        .arg(HELPER)
        .arg(&path)
        .arg(t.join("made-by-the-agent"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (conn, _) = sock.accept().unwrap();
    let mut buf = [0u8; 64];
    let (n, mut fds) = straitjacket_sys::fdpass::recv_with_fds(conn.as_fd(), &mut buf).unwrap();
    assert_eq!(&buf[..n], b"listener");
    assert_eq!(fds.len(), 1, "one listener sent");
    serve_it(fds.remove(0));
    let out = child.wait_with_output().unwrap();
    let made = t.join("made-by-the-agent").exists();
    Some((
        format!("{}made: {made}\n", String::from_utf8_lossy(&out.stdout)),
        out.status,
    ))
}

#[test]
fn serves_a_listener_made_by_another_process_under_the_policy() {
    let pf = load::load_bytes(
        "agent.sj",
        b"default allow\nerrno(EPERM) uname\nnotify mkdir\nkill-process getppid\n",
        &Options::default(),
    )
    .unwrap();
    let mut served = None;
    let Some((out, status)) = with_foreign_listener(|listener| {
        served = Some(serve(listener, &pf, Mode::Enforce, &Reporting::default()).expect("served"));
    }) else {
        return;
    };
    // Unserved, these calls would block (no agent) or succeed (an agent that continues);
    // served, uname is refused, a file call the policy notifies is not carried out for a
    // caller whose own confinement is unknown here, and getppid kills the process.
    assert_eq!(
        out, "uname EPERM\ngetcwd ok\nmkdir EACCES\nmade: false\n",
        "{status:?}"
    );
    assert_eq!(status.signal(), Some(9), "{status:?}");
    let served = served.unwrap();
    assert_eq!((served.answered, served.killed), (4, 1), "{served:?}");
}

/// Counts what it sees and lets everything run.
struct Counter {
    seen: Vec<String>,
}

impl Observer for Counter {
    fn observe(&mut self, _listener: BorrowedFd<'_>, n: &Notif) -> NotifReply {
        let name = straitjacket_policy::Arch::native()
            .syscall_by_nr(straitjacket_policy::SyscallNr(n.data.nr as u32))
            .map_or("?", |s| s.name);
        self.seen.push(name.to_string());
        NotifReply::Continue
    }
}

#[test]
fn observes_a_listener_made_by_another_process() {
    // The observer decides everything; the policy is not consulted.
    let pf = load::load_bytes("agent.sj", b"default kill-process\n", &Options::default()).unwrap();
    let mut counter = Counter { seen: Vec::new() };
    let Some((out, status)) = with_foreign_listener(|listener| {
        serve(
            listener,
            &pf,
            Mode::Observe(&mut counter),
            &Reporting::default(),
        )
        .expect("served");
    }) else {
        return;
    };
    assert_eq!(
        out,
        "uname ok\ngetcwd ok\nmkdir ok\ngetppid ok\ndone\nmade: true\n"
    );
    assert!(status.success(), "{status:?}");
    assert_eq!(counter.seen, ["uname", "getcwd", "mkdir", "getppid"]);
}

#[test]
fn refuses_an_fd_that_is_not_a_listener() {
    let pf = load::load_bytes("agent.sj", b"default allow\n", &Options::default()).unwrap();
    let f = std::fs::File::open("/dev/null").unwrap();
    let e = serve(f.into(), &pf, Mode::Enforce, &Reporting::default()).unwrap_err();
    assert!(e.message.contains("not a seccomp listener"), "{e}");
}
