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

use super::dispatch::{self, Segment};
use super::FxBuild;
use crate::action::Action;
use crate::arch::{Arch, Width, X32_SYSCALL_BIT};
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
    index: HashMap<Node, NodeId, FxBuild>,
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

    pub(crate) fn jump(&mut self, op: JmpOp, k: u32, t: NodeId, f: NodeId) -> NodeId {
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

/// Weights of the dispatch tree, per syscall number: every syscall of the ABI's table counts
/// alike, allowed or denied, named by the policy or not (the figure the performance targets ask for: the
/// mean over every syscall); a number with no syscall (a hole in the table) a little; the
/// x32 ABI, on x86_64, little as a whole (see `lower_section`); numbers beyond the table
/// hardly (they are rare and never cacheable).
const WEIGHT_SYSCALL: f64 = 1.0;
/// A call with argument tests pays for them after dispatch: dispatch it a little sooner.
const WEIGHT_CONDITIONAL: f64 = 2.0;
const WEIGHT_HOLE: f64 = 0.1;
const WEIGHT_X32: f64 = 0.05;
const WEIGHT_OUTSIDE: f64 = 0.001;

/// Tests on the syscall number at most, so a call costs at most 12 instructions with its
/// arguments 0: ld arch, jeq, ld nr, 8 tests, ret — a conditional call's argument tests are
/// counted in, so it is dispatched in fewer.
pub const MAX_DISPATCH_DEPTH: u32 = 8;
/// The bound for numbers beyond the table (never cached, and rare).
const MAX_DEPTH_OUTSIDE: u32 = 12;
/// The bound for the range above x86_64's table, where the x32 tree hangs.
const MAX_DEPTH_X32: u32 = 4;

/// Instructions `node` runs before its `ret` when every argument is 0 (the figure the
/// emulator reports for a call).
fn tail_len(g: &Graph, mut node: NodeId) -> u32 {
    let mut a: u32 = 0;
    let mut n = 0;
    loop {
        node = match g.node(node) {
            Node::Ret(_) => return n,
            Node::Load { next, .. } => {
                a = 0;
                next
            }
            Node::And { k, next } => {
                a &= k;
                next
            }
            Node::Jump { op, k, t, f } => {
                let holds = match op {
                    JmpOp::Jeq => a == k,
                    JmpOp::Jgt => a > k,
                    JmpOp::Jge => a >= k,
                    JmpOp::Jset => a & k != 0,
                };
                if holds {
                    t
                } else {
                    f
                }
            }
        };
        n += 1;
    }
}

/// The part of the program for one AUDIT_ARCH value: dispatch on the number.
///
/// x86_64 and x32 share AUDIT_ARCH_X86_64; x32 numbers have bit 30 set. The x32 half gets a
/// tree of its own, hung below the x86_64 tree's last range (numbers above x86_64's table),
/// so x86_64 calls pay nothing for it; x32 calls pay a few tests more (the ABI is rare, and
/// the kernel never caches it anyway).
fn lower_section(g: &mut Graph, filters: &[&Filter], kill: NodeId) -> NodeId {
    let x86_64 = filters.iter().find(|f| f.arch != Arch::X32);
    let x32 = filters.iter().find(|f| f.arch == Arch::X32);
    let tree = match (x86_64, x32) {
        (Some(f), _) if f.arch != Arch::X86_64 => number_tree(g, f, None),
        (native, x32) => {
            let upper = match x32 {
                Some(f) => number_tree(g, f, None),
                None => kill,
            };
            match native {
                Some(f) => number_tree(g, f, Some(upper)),
                None => {
                    let below = g.ret(Action::KillProcess);
                    g.jump(JmpOp::Jge, X32_SYSCALL_BIT, upper, below)
                }
            }
        }
    };
    g.load(Word::Nr, tree)
}

/// The dispatch tree of one ABI's numbers; `x32`: what numbers with the x32 bit go to (on
/// x86_64).
fn number_tree(g: &mut Graph, f: &Filter, x32: Option<NodeId>) -> NodeId {
    // Ranges of the number space, each with the node deciding it.
    let mut segs: Vec<Segment> = Vec::new();
    let push = |segs: &mut Vec<Segment>, lo: u32, node: NodeId, weight: f64, limit: u32| match segs
        .last_mut()
    {
        Some(last) if last.node == node => {
            last.weight += weight;
            last.limit = last.limit.min(limit);
        }
        _ => segs.push(Segment {
            lo,
            node,
            width: 0,
            weight,
            limit,
        }),
    };
    let default = g.ret(f.default);
    let unknown = g.ret(f.unknown);
    let table = f.arch.syscalls();
    let min = f.arch.min_nr().0;
    let max = f.arch.max_nr().0;
    if min > 0 {
        push(&mut segs, 0, unknown, WEIGHT_OUTSIDE, MAX_DEPTH_OUTSIDE);
    }
    // The table and the policy's syscalls, both sorted by number, walked together.
    let mut rules = f.syscalls.iter().peekable();
    let mut next_nr = min;
    for sc in table {
        if sc.nr > next_nr {
            // A hole in the table: no syscall has these numbers.
            let w = WEIGHT_HOLE * f64::from(sc.nr - next_nr);
            push(&mut segs, next_nr, default, w, MAX_DISPATCH_DEPTH);
        }
        next_nr = sc.nr + 1;
        while rules.next_if(|(nr, _)| nr.0 < sc.nr).is_some() {}
        let (node, weight, limit) = match rules.next_if(|(nr, _)| nr.0 == sc.nr) {
            Some((_, rs)) => {
                let node = lower_rules(g, rs, default);
                if rs.iter().any(|r| r.cond != Cond::True) {
                    let tail = tail_len(g, node);
                    let limit = MAX_DISPATCH_DEPTH.saturating_sub(tail).max(1);
                    (node, WEIGHT_CONDITIONAL, limit)
                } else {
                    (node, WEIGHT_SYSCALL, MAX_DISPATCH_DEPTH)
                }
            }
            None => (default, WEIGHT_SYSCALL, MAX_DISPATCH_DEPTH),
        };
        push(&mut segs, sc.nr, node, weight, limit);
    }
    if max < u32::MAX {
        let above = match x32 {
            Some(x32) => g.jump(JmpOp::Jge, X32_SYSCALL_BIT, x32, unknown),
            None => unknown,
        };
        push(&mut segs, max + 1, above, WEIGHT_X32, MAX_DEPTH_X32);
    }
    for i in 0..segs.len() {
        let end = segs.get(i + 1).map_or(1u64 << 32, |s| u64::from(s.lo));
        segs[i].width = end - u64::from(segs[i].lo);
    }
    dispatch::build(g, &segs)
}

/// `a == v1 || a == v2 || …` on one 64-bit argument whose values share their high word:
/// test the high word once, then the low words — `(a.hi == h) && (a.lo == l1 || …)`.
fn factor_high_words(xs: &[Cond]) -> Option<Cond> {
    const HI: u64 = 0xffff_ffff_0000_0000;
    const LO: u64 = 0x0000_0000_ffff_ffff;
    let first = match xs.first() {
        Some(Cond::Cmp(c)) => *c,
        _ => return None,
    };
    if xs.len() < 2 || first.width != Width::W64 || first.op != CmpOp::Eq || first.mask & HI == 0 {
        return None;
    }
    let same = |c: &Cond| match c {
        Cond::Cmp(x) => {
            x.width == Width::W64
                && x.op == CmpOp::Eq
                && x.arg == first.arg
                && x.mask == first.mask
                && x.value & HI == first.value & HI
        }
        _ => false,
    };
    if !xs.iter().all(same) {
        return None;
    }
    let hi = Cmp {
        mask: first.mask & HI,
        value: first.value & HI,
        ..first
    };
    let los = xs
        .iter()
        .filter_map(|c| match c {
            Cond::Cmp(x) => Some(Cond::Cmp(Cmp {
                mask: x.mask & LO,
                value: x.value & LO,
                ..*x
            })),
            _ => None,
        })
        .collect();
    Some(Cond::And(vec![Cond::Cmp(hi), Cond::Or(los)]))
}

/// One syscall's rules, first match wins, else `default`.
fn lower_rules(g: &mut Graph, rules: &[Rule], default: NodeId) -> NodeId {
    // Rules after an unconditional one never run.
    let live = rules
        .iter()
        .position(|r| r.cond == Cond::True)
        .map_or(rules, |i| &rules[..=i]);
    // Consecutive rules with one action are one rule with their conditions or-ed.
    let mut merged: Vec<(Action, Cond)> = Vec::new();
    for r in live {
        match merged.last_mut() {
            Some((a, Cond::Or(cs))) if *a == r.action => cs.push(r.cond.clone()),
            Some((a, c)) if *a == r.action => *c = Cond::Or(vec![c.clone(), r.cond.clone()]),
            _ => merged.push((r.action, r.cond.clone())),
        }
    }
    let mut acc = default;
    for (action, cond) in merged.iter().rev() {
        let act = g.ret(*action);
        acc = lower_cond(g, cond, act, acc);
    }
    acc
}

/// Control flow for a condition: to `t` when it holds, else to `f`.
fn lower_cond(g: &mut Graph, c: &Cond, t: NodeId, f: NodeId) -> NodeId {
    match c {
        Cond::True => t,
        Cond::Not(x) => lower_cond(g, x, f, t),
        Cond::And(xs) => xs.iter().rev().fold(t, |acc, x| lower_cond(g, x, acc, f)),
        Cond::Or(xs) => match factor_high_words(xs) {
            Some(factored) => lower_cond(g, &factored, t, f),
            None => xs.iter().rev().fold(f, |acc, x| lower_cond(g, x, t, acc)),
        },
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
                    // Low word first: it differs more often, so a mismatch is found with one
                    // load, and a run of `arg == v1 || arg == v2 …` shares it.
                    let hi = word_test(g, Word::ArgHi(i), mhi, Rel::Eq, vhi, false, t, f);
                    word_test(g, Word::ArgLo(i), mlo, Rel::Eq, vlo, false, hi, f)
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
                    if !c.signed && vhi > mhi {
                        // The masked high word never reaches vhi.
                        return f;
                    }
                    let unsigned_gt = match vhi {
                        // Unsigned, nothing is below 0 or above the mask: one test decides.
                        0 if !c.signed => g.jump(JmpOp::Jeq, 0, lo, t),
                        v if v == mhi && !c.signed => g.jump(JmpOp::Jeq, v, lo, f),
                        _ => {
                            let eq = g.jump(JmpOp::Jeq, vhi, lo, f);
                            g.jump(JmpOp::Jgt, vhi, t, eq)
                        }
                    };
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
