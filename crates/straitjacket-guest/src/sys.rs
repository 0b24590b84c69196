//! The three system calls strict mode allows a guest (read, write, exit), as raw
//! `syscall` instructions: no libc, no errno, the kernel's return value as is
//! (`-errno` on failure).

/// `read` (0), `write` (1), `exit` (60) on x86_64. `exit_group` (231) is NOT allowed in
/// strict mode (kernel/seccomp.c `mode1_syscalls`), so a guest must end with `exit`.
pub const SYS_READ: usize = 0;
pub const SYS_WRITE: usize = 1;
pub const SYS_EXIT: usize = 60;

/// A raw system call with up to six arguments.
///
/// # Safety
/// The call must be one whose pointer arguments are valid for what the kernel does with
/// them (or the process must be ready to be killed for it, as strict mode does).
#[inline(always)]
pub unsafe fn syscall6(nr: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the arguments; `syscall` clobbers rcx and r11, which
    // are declared, and touches no other register or the stack.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack)
        );
    }
    ret
}

/// `read(fd, buf)`: bytes read, 0 at end of file, or `-errno`.
pub fn read(fd: i32, buf: &mut [u8]) -> isize {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
    unsafe {
        syscall6(
            SYS_READ,
            [fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0],
        )
    }
}

/// `write(fd, buf)`: bytes written or `-errno`.
pub fn write(fd: i32, buf: &[u8]) -> isize {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes.
    unsafe {
        syscall6(
            SYS_WRITE,
            [fd as usize, buf.as_ptr() as usize, buf.len(), 0, 0, 0],
        )
    }
}

/// `exit(code)`: ends the (only) thread, and so the process.
pub fn exit(code: i32) -> ! {
    // SAFETY: exit takes an integer and does not return.
    unsafe {
        syscall6(SYS_EXIT, [code as usize, 0, 0, 0, 0, 0]);
        // If it ever returned, spin into a fault rather than fall off the end.
        core::arch::asm!("ud2", options(noreturn))
    }
}
