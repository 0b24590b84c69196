//! Confinement beyond system calls, through the built binary: Landlock filesystem and port
//! rules, namespaces, resource limits and the wall clock, and the bad input around them.
//!
//! Where the tests run as root, each behaviour is checked twice: as root, and as an
//! ordinary user (uid/gid 65534, dropped with `setpriv` before straitjacket starts). Where
//! they run as an ordinary user already, once.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

#[path = "support/users.rs"]
mod users;
use users::{sj_command, users, As};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("sj-confine-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        open_up(&p);
        TempDir(p)
    }
    fn dir(&self, name: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::create_dir_all(&p).unwrap();
        open_up(&p);
        p
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
        p
    }
}

/// World-writable, so the ordinary user of the tests may write where a rule allows it.
fn open_up(p: &Path) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sj_as(who: As, args: &[&str]) -> Output {
    sj_command(who, args)
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn sj(args: &[&str]) -> Output {
    sj_as(As::Caller, args)
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn reads_only_inside_fs_rules_even_through_links() {
    let t = TempDir::new("read");
    let inside = t.dir("in");
    let secret = t.file("secret", "SECRET\n");
    std::fs::write(inside.join("ok"), "fine\n").unwrap();
    std::os::unix::fs::symlink(&secret, inside.join("sym")).unwrap();
    // A hard link prepared beforehand is the same file reached by a path INSIDE the rule:
    // Landlock checks the path of access, so it is readable (that is the rule as written).
    std::fs::hard_link(&secret, inside.join("hard")).unwrap();
    for who in users() {
        let r = |path: &Path| {
            sj_as(
                who,
                &["run", "--allow-read", s(&inside), "--", "cat", s(path)],
            )
        };
        let o = r(&inside.join("ok"));
        assert_eq!(
            (code(&o), out(&o).as_str()),
            (0, "fine\n"),
            "{who:?}: {}",
            err(&o)
        );
        let o = r(&secret);
        assert_eq!(code(&o), 1, "{who:?}");
        assert!(
            err(&o).contains("Permission denied"),
            "{who:?}: {}",
            err(&o)
        );
        assert!(!out(&o).contains("SECRET"));
        let o = r(&inside.join("sym"));
        assert!(
            !out(&o).contains("SECRET"),
            "{who:?}: a symlink out of the tree"
        );
        assert!(
            err(&o).contains("Permission denied"),
            "{who:?}: {}",
            err(&o)
        );
        let o = r(&inside.join("hard"));
        assert_eq!(out(&o), "SECRET\n", "{who:?}: {}", err(&o));
        // Making a new hard link (or symlink) to the outside from inside is refused: the
        // tree is read-only, and a link needs write access where it is made.
        let o = sj_as(
            who,
            &[
                "run",
                "--allow-read",
                s(&inside),
                "--",
                "ln",
                s(&secret),
                s(&inside.join("new")),
            ],
        );
        assert_ne!(code(&o), 0, "{who:?}");
        assert!(!inside.join("new").exists());
    }
}

#[test]
fn writes_only_under_write_rules() {
    let t = TempDir::new("write");
    let ro = t.dir("ro");
    let rw = t.dir("rw");
    for (i, who) in users().into_iter().enumerate() {
        let script = format!(
            "echo a > {rw}/f{i} && mkdir {rw}/d{i} && rmdir {rw}/d{i} && cat {rw}/f{i} && \
             truncate -s 0 {rw}/f{i} && rm {rw}/f{i} && echo ok; echo b > {ro}/g{i} || echo refused",
            rw = s(&rw),
            ro = s(&ro)
        );
        let o = sj_as(
            who,
            &[
                "run",
                "--allow-read",
                s(&ro),
                "--allow-write",
                s(&rw),
                "--allow-exec",
                "/usr/bin",
                "--allow-exec",
                "/bin",
                "--",
                "sh",
                "-c",
                &script,
            ],
        );
        assert_eq!(out(&o), "a\nok\nrefused\n", "{who:?}: {}", err(&o));
        assert!(!ro.join(format!("g{i}")).exists());
    }
}

#[test]
fn executes_only_under_exec_rules() {
    let t = TempDir::new("exec");
    let ex = t.dir("ex");
    let data = t.dir("data");
    for d in [&ex, &data] {
        std::fs::copy("/bin/true", d.join("t")).unwrap();
        std::fs::set_permissions(d.join("t"), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for who in users() {
        let script = format!("{}/t && echo ran; {}/t || echo refused", s(&ex), s(&data));
        let o = sj_as(
            who,
            &[
                "run",
                "--allow-exec",
                s(&ex),
                "--allow-read",
                s(&data),
                "--",
                "sh",
                "-c",
                &script,
            ],
        );
        assert_eq!(out(&o), "ran\nrefused\n", "{who:?}: {}", err(&o));
    }
}

#[test]
fn net_none_cannot_reach_the_hosts_loopback() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let probe = "import socket,sys\ntry:\n socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=2); print('connected')\nexcept OSError as e: print('refused')";
    for who in users() {
        let o = sj_as(who, &["run", "--", "python3", "-c", probe, &port]);
        assert_eq!(
            out(&o),
            "connected\n",
            "{who:?} without --net none: {}",
            err(&o)
        );
        let o = sj_as(
            who,
            &["run", "--net", "none", "--", "python3", "-c", probe, &port],
        );
        assert_eq!(out(&o), "refused\n", "{who:?}: {}", err(&o));
        // Loopback inside is up: a server and client of its own work.
        let own = "import socket\ns=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); c=socket.create_connection(s.getsockname()); print('lo up')";
        let o = sj_as(who, &["run", "--net", "none", "--", "python3", "-c", own]);
        assert_eq!(out(&o), "lo up\n", "{who:?}: {}", err(&o));
    }
}

#[test]
fn landlock_port_rules_from_a_profile() {
    let t = TempDir::new("port");
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (pa, pb) = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );
    let pol = t.file(
        "p.sj",
        &format!("default allow\nnet connect 127.0.0.1:{pa}\n"),
    );
    let probe = "import socket,sys\nfor p in sys.argv[1:]:\n try: socket.create_connection(('127.0.0.1', int(p)), timeout=2); print('ok')\n except OSError: print('refused')";
    let o = sj(&[
        "run",
        "--policy",
        s(&pol),
        "--",
        "python3",
        "-c",
        probe,
        &pa.to_string(),
        &pb.to_string(),
    ]);
    assert_eq!(out(&o), "ok\nrefused\n", "{}", err(&o));
}

#[test]
fn pid_namespace_hides_the_callers_processes() {
    let me = std::process::id().to_string();
    for who in users() {
        let o = sj_as(
            who,
            &[
                "run",
                "--unshare",
                "pid",
                "--",
                "sh",
                "-c",
                "echo $$; ls /proc",
            ],
        );
        let text = out(&o);
        let mut lines = text.lines();
        // Under the namespace's init (pid 1), the program is pid 2.
        assert_eq!(lines.next(), Some("2"), "{who:?}: {}", err(&o));
        assert!(
            !text.lines().any(|l| l == me),
            "{who:?}: the caller is visible"
        );
        let pids = text
            .lines()
            .skip(1)
            .filter(|l| l.parse::<u32>().is_ok())
            .count();
        assert!(pids <= 3, "{who:?}: {text}");
    }
}

#[test]
fn namespaces_for_everyone() {
    let t = TempDir::new("ns");
    let src = t.dir("src");
    // Outside /tmp, which --private-tmp replaces.
    let dst = PathBuf::from("/mnt");
    if !dst.is_dir() {
        straitjacket_testkit::skip("no /mnt to bind on");
        return;
    }
    std::fs::write(src.join("f"), "bound\n").unwrap();
    for who in users() {
        let o = sj_as(
            who,
            &[
                "run",
                "--unshare",
                "all",
                "--hostname",
                "box",
                "--private-tmp",
                "--ro-bind",
                s(&src),
                s(&dst),
                "--",
                "sh",
                "-c",
                &format!(
                    "hostname; ls -A /tmp | wc -l; cat {0}/f; touch {0}/x || echo ro",
                    s(&dst)
                ),
            ],
        );
        assert_eq!(out(&o), "box\n0\nbound\nro\n", "{who:?}: {}", err(&o));
    }
}

fn limit_report(who: As, args: &[&str], report: &str, status: i32) {
    let o = sj_as(who, args);
    assert_eq!(code(&o), status, "{who:?} {args:?}: {}", err(&o));
    assert!(
        err(&o).lines().any(|l| l == report),
        "{who:?} {args:?}: expected `{report}` in: {}",
        err(&o)
    );
}

#[test]
fn a_fork_bomb_is_stopped_by_procs() {
    let bomb = "import os, time\nwhile True:\n try: os.fork()\n except OSError: time.sleep(0.001)";
    for who in users() {
        limit_report(
            who,
            &["run", "--limit", "procs=16", "--", "python3", "-c", bomb],
            "straitjacket: killed: procs limit 16 reached",
            137,
        );
    }
}

#[test]
fn a_memory_hog_is_stopped_by_mem() {
    let hog = "a = []\nwhile True: a.append(bytearray(1 << 20))";
    for who in users() {
        limit_report(
            who,
            &["run", "--limit", "mem=48M", "--", "python3", "-c", hog],
            "straitjacket: killed: mem limit 48M reached",
            137,
        );
    }
}

#[test]
fn a_busy_loop_is_stopped_by_cpu_and_by_timeout() {
    for who in users() {
        limit_report(
            who,
            &[
                "run",
                "--limit",
                "cpu=1",
                "--",
                "sh",
                "-c",
                "while :; do :; done",
            ],
            "straitjacket: killed: cpu limit 1s reached",
            137,
        );
        let start = std::time::Instant::now();
        limit_report(
            who,
            &[
                "run",
                "--timeout",
                "1",
                "--",
                "sh",
                "-c",
                "sleep 30 & while :; do :; done",
            ],
            "straitjacket: killed: timeout 1s reached",
            124,
        );
        assert!(start.elapsed().as_secs() < 10);
    }
}

#[test]
fn a_profile_carries_the_confinement() {
    let t = TempDir::new("profile");
    let pol = t.file(
        "p.sj",
        "default allow\nunshare pid\nhostname sandbox\nlimit mem 512M, procs 64\ntimeout 30s\n",
    );
    let o = sj(&[
        "run",
        "--policy",
        s(&pol),
        "--",
        "sh",
        "-c",
        "hostname; echo $$",
    ]);
    assert_eq!(out(&o), "sandbox\n2\n", "{}", err(&o));
    // A flag may narrow the profile, never widen it: the larger value is refused with a
    // warning and the profile's kept.
    let o = sj(&["run", "--policy", s(&pol), "--timeout", "60", "--", "true"]);
    assert_eq!(code(&o), 0);
    assert!(
        err(&o).contains("the policy's timeout 30s is shorter and is kept"),
        "{}",
        err(&o)
    );
    let o = sj(&[
        "run",
        "--policy",
        s(&pol),
        "--limit",
        "mem=1G",
        "--",
        "true",
    ]);
    assert!(
        err(&o).contains("mem limit 512M is smaller and is kept"),
        "{}",
        err(&o)
    );
}

#[test]
fn bad_input_is_refused_before_anything_runs() {
    let t = TempDir::new("bad");
    let marker = t.0.join("ran");
    let touch = ["--", "touch", s(&marker)];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--allow-read", "/no/such/path"],
            "/no/such/path does not exist",
        ),
        (vec!["--limit", "mem=12Q"], "is not a size"),
        (vec!["--limit", "procs=0"], "a procs limit of 0"),
        (vec!["--limit", "wall=3"], "unknown limit `wall`"),
        (vec!["--timeout", "0"], "a timeout of 0"),
        (
            vec!["--unshare", "pid,nett"],
            "unknown namespace `nett` (did you mean `net`?)",
        ),
        (vec!["--hostname", "a b"], "is not a hostname"),
    ];
    for (flags, msg) in cases {
        let mut args = vec!["run"];
        args.extend(&flags);
        args.extend(touch);
        let o = sj(&args);
        assert_eq!(code(&o), 2, "{flags:?}: {}", err(&o));
        assert!(err(&o).contains(msg), "{flags:?}: {}", err(&o));
        assert!(!marker.exists(), "{flags:?} ran the command");
    }
    // --net none with a profile's connect rule: a conflict.
    let pol = t.file("net.sj", "default allow\nnet connect 127.0.0.1:80\n");
    let o = sj(&["run", "--policy", s(&pol), "--net", "none", "--", "true"]);
    assert_eq!(code(&o), 2);
    assert!(
        err(&o).contains("conflicts with a `net connect` rule"),
        "{}",
        err(&o)
    );
    // A bad value in a profile: a diagnostic with its position.
    let pol = t.file("lim.sj", "default allow\nlimit mem 12Q\n");
    let o = sj(&["run", "--policy", s(&pol), "--", "true"]);
    assert_eq!(code(&o), 2);
    assert!(
        err(&o).contains("lim.sj:2:1: error: `12Q` is not a size"),
        "{}",
        err(&o)
    );
    // A missing path in a profile names the rule.
    let pol = t.file("fs.sj", "default allow\nfs read /no/such/dir\n");
    let o = sj(&["run", "--policy", s(&pol), "--", "true"]);
    assert_eq!(code(&o), 2);
    assert!(
        err(&o).contains("fs.sj:2: /no/such/dir does not exist"),
        "{}",
        err(&o)
    );
}

