//! The supervisor under attack and under load, through the built binary: small C programs
//! (`tests/supervise/*.c`, compiled here with `cc`) that race it, kill it, kill themselves in
//! the middle of a call, interrupt it with signals, and try to reach a forbidden file through
//! an allowed one.
//!
//! Every run that must prove the SUPERVISOR holds uses `--fs-supervisor-only`: by default
//! Landlock enforces the same rules in the kernel, and would hide a supervisor that let a call
//! through. Where the tests run as root, each case runs twice: as root, and as an ordinary
//! user (uid/gid 65534, dropped with `setpriv` before straitjacket starts).
//!
//! Every wait is bounded: a supervisor that hangs fails the test instead of hanging it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

#[path = "support/users.rs"]
mod users;
use users::{sj_command as sj, users, As};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/supervise");

const EINTR: i32 = 4;
const EACCES: i32 = 13;
const ENOSYS: i32 = 38;

/// A fresh directory under the system temp dir, open to every user, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("sj-suphard-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        chmod(&p, 0o777);
        Scratch(p)
    }

    /// A directory every user may write (so the ordinary user may, where a rule allows it).
    fn dir(&self, name: &str) -> String {
        let p = self.0.join(name);
        std::fs::create_dir_all(&p).unwrap();
        chmod(&p, 0o777);
        s(&p)
    }

    /// A file every user may read: only the rules keep it from the program.
    fn file(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        chmod(&p, 0o644);
        s(&p)
    }

    fn fifo(&self, name: &str) -> String {
        let p = self.0.join(name);
        let st = Command::new("mkfifo").arg("-m").arg("666").arg(&p).status();
        assert!(st.unwrap().success(), "mkfifo {}", p.display());
        s(&p)
    }

    fn path(&self, name: &str) -> String {
        s(&self.0.join(name))
    }

    /// Compiles `supervise/NAME.c` into this directory.
    fn build(&self, name: &str) -> String {
        let exe = self.0.join(name);
        let o = Command::new("cc")
            .args(["-O1", "-pthread", "-o"])
            .arg(&exe)
            .arg(format!("{SRC}/{name}.c"))
            .output()
            .expect("cc must be installed for these tests");
        assert!(
            o.status.success(),
            "cc {name}.c failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        chmod(&exe, 0o755);
        s(&exe)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// `run --fs-supervisor-only RULES… -- CMD…`: the supervisor alone enforces the rules.
fn supervised<'a>(rules: &[&'a str], cmd: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["run", "--fs-supervisor-only"];
    v.extend_from_slice(rules);
    v.push("--");
    v.extend_from_slice(cmd);
    v
}

fn piped(mut c: Command) -> Child {
    c.current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads a pipe to its end on a thread of its own.
fn drain(r: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut v);
        }
        v
    })
}

/// Waits at most `limit` for `child`; SIGKILLs it and fails the test if it takes longer.
fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let end = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?} (killed)");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `c` to its end, at most `limit`.
fn run_bounded(c: Command, limit: Duration, what: &str) -> Output {
    let mut child = piped(c);
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let status = wait_bounded(&mut child, limit, what);
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// `key=value` pairs of a line of output.
fn fields(line: &str) -> HashMap<String, String> {
    line.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn num(f: &HashMap<String, String>, key: &str, o: &str) -> i64 {
    f.get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key}= in {o}"))
}

/// The lines of a pipe, one by one, from a thread of its own.
fn lines(r: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// Starts `args` as `who` and reads its first line, `ready PID` (at most 10 s): the running
/// child, the pid, the rest of its stdout line by line, and its stderr.
fn start_until_ready(
    who: As,
    args: &[&str],
) -> (
    Child,
    i32,
    Receiver<String>,
    std::thread::JoinHandle<Vec<u8>>,
) {
    let mut child = piped(sj(who, args));
    let err = drain(child.stderr.take());
    let out = lines(child.stdout.take().unwrap());
    let Ok(ready) = out.recv_timeout(Duration::from_secs(10)) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{who:?}: no ready line: {}", text(&err.join().unwrap()));
    };
    let ns_pid: i32 = ready
        .strip_prefix("ready ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{who:?}: {ready}"));
    // The program reports its pid in its own pid namespace; the host's is the one below
    // straitjacket whose last NSpid is that.
    let pid = host_pid(child.id() as i32, ns_pid).unwrap_or(ns_pid);
    (child, pid, out, err)
}

