//! The disassembler: one line per instruction, in the spirit of libseccomp's
//! `scmp_bpf_disasm` and seccomp-tools, but with names instead of numbers:
//!
//! ```text
//! 0000: ld [arch]
//! 0001: jeq #AUDIT_ARCH_X86_64, 2, 6
//! 0002: ld [nr]
//! 0003: jeq #0x0, 5, 4                 ; read
//! 0004: ret ERRNO(1)
//! 0005: ret ALLOW
//! ```
//!
//! - Loads name the `seccomp_data` field: `[nr]`, `[arch]`, `[ip]`, `[ip.hi]`, `[args[1]]`
//!   (low 32 bits) and `[args[1].hi]` (high 32 bits), per the host byte order.
//! - Jumps show absolute instruction indexes: `jeq #k, TRUE, FALSE`; `ja TARGET`.
//! - Returns name the action: `ret ALLOW`, `ret ERRNO(1)`, `ret TRAP(3)`, `ret KILL_PROCESS`…
//! - When the accumulator holds `[arch]` on every path into a comparison, the constant is
//!   shown as `AUDIT_ARCH_*`; when it holds `[nr]` and an [`Arch`] is given, the syscall name
//!   is added as a comment. "Holds" is a forward data-flow over the program (jumps only go
//!   forward, so one pass in order suffices).

use std::fmt::Write;

use super::data::SeccompData;
use super::insn::{AluOp, Insn, JmpOp, RetSrc, Src};
use super::program::Program;
use crate::action::{ret, MAX_ERRNO};
use crate::arch::{Arch, SyscallNr};

/// What the accumulator is known to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AVal {
    /// No path reaches here yet.
    Unreached,
    Nr,
    Arch,
    Other,
}

impl AVal {
    fn meet(self, other: AVal) -> AVal {
        match (self, other) {
            (AVal::Unreached, o) | (o, AVal::Unreached) => o,
            (a, b) if a == b => a,
            _ => AVal::Other,
        }
    }
}

/// `AUDIT_ARCH_*` names (include/uapi/linux/audit.h) for the arches seen in practice.
pub fn audit_arch_name(value: u32) -> Option<&'static str> {
    Some(match value {
        0xc000_003e => "AUDIT_ARCH_X86_64",
        0x4000_0003 => "AUDIT_ARCH_I386",
        0xc000_00b7 => "AUDIT_ARCH_AARCH64",
        0x4000_0028 => "AUDIT_ARCH_ARM",
        0xc000_00f3 => "AUDIT_ARCH_RISCV64",
        0x4000_00f3 => "AUDIT_ARCH_RISCV32",
        0xc000_0015 => "AUDIT_ARCH_PPC64LE",
        0x8000_0015 => "AUDIT_ARCH_PPC64",
        0x8000_0016 => "AUDIT_ARCH_S390X",
        0x8000_0008 => "AUDIT_ARCH_MIPS",
        0x4000_0008 => "AUDIT_ARCH_MIPSEL",
        0xc000_0008 => "AUDIT_ARCH_MIPSEL64",
        0xc000_0102 => "AUDIT_ARCH_LOONGARCH64",
        _ => return None,
    })
}

/// The name of the `seccomp_data` word at byte offset `k`.
pub fn field_name(k: u32) -> String {
    if k == SeccompData::OFFSET_NR {
        return "nr".into();
    }
    if k == SeccompData::OFFSET_ARCH {
        return "arch".into();
    }
    let ip_lo = if cfg!(target_endian = "little") {
        8
    } else {
        12
    };
    if k == ip_lo {
        return "ip".into();
    }
    if k == SeccompData::OFFSET_IP || k == SeccompData::OFFSET_IP + 4 {
        return "ip.hi".into();
    }
    for i in 0..6 {
        if k == SeccompData::arg_lo(i) {
            return format!("args[{i}]");
        }
        if k == SeccompData::arg_hi(i) {
            return format!("args[{i}].hi");
        }
    }
    format!("{k}")
}

/// A `ret` value as `ALLOW`, `ERRNO(1)`, `KILL_PROCESS`, …; data shown where it means
/// something (errno, trap, trace), and in hex elsewhere when it is not zero.
pub fn ret_name(value: u32) -> String {
    let data = value & ret::DATA;
    let plain = |name: &str| {
        if data == 0 {
            name.to_string()
        } else {
            format!("{name}({data:#x})")
        }
    };
    match value & ret::ACTION_FULL {
        ret::KILL_PROCESS => plain("KILL_PROCESS"),
        ret::KILL_THREAD => plain("KILL_THREAD"),
        ret::TRAP => format!("TRAP({data})"),
        ret::ERRNO => format!("ERRNO({data})"),
        ret::USER_NOTIF => plain("USER_NOTIF"),
        ret::TRACE => format!("TRACE({data})"),
        ret::LOG => plain("LOG"),
        ret::ALLOW => plain("ALLOW"),
        _ => format!("{value:#010x}"),
    }
}

