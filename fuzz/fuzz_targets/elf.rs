//! Any bytes as a `straitjacket strict` guest: the ELF validator accepts or refuses them —
//! never panics, never executes anything. An accepted image keeps the module's invariants
//! (segments inside the file and inside the guest's part of the address space, no overlap,
//! the entry in an executable segment), its page regions are sorted, disjoint and aligned,
//! and the initial stack builds below its top.
//!
//! The check itself is `checks/elf.rs`; `cargo test` replays the seeds and regressions
//! through it on stable (crates/straitjacket-policy/tests/fuzz_regressions.rs).
#![no_main]

mod checks;
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::elf::check(data));
