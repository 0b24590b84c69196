//! Receiving fds over a unix socket (`SCM_RIGHTS`): how a container runtime hands the seccomp
//! listener of a container to an agent (the OCI `listenerPath` socket).
//!
//! Bounded: at most [`MAX_FDS`] fds a message; a message that carried more (the kernel
//! truncated the control data) is refused, and every fd that did arrive is closed.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// The most fds one message may carry.
pub const MAX_FDS: usize = 16;

/// Reads one message into `buf`: the bytes read and the fds it carried (close-on-exec).
pub fn recv_with_fds(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
    // u64 words keep the control buffer aligned for `struct cmsghdr`.
    let mut control = [0u64; 16 + MAX_FDS / 2];
    let control_len = std::mem::size_of_val(&control);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero msghdr is valid (no name, no iovecs, no control data).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = control_len as _;
    // SAFETY: msg points to one iovec over `buf` and to `control`, both live and writable for
    // the lengths given; the kernel writes at most those lengths.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut fds = Vec::new();
    // SAFETY: msg was filled by recvmsg: its control pointer and length describe the control
    // messages it wrote into `control`, which CMSG_FIRSTHDR/NXTHDR walk within those bounds.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    while !cmsg.is_null() {
        // SAFETY: cmsg is non-null and points at a header inside `control` (CMSG_NXTHDR
        // returns null past the end).
        let (level, kind, len) =
            unsafe { ((*cmsg).cmsg_level, (*cmsg).cmsg_type, (*cmsg).cmsg_len) };
        if level == libc::SOL_SOCKET && kind == libc::SCM_RIGHTS {
            // SAFETY: CMSG_LEN(0) is a constant computation on no pointer.
            let header = unsafe { libc::CMSG_LEN(0) } as usize;
            let count = len.saturating_sub(header) / std::mem::size_of::<i32>();
            // SAFETY: CMSG_DATA points just past this header, inside `control`; the kernel
            // wrote `count` ints there (cmsg_len says so); read unaligned, as ints may be.
            let data = unsafe { libc::CMSG_DATA(cmsg) }.cast::<i32>();
            for i in 0..count {
                // SAFETY: i < count, within the data this header carries (see above).
                let fd = unsafe { data.add(i).read_unaligned() };
                if fd >= 0 {
                    // SAFETY: the kernel installed this fd for us with this message; nothing
                    // else owns it.
                    fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
        }
        // SAFETY: as for CMSG_FIRSTHDR: msg and cmsg describe the control data recvmsg wrote.
        cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
    }
    if msg.msg_flags & libc::MSG_CTRUNC != 0 {
        drop(fds);
        return Err(io::Error::other(format!(
            "a message carried more than {MAX_FDS} fds (refused; those received were closed)"
        )));
    }
    Ok((n as usize, fds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn a_message_without_fds_carries_none() {
        let (mut a, b) = UnixStream::pair().unwrap();
        a.write_all(b"hi").unwrap();
        let mut buf = [0u8; 8];
        let (n, fds) = recv_with_fds(b.as_fd(), &mut buf).unwrap();
        assert_eq!((&buf[..n], fds.len()), (&b"hi"[..], 0));
    }
}
