# A pure computation over inherited descriptors: read and write what is already open,
# allocate memory, tell the time, exit. No open, no sockets, no exec, no new processes.
# Static binaries run; a dynamic one cannot load its libraries (no open).
default kill-process
allow read, write, readv, writev, pread64, pwrite64, close, fstat, lseek, dup, dup2, dup3
allow fcntl if cmd == F_GETFL || cmd == F_GETFD || cmd == F_SETFD || cmd == F_DUPFD_CLOEXEC
allow brk, munmap, madvise, mremap
# Anonymous, non-executable memory only.
allow mmap if (flags & MAP_ANONYMOUS) && !(prot & PROT_EXEC)
allow mprotect if !(prot & PROT_EXEC)
allow @time
allow rt_sigaction, rt_sigprocmask, rt_sigreturn, sigaltstack
allow exit, exit_group, getpid, gettid, getrandom, futex, set_robust_list, rseq, arch_prctl
allow set_tid_address, sched_yield, sched_getaffinity, uname
# Its own limits only: prlimit64 on another pid could lower an outside process's limits.
allow prlimit64 if pid == 0
