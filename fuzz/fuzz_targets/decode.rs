//! The supervisor's argument decoding on any call: any ABI, number and registers, and string
//! arguments read from a fake tracee memory holding fuzz bytes. It never panics, and the line
//! it prints is one line of printable ASCII — a hostile program's strings cannot put control
//! characters or escape sequences into the user's terminal.
//!
//! The check itself is `checks/decode.rs`; `cargo test` replays the seeds and regressions
//! through it on stable (crates/straitjacket-policy/tests/fuzz_regressions.rs).
#![no_main]

mod checks;
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::decode::check(data));
