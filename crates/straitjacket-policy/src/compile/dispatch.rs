//! Dispatch on the syscall number: a decision tree over ranges of numbers that share one
//! decision, shaped to execute few instructions on the calls that matter.
//!
//! The tree is an optimal alphabetic tree found by dynamic programming over the sorted
//! ranges: it minimises Σ weight × tests on the path, the expected number of tests. Besides
//! `jge` splits it has one more kind of node: a `jeq` that lifts a single-number exception out
//! of a range, so `[allowed 0..=9] [denied 10] [allowed 11..=20]` costs one test, not two.
//! Each range carries a bound on the tests its path may take (`Segment::limit`, from the
//! global depth bound less what its decision runs after dispatch); a range whose path is
//! over its bound gets a heavier weight and the tree is searched again (a few rounds), so
//! the longest path stays short while the mean is minimised.
//!
//! The table of optimal subtrees is filled shortest interval first with Knuth's bound on
//! the split (O(n²) for n ranges; Docker's profile has about 70 per ABI). Only `jge`/`jeq` on
//! the number are used, so the kernel's action-cache prover can follow every path.

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
    /// The most tests the path to this range may take.
    pub limit: u32,
}

/// At most this many exceptions in one `jeq` chain.
const MAX_CHAIN: usize = 3;
/// Intervals of up to this many ranges may be chains (majority, exception, majority, …).
const CHAIN_SPAN: usize = 2 * MAX_CHAIN + 2;
/// Rounds of re-weighting to bring paths within their limits.
const ROUNDS: usize = 12;

/// Builds the dispatch tree: the least expected number of tests for the weights, with every
/// path within its segment's `limit` (a path over its limit gets its weight raised and the
/// tree is searched again, a few rounds; if that fails, a weight-balanced tree bounded by
/// the tightest limit).
pub fn build(g: &mut Graph, segs: &[Segment]) -> NodeId {
    let n = segs.len();
    // A leaf of weight p sits about log2(1/p) deep in an optimal tree: start every range at
    // least as heavy as its limit asks.
    let total: f64 = segs.iter().map(|s| s.weight).sum();
    let floor = |s: &Segment| total / f64::from(1u32 << s.limit.min(30)) / 4.0;
    let mut b = Builder {
        segs,
        n,
        w: segs.iter().map(|s| s.weight.max(floor(s))).collect(),
        pre: Vec::with_capacity(n + 1),
        cost: vec![0.0; n * (n + 1)],
        choice: vec![Choice::Leaf; n * (n + 1)],
        root: vec![0; n * (n + 1)],
        chains: vec![None; n * CHAIN_SPAN],
        changed: vec![true; n],
    };
    // The best tree within the limits so far: (Σ original weight × depth, its choices).
    let mut best: Option<(f64, Vec<Choice>, Vec<f64>)> = None;
    for _ in 0..ROUNDS {
        b.solve();
        let mut over = Vec::new();
        let mut cost = 0.0;
        b.depths(0, n, 0, &mut |s, depth| {
            cost += segs[s].weight * f64::from(depth);
            if depth > segs[s].limit {
                over.push(s);
            }
        });
        if over.is_empty() {
            if best.as_ref().is_none_or(|(c, _, _)| cost < *c) {
                best = Some((cost, b.choice.clone(), b.w.clone()));
            }
            break;
        }
        for s in over {
            b.w[s] *= 2.0;
            b.forget_chains(s);
        }
    }
    match best {
        Some((_, choice, w)) => {
            b.choice = choice;
            b.w = w;
            b.emit(g, 0, n)
        }
        None => {
            // Re-weighting did not meet every limit: a weight-balanced tree that never goes
            // deeper than the tightest limit allows (or the fewest tests the ranges need).
            let need = usize::BITS - n.saturating_sub(1).leading_zeros();
            let depth = segs.iter().map(|s| s.limit).min().unwrap_or(0).max(need);
            Balanced {
                segs,
                pre: &b.pre,
                w: &b.w,
            }
            .tree(g, 0, n, depth)
        }
    }
}

/// The fallback: each `jge` splits its ranges where the weight on either side is most even,
/// within what the depth allows (a side never holds more ranges than its depth can).
struct Balanced<'a> {
    segs: &'a [Segment],
    pre: &'a [f64],
    w: &'a [f64],
}

