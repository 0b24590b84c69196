//! The filter benchmark: the cost of a filter on every system call, measured as
//! ratios to no filter in one run, straitjacket against libseccomp on the same profile.
//!
//! `cargo bench -p straitjacket-cli --bench filters` (needs /usr/bin/python3 with python3-seccomp
//! to build libseccomp's filters through tools/bench/lsc_export.py).
//!
//! For each profile (a small hand policy and Docker's default) and each filter (none; the
//! smallest non-cacheable filter `ld args[0]; ret ALLOW`; straitjacket's; libseccomp's
//! default layout and binary tree), a forked child installs the filter and times 200,000
//! calls of: getppid (allowed, argument-free: the kernel's action cache skips the filter),
//! personality(0xffffffff) (allowed on an argument: the filter runs), and syslog(0) (denied by
//! Docker's profile: the filter runs to an errno). Also: BPF instructions executed per
//! syscall from the emulator, and the cost of loading each filter (fork + seccomp() + exit).
//! Each round times one call under every filter back to back (then the next call, then the
//! loads), fifteen rounds, best round each: the filters share the machine's quiet and busy
//! moments, so their ratios are comparable within one run.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use straitjacket_policy::arch::Arch;
use straitjacket_policy::bpf::{vm, Insn, Program, RetSrc, SeccompData};
use straitjacket_policy::Action;
use straitjacket_sys::process::{in_child, ChildOutcome};
use straitjacket_sys::{prctl, seccomp};

const CALLS: u32 = 200_000;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("straitjacket-bench-{}-{name}", std::process::id()))
}

fn straitjacket_filter(profile: &Path) -> Program {
    let out = tmp("sj.bpf");
    let st = Command::new(env!("CARGO_BIN_EXE_straitjacket"))
        .args([
            "compile",
            &profile.display().to_string(),
            "--arch",
            "x86_64",
            "--format",
            "raw",
            "-o",
        ])
        .arg(&out)
        .status()
        .expect("run straitjacket");
    assert!(
        st.success(),
        "straitjacket compile failed on {}",
        profile.display()
    );
    Program::from_bytes(&std::fs::read(&out).unwrap()).unwrap()
}

/// libseccomp's filter for the same ABIs straitjacket's covers (Docker's archMap on x86_64:
/// x86_64, x86, x32 — as runc loads it).
fn libseccomp_filter(profile: &Path, tree: bool, arches: &str) -> Program {
    let out = tmp(if tree { "lsc-tree.bpf" } else { "lsc.bpf" });
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(repo().join("tools/bench/lsc_export.py"))
        .arg(profile)
        .arg(&out);
    if tree {
        cmd.arg("--tree");
    }
    cmd.args(["--arches", arches]);
    assert!(
        cmd.status().expect("python3").success(),
        "lsc_export.py failed"
    );
    Program::from_bytes(&std::fs::read(&out).unwrap()).unwrap()
}