#[test]
fn fs_rules_in_a_profile_and_hostname_alone() {
    let t = TempDir::new("fsprof");
    let data = t.dir("data");
    std::fs::write(data.join("d"), "data\n").unwrap();
    let secret = t.file("secret", "SECRET\n");
    let pol = t.file(
        "p.sj",
        &format!(
            "default allow\nfs read {}\nfs exec /usr/bin, /bin\n",
            s(&data)
        ),
    );
    let o = sj(&[
        "run",
        "--policy",
        s(&pol),
        "--require-landlock",
        "--",
        "sh",
        "-c",
        &format!("cat {}/d; cat {} || echo denied", s(&data), s(&secret)),
    ]);
    assert_eq!(out(&o), "data\ndenied\n", "{}", err(&o));
    // --hostname alone brings its uts namespace (the caller's hostname is untouched).
    for who in users() {
        let o = sj_as(who, &["run", "--hostname", "inner", "--", "hostname"]);
        assert_eq!(out(&o), "inner\n", "{who:?}: {}", err(&o));
    }
}

#[test]
fn system_paths_preset_is_shown() {
    let o = sj(&["presets", "show", "system-paths"]);
    assert_eq!(code(&o), 0);
    assert!(out(&o).contains("fs read /lib"));
    let mut f = std::fs::File::create("/dev/null").unwrap();
    f.write_all(b"").unwrap();
}

