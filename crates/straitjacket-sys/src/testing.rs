//! Helpers for tests that compare the kernel's filter decisions with the emulator.
//!
//! [`probe`] issues a system call whose arguments the kernel ignores, with any six argument
//! values: the filter sees the values in `seccomp_data.args`, but whatever the filter
//! decides, running the call does nothing harmful. That makes it safe to call with arbitrary
//! arguments, and lets a test steer every argument word a filter may compare.

use std::io;

/// System calls that take no arguments (the kernel ignores whatever is in the registers) and
/// have no effect beyond returning a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Probe {
    Getpid,
    Getppid,
    Getuid,
    Geteuid,
    Getgid,
    Getegid,
    Gettid,
    SchedYield,
}

impl Probe {
    pub const ALL: [Probe; 8] = [
        Probe::Getpid,
        Probe::Getppid,
        Probe::Getuid,
        Probe::Geteuid,
        Probe::Getgid,
        Probe::Getegid,
        Probe::Gettid,
        Probe::SchedYield,
    ];

    /// The syscall number on the running architecture.
    pub fn nr(self) -> i64 {
        match self {
            Probe::Getpid => libc::SYS_getpid,
            Probe::Getppid => libc::SYS_getppid,
            Probe::Getuid => libc::SYS_getuid,
            Probe::Geteuid => libc::SYS_geteuid,
            Probe::Getgid => libc::SYS_getgid,
            Probe::Getegid => libc::SYS_getegid,
            Probe::Gettid => libc::SYS_gettid,
            Probe::SchedYield => libc::SYS_sched_yield,
        }
    }
}

/// Issues `probe` with the six argument registers set to `args`. Returns the call's result,
/// or the errno (from the call, or from a filter's `ERRNO` action).
pub fn probe(probe: Probe, args: [u64; 6]) -> Result<i64, i32> {
    // SAFETY: every `Probe` is a system call that ignores its argument registers and touches
    // no memory of ours, so any values are harmless; libc::syscall only passes them through.
    let r = unsafe {
        libc::syscall(
            probe.nr() as libc::c_long,
            args[0],
            args[1],
            args[2],
            args[3],
            args[4],
            args[5],
        )
    };
    if r == -1 {
        Err(io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        Ok(r)
    }
}

/// The `AUDIT_ARCH_*` value the kernel reports for native system calls of this build.
pub fn native_audit_arch() -> u32 {
    if cfg!(target_arch = "x86_64") {
        0xc000_003e
    } else if cfg!(target_arch = "aarch64") {
        0xc000_00b7
    } else if cfg!(target_arch = "x86") {
        0x4000_0003
    } else {
        0
    }
}

/// Moves the calling process into user and mount namespaces of its own (no privilege
/// needed), where it may mount: for a test in a forked child.
pub fn private_mounts() -> io::Result<()> {
    // SAFETY: integer flags only.
    if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Bind-mounts `src` on `dst` (after [`private_mounts`]).
pub fn bind_mount(src: &std::ffi::CStr, dst: &std::ffi::CStr) -> io::Result<()> {
    // SAFETY: both paths are live NUL-terminated strings; a bind mount takes no file system
    // type and no data.
    let r = unsafe {
        libc::mount(
            src.as_ptr(),
            dst.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND,
            std::ptr::null(),
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
