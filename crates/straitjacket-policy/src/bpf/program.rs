//! A validated seccomp program: a `Vec<Insn>` the kernel would accept.
//!
//! A [`Program`] is built only through [`Program::new`] (or [`Program::from_bytes`] for a raw
//! filter file), which runs the same checks the kernel runs when a filter is installed
//! (`seccomp_prepare_filter` → `bpf_prog_create_from_user` → `bpf_check_classic` then
//! `seccomp_check_filter`):
//!
//! - 1..=4096 instructions (`BPF_MAXINSNS`, `seccomp_prepare_filter`);
//! - only the opcodes `seccomp_check_filter` lists (kernel/seccomp.c) — so no `BPF_MOD`, which
//!   `bpf_check_classic` accepts for socket filters but seccomp does not list;
//! - `ld [k]` with k 4-byte aligned and k < 64 = sizeof(struct seccomp_data);
//! - division by the constant 0 refused; shifts by a constant ≥ 32 refused
//!   (`bpf_check_classic`, net/core/filter.c);
//! - scratch memory index < 16 (`BPF_MEMWORDS`);
//! - every jump lands inside the program (`ja`: k < len - pc - 1; conditional:
//!   pc + 1 + jt < len and pc + 1 + jf < len);
//! - the last instruction is a `ret`;
//! - no scratch word is read on any path before it is written (`check_load_and_stores`,
//!   reproduced exactly, including its conservative merge at a `ret`).
//!
//! Everything downstream (emulator, disassembler, cache prover, installer) may rely on these.

use std::fmt;

use super::data::SeccompData;
use super::insn::{AluOp, DecodeError, Insn, SockFilter, Src, MEM_WORDS};

/// `BPF_MAXINSNS` (include/uapi/linux/bpf_common.h).
pub const MAX_INSNS: usize = 4096;

/// A classic-BPF program the kernel would accept as a seccomp filter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Program {
    insns: Vec<Insn>,
}

/// Why a program is not a valid seccomp filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgramError {
    /// No instructions at all.
    Empty,
    /// More than [`MAX_INSNS`] instructions.
    TooLong { len: usize },
    /// A raw filter whose size is not a multiple of 8 bytes.
    BadSize { bytes: usize },
    /// One instruction is refused.
    Insn { index: usize, reason: InsnError },
}

/// Why one instruction is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InsnError {
    /// An opcode seccomp does not accept.
    Opcode(DecodeError),
    /// `BPF_MOD` is valid classic BPF but not listed by `seccomp_check_filter`.
    Mod,
    /// `ld [k]` outside `seccomp_data` or not 4-byte aligned.
    LoadOffset { k: u32 },
    /// Division by the constant zero.
    DivByZero,
    /// Shift by a constant of 32 or more.
    ShiftTooLarge { k: u32 },
    /// Scratch memory index ≥ 16.
    MemIndex { k: u32 },
    /// A jump target at or beyond the end of the program.
    JumpOutOfRange { target: u64, len: usize },
    /// The last instruction is not a return.
    LastNotRet,
    /// A scratch word read on some path before any store to it.
    MemReadBeforeWrite { k: u8 },
}

impl fmt::Display for InsnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InsnError::Opcode(e) => write!(f, "{e}"),
            InsnError::Mod => f.write_str(
                "BPF_MOD (%) is not allowed in a seccomp filter (kernel/seccomp.c does not list it)",
            ),
            InsnError::LoadOffset { k } => write!(
                f,
                "ld [{k}] is outside seccomp_data (offsets must be a multiple of 4 below {})",
                SeccompData::SIZE
            ),
            InsnError::DivByZero => f.write_str("division by the constant 0"),
            InsnError::ShiftTooLarge { k } => {
                write!(f, "shift by the constant {k} (must be below 32)")
            }
            InsnError::MemIndex { k } => write!(
                f,
                "scratch memory index {k} is out of range (M[0]..M[{}])",
                MEM_WORDS - 1
            ),
            InsnError::JumpOutOfRange { target, len } => write!(
                f,
                "jump target {target} is beyond the end (program has {len} instructions)"
            ),
            InsnError::LastNotRet => {
                f.write_str("the last instruction must be a return (ret), or execution runs off the end")
            }
            InsnError::MemReadBeforeWrite { k } => write!(
                f,
                "M[{k}] is read before it is written on some path"
            ),
        }
    }
}

