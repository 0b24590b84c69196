//! Installing a seccomp filter: `seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)`, falling back
//! to `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)` only where `seccomp()` itself is
//! missing (ENOSYS, Linux < 3.17) and no flag was asked for (prctl has no flags argument).
//!
//! The filter is given as raw `struct sock_filter` records; the kernel copies them
//! (`bpf_prog_create_from_user`), so they need no particular alignment and nothing is
//! allocated here — this can run between fork and exec.

use std::io;
use std::ops::BitOr;
use std::os::fd::{FromRawFd, OwnedFd};

use crate::last_error;

/// `SECCOMP_FILTER_FLAG_*` (include/uapi/linux/seccomp.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct FilterFlags(u32);

impl FilterFlags {
    pub const NONE: FilterFlags = FilterFlags(0);
    /// Synchronize all threads of the process to this filter (fails with the id of a thread
    /// that cannot be synchronized).
    pub const TSYNC: FilterFlags = FilterFlags(1 << 0);
    /// Log every action but ALLOW.
    pub const LOG: FilterFlags = FilterFlags(1 << 1);
    /// Do not enable the speculative store bypass mitigation.
    pub const SPEC_ALLOW: FilterFlags = FilterFlags(1 << 2);
    /// Return a user-notification listener fd (see [`install_with_listener`]).
    pub const NEW_LISTENER: FilterFlags = FilterFlags(1 << 3);
    /// With TSYNC: fail with ESRCH instead of a thread id (needed with NEW_LISTENER).
    pub const TSYNC_ESRCH: FilterFlags = FilterFlags(1 << 4);
    /// Wait killable for the supervisor's reply once it has received the notification.
    pub const WAIT_KILLABLE_RECV: FilterFlags = FilterFlags(1 << 5);

    pub fn bits(self) -> u32 {
        self.0
    }

    pub fn contains(self, other: FilterFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for FilterFlags {
    type Output = FilterFlags;
    fn bitor(self, rhs: FilterFlags) -> FilterFlags {
        FilterFlags(self.0 | rhs.0)
    }
}

const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;
const SECCOMP_MODE_FILTER: libc::c_ulong = 2;

fn fprog(filter: &[[u8; 8]]) -> io::Result<libc::sock_fprog> {
    let len =
        u16::try_from(filter.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok(libc::sock_fprog {
        len,
        // The kernel only reads through this pointer (copy_from_user).
        filter: filter.as_ptr().cast::<libc::sock_filter>().cast_mut(),
    })
}

fn seccomp_set_filter(prog: &libc::sock_fprog, flags: FilterFlags) -> libc::c_long {
    // SAFETY: `prog` points to a live sock_fprog whose `filter` points to `len` readable
    // 8-byte records borrowed for the duration of the call; the kernel copies them and keeps
    // no pointer. The op and flags are plain integers.
    unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            libc::c_ulong::from(flags.bits()),
            prog as *const libc::sock_fprog,
        )
    }
}

/// Installs `filter` (raw `struct sock_filter` records) on the calling thread, or on every
/// thread with [`FilterFlags::TSYNC`]. `NO_NEW_PRIVS` must be set first unless the caller
/// has CAP_SYS_ADMIN. A filter with [`FilterFlags::NEW_LISTENER`] must go through
/// [`install_with_listener`].
pub fn install(filter: &[[u8; 8]], flags: FilterFlags) -> io::Result<()> {
    if flags.contains(FilterFlags::NEW_LISTENER) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "NEW_LISTENER returns an fd: use install_with_listener",
        ));
    }
    let prog = fprog(filter)?;
    let r = seccomp_set_filter(&prog, flags);
    if r == 0 {
        return Ok(());
    }
    if r > 0 {
        // TSYNC without TSYNC_ESRCH: the id of a thread that could not be synchronized.
        return Err(io::Error::other(format!(
            "thread {r} could not be synchronized to the filter (it has another filter or no NO_NEW_PRIVS)"
        )));
    }
    let err = last_error();
    if err.raw_os_error() != Some(libc::ENOSYS) || flags != FilterFlags::NONE {
        return Err(err);
    }
    // SAFETY: same contract as above: a pointer to a live sock_fprog that the kernel only
    // reads during the call.
    let r = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            SECCOMP_MODE_FILTER,
            &prog as *const libc::sock_fprog,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

/// Installs `filter` with `NEW_LISTENER` added to `flags` and returns the notification fd.
pub fn install_with_listener(filter: &[[u8; 8]], flags: FilterFlags) -> io::Result<OwnedFd> {
    let prog = fprog(filter)?;
    let r = seccomp_set_filter(&prog, flags | FilterFlags::NEW_LISTENER);
    if r < 0 {
        return Err(last_error());
    }
    let fd = i32::try_from(r).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: with NEW_LISTENER a successful seccomp() returns a new fd that nothing else
    // owns; we take sole ownership of it here.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
