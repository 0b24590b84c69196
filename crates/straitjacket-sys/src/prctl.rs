//! `prctl(2)` operations straitjacket needs.

use std::io;

use crate::last_error;

/// Sets `PR_SET_NO_NEW_PRIVS` on the calling thread (inherited by children, kept across
/// execve, never unset). Required before an unprivileged process may install a filter
/// (`seccomp_prepare_filter`, kernel/seccomp.c).
pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: PR_SET_NO_NEW_PRIVS takes only integer arguments (1, then zeros, which the
    // kernel requires); no memory is passed.
    let r = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) };
    if r == 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

/// Whether `NO_NEW_PRIVS` is set on the calling thread.
pub fn no_new_privs() -> io::Result<bool> {
    // SAFETY: PR_GET_NO_NEW_PRIVS takes no pointer; the extra arguments must be zero.
    let r = unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) };
    if r < 0 {
        Err(last_error())
    } else {
        Ok(r == 1)
    }
}

/// The calling thread's seccomp mode: 0 disabled, 1 strict, 2 filter (`PR_GET_SECCOMP`).
pub fn seccomp_mode() -> io::Result<i32> {
    // SAFETY: PR_GET_SECCOMP takes no pointer; it only returns the mode.
    let r = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) };
    if r < 0 {
        Err(last_error())
    } else {
        Ok(r)
    }
}

/// Makes the calling process a child subreaper (`PR_SET_CHILD_SUBREAPER`): orphaned
/// descendants are reparented to it instead of to init, so it can reap and kill them.
pub fn set_child_subreaper() -> io::Result<()> {
    // SAFETY: integer arguments only.
    let r = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) };
    if r == 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

/// Makes the calling process not dumpable (`PR_SET_DUMPABLE`, 0): processes of the same uid
/// without `CAP_SYS_PTRACE` can then no longer ptrace it, open its `/proc/PID/mem`, or use
/// `process_vm_readv`/`process_vm_writev` on it (`ptrace_may_access`, kernel/ptrace.c, checks
/// `get_dumpable`). Children forked afterwards inherit the flag until they exec, when the
/// kernel makes an ordinary program dumpable again (`begin_new_exec`, fs/exec.c).
pub fn set_not_dumpable() -> io::Result<()> {
    // SAFETY: PR_SET_DUMPABLE takes only integer arguments; no memory is passed.
    let r = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong, 0, 0, 0) };
    if r == 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}
