//! The threads that carry out supervised calls, so that one slow call (a FIFO's open waiting
//! for its writer, a connect to a slow host) never holds up the others — the writer's own
//! open may be the next notification.
//!
//! The main loop copies each call's arguments and checks the notification is still pending;
//! a worker takes the caller's filesystem identity (its own thread's only), walks and acts,
//! takes back the supervisor's, and answers. A worker is started whenever the queued jobs
//! outnumber the idle workers, up to [`MAX_WORKERS`]; past that, jobs wait their turn (so a
//! program with more than that many calls blocked at once, each waiting for a later one,
//! waits for ever).

use std::collections::VecDeque;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex};

use straitjacket_sys::fsops::{self, FsCreds};
use straitjacket_sys::{mem, notify, notify::Reply, signals};

use super::audit::{Audit, Entry};
use super::fs::{FsRequest, FsRules, Outcome, Verdict};
use super::net::{NetRequest, NetRules};

pub const MAX_WORKERS: usize = 64;
/// How many 200 µs rounds [`Pool::settle_abandoned`] waits at most (the main loop stands
/// still meanwhile; a worker that is still not out is interrupted again on the next tick).
const SETTLE_ROUNDS: usize = 100;
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
    /// Carried out: what the request held (the caller's socket, its directories) is let go
    /// before the reply, so the caller never sees the supervisor still holding it (a socket
    /// it closed keeping its name bound, a file it closed counting as open for writing).
    Done,
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
    shared: Arc<Shared>,
    workers: usize,
}

/// The queue and the count of workers waiting for it, under one lock: whether a job will be
/// taken is decided on a consistent view. (Counting idle workers apart from the queue let two
/// jobs submitted in a row both count on the same idle worker; with that worker then blocked
/// in a FIFO's open, the second waited for ever with fewer than [`MAX_WORKERS`] started.)
#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    ready: Condvar,
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Job>,
    /// Workers waiting in [`worker`] for a job.
    idle: usize,
    /// Jobs being carried out: (worker thread id, notification id, listener).
    busy: Vec<(i32, u64, Arc<OwnedFd>)>,
}

impl Default for Pool {
    fn default() -> Self {
        Self::new()
    }
}

impl Pool {
    pub fn new() -> Pool {
        Pool {
            shared: Arc::new(Shared::default()),
            workers: 0,
        }
    }

    pub fn submit(&mut self, job: Job) {
        let Ok(mut st) = self.shared.state.lock() else {
            run(job);
            return;
        };
        st.queue.push_back(job);
        // Every idle worker takes one queued job: a job beyond them needs a new worker.
        let short = st.queue.len() > st.idle;
        drop(st);
        self.shared.ready.notify_one();
        if short && self.workers < MAX_WORKERS {
            let shared = Arc::clone(&self.shared);
            let started = std::thread::Builder::new()
                .name("sj-worker".into())
                .stack_size(256 * 1024)
                .spawn(move || worker(&shared));
            if started.is_ok() {
                self.workers += 1;
            } else if self.workers == 0 {
                // No worker can ever take it: answer here.
                let job = self
                    .shared
                    .state
                    .lock()
                    .ok()
                    .and_then(|mut s| s.queue.pop_back());
                if let Some(job) = job {
                    run(job);
                }
            }
        }
    }
}

impl Pool {
    /// Whether workers are carrying out calls (the main loop then looks at them now and then).
    pub fn busy(&self) -> bool {
        self.shared.state.lock().is_ok_and(|s| !s.busy.is_empty())
    }

    /// Interrupts workers blocked for a caller that left its call (killed, or interrupted by
    /// a signal): a FIFO's open waiting for a writer that will never come would hold its
    /// worker for ever.
    ///
    /// A worker whose reply is in flight looks the same (its notification is no longer
    /// pending); it holds the interrupt back until the reply is taken, then carries on.
    pub fn release_abandoned(&self) {
        self.interrupt_abandoned();
    }

    /// [`Pool::release_abandoned`], returning how many workers were interrupted.
    fn interrupt_abandoned(&self) -> usize {
        let Ok(st) = self.shared.state.lock() else {
            return 0;
        };
        let mut sent = 0;
        for (tid, id, listener) in &st.busy {
            if !notify::id_valid(listener.as_fd(), *id) {
                // Under the lock: the worker is still on this job (it takes the lock to
                // leave it), so the signal reaches the call it is meant for.
                let _ = signals::interrupt(*tid);
                sent += 1;
            }
        }
        sent
    }