/// What a reader should know about a `ret` value the name does not say.
pub fn ret_note(value: u32) -> Option<String> {
    let data = value & ret::DATA;
    match value & ret::ACTION_FULL {
        ret::KILL_PROCESS
        | ret::KILL_THREAD
        | ret::TRAP
        | ret::USER_NOTIF
        | ret::TRACE
        | ret::LOG
        | ret::ALLOW => None,
        ret::ERRNO if data > u32::from(MAX_ERRNO) => {
            Some(format!("the kernel clamps the errno to {MAX_ERRNO}"))
        }
        ret::ERRNO => None,
        _ => Some("unknown action: the kernel kills the process".to_string()),
    }
}

fn jmp_mnemonic(op: JmpOp) -> &'static str {
    match op {
        JmpOp::Jeq => "jeq",
        JmpOp::Jgt => "jgt",
        JmpOp::Jge => "jge",
        JmpOp::Jset => "jset",
    }
}

fn alu_mnemonic(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "add",
        AluOp::Sub => "sub",
        AluOp::Mul => "mul",
        AluOp::Div => "div",
        AluOp::Mod => "mod",
        AluOp::And => "and",
        AluOp::Or => "or",
        AluOp::Xor => "xor",
        AluOp::Lsh => "lsh",
        AluOp::Rsh => "rsh",
    }
}

/// Disassembles `prog`, one line per instruction, each ending in a newline. With an `arch`,
/// comparisons of `[nr]` are annotated with the syscall name.
pub fn disasm(prog: &Program, arch: Option<Arch>) -> String {
    let insns = prog.insns();
    let mut a_in = vec![AVal::Unreached; insns.len()];
    a_in[0] = AVal::Other;
    let mut out = String::new();
    for (pc, insn) in insns.iter().enumerate() {
        let a = a_in[pc];
        let a_out = match insn {
            Insn::LdAbs(k) if *k == SeccompData::OFFSET_NR => AVal::Nr,
            Insn::LdAbs(k) if *k == SeccompData::OFFSET_ARCH => AVal::Arch,
            Insn::LdAbs(_)
            | Insn::LdImm(_)
            | Insn::LdMem(_)
            | Insn::LdLen
            | Insn::Alu(..)
            | Insn::Neg
            | Insn::Txa => AVal::Other,
            _ => a,
        };
        let (text, comment) = line(pc, *insn, a, arch);
        let _ = if let Some(c) = comment {
            writeln!(out, "{pc:04}: {text:<30} ; {c}")
        } else {
            writeln!(out, "{pc:04}: {text}")
        };
        let mut flow = |to: usize| a_in[to] = a_in[to].meet(a_out);
        match insn {
            Insn::Ret(_) => {}
            Insn::Ja(k) => flow(pc + 1 + *k as usize),
            Insn::Jmp { jt, jf, .. } => {
                flow(pc + 1 + usize::from(*jt));
                flow(pc + 1 + usize::from(*jf));
            }
            _ => flow(pc + 1),
        }
    }
    out
}

