//! `straitjacket learn`: run a program with every system call observed, then write the
//! policy that lets it run again.
//!
//! # Mechanism: seccomp user notifications answered CONTINUE
//! The program is started by the same launcher as `run` (`straitjacket_sys::launch`), under a
//! filter whose every action for the native ABI is `notify` (a call of any other ABI is
//! killed in the kernel, as under `run`). The supervisor loop of `run` (`supervise`) serves
//! it, with a [`Recorder`] as its observer: for each call it records the number, the six
//! registers and, for the calls that name paths (or pass flags in memory: `openat2`,
//! `clone3`), the strings and structs read from the blocked caller; then it answers
//! CONTINUE. CONTINUE is sound here because learning decides nothing: the program runs
//! exactly as it would unconfined, and what we read only shapes the policy we write.
//!
//! Why not ptrace: the filter and its listener are inherited by every thread, fork and exec
//! of the program without any bookkeeping of ours (no PTRACE_O_TRACECLONE/EXEC, no stops
//! and restarts per thread, no fight with a program that traces itself or its children), the
//! launch and reaping are `run`'s own, and the launcher's calls before its `execve` are left
//! out by the same launch phase `run` has (until the error pipe closes at exec, notifications
//! are the launcher's and are not recorded). The cost is one round trip per call, paid only
//! while learning.
//!
//! Memory is read with `process_vm_readv` and kept only if the notification is still valid
//! afterwards (`SECCOMP_IOCTL_NOTIF_ID_VALID`): the caller was still the blocked thread.
//! A program could change its own memory between our read and the kernel's; it would only
//! mislead its own policy. Relative paths are resolved against `/proc/TID/cwd` or
//! `/proc/TID/fd/DIRFD` at the time of the call; after the run, each path is settled (exists?
//! directory? canonical form?) and the pure part (`straitjacket_policy::learn`) writes the
//! policy.
//!
//! This module observes and records; turning what was learned into a policy text is the pure
//! `straitjacket_policy::learn::render`.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt;

use straitjacket_policy::arch::Arch;
use straitjacket_policy::compile;
use straitjacket_policy::ir::route::Routing;
use straitjacket_policy::ir::{Filter, FsAccess, Policy};
use straitjacket_policy::learn::paths::Kind;
use straitjacket_policy::learn::{self, Access, Learned, Memory, PathArg};
use straitjacket_policy::resolve::settings::Confinement;
use straitjacket_policy::resolve::Options;
use straitjacket_policy::Action;
use straitjacket_sys::launch::Spec;
use straitjacket_sys::mem;
use straitjacket_sys::notify::{self, Notif, Reply};

use crate::error::SandboxError;
use crate::launch::Launch;
use crate::load::PolicyFile;
use crate::outcome::Finished;
use crate::presets;
use crate::sandbox::{envp, resolve_command, Command, Enforcement, Host, Reporting, Sandbox};
use crate::supervise::{self, Mode, Observer};

/// The longest path read from the caller.
const MAX_PATH: usize = 4096;

/// The policy the program learns under: every call of the native ABI notifies (a call of
/// another ABI is killed in the kernel, as under `run`).
fn observe_everything(arch: Arch) -> Policy {
    Policy {
        filters: vec![Filter {
            arch,
            default: Action::Notify,
            default_origin: None,
            unknown: Action::Notify,
            syscalls: BTreeMap::new(),
        }],
        fs: Vec::new(),
        settings: Vec::new(),
    }
}

/// The blocked caller's memory.
struct ChildMem {
    pid: i32,
}

impl Memory for ChildMem {
    fn bytes(&mut self, addr: u64, len: usize) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; len];
        (mem::read(self.pid, addr, &mut buf).ok()? == len).then_some(buf)
    }
    fn cstr(&mut self, addr: u64) -> Option<Vec<u8>> {
        match mem::read_cstr(self.pid, addr, MAX_PATH) {
            Ok((s, true)) => Some(s),
            _ => None,
        }
    }
}

/// Records every call of the program and lets it run.
struct Recorder {
    arch: Arch,
    learned: Learned,
    /// (absolute path, access) → times.
    raw_paths: BTreeMap<(String, Access), u64>,
}

impl Recorder {
    /// `p` made absolute as the kernel would resolve it for thread `tid`, now.
    fn absolute(tid: i32, p: &PathArg) -> Option<String> {
        let rel = std::str::from_utf8(&p.path).ok()?;
        if rel.starts_with('/') {
            return Some(rel.to_string());
        }
        if rel.is_empty() {
            return None;
        }
        let base = match p.dirfd {
            None | Some(-100) => std::fs::read_link(format!("/proc/{tid}/cwd")).ok()?,
            Some(fd) => std::fs::read_link(format!("/proc/{tid}/fd/{fd}")).ok()?,
        };
        Some(base.join(rel).to_str()?.to_string())
    }
}

