//! The file and socket operations the supervisor carries out for a sandboxed process: each a
//! thin wrapper over one system call, relative to a directory fd the supervisor holds.
//!
//! Invariant: nothing here resolves a path of more than one component from a string the
//! sandboxed process chose, except [`open_at`] on a final name the caller has already
//! checked — the supervisor walks paths one component at a time (`O_PATH | O_NOFOLLOW`) so
//! that every directory and symlink on the way is seen and judged. Results that go back to the
//! process (a `struct stat`, a link's text) are returned as the kernel's bytes.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::last_error;

fn check(r: libc::c_int) -> io::Result<()> {
    if r < 0 {
        Err(last_error())
    } else {
        Ok(())
    }
}

fn owned(r: libc::c_int) -> io::Result<OwnedFd> {
    if r < 0 {
        return Err(last_error());
    }
    // SAFETY: the call returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// The identity of a file: device and inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

/// What the walk needs to know about one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    pub id: FileId,
    /// `st_mode` (type and permission bits).
    pub mode: u32,
}

impl Meta {
    pub fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }
    pub fn is_symlink(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFLNK
    }
}

fn meta_of(st: &libc::stat) -> Meta {
    Meta {
        id: FileId {
            dev: st.st_dev,
            ino: st.st_ino,
        },
        mode: st.st_mode,
    }
}

/// `openat(dir, name, O_PATH | O_CLOEXEC | O_NOFOLLOW)`: a handle on one entry, never
/// following a symlink (a symlink is opened as itself).
pub fn open_entry(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<OwnedFd> {
    open_at(
        dir,
        name,
        libc::O_PATH | libc::O_CLOEXEC | libc::O_NOFOLLOW,
        0,
    )
}

/// `openat(dir, name, flags, mode)`.
pub fn open_at(dir: BorrowedFd<'_>, name: &CStr, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    // SAFETY: `name` is a live NUL-terminated string; the rest are integers.
    owned(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, mode) })
}

/// `openat2(dir, path, {flags, resolve})`: the kernel's own resolution under `RESOLVE_*`
/// flags, which the supervisor's walk is tested against (Linux 5.6).
pub fn openat2(dir: BorrowedFd<'_>, path: &CStr, flags: u64, resolve: u64) -> io::Result<OwnedFd> {
    // struct open_how: flags, mode, resolve (include/uapi/linux/openat2.h).
    let how: [u64; 3] = [flags, 0, resolve];
    // SAFETY: `path` is a live NUL-terminated string; `how` is a live open_how of the size
    // passed, which the kernel only reads.
    let r = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            path.as_ptr(),
            how.as_ptr(),
            std::mem::size_of_val(&how),
        )
    };
    owned(r as libc::c_int)
}

/// `open(path, O_PATH | O_CLOEXEC | O_DIRECTORY)`: for the supervisor's own trusted paths
/// (`/proc/TID/root`, `/proc/TID/cwd`, `/proc/TID/fd/N`).
pub fn open_dir_path(path: &CStr) -> io::Result<OwnedFd> {
    // SAFETY: `path` is a live NUL-terminated string.
    owned(unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_PATH | libc::O_CLOEXEC | libc::O_DIRECTORY,
        )
    })
}

