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
//! Exit status: the program's (after the policy is written); 128+N if it died of signal N;
//! as `run` for a command not found (127), not executable (126), bad input (2).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write as _;
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use straitjacket_policy::arch::Arch;
use straitjacket_policy::compile;
use straitjacket_policy::ir::route::Routing;
use straitjacket_policy::ir::{Filter, FsAccess, Policy};
use straitjacket_policy::learn::paths::Kind;
use straitjacket_policy::learn::{self, Access, Learned, Memory, PathArg, RenderOptions};
use straitjacket_policy::resolve::Options;
use straitjacket_policy::Action;
use straitjacket_sys::launch::{Plan, Spec};
use straitjacket_sys::mem;
use straitjacket_sys::notify::{self, Notif, Reply};

use crate::confine::Confined;
use crate::failure::Failure;
use crate::policy_file::{self, io_reason};
use crate::presets;
use crate::run::{self, RunOptions};
use crate::supervise::{self, Observer};

/// The longest path read from the caller.
const MAX_PATH: usize = 4096;

/// What `straitjacket learn` was asked to do (its command line).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LearnOptions {
    /// Write the policy to FILE (default: stdout; with --append, the appended file).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Pin arguments where they are stable and safe: write fds 0-2, open access modes,
    /// socket families, ioctl requests, clone flags, no executable anonymous memory.
    #[arg(long)]
    pub args: bool,
    /// Add `fs read|write|exec` rules for the paths used, collapsed to directories
    /// (paths `run` adds by itself, the system paths, are left out).
    #[arg(long)]
    pub paths: bool,
    /// Merge this run into FILE, an earlier learned policy, and rewrite it (or write
    /// the merged policy to --output).
    #[arg(long, value_name = "FILE")]
    pub append: Option<PathBuf>,
    /// Print the system calls by group with counts, and the paths, on stdout INSTEAD of
    /// the policy (with --output or --append the policy is still written to the file).
    #[arg(long)]
    pub summary: bool,
    /// The program and its arguments.
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub cmd: Vec<OsString>,
}

/// The filter the program learns under: every call of the native ABI notifies.
fn observe_everything(arch: Arch) -> Result<Vec<[u8; 8]>, Failure> {
    let policy = Policy {
        filters: vec![Filter {
            arch,
            default: Action::Notify,
            default_origin: None,
            unknown: Action::Notify,
            syscalls: BTreeMap::new(),
        }],
        fs: Vec::new(),
        settings: Vec::new(),
    };
    let prog = compile::compile(&policy).map_err(|e| Failure::input(e.to_string()))?;
    Ok(prog.to_raw_records())
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

/// The paths `run` adds to fs rules by itself, canonical (those that exist here).
fn system_paths() -> Result<Vec<(FsAccess, String)>, Failure> {
    let pf = presets::load("system-paths", &Options::default())?;
    Ok(pf
        .resolved
        .policy
        .fs
        .iter()
        .filter_map(|r| Some((r.access, stat(&r.path)?.0)))
        .collect())
}

fn read_earlier(path: &Path) -> Result<Learned, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::input(format!("--append {}: {}", path.display(), io_reason(&e))))?;
    let l = Learned::from_text(&text)
        .map_err(|e| Failure::input(format!("--append {}: {e}", path.display())))?;
    if l.arch != Arch::native() {
        return Err(Failure::input(format!(
            "--append {}: learned on {}, this machine is {}",
            path.display(),
            l.arch,
            Arch::native()
        )));
    }
    Ok(l)
}

/// Runs the command under observation, writes the policy; the exit status to leave with.
pub fn learn(opts: &LearnOptions) -> Result<i32, Failure> {
    let Some(cmd) = opts.cmd.first() else {
        return Err(Failure::input(
            "no command given: straitjacket learn [OPTIONS] -- CMD [ARGS]",
        ));
    };
    let earlier = opts.append.as_deref().map(read_earlier).transpose()?;
    let arch = Arch::native();
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let path = run::command_path(cmd, &env)?;
    let spec = Spec {
        path: path.as_os_str().as_bytes().to_vec(),
        argv: opts.cmd.iter().map(|a| a.as_bytes().to_vec()).collect(),
        envp: run::envp(&env),
        filter: observe_everything(arch)?,
        new_session: true,
        ..Spec::default()
    };
    let plan = Plan::new(&spec).map_err(|e| Failure::input(e.to_string()))?;
    // Never consulted: the recorder answers every call after the launch phase.
    let pf = policy_file::load_bytes("learn", b"default allow\n", &Options::default())?;
    let mut rec = Recorder {
        arch,
        learned: Learned::new(arch),
        raw_paths: BTreeMap::new(),
    };
    let code = supervise::launch_and_supervise(
        &plan,
        &pf,
        &RunOptions::default(),
        &path,
        &Confined::default(),
        Routing::default(),
        Some(&mut rec),
    )?;

    let mut learned = rec.learned;
    learned.runs = 1;
    learned.commands.push(shown_command(&opts.cmd));
    learned.paths = learn::paths::settle(&rec.raw_paths, &stat);
    if let Some(mut e) = earlier {
        e.merge(&learned);
        learned = e;
    }
    let rendered = learn::render(
        &learned,
        &RenderOptions {
            args: opts.args,
            paths: opts.paths,
            system_paths: if opts.paths {
                system_paths()?
            } else {
                Vec::new()
            },
        },
    );
    let target = opts.output.as_ref().or(opts.append.as_ref());
    match target {
        Some(t) => std::fs::write(t, &rendered.text).map_err(|e| {
            Failure::with_code(
                run::EXIT_LAUNCH,
                format!("{}: {}", t.display(), io_reason(&e)),
            )
        })?,
        None if !opts.summary => {
            let _ = std::io::stdout().write_all(rendered.text.as_bytes());
        }
        None => {}
    }
    if opts.summary {
        print!("{}", learn::summary(&learned));
    }
    for n in &rendered.notes {
        eprintln!("straitjacket learn: not pinned: {n}");
    }
    if let Some(t) = target {
        eprintln!(
            "straitjacket learn: wrote {} ({} system calls)",
            t.display(),
            learned.calls.len()
        );
    }
    Ok(code)
}
