# A small policy with conditions, a group and a notify rule.
default kill-process
arch x86_64, i386
allow read if fd == 0
allow write if fd == 1 || fd == 2
allow exit_group, rt_sigreturn
errno(EPERM) socket if family != AF_UNIX
allow mmap if !(prot & PROT_EXEC)
allow openat if (flags & O_ACCMODE) == O_RDONLY
allow @time
notify connect
