//! `struct seccomp_data`, the input of every seccomp filter (include/uapi/linux/seccomp.h).

/// What the kernel shows a filter about one system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SeccompData {
    pub nr: i32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

impl SeccompData {
    /// sizeof(struct seccomp_data).
    pub const SIZE: u32 = 64;
    pub const OFFSET_NR: u32 = 0;
    pub const OFFSET_ARCH: u32 = 4;
    pub const OFFSET_IP: u32 = 8;
    pub const OFFSET_ARGS: u32 = 16;

    /// Byte offset of the low 32-bit word of argument `i` (little-endian host).
    pub fn arg_lo(i: usize) -> u32 {
        Self::OFFSET_ARGS + 8 * i as u32 + if cfg!(target_endian = "little") { 0 } else { 4 }
    }

    /// Byte offset of the high 32-bit word of argument `i`.
    pub fn arg_hi(i: usize) -> u32 {
        Self::OFFSET_ARGS + 8 * i as u32 + if cfg!(target_endian = "little") { 4 } else { 0 }
    }

    /// The struct as the kernel lays it out in memory (host byte order).
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..4].copy_from_slice(&self.nr.to_ne_bytes());
        b[4..8].copy_from_slice(&self.arch.to_ne_bytes());
        b[8..16].copy_from_slice(&self.instruction_pointer.to_ne_bytes());
        for (i, a) in self.args.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
        }
        b
    }

    /// The 32-bit word a `ld [offset]` reads, or `None` outside the struct or unaligned.
    pub fn word(&self, offset: u32) -> Option<u32> {
        if offset & 3 != 0 || offset >= Self::SIZE {
            return None;
        }
        let b = self.to_bytes();
        let o = offset as usize;
        Some(u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]))
    }
}
