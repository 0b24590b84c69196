//! Any bytes as a `straitjacket strict` guest: the ELF validator accepts or refuses them —
//! never panics, never executes anything. An accepted image keeps the module's invariants
//! (segments inside the file and inside the guest's part of the address space, no overlap,
//! the entry in an executable segment), its page regions are sorted, disjoint and aligned,
//! and the initial stack builds below its top.

use straitjacket_policy::elf::{self, AuxInfo, Limits, GUEST_HIGH, GUEST_LOW, PAGE, STACK_TOP};

/// The target's check of one input: panics on a defect, returns otherwise.
pub fn check(data: &[u8]) {
    let limits = Limits::default();
    let Ok(image) = elf::parse(data, &limits) else {
        return;
    };
    assert!(!image.segments.is_empty());
    for (i, s) in image.segments.iter().enumerate() {
        assert!(
            s.filesz <= s.memsz && s.memsz <= limits.max_segment,
            "{s:?}"
        );
        assert!(
            s.offset
                .checked_add(s.filesz)
                .is_some_and(|e| e <= data.len() as u64),
            "{s:?}"
        );
        assert!(
            s.vaddr >= GUEST_LOW && s.vaddr + s.memsz <= GUEST_HIGH,
            "{s:?}"
        );
        for t in &image.segments[i + 1..] {
            let overlap = s.memsz > 0
                && t.memsz > 0
                && s.vaddr < t.vaddr + t.memsz
                && t.vaddr < s.vaddr + s.memsz;
            assert!(!overlap, "{s:?} {t:?}");
        }
    }
    assert!(image
        .segments
        .iter()
        .any(|s| s.prot.exec && s.vaddr <= image.entry && image.entry < s.vaddr + s.memsz));
    let regions = image.regions();
    for r in &regions {
        assert!(
            r.start < r.end && r.start % PAGE == 0 && r.end % PAGE == 0,
            "{r:?}"
        );
        assert!(
            r.start >= GUEST_LOW & !(PAGE - 1) && r.end <= GUEST_HIGH,
            "{r:?}"
        );
    }
    for w in regions.windows(2) {
        assert!(w[0].end <= w[1].start, "{regions:?}");
    }
    let total = image.mapped_bytes();
    assert!(total <= image.segments.len() as u64 * (limits.max_segment + 2 * PAGE));
    let args: [&[u8]; 2] = [b"guest", &data[..data.len().min(64)]];
    let stack = elf::build_stack(&image, &args, &[b"A=1"], &AuxInfo::default(), STACK_TOP);
    assert!(stack.sp.is_multiple_of(16) && stack.sp + stack.bytes.len() as u64 == STACK_TOP);
}
