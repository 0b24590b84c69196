//! The system calls the supervisor carries out itself, and what their registers mean.
//!
//! In: a syscall's name and its six register values (as the ABI passed them). Out: a typed
//! request ([`FsCall`], [`NetCall`]) naming each pointer the supervisor must copy from the
//! caller and each value it acts on. Pure: nothing is read here, the supervisor copies the
//! memory (once) and decides on its copy.
//!
//! Invariants:
//! - Every call that names a file by a path the caller can change after the filter ran is in
//!   [`FS_CALLS`] (or in [`FS_REFUSED`], answered without running): with `fs` rules, the
//!   filter notifies all of them and nothing path-based reaches the kernel from the caller.
//! - fd-based calls (`read`, `fstat` on a number, `getdents64`, `fchmod`) are not here: the
//!   fd came from an open the supervisor checked (or was inherited, which the user chose).
//! - `chdir` is not here: the working directory only changes where later relative paths
//!   start, and every later path is resolved by the supervisor from wherever that is.

/// `AT_FDCWD`.
pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
pub const AT_REMOVEDIR: u64 = 0x200;
pub const AT_SYMLINK_FOLLOW: u64 = 0x400;
pub const AT_EMPTY_PATH: u64 = 0x1000;
pub const AT_EACCESS: u64 = 0x200;

pub const O_ACCMODE: u64 = 0o3;
pub const O_WRONLY: u64 = 0o1;
pub const O_RDWR: u64 = 0o2;
pub const O_CREAT: u64 = 0o100;
pub const O_EXCL: u64 = 0o200;
pub const O_TRUNC: u64 = 0o1000;
pub const O_APPEND: u64 = 0o2000;
pub const O_DIRECTORY: u64 = 0o200000;
pub const O_NOFOLLOW: u64 = 0o400000;
pub const O_CLOEXEC: u64 = 0o2000000;
pub const O_PATH: u64 = 0o10000000;
/// `__O_TMPFILE | O_DIRECTORY`.
pub const O_TMPFILE: u64 = 0o20200000;

pub const RESOLVE_NO_XDEV: u64 = 0x01;
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_BENEATH: u64 = 0x08;
pub const RESOLVE_IN_ROOT: u64 = 0x10;
pub const RESOLVE_CACHED: u64 = 0x20;

/// A path argument: the directory it is relative to and the address of the string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathArg {
    /// `AT_FDCWD` or the caller's fd number.
    pub dirfd: i32,
    /// Address of the NUL-terminated string in the caller (0: NULL).
    pub ptr: u64,
}

impl PathArg {
    fn cwd(ptr: u64) -> PathArg {
        PathArg {
            dirfd: AT_FDCWD,
            ptr,
        }
    }
    fn at(dirfd: u64, ptr: u64) -> PathArg {
        PathArg {
            dirfd: dirfd as i32,
            ptr,
        }
    }
}

/// Which struct a stat-like call writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatKind {
    /// `struct stat` (stat, lstat, newfstatat).
    Stat,
    /// `struct statx`, with the mask asked for.
    Statx { mask: u32 },
}

/// How a times-setting call passes its times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimesKind {
    /// `struct timespec[2]` (utimensat).
    Timespec,
    /// `struct timeval[2]` (utimes, futimesat).
    Timeval,
    /// `struct utimbuf` (utime).
    Utimbuf,
}

