//! A small forward assembler with symbolic labels, for tests and hand-written programs.
//!
//! Instructions are appended in order; jumps name labels defined anywhere later
//! (`a.jeq(39, "deny", Target::Next)`), and [`Assembler::assemble`] resolves them to the
//! kernel's relative offsets and runs the [`Program`] checker. It refuses, with the label
//! named: an undefined or twice-defined label, a backward jump (seccomp jumps only forward),
//! and a conditional jump further than 255 instructions (the `jt`/`jf` fields are 8 bits; the
//! policy compiler's backward assembler inserts `ja` trampolines, this one says so instead).

use std::collections::HashMap;
use std::fmt;

use super::data::SeccompData;
use super::insn::{AluOp, Insn, JmpOp, RetSrc, Src};
use super::program::{Program, ProgramError};
use crate::action::Action;

/// Where a jump goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// The next instruction (offset 0).
    Next,
    /// A label.
    Label(String),
}

impl From<&str> for Target {
    fn from(s: &str) -> Target {
        Target::Label(s.to_string())
    }
}

impl From<String> for Target {
    fn from(s: String) -> Target {
        Target::Label(s)
    }
}

/// Why assembly failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AsmError {
    UndefinedLabel {
        label: String,
        index: usize,
    },
    DuplicateLabel {
        label: String,
    },
    BackwardJump {
        label: String,
        index: usize,
        target: usize,
    },
    TooFar {
        label: String,
        index: usize,
        offset: usize,
    },
    Program(ProgramError),
}

