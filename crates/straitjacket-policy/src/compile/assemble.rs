//! Decision graph to instructions: drop loads of a word A already holds, lay the nodes out
//! so most successors fall through, and emit backwards so every jump is forward and its
//! distance known. A conditional jump farther than 255 instructions goes through a `ja`
//! trampoline placed right after it (or a copy of the `ret` it aims at).

use std::collections::HashMap;

use super::lower::{Graph, Node, NodeId, Word};
use crate::bpf::{AluOp, Insn, RetSrc, Src};

/// What the accumulator holds on entry to a node, on every path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AState {
    Unknown,
    Word(Word),
    Masked(Word, u32),
}

/// Forward dataflow over the DAG: the accumulator's content on entry to each node. Node ids
/// are reverse topological, so descending ids visit every predecessor first.
fn entry_states(g: &Graph, root: NodeId) -> Vec<Option<AState>> {
    let mut state: Vec<Option<AState>> = vec![None; g.nodes.len()];
    state[root.0 as usize] = Some(AState::Unknown);
    for id in (0..g.nodes.len()).rev() {
        let Some(inn) = state[id] else { continue };
        let node = g.nodes[id];
        let out = match node {
            Node::Ret(_) => continue,
            Node::Load { word, .. } => AState::Word(word),
            Node::And { k, .. } => match inn {
                AState::Word(w) => AState::Masked(w, k),
                AState::Masked(w, m) => AState::Masked(w, m & k),
                AState::Unknown => AState::Unknown,
            },
            Node::Jump { .. } => inn,
        };
        for s in node.successors() {
            let slot = &mut state[s.0 as usize];
            *slot = Some(match *slot {
                None => out,
                Some(prev) if prev == out => out,
                Some(_) => AState::Unknown,
            });
        }
    }
    state
}

/// Follows loads that are redundant (A already holds the word on every path in).
fn skip_redundant(g: &Graph, states: &[Option<AState>], mut id: NodeId) -> NodeId {
    while let Node::Load { word, next } = g.node(id) {
        if states[id.0 as usize] != Some(AState::Word(word)) {
            break;
        }
        id = next;
    }
    id
}

/// Assembles the graph reachable from `root` into instructions.
pub fn assemble(g: &Graph, root: NodeId) -> Vec<Insn> {
    let states = entry_states(g, root);
    let succ = |id: NodeId| -> Vec<NodeId> {
        g.node(id)
            .successors()
            .map(|s| skip_redundant(g, &states, s))
            .collect()
    };
    let root = skip_redundant(g, &states, root);

    // Reverse postorder, visiting the fall-through successor (next, or the false branch)
    // last so it lands right after its node.
    let mut order = Vec::new();
    let mut seen = vec![false; g.nodes.len()];
    let mut stack: Vec<(NodeId, Vec<NodeId>)> = vec![(root, fallthrough_last(succ(root)))];
    seen[root.0 as usize] = true;
    while let Some((id, pending)) = stack.last_mut() {
        if let Some(next) = pending.pop() {
            if !seen[next.0 as usize] {
                seen[next.0 as usize] = true;
                let s = fallthrough_last(succ(next));
                stack.push((next, s));
            }
        } else {
            order.push(*id);
            stack.pop();
        }
    }
    // `order` is postorder: emitting it front to back builds the program from its end.
    let mut rev: Vec<Insn> = Vec::new();
    let mut entry: HashMap<NodeId, usize> = HashMap::new();
    for &id in &order {
        let node = g.node(id);
        match node {
            Node::Ret(k) => rev.push(Insn::Ret(RetSrc::K(k))),
            Node::Load { word, .. } => {
                goto(g, &mut rev, &entry, succ(id)[0]);
                rev.push(Insn::LdAbs(word.offset()));
            }
            Node::And { k, .. } => {
                goto(g, &mut rev, &entry, succ(id)[0]);
                rev.push(Insn::Alu(AluOp::And, Src::K(k)));
            }
            Node::Jump { op, k, .. } => {
                let s = succ(id);
                let (t, f) = (s[0], s[1]);
                let jt = reach(g, &mut rev, &entry, t);
                let jf = reach(g, &mut rev, &entry, f);
                let here = rev.len();
                let off = |target: usize| (here - target - 1) as u8;
                rev.push(Insn::Jmp {
                    op,
                    src: Src::K(k),
                    jt: off(jt),
                    jf: off(jf),
                });
            }
        }
        entry.insert(id, rev.len() - 1);
    }
    rev.reverse();
    rev
}

/// Successors with the one that should fall through last (popped last = visited last).
fn fallthrough_last(mut s: Vec<NodeId>) -> Vec<NodeId> {
    // Jumps list (t, f); the stack pops from the end, so reversing visits f last.
    s.reverse();
    s
}

/// Position (from the end) an instruction emitted next can jump to with an 8-bit offset to
/// reach `target`, adding a trampoline (a `ja`, or a copy of a `ret`) when it is too far.
fn reach(g: &Graph, rev: &mut Vec<Insn>, entry: &HashMap<NodeId, usize>, target: NodeId) -> usize {
    let at = entry[&target];
    // The jump will sit at rev.len() (plus any trampoline added for its other target, at most
    // one more), so keep a margin of one.
    if rev.len() - at - 1 < 255 {
        return at;
    }
    far(g, rev, at, target);
    rev.len() - 1
}

/// Emits a `ja` to `target` (or a copy of its `ret`) as the next instruction back.
fn far(g: &Graph, rev: &mut Vec<Insn>, at: usize, target: NodeId) {
    match g.node(target) {
        Node::Ret(k) => rev.push(Insn::Ret(RetSrc::K(k))),
        _ => {
            let off = (rev.len() - at - 1) as u32;
            rev.push(Insn::Ja(off));
        }
    }
}

/// Makes the next instruction emitted continue at `target`: nothing when `target` is right
/// after, else a `ja` (or a copy of the `ret`).
fn goto(g: &Graph, rev: &mut Vec<Insn>, entry: &HashMap<NodeId, usize>, target: NodeId) {
    let at = entry[&target];
    if at + 1 == rev.len() {
        return;
    }
    far(g, rev, at, target);
}
