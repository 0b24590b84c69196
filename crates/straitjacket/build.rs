//! Compiles the embedded presets ahead of time, as `run` installs them under each of its
//! routings (with or without `--report`, `fs` rules, address rules): `straitjacket run` on a
//! preset then starts without running the compiler, which would otherwise be a sixth of its
//! start.
//!
//! The programs are the compiler's own output for the target's ABI, made by the same crate
//! `run` links. `presets::tests` checks each against a fresh compile, and `run` puts each
//! through the program checker before use. A preset that does not compile here is left out
//! and compiled (and its error reported) at run time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use straitjacket_policy::arch::Arch;
use straitjacket_policy::compile::compile;
use straitjacket_policy::diag::{SourceFile, SourceMap};
use straitjacket_policy::ir::route::{route, Routing};
use straitjacket_policy::resolve::{resolve, Loaded, Loader, Options};
use straitjacket_policy::syntax;

/// Reads `include "NAME.sj"` from the presets directory, as `presets::PresetLoader` does
/// from the embedded copies.
struct Dir<'a>(&'a Path);

impl Loader for Dir<'_> {
    fn load(&mut self, path: &str, _from: &SourceFile) -> Result<Loaded, String> {
        let name = path.strip_suffix(".sj").unwrap_or(path);
        let bytes = std::fs::read(self.0.join(format!("{name}.sj"))).map_err(|e| e.to_string())?;
        Ok(Loaded {
            key: format!("preset:{name}"),
            name: format!("{name}.sj"),
            bytes,
        })
    }
}

/// The ABI `run` will treat as native on the target (`Arch::native` there).
fn target_arch() -> Option<Arch> {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").ok()?;
    let width = std::env::var("CARGO_CFG_TARGET_POINTER_WIDTH").ok()?;
    match (arch.as_str(), width.as_str()) {
        ("x86_64", "64") => Some(Arch::X86_64),
        ("x86_64", "32") => Some(Arch::X32),
        ("x86", _) => Some(Arch::I386),
        ("aarch64", _) => Some(Arch::Aarch64),
        _ => None,
    }
}

/// The preset's program under each routing, or None if it does not resolve or compile.
fn compile_preset(dir: &Path, name: &str, native: Arch) -> Option<Vec<(u8, Vec<u8>)>> {
    let file = format!("{name}.sj");
    let bytes = std::fs::read(dir.join(&file)).ok()?;
    let mut sources = SourceMap::new();
    let root = sources.add(syntax::load(&file, &bytes).ok()?);
    let resolved = resolve(&mut sources, root, &mut Dir(dir), &Options { native }).ok()?;
    (0..Routing::COUNT)
        .map(|i| {
            let program = compile(&route(&resolved.policy, &Routing::from_index(i))).ok()?;
            Some((i, program.to_bytes()))
        })
        .collect()
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let dir = manifest.join("presets");
    println!("cargo:rerun-if-changed=presets");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("crates/straitjacket/presets")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            Some(name.strip_suffix(".sj")?.to_string())
        })
        .collect();
    names.sort();
    let mut table = String::new();
    // A target whose ABI straitjacket does not know gets no programs: `run` compiles.
    let native = target_arch();
    for name in names.iter() {
        let Some(programs) = native.and_then(|a| compile_preset(&dir, name, a)) else {
            continue;
        };
        for (i, program) in programs {
            let file = format!("{name}.{i}.bpf");
            std::fs::write(out.join(&file), program).expect("write to OUT_DIR");
            writeln!(
                table,
                "    ({name:?}, {i}, include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{file}\"))),"
            )
            .expect("write to a string");
        }
    }
    let arch = native.map_or("none", |a| a.name());
    let code = format!(
        "/// The ABI the programs were compiled for.\n\
         pub const ARCH: &str = {arch:?};\n\
         /// (preset, routing index, raw program) as `run` installs it.\n\
         pub static PROGRAMS: &[(&str, u8, &[u8])] = &[\n{table}];\n"
    );
    std::fs::write(out.join("precompiled_presets.rs"), code).expect("write to OUT_DIR");
}
