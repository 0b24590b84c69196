//! Answering notifications: the part of the supervisor that judges calls, apart from the
//! processes it launched.
//!
//! A [`Server`] is given a listener's notifications one at a time, and the policy that
//! judges them (or an [`Observer`] that answers them instead). Each is decided by the
//! ORIGINAL policy (`eval::decide` on its `seccomp_data`): allow → CONTINUE (the decision
//! depended on registers only), except for calls routed here by `fs` or `net` rules (and
//! genuine `notify` rules of such calls): those are copied ([`super::copy`]) and carried out
//! by a worker ([`super::pool`]) under the rules ([`super::fs`], [`super::net`]) — never
//! CONTINUE, since the decision looked at memory; errno → that errno (and a line with
//! `report`); kill → a line, then SIGKILL through a pidfd of the calling thread, opened and
//! checked against `SECCOMP_IOCTL_NOTIF_ID_VALID` so it is the right thread. The thread stays
//! blocked in the kernel until it dies: it never runs on.
//!
//! [`serve`] runs a server over a listener fd the caller got from elsewhere (a container
//! runtime's, sent over a unix socket) until no task uses its filter any more.

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use straitjacket_policy::action::Action;
use straitjacket_policy::bpf::SeccompData;
use straitjacket_policy::decode;
use straitjacket_policy::diag::FileId;
use straitjacket_policy::ir::eval;
use straitjacket_policy::ir::route::{self, Routing};
use straitjacket_policy::ir::Rule;
use straitjacket_policy::supervised;
use straitjacket_sys::fsops::{self, FsCreds};
use straitjacket_sys::notify::{self, Notif, Reply};
use straitjacket_sys::{mem, pidfd, signals};

use super::pool::{self, Work};
use super::{audit, copy, fs, net, walk};
use crate::error::SandboxError;
use crate::load::PolicyFile;
use crate::sandbox::{FsRule, Reporting};

const SIGKILL: i32 = 9;
const ENOENT: i32 = 2;
const EINTR: i32 = 4;
const EPERM: i32 = 1;
const EACCES: i32 = 13;
const ENOSYS: i32 = 38;
/// How often workers blocked for a caller are checked, milliseconds.
pub(super) const RELEASE_MS: i32 = 100;

/// Sees each notified call (after the launch phase, under `run`) while its caller is still
/// blocked in it, and says how to answer: `learn` records the call and continues it.
pub trait Observer {
    fn observe(&mut self, listener: BorrowedFd<'_>, n: &Notif) -> Reply;
}

/// How the supervisor answers.
pub enum Mode<'a> {
    /// By the policy (see the module docs).
    Enforce,
    /// By the observer, for every call: nothing is judged.
    Observe(&'a mut dyn Observer),
}

impl std::fmt::Debug for Mode<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Enforce => "Enforce",
            Mode::Observe(_) => "Observe",
        })
    }
}

/// What answering one notification did beyond the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Answered {
    Replied,
    /// The policy killed the calling process (thread group `tgid`): SIGKILL was sent.
    Killed {
        tgid: i32,
    },
    /// The policy kills the caller, which is still blocked but cannot be named (it is not
    /// visible in our pid namespace): no reply was sent.
    KillUnnamed,
}

/// The notification-answering state (module docs).
pub(super) struct Server<'a> {
    policy: &'a PolicyFile,
    observer: Option<&'a mut dyn Observer>,
    pub(super) report: bool,
    routing: Routing,
    /// The rules the workers apply, set up in the program's view once it is about to run.
    rules: Option<Arc<pool::Rules>>,
    fs_rules: &'a [FsRule],
    own_pid_ns: bool,
    net_rules: Option<net::NetRules>,
    carry_out: bool,
    own_creds: Option<FsCreds>,
    pub(super) pool: pool::Pool,
    audit: Option<Arc<audit::Audit>>,
    /// What is known of each thread that made a supervised call (see IDENTITY_CALLS).
    threads: HashMap<i32, Arc<copy::Status>>,
    /// (arch, nr, rule) already reported.
    pub(super) reported: HashSet<(u32, i32, String)>,
    pub(super) denied: u64,
}

/// What a server needs besides the policy: the rules it carries calls out under.
pub(super) struct Setup<'a> {
    pub routing: Routing,
    pub fs_rules: &'a [FsRule],
    /// The callers have a pid namespace of their own.
    pub own_pid_ns: bool,
    pub net_rules: Option<net::NetRules>,
    /// Carry out file and network calls (under `run`, within the program's own authority);
    /// false for a listener made elsewhere, whose caller's Landlock domain and other
    /// confinement are not known here: such calls are refused, never done for it.
    pub carry_out: bool,
}

