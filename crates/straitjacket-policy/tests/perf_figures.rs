//! The deterministic performance figures on Docker's default profile, guarded so
//! a change that regresses them fails: BPF instructions executed per syscall (the emulator,
//! every syscall of each ABI's table, arguments 0) and the kernel action cache's coverage.
//! Timings live in the benchmarks (BENCHMARKS.md), never here.

use straitjacket_policy::arch::Arch;
use straitjacket_policy::compile::{compile, report::report};
use straitjacket_policy::import::oci;
use straitjacket_policy::resolve::{resolve_text, Options};

#[test]
fn docker_default_keeps_its_instruction_counts_and_cache_coverage() {
    let json = straitjacket_testkit::corpus_file("moby-default.json");
    let iopts = oci::Options {
        native: Arch::X86_64,
        caps: None,
        kernel: Some((6, 18)),
    };
    let text = oci::import(&json, "moby-default.json", &iopts)
        .unwrap()
        .text;
    let (_, r) = resolve_text(
        "moby",
        &text,
        &Options {
            native: Arch::X86_64,
        },
    )
    .map_err(|_| "rejected")
    .unwrap();
    let prog = compile(&r.policy).unwrap();
    // (ABI, most instructions, mean over every syscall of the table): measured 12 / 9.363,
    // 13 / 11.562, 17 / 14.989 (the dispatch tree is optimal within its depth bounds);
    // libseccomp 2.5.4's binary tree on x86_64: 26 / 15.7.
    let bounds = [
        (Arch::X86_64, 12, 9.37),
        (Arch::I386, 13, 11.57),
        (Arch::X32, 17, 15.0),
    ];
    for (arch, max, mean) in bounds {
        let f = r.policy.filters.iter().find(|f| f.arch == arch).unwrap();
        let rep = report(f, &prog);
        assert!(rep.max() <= max, "{arch}: max {} > {max}", rep.max());
        assert!(
            rep.mean_all() <= mean,
            "{arch}: mean {:.2} > {mean}",
            rep.mean_all()
        );
        let uncached: Vec<u32> = rep
            .fixed_allows()
            .filter(|s| !s.cached)
            .map(|s| s.nr)
            .collect();
        assert!(uncached.is_empty(), "{arch}: not cached: {uncached:?}");
        assert!(rep.fixed_allows().count() > 300, "{arch}");
    }
}
