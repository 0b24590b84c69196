//! Classic-BPF instructions: the subset seccomp accepts, as a typed enum, and their encoding
//! as the kernel's 8-byte `struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }`.
//!
//! Opcode values are from `include/uapi/linux/filter.h` / `bpf_common.h`. Decoding accepts
//! only what `seccomp_check_filter` (kernel/seccomp.c) accepts; anything else is an error
//! naming the opcode.

use std::fmt;

/// Opcode building blocks (`include/uapi/linux/bpf_common.h`).
pub mod op {
    pub const LD: u16 = 0x00;
    pub const LDX: u16 = 0x01;
    pub const ST: u16 = 0x02;
    pub const STX: u16 = 0x03;
    pub const ALU: u16 = 0x04;
    pub const JMP: u16 = 0x05;
    pub const RET: u16 = 0x06;
    pub const MISC: u16 = 0x07;
    pub const W: u16 = 0x00;
    pub const IMM: u16 = 0x00;
    pub const ABS: u16 = 0x20;
    pub const MEM: u16 = 0x60;
    pub const LEN: u16 = 0x80;
    pub const ADD: u16 = 0x00;
    pub const SUB: u16 = 0x10;
    pub const MUL: u16 = 0x20;
    pub const DIV: u16 = 0x30;
    pub const OR: u16 = 0x40;
    pub const AND: u16 = 0x50;
    pub const LSH: u16 = 0x60;
    pub const RSH: u16 = 0x70;
    pub const NEG: u16 = 0x80;
    pub const MOD: u16 = 0x90;
    pub const XOR: u16 = 0xa0;
    pub const JA: u16 = 0x00;
    pub const JEQ: u16 = 0x10;
    pub const JGT: u16 = 0x20;
    pub const JGE: u16 = 0x30;
    pub const JSET: u16 = 0x40;
    pub const K: u16 = 0x00;
    pub const X: u16 = 0x08;
    /// `BPF_RVAL` source: the accumulator.
    pub const A: u16 = 0x10;
    pub const TAX: u16 = 0x00;
    pub const TXA: u16 = 0x80;
}

/// Number of scratch memory words (`BPF_MEMWORDS`).
pub const MEM_WORDS: u8 = 16;

/// The second operand of an ALU op or a conditional jump.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Src {
    K(u32),
    X,
}

/// An arithmetic operation on the accumulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
    Lsh,
    Rsh,
}

/// The test of a conditional jump.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JmpOp {
    /// A == operand
    Jeq,
    /// A > operand (unsigned)
    Jgt,
    /// A >= operand (unsigned)
    Jge,
    /// A & operand != 0
    Jset,
}

/// What a `ret` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RetSrc {
    K(u32),
    A,
}

/// One classic-BPF instruction of the subset seccomp accepts. Jump offsets are relative to the
/// next instruction, as in the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Insn {
    /// `ld [k]`: A = 32-bit word at byte offset k of `seccomp_data`.
    LdAbs(u32),
    /// `ld #k`
    LdImm(u32),
    /// `ld M[k]`
    LdMem(u8),
    /// `ld #len`: A = sizeof(seccomp_data).
    LdLen,
    /// `ldx #k`
    LdxImm(u32),
    /// `ldx M[k]`
    LdxMem(u8),
    /// `ldx #len`
    LdxLen,
    /// `st M[k]`
    St(u8),
    /// `stx M[k]`
    Stx(u8),
    /// A = A op operand
    Alu(AluOp, Src),
    /// A = -A
    Neg,
    /// `ja +k`
    Ja(u32),
    /// if (A op operand) skip jt else skip jf
    Jmp {
        op: JmpOp,
        src: Src,
        jt: u8,
        jf: u8,
    },
    Ret(RetSrc),
    /// X = A
    Tax,
    /// A = X
    Txa,
}

/// The kernel's 8-byte instruction record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

impl SockFilter {
    /// Size of one record in bytes.
    pub const SIZE: usize = 8;