/// `fstat(fd)`.
pub fn meta(fd: BorrowedFd<'_>) -> io::Result<Meta> {
    // SAFETY: an all-zero `struct stat` is a valid value of the type.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is live and writable, of the size the kernel writes.
    check(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    Ok(meta_of(&st))
}

/// Whether `fd` is on a procfs (whose symlinks below a pid are "magic": they jump to the
/// object itself, not to their text).
pub fn on_procfs(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: an all-zero `struct statfs` is a valid value of the type.
    let mut sf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `sf` is live and writable, of the size the kernel writes.
    let r = unsafe { libc::fstatfs(fd.as_raw_fd(), &mut sf) };
    r == 0 && sf.f_type == libc::PROC_SUPER_MAGIC
}

/// `readlinkat(dir, name)`: the text of a symlink (at most PATH_MAX bytes).
pub fn readlink_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: `buf` is live and writable for its length; `name` is NUL-terminated.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(last_error());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// `newfstatat(dir, name, flags)`: the kernel's `struct stat`, as bytes.
pub fn stat_bytes(dir: BorrowedFd<'_>, name: &CStr, flags: i32) -> io::Result<Vec<u8>> {
    kernel_bytes::<libc::stat>(|st| {
        // SAFETY: `st` points to a live, writable `struct stat`; `name` is NUL-terminated.
        unsafe { libc::fstatat(dir.as_raw_fd(), name.as_ptr(), st, flags) }
    })
}

/// `statx(dir, name, flags, mask)`: the kernel's `struct statx`, as bytes.
pub fn statx_bytes(dir: BorrowedFd<'_>, name: &CStr, flags: i32, mask: u32) -> io::Result<Vec<u8>> {
    kernel_bytes::<libc::statx>(|st| {
        // SAFETY: `st` points to a live, writable `struct statx`; `name` is NUL-terminated.
        unsafe { libc::statx(dir.as_raw_fd(), name.as_ptr(), flags, mask, st) }
    })
}

/// The id of the mount `fd` is on (`statx` `STATX_MNT_ID`, Linux 5.8): what
/// `RESOLVE_NO_XDEV` compares — two bind mounts of one file system share a device but not a
/// mount.
pub fn mount_id(fd: BorrowedFd<'_>) -> io::Result<u64> {
    // SAFETY: an all-zero `struct statx` is a valid value of the type.
    let mut st: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is live and writable; the name is an empty NUL-terminated string.
    check(unsafe {
        libc::statx(
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            libc::STATX_MNT_ID,
            &mut st,
        )
    })?;
    if st.stx_mask & libc::STATX_MNT_ID == 0 {
        return Err(io::Error::from_raw_os_error(libc::ENOSYS));
    }
    Ok(st.stx_mnt_id)
}

/// `fstatfs(fd)`: the kernel's `struct statfs`, as bytes.
pub fn statfs_bytes(fd: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
    kernel_bytes::<libc::statfs>(|sf| {
        // SAFETY: `sf` points to a live, writable `struct statfs`.
        unsafe { libc::fstatfs(fd.as_raw_fd(), sf) }
    })
}

/// The structures the kernel fills for [`kernel_bytes`]: plain C data, for which every byte
/// pattern is a valid value.
trait KernelStruct: Copy {}
impl KernelStruct for libc::stat {}
impl KernelStruct for libc::statx {}
impl KernelStruct for libc::statfs {}

/// The bytes of a `T` the kernel fills through `fill` (a call returning 0 or -1 with errno).
/// The value is never copied as a `T` (a typed copy leaves its padding uninitialised): it is
/// zeroed in place, filled in place, and read back as the bytes it holds.
fn kernel_bytes<T: KernelStruct>(fill: impl FnOnce(*mut T) -> libc::c_int) -> io::Result<Vec<u8>> {
    let mut v = std::mem::MaybeUninit::<T>::zeroed();
    check(fill(v.as_mut_ptr()))?;
    // SAFETY: every byte of `v` was written, by `zeroed` and then by the kernel, and `v`
    // lives for the whole read of its size_of::<T>() bytes.
    let bytes = unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), size_of::<T>()) };
    Ok(bytes.to_vec())
}

/// `faccessat2(dir, name, mode, AT_EACCESS | flags)`: checked with the calling thread's
/// filesystem ids (the supervisor takes on the caller's before asking).
pub fn access_at(dir: BorrowedFd<'_>, name: &CStr, mode: i32, flags: i32) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated; the rest are integers.
    let r = unsafe {
        libc::syscall(
            libc::SYS_faccessat2,
            dir.as_raw_fd(),
            name.as_ptr(),
            mode,
            flags | libc::AT_EACCESS,
        )
    };
    check(r as libc::c_int)
}

