//! The body of every fuzz target, as a plain function of the input: the fuzz targets call
//! them under libFuzzer, and the workspace's stable `cargo test` replays the committed seeds
//! and regressions through them (crates/straitjacket-policy/tests/fuzz_regressions.rs).
#![allow(dead_code)]

pub mod compile_vs_eval;
pub mod decode;
pub mod elf;
pub mod minijail;
pub mod oci;
pub mod parse;
pub mod vm;
