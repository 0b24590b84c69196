//! Signals for a supervisor: block them and read them from a `signalfd`, reap children
//! without blocking, signal a child that has not been reaped.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::last_error;
use crate::process::ChildOutcome;

fn sigset(sigs: &[i32]) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it fully before use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a live sigset_t; both calls only write into it.
    unsafe {
        libc::sigemptyset(&mut set);
        for &s in sigs {
            libc::sigaddset(&mut set, s);
        }
    }
    set
}

/// Blocks `sigs` in the calling thread (so they queue for a signalfd instead of running
/// their default action). Children inherit the mask; the launcher clears it before exec.
pub fn block(sigs: &[i32]) -> io::Result<()> {
    let set = sigset(sigs);
    // SAFETY: `set` is a live, initialised sigset_t; the old mask is not requested.
    let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(r))
    }
}

/// The signal that interrupts a worker thread blocked for a caller that went away.
pub const INTERRUPT: i32 = libc::SIGURG;

extern "C" fn on_interrupt(_: libc::c_int) {}

/// Makes [`INTERRUPT`] interrupt a blocking call of the thread it is sent to (EINTR: a
/// handler that does nothing, without SA_RESTART) and lets the calling thread receive it.
/// The supervisor's other threads keep it blocked.
pub fn accept_interrupts() -> io::Result<()> {
    // SAFETY: an all-zero sigaction is a valid value; the fields are set below.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = on_interrupt as *const () as usize;
    sa.sa_flags = 0;
    // SAFETY: `sa` is live and initialised; the handler does nothing, so it is
    // async-signal-safe; the old action is not requested.
    if unsafe { libc::sigaction(INTERRUPT, &sa, std::ptr::null_mut()) } != 0 {
        return Err(last_error());
    }
    let set = sigset(&[INTERRUPT]);
    // SAFETY: `set` is a live, initialised sigset_t.
    let r = unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(r))
    }
}

/// [`INTERRUPT`] held back in the calling thread until the guard is dropped; a signal sent
/// meanwhile stays pending and arrives then.
///
/// For a worker whose reply is in flight: an `ADDFD` with `SEND` marks the notification
/// replied before the caller has taken the fd (so it no longer looks pending, as a caller
/// that left does) and then waits for the caller; interrupted there, it withdraws the fd and
/// the kernel ends the caller's call with 0 — an open "returning" fd 0.
#[derive(Debug)]
#[must_use = "interrupts are accepted again when the guard is dropped"]
pub struct InterruptsHeld(bool);

/// Holds back [`INTERRUPT`] (see [`InterruptsHeld`]).
pub fn hold_interrupts() -> io::Result<InterruptsHeld> {
    let set = sigset(&[INTERRUPT]);
    let mut old = sigset(&[]);
    // SAFETY: `set` and `old` are live, initialised sigset_t values.
    let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old) };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    // SAFETY: `old` was filled in by pthread_sigmask.
    let was_blocked = unsafe { libc::sigismember(&old, INTERRUPT) } == 1;
    Ok(InterruptsHeld(!was_blocked))
}

impl Drop for InterruptsHeld {
    fn drop(&mut self) {
        if self.0 {
            let set = sigset(&[INTERRUPT]);
            // SAFETY: `set` is a live, initialised sigset_t; the old mask is not requested.
            unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
        }
    }
}

/// The calling thread's id.
pub fn thread_id() -> i32 {
    // SAFETY: gettid cannot fail.
    unsafe { libc::gettid() }
}

/// Sends [`INTERRUPT`] to thread `tid` of this process.
pub fn interrupt(tid: i32) -> io::Result<()> {
    // SAFETY: integers only; tgkill reaches only a thread of this process.
    let r = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, INTERRUPT) };
    if r < 0 {
        Err(last_error())
    } else {
        Ok(())
    }
}

/// A non-blocking, close-on-exec signalfd for `sigs` (which must be blocked).
pub fn signalfd(sigs: &[i32]) -> io::Result<OwnedFd> {
    let set = sigset(sigs);
    // SAFETY: `set` is a live sigset_t the kernel copies; -1 asks for a new fd.
    let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
    if fd < 0 {
        return Err(last_error());
    }
    // SAFETY: signalfd returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// One signal read from a signalfd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    pub signo: i32,
    /// `si_code`: SI_USER (0) from kill(2), SI_KERNEL (0x80) from the kernel (a terminal).
    pub code: i32,
    pub pid: u32,
}

/// Reads the next pending signal, `None` when there is none.
pub fn read_signal(fd: BorrowedFd<'_>) -> io::Result<Option<SigInfo>> {
    // SAFETY: signalfd_siginfo is plain data; all-zero is a valid value.
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    let size = size_of::<libc::signalfd_siginfo>();
    // SAFETY: `info` is live and writable for `size` bytes.
    let r = unsafe {
        libc::read(
            fd.as_raw_fd(),
            (&mut info as *mut libc::signalfd_siginfo).cast(),
            size,
        )
    };
    if r < 0 {
        let e = last_error();
        return match e.raw_os_error() {
            Some(libc::EAGAIN) => Ok(None),
            _ => Err(e),
        };
    }
    if r as usize != size {
        return Ok(None);
    }
    Ok(Some(SigInfo {
        signo: info.ssi_signo as i32,
        code: info.ssi_code,
        pid: info.ssi_pid,
    }))
}

/// What [`wait_any`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waited {
    Reaped(i32, ChildOutcome),
    /// Children exist but none has ended (only without blocking).
    NoneEnded,
    NoChildren,
}

