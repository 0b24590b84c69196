//! Dispatch on the syscall number: a decision tree over ranges of numbers that share one
//! decision, shaped to execute as few instructions as possible.
//!
//! The tree is an optimal alphabetic (order-preserving) search tree over the ranges, weighted
//! by how many of the policy's syscalls each range holds (Knuth's O(n²) dynamic program),
//! with one extra kind of node: a `jeq` that lifts a single-number exception out of a range,
//! so `[allowed 0..=9] [denied 10] [allowed 11..=20]` costs one test, not two. Its depth is
//! bounded (`max_depth`): where the weighted tree would go deeper, a subtree is rebuilt
//! balanced. Only `jge`/`jeq` on the number are used, so the kernel's action-cache prover can
//! follow every path.

use super::lower::{Graph, NodeId};
use crate::bpf::JmpOp;

/// A range of syscall numbers `[lo, next segment's lo)` decided by `node`.
#[derive(Clone, Copy, Debug)]
pub struct Segment {
    pub lo: u32,
    pub node: NodeId,
    /// How many numbers the range holds.
    pub width: u64,
    /// How much it matters that calls in this range are decided quickly.
    pub weight: f64,
}

/// How a sub-interval of segments is decided.
#[derive(Clone, Copy, Debug)]
enum Choice {
    Leaf,
    /// `jge` on the first number of segment k.
    Split(usize),
    /// `jeq` chains on single-number exceptions, then the majority node.
    Chain,
}

/// At most this many exceptions in one `jeq` chain.
const MAX_CHAIN: usize = 3;

/// Builds the dispatch tree; every path tests at most `max_depth` times.
///
/// A dynamic program over (depth budget, interval): the cheapest weighted tree for segments
/// `[i, j)` using at most `d` tests on any path (optimal alphabetic trees with restricted
/// depth, Garey 1974), with Knuth's bound on where the best split lies.
pub fn build(g: &mut Graph, segs: &[Segment], max_depth: u32) -> NodeId {
    let n = segs.len();
    if n == 1 {
        return segs[0].node;
    }
    // A tree of depth d holds at most 2^d leaves: never ask for less than that.
    let need = usize::BITS - (n - 1).leading_zeros();
    let max_depth = max_depth.max(need) as usize;
    let mut pre = vec![0.0; n + 1];
    for (i, s) in segs.iter().enumerate() {
        pre[i + 1] = pre[i] + s.weight;
    }
    let weight = |i: usize, j: usize| pre[j] - pre[i];
    let t = Tables::new(n, max_depth);
    let mut t = t;
    for d in 1..=max_depth {
        for len in 2..=n {
            if len > 1usize << d.min(usize::BITS as usize - 1) {
                break;
            }
            for i in 0..=n - len {
                let j = i + len;
                let (lo, hi) = (
                    t.root(d, i, j - 1).max(i + 1),
                    t.root(d, i + 1, j).min(j - 1),
                );
                let mut best = best_split(&t, d, i, j, lo.min(hi), hi.max(lo));
                if !best.0.is_finite() {
                    best = best_split(&t, d, i, j, i + 1, j - 1);
                }
                let mut entry = (best.0 + weight(i, j), Choice::Split(best.1), best.1);
                if len <= 2 * MAX_CHAIN + 1 {
                    if let Some((c, m)) = chain_cost(&segs[i..j]) {
                        if m as usize <= d && c < entry.0 {
                            entry = (c, Choice::Chain, entry.2);
                        }
                    }
                }
                t.set(d, i, j, entry);
            }
        }
    }
    emit(g, segs, &t, 0, n, max_depth)
}

fn best_split(t: &Tables, d: usize, i: usize, j: usize, lo: usize, hi: usize) -> (f64, usize) {
    let mut best = (f64::INFINITY, lo);
    for k in lo..=hi {
        let c = t.cost(d - 1, i, k) + t.cost(d - 1, k, j);
        if c < best.0 {
            best = (c, k);
        }
    }
    best
}

/// Cost, choice and best split per (depth budget, interval).
struct Tables {
    n: usize,
    cost: Vec<f64>,
    choice: Vec<Choice>,
    root: Vec<usize>,
}

