//! `straitjacket learn` end to end, through the built binary: a program is learned, then run
//! under the learned policy with `straitjacket run --policy`, which must give the same result
//! and kill what the program never did. Each test starts fresh processes (the binary is a
//! child), so every kernel-facing step happens outside the test harness.

use std::path::Path;
use std::process::Output;

#[path = "support/cli.rs"]
mod cli;
use cli::*;

const PY_JSON: &str = r#"import json; print(json.dumps({"a": 1}))"#;
const PY_SOCKET: &str =
    r#"import json; print(json.dumps({"a": 1})); import socket; socket.socket()"#;
const PY_THREADS: &str = r#"import threading
out = []
ts = [threading.Thread(target=out.append, args=(i,)) for i in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print(sorted(out))"#;

/// Learns `cmd` in `dir` with `flags`, writing `policy.sj` there; the learn run's output.
fn learn(dir: &TempDir, flags: &[&str], cmd: &[&str]) -> Output {
    let mut args = vec!["learn"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["-o", "policy.sj", "--"]);
    args.extend_from_slice(cmd);
    let o = sj_in(dir.path(), &args);
    assert!(
        dir.path().join("policy.sj").exists(),
        "no policy written: {}",
        err(&o)
    );
    o
}

fn policy(dir: &TempDir) -> String {
    std::fs::read_to_string(dir.path().join("policy.sj")).unwrap()
}

/// Runs `cmd` in `dir` under the learned policy.
fn run_learned(dir: &TempDir, cmd: &[&str]) -> Output {
    let mut args = vec!["run", "--policy", "policy.sj", "--"];
    args.extend_from_slice(cmd);
    sj_in(dir.path(), &args)
}

/// `straitjacket check` accepts the policy without a warning.
fn check_clean(dir: &TempDir) {
    let o = sj_in(dir.path(), &["check", "--deny-warnings", "policy.sj"]);
    assert_eq!(code(&o), 0, "{}{}\n{}", out(&o), err(&o), policy(dir));
}

/// Learns `cmd`, checks the policy, runs `cmd` again under it: the same output and status.
fn learn_then_run(dir: &TempDir, flags: &[&str], cmd: &[&str]) -> String {
    let first = learn(dir, flags, cmd);
    assert_eq!(code(&first), 0, "{}", err(&first));
    check_clean(dir);
    let again = run_learned(dir, cmd);
    assert_eq!(code(&again), 0, "{}\n{}", err(&again), policy(dir));
    assert_eq!(out(&again), out(&first));
    out(&first)
}

fn killed(o: &Output) -> bool {
    code(o) == 159 && err(o).contains("straitjacket: blocked ")
}

fn rule_lines<'a>(p: &'a str, prefix: &str) -> Vec<&'a str> {
    p.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[test]
fn a_shell_pipeline_is_learned_and_runs_again() {
    let d = TempDir::new("learn-pipe");
    let cmd = ["sh", "-c", "ls /usr | sort | head"];
    let shown = learn_then_run(&d, &[], &cmd);
    assert!(shown.lines().count() > 2, "{shown}");
    let p = policy(&d);
    assert!(p.contains("default kill-process\narch "), "{p}");
    // The children's calls: ls, sort and head run in forked and exec'd processes.
    assert!(p.contains("\nallow execve "), "{p}");
    assert!(p.contains("\nallow getdents64 "), "ls lists /usr: {p}");
    // A call it never made is killed.
    let o = run_learned(&d, &[python3(), "-c", PY_SOCKET]);
    assert!(killed(&o), "{}: {}", code(&o), err(&o));
}

#[test]
fn python_is_learned_with_args_and_a_socket_is_then_killed() {
    let d = TempDir::new("learn-py");
    let shown = learn_then_run(&d, &["--args"], &[python3(), "-c", PY_JSON]);
    assert_eq!(shown, "{\"a\": 1}\n");
    let p = policy(&d);
    assert!(!p.contains("allow socket"), "{p}");
    let o = run_learned(&d, &[python3(), "-c", PY_SOCKET]);
    assert!(killed(&o), "{}: {}", code(&o), err(&o));
}

