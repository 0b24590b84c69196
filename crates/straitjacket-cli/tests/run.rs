//! `straitjacket run` end to end, through the built binary: each test starts fresh processes.
//! Victim programs are small C files compiled at test time with the system's `cc` (static,
//! without libc where the policy allows almost nothing) and a Python script.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/cli.rs"]
mod cli;
use cli::*;

/// A static program without libc, entered at `_start` with `body`.
fn raw_program(dir: &TempDir, name: &str, body: &str) -> PathBuf {
    let src = format!(
        "{RAW}\nvoid _start(void) {{\n{body}\n    sys(60, 0, 0, 0);\n    for (;;) {{}}\n}}\n"
    );
    cc(dir, name, &src, &["-static", "-nostdlib", "-O1"])
}

#[test]
fn a_shell_pipeline_runs_under_the_default() {
    let o = sj(&["run", "--", "sh", "-c", "ls / | wc -l"]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let n: usize = out(&o).trim().parse().unwrap();
    assert!(n > 3, "{}", out(&o));
}

#[test]
fn python_runs_under_the_default() {
    let o = sj(&[
        "run",
        "--",
        "python3",
        "-c",
        "import json, os, subprocess; print(json.dumps(6*7)); print(subprocess.run(['true']).returncode)",
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), "42\n0\n");
}

#[test]
fn cc_compiles_and_the_result_runs_under_the_default() {
    let d = TempDir::new("cc");
    d.write(
        "hello.c",
        "#include <stdio.h>\nint main(void) { puts(\"compiled\"); return 3; }\n",
    );
    let o = sj_in(
        d.path(),
        &["run", "--", "cc", "-O1", "-o", "hello", "hello.c"],
    );
    assert_eq!(code(&o), 0, "{}", err(&o));
    let o = sj_in(d.path(), &["run", "--", "./hello"]);
    assert_eq!(out(&o), "compiled\n");
    assert_eq!(code(&o), 3, "{}", err(&o));
}

#[test]
fn exit_codes_pass_through() {
    // The program's own status, and nothing of straitjacket's on stderr: a 137 from the
    // program's own SIGKILL must not look like a limit or a policy kill, which say so.
    for (cmd, want) in [
        ("true", 0),
        ("exit 3", 3),
        // Death by signal N: 128 + N.
        ("kill -TERM $$", 143),
        ("kill -KILL $$", 137),
    ] {
        let o = sj(&["run", "--", "sh", "-c", cmd]);
        assert_eq!(code(&o), want, "{cmd}: {}", err(&o));
        assert_eq!(err(&o), "", "{cmd}: straitjacket said something");
        assert_eq!(out(&o), "", "{cmd}");
    }
}

#[test]
fn the_blocked_call_line_is_exact() {
    let d = TempDir::new("line");
    let exe = raw_program(
        &d,
        "opener",
        r#"    sys(1, 1, (long)"start\n", 6);
    sys(257, -100, (long)"/etc/shadow", 0);
    sys(1, 1, (long)"survived\n", 9);"#,
    );
    d.write(
        "policy.sj",
        "default allow\nkill open, openat, openat2, creat   # no files\n",
    );
    let o = sj_in(
        d.path(),
        &["run", "--policy", "policy.sj", "--", exe.to_str().unwrap()],
    );
    assert_eq!(out(&o), "start\n", "the program ran on after the kill");
    assert_eq!(
        err(&o),
        "straitjacket: blocked openat(dfd=AT_FDCWD, filename=\"/etc/shadow\", flags=O_RDONLY) — policy.sj:2: kill open, openat, openat2, creat\n"
    );
    assert_eq!(code(&o), 159);

    // The default's line.
    d.write("p2.sj", "default kill-process\nallow write, exit\n");
    let exe = raw_program(&d, "pid", "    sys(39, 0, 0, 0);");
    let o = sj_in(
        d.path(),
        &["run", "--policy", "p2.sj", "--", exe.to_str().unwrap()],
    );
    assert_eq!(
        err(&o),
        "straitjacket: blocked getpid() — p2.sj: default kill-process\n"
    );
    assert_eq!(code(&o), 159);
}

#[test]
fn strict_starts_a_static_program_and_kills_it_at_getpid() {
    let d = TempDir::new("strict");
    let exe = raw_program(
        &d,
        "strict",
        r#"    sys(1, 1, (long)"hi\n", 3);
    sys(39, 0, 0, 0);
    sys(1, 1, (long)"survived\n", 9);"#,
    );
    let o = sj(&["run", "--preset", "strict", "--", exe.to_str().unwrap()]);
    assert_eq!(out(&o), "hi\n");
    assert_eq!(
        err(&o),
        "straitjacket: blocked getpid() — strict.sj: default kill-process\n"
    );
    assert_eq!(code(&o), 159);
}

#[test]
fn an_fd_the_caller_had_open_is_not_readable_inside() {
    let d = TempDir::new("fd");
    d.write("secret", "the secret\n");
    // The calling shell holds fd 7 open (without close-on-exec) on the file.
    let script = format!("exec 7< secret; {SJ} run -- sh -c 'cat <&7'");
    let o = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(d.path())
        .output()
        .unwrap();
    assert_ne!(code(&o), 0);
    assert!(!out(&o).contains("secret"), "{}", out(&o));
    assert!(err(&o).contains("Bad file descriptor"), "{}", err(&o));
    // Unless the caller passes it on.
    let script = format!("exec 7< secret; {SJ} run --keep-fd 7 -- sh -c 'cat <&7'");
    let o = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(d.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), "the secret\n");
    // A --keep-fd that is not open is bad input.
    let o = sj(&["run", "--keep-fd", "77", "--", "true"]);
    assert_eq!(code(&o), 2);
    assert!(err(&o).contains("77"), "{}", err(&o));
}

