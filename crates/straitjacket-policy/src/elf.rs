//! The strict-mode guest's ELF64 image, parsed and validated before anything is mapped.
//!
//! Where it sits: `straitjacket strict GUEST` reads the guest's bytes, [`parse`] turns them
//! into a [`GuestImage`] (or a typed [`ElfError`] the CLI prints, exit 2), and the runner
//! hands the image's [`GuestImage::regions`] and the stack from [`build_stack`] to
//! `straitjacket_sys::guest`, which maps them in a forked child. Nothing here touches the
//! kernel: every check is a pure function of the bytes, so a bad guest is refused before
//! any of its code runs.
//!
//! Invariants of a [`GuestImage`]: x86_64, little-endian, ELF64, static (no `PT_INTERP`, no
//! `DT_NEEDED`); `ET_EXEC`, or an `ET_DYN` static PIE placed at [`PIE_BASE`]; every
//! `PT_LOAD` lies inside the file (`p_offset + p_filesz`), has `p_filesz <= p_memsz <=
//! limit`, and lies in the guest's half of the address space
//! ([`GUEST_LOW`]`..`[`GUEST_HIGH`]); no two segments overlap; the entry point is inside
//! an executable segment. Addresses in the image are absolute (the PIE base already added).
//!
//! The address-space split (x86_64, 47-bit user space): the guest owns
//! `GUEST_LOW..GUEST_HIGH`; everything above belongs to the loader — the guest's stack at
//! [`STACK_TOP`], and straitjacket's own executable, heap, libraries and stack, which Linux
//! places near `0x5555_5555_0000` (PIE) and below `0x7fff_ffff_f000` (mmap base, stack).

use std::fmt;

/// Lowest address a guest segment may use (the default `vm.mmap_min_addr`).
pub const GUEST_LOW: u64 = 0x1_0000;
/// End of the guest's part of the address space; above it is the loader's.
pub const GUEST_HIGH: u64 = 0x1000_0000_0000;
/// Where a static PIE (`ET_DYN`) is placed.
pub const PIE_BASE: u64 = 0x0000_5a00_0000;
/// Top of the guest's stack (exclusive), in the loader's part of the address space.
pub const STACK_TOP: u64 = 0x1000_0000_0000 + 0x10_0000_0000;
/// Two pages for the loader's trampoline (it unmaps straitjacket, enters strict mode and
/// jumps), just above the stack.
pub const TRAMPOLINE: u64 = STACK_TOP;
/// Page size on x86_64.
pub const PAGE: u64 = 4096;
/// Default limit of one segment's `p_memsz`.
pub const DEFAULT_MAX_SEGMENT: u64 = 1 << 30;

const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
const MAX_PHNUM: usize = 256;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const EM_X86_64: u16 = 62;
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_FLAGS_1: u64 = 0x6fff_fffb;
const DF_1_PIE: u64 = 0x0800_0000;

