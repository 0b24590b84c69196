//! The parent of `straitjacket run`: launch, then answer notified calls until the program
//! ends.
//!
//! One loop polls the seccomp listener, the launcher's error pipe (during the launch phase), a
//! signalfd (SIGCHLD, SIGINT, SIGTERM, SIGHUP) and the program's pidfd.
//!
//! - Launch phase: until the error pipe reads EOF (exec succeeded: the kernel closes
//!   close-on-exec fds before the new program runs), every notification comes from the
//!   launcher's own code (its execve, or its error report) and is answered CONTINUE.
//! - Then each notification is decided by the ORIGINAL policy (`eval::decide` on its
//!   `seccomp_data`): allow → CONTINUE (the decision depended on registers only), except
//!   for calls routed here by `fs` or `net` rules (and genuine `notify` rules of such
//!   calls): those are copied ([`copy`]) and carried out by a worker ([`pool`]) under the
//!   rules ([`fs`], [`net`]) — never CONTINUE, since the decision looked at memory; errno →
//!   that errno (and a line with `--report`); kill → a line, then SIGKILL through a pidfd of
//!   the calling thread, opened and checked against `SECCOMP_IOCTL_NOTIF_ID_VALID` so it is
//!   the right thread. The thread stays blocked in the kernel until it dies: it never runs on.
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
mod walk;

use std::collections::HashSet;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use straitjacket_policy::resolve::settings::{show_ms, LimitKind, Limits, Namespace};

use pool::Work;
use straitjacket_sys::process;

use straitjacket_policy::action::Action;
use straitjacket_policy::bpf::SeccompData;
use straitjacket_policy::decode;
use straitjacket_policy::diag::FileId;
use straitjacket_policy::ir::eval;
use straitjacket_policy::ir::route::{self, Routing};
use straitjacket_policy::ir::Rule;
use straitjacket_policy::supervised;
use straitjacket_sys::launch::{self, Plan};
use straitjacket_sys::notify::{self, Notif, Reply};
use straitjacket_sys::process::ChildOutcome;
use straitjacket_sys::signals::{self, Waited};
use straitjacket_sys::{mem, pidfd, prctl};

use crate::confine::Confined;
use crate::failure::Failure;
use crate::policy_file::PolicyFile;
use crate::run::{self, RunOptions, EXIT_KILLED_BY_POLICY, EXIT_LAUNCH};

const SIGSYS: i32 = 31;
const SIGKILL: i32 = 9;
const FORWARDED: [i32; 3] = [2, 15, 1]; // SIGINT, SIGTERM, SIGHUP
const SIGCHLD: i32 = 17;
const SI_KERNEL: i32 = 0x80;
const ENOENT: i32 = 2;
const EINTR: i32 = 4;
const EACCES: i32 = 13;
const ENOSYS: i32 = 38;

fn sys(what: &'static str) -> impl Fn(io::Error) -> Failure {
    move |e| Failure::with_code(EXIT_LAUNCH, format!("{what}: {e}"))
}

struct Supervisor<'a> {
    pf: &'a PolicyFile,
    /// Answers every call after the launch phase instead of the policy (`learn`).
    observer: Option<&'a mut dyn Observer>,
    report: bool,
    tty: bool,
    /// The child: the program, or the init of its pid namespace (whose end ends them all).
    main_pid: i32,
    pidfd: OwnedFd,
    /// The program, where an init stands above it: its pid and a pidfd (signals are passed
    /// to it directly), and the pipe the init reports its status on.
    program: Option<(i32, OwnedFd)>,
    program_status: Option<OwnedFd>,
    listener: Option<Arc<OwnedFd>>,
    routing: Routing,
    /// The rules the workers apply, set up in the program's view once it is about to run.
    rules: Option<Arc<pool::Rules>>,
    confined: &'a Confined,
    net_rules: Option<net::NetRules>,
    own_creds: Option<straitjacket_sys::fsops::FsCreds>,
    pool: pool::Pool,
    audit: Option<Arc<audit::Audit>>,
    /// What is known of each thread that made a supervised call (see IDENTITY_CALLS).
    threads: std::collections::HashMap<i32, Arc<copy::Status>>,
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
    /// (arch, nr, rule) already reported.
    reported: HashSet<(u32, i32, String)>,
    denied: u64,
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
/// How often workers blocked for a caller are checked, milliseconds.
const RELEASE_MS: i32 = 100;
/// Exit status when the wall clock ran out (as timeout(1)).
pub const EXIT_TIMEOUT: i32 = 124;
/// Exit status when a resource limit killed the tree (128 + SIGKILL).
pub const EXIT_LIMIT: i32 = 137;
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

