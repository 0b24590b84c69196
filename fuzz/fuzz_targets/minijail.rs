//! Any bytes as a minijail policy and as an ftrace seed table: import returns policy text or
//! an error, never panics or hangs (`@include` of itself included); a resolved import
//! compiles and the emulator agrees with its rules. An ftrace table is also a policy of its
//! own: where both it and its import resolve, they decide every derived call alike.
//!
//! The check itself is `checks/minijail.rs`; `cargo test` replays the seeds and regressions
//! through it on stable (crates/straitjacket-policy/tests/fuzz_regressions.rs).
#![no_main]

mod checks;
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::minijail::check(data));