impl Observer for Recorder {
    fn observe(&mut self, listener: BorrowedFd<'_>, n: &Notif) -> Reply {
        if n.data.arch != self.arch.audit_arch() {
            return Reply::Continue;
        }
        let nr = n.data.nr as u32;
        let tid = n.pid as i32;
        let mut m = ChildMem { pid: tid };
        let obs = learn::observe(self.arch, nr, &n.data.args, &mut m);
        let paths: Vec<(String, Access)> = obs
            .iter()
            .flat_map(|o| o.paths.iter())
            .filter_map(|p| Some((Self::absolute(tid, p)?, p.access)))
            .collect();
        // Still pending: what was read belonged to the caller, and the call goes on.
        if !notify::id_valid(listener, n.id) {
            return Reply::Continue;
        }
        match obs {
            Some(o) => self.learned.record(&o),
            None => self.learned.record_unnamed(nr),
        }
        for p in paths {
            *self.raw_paths.entry(p).or_default() += 1;
        }
        Reply::Continue
    }
}

/// A word as a shell would need it quoted.
fn shell_quote(w: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._+-=:,@%".contains(c);
    if !w.is_empty() && w.chars().all(plain) {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

fn shown_command(cmd: &[OsString]) -> String {
    let words: Vec<String> = cmd
        .iter()
        .map(|w| shell_quote(&w.to_string_lossy()))
        .collect();
    words.join(" ").replace('\n', "\\n")
}

/// What a path is after the run: its canonical form and kind.
fn stat(p: &str) -> Option<(String, Kind)> {
    let canon = std::fs::canonicalize(p).ok()?;
    let t = std::fs::metadata(&canon).ok()?.file_type();
    let kind = if t.is_dir() {
        Kind::Dir
    } else if t.is_file() {
        Kind::File
    } else {
        Kind::Special
    };
    Some((canon.to_str()?.to_string(), kind))
}

/// The paths `run` adds to fs rules by itself, canonical (those that exist here): a learned
/// policy's `fs` rules leave them out.
pub fn system_paths() -> Result<Vec<(FsAccess, String)>, SandboxError> {
    let pf = presets::load("system-paths", &Options::default())?;
    Ok(pf
        .resolved
        .policy
        .fs
        .iter()
        .filter_map(|r| Some((r.access, stat(&r.path)?.0)))
        .collect())
}

/// A run observed: how it ended, and what was learned (paths settled after the run).
#[derive(Debug)]
pub struct Observed {
    /// Where the program was found.
    pub program: std::path::PathBuf,
    pub finished: Finished,
    pub learned: Learned,
}

/// Runs `argv` (found in the PATH of `env`, its whole environment) with every system call
/// observed, as the module docs say, and returns what was seen. The policy it learns under is
/// its sandbox's own: `notify` for everything, answered by the observer.
pub fn learn(argv: &[OsString], env: Vec<(OsString, OsString)>) -> Result<Observed, SandboxError> {
    let Some(cmd) = argv.first() else {
        return Err(SandboxError::input("no command given"));
    };
    let arch = Arch::native();
    let path = resolve_command(cmd, &env)?;
    let policy = observe_everything(arch);
    let program = compile::compile(&policy).map_err(|e| SandboxError::input(e.to_string()))?;
    let sandbox = Sandbox {
        command: Command {
            path,
            argv: argv.to_vec(),
            env,
            cwd: None,
            keep_fds: Vec::new(),
            new_session: true,
        },
        policy: PolicyFile::from_policy("learn", policy),
        program,
        routing: Routing::default(),
        confinement: Confinement::default(),
        namespaces: BTreeSet::new(),
        fs: Vec::new(),
        private_tmp: false,
        binds: Vec::new(),
        enforcement: Enforcement::default(),
        reporting: Reporting::default(),
        host: Host::current(),
    };
    // No Landlock domain, no namespaces: the program runs as it would unconfined.
    let spec = Spec {
        path: sandbox.command.path.as_os_str().as_bytes().to_vec(),
        argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
        envp: envp(&sandbox.command.env),
        filter: sandbox.program.to_raw_records(),
        new_session: true,
        ..Spec::default()
    };
    let mut launch = Launch::unconfined(spec)?;
    let mut rec = Recorder {
        arch,
        learned: Learned::new(arch),
        raw_paths: BTreeMap::new(),
    };
    let finished = supervise::supervise(&sandbox, &mut launch, Mode::Observe(&mut rec))?;
    let mut learned = rec.learned;
    learned.runs = 1;
    learned.commands.push(shown_command(argv));
    learned.paths = learn::paths::settle(&rec.raw_paths, &stat);
    Ok(Observed {
        program: sandbox.command.path.clone(),
        finished,
        learned,
    })
}
