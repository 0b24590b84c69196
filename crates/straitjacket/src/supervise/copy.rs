//! Copying a supervised call out of the calling thread, in the main loop: its strings and
//! structs read once from its memory, its root, working directory and dirfds opened through
//! `/proc/TID`, its identity read from `/proc/TID/status` — and then the notification checked
//! still pending, so that everything copied belonged to that thread in that call. The workers
//! decide and act on these copies only.

use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use straitjacket_policy::supervised::{self as sv, FsCall, NetCall};
use straitjacket_sys::fsops::{self, FsCreds};
use straitjacket_sys::procfs::ProcStatus;
use straitjacket_sys::{mem, notify, pidfd};

use super::fs::{self, FsRequest, Located};
use super::net::NetRequest;
use super::walk::Caller;

const EFAULT: i32 = 14;
const EBADF: i32 = 9;
const ENOENT: i32 = 2;
const ENOTDIR: i32 = 20;
const EINVAL: i32 = 22;
const EPERM: i32 = 1;
const ENAMETOOLONG: i32 = 36;
const EMSGSIZE: i32 = 90;
const EOPNOTSUPP: i32 = 95;
const PATH_MAX: usize = 4096;
/// The most bytes one supervised send carries.
const MAX_SEND: usize = 1 << 20;

/// Why a call could not be copied: answer this errno, or (`Gone`) nothing — the caller left
/// the call (killed, or interrupted by a signal; it will restart it).
#[derive(Debug)]
pub enum NotCopied {
    Errno(i32),
    Gone,
}

/// The caller as `/proc/TID/status` describes it.
#[derive(Debug)]
pub struct Status {
    pub creds: FsCreds,
    pub umask: u32,
    /// Thread group id in the supervisor's pid namespace.
    pub tgid: i32,
    /// Ids in the caller's own (innermost) pid namespace.
    pub caller: Caller,
    /// The thread's root directory (shared by its requests, never duplicated for one).
    pub root: Arc<OwnedFd>,
    /// A pidfd of the thread: while it is alive, this is the same thread. `None` where the
    /// kernel has no thread pidfds (before 6.9) and the thread leads no process: then what is
    /// read is used for one call and not kept.
    pub alive: Option<OwnedFd>,
}

impl Status {
    /// Whether the thread this was read from is still alive (a thread id reused by a later
    /// thread is never taken for it).
    pub fn alive(&self) -> bool {
        self.alive
            .as_ref()
            .is_some_and(|p| pidfd::send_signal(p.as_fd(), 0).is_ok())
    }
}

/// Reads what the supervisor needs of thread `tid`. The caller checks the notification is
/// still pending afterwards (the thread id was the caller's).
pub fn status(tid: i32) -> Option<Status> {
    let alive = pidfd::open(tid, pidfd::PIDFD_THREAD)
        .or_else(|_| pidfd::open(tid, 0))
        .ok();
    let st = ProcStatus::of(tid).ok()?;
    let root = proc_dir(tid, "root").ok()?;
    let (ns_tgid, ns_tid) = st.innermost_ids()?;
    Some(Status {
        creds: st.fs_creds()?,
        umask: st.umask()?,
        tgid: st.tgid()?,
        caller: Caller {
            tgid: ns_tgid,
            tid: ns_tid,
        },
        root: Arc::new(root),
        alive,
    })
}

/// Whether a call may create a file, and so needs the caller's umask.
fn creates(call: &FsCall) -> bool {
    match *call {
        FsCall::Open {
            flags, how: None, ..
        } => flags & sv::O_CREAT != 0 || flags & sv::O_TMPFILE == sv::O_TMPFILE,
        // openat2: the flags are in the `struct open_how`, not read yet.
        FsCall::Open { how: Some(_), .. } => true,
        FsCall::Mkdir { .. } | FsCall::Mknod { .. } => true,
        _ => false,
    }
}

/// The caller's umask as it is now. A cached one may be stale: the umask is shared by the
/// threads of a process, and another thread's `umask()` is let through (CONTINUE) after the
/// cache is cleared — a status read before it runs would keep the old mask, and files would
/// be created more open than the program asked.
fn umask_now(tid: i32) -> Option<u32> {
    ProcStatus::of(tid).ok()?.umask()
}

fn proc_dir(tid: i32, what: &str) -> Result<OwnedFd, i32> {
    let p = CString::new(format!("/proc/{tid}/{what}")).expect("no NUL");
    fsops::open_dir_path(&p).map_err(|e| e.raw_os_error().unwrap_or(EFAULT))
}

