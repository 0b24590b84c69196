//! The policies embedded in the binary: `--preset NAME`, `straitjacket presets`.
//!
//! Presets are written in the policy language (crates/straitjacket/presets/*.sj) and may
//! include each other by file name; they are compiled by the tests like any policy.
//! build.rs also compiles each under every routing `run` uses, so `run` installs a preset
//! without compiling it ([`precompiled`]); a test keeps those programs equal to a fresh
//! compile, and an end-to-end test (`supervise.rs`, reads under `--fs-supervisor-only`)
//! fails if `run` picked a program routed otherwise.

use straitjacket_policy::arch::Arch;
use straitjacket_policy::bpf::Program;
use straitjacket_policy::diag::SourceFile;
use straitjacket_policy::ir::route::Routing;
use straitjacket_policy::resolve::{Loaded, Loader, Options};

use crate::error::SandboxError;
use crate::load::{self, PolicyFile};

/// One embedded policy.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub name: &'static str,
    pub about: &'static str,
    pub source: &'static str,
}

/// Every preset, `default` first.
pub static PRESETS: &[Preset] = &[
    Preset {
        name: "default",
        about: "real programs run (shells, coreutils, python3, compilers, git, tar, curl); no ptrace, mounts, namespaces, io_uring, keyrings, module loading or terminal injection",
        source: include_str!("../presets/default.sj"),
    },
    Preset {
        name: "strict",
        about: "seccomp strict mode as a filter: read, write, exit, rt_sigreturn; anything else kills",
        source: include_str!("../presets/strict.sj"),
    },
    Preset {
        name: "stdio",
        about: "a pure computation over inherited descriptors: no open, no sockets, no exec",
        source: include_str!("../presets/stdio.sj"),
    },
    Preset {
        name: "net-client",
        about: "the default without servers: connect out over IPv4/IPv6/Unix, never listen, accept or bind a port of its own",
        source: include_str!("../presets/net-client.sj"),
    },
    Preset {
        name: "build",
        about: "compilers and build tools with no network: sockets only in the Unix domain",
        source: include_str!("../presets/build.sj"),
    },
    Preset {
        name: "system-paths",
        about: "filesystem rules: what a dynamically linked program needs to start (added to any fs rules unless --no-system-paths)",
        source: include_str!("../presets/system-paths.sj"),
    },
];

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The error for an unknown preset name, with a suggestion.
pub fn unknown(name: &str) -> SandboxError {
    let mut msg = format!("unknown preset `{name}`");
    if let Some(s) = straitjacket_policy::diag::suggest(name, PRESETS.iter().map(|p| p.name)) {
        msg.push_str(&format!(" (did you mean `{s}`?)"));
    }
    msg.push_str("; `straitjacket presets` lists them");
    SandboxError::input(msg)
}

/// Resolves `include "NAME.sj"` inside a preset to another preset.
#[derive(Debug, Default)]
struct PresetLoader;

impl Loader for PresetLoader {
    fn load(&mut self, path: &str, _from: &SourceFile) -> Result<Loaded, String> {
        let name = path.strip_suffix(".sj").unwrap_or(path);
        let p = find(name).ok_or_else(|| format!("no preset named `{name}`"))?;
        Ok(Loaded {
            key: format!("preset:{name}"),
            name: format!("{name}.sj"),
            bytes: p.source.as_bytes().to_vec(),
        })
    }
}

/// Parses and resolves a preset.
pub fn load(name: &str, opts: &Options) -> Result<PolicyFile, SandboxError> {
    let p = find(name).ok_or_else(|| unknown(name))?;
    load::load_with(
        &format!("{}.sj", p.name),
        p.source.as_bytes(),
        opts,
        &mut PresetLoader,
    )
}

/// The presets compiled when the binary was built (build.rs).
mod built {
    include!(concat!(env!("OUT_DIR"), "/precompiled_presets.rs"));
}

/// The filter `run` installs for preset `name` under `routing`, as compiled when the binary
/// was built, if that was for `native`. The bytes pass the program checker again here: what
/// is installed is always a checked program.
pub fn precompiled(name: &str, routing: &Routing, native: Arch) -> Option<Program> {
    if built::ARCH != native.name() {
        return None;
    }
    let index = routing.index();
    let (_, _, bytes) = built::PROGRAMS
        .iter()
        .find(|(n, i, _)| *n == name && *i == index)?;
    Program::from_bytes(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use straitjacket_policy::ir::route::route;

    /// What build.rs embedded is what the compiler makes of each preset now, under each
    /// routing `run` may use; and every preset has them all (for this ABI), so `run` never
    /// compiles a preset.
    #[test]
    fn precompiled_presets_are_the_compilers_output() {
        let native = Arch::native();
        let mut seen = 0;
        for p in PRESETS {
            let pf = load(p.name, &Options::default())
                .unwrap_or_else(|f| panic!("{}: {}", p.name, f.message));
            for i in 0..Routing::COUNT {
                let routing = Routing::from_index(i);
                let routed = route(&pf.resolved.policy, &routing);
                let fresh = straitjacket_policy::compile::compile(&routed).unwrap();
                let embedded = precompiled(p.name, &routing, native).unwrap_or_else(|| {
                    panic!(
                        "{}: no precompiled program for {routing:?} on {native}",
                        p.name
                    )
                });
                assert_eq!(
                    embedded.to_bytes(),
                    fresh.to_bytes(),
                    "{} {routing:?}",
                    p.name
                );
                seen += 1;
            }
        }
        assert_eq!(seen, built::PROGRAMS.len(), "programs for no preset");
        let other = if native == Arch::Aarch64 {
            Arch::X86_64
        } else {
            Arch::Aarch64
        };
        assert!(precompiled("default", &Routing::default(), other).is_none());
    }

    #[test]
    fn every_preset_resolves_and_compiles_without_warnings() {
        for p in PRESETS {
            let pf = load(p.name, &Options::default())
                .unwrap_or_else(|f| panic!("{}: {}", p.name, f.message));
            assert!(
                pf.resolved.warnings.is_empty(),
                "{}: {}",
                p.name,
                pf.render_warnings()
            );
            straitjacket_policy::compile::compile(&pf.resolved.policy).unwrap();
        }
    }

    /// The deterministic performance figures: every argument-free allow is proven
    /// constant by the kernel's action cache, and no argument-free call runs more than 12
    /// instructions. Timings live in the benchmarks, never here.
    #[test]
    fn presets_keep_their_performance_figures() {
        use straitjacket_policy::compile::{compile, report::report};
        // The ABIs straitjacket runs natively on (presets are not written for a 32-bit host).
        for arch in [Arch::X86_64, Arch::Aarch64] {
            for p in PRESETS {
                let pf = load(p.name, &Options { native: arch })
                    .unwrap_or_else(|f| panic!("{}: {}", p.name, f.message));
                let prog = compile(&pf.resolved.policy).unwrap();
                for f in &pf.resolved.policy.filters {
                    let r = report(f, &prog);
                    let uncached: Vec<u32> = r
                        .fixed_allows()
                        .filter(|s| !s.cached)
                        .map(|s| s.nr)
                        .collect();
                    assert!(
                        uncached.is_empty(),
                        "{} on {arch}: allows not provably constant: {uncached:?}",
                        p.name
                    );
                    assert!(
                        r.max_fixed() <= 12,
                        "{} on {arch}: {} instructions for an argument-free call",
                        p.name,
                        r.max_fixed()
                    );
                }
            }
        }
    }
}