/// Why a guest binary is refused. Each carries the datum that was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// The file ends before a structure it declares: `what` needs bytes up to `need`.
    Truncated {
        what: String,
        need: u64,
        have: u64,
    },
    NotElf,
    WrongClass(u8),
    WrongEndianness(u8),
    WrongVersion(u32),
    WrongMachine(u16),
    WrongType(u16),
    /// `PT_INTERP` (with the interpreter's name) or `DT_NEEDED`.
    DynamicallyLinked(String),
    /// `ET_DYN` without the PIE flag: a shared library, not a program.
    NotStaticPie,
    BadPhentsize(u16),
    TooManySegments(usize),
    NoLoadSegments,
    FileszOverMemsz {
        index: usize,
        filesz: u64,
        memsz: u64,
    },
    TooLarge {
        index: usize,
        memsz: u64,
        limit: u64,
    },
    /// A segment outside `GUEST_LOW..GUEST_HIGH`: it would overlap the loader's own mappings
    /// (or the null page).
    Reserved {
        index: usize,
        start: u64,
        end: u64,
    },
    Overlap {
        first: usize,
        second: usize,
    },
    EntryNotExecutable {
        entry: u64,
    },
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::Truncated { what, need, have } => write!(
                f,
                "truncated file: {what} needs {need} bytes, the file has {have}"
            ),
            ElfError::NotElf => write!(f, "not an ELF file (no \\x7fELF magic)"),
            ElfError::WrongClass(c) => write!(
                f,
                "wrong ELF class {c} (only 64-bit ELF, class 2, can run here)"
            ),
            ElfError::WrongEndianness(d) => write!(
                f,
                "wrong byte order {d} (only little-endian, data 1, can run here)"
            ),
            ElfError::WrongVersion(v) => write!(f, "unknown ELF version {v}"),
            ElfError::WrongMachine(m) => write!(
                f,
                "wrong machine {m} (only x86_64, machine 62, can run here)"
            ),
            ElfError::WrongType(t) => write!(
                f,
                "ELF type {t} is not a program (need ET_EXEC, or ET_DYN built as a static PIE)"
            ),
            ElfError::DynamicallyLinked(why) => write!(
                f,
                "dynamically linked ({why}); strict mode runs static binaries only \
                 (hint: link with -static -nostdlib)"
            ),
            ElfError::NotStaticPie => write!(
                f,
                "ET_DYN without the PIE flag: a shared library, not a static PIE program"
            ),
            ElfError::BadPhentsize(n) => write!(f, "program header size {n}, expected 56"),
            ElfError::TooManySegments(n) => {
                write!(f, "{n} program headers (at most {MAX_PHNUM})")
            }
            ElfError::NoLoadSegments => write!(f, "no loadable (PT_LOAD) segment"),
            ElfError::FileszOverMemsz {
                index,
                filesz,
                memsz,
            } => write!(
                f,
                "segment {index}: file size {filesz:#x} is larger than its memory size {memsz:#x}"
            ),
            ElfError::TooLarge {
                index,
                memsz,
                limit,
            } => write!(
                f,
                "segment {index}: memory size {memsz:#x} is over the limit {limit:#x}"
            ),
            ElfError::Reserved { index, start, end } => write!(
                f,
                "segment {index} at {start:#x}..{end:#x} is outside the guest's address range \
                 {GUEST_LOW:#x}..{GUEST_HIGH:#x} (it would overlap straitjacket's own mappings)"
            ),
            ElfError::Overlap { first, second } => {
                write!(f, "segments {first} and {second} overlap")
            }
            ElfError::EntryNotExecutable { entry } => write!(
                f,
                "entry point {entry:#x} is not inside an executable segment"
            ),
        }
    }
}

impl std::error::Error for ElfError {}

/// Protection of a mapping: readable, writable, executable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prot {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

impl Prot {
    fn union(self, o: Prot) -> Prot {
        Prot {
            read: self.read || o.read,
            write: self.write || o.write,
            exec: self.exec || o.exec,
        }
    }
}

/// One `PT_LOAD` segment, at its absolute address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    pub memsz: u64,
    pub offset: u64,
    pub filesz: u64,
    pub prot: Prot,
}

/// A page-aligned range to map, with the protection it ends with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    pub start: u64,
    pub end: u64,
    pub prot: Prot,
}

/// Whether the image is placed at its own addresses or at [`PIE_BASE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Exec,
    StaticPie,
}

/// A validated guest image (see the module invariants).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestImage {
    pub kind: Kind,
    /// Added to every address of the file: 0, or [`PIE_BASE`].
    pub bias: u64,
    pub entry: u64,
    pub segments: Vec<Segment>,
    /// The program headers' address in memory (`AT_PHDR`), if they are loaded.
    pub phdr: Option<u64>,
    pub phnum: u16,
}

/// Limits applied while parsing.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest `p_memsz` of one segment.
    pub max_segment: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_segment: DEFAULT_MAX_SEGMENT,
        }
    }
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"))
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"))
}

fn need(bytes: &[u8], what: &str, start: u64, len: u64) -> Result<(), ElfError> {
    let end = start.checked_add(len).ok_or_else(|| ElfError::Truncated {
        what: what.to_string(),
        need: u64::MAX,
        have: bytes.len() as u64,
    })?;
    if end > bytes.len() as u64 {
        return Err(ElfError::Truncated {
            what: what.to_string(),
            need: end,
            have: bytes.len() as u64,
        });
    }
    Ok(())
}

fn page_down(a: u64) -> u64 {
    a & !(PAGE - 1)
}
fn page_up(a: u64) -> Option<u64> {
    a.checked_add(PAGE - 1).map(page_down)
}