fn string(tid: i32, ptr: u64) -> Result<Vec<u8>, NotCopied> {
    if ptr == 0 {
        return Err(NotCopied::Errno(EFAULT));
    }
    match mem::read_cstr(tid, ptr, PATH_MAX) {
        Ok((s, true)) => Ok(s),
        Ok((_, false)) => Err(NotCopied::Errno(ENAMETOOLONG)),
        Err(_) => Err(NotCopied::Errno(EFAULT)),
    }
}

fn bytes(tid: i32, ptr: u64, len: usize) -> Result<Vec<u8>, NotCopied> {
    if ptr == 0 && len > 0 {
        return Err(NotCopied::Errno(EFAULT));
    }
    mem::read_exact(tid, ptr, len).map_err(|_| NotCopied::Errno(EFAULT))
}

/// The directory a relative path of the caller starts from.
fn dir_of(tid: i32, dirfd: i32) -> Result<OwnedFd, NotCopied> {
    if dirfd == sv::AT_FDCWD {
        return proc_dir(tid, "cwd").map_err(NotCopied::Errno);
    }
    if dirfd < 0 {
        return Err(NotCopied::Errno(EBADF));
    }
    proc_dir(tid, &format!("fd/{dirfd}")).map_err(|e| {
        NotCopied::Errno(match e {
            ENOENT => EBADF,
            ENOTDIR => ENOTDIR,
            e => e,
        })
    })
}

/// A duplicate of fd `fd` of the caller's process.
fn their_fd(tgid: i32, fd: i32) -> Result<OwnedFd, NotCopied> {
    let p = pidfd::open(tgid, 0).map_err(|_| NotCopied::Gone)?;
    pidfd::getfd(p.as_fd(), fd).map_err(|e| {
        NotCopied::Errno(match e.raw_os_error() {
            Some(EBADF) => EBADF,
            _ => EPERM,
        })
    })
}

fn still_pending(listener: &OwnedFd, id: u64) -> Result<(), NotCopied> {
    if notify::id_valid(listener.as_fd(), id) {
        Ok(())
    } else {
        Err(NotCopied::Gone)
    }
}

/// Copies a file call.
pub fn fs_request(
    listener: &OwnedFd,
    id: u64,
    tid: i32,
    st: &Status,
    call: FsCall,
) -> Result<FsRequest, NotCopied> {
    let root = Arc::clone(&st.root);
    let args = fs::path_args(&call);
    let first = match args.first() {
        Some(a) if a.ptr != 0 => Some(string(tid, a.ptr)?),
        _ => None,
    };
    let extra = match call {
        FsCall::Symlink { target, .. } => string(tid, target)?,
        _ => match fs::extra_len(&call) {
            Some((ptr, len)) => bytes(tid, ptr, len)?,
            None => Vec::new(),
        },
    };
    let mut empty_fd = None;
    let mut paths = Vec::new();
    if fs::acts_on_fd(&call, first.as_deref()) {
        let at = args[0];
        empty_fd = Some(if at.dirfd == sv::AT_FDCWD {
            proc_dir(tid, "cwd").map_err(NotCopied::Errno)?
        } else {
            their_fd(st.tgid, at.dirfd)?
        });
    } else {
        for (i, at) in args.iter().enumerate() {
            let path = match (i, &first) {
                (0, Some(p)) => p.clone(),
                _ => string(tid, at.ptr)?,
            };
            if path.is_empty() {
                return Err(NotCopied::Errno(ENOENT));
            }
            // openat2 scoped to its dirfd (RESOLVE_IN_ROOT, RESOLVE_BENEATH) walks even an
            // absolute path from the dirfd: there it is the root, or out of bounds.
            let base = if path[0] == b'/' && !fs::scoped_open(&call, &extra) {
                Arc::clone(&root)
            } else {
                Arc::new(dir_of(tid, at.dirfd)?)
            };
            paths.push(Located { base, path });
        }
    }
    let umask = if creates(&call) {
        umask_now(tid).ok_or(NotCopied::Gone)?
    } else {
        st.umask
    };
    still_pending(listener, id)?;
    Ok(FsRequest {
        call,
        caller: st.caller,
        root,
        paths,
        empty_fd,
        extra,
        umask,
        inline: true,
    })
}

