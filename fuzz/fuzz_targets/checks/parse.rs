//! Any bytes as a policy: load, parse and resolve must return a value or diagnostics whose
//! spans lie inside the file — never panic, never hang.

use straitjacket_policy::arch::Arch;
use straitjacket_policy::diag::SourceMap;
use straitjacket_policy::resolve::{resolve, NoIncludes, Options};
use straitjacket_policy::syntax;

/// The target's check of one input: panics on a defect, returns otherwise.
pub fn check(data: &[u8]) {
    let Ok(file) = syntax::load("fuzz.sj", data) else {
        return;
    };
    let len = file.text.len() as u32;
    let mut sources = SourceMap::new();
    let id = sources.add(file);
    let diags = match resolve(
        &mut sources,
        id,
        &mut NoIncludes,
        &Options {
            native: Arch::X86_64,
        },
    ) {
        Ok(r) => r.warnings,
        Err(d) => d,
    };
    for d in &diags {
        if let Some(s) = d.span {
            assert!(
                s.start <= s.end && s.end <= len,
                "span {s:?} outside a file of {len} bytes"
            );
        }
        let _ = d.render(&sources);
    }
}
