//! The threads that carry out supervised calls, so that one slow call (a FIFO's open waiting
//! for its writer, a connect to a slow host) never holds up the others — the writer's own
//! open may be the next notification.
//!
//! The main loop copies each call's arguments and checks the notification is still pending;
//! a worker takes the caller's filesystem identity (its own thread's only), walks and acts,
//! takes back the supervisor's, and answers. A worker is started whenever none is idle, up to
//! [`MAX_WORKERS`]; past that, jobs wait their turn.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use straitjacket_sys::fsops::{self, FsCreds};
use straitjacket_sys::{mem, notify, notify::Reply};

use super::audit::{Audit, Entry};
use super::fs::{FsRequest, FsRules, Outcome, Verdict};
use super::net::{NetRequest, NetRules};

pub const MAX_WORKERS: usize = 64;
const EACCES: i32 = 13;
const EFAULT: i32 = 14;
const ENOENT: i32 = 2;

/// The rules the workers apply.
#[derive(Debug)]
pub struct Rules {
    /// `None`: no `fs` rules (a genuine `notify` of a file call is carried out unchecked).
    pub fs: Option<FsRules>,
    pub net: Option<NetRules>,
    /// The supervisor's own identity, taken back after each call.
    pub own: FsCreds,
}

#[derive(Debug)]
pub enum Work {
    Fs(FsRequest),
    Net(NetRequest),
}

/// One call to carry out.
#[derive(Debug)]
pub struct Job {
    pub id: u64,
    pub tid: i32,
    pub listener: Arc<OwnedFd>,
    /// The caller's identity, when it differs from the supervisor's.
    pub creds: Option<FsCreds>,
    pub work: Work,
    pub rules: Arc<Rules>,
    pub entry: Entry,
    pub audit: Option<Arc<Audit>>,
    /// Print a line for calls the rules refuse (`--report`).
    pub report: bool,
}

#[derive(Debug)]
pub struct Pool {
    tx: Sender<Job>,
    rx: Arc<Mutex<Receiver<Job>>>,
    idle: Arc<AtomicUsize>,
    workers: usize,
}

impl Default for Pool {
    fn default() -> Self {
        Self::new()
    }
}

impl Pool {
    pub fn new() -> Pool {
        let (tx, rx) = channel();
        Pool {
            tx,
            rx: Arc::new(Mutex::new(rx)),
            idle: Arc::new(AtomicUsize::new(0)),
            workers: 0,
        }
    }

    pub fn submit(&mut self, job: Job) {
        if self.idle.load(Ordering::SeqCst) == 0 && self.workers < MAX_WORKERS {
            let rx = Arc::clone(&self.rx);
            let idle = Arc::clone(&self.idle);
            let started = std::thread::Builder::new()
                .name("sj-worker".into())
                .stack_size(256 * 1024)
                .spawn(move || worker(&rx, &idle));
            if started.is_ok() {
                self.workers += 1;
            }
        }
        if let Err(e) = self.tx.send(job) {
            // No worker can ever take it (none could be started): answer here.
            run(e.0);
        }
    }
}

fn worker(rx: &Mutex<Receiver<Job>>, idle: &AtomicUsize) {
    loop {
        idle.fetch_add(1, Ordering::SeqCst);
        let job = {
            let Ok(rx) = rx.lock() else { return };
            rx.recv()
        };
        idle.fetch_sub(1, Ordering::SeqCst);
        match job {
            Ok(job) => run(job),
            Err(_) => return,
        }
    }
}

/// Carries out a job in the calling thread, unless it may block: then it comes back, to be
/// submitted to the pool.
pub fn run_inline(mut job: Job) -> Option<Job> {
    let v = verdict(&job);
    if matches!(v.outcome, Outcome::Defer) {
        if let Work::Fs(req) = &mut job.work {
            req.inline = false;
        }
        return Some(job);
    }
    answer(&job, v);
    None
}

/// Carries out one job and answers it.
pub fn run(job: Job) {
    let v = verdict(&job);
    answer(&job, v);
}

fn verdict(job: &Job) -> Verdict {
    let verdict = match &job.creds {
        Some(c) if fsops::set_thread_creds(c).is_err() => {
            // The caller's identity cannot be taken on: acting with ours could do more than
            // the caller may.
            let _ = fsops::set_thread_creds(&job.rules.own);
            Verdict {
                outcome: Outcome::Errno(EACCES),
                refused: true,
            }
        }
        _ => {
            let v = match &job.work {
                Work::Fs(req) => match &job.rules.fs {
                    Some(rules) => rules.perform(req),
                    None => FsRules::unrestricted().perform(req),
                },
                Work::Net(req) => match &job.rules.net {
                    Some(rules) => rules.perform(req, job.rules.fs.as_ref()),
                    None => NetRules::anything().perform(req, job.rules.fs.as_ref()),
                },
            };
            if job.creds.is_some() && fsops::set_thread_creds(&job.rules.own).is_err() {
                // Never act with a caller's identity for another caller: end this worker's
                // usefulness loudly rather than carry on.
                eprintln!("straitjacket: a worker could not take back its own identity");
                std::process::abort();
            }
            v
        }
    };
    verdict
}

fn answer(job: &Job, v: Verdict) {
    let l = job.listener.as_fd();
    let (shown, result) = match v.outcome {
        // Only an inline job defers, and it is submitted instead of answered.
        Outcome::Defer => (false, Err(0)),
        Outcome::Value(x) => (notify::send(l, job.id, Reply::Value(x)).is_ok(), Ok(x)),
        Outcome::Errno(e) => (notify::send(l, job.id, Reply::Errno(e)).is_ok(), Err(e)),
        Outcome::Fd { fd, cloexec } => {
            match notify::add_fd_and_reply(l, job.id, fd.as_fd(), cloexec) {
                Ok(n) => (true, Ok(i64::from(n))),
                Err(e) if e.raw_os_error() == Some(ENOENT) => (false, Err(ENOENT)),
                Err(e) => {
                    let e = e.raw_os_error().unwrap_or(EFAULT);
                    (notify::send(l, job.id, Reply::Errno(e)).is_ok(), Err(e))
                }
            }
        }
        Outcome::Write { addr, bytes, value } => {
            // Still pending: the thread is still in this call, its memory is its own.
            if !notify::id_valid(l, job.id) {
                (false, Err(ENOENT))
            } else if mem::write(job.tid, addr, &bytes).is_err() {
                (
                    notify::send(l, job.id, Reply::Errno(EFAULT)).is_ok(),
                    Err(EFAULT),
                )
            } else {
                (
                    notify::send(l, job.id, Reply::Value(value)).is_ok(),
                    Ok(value),
                )
            }
        }
    };
    if !shown {
        return;
    }
    if v.refused && job.report {
        eprintln!(
            "straitjacket: denied {} — {}",
            job.entry.call, job.entry.why_refused
        );
    }
    if let Some(a) = &job.audit {
        a.record(&job.entry, result, v.refused);
    }
}