pub fn mkdir_at(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) })
}

pub fn mknod_at(dir: BorrowedFd<'_>, name: &CStr, mode: u32, dev: u64) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated.
    check(unsafe { libc::mknodat(dir.as_raw_fd(), name.as_ptr(), mode, dev) })
}

pub fn unlink_at(dir: BorrowedFd<'_>, name: &CStr, flags: i32) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) })
}

pub fn rename_at(
    from_dir: BorrowedFd<'_>,
    from: &CStr,
    to_dir: BorrowedFd<'_>,
    to: &CStr,
    flags: u32,
) -> io::Result<()> {
    // SAFETY: both names are NUL-terminated.
    check(unsafe {
        libc::renameat2(
            from_dir.as_raw_fd(),
            from.as_ptr(),
            to_dir.as_raw_fd(),
            to.as_ptr(),
            flags,
        )
    })
}

pub fn symlink_at(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: both strings are NUL-terminated.
    check(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) })
}

/// `linkat(from_dir, from, to_dir, to, 0)`: never follows a symlink at `from`.
pub fn link_at(
    from_dir: BorrowedFd<'_>,
    from: &CStr,
    to_dir: BorrowedFd<'_>,
    to: &CStr,
) -> io::Result<()> {
    // SAFETY: both names are NUL-terminated.
    check(unsafe {
        libc::linkat(
            from_dir.as_raw_fd(),
            from.as_ptr(),
            to_dir.as_raw_fd(),
            to.as_ptr(),
            0,
        )
    })
}

/// `fchmodat2(dir, name, mode, flags)` (flags: AT_SYMLINK_NOFOLLOW).
pub fn chmod_at(dir: BorrowedFd<'_>, name: &CStr, mode: u32, flags: i32) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated.
    let r = unsafe {
        libc::syscall(
            libc::SYS_fchmodat2,
            dir.as_raw_fd(),
            name.as_ptr(),
            mode,
            flags,
        )
    };
    check(r as libc::c_int)
}

pub fn chown_at(
    dir: BorrowedFd<'_>,
    name: &CStr,
    uid: u32,
    gid: u32,
    flags: i32,
) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated.
    check(unsafe { libc::fchownat(dir.as_raw_fd(), name.as_ptr(), uid, gid, flags) })
}

/// `ftruncate(fd, len)`.
pub fn truncate_fd(fd: BorrowedFd<'_>, len: i64) -> io::Result<()> {
    // SAFETY: integers only.
    check(unsafe { libc::ftruncate(fd.as_raw_fd(), len) })
}

/// Sets or clears `O_NONBLOCK` on an open file.
pub fn set_nonblocking(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    // SAFETY: fcntl F_GETFL/F_SETFL take integers only.
    let fl = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    if fl < 0 {
        return Err(last_error());
    }
    let fl = if on {
        fl | libc::O_NONBLOCK
    } else {
        fl & !libc::O_NONBLOCK
    };
    // SAFETY: as above.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, fl) })
}

/// `utimensat(dir, name, times, flags)`; `times` None: now.
pub fn utimens_at(
    dir: BorrowedFd<'_>,
    name: &CStr,
    times: Option<[(i64, i64); 2]>,
    flags: i32,
) -> io::Result<()> {
    let ts = times.map(|t| {
        t.map(|(sec, nsec)| libc::timespec {
            tv_sec: sec,
            tv_nsec: nsec,
        })
    });
    let p = ts.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
    // SAFETY: `name` is NUL-terminated; `p` is null or points at two live timespecs.
    check(unsafe { libc::utimensat(dir.as_raw_fd(), name.as_ptr(), p, flags) })
}

