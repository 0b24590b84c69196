//! The supervisor's round trip: `openat(O_RDONLY)` + `close` of one allowed file,
//! timed by a small C program (`clock_gettime` around N calls), run in one go:
//! - bare (no straitjacket);
//! - `straitjacket run --allow-read DIR`: the supervisor opens the file and injects the fd;
//! - `straitjacket run --fs-landlock-only --allow-read DIR`: Landlock alone, in the kernel;
//! - `strace -f -o /dev/null` (ptrace: two stops per call), for scale;
//! - and getppid under plain `run` (the filter only, no supervisor) against bare.
//!
//! `cargo bench -p straitjacket-cli --bench supervisor`. Each figure is the best of five runs;
//! ratios are to bare in the same run.

use std::path::{Path, PathBuf};
use std::process::Command;

const SJ: &str = env!("CARGO_BIN_EXE_straitjacket");
const RUNS: usize = 5;

const PROGRAM: &str = r#"
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* open PATH N: N openat(O_RDONLY)+close; getppid N: N getppid. Prints ns per call. */
int main(int argc, char **argv) {
    if (argc != 4) return 2;
    long n = atol(argv[3]);
    double t0 = now();
    if (strcmp(argv[1], "open") == 0) {
        for (long i = 0; i < n; i++) {
            int fd = openat(AT_FDCWD, argv[2], O_RDONLY);
            if (fd < 0) { perror("openat"); return 1; }
            close(fd);
        }
    } else {
        for (long i = 0; i < n; i++) syscall(SYS_getppid);
    }
    printf("%.1f\n", (now() - t0) / n);
    return 0;
}
"#;

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// ns per call: the best of [`RUNS`] runs of `prefix… PROGRAM ARGS…`.
fn best(prefix: &[&str], exe: &Path, args: &[&str]) -> f64 {
    (0..RUNS)
        .map(|_| {
            let mut c = Command::new(prefix.first().copied().unwrap_or(exe.to_str().unwrap()));
            if !prefix.is_empty() {
                c.args(&prefix[1..]).arg(exe);
            }
            let o = c.args(args).output().expect("run the benchmark program");
            let out = String::from_utf8_lossy(&o.stdout);
            assert!(
                o.status.success(),
                "{prefix:?} {args:?}: {:?}\n{out}{}",
                o.status,
                String::from_utf8_lossy(&o.stderr)
            );
            out.trim().parse::<f64>().expect("ns per call")
        })
        .fold(f64::INFINITY, f64::min)
}

fn have_strace() -> bool {
    Command::new("strace").arg("-V").output().is_ok()
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let dir = Scratch(std::env::temp_dir().join(format!("sj-bench-sup-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    let src = dir.0.join("roundtrip.c");
    std::fs::write(&src, PROGRAM).unwrap();
    let exe = dir.0.join("roundtrip");
    let o = Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("cc");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let file = dir.0.join("file");
    std::fs::write(&file, "x").unwrap();
    let (d, f) = (dir.0.to_str().unwrap(), file.to_str().unwrap());

    let open = |n: &'static str| ["open", f, n];
    let supervised = ["run", "--allow-read", d, "--"];
    let landlock = ["run", "--fs-landlock-only", "--allow-read", d, "--"];
    let mut rows: Vec<(&str, f64)> = Vec::new();
    rows.push(("bare", best(&[], &exe, &open("200000"))));
    rows.push((
        "supervised (`run --allow-read DIR`)",
        best(&[&[SJ][..], &supervised].concat(), &exe, &open("20000")),
    ));
    rows.push((
        "Landlock only (`run --fs-landlock-only --allow-read DIR`)",
        best(&[&[SJ][..], &landlock].concat(), &exe, &open("200000")),
    ));
    if have_strace() {
        rows.push((
            "ptrace (`strace -f -o /dev/null`)",
            best(&["strace", "-f", "-o", "/dev/null"], &exe, &open("20000")),
        ));
    } else {
        println!("skipping strace: not installed (apt-get install -y strace)");
    }
    println!("openat(O_RDONLY) + close of one allowed file, best of {RUNS}:");
    println!("| run | µs per call | ratio to bare |");
    println!("|---|---|---|");
    let bare = rows[0].1;
    for (what, ns) in &rows {
        println!("| {what} | {:.2} | {:.1}× |", ns / 1000.0, ns / bare);
    }

    let ppid = ["getppid", "-", "1000000"];
    let bare = best(&[], &exe, &ppid);
    let filtered = best(&[SJ, "run", "--"], &exe, &ppid);
    println!();
    println!("getppid, best of {RUNS}:");
    println!("| run | ns per call | ratio to bare |");
    println!("|---|---|---|");
    println!("| bare | {bare:.1} | 1.00× |");
    println!(
        "| `run` (the default preset's filter, no supervisor) | {filtered:.1} | {:.2}× |",
        filtered / bare
    );
}