const CALLS_PY: &str = r#"
import ctypes, os, sys, pty, termios
libc = ctypes.CDLL(None, use_errno=True)
what = sys.argv[1]
if what == "tiocsti":
    m, s = pty.openpty()
    c = ctypes.c_char(b"x")
    r = libc.ioctl(s, termios.TIOCSTI, ctypes.byref(c))
elif what == "ptrace":
    r = libc.ptrace(0, 0, 0, 0)
elif what == "mount":
    r = libc.mount(b"none", b"/nonexistent-sj", b"tmpfs", 0, None)
elif what == "unshare":
    r = libc.unshare(0x10000000)
elif what == "io_uring_setup":
    p = ctypes.create_string_buffer(120)
    r = libc.syscall(425, 1, p)
e = ctypes.get_errno()
print(what, r, os.strerror(e) if r == -1 else "ran")
"#;

#[test]
fn dangerous_calls_are_blocked_under_the_default() {
    let d = TempDir::new("calls");
    let py = d.write("calls.py", CALLS_PY);
    let py = py.to_str().unwrap();
    for (what, want) in [
        ("tiocsti", "Operation not permitted"),
        ("ptrace", "Operation not permitted"),
        ("mount", "Operation not permitted"),
        ("unshare", "Operation not permitted"),
        ("io_uring_setup", "Function not implemented"),
    ] {
        let o = sj(&["run", "--", "python3", py, what]);
        assert_eq!(code(&o), 0, "{what}: {}", err(&o));
        assert_eq!(out(&o), format!("{what} -1 {want}\n"));
    }
    // The TIOCSTI probe does detect the call: with everything allowed it runs.
    let allow = d.write("allow.sj", "default allow\n");
    let o = sj(&[
        "run",
        "--policy",
        allow.to_str().unwrap(),
        "--",
        "python3",
        py,
        "tiocsti",
    ]);
    if !users::is_root() {
        // In its own session the terminal is not the program's controlling one, and the
        // kernel refuses TIOCSTI on another terminal without CAP_SYS_ADMIN (tiocsti()).
        assert_eq!(
            out(&o),
            "tiocsti -1 Operation not permitted\n",
            "{}",
            err(&o)
        );
        straitjacket_testkit::note(
            "an ordinary user's TIOCSTI on a terminal not its own is refused by the kernel itself",
        );
    } else {
        assert_eq!(out(&o), "tiocsti 0 ran\n", "{}", err(&o));
    }
}

