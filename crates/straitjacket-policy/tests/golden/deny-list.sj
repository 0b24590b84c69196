# A deny-list: everything allowed but a few calls; io_uring and clone3 handled implicitly.
default allow
kill-process ptrace, process_vm_readv, process_vm_writev
errno(EPERM) mount, umount2, pivot_root, unshare, setns
errno(EPERM) clone if clone_flags & CLONE_NEWUSER
errno(EACCES) open, openat, openat2, creat if 0
