//! Shared by the import targets: calls derived from a policy's rules (DESIGN.md testing layer
//! 2, STYLE.md habit 8), and the check that an imported policy compiles and means what its
//! rules say.
#![allow(dead_code)]

use straitjacket_policy::arch::Arch;
use straitjacket_policy::bpf::{vm, SeccompData};
use straitjacket_policy::compile::{compile, CompileError};
use straitjacket_policy::ir::{eval, Cond, Policy};
use straitjacket_policy::resolve::{resolve_text, Options};

/// A small deterministic generator seeded from the input, so a crash replays exactly.
pub struct Rng(u64);

impl Rng {
    pub fn new(data: &[u8]) -> Rng {
        // FNV-1a.
        Rng(data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        }) | 1)
    }
    pub fn next(&mut self) -> u64 {
        // xorshift64*.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn constants(c: &Cond, out: &mut Vec<u64>) {
    let mut consts = std::collections::BTreeSet::new();
    straitjacket_policy::vectors::cond_constants(c, &mut consts);
    out.extend(
        consts
            .into_iter()
            .flat_map(straitjacket_policy::vectors::around),
    );
}

/// Calls for every ABI the policies cover: each ruled syscall (and some that are not, plus
/// numbers outside the table) with arguments picked from the rules' constants, their
/// neighbours and halves, 0, all-ones and random words.
pub fn derived(policies: &[&Policy], rng: &mut Rng, per_call: usize) -> Vec<SeccompData> {
    let mut values = vec![
        0,
        1,
        u64::MAX,
        0xffff_ffff,
        0x1_0000_0000,
        0x8000_0000,
        0xffff_ffff_8000_0000,
    ];
    let mut calls: Vec<(Arch, u32)> = Vec::new();
    for p in policies {
        for f in &p.filters {
            for (nr, rules) in &f.syscalls {
                calls.push((f.arch, nr.0));
                rules.iter().for_each(|r| constants(&r.cond, &mut values));
            }
            let table = f.arch.syscalls();
            for _ in 0..3 {
                calls.push((f.arch, table[rng.below(table.len())].nr));
            }
            calls.push((
                f.arch,
                f.arch.max_nr().0.wrapping_add(1 + rng.below(4) as u32),
            ));
        }
    }
    calls.sort_unstable();
    calls.dedup();
    calls.truncate(512);
    values.sort_unstable();
    values.dedup();
    let mut out = Vec::new();
    for (arch, nr) in calls {
        for _ in 0..per_call {
            let mut args = [0u64; 6];
            for a in &mut args {
                *a = if rng.below(8) == 0 {
                    rng.next()
                } else {
                    values[rng.below(values.len())]
                };
            }
            out.push(SeccompData {
                nr: nr as i32,
                arch: arch.audit_arch(),
                instruction_pointer: 0,
                args,
            });
        }
    }
    // A foreign ABI: killed whatever the policy says.
    out.push(SeccompData {
        nr: 0,
        arch: 0x4000_00b7,
        instruction_pointer: 0,
        args: [0; 6],
    });
    out
}

/// Resolves imported policy text. An importer's output that does not resolve is a
/// diagnostic, not a crash: `None`.
pub fn resolve(text: &str) -> Option<Policy> {
    resolve_text(
        "imported.sj",
        text,
        &Options {
            native: Arch::X86_64,
        },
    )
    .ok()
    .map(|(_, r)| r.policy)
}

/// The policy compiles (or is refused as too long), and the emulator on the compiled program
/// agrees with the rules' meaning on `calls`.
pub fn compiles_and_agrees(policy: &Policy, calls: &[SeccompData], text: &str) {
    match compile(policy) {
        Ok(prog) => {
            for d in calls {
                assert_eq!(
                    vm::run(&prog, d).action(),
                    eval::eval(policy, d),
                    "emulator vs rules\n{text}\n{d:?}"
                );
            }
        }
        Err(CompileError::TooLong { .. }) => {}
        Err(e) => panic!("compile: {e}\n{text}"),
    }
}
