//! Rules to a decision graph: the filter's logic with symbolic targets.
//!
//! Nodes are hash-consed: building the same node twice (same instruction, same successors)
//! yields the same [`NodeId`], so identical tails — the same rules on several syscalls, the
//! same `ret` — are shared for free. A node is always created after its successors, so node
//! ids are in reverse topological order: every edge goes from a higher id to a lower one.
//!
//! Shape (DESIGN.md, Performance): `ld [arch]` and one `jeq` per ABI; `ld [nr]` and a
//! balanced tree of `jge` over ranges of syscall numbers with the same decision; argument
//! tests only inside their syscall's leaf. Paths of argument-free decisions use only what the
//! kernel's action-cache prover follows (loads of nr/arch, jeq/jge/jgt/jset with constants,
//! returns), so it can prove them constant.

use std::collections::HashMap;

use crate::action::Action;
use crate::arch::{Arch, SyscallNr, Width, X32_SYSCALL_BIT};
use crate::bpf::{JmpOp, SeccompData};
use crate::ir::{Cmp, CmpOp, Cond, Filter, Policy, Rule};

/// Index of a node in a [`Graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

/// A 32-bit word of `seccomp_data` a node loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Word {
    Nr,
    Arch,
    ArgLo(u8),
    ArgHi(u8),
}

impl Word {
    pub fn offset(self) -> u32 {
        match self {
            Word::Nr => SeccompData::OFFSET_NR,
            Word::Arch => SeccompData::OFFSET_ARCH,
            Word::ArgLo(i) => SeccompData::arg_lo(usize::from(i)),
            Word::ArgHi(i) => SeccompData::arg_hi(usize::from(i)),
        }
    }
}

/// One node of the decision graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// Return this action value.
    Ret(u32),
    /// A = word; then `next`.
    Load { word: Word, next: NodeId },
    /// A &= k; then `next`.
    And { k: u32, next: NodeId },
    /// if (A op k) `t` else `f`.
    Jump {
        op: JmpOp,
        k: u32,
        t: NodeId,
        f: NodeId,
    },
}

impl Node {
    pub fn successors(self) -> impl Iterator<Item = NodeId> {
        let (a, b) = match self {
            Node::Ret(_) => (None, None),
            Node::Load { next, .. } | Node::And { next, .. } => (Some(next), None),
            Node::Jump { t, f, .. } => (Some(t), Some(f)),
        };
        a.into_iter().chain(b)
    }
}

/// A hash-consed decision graph with one root.
#[derive(Debug, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    index: HashMap<Node, NodeId>,
}

impl Graph {
    pub fn node(&self, id: NodeId) -> Node {
        self.nodes[id.0 as usize]
    }

    /// Adds a node, or returns the identical one already there. A jump whose two targets are
    /// the same is no jump.
    pub fn add(&mut self, node: Node) -> NodeId {
        if let Node::Jump { t, f, .. } = node {
            if t == f {
                return t;
            }
        }
        if let Some(&id) = self.index.get(&node) {
            return id;
        }
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(node);
        self.index.insert(node, id);
        id
    }

    pub fn ret(&mut self, action: Action) -> NodeId {
        self.add(Node::Ret(action.to_ret()))
    }

    fn jump(&mut self, op: JmpOp, k: u32, t: NodeId, f: NodeId) -> NodeId {
        self.add(Node::Jump { op, k, t, f })
    }

    fn load(&mut self, word: Word, next: NodeId) -> NodeId {
        self.add(Node::Load { word, next })
    }
}

/// Lowers a whole policy; returns the graph and its root.
pub fn lower(policy: &Policy) -> (Graph, NodeId) {
    let mut g = Graph::default();
    let kill = g.ret(Action::KillProcess);
    // One section per AUDIT_ARCH value; x86_64 and x32 share one.
    let mut audits: Vec<u32> = Vec::new();
    for f in &policy.filters {
        if !audits.contains(&f.arch.audit_arch()) {
            audits.push(f.arch.audit_arch());
        }
    }
    let mut chain = kill;
    for &audit in audits.iter().rev() {
        let filters: Vec<&Filter> = policy
            .filters
            .iter()
            .filter(|f| f.arch.audit_arch() == audit)
            .collect();
        let section = lower_section(&mut g, &filters, kill);
        chain = g.jump(JmpOp::Jeq, audit, section, chain);
    }
    let root = g.load(Word::Arch, chain);
    (g, root)
}

