//! Checks of the generated tables (`src/arch/gen_*.rs`, written by
//! tools/gen-syscall-tables/gen.py) against independent facts: the `libc` crate's x86_64
//! numbers and constants, and spot checks from the kernel's own tables and headers.

use straitjacket_policy::arch::{classify, Arch, SyscallNr, Width, X32_SYSCALL_BIT};

fn nr(arch: Arch, name: &str) -> u32 {
    arch.syscall(name)
        .unwrap_or_else(|| panic!("{arch}: no system call {name}"))
        .nr
}

fn args(arch: Arch, name: &str) -> Vec<(&'static str, &'static str)> {
    arch.syscall(name)
        .unwrap_or_else(|| panic!("{arch}: no system call {name}"))
        .args
        .iter()
        .map(|a| (a.name, a.c_type))
        .collect()
}

fn konst(arch: Arch, name: &str) -> i64 {
    arch.constant(name)
        .unwrap_or_else(|| panic!("{arch}: no constant {name}"))
}

/// System calls in the Linux 6.18 table that the `libc` crate does not name (yet).
const NOT_IN_LIBC: &[&str] = &[
    // removed long ago; libc only offers them on old targets
    "create_module",
    "get_kernel_syms",
    "query_module",
    // newer than the libc crate
    "cachestat",
    "file_getattr",
    "file_setattr",
    "futex_requeue",
    "futex_wait",
    "futex_wake",
    "getxattrat",
    "io_pgetevents",
    "listmount",
    "listxattrat",
    "lsm_get_self_attr",
    "lsm_list_modules",
    "lsm_set_self_attr",
    "map_shadow_stack",
    "open_tree_attr",
    "removexattrat",
    "setxattrat",
    "statmount",
    "uprobe",
    "uretprobe",
];