/// Copies a network call (x86_64 and x32 layouts of `struct msghdr` are the 64-bit one).
pub fn net_request(
    listener: &OwnedFd,
    id: u64,
    tid: i32,
    st: &Status,
    call: NetCall,
    pointer_bits: u32,
) -> Result<NetRequest, NotCopied> {
    let addr_of = |ptr: u64, len: u32| -> Result<Vec<u8>, NotCopied> {
        if ptr == 0 {
            return Ok(Vec::new());
        }
        if len as usize > 128 || len < 2 {
            return Err(NotCopied::Errno(EINVAL));
        }
        bytes(tid, ptr, len as usize)
    };
    let mut batch = Vec::new();
    let (fd, addr, data) = match call {
        NetCall::Connect { fd, addr, len } | NetCall::Bind { fd, addr, len } => {
            if addr == 0 {
                return Err(NotCopied::Errno(EFAULT));
            }
            (fd, addr_of(addr, len)?, Vec::new())
        }
        NetCall::SendTo {
            fd,
            buf,
            len,
            addr,
            addrlen,
            ..
        } => {
            if len as usize > MAX_SEND {
                return Err(NotCopied::Errno(EMSGSIZE));
            }
            (fd, addr_of(addr, addrlen)?, bytes(tid, buf, len as usize)?)
        }
        NetCall::SendMsg { fd, msg, .. } => {
            if pointer_bits != 64 {
                return Err(NotCopied::Errno(EOPNOTSUPP));
            }
            let (addr, data) = message(tid, &bytes(tid, msg, MSGHDR)?, &addr_of)?;
            (fd, addr, data)
        }
        NetCall::SendMmsg {
            fd, msgvec, vlen, ..
        } => {
            if pointer_bits != 64 {
                return Err(NotCopied::Errno(EOPNOTSUPP));
            }
            if vlen == 0 {
                // The kernel sends nothing and returns 0; so does the supervisor, below.
                (fd, Vec::new(), Vec::new())
            } else {
                // A sendmmsg may send fewer messages than asked (it returns how many): the
                // supervisor sends at most MAX_MMSG, so what it copies stays bounded.
                let n = vlen.min(MAX_MMSG) as usize;
                let vec = bytes(tid, msgvec, n * MMSGHDR)?;
                // As the kernel does, a message that cannot be sent ends the batch there; only
                // the first one's error is the call's.
                let mut total = 0;
                for h in vec.chunks(MMSGHDR) {
                    let (addr, data) = match message(tid, &h[..MSGHDR], &addr_of) {
                        Ok(m) => m,
                        Err(e) if batch.is_empty() => return Err(e),
                        Err(_) => break,
                    };
                    total += data.len();
                    if total > MAX_SEND && !batch.is_empty() {
                        break;
                    }
                    batch.push((addr, data));
                }
                if batch.is_empty() {
                    return Err(NotCopied::Errno(EMSGSIZE));
                }
                let (addr, data) = batch.remove(0);
                (fd, addr, data)
            }
        }
    };
    let sock = their_fd(st.tgid, fd)?;
    let root = Arc::clone(&st.root);
    let cwd = proc_dir(tid, "cwd").map_err(|_| NotCopied::Gone)?;
    still_pending(listener, id)?;
    Ok(NetRequest {
        call,
        caller: st.caller,
        sock,
        addr,
        data,
        more: batch,
        root,
        cwd,
        umask: st.umask,
    })
}

/// `struct msghdr` and `struct mmsghdr` (a msghdr, then `unsigned int msg_len`, padded) in
/// the 64-bit layout.
const MSGHDR: usize = 56;
const MMSGHDR: usize = 64;
/// The most messages of one sendmmsg the supervisor sends (the kernel's own cap is
/// UIO_MAXIOV, 1024); the call returns how many went.
pub const MAX_MMSG: u32 = 16;

/// The destination and the bytes of one `struct msghdr` (`h`, its 56 bytes), copied from
/// thread `tid`. Control data (fds, credentials) is refused: the supervisor would pass its
/// own.
fn message(
    tid: i32,
    h: &[u8],
    addr_of: &dyn Fn(u64, u32) -> Result<Vec<u8>, NotCopied>,
) -> Result<(Vec<u8>, Vec<u8>), NotCopied> {
    let u = |o: usize| u64::from_ne_bytes(h[o..o + 8].try_into().expect("8 bytes"));
    let (name, namelen) = (u(0), u(8) as u32);
    let (iov, iovlen) = (u(16), u(24));
    let controllen = u(40);
    if controllen != 0 {
        return Err(NotCopied::Errno(EOPNOTSUPP));
    }
    if iovlen > 1024 {
        return Err(NotCopied::Errno(EMSGSIZE));
    }
    let vec = bytes(tid, iov, iovlen as usize * 16)?;
    let mut data = Vec::new();
    for e in vec.chunks(16) {
        let base = u64::from_ne_bytes(e[..8].try_into().expect("8 bytes"));
        let len = u64::from_ne_bytes(e[8..].try_into().expect("8 bytes")) as usize;
        if data.len() + len > MAX_SEND {
            return Err(NotCopied::Errno(EMSGSIZE));
        }
        data.extend(bytes(tid, base, len)?);
    }
    Ok((addr_of(name, namelen)?, data))
}
