//! Reading policy files from disk: the include loader and the error a bad file becomes.
//!
//! The policy crate is pure; this is where its [`Loader`] meets the file system.

use std::path::{Path, PathBuf};

use straitjacket_policy::diag::{Diagnostic, SourceFile, SourceMap};
use straitjacket_policy::import::oci;
use straitjacket_policy::resolve::{self, Loaded, Loader, Options, Resolved};
use straitjacket_policy::syntax;

pub use crate::error::io_reason;
use crate::error::SandboxError;

/// A policy read, parsed and resolved, with the sources its diagnostics point into.
#[derive(Debug)]
pub struct PolicyFile {
    pub sources: SourceMap,
    pub resolved: Resolved,
    /// Warnings of a conversion (an OCI profile read as a policy).
    pub notes: Vec<String>,
}

impl PolicyFile {
    /// Renders the warnings, one after another.
    pub fn render_warnings(&self) -> String {
        let notes: String = self
            .notes
            .iter()
            .map(|n| format!("warning: {n}\n"))
            .collect();
        let diags: String = self
            .resolved
            .warnings
            .iter()
            .map(|w| w.render(&self.sources))
            .collect();
        notes + &diags
    }
}

/// Includes are read relative to the including file's directory.
#[derive(Debug, Default)]
struct FsLoader;

impl Loader for FsLoader {
    fn load(&mut self, path: &str, from: &SourceFile) -> Result<Loaded, String> {
        let base = Path::new(&from.name).parent().unwrap_or(Path::new("."));
        let full: PathBuf = if Path::new(path).is_absolute() {
            PathBuf::from(path)
        } else {
            base.join(path)
        };
        let bytes = std::fs::read(&full).map_err(|e| e.to_string())?;
        let key = std::fs::canonicalize(&full)
            .unwrap_or(full.clone())
            .display()
            .to_string();
        Ok(Loaded {
            key,
            name: full.display().to_string(),
            bytes,
        })
    }
}

/// Reads and resolves the policy at `path`. Errors are rendered, ready to print, exit 2.
pub fn load(path: &Path, opts: &Options) -> Result<PolicyFile, SandboxError> {
    let bytes = std::fs::read(path)
        .map_err(|e| SandboxError::input(format!("{}: {}", path.display(), io_reason(&e))))?;
    load_bytes(&path.display().to_string(), &bytes, opts)
}

/// Resolves policy text already in memory (a preset, or a file read by the caller).
pub fn load_bytes(name: &str, bytes: &[u8], opts: &Options) -> Result<PolicyFile, SandboxError> {
    load_with(name, bytes, opts, &mut FsLoader)
}

/// Resolves policy text with includes read by `loader`.
pub fn load_with(
    name: &str,
    bytes: &[u8],
    opts: &Options,
    loader: &mut dyn Loader,
) -> Result<PolicyFile, SandboxError> {
    if oci::looks_like_json(bytes) {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| SandboxError::input(format!("{name}: not UTF-8")))?;
        let iopts = oci::Options {
            native: opts.native,
            caps: None,
            kernel: host_kernel(),
        };
        let imported = oci::import(text, name, &iopts)
            .map_err(|e| SandboxError::input(format!("{name}: {e}")))?;
        let mut pf = load_with(
            &format!("{name} (as OCI)"),
            imported.text.as_bytes(),
            opts,
            loader,
        )?;
        pf.notes = imported.warnings;
        return Ok(pf);
    }
    let file = syntax::load(name, bytes).map_err(|e| SandboxError::input(e.to_string()))?;
    let mut sources = SourceMap::new();
    let root = sources.add(file);
    match resolve::resolve(&mut sources, root, loader, opts) {
        Ok(resolved) => Ok(PolicyFile {
            sources,
            resolved,
            notes: Vec::new(),
        }),
        Err(diags) => Err(SandboxError::diagnostics(render_all(&diags, &sources))),
    }
}

/// This machine's kernel `(major, minor)`, for Docker's `minKernel` conditions.
pub fn host_kernel() -> Option<(u32, u32)> {
    let r = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    oci::parse_uname_release(&r)
}

/// Renders diagnostics and a closing count line.
pub fn render_all(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out: String = diags.iter().map(|d| d.render(sources)).collect();
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    if errors > 0 {
        out.push_str(&format!(
            "straitjacket: policy rejected: {}",
            plural(errors, "error")
        ));
        if warnings > 0 {
            out.push_str(&format!(", {}", plural(warnings, "warning")));
        }
        out.push('\n');
    }
    out
}

impl PolicyFile {
    /// A policy made in code rather than read: `name` is what its reports call it.
    pub fn from_policy(name: &str, policy: straitjacket_policy::ir::Policy) -> PolicyFile {
        let mut sources = SourceMap::new();
        sources.add(SourceFile::new(name, ""));
        PolicyFile {
            sources,
            resolved: Resolved {
                policy,
                warnings: Vec::new(),
            },
            notes: Vec::new(),
        }
    }
}