fn ns_per_call_once(filter: Option<&Program>, nr: i64, args: [u64; 3]) -> f64 {
    let (mut ours, theirs) = UnixStream::pair().unwrap();
    let records = filter.map(|p| p.to_raw_records());
    let outcome = in_child(move || {
        if let Some(r) = &records {
            if prctl::set_no_new_privs().is_err()
                || seccomp::install(r, seccomp::FilterFlags::NONE).is_err()
            {
                return 99;
            }
        }
        let t = Instant::now();
        for _ in 0..CALLS {
            // SAFETY: getppid, personality(0xffffffff) (a query) and syslog(0) (close the log:
            // a no-op) take no memory arguments and change nothing.
            unsafe { libc::syscall(nr, args[0], args[1], args[2]) };
        }
        let ns = t.elapsed().as_nanos() as f64 / f64::from(CALLS);
        let bytes = ns.to_le_bytes();
        // SAFETY: writes our own buffer to our own descriptor.
        unsafe { libc::write(theirs.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
        0
    })
    .unwrap();
    assert_eq!(outcome, ChildOutcome::Exited(0));
    let mut b = [0u8; 8];
    ours.read_exact(&mut b).unwrap();
    f64::from_le_bytes(b)
}

/// µs per fork + (install) + exit, best of a few batches.
fn load_us(filter: Option<&Program>) -> f64 {
    const FORKS: u32 = 100;
    let records = filter.map(|p| p.to_raw_records());
    let t = Instant::now();
    for _ in 0..FORKS {
        let r = records.clone();
        in_child(move || {
            if let Some(r) = &r {
                let _ = prctl::set_no_new_privs();
                let _ = seccomp::install(r, seccomp::FilterFlags::NONE);
            }
            0
        })
        .unwrap();
    }
    t.elapsed().as_secs_f64() * 1e6 / f64::from(FORKS)
}

/// The calls timed under every filter: getppid, personality(0xffffffff), syslog(0).
const CALLS_TIMED: [(i64, [u64; 3]); 3] = [
    (libc::SYS_getppid, [0; 3]),
    (libc::SYS_personality, [0xffff_ffff, 0, 0]),
    (libc::SYS_syslog, [0, 0, 0]),
];

/// Per filter: ns per call of each of CALLS_TIMED, and µs per load. Each round times one
/// call under every filter back to back, then the next call, then every filter's load, and
/// each figure is its best of ROUNDS rounds: the filters compared in one figure meet the
/// same moments of the machine, so their ratios hold even on a busy one.
fn measure(filters: &[Option<&Program>]) -> Vec<([f64; 3], f64)> {
    const ROUNDS: usize = 15;
    let mut best = vec![([f64::INFINITY; 3], f64::INFINITY); filters.len()];
    for _ in 0..ROUNDS {
        for (c, (nr, args)) in CALLS_TIMED.iter().enumerate() {
            for (f, b) in filters.iter().zip(best.iter_mut()) {
                b.0[c] = b.0[c].min(ns_per_call_once(*f, *nr, *args));
            }
        }
        for (f, b) in filters.iter().zip(best.iter_mut()) {
            b.1 = b.1.min(load_us(*f));
        }
    }
    best
}

/// Mean and max instructions the emulator executes per x86_64 syscall number.
fn instructions(p: &Program) -> (f64, usize) {
    let max_nr = Arch::X86_64.max_nr().0;
    let counts: Vec<usize> = (0..=max_nr)
        .map(|nr| {
            let d = SeccompData {
                nr: nr as i32,
                arch: Arch::X86_64.audit_arch(),
                instruction_pointer: 0,
                args: [0; 6],
            };
            vm::run(p, &d).executed
        })
        .collect();
    (
        counts.iter().sum::<usize>() as f64 / counts.len() as f64,
        counts.into_iter().max().unwrap_or(0),
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let minimal = Program::new(vec![
        Insn::LdAbs(SeccompData::arg_lo(0)),
        Insn::Ret(RetSrc::K(Action::Allow.to_ret())),
    ])
    .unwrap();
    let profiles = [
        ("small", repo().join("tools/bench/small.json"), "x86_64"),
        (
            "docker-default",
            PathBuf::from(
                std::env::var("STRAITJACKET_CORPUS")
                    .unwrap_or_else(|_| repo().join("testdata/corpus").display().to_string()),
            )
            .join("moby-default.json"),
            "x86_64,x86,x32",
        ),
    ];
    println!(
        "machine: {} cores, kernel {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
    );
    // Every filter of the run, measured together (see `measure`).
    let mut built: Vec<(&str, &str, Program)> = Vec::new();
    for (name, path, arches) in &profiles {
        if !path.exists() {
            println!("{name}: {} not found, skipped", path.display());
            continue;
        }
        built.push((name, "straitjacket", straitjacket_filter(path)));
        built.push((
            name,
            "libseccomp default",
            libseccomp_filter(path, false, arches),
        ));
        built.push((
            name,
            "libseccomp tree",
            libseccomp_filter(path, true, arches),
        ));
    }
    let mut all: Vec<Option<&Program>> = vec![None, Some(&minimal)];
    all.extend(built.iter().map(|(_, _, p)| Some(p)));
    let figures = measure(&all);
    let (base, base_load) = figures[0];
    println!(
        "no filter: getppid {:.1} ns, personality {:.1} ns, syslog {:.1} ns; fork+exit {:.1} µs",
        base[0], base[1], base[2], base_load
    );
    let (min, min_load) = (figures[1].0[1], figures[1].1);
    // Its load is the floor any filter's load stands on: the JIT, the action cache built
    // over every number, the speculation mitigation seccomp turns on, and freeing at exit.
    println!(
        "smallest non-cacheable filter (ld args[0]; ret ALLOW): personality {:.1} ns ({:.3}x); \
         load {:.1} µs ({:.2}x)\n",
        min,
        min / base[1],
        min_load,
        min_load / base_load
    );
    for (name, _, arches) in &profiles {
        let rows: Vec<usize> = (0..built.len()).filter(|&i| built[i].0 == *name).collect();
        if rows.is_empty() {
            continue;
        }
        println!("### {name} ({arches})\n");
        println!("| filter | insns | executed mean | executed max | getppid | personality(-1) | personality vs smallest | syslog(0) | load |");
        println!("|---|---|---|---|---|---|---|---|---|");
        for i in rows {
            let (_, fname, p) = &built[i];
            let (mean, max) = instructions(p);
            let (t, l) = figures[i + 2];
            println!(
                "| {fname} | {} | {mean:.1} | {max} | {:.1} ns ({:.2}x) | {:.1} ns ({:.2}x) | {:.3}x | {:.1} ns ({:.2}x) | {:.1} µs ({:.2}x) |",
                p.len(), t[0], t[0] / base[0], t[1], t[1] / base[1], t[1] / min, t[2], t[2] / base[2], l, l / base_load
            );
        }
        println!();
    }
}