impl fmt::Display for ProgramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProgramError::Empty => f.write_str("the filter is empty (no instructions)"),
            ProgramError::TooLong { len } => write!(
                f,
                "the filter has {len} instructions, more than the kernel's limit of {MAX_INSNS}"
            ),
            ProgramError::BadSize { bytes } => write!(
                f,
                "the file is {bytes} bytes, not a multiple of 8 (one instruction is 8 bytes)"
            ),
            ProgramError::Insn { index, reason } => write!(f, "instruction {index}: {reason}"),
        }
    }
}

impl std::error::Error for ProgramError {}

fn at(index: usize, reason: InsnError) -> ProgramError {
    ProgramError::Insn { index, reason }
}

impl Program {
    /// Checks `insns` as the kernel would and wraps them.
    pub fn new(insns: Vec<Insn>) -> Result<Program, ProgramError> {
        check(&insns)?;
        Ok(Program { insns })
    }

    /// Decodes and checks a raw filter (host-order `struct sock_filter` records, as written by
    /// `seccomp_export_bpf` and read back by `PTRACE_SECCOMP_GET_FILTER`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Program, ProgramError> {
        if bytes.is_empty() {
            return Err(ProgramError::Empty);
        }
        if bytes.len() & (SockFilter::SIZE - 1) != 0 {
            return Err(ProgramError::BadSize { bytes: bytes.len() });
        }
        let len = bytes.len() / SockFilter::SIZE;
        if len > MAX_INSNS {
            return Err(ProgramError::TooLong { len });
        }
        let mut insns = Vec::with_capacity(len);
        for (index, chunk) in bytes.chunks_exact(SockFilter::SIZE).enumerate() {
            let mut rec = [0u8; 8];
            rec.copy_from_slice(chunk);
            let f = SockFilter::from_bytes(rec);
            insns.push(decode_checked(f).map_err(|r| at(index, r))?);
        }
        Program::new(insns)
    }

    /// Decodes and checks kernel records.
    pub fn from_records(records: &[SockFilter]) -> Result<Program, ProgramError> {
        if records.len() > MAX_INSNS {
            return Err(ProgramError::TooLong { len: records.len() });
        }
        let insns = records
            .iter()
            .enumerate()
            .map(|(i, f)| decode_checked(*f).map_err(|r| at(i, r)))
            .collect::<Result<Vec<_>, _>>()?;
        Program::new(insns)
    }

    pub fn insns(&self) -> &[Insn] {
        &self.insns
    }

    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Always false: a program has at least one instruction.
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    pub fn into_insns(self) -> Vec<Insn> {
        self.insns
    }

    /// The kernel's records.
    pub fn to_records(&self) -> Vec<SockFilter> {
        self.insns.iter().map(|i| i.encode()).collect()
    }

    /// The records as 8-byte arrays, the form `straitjacket-sys` installs.
    pub fn to_raw_records(&self) -> Vec<[u8; 8]> {
        self.insns.iter().map(|i| i.encode().to_bytes()).collect()
    }

    /// The raw filter bytes (host byte order), as `seccomp_export_bpf` writes them.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_raw_records().concat()
    }
}

