//! Any bytes as a raw filter: the checker accepts or refuses it; an accepted program runs to
//! a return within its length on any input (jumps only go forward).

use straitjacket_policy::bpf::{disasm, vm, Program, SeccompData};

/// The target's check of one input: panics on a defect, returns otherwise.
pub fn check(data: &[u8]) {
    let (prog, input) =
        data.split_at(data.len() - data.len() % 8 - if data.len() >= 64 { 64 } else { 0 });
    let Ok(p) = Program::from_bytes(prog) else {
        return;
    };
    let _ = disasm::disasm(&p, None);
    let mut d = SeccompData::default();
    for (i, chunk) in input.chunks(8).enumerate().take(6) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        d.args[i] = u64::from_le_bytes(w);
    }
    let out = vm::run(&p, &d);
    assert!(out.executed <= p.len());
}
