//! Seccomp user notifications: the supervisor's side of `SECCOMP_RET_USER_NOTIF`
//! (include/uapi/linux/seccomp.h, Documentation/userspace-api/seccomp_filter.rst).
//!
//! A thread whose call a filter answers `notify` sleeps in the kernel until the holder of the
//! listener fd answers with [`send`]; [`recv`] fetches the next pending call. The kernel fails
//! pending and future notified calls with ENOSYS once no process holds the listener.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use crate::last_error;

/// `struct seccomp_data`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Data {
    pub nr: i32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

/// `struct seccomp_notif`: one pending call.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Notif {
    pub id: u64,
    /// The calling thread's id, in the supervisor's pid namespace (0 if not visible there).
    pub pid: u32,
    pub flags: u32,
    pub data: Data,
}

/// `struct seccomp_notif_resp`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Resp {
    id: u64,
    val: i64,
    error: i32,
    flags: u32,
}

/// The answer to a notified call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Let the call run as if the filter had allowed it (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`).
    /// Only safe when the decision depended on the registers alone, never on memory.
    Continue,
    /// Fail with this errno (positive).
    Errno(i32),
    /// Return this value without running the call.
    Value(i64),
}

const SECCOMP_USER_NOTIF_FLAG_CONTINUE: u32 = 1;

// _IOWR('!', 0, struct seccomp_notif), _IOWR('!', 1, struct seccomp_notif_resp),
// _IOW('!', 2, __u64): direction bits, size, type '!' (0x21), number.
const fn ioc(dir: u64, nr: u64, size: u64) -> u64 {
    (dir << 30) | (size << 16) | (0x21 << 8) | nr
}
const IOC_WRITE: u64 = 1;
const IOC_READ: u64 = 2;
pub const IOCTL_NOTIF_RECV: u64 = ioc(IOC_READ | IOC_WRITE, 0, size_of::<Notif>() as u64);
pub const IOCTL_NOTIF_SEND: u64 = ioc(IOC_READ | IOC_WRITE, 1, size_of::<Resp>() as u64);
pub const IOCTL_NOTIF_ID_VALID: u64 = ioc(IOC_WRITE, 2, 8);
pub const IOCTL_NOTIF_ADDFD: u64 = ioc(IOC_WRITE, 3, size_of::<AddFd>() as u64);
/// `SECCOMP_IOW(4, __u64)`: its argument is the flags themselves, not a pointer.
pub const IOCTL_NOTIF_SET_FLAGS: u64 = ioc(IOC_WRITE, 4, 8);
const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: u64 = 1;

/// `struct seccomp_notif_addfd`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct AddFd {
    id: u64,
    flags: u32,
    srcfd: u32,
    newfd: u32,
    newfd_flags: u32,
}

const SECCOMP_ADDFD_FLAG_SEND: u32 = 2;

/// Installs a duplicate of `fd` in the calling process (the lowest free number, close-on-exec
/// if `cloexec`) and answers notification `id` with that number, in one step
/// (`SECCOMP_IOCTL_NOTIF_ADDFD` with `SECCOMP_ADDFD_FLAG_SEND`): the call returns the new fd.
/// ENOENT: the call is no longer pending (nothing was installed).
pub fn add_fd_and_reply(
    listener: BorrowedFd<'_>,
    id: u64,
    fd: BorrowedFd<'_>,
    cloexec: bool,
) -> io::Result<i32> {
    let mut req = AddFd {
        id,
        flags: SECCOMP_ADDFD_FLAG_SEND,
        srcfd: fd.as_raw_fd() as u32,
        newfd: 0,
        newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
    };
    // SAFETY: `req` is a live struct seccomp_notif_addfd of the size encoded in the request.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            IOCTL_NOTIF_ADDFD as _,
            &mut req as *mut AddFd,
        )
    };
    if r < 0 {
        Err(last_error())
    } else {
        Ok(r)
    }
}

