//! The cBPF toolkit: instructions, validated programs, an assembler with labels, the
//! emulator, the disassembler and the kernel's action-cache prover. Pure: no OS calls.

pub mod data;
pub mod insn;

pub use data::SeccompData;
pub use insn::{AluOp, Insn, JmpOp, RetSrc, SockFilter, Src};
