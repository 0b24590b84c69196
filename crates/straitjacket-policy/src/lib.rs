//! straitjacket's pure pipeline, from policy text to seccomp-BPF and back:
//!
//! ```text
//! text ──syntax::parse──▶ ast ──resolve──▶ ir::Policy ──compile──▶ bpf::Program
//!                                                                 ├─▶ export (raw, hex, C, OCI)
//!                                                                 └─▶ bpf::vm (emulate)
//! ```
//!
//! No system calls, no `unsafe`: everything here runs and is tested anywhere, unprivileged.
#![forbid(unsafe_code)]

pub mod action;
pub mod arch;
pub mod bpf;
pub mod diag;
pub mod elf;
pub mod ir;
pub mod syntax;

pub use action::Action;
pub use arch::{Arch, SyscallNr};
pub mod compile;
pub mod decode;
pub mod export;
pub mod groups;
pub mod import;
pub mod learn;
pub mod resolve;
pub mod supervised;
pub mod vectors;