impl fmt::Display for AsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AsmError::UndefinedLabel { label, index } => {
                write!(f, "instruction {index}: jump to undefined label {label:?}")
            }
            AsmError::DuplicateLabel { label } => write!(f, "label {label:?} is defined twice"),
            AsmError::BackwardJump { label, index, target } => write!(
                f,
                "instruction {index}: jump to label {label:?} at instruction {target} goes backward; \
                 seccomp jumps only forward"
            ),
            AsmError::TooFar { label, index, offset } => write!(
                f,
                "instruction {index}: conditional jump to label {label:?} needs offset {offset}, \
                 more than 255; use ja (or a trampoline) to get there"
            ),
            AsmError::Program(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AsmError {}

#[derive(Clone, Debug)]
enum Item {
    Fixed(Insn),
    Ja(Target),
    Jmp {
        op: JmpOp,
        src: Src,
        jt: Target,
        jf: Target,
    },
}

/// Builds a program in order, with labels.
#[derive(Clone, Debug, Default)]
pub struct Assembler {
    items: Vec<Item>,
    labels: HashMap<String, usize>,
    duplicate: Option<String>,
}

impl Assembler {
    pub fn new() -> Assembler {
        Assembler::default()
    }

    /// Number of instructions so far (the index the next one gets).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Defines `name` at the next instruction.
    pub fn label(&mut self, name: &str) -> &mut Self {
        if self
            .labels
            .insert(name.to_string(), self.items.len())
            .is_some()
            && self.duplicate.is_none()
        {
            self.duplicate = Some(name.to_string());
        }
        self
    }

    /// Appends any instruction without jump targets (a jump here keeps its raw offsets).
    pub fn insn(&mut self, insn: Insn) -> &mut Self {
        self.items.push(Item::Fixed(insn));
        self
    }

    /// `ld [k]`
    pub fn ld_abs(&mut self, k: u32) -> &mut Self {
        self.insn(Insn::LdAbs(k))
    }
    /// `ld [nr]`
    pub fn ld_nr(&mut self) -> &mut Self {
        self.ld_abs(SeccompData::OFFSET_NR)
    }
    /// `ld [arch]`
    pub fn ld_arch(&mut self) -> &mut Self {
        self.ld_abs(SeccompData::OFFSET_ARCH)
    }
    /// `ld [args[i]]`, the low 32 bits.
    pub fn ld_arg_lo(&mut self, i: usize) -> &mut Self {
        self.ld_abs(SeccompData::arg_lo(i))
    }
    /// `ld [args[i].hi]`, the high 32 bits.
    pub fn ld_arg_hi(&mut self, i: usize) -> &mut Self {
        self.ld_abs(SeccompData::arg_hi(i))
    }
    pub fn ld_imm(&mut self, k: u32) -> &mut Self {
        self.insn(Insn::LdImm(k))
    }
    pub fn ld_mem(&mut self, m: u8) -> &mut Self {
        self.insn(Insn::LdMem(m))
    }
    pub fn ld_len(&mut self) -> &mut Self {
        self.insn(Insn::LdLen)
    }
    pub fn ldx_imm(&mut self, k: u32) -> &mut Self {
        self.insn(Insn::LdxImm(k))
    }
    pub fn ldx_mem(&mut self, m: u8) -> &mut Self {
        self.insn(Insn::LdxMem(m))
    }
    pub fn ldx_len(&mut self) -> &mut Self {
        self.insn(Insn::LdxLen)
    }
    pub fn st(&mut self, m: u8) -> &mut Self {
        self.insn(Insn::St(m))
    }
    pub fn stx(&mut self, m: u8) -> &mut Self {
        self.insn(Insn::Stx(m))
    }
    pub fn alu(&mut self, op: AluOp, src: Src) -> &mut Self {
        self.insn(Insn::Alu(op, src))
    }
    pub fn neg(&mut self) -> &mut Self {
        self.insn(Insn::Neg)
    }
    pub fn tax(&mut self) -> &mut Self {
        self.insn(Insn::Tax)
    }
    pub fn txa(&mut self) -> &mut Self {
        self.insn(Insn::Txa)
    }

    /// `ja target`
    pub fn ja(&mut self, target: impl Into<Target>) -> &mut Self {
        self.items.push(Item::Ja(target.into()));
        self
    }

    /// A conditional jump: to `jt` when `A op src` holds, else to `jf`.
    pub fn jmp(
        &mut self,
        op: JmpOp,
        src: Src,
        jt: impl Into<Target>,
        jf: impl Into<Target>,
    ) -> &mut Self {
        self.items.push(Item::Jmp {
            op,
            src,
            jt: jt.into(),
            jf: jf.into(),
        });
        self
    }
    pub fn jeq(&mut self, k: u32, jt: impl Into<Target>, jf: impl Into<Target>) -> &mut Self {
        self.jmp(JmpOp::Jeq, Src::K(k), jt, jf)
    }
    pub fn jgt(&mut self, k: u32, jt: impl Into<Target>, jf: impl Into<Target>) -> &mut Self {
        self.jmp(JmpOp::Jgt, Src::K(k), jt, jf)
    }
    pub fn jge(&mut self, k: u32, jt: impl Into<Target>, jf: impl Into<Target>) -> &mut Self {
        self.jmp(JmpOp::Jge, Src::K(k), jt, jf)
    }
    pub fn jset(&mut self, k: u32, jt: impl Into<Target>, jf: impl Into<Target>) -> &mut Self {
        self.jmp(JmpOp::Jset, Src::K(k), jt, jf)
    }

    /// `ret` of an action.
    pub fn ret(&mut self, action: Action) -> &mut Self {
        self.ret_k(action.to_ret())
    }
    pub fn ret_k(&mut self, k: u32) -> &mut Self {
        self.insn(Insn::Ret(RetSrc::K(k)))
    }
    pub fn ret_a(&mut self) -> &mut Self {
        self.insn(Insn::Ret(RetSrc::A))
    }

    fn offset(&self, index: usize, t: &Target) -> Result<usize, AsmError> {
        let label = match t {
            Target::Next => return Ok(0),
            Target::Label(l) => l,
        };
        let target = *self
            .labels
            .get(label)
            .ok_or_else(|| AsmError::UndefinedLabel {
                label: label.clone(),
                index,
            })?;
        if target <= index {
            return Err(AsmError::BackwardJump {
                label: label.clone(),
                index,
                target,
            });
        }
        Ok(target - index - 1)
    }

    /// Resolves labels and checks the program as the kernel would.
    pub fn assemble(&self) -> Result<Program, AsmError> {
        if let Some(label) = &self.duplicate {
            return Err(AsmError::DuplicateLabel {
                label: label.clone(),
            });
        }
        let mut insns = Vec::with_capacity(self.items.len());
        for (index, item) in self.items.iter().enumerate() {
            let insn = match item {
                Item::Fixed(i) => *i,
                Item::Ja(t) => {
                    let off = self.offset(index, t)?;
                    Insn::Ja(u32::try_from(off).unwrap_or(u32::MAX))
                }
                Item::Jmp { op, src, jt, jf } => {
                    let narrow = |t: &Target| -> Result<u8, AsmError> {
                        let off = self.offset(index, t)?;
                        u8::try_from(off).map_err(|_| AsmError::TooFar {
                            label: match t {
                                Target::Label(l) => l.clone(),
                                Target::Next => String::new(),
                            },
                            index,
                            offset: off,
                        })
                    };
                    Insn::Jmp {
                        op: *op,
                        src: *src,
                        jt: narrow(jt)?,
                        jf: narrow(jf)?,
                    }
                }
            };
            insns.push(insn);
        }
        Program::new(insns).map_err(AsmError::Program)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_labels() {
        let mut a = Assembler::new();
        a.ld_nr()
            .jeq(0, "allow", Target::Next)
            .jeq(1, "allow", "deny")
            .label("deny")
            .ret(Action::Errno(1))
            .label("allow")
            .ret(Action::Allow);
        let p = a.assemble().unwrap();
        assert_eq!(
            p.insns()[1],
            Insn::Jmp {
                op: JmpOp::Jeq,
                src: Src::K(0),
                jt: 2,
                jf: 0
            }
        );
        assert_eq!(
            p.insns()[2],
            Insn::Jmp {
                op: JmpOp::Jeq,
                src: Src::K(1),
                jt: 1,
                jf: 0
            }
        );
    }

    #[test]
    fn ja_resolves_far() {
        let mut a = Assembler::new();
        a.ja("end");
        for _ in 0..300 {
            a.ret(Action::KillProcess);
        }
        a.label("end").ret(Action::Allow);
        assert_eq!(a.assemble().unwrap().insns()[0], Insn::Ja(300));
    }

    #[test]
    fn errors() {
        let mut a = Assembler::new();
        a.ld_nr().jeq(1, "nowhere", Target::Next).ret(Action::Allow);
        assert_eq!(
            a.assemble().unwrap_err().to_string(),
            "instruction 1: jump to undefined label \"nowhere\""
        );

        let mut a = Assembler::new();
        a.label("top")
            .ld_nr()
            .jeq(1, "top", Target::Next)
            .ret(Action::Allow);
        assert!(matches!(
            a.assemble(),
            Err(AsmError::BackwardJump {
                target: 0,
                index: 1,
                ..
            })
        ));

        let mut a = Assembler::new();
        a.ld_nr().jeq(1, "far", Target::Next);
        for _ in 0..256 {
            a.ret(Action::KillProcess);
        }
        a.label("far").ret(Action::Allow);
        assert_eq!(
            a.assemble().unwrap_err().to_string(),
            "instruction 1: conditional jump to label \"far\" needs offset 256, more than 255; \
             use ja (or a trampoline) to get there"
        );

        let mut a = Assembler::new();
        a.label("x").label("x").ret(Action::Allow);
        assert!(matches!(a.assemble(), Err(AsmError::DuplicateLabel { .. })));

        let mut a = Assembler::new();
        a.ld_nr().ja("end").ret(Action::Allow).label("end");
        assert!(matches!(a.assemble(), Err(AsmError::Program(_))));
    }
}
