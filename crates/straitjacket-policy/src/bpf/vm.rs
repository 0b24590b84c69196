//! The cBPF emulator: runs a [`Program`] on a [`SeccompData`] exactly as the kernel does.
//!
//! The kernel never interprets classic BPF directly: `bpf_prepare_filter` converts it to eBPF
//! (`bpf_convert_filter`, net/core/filter.c) and runs that (interpreter `___bpf_prog_run` in
//! kernel/bpf/core.c, or a JIT). The semantics below are those of the converted program:
//!
//! - A and X start at 0 (the conversion's prologue XORs both) and stay 32-bit: every ALU op is
//!   `BPF_ALU` (32-bit, result zero-extended), arithmetic wraps.
//! - `ld [k]` is a 32-bit native-endian load from `seccomp_data` (`BPF_LDX_MEM(BPF_W, A, CTX,
//!   k)`); `ld #len` / `ldx #len` were rewritten to the immediate 64 by `seccomp_check_filter`.
//! - Division is unsigned 32-bit. Division by a constant 0 is refused at load time
//!   (`bpf_check_classic`). For `div x` the conversion emits `if X != 0 goto +2; A ^= A;
//!   exit` before the divide: **division by X = 0 makes the filter return 0**, which is
//!   `SECCOMP_RET_KILL_THREAD`. `BPF_MOD` never reaches here (seccomp refuses it).
//! - Shifts: by a constant, the count is < 32 (`bpf_check_classic` refuses k ≥ 32). By X, the
//!   conversion maps `lsh x`/`rsh x` to 32-bit eBPF shifts; the interpreter computes
//!   `(u32)A << (X & 31)` (kernel/bpf/core.c, `SHT` macro), and the x86-64 and arm64 JITs emit
//!   32-bit shift instructions whose hardware also takes the count modulo 32. So **a shift by
//!   X uses X mod 32** (the live test in crates/straitjacket/tests/kernel_vm.rs checks it on
//!   the running kernel).
//! - Conditional jumps compare A with the operand as unsigned 32-bit values (a negative `k` is
//!   zero-extended into a temporary register first).
//! - Scratch memory is 16 words; the checker guarantees no word is read before it is written.
//!
//! The emulator counts executed instructions (the cost per syscall the design asks to report).

use super::data::SeccompData;
use super::insn::{AluOp, Insn, JmpOp, RetSrc, Src, MEM_WORDS};
use super::program::Program;
use crate::action::Action;

/// What a run of a filter produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The filter's 32-bit return value.
    pub ret: u32,
    /// Instructions executed, the `ret` (or the faulting `div`) included.
    pub executed: usize,
}

impl Outcome {
    /// What the kernel does with the return value.
    pub fn action(&self) -> Action {
        Action::from_ret(self.ret)
    }
}