struct Phdr {
    typ: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

/// Parses and validates a guest binary.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<GuestImage, ElfError> {
    if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    need(bytes, "the ELF header", 0, EHDR_SIZE as u64)?;
    if bytes[4] != 2 {
        return Err(ElfError::WrongClass(bytes[4]));
    }
    if bytes[5] != 1 {
        return Err(ElfError::WrongEndianness(bytes[5]));
    }
    let version = u32_at(bytes, 20);
    if bytes[6] != 1 || version != 1 {
        return Err(ElfError::WrongVersion(if version != 1 {
            version
        } else {
            u32::from(bytes[6])
        }));
    }
    let machine = u16_at(bytes, 18);
    if machine != EM_X86_64 {
        return Err(ElfError::WrongMachine(machine));
    }
    let typ = u16_at(bytes, 16);
    if typ != ET_EXEC && typ != ET_DYN {
        return Err(ElfError::WrongType(typ));
    }
    let entry = u64_at(bytes, 24);
    let phoff = u64_at(bytes, 32);
    let phentsize = u16_at(bytes, 54);
    let phnum = u16_at(bytes, 56) as usize;
    if phentsize as usize != PHDR_SIZE {
        return Err(ElfError::BadPhentsize(phentsize));
    }
    if phnum > MAX_PHNUM {
        return Err(ElfError::TooManySegments(phnum));
    }
    need(
        bytes,
        "the program header table",
        phoff,
        (phnum * PHDR_SIZE) as u64,
    )?;
    let phdrs: Vec<Phdr> = (0..phnum)
        .map(|i| {
            let o = phoff as usize + i * PHDR_SIZE;
            Phdr {
                typ: u32_at(bytes, o),
                flags: u32_at(bytes, o + 4),
                offset: u64_at(bytes, o + 8),
                vaddr: u64_at(bytes, o + 16),
                filesz: u64_at(bytes, o + 32),
                memsz: u64_at(bytes, o + 40),
            }
        })
        .collect();

    if let Some(p) = phdrs.iter().find(|p| p.typ == PT_INTERP) {
        let name = p
            .offset
            .checked_add(p.filesz)
            .filter(|&e| e <= bytes.len() as u64)
            .map(|e| {
                String::from_utf8_lossy(&bytes[p.offset as usize..e as usize])
                    .trim_end_matches('\0')
                    .to_string()
            })
            .unwrap_or_default();
        return Err(ElfError::DynamicallyLinked(format!(
            "PT_INTERP {}",
            if name.is_empty() { "?" } else { &name }
        )));
    }
    let mut pie_flag = false;
    if let Some(d) = phdrs.iter().find(|p| p.typ == PT_DYNAMIC) {
        need(bytes, "the dynamic section", d.offset, d.filesz)?;
        let dynamic = &bytes[d.offset as usize..(d.offset + d.filesz) as usize];
        for e in dynamic.chunks_exact(16) {
            let tag = u64_at(e, 0);
            let val = u64_at(e, 8);
            match tag {
                DT_NULL => break,
                DT_NEEDED => {
                    return Err(ElfError::DynamicallyLinked(
                        "DT_NEEDED: it needs shared libraries".to_string(),
                    ))
                }
                DT_FLAGS_1 if val & DF_1_PIE != 0 => pie_flag = true,
                _ => {}
            }
        }
    }
    let (kind, bias) = if typ == ET_EXEC {
        (Kind::Exec, 0)
    } else {
        // A static PIE has the PIE flag; one without any dynamic section needs no
        // relocation and is a PIE too. A dynamic section without the flag is a library.
        if !pie_flag && phdrs.iter().any(|p| p.typ == PT_DYNAMIC) {
            return Err(ElfError::NotStaticPie);
        }
        (Kind::StaticPie, PIE_BASE)
    };