impl Tables {
    fn new(n: usize, max_depth: usize) -> Tables {
        let size = (max_depth + 1) * (n + 1) * (n + 1);
        let mut t = Tables {
            n,
            cost: vec![f64::INFINITY; size],
            choice: vec![Choice::Leaf; size],
            root: vec![0; size],
        };
        for d in 0..=max_depth {
            for i in 0..n {
                let k = t.at(d, i, i + 1);
                t.cost[k] = 0.0;
                t.root[k] = i + 1;
            }
        }
        t
    }
    fn at(&self, d: usize, i: usize, j: usize) -> usize {
        (d * (self.n + 1) + i) * (self.n + 1) + j
    }
    fn cost(&self, d: usize, i: usize, j: usize) -> f64 {
        self.cost[self.at(d, i, j)]
    }
    fn root(&self, d: usize, i: usize, j: usize) -> usize {
        self.root[self.at(d, i, j)]
    }
    fn set(&mut self, d: usize, i: usize, j: usize, (cost, choice, root): (f64, Choice, usize)) {
        let k = self.at(d, i, j);
        self.cost[k] = cost;
        self.choice[k] = choice;
        self.root[k] = root;
    }
}

/// The majority node of an interval and its exceptions, if every exception is a single
/// number and there are at most MAX_CHAIN of them: (majority, exceptions by weight).
fn chain_parts(segs: &[Segment]) -> Option<(NodeId, Vec<Segment>)> {
    let mut best: Option<(NodeId, f64)> = None;
    for s in segs {
        let w: f64 = segs
            .iter()
            .filter(|t| t.node == s.node)
            .map(|t| t.weight)
            .sum();
        if best.is_none_or(|(_, bw)| w > bw) {
            best = Some((s.node, w));
        }
    }
    let (major, _) = best?;
    let mut ex: Vec<Segment> = segs.iter().filter(|s| s.node != major).copied().collect();
    if ex.is_empty() || ex.len() > MAX_CHAIN || ex.iter().any(|s| s.width != 1) {
        return None;
    }
    ex.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    Some((major, ex))
}

/// Weighted cost and depth of deciding `segs` by a `jeq` chain.
fn chain_cost(segs: &[Segment]) -> Option<(f64, u32)> {
    let (major, ex) = chain_parts(segs)?;
    let m = ex.len();
    let mut c: f64 = ex
        .iter()
        .enumerate()
        .map(|(q, s)| (q + 1) as f64 * s.weight)
        .sum();
    c += m as f64
        * segs
            .iter()
            .filter(|s| s.node == major)
            .map(|s| s.weight)
            .sum::<f64>();
    Some((c, m as u32))
}

fn emit(g: &mut Graph, segs: &[Segment], t: &Tables, i: usize, j: usize, d: usize) -> NodeId {
    if j - i == 1 {
        return segs[i].node;
    }
    if !t.cost(d, i, j).is_finite() {
        return balanced(g, &segs[i..j]);
    }
    match t.choice[t.at(d, i, j)] {
        Choice::Leaf => segs[i].node,
        Choice::Split(k) => {
            let hi = emit(g, segs, t, k, j, d - 1);
            let lo = emit(g, segs, t, i, k, d - 1);
            g.jump(JmpOp::Jge, segs[k].lo, hi, lo)
        }
        Choice::Chain => {
            let (major, ex) = chain_parts(&segs[i..j]).expect("chosen only when it applies");
            ex.iter()
                .rev()
                .fold(major, |acc, s| g.jump(JmpOp::Jeq, s.lo, s.node, acc))
        }
    }
}

/// A tree balanced by count: the shallowest possible.
fn balanced(g: &mut Graph, segs: &[Segment]) -> NodeId {
    match segs {
        [] => unreachable!("never called on nothing"),
        [s] => s.node,
        _ => {
            let mid = segs.len() / 2;
            let hi = balanced(g, &segs[mid..]);
            let lo = balanced(g, &segs[..mid]);
            g.jump(JmpOp::Jge, segs[mid].lo, hi, lo)
        }
    }
}
