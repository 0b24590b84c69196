//! The parent of `straitjacket run`: launch, then answer notified calls until the program
//! ends.
//!
//! One loop polls the seccomp listener, the launcher's error pipe (during the launch phase), a
//! signalfd (SIGCHLD, SIGINT, SIGTERM, SIGHUP) and the program's pidfd. Notifications are
//! answered by a [`serve::Server`] (the policy's judgement, apart from the processes); this
//! module owns the processes: the launch, signals, reaping, the watchdog of limits, and how
//! the program ended ([`Outcome`]).
//!
//! - Launch phase: until the error pipe reads EOF (exec succeeded: the kernel closes
//!   close-on-exec fds before the new program runs), the one notification let through
//!   unjudged is the launcher's own execve of the program, by the program's pid; anything
//!   else means the program runs, and from then on the policy decides every call.
//! - If this process dies, the listener closes: pending and later notified calls fail with
//!   ENOSYS, and the program dies of its parent-death signal. Nothing falls through to allow.
//! - The parent is not dumpable (`PR_SET_DUMPABLE` 0) from before the program runs: a program
//!   of the same uid cannot ptrace it or write its memory (`/proc/PID/mem`,
//!   `process_vm_writev`), whatever the policy allows.
//! - The parent is a child subreaper: orphaned descendants come to it, are reaped as they
//!   end, and are killed (SIGKILL) once the main program has ended.

mod audit;
mod copy;
mod fs;
mod net;
mod pool;
mod serve;
mod walk;

use std::collections::HashSet;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use straitjacket_policy::ir::route;
use straitjacket_policy::resolve::settings::{show_ms, LimitKind, Limits, Namespace};
use straitjacket_sys::launch::{self, Launched};
use straitjacket_sys::notify::{self, Reply};
use straitjacket_sys::process::{self, ChildOutcome};
use straitjacket_sys::signals::{self, Waited};
use straitjacket_sys::{pidfd, prctl};

pub use serve::{serve, Mode, Observer, Served};
pub use straitjacket_sys::notify::{Notif, Reply as NotifReply};

use crate::error::SandboxError;
use crate::launch::{launch_failure, Launch};
use crate::outcome::{Denials, Finished, Outcome};
use crate::sandbox::{exec_failure, Sandbox};
use serve::{Answered, Server, Setup};

const SIGSYS: i32 = 31;
const SIGKILL: i32 = 9;
const FORWARDED: [i32; 3] = [2, 15, 1]; // SIGINT, SIGTERM, SIGHUP
const SIGCHLD: i32 = 17;
const SI_KERNEL: i32 = 0x80;
const ENOENT: i32 = 2;
const EINTR: i32 = 4;

fn sys(what: &'static str) -> impl Fn(io::Error) -> SandboxError {
    move |e| SandboxError::launch(format!("{what}: {e}"))
}

/// The processes of one run, and the server answering their notifications.
struct Supervisor<'a> {
    server: Server<'a>,
    /// Stay in the caller's session: a signal from the terminal reached the program already.
    tty: bool,
    /// The child: the program, or the init of its pid namespace (whose end ends them all).
    main_pid: i32,
    pidfd: OwnedFd,
    /// The program, where an init stands above it: its pid and a pidfd (signals are passed
    /// to it directly), and the pipe the init reports its status on.
    program: Option<(i32, OwnedFd)>,
    program_status: Option<OwnedFd>,
    listener: Option<Arc<OwnedFd>>,
    errors: Option<OwnedFd>,
    launch_phase: bool,
    /// The launcher's exec was let through (the one call answered before the policy).
    launch_exec_answered: bool,
    exec_error: Option<io::Error>,
    main_status: Option<ChildOutcome>,
    killed_main: bool,
    /// The program is the init of a new pid namespace (signals it does not catch do nothing).
    pid_ns_init: bool,
    /// A forwarded signal the init did not catch, delivered as SIGKILL: the status to report.
    forwarded_as_kill: Option<i32>,
    watch: Watch,
}

