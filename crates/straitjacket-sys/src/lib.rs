//! The only crate of straitjacket with `unsafe`: thin, typed wrappers over the kernel.
//! Every `unsafe` block is small and carries a `// SAFETY:` line saying why it holds.
//!
//! The types here are independent of `straitjacket-policy`: filters travel as raw 8-byte
//! `struct sock_filter` records (`[u8; 8]`, host byte order), so the pure crate stays free
//! of libc and this one free of policy logic.

pub mod fdpass;
pub mod fsops;
pub mod guest;
pub mod landlock;
pub mod launch;
pub mod mem;
pub mod notify;
pub mod pidfd;
pub mod prctl;
pub mod process;
pub mod procfs;
pub mod ptrace;
pub mod seccomp;
pub mod signals;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

/// The last OS error as an `io::Error` (errno read right after a failed call).
pub(crate) fn last_error() -> std::io::Error {
    std::io::Error::last_os_error()
}
