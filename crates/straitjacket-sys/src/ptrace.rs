//! Reading the seccomp filters of another process: `PTRACE_SECCOMP_GET_FILTER`
//! (kernel/seccomp.c `seccomp_get_filter`, needs CONFIG_CHECKPOINT_RESTORE).
//!
//! The kernel requires the caller to have CAP_SYS_ADMIN and to be unfiltered itself, and the
//! target to be a stopped tracee. We attach with `PTRACE_SEIZE` (which does not send a
//! signal), stop it with `PTRACE_INTERRUPT`, read filter 0, 1, … (0 is the oldest) until
//! ENOENT, and always detach.

use std::fmt;
use std::io;

use crate::last_error;

/// `PTRACE_SECCOMP_GET_FILTER` (include/uapi/linux/ptrace.h).
const PTRACE_SECCOMP_GET_FILTER: libc::c_uint = 0x420c;
const PTRACE_SEIZE: libc::c_uint = 0x4206;
const PTRACE_INTERRUPT: libc::c_uint = 0x4207;
const PTRACE_DETACH: libc::c_uint = 17;

/// Why the filters could not be read.
#[derive(Debug)]
pub enum DumpError {
    /// EPERM/EACCES: attaching or reading filters needs CAP_SYS_ADMIN (and an unfiltered
    /// caller).
    NeedCapSysAdmin(io::Error),
    /// ESRCH: no such process.
    NoSuchProcess(i32),
    /// EMEDIUMTYPE: the filter is not classic BPF.
    NotClassic { index: usize },
    /// Anything else, with the step that failed.
    Io {
        step: &'static str,
        source: io::Error,
    },
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DumpError::NeedCapSysAdmin(e) => write!(
                f,
                "reading seccomp filters needs CAP_SYS_ADMIN (run as root) and an unfiltered caller ({e})"
            ),
            DumpError::NoSuchProcess(pid) => write!(f, "no process with id {pid}"),
            DumpError::NotClassic { index } => {
                write!(f, "filter {index} is not a classic BPF program")
            }
            DumpError::Io { step, source } => write!(f, "{step}: {source}"),
        }
    }
}

impl std::error::Error for DumpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DumpError::NeedCapSysAdmin(e) | DumpError::Io { source: e, .. } => Some(e),
            _ => None,
        }
    }
}

fn classify(step: &'static str, pid: i32, e: io::Error) -> DumpError {
    match e.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => DumpError::NeedCapSysAdmin(e),
        Some(libc::ESRCH) => DumpError::NoSuchProcess(pid),
        _ => DumpError::Io { step, source: e },
    }
}

/// A ptrace request whose `addr` is an integer and whose `data` is null (SEIZE with no
/// options, INTERRUPT, DETACH with no signal, SECCOMP_GET_FILTER asking for the count).
fn ptrace(req: libc::c_uint, pid: i32, addr: usize) -> libc::c_long {
    // SAFETY: with a null `data` none of these requests reads or writes our memory; `addr` is
    // an integer for all of them.
    unsafe {
        libc::ptrace(
            req as _,
            pid,
            addr as *mut libc::c_void,
            std::ptr::null_mut::<libc::c_void>(),
        )
    }
}

/// Detaches on drop.
struct Attached(i32);

impl Drop for Attached {
    fn drop(&mut self) {
        ptrace(PTRACE_DETACH, self.0, 0);
    }
}

/// The raw bytes of every seccomp filter of process `pid`, oldest first. A process without
/// filters gives an empty list.
pub fn get_seccomp_filters(pid: i32) -> Result<Vec<Vec<u8>>, DumpError> {
    if ptrace(PTRACE_SEIZE, pid, 0) != 0 {
        return Err(classify("PTRACE_SEIZE", pid, last_error()));
    }
    let attached = Attached(pid);
    if ptrace(PTRACE_INTERRUPT, pid, 0) != 0 {
        return Err(classify("PTRACE_INTERRUPT", pid, last_error()));
    }
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `status` is a live, writable c_int for the duration of the call.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if r < 0 {
            let e = last_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(classify("waitpid", pid, e));
        }
        if libc::WIFSTOPPED(status) {
            break;
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            return Err(DumpError::NoSuchProcess(pid));
        }
    }
    let mut filters = Vec::new();
    for index in 0usize.. {
        let n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index);
        if n < 0 {
            let e = last_error();
            match e.raw_os_error() {
                // ENOENT: past the last filter; EINVAL: not in filter mode at all.
                Some(libc::ENOENT | libc::EINVAL) => break,
                Some(libc::EMEDIUMTYPE) => return Err(DumpError::NotClassic { index }),
                _ => return Err(classify("PTRACE_SECCOMP_GET_FILTER", pid, e)),
            }
        }
        let count = usize::try_from(n).unwrap_or(0);
        let mut buf = vec![0u8; count * 8];
        // SAFETY: `buf` is a live, writable buffer of `count` records, and the kernel writes
        // exactly the filter's length, which it just reported as `count` (an attached filter
        // never changes).
        let got = unsafe {
            libc::ptrace(
                PTRACE_SECCOMP_GET_FILTER as _,
                pid,
                index as *mut libc::c_void,
                buf.as_mut_ptr().cast::<libc::c_void>(),
            )
        };
        if got < 0 {
            return Err(classify("PTRACE_SECCOMP_GET_FILTER", pid, last_error()));
        }
        // Filters are immutable once attached, so the count cannot have changed.
        buf.truncate(usize::try_from(got).unwrap_or(0) * 8);
        filters.push(buf);
    }
    drop(attached);
    Ok(filters)
}