/// The watchdog of the limits that kill the whole tree: the wall clock, the tree's CPU time,
/// resident memory and number of tasks, checked every [`TICK_MS`] while the program runs.
struct Watch {
    limits: Limits,
    deadline: Option<(Instant, u64)>,
    /// Which limit ended the program.
    hit: Option<(LimitHit, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LimitHit {
    Timeout,
    Resource,
}

/// How often the watchdog looks, milliseconds.
const TICK_MS: i32 = 5;
const SIGXCPU: i32 = 24;
const SIGXFSZ: i32 = 25;

/// One process of our tree, from /proc/PID/stat.
struct Proc {
    pid: i32,
    ppid: i32,
    cpu_ticks: u64,
    threads: u64,
    rss_pages: u64,
    /// When it started (clock ticks after boot): with the pid, which process this is.
    start: u64,
}

fn read_stat(pid: i32) -> Option<Proc> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last `)`.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state): field N is f[N - 3].
    let num = |n: usize| f.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    Some(Proc {
        pid,
        ppid: num(4)? as i32,
        cpu_ticks: num(14)? + num(15)?,
        threads: num(20)?,
        rss_pages: num(24)?,
        start: num(22)?,
    })
}

/// Every live process below this one (orphans come to us: we are a subreaper).
fn descendants() -> Vec<Proc> {
    let me = std::process::id() as i32;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let all: Vec<Proc> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(read_stat)
        .collect();
    let mut tree: HashSet<i32> = HashSet::from([me]);
    // Parents may be listed after their children: repeat until nothing is added.
    loop {
        let before = tree.len();
        for p in &all {
            if tree.contains(&p.ppid) {
                tree.insert(p.pid);
            }
        }
        if tree.len() == before {
            break;
        }
    }
    all.into_iter()
        .filter(|p| p.pid != me && tree.contains(&p.pid))
        .collect()
}

impl Watch {
    fn active(&self) -> bool {
        self.deadline.is_some()
            || self.limits.cpu.is_some()
            || self.limits.mem.is_some()
            || self.limits.procs.is_some()
    }

    /// The limit reached now, if any.
    fn check(&self) -> Option<(LimitHit, String)> {
        if let Some((at, ms)) = self.deadline {
            if Instant::now() >= at {
                return Some((
                    LimitHit::Timeout,
                    format!("timeout {} reached", show_ms(ms)),
                ));
            }
        }
        let l = &self.limits;
        if l.cpu.is_none() && l.mem.is_none() && l.procs.is_none() {
            return None;
        }
        let tree = descendants();
        let reached = |k: LimitKind, v: u64| {
            Some((
                LimitHit::Resource,
                format!("{} limit {} reached", k.name(), k.show(v)),
            ))
        };
        if let Some(n) = l.procs {
            if tree.iter().map(|p| p.threads).sum::<u64>() >= n {
                return reached(LimitKind::Procs, n);
            }
        }
        if let Some(m) = l.mem {
            let page = process::page_size();
            if tree.iter().map(|p| p.rss_pages * page).sum::<u64>() >= m {
                return reached(LimitKind::Mem, m);
            }
        }
        if let Some(c) = l.cpu {
            let hz = process::clock_ticks();
            let live: u64 = tree.iter().map(|p| p.cpu_ticks * 1000 / hz).sum();
            if live + process::children_cpu_ms() >= c * 1000 {
                return reached(LimitKind::Cpu, c);
            }
        }
        None
    }
}