fn line(pc: usize, insn: Insn, a: AVal, arch: Option<Arch>) -> (String, Option<String>) {
    let src = |s: Src| match s {
        Src::K(k) => format!("#{k:#x}"),
        Src::X => "x".to_string(),
    };
    let text = match insn {
        Insn::LdAbs(k) => format!("ld [{}]", field_name(k)),
        Insn::LdImm(k) => format!("ld #{k:#x}"),
        Insn::LdMem(m) => format!("ld M[{m}]"),
        Insn::LdLen => "ld #len".to_string(),
        Insn::LdxImm(k) => format!("ldx #{k:#x}"),
        Insn::LdxMem(m) => format!("ldx M[{m}]"),
        Insn::LdxLen => "ldx #len".to_string(),
        Insn::St(m) => format!("st M[{m}]"),
        Insn::Stx(m) => format!("stx M[{m}]"),
        Insn::Alu(op, s) => format!("{} {}", alu_mnemonic(op), src(s)),
        Insn::Neg => "neg".to_string(),
        Insn::Tax => "tax".to_string(),
        Insn::Txa => "txa".to_string(),
        Insn::Ja(k) => format!("ja {}", pc + 1 + k as usize),
        Insn::Ret(RetSrc::A) => "ret a".to_string(),
        Insn::Ret(RetSrc::K(k)) => return (format!("ret {}", ret_name(k)), ret_note(k)),
        Insn::Jmp { op, src: s, jt, jf } => {
            let operand = match (s, a) {
                (Src::K(k), AVal::Arch) => audit_arch_name(k)
                    .map(|n| format!("#{n}"))
                    .unwrap_or_else(|| src(s)),
                _ => src(s),
            };
            let text = format!(
                "{} {operand}, {}, {}",
                jmp_mnemonic(op),
                pc + 1 + usize::from(jt),
                pc + 1 + usize::from(jf)
            );
            let comment = match (s, a, arch, op) {
                (Src::K(k), AVal::Nr, Some(arch), JmpOp::Jeq | JmpOp::Jge | JmpOp::Jgt) => {
                    arch.syscall_by_nr(SyscallNr(k)).map(|d| d.name.to_string())
                }
                _ => None,
            };
            return (text, comment);
        }
    };
    (text, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::bpf::asm::{Assembler, Target};

    #[test]
    fn golden_small_program() {
        let mut a = Assembler::new();
        a.ld_arch()
            .jeq(0xc000_003e, Target::Next, "kill")
            .ld_nr()
            .jeq(0, "allow", Target::Next)
            .jeq(1, Target::Next, "deny")
            .ld_arg_lo(0)
            .jeq(1, "allow", Target::Next)
            .ld_arg_hi(1)
            .jset(0x8000_0000, "trap", "deny")
            .label("trap")
            .ret(Action::Trap(3))
            .label("deny")
            .ret(Action::Errno(1))
            .label("allow")
            .ret(Action::Allow)
            .label("kill")
            .ret(Action::KillProcess);
        let p = a.assemble().unwrap();
        let got = disasm(&p, Some(Arch::X86_64));
        let want = "\
0000: ld [arch]
0001: jeq #AUDIT_ARCH_X86_64, 2, 12
0002: ld [nr]
0003: jeq #0x0, 11, 4                ; read
0004: jeq #0x1, 5, 10                ; write
0005: ld [args[0]]
0006: jeq #0x1, 11, 7
0007: ld [args[1].hi]
0008: jset #0x80000000, 9, 10
0009: ret TRAP(3)
0010: ret ERRNO(1)
0011: ret ALLOW
0012: ret KILL_PROCESS
";
        assert_eq!(got, want);
        // Without an arch, no syscall names.
        assert!(!disasm(&p, None).contains("; read"));
    }

    #[test]
    fn names_every_instruction_and_action() {
        let mut a = Assembler::new();
        a.ld_abs(SeccompData::OFFSET_IP)
            .ld_abs(SeccompData::OFFSET_IP + 4)
            .ld_imm(5)
            .st(0)
            .ld_mem(0)
            .ld_len()
            .ldx_imm(2)
            .stx(1)
            .ldx_mem(1)
            .ldx_len()
            .alu(AluOp::Add, Src::K(1))
            .alu(AluOp::Sub, Src::X)
            .alu(AluOp::Mul, Src::K(3))
            .alu(AluOp::Div, Src::X)
            .alu(AluOp::And, Src::K(0xff))
            .alu(AluOp::Or, Src::X)
            .alu(AluOp::Xor, Src::K(1))
            .alu(AluOp::Lsh, Src::K(2))
            .alu(AluOp::Rsh, Src::X)
            .neg()
            .tax()
            .txa()
            .jmp(JmpOp::Jgt, Src::X, Target::Next, "a")
            .jge(4, Target::Next, "a")
            .ja("a")
            .label("a")
            .ret(Action::Allow)
            .ret(Action::Errno(1))
            .ret(Action::KillProcess)
            .ret(Action::Trap(3))
            .ret(Action::Notify)
            .ret(Action::Log)
            .ret(Action::Trace(7))
            .ret(Action::KillThread)
            .ret_k(0x0005_2000)
            .ret_k(0x1234_0000)
            .ret_a();
        let got = disasm(&a.assemble().unwrap(), None);
        let lines: Vec<&str> = got.lines().map(|l| &l[6..]).collect();
        let ip = if cfg!(target_endian = "little") {
            ["ld [ip]", "ld [ip.hi]"]
        } else {
            ["ld [ip.hi]", "ld [ip]"]
        };
        assert_eq!(
            lines,
            [
                ip[0],
                ip[1],
                "ld #0x5",
                "st M[0]",
                "ld M[0]",
                "ld #len",
                "ldx #0x2",
                "stx M[1]",
                "ldx M[1]",
                "ldx #len",
                "add #0x1",
                "sub x",
                "mul #0x3",
                "div x",
                "and #0xff",
                "or x",
                "xor #0x1",
                "lsh #0x2",
                "rsh x",
                "neg",
                "tax",
                "txa",
                "jgt x, 23, 25",
                "jge #0x4, 24, 25",
                "ja 25",
                "ret ALLOW",
                "ret ERRNO(1)",
                "ret KILL_PROCESS",
                "ret TRAP(3)",
                "ret USER_NOTIF",
                "ret LOG",
                "ret TRACE(7)",
                "ret KILL_THREAD",
                "ret ERRNO(8192)                ; the kernel clamps the errno to 4095",
                "ret 0x12340000                 ; unknown action: the kernel kills the process",
                "ret a",
            ]
        );
    }

    #[test]
    fn arch_names_only_when_a_holds_arch_on_every_path() {
        let mut a = Assembler::new();
        a.ld_arch()
            .jeq(1, "merge", Target::Next)
            .ld_nr()
            .label("merge")
            .jeq(0xc000_003e, "x", "x")
            .label("x")
            .ret(Action::Allow);
        let got = disasm(&a.assemble().unwrap(), None);
        assert!(got.contains("0003: jeq #0xc000003e, 4, 4"), "{got}");
    }
}
