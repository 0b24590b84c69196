//! The supervisor through the built binary: file calls carried out under `fs` rules (with
//! Landlock switched off, so the supervisor alone holds), network calls under `net` rules
//! (address and port, which Landlock cannot check), and the audit log.

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};

#[path = "support/cli.rs"]
mod cli;
use cli::{err, out, sj_in as sj, TempDir, SJ};

const PY: &str = "/usr/bin/python3";

fn have_python() -> bool {
    if Path::new(PY).exists() {
        return true;
    }
    straitjacket_testkit::skip(format!("{PY} is not installed"));
    false
}

/// Whether the tests run as root (a program can then start as root and drop to nobody); if
/// not, says the test is skipped.
fn starts_as_root() -> bool {
    let root = straitjacket_testkit::is_root();
    if !root {
        straitjacket_testkit::skip("needs root (the program starts as root and drops to nobody)");
    }
    root
}

/// The log's lines as JSON values.
fn log_of(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// A Python program that tries each path and prints `path: ok CONTENT` or `path: errno N`.
const TRY_READ: &str = r#"
import os, sys
def show(label, f):
    try:
        print(label + ": ok " + f().strip())
    except OSError as e:
        print(label + ": errno " + str(e.errno))
def read(p, dir_fd=None):
    fd = os.open(p, os.O_RDONLY, dir_fd=dir_fd)
    try:
        return os.read(fd, 100).decode()
    finally:
        os.close(fd)
base = sys.argv[1]
os.chdir(base + "/allowed/sub")
show("relative", lambda: read("../file"))
show("dotdot-out", lambda: read("../../secret"))
show("absolute-dotdot", lambda: read(base + "/allowed/sub/../../secret"))
d = os.open(base + "/allowed", os.O_RDONLY | os.O_DIRECTORY)
show("dirfd", lambda: read("file", dir_fd=d))
show("dirfd-out", lambda: read("../secret", dir_fd=d))
show("symlink-in", lambda: read(base + "/allowed/link-in"))
show("symlink-out", lambda: read(base + "/allowed/link-out"))
show("missing-out", lambda: read(base + "/nothing-here"))
show("missing-in", lambda: read(base + "/allowed/nothing-here"))
show("proc-root", lambda: read("/proc/self/root" + base + "/secret"))
show("stat-out", lambda: str(os.stat(base + "/secret").st_size))
show("stat-in", lambda: str(os.stat(base + "/allowed/file").st_size))
show("listdir-in", lambda: ",".join(sorted(os.listdir(base + "/allowed"))))
show("listdir-out", lambda: ",".join(sorted(os.listdir(base))))
"#;

#[test]
fn reads_only_inside_the_rules_by_every_path() {
    if !have_python() {
        return;
    }
    let t = TempDir::new("read");
    std::fs::create_dir_all(t.join("allowed/sub")).unwrap();
    std::fs::write(t.join("allowed/file"), "INSIDE\n").unwrap();
    std::fs::write(t.join("secret"), "SECRET\n").unwrap();
    std::os::unix::fs::symlink("file", t.join("allowed/link-in")).unwrap();
    std::os::unix::fs::symlink(t.join("secret"), t.join("allowed/link-out")).unwrap();
    std::fs::write(t.join("try.py"), TRY_READ).unwrap();
    let log = t.join("log.jsonl");
    let o = sj(
        t.path(),
        &[
            "run",
            "--fs-supervisor-only",
            "--log",
            log.to_str().unwrap(),
            "--allow-read",
            &t.s("allowed"),
            "--allow-read",
            &t.s("try.py"),
            "--",
            PY,
            &t.s("try.py"),
            &t.s(""),
        ],
    );
    let want = "relative: ok INSIDE
dotdot-out: errno 13
absolute-dotdot: errno 13
dirfd: ok INSIDE
dirfd-out: errno 13
symlink-in: ok INSIDE
symlink-out: errno 13
missing-out: errno 13
missing-in: errno 2
proc-root: errno 40
stat-out: errno 13
stat-in: ok 7
listdir-in: ok file,link-in,link-out,sub
listdir-out: errno 13
";
    assert_eq!(out(&o), want, "{}", err(&o));
    assert_eq!(o.status.code(), Some(0));
    // The refusals are the supervisor's, and logged as such.
    let lines = log_of(&log);
    let denied: Vec<_> = lines
        .iter()
        .filter(|v| v["decision"] == "denied" && v["rule"] == "fs rules")
        .filter_map(|v| v["paths"][0].as_str())
        .collect();
    assert!(
        denied.iter().any(|p| p.ends_with("../../secret")),
        "{denied:?}"
    );
    assert!(denied.iter().any(|p| p.ends_with("link-out")), "{denied:?}");
}

#[test]
fn writes_only_under_write_rules() {
    if !have_python() {
        return;
    }
    let t = TempDir::new("write");
    std::fs::create_dir_all(t.join("rw")).unwrap();
    std::fs::create_dir_all(t.join("ro")).unwrap();
    std::fs::write(t.join("ro/keep"), "KEEP\n").unwrap();
    std::fs::write(t.join("outside"), "OUT\n").unwrap();
    let prog = r#"
import os, sys
b = sys.argv[1]
def show(label, f):
    try:
        f(); print(label + ": ok")
    except OSError as e:
        print(label + ": errno " + str(e.errno))
def write(p, text):
    with open(p, "w") as f: f.write(text)
show("create-rw", lambda: write(b + "/rw/new", "x"))
show("read-back", lambda: open(b + "/rw/new").read() == "x" or 1/0)
show("create-ro", lambda: write(b + "/ro/new", "x"))
show("truncate-ro", lambda: write(b + "/ro/keep", ""))
show("mkdir-rw", lambda: os.mkdir(b + "/rw/d"))
show("mkdir-ro", lambda: os.mkdir(b + "/ro/d"))
show("rename-in", lambda: os.rename(b + "/rw/new", b + "/rw/d/moved"))
show("rename-out", lambda: os.rename(b + "/rw/d/moved", b + "/ro/moved"))
show("rename-ro-in", lambda: os.rename(b + "/ro/keep", b + "/rw/stolen"))
show("link-ro-in", lambda: os.link(b + "/outside", b + "/rw/hard"))
show("symlink-rw", lambda: os.symlink(b + "/outside", b + "/rw/sym"))
show("write-through-symlink", lambda: write(b + "/rw/sym", "pwned"))
show("chmod-rw", lambda: os.chmod(b + "/rw/d/moved", 0o600))
show("chmod-ro", lambda: os.chmod(b + "/ro/keep", 0o600))
show("unlink-ro", lambda: os.unlink(b + "/ro/keep"))
show("unlink-rw", lambda: os.unlink(b + "/rw/d/moved"))
show("rmdir-rw", lambda: os.rmdir(b + "/rw/d"))
"#;
    std::fs::write(t.join("w.py"), prog).unwrap();
    let o = sj(
        t.path(),
        &[
            "run",
            "--fs-supervisor-only",
            "--allow-write",
            &t.s("rw"),
            "--allow-read",
            &t.s("ro"),
            "--allow-read",
            &t.s("w.py"),
            "--",
            PY,
            &t.s("w.py"),
            &t.s(""),
        ],
    );
    let want = "create-rw: ok
read-back: ok
create-ro: errno 13
truncate-ro: errno 13
mkdir-rw: ok
mkdir-ro: errno 13
rename-in: ok
rename-out: errno 13
rename-ro-in: errno 13
link-ro-in: errno 13
symlink-rw: ok
write-through-symlink: errno 13
chmod-rw: ok
chmod-ro: errno 13
unlink-ro: errno 13
unlink-rw: ok
rmdir-rw: ok
";
    assert_eq!(out(&o), want, "{}", err(&o));
    assert_eq!(std::fs::read_to_string(t.join("outside")).unwrap(), "OUT\n");
    assert_eq!(
        std::fs::read_to_string(t.join("ro/keep")).unwrap(),
        "KEEP\n"
    );
}

#[test]
fn connects_only_where_net_rules_say_by_address_and_port() {
    if !have_python() {
        return;
    }
    let t = TempDir::new("net");
    // Listening on every address: only the rule tells 127.0.0.1 from 127.0.0.2.
    let a = TcpListener::bind("0.0.0.0:0").unwrap();
    let b = TcpListener::bind("0.0.0.0:0").unwrap();
    let (pa, pb) = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );
    let ux = UnixListener::bind(t.join("x.sock")).unwrap();
    let _uy = UnixListener::bind(t.join("y.sock")).unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let pu = udp.local_addr().unwrap().port();
    std::fs::write(
        t.join("p.sj"),
        format!(
            "default allow\nnet connect 127.0.0.1:{pa}, 127.0.0.1:{pu}, unix:{}\nnet bind 127.0.0.1:0\n",
            t.s("x.sock")
        ),
    )
    .unwrap();
    let prog = format!(
        r#"
import os, socket
def show(label, f):
    try:
        f(); print(label + ": ok")
    except OSError as e:
        print(label + ": errno " + str(e.errno))
def tcp(host, port):
    s = socket.socket(); s.connect((host, port)); s.close()
def unix(p):
    s = socket.socket(socket.AF_UNIX); s.connect(p); s.close()
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"hi", ("127.0.0.1", port)); s.close()
def bind(port):
    s = socket.socket(); s.bind(("127.0.0.1", port)); s.close()
show("allowed", lambda: tcp("127.0.0.1", {pa}))
show("other-port", lambda: tcp("127.0.0.1", {pb}))
show("other-address", lambda: tcp("127.0.0.2", {pa}))
show("unix-allowed", lambda: unix("{x}"))
os.chdir("{dir}")
show("unix-relative", lambda: unix("x.sock"))
show("unix-other", lambda: unix("y.sock"))
show("udp-allowed", lambda: udp({pu}))
show("udp-other", lambda: udp({pb}))
show("bind-ephemeral", lambda: bind(0))
show("bind-fixed", lambda: bind({pb}))
"#,
        x = t.s("x.sock"),
        dir = t.s(""),
    );
    std::fs::write(t.join("n.py"), prog).unwrap();
    let log = t.join("log.jsonl");
    let o = sj(
        t.path(),
        &[
            "run",
            "--policy",
            &t.s("p.sj"),
            "--log",
            log.to_str().unwrap(),
            "--",
            PY,
            &t.s("n.py"),
        ],
    );
    let want = "allowed: ok