/// Starts the sandbox's program from `launch` (prepared from `sb`) and supervises it until
/// it ends: answers its notified calls as `mode` says, forwards SIGINT/SIGTERM/SIGHUP, kills
/// the tree at a limit, and kills what is left when the program has ended. The pids cgroup
/// of `launch` is removed before it returns; the rest of `launch` is left to the caller.
pub fn supervise<'a>(
    sb: &'a Sandbox,
    launch: &mut Launch,
    mode: Mode<'a>,
) -> Result<Finished, SandboxError> {
    let net_rules = if sb.confinement.net_rules() {
        let mut rules = net::NetRules::from_conf(&sb.confinement).map_err(SandboxError::input)?;
        // A direction left to `any` still reaches a unix socket by path only as the fs rules
        // allow, where there are any.
        rules.unix_by_fs = sb.routing.fs;
        Some(rules)
    } else if sb.routing.fs || sb.routing.net {
        Some(net::NetRules::paths_by_fs())
    } else {
        None
    };
    let setup = Setup {
        routing: sb.routing,
        fs_rules: &sb.fs,
        own_pid_ns: sb.namespaces.contains(&Namespace::Pid),
        net_rules,
        carry_out: true,
    };
    let server = Server::new(&sb.policy, mode, &sb.reporting, setup)?;
    let mut sigs = FORWARDED.to_vec();
    sigs.push(SIGCHLD);
    signals::block(&sigs).map_err(sys("blocking signals"))?;
    let sigfd = signals::signalfd(&sigs).map_err(sys("signalfd"))?;
    prctl::set_child_subreaper().map_err(sys("prctl(PR_SET_CHILD_SUBREAPER)"))?;

    let launched: Launched =
        launch::spawn(&launch.plan).map_err(|e| launch_failure(&e, &sb.command.path))?;
    // Before the program runs (it is held at its execve until the loop answers), and after
    // the launch (the child must stay dumpable until the listener is taken from it): the
    // program, of the same uid, must not reach into this process through ptrace,
    // /proc/PID/mem or process_vm_writev and rewrite the decisions made here.
    prctl::set_not_dumpable().map_err(sys("prctl(PR_SET_DUMPABLE)"))?;
    // Files the workers create get the CALLER's umask, applied by hand: the process's own
    // umask (shared by every worker) must not apply a second one.
    straitjacket_sys::fsops::set_umask(0);
    let mut s = Supervisor {
        server,
        tty: !sb.command.new_session,
        main_pid: launched.pid,
        pidfd: launched.pidfd,
        pid_ns_init: sb.namespaces.contains(&Namespace::Pid) && launched.program.is_none(),
        program: launched.program,
        program_status: launched.status,
        listener: Some(Arc::new(launched.listener)),
        errors: Some(launched.errors),
        launch_phase: true,
        launch_exec_answered: false,
        exec_error: None,
        main_status: None,
        killed_main: false,
        forwarded_as_kill: None,
        watch: Watch {
            limits: sb.limits(),
            deadline: sb
                .confinement
                .timeout_ms
                .map(|ms| (Instant::now() + Duration::from_millis(ms), ms)),
            hit: None,
        },
    };
    s.main_loop(&sigfd)?;
    let cgroup = launch.pids_cgroup.take();
    if let (None, Some(cg), Some(n)) = (&s.watch.hit, &cgroup, sb.confinement.limits.procs) {
        if cg.hit_max() {
            s.watch.hit = Some((LimitHit::Resource, format!("procs limit {n} reached")));
        }
    }
    s.kill_leftovers();
    drop(cgroup);
    s.finish(sb)
}

