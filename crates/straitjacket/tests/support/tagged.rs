//! Shared by the kernel tests: run a program in the real kernel with every `ret` rewritten
//! to a distinct `ERRNO(tag)` (DESIGN.md's trick), so no call under test ever runs and the
//! errno says which return the kernel took.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::net::UnixStream;

use straitjacket_policy::action::Action;
use straitjacket_policy::arch::Arch;
use straitjacket_policy::bpf::{Insn, JmpOp, Program, RetSrc, SeccompData, Src};
use straitjacket_sys::process::{in_child, ChildOutcome};
use straitjacket_sys::{prctl, seccomp};

pub const NR_WRITE: u32 = 1;
pub const NR_EXIT: u32 = 60;
pub const NR_EXIT_GROUP: u32 = 231;

/// The program with each distinct return replaced by `ERRNO(tag)`, behind a prologue that
/// lets write/exit through; and the action each tag stands for.
pub fn tagged(prog: &Program) -> (Program, BTreeMap<u16, Action>) {
    let mut tags: BTreeMap<u32, u16> = BTreeMap::new();
    let mut insns = vec![
        Insn::LdAbs(SeccompData::OFFSET_NR),
        Insn::Jmp {
            op: JmpOp::Jeq,
            src: Src::K(NR_WRITE),
            jt: 2,
            jf: 0,
        },
        Insn::Jmp {
            op: JmpOp::Jeq,
            src: Src::K(NR_EXIT),
            jt: 1,
            jf: 0,
        },
        Insn::Jmp {
            op: JmpOp::Jeq,
            src: Src::K(NR_EXIT_GROUP),
            jt: 0,
            jf: 1,
        },
        Insn::Ret(RetSrc::K(Action::Allow.to_ret())),
    ];
    for i in prog.insns() {
        insns.push(match *i {
            Insn::Ret(RetSrc::K(k)) => {
                let n = tags.len() as u16 + 1;
                let tag = *tags.entry(k).or_insert(n);
                Insn::Ret(RetSrc::K(Action::Errno(tag).to_ret()))
            }
            other => other,
        });
    }
    let by_tag = tags
        .into_iter()
        .map(|(k, t)| (t, Action::from_ret(k)))
        .collect();
    (Program::new(insns).unwrap(), by_tag)
}

/// Issues a 64-bit syscall with six raw registers; returns the errno (0 if it succeeded).
pub fn call64(nr: u64, a: [u64; 6]) -> i32 {
    // SAFETY: every return of the installed filter is an ERRNO (or the call is write/exit,
    // which no test case uses), so the kernel never runs the call: the registers are only
    // read by the filter.
    let r = unsafe { libc::syscall(nr as libc::c_long, a[0], a[1], a[2], a[3], a[4], a[5]) };
    if r == -1 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    } else {
        0
    }
}

/// Issues an i386 syscall through `int 0x80` with five registers (ebp is not available as an
/// operand); returns the errno.
pub fn call32(nr: u32, a: [u64; 6]) -> i32 {
    let mut ret = nr as u64;
    // SAFETY: as for call64, the filter answers every call with an errno, so the i386 entry
    // never runs a call; int 0x80 only reads eax/ebx/ecx/edx/esi/edi and writes eax.
    unsafe {
        // rbx belongs to LLVM: swap the first argument in and out around the call.
        std::arch::asm!("xchg {b}, rbx", "int 0x80", "xchg {b}, rbx", b = inout(reg) a[0] => _,
            inout("rax") ret, in("rcx") a[1], in("rdx") a[2], in("rsi") a[3], in("rdi") a[4]);
    }
    let r = ret as u32 as i32;
    if r < 0 {
        -r
    } else {
        0
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Case {
    pub abi: Arch,
    pub nr: u32,
    pub args: [u64; 6],
}

impl Case {
    pub fn data(&self) -> SeccompData {
        SeccompData {
            nr: self.nr as i32,
            arch: self.abi.audit_arch(),
            instruction_pointer: 0,
            args: self.args,
        }
    }
}

/// Runs the cases in one forked child under the tagged program; returns the tag of each.
pub fn kernel_tags(prog: &Program, cases: &[Case]) -> Vec<u16> {
    let (mut ours, theirs) = UnixStream::pair().unwrap();
    let records = prog.to_raw_records();
    let n = cases.len();
    let cases = cases.to_vec();
    let outcome = in_child(move || {
        if prctl::set_no_new_privs().is_err()
            || seccomp::install(&records, seccomp::FilterFlags::NONE).is_err()
        {
            return 99;
        }
        let mut out = Vec::with_capacity(cases.len() * 2);
        for c in &cases {
            let e = match c.abi {
                Arch::I386 => call32(c.nr, c.args),
                _ => call64(u64::from(c.nr), c.args),
            };
            out.extend_from_slice(&(e as u16).to_le_bytes());
        }
        use std::os::fd::AsRawFd;
        // SAFETY: writes a buffer we own to a descriptor we own (plain write(2), which the
        // prologue lets through).
        let w = unsafe { libc::write(theirs.as_raw_fd(), out.as_ptr().cast(), out.len()) };
        if w != out.len() as isize {
            return 98;
        }
        0
    })
    .unwrap();
    assert_eq!(outcome, ChildOutcome::Exited(0), "child failed");
    let mut buf = vec![0u8; n * 2];
    ours.read_exact(&mut buf).unwrap();
    buf.chunks(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect()
}
