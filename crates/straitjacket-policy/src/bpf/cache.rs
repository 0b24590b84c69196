//! The kernel's action-cache prover, reimplemented (`seccomp_is_const_allow`,
//! kernel/seccomp.c, Linux ≥ 5.11).
//!
//! When a filter is attached, the kernel walks it once per syscall number of each native/compat
//! arch with `seccomp_data.nr` and `.arch` fixed and everything else unknown. Only these are
//! followed: `ld [nr]`, `ld [arch]`, `ja`, `jeq/jge/jgt/jset` with a constant, `and #k`, and
//! `ret #k`. Since nr and arch are constants, there is exactly one path; if it ends in a `ret`
//! whose value is *exactly* `SECCOMP_RET_ALLOW` (0x7fff0000, no data), the number is cached as
//! always-allow and later calls skip every BPF filter. Any other instruction on the path
//! (a load of an argument or `ip`, an X operand, scratch memory, `ret a`…) makes it
//! unprovable, and the filter runs on every call of that number.
//!
//! Kernel details worth knowing when shaping filters:
//! - The bitmap covers numbers 0..NR_syscalls of the native arch (and of the compat arch,
//!   i386 on x86-64). x32 numbers (bit 30 set) are beyond it and never cached.
//! - The cache of a new filter is intersected with the previous filter's: stacking can only
//!   remove numbers.
//! - Since 6.11/6.16 the kernel also treats `uretprobe`/`uprobe` as allowed for the native
//!   arch before looking at the filter (`seccomp_uprobe_exception`); that is not a property of
//!   the filter and is not modelled here.

use super::data::SeccompData;
use super::insn::{AluOp, Insn, JmpOp, RetSrc, Src};
use super::program::Program;
use crate::action::ret;

/// The result of walking a program for one (arch, nr).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The path ends in `ret ALLOW`: the kernel caches this number.
    ConstAllow,
    /// The path ends in a constant `ret` of another value (at instruction `index`).
    ConstOther { index: usize, ret: u32 },
    /// The path reaches an instruction the kernel does not follow.
    NotProvable { index: usize, insn: Insn },
}

/// Walks `prog` as `seccomp_is_const_allow` does for `seccomp_data { nr, arch }`.
pub fn verdict(prog: &Program, audit_arch: u32, nr: u32) -> Verdict {
    let insns = prog.insns();
    let mut reg: u32 = 0;
    let mut pc = 0usize;
    while pc < insns.len() {
        let insn = insns[pc];
        match insn {
            Insn::LdAbs(k) if k == SeccompData::OFFSET_NR => reg = nr,
            Insn::LdAbs(k) if k == SeccompData::OFFSET_ARCH => reg = audit_arch,
            Insn::Ret(RetSrc::K(k)) => {
                return if k == ret::ALLOW {
                    Verdict::ConstAllow
                } else {
                    Verdict::ConstOther { index: pc, ret: k }
                };
            }
            Insn::Ja(k) => pc += k as usize,
            Insn::Jmp {
                op,
                src: Src::K(k),
                jt,
                jf,
            } => {
                let taken = match op {
                    JmpOp::Jeq => reg == k,
                    JmpOp::Jge => reg >= k,
                    JmpOp::Jgt => reg > k,
                    JmpOp::Jset => reg & k != 0,
                };
                pc += usize::from(if taken { jt } else { jf });
            }
            Insn::Alu(AluOp::And, Src::K(k)) => reg &= k,
            _ => return Verdict::NotProvable { index: pc, insn },
        }
        pc += 1;
    }
    // A checked program ends in a ret; the kernel WARNs here.
    Verdict::NotProvable {
        index: insns.len() - 1,
        insn: insns[insns.len() - 1],
    }
}

/// True when the kernel caches `nr` of `audit_arch` as always-allow for this program.
pub fn is_const_allow(prog: &Program, audit_arch: u32, nr: u32) -> bool {
    verdict(prog, audit_arch, nr) == Verdict::ConstAllow
}