/// Decodes one record, keeping the exact `k` for out-of-range scratch indexes (the typed
/// `Insn` stores a `u8`).
fn decode_checked(f: SockFilter) -> Result<Insn, InsnError> {
    use super::insn::op;
    let is_mem = matches!(
        f.code,
        c if c == op::LD | op::W | op::MEM || c == op::LDX | op::W | op::MEM || c == op::ST || c == op::STX
    );
    if is_mem && f.k >= u32::from(MEM_WORDS) {
        return Err(InsnError::MemIndex { k: f.k });
    }
    if f.code & 0x07 == op::ALU && f.code & 0xf0 == op::MOD && f.code & !0xf8 == op::ALU {
        return Err(InsnError::Mod);
    }
    Insn::decode(f).map_err(InsnError::Opcode)
}

fn check(insns: &[Insn]) -> Result<(), ProgramError> {
    let len = insns.len();
    if len == 0 {
        return Err(ProgramError::Empty);
    }
    if len > MAX_INSNS {
        return Err(ProgramError::TooLong { len });
    }
    for (pc, insn) in insns.iter().enumerate() {
        check_one(pc, *insn, len).map_err(|r| at(pc, r))?;
    }
    if !matches!(insns[len - 1], Insn::Ret(_)) {
        return Err(at(len - 1, InsnError::LastNotRet));
    }
    check_load_and_stores(insns)
}

fn check_one(pc: usize, insn: Insn, len: usize) -> Result<(), InsnError> {
    let mem = |k: u8| {
        if k >= MEM_WORDS {
            Err(InsnError::MemIndex { k: u32::from(k) })
        } else {
            Ok(())
        }
    };
    let target = |off: u64| {
        let t = pc as u64 + 1 + off;
        if t >= len as u64 {
            Err(InsnError::JumpOutOfRange { target: t, len })
        } else {
            Ok(())
        }
    };
    match insn {
        Insn::LdAbs(k) => {
            if k >= SeccompData::SIZE || k & 3 != 0 {
                return Err(InsnError::LoadOffset { k });
            }
        }
        Insn::LdMem(k) | Insn::LdxMem(k) | Insn::St(k) | Insn::Stx(k) => mem(k)?,
        Insn::Alu(AluOp::Mod, _) => return Err(InsnError::Mod),
        Insn::Alu(AluOp::Div, Src::K(0)) => return Err(InsnError::DivByZero),
        Insn::Alu(AluOp::Lsh | AluOp::Rsh, Src::K(k)) if k >= 32 => {
            return Err(InsnError::ShiftTooLarge { k })
        }
        Insn::Ja(k) => target(u64::from(k))?,
        Insn::Jmp { jt, jf, .. } => {
            target(u64::from(jt))?;
            target(u64::from(jf))?;
        }
        Insn::LdImm(_)
        | Insn::LdLen
        | Insn::LdxImm(_)
        | Insn::LdxLen
        | Insn::Alu(..)
        | Insn::Neg
        | Insn::Ret(_)
        | Insn::Tax
        | Insn::Txa => {}
    }
    Ok(())
}

