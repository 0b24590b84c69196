//! Golden files (STYLE.md habit 7): the x86_64 disassembly of each policy in tests/golden/,
//! and the rendered diagnostics of each broken policy in tests/golden/bad/. A missing or
//! different golden fails; `STRAITJACKET_BLESS=1 cargo test --test golden` rewrites them.

use std::path::{Path, PathBuf};

use straitjacket_policy::arch::Arch;
use straitjacket_policy::bpf::disasm::disasm;
use straitjacket_policy::compile::compile;
use straitjacket_policy::resolve::{resolve_text, Options};

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(sub)
}

fn policies(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sj"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no policies in {}", dir.display());
    v
}

use straitjacket_testkit::golden;

fn opts() -> Options {
    Options {
        native: Arch::X86_64,
    }
}

#[test]
fn disassembly() {
    let mut failures = Vec::new();
    for p in policies(&dir("")) {
        let text = std::fs::read_to_string(&p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let (_, resolved) = resolve_text(&name, &text, &opts()).unwrap_or_else(|(s, d)| {
            panic!(
                "{name}: {}",
                d.iter().map(|d| d.render(&s)).collect::<String>()
            )
        });
        let prog = compile(&resolved.policy).unwrap();
        if let Err(e) = golden(
            &p.with_extension("x86_64.disasm"),
            &disasm(&prog, Some(Arch::X86_64)),
        ) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn diagnostics() {
    let mut failures = Vec::new();
    for p in policies(&dir("bad")) {
        let text = std::fs::read_to_string(&p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let rendered: String = match resolve_text(&name, &text, &opts()) {
            Ok((s, r)) => {
                assert!(
                    !r.warnings.is_empty(),
                    "{name}: expected diagnostics, got none"
                );
                r.warnings.iter().map(|d| d.render(&s)).collect()
            }
            Err((s, d)) => d.iter().map(|d| d.render(&s)).collect(),
        };
        if let Err(e) = golden(&p.with_extension("diag"), &rendered) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
