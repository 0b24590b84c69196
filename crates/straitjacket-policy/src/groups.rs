//! Named groups of system calls (`@basic-io`, `@file-read`, …): straitjacket's own curated
//! sets, written once for every ABI. A member that an ABI lacks (`open` on aarch64,
//! `socketcall` on x86_64) is simply absent there; resolve skips it for that ABI.
//!
//! Groups say *which calls*; conditions on their arguments belong to the rules that use them
//! (the presets show how: `allow ioctl if request != TIOCSTI`).

/// One group: its name (without `@`), what it is for, and its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    pub name: &'static str,
    pub about: &'static str,
    pub members: &'static [&'static str],
}

/// Every group, in the order `straitjacket groups` lists them.
pub static GROUPS: &[Group] = &[
    Group {
        name: "default",
        about: "what any dynamically linked program needs to start, run its libc and exit",
        members: &[
            "read", "write", "close", "fstat", "fstat64", "stat", "stat64", "lstat", "lstat64",
            "newfstatat", "fstatat64", "statx", "lseek", "_llseek", "mmap", "mmap2", "mprotect",
            "munmap", "brk", "mremap", "madvise", "rt_sigaction", "rt_sigprocmask",
            "rt_sigreturn", "sigreturn", "sigaltstack", "pread64", "access", "faccessat",
            "faccessat2", "open", "openat", "arch_prctl", "set_thread_area", "get_thread_area",
            "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "prlimit64",
            "getrlimit", "ugetrlimit", "getrandom", "exit", "exit_group", "futex",
            "futex_time64", "readlink", "readlinkat", "uname", "getpid", "gettid", "getppid",
            "getuid", "geteuid", "getgid", "getegid", "getuid32", "geteuid32", "getgid32",
            "getegid32", "getresuid", "getresgid", "getresuid32", "getresgid32", "getcwd",
            "sched_getaffinity", "sched_yield", "clock_gettime", "clock_gettime64",
            "clock_getres", "clock_getres_time64", "gettimeofday", "time", "restart_syscall",
            "membarrier",
        ],
    },
    Group {
        name: "basic-io",
        about: "reading, writing and closing descriptors already open",
        members: &[
            "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
            "preadv2", "pwritev2", "close", "close_range", "lseek", "_llseek", "dup", "dup2",
            "dup3", "fstat", "fstat64", "fcntl", "fcntl64", "sendfile", "sendfile64",
        ],
    },
    Group {
        name: "file-read",
        about: "opening, inspecting and reading files and directories",
        members: &[
            "open", "openat", "openat2", "access", "faccessat", "faccessat2", "stat", "stat64",
            "lstat", "lstat64", "fstat", "fstat64", "newfstatat", "fstatat64", "statx",
            "statfs", "statfs64", "fstatfs", "fstatfs64", "readlink", "readlinkat", "getdents",
            "getdents64", "getcwd", "chdir", "fchdir", "getxattr", "lgetxattr", "fgetxattr",
            "listxattr", "llistxattr", "flistxattr", "fadvise64", "fadvise64_64", "readahead",
            "name_to_handle_at", "inotify_init", "inotify_init1", "inotify_add_watch",
            "inotify_rm_watch", "flock", "mincore",
        ],
    },
    Group {
        name: "file-write",
        about: "creating, changing and removing files and directories",
        members: &[
            "creat", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat",
            "renameat2", "link", "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat",
            "fchmodat2", "chown", "fchown", "lchown", "fchownat", "chown32", "fchown32",
            "lchown32", "truncate", "truncate64", "ftruncate", "ftruncate64", "fallocate",
            "utime", "utimes", "futimesat", "utimensat", "utimensat_time64", "setxattr",
            "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "fsync",
            "fdatasync", "sync", "syncfs", "sync_file_range", "copy_file_range", "umask",
            "mknod", "mknodat",
        ],
    },
    Group {
        name: "file-system",
        about: "every call that names or changes the file system (file-read and file-write)",
        members: &[],
    },
    Group {
        name: "network-io",
        about: "sockets: create, connect, accept, send and receive",
        members: &[
            "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
            "getsockname", "getpeername", "getsockopt", "setsockopt", "sendto", "recvfrom",
            "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "recvmmsg_time64", "shutdown",
            "socketcall", "send", "recv",
        ],
    },
    Group {
        name: "process",
        about: "creating, running and waiting for processes and threads",
        members: &[
            "fork", "vfork", "clone", "clone3", "execve", "execveat", "wait4", "waitid",
            "waitpid", "exit", "exit_group", "getpid", "getppid", "gettid", "getpgid",
            "setpgid", "getpgrp", "getsid", "setsid", "set_tid_address", "prctl", "kill",
            "tkill", "tgkill", "pidfd_open", "pidfd_send_signal", "getpriority", "setpriority",
            "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_getscheduler",
            "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
            "sched_yield", "getrusage", "times", "prlimit64", "getrlimit", "ugetrlimit",
            "setrlimit", "capget",
        ],
    },
    Group {
        name: "signal",
        about: "handling, masking, waiting for and sending signals",
        members: &[
            "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigreturn", "rt_sigsuspend",
            "rt_sigpending", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo",
            "rt_tgsigqueueinfo", "sigaltstack", "signalfd", "signalfd4", "sigaction",
            "sigprocmask", "sigsuspend", "sigpending", "signal", "pause", "kill", "tkill",
            "tgkill", "alarm",
        ],
    },
    Group {
        name: "memory",
        about: "mapping, protecting and advising on memory",
        members: &[
            "brk", "mmap", "mmap2", "munmap", "mprotect", "mremap", "madvise", "msync",
            "mincore", "mlock", "mlock2", "munlock", "mlockall", "munlockall", "memfd_create",
            "pkey_alloc", "pkey_free", "pkey_mprotect", "membarrier", "mseal",
        ],
    },
    Group {
        name: "time",
        about: "reading clocks and sleeping (not setting clocks: see @privileged)",
        members: &[
            "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
            "gettimeofday", "time", "nanosleep", "clock_nanosleep", "clock_nanosleep_time64",
            "timer_create", "timer_delete", "timer_gettime", "timer_gettime64", "timer_settime",
            "timer_settime64", "timer_getoverrun", "timerfd_create", "timerfd_gettime",
            "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "getitimer",
            "setitimer", "alarm", "times",
        ],
    },
    Group {
        name: "ipc",
        about: "pipes, event descriptors, polling, futexes and System V / POSIX IPC",
        members: &[
            "pipe", "pipe2", "eventfd", "eventfd2", "poll", "ppoll", "ppoll_time64", "select",
            "_newselect", "pselect6", "pselect6_time64", "epoll_create", "epoll_create1",
            "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "futex", "futex_time64",
            "futex_waitv", "futex_wake", "futex_wait", "futex_requeue", "set_robust_list",
            "get_robust_list", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop",
            "semtimedop", "semtimedop_time64", "semctl", "shmget", "shmat", "shmdt", "shmctl",
            "ipc", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64",
            "mq_timedreceive", "mq_timedreceive_time64", "mq_notify", "mq_getsetattr", "splice",
            "tee", "vmsplice",
        ],
    },
    Group {
        name: "privileged",
        about: "calls that change identity, time, the host or other processes' limits",
        members: &[
            "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid",
            "setfsgid", "setgroups", "setuid32", "setgid32", "setreuid32", "setregid32",
            "setresuid32", "setresgid32", "setfsuid32", "setfsgid32", "setgroups32", "capset",
            "settimeofday", "clock_settime", "clock_settime64", "clock_adjtime",
            "clock_adjtime64", "adjtimex", "stime", "sethostname", "setdomainname", "reboot",
            "acct", "swapon", "swapoff", "quotactl", "quotactl_fd", "chroot", "vhangup",
            "iopl", "ioperm", "syslog", "nfsservctl", "lookup_dcookie", "kexec_load",
            "kexec_file_load", "unshare", "setns", "personality",
        ],
    },
    Group {
        name: "mount",
        about: "mounting and changing the mount tree",
        members: &[
            "mount", "umount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig",
            "fsmount", "fspick", "move_mount", "open_tree", "open_tree_attr", "mount_setattr",
            "listmount", "statmount",
        ],
    },
    Group {
        name: "module",
        about: "loading and removing kernel modules",
        members: &["init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms"],
    },
    Group {
        name: "debug",
        about: "tracing and inspecting other processes and the kernel",
        members: &[
            "ptrace", "process_vm_readv", "process_vm_writev", "perf_event_open", "bpf",
            "kcmp", "pidfd_getfd", "lookup_dcookie", "uprobe", "uretprobe",
        ],
    },
    Group {
        name: "obsolete",
        about: "calls no current libc makes; safe to deny",
        members: &[
            "uselib", "ustat", "sysfs", "_sysctl", "create_module", "get_kernel_syms",
            "query_module", "nfsservctl", "afs_syscall", "tuxcall", "security", "vserver",
            "getpmsg", "putpmsg", "break", "ftime", "gtty", "stty", "lock", "mpx", "prof",
            "profil", "ulimit", "idle", "vm86", "vm86old", "bdflush", "oldfstat", "oldlstat",
            "oldstat", "olduname", "oldolduname", "readdir", "sgetmask", "ssetmask",
            "remap_file_pages", "epoll_ctl_old", "epoll_wait_old", "modify_ldt",
        ],
    },
    Group {
        name: "io-uring",
        about: "io_uring: its operations are not system calls and bypass the filter",
        members: &["io_uring_setup", "io_uring_enter", "io_uring_register"],
    },
];

/// Looks a group up by name (without `@`).
pub fn group(name: &str) -> Option<&'static Group> {
    GROUPS.iter().find(|g| g.name == name)
}

/// The members of a group, with `@file-system` the union of file-read and file-write.
pub fn members(group: &Group) -> Vec<&'static str> {
    if group.name == "file-system" {
        let mut all: Vec<&'static str> = Vec::new();
        for g in ["file-read", "file-write"] {
            for m in self::group(g).map_or(&[][..], |g| g.members) {
                if !all.contains(m) {
                    all.push(m);
                }
            }
        }
        return all;
    }
    group.members.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_members_listed_once() {
        for (i, g) in GROUPS.iter().enumerate() {
            assert!(GROUPS[i + 1..].iter().all(|o| o.name != g.name), "{}", g.name);
            let m = members(g);
            for (j, s) in m.iter().enumerate() {
                assert!(!m[j + 1..].contains(s), "{s} twice in @{}", g.name);
            }
        }
        assert!(members(group("file-system").unwrap()).contains(&"unlinkat"));
    }
}
