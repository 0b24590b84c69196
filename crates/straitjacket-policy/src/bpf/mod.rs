//! The cBPF toolkit: instructions, validated programs, an assembler with labels, the
//! emulator, the disassembler and the kernel's action-cache prover. Pure: no OS calls.
//!
//! ```text
//! Vec<Insn> ──Program::new (the kernel's checks)──▶ Program ──vm::run──▶ Outcome (ret, count)
//! raw bytes ──Program::from_bytes──────────────────┘        ├─disasm──▶ text
//! asm::Assembler (labels) ──assemble──────────────▶ Program └─cache───▶ constant-allow proof
//! ```

pub mod asm;
pub mod cache;
pub mod data;
pub mod disasm;
pub mod insn;
pub mod program;
pub mod vm;

pub use asm::{AsmError, Assembler, Target};
pub use data::SeccompData;
pub use insn::{AluOp, Insn, JmpOp, RetSrc, SockFilter, Src};
pub use program::{InsnError, Program, ProgramError, MAX_INSNS};
pub use vm::{run, Outcome};