/// `connect(fd, addr)` with the address as the caller's bytes (a `struct sockaddr_*`).
pub fn connect(fd: BorrowedFd<'_>, addr: &[u8]) -> io::Result<()> {
    // SAFETY: `addr` is live for its length, which is passed as the address length.
    check(unsafe {
        libc::connect(
            fd.as_raw_fd(),
            addr.as_ptr().cast(),
            addr.len() as libc::socklen_t,
        )
    })
}

/// `bind(fd, addr)`.
pub fn bind(fd: BorrowedFd<'_>, addr: &[u8]) -> io::Result<()> {
    // SAFETY: `addr` is live for its length, which is passed as the address length.
    check(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            addr.as_ptr().cast(),
            addr.len() as libc::socklen_t,
        )
    })
}

/// `sendmsg(fd, {name: addr, iov: [data]}, flags)` with no control data; bytes sent.
pub fn send_to(fd: BorrowedFd<'_>, data: &[u8], flags: u32, addr: &[u8]) -> io::Result<usize> {
    // SAFETY: `data` and `addr` are live for the lengths passed with them.
    let r = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            data.as_ptr().cast(),
            data.len(),
            flags as i32 | libc::MSG_NOSIGNAL,
            if addr.is_empty() {
                std::ptr::null()
            } else {
                addr.as_ptr().cast()
            },
            addr.len() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(last_error())
    } else {
        Ok(r as usize)
    }
}

/// Gives the calling thread a working directory, root and umask of its own
/// (`unshare(CLONE_FS)`), so that [`set_umask`] there leaves the other threads alone.
pub fn own_fs_state() -> io::Result<()> {
    // SAFETY: integer flags only; CLONE_FS may be unshared by one thread of many.
    check(unsafe { libc::unshare(libc::CLONE_FS) })
}

/// Sets the umask of the calling thread's file system state (the process's, unless
/// [`own_fs_state`] was called); the previous one.
pub fn set_umask(mask: u32) -> u32 {
    // SAFETY: integers only; umask cannot fail.
    unsafe { libc::umask(mask) }
}

pub use crate::procfs::FsCreds;

impl FsCreds {
    /// The identity to act with for a caller of identity `caller`, when acting as `self`
    /// would give it more than it has: its ids and groups, and only the capabilities both
    /// hold (a caller's capabilities in a user namespace of its own are not more than ours
    /// on the host). `None`: acting as `self` gives the caller nothing more.
    pub fn to_act_for(&self, caller: &FsCreds) -> Option<FsCreds> {
        let eff = self.cap_eff & caller.cap_eff;
        let same_ids = (self.fsuid, self.fsgid) == (caller.fsuid, caller.fsgid)
            && self.groups == caller.groups;
        if same_ids && eff == self.cap_eff {
            return None;
        }
        Some(FsCreds {
            fsuid: caller.fsuid,
            fsgid: caller.fsgid,
            groups: caller.groups.clone(),
            cap_eff: eff,
        })
    }
}

/// Sets this thread's (only this thread's) fsuid, fsgid, supplementary groups and effective
/// capabilities. The raw system calls act on the calling thread alone, unlike the libc
/// wrappers, which change every thread of the process. Ids and groups already in place are
/// left alone (changing them needs CAP_SETUID/CAP_SETGID).
pub fn set_thread_creds(c: &FsCreds) -> io::Result<()> {
    let current = own_creds()?;
    // Raise first what the target has (CAP_SETGID and CAP_SETUID may be among them, when
    // going back to the supervisor's own identity), change ids, then settle the capabilities
    // (changing the fsuid to or from 0 moves the file capabilities in or out by itself).
    if current.cap_eff | c.cap_eff != current.cap_eff {
        set_thread_caps(current.cap_eff | c.cap_eff)?;
    }
    if current.groups != c.groups {
        set_groups(&c.groups)?;
    }
    if (current.fsuid, current.fsgid) != (c.fsuid, c.fsgid) {
        set_fs_ids(c.fsuid, c.fsgid)?;
    }
    if own_creds()?.cap_eff != c.cap_eff {
        set_thread_caps(c.cap_eff)?;
    }
    Ok(())
}

