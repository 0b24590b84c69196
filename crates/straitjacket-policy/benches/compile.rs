//! Compile time: import (OCI JSON to policy text, for a JSON profile), parse + resolve, and
//! compile, each timed alone. With no argument, Docker's default profile from the
//! repository's corpus (x86_64 + i386 + x32, as runc loads it). For a JSON profile, libseccomp's time to
//! build the same filter is measured in the same run (`tools/bench/lsc_export.py --time`).
//! `cargo bench -p straitjacket-policy --bench compile [-- POLICY.sj|PROFILE.json …]`

use std::time::Instant;

use straitjacket_policy::arch::Arch;
use straitjacket_policy::compile::compile;
use straitjacket_policy::import::oci;
use straitjacket_policy::resolve::{resolve_text, Options};

fn time<T>(iters: u32, mut f: impl FnMut() -> T) -> f64 {
    // Warm up, then take the best of many short batches: on a shared machine a batch is
    // often disturbed, and the least disturbed one is the figure.
    for _ in 0..iters.min(10) {
        std::hint::black_box(f());
    }
    (0..25)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                std::hint::black_box(f());
            }
            t.elapsed().as_secs_f64() / f64::from(iters)
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let mut args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.is_empty() {
        let corpus = std::env::var("STRAITJACKET_CORPUS").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/corpus").to_string()
        });
        args.push(format!("{corpus}/moby-default.json"));
    }
    let opts = Options {
        native: Arch::X86_64,
    };
    let iopts = oci::Options {
        native: Arch::X86_64,
        caps: None,
        kernel: None,
    };
    for path in &args {
        let raw = std::fs::read_to_string(path).expect("read policy");
        let json = oci::looks_like_json(raw.as_bytes());
        let text = if json {
            oci::import(&raw, path, &iopts).expect("import").text
        } else {
            raw.clone()
        };
        let (_, r) = resolve_text(path, &text, &opts)
            .map_err(|_| "policy rejected")
            .unwrap();
        let import = if json {
            time(40, || oci::import(&raw, path, &iopts).is_ok())
        } else {
            0.0
        };
        let resolve = time(40, || resolve_text(path, &text, &opts).is_ok());
        let comp = time(40, || compile(&r.policy).unwrap().len());
        let arches: Vec<&str> = r.policy.filters.iter().map(|f| f.arch.name()).collect();
        println!(
            "{path} ({}): import {:.1} µs, parse+resolve {:.1} µs, compile {:.1} µs \
             (resolve+compile {:.1} µs), {} instructions",
            arches.join("+"),
            import * 1e6,
            resolve * 1e6,
            comp * 1e6,
            (resolve + comp) * 1e6,
            compile(&r.policy).unwrap().len()
        );
        if json {
            let ours = import + resolve + comp;
            for (name, tree) in [("default", false), ("tree", true)] {
                match libseccomp_us(path, tree) {
                    Some(us) => println!(
                        "  libseccomp {name} (same ABIs, python3-seccomp): {us:.1} µs; \
                         straitjacket JSON to BPF {:.1} µs = {:.3}x of it",
                        ours * 1e6,
                        ours * 1e6 / us
                    ),
                    None => println!("  libseccomp {name}: not measured (needs /usr/bin/python3 with python3-seccomp)"),
                }
            }
        }
    }
}

/// libseccomp's compile time for the same profile and ABIs (x86_64, x86, x32 as runc loads
/// Docker's profile), from `tools/bench/lsc_export.py --time`: best of 10 builds, in µs.
fn libseccomp_us(profile: &str, tree: bool) -> Option<f64> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tools/bench/lsc_export.py"
    );
    let mut cmd = std::process::Command::new("/usr/bin/python3");
    cmd.args([
        script,
        profile,
        "/dev/null",
        "--arches",
        "x86_64,x86,x32",
        "--time",
        "10",
    ]);
    if tree {
        cmd.arg("--tree");
    }
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}
