//! `straitjacket strict` end to end: the example guests (built here with rustc for the host
//! target, static and without libc, as tools/build-guests.sh does), forbidden calls, limits,
//! the monitor, and bad guests refused before they run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const SJ: &str = env!("CARGO_BIN_EXE_straitjacket");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rustc(args: &[&str]) {
    let out = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args([
            "--edition",
            "2021",
            "-C",
            "panic=abort",
            "-C",
            "opt-level=3",
        ])
        .args(["-C", "debuginfo=0", "-C", "strip=debuginfo"])
        .args(args)
        .output()
        .expect("run rustc");
    assert!(
        out.status.success(),
        "rustc {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the SDK and the guests once per test run; returns their directory.
fn guests() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("strict-guests");
        std::fs::create_dir_all(&dir).unwrap();
        let sdk = workspace().join("crates/straitjacket-guest");
        let d = dir.to_str().unwrap();
        rustc(&[
            "--crate-type",
            "rlib",
            "--crate-name",
            "straitjacket_guest",
            "--cfg",
            "feature=\"runtime\"",
            sdk.join("src/lib.rs").to_str().unwrap(),
            "--out-dir",
            d,
        ]);
        let rlib = format!("straitjacket_guest={d}/libstraitjacket_guest.rlib");
        for g in ["wc", "sha256sum", "readfile", "probe"] {
            rustc(&[
                "--crate-type",
                "bin",
                "-C",
                "relocation-model=static",
                "-C",
                "link-arg=-nostartfiles",
                "-C",
                "link-arg=-nostdlib",
                "-C",
                "link-arg=-static",
                "--extern",
                &rlib,
                sdk.join(format!("guests/{g}.rs")).to_str().unwrap(),
                "-o",
                &format!("{d}/{g}"),
            ]);
        }
        // The same probe as a static PIE: placed at straitjacket's base, relocated by the
        // SDK's `_start`.
        rustc(&[
            "--crate-type",
            "bin",
            "-C",
            "target-feature=+crt-static",
            "-C",
            "link-arg=-nostartfiles",
            "-C",
            "link-arg=-nostdlib",
            "--extern",
            &rlib,
            sdk.join("guests/probe.rs").to_str().unwrap(),
            "-o",
            &format!("{d}/probe-pie"),
        ]);
        dir
    })
}

fn guest(name: &str) -> PathBuf {
    guests().join(name)
}