fn set_groups(groups: &[u32]) -> io::Result<()> {
    // SAFETY: `groups` is live for its length.
    let r = unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) };
    check(r as libc::c_int)
}

fn set_fs_ids(fsuid: u32, fsgid: u32) -> io::Result<()> {
    // setfsuid/setfsgid return the previous value and never fail visibly: check by reading
    // back (an id passed as -1 only reads).
    // SAFETY: integers only.
    unsafe { libc::syscall(libc::SYS_setfsgid, fsgid) };
    // SAFETY: integers only.
    unsafe { libc::syscall(libc::SYS_setfsuid, fsuid) };
    // SAFETY: integers only.
    let gid = unsafe { libc::syscall(libc::SYS_setfsgid, u32::MAX) } as u32;
    // SAFETY: integers only.
    let uid = unsafe { libc::syscall(libc::SYS_setfsuid, u32::MAX) } as u32;
    if (uid, gid) != (fsuid, fsgid) {
        return Err(io::Error::from_raw_os_error(libc::EPERM));
    }
    Ok(())
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// This thread's capability sets, as capget(2) gives them (version 3: two words of each).
fn thread_caps() -> io::Result<(CapHeader, [CapData; 2])> {
    let mut h = CapHeader {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let mut d = [CapData::default(); 2];
    // SAFETY: `h` and `d` are live, of the layout capget(2) reads and writes (version 3).
    check(unsafe { libc::syscall(libc::SYS_capget, &mut h, d.as_mut_ptr()) } as libc::c_int)?;
    Ok((h, d))
}

/// This thread's effective capabilities become `eff` (within its permitted set).
fn set_thread_caps(eff: u64) -> io::Result<()> {
    let (mut h, mut d) = thread_caps()?;
    let permitted = u64::from(d[0].permitted) | (u64::from(d[1].permitted) << 32);
    let want = eff & permitted;
    d[0].effective = want as u32;
    d[1].effective = (want >> 32) as u32;
    // SAFETY: `h` and `d` are live, of the layout capset(2) reads (version 3).
    check(unsafe { libc::syscall(libc::SYS_capset, &mut h, d.as_ptr()) } as libc::c_int)
}

/// This thread's supplementary groups.
fn thread_groups() -> io::Result<Vec<u32>> {
    loop {
        // SAFETY: with a size of 0 the list is not touched; only the count is returned.
        let n = unsafe { libc::syscall(libc::SYS_getgroups, 0, std::ptr::null_mut::<u32>()) };
        let mut groups = vec![0u32; usize::try_from(n).map_err(|_| io::Error::last_os_error())?];
        // SAFETY: `groups` is live and writable for its length, which is passed.
        let got = unsafe { libc::syscall(libc::SYS_getgroups, groups.len(), groups.as_mut_ptr()) };
        match usize::try_from(got) {
            Ok(got) => {
                groups.truncate(got);
                return Ok(groups);
            }
            // The list grew in between (another thread's setgroups): ask again.
            Err(_) if io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) => {}
            Err(_) => return Err(io::Error::last_os_error()),
        }
    }
}

/// This process's own filesystem identity (of the calling thread), from system calls alone:
/// no /proc (which a sandbox's mount namespace may lack), and cheap enough for each call
/// the supervisor carries out as its caller.
pub fn own_creds() -> io::Result<FsCreds> {
    // setfsuid/setfsgid with an invalid id (-1) change nothing and return the current one.
    // SAFETY: integers only.
    let fsuid = unsafe { libc::syscall(libc::SYS_setfsuid, u32::MAX) } as u32;
    // SAFETY: integers only.
    let fsgid = unsafe { libc::syscall(libc::SYS_setfsgid, u32::MAX) } as u32;
    let (_, caps) = thread_caps()?;
    Ok(FsCreds {
        fsuid,
        fsgid,
        groups: thread_groups()?,
        cap_eff: u64::from(caps[0].effective) | (u64::from(caps[1].effective) << 32),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn walks_one_entry_without_following() {
        let d = tempdir();
        std::os::unix::fs::symlink("/etc", d.join("l")).unwrap();
        let root = open_dir_path(&cstr(d.to_str().unwrap())).unwrap();
        let l = open_entry(root.as_fd(), c"l").unwrap();
        assert!(meta(l.as_fd()).unwrap().is_symlink());
        assert_eq!(readlink_at(root.as_fd(), c"l").unwrap(), b"/etc");
        let proc = open_dir_path(c"/proc").unwrap();
        assert!(on_procfs(proc.as_fd()));
        assert!(!on_procfs(root.as_fd()));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn acts_for_a_caller_with_no_more_than_it_has() {
        let me = FsCreds {
            fsuid: 0,
            fsgid: 0,
            groups: vec![],
            cap_eff: 0xff,
        };
        assert_eq!(me.to_act_for(&me), None);
        // More capabilities (its own user namespace's) change nothing.
        let ns = FsCreds {
            cap_eff: 0xffff,
            ..me.clone()
        };
        assert_eq!(me.to_act_for(&ns), None);
        let fewer = FsCreds {
            cap_eff: 0x0f,
            ..me.clone()
        };
        assert_eq!(me.to_act_for(&fewer).unwrap().cap_eff, 0x0f);
        let nobody = FsCreds {
            fsuid: 65534,
            fsgid: 65534,
            groups: vec![],
            cap_eff: 0,
        };
        assert_eq!(me.to_act_for(&nobody), Some(nobody.clone()));
    }

    #[test]
    fn reads_its_own_creds() {
        let c = own_creds().unwrap();
        // SAFETY: geteuid cannot fail.
        assert_eq!(c.fsuid, unsafe { libc::geteuid() });
        // The system calls say what the kernel shows in /proc for this thread.
        let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        assert_eq!(
            Some(c),
            crate::procfs::ProcStatus::parse(status.clone()).fs_creds()
        );
        let s = "Uid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\nGroups:\t9 10 \nCapEff:\t000001ffffffffff\n";
        let p = crate::procfs::ProcStatus::parse(s.into())
            .fs_creds()
            .unwrap();
        assert_eq!((p.fsuid, p.fsgid, p.groups.clone()), (4, 8, vec![9, 10]));
        assert_eq!(p.cap_eff, 0x1ff_ffff_ffff);
    }

    /// A thread acting for another identity reads back exactly that identity, as /proc shows
    /// it (root only: changing ids and groups needs CAP_SETUID/CAP_SETGID).
    #[test]
    fn reads_back_an_identity_it_took() {
        straitjacket_testkit::alone(|| {
            // SAFETY: geteuid cannot fail.
            if unsafe { libc::geteuid() } != 0 {
                straitjacket_testkit::skip("needs root to change its ids and groups");
                return;
            }
            let outcome = crate::process::in_child(|| {
                let want = FsCreds {
                    fsuid: 1234,
                    fsgid: 4321,
                    groups: vec![7, 20, 100],
                    cap_eff: own_creds().unwrap().cap_eff & 0x3f,
                };
                set_thread_creds(&want).unwrap();
                let got = own_creds().unwrap();
                let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
                i32::from(
                    got != want
                        || Some(got) != crate::procfs::ProcStatus::parse(status.clone()).fs_creds(),
                )
            })
            .unwrap();
            assert_eq!(outcome, crate::process::ChildOutcome::Exited(0));
        });
    }

    fn cstr(s: &str) -> std::ffi::CString {
        std::ffi::CString::new(s).unwrap()
    }

    fn tempdir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!(
            "sj-fsops-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