impl<'a> Server<'a> {
    pub(super) fn new(
        policy: &'a PolicyFile,
        mode: Mode<'a>,
        reporting: &Reporting,
        setup: Setup<'a>,
    ) -> Result<Server<'a>, SandboxError> {
        let audit = match &reporting.log {
            Some(p) => Some(Arc::new(audit::Audit::create(p).map_err(|e| {
                SandboxError::input(format!("--log {}: {e}", p.display()))
            })?)),
            None => None,
        };
        Ok(Server {
            policy,
            observer: match mode {
                Mode::Enforce => None,
                Mode::Observe(o) => Some(o),
            },
            report: reporting.report,
            routing: setup.routing,
            rules: None,
            fs_rules: setup.fs_rules,
            own_pid_ns: setup.own_pid_ns,
            net_rules: setup.net_rules,
            carry_out: setup.carry_out,
            own_creds: fsops::own_creds().ok(),
            pool: pool::Pool::new(),
            audit,
            threads: HashMap::new(),
            reported: HashSet::new(),
            denied: 0,
        })
    }

    /// Answers one notification.
    pub(super) fn answer(&mut self, listener: &Arc<OwnedFd>, n: &Notif) -> Answered {
        if let Some(o) = self.observer.as_deref_mut() {
            let reply = o.observe(listener.as_fd(), n);
            let _ = notify::send(listener.as_fd(), n.id, reply);
            return Answered::Replied;
        }
        let data = seccomp_data(n);
        let policy = self.policy;
        let (action, rule) = eval::decide(&policy.resolved.policy, &data);
        let name = syscall_name(&data);
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
                self.carry_out(listener, n, name, rule, action);
            }
            Action::Notify if (is_fs || is_net) && self.carry_out => {
                self.carry_out(listener, n, name, rule, action);
            }
            Action::Notify if is_fs || is_net => {
                let _ = notify::send(listener.as_fd(), n.id, Reply::Errno(EACCES));
            }
            Action::Allow | Action::Log | Action::Notify => {
                // Decided on the registers alone: the kernel may run the call itself.
                if let Some(a) = &self.audit {
                    let entry = self.entry(listener, n, name, rule, action);
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
                    self.report_once(listener, n, rule, action, "denied");
                }
                if let Some(a) = &self.audit {
                    let entry = self.entry(listener, n, name, rule, action);
                    a.decision(&entry, "denied", Some(i32::from(e)));
                }
                let _ = notify::send(listener.as_fd(), n.id, Reply::Errno(i32::from(e)));
            }
            Action::KillProcess | Action::KillThread | Action::Trap(_) | Action::Trace(_) => {
                // Trap/trace/kill-thread reach here only for execve (always routed): the
                // supervisor cannot reproduce them, so it does the strictest thing.
                if let Some(a) = &self.audit {
                    let entry = self.entry(listener, n, name, rule, action);
                    a.decision(&entry, "killed", None);
                }
                return self.kill(listener, n, rule, action);
            }
        }
        Answered::Replied
    }

    /// Opens the fs rules in the view of process `pid` (its root, its mount namespace).
    pub(super) fn setup_rules(&mut self, pid: i32, fallback_root: &OwnedFd) {
        if self.rules.is_some() || !(self.routing.fs || self.routing.net || self.has_notify()) {
            return;
        }
        let Some(own) = self.own_creds.clone() else {
            return;
        };
        let caller = walk::Caller {
            tgid: pid,
            tid: pid,
        };
        let fs = if self.routing.fs {
            let root = std::ffi::CString::new(format!("/proc/{pid}/root")).expect("digits");
            match fsops::open_dir_path(&root) {
                Ok(root) => {
                    let caller = copy::status(pid).map_or(caller, |s| s.caller);
                    let rules = fs::FsRules::open(self.fs_rules, &root, caller, self.own_pid_ns);
                    for m in &rules.missing {
                        eprintln!(
                            "straitjacket: warning: fs rule {}: not found in the program's view of the filesystem; it grants nothing",
                            m.display()
                        );
                    }
                    Some(rules)
                }
                // No rules could be opened: every file call will be refused.
                Err(_) => Some(fs::FsRules::open(&[], fallback_root, caller, true)),
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
        self.policy.resolved.policy.filters.iter().any(|f| {
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
        let call = describe_with(listener, n, &mut paths).unwrap_or_default();
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
            self.setup_rules(tid, listener);
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
            copy::fs_request(listener, n.id, tid, &st, call).map(Work::Fs)
        } else if let Some(call) = supervised::net_call(name, &n.data.args) {
            copy::net_request(listener, n.id, tid, &st, call, arch.long_bits()).map(Work::Net)
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
        let sources = &self.policy.sources;
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
        if let Some(call) = describe(listener, n) {
            eprintln!("straitjacket: {verb} {call} — {why}");
        }
    }

    /// Prints the blocked-call line, then kills the calling process with SIGKILL.
    fn kill(
        &mut self,
        listener: &OwnedFd,
        n: &Notif,
        rule: Option<&Rule>,
        action: Action,
    ) -> Answered {
        let Some(call) = describe(listener, n) else {
            return Answered::Replied;
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
            if pidfd::send_signal(fd.as_fd(), SIGKILL).is_ok() {
                return Answered::Killed { tgid };
            }
            Answered::Replied
        } else if notify::id_valid(listener.as_fd(), n.id) {
            Answered::KillUnnamed
        } else {
            Answered::Replied
        }
    }
}

/// What [`serve`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    /// Notifications answered.
    pub answered: u64,
    /// Calls answered with an errno the policy gave (counted with `report`).
    pub denied: u64,
    /// Processes killed by the policy.
    pub killed: u64,
}

/// Serves `listener`, a seccomp listener fd made by another process (a container runtime
/// that installed the filter and sent the fd over a unix socket), under `policy`, until no
/// task uses its filter any more. Calls are judged as under `run` (module docs), without the
/// launch phase: every notification is the program's. A call the policy kills whose caller
/// cannot be named from here (outside our pid namespace) is answered EPERM: it never goes on.
///
/// The filter is someone else's, so nothing is known of how it was routed: the calls the
/// kernel sends here are decided by `policy`, and only its genuine `notify` rules of file and
/// network calls would be carried out, and those are refused with EACCES: the caller's own
/// confinement (its Landlock domain, its mounts) is not known here, and the supervisor never
/// does for a program what the program could not do itself.
pub fn serve<'a>(
    listener: OwnedFd,
    policy: &'a PolicyFile,
    mode: Mode<'a>,
    reporting: &Reporting,
) -> Result<Served, SandboxError> {
    if !notify::is_listener(listener.as_fd()) {
        return Err(SandboxError::input(
            "the fd to serve is not a seccomp listener",
        ));
    }
    let setup = Setup {
        routing: Routing::default(),
        fs_rules: &[],
        own_pid_ns: false,
        net_rules: None,
        carry_out: false,
    };
    let mut server = Server::new(policy, mode, reporting, setup)?;
    let listener = Arc::new(listener);
    let mut served = Served::default();
    loop {
        let tick = if server.pool.busy() { RELEASE_MS } else { -1 };
        let ready = signals::poll_ready(&[listener.as_fd()], tick)
            .map_err(|e| SandboxError::launch(format!("poll: {e}")))?;
        server.pool.release_abandoned();
        if ready[0].readable {
            let n = match notify::recv(listener.as_fd()) {
                Ok(n) => n,
                Err(e) if matches!(e.raw_os_error(), Some(ENOENT | EINTR)) => continue,
                Err(e) => {
                    return Err(SandboxError::launch(format!(
                        "receiving a notification: {e}"
                    )))
                }
            };
            served.answered += 1;
            match server.answer(&listener, &n) {
                Answered::Replied => {}
                Answered::Killed { .. } => served.killed += 1,
                Answered::KillUnnamed => {
                    let _ = notify::send(listener.as_fd(), n.id, Reply::Errno(EPERM));
                }
            }
        } else if ready[0].hung_up {
            // No task uses the filter any more, and none can come to.
            break;
        }
    }
    served.denied = server.denied;
    Ok(served)
}

pub(super) fn seccomp_data(n: &Notif) -> SeccompData {
    SeccompData {
        nr: n.data.nr,
        arch: n.data.arch,
        instruction_pointer: n.data.instruction_pointer,
        args: n.data.args,
    }
}

/// The name of the call, or "" for a number the arch does not know.
pub(super) fn syscall_name(data: &SeccompData) -> &'static str {
    eval::abi_of(data)
        .and_then(|a| a.syscall_by_nr(straitjacket_policy::SyscallNr(data.nr as u32)))
        .map_or("", |sc| sc.name)
}

/// The call as text, strings read from the caller; `None` if the notification went away
/// meanwhile (the memory may then not have been the caller's).
fn describe(listener: &OwnedFd, n: &Notif) -> Option<String> {
    describe_with(listener, n, &mut Vec::new())
}

/// As [`describe`], collecting the strings read into `strings`.
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

/// The thread group of thread `tid` (`Tgid:` in /proc/TID/status).
fn tgid_of(tid: i32) -> Option<i32> {
    straitjacket_sys::procfs::ProcStatus::of(tid).ok()?.tgid()
}