/// A file system call, as the supervisor carries it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsCall {
    /// open, openat, creat; openat2 with `how` (address, size of `struct open_how`).
    Open {
        at: PathArg,
        flags: u64,
        mode: u32,
        how: Option<(u64, u64)>,
    },
    Stat {
        at: PathArg,
        flags: u64,
        buf: u64,
        kind: StatKind,
    },
    Access {
        at: PathArg,
        mode: u32,
        flags: u64,
    },
    Readlink {
        at: PathArg,
        buf: u64,
        size: u64,
    },
    Mkdir {
        at: PathArg,
        mode: u32,
    },
    Mknod {
        at: PathArg,
        mode: u32,
        dev: u64,
    },
    Unlink {
        at: PathArg,
        flags: u64,
    },
    Rename {
        from: PathArg,
        to: PathArg,
        flags: u32,
    },
    Symlink {
        target: u64,
        at: PathArg,
    },
    Link {
        from: PathArg,
        to: PathArg,
        flags: u64,
    },
    Chmod {
        at: PathArg,
        mode: u32,
        flags: u64,
    },
    Chown {
        at: PathArg,
        uid: u32,
        gid: u32,
        flags: u64,
    },
    Truncate {
        at: PathArg,
        len: i64,
    },
    Utimes {
        at: PathArg,
        times: u64,
        kind: TimesKind,
        flags: u64,
    },
    Statfs {
        at: PathArg,
        buf: u64,
    },
}

/// The file system calls the supervisor carries out (names as in every ABI's table).
pub const FS_CALLS: &[&str] = &[
    "open",
    "openat",
    "openat2",
    "creat",
    "stat",
    "lstat",
    "newfstatat",
    "fstatat64",
    "statx",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "unlink",
    "unlinkat",
    "rmdir",
    "rename",
    "renameat",
    "renameat2",
    "symlink",
    "symlinkat",
    "link",
    "linkat",
    "chmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "lchown",
    "fchownat",
    "truncate",
    "utime",
    "utimes",
    "futimesat",
    "utimensat",
    "statfs",
];

/// Path-based calls the supervisor does not carry out, and the errno they get while `fs` rules
/// are in force (whatever the policy says): extended attributes by path (ENOTSUP, as on a
/// file system without them: programs fall back), and the calls that would reach a file
/// around any path check — by handle, by watch, or by mounting something over an allowed
/// tree (EPERM). `io_uring_setup` gets ENOSYS: its requests never pass the filter.
pub const FS_REFUSED: &[(&str, i32)] = &[
    ("getxattr", ENOTSUP),
    ("lgetxattr", ENOTSUP),
    ("setxattr", ENOTSUP),
    ("lsetxattr", ENOTSUP),
    ("listxattr", ENOTSUP),
    ("llistxattr", ENOTSUP),
    ("removexattr", ENOTSUP),
    ("lremovexattr", ENOTSUP),
    ("getxattrat", ENOTSUP),
    ("setxattrat", ENOTSUP),
    ("listxattrat", ENOTSUP),
    ("removexattrat", ENOTSUP),
    ("inotify_add_watch", EACCES),
    ("fanotify_mark", EPERM),
    ("name_to_handle_at", EOPNOTSUPP),
    ("open_by_handle_at", EPERM),
    ("mount", EPERM),
    ("umount2", EPERM),
    ("umount", EPERM),
    ("pivot_root", EPERM),
    ("chroot", EPERM),
    ("open_tree", EPERM),
    ("open_tree_attr", EPERM),
    ("move_mount", EPERM),
    ("fsopen", EPERM),
    ("fspick", EPERM),
    ("fsconfig", EPERM),
    ("fsmount", EPERM),
    ("mount_setattr", EPERM),
    ("uselib", EPERM),
    ("acct", EPERM),
    ("swapon", EPERM),
    ("swapoff", EPERM),
    ("quotactl", EPERM),
    ("io_uring_setup", ENOSYS),
    // File attributes by path (Linux 6.17): ENOSYS, as on an older kernel; programs fall back
    // to the ioctl on an fd they opened under the rules.
    ("file_getattr", ENOSYS),
    ("file_setattr", ENOSYS),
    // The i386 ABI's own path calls: the supervisor copies 64-bit layouts only, and answers
    // ENOSYS for the i386 calls it shares with x86_64 (`open`, `mkdir`, …); these get the
    // same in the kernel.
    ("oldstat", ENOSYS),
    ("oldlstat", ENOSYS),
    ("stat64", ENOSYS),
    ("lstat64", ENOSYS),
    ("statfs64", ENOSYS),
    ("truncate64", ENOSYS),
    ("chown32", ENOSYS),
    ("lchown32", ENOSYS),
    ("utimensat_time64", ENOSYS),
];