#[cfg(all(
    target_arch = "x86_64",
    target_os = "linux",
    target_pointer_width = "64"
))]
#[test]
fn x86_64_numbers_match_libc() {
    let known: &[(&str, i64)] = &[
        ("_sysctl", libc::SYS__sysctl),
        ("accept", libc::SYS_accept),
        ("accept4", libc::SYS_accept4),
        ("access", libc::SYS_access),
        ("acct", libc::SYS_acct),
        ("add_key", libc::SYS_add_key),
        ("adjtimex", libc::SYS_adjtimex),
        ("afs_syscall", libc::SYS_afs_syscall),
        ("alarm", libc::SYS_alarm),
        ("arch_prctl", libc::SYS_arch_prctl),
        ("bind", libc::SYS_bind),
        ("bpf", libc::SYS_bpf),
        ("brk", libc::SYS_brk),
        ("capget", libc::SYS_capget),
        ("capset", libc::SYS_capset),
        ("chdir", libc::SYS_chdir),
        ("chmod", libc::SYS_chmod),
        ("chown", libc::SYS_chown),
        ("chroot", libc::SYS_chroot),
        ("clock_adjtime", libc::SYS_clock_adjtime),
        ("clock_getres", libc::SYS_clock_getres),
        ("clock_gettime", libc::SYS_clock_gettime),
        ("clock_nanosleep", libc::SYS_clock_nanosleep),
        ("clock_settime", libc::SYS_clock_settime),
        ("clone", libc::SYS_clone),
        ("clone3", libc::SYS_clone3),
        ("close", libc::SYS_close),
        ("close_range", libc::SYS_close_range),
        ("connect", libc::SYS_connect),
        ("copy_file_range", libc::SYS_copy_file_range),
        ("creat", libc::SYS_creat),
        ("delete_module", libc::SYS_delete_module),
        ("dup", libc::SYS_dup),
        ("dup2", libc::SYS_dup2),
        ("dup3", libc::SYS_dup3),
        ("epoll_create", libc::SYS_epoll_create),
        ("epoll_create1", libc::SYS_epoll_create1),
        ("epoll_ctl", libc::SYS_epoll_ctl),
        ("epoll_ctl_old", libc::SYS_epoll_ctl_old),
        ("epoll_pwait", libc::SYS_epoll_pwait),
        ("epoll_pwait2", libc::SYS_epoll_pwait2),
        ("epoll_wait", libc::SYS_epoll_wait),
        ("epoll_wait_old", libc::SYS_epoll_wait_old),
        ("eventfd", libc::SYS_eventfd),
        ("eventfd2", libc::SYS_eventfd2),
        ("execve", libc::SYS_execve),
        ("execveat", libc::SYS_execveat),
        ("exit", libc::SYS_exit),
        ("exit_group", libc::SYS_exit_group),
        ("faccessat", libc::SYS_faccessat),
        ("faccessat2", libc::SYS_faccessat2),
        ("fadvise64", libc::SYS_fadvise64),
        ("fallocate", libc::SYS_fallocate),
        ("fanotify_init", libc::SYS_fanotify_init),
        ("fanotify_mark", libc::SYS_fanotify_mark),
        ("fchdir", libc::SYS_fchdir),
        ("fchmod", libc::SYS_fchmod),
        ("fchmodat", libc::SYS_fchmodat),
        ("fchmodat2", libc::SYS_fchmodat2),
        ("fchown", libc::SYS_fchown),
        ("fchownat", libc::SYS_fchownat),
        ("fcntl", libc::SYS_fcntl),
        ("fdatasync", libc::SYS_fdatasync),
        ("fgetxattr", libc::SYS_fgetxattr),
        ("finit_module", libc::SYS_finit_module),
        ("flistxattr", libc::SYS_flistxattr),
        ("flock", libc::SYS_flock),
        ("fork", libc::SYS_fork),
        ("fremovexattr", libc::SYS_fremovexattr),
        ("fsconfig", libc::SYS_fsconfig),
        ("fsetxattr", libc::SYS_fsetxattr),
        ("fsmount", libc::SYS_fsmount),
        ("fsopen", libc::SYS_fsopen),
        ("fspick", libc::SYS_fspick),
        ("fstat", libc::SYS_fstat),
        ("fstatfs", libc::SYS_fstatfs),
        ("fsync", libc::SYS_fsync),
        ("ftruncate", libc::SYS_ftruncate),
        ("futex", libc::SYS_futex),
        ("futex_waitv", libc::SYS_futex_waitv),
        ("futimesat", libc::SYS_futimesat),
        ("get_mempolicy", libc::SYS_get_mempolicy),
        ("get_robust_list", libc::SYS_get_robust_list),
        ("get_thread_area", libc::SYS_get_thread_area),
        ("getcpu", libc::SYS_getcpu),
        ("getcwd", libc::SYS_getcwd),
        ("getdents", libc::SYS_getdents),
        ("getdents64", libc::SYS_getdents64),
        ("getegid", libc::SYS_getegid),
        ("geteuid", libc::SYS_geteuid),
        ("getgid", libc::SYS_getgid),
        ("getgroups", libc::SYS_getgroups),
        ("getitimer", libc::SYS_getitimer),
        ("getpeername", libc::SYS_getpeername),
        ("getpgid", libc::SYS_getpgid),
        ("getpgrp", libc::SYS_getpgrp),
        ("getpid", libc::SYS_getpid),
        ("getpmsg", libc::SYS_getpmsg),
        ("getppid", libc::SYS_getppid),
        ("getpriority", libc::SYS_getpriority),
        ("getrandom", libc::SYS_getrandom),
        ("getresgid", libc::SYS_getresgid),
        ("getresuid", libc::SYS_getresuid),
        ("getrlimit", libc::SYS_getrlimit),
        ("getrusage", libc::SYS_getrusage),
        ("getsid", libc::SYS_getsid),
        ("getsockname", libc::SYS_getsockname),
        ("getsockopt", libc::SYS_getsockopt),
        ("gettid", libc::SYS_gettid),
        ("gettimeofday", libc::SYS_gettimeofday),
        ("getuid", libc::SYS_getuid),
        ("getxattr", libc::SYS_getxattr),
        ("init_module", libc::SYS_init_module),
        ("inotify_add_watch", libc::SYS_inotify_add_watch),
        ("inotify_init", libc::SYS_inotify_init),
        ("inotify_init1", libc::SYS_inotify_init1),
        ("inotify_rm_watch", libc::SYS_inotify_rm_watch),
        ("io_cancel", libc::SYS_io_cancel),
        ("io_destroy", libc::SYS_io_destroy),
        ("io_getevents", libc::SYS_io_getevents),
        ("io_setup", libc::SYS_io_setup),
        ("io_submit", libc::SYS_io_submit),
        ("io_uring_enter", libc::SYS_io_uring_enter),
        ("io_uring_register", libc::SYS_io_uring_register),
        ("io_uring_setup", libc::SYS_io_uring_setup),
        ("ioctl", libc::SYS_ioctl),
        ("ioperm", libc::SYS_ioperm),
        ("iopl", libc::SYS_iopl),
        ("ioprio_get", libc::SYS_ioprio_get),
        ("ioprio_set", libc::SYS_ioprio_set),
        ("kcmp", libc::SYS_kcmp),
        ("kexec_file_load", libc::SYS_kexec_file_load),
        ("kexec_load", libc::SYS_kexec_load),
        ("keyctl", libc::SYS_keyctl),
        ("kill", libc::SYS_kill),
        ("landlock_add_rule", libc::SYS_landlock_add_rule),
        ("landlock_create_ruleset", libc::SYS_landlock_create_ruleset),
        ("landlock_restrict_self", libc::SYS_landlock_restrict_self),
        ("lchown", libc::SYS_lchown),
        ("lgetxattr", libc::SYS_lgetxattr),
        ("link", libc::SYS_link),
        ("linkat", libc::SYS_linkat),
        ("listen", libc::SYS_listen),
        ("listxattr", libc::SYS_listxattr),
        ("llistxattr", libc::SYS_llistxattr),
        ("lookup_dcookie", libc::SYS_lookup_dcookie),
        ("lremovexattr", libc::SYS_lremovexattr),
        ("lseek", libc::SYS_lseek),
        ("lsetxattr", libc::SYS_lsetxattr),
        ("lstat", libc::SYS_lstat),
        ("madvise", libc::SYS_madvise),
        ("mbind", libc::SYS_mbind),
        ("membarrier", libc::SYS_membarrier),
        ("memfd_create", libc::SYS_memfd_create),
        ("memfd_secret", libc::SYS_memfd_secret),
        ("migrate_pages", libc::SYS_migrate_pages),
        ("mincore", libc::SYS_mincore),
        ("mkdir", libc::SYS_mkdir),
        ("mkdirat", libc::SYS_mkdirat),
        ("mknod", libc::SYS_mknod),
        ("mknodat", libc::SYS_mknodat),
        ("mlock", libc::SYS_mlock),
        ("mlock2", libc::SYS_mlock2),
        ("mlockall", libc::SYS_mlockall),
        ("mmap", libc::SYS_mmap),
        ("modify_ldt", libc::SYS_modify_ldt),
        ("mount", libc::SYS_mount),
        ("mount_setattr", libc::SYS_mount_setattr),
        ("move_mount", libc::SYS_move_mount),
        ("move_pages", libc::SYS_move_pages),
        ("mprotect", libc::SYS_mprotect),
        ("mq_getsetattr", libc::SYS_mq_getsetattr),
        ("mq_notify", libc::SYS_mq_notify),
        ("mq_open", libc::SYS_mq_open),
        ("mq_timedreceive", libc::SYS_mq_timedreceive),
        ("mq_timedsend", libc::SYS_mq_timedsend),
        ("mq_unlink", libc::SYS_mq_unlink),
        ("mremap", libc::SYS_mremap),
        ("mseal", libc::SYS_mseal),
        ("msgctl", libc::SYS_msgctl),
        ("msgget", libc::SYS_msgget),
        ("msgrcv", libc::SYS_msgrcv),
        ("msgsnd", libc::SYS_msgsnd),
        ("msync", libc::SYS_msync),
        ("munlock", libc::SYS_munlock),
        ("munlockall", libc::SYS_munlockall),
        ("munmap", libc::SYS_munmap),
        ("name_to_handle_at", libc::SYS_name_to_handle_at),
        ("nanosleep", libc::SYS_nanosleep),
        ("newfstatat", libc::SYS_newfstatat),
        ("nfsservctl", libc::SYS_nfsservctl),
        ("open", libc::SYS_open),
        ("open_by_handle_at", libc::SYS_open_by_handle_at),
        ("open_tree", libc::SYS_open_tree),
        ("openat", libc::SYS_openat),
        ("openat2", libc::SYS_openat2),
        ("pause", libc::SYS_pause),
        ("perf_event_open", libc::SYS_perf_event_open),
        ("personality", libc::SYS_personality),
        ("pidfd_getfd", libc::SYS_pidfd_getfd),
        ("pidfd_open", libc::SYS_pidfd_open),
        ("pidfd_send_signal", libc::SYS_pidfd_send_signal),
        ("pipe", libc::SYS_pipe),
        ("pipe2", libc::SYS_pipe2),
        ("pivot_root", libc::SYS_pivot_root),
        ("pkey_alloc", libc::SYS_pkey_alloc),
        ("pkey_free", libc::SYS_pkey_free),
        ("pkey_mprotect", libc::SYS_pkey_mprotect),
        ("poll", libc::SYS_poll),
        ("ppoll", libc::SYS_ppoll),
        ("prctl", libc::SYS_prctl),
        ("pread64", libc::SYS_pread64),
        ("preadv", libc::SYS_preadv),
        ("preadv2", libc::SYS_preadv2),
        ("prlimit64", libc::SYS_prlimit64),
        ("process_madvise", libc::SYS_process_madvise),
        ("process_mrelease", libc::SYS_process_mrelease),
        ("process_vm_readv", libc::SYS_process_vm_readv),
        ("process_vm_writev", libc::SYS_process_vm_writev),
        ("pselect6", libc::SYS_pselect6),
        ("ptrace", libc::SYS_ptrace),
        ("putpmsg", libc::SYS_putpmsg),
        ("pwrite64", libc::SYS_pwrite64),
        ("pwritev", libc::SYS_pwritev),
        ("pwritev2", libc::SYS_pwritev2),
        ("quotactl", libc::SYS_quotactl),
        ("quotactl_fd", libc::SYS_quotactl_fd),
        ("read", libc::SYS_read),
        ("readahead", libc::SYS_readahead),
        ("readlink", libc::SYS_readlink),
        ("readlinkat", libc::SYS_readlinkat),
        ("readv", libc::SYS_readv),
        ("reboot", libc::SYS_reboot),
        ("recvfrom", libc::SYS_recvfrom),
        ("recvmmsg", libc::SYS_recvmmsg),
        ("recvmsg", libc::SYS_recvmsg),
        ("remap_file_pages", libc::SYS_remap_file_pages),
        ("removexattr", libc::SYS_removexattr),
        ("rename", libc::SYS_rename),
        ("renameat", libc::SYS_renameat),
        ("renameat2", libc::SYS_renameat2),
        ("request_key", libc::SYS_request_key),
        ("restart_syscall", libc::SYS_restart_syscall),
        ("rmdir", libc::SYS_rmdir),
        ("rseq", libc::SYS_rseq),
        ("rt_sigaction", libc::SYS_rt_sigaction),
        ("rt_sigpending", libc::SYS_rt_sigpending),
        ("rt_sigprocmask", libc::SYS_rt_sigprocmask),
        ("rt_sigqueueinfo", libc::SYS_rt_sigqueueinfo),
        ("rt_sigreturn", libc::SYS_rt_sigreturn),
        ("rt_sigsuspend", libc::SYS_rt_sigsuspend),
        ("rt_sigtimedwait", libc::SYS_rt_sigtimedwait),
        ("rt_tgsigqueueinfo", libc::SYS_rt_tgsigqueueinfo),
        ("sched_get_priority_max", libc::SYS_sched_get_priority_max),
        ("sched_get_priority_min", libc::SYS_sched_get_priority_min),
        ("sched_getaffinity", libc::SYS_sched_getaffinity),
        ("sched_getattr", libc::SYS_sched_getattr),
        ("sched_getparam", libc::SYS_sched_getparam),
        ("sched_getscheduler", libc::SYS_sched_getscheduler),
        ("sched_rr_get_interval", libc::SYS_sched_rr_get_interval),
        ("sched_setaffinity", libc::SYS_sched_setaffinity),
        ("sched_setattr", libc::SYS_sched_setattr),
        ("sched_setparam", libc::SYS_sched_setparam),
        ("sched_setscheduler", libc::SYS_sched_setscheduler),
        ("sched_yield", libc::SYS_sched_yield),
        ("seccomp", libc::SYS_seccomp),
        ("security", libc::SYS_security),
        ("select", libc::SYS_select),
        ("semctl", libc::SYS_semctl),
        ("semget", libc::SYS_semget),
        ("semop", libc::SYS_semop),
        ("semtimedop", libc::SYS_semtimedop),
        ("sendfile", libc::SYS_sendfile),
        ("sendmmsg", libc::SYS_sendmmsg),
        ("sendmsg", libc::SYS_sendmsg),
        ("sendto", libc::SYS_sendto),
        ("set_mempolicy", libc::SYS_set_mempolicy),
        ("set_mempolicy_home_node", libc::SYS_set_mempolicy_home_node),
        ("set_robust_list", libc::SYS_set_robust_list),
        ("set_thread_area", libc::SYS_set_thread_area),
        ("set_tid_address", libc::SYS_set_tid_address),
        ("setdomainname", libc::SYS_setdomainname),
        ("setfsgid", libc::SYS_setfsgid),
        ("setfsuid", libc::SYS_setfsuid),
        ("setgid", libc::SYS_setgid),
        ("setgroups", libc::SYS_setgroups),
        ("sethostname", libc::SYS_sethostname),
        ("setitimer", libc::SYS_setitimer),
        ("setns", libc::SYS_setns),
        ("setpgid", libc::SYS_setpgid),
        ("setpriority", libc::SYS_setpriority),
        ("setregid", libc::SYS_setregid),
        ("setresgid", libc::SYS_setresgid),
        ("setresuid", libc::SYS_setresuid),
        ("setreuid", libc::SYS_setreuid),
        ("setrlimit", libc::SYS_setrlimit),
        ("setsid", libc::SYS_setsid),
        ("setsockopt", libc::SYS_setsockopt),
        ("settimeofday", libc::SYS_settimeofday),
        ("setuid", libc::SYS_setuid),
        ("setxattr", libc::SYS_setxattr),
        ("shmat", libc::SYS_shmat),
        ("shmctl", libc::SYS_shmctl),
        ("shmdt", libc::SYS_shmdt),
        ("shmget", libc::SYS_shmget),
        ("shutdown", libc::SYS_shutdown),
        ("sigaltstack", libc::SYS_sigaltstack),
        ("signalfd", libc::SYS_signalfd),
        ("signalfd4", libc::SYS_signalfd4),
        ("socket", libc::SYS_socket),
        ("socketpair", libc::SYS_socketpair),
        ("splice", libc::SYS_splice),
        ("stat", libc::SYS_stat),
        ("statfs", libc::SYS_statfs),
        ("statx", libc::SYS_statx),
        ("swapoff", libc::SYS_swapoff),
        ("swapon", libc::SYS_swapon),
        ("symlink", libc::SYS_symlink),
        ("symlinkat", libc::SYS_symlinkat),
        ("sync", libc::SYS_sync),
        ("sync_file_range", libc::SYS_sync_file_range),
        ("syncfs", libc::SYS_syncfs),
        ("sysfs", libc::SYS_sysfs),
        ("sysinfo", libc::SYS_sysinfo),
        ("syslog", libc::SYS_syslog),
        ("tee", libc::SYS_tee),
        ("tgkill", libc::SYS_tgkill),
        ("time", libc::SYS_time),
        ("timer_create", libc::SYS_timer_create),
        ("timer_delete", libc::SYS_timer_delete),
        ("timer_getoverrun", libc::SYS_timer_getoverrun),
        ("timer_gettime", libc::SYS_timer_gettime),
        ("timer_settime", libc::SYS_timer_settime),
        ("timerfd_create", libc::SYS_timerfd_create),
        ("timerfd_gettime", libc::SYS_timerfd_gettime),
        ("timerfd_settime", libc::SYS_timerfd_settime),
        ("times", libc::SYS_times),
        ("tkill", libc::SYS_tkill),
        ("truncate", libc::SYS_truncate),
        ("tuxcall", libc::SYS_tuxcall),
        ("umask", libc::SYS_umask),
        ("umount2", libc::SYS_umount2),
        ("uname", libc::SYS_uname),
        ("unlink", libc::SYS_unlink),
        ("unlinkat", libc::SYS_unlinkat),
        ("unshare", libc::SYS_unshare),
        ("uselib", libc::SYS_uselib),
        ("userfaultfd", libc::SYS_userfaultfd),
        ("ustat", libc::SYS_ustat),
        ("utime", libc::SYS_utime),
        ("utimensat", libc::SYS_utimensat),
        ("utimes", libc::SYS_utimes),
        ("vfork", libc::SYS_vfork),
        ("vhangup", libc::SYS_vhangup),
        ("vmsplice", libc::SYS_vmsplice),
        ("vserver", libc::SYS_vserver),
        ("wait4", libc::SYS_wait4),
        ("waitid", libc::SYS_waitid),
        ("write", libc::SYS_write),
        ("writev", libc::SYS_writev),
    ];
    for &(name, n) in known {
        assert_eq!(i64::from(nr(Arch::X86_64, name)), n, "x86_64 {name}");
    }
    // Every table entry is either checked against libc or listed as missing there.
    for s in Arch::X86_64.syscalls() {
        assert!(
            known.iter().any(|&(n, _)| n == s.name) || NOT_IN_LIBC.contains(&s.name),
            "x86_64 {} is neither checked against libc nor listed in NOT_IN_LIBC",
            s.name
        );
    }
    for name in NOT_IN_LIBC {
        assert!(Arch::X86_64.syscall(name).is_some(), "{name}");
    }
}

