//! Any bytes as a policy: load, parse and resolve must return a value or diagnostics whose
//! spans lie inside the file — never panic, never hang.
//!
//! The check itself is `checks/parse.rs`; `cargo test` replays the seeds and regressions
//! through it on stable (crates/straitjacket-policy/tests/fuzz_regressions.rs).
#![no_main]

mod checks;
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::parse::check(data));
