//! Process file descriptors: a handle on one process (or thread) that cannot be confused
//! with a later process that reuses its id.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::last_error;

/// `PIDFD_THREAD` (= O_EXCL, include/uapi/linux/pidfd.h, Linux 6.9): the pidfd refers to one
/// thread, which need not lead its thread group.
pub const PIDFD_THREAD: u32 = libc::O_EXCL as u32;

fn owned(r: libc::c_long) -> io::Result<OwnedFd> {
    if r < 0 {
        return Err(last_error());
    }
    let fd = i32::try_from(r).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the call returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `pidfd_open(pid, flags)`.
pub fn open(pid: i32, flags: u32) -> io::Result<OwnedFd> {
    // SAFETY: integer arguments only.
    owned(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, flags) })
}

/// `pidfd_getfd(pidfd, targetfd, 0)`: a duplicate of fd `target` of the process.
pub fn getfd(pidfd: BorrowedFd<'_>, target: i32) -> io::Result<OwnedFd> {
    // SAFETY: integer arguments only; the kernel checks ptrace access to the target.
    owned(unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), target, 0) })
}

/// `pidfd_send_signal(pidfd, sig, NULL, 0)`.
pub fn send_signal(pidfd: BorrowedFd<'_>, sig: i32) -> io::Result<()> {
    // SAFETY: a null siginfo means "as kill(2)"; the rest are integers.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if r < 0 {
        Err(last_error())
    } else {
        Ok(())
    }
}