/// Runs `prog` on `data`.
pub fn run(prog: &Program, data: &SeccompData) -> Outcome {
    let insns = prog.insns();
    let mut a: u32 = 0;
    let mut x: u32 = 0;
    let mut mem = [0u32; MEM_WORDS as usize];
    let mut pc = 0usize;
    let mut executed = 0usize;
    loop {
        // A valid program ends in a ret and every jump lands inside it, so `pc` stays in range.
        let insn = insns[pc];
        executed += 1;
        pc += 1;
        match insn {
            Insn::LdAbs(k) => a = data.word(k).unwrap_or(0),
            Insn::LdImm(k) => a = k,
            Insn::LdMem(m) => a = mem[usize::from(m)],
            Insn::LdLen => a = SeccompData::SIZE,
            Insn::LdxImm(k) => x = k,
            Insn::LdxMem(m) => x = mem[usize::from(m)],
            Insn::LdxLen => x = SeccompData::SIZE,
            Insn::St(m) => mem[usize::from(m)] = a,
            Insn::Stx(m) => mem[usize::from(m)] = x,
            Insn::Alu(op, src) => {
                let v = match src {
                    Src::K(k) => k,
                    Src::X => x,
                };
                a = match op {
                    AluOp::Add => a.wrapping_add(v),
                    AluOp::Sub => a.wrapping_sub(v),
                    AluOp::Mul => a.wrapping_mul(v),
                    AluOp::Div => {
                        if v == 0 {
                            return Outcome { ret: 0, executed };
                        }
                        a / v
                    }
                    AluOp::Mod => {
                        // Unreachable for a checked program; kept total with the same rule.
                        if v == 0 {
                            return Outcome { ret: 0, executed };
                        }
                        a % v
                    }
                    AluOp::And => a & v,
                    AluOp::Or => a | v,
                    AluOp::Xor => a ^ v,
                    AluOp::Lsh => a << (v & 31),
                    AluOp::Rsh => a >> (v & 31),
                };
            }
            Insn::Neg => a = a.wrapping_neg(),
            Insn::Ja(k) => pc += k as usize,
            Insn::Jmp { op, src, jt, jf } => {
                let v = match src {
                    Src::K(k) => k,
                    Src::X => x,
                };
                let taken = match op {
                    JmpOp::Jeq => a == v,
                    JmpOp::Jgt => a > v,
                    JmpOp::Jge => a >= v,
                    JmpOp::Jset => a & v != 0,
                };
                pc += usize::from(if taken { jt } else { jf });
            }
            Insn::Ret(RetSrc::K(k)) => return Outcome { ret: k, executed },
            Insn::Ret(RetSrc::A) => return Outcome { ret: a, executed },
            Insn::Tax => x = a,
            Insn::Txa => a = x,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> SeccompData {
        SeccompData {
            nr: 39,
            arch: 0xc000_003e,
            instruction_pointer: 0x7fff_1234_5678_9abc,
            args: [
                0x1_0000_0003,
                0xffff_ffff_ffff_ff9c,
                7,
                0,
                0x8000_0000_0000_0000,
                42,
            ],
        }
    }

    /// Runs `body` followed by `ret a`.
    fn ret_a_after(body: &[Insn]) -> u32 {
        let mut v = body.to_vec();
        v.push(Insn::Ret(RetSrc::A));
        run(&Program::new(v).unwrap(), &data()).ret
    }

    fn alu(a: u32, op: AluOp, k: u32) -> (u32, u32) {
        let viak = ret_a_after(&[Insn::LdImm(a), Insn::Alu(op, Src::K(k))]);
        let viax = ret_a_after(&[Insn::LdxImm(k), Insn::LdImm(a), Insn::Alu(op, Src::X)]);
        (viak, viax)
    }

    #[test]
    fn loads() {
        let d = data();
        assert_eq!(ret_a_after(&[Insn::LdAbs(0)]), 39);
        assert_eq!(ret_a_after(&[Insn::LdAbs(4)]), 0xc000_003e);
        assert_eq!(
            ret_a_after(&[Insn::LdAbs(SeccompData::OFFSET_IP)]),
            d.instruction_pointer as u32
        );
        assert_eq!(ret_a_after(&[Insn::LdAbs(SeccompData::arg_lo(0))]), 3);
        assert_eq!(ret_a_after(&[Insn::LdAbs(SeccompData::arg_hi(0))]), 1);
        assert_eq!(
            ret_a_after(&[Insn::LdAbs(SeccompData::arg_lo(1))]),
            0xffff_ff9c
        );
        assert_eq!(
            ret_a_after(&[Insn::LdAbs(SeccompData::arg_hi(4))]),
            0x8000_0000
        );
        assert_eq!(ret_a_after(&[Insn::LdAbs(SeccompData::arg_lo(5))]), 42);
        assert_eq!(ret_a_after(&[Insn::LdImm(0xdead_beef)]), 0xdead_beef);
        assert_eq!(ret_a_after(&[Insn::LdLen]), 64);
        assert_eq!(ret_a_after(&[Insn::LdxLen, Insn::Txa]), 64);
        assert_eq!(ret_a_after(&[Insn::LdxImm(9), Insn::Txa]), 9);
    }

    #[test]
    fn registers_start_at_zero() {
        assert_eq!(ret_a_after(&[]), 0);
        assert_eq!(ret_a_after(&[Insn::Txa]), 0);
    }

    #[test]
    fn stores_and_scratch_memory() {
        assert_eq!(
            ret_a_after(&[
                Insn::LdImm(5),
                Insn::St(0),
                Insn::LdxImm(6),
                Insn::Stx(15),
                Insn::LdImm(0),
                Insn::LdMem(0),
                Insn::Tax,
                Insn::LdMem(15),
                Insn::Alu(AluOp::Add, Src::X),
            ]),
            11
        );
        assert_eq!(
            ret_a_after(&[Insn::LdImm(8), Insn::St(3), Insn::LdxMem(3), Insn::Txa]),
            8
        );
    }

    #[test]
    fn tax_txa() {
        assert_eq!(
            ret_a_after(&[Insn::LdImm(7), Insn::Tax, Insn::LdImm(1), Insn::Txa]),
            7
        );
        assert_eq!(
            ret_a_after(&[Insn::LdxImm(3), Insn::LdImm(9), Insn::Txa]),
            3
        );
    }

    #[test]
    fn alu_ops_k_and_x() {
        assert_eq!(alu(5, AluOp::Add, 7), (12, 12));
        assert_eq!(alu(u32::MAX, AluOp::Add, 2), (1, 1));
        assert_eq!(alu(5, AluOp::Sub, 7), (u32::MAX - 1, u32::MAX - 1));
        assert_eq!(alu(0x1_0001, AluOp::Mul, 0x1_0001), (0x2_0001, 0x2_0001));
        assert_eq!(alu(100, AluOp::Div, 7), (14, 14));
        assert_eq!(alu(0xffff_fffe, AluOp::Div, 2), (0x7fff_ffff, 0x7fff_ffff));
        assert_eq!(alu(0b1100, AluOp::And, 0b1010), (0b1000, 0b1000));
        assert_eq!(alu(0b1100, AluOp::Or, 0b1010), (0b1110, 0b1110));
        assert_eq!(alu(0b1100, AluOp::Xor, 0b1010), (0b0110, 0b0110));
        assert_eq!(alu(0x8000_0001, AluOp::Lsh, 1), (2, 2));
        assert_eq!(alu(0x8000_0001, AluOp::Rsh, 31), (1, 1));
        assert_eq!(alu(1, AluOp::Lsh, 0), (1, 1));
    }

    #[test]
    fn neg() {
        assert_eq!(ret_a_after(&[Insn::LdImm(1), Insn::Neg]), u32::MAX);
        assert_eq!(ret_a_after(&[Insn::LdImm(0), Insn::Neg]), 0);
        assert_eq!(
            ret_a_after(&[Insn::LdImm(0x8000_0000), Insn::Neg]),
            0x8000_0000
        );
    }

    #[test]
    fn shift_by_x_takes_the_count_mod_32() {
        let lsh = |a, x| {
            ret_a_after(&[
                Insn::LdxImm(x),
                Insn::LdImm(a),
                Insn::Alu(AluOp::Lsh, Src::X),
            ])
        };
        let rsh = |a, x| {
            ret_a_after(&[
                Insn::LdxImm(x),
                Insn::LdImm(a),
                Insn::Alu(AluOp::Rsh, Src::X),
            ])
        };
        assert_eq!(lsh(1, 32), 1);
        assert_eq!(lsh(1, 33), 2);
        assert_eq!(rsh(0x8000_0000, 63), 1);
        assert_eq!(rsh(0x8000_0000, 0xffff_ffe0), 0x8000_0000);
    }

    #[test]
    fn div_by_x_zero_returns_zero() {
        let p = Program::new(vec![
            Insn::LdImm(10),
            Insn::Alu(AluOp::Div, Src::X),
            Insn::Ret(RetSrc::K(Action::Allow.to_ret())),
        ])
        .unwrap();
        let o = run(&p, &data());
        assert_eq!(
            o,
            Outcome {
                ret: 0,
                executed: 2
            }
        );
        assert_eq!(o.action(), Action::KillThread);
    }

    fn jump(op: JmpOp, src: Src, a: u32, x: u32) -> Outcome {
        let p = Program::new(vec![
            Insn::LdxImm(x),
            Insn::LdImm(a),
            Insn::Jmp {
                op,
                src,
                jt: 1,
                jf: 0,
            },
            Insn::Ret(RetSrc::K(Action::Errno(2).to_ret())),
            Insn::Ret(RetSrc::K(Action::Errno(1).to_ret())),
        ])
        .unwrap();
        run(&p, &data())
    }

    /// true when the jump was taken.
    fn taken(op: JmpOp, a: u32, b: u32) -> bool {
        let k = jump(op, Src::K(b), a, 0);
        let x = jump(op, Src::X, a, b);
        assert_eq!(k, x, "{op:?} k and x disagree on {a:#x}, {b:#x}");
        assert_eq!(k.executed, 4);
        k.action() == Action::Errno(1)
    }

    #[test]
    fn jumps_k_and_x_taken_and_not() {
        assert!(taken(JmpOp::Jeq, 5, 5));
        assert!(!taken(JmpOp::Jeq, 5, 6));
        assert!(taken(JmpOp::Jgt, 6, 5));
        assert!(!taken(JmpOp::Jgt, 5, 5));
        // Unsigned: 0xffffff9c (-100 as int) is greater than 1.
        assert!(taken(JmpOp::Jgt, 0xffff_ff9c, 1));
        assert!(!taken(JmpOp::Jgt, 1, 0x8000_0000));
        assert!(taken(JmpOp::Jge, 5, 5));
        assert!(!taken(JmpOp::Jge, 4, 5));
        assert!(taken(JmpOp::Jge, 0x8000_0000, 0x7fff_ffff));
        assert!(taken(JmpOp::Jset, 0b1010, 0b0010));
        assert!(!taken(JmpOp::Jset, 0b1010, 0b0101));
    }

    #[test]
    fn ja_and_counts() {
        let p = Program::new(vec![
            Insn::Ja(2),
            Insn::Ret(RetSrc::K(Action::KillProcess.to_ret())),
            Insn::Ret(RetSrc::K(Action::KillProcess.to_ret())),
            Insn::Ret(RetSrc::K(Action::Log.to_ret())),
        ])
        .unwrap();
        let o = run(&p, &data());
        assert_eq!(o.action(), Action::Log);
        assert_eq!(o.executed, 2);
    }

    #[test]
    fn ret_k_and_a() {
        let p = Program::new(vec![Insn::Ret(RetSrc::K(Action::Trace(7).to_ret()))]).unwrap();
        assert_eq!(run(&p, &data()).action(), Action::Trace(7));
        assert_eq!(
            Action::from_ret(ret_a_after(&[Insn::LdImm(Action::Errno(13).to_ret())])),
            Action::Errno(13)
        );
    }
}
