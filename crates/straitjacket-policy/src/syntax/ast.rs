//! The syntax tree of a policy: what was written, where, before any name is resolved.
//!
//! Produced by [`super::parse`]; consumed by `resolve`. Every node carries the [`Span`] of the
//! text it came from, so later stages can point at it. Names are kept as written.

use crate::diag::Span;

/// A whole policy file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Policy {
    pub items: Vec<Item>,
}

/// A name as written, with its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal's contents (quotes removed), with the span of the whole literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// One statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// `default ACTION`
    Default { action: ActionSpec, span: Span },
    /// `unknown ACTION`: the action for syscall numbers newer than straitjacket's tables.
    Unknown { action: ActionSpec, span: Span },
    /// `arch x86_64, i386`
    Arch { arches: Vec<Ident>, span: Span },
    /// `ACTION TARGET, TARGET… [if EXPR]`
    Rule {
        action: ActionSpec,
        targets: Vec<Target>,
        cond: Option<Expr>,
        span: Span,
    },
    /// `include "FILE"`
    Include { path: StrLit, span: Span },
    /// `fs read|write|exec PATH, PATH…` (paths bare or quoted)
    Fs {
        access: Ident,
        paths: Vec<StrLit>,
        span: Span,
    },
    /// `{ "sys_NAME", "EXPR" },` — the ftrace table form: allow NAME when EXPR holds.
    /// `expr` spans point inside the second string literal.
    Ftrace {
        syscall: StrLit,
        expr: Expr,
        span: Span,
    },
    /// A statement of the confinement issues (`net`, `unshare`, `limit`, `timeout`,
    /// `hostname`): its keyword and its words, kept for the runtime to interpret.
    Setting {
        keyword: Ident,
        words: Vec<StrLit>,
        span: Span,
    },
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Default { span, .. }
            | Item::Unknown { span, .. }
            | Item::Arch { span, .. }
            | Item::Rule { span, .. }
            | Item::Include { span, .. }
            | Item::Fs { span, .. }
            | Item::Ftrace { span, .. }
            | Item::Setting { span, .. } => *span,
        }
    }
}

/// An action as written: `allow`, `kill-process`, `errno(EPERM)`, `trap(3)`, `trace(1)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionSpec {
    pub name: Ident,
    /// The parenthesised datum, if any.
    pub arg: Option<ConstExpr>,
    pub span: Span,
}

/// What a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A system call by name (`openat`; a `sys_` prefix is stripped by resolve).
    Syscall(Ident),
    /// `@name`: a group (the span covers the `@`).
    Group(Ident),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `arg in MASK`: no bit outside MASK is set.
    In,
}

/// A boolean condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Or(Vec<Expr>, Span),
    And(Vec<Expr>, Span),
    Not(Box<Expr>, Span),
    /// `true`/`false`, or the ftrace literals `1`/`0`.
    Bool(bool, Span),
    /// `ARG [& MASK] OP VALUE`, or `ARG & MASK` alone (non-zero) when `op` is `None`.
    Cmp {
        arg: Ident,
        mask: Option<ConstExpr>,
        op: Option<(CmpOp, Span)>,
        value: Option<ConstExpr>,
        span: Span,
    },
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Or(_, s) | Expr::And(_, s) | Expr::Not(_, s) | Expr::Bool(_, s) => *s,
            Expr::Cmp { span, .. } => *span,
        }
    }
}

/// A constant expression: numbers and named constants combined with `|`, `~`, unary `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConstExpr {
    /// A literal in decimal, hex (`0x`), octal (leading `0`) or binary (`0b`); fits in 64 bits.
    Num(u64, Span),
    /// `NULL`
    Null(Span),
    /// A named constant (`O_RDONLY`, `AF_UNIX`, `EPERM`).
    Name(Ident),
    /// `-X`
    Neg(Box<ConstExpr>, Span),
    /// `~X`
    BitNot(Box<ConstExpr>, Span),
    /// `X | Y | …`
    BitOr(Vec<ConstExpr>, Span),
}

impl ConstExpr {
    pub fn span(&self) -> Span {
        match self {
            ConstExpr::Num(_, s) | ConstExpr::Null(s) => *s,
            ConstExpr::Name(i) => i.span,
            ConstExpr::Neg(_, s) | ConstExpr::BitNot(_, s) | ConstExpr::BitOr(_, s) => *s,
        }
    }
}