#[test]
fn tar_is_learned_with_paths_and_runs_again() {
    let d = TempDir::new("learn-tar");
    std::fs::create_dir(d.path().join("data")).unwrap();
    for i in 0..5 {
        d.write(
            &format!("data/f{i}.txt"),
            &format!("file {i}\n").repeat(100),
        );
    }
    let cmd = ["tar", "czf", "out.tgz", "data"];
    learn_then_run(&d, &["--args", "--paths"], &cmd);
    let list = sj_in(d.path(), &["run", "--", "tar", "tzf", "out.tgz"]);
    assert_eq!(code(&list), 0, "{}", err(&list));
    assert_eq!(out(&list).lines().count(), 6, "{}", out(&list));
    // Again from scratch: the archive is created under the fs rules.
    std::fs::remove_file(d.path().join("out.tgz")).unwrap();
    let o = run_learned(&d, &cmd);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(d.path().join("out.tgz").exists());

    let p = policy(&d);
    let dir = std::fs::canonicalize(d.path()).unwrap();
    let dir = dir.display();
    assert!(p.contains(&format!("\nfs write {dir}\n")), "{p}");
    // Reading data/ needs no rule of its own: write beneath the directory grants read.
    assert!(!p.contains(&format!("\nfs read {dir}/data")), "{p}");
    // tar runs gzip: a fork and an exec, whose binary gets an exec rule.
    let gzip =
        std::fs::canonicalize("/usr/bin/gzip").or_else(|_| std::fs::canonicalize("/bin/gzip"));
    if let Ok(g) = gzip {
        assert!(p.contains(&format!("\nfs exec {}\n", g.display())), "{p}");
    }
    let o = run_learned(&d, &[python3(), "-c", PY_SOCKET]);
    assert!(killed(&o), "{}: {}", code(&o), err(&o));
}

#[test]
fn args_pin_write_fds_and_open_modes() {
    let d = TempDir::new("learn-args");
    let cmd = ["sh", "-c", "cat /etc/hostname /no-such-file; true"];
    let first = learn(&d, &["--args"], &cmd);
    check_clean(&d);
    assert_eq!(code(&run_learned(&d, &cmd)), 0);
    assert!(err(&first).contains("no-such-file"), "{}", err(&first));
    let p = policy(&d);
    let write = rule_lines(&p, "allow write ");
    assert_eq!(write.len(), 1, "{p}");
    assert!(
        write[0].starts_with("allow write if fd == 1 || fd == 2 "),
        "{p}"
    );
    let openat = rule_lines(&p, "allow openat ");
    assert!(
        openat[0].starts_with(
            "allow openat if (flags & O_ACCMODE) == O_RDONLY && !(flags & O_CREAT) && !(flags & O_TRUNC) "
        ),
        "{p}"
    );

    // The same program writing to another fd is killed at that write.
    let d = TempDir::new("learn-args-fd");
    let dup = "import os; d = os.dup(1); os.write(";
    let learned = format!("{dup}1, b'x\\n')");
    let other = format!("{dup}d, b'x\\n')");
    assert_eq!(
        learn_then_run(&d, &["--args"], &[python3(), "-c", &learned]),
        "x\n"
    );
    let o = run_learned(&d, &[python3(), "-c", &other]);
    assert!(killed(&o), "{}: {}", code(&o), err(&o));
    assert!(err(&o).contains("blocked write(fd=3"), "{}", err(&o));
}

#[test]
fn threads_are_followed() {
    let d = TempDir::new("learn-threads");
    let shown = learn_then_run(&d, &["--args"], &[python3(), "-c", PY_THREADS]);
    assert_eq!(shown, "[0, 1, 2, 3]\n");
    let p = policy(&d);
    assert!(
        p.contains("CLONE_THREAD"),
        "thread flags pinned on clone: {p}"
    );

    // A thread's own call: only the thread makes umask.
    let src = r#"
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
static void *body(void *arg) { umask(022); return arg; }
int main(void) {
    pthread_t t;
    if (pthread_create(&t, 0, body, 0) != 0) return 1;
    pthread_join(t, 0);
    puts("joined");
    return 0;
}
"#;
    let exe = cc(&d, "threads", src, &["-O1", "-pthread"]);
    let exe = exe.to_str().unwrap();
    assert_eq!(learn_then_run(&d, &[], &[exe]), "joined\n");
    assert!(policy(&d).contains("\nallow umask "), "{}", policy(&d));
    assert_eq!(learn_then_run(&d, &["--args"], &[exe]), "joined\n");
}