/// The part of the program for one AUDIT_ARCH value: dispatch on the number.
fn lower_section(g: &mut Graph, filters: &[&Filter], kill: NodeId) -> NodeId {
    // Ranges of the whole 32-bit number space, each with the node deciding it.
    let mut ranges: Vec<(u32, NodeId)> = Vec::new();
    let push = |ranges: &mut Vec<(u32, NodeId)>, lo: u32, node: NodeId| {
        if ranges.last().is_none_or(|&(_, n)| n != node) {
            ranges.push((lo, node));
        }
    };
    let x86_64 = filters.iter().find(|f| f.arch != Arch::X32);
    let x32 = filters.iter().find(|f| f.arch == Arch::X32);
    let halves: Vec<(u32, Option<&&Filter>)> = match (x86_64, x32) {
        (Some(f), _) if f.arch != Arch::X86_64 => vec![(0, Some(f))],
        (native, x32) => vec![(0, native), (X32_SYSCALL_BIT, x32)],
    };
    for (start, filter) in halves {
        let Some(f) = filter else {
            push(&mut ranges, start, kill);
            continue;
        };
        let default = g.ret(f.default);
        let unknown = g.ret(f.unknown);
        let min = f.arch.min_nr().0;
        let max = f.arch.max_nr().0;
        if start < min {
            push(&mut ranges, start, unknown);
        }
        // Walk the syscalls with rules in order; everything between is the default.
        let mut next = min;
        for (nr, rules) in f.syscalls.range(SyscallNr(min)..=SyscallNr(max)) {
            if nr.0 > next {
                push(&mut ranges, next, default);
            }
            let node = lower_rules(g, rules, default);
            push(&mut ranges, nr.0, node);
            next = nr.0 + 1;
        }
        if next <= max {
            push(&mut ranges, next, default);
        }
        if max < u32::MAX {
            push(&mut ranges, max + 1, unknown);
        }
    }
    let tree = search_tree(g, &ranges);
    g.load(Word::Nr, tree)
}

/// A balanced tree of `jge` over sorted ranges covering the number space.
fn search_tree(g: &mut Graph, ranges: &[(u32, NodeId)]) -> NodeId {
    match ranges {
        [] => unreachable!("the number space is never empty"),
        [(_, node)] => *node,
        _ => {
            let mid = ranges.len() / 2;
            let hi = search_tree(g, &ranges[mid..]);
            let lo = search_tree(g, &ranges[..mid]);
            g.jump(JmpOp::Jge, ranges[mid].0, hi, lo)
        }
    }
}

/// One syscall's rules, first match wins, else `default`.
fn lower_rules(g: &mut Graph, rules: &[Rule], default: NodeId) -> NodeId {
    // Rules after an unconditional one never run.
    let live = rules
        .iter()
        .position(|r| r.cond == Cond::True)
        .map_or(rules, |i| &rules[..=i]);
    let mut acc = default;
    for r in live.iter().rev() {
        let act = g.ret(r.action);
        acc = lower_cond(g, &r.cond, act, acc);
    }
    acc
}

/// Control flow for a condition: to `t` when it holds, else to `f`.
fn lower_cond(g: &mut Graph, c: &Cond, t: NodeId, f: NodeId) -> NodeId {
    match c {
        Cond::True => t,
        Cond::Not(x) => lower_cond(g, x, f, t),
        Cond::And(xs) => xs.iter().rev().fold(t, |acc, x| lower_cond(g, x, acc, f)),
        Cond::Or(xs) => xs.iter().rev().fold(f, |acc, x| lower_cond(g, x, t, acc)),
        Cond::Cmp(cmp) => lower_cmp(g, cmp, t, f),
    }
}