other-port: errno 13
other-address: errno 13
unix-allowed: ok
unix-relative: ok
unix-other: errno 13
udp-allowed: ok
udp-other: errno 13
bind-ephemeral: ok
bind-fixed: errno 13
";
    assert_eq!(out(&o), want, "{}", err(&o));
    let mut buf = [0u8; 8];
    udp.set_nonblocking(true).unwrap();
    assert_eq!(
        udp.recv(&mut buf).unwrap(),
        2,
        "the allowed datagram arrived"
    );
    drop(ux);
    let lines = log_of(&log);
    assert!(
        lines.iter().any(|v| v["syscall"] == "connect"
            && v["decision"] == "denied"
            && v["rule"] == "net rules"),
        "{lines:?}"
    );
    // Nothing went out to the refused listener.
    b.set_nonblocking(true).unwrap();
    assert!(b.accept().is_err());
    let _ = a.accept().map(|(mut c, _)| c.read(&mut buf));
}

#[test]
fn bad_net_rules_are_refused_with_the_reason() {
    let t = TempDir::new("badnet");
    std::fs::write(
        t.join("p.sj"),
        "default allow\nnet connect unix:relative.sock\n",
    )
    .unwrap();
    let o = sj(t.path(), &["run", "--policy", "p.sj", "--", "true"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("unix:/absolute/path"), "{}", err(&o));
}

#[test]
fn a_program_that_drops_privileges_gets_no_more_than_its_new_identity() {
    if !have_python() {
        return;
    }
    if !starts_as_root() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let t = TempDir::new("drop");
    std::fs::create_dir_all(t.join("data")).unwrap();
    std::fs::set_permissions(t.join("data"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(t.join("data/root-only"), "ROOT\n").unwrap();
    std::fs::set_permissions(
        t.join("data/root-only"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(t.join("data/public"), "PUBLIC\n").unwrap();
    std::fs::set_permissions(
        t.join("data/public"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let prog = r#"
import os, sys
d = sys.argv[1]
def show(label, p):
    try:
        print(label + ": ok " + open(p).read().strip())
    except OSError as e:
        print(label + ": errno " + str(e.errno))
show("root", d + "/root-only")
os.setgroups([]); os.setgid(65534); os.setuid(65534)
show("nobody", d + "/root-only")
show("nobody-public", d + "/public")
"#;
    std::fs::write(t.join("d.py"), prog).unwrap();
    std::fs::set_permissions(t.join("d.py"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(
        t.join("p.sj"),
        format!("default allow\nfs read {}, {}\n", t.s("data"), t.s("d.py")),
    )
    .unwrap();
    let o = sj(
        t.path(),
        &[
            "run",
            "--fs-supervisor-only",
            "--policy",
            &t.s("p.sj"),
            "--",
            PY,
            &t.s("d.py"),
            &t.s("data"),
        ],
    );
    assert_eq!(
        out(&o),
        "root: ok ROOT\nnobody: errno 13\nnobody-public: ok PUBLIC\n",
        "{}",
        err(&o)
    );
}

#[test]
fn workers_blocked_for_callers_that_left_are_released() {
    // 70 FIFO opens whose callers are killed while the supervisor's worker waits for a
    // writer: more than the 64 workers there may be. Each worker must be freed when its
    // caller leaves, or the last open (which has a writer) would never be served: every
    // attempt must end, well within its minute.
    //
    // And the writer's data must reach the reader, every time. Two bugs lost it (about one
    // run in five on a busy machine): the pool's interrupt for a caller that left reached a
    // worker whose reply (ADDFD with SEND) was in flight — such a notification no longer
    // looks pending either — and the kernel then ended the writer's open with 0 instead of
    // the fd ("echo: I/O error"); and a worker still in its open for a killed caller could
    // pair with the writer. Two attempts, each must deliver.
    let t = TempDir::new("fifo");
    std::fs::create_dir_all(t.join("ff")).unwrap();
    let fifo = t.join("ff/fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let script = format!(
        "for i in $(seq 70); do timeout 0.05 cat {f}; done; (echo hi > {f} &); cat {f}",
        f = fifo.display()
    );
    for attempt in 0..2 {
        let o = Command::new("timeout")
            .args(["60", SJ, "run", "--allow-write", &t.s("ff")])
            .args([
                "--allow-exec",
                "/usr/bin",
                "--allow-exec",
                "/bin",
                "--",
                "sh",
                "-c",
            ])
            .arg(&script)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_ne!(o.status.code(), Some(124), "the last open was never served");
        assert_ne!(o.status.code(), None, "{}", err(&o));
        assert_eq!(
            (o.status.code(), out(&o).as_str()),
            (Some(0), "hi\n"),
            "attempt {attempt}: the writer's data never reached the reader: {}",
            err(&o)
        );
    }
}

#[test]
fn a_lease_holds_up_only_the_call_it_conflicts_with() {
    // The program leases a file of its own; an open and a truncate of it from another of its
    // processes wait for the lease (they go to a worker), while a third process's calls are
    // answered meanwhile, in the same order as bare. The supervisor used to wait for the
    // lease itself: every other call, and the --timeout, waited with it, until the kernel
    // broke the lease by force 45 s later.
    if !have_python() {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/supervise/lease.py");
    let t = TempDir::new("lease");
    let run = |sandboxed: bool| {
        let dir = t.join(if sandboxed { "under" } else { "bare" });
        std::fs::create_dir_all(&dir).unwrap();
        let dir = dir.to_str().unwrap().to_string();
        let mut c = Command::new("timeout");
        c.arg("100");
        if sandboxed {
            c.args([SJ, "run", "--timeout", "60s", "--allow-write", &dir]);
            c.args(["--allow-read", script, "--allow-exec", "/usr/bin", "--"]);
        }
        let o = c
            .args([PY, script, &dir])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        out(&o)
    };
    let bare = run(false);
    assert_eq!(
        bare,
        "-- open\nother: answered\nholder: releasing\nwriter: opened, O_NONBLOCK False\n\
         -- truncate\nother: answered\nholder: releasing\nwriter: truncated to 1\n\
         -- nonblocking open\nerrno 11\nholder: releasing\n"
    );
    assert_eq!(run(true), bare);
}

#[test]
fn file_calls_answer_as_the_kernel_does() {
    // Random sequences of file calls (opens with their flags, openat2 with each RESOLVE_
    // flag, stat, mkdir, mknod, rmdir, unlink, rename and renameat2's flags, link, symlink,
    // readlink, chmod, chown, truncate, access, utimes, mkfifo, O_TMPFILE, unix socket binds,
    // the *at forms from a directory fd; names ending in `/`, `.` and `..`; symlinks
    // absolute, relative, dangling and looping), run bare and under the supervisor from the
    // same seed: every result and every errno must be the kernel's. (It found a dozen
    // differences: EEXIST, EISDIR, EBUSY, EINVAL, ENOTEMPTY for names ending in a slash, `.`
    // or `..`; the order of rename's checks and renameat2's flags; truncate of a FIFO; a
    // socket file's mode and bind's errnos; and openat2 with RESOLVE_IN_ROOT walking an
    // absolute path from the real root instead of its dirfd.)
    same_as_the_kernel(false);
}

#[test]
fn file_calls_answer_as_the_kernel_does_for_an_unprivileged_user() {
    // The same as a user without privileges (nobody, when the tests run as root), for whom
    // the permission bits count: the calls chmod directories to 000 and back. (It found that
    // `.` was taken without the search permission the kernel asks, and that a directory the
    // caller may not search was judged by climbing out of it — refused where the kernel
    // would stat, rename or readlink it.)
    same_as_the_kernel(true);
}

const NOBODY: u32 = 65534;

fn same_as_the_kernel(unprivileged: bool) {
    if !have_python() {
        return;
    }
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    let switch = unprivileged && root;
    let command = |args: Vec<std::ffi::OsString>| {
        let mut c = if switch {
            let mut c = Command::new("setpriv");
            let id = NOBODY.to_string();
            c.args(["--reuid", &id, "--regid", &id, "--clear-groups", "--"]);
            c.args(&args);
            c
        } else {
            let mut c = Command::new(&args[0]);
            c.args(&args[1..]);
            c
        };
        c.output().unwrap()
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/supervise/fsops.py");
    let t = TempDir::new(if unprivileged { "fsops-u" } else { "fsops" });
    let (seeds, n) = (16, 400);
    let mut calls = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for seed in 1..=seeds {
        let (bare, held) = (t.join(&format!("b{seed}/w")), t.join(&format!("s{seed}/w")));
        for d in [&bare, &held] {
            std::fs::create_dir_all(d).unwrap();
            if switch {
                std::os::unix::fs::chown(d, Some(NOBODY), Some(NOBODY)).unwrap();
            }
        }
        let (seed_s, n_s) = (seed.to_string(), n.to_string());
        let b = command(vec![
            PY.into(),
            script.into(),
            seed_s.clone().into(),
            bare.clone().into(),
            n_s.clone().into(),
        ]);
        assert!(b.status.success(), "bare seed {seed}: {}", err(&b));
        let mut args: Vec<std::ffi::OsString> = vec![SJ.into(), "run".into()];
        args.extend(["--allow-read", "/", "--allow-write"].map(Into::into));
        args.push(held.clone().into());
        args.extend(["--allow-exec", "/usr/bin", "--", PY, script].map(Into::into));
        args.extend([seed_s.into(), held.into(), n_s.into()]);
        let s = command(args);
        assert!(s.status.success(), "supervised seed {seed}: {}", err(&s));
        let (bo, so) = (out(&b), out(&s));
        if let Some((x, y)) = bo.lines().zip(so.lines()).find(|(x, y)| x != y) {
            panic!("seed {seed}: bare `{x}`, supervised `{y}`");
        }
        assert_eq!(bo.lines().count(), so.lines().count(), "seed {seed}");
        calls += bo.lines().count();
        kinds.extend(bo.lines().filter_map(|l| {
            let outcome = l.split(" -> ").nth(1)?;
            Some(outcome.strip_prefix("error ").unwrap_or("ok").to_string())
        }));
    }
    assert_eq!(calls, seeds * n);
    // Not vacuous: calls succeed and fail in many ways (and, unprivileged, for want of
    // permission).
    let mut want = vec![
        "ok", "ENOENT", "EEXIST", "ENOTDIR", "EISDIR", "EBUSY", "ELOOP",
    ];
    if unprivileged {
        want.push("EACCES");
    }
    for k in want {
        assert!(kinds.contains(k), "no {k} among {kinds:?}");
    }
}

#[test]
fn network_calls_answer_as_the_kernel_does() {
    // Random connect, bind and sendto calls on TCP, UDP and unix sockets, v4 and v6, to a
    // listening port, a closed one, a free one, v4-mapped and abstract addresses, with
    // sockaddr_storage-sized lengths and mismatched families, run bare and under `net` rules
    // that allow every address used: every result and every errno must be the kernel's.
    if !have_python() {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/supervise/netops.py");
    let t = TempDir::new("netops");
    // Fresh ports for each run: the bare run's closed connections linger in TIME_WAIT.
    let ports = || {
        let ls: Vec<TcpListener> = (0..3)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        ls.iter()
            .map(|l| l.local_addr().unwrap().port().to_string())
            .collect::<Vec<_>>()
    };
    let (seeds, n) = (8, 400);
    let mut outcomes = std::collections::BTreeSet::new();
    let tag = std::process::id().to_string();
    for seed in 1..=seeds {
        let args = |p: &[String]| {
            let mut a = vec![script.to_string(), seed.to_string()];
            a.extend(p.iter().cloned());
            a.push(n.to_string());
            a.push(tag.clone());
            a
        };
        // The free ports are found by binding to port 0 and letting go: another process on
        // the machine may take one in between. A difference that is only EADDRINUSE on one
        // side is that race, never the supervisor's (it binds in the program's own network
        // namespace): the seed runs again on fresh ports, a few times at most.
        let mut attempt = 0;
        let bo = loop {
            attempt += 1;
            let b = Command::new(PY).args(args(&ports())).output().unwrap();
            assert!(b.status.success(), "bare seed {seed}: {}", err(&b));
            let p = ports();
            let (l, c, f) = (&p[0], &p[1], &p[2]);
            let ends = [
                format!("127.0.0.1:{l}, 127.0.0.1:{c}, 127.0.0.1:{f}"),
                format!("[::1]:{l}, [::1]:{c}, [::1]:{f}, [::ffff:127.0.0.1]:{l}"),
                format!("unix:@sj-netops-{tag}-{seed}-a, unix:@sj-netops-{tag}-{seed}-b"),
            ]
            .join(", ");
            let policy = t.join(&format!("n{seed}.sj"));
            std::fs::write(
                &policy,
                format!("default allow\nnet connect {ends}\nnet bind {ends}\n"),
            )
            .unwrap();
            let s = Command::new(SJ)
                .args(["run", "--policy"])
                .arg(&policy)
                .args(["--", PY])
                .args(args(&p))
                .output()
                .unwrap();
            assert!(s.status.success(), "supervised seed {seed}: {}", err(&s));
            let (bo, so) = (out(&b), out(&s));
            if let Some((x, y)) = bo.lines().zip(so.lines()).find(|(x, y)| x != y) {
                if attempt < 4 && (x.ends_with("EADDRINUSE") != y.ends_with("EADDRINUSE")) {
                    continue;
                }
                panic!("seed {seed}: bare `{x}`, supervised `{y}`");
            }
            assert_eq!(bo.lines().count(), so.lines().count(), "seed {seed}");
            break bo;
        };
        outcomes.extend(
            bo.lines()
                .filter_map(|l| l.split(" -> ").nth(1).map(str::to_string)),
        );
    }
    // Not vacuous: calls succeed and fail in many ways.
    for k in [
        "ok",
        "error ECONNREFUSED",
        "error EADDRINUSE",
        "error EINVAL",
        "error EISCONN",
    ] {
        assert!(outcomes.contains(k), "no `{k}` among {outcomes:?}");
    }
}

#[test]
fn a_unix_socket_is_bound_only_where_the_write_rules_allow() {
    // Binding a unix socket makes a file. With the supervisor alone (no Landlock, whose
    // MAKE_SOCK right would refuse it too), `fs` rules without `net` rules must still keep the
    // socket file out of directories they do not let the program write.
    if !have_python() {
        return;
    }
    let t = TempDir::new("bindfs");
    for d in ["in", "out"] {
        std::fs::create_dir_all(t.join(d)).unwrap();
    }
    let prog = r#"
import socket, sys
for d in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(d + "/sock"); print(d[-3:].strip("/") + ": ok")
    except OSError as e:
        print(d[-3:].strip("/") + ": errno " + str(e.errno))
t = socket.socket(); t.bind(("127.0.0.1", 0)); print("inet: ok")
"#;
    let (inside, outside) = (t.s("in"), t.s("out"));
    let bare = Command::new(PY)
        .args(["-c", prog, &inside, &outside])
        .output()
        .unwrap();
    assert_eq!(out(&bare), "in: ok\nout: ok\ninet: ok\n", "{}", err(&bare));
    for d in ["in", "out"] {
        std::fs::remove_file(t.join(&format!("{d}/sock"))).unwrap();
    }
    let o = sj(
        t.path(),
        &[
            "run",
            "--fs-supervisor-only",
            "--allow-read",
            "/",
            "--allow-write",
            &inside,
            "--",
            PY,
            "-c",
            prog,
            &inside,
            &outside,
        ],
    );
    assert_eq!(out(&o), "in: ok\nout: errno 13\ninet: ok\n", "{}", err(&o));
    assert!(!t.join("out/sock").exists());
}

#[test]
fn a_unix_socket_peer_is_not_told_the_supervisors_user_for_a_program_that_dropped_root() {
    // The supervisor connects on the program's behalf, and a unix socket's peer learns the
    // connecting user from the socket (SO_PEERCRED): the supervisor's. A program that dropped
    // root (or only its group) must not reach a peer as root: refused. Before, it connects.
    if !have_python() {
        return;
    }
    if !starts_as_root() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let t = TempDir::new("peercred");
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let sock = t.join("x.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    // Anyone may connect: a refusal is the supervisor's, not the file's mode.
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    let prog = r#"
import os, socket, sys
def connect(label):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(sys.argv[1]); print(label + ": ok")
    except OSError as e:
        print(label + ": errno " + str(e.errno))
connect("root")
os.setgroups([]); os.setgid(65534)
connect("root-in-nogroup")
os.setuid(65534)
connect("nobody")
"#;
    let bare = Command::new(PY)
        .args(["-c", prog, &t.s("x.sock")])
        .output()
        .unwrap();
    assert_eq!(
        out(&bare),
        "root: ok\nroot-in-nogroup: ok\nnobody: ok\n",
        "{}",
        err(&bare)
    );
    std::fs::write(
        t.join("p.sj"),
        format!("default allow\nnet connect unix:{}\n", t.s("x.sock")),
    )
    .unwrap();
    let o = sj(
        t.path(),
        &[
            "run",
            "--policy",
            &t.s("p.sj"),
            "--",
            PY,
            "-c",
            prog,
            &t.s("x.sock"),
        ],
    );
    // A changed group alone is refused too: the peer reads the gid and groups as well.
    assert_eq!(
        out(&o),
        "root: ok\nroot-in-nogroup: errno 13\nnobody: errno 13\n",
        "{}",
        err(&o)
    );
    drop(listener);
}

/// Everything about a directory tree a write could change: each entry's path, type, mode,
/// size, link count, times of change, content or link text (sorted).
fn snapshot(dir: &Path) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            // A directory the random calls left without search permission hides its
            // entries from an ordinary user alike in both runs.
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                out.push(format!(
                    "{} cannot be inspected",
                    p.strip_prefix(dir).unwrap().display()
                ));
                continue;
            };
            let body = if m.file_type().is_symlink() {
                format!("-> {:?}", std::fs::read_link(&p).unwrap())
            } else if m.is_file() {
                format!("{:?}", std::fs::read(&p).unwrap_or_default())
            } else {
                if m.is_dir() {
                    stack.push(p.clone());
                }
                String::new()
            };
            out.push(format!(
                "{} {:o} {} {} {}.{} {}.{} {body}",
                p.strip_prefix(dir).unwrap().display(),
                m.mode(),
                m.size(),
                m.nlink(),
                m.mtime(),
                m.mtime_nsec(),
                m.ctime(),
                m.ctime_nsec(),
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn random_file_calls_never_change_what_the_write_rules_leave_out() {
    // The same random calls, with names and symlinks that also lead to `../out`, a sibling of
    // the one directory the program may write: unconfined they change `out` (so the case is
    // not vacuous); supervised, nothing in `out` may change — no content, mode, time, link
    // count or name.
    if !have_python() {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/supervise/fsops.py");
    let t = TempDir::new("fsops-out");
    let make = |top: &Path| {
        std::fs::create_dir_all(top.join("w")).unwrap();
        std::fs::create_dir_all(top.join("out/d")).unwrap();
        std::fs::write(top.join("out/f"), "outside").unwrap();
        std::fs::write(top.join("out/d/g"), "outside too").unwrap();
        std::os::unix::fs::symlink("f", top.join("out/l")).unwrap();
    };
    let mut changed_bare = 0;
    for seed in 1..=12 {
        let (b, s) = (t.join(&format!("b{seed}")), t.join(&format!("s{seed}")));
        make(&b);
        make(&s);
        let before = snapshot(&b.join("out"));
        let o = Command::new(PY)
            .args([script, &seed.to_string()])
            .arg(b.join("w"))
            .args(["300", "escape"])
            .output()
            .unwrap();
        assert!(o.status.success(), "bare seed {seed}: {}", err(&o));
        changed_bare += usize::from(snapshot(&b.join("out")) != before);
        let before = snapshot(&s.join("out"));
        let mut run = Command::new(SJ);
        run.arg("run");
        if seed % 2 == 1 {
            // The supervisor alone, so that Landlock cannot hide a hole in it.
            run.arg("--fs-supervisor-only");
        }
        let o = run
            .args(["--allow-read", "/", "--allow-write"])
            .arg(s.join("w"))
            .args([
                "--allow-exec",
                "/usr/bin",
                "--",
                PY,
                script,
                &seed.to_string(),
            ])
            .arg(s.join("w"))
            .args(["300", "escape"])
            .output()
            .unwrap();
        assert!(o.status.success(), "supervised seed {seed}: {}", err(&o));
        let after = snapshot(&s.join("out"));
        let gone: Vec<_> = before.iter().filter(|l| !after.contains(l)).collect();
        let new: Vec<_> = after.iter().filter(|l| !before.contains(l)).collect();
        assert!(
            gone.is_empty() && new.is_empty(),
            "seed {seed}: out/ changed under the rules: was {gone:?}, now {new:?}"
        );
    }
    assert!(
        changed_bare >= 10,
        "unconfined runs changed out/ only {changed_bare} times of 12"
    );
}