#[test]
fn i386_spot_checks() {
    let a = Arch::I386;
    for (name, n) in [
        ("restart_syscall", 0),
        ("exit", 1),
        ("read", 3),
        ("open", 5),
        ("waitpid", 7),
        ("socketcall", 102),
        ("ipc", 117),
        ("sigreturn", 119),
        ("clone", 120),
        ("_llseek", 140),
        ("_newselect", 142),
        ("rt_sigreturn", 173),
        ("mmap", 90),
        ("mmap2", 192),
        ("chown32", 212),
        ("fcntl64", 221),
        ("exit_group", 252),
        ("openat", 295),
        ("socket", 359),
        ("clock_gettime64", 403),
        ("futex_time64", 422),
        ("io_uring_setup", 425),
        ("clone3", 435),
        ("file_setattr", 469),
    ] {
        assert_eq!(nr(a, name), n, "i386 {name}");
    }
    assert!(a.syscall("newfstatat").is_none());
    // 64-bit offsets arrive as two 32-bit registers (arch/x86/kernel/sys_ia32.c).
    assert_eq!(
        args(a, "pread64"),
        [
            ("fd", "unsigned int"),
            ("ubuf", "char *"),
            ("count", "u32"),
            ("poslo", "u32"),
            ("poshi", "u32")
        ]
    );
    assert_eq!(args(a, "ftruncate64").len(), 3);
    assert_eq!(args(a, "fallocate").len(), 6);
    assert_eq!(args(a, "fadvise64_64").len(), 6);
    assert_eq!(args(a, "sync_file_range").len(), 6);
    assert_eq!(
        args(a, "socketcall"),
        [("call", "int"), ("args", "unsigned long *")]
    );
    assert_eq!(args(a, "_llseek")[1], ("offset_high", "unsigned long"));
    assert_eq!(args(a, "mmap2")[5], ("pgoff", "unsigned long"));
    assert_eq!(args(a, "clone")[3], ("tls", "unsigned long"));
    // Every argument of a 32-bit ABI is one 32-bit register.
    for s in a.syscalls() {
        for arg in s.args {
            assert_eq!(
                classify(a, arg.c_type).width,
                Width::W32,
                "{} {}",
                s.name,
                arg.name
            );
        }
    }
}

