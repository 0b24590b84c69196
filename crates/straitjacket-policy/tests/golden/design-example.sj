# The example policy of DESIGN.md (without its fs rules and include).
default kill-process
arch x86_64, i386
allow read if fd == 0
allow write if fd == 1 || fd == 2
allow exit_group, rt_sigreturn
allow gettimeofday if tz == NULL
errno(EPERM) socket if family != AF_UNIX
allow mmap if !(prot & PROT_EXEC)
allow openat if (flags & O_ACCMODE) == O_RDONLY
allow @basic-io
notify openat
