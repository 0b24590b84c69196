//! Any bytes as an OCI / Docker / Podman seccomp profile (or, when it is not JSON, a
//! Kubernetes SeccompProfile in YAML): import returns policy text or an error, never panics.
//! What it returns either resolves or is a diagnostic; a resolved import compiles and the
//! emulator agrees with its rules; and where the policy exports back to OCI, the exported
//! profile imports again and decides every derived call as the original did.

use straitjacket_policy::arch::Arch;
use straitjacket_policy::export::oci as export_oci;
use straitjacket_policy::import::{k8s, oci};
use straitjacket_policy::ir::eval;

fn opts() -> oci::Options {
    oci::Options {
        native: Arch::X86_64,
        caps: None,
        kernel: Some((6, 1)),
    }
}

/// The target's check of one input: panics on a defect, returns otherwise.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let json = if oci::looks_like_json(data) {
        text.to_string()
    } else {
        match k8s::to_oci_json(text, None) {
            Ok(j) => j,
            Err(_) => return,
        }
    };
    let Ok(imported) = oci::import(&json, "fuzz.json", &opts()) else {
        return;
    };
    let Some(policy) = crate::common::resolve(&imported.text) else {
        return;
    };
    let mut rng = crate::common::Rng::new(data);
    let calls = crate::common::derived(&[&policy], &mut rng, 2);
    crate::common::compiles_and_agrees(&policy, &calls, &imported.text);

    let eopts = export_oci::Options {
        listener_path: Some("/run/fuzz.sock".into()),
        name: None,
    };
    let Ok((exported, _)) = export_oci::oci(&policy, &eopts) else {
        return;
    };
    let again = oci::import(&exported, "exported.json", &opts()).unwrap_or_else(|e| {
        panic!(
            "an exported profile does not import: {e}\n{}\n{exported}",
            imported.text
        )
    });
    let policy2 = crate::common::resolve(&again.text).unwrap_or_else(|| {
        panic!(
            "a re-imported profile does not resolve\n{}\n{}",
            imported.text, again.text
        )
    });
    let calls = crate::common::derived(&[&policy, &policy2], &mut rng, 2);
    for d in &calls {
        assert_eq!(
            eval::decide(&policy, d).0,
            eval::decide(&policy2, d).0,
            "export + import changed a decision\n{}\n--- exported ---\n{exported}\n--- re-imported ---\n{}\n{d:?}",
            imported.text,
            again.text
        );
    }
}