#[test]
fn aarch64_spot_checks() {
    let a = Arch::Aarch64;
    for (name, n) in [
        ("io_setup", 0),
        ("getcwd", 17),
        ("openat", 56),
        ("close", 57),
        ("read", 63),
        ("write", 64),
        ("newfstatat", 79),
        ("fstat", 80),
        ("exit", 93),
        ("exit_group", 94),
        ("rt_sigreturn", 139),
        ("getrlimit", 163),
        ("socket", 198),
        ("clone", 220),
        ("execve", 221),
        ("mmap", 222),
        ("fadvise64", 223),
        ("renameat", 38),
        ("wait4", 260),
        ("seccomp", 277),
        ("io_uring_setup", 425),
        ("clone3", 435),
        ("memfd_secret", 447),
        ("mseal", 462),
    ] {
        assert_eq!(nr(a, name), n, "aarch64 {name}");
    }
    for absent in [
        "open",
        "stat",
        "fork",
        "dup2",
        "pipe",
        "poll",
        "select",
        "mmap2",
        "renameat2x",
    ] {
        assert!(a.syscall(absent).is_none(), "aarch64 has no {absent}");
    }
    // CONFIG_CLONE_BACKWARDS: tls comes before child_tidptr.
    assert_eq!(
        args(a, "clone"),
        [
            ("clone_flags", "unsigned long"),
            ("newsp", "unsigned long"),
            ("parent_tidptr", "int *"),
            ("tls", "unsigned long"),
            ("child_tidptr", "int *")
        ]
    );
    // The generic fadvise64 is sys_fadvise64_64: len is a loff_t.
    assert_eq!(args(a, "fadvise64")[2], ("len", "loff_t"));
    assert_eq!(args(a, "read"), args(Arch::X86_64, "read"));
}