/// Sees each notified call of the program (after the launch phase) while its caller is
/// still blocked in it, and says how to answer: `learn` records the call and continues it.
pub(crate) trait Observer {
    fn observe(&mut self, listener: BorrowedFd<'_>, n: &Notif) -> Reply;
}

pub(crate) fn launch_and_supervise<'a>(
    plan: &Plan,
    pf: &'a PolicyFile,
    opts: &RunOptions,
    path: &Path,
    confined: &'a Confined,
    routing: Routing,
    observer: Option<&'a mut dyn Observer>,
) -> Result<i32, Failure> {
    let net_rules = if confined.conf.net_rules() {
        let mut rules = net::NetRules::from_conf(&confined.conf).map_err(Failure::input)?;
        // A direction left to `any` still reaches a unix socket by path only as the fs rules
        // allow, where there are any.
        rules.unix_by_fs = routing.fs;
        Some(rules)
    } else if routing.fs || routing.net {
        Some(net::NetRules::paths_by_fs())
    } else {
        None
    };
    let audit = match &opts.log {
        Some(p) => {
            Some(Arc::new(audit::Audit::create(p).map_err(|e| {
                Failure::input(format!("--log {}: {e}", p.display()))
            })?))
        }
        None => None,
    };
    let own_creds = straitjacket_sys::fsops::own_creds().ok();
    let mut sigs = FORWARDED.to_vec();
    sigs.push(SIGCHLD);
    signals::block(&sigs).map_err(sys("blocking signals"))?;
    let sigfd = signals::signalfd(&sigs).map_err(sys("signalfd"))?;
    prctl::set_child_subreaper().map_err(sys("prctl(PR_SET_CHILD_SUBREAPER)"))?;

    let launched = launch::spawn(plan).map_err(|e| run::launch_failure(&e, path))?;
    // Before the program runs (it is held at its execve until the loop answers), and after
    // the launch (the child must stay dumpable until the listener is taken from it): the
    // program, of the same uid, must not reach into this process through ptrace,
    // /proc/PID/mem or process_vm_writev and rewrite the decisions made here.
    prctl::set_not_dumpable().map_err(sys("prctl(PR_SET_DUMPABLE)"))?;
    // Files the workers create get the CALLER's umask, applied by hand: the process's own
    // umask (shared by every worker) must not apply a second one.
    straitjacket_sys::fsops::set_umask(0);
    let mut s = Supervisor {
        pf,
        observer,
        report: opts.report,
        tty: opts.tty,
        main_pid: launched.pid,
        pidfd: launched.pidfd,
        pid_ns_init: confined.namespaces.contains(&Namespace::Pid) && launched.program.is_none(),
        program: launched.program,
        program_status: launched.status,
        listener: Some(Arc::new(launched.listener)),
        routing,
        rules: None,
        confined,
        net_rules,
        own_creds,
        pool: pool::Pool::new(),
        audit,
        threads: std::collections::HashMap::new(),
        errors: Some(launched.errors),
        launch_phase: true,
        launch_exec_answered: false,
        exec_error: None,
        main_status: None,
        killed_main: false,
        forwarded_as_kill: None,
        reported: HashSet::new(),
        denied: 0,
        watch: Watch {
            limits: confined.limits(),
            deadline: confined
                .conf
                .timeout_ms
                .map(|ms| (Instant::now() + Duration::from_millis(ms), ms)),
            hit: None,
        },
    };
    s.main_loop(&sigfd)?;
    if let (None, Some(cg), Some(n)) = (
        &s.watch.hit,
        &confined.pids_cgroup,
        confined.conf.limits.procs,
    ) {
        if cg.hit_max() {
            s.watch.hit = Some((LimitHit::Resource, format!("procs limit {n} reached")));
        }
    }
    s.kill_leftovers();
    s.finish(path)
}