    /// The record in host byte order, as `seccomp_export_bpf` and the kernel use it.
    pub fn to_bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0..2].copy_from_slice(&self.code.to_ne_bytes());
        b[2] = self.jt;
        b[3] = self.jf;
        b[4..8].copy_from_slice(&self.k.to_ne_bytes());
        b
    }

    pub fn from_bytes(b: [u8; 8]) -> SockFilter {
        SockFilter {
            code: u16::from_ne_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
}

/// An instruction record seccomp would not accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub code: u16,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "opcode {:#06x} is not allowed in a seccomp filter",
            self.code
        )
    }
}

impl std::error::Error for DecodeError {}

impl AluOp {
    fn code(self) -> u16 {
        match self {
            AluOp::Add => op::ADD,
            AluOp::Sub => op::SUB,
            AluOp::Mul => op::MUL,
            AluOp::Div => op::DIV,
            AluOp::Mod => op::MOD,
            AluOp::And => op::AND,
            AluOp::Or => op::OR,
            AluOp::Xor => op::XOR,
            AluOp::Lsh => op::LSH,
            AluOp::Rsh => op::RSH,
        }
    }
}

impl JmpOp {
    fn code(self) -> u16 {
        match self {
            JmpOp::Jeq => op::JEQ,
            JmpOp::Jgt => op::JGT,
            JmpOp::Jge => op::JGE,
            JmpOp::Jset => op::JSET,
        }
    }
}

fn src_bits(src: Src) -> (u16, u32) {
    match src {
        Src::K(k) => (op::K, k),
        Src::X => (op::X, 0),
    }
}

impl Insn {
    /// Encodes to the kernel's record.
    pub fn encode(self) -> SockFilter {
        let r = |code: u16, k: u32| SockFilter {
            code,
            jt: 0,
            jf: 0,
            k,
        };
        match self {
            Insn::LdAbs(k) => r(op::LD | op::W | op::ABS, k),
            Insn::LdImm(k) => r(op::LD | op::W | op::IMM, k),
            Insn::LdMem(m) => r(op::LD | op::W | op::MEM, u32::from(m)),
            Insn::LdLen => r(op::LD | op::W | op::LEN, 0),
            Insn::LdxImm(k) => r(op::LDX | op::W | op::IMM, k),
            Insn::LdxMem(m) => r(op::LDX | op::W | op::MEM, u32::from(m)),
            Insn::LdxLen => r(op::LDX | op::W | op::LEN, 0),
            Insn::St(m) => r(op::ST, u32::from(m)),
            Insn::Stx(m) => r(op::STX, u32::from(m)),
            Insn::Alu(a, s) => {
                let (sb, k) = src_bits(s);
                r(op::ALU | a.code() | sb, k)
            }
            Insn::Neg => r(op::ALU | op::NEG, 0),
            Insn::Ja(k) => r(op::JMP | op::JA, k),
            Insn::Jmp { op: j, src, jt, jf } => {
                let (sb, k) = src_bits(src);
                SockFilter {
                    code: op::JMP | j.code() | sb,
                    jt,
                    jf,
                    k,
                }
            }
            Insn::Ret(RetSrc::K(k)) => r(op::RET | op::K, k),
            Insn::Ret(RetSrc::A) => r(op::RET | op::A, 0),
            Insn::Tax => r(op::MISC | op::TAX, 0),
            Insn::Txa => r(op::MISC | op::TXA, 0),
        }
    }

