//! Argument values derived from a policy's rules (STYLE.md habit 8, after gVisor's
//! `seccomp_fuzz_helpers.go`): every constant a rule compares with or masks by, the values on
//! either side of it, each 32-bit half, sign-extension patterns, each single bit of a mask,
//! and the fixed edges every comparison has (0, all-ones, the 32-bit boundaries).
//!
//! In: an `ir::Policy` (or conditions). Out: sets of `u64` register values. Pure; the same
//! input gives the same values in the same order, so a failure found with them reproduces.
//! Used by the differential tests (rules vs emulator vs kernel vs libseccomp), the fuzz
//! targets and anything that samples calls to compare two programs.

use std::collections::BTreeSet;

use crate::ir::{Cond, Policy};

/// The edges of every comparison, whatever the rules say: 0 and small numbers, the 32-bit
/// and 64-bit sign boundaries, all-ones in each width, and `AT_FDCWD` as an `int` and as a
/// sign-extended `long`.
pub const EDGES: &[u64] = &[
    0,
    1,
    2,
    0xff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x1_0000_0001,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX,
    0xffff_ff9c,
    0xffff_ffff_ffff_ff9c,
];

/// The values around one constant: itself, its neighbours, its low half, the same low half
/// under a different high half (what a 32-bit argument must not tell apart), its complement,
/// and its lowest bit set and cleared.
pub fn around(v: u64) -> [u64; 9] {
    [
        v,
        v.wrapping_add(1),
        v.wrapping_sub(1),
        v & 0xffff_ffff,
        v | 0x1_0000_0000,
        v ^ 0xffff_ffff_0000_0000,
        !v,
        v | 1,
        v & !1,
    ]
}

/// Every constant a condition compares with or masks by (values, masks, masked values).
pub fn cond_constants(c: &Cond, out: &mut BTreeSet<u64>) {
    match c {
        Cond::True => {}
        Cond::Cmp(c) => {
            out.extend([c.value, c.mask, c.value & c.mask]);
        }
        Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| cond_constants(c, out)),
        Cond::Not(c) => cond_constants(c, out),
    }
}

/// Every constant of every rule of every filter of `policy`.
pub fn policy_constants(policy: &Policy) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for f in &policy.filters {
        for rules in f.syscalls.values() {
            for r in rules {
                cond_constants(&r.cond, &mut out);
            }
        }
    }
    out
}

/// The values worth trying against rules whose constants are `constants`: [`EDGES`], the
/// values [`around`] each constant, and each single bit of a constant set alone and cleared
/// from it (a mask's bits one at a time).
pub fn interesting(constants: impl IntoIterator<Item = u64>) -> BTreeSet<u64> {
    let mut out: BTreeSet<u64> = EDGES.iter().copied().collect();
    for v in constants {
        out.extend(around(v));
        for b in 0..64 {
            if v >> b & 1 == 1 {
                out.insert(1u64 << b);
                out.insert(v & !(1u64 << b));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;
    use crate::resolve::{resolve_text, Options};

    #[test]
    fn values_come_from_the_rules_and_their_edges() {
        let (_, r) = resolve_text(
            "t.sj",
            "default kill\nallow read if fd == 7\nallow mmap if prot & 0x6\n",
            &Options {
                native: Arch::X86_64,
            },
        )
        .unwrap();
        let consts = policy_constants(&r.policy);
        assert!(consts.contains(&7) && consts.contains(&6), "{consts:?}");
        let v = interesting(consts);
        // 7 and both neighbours; 7 with a high half that a 32-bit fd must ignore.
        for want in [
            6,
            7,
            8,
            0x1_0000_0007,
            0xffff_ffff_0000_0007,
            2,
            4,
            0,
            u64::MAX,
        ] {
            assert!(v.contains(&want), "{want:#x} missing");
        }
        assert!(!v.contains(&0x1234_5678));
    }
}