    let mut segments = Vec::new();
    let mut indices = Vec::new();
    for (index, p) in phdrs.iter().enumerate() {
        if p.typ != PT_LOAD {
            continue;
        }
        if p.filesz > p.memsz {
            return Err(ElfError::FileszOverMemsz {
                index,
                filesz: p.filesz,
                memsz: p.memsz,
            });
        }
        if p.memsz > limits.max_segment {
            return Err(ElfError::TooLarge {
                index,
                memsz: p.memsz,
                limit: limits.max_segment,
            });
        }
        need(bytes, &format!("segment {index}"), p.offset, p.filesz)?;
        let start = p.vaddr.checked_add(bias);
        let end = start.and_then(|s| s.checked_add(p.memsz));
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) if s >= GUEST_LOW && e <= GUEST_HIGH => (s, e),
            _ => {
                return Err(ElfError::Reserved {
                    index,
                    start: p.vaddr.wrapping_add(bias),
                    end: p.vaddr.wrapping_add(bias).wrapping_add(p.memsz),
                })
            }
        };
        segments.push(Segment {
            vaddr: start,
            memsz: end - start,
            offset: p.offset,
            filesz: p.filesz,
            prot: Prot {
                read: p.flags & PF_R != 0,
                write: p.flags & PF_W != 0,
                exec: p.flags & PF_X != 0,
            },
        });
        indices.push(index);
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadSegments);
    }
    for i in 0..segments.len() {
        for j in i + 1..segments.len() {
            let (a, b) = (&segments[i], &segments[j]);
            if a.memsz > 0
                && b.memsz > 0
                && a.vaddr < b.vaddr + b.memsz
                && b.vaddr < a.vaddr + a.memsz
            {
                return Err(ElfError::Overlap {
                    first: indices[i],
                    second: indices[j],
                });
            }
        }
    }
    let entry = entry.wrapping_add(bias);
    if !segments
        .iter()
        .any(|s| s.prot.exec && s.vaddr <= entry && entry < s.vaddr + s.memsz)
    {
        return Err(ElfError::EntryNotExecutable { entry });
    }
    let phdr = phdrs
        .iter()
        .find(|p| p.typ == PT_PHDR)
        .map(|p| p.vaddr.wrapping_add(bias))
        .or_else(|| {
            phdrs
                .iter()
                .find(|p| {
                    p.typ == PT_LOAD
                        && p.offset <= phoff
                        && phoff + (phnum * PHDR_SIZE) as u64 <= p.offset + p.filesz
                })
                .map(|p| p.vaddr.wrapping_add(bias) + (phoff - p.offset))
        });
    Ok(GuestImage {
        kind,
        bias,
        entry,
        segments,
        phdr,
        phnum: phnum as u16,
    })
}

impl GuestImage {
    /// The page ranges to map, in address order. Pages shared by two segments (their byte
    /// ranges do not overlap, but the linker may end one and start the next on one page)
    /// get the union of both protections.
    pub fn regions(&self) -> Vec<Region> {
        let mut pieces: Vec<(u64, u64, Prot)> = self
            .segments
            .iter()
            .filter(|s| s.memsz > 0)
            .map(|s| {
                let end = page_up(s.vaddr + s.memsz).expect("end below GUEST_HIGH");
                (page_down(s.vaddr), end, s.prot)
            })
            .collect();
        let mut cuts: Vec<u64> = pieces.iter().flat_map(|p| [p.0, p.1]).collect();
        cuts.sort_unstable();
        cuts.dedup();
        pieces.sort_by_key(|p| p.0);
        let mut out: Vec<Region> = Vec::new();
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let covering: Vec<Prot> = pieces
                .iter()
                .filter(|p| p.0 <= a && b <= p.1)
                .map(|p| p.2)
                .collect();
            if covering.is_empty() {
                continue;
            }
            let prot = covering
                .into_iter()
                .fold(Prot::default(), |acc, p| acc.union(p));
            match out.last_mut() {
                Some(last) if last.end == a && last.prot == prot => last.end = b,
                _ => out.push(Region {
                    start: a,
                    end: b,
                    prot,
                }),
            }
        }
        out
    }

    /// Bytes of memory the guest's segments take (whole pages).
    pub fn mapped_bytes(&self) -> u64 {
        self.regions().iter().map(|r| r.end - r.start).sum()
    }
}

/// The initial stack: `bytes` go at `sp..STACK_TOP`; `sp` is 16-byte aligned and points at
/// `argc` (System V x86_64 ABI, figure 3.9 "Initial Process Stack").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackImage {
    pub sp: u64,
    pub bytes: Vec<u8>,
}

/// What goes into the auxiliary vector besides the image's own entries.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuxInfo {
    pub random: [u8; 16],
    pub uid: u64,
    pub euid: u64,
    pub gid: u64,
    pub egid: u64,
    pub hwcap: u64,
}

pub const AT_NULL: u64 = 0;
pub const AT_PHDR: u64 = 3;
pub const AT_PHENT: u64 = 4;
pub const AT_PHNUM: u64 = 5;
pub const AT_PAGESZ: u64 = 6;
pub const AT_BASE: u64 = 7;
pub const AT_FLAGS: u64 = 8;
pub const AT_ENTRY: u64 = 9;
pub const AT_UID: u64 = 11;
pub const AT_EUID: u64 = 12;
pub const AT_GID: u64 = 13;
pub const AT_EGID: u64 = 14;
pub const AT_PLATFORM: u64 = 15;
pub const AT_HWCAP: u64 = 16;
pub const AT_CLKTCK: u64 = 17;
pub const AT_SECURE: u64 = 23;
pub const AT_RANDOM: u64 = 25;
pub const AT_EXECFN: u64 = 31;

