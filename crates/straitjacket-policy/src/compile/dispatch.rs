//! Dispatch on the syscall number: a decision tree over ranges of numbers that share one
//! decision, shaped to execute few instructions on the calls that matter.
//!
//! The tree is weight-balanced (each `jge` splits its ranges where the weight of the
//! policy's syscalls on either side is most even, so heavy ranges sit near the root —
//! within a small constant of the optimal alphabetic tree, Mehlhorn 1975, in O(n log n)),
//! with one extra kind of node: a `jeq` that lifts a single-number exception out of a range,
//! so `[allowed 0..=9] [denied 10] [allowed 11..=20]` costs one test, not two. Depth is
//! bounded (`max_depth`): a split never leaves a side with more ranges than its remaining
//! depth can hold. Only `jge`/`jeq` on the number are used, so the kernel's action-cache
//! prover can follow every path.

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

/// At most this many exceptions in one `jeq` chain.
const MAX_CHAIN: usize = 3;

/// Builds the dispatch tree; every path tests at most `max_depth` times (or the fewest
/// possible, if the ranges need more).
pub fn build(g: &mut Graph, segs: &[Segment], max_depth: u32) -> NodeId {
    let n = segs.len();
    let need = usize::BITS - n.saturating_sub(1).leading_zeros();
    let mut pre = Vec::with_capacity(n + 1);
    pre.push(0.0);
    for s in segs {
        pre.push(pre[pre.len() - 1] + s.weight);
    }
    let b = Builder { segs, pre: &pre };
    b.tree(g, 0, n, max_depth.max(need))
}

struct Builder<'a> {
    segs: &'a [Segment],
    pre: &'a [f64],
}

impl Builder<'_> {
    fn weight(&self, i: usize, j: usize) -> f64 {
        self.pre[j] - self.pre[i]
    }

    fn tree(&self, g: &mut Graph, i: usize, j: usize, depth: u32) -> NodeId {
        if j - i == 1 {
            return self.segs[i].node;
        }
        if j - i <= 2 * MAX_CHAIN + 1 {
            if let Some((major, ex)) = chain_parts(&self.segs[i..j]) {
                if ex.len() as u32 <= depth
                    && self.chain_cost(i, j, &ex) <= self.split_cost(i, j, depth)
                {
                    return ex
                        .iter()
                        .rev()
                        .fold(major, |acc, s| g.jump(JmpOp::Jeq, s.lo, s.node, acc));
                }
            }
        }
        let k = self.split(i, j, depth);
        let hi = self.tree(g, k, j, depth - 1);
        let lo = self.tree(g, i, k, depth - 1);
        g.jump(JmpOp::Jge, self.segs[k].lo, hi, lo)
    }

    /// Where to split `[i, j)`: the most even weight, within what the depth allows.
    fn split(&self, i: usize, j: usize, depth: u32) -> usize {
        let room = 1usize << (depth - 1).min(usize::BITS - 2);
        let (lo, hi) = ((j.saturating_sub(room)).max(i + 1), (i + room).min(j - 1));
        let half = self.pre[i] + self.weight(i, j) / 2.0;
        // The first k whose left side reaches half the weight, and its neighbour.
        let k = i + 1 + self.pre[i + 1..j].partition_point(|&p| p < half);
        let best = [k.saturating_sub(1), k]
            .into_iter()
            .map(|k| k.clamp(lo, hi))
            .min_by(|&a, &b| {
                let imbalance = |k: usize| (self.weight(i, k) - self.weight(k, j)).abs();
                imbalance(a).total_cmp(&imbalance(b))
            });
        best.unwrap_or(lo)
    }

    /// Weighted cost of the split tree of a small interval (tests on each path × weight).
    fn split_cost(&self, i: usize, j: usize, depth: u32) -> f64 {
        if j - i == 1 {
            return 0.0;
        }
        let k = self.split(i, j, depth);
        self.weight(i, j) + self.split_cost(i, k, depth - 1) + self.split_cost(k, j, depth - 1)
    }

    fn chain_cost(&self, i: usize, j: usize, ex: &[Segment]) -> f64 {
        let ex_weight: f64 = ex.iter().map(|s| s.weight).sum();
        let steps: f64 = ex
            .iter()
            .enumerate()
            .map(|(q, s)| (q + 1) as f64 * s.weight)
            .sum();
        steps + ex.len() as f64 * (self.weight(i, j) - ex_weight)
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