/// Reaps one child that has ended, blocking for one if `block`.
pub fn wait_any(block: bool) -> io::Result<Waited> {
    loop {
        let mut status: libc::c_int = 0;
        let flags = if block { 0 } else { libc::WNOHANG };
        // SAFETY: `status` is a live, writable c_int.
        let pid = unsafe { libc::waitpid(-1, &mut status, flags) };
        if pid < 0 {
            let e = last_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ECHILD) => return Ok(Waited::NoChildren),
                _ => return Err(e),
            }
        }
        if pid == 0 {
            return Ok(Waited::NoneEnded);
        }
        if libc::WIFEXITED(status) {
            return Ok(Waited::Reaped(
                pid,
                ChildOutcome::Exited(libc::WEXITSTATUS(status)),
            ));
        }
        if libc::WIFSIGNALED(status) {
            return Ok(Waited::Reaped(
                pid,
                ChildOutcome::Signaled(libc::WTERMSIG(status)),
            ));
        }
    }
}

/// Sends `sig` to `pid`. Only for a child of ours that has not been reaped: until we reap it
/// its id cannot be reused, so the signal reaches the process we mean.
pub fn kill_unreaped_child(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: integer arguments; the caller guarantees `pid` is an unreaped child.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

/// What `poll(2)` said of one fd.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ready {
    /// Data (or a notification) can be read.
    pub readable: bool,
    /// The other end is gone (`POLLHUP`) or the fd is in error: it will never become
    /// readable again once drained — a seccomp listener says so when no task uses its filter.
    pub hung_up: bool,
}

impl Ready {
    /// Anything to look at: readable, hung up or in error.
    pub fn any(self) -> bool {
        self.readable || self.hung_up
    }
}

/// `poll(2)` on a few fds for readability; returns which are ready (readable, hung up or in
/// error), in order. `timeout_ms` < 0 waits forever. EINTR gives all-false.
pub fn poll_readable(fds: &[BorrowedFd<'_>], timeout_ms: i32) -> io::Result<Vec<bool>> {
    Ok(poll_ready(fds, timeout_ms)?
        .into_iter()
        .map(Ready::any)
        .collect())
}

/// As [`poll_readable`], telling readable from hung up.
pub fn poll_ready(fds: &[BorrowedFd<'_>], timeout_ms: i32) -> io::Result<Vec<Ready>> {
    let us = if timeout_ms < 0 {
        None
    } else {
        Some(i64::from(timeout_ms) * 1000)
    };
    poll_ready_us(fds, us)
}

/// As [`poll_readable`], with the timeout in microseconds (`None`: none).
pub fn poll_readable_us(fds: &[BorrowedFd<'_>], timeout_us: Option<i64>) -> io::Result<Vec<bool>> {
    Ok(poll_ready_us(fds, timeout_us)?
        .into_iter()
        .map(Ready::any)
        .collect())
}

/// As [`poll_ready`], with the timeout in microseconds (`None`: none).
pub fn poll_ready_us(fds: &[BorrowedFd<'_>], timeout_us: Option<i64>) -> io::Result<Vec<Ready>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|f| libc::pollfd {
            fd: f.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ts = timeout_us.map(|us| libc::timespec {
        tv_sec: us / 1_000_000,
        tv_nsec: (us % 1_000_000) * 1000,
    });
    let tp = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `pfds` is a live array of `pfds.len()` pollfd records the kernel reads and
    // writes (revents) during the call; `tp` is null or points at a live timespec; no signal
    // mask is passed.
    let r = unsafe {
        libc::ppoll(
            pfds.as_mut_ptr(),
            pfds.len() as libc::nfds_t,
            tp,
            std::ptr::null(),
        )
    };
    if r < 0 {
        let e = last_error();
        if e.raw_os_error() == Some(libc::EINTR) {
            return Ok(vec![Ready::default(); fds.len()]);
        }
        return Err(e);
    }
    Ok(pfds
        .iter()
        .map(|p| Ready {
            readable: p.revents & libc::POLLIN != 0,
            hung_up: p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::time::Duration;

    /// Whether [`INTERRUPT`] is pending for the calling thread.
    fn interrupt_pending() -> bool {
        let mut set = sigset(&[]);
        // SAFETY: `set` is a live sigset_t the call fills in.
        assert_eq!(unsafe { libc::sigpending(&mut set) }, 0);
        // SAFETY: `set` was filled in by sigpending.
        unsafe { libc::sigismember(&set, INTERRUPT) == 1 }
    }

    #[test]
    fn held_interrupts_wait_for_the_guard_and_then_arrive() {
        // In a thread of its own: the signal and the mask are this thread's alone.
        std::thread::spawn(|| {
            accept_interrupts().unwrap();
            let (mut r, _w) = std::os::unix::net::UnixStream::pair().unwrap();
            let mut byte = [0u8; 1];
            let held = hold_interrupts().unwrap();
            interrupt(thread_id()).unwrap();
            // A blocking call under the guard is not cut short: it times out.
            r.set_read_timeout(Some(Duration::from_millis(30))).unwrap();
            let e = r.read(&mut byte).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "{e}");
            assert!(interrupt_pending(), "the interrupt waits");
            drop(held);
            assert!(!interrupt_pending(), "and arrives once the guard is gone");
            // Without the guard the same call is interrupted (sent from another thread: sent
            // to itself, it would arrive as the sending call returns).
            r.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let me = thread_id();
            let sender = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                interrupt(me).unwrap();
            });
            let e = r.read(&mut byte).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::Interrupted, "{e}");
            sender.join().unwrap();
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_guard_where_interrupts_were_blocked_leaves_them_blocked() {
        std::thread::spawn(|| {
            block(&[INTERRUPT]).unwrap();
            drop(hold_interrupts().unwrap());
            interrupt(thread_id()).unwrap();
            assert!(interrupt_pending(), "still blocked after the guard");
        })
        .join()
        .unwrap();
    }
}