/// Fetches the next pending notification (blocks if none, unless the fd is non-blocking).
/// ENOENT: the caller went away between poll and receive; EINTR: retry.
pub fn recv(listener: BorrowedFd<'_>) -> io::Result<Notif> {
    // The kernel requires a zeroed buffer (seccomp_notify_recv checks it).
    let mut n = Notif::default();
    // SAFETY: `n` is a live, writable, zeroed struct seccomp_notif of exactly the size encoded
    // in the request; the kernel writes at most that many bytes.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            IOCTL_NOTIF_RECV as _,
            &mut n as *mut Notif,
        )
    };
    if r < 0 {
        Err(last_error())
    } else {
        Ok(n)
    }
}

/// Answers notification `id`. ENOENT: it is no longer pending (the caller died or was
/// interrupted by a signal and will retry).
pub fn send(listener: BorrowedFd<'_>, id: u64, reply: Reply) -> io::Result<()> {
    let mut resp = Resp {
        id,
        ..Resp::default()
    };
    match reply {
        Reply::Continue => resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE,
        Reply::Errno(e) => resp.error = -e.abs(),
        Reply::Value(v) => resp.val = v,
    }
    // SAFETY: `resp` is a live struct seccomp_notif_resp of the size encoded in the request;
    // the kernel reads it (and may write it back: the request is _IOWR).
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            IOCTL_NOTIF_SEND as _,
            &mut resp as *mut Resp,
        )
    };
    if r < 0 {
        Err(last_error())
    } else {
        Ok(())
    }
}

/// Raw `SECCOMP_IOCTL_NOTIF_ID_VALID`: Ok when `id` is pending on this listener. On a
/// listener an unknown id gives ENOENT; on any other fd the ioctl gives ENOTTY (or EINVAL).
pub fn id_valid_raw(fd: BorrowedFd<'_>, id: u64) -> io::Result<()> {
    let mut id = id;
    // SAFETY: the request reads one u64 from `id`, which is live for the call.
    let r = unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            IOCTL_NOTIF_ID_VALID as _,
            &mut id as *mut u64,
        )
    };
    if r < 0 {
        Err(last_error())
    } else {
        Ok(())
    }
}

/// Whether notification `id` is still pending: the calling thread is still blocked in the
/// call, so its memory and its thread id still mean what they meant when it was received.
/// Not pending either: one answered by an `ADDFD` with `SEND` whose fd the thread has not
/// taken yet (the kernel marks it replied first).
pub fn id_valid(listener: BorrowedFd<'_>, id: u64) -> bool {
    id_valid_raw(listener, id).is_ok()
}

/// Asks for synchronous wake-ups (Linux 6.6, `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`): a
/// notified thread wakes the supervisor on its own CPU and the answer wakes the thread on the
/// supervisor's, as one hands over to the other. Each round trip then costs a few
/// microseconds less than two wake-ups across CPUs. Errors on older kernels (EINVAL), which
/// only keep the slower hand-over.
pub fn set_sync_wakeup(listener: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: this ioctl takes its flags by value; it reads no memory of ours.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            IOCTL_NOTIF_SET_FLAGS as _,
            SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP,
        )
    };
    if r < 0 {
        Err(last_error())
    } else {
        Ok(())
    }
}

/// Whether `fd` is a seccomp listener. `SECCOMP_IOCTL_NOTIF_ID_VALID` on a listener answers
/// ENOENT for an id that is not pending (or succeeds for one that is), while any other kind of
/// fd refuses the request itself (ENOTTY, or EINVAL for some drivers).
pub fn is_listener(fd: BorrowedFd<'_>) -> bool {
    match id_valid_raw(fd, 0) {
        Ok(()) => true,
        Err(e) => e.raw_os_error() == Some(libc::ENOENT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn another_fd_is_not_a_listener() {
        let f = std::fs::File::open("/dev/null").unwrap();
        assert!(!is_listener(f.as_fd()));
        assert_eq!(IOCTL_NOTIF_RECV, 0xc050_2100);
        assert_eq!(IOCTL_NOTIF_SEND, 0xc018_2101);
        assert_eq!(IOCTL_NOTIF_ID_VALID, 0x4008_2102);
        assert_eq!(IOCTL_NOTIF_ADDFD, 0x4018_2103);
        assert_eq!(IOCTL_NOTIF_SET_FLAGS, 0x4008_2104);
    }
}