/// Calls with a `const char *` argument that names no file the rules could be about: exec
/// (confined by Landlock, see SECURITY.md), the working directory, key rings, module and
/// host names, mount API parameters, message queues, and buffers of data.
pub const NOT_FILES: &[&str] = &[
    "execve",
    "execveat",
    "chdir",
    "add_key",
    "request_key",
    "keyctl",
    "memfd_create",
    "delete_module",
    "init_module",
    "finit_module",
    "sethostname",
    "setdomainname",
    "reboot",
    "fsconfig",
    "memfd_secret",
    "write",
    "pwrite64",
    "fsetxattr",
    "fgetxattr",
    "fremovexattr",
    "mq_open",
    "mq_unlink",
    "mq_timedsend",
    "mq_timedsend_time64",
    "kexec_file_load",
];

pub const EPERM: i32 = 1;
pub const EACCES: i32 = 13;
pub const ENOSYS: i32 = 38;
pub const ENOTSUP: i32 = 95;
pub const EOPNOTSUPP: i32 = 95;

/// The request a file system call makes, from its name and registers.
pub fn fs_call(name: &str, a: &[u64; 6]) -> Option<FsCall> {
    use FsCall::*;
    let cwd = PathArg::cwd;
    let at = PathArg::at;
    Some(match name {
        "open" => Open {
            at: cwd(a[0]),
            flags: a[1],
            mode: a[2] as u32,
            how: None,
        },
        "creat" => Open {
            at: cwd(a[0]),
            flags: O_CREAT | O_WRONLY | O_TRUNC,
            mode: a[1] as u32,
            how: None,
        },
        "openat" => Open {
            at: at(a[0], a[1]),
            flags: a[2],
            mode: a[3] as u32,
            how: None,
        },
        "openat2" => Open {
            at: at(a[0], a[1]),
            flags: 0,
            mode: 0,
            how: Some((a[2], a[3])),
        },
        "stat" => Stat {
            at: cwd(a[0]),
            flags: 0,
            buf: a[1],
            kind: StatKind::Stat,
        },
        "lstat" => Stat {
            at: cwd(a[0]),
            flags: AT_SYMLINK_NOFOLLOW,
            buf: a[1],
            kind: StatKind::Stat,
        },
        "newfstatat" | "fstatat64" => Stat {
            at: at(a[0], a[1]),
            flags: a[3],
            buf: a[2],
            kind: StatKind::Stat,
        },
        "statx" => Stat {
            at: at(a[0], a[1]),
            flags: a[2],
            buf: a[4],
            kind: StatKind::Statx { mask: a[3] as u32 },
        },
        "access" => Access {
            at: cwd(a[0]),
            mode: a[1] as u32,
            flags: 0,
        },
        "faccessat" => Access {
            at: at(a[0], a[1]),
            mode: a[2] as u32,
            flags: 0,
        },
        "faccessat2" => Access {
            at: at(a[0], a[1]),
            mode: a[2] as u32,
            flags: a[3],
        },
        "readlink" => Readlink {
            at: cwd(a[0]),
            buf: a[1],
            size: a[2],
        },
        "readlinkat" => Readlink {
            at: at(a[0], a[1]),
            buf: a[2],
            size: a[3],
        },
        "mkdir" => Mkdir {
            at: cwd(a[0]),
            mode: a[1] as u32,
        },
        "mkdirat" => Mkdir {
            at: at(a[0], a[1]),
            mode: a[2] as u32,
        },
        "mknod" => Mknod {
            at: cwd(a[0]),
            mode: a[1] as u32,
            dev: a[2],
        },
        "mknodat" => Mknod {
            at: at(a[0], a[1]),
            mode: a[2] as u32,
            dev: a[3],
        },
        "unlink" => Unlink {
            at: cwd(a[0]),
            flags: 0,
        },
        "rmdir" => Unlink {
            at: cwd(a[0]),
            flags: AT_REMOVEDIR,
        },
        "unlinkat" => Unlink {
            at: at(a[0], a[1]),
            flags: a[2],
        },
        "rename" => Rename {
            from: cwd(a[0]),
            to: cwd(a[1]),
            flags: 0,
        },
        "renameat" => Rename {
            from: at(a[0], a[1]),
            to: at(a[2], a[3]),
            flags: 0,
        },
        "renameat2" => Rename {
            from: at(a[0], a[1]),
            to: at(a[2], a[3]),
            flags: a[4] as u32,
        },
        "symlink" => Symlink {
            target: a[0],
            at: cwd(a[1]),
        },
        "symlinkat" => Symlink {
            target: a[0],
            at: at(a[1], a[2]),
        },
        "link" => Link {
            from: cwd(a[0]),
            to: cwd(a[1]),
            flags: 0,
        },
        "linkat" => Link {
            from: at(a[0], a[1]),
            to: at(a[2], a[3]),
            flags: a[4],
        },
        "chmod" => Chmod {
            at: cwd(a[0]),
            mode: a[1] as u32,
            flags: 0,
        },
        "fchmodat" => Chmod {
            at: at(a[0], a[1]),
            mode: a[2] as u32,
            flags: 0,
        },
        "fchmodat2" => Chmod {
            at: at(a[0], a[1]),
            mode: a[2] as u32,
            flags: a[3],
        },
        "chown" => Chown {
            at: cwd(a[0]),
            uid: a[1] as u32,
            gid: a[2] as u32,
            flags: 0,
        },
        "lchown" => Chown {
            at: cwd(a[0]),
            uid: a[1] as u32,
            gid: a[2] as u32,
            flags: AT_SYMLINK_NOFOLLOW,
        },
        "fchownat" => Chown {
            at: at(a[0], a[1]),
            uid: a[2] as u32,
            gid: a[3] as u32,
            flags: a[4],
        },
        "truncate" => Truncate {
            at: cwd(a[0]),
            len: a[1] as i64,
        },
        "utime" => Utimes {
            at: cwd(a[0]),
            times: a[1],
            kind: TimesKind::Utimbuf,
            flags: 0,
        },
        "utimes" => Utimes {
            at: cwd(a[0]),
            times: a[1],
            kind: TimesKind::Timeval,
            flags: 0,
        },
        "futimesat" => Utimes {
            at: at(a[0], a[1]),
            times: a[2],
            kind: TimesKind::Timeval,
            flags: 0,
        },
        "utimensat" => Utimes {
            at: at(a[0], a[1]),
            times: a[2],
            kind: TimesKind::Timespec,
            flags: a[3],
        },
        "statfs" => Statfs {
            at: cwd(a[0]),
            buf: a[1],
        },
        _ => return None,
    })
}