/// Builds the initial stack for `image` whose top is `top`: strings (argv, envp, the
/// platform name, `AT_RANDOM`'s 16 bytes) at the top, then auxv, envp, argv and argc below.
pub fn build_stack(
    image: &GuestImage,
    args: &[&[u8]],
    env: &[&[u8]],
    aux: &AuxInfo,
    top: u64,
) -> StackImage {
    // Strings area, built downwards from `top` (kept in a Vec in upward order at the end).
    let mut strings: Vec<u8> = Vec::new();
    let mut place = |data: &[u8], nul: bool| -> u64 {
        // Returns the offset below top where `data` begins.
        let mut d = data.to_vec();
        if nul {
            d.push(0);
        }
        let mut new = d;
        new.extend_from_slice(&strings);
        strings = new;
        strings.len() as u64
    };
    let random_off = place(&aux.random, false);
    let platform_off = place(b"x86_64", true);
    let arg_offs: Vec<u64> = args.iter().map(|a| place(a, true)).collect();
    let env_offs: Vec<u64> = env.iter().map(|e| place(e, true)).collect();
    let execfn_off = arg_offs.first().copied();
    let at = |off: u64| top - off;

    let mut auxv: Vec<(u64, u64)> = Vec::new();
    if let Some(phdr) = image.phdr {
        auxv.push((AT_PHDR, phdr));
    }
    auxv.extend([
        (AT_PHENT, PHDR_SIZE as u64),
        (AT_PHNUM, u64::from(image.phnum)),
        (AT_PAGESZ, PAGE),
        (AT_BASE, 0),
        (AT_FLAGS, 0),
        (AT_ENTRY, image.entry),
        (AT_UID, aux.uid),
        (AT_EUID, aux.euid),
        (AT_GID, aux.gid),
        (AT_EGID, aux.egid),
        (AT_HWCAP, aux.hwcap),
        (AT_CLKTCK, 100),
        (AT_SECURE, 0),
        (AT_RANDOM, at(random_off)),
        (AT_PLATFORM, at(platform_off)),
    ]);
    if let Some(off) = execfn_off {
        auxv.push((AT_EXECFN, at(off)));
    }
    auxv.push((AT_NULL, 0));

    let mut words: Vec<u64> = vec![args.len() as u64];
    words.extend(arg_offs.iter().map(|&o| at(o)));
    words.push(0);
    words.extend(env_offs.iter().map(|&o| at(o)));
    words.push(0);
    for (k, v) in auxv {
        words.push(k);
        words.push(v);
    }
    let strings_start = top - strings.len() as u64;
    let sp = (strings_start - 8 * words.len() as u64) & !15;
    let mut bytes = Vec::with_capacity((top - sp) as usize);
    for w in &words {
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    bytes.resize((strings_start - sp) as usize, 0);
    bytes.extend_from_slice(&strings);
    debug_assert_eq!(sp + bytes.len() as u64, top);
    StackImage { sp, bytes }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid ET_EXEC: header, `phdrs`, then `code` at file offset 0x1000 mapped
    /// at 0x401000.
    struct Builder {
        typ: u16,
        entry: u64,
        phdrs: Vec<[u64; 7]>, // typ, flags, offset, vaddr, filesz, memsz, (unused)
        extra: Vec<(usize, Vec<u8>)>,
        len: usize,
    }

    impl Builder {
        fn new() -> Builder {
            Builder {
                typ: ET_EXEC,
                entry: 0x401000,
                phdrs: vec![
                    [PT_LOAD as u64, (PF_R) as u64, 0, 0x400000, 0x100, 0x100, 0],
                    [
                        PT_LOAD as u64,
                        (PF_R | PF_X) as u64,
                        0x1000,
                        0x401000,
                        0x10,
                        0x10,
                        0,
                    ],
                    [
                        PT_LOAD as u64,
                        (PF_R | PF_W) as u64,
                        0x1010,
                        0x402010,
                        0x10,
                        0x2000,
                        0,
                    ],
                ],
                extra: Vec::new(),
                len: 0x1020,
            }
        }
        fn bytes(&self) -> Vec<u8> {
            let mut b = vec![0u8; self.len.max(EHDR_SIZE + self.phdrs.len() * PHDR_SIZE)];
            b[..4].copy_from_slice(b"\x7fELF");
            b[4] = 2;
            b[5] = 1;
            b[6] = 1;
            b[16..18].copy_from_slice(&self.typ.to_le_bytes());
            b[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
            b[20..24].copy_from_slice(&1u32.to_le_bytes());
            b[24..32].copy_from_slice(&self.entry.to_le_bytes());
            b[32..40].copy_from_slice(&64u64.to_le_bytes());
            b[52..54].copy_from_slice(&64u16.to_le_bytes());
            b[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
            b[56..58].copy_from_slice(&(self.phdrs.len() as u16).to_le_bytes());
            for (i, p) in self.phdrs.iter().enumerate() {
                let o = 64 + i * PHDR_SIZE;
                b[o..o + 4].copy_from_slice(&(p[0] as u32).to_le_bytes());
                b[o + 4..o + 8].copy_from_slice(&(p[1] as u32).to_le_bytes());
                b[o + 8..o + 16].copy_from_slice(&p[2].to_le_bytes());
                b[o + 16..o + 24].copy_from_slice(&p[3].to_le_bytes());
                b[o + 24..o + 32].copy_from_slice(&p[3].to_le_bytes());
                b[o + 32..o + 40].copy_from_slice(&p[4].to_le_bytes());
                b[o + 40..o + 48].copy_from_slice(&p[5].to_le_bytes());
                b[o + 48..o + 56].copy_from_slice(&PAGE.to_le_bytes());
            }
            for (o, d) in &self.extra {
                b[*o..*o + d.len()].copy_from_slice(d);
            }
            b
        }
        fn parse(&self) -> Result<GuestImage, ElfError> {
            parse(&self.bytes(), &Limits::default())
        }
    }

    #[test]
    fn accepts_a_static_executable() {
        let img = Builder::new().parse().unwrap();
        assert_eq!(img.kind, Kind::Exec);
        assert_eq!(img.entry, 0x401000);
        assert_eq!(img.segments.len(), 3);
        assert_eq!(img.phdr, Some(0x400040));
        let r = img.regions();
        assert_eq!(r.len(), 3);
        assert_eq!((r[2].start, r[2].end), (0x402000, 0x405000));
        assert!(r[2].prot.write && !r[2].prot.exec);
    }

    #[test]
    fn shared_pages_get_the_union_of_protections() {
        let mut b = Builder::new();
        b.phdrs[2][3] = 0x401010; // data starts on the text page
        let img = b.parse().unwrap();
        let r = img.regions();
        assert_eq!((r[1].start, r[1].end), (0x401000, 0x402000));
        assert!(r[1].prot.exec && r[1].prot.write);
        assert_eq!((r[2].start, r[2].end), (0x402000, 0x404000));
        assert!(!r[2].prot.exec);
    }

    #[test]
    fn refuses_what_is_not_elf() {
        assert_eq!(
            parse(b"#!/bin/sh\n", &Limits::default()),
            Err(ElfError::NotElf)
        );
        assert_eq!(parse(b"", &Limits::default()), Err(ElfError::NotElf));
    }

    #[test]
    fn refuses_wrong_class_endianness_machine_type() {
        let mut b = Builder::new().bytes();
        b[4] = 1;
        assert_eq!(parse(&b, &Limits::default()), Err(ElfError::WrongClass(1)));
        let mut b = Builder::new().bytes();
        b[5] = 2;
        assert_eq!(
            parse(&b, &Limits::default()),
            Err(ElfError::WrongEndianness(2))
        );
        let mut b = Builder::new().bytes();
        b[18] = 183; // aarch64
        assert_eq!(
            parse(&b, &Limits::default()),
            Err(ElfError::WrongMachine(183))
        );
        let mut bl = Builder::new();
        bl.typ = 1; // ET_REL
        assert_eq!(bl.parse(), Err(ElfError::WrongType(1)));
    }

    #[test]
    fn refuses_truncated_files() {
        let b = Builder::new().bytes();
        assert!(matches!(
            parse(&b[..40], &Limits::default()),
            Err(ElfError::Truncated { need: 64, .. })
        ));
        assert!(matches!(
            parse(&b[..100], &Limits::default()),
            Err(ElfError::Truncated { .. })
        ));
        // The code segment's bytes are cut off.
        assert!(matches!(
            parse(&b[..0x1008], &Limits::default()),
            Err(ElfError::Truncated { what, .. }) if what == "segment 1"
        ));
    }

    #[test]
    fn refuses_dynamically_linked() {
        let mut b = Builder::new();
        b.phdrs
            .push([PT_INTERP as u64, PF_R as u64, 0x200, 0, 28, 28, 0]);
        b.extra
            .push((0x200, b"/lib64/ld-linux-x86-64.so.2\0".to_vec()));
        let e = b.parse().unwrap_err();
        assert_eq!(
            e,
            ElfError::DynamicallyLinked("PT_INTERP /lib64/ld-linux-x86-64.so.2".into())
        );
        assert!(e.to_string().contains("dynamically linked"));

        let mut b = Builder::new();
        b.phdrs
            .push([PT_DYNAMIC as u64, PF_R as u64, 0x200, 0x400200, 32, 32, 0]);
        let mut dynamic = Vec::new();
        dynamic.extend_from_slice(&DT_NEEDED.to_le_bytes());
        dynamic.extend_from_slice(&1u64.to_le_bytes());
        dynamic.extend_from_slice(&[0; 16]);
        b.extra.push((0x200, dynamic));
        assert!(matches!(b.parse(), Err(ElfError::DynamicallyLinked(_))));
    }

    #[test]
    fn static_pie_is_placed_at_the_base_and_a_library_is_refused() {
        let mut b = Builder::new();
        b.typ = ET_DYN;
        for p in &mut b.phdrs {
            p[3] -= 0x400000;
        }
        b.entry = 0x1000;
        let img = b.parse().unwrap();
        assert_eq!(img.kind, Kind::StaticPie);
        assert_eq!(img.entry, PIE_BASE + 0x1000);
        assert_eq!(img.segments[0].vaddr, PIE_BASE);

        let mut dynamic = Vec::new();
        dynamic.extend_from_slice(&DT_FLAGS_1.to_le_bytes());
        dynamic.extend_from_slice(&0u64.to_le_bytes());
        dynamic.extend_from_slice(&[0; 16]);
        b.phdrs
            .push([PT_DYNAMIC as u64, PF_R as u64, 0x200, 0x200, 32, 32, 0]);
        b.extra.push((0x200, dynamic.clone()));
        assert_eq!(b.parse(), Err(ElfError::NotStaticPie));
        dynamic[8..16].copy_from_slice(&DF_1_PIE.to_le_bytes());
        b.extra[0] = (0x200, dynamic);
        assert_eq!(b.parse().unwrap().kind, Kind::StaticPie);
    }

    #[test]
    fn refuses_overlapping_segments() {
        let mut b = Builder::new();
        b.phdrs[2][3] = 0x401008; // data inside the code
        assert_eq!(
            b.parse(),
            Err(ElfError::Overlap {
                first: 1,
                second: 2
            })
        );
    }

    #[test]
    fn refuses_segments_in_the_loaders_range_or_the_null_page() {
        let mut b = Builder::new();
        b.phdrs[2][3] = 0x5555_5555_0000; // where straitjacket itself lives
        assert!(matches!(
            b.parse(),
            Err(ElfError::Reserved { index: 2, .. })
        ));
        let mut b = Builder::new();
        b.phdrs[0][3] = 0x1000;
        assert!(matches!(
            b.parse(),
            Err(ElfError::Reserved { index: 0, .. })
        ));
        let mut b = Builder::new();
        b.phdrs[2][3] = u64::MAX - 0x100; // wraps around
        assert!(matches!(
            b.parse(),
            Err(ElfError::Reserved { index: 2, .. })
        ));
    }

    #[test]
    fn refuses_entry_outside_executable_segments() {
        let mut b = Builder::new();
        b.entry = 0x400010; // readable, not executable
        assert_eq!(
            b.parse(),
            Err(ElfError::EntryNotExecutable { entry: 0x400010 })
        );
        b.entry = 0x9000_0000;
        assert!(matches!(
            b.parse(),
            Err(ElfError::EntryNotExecutable { .. })
        ));
    }

    #[test]
    fn refuses_absurd_sizes() {
        let mut b = Builder::new();
        b.phdrs[2][5] = 2 << 30;
        assert_eq!(
            b.parse(),
            Err(ElfError::TooLarge {
                index: 2,
                memsz: 2 << 30,
                limit: 1 << 30
            })
        );
        let mut b = Builder::new();
        b.phdrs[1][4] = 0x20; // filesz > memsz
        assert!(matches!(
            b.parse(),
            Err(ElfError::FileszOverMemsz { index: 1, .. })
        ));
        let mut b = Builder::new().bytes();
        b[56..58].copy_from_slice(&1000u16.to_le_bytes());
        assert_eq!(
            parse(&b, &Limits::default()),
            Err(ElfError::TooManySegments(1000))
        );
        let mut b = Builder::new().bytes();
        b[54..56].copy_from_slice(&32u16.to_le_bytes());
        assert_eq!(
            parse(&b, &Limits::default()),
            Err(ElfError::BadPhentsize(32))
        );
        let mut b = Builder::new();
        b.phdrs[1][2] = u64::MAX - 4; // offset + filesz overflows
        assert!(matches!(b.parse(), Err(ElfError::Truncated { .. })));
    }

    #[test]
    fn refuses_no_load_segments() {
        let mut b = Builder::new();
        for p in &mut b.phdrs {
            p[0] = 4; // PT_NOTE
        }
        assert_eq!(b.parse(), Err(ElfError::NoLoadSegments));
    }

    #[test]
    fn stack_layout_follows_the_abi() {
        let img = Builder::new().parse().unwrap();
        let aux = AuxInfo {
            random: [7; 16],
            ..AuxInfo::default()
        };
        let top = 0x7000_0000u64;
        let st = build_stack(&img, &[b"guest", b"x"], &[b"A=1"], &aux, top);
        assert_eq!(st.sp % 16, 0);
        assert_eq!(st.sp + st.bytes.len() as u64, top);
        let word = |i: usize| u64_at(&st.bytes, i * 8);
        let cstr = |addr: u64| {
            let o = (addr - st.sp) as usize;
            let end = st.bytes[o..].iter().position(|&c| c == 0).unwrap();
            st.bytes[o..o + end].to_vec()
        };
        assert_eq!(word(0), 2);
        assert_eq!(cstr(word(1)), b"guest");
        assert_eq!(cstr(word(2)), b"x");
        assert_eq!(word(3), 0);
        assert_eq!(cstr(word(4)), b"A=1");
        assert_eq!(word(5), 0);
        let mut i = 6;
        let mut auxv = std::collections::BTreeMap::new();
        loop {
            let (k, v) = (word(i), word(i + 1));
            i += 2;
            if k == AT_NULL {
                break;
            }
            auxv.insert(k, v);
        }
        assert_eq!(auxv[&AT_PHDR], 0x400040);
        assert_eq!(auxv[&AT_PHNUM], 3);
        assert_eq!(auxv[&AT_PAGESZ], 4096);
        assert_eq!(auxv[&AT_ENTRY], 0x401000);
        assert_eq!(auxv[&AT_BASE], 0);
        let r = (auxv[&AT_RANDOM] - st.sp) as usize;
        assert_eq!(&st.bytes[r..r + 16], &[7; 16]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Bad input never panics, and whatever is accepted keeps the module's invariants.
        #[test]
        fn mutated_images_never_panic(
            edits in proptest::collection::vec((0usize..0x1100, proptest::prelude::any::<u8>()), 1..12),
            cut in 0usize..0x1100,
            pie in proptest::prelude::any::<bool>(),
        ) {
            let mut b = Builder::new();
            if pie {
                b.typ = ET_DYN;
                for p in &mut b.phdrs {
                    p[3] -= 0x400000;
                }
                b.entry = 0x1000;
            }
            let mut bytes = b.bytes();
            for (at, v) in edits {
                if at < bytes.len() {
                    bytes[at] = v;
                }
            }
            bytes.truncate(cut.max(1));
            if let Ok(img) = parse(&bytes, &Limits::default()) {
                for s in &img.segments {
                    proptest::prop_assert!(s.vaddr >= GUEST_LOW && s.vaddr + s.memsz <= GUEST_HIGH);
                    proptest::prop_assert!(s.filesz <= s.memsz);
                    proptest::prop_assert!(s.offset + s.filesz <= bytes.len() as u64);
                }
                for r in img.regions() {
                    proptest::prop_assert!(r.start % PAGE == 0 && r.end % PAGE == 0 && r.start < r.end);
                    proptest::prop_assert!(r.end <= GUEST_HIGH);
                }
                proptest::prop_assert!(img.segments.iter().any(|s| s.prot.exec
                    && s.vaddr <= img.entry && img.entry < s.vaddr + s.memsz));
                let st = build_stack(&img, &[b"g"], &[], &AuxInfo::default(), STACK_TOP);
                proptest::prop_assert_eq!(st.sp % 16, 0);
            }
        }
    }
}