fn strict(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(SJ)
        .arg("strict")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A fresh directory of its own for each call: tests run in parallel, and two that shared
/// one (the monitor's fixture did) removed each other's files.
fn tmpdir(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{n}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Pseudo-random bytes (xorshift), reproducible.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn wc_matches_wc() {
    let mut input = Vec::new();
    for (i, w) in noise(20000, 7).chunks(7).enumerate() {
        input.extend(w.iter().map(|b| b'a' + b % 26));
        input.push(match i % 5 {
            0 => b'\n',
            1 => b'\t',
            _ => b' ',
        });
    }
    let out = strict(&[p(&guest("wc"))], &input);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut wc = Command::new("wc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wc.stdin.take().unwrap().write_all(&input).unwrap();
    let expected = wc.wait_with_output().unwrap();
    let nums = |s: &[u8]| -> Vec<u64> {
        text(s)
            .split_whitespace()
            .map(|w| w.parse().unwrap())
            .collect()
    };
    assert_eq!(nums(&out.stdout), nums(&expected.stdout));
    assert_eq!(text(&out.stdout), text(&expected.stdout));
}

#[test]
fn sha256_matches_sha256sum() {
    let input = noise(3 << 20, 11);
    let out = strict(&[p(&guest("sha256sum"))], &input);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut s = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = s.stdin.take().unwrap();
    let data = input.clone();
    let w = std::thread::spawn(move || stdin.write_all(&data).unwrap());
    let expected = s.wait_with_output().unwrap();
    w.join().unwrap();
    assert_eq!(text(&out.stdout), text(&expected.stdout));
}

#[test]
fn stdin_stdout_files_and_arguments() {
    let d = tmpdir("strict-files");
    std::fs::write(d.join("in"), b"one two\nthree\n").unwrap();
    let out = strict(
        &[
            "--stdin",
            p(&d.join("in")),
            "--stdout",
            p(&d.join("out")),
            p(&guest("wc")),
        ],
        b"ignored",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(d.join("out")).unwrap(),
        "      2       3      14\n"
    );
    let out = strict(&[p(&guest("probe")), "args", "-x", "two words"], b"");
    assert_eq!(
        text(&out.stdout),
        format!("{}\nargs\n-x\ntwo words\n", guest("probe").display())
    );
}

#[test]
fn extra_fds_and_nothing_else() {
    let d = tmpdir("strict-fds");
    std::fs::write(d.join("five"), b"on fd five\n").unwrap();
    let probe = guest("probe");
    let five = format!("5={}", d.join("five").display());
    let out = strict(&["--fd", &five, p(&probe), "cat", "5"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "on fd five\n");
    // fd 4 was not given: EBADF (9).
    let out = strict(&["--fd", &five, p(&probe), "cat", "4"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("error 9"),
        "{}",
        text(&out.stderr)
    );
    // Read-only unless :rw.
    let rw = format!("6={}:rw", d.join("six").display());
    let out = strict(&["--fd", &rw, p(&probe), "cat", "6"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(d.join("six").exists());
    let out = strict(&["--fd", "x=y", p(&probe), "exit", "0"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected N=FILE"));
}

#[test]
fn exit_codes_and_panics_pass_through() {
    let out = strict(&[p(&guest("probe")), "exit", "42"], b"");
    assert_eq!(out.status.code(), Some(42));
    assert_eq!(text(&out.stderr), "");
    let out = strict(&[p(&guest("probe")), "panic"], b"");
    assert_eq!(out.status.code(), Some(101));
    assert!(text(&out.stderr).starts_with("guest panicked: on purpose"));
}

#[test]
fn forbidden_calls_are_killed_and_reported() {
    for call in ["open", "getpid", "exit_group", "mmap"] {
        let out = strict(&[p(&guest("probe")), call], b"");
        assert_eq!(out.status.code(), Some(159), "{call}");
        assert_eq!(
            text(&out.stderr),
            "straitjacket: guest killed: forbidden system call in strict mode\n",
            "{call}"
        );
        assert_eq!(text(&out.stdout), "", "{call}");
    }
}

#[test]
fn a_looping_guest_is_stopped_by_cpu_limit_and_by_timeout() {
    let out = strict(&["--limit", "cpu=1", p(&guest("probe")), "loop"], b"");
    assert_eq!(out.status.code(), Some(152));
    assert_eq!(
        text(&out.stderr),
        "straitjacket: guest killed: cpu limit 1s reached\n"
    );
    let start = std::time::Instant::now();
    let out = strict(&["--timeout", "0.3", p(&guest("probe")), "loop"], b"");
    assert_eq!(out.status.code(), Some(124));
    assert_eq!(
        text(&out.stderr),
        "straitjacket: guest killed: timeout 300ms reached\n"
    );
    assert!(start.elapsed().as_secs_f64() < 5.0);
    // The same syntax as `run --timeout`.
    let out = strict(&["--timeout", "300ms", p(&guest("probe")), "loop"], b"");
    assert_eq!(out.status.code(), Some(124));
    assert_eq!(
        text(&out.stderr),
        "straitjacket: guest killed: timeout 300ms reached\n"
    );
}

/// The guest cannot read straitjacket's memory: everything but its own mappings is gone.
/// With address randomization off (`setarch -R`), straitjacket's executable starts at
/// 0x555555554000 and its stack ends at 0x7ffffffff000; both must be unmapped.
#[test]
fn straitjacket_memory_is_not_readable_by_the_guest() {
    let probe = guest("probe");
    for addr in ["0x555555554000", "0x7fffffffe000"] {
        let out = Command::new("setarch")
            .args(["x86_64", "-R", SJ, "strict", p(&probe), "peek", addr])
            .output();
        let Ok(out) = out else {
            straitjacket_testkit::skip("setarch is not installed");
            return;
        };
        assert_eq!(out.status.code(), Some(3), "{addr}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr), "EFAULT\n");
        assert!(out.stdout.is_empty());
    }
    // The guest's own memory is readable: its ELF header at 0x200000 (lld's default base).
    let out = strict(&[p(&probe), "peek", "0x200000"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(out.stdout, b"\x7fELF");
}

#[test]
fn mem_limit_too_small_for_the_guest() {
    let out = strict(&["--limit", "mem=1M", p(&guest("wc"))], b"");
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("over the mem limit 1.0 MiB"),
        "{}",
        text(&out.stderr)
    );
    let out = strict(&["--limit", "mem=64M", p(&guest("wc"))], b"a b\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // A smaller stack: the whole guest in 1 MiB (wc keeps a 64 KiB buffer on its stack).
    let out = strict(&["--limit", "mem=1M,stack=256K", p(&guest("wc"))], b"a b\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "      1       2       4\n");
    // Too small a stack for that buffer: the guest faults, and it is said.
    let out = strict(&["--limit", "stack=64K", p(&guest("wc"))], b"a b\n");
    assert_eq!(out.status.code(), Some(139));
    assert_eq!(
        text(&out.stderr),
        "straitjacket: guest killed by signal 11 (SIGSEGV)\n"
    );
}

fn monitor_fixture() -> (PathBuf, PathBuf) {
    let d = tmpdir("strict-monitor");
    std::fs::create_dir_all(d.join("data/sub")).unwrap();
    std::fs::create_dir_all(d.join("out")).unwrap();
    std::fs::write(d.join("data/sub/a.txt"), b"allowed content\n").unwrap();
    std::fs::write(d.join("secret"), b"secret\n").unwrap();
    std::os::unix::fs::symlink(d.join("secret"), d.join("data/link")).unwrap();
    std::os::unix::fs::symlink(&d, d.join("data/up")).unwrap();
    let policy = d.join("policy.sj");
    std::fs::write(
        &policy,
        format!(
            "default kill\nfs read {}\nfs write {}\n",
            d.join("data").display(),
            d.join("out").display()
        ),
    )
    .unwrap();
    (d, policy)
}

#[test]
fn monitor_serves_allowed_files_only() {
    let (d, policy) = monitor_fixture();
    let serve = ["--serve", p(&policy)];
    let run = |path: &Path| {
        let mut args = serve.to_vec();
        let readfile = guest("readfile");
        args.extend([p(&readfile), p(path)]);
        strict(&args, b"")
    };
    let out = run(&d.join("data/sub/a.txt"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "allowed content\n");

    let out = run(&d.join("secret"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("denied by the policy"));
    assert_eq!(text(&out.stdout), "");

    for escape in ["data/link", "data/up/secret"] {
        let out = run(&d.join(escape));
        assert_eq!(out.status.code(), Some(1), "{escape}");
        assert!(text(&out.stderr).contains("denied"), "{escape}");
        assert_eq!(text(&out.stdout), "", "{escape}");
    }

    let out = run(&d.join("data/missing"));
    assert!(text(&out.stderr).contains("not found"));

    // `..` is not a normalized path: a malformed request, the guest is killed.
    let dotdot = format!("{}/data/../secret", d.display());
    let out = run(Path::new(&dotdot));
    assert_eq!(out.status.code(), Some(159));
    assert!(
        text(&out.stderr).starts_with("straitjacket: guest killed: malformed request: path"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "");

    // A large file is streamed whole.
    let big = noise(700_000, 3);
    std::fs::write(d.join("data/big"), &big).unwrap();
    let out = run(&d.join("data/big"));
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == big);
}

#[test]
fn monitor_outputs_time_and_random() {
    let (d, policy) = monitor_fixture();
    let probe_path = guest("probe");
    let probe = p(&probe_path);
    let target = d.join("out/result.txt");
    let out = strict(
        &["--serve", p(&policy), probe, "write", p(&target), "42"],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "42");
    let out = strict(
        &[
            "--serve",
            p(&policy),
            probe,
            "write",
            p(&d.join("data/x")),
            "no",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("denied"));
    assert!(!d.join("data/x").exists());

    let out = strict(&["--serve", p(&policy), probe, "time"], b"");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let t: u64 = text(&out.stdout).trim().parse().unwrap();
    assert!(t.abs_diff(now) < 60);
    let out = strict(&["--serve", p(&policy), probe, "random"], b"");
    assert_eq!(
        (out.status.code(), text(&out.stdout).trim().len()),
        (Some(0), 128),
        "{}",
        text(&out.stderr)
    );

    // Without --serve there is no fd 3: the request fails, nothing else happens.
    let out = strict(&[probe, "time"], b"");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn malformed_requests_end_the_guest() {
    let (_d, policy) = monitor_fixture();
    for (what, msg) in [
        ("bad-magic", "bad magic"),
        ("bad-length", "payload of 2147483647 bytes"),
    ] {
        let out = strict(&["--serve", p(&policy), p(&guest("probe")), what], b"");
        assert_eq!(out.status.code(), Some(159), "{what}");
        let err = text(&out.stderr);
        assert!(
            err.starts_with("straitjacket: guest killed: malformed request: ") && err.contains(msg),
            "{err}"
        );
    }
}

fn patched(name: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut b = std::fs::read(guest("wc")).unwrap();
    edit(&mut b);
    let path = tmpdir(&format!("strict-bad-{name}")).join(name);
    std::fs::write(&path, b).unwrap();
    path
}

#[test]
fn bad_guests_are_refused_before_running() {
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    let first_load = |b: &[u8]| {
        let phoff = u64_at(b, 32) as usize;
        (0..u16_at(b, 56))
            .map(|i| phoff + i * 56)
            .find(|&o| b[o] == 1)
            .unwrap()
    };
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            {
                let path = tmpdir("strict-bad-text").join("script");
                std::fs::write(&path, "#!/bin/sh\necho hi\n").unwrap();
                path
            },
            "not an ELF file",
        ),
        (patched("class32", |b| b[4] = 1), "wrong ELF class 1"),
        (patched("aarch64", |b| b[18] = 183), "wrong machine 183"),
        (patched("truncated", |b| b.truncate(3000)), "truncated file"),
        (
            patched("entry", |b| {
                b[24..32].copy_from_slice(&0x10_0000u64.to_le_bytes())
            }),
            "not inside an executable segment",
        ),
        (
            patched("huge", |b| {
                let o = first_load(b);
                b[o + 40..o + 48].copy_from_slice(&(4u64 << 30).to_le_bytes())
            }),
            "over the limit",
        ),
        (
            patched("reserved", |b| {
                let o = first_load(b);
                b[o + 16..o + 24].copy_from_slice(&0x5555_5555_0000u64.to_le_bytes())
            }),
            "overlap straitjacket's own mappings",
        ),
        (PathBuf::from("/bin/sh"), "dynamically linked"),
    ];
    for (path, msg) in cases {
        let out = strict(&[p(&path)], b"");
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", path.display());
        assert!(
            err.starts_with(&format!("straitjacket: {}: refused: ", path.display()))
                && err.contains(msg),
            "{}: {err}",
            path.display()
        );
        assert_eq!(text(&out.stdout), "");
    }
    let overlap = patched("overlap", |b| {
        let phoff = u64_at(b, 32) as usize;
        let loads: Vec<usize> = (0..u16_at(b, 56))
            .map(|i| phoff + i * 56)
            .filter(|&o| b[o] == 1)
            .collect();
        let v = u64_at(b, loads[0] + 16);
        b[loads[1] + 16..loads[1] + 24].copy_from_slice(&v.to_le_bytes());
    });
    let out = strict(&[p(&overlap)], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("overlap"),
        "{}",
        text(&out.stderr)
    );
}

/// A Rust static PIE: its `_start` applies its own relocations (panic locations and
/// format strings are behind relocated pointers).
#[test]
fn rust_static_pie_relocates_itself() {
    let pie = guest("probe-pie");
    let bytes = std::fs::read(&pie).unwrap();
    assert_eq!(u16::from_le_bytes([bytes[16], bytes[17]]), 3, "ET_DYN");
    let out = strict(&[p(&pie), "panic"], b"");
    assert_eq!(out.status.code(), Some(101));
    assert!(
        text(&out.stderr).starts_with("guest panicked: on purpose (")
            && text(&out.stderr).contains("guests/probe.rs:"),
        "{}",
        text(&out.stderr)
    );
    let out = strict(&[p(&pie), "args", "x"], b"");
    assert_eq!(text(&out.stdout), format!("{}\nargs\nx\n", pie.display()));
    let out = strict(&[p(&pie), "getpid"], b"");
    assert_eq!(out.status.code(), Some(159));
}

/// C guests through the header: a static PIE (placed at straitjacket's base) and ET_EXEC.
#[test]
fn c_guests_static_pie_and_exec() {
    if Command::new("gcc").arg("--version").output().is_err() {
        straitjacket_testkit::skip("gcc is not installed");
        return;
    }
    let sdk = workspace().join("crates/straitjacket-guest");
    let d = tmpdir("strict-c");
    for (name, flags) in [
        ("pie", &["-static-pie", "-fPIE"][..]),
        ("exec", &["-static", "-no-pie"][..]),
    ] {
        let out = Command::new("gcc")
            .args(["-O2", "-nostdlib", "-nostartfiles", "-fno-stack-protector"])
            .args(flags)
            .arg("-I")
            .arg(sdk.join("include"))
            .arg(sdk.join("guests/hello.c"))
            .arg("-o")
            .arg(d.join(name))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = strict(&[p(&d.join(name)), "x", "y"], b"");
        assert_eq!(out.status.code(), Some(3), "{name}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "hello from C\nx\ny\n", "{name}");
    }
}