/// What an open asks for, from its flags: read, write (or both), or only a handle (`O_PATH`).
pub fn open_wants(flags: u64) -> (bool, bool) {
    if flags & O_PATH != 0 {
        return (false, false);
    }
    let acc = flags & O_ACCMODE;
    let write = acc == O_WRONLY
        || acc == O_RDWR
        || flags & (O_CREAT | O_TRUNC) != 0
        || flags & O_TMPFILE == O_TMPFILE;
    let read = acc == 0 || acc == O_RDWR || acc == O_ACCMODE;
    (read, write)
}

/// Calls that change what the supervisor knows of a thread — its identity (uids, gids,
/// groups, capabilities), its umask, its root or namespaces. The supervisor caches that
/// knowledge per thread and forgets all of it when one of these (or an exec) is made: with
/// `fs` or `net` rules they are notified, and let through (CONTINUE: the decision is on
/// registers alone).
pub const IDENTITY_CALLS: &[&str] = &[
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setfsuid",
    "setfsgid",
    "setgroups",
    "capset",
    "umask",
    "unshare",
    "setns",
    "setuid32",
    "setgid32",
    "setreuid32",
    "setregid32",
    "setresuid32",
    "setresgid32",
    "setfsuid32",
    "setfsgid32",
    "setgroups32",
];

