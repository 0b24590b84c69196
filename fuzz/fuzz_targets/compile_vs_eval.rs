//! Policies built from fuzz bytes (a small grammar over real syscalls, arguments and
//! constants): every one that resolves must compile, and the emulator must agree with the
//! rules' meaning on calls derived from the same bytes.
//!
//! The check itself is `checks/compile_vs_eval.rs`; `cargo test` replays the seeds and regressions
//! through it on stable (crates/straitjacket-policy/tests/fuzz_regressions.rs).
#![no_main]

mod checks;
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::compile_vs_eval::check(data));
