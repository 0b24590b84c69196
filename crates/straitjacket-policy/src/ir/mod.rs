//! The resolved policy: per architecture, ordered first-match rules per system call number,
//! with every argument typed. Produced by `resolve`, consumed by `compile`; its meaning is
//! defined by [`eval`], the reference the compiled program is tested against.

pub mod eval;
pub mod route;

use std::collections::BTreeMap;
use std::fmt;

use crate::action::Action;
use crate::arch::{Arch, SyscallNr, Width};

/// An argument index, 0..=5 by construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArgIndex(u8);

impl ArgIndex {
    pub fn new(i: usize) -> Option<ArgIndex> {
        (i < 6).then_some(ArgIndex(i as u8))
    }
    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

/// A comparison operator of the IR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One comparison of one argument, as the kernel reads it: the low `width` bits of the
/// register, masked, compared with `value` (already reduced to `width` bits) as signed or
/// unsigned numbers of that width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cmp {
    pub arg: ArgIndex,
    pub width: Width,
    pub signed: bool,
    pub op: CmpOp,
    /// Bits kept before comparing (all-ones of the width when unmasked).
    pub mask: u64,
    pub value: u64,
}

/// A condition on the arguments.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cond {
    True,
    Cmp(Cmp),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

/// Where a rule came from, for `explain` and blocked-call reports: `FILE:LINE`. Shared, not
/// copied: one rule naming a group hands the same origin to hundreds of system calls.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin(pub std::sync::Arc<str>);

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One rule of one system call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub action: Action,
    pub cond: Cond,
    pub origin: Option<Origin>,
    /// Where the rule was written (`None` for rules straitjacket adds itself).
    pub span: Option<crate::diag::Span>,
}

/// The filter of one ABI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    pub arch: Arch,
    /// Action when no rule of a known syscall matches, and for numbers with no rules.
    pub default: Action,
    pub default_origin: Option<Origin>,
    /// Action for numbers above the table's highest (newer than straitjacket knows).
    pub unknown: Action,
    /// Rules per syscall number, tried in order; the first whose condition holds decides.
    pub syscalls: BTreeMap<SyscallNr, Vec<Rule>>,
}

/// Access a filesystem rule grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FsAccess {
    Read,
    Write,
    Exec,
}

/// `fs read|write|exec PATH`: for the supervisor and Landlock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsRule {
    pub access: FsAccess,
    pub path: String,
    pub origin: Option<Origin>,
}

/// A confinement setting (`net none`, `limit mem 512M`, …) kept for the runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub keyword: String,
    pub words: Vec<String>,
    pub origin: Option<Origin>,
}

/// A whole resolved policy: one filter per ABI it covers (the first is the primary one),
/// plus the rules the filter cannot express.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub filters: Vec<Filter>,
    pub fs: Vec<FsRule>,
    pub settings: Vec<Setting>,
}

impl Policy {
    pub fn filter(&self, arch: Arch) -> Option<&Filter> {
        self.filters.iter().find(|f| f.arch == arch)
    }
}