/// A network call the supervisor carries out when `net` rules name addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetCall {
    Connect {
        fd: i32,
        addr: u64,
        len: u32,
    },
    Bind {
        fd: i32,
        addr: u64,
        len: u32,
    },
    /// sendto with a destination (sendto without one never reaches the supervisor).
    SendTo {
        fd: i32,
        buf: u64,
        len: u64,
        flags: u32,
        addr: u64,
        addrlen: u32,
    },
    SendMsg {
        fd: i32,
        msg: u64,
        flags: u32,
    },
    /// sendmmsg: `vlen` messages at `msgvec` (`struct mmsghdr`), each sent as by sendmsg.
    SendMmsg {
        fd: i32,
        msgvec: u64,
        vlen: u32,
        flags: u32,
    },
}

/// The network calls the supervisor carries out.
pub const NET_CALLS: &[&str] = &["connect", "bind", "sendto", "sendmsg", "sendmmsg"];

/// Network calls refused while address rules are in force: io_uring, whose connect and
/// send requests never pass the filter, and the i386 ABI's `socketcall`, which multiplexes
/// connect, bind and send behind one number and a pointer.
pub const NET_REFUSED: &[(&str, i32)] = &[("io_uring_setup", ENOSYS), ("socketcall", ENOSYS)];