impl Supervisor<'_> {
    fn main_loop(&mut self, sigfd: &OwnedFd) -> Result<(), Failure> {
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
            } else if self.pool.busy() {
                RELEASE_MS
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
            self.pool.release_abandoned();
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
            let data = seccomp_data(&n);
            let exec = eval::abi_of(&data)
                .and_then(|a| a.syscall_by_nr(straitjacket_policy::SyscallNr(data.nr as u32)))
                .is_some_and(|sc| route::EXEC_CALLS.contains(&sc.name));
            let launcher = self.program.as_ref().map_or(self.main_pid, |(p, _)| *p);
            if self.launch_phase && exec && n.pid as i32 == launcher && !self.launch_exec_answered {
                self.launch_exec_answered = true;
                self.setup_rules(n.pid as i32);
                let _ = notify::send(listener.as_fd(), n.id, Reply::Continue);
                return true;
            }
            if self.launch_exec_answered {
                self.launch_phase = false;
            }
        }
        if let Some(o) = self.observer.as_deref_mut() {
            let reply = o.observe(listener.as_fd(), &n);
            let _ = notify::send(listener.as_fd(), n.id, reply);
            return true;
        }
        let data = seccomp_data(&n);
        let pf = self.pf;
        let (action, rule) = eval::decide(&pf.resolved.policy, &data);
        let arch = eval::abi_of(&data);
        let name = arch
            .and_then(|a| a.syscall_by_nr(straitjacket_policy::SyscallNr(data.nr as u32)))
            .map_or("", |sc| sc.name);
        if supervised::IDENTITY_CALLS.contains(&name) || route::EXEC_CALLS.contains(&name) {
            // What is known of the threads may change: read it again when next needed.
            self.threads.clear();
        }
        let is_fs = supervised::FS_CALLS.contains(&name);
        let is_net = supervised::NET_CALLS.contains(&name);
        // Under `fs` rules alone, the network calls are carried out too: a unix socket's
        // bind makes a file, and its connect or send reaches one.
        let fs_bind = self.routing.fs && is_net;
        match action {
            Action::Allow | Action::Log
                if (self.routing.fs && is_fs) || (self.routing.net && is_net) || fs_bind =>
            {
                self.carry_out(listener, &n, name, rule, action);
            }
            Action::Notify if is_fs || is_net => {
                self.carry_out(listener, &n, name, rule, action);
            }
            Action::Allow | Action::Log | Action::Notify => {
                // Decided on the registers alone: the kernel may run the call itself.
                if let Some(a) = &self.audit {
                    let entry = self.entry(listener, &n, name, rule, action);
                    let what = if route::EXEC_CALLS.contains(&name) {
                        "exec"
                    } else {
                        "allowed"
                    };
                    a.decision(&entry, what, None);
                }
                let _ = notify::send(listener.as_fd(), n.id, Reply::Continue);
            }
            Action::Errno(e) => {
                if self.report {
                    self.denied += 1;
                    self.report_once(listener, &n, rule, action, "denied");
                }
                if let Some(a) = &self.audit {
                    let entry = self.entry(listener, &n, name, rule, action);
                    a.decision(&entry, "denied", Some(i32::from(e)));
                }
                let _ = notify::send(listener.as_fd(), n.id, Reply::Errno(i32::from(e)));
            }
            Action::KillProcess | Action::KillThread | Action::Trap(_) | Action::Trace(_) => {
                // Trap/trace/kill-thread reach here only for execve (always routed): the
                // supervisor cannot reproduce them, so it does the strictest thing.
                if let Some(a) = &self.audit {
                    let entry = self.entry(listener, &n, name, rule, action);
                    a.decision(&entry, "killed", None);
                }
                self.kill(listener, &n, rule, action);
            }
        }
        true
    }

    /// Opens the fs rules in the program's view (its root, its mount namespace).
    fn setup_rules(&mut self, pid: i32) {
        if self.rules.is_some() || !(self.routing.fs || self.routing.net || self.has_notify()) {
            return;
        }
        let Some(own) = self.own_creds.clone() else {
            return;
        };
        let fs = if self.routing.fs {
            let root = std::ffi::CString::new(format!("/proc/{pid}/root")).expect("digits");
            match straitjacket_sys::fsops::open_dir_path(&root) {
                Ok(root) => {
                    let caller = copy::status(pid).map_or(
                        walk::Caller {
                            tgid: pid,
                            tid: pid,
                        },
                        |s| s.caller,
                    );
                    let own_pid_ns = self.confined.namespaces.contains(&Namespace::Pid);
                    let rules = fs::FsRules::open(&self.confined.fs, &root, caller, own_pid_ns);
                    for m in &rules.missing {
                        eprintln!(
                            "straitjacket: warning: fs rule {}: not found in the program's view of the filesystem; it grants nothing",
                            m.display()
                        );
                    }
                    Some(rules)
                }
                // No rules could be opened: every file call will be refused.
                Err(_) => Some(fs::FsRules::open(
                    &[],
                    &self.pidfd,
                    walk::Caller {
                        tgid: pid,
                        tid: pid,
                    },
                    true,
                )),
            }
        } else {
            None
        };
        self.rules = Some(Arc::new(pool::Rules {
            fs,
            net: self.net_rules.take(),
            own,
        }));
    }

    /// Whether the policy has genuine `notify` rules.
    fn has_notify(&self) -> bool {
        self.pf.resolved.policy.filters.iter().any(|f| {
            f.syscalls
                .values()
                .flatten()
                .any(|r| r.action == Action::Notify)
                || f.default == Action::Notify
        })
    }

    /// What the log and report say of a call, before it is decided.
    fn entry(
        &self,
        listener: &OwnedFd,
        n: &Notif,
        name: &str,
        rule: Option<&Rule>,
        action: Action,
    ) -> audit::Entry {
        let data = seccomp_data(n);
        let tid = n.pid as i32;
        let mut paths = Vec::new();
        let call = Self::describe_with(listener, n, &mut paths).unwrap_or_default();
        audit::Entry {
            pid: tgid_of(tid).unwrap_or(tid),
            tid,
            syscall: name.to_string(),
            call,
            paths,
            rule: self.why(rule, action, &data),
            why_refused: String::new(),
        }
    }

    /// Copies a file or network call and hands it to a worker.
    fn carry_out(
        &mut self,
        listener: &Arc<OwnedFd>,
        n: &Notif,
        name: &str,
        rule: Option<&Rule>,
        action: Action,
    ) {
        let tid = n.pid as i32;
        let data = seccomp_data(n);
        let Some(arch) = eval::abi_of(&data) else {
            let _ = notify::send(listener.as_fd(), n.id, Reply::Errno(ENOSYS));
            return;
        };
        if self.rules.is_none() {
            self.setup_rules(self.main_pid);
        }
        let Some(rules) = self.rules.clone() else {
            let _ = notify::send(listener.as_fd(), n.id, Reply::Errno(EACCES));
            return;
        };
        let cached = self.threads.get(&tid).filter(|s| s.alive()).cloned();
        let st = match cached {
            Some(st) => st,
            None => match copy::status(tid) {
                // Still pending: the thread id was this caller's when it was read.
                Some(st) if notify::id_valid(listener.as_fd(), n.id) => {
                    let st = Arc::new(st);
                    if self.threads.len() > 4096 {
                        self.threads.clear();
                    }
                    if st.alive.is_some() {
                        self.threads.insert(tid, Arc::clone(&st));
                    }
                    st
                }
                _ => {
                    let _ = notify::send(listener.as_fd(), n.id, Reply::Errno(EACCES));
                    return;
                }
            },
        };
        // Structures are copied in the 64-bit layout: the i386 ABI's calls are not carried out.
        if arch.register_bits() != 64 {
            let _ = notify::send(listener.as_fd(), n.id, Reply::Errno(ENOSYS));
            return;
        }
        let copied = if let Some(call) = supervised::fs_call(name, &n.data.args) {
            copy::fs_request(listener, n.id, tid, &st, call).map(pool::Work::Fs)
        } else if let Some(call) = supervised::net_call(name, &n.data.args) {
            copy::net_request(listener, n.id, tid, &st, call, arch.long_bits()).map(pool::Work::Net)
        } else {
            Err(copy::NotCopied::Errno(ENOSYS))
        };
        let mut entry = if self.audit.is_some() || self.report {
            self.entry(listener, n, name, rule, action)
        } else {
            audit::Entry::default()
        };
        entry.why_refused = match name {
            _ if supervised::NET_CALLS.contains(&name) => "net rules".to_string(),
            _ => "fs rules".to_string(),
        };
        let work = match copied {
            Ok(w) => w,
            Err(copy::NotCopied::Gone) => return,
            Err(copy::NotCopied::Errno(e)) => {
                let _ = notify::send(listener.as_fd(), n.id, Reply::Errno(e));
                if let Some(a) = &self.audit {
                    a.record(&entry, Err(e), false);
                }
                return;
            }
        };
        if let Work::Fs(req) = &work {
            entry.paths = req
                .paths
                .iter()
                .map(|p| String::from_utf8_lossy(&p.path).into_owned())
                .collect();
        }
        let creds = match &self.own_creds {
            Some(own) => own.to_act_for(&st.creds),
            None => Some(st.creds.clone()),
        };
        let job = pool::Job {
            id: n.id,
            tid,
            listener: Arc::clone(listener),
            creds,
            work,
            rules,
            entry,
            audit: self.audit.clone(),
            report: self.report,
        };
        // File calls are quick and done here; one that may block (an open of a FIFO or a
        // device, an open or truncate that would wait for a lease, any network call) goes
        // to a worker.
        let job = match &job.work {
            Work::Fs(_) => pool::run_inline(job),
            Work::Net(_) | Work::Done => Some(job),
        };
        if let Some(job) = job {
            if matches!(job.work, Work::Fs(_)) {
                self.pool.settle_abandoned();
            }
            self.pool.submit(job);
        }
    }

    /// The text after the dash: the rule that decided, or the default.
    fn why(&self, rule: Option<&Rule>, action: Action, data: &SeccompData) -> String {
        let sources = &self.pf.sources;
        if let Some(r) = rule {
            if let Some(span) = r.span {
                let f = sources.get(span.file);
                let (line, _) = f.line_col(span.start);
                let text = f.line_text(line);
                let text = text.split('#').next().unwrap_or("").trim();
                return format!("{}: {text}", sources.location(span));
            }
            if let Some(o) = &r.origin {
                return o.0.to_string();
            }
        }
        let root = &sources.get(FileId(0)).name;
        let arch = eval::abi_of(data).unwrap_or(straitjacket_policy::Arch::native());
        let which = match arch.syscall_by_nr(straitjacket_policy::SyscallNr(data.nr as u32)) {
            None => "unknown-syscall action",
            Some(_) => "default",
        };
        format!("{root}: {which} {}", decode::action(arch, action))
    }

    /// The call as text, strings read from the caller; `None` if the notification went
    /// away meanwhile (the memory may then not have been the caller's).
    fn describe(listener: &OwnedFd, n: &Notif) -> Option<String> {
        Self::describe_with(listener, n, &mut Vec::new())
    }

    /// As [`Self::describe`], collecting the strings read into `strings`.
    fn describe_with(listener: &OwnedFd, n: &Notif, strings: &mut Vec<String>) -> Option<String> {
        let pid = n.pid as i32;
        let mut read = |addr: u64| {
            let s = mem::read_cstr(pid, addr, decode::MAX_STRING).ok();
            if let Some((b, _)) = &s {
                strings.push(String::from_utf8_lossy(b).into_owned());
            }
            s
        };
        let text = match eval::abi_of(&seccomp_data(n)) {
            Some(arch) => decode::call(arch, n.data.nr as u32, &n.data.args, &mut read),
            None => format!("syscall({}) of audit arch {:#x}", n.data.nr, n.data.arch),
        };
        notify::id_valid(listener.as_fd(), n.id).then_some(text)
    }

    fn report_once(
        &mut self,
        listener: &OwnedFd,
        n: &Notif,
        rule: Option<&Rule>,
        action: Action,
        verb: &str,
    ) {
        let why = self.why(rule, action, &seccomp_data(n));
        if !self.reported.insert((n.data.arch, n.data.nr, why.clone())) {
            return;
        }
        if let Some(call) = Self::describe(listener, n) {
            eprintln!("straitjacket: {verb} {call} — {why}");
        }
    }

    /// Prints the blocked-call line, then kills the calling process with SIGKILL.
    fn kill(&mut self, listener: &OwnedFd, n: &Notif, rule: Option<&Rule>, action: Action) {
        let Some(call) = Self::describe(listener, n) else {
            return;
        };
        let why = self.why(rule, action, &seccomp_data(n));
        eprintln!("straitjacket: blocked {call} — {why}");
        let tid = n.pid as i32;
        let tgid = tgid_of(tid).unwrap_or(tid);
        let fd = if tgid == tid {
            pidfd::open(tid, 0)
        } else {
            pidfd::open(tid, pidfd::PIDFD_THREAD).or_else(|_| pidfd::open(tgid, 0))
        };
        // Still pending after the open: the thread is still blocked in this call, so the
        // pidfd refers to it and not to a process that reused its id.
        let target = fd.ok().filter(|_| notify::id_valid(listener.as_fd(), n.id));
        if let Some(fd) = target {
            let sent = pidfd::send_signal(fd.as_fd(), SIGKILL).is_ok();
            let program = self.program.as_ref().map_or(self.main_pid, |(p, _)| *p);
            self.killed_main |= sent && (tgid == self.main_pid || tgid == program);
        } else if notify::id_valid(listener.as_fd(), n.id) {
            // The caller is still blocked but cannot be named (not visible in our pid
            // namespace): end the whole program rather than let the call go on or hang.
            self.killed_main |= pidfd::send_signal(self.pidfd.as_fd(), SIGKILL).is_ok();
        }
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

    fn finish(&mut self, path: &Path) -> Result<i32, Failure> {
        if let Some(e) = &self.exec_error {
            return Err(run::exec_failure(e, path));
        }
        if self.report {
            let kinds = self.reported.len();
            eprintln!(
                "straitjacket: {} call{} denied ({kinds} shown)",
                self.denied,
                if self.denied == 1 { "" } else { "s" }
            );
        }
        if let Some((kind, why)) = &self.watch.hit {
            eprintln!("straitjacket: killed: {why}");
            return Ok(match kind {
                LimitHit::Timeout => EXIT_TIMEOUT,
                LimitHit::Resource => EXIT_LIMIT,
            });
        }
        let l = self.watch.limits;
        match (self.main_status, l.cpu, l.fsize) {
            (Some(ChildOutcome::Signaled(SIGXCPU)), Some(c), _) => {
                eprintln!("straitjacket: killed: cpu limit {c}s reached");
                return Ok(EXIT_LIMIT);
            }
            (Some(ChildOutcome::Signaled(SIGKILL)), Some(c), _) if !self.killed_main => {
                // RLIMIT_CPU's hard limit: SIGKILL a second after SIGXCPU was ignored.
                eprintln!("straitjacket: killed: cpu limit {c}s reached");
                return Ok(EXIT_LIMIT);
            }
            (Some(ChildOutcome::Signaled(SIGXFSZ)), _, Some(f)) => {
                eprintln!(
                    "straitjacket: killed: fsize limit {} reached",
                    LimitKind::Fsize.show(f)
                );
                return Ok(EXIT_LIMIT);
            }
            _ => {}
        }
        if let (Some(ChildOutcome::Signaled(SIGKILL)), Some(sig)) =
            (self.main_status, self.forwarded_as_kill)
        {
            return Ok(128 + sig);
        }
        Ok(match self.main_status {
            Some(ChildOutcome::Exited(c)) => c,
            Some(ChildOutcome::Signaled(SIGKILL)) if self.killed_main => EXIT_KILLED_BY_POLICY,
            Some(ChildOutcome::Signaled(SIGSYS)) => {
                eprintln!(
                    "straitjacket: {} was killed by SIGSYS: the filter kills calls of ABIs the policy does not cover (such as i386 `int 0x80`) in the kernel",
                    path.display()
                );
                EXIT_KILLED_BY_POLICY
            }
            Some(ChildOutcome::Signaled(s)) => 128 + s,
            None => EXIT_LAUNCH,
        })
    }
}

fn seccomp_data(n: &Notif) -> SeccompData {
    SeccompData {
        nr: n.data.nr,
        arch: n.data.arch,
        instruction_pointer: n.data.instruction_pointer,
        args: n.data.args,
    }
}

/// Whether process `pid` has a handler for `sig` (`SigCgt:` in /proc/PID/status).
fn catches(pid: i32, sig: i32) -> bool {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    s.lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (sig - 1)) != 0)
}

/// The thread group of thread `tid` (`Tgid:` in /proc/TID/status).
fn tgid_of(tid: i32) -> Option<i32> {
    let s = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
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