/// The kernel's bitmap for one arch: entry `nr` (for `nr` in `0..count`) tells whether the
/// number is provably always allowed (`seccomp_cache_prepare_bitmap`, one filter alone).
pub fn const_allow_bitmap(prog: &Program, audit_arch: u32, count: u32) -> Vec<bool> {
    (0..count)
        .map(|nr| is_const_allow(prog, audit_arch, nr))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::bpf::asm::{Assembler, Target};

    const X86_64: u32 = 0xc000_003e;
    const I386: u32 = 0x4000_0003;

    /// arch check; nr 0 and 1 allowed outright, nr 2 allowed only if args[0] == 0, nr ≥ 400
    /// errno, the rest killed.
    fn program() -> Program {
        let mut a = Assembler::new();
        a.ld_arch()
            .jeq(X86_64, Target::Next, "kill")
            .ld_nr()
            .jge(400, "enosys", Target::Next)
            .jeq(0, "allow", Target::Next)
            .jeq(1, "allow", Target::Next)
            .jeq(2, Target::Next, "kill")
            .ld_arg_lo(0)
            .jeq(0, "allow", "kill")
            .label("enosys")
            .ret(Action::Errno(38))
            .label("allow")
            .ret(Action::Allow)
            .label("kill")
            .ret(Action::KillProcess);
        a.assemble().unwrap()
    }

    #[test]
    fn proves_argument_free_allows() {
        let p = program();
        let bits = const_allow_bitmap(&p, X86_64, 450);
        let allowed: Vec<usize> = (0..450).filter(|&n| bits[n]).collect();
        assert_eq!(allowed, [0, 1]);
        assert_eq!(
            verdict(&p, X86_64, 2),
            Verdict::NotProvable {
                index: 7,
                insn: Insn::LdAbs(SeccompData::arg_lo(0))
            }
        );
        assert_eq!(
            verdict(&p, X86_64, 3),
            Verdict::ConstOther {
                index: 11,
                ret: Action::KillProcess.to_ret()
            }
        );
        assert!(matches!(
            verdict(&p, X86_64, 401),
            Verdict::ConstOther { index: 9, .. }
        ));
        // The wrong arch never reaches an allow.
        assert!(!is_const_allow(&p, I386, 0));
    }

    #[test]
    fn follows_ja_jset_and_and() {
        let mut a = Assembler::new();
        a.ld_nr()
            .alu(AluOp::And, Src::K(0xff))
            .jset(0x80, "deny", Target::Next)
            .ja("allow")
            .label("deny")
            .ret(Action::Errno(1))
            .label("allow")
            .ret(Action::Allow);
        let p = a.assemble().unwrap();
        assert!(is_const_allow(&p, X86_64, 0x17f00));
        assert!(!is_const_allow(&p, X86_64, 0x80));
    }

    #[test]
    fn refuses_what_the_kernel_does_not_follow() {
        // ALLOW with data is not exactly SECCOMP_RET_ALLOW.
        let mut a = Assembler::new();
        a.ret_k(ret::ALLOW | 1);
        assert!(!is_const_allow(&a.assemble().unwrap(), X86_64, 0));
        // ret a, even when A is a constant.
        let mut a = Assembler::new();
        a.ld_imm(ret::ALLOW).ret_a();
        assert!(matches!(
            verdict(&a.assemble().unwrap(), X86_64, 0),
            Verdict::NotProvable { index: 0, .. }
        ));
        // X operands.
        let mut a = Assembler::new();
        a.ld_nr()
            .jmp(JmpOp::Jeq, Src::X, Target::Next, Target::Next)
            .ret(Action::Allow);
        assert!(!is_const_allow(&a.assemble().unwrap(), X86_64, 0));
        // Other ALU ops, even on nr.
        let mut a = Assembler::new();
        a.ld_nr().alu(AluOp::Add, Src::K(1)).ret(Action::Allow);
        assert!(!is_const_allow(&a.assemble().unwrap(), X86_64, 0));
        // A plain allow-everything filter is provable for every number.
        let mut a = Assembler::new();
        a.ret(Action::Allow);
        assert!(const_allow_bitmap(&a.assemble().unwrap(), X86_64, 500)
            .iter()
            .all(|&b| b));
    }
}