#[test]
fn an_i386_call_is_killed_under_the_default() {
    let d = TempDir::new("i386");
    let exe = cc(
        &d,
        "i386",
        r#"#include <stdio.h>
int main(void) {
    long r;
    puts("before");
    fflush(stdout);
    __asm__ volatile ("int $0x80" : "=a"(r) : "a"(20) : "memory");
    printf("after %ld\n", r);
    return 0;
}
"#,
        &["-O1"],
    );
    let o = sj(&["run", "--", exe.to_str().unwrap()]);
    assert_eq!(out(&o), "before\n");
    assert_eq!(code(&o), 159, "{}", err(&o));
}

#[test]
fn report_lists_errno_denials_once_then_counts() {
    let d = TempDir::new("report");
    let py = d.write("calls.py", CALLS_PY);
    let o = sj(&[
        "run",
        "--report",
        "--",
        "python3",
        py.to_str().unwrap(),
        "ptrace",
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains("straitjacket: denied ptrace(request=PTRACE_TRACEME, pid=0, addr=0, data=0) — default.sj:"),
        "{e}"
    );
    assert!(
        e.ends_with("straitjacket: 1 call denied (1 shown)\n"),
        "{e}"
    );

    // The default's errno, by name; the same call and rule reported once, counted twice.
    let o = sj(&[
        "run",
        "--report",
        "--",
        "python3",
        "-c",
        "import ctypes; l = ctypes.CDLL(None); l.syscall(212); l.syscall(212)",
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(
        err(&o),
        "straitjacket: denied lookup_dcookie() — default.sj: default errno(EPERM)\nstraitjacket: 2 calls denied (1 shown)\n"
    );
}

#[test]
fn environment_and_directory() {
    let o = sj(&[
        "run",
        "--env-clear",
        "--env",
        "FOO=bar",
        "--cwd",
        "/tmp",
        "--",
        "/bin/sh",
        "-c",
        "echo $FOO; pwd",
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), "bar\n/tmp\n");
    let o = sj(&["run", "--env", "NOEQUALS", "--", "true"]);
    assert_eq!(code(&o), 2);
    let o = sj(&["run", "--cwd", "/nonexistent-sj", "--", "true"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn leftover_descendants_are_killed() {
    let start = Instant::now();
    // The background sleep holds stdout open: output() only returns once it is gone.
    let o = sj(&["run", "--", "sh", "-c", "sleep 100 & echo started"]);
    assert_eq!(out(&o), "started\n");
    assert_eq!(code(&o), 0);
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn sigterm_is_forwarded() {
    let mut child = Command::new(SJ)
        .args(["run", "--", "sleep", "30"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let k = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(k.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
}

#[test]
fn bad_input_runs_nothing() {
    let d = TempDir::new("bad");
    let marker = d.path().join("marker");
    let touch = ["touch", marker.to_str().unwrap()];

    let o = sj(&[&["run", "--preset", "strcit", "--"][..], &touch].concat());
    assert_eq!(code(&o), 2);
    assert!(
        err(&o).contains("unknown preset `strcit` (did you mean `strict`?)"),
        "{}",
        err(&o)
    );

    let o = sj(&[&["run", "--policy", "/nonexistent/p.sj", "--"][..], &touch].concat());
    assert_eq!(code(&o), 2);
    assert!(
        err(&o).contains("/nonexistent/p.sj: no such file"),
        "{}",
        err(&o)
    );

    let bad = d.write("bad.sj", "default kill-process\nallow reed\n");
    let o = sj(&[
        &["run", "--policy", bad.to_str().unwrap(), "--"][..],
        &touch,
    ]
    .concat());
    assert_eq!(code(&o), 2);
    assert!(err(&o).contains("bad.sj:2:7: error"), "{}", err(&o));
    assert!(err(&o).contains("policy rejected"), "{}", err(&o));

    assert!(!marker.exists(), "a command ran despite bad input");

    let o = sj(&["run", "--", "no-such-command-sj"]);
    assert_eq!(code(&o), 127);
    assert_eq!(
        err(&o),
        "straitjacket: no-such-command-sj: command not found (nothing was run)\n"
    );

    let text = d.write("text", "not a program\n");
    let o = sj(&["run", "--", text.to_str().unwrap()]);
    assert_eq!(code(&o), 126);
    assert!(err(&o).contains("permission denied"), "{}", err(&o));
}

#[test]
fn a_kill_in_another_thread_kills_the_whole_program() {
    let d = TempDir::new("thread");
    let p = d.write("p.sj", "default allow\nkill getppid\n");
    let o = sj(&[
        "run",
        "--policy",
        p.to_str().unwrap(),
        "--",
        "python3",
        "-c",
        "import os, threading, time\nt = threading.Thread(target=os.getppid)\nt.start()\ntime.sleep(5)\nprint('survived')",
    ]);
    assert_eq!(out(&o), "");
    assert!(
        err(&o).ends_with(&format!(
            "straitjacket: blocked getppid() — {}:2: kill getppid\n",
            p.display()
        )),
        "{}",
        err(&o)
    );
    assert_eq!(code(&o), 159);
}

#[test]
fn a_notify_rule_is_decided_by_the_supervisor_and_logged() {
    let d = TempDir::new("notify");
    // getppid has no pointer: the supervisor lets the kernel run it (CONTINUE) and logs it.
    let exe = raw_program(
        &d,
        "ppid",
        r#"    if (sys(110, 0, 0, 0) > 0) sys(1, 1, (long)"ran\n", 4);"#,
    );
    d.write("p.sj", "default allow\nnotify getppid, openat\n");
    let o = sj_in(
        d.path(),
        &[
            "run",
            "--policy",
            "p.sj",
            "--log",
            "log.jsonl",
            "--",
            exe.to_str().unwrap(),
        ],
    );
    assert_eq!(out(&o), "ran\n", "{}", err(&o));
    assert_eq!(code(&o), 0);
    let log = std::fs::read_to_string(d.path().join("log.jsonl")).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("\"getppid\""))
        .expect("a line for getppid");
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["decision"], "allowed");
    assert_eq!(v["rule"], "p.sj:2: notify getppid, openat");
    assert!(v["pid"].as_i64().unwrap() > 0 && v["tid"] == v["pid"]);
    // openat reads a path: the supervisor opens the file itself (no fs rules: any file).
    let o = sj_in(
        d.path(),
        &[
            "run",
            "--policy",
            "p.sj",
            "--log",
            "log2.jsonl",
            "--",
            "cat",
            "p.sj",
        ],
    );
    assert_eq!(
        out(&o),
        "default allow\nnotify getppid, openat\n",
        "{}",
        err(&o)
    );
    let log = std::fs::read_to_string(d.path().join("log2.jsonl")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains(r#""paths":["p.sj"]"#) && l.contains(r#""decision":"performed""#)),
        "{log}"
    );
}

#[test]
fn a_new_session_unless_tty() {
    // Field 6 of /proc/PID/stat is the session id.
    let script = "set -- $(cat /proc/$$/stat); echo $$ $6";
    let o = sj(&["run", "--", "sh", "-c", script]);
    let v: Vec<String> = out(&o).split_whitespace().map(String::from).collect();
    assert_eq!(v.len(), 2, "{}", out(&o));
    // sh is the program itself (exec'd), so it leads its own session.
    assert_eq!(v[0], v[1], "not a session leader: {}", out(&o));
    let o = sj(&["run", "--tty", "--", "sh", "-c", script]);
    let v: Vec<String> = out(&o).split_whitespace().map(String::from).collect();
    assert_ne!(v[0], v[1], "--tty should keep the caller's session");
}

#[test]
fn the_program_dies_with_straitjacket() {
    let mut child = Command::new(SJ)
        .args(["run", "--", "sh", "-c", "echo $$; exec sleep 100"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // `$$` is the program's pid in its own pid namespace; the host's pids of everything
    // below straitjacket are what must end.
    assert!(line.trim().parse::<i32>().is_ok(), "{line}");
    let tree = descendants(child.id() as i32);
    assert!(!tree.is_empty(), "no process below straitjacket");
    child.kill().unwrap();
    child.wait().unwrap();
    for pid in tree {
        gone_soon(pid);
    }
}

/// Every process below `pid`, by /proc/PID/task/TID/children.
fn descendants(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let path = t.path().join("children");
            for c in std::fs::read_to_string(path)
                .unwrap_or_default()
                .split_whitespace()
            {
                if let Ok(c) = c.parse() {
                    out.push(c);
                    todo.push(c);
                }
            }
        }
    }
    out
}

/// Waits (10 s at most) until `pid` has ended (a zombie counts as ended).
fn gone_soon(pid: i32) {
    let stat = format!("/proc/{pid}/stat");
    let start = Instant::now();
    loop {
        match std::fs::read_to_string(&stat) {
            Err(_) => break,
            // A zombie waiting for init to reap it is dead too.
            Ok(s)
                if s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z') =>
            {
                break
            }
            Ok(_) => {}
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the program outlived straitjacket"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_file_that_is_not_a_program_is_126() {
    let d = TempDir::new("noexec");
    let f = d.write("garbage", "\x01\x02\x03 not a program\n");
    let o = Command::new("chmod").arg("755").arg(&f).status().unwrap();
    assert!(o.success());
    let o = sj(&["run", "--", f.to_str().unwrap()]);
    assert_eq!(code(&o), 126, "{}", err(&o));
    assert!(err(&o).contains("not an executable format"), "{}", err(&o));
}

#[path = "support/users.rs"]
mod users;

/// The programs the README promises run under the default preset and the default isolation
/// (own pid, IPC and UTS namespaces), each doing real work, as root and as uid 65534.
#[test]
fn ordinary_programs_run_under_the_default_isolation() {
    use std::os::unix::fs::PermissionsExt;
    let d = TempDir::new("ordinary");
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    d.write(
        "hello.c",
        "#include <stdio.h>\nint main(void) { puts(\"hello\"); }\n",
    );
    d.write("Makefile", "all:\n\t@echo made\n");
    d.write("served", "over http\n");
    // A web server outside the sandbox, on loopback, for curl.
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let serving = std::thread::spawn(move || {
        for stream in server.incoming().take(2) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 1024];
            let _ = std::io::Read::read(&mut s, &mut buf);
            let _ = std::io::Write::write_all(
                &mut s,
                b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nover http\n",
            );
        }
    });
    let url = format!("http://127.0.0.1:{port}/served");
    let cases: Vec<(&str, Vec<&str>, String)> = vec![
        ("sh", vec!["sh", "-c", "echo a | tr a b; echo $$"], "b\n2\n".into()),
        ("python3", vec![python3(), "-c", "print(6 * 7)"], "42\n".into()),
        ("perl", vec!["perl", "-e", "print 6 * 7, qq(\\n)"], "42\n".into()),
        (
            "gcc",
            vec!["sh", "-c", "gcc -o hello-$(id -u) hello.c && ./hello-$(id -u)"],
            "hello\n".into(),
        ),
        ("make", vec!["make", "-s"], "made\n".into()),
        (
            "tar",
            vec!["sh", "-c", "tar cf t-$(id -u).tar served && tar tf t-$(id -u).tar"],
            "served\n".into(),
        ),
        (
            "git",
            vec![
                "sh",
                "-c",
                "export HOME=$PWD; r=repo-$(id -u); git init -q $r && cd $r && echo x > f && git add f \
                 && git -c user.email=a@b -c user.name=n commit -q -m first && git log --format=%s",
            ],
            "first\n".into(),
        ),
        ("curl", vec!["curl", "-sS", &url], "over http\n".into()),
    ];
    for who in users::users() {
        for (name, prog, want) in &cases {
            if *name == "curl" && who == users::As::Nobody {
                continue; // the server answers twice: once per user is enough below
            }
            let mut args = vec!["run", "--"];
            args.extend(prog.iter().copied());
            let o = users::sj_command(who, &args)
                .current_dir(d.path())
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert_eq!(
                (code(&o), out(&o).as_str()),
                (0, want.as_str()),
                "{name} as {who:?}: {}",
                err(&o)
            );
            assert_eq!(err(&o), "", "{name} as {who:?}");
        }
    }
    // curl once more as the ordinary user, then the server is done.
    let o = users::sj_command(users::As::Nobody, &["run", "--", "curl", "-sS", &url])
        .current_dir(d.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    if users::is_root() {
        assert_eq!(out(&o), "over http\n", "curl as nobody: {}", err(&o));
    }
    drop(o);
    let _ = std::net::TcpStream::connect(("127.0.0.1", port));
    serving.join().unwrap();
}