impl Supervisor<'_> {
    fn main_loop(&mut self, sigfd: &OwnedFd) -> Result<(), SandboxError> {
        while self.main_status.is_none() {
            let mut fds = vec![sigfd.as_fd(), self.pidfd.as_fd()];
            let listener_at = self.listener.as_ref().map(|l| {
                fds.push(l.as_fd());
                fds.len() - 1
            });
            let errors_at = self.errors.as_ref().map(|e| {
                fds.push(e.as_fd());
                fds.len() - 1
            });
            let tick = if self.watch.active() {
                TICK_MS
            } else if self.server.pool.busy() {
                serve::RELEASE_MS
            } else {
                -1
            };
            let ready = signals::poll_ready(&fds, tick).map_err(sys("poll"))?;
            drop(fds);
            if self.watch.hit.is_none() {
                if let Some(hit) = self.watch.check() {
                    self.watch.hit = Some(hit);
                    self.kill_tree();
                    continue;
                }
            }
            if ready[0].any() {
                self.signals(sigfd);
            }
            self.server.pool.release_abandoned();
            if ready[1].any() {
                self.reap();
            }
            if let Some(i) = listener_at {
                if ready[i].readable {
                    self.notification();
                }
                if ready[i].hung_up && !ready[i].readable {
                    // No task uses the filter any more, and none can come to (only a task
                    // with the filter can pass it on): nothing will arrive. Polling it
                    // further would spin until the program is reaped.
                    self.listener = None;
                }
            }
            if errors_at.is_some_and(|i| ready[i].any()) {
                self.check_errors();
            }
        }
        Ok(())
    }
    /// Reads the error pipe: a record means exec failed; EOF means the program runs.
    fn check_errors(&mut self) {
        let Some(errors) = &self.errors else { return };
        match launch::read_error_record(errors) {
            Ok(Some((_, e))) => self.exec_error = Some(e),
            Ok(None) => {
                self.launch_phase = false;
                self.errors = None;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => {
                self.launch_phase = false;
                self.errors = None;
            }
        }
    }

    fn signals(&mut self, sigfd: &OwnedFd) {
        while let Ok(Some(info)) = signals::read_signal(sigfd.as_fd()) {
            if info.signo == SIGCHLD {
                self.reap();
                continue;
            }
            // With --tty the program shares our terminal's process group: a signal from
            // the terminal (SI_KERNEL) reached it already.
            if self.tty && info.code == SI_KERNEL {
                continue;
            }
            if self.main_status.is_none() {
                // The init of a pid namespace ignores a signal it has no handler for
                // (pid_namespaces(7)); its default action here would have ended it.
                if self.pid_ns_init && !catches(self.main_pid, info.signo) {
                    self.forwarded_as_kill = Some(info.signo);
                    let _ = pidfd::send_signal(self.pidfd.as_fd(), SIGKILL);
                } else {
                    let to = self.program.as_ref().map_or(&self.pidfd, |(_, fd)| fd);
                    let _ = pidfd::send_signal(to.as_fd(), info.signo);
                }
            }
        }
    }

    fn reap(&mut self) {
        while let Ok(Waited::Reaped(pid, outcome)) = signals::wait_any(false) {
            if pid == self.main_pid {
                // With an init, the program's own status, as the init reported it (none: the
                // init was killed, and the program with it).
                let program = self
                    .program_status
                    .as_ref()
                    .and_then(launch::read_program_status);
                self.main_status = Some(program.unwrap_or(outcome));
            }
        }
    }

    fn notification(&mut self) {
        let Some(listener) = self.listener.take() else {
            return;
        };
        let keep = self.handle(&listener);
        if keep {
            self.listener = Some(listener);
        }
    }

    /// Receives and answers one notification; false if the listener is unusable (dropping
    /// it makes every later notified call fail with ENOSYS: nothing is left blocked).
    fn handle(&mut self, listener: &Arc<OwnedFd>) -> bool {
        let n = match notify::recv(listener.as_fd()) {
            Ok(n) => n,
            Err(e) if matches!(e.raw_os_error(), Some(ENOENT | EINTR)) => return true,
            Err(_) => return false,
        };
        if self.launch_phase {
            self.check_errors();
            // The launcher's own exec of the program, once: the program's namespaces and root
            // are in place, and nothing of it has run yet. Anything else means the program
            // runs (its exec closed the error pipe, whether or not the EOF was seen yet):
            // from then on the policy decides every call.
            let exec = route::EXEC_CALLS.contains(&serve::syscall_name(&serve::seccomp_data(&n)));
            let launcher = self.program.as_ref().map_or(self.main_pid, |(p, _)| *p);
            if self.launch_phase && exec && n.pid as i32 == launcher && !self.launch_exec_answered {
                self.launch_exec_answered = true;
                self.server.setup_rules(n.pid as i32, &self.pidfd);
                let _ = notify::send(listener.as_fd(), n.id, Reply::Continue);
                return true;
            }
            if self.launch_exec_answered {
                self.launch_phase = false;
            }
        }
        match self.server.answer(listener, &n) {
            Answered::Replied => {}
            Answered::Killed { tgid } => {
                let program = self.program.as_ref().map_or(self.main_pid, |(p, _)| *p);
                self.killed_main |= tgid == self.main_pid || tgid == program;
            }
            Answered::KillUnnamed => {
                // The caller is still blocked but cannot be named (not visible in our pid
                // namespace): end the whole program rather than let the call go on or hang.
                self.killed_main |= pidfd::send_signal(self.pidfd.as_fd(), SIGKILL).is_ok();
            }
        }
        true
    }

    /// Kills the whole tree (a limit was reached): SIGKILL to every descendant found in
    /// /proc, again until none is left, reaping as they end.
    fn kill_tree(&mut self) {
        // First the main program: with a pid namespace (as `procs` has) it is the init of the
        // tree, and the kernel kills every other process of the namespace when it ends.
        if self.main_status.is_none() {
            let _ = pidfd::send_signal(self.pidfd.as_fd(), SIGKILL);
        }
        for _ in 0..10_000 {
            let tree = descendants();
            if tree.is_empty() {
                break;
            }
            for p in &tree {
                // By pidfd, and only if the pid still names the process that was listed: it
                // may have been reaped by its parent meanwhile and the pid given to a process
                // outside the tree.
                let Ok(fd) = pidfd::open(p.pid, 0) else {
                    continue;
                };
                if read_stat(p.pid).is_some_and(|now| now.start == p.start) {
                    let _ = pidfd::send_signal(fd.as_fd(), SIGKILL);
                }
            }
            self.reap();
        }
        self.reap();
    }

    /// Kills whatever descendants are left once the main program has ended.
    fn kill_leftovers(&mut self) {
        // The listener stays open until they are gone: a descendant blocked in a notified
        // call stays blocked rather than going on with ENOSYS.
        for _ in 0..100_000 {
            // No children at all means no descendants either (orphans are reparented to
            // this subreaper before their parent can be reaped): /proc need not be read.
            if matches!(signals::wait_any(false), Ok(Waited::NoChildren)) {
                break;
            }
            let kids = children();
            if kids.is_empty() {
                break;
            }
            for &k in &kids {
                let _ = signals::kill_unreaped_child(k, SIGKILL);
            }
            if !matches!(signals::wait_any(true), Ok(Waited::Reaped(..))) {
                break;
            }
        }
        while let Ok(Waited::Reaped(..)) = signals::wait_any(false) {}
        self.listener = None;
    }

    fn finish(&mut self, sb: &Sandbox) -> Result<Finished, SandboxError> {
        if let Some(e) = &self.exec_error {
            return Err(exec_failure(e, &sb.command.path));
        }
        let denied = self.server.report.then_some(Denials {
            calls: self.server.denied,
            shown: self.server.reported.len(),
        });
        let outcome = self.outcome()?;
        Ok(Finished { outcome, denied })
    }

    fn outcome(&self) -> Result<Outcome, SandboxError> {
        if let Some((kind, why)) = &self.watch.hit {
            return Ok(match kind {
                LimitHit::Timeout => Outcome::Timeout(why.clone()),
                LimitHit::Resource => Outcome::Limit(why.clone()),
            });
        }
        let l = self.watch.limits;
        match (self.main_status, l.cpu, l.fsize) {
            (Some(ChildOutcome::Signaled(SIGXCPU)), Some(c), _) => {
                return Ok(Outcome::Limit(format!("cpu limit {c}s reached")));
            }
            (Some(ChildOutcome::Signaled(SIGKILL)), Some(c), _) if !self.killed_main => {
                // RLIMIT_CPU's hard limit: SIGKILL a second after SIGXCPU was ignored.
                return Ok(Outcome::Limit(format!("cpu limit {c}s reached")));
            }
            (Some(ChildOutcome::Signaled(SIGXFSZ)), _, Some(f)) => {
                return Ok(Outcome::Limit(format!(
                    "fsize limit {} reached",
                    LimitKind::Fsize.show(f)
                )));
            }
            _ => {}
        }
        if let (Some(ChildOutcome::Signaled(SIGKILL)), Some(sig)) =
            (self.main_status, self.forwarded_as_kill)
        {
            return Ok(Outcome::Signaled(sig));
        }
        match self.main_status {
            Some(ChildOutcome::Exited(c)) => Ok(Outcome::Exited(c)),
            Some(ChildOutcome::Signaled(SIGKILL)) if self.killed_main => {
                Ok(Outcome::KilledByPolicy)
            }
            Some(ChildOutcome::Signaled(SIGSYS)) => Ok(Outcome::KilledBySigsys),
            Some(ChildOutcome::Signaled(s)) => Ok(Outcome::Signaled(s)),
            None => Err(SandboxError::launch("the program's status was lost")),
        }
    }
}

/// Whether process `pid` has a handler for `sig` (`SigCgt:` in /proc/PID/status).
fn catches(pid: i32, sig: i32) -> bool {
    straitjacket_sys::procfs::ProcStatus::of(pid).is_ok_and(|s| s.catches(sig))
}

/// Our children that have not been reaped (/proc/self/task/*/children).
fn children() -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for t in tasks.flatten() {
        if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
            out.extend(s.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
        }
    }
    out
}