pub fn net_call(name: &str, a: &[u64; 6]) -> Option<NetCall> {
    Some(match name {
        "connect" => NetCall::Connect {
            fd: a[0] as i32,
            addr: a[1],
            len: a[2] as u32,
        },
        "bind" => NetCall::Bind {
            fd: a[0] as i32,
            addr: a[1],
            len: a[2] as u32,
        },
        "sendto" => NetCall::SendTo {
            fd: a[0] as i32,
            buf: a[1],
            len: a[2],
            flags: a[3] as u32,
            addr: a[4],
            addrlen: a[5] as u32,
        },
        "sendmsg" => NetCall::SendMsg {
            fd: a[0] as i32,
            msg: a[1],
            flags: a[2] as u32,
        },
        "sendmmsg" => NetCall::SendMmsg {
            fd: a[0] as i32,
            msgvec: a[1],
            vlen: a[2] as u32,
            flags: a[3] as u32,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;

    #[test]
    fn every_listed_call_has_a_shape_and_exists_somewhere() {
        for name in FS_CALLS {
            assert!(fs_call(name, &[0; 6]).is_some(), "{name}");
            assert!(
                Arch::ALL.iter().any(|a| a.syscall(name).is_some()),
                "{name} is in no table"
            );
        }
        for name in NET_CALLS {
            assert!(net_call(name, &[0; 6]).is_some(), "{name}");
        }
        for (name, _) in FS_REFUSED {
            assert!(!FS_CALLS.contains(name));
        }
    }

    #[test]
    fn every_path_taking_call_of_every_abi_is_supervised_or_refused() {
        // Any syscall with a `const char *` path-like argument must be in one of the lists (or
        // be one of the few that name no file): a new kernel call that takes a path, or an
        // ABI's own spelling of an old one, cannot slip past the supervisor.
        for arch in [Arch::X86_64, Arch::I386, Arch::X32, Arch::Aarch64] {
            let mut missing = Vec::new();
            for sc in arch.syscalls() {
                // A `const char *`, or a plain `char *` named as a path is (some old calls
                // spell their path without the const: utime, mount, i386 umount).
                let takes_path = sc.args.iter().any(|a| {
                    let chars = a.c_type.contains("char *") && !a.c_type.contains("**");
                    chars
                        && (a.c_type.starts_with("const char")
                            || ["filename", "pathname", "name", "dev_name", "dir_name"]
                                .contains(&a.name))
                });
                if !takes_path || NOT_FILES.contains(&sc.name) {
                    continue;
                }
                let covered = FS_CALLS.contains(&sc.name)
                    || FS_REFUSED.iter().any(|(n, _)| *n == sc.name)
                    || NET_CALLS.contains(&sc.name)
                    || ["sendmmsg", "sendto", "recvfrom", "getcwd", "uname"].contains(&sc.name);
                if !covered {
                    missing.push(sc.name);
                }
            }
            assert!(
                missing.is_empty(),
                "{arch:?}: take a path, neither supervised nor refused: {missing:?}"
            );
        }
    }

    #[test]
    fn every_call_that_sends_to_or_binds_an_address_is_supervised_or_refused() {
        // A call taking a socket address or a message header either reads one back (accept,
        // recvfrom, getsockname, …) or sends to or binds one: those must be checked.
        let reads_back = [
            "accept",
            "accept4",
            "recvfrom",
            "recvmsg",
            "recvmmsg",
            "recvmmsg_time64",
            "getsockname",
            "getpeername",
        ];
        for arch in [Arch::X86_64, Arch::I386, Arch::X32, Arch::Aarch64] {
            for sc in arch.syscalls() {
                let takes_address = sc
                    .args
                    .iter()
                    .any(|a| a.c_type.contains("sockaddr") || a.c_type.contains("msghdr"));
                let multiplexed = sc.name == "socketcall";
                if !(takes_address || multiplexed) || reads_back.contains(&sc.name) {
                    continue;
                }
                let covered =
                    NET_CALLS.contains(&sc.name) || NET_REFUSED.iter().any(|(n, _)| *n == sc.name);
                assert!(covered, "{arch:?}: {} sends or binds unchecked", sc.name);
            }
        }
    }

    #[test]
    fn open_flags_say_what_they_want() {
        assert_eq!(open_wants(0), (true, false));
        assert_eq!(open_wants(O_WRONLY), (false, true));
        assert_eq!(open_wants(O_RDWR), (true, true));
        assert_eq!(open_wants(O_CREAT), (true, true));
        assert_eq!(open_wants(O_TRUNC), (true, true));
        assert_eq!(open_wants(O_PATH | O_RDWR), (false, false));
        assert_eq!(open_wants(O_TMPFILE | O_RDWR), (true, true));
        assert_eq!(open_wants(O_DIRECTORY), (true, false));
    }

    #[test]
    fn shapes_take_the_right_registers() {
        let a = [3, 0x1000, 0x2000, 0x100, 0x3000, 5];
        assert_eq!(
            fs_call("newfstatat", &a),
            Some(FsCall::Stat {
                at: PathArg {
                    dirfd: 3,
                    ptr: 0x1000
                },
                flags: 0x100,
                buf: 0x2000,
                kind: StatKind::Stat
            })
        );
        assert_eq!(
            fs_call("renameat2", &a),
            Some(FsCall::Rename {
                from: PathArg {
                    dirfd: 3,
                    ptr: 0x1000
                },
                to: PathArg {
                    dirfd: 0x2000,
                    ptr: 0x100
                },
                flags: 0x3000
            })
        );
        let neg = [(-100i64) as u64, 0x1000, 0, 0, 0, 0];
        let Some(FsCall::Open { at, .. }) = fs_call("openat", &neg) else {
            panic!()
        };
        assert_eq!(at.dirfd, AT_FDCWD);
    }
}