impl Balanced<'_> {
    fn weight(&self, i: usize, j: usize) -> f64 {
        self.pre[j] - self.pre[i]
    }

    fn tree(&self, g: &mut Graph, i: usize, j: usize, depth: u32) -> NodeId {
        if j - i == 1 {
            return self.segs[i].node;
        }
        if let Some((major, ex)) = chain_parts(&self.segs[i..j], &self.w[i..j]) {
            if ex.len() as u32 <= depth {
                return ex.iter().rev().fold(major, |acc, &s| {
                    let s = self.segs[i + s];
                    g.jump(JmpOp::Jeq, s.lo, s.node, acc)
                });
            }
        }
        let room = 1usize << (depth - 1).min(usize::BITS - 2);
        let (lo, hi) = ((j.saturating_sub(room)).max(i + 1), (i + room).min(j - 1));
        let half = self.pre[i] + self.weight(i, j) / 2.0;
        let k = i + 1 + self.pre[i + 1..j].partition_point(|&p| p < half);
        let imbalance = |k: usize| (self.weight(i, k) - self.weight(k, j)).abs();
        let k = [k.saturating_sub(1), k]
            .into_iter()
            .map(|k| k.clamp(lo, hi))
            .min_by(|&a, &b| imbalance(a).total_cmp(&imbalance(b)))
            .unwrap_or(lo);
        let upper = self.tree(g, k, j, depth - 1);
        let lower = self.tree(g, i, k, depth - 1);
        g.jump(JmpOp::Jge, self.segs[k].lo, upper, lower)
    }
}

#[derive(Clone, Copy, Debug)]
enum Choice {
    Leaf,
    Chain,
    Split(u32),
}

struct Builder<'a> {
    segs: &'a [Segment],
    n: usize,
    /// The weights of this round, and their prefix sums.
    w: Vec<f64>,
    pre: Vec<f64>,
    /// Per interval `[i, j)` (at `i * (n + 1) + j`): least Σ weight × depth, and how.
    cost: Vec<f64>,
    choice: Vec<Choice>,
    /// Split points of the best pure-split tree, for Knuth's bound.
    root: Vec<u32>,
    /// `chain_parts` of the short intervals (at `i * CHAIN_SPAN + len`), kept across rounds:
    /// a round changes the weights of a few ranges only, and with them the chains over them.
    chains: Vec<Option<Option<(NodeId, Chain)>>>,
    /// The ranges whose weight changed since the last `solve`: an interval holding none of
    /// them has the same optimal tree as before and is not searched again.
    changed: Vec<bool>,
}

