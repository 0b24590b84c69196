//! The fuzz targets' checks, replayed by `cargo test` on stable: every committed seed and
//! every regression input (fuzz/seeds/TARGET, fuzz/regressions/TARGET) goes through the same
//! function the target runs under libFuzzer, and the parse and compile targets also take
//! every policy of the golden tests. A crash found once stays found.

#[path = "../../../fuzz/fuzz_targets/checks/mod.rs"]
mod checks;
#[path = "../../../fuzz/fuzz_targets/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files below `dir`, recursively, sorted; none when `dir` does not exist.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.map(|e| e.unwrap().path()) {
        if e.is_dir() {
            out.extend(files_under(&e));
        } else if e.file_name().is_some_and(|n| n != ".keep") {
            out.push(e);
        }
    }
    out.sort();
    out
}

/// Runs `check` on every seed and regression of `target` and on `extra`; returns how many.
fn replay(target: &str, extra: &[PathBuf], check: fn(&[u8])) -> usize {
    let mut inputs = files_under(&fuzz_dir().join("seeds").join(target));
    inputs.extend(files_under(&fuzz_dir().join("regressions").join(target)));
    inputs.extend(extra.iter().cloned());
    for p in &inputs {
        let data = std::fs::read(p).unwrap();
        let r = std::panic::catch_unwind(|| check(&data));
        assert!(r.is_ok(), "fuzz target `{target}` fails on {}", p.display());
    }
    inputs.len()
}

fn policies() -> Vec<PathBuf> {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let presets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../straitjacket/presets");
    let mut v: Vec<PathBuf> = files_under(&tests)
        .into_iter()
        .chain(files_under(&presets))
        .filter(|p| p.extension().is_some_and(|e| e == "sj"))
        .collect();
    v.sort();
    v
}

#[test]
fn parse_replays() {
    assert!(replay("parse", &policies(), checks::parse::check) >= 20);
}

#[test]
fn compile_vs_eval_replays() {
    assert!(
        replay(
            "compile_vs_eval",
            &policies(),
            checks::compile_vs_eval::check
        ) >= 20
    );
}

#[test]
fn decode_replays() {
    assert!(replay("decode", &[], checks::decode::check) >= 8);
}

#[test]
fn elf_replays() {
    assert!(replay("elf", &[], checks::elf::check) >= 4);
}

#[test]
fn minijail_replays() {
    assert!(replay("minijail", &[], checks::minijail::check) >= 15);
}

#[test]
fn oci_replays() {
    assert!(replay("oci", &[], checks::oci::check) >= 8);
}

#[test]
fn vm_replays() {
    // No committed seeds: the programs of the libseccomp fixtures stand in.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/libseccomp");
    let bpf: Vec<PathBuf> = files_under(&fixtures)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "bpf"))
        .collect();
    assert!(replay("vm", &bpf, checks::vm::check) >= 3);
}
