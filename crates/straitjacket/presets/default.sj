# straitjacket's default policy: what `straitjacket run -- CMD` uses when no policy is given.
#
# Real, dynamically linked programs run: shells, coreutils, python3, compilers and linkers,
# git, tar, curl. Modelled on Docker's default profile (an allowlist, EPERM for the rest), and
# tighter: no ptrace or process_vm_*, no new namespaces, no io_uring, no keyrings, no terminal
# injection (TIOCSTI, TIOCLINUX), no personality changes that weaken ASLR.
# Everything not listed answers EPERM, so programs that probe for a feature carry on.
# Beyond this filter, `run` gives every program its own pid, IPC and UTS namespaces (the
# host's processes and System V IPC are out of reach; `--share` gives them back).

default errno(EPERM)

# Another process's resource limits and robust futex list stay its own (@default allows both
# calls for the caller itself: libc's getrlimit and setrlimit are prlimit64 on pid 0). The
# first rule that matches decides, so these come first.
errno(EPERM) prlimit64 if pid != 0 && new_rlim != NULL
errno(EPERM) get_robust_list if pid != 0

# Start, run libc, exit.
allow @default

# Files: read, write, create, remove, inspect; descriptors, pipes, polling, events.
allow @basic-io, @file-read, @file-write, @ipc
allow @memory
allow @time
allow @signal

# Processes: fork, exec, wait; thread creation with no new namespaces.
allow fork, vfork, execve, execveat, wait4, waitid, exit, exit_group
allow clone if !(clone_flags & (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME))
allow getpid, getppid, gettid, getpgid, setpgid, getpgrp, getsid, setsid, set_tid_address
allow kill, tkill, tgkill, pidfd_open, pidfd_send_signal, process_mrelease
# Calls that change another process act on the caller only (pid or who 0; a process group of
# its own session): outside processes, the supervisor among them, keep their limits, nice
# value, I/O priority, CPU affinity and scheduling. Reading them stays allowed.
allow getpriority, ioprio_get, sched_getaffinity, sched_getparam, sched_getscheduler
allow sched_get_priority_max, sched_get_priority_min, sched_rr_get_interval, sched_yield
allow sched_getattr
allow setpriority if who == 0 && which != 2     # 2: PRIO_USER, every process of the user
allow ioprio_set if who == 0 && which != 3      # 3: IOPRIO_WHO_USER
allow sched_setaffinity, sched_setparam, sched_setscheduler, sched_setattr if pid == 0
allow getrusage, times, getrlimit, setrlimit, sysinfo, uname, umask
allow getuid, geteuid, getgid, getegid, getresuid, getresgid, getgroups
allow setuid, setgid, setreuid, setregid, setresuid, setresgid, setfsuid, setfsgid, setgroups
allow capget, capset
allow prctl, arch_prctl, set_robust_list, get_robust_list, rseq, restart_syscall
allow getcpu, getrandom, memfd_create, membarrier, mincore
allow seccomp, landlock_create_ruleset, landlock_add_rule, landlock_restrict_self
allow name_to_handle_at, fanotify_mark, readahead, sync_file_range, cachestat
allow io_setup, io_destroy, io_submit, io_cancel, io_getevents, io_pgetevents

# Only personalities that keep ASLR (PER_LINUX, PER_LINUX32, UNAME26 variants) and the query.
allow personality if personality == 0 || personality == 8 || personality == 0x20000 || personality == 0x20008 || personality == 0xffffffff

# Terminals: every ioctl but injecting input into, or reconfiguring, the caller's terminal;
# and not USERFAULTFD_IOC_NEW (0xaa00) on /dev/userfaultfd, the device form of the userfaultfd
# call denied below (a page the program never fills would stall whoever reads it).
allow ioctl if cmd != TIOCSTI && cmd != TIOCLINUX && cmd != 0xaa00

# Sockets: every family but AF_ALG (kernel crypto) and AF_VSOCK, as Docker. The other calls of
# @network-io are listed without `socket`: an unconditional `allow socket` after this rule
# would allow those two families too (the first rule that matches decides).
allow socket if family != AF_ALG && family != AF_VSOCK
allow socketpair, connect, bind, listen, accept, accept4, getsockname, getpeername
allow getsockopt, setsockopt, sendto, recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg, shutdown

# Denied explicitly (also denied by the default; listed so `explain` names the reason):
errno(EPERM) ptrace, process_vm_readv, process_vm_writev, kcmp, pidfd_getfd
errno(EPERM) @mount, @module, unshare, setns
errno(EPERM) bpf, perf_event_open, userfaultfd, keyctl, add_key, request_key
errno(EPERM) reboot, kexec_load, kexec_file_load, swapon, swapoff, acct, quotactl, quotactl_fd
errno(EPERM) settimeofday, clock_settime, clock_adjtime, adjtimex
errno(EPERM) iopl, ioperm, syslog, vhangup, sethostname, setdomainname
errno(ENOSYS) io_uring_setup, io_uring_enter, io_uring_register