#[test]
fn x86_64_and_x32_args() {
    let a = Arch::X86_64;
    assert_eq!(
        args(a, "read"),
        [
            ("fd", "unsigned int"),
            ("buf", "char *"),
            ("count", "size_t")
        ]
    );
    let k = |t| classify(a, t);
    let read = a.syscall("read").unwrap();
    assert_eq!(k(read.args[0].c_type).width, Width::W32);
    assert!(!k(read.args[0].c_type).signed);
    assert!(k(read.args[1].c_type).pointer);
    assert_eq!(k(read.args[2].c_type).width, Width::W64);
    let openat = a.syscall("openat").unwrap();
    assert_eq!(openat.args[0].name, "dfd");
    assert_eq!(openat.args[0].c_type, "int");
    assert_eq!(k(openat.args[0].c_type).width, Width::W32);
    assert!(k(openat.args[0].c_type).signed);
    assert_eq!(
        openat.args[1],
        straitjacket_policy::arch::ArgDef {
            name: "filename",
            c_type: "const char *"
        }
    );
    assert_eq!(
        args(a, "clone"),
        [
            ("clone_flags", "unsigned long"),
            ("newsp", "unsigned long"),
            ("parent_tidptr", "int *"),
            ("child_tidptr", "int *"),
            ("tls", "unsigned long")
        ]
    );
    assert_eq!(args(a, "rt_sigreturn"), []);
    assert_eq!(args(a, "mmap").len(), 6);
    // Numbers with no entry point stay in the table, without arguments.
    assert_eq!(nr(a, "tuxcall"), 184);
    assert_eq!(args(a, "tuxcall"), []);

    let x = Arch::X32;
    assert_eq!(nr(x, "read"), X32_SYSCALL_BIT);
    assert_eq!(nr(x, "rt_sigaction"), X32_SYSCALL_BIT | 512);
    assert_eq!(nr(x, "execve"), X32_SYSCALL_BIT | 520);
    assert_eq!(nr(x, "openat"), X32_SYSCALL_BIT | 257);
    assert_eq!(nr(x, "pwritev2"), X32_SYSCALL_BIT | 547);
    assert_eq!(nr(x, "clone3"), X32_SYSCALL_BIT | 435);
    assert!(x.syscall_by_nr(SyscallNr(X32_SYSCALL_BIT | 13)).is_none());
    assert_eq!(args(x, "ioctl"), args(a, "ioctl"));
    assert_eq!(x.min_nr(), SyscallNr(X32_SYSCALL_BIT));
}

