//! The guest side of `straitjacket strict`: what a program needs to run in seccomp strict
//! mode, where the only system calls are read, write, exit and rt_sigreturn.
//!
//! - [`sys`]: the raw calls (inline `syscall`); [`io`]: whole reads/writes, a formatter;
//! - [`proto`]: the client of the monitor protocol on fd 3 (files, outputs, time, random);
//! - [`sha256`]: a streaming SHA-256, used by the example guest;
//! - [`entry!`]: the process entry (`_start`), argument access and the panic handler.
//!
//! A guest is a `#![no_std] #![no_main]` binary linked static without libc:
//!
//! ```text
//! rustc --edition 2021 -C panic=abort -C opt-level=3 -C relocation-model=static \
//!   -C link-arg=-nostartfiles -C link-arg=-nostdlib -C link-arg=-static \
//!   --extern straitjacket_guest=libstraitjacket_guest.rlib guest.rs
//! ```
//! (`tools/build-guests.sh` does this for the examples in `guests/`.)
#![cfg_attr(not(test), no_std)]

pub mod io;
/// Only in real guests (built with `--cfg 'feature="runtime"'`): a host program that uses
/// this crate for the protocol constants gets these from libc and std.
#[cfg(feature = "runtime")]
pub mod mem;
pub mod proto;
pub mod sha256;
pub mod sys;

pub use sys::exit;

/// Exit code after a panic.
pub const PANIC_EXIT: i32 = 101;

/// The process arguments, as the kernel (or straitjacket's loader) left them on the stack.
#[derive(Clone, Copy, Debug)]
pub struct Args {
    argc: usize,
    argv: *const *const u8,
}

impl Args {
    /// # Safety
    /// `sp` must be the initial stack pointer of the process (pointing at argc).
    pub unsafe fn from_stack(sp: *const usize) -> Args {
        // SAFETY: per the ABI, argc is at sp and the argv pointers follow it.
        unsafe {
            Args {
                argc: *sp,
                argv: sp.add(1) as *const *const u8,
            }
        }
    }

    pub fn len(&self) -> usize {
        self.argc
    }

    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }

    /// Argument `i` without its NUL, if there is one.
    pub fn get(&self, i: usize) -> Option<&'static [u8]> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: argv has argc valid pointers to NUL-terminated strings that live as long
        // as the process (they are on the initial stack, never popped).
        unsafe {
            let p = *self.argv.add(i);
            let mut n = 0;
            while *p.add(n) != 0 {
                n += 1;
            }
            Some(core::slice::from_raw_parts(p, n))
        }
    }

    /// Argument `i` as UTF-8 text.
    pub fn str(&self, i: usize) -> Option<&'static str> {
        self.get(i).and_then(|b| core::str::from_utf8(b).ok())
    }
}

/// Writes `guest panicked: MESSAGE (FILE:LINE)` to stderr and exits with [`PANIC_EXIT`].
pub fn panic_report(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::fmt::Write;
    let mut err = io::stderr();
    let _ = write!(err, "guest panicked: {}", info.message());
    if let Some(l) = info.location() {
        let _ = write!(err, " ({}:{})", l.file(), l.line());
    }
    let _ = err.write_str("\n");
    sys::exit(PANIC_EXIT)
}

/// Applies a static PIE's own `R_X86_64_RELATIVE` relocations: `base` is the load bias
/// (the runtime address of the ELF header, linked at 0), `dynamic` the runtime address of
/// `_DYNAMIC`, or null in a non-PIE executable (nothing to do). Called by `_start` (see
/// [`entry!`]) before anything else: straitjacket, like the kernel for a static PIE,
/// loads the image at a base of its choosing and leaves relocation to the guest.
///
/// # Safety
/// Only from `_start`, once, with the values above; the relocated words must be writable
/// (they are: relocations target RW segments, and straitjacket applies no RELRO).
#[no_mangle]
pub unsafe extern "C" fn __straitjacket_guest_relocate(base: usize, dynamic: *const usize) {
    const DT_NULL: usize = 0;
    const DT_RELA: usize = 7;
    const DT_RELASZ: usize = 8;
    const DT_RELAENT: usize = 9;
    const R_X86_64_RELATIVE: usize = 8;
    if dynamic.is_null() {
        return;
    }
    let (mut rela, mut relasz, mut relaent) = (0usize, 0usize, 24usize);
    let mut d = dynamic;
    // SAFETY: `_DYNAMIC` is an array of (tag, value) pairs ended by DT_NULL, and the RELA
    // table it names lies in the loaded image; each relocation's target is in the image.
    unsafe {
        loop {
            let (tag, val) = (*d, *d.add(1));
            match tag {
                DT_NULL => break,
                DT_RELA => rela = val,
                DT_RELASZ => relasz = val,
                DT_RELAENT => relaent = val,
                _ => {}
            }
            d = d.add(2);
        }
        if rela == 0 || relaent < 24 {
            return;
        }
        let mut off = 0;
        while off + 24 <= relasz {
            let r = (base + rela + off) as *const usize;
            let (offset, info, addend) = (*r, *r.add(1), *r.add(2));
            if info & 0xffff_ffff == R_X86_64_RELATIVE {
                *((base + offset) as *mut usize) = base.wrapping_add(addend);
            }
            off += relaent;
        }
    }
}

/// Defines the process entry: `_start` (which relocates a static PIE, see
/// [`__straitjacket_guest_relocate`], and passes the initial stack pointer on), a call
/// of `$main(args) -> i32` ending in `exit` (never `exit_group`, which strict mode kills),
/// and the panic handler.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        ::core::arch::global_asm!(
            ".globl _start",
            ".type _start,@function",
            ".weak _DYNAMIC",
            "_start:",
            "xor ebp, ebp",
            "mov r12, rsp",
            "and rsp, -16",
            "lea rdi, [rip + __ehdr_start]",
            "lea rsi, [rip + _DYNAMIC]",
            "call __straitjacket_guest_relocate",
            "mov rdi, r12",
            "call __straitjacket_guest_start",
            "ud2",
        );

        #[no_mangle]
        unsafe extern "C" fn __straitjacket_guest_start(sp: *const usize) -> ! {
            // SAFETY: `_start` passes the initial stack pointer, which points at argc.
            let args = unsafe { $crate::Args::from_stack(sp) };
            let f: fn($crate::Args) -> i32 = $main;
            $crate::sys::exit(f(args))
        }

        #[panic_handler]
        fn panic(info: &::core::panic::PanicInfo<'_>) -> ! {
            $crate::panic_report(info)
        }
    };
}
