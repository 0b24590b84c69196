//! Resolved policy to a seccomp-BPF program.
//!
//! [`lower`] builds a hash-consed decision graph with symbolic targets; [`assemble`] lays it
//! out backwards into instructions. The result is checked against the kernel's limit of
//! 4096 instructions (BPF_MAXINSNS, include/uapi/linux/bpf_common.h).

pub mod assemble;
pub mod lower;

use std::fmt;

use crate::bpf::Insn;
use crate::ir::Policy;

/// The kernel's limit on one filter's length.
pub const MAX_INSNS: usize = 4096;

/// Why a policy could not become a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// The program exceeds what one filter may hold.
    TooLong { insns: usize },
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::TooLong { insns } => write!(
                f,
                "the compiled filter has {insns} instructions; the kernel accepts at most {MAX_INSNS} ({} too many): \
                 simplify conditions or split the policy",
                insns - MAX_INSNS
            ),
        }
    }
}

impl std::error::Error for CompileError {}

/// Compiles a policy into the instructions of one filter.
pub fn compile_insns(policy: &Policy) -> Result<Vec<Insn>, CompileError> {
    let (graph, root) = lower::lower(policy);
    let insns = assemble::assemble(&graph, root);
    if insns.len() > MAX_INSNS {
        return Err(CompileError::TooLong { insns: insns.len() });
    }
    Ok(insns)
}
