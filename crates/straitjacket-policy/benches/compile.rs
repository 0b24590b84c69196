//! Compile time: resolve + compile of a large policy, and compile alone.
//! `cargo bench -p straitjacket-policy --bench compile [-- POLICY.sj …]`

use std::time::Instant;

use straitjacket_policy::arch::Arch;
use straitjacket_policy::compile::compile;
use straitjacket_policy::resolve::{resolve_text, Options};

fn time<T>(iters: u32, mut f: impl FnMut() -> T) -> f64 {
    // Warm up, then take the best of five batches (least disturbed by the machine).
    for _ in 0..iters.min(10) {
        std::hint::black_box(f());
    }
    (0..5)
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
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let opts = Options {
        native: Arch::X86_64,
    };
    for path in &args {
        let text = std::fs::read_to_string(path).expect("read policy");
        let (_, r) = resolve_text(path, &text, &opts)
            .map_err(|_| "policy rejected")
            .unwrap();
        let resolve = time(200, || resolve_text(path, &text, &opts).is_ok());
        let comp = time(200, || compile(&r.policy).unwrap().len());
        let arches: Vec<&str> = r.policy.filters.iter().map(|f| f.arch.name()).collect();
        println!(
            "{path} ({}): parse+resolve {:.1} µs, compile {:.1} µs, {} instructions",
            arches.join("+"),
            resolve * 1e6,
            comp * 1e6,
            compile(&r.policy).unwrap().len()
        );
    }
}