    /// Releases workers blocked for callers that left and waits (a little) until they have
    /// left their calls, before a job that opens a FIFO or a device is handed out: a worker
    /// still in a FIFO's open for a killed caller is one of its readers (or writers), and a
    /// new open could pair with it instead of with the program's own peer. The signal is
    /// sent again each round, since one that arrives before the worker's open has begun is
    /// spent without effect.
    pub fn settle_abandoned(&self) {
        const ROUND: std::time::Duration = std::time::Duration::from_micros(200);
        for _ in 0..SETTLE_ROUNDS {
            if self.interrupt_abandoned() == 0 {
                return;
            }
            std::thread::sleep(ROUND);
        }
    }
}

fn worker(shared: &Shared) {
    let me = signals::thread_id();
    let _ = signals::accept_interrupts();
    // A umask of its own, to make a unix socket's file as the caller would (see net).
    let _ = fsops::own_fs_state();
    loop {
        let job = {
            let Ok(mut st) = shared.state.lock() else {
                return;
            };
            loop {
                if let Some(job) = st.queue.pop_front() {
                    break job;
                }
                st.idle += 1;
                st = match shared.ready.wait(st) {
                    Ok(st) => st,
                    Err(_) => return,
                };
                st.idle -= 1;
            }
        };
        let (id, listener) = (job.id, Arc::clone(&job.listener));
        if let Ok(mut st) = shared.state.lock() {
            st.busy.push((me, id, listener));
        }
        run(job);
        if let Ok(mut st) = shared.state.lock() {
            st.busy.retain(|&(t, i, _)| (t, i) != (me, id));
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
    job.work = Work::Done;
    answer(&job, v, Thread::Main);
    None
}

/// Carries out one job and answers it.
pub fn run(mut job: Job) {
    let v = verdict(&job);
    job.work = Work::Done;
    answer(&job, v, Thread::Worker);
}

/// Where a reply is sent from: only a worker accepts the pool's interrupt.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Thread {
    Main,
    Worker,
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
                Work::Net(req) => {
                    let own = &job.rules.own;
                    let other_user = job.creds.as_ref().is_some_and(|c| {
                        (c.fsuid, c.fsgid, &c.groups) != (own.fsuid, own.fsgid, &own.groups)
                    });
                    let fs = job.rules.fs.as_ref();
                    match &job.rules.net {
                        Some(rules) => rules.perform(req, fs, other_user),
                        None => NetRules::anything().perform(req, fs, other_user),
                    }
                }
                // Nothing is left to do; never submitted.
                Work::Done => Verdict {
                    outcome: Outcome::Errno(EACCES),
                    refused: true,
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

fn answer(job: &Job, v: Verdict, from: Thread) {
    let l = job.listener.as_fd();
    let (shown, result) = match v.outcome {
        // Only an inline job defers, and it is submitted instead of answered.
        Outcome::Defer => (false, Err(0)),
        Outcome::Value(x) => (notify::send(l, job.id, Reply::Value(x)).is_ok(), Ok(x)),
        Outcome::Errno(e) => (notify::send(l, job.id, Reply::Errno(e)).is_ok(), Err(e)),
        Outcome::Fd { fd, cloexec } => {
            // The pool's interrupt is for a caller that left: once this reply is under way
            // the notification no longer looks pending, and an interrupt now would end the
            // caller's call with 0 instead of the fd (signals::InterruptsHeld).
            let held = (from == Thread::Worker).then(signals::hold_interrupts);
            let added = notify::add_fd_and_reply(l, job.id, fd.as_fd(), cloexec);
            drop(held);
            match added {
                Ok(n) => (true, Ok(i64::from(n))),
                Err(e) if e.raw_os_error() == Some(ENOENT) => (false, Err(ENOENT)),
                Err(e) => {
                    let e = e.raw_os_error().unwrap_or(EFAULT);
                    (notify::send(l, job.id, Reply::Errno(e)).is_ok(), Err(e))
                }
            }
        }
        Outcome::Write { .. } | Outcome::Writes { .. } => {
            let (at, value) = match v.outcome {
                Outcome::Write { addr, bytes, value } => (vec![(addr, bytes)], value),
                Outcome::Writes { at, value } => (at, value),
                _ => unreachable!("matched above"),
            };
            // The memory is opened first, then the call checked still pending: so what was
            // opened was the caller's (its id cannot have passed to another process yet),
            // and stays the caller's address space whatever happens to the id after.
            let memory = mem::Memory::open(job.tid);
            let write_all = |m: mem::Memory| at.iter().try_for_each(|(a, b)| m.write(*a, b));
            if !notify::id_valid(l, job.id) {
                (false, Err(ENOENT))
            } else if memory.and_then(write_all).is_err() {
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