fn lower_cmp(g: &mut Graph, c: &Cmp, t: NodeId, f: NodeId) -> NodeId {
    // Reduce every operator to ==, > and >= with swapped targets.
    let (op, t, f) = match c.op {
        CmpOp::Eq => (Rel::Eq, t, f),
        CmpOp::Ne => (Rel::Eq, f, t),
        CmpOp::Gt => (Rel::Gt, t, f),
        CmpOp::Ge => (Rel::Ge, t, f),
        CmpOp::Lt => (Rel::Ge, f, t),
        CmpOp::Le => (Rel::Gt, f, t),
    };
    let i = c.arg.get() as u8;
    let mask = c.mask & c.width.mask();
    let value = c.value & c.width.mask();
    match c.width {
        Width::W32 => word_test(
            g,
            Word::ArgLo(i),
            mask as u32,
            op,
            value as u32,
            c.signed,
            t,
            f,
        ),
        Width::W64 => {
            let (mhi, mlo) = ((mask >> 32) as u32, mask as u32);
            let (vhi, vlo) = ((value >> 32) as u32, value as u32);
            match op {
                Rel::Eq => {
                    let lo = word_test(g, Word::ArgLo(i), mlo, Rel::Eq, vlo, false, t, f);
                    word_test(g, Word::ArgHi(i), mhi, Rel::Eq, vhi, false, lo, f)
                }
                Rel::Gt | Rel::Ge => {
                    // hi > vhi: true; hi == vhi: decided by lo (unsigned); else false.
                    let lo = word_test(g, Word::ArgLo(i), mlo, op, vlo, false, t, f);
                    if mhi == 0 {
                        // The high word is 0: compare 0 with vhi now.
                        let hi0 = if c.signed {
                            i64::from(vhi as i32)
                        } else {
                            i64::from(vhi)
                        };
                        return match 0.cmp(&hi0) {
                            std::cmp::Ordering::Greater => t,
                            std::cmp::Ordering::Equal => lo,
                            std::cmp::Ordering::Less => f,
                        };
                    }
                    let eq = g.jump(JmpOp::Jeq, vhi, lo, f);
                    let unsigned_gt = g.jump(JmpOp::Jgt, vhi, t, eq);
                    let test = if !c.signed {
                        unsigned_gt
                    } else if (vhi as i32) >= 0 {
                        // A negative high word is below vhi, and not equal to it.
                        g.jump(JmpOp::Jset, 0x8000_0000, f, unsigned_gt)
                    } else {
                        // A non-negative high word is above a negative vhi.
                        g.jump(JmpOp::Jset, 0x8000_0000, unsigned_gt, t)
                    };
                    let masked = if mhi == u32::MAX {
                        test
                    } else {
                        g.add(Node::And { k: mhi, next: test })
                    };
                    g.load(Word::ArgHi(i), masked)
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rel {
    Eq,
    Gt,
    Ge,
}

/// Loads `word`, masks it, and tests `(word & mask) op k`, signed or unsigned 32-bit.
#[allow(clippy::too_many_arguments)]
fn word_test(
    g: &mut Graph,
    word: Word,
    mask: u32,
    op: Rel,
    k: u32,
    signed: bool,
    t: NodeId,
    f: NodeId,
) -> NodeId {
    // A masked-away word is 0: decide now.
    if mask == 0 {
        let kk = if signed {
            i64::from(k as i32)
        } else {
            i64::from(k)
        };
        let holds = match op {
            Rel::Eq => kk == 0,
            Rel::Gt => 0 > kk,
            Rel::Ge => 0 >= kk,
        };
        return if holds { t } else { f };
    }
    let test = match op {
        // The masked word can never have bits outside the mask.
        Rel::Eq if k & !mask != 0 => return f,
        // (A & m) == 0, and (A & bit) == bit, are one jset with no ALU op.
        Rel::Eq if k == 0 && mask != u32::MAX => {
            let j = g.jump(JmpOp::Jset, mask, f, t);
            return g.load(word, j);
        }
        Rel::Eq if k == mask && mask.is_power_of_two() => {
            let j = g.jump(JmpOp::Jset, mask, t, f);
            return g.load(word, j);
        }
        Rel::Eq => g.jump(JmpOp::Jeq, k, t, f),
        // Unsigned: every value is >= 0, and none exceeds the mask.
        Rel::Ge if !signed && k == 0 => return t,
        Rel::Gt if !signed && k >= mask => return f,
        Rel::Ge if !signed && k > mask => return f,
        Rel::Gt | Rel::Ge => {
            let jop = if op == Rel::Gt {
                JmpOp::Jgt
            } else {
                JmpOp::Jge
            };
            if signed {
                signed_test(g, jop, k, t, f)
            } else {
                g.jump(jop, k, t, f)
            }
        }
    };
    let masked = if mask == u32::MAX {
        test
    } else {
        g.add(Node::And {
            k: mask,
            next: test,
        })
    };
    g.load(word, masked)
}

/// Signed 32-bit `A > k` / `A >= k` with unsigned jumps: split on the sign bit first.
/// Among numbers of the same sign, unsigned order is signed order.
fn signed_test(g: &mut Graph, jop: JmpOp, k: u32, t: NodeId, f: NodeId) -> NodeId {
    // A non-negative A is always >= 0.
    let same_sign = if jop == JmpOp::Jge && k == 0 {
        t
    } else {
        g.jump(jop, k, t, f)
    };
    if (k as i32) >= 0 {
        // A negative: A < 0 <= k, so false.
        g.jump(JmpOp::Jset, 0x8000_0000, f, same_sign)
    } else {
        // A non-negative: A >= 0 > k, so true.
        g.jump(JmpOp::Jset, 0x8000_0000, same_sign, t)
    }
}