/// `check_load_and_stores` (net/core/filter.c), instruction for instruction: one pass in
/// order, a mask of words valid at each instruction, jumps intersect their targets' masks.
/// Note the kernel does not reset the running mask after a `ret`, so the instruction after a
/// `ret` also intersects with the mask flowing out of the `ret` — stricter than the real
/// control flow; reproduced so that we refuse exactly what the kernel refuses.
fn check_load_and_stores(insns: &[Insn]) -> Result<(), ProgramError> {
    let mut masks = vec![u16::MAX; insns.len()];
    let mut valid: u16 = 0;
    for (pc, insn) in insns.iter().enumerate() {
        valid &= masks[pc];
        match *insn {
            Insn::St(k) | Insn::Stx(k) => valid |= 1 << k,
            Insn::LdMem(k) | Insn::LdxMem(k) if valid & (1 << k) == 0 => {
                return Err(at(pc, InsnError::MemReadBeforeWrite { k }));
            }
            Insn::Ja(k) => {
                masks[pc + 1 + k as usize] &= valid;
                valid = u16::MAX;
            }
            Insn::Jmp { jt, jf, .. } => {
                masks[pc + 1 + jt as usize] &= valid;
                masks[pc + 1 + jf as usize] &= valid;
                valid = u16::MAX;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::bpf::insn::{JmpOp, RetSrc};

    fn ret_allow() -> Insn {
        Insn::Ret(RetSrc::K(Action::Allow.to_ret()))
    }

    fn err(insns: Vec<Insn>) -> String {
        Program::new(insns).unwrap_err().to_string()
    }

    #[test]
    fn accepts_a_minimal_program() {
        let p = Program::new(vec![ret_allow()]).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(Program::from_bytes(&p.to_bytes()).unwrap(), p);
    }

    #[test]
    fn refuses_empty_and_too_long() {
        assert_eq!(Program::new(vec![]), Err(ProgramError::Empty));
        assert_eq!(Program::from_bytes(&[]), Err(ProgramError::Empty));
        let mut v = vec![Insn::LdImm(0); MAX_INSNS];
        v.push(ret_allow());
        assert_eq!(
            Program::new(v),
            Err(ProgramError::TooLong { len: MAX_INSNS + 1 })
        );
        let mut v = vec![Insn::LdImm(0); MAX_INSNS - 1];
        v.push(ret_allow());
        assert!(Program::new(v).is_ok());
    }

    #[test]
    fn refuses_bad_sizes_and_opcodes() {
        assert_eq!(
            Program::from_bytes(&[0; 12]),
            Err(ProgramError::BadSize { bytes: 12 })
        );
        let mut bytes = Program::new(vec![ret_allow()]).unwrap().to_bytes();
        // BPF_LD|BPF_B|BPF_ABS first.
        let mut bad = SockFilter {
            code: 0x30,
            jt: 0,
            jf: 0,
            k: 0,
        }
        .to_bytes()
        .to_vec();
        bad.append(&mut bytes);
        let e = Program::from_bytes(&bad).unwrap_err().to_string();
        assert_eq!(
            e,
            "instruction 0: opcode 0x0030 is not allowed in a seccomp filter"
        );
        // BPF_ALU|BPF_MOD|BPF_K is refused with its own reason.
        let m = SockFilter {
            code: 0x94,
            jt: 0,
            jf: 0,
            k: 3,
        };
        let r = SockFilter::from_bytes(ret_allow().encode().to_bytes());
        assert_eq!(Program::from_records(&[m, r]), Err(at(0, InsnError::Mod)));
        // Scratch index 300 keeps its value in the error.
        let st = SockFilter {
            code: 0x02,
            jt: 0,
            jf: 0,
            k: 300,
        };
        assert_eq!(
            Program::from_records(&[st, r]),
            Err(at(0, InsnError::MemIndex { k: 300 }))
        );
    }

    #[test]
    fn checks_jumps() {
        let mut v = vec![Insn::LdImm(0); 11];
        v[5] = Insn::Ja(294);
        v.push(ret_allow());
        assert_eq!(
            err(v.clone()),
            "instruction 5: jump target 300 is beyond the end (program has 12 instructions)"
        );
        // ja to the last instruction is fine, one more is not.
        v[5] = Insn::Ja(5);
        assert!(Program::new(v.clone()).is_ok());
        v[5] = Insn::Ja(6);
        assert_eq!(
            err(v.clone()),
            "instruction 5: jump target 12 is beyond the end (program has 12 instructions)"
        );
        v[5] = Insn::Ja(u32::MAX);
        assert_eq!(
            err(v.clone()),
            "instruction 5: jump target 4294967301 is beyond the end (program has 12 instructions)"
        );
        v[5] = Insn::Jmp {
            op: JmpOp::Jeq,
            src: Src::K(1),
            jt: 0,
            jf: 6,
        };
        assert_eq!(
            err(v.clone()),
            "instruction 5: jump target 12 is beyond the end (program has 12 instructions)"
        );
        v[5] = Insn::Jmp {
            op: JmpOp::Jeq,
            src: Src::K(1),
            jt: 6,
            jf: 5,
        };
        assert_eq!(
            err(v),
            "instruction 5: jump target 12 is beyond the end (program has 12 instructions)"
        );
    }

    #[test]
    fn checks_last_ret_loads_and_alu() {
        assert_eq!(
            err(vec![Insn::LdImm(0)]),
            "instruction 0: the last instruction must be a return (ret), or execution runs off the end"
        );
        for k in [64, 2, 1, 0xffff_f000] {
            assert_eq!(
                Program::new(vec![Insn::LdAbs(k), ret_allow()]),
                Err(at(0, InsnError::LoadOffset { k }))
            );
        }
        assert!(Program::new(vec![Insn::LdAbs(60), ret_allow()]).is_ok());
        assert_eq!(
            Program::new(vec![Insn::Alu(AluOp::Div, Src::K(0)), ret_allow()]),
            Err(at(0, InsnError::DivByZero))
        );
        assert!(Program::new(vec![Insn::Alu(AluOp::Div, Src::X), ret_allow()]).is_ok());
        assert_eq!(
            Program::new(vec![Insn::Alu(AluOp::Lsh, Src::K(32)), ret_allow()]),
            Err(at(0, InsnError::ShiftTooLarge { k: 32 }))
        );
        assert!(Program::new(vec![Insn::Alu(AluOp::Rsh, Src::K(31)), ret_allow()]).is_ok());
        assert_eq!(
            Program::new(vec![Insn::Alu(AluOp::Mod, Src::K(3)), ret_allow()]),
            Err(at(0, InsnError::Mod))
        );
        assert_eq!(
            Program::new(vec![Insn::St(16), ret_allow()]),
            Err(at(0, InsnError::MemIndex { k: 16 }))
        );
    }

    #[test]
    fn checks_loads_before_stores_on_every_path() {
        // Straight line: store then load is fine; load alone is not.
        assert!(Program::new(vec![Insn::St(3), Insn::LdMem(3), ret_allow()]).is_ok());
        assert_eq!(
            Program::new(vec![Insn::LdxMem(3), ret_allow()]),
            Err(at(0, InsnError::MemReadBeforeWrite { k: 3 }))
        );
        // Stored on only one branch.
        let one_branch = vec![
            Insn::Jmp {
                op: JmpOp::Jeq,
                src: Src::K(0),
                jt: 0,
                jf: 1,
            },
            Insn::St(2),
            Insn::LdMem(2),
            ret_allow(),
        ];
        assert_eq!(
            Program::new(one_branch),
            Err(at(2, InsnError::MemReadBeforeWrite { k: 2 }))
        );
        // Stored before the branch: fine on both paths.
        let both = vec![
            Insn::St(2),
            Insn::Jmp {
                op: JmpOp::Jeq,
                src: Src::K(0),
                jt: 0,
                jf: 1,
            },
            Insn::LdImm(1),
            Insn::LdMem(2),
            ret_allow(),
        ];
        assert!(Program::new(both).is_ok());
        // The kernel's quirk: after a ret the running mask is not reset, so dead code right
        // after a ret that reads an unwritten word is refused, while the same dead code after
        // a ja (which resets the mask) is accepted.
        assert_eq!(
            Program::new(vec![ret_allow(), Insn::LdMem(1), ret_allow()]),
            Err(at(1, InsnError::MemReadBeforeWrite { k: 1 }))
        );
        assert!(Program::new(vec![Insn::Ja(1), Insn::LdMem(1), ret_allow()]).is_ok());
        // A word stored before a branch stays valid past a ret that ends one branch.
        let reads_after_ret = vec![
            Insn::St(1),
            Insn::Jmp {
                op: JmpOp::Jeq,
                src: Src::K(0),
                jt: 1,
                jf: 0,
            },
            ret_allow(),
            Insn::LdMem(1),
            ret_allow(),
        ];
        assert!(Program::new(reads_after_ret).is_ok());
    }
}