#[test]
fn tables_sorted_unique() {
    for arch in Arch::ALL {
        let all = arch.syscalls();
        assert!(all.len() > 300, "{arch}: only {} system calls", all.len());
        for w in all.windows(2) {
            assert!(
                w[0].nr < w[1].nr,
                "{arch}: {} and {} out of order",
                w[0].name,
                w[1].name
            );
        }
        let mut names: Vec<_> = all.iter().map(|s| s.name).collect();
        names.sort_unstable();
        for w in names.windows(2) {
            assert_ne!(w[0], w[1], "{arch}: duplicate name");
        }
        for s in all {
            assert!(s.args.len() <= 6, "{arch} {}", s.name);
            assert!(!s.name.starts_with("sys_"), "{arch} {}", s.name);
            assert_eq!(arch.syscall_by_nr(SyscallNr(s.nr)), Some(s));
            for a in s.args {
                assert!(
                    !a.name.is_empty() && !a.c_type.is_empty(),
                    "{arch} {}",
                    s.name
                );
                assert!(!a.c_type.contains("__user"), "{arch} {}", s.name);
            }
        }
        if arch == Arch::X32 {
            assert!(all.iter().all(|s| s.nr & X32_SYSCALL_BIT != 0));
        } else {
            assert!(all.iter().all(|s| s.nr < 1024), "{arch}");
        }
        let consts = arch.constants();
        assert!(
            consts.len() > 1000,
            "{arch}: only {} constants",
            consts.len()
        );
        for w in consts.windows(2) {
            assert!(
                w[0].0 < w[1].0,
                "{arch}: constants {} and {} out of order",
                w[0].0,
                w[1].0
            );
        }
    }
}

#[test]
fn constants_per_arch() {
    for arch in Arch::ALL {
        assert_eq!(konst(arch, "AT_FDCWD"), -100);
        assert_eq!(konst(arch, "EPERM"), 1);
        assert_eq!(konst(arch, "ENOSYS"), 38);
        assert_eq!(konst(arch, "O_RDONLY"), 0);
        assert_eq!(konst(arch, "O_ACCMODE"), 3);
        assert_eq!(konst(arch, "SIGKILL"), 9);
        assert_eq!(konst(arch, "SIGSYS"), 31);
        assert_eq!(konst(arch, "SIGRTMIN"), 32);
        assert_eq!(konst(arch, "CLONE_NEWUSER"), 0x1000_0000);
        assert_eq!(konst(arch, "CLONE_NEWTIME"), 0x80);
        assert_eq!(konst(arch, "SECCOMP_SET_MODE_FILTER"), 1);
        assert_eq!(konst(arch, "PR_SET_NO_NEW_PRIVS"), 38);
        assert_eq!(konst(arch, "PER_LINUX32"), 8);
        assert_eq!(konst(arch, "ADDR_NO_RANDOMIZE"), 0x0040000);
        assert_eq!(konst(arch, "TIOCSTI"), 0x5412);
        assert_eq!(konst(arch, "TIOCLINUX"), 0x541c);
        assert_eq!(konst(arch, "FIONREAD"), 0x541b);
        assert_eq!(konst(arch, "TIOCGPTPEER"), 0x5441);
        assert_eq!(konst(arch, "AF_UNIX"), 1);
        assert_eq!(konst(arch, "P_PIDFD"), 3);
        assert_eq!(konst(arch, "MFD_NOEXEC_SEAL"), 8);
        assert_eq!(konst(arch, "SOCK_NONBLOCK"), konst(arch, "O_NONBLOCK"));
        assert_eq!(konst(arch, "SOCK_CLOEXEC"), konst(arch, "O_CLOEXEC"));
        assert_eq!(konst(arch, "EFD_CLOEXEC"), konst(arch, "O_CLOEXEC"));
        assert_eq!(arch.constant("NO_SUCH_CONSTANT"), None);
    }
    // arm64 swaps O_DIRECTORY/O_NOFOLLOW and O_DIRECT/O_LARGEFILE
    // (arch/arm64/include/uapi/asm/fcntl.h).
    let a = Arch::Aarch64;
    assert_eq!(konst(a, "O_DIRECTORY"), 0o40000);
    assert_eq!(konst(a, "O_NOFOLLOW"), 0o100000);
    assert_eq!(konst(a, "O_DIRECT"), 0o200000);
    assert_eq!(konst(a, "O_LARGEFILE"), 0o400000);
    assert_eq!(a.constant("ARCH_SET_FS"), None);
    for x in [Arch::X86_64, Arch::X32, Arch::I386] {
        assert_eq!(konst(x, "O_DIRECTORY"), 0o200000);
        assert_eq!(konst(x, "O_NOFOLLOW"), 0o400000);
        assert_eq!(konst(x, "O_DIRECT"), 0o40000);
        // The kernel's value, which glibc hides on 64-bit ABIs.
        assert_eq!(konst(x, "O_LARGEFILE"), 0o100000);
        assert_eq!(konst(x, "ARCH_SET_FS"), 0x1002);
    }
    assert_eq!(Arch::I386.constant("RLIM_INFINITY"), Some(0xffff_ffff));
    assert_eq!(Arch::X86_64.constant("RLIM_INFINITY"), Some(-1));
}

