//! Any bytes as an OCI / Docker / Podman seccomp profile (or, when it is not JSON, a
//! Kubernetes SeccompProfile in YAML): import returns policy text or an error, never panics.
//! What it returns either resolves or is a diagnostic; a resolved import compiles and the
//! emulator agrees with its rules; and where the policy exports back to OCI, the exported
//! profile imports again and decides every derived call as the original did.
//!
//! The check itself is `checks/oci.rs`; `cargo test` replays the seeds and regressions
//! through it on stable (crates/straitjacket-policy/tests/fuzz_regressions.rs).
#![no_main]

mod checks;
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::oci::check(data));
