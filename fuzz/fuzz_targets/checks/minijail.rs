//! Any bytes as a minijail policy and as an ftrace seed table: import returns policy text or
//! an error, never panics or hangs (`@include` of itself included); a resolved import
//! compiles and the emulator agrees with its rules. An ftrace table is also a policy of its
//! own: where both it and its import resolve, they decide every derived call alike.

use straitjacket_policy::arch::Arch;
use straitjacket_policy::import::{ftrace, minijail};
use straitjacket_policy::ir::eval;

/// The target's check of one input: panics on a defect, returns otherwise.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut rng = crate::common::Rng::new(data);

    // Includes: `self` is this very file (recursion must stay bounded), `small` a fixed
    // policy, anything else is missing.
    let mut include = |p: &str| -> Result<(String, String), String> {
        match p.rsplit('/').next().unwrap_or(p) {
            "self" | "self.policy" => Ok((p.to_string(), text.to_string())),
            "small.policy" => Ok((
                p.to_string(),
                "read: 1\nwrite: arg0 == 1 || arg0 == 2\n".to_string(),
            )),
            _ => Err("no such file".to_string()),
        }
    };
    if let Ok(imported) = minijail::import(text, "fuzz.policy", Arch::X86_64, &mut include) {
        if let Some(policy) = crate::common::resolve(&imported.text) {
            let calls = crate::common::derived(&[&policy], &mut rng, 2);
            crate::common::compiles_and_agrees(&policy, &calls, &imported.text);
        }
    }

    if let Ok(imported) = ftrace::import(text, "fuzz.txt") {
        let Some(policy) = crate::common::resolve(&imported.text) else {
            return;
        };
        let calls = crate::common::derived(&[&policy], &mut rng, 2);
        crate::common::compiles_and_agrees(&policy, &calls, &imported.text);
        // Only a pure table (no comment lines, which the importer skips) is also a policy.
        let table = text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('{'));
        if !table || !text.contains('{') {
            return;
        }
        let native = crate::common::resolve(text);
        let Some(native) = native else {
            panic!(
                "the import resolves but the table itself does not\n{text}\n--- imported ---\n{}",
                imported.text
            )
        };
        for d in &crate::common::derived(&[&policy, &native], &mut rng, 2) {
            assert_eq!(
                eval::decide(&native, d).0,
                eval::decide(&policy, d).0,
                "ftrace table vs its import\n{text}\n--- imported ---\n{}\n{d:?}",
                imported.text
            );
        }
    }
}