/// The host's pid of the process below `top` whose pid in its own namespace is `ns_pid`.
fn host_pid(top: i32, ns_pid: i32) -> Option<i32> {
    let mut todo = vec![top];
    while let Some(p) = todo.pop() {
        let children = proc_text(p, &format!("task/{p}/children"));
        for c in children
            .split_whitespace()
            .filter_map(|c| c.parse::<i32>().ok())
        {
            let status = proc_text(c, "status");
            let inner = status
                .lines()
                .find(|l| l.starts_with("NSpid:"))
                .and_then(|l| l.split_whitespace().last())
                .and_then(|v| v.parse::<i32>().ok());
            if inner == Some(ns_pid) && status.contains("NSpid:\t") {
                return Some(c);
            }
            todo.push(c);
        }
    }
    None
}

fn proc_text(pid: i32, what: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/{what}")).unwrap_or_default()
}

/// Waits (at most 5 s) until thread `pid` of the program is blocked in a notified call, then
/// until a worker of straitjacket (`sj`) waits in a FIFO's open for it — or, where its
/// threads cannot be seen (an ordinary user's tests: straitjacket is not dumpable), a
/// moment longer.
fn wait_in_notified_fifo_open(pid: i32, sj: u32) {
    let end = Instant::now() + Duration::from_secs(5);
    // In the seccomp wait (where wchan names functions), or at least in openat (x86_64: 257).
    let blocked = || {
        proc_text(pid, "wchan").contains("seccomp")
            || (proc_text(pid, "syscall").starts_with("257 ")
                && proc_text(pid, "stat").contains(") S "))
    };
    while !blocked() {
        assert!(
            Instant::now() < end,
            "pid {pid} never blocked in a notified call (wchan {:?}, syscall {:?})",
            proc_text(pid, "wchan"),
            proc_text(pid, "syscall")
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let worker_waits = || {
        std::fs::read_dir(format!("/proc/{sj}/task"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|t| {
                std::fs::read_to_string(t.path().join("wchan"))
                    .is_ok_and(|w| w.contains("wait_for_partner"))
            })
    };
    let seen_from = Instant::now();
    while !worker_waits() {
        if Instant::now() >= end || seen_from.elapsed() > Duration::from_millis(500) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn kill(pid: i32, sig: i32) {
    // SAFETY: kill(2) has no memory arguments.
    unsafe { libc::kill(pid, sig) };
}

// 1. TOCTOU.

#[test]
fn a_path_flipped_under_the_supervisor_never_reaches_the_forbidden_file() {
    let t = Scratch::new("toctou");
    let allowed = t.dir("allowed");
    let good = t.file("allowed/file", "ALLOWED");
    let bad = t.file("secret", "SECRET");
    let exe = t.build("toctou");
    // The case is real: unconfined, the race is won (often) within a second.
    let mut c = Command::new(&exe);
    c.args([&good, &bad, "1"]);
    let o = run_bounded(c, Duration::from_secs(20), "toctou bare");
    let f = fields(&text(&o.stdout));
    assert!(
        num(&f, "secret", &show(&o)) > 0,
        "unconfined, the flipping thread should win: {}",
        show(&o)
    );
    for who in users() {
        let secs = if who == As::Caller { "3" } else { "2" };
        let args = supervised(&["--allow-read", &allowed], &[&exe, &good, &bad, secs]);
        let o = run_bounded(sj(who, &args), Duration::from_secs(40), "toctou");
        let shown = show(&o);
        assert_eq!(o.status.code(), Some(0), "{who:?}: {shown}");
        let f = fields(&text(&o.stdout));
        assert_eq!(
            num(&f, "secret", &shown),
            0,
            "{who:?}: SECRET was read: {shown}"
        );
        assert!(num(&f, "allowed", &shown) > 0, "{who:?}: {shown}");
        assert!(num(&f, "refused", &shown) > 0, "{who:?}: {shown}");
    }
}

// 2. The supervisor dies while a call waits on it.

#[test]
fn a_call_pending_when_the_supervisor_dies_fails_and_so_do_later_ones() {
    for who in users() {
        let t = Scratch::new("orphan");
        let allowed = t.dir("allowed");
        let fifo = t.fifo("allowed/fifo");
        let file = t.file("allowed/file", "ALLOWED");
        let secret = t.file("secret", "SECRET");
        let exe = t.build("orphan_call");
        // In `run`'s own pid namespace the whole sandbox dies with the supervisor (its init
        // has the parent-death signal): the grandchild waiting in the call is killed.
        let args = supervised(&["--allow-read", &allowed], &[&exe, &fifo, &secret, &file]);
        let (mut child, gp, _out, _err) = start_until_ready(who, &args);
        wait_in_notified_fifo_open(gp, child.id());
        child.kill().unwrap();
        child.wait().unwrap();
        let end = Instant::now() + Duration::from_secs(10);
        while proc_text(gp, "stat")
            .split(") ")
            .nth(1)
            .is_some_and(|s| !s.starts_with('Z'))
        {
            assert!(
                Instant::now() < end,
                "{who:?}: the grandchild outlived the supervisor"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        // Sharing the host's pid namespace, the grandchild lives on: its pending call and
        // every later one must fail, never run.
        let args = supervised(
            &["--share", "pid", "--allow-read", &allowed],
            &[&exe, &fifo, &secret, &file],
        );
        let (mut child, gp, out, err) = start_until_ready(who, &args);
        wait_in_notified_fifo_open(gp, child.id());
        child.kill().unwrap();
        child.wait().unwrap();
        // The grandchild goes on (its open fails) and reports; bounded, then killed.
        let report = out.recv_timeout(Duration::from_secs(10));
        kill(gp, libc::SIGKILL);
        let report = report.unwrap_or_else(|_| {
            panic!(
                "{who:?}: the grandchild never came back from its open: {}",
                text(&err.join().unwrap())
            )
        });
        let f = fields(&report);
        assert_eq!(num(&f, "pending", &report), i64::from(ENOSYS), "{report}");
        assert_eq!(num(&f, "forbidden", &report), i64::from(ENOSYS), "{report}");
        assert_eq!(num(&f, "allowed", &report), i64::from(ENOSYS), "{report}");
        assert!(!report.contains("SECRET"), "{report}");
    }
}

// 3. Robustness.

#[test]
fn many_threads_with_calls_in_flight_are_all_served() {
    let t = Scratch::new("threads");
    let dir = t.dir("files");
    for i in 0..8 {
        t.file(&format!("files/f{i}"), &format!("file-{i}"));
    }
    let exe = t.build("threads");
    for who in users() {
        // 8 threads × 500 rounds of open+read and stat; fewer the second time round.
        let iters = if who == As::Caller { "500" } else { "150" };
        let args = supervised(&["--allow-read", &dir], &[&exe, &dir, "8", iters]);
        let o = run_bounded(sj(who, &args), Duration::from_secs(60), "threads");
        let shown = show(&o);
        assert_eq!(o.status.code(), Some(0), "{who:?}: {shown}");
        let f = fields(&text(&o.stdout));
        let want = 8 * 2 * iters.parse::<i64>().unwrap();
        assert_eq!(num(&f, "ok", &shown), want, "{who:?}: {shown}");
        assert_eq!(num(&f, "bad", &shown), 0, "{who:?}: {shown}");
    }
}

#[test]
fn many_calls_blocked_at_once_are_each_served() {
    let t = Scratch::new("fifos");
    let dir = t.dir("pipes");
    // 48 readers and one writer at a time: within the supervisor's 64 workers.
    let n = 48;
    for i in 0..n {
        t.fifo(&format!("pipes/fifo{i}"));
    }
    let exe = t.build("fifos");
    let n = n.to_string();
    for who in users() {
        let args = supervised(&["--allow-write", &dir], &[&exe, &dir, &n]);
        let o = run_bounded(sj(who, &args), Duration::from_secs(20), "fifos");
        let shown = show(&o);
        assert_eq!(o.status.code(), Some(0), "{who:?}: {shown}");
        assert_eq!(text(&o.stdout), format!("done {n}\n"), "{who:?}: {shown}");
    }
}

#[test]
fn files_are_created_with_the_umask_another_thread_just_set() {
    let t = Scratch::new("umask");
    let dir = t.dir("w");
    let exe = t.build("umask_race");
    for who in users() {
        let args = supervised(&["--allow-write", &dir], &[&exe, &dir]);
        let o = run_bounded(sj(who, &args), Duration::from_secs(20), "umask");
        let shown = show(&o);
        assert_eq!(o.status.code(), Some(0), "{who:?}: {shown}");
        let f = fields(&text(&o.stdout));
        assert!(num(&f, "checked", &shown) > 0, "{who:?}: {shown}");
        assert_eq!(num(&f, "bad", &shown), 0, "{who:?}: {shown}");
    }
}

#[test]
fn forked_and_execed_children_are_served() {
    let t = Scratch::new("fork");
    let allowed = t.dir("allowed");
    for n in ["x", "y", "z"] {
        t.file(&format!("allowed/{n}"), &n.to_uppercase());
    }
    t.file("secret", "SECRET");
    let script = "cat allowed/x; (cat allowed/y) ; sh -c \"cat allowed/z\"; cat secret";
    for who in users() {
        let cwd = t.path("");
        // `cat` must be found (by stat) and run: its directory is an exec rule.
        let bin = ["/usr/bin", "/bin"]
            .into_iter()
            .find(|d| Path::new(d).join("cat").exists())
            .expect("cat");
        let rules = ["--allow-read", &allowed, "--allow-exec", bin, "--cwd", &cwd];
        let args = supervised(&rules, &["sh", "-c", script]);
        let o = run_bounded(sj(who, &args), Duration::from_secs(20), "fork");
        let shown = show(&o);
        assert_eq!(text(&o.stdout), "XYZ", "{who:?}: {shown}");
        // The last `cat` is refused: the children are supervised, not just served.
        assert_eq!(o.status.code(), Some(1), "{who:?}: {shown}");
        assert!(text(&o.stderr).contains("Permission denied"), "{shown}");
    }
}

#[test]
fn a_program_killed_in_a_notified_call_ends_the_run_promptly() {
    for who in users() {
        let t = Scratch::new("killed");
        let allowed = t.dir("allowed");
        let fifo = t.fifo("allowed/fifo");
        let exe = t.build("fifo_wait");
        let args = supervised(&["--allow-read", &allowed], &[&exe, "kill", &fifo]);
        let (mut child, pid, out, err) = start_until_ready(who, &args);
        wait_in_notified_fifo_open(pid, child.id());
        kill(pid, libc::SIGKILL);
        let started = Instant::now();
        let st = wait_bounded(&mut child, Duration::from_secs(5), "run after SIGKILL");
        assert_eq!(
            st.code(),
            Some(128 + libc::SIGKILL),
            "{who:?}: {}",
            text(&err.join().unwrap())
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{who:?}: slow");
        let rest: Vec<String> = out.try_iter().collect();
        assert!(rest.is_empty(), "{who:?}: the open returned: {rest:?}");
    }
}

#[test]
fn a_signal_during_a_notified_call_leaves_the_program_going() {
    for who in users() {
        for mode in ["alarm", "alarm-restart"] {
            let t = Scratch::new("alarm");
            let dir = t.dir("rw");
            let fifo = t.fifo("rw/fifo");
            let exe = t.build("fifo_wait");
            let args = supervised(&["--allow-write", &dir], &[&exe, mode, &fifo]);
            let o = run_bounded(sj(who, &args), Duration::from_secs(20), mode);
            let shown = show(&o);
            assert_eq!(o.status.code(), Some(0), "{who:?} {mode}: {shown}");
            let f = fields(&text(&o.stdout));
            assert_eq!(num(&f, "alarms", &shown), 1, "{who:?} {mode}: {shown}");
            // Either the wait was interrupted (EINTR), or (the supervisor had the call:
            // WAIT_KILLABLE_RECV) it went on to the writer and the open returned an fd.
            let fd = num(&f, "open", &shown);
            let e = num(&f, "errno", &shown);
            assert!(
                (fd == -1 && e == i64::from(EINTR)) || (fd >= 0 && e == 0),
                "{who:?} {mode}: {shown}"
            );
        }
    }
}

// 4. Reaching a forbidden file through an allowed one.

/// The cases of `tricks.c` that must be refused with EACCES, and those refused some way.
const TRICKS_EACCES: &[&str] = &[
    "dirfd_dotdot",
    "cwd_dotdot",
    "opath_parent",
    "opath_dotdot",
    "symlink_abs",
    "symlink_rel",
    "symlink_rel_dirfd",
    "link",
    "linkat_follow",
    "rename",
];
const TRICKS_REFUSED: &[&str] = &[
    "proc_root",
    "proc_fd_dir",
    "proc_cwd",
    "proc_fd_reopen_write",
    "thread_self_reopen_write",
];

fn tricks_result(o: &Output) -> HashMap<String, (i32, String)> {
    text(&o.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?.to_owned();
            let errno = w.next()?.parse().ok()?;
            Some((name, (errno, w.next().unwrap_or("").to_owned())))
        })
        .collect()
}

#[test]
fn dirfds_links_renames_and_proc_do_not_lead_out_of_the_rules() {
    let t = Scratch::new("tricks");
    t.dir("allowed");
    t.dir("w");
    t.file("allowed/file", "ALLOWED");
    t.file("secret", "SECRET");
    let dir = t.path("");
    let dir = dir.trim_end_matches('/');
    let exe = t.build("tricks");
    // The cases are real: unconfined, every one of them works.
    let mut c = Command::new(&exe);
    c.arg(dir);
    let o = run_bounded(c, Duration::from_secs(20), "tricks bare");
    let bare = tricks_result(&o);
    for case in TRICKS_EACCES.iter().chain(TRICKS_REFUSED) {
        assert_eq!(
            bare.get(*case).map(|r| r.0),
            Some(0),
            "{case}: {}",
            show(&o)
        );
    }
    assert_eq!(bare["dirfd_dotdot"].1, "SECRET");
    for who in users() {
        let log = t.path(&format!("log-{who:?}"));
        let (read, write) = (format!("{dir}/allowed"), format!("{dir}/w"));
        let rules = [
            "--allow-read",
            &read,
            "--allow-write",
            &write,
            "--log",
            &log,
        ];
        let args = supervised(&rules, &[&exe, dir]);
        let o = run_bounded(sj(who, &args), Duration::from_secs(20), "tricks");
        let shown = show(&o);
        assert_eq!(o.status.code(), Some(0), "{who:?}: {shown}");
        assert!(!text(&o.stdout).contains("SECRET"), "{who:?}: {shown}");
        let r = tricks_result(&o);
        assert_eq!(r.get("control"), Some(&(0, "ALLOWED".into())), "{shown}");
        // An O_PATH open works (the kernel cannot inject an O_PATH fd: a read-only one).
        let allowed = Some(&(0, "ALLOWED".into()));
        assert_eq!(r.get("opath_allowed"), allowed, "{who:?}: {shown}");
        // Planting the links is allowed (the directory is writable); following them is not.
        assert_eq!(r.get("symlink_abs_create").map(|r| r.0), Some(0), "{shown}");
        assert_eq!(r.get("symlink_rel_create").map(|r| r.0), Some(0), "{shown}");
        for case in TRICKS_EACCES {
            assert_eq!(
                r.get(*case).map(|r| r.0),
                Some(EACCES),
                "{who:?} {case}: {shown}"
            );
        }
        for case in TRICKS_REFUSED {
            let got = r.get(*case).map(|r| r.0);
            assert!(got.is_some_and(|e| e != 0), "{who:?} {case}: {shown}");
        }
        // Nothing was changed outside the rules.
        assert_eq!(
            std::fs::read_to_string(format!("{dir}/secret")).unwrap(),
            "SECRET"
        );
        let left: Vec<_> = std::fs::read_dir(format!("{dir}/w")).unwrap().collect();
        assert!(left.is_empty(), "{who:?}: {left:?}");
        // The log says "denied" for each refusal, with the path asked for.
        let entries: Vec<serde_json::Value> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // (syscall, the path asked for begins …, ends …)
        let denied = |syscall: &str, start: &str, end: &str| {
            entries.iter().any(|e| {
                e["decision"] == "denied"
                    && e["syscall"] == syscall
                    && e["paths"][0]
                        .as_str()
                        .is_some_and(|p| p.starts_with(start) && p.ends_with(end))
            })
        };
        for (syscall, start, end) in [
            ("openat", "..", "../secret"),
            ("openat", dir, "/w/abs"),
            ("openat", dir, "/w/rel"),
            ("openat", "rel", "rel"),
            ("link", dir, "/secret"),
            ("linkat", dir, "/w/abs2"),
            ("rename", dir, "/secret"),
            ("openat", dir, dir), // O_PATH of the directory above the rules
            ("openat", "../secret", "../secret"), // from the O_PATH fd of allowed/
            // Magic links: refused by the supervisor (the kernel would follow them).
            ("openat", "/proc/self/root/", "/secret"),
            ("openat", "/proc/self/fd/", "/../secret"),
            ("openat", "/proc/self/cwd/", "/../secret"),
            ("openat", "/proc/self/fd/", ""),
            ("openat", "/proc/thread-self/fd/", ""),
        ] {
            assert!(
                denied(syscall, start, end),
                "{who:?}: no denied {syscall} of {start}…{end} in the log:\n{}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
    }
}