/// With user namespaces disabled (inside a user namespace of the test's whose
/// `user.max_user_namespaces` is 0, as uid 65534): the program still runs, sharing the
/// host's IPC and UTS namespaces, and one warning says which isolation is missing; a
/// namespace asked for explicitly is refused before anything runs, with the reason.
#[test]
fn without_user_namespaces_the_default_isolation_warns_and_explicit_ones_are_refused() {
    if !straitjacket_testkit::is_root() {
        straitjacket_testkit::skip("disabling user namespaces for the test needs root");
        return;
    }
    let helper = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/no_userns.py");
    let sj = env!("CARGO_BIN_EXE_straitjacket");
    let run = |args: &[&str]| {
        Command::new("/usr/bin/python3")
            .arg(helper)
            .arg(sj)
            .args(args)
            .current_dir("/")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = run(&["run", "--", "sh", "-c", "echo ran"]);
    assert_eq!((code(&o), out(&o).as_str()), (0, "ran\n"), "{}", err(&o));
    assert_eq!(
        err(&o),
                "straitjacket: warning: user namespaces are disabled here (user.max_user_namespaces = 0): \
         the program shares the host's pid, ipc, uts namespaces (it can see outside processes and reach \
         the host's System V IPC objects)\n"
    );
    // Nothing is missing once the user gives the isolation up.
    let o = run(&["run", "--share", "all", "--", "true"]);
    assert_eq!(code(&o), 0);
    assert!(!err(&o).contains("disabled"), "{}", err(&o));
    // What was asked for cannot be given: refused, nothing runs.
    let o = run(&["run", "--unshare", "pid", "--", "sh", "-c", "echo ran"]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert_eq!(out(&o), "");
    assert!(
        err(&o).contains(
            "need a user namespace for an ordinary user, and user namespaces are disabled here"
        ),
        "{}",
        err(&o)
    );
}