#[test]
fn a_forked_and_exec_d_child_is_followed() {
    let d = TempDir::new("learn-fork");
    learn_then_run(&d, &[], &["sh", "-c", "cat /etc/hostname; true"]);
    let p = policy(&d);
    // cat's own call, made after sh forked and the child exec'd cat.
    assert!(p.contains("\nallow fadvise64 "), "{p}");
    assert!(p.contains("\nallow execve "), "{p}");
}

#[test]
fn append_widens_a_learned_policy() {
    let d = TempDir::new("learn-append");
    let pipe = ["sh", "-c", "ls /usr | sort | head"];
    learn(&d, &["--args"], &pipe);
    let o = run_learned(&d, &[python3(), "-c", PY_JSON]);
    assert!(killed(&o), "python was never learned: {}", err(&o));
    let o = sj_in(
        d.path(),
        &[
            "learn",
            "--args",
            "--append",
            "policy.sj",
            "--",
            python3(),
            "-c",
            PY_JSON,
        ],
    );
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), "{\"a\": 1}\n", "the policy went to the file");
    check_clean(&d);
    let p = policy(&d);
    assert!(p.contains("from 2 runs:\n"), "{p}");
    for cmd in [&pipe[..], &[python3(), "-c", PY_JSON][..]] {
        let o = run_learned(&d, cmd);
        assert_eq!(code(&o), 0, "{cmd:?}: {}\n{p}", err(&o));
    }
    let o = run_learned(&d, &[python3(), "-c", PY_SOCKET]);
    assert!(killed(&o), "{}", err(&o));
    // Counts add up: the block of the merged file says what both runs saw.
    let runs = |p: &str| -> u64 {
        p.lines()
            .find_map(|l| l.strip_prefix("# learned: call close "))
            .and_then(|r| r.split(' ').next()?.parse().ok())
            .unwrap()
    };
    let d2 = TempDir::new("learn-append-2");
    learn(&d2, &["--args"], &pipe);
    assert!(runs(&p) > runs(&policy(&d2)), "{p}");
}

#[test]
fn summary_shows_groups_counts_and_paths() {
    let d = TempDir::new("learn-summary");
    let o = sj_in(
        d.path(),
        &[
            "learn",
            "--summary",
            "--",
            "sh",
            "-c",
            "cat /etc/hostname >/dev/null",
        ],
    );
    assert_eq!(code(&o), 0, "{}", err(&o));
    let s = out(&o);
    assert!(
        !s.contains("default kill-process"),
        "summary instead of the policy: {s}"
    );
    assert!(s.contains(" system calls, "), "{s}");
    assert!(s.contains("\n  @default ("), "{s}");
    assert!(s.contains("\n    openat "), "{s}");
    assert!(s.contains(" paths:\n"), "{s}");
    let host = std::fs::canonicalize("/etc/hostname").unwrap();
    assert!(s.contains(&format!("  r---  {}\n", host.display())), "{s}");
}

#[test]
fn the_programs_exit_status_is_learns() {
    let d = TempDir::new("learn-status");
    let o = learn(&d, &[], &["sh", "-c", "echo out; exit 7"]);
    assert_eq!(code(&o), 7, "{}", err(&o));
    assert_eq!(out(&o), "out\n");
    assert!(policy(&d).contains("allow exit_group"));
    let o = sj_in(d.path(), &["learn", "--", "no-such-command-xyz"]);
    assert_eq!(code(&o), 127, "{}", err(&o));
    let o = sj_in(d.path(), &["learn", "--append", "missing.sj", "--", "true"]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    let not_learned = d.write("plain.sj", "default allow\n");
    let o = sj_in(
        Path::new("/"),
        &[
            "learn",
            "--append",
            not_learned.to_str().unwrap(),
            "--",
            "true",
        ],
    );
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(
        err(&o).contains("no `straitjacket learn` block"),
        "{}",
        err(&o)
    );
}