    /// Decodes a record, accepting exactly the opcodes `seccomp_check_filter` accepts
    /// (after `bpf_check_classic`). `BPF_MOD` is refused there, so it is refused here.
    pub fn decode(f: SockFilter) -> Result<Insn, DecodeError> {
        let err = Err(DecodeError { code: f.code });
        let mem = |k: u32| u8::try_from(k).unwrap_or(u8::MAX);
        let src = |code: u16| {
            if code & op::X != 0 {
                Src::X
            } else {
                Src::K(f.k)
            }
        };
        let insn = match f.code {
            c if c == op::LD | op::W | op::ABS => Insn::LdAbs(f.k),
            c if c == op::LD | op::W | op::IMM => Insn::LdImm(f.k),
            c if c == op::LD | op::W | op::MEM => Insn::LdMem(mem(f.k)),
            c if c == op::LD | op::W | op::LEN => Insn::LdLen,
            c if c == op::LDX | op::W | op::IMM => Insn::LdxImm(f.k),
            c if c == op::LDX | op::W | op::MEM => Insn::LdxMem(mem(f.k)),
            c if c == op::LDX | op::W | op::LEN => Insn::LdxLen,
            c if c == op::ST => Insn::St(mem(f.k)),
            c if c == op::STX => Insn::Stx(mem(f.k)),
            c if c == op::ALU | op::NEG => Insn::Neg,
            c if c & 0x07 == op::ALU => {
                let a = match c & 0xf0 {
                    op::ADD => AluOp::Add,
                    op::SUB => AluOp::Sub,
                    op::MUL => AluOp::Mul,
                    op::DIV => AluOp::Div,
                    op::OR => AluOp::Or,
                    op::AND => AluOp::And,
                    op::LSH => AluOp::Lsh,
                    op::RSH => AluOp::Rsh,
                    op::XOR => AluOp::Xor,
                    _ => return err,
                };
                if c & !0xf8 != op::ALU {
                    return err;
                }
                Insn::Alu(a, src(c))
            }
            c if c == op::JMP | op::JA => Insn::Ja(f.k),
            c if c & 0x07 == op::JMP && c & !0xf8 == op::JMP => {
                let j = match c & 0xf0 {
                    op::JEQ => JmpOp::Jeq,
                    op::JGT => JmpOp::Jgt,
                    op::JGE => JmpOp::Jge,
                    op::JSET => JmpOp::Jset,
                    _ => return err,
                };
                Insn::Jmp {
                    op: j,
                    src: src(c),
                    jt: f.jt,
                    jf: f.jf,
                }
            }
            c if c == op::RET | op::K => Insn::Ret(RetSrc::K(f.k)),
            c if c == op::RET | op::A => Insn::Ret(RetSrc::A),
            c if c == op::MISC | op::TAX => Insn::Tax,
            c if c == op::MISC | op::TXA => Insn::Txa,
            _ => return err,
        };
        Ok(insn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let insns = [
            Insn::LdAbs(4),
            Insn::LdImm(7),
            Insn::LdMem(3),
            Insn::LdLen,
            Insn::LdxImm(9),
            Insn::LdxMem(15),
            Insn::LdxLen,
            Insn::St(1),
            Insn::Stx(2),
            Insn::Alu(AluOp::Add, Src::K(1)),
            Insn::Alu(AluOp::Xor, Src::X),
            Insn::Alu(AluOp::Rsh, Src::K(3)),
            Insn::Neg,
            Insn::Ja(5),
            Insn::Jmp {
                op: JmpOp::Jset,
                src: Src::K(0x40),
                jt: 1,
                jf: 2,
            },
            Insn::Jmp {
                op: JmpOp::Jge,
                src: Src::X,
                jt: 0,
                jf: 9,
            },
            Insn::Ret(RetSrc::K(0x7fff_0000)),
            Insn::Ret(RetSrc::A),
            Insn::Tax,
            Insn::Txa,
        ];
        for i in insns {
            let rec = i.encode();
            assert_eq!(SockFilter::from_bytes(rec.to_bytes()), rec);
            assert_eq!(Insn::decode(rec), Ok(i), "{i:?}");
        }
    }

    #[test]
    fn refuses_what_seccomp_refuses() {
        // BPF_MOD, BPF_LD|BPF_B|BPF_ABS, BPF_LDX|BPF_B|BPF_MSH
        for code in [0x94u16, 0x30, 0xb1] {
            assert!(Insn::decode(SockFilter {
                code,
                jt: 0,
                jf: 0,
                k: 0
            })
            .is_err());
        }
    }
}
