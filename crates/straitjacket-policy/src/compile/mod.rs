//! Resolved policy to a seccomp-BPF program.
//!
//! [`lower`] builds a hash-consed decision graph with symbolic targets; [`assemble`] lays it
//! out backwards into instructions. The result is checked against the kernel's limit of
//! 4096 instructions (BPF_MAXINSNS, include/uapi/linux/bpf_common.h).

pub mod assemble;
pub mod dispatch;
pub mod lower;
pub mod report;

use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use crate::bpf::{Insn, Program};
use crate::ir::Policy;

/// The kernel's limit on one filter's length.
pub const MAX_INSNS: usize = 4096;

/// A fast hasher for the compiler's small integer keys (FxHash, as rustc uses): the
/// compiler hashes nodes and memo keys it builds itself, so HashDoS resistance buys nothing
/// and SipHash was a visible share of compile time.
#[derive(Clone, Copy, Debug, Default)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds [`FxHasher`]s.
pub type FxBuild = BuildHasherDefault<FxHasher>;

/// Why a policy could not become a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// The program exceeds what one filter may hold.
    TooLong { insns: usize },
    /// The compiler produced a program the kernel's checker would refuse (a bug).
    Invalid(String),
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
            CompileError::Invalid(why) => write!(f, "internal error: the compiled filter is invalid: {why}"),
        }
    }
}

impl std::error::Error for CompileError {}

/// Compiles a policy into one validated filter program.
pub fn compile(policy: &Policy) -> Result<Program, CompileError> {
    let insns = compile_insns(policy)?;
    // The compiler only emits what the checker accepts; a refusal here is a compiler bug,
    // reported rather than hidden.
    Program::new(insns).map_err(|e| CompileError::Invalid(e.to_string()))
}

/// Compiles a policy into the instructions of one filter.
pub fn compile_insns(policy: &Policy) -> Result<Vec<Insn>, CompileError> {
    let (graph, root) = lower::lower(policy);
    let insns = assemble::assemble(&graph, root);
    if insns.len() > MAX_INSNS {
        return Err(CompileError::TooLong { insns: insns.len() });
    }
    Ok(insns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::arch::{Arch, SyscallNr, Width};
    use crate::bpf::{vm, SeccompData};
    use crate::ir::{eval, ArgIndex, Cmp, CmpOp, Cond, Filter, Rule};
    use std::collections::BTreeMap;

    fn eq(arg: usize, width: Width, value: u64) -> Cond {
        Cond::Cmp(Cmp {
            arg: ArgIndex::new(arg).unwrap(),
            width,
            signed: false,
            op: CmpOp::Eq,
            mask: width.mask(),
            value,
        })
    }

    fn policy(rules: Vec<Rule>) -> Policy {
        let read = Arch::X86_64.syscall("read").unwrap().nr;
        let mut syscalls = BTreeMap::new();
        syscalls.insert(SyscallNr(read), rules);
        Policy {
            filters: vec![Filter {
                arch: Arch::X86_64,
                default: Action::KillProcess,
                default_origin: None,
                unknown: Action::Errno(38),
                syscalls,
            }],
            fs: vec![],
            settings: vec![],
        }
    }

    #[test]
    fn long_jumps_go_through_trampolines() {
        // 400 distinct returns force conditional jumps far beyond 255 instructions.
        let rules = (0..400u64)
            .map(|i| Rule {
                action: Action::Errno(i as u16 + 1),
                cond: eq(0, Width::W64, i * 3),
                origin: None,
                span: None,
            })
            .collect();
        let p = policy(rules);
        let prog = compile(&p).unwrap();
        assert!(prog.len() > 1000, "{}", prog.len());
        let far = prog
            .insns()
            .iter()
            .filter(|i| matches!(i, Insn::Ja(_)))
            .count();
        let kills = prog
            .insns()
            .iter()
            .filter(|i| **i == Insn::Ret(crate::bpf::RetSrc::K(Action::KillProcess.to_ret())))
            .count();
        assert!(
            far + kills > 2,
            "no trampoline was needed: {far} ja, {kills} kill rets"
        );
        let read = Arch::X86_64.syscall("read").unwrap().nr as i32;
        for v in [0u64, 1, 3, 300, 1500, 2097, 2098, 5000, 0x1_0000_0000] {
            let d = SeccompData {
                nr: read,
                arch: Arch::X86_64.audit_arch(),
                instruction_pointer: 0,
                args: [v, 0, 0, 0, 0, 0],
            };
            assert_eq!(
                vm::run(&prog, &d).action(),
                eval::eval(&p, &d),
                "arg0 = {v}"
            );
        }
    }

    #[test]
    fn too_long_is_refused_with_the_excess() {
        let rules = (0..3000u64)
            .map(|i| Rule {
                action: Action::Errno((i % 4000) as u16),
                cond: Cond::Or(vec![eq(0, Width::W64, i), eq(1, Width::W64, i)]),
                origin: None,
                span: None,
            })
            .collect();
        let err = compile(&policy(rules)).unwrap_err();
        let CompileError::TooLong { insns } = err else {
            panic!("{err:?}")
        };
        assert!(insns > MAX_INSNS);
        assert!(err.to_string().contains("too many"), "{err}");
    }

    #[test]
    fn a_32_bit_argument_is_one_load_and_one_compare() {
        let rules = vec![Rule {
            action: Action::Allow,
            cond: Cond::Or(vec![eq(0, Width::W32, 1), eq(0, Width::W32, 2)]),
            origin: None,
            span: None,
        }];
        let insns = compile_insns(&policy(rules)).unwrap();
        let loads = insns
            .iter()
            .filter(|i| matches!(i, Insn::LdAbs(o) if *o == SeccompData::arg_lo(0)))
            .count();
        assert_eq!(loads, 1, "{insns:?}");
        assert!(!insns
            .iter()
            .any(|i| matches!(i, Insn::LdAbs(o) if *o == SeccompData::arg_hi(0))));
    }
}