#[cfg(all(
    target_arch = "x86_64",
    target_os = "linux",
    target_pointer_width = "64"
))]
#[test]
fn x86_64_constants_match_libc() {
    macro_rules! same {
        ($($n:ident),* $(,)?) => {
            $( assert_eq!(
                konst(Arch::X86_64, stringify!($n)),
                i64::try_from(libc::$n).unwrap(),
                stringify!($n)
            ); )*
        };
    }
    // libc types CLONE_IO as a c_int (negative); the kernel's 0x80000000 is unsigned.
    assert_eq!(
        konst(Arch::X86_64, "CLONE_IO"),
        i64::from(libc::CLONE_IO as u32)
    );
    same!(
        O_ACCMODE,
        O_RDONLY,
        O_WRONLY,
        O_RDWR,
        O_CREAT,
        O_EXCL,
        O_NOCTTY,
        O_TRUNC,
        O_APPEND,
        O_NONBLOCK,
        O_DSYNC,
        O_SYNC,
        O_RSYNC,
        O_DIRECT,
        O_DIRECTORY,
        O_NOFOLLOW,
        O_NOATIME,
        O_CLOEXEC,
        O_PATH,
        O_TMPFILE,
        O_ASYNC,
        O_NDELAY,
        AT_FDCWD,
        AT_SYMLINK_NOFOLLOW,
        AT_REMOVEDIR,
        AT_SYMLINK_FOLLOW,
        AT_EMPTY_PATH,
        AT_NO_AUTOMOUNT,
        AT_EACCESS,
        AT_STATX_SYNC_AS_STAT,
        AT_STATX_FORCE_SYNC,
        AT_STATX_DONT_SYNC,
        AT_RECURSIVE,
        AF_UNSPEC,
        AF_UNIX,
        AF_LOCAL,
        AF_INET,
        AF_INET6,
        AF_NETLINK,
        AF_PACKET,
        AF_VSOCK,
        AF_ALG,
        AF_BLUETOOTH,
        AF_KEY,
        AF_XDP,
        PF_UNIX,
        PF_INET,
        PF_INET6,
        PF_NETLINK,
        SOCK_STREAM,
        SOCK_DGRAM,
        SOCK_RAW,
        SOCK_SEQPACKET,
        SOCK_NONBLOCK,
        SOCK_CLOEXEC,
        IPPROTO_IP,
        IPPROTO_TCP,
        IPPROTO_UDP,
        IPPROTO_ICMP,
        IPPROTO_IPV6,
        IPPROTO_RAW,
        SOL_SOCKET,
        SO_REUSEADDR,
        SO_PEERCRED,
        EPERM,
        ENOENT,
        ESRCH,
        EINTR,
        EIO,
        ENXIO,
        E2BIG,
        ENOEXEC,
        EBADF,
        ECHILD,
        EAGAIN,
        ENOMEM,
        EACCES,
        EFAULT,
        EBUSY,
        EEXIST,
        EXDEV,
        ENODEV,
        ENOTDIR,
        EISDIR,
        EINVAL,
        ENFILE,
        EMFILE,
        ENOTTY,
        EFBIG,
        ENOSPC,
        ESPIPE,
        EROFS,
        EMLINK,
        EPIPE,
        EDOM,
        ERANGE,
        EDEADLK,
        ENAMETOOLONG,
        ENOSYS,
        ENOTEMPTY,
        ELOOP,
        EWOULDBLOCK,
        ENOTSUP,
        EOPNOTSUPP,
        ENOTSOCK,
        EAFNOSUPPORT,
        EADDRINUSE,
        ECONNREFUSED,
        ETIMEDOUT,
        ECANCELED,
        EOWNERDEAD,
        EHWPOISON,
        CLONE_VM,
        CLONE_FS,
        CLONE_FILES,
        CLONE_SIGHAND,
        CLONE_PIDFD,
        CLONE_PTRACE,
        CLONE_VFORK,
        CLONE_PARENT,
        CLONE_THREAD,
        CLONE_NEWNS,
        CLONE_SYSVSEM,
        CLONE_SETTLS,
        CLONE_PARENT_SETTID,
        CLONE_CHILD_CLEARTID,
        CLONE_DETACHED,
        CLONE_UNTRACED,
        CLONE_CHILD_SETTID,
        CLONE_NEWCGROUP,
        CLONE_NEWUTS,
        CLONE_NEWIPC,
        CLONE_NEWUSER,
        CLONE_NEWPID,
        CLONE_NEWNET,
        CLONE_NEWTIME,
        PROT_NONE,
        PROT_READ,
        PROT_WRITE,
        PROT_EXEC,
        PROT_GROWSDOWN,
        PROT_GROWSUP,
        MAP_SHARED,
        MAP_PRIVATE,
        MAP_SHARED_VALIDATE,
        MAP_FIXED,
        MAP_ANONYMOUS,
        MAP_ANON,
        MAP_GROWSDOWN,
        MAP_DENYWRITE,
        MAP_EXECUTABLE,
        MAP_LOCKED,
        MAP_NORESERVE,
        MAP_POPULATE,
        MAP_NONBLOCK,
        MAP_STACK,
        MAP_HUGETLB,
        MAP_SYNC,
        MAP_FIXED_NOREPLACE,
        MAP_32BIT,
        MADV_NORMAL,
        MADV_RANDOM,
        MADV_SEQUENTIAL,
        MADV_WILLNEED,
        MADV_DONTNEED,
        MADV_FREE,
        MADV_REMOVE,
        MADV_DONTFORK,
        MADV_DOFORK,
        MADV_MERGEABLE,
        MADV_HUGEPAGE,
        MADV_DONTDUMP,
        MADV_WIPEONFORK,
        MADV_KEEPONFORK,
        MADV_COLD,
        MADV_PAGEOUT,
        MADV_HWPOISON,
        F_DUPFD,
        F_GETFD,
        F_SETFD,
        F_GETFL,
        F_SETFL,
        F_GETLK,
        F_SETLK,
        F_SETLKW,
        F_SETOWN,
        F_GETOWN,
        F_DUPFD_CLOEXEC,
        F_ADD_SEALS,
        F_GET_SEALS,
        F_SEAL_SEAL,
        F_SEAL_WRITE,
        F_OFD_GETLK,
        F_OFD_SETLK,
        F_OFD_SETLKW,
        F_SETPIPE_SZ,
        FD_CLOEXEC,
        PR_SET_PDEATHSIG,
        PR_GET_DUMPABLE,
        PR_SET_DUMPABLE,
        PR_SET_NAME,
        PR_GET_NAME,
        PR_SET_SECCOMP,
        PR_SET_NO_NEW_PRIVS,
        PR_GET_NO_NEW_PRIVS,
        PR_CAPBSET_DROP,
        PR_SET_CHILD_SUBREAPER,
        PR_CAP_AMBIENT,
        PR_SET_MM,
        SIGHUP,
        SIGINT,
        SIGQUIT,
        SIGILL,
        SIGTRAP,
        SIGABRT,
        SIGBUS,
        SIGFPE,
        SIGKILL,
        SIGUSR1,
        SIGSEGV,
        SIGUSR2,
        SIGPIPE,
        SIGALRM,
        SIGTERM,
        SIGCHLD,
        SIGCONT,
        SIGSTOP,
        SIGTSTP,
        SIGSYS,
        SIG_BLOCK,
        SIG_UNBLOCK,
        SIG_SETMASK,
        FUTEX_WAIT,
        FUTEX_WAKE,
        FUTEX_REQUEUE,
        FUTEX_CMP_REQUEUE,
        FUTEX_WAKE_OP,
        FUTEX_LOCK_PI,
        FUTEX_UNLOCK_PI,
        FUTEX_WAIT_BITSET,
        FUTEX_PRIVATE_FLAG,
        FUTEX_CLOCK_REALTIME,
        SECCOMP_SET_MODE_STRICT,
        SECCOMP_SET_MODE_FILTER,
        SECCOMP_GET_ACTION_AVAIL,
        SECCOMP_GET_NOTIF_SIZES,
        SECCOMP_FILTER_FLAG_TSYNC,
        SECCOMP_FILTER_FLAG_LOG,
        SECCOMP_FILTER_FLAG_NEW_LISTENER,
        SECCOMP_RET_KILL_PROCESS,
        SECCOMP_RET_KILL_THREAD,
        SECCOMP_RET_TRAP,
        SECCOMP_RET_ERRNO,
        SECCOMP_RET_USER_NOTIF,
        SECCOMP_RET_TRACE,
        SECCOMP_RET_LOG,
        SECCOMP_RET_ALLOW,
        SECCOMP_USER_NOTIF_FLAG_CONTINUE,
        CLOCK_REALTIME,
        CLOCK_MONOTONIC,
        CLOCK_PROCESS_CPUTIME_ID,
        CLOCK_THREAD_CPUTIME_ID,
        CLOCK_MONOTONIC_RAW,
        CLOCK_BOOTTIME,
        CLOCK_TAI,
        TIMER_ABSTIME,
        RLIMIT_CPU,
        RLIMIT_FSIZE,
        RLIMIT_DATA,
        RLIMIT_STACK,
        RLIMIT_CORE,
        RLIMIT_NOFILE,
        RLIMIT_AS,
        RLIMIT_NPROC,
        RLIMIT_MEMLOCK,
        WNOHANG,
        WUNTRACED,
        WEXITED,
        WCONTINUED,
        WNOWAIT,
        __WALL,
        S_IFMT,
        S_IFSOCK,
        S_IFLNK,
        S_IFREG,
        S_IFBLK,
        S_IFDIR,
        S_IFCHR,
        S_IFIFO,
        S_ISUID,
        S_ISGID,
        S_ISVTX,
        S_IRWXU,
        S_IRUSR,
        S_IWUSR,
        S_IXUSR,
        GRND_NONBLOCK,
        GRND_RANDOM,
        GRND_INSECURE,
        MFD_CLOEXEC,
        MFD_ALLOW_SEALING,
        MFD_HUGETLB,
        EFD_CLOEXEC,
        EFD_NONBLOCK,
        EFD_SEMAPHORE,
        IN_CLOEXEC,
        IN_NONBLOCK,
        TFD_CLOEXEC,
        TFD_NONBLOCK,
        TFD_TIMER_ABSTIME,
        EPOLL_CLOEXEC,
        EPOLL_CTL_ADD,
        EPOLL_CTL_MOD,
        EPOLL_CTL_DEL,
        SEEK_SET,
        SEEK_CUR,
        SEEK_END,
        SEEK_DATA,
        SEEK_HOLE,
        R_OK,
        W_OK,
        X_OK,
        F_OK,
        MS_RDONLY,
        MS_NOSUID,
        MS_NODEV,
        MS_NOEXEC,
        MS_REMOUNT,
        MS_BIND,
        MS_MOVE,
        MS_REC,
        MS_PRIVATE,
        MS_SLAVE,
        MS_SHARED,
        MS_LAZYTIME,
        MNT_FORCE,
        MNT_DETACH,
        MNT_EXPIRE,
        UMOUNT_NOFOLLOW,
        RENAME_NOREPLACE,
        RENAME_EXCHANGE,
        RENAME_WHITEOUT,
        PTRACE_TRACEME,
        PTRACE_PEEKDATA,
        PTRACE_ATTACH,
        PTRACE_SEIZE,
        PTRACE_GETREGS,
        PTRACE_O_TRACESECCOMP,
        PTRACE_EVENT_SECCOMP,
        TCGETS,
        TCSETS,
        TCSETSW,
        TCSETSF,
        TIOCSTI,
        TIOCLINUX,
        TIOCGWINSZ,
        TIOCSWINSZ,
        TIOCGPGRP,
        TIOCSPGRP,
        TIOCSCTTY,
        TIOCNOTTY,
        TIOCGPTN,
        TIOCSPTLCK,
        FIONREAD,
        FIONBIO,
        FIOCLEX,
        FIONCLEX,
        FIOASYNC,
        TIOCEXCL,
        TIOCNXCL,
        TIOCOUTQ,
        TIOCGSID,
        TIOCSETD,
        TIOCGETD,
        TCFLSH,
        TCXONC,
        TCSBRK,
        TIOCMGET,
        TIOCMSET,
        TIOCINQ,
        SIOCGIFCONF,
    );
}
