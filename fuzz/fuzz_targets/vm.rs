//! Any bytes as a raw filter: the checker accepts or refuses it; an accepted program runs to
//! a return within its length on any input (jumps only go forward).
//!
//! The check itself is `checks/vm.rs`; `cargo test` replays the seeds and regressions
//! through it on stable (crates/straitjacket-policy/tests/fuzz_regressions.rs).
#![no_main]

mod checks;
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::vm::check(data));