impl Builder<'_> {
    fn at(&self, i: usize, j: usize) -> usize {
        i * (self.n + 1) + j
    }

    /// The optimal tree of every interval, shortest first. The best split of `[i, j)` lies
    /// between those of `[i, j - 1)` and `[i + 1, j)` (Knuth 1971; the jeq chains are an
    /// extra candidate at each interval and do not take part in the bound), so the whole
    /// table takes O(n²).
    fn solve(&mut self) {
        let n = self.n;
        self.pre.clear();
        self.pre.push(0.0);
        for i in 0..n {
            self.pre.push(self.pre[i] + self.w[i]);
        }
        // changes[k]: how many changed ranges lie before k.
        let mut changes = Vec::with_capacity(n + 1);
        changes.push(0u32);
        for i in 0..n {
            changes.push(changes[i] + u32::from(self.changed[i]));
        }
        for i in 0..n {
            let a = self.at(i, i + 1);
            self.cost[a] = 0.0;
            self.choice[a] = Choice::Leaf;
        }
        for len in 2..=n {
            for i in 0..=n - len {
                let j = i + len;
                if changes[j] == changes[i] {
                    continue;
                }
                let w = self.pre[j] - self.pre[i];
                let (lo, hi) = if len == 2 {
                    (i + 1, i + 1)
                } else {
                    (
                        self.root[self.at(i, j - 1)] as usize,
                        self.root[self.at(i + 1, j)] as usize,
                    )
                };
                let mut best = (f64::INFINITY, i + 1);
                for k in lo..=hi.max(lo) {
                    let c = self.cost[self.at(i, k)] + self.cost[self.at(k, j)];
                    if c < best.0 {
                        best = (c, k);
                    }
                }
                let a = self.at(i, j);
                self.root[a] = best.1 as u32;
                self.cost[a] = w + best.0;
                self.choice[a] = Choice::Split(best.1 as u32);
                if len <= 2 * MAX_CHAIN + 1 {
                    if let Some(c) = self.chain_cost(i, j) {
                        if c < self.cost[a] {
                            self.cost[a] = c;
                            self.choice[a] = Choice::Chain;
                        }
                    }
                }
            }
        }
        self.changed.fill(false);
    }

    /// The cost of deciding `[i, j)` by a chain of `jeq` exceptions out of one majority
    /// decision, if the interval has that shape.
    fn chain_cost(&mut self, i: usize, j: usize) -> Option<f64> {
        let at = i * CHAIN_SPAN + (j - i);
        let (major, ex) = match self.chains[at] {
            Some(known) => known,
            None => {
                let parts = chain_parts(&self.segs[i..j], &self.w[i..j]);
                self.chains[at] = Some(parts);
                parts
            }
        }?;
        let len = ex.len() as f64;
        let mut cost = 0.0;
        for (q, &s) in ex.iter().enumerate() {
            cost += (q + 1) as f64 * self.w[i + s];
        }
        for s in i..j {
            if self.segs[s].node == major {
                cost += len * self.w[s];
            }
        }
        Some(cost)
    }

    /// Drops the remembered chains of the short intervals holding segment `s` (its weight
    /// changed).
    fn forget_chains(&mut self, s: usize) {
        self.changed[s] = true;
        for i in s.saturating_sub(2 * MAX_CHAIN)..=s {
            for len in (s - i + 1)..CHAIN_SPAN {
                self.chains[i * CHAIN_SPAN + len] = None;
            }
        }
    }

    /// Calls `f(segment, tests on its path)` for every segment of the chosen tree.
    fn depths(&self, i: usize, j: usize, used: u32, f: &mut dyn FnMut(usize, u32)) {
        match self.choice[self.at(i, j)] {
            Choice::Leaf => f(i, used),
            Choice::Chain => {
                let (major, ex) =
                    chain_parts(&self.segs[i..j], &self.w[i..j]).expect("a chain was chosen");
                for (q, &s) in ex.iter().enumerate() {
                    f(i + s, used + q as u32 + 1);
                }
                for s in i..j {
                    if self.segs[s].node == major {
                        f(s, used + ex.len() as u32);
                    }
                }
            }
            Choice::Split(k) => {
                self.depths(i, k as usize, used + 1, f);
                self.depths(k as usize, j, used + 1, f);
            }
        }
    }

    fn emit(&self, g: &mut Graph, i: usize, j: usize) -> NodeId {
        match self.choice[self.at(i, j)] {
            Choice::Leaf => self.segs[i].node,
            Choice::Chain => {
                let (major, ex) =
                    chain_parts(&self.segs[i..j], &self.w[i..j]).expect("a chain was chosen");
                ex.iter().rev().fold(major, |acc, &s| {
                    let s = self.segs[i + s];
                    g.jump(JmpOp::Jeq, s.lo, s.node, acc)
                })
            }
            Choice::Split(k) => {
                let k = k as usize;
                let hi = self.emit(g, k, j);
                let lo = self.emit(g, i, k);
                g.jump(JmpOp::Jge, self.segs[k].lo, hi, lo)
            }
        }
    }
}

/// The majority node of an interval and its exceptions, if every exception is a single
/// number and there are at most MAX_CHAIN of them: (majority, exception indices, heaviest
/// first).
fn chain_parts(segs: &[Segment], weights: &[f64]) -> Option<(NodeId, Chain)> {
    if segs.len() > 2 * MAX_CHAIN + 1 {
        return None;
    }
    let mut best: Option<(NodeId, f64)> = None;
    for s in segs {
        let w: f64 = (0..segs.len())
            .filter(|&t| segs[t].node == s.node)
            .map(|t| weights[t])
            .sum();
        if best.is_none_or(|(_, bw)| w > bw) {
            best = Some((s.node, w));
        }
    }
    let (major, _) = best?;
    let mut ex = Chain::default();
    for (t, s) in segs.iter().enumerate() {
        if s.node != major {
            if ex.len == MAX_CHAIN || s.width != 1 {
                return None;
            }
            ex.at[ex.len] = t;
            ex.len += 1;
        }
    }
    if ex.len == 0 {
        return None;
    }
    ex.at[..ex.len].sort_by(|&a, &b| weights[b].total_cmp(&weights[a]));
    Some((major, ex))
}

/// The exceptions of a chain (indices into its interval).
#[derive(Clone, Copy, Debug, Default)]
struct Chain {
    at: [usize; MAX_CHAIN],
    len: usize,
}

impl std::ops::Deref for Chain {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        &self.at[..self.len]
    }
}
