//! `straitjacket run`: start a program under a policy and supervise it.
//!
//! In: the options of the command line. The policy is resolved, routed for run mode
//! (`ir::route`: kills and execs go to the supervisor, see there), compiled (the embedded
//! presets were compiled under every routing when the binary was built), and handed with
//! the program's path, argv, environment and fd list to the launcher
//! (`straitjacket_sys::launch`), which installs it last in the child, right before exec. The
//! parent then supervises (`supervise`): it answers notified calls, prints a line for each
//! blocked one, forwards SIGINT/SIGTERM/SIGHUP, and exits as the program did.
//!
//! Exit status: the program's; 128+N when it dies of signal N; 159 (128+SIGSYS) when the
//! policy kills it; 127 command not found; 126 not executable; 2 bad input (nothing run).

use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use straitjacket_policy::bpf::Program;
use straitjacket_policy::compile;
use straitjacket_policy::ir::route;
use straitjacket_policy::resolve::Options;
use straitjacket_sys::launch::{self, LaunchError, Plan, Spec};

use crate::failure::Failure;
use crate::policy_file::{self, PolicyFile};
use crate::presets;
use crate::supervise;

/// Exit status when the command is not found.
pub const EXIT_NOT_FOUND: i32 = 127;
/// Exit status when the command is found but cannot be executed.
pub const EXIT_NOT_EXECUTABLE: i32 = 126;
/// Exit status when the launch itself fails (fork, filter install).
pub const EXIT_LAUNCH: i32 = 125;
/// 128 + SIGSYS: the status of a process the filter killed.
pub const EXIT_KILLED_BY_POLICY: i32 = 128 + 31;

/// What `straitjacket run` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub policy: Option<PathBuf>,
    pub preset: Option<String>,
    pub keep_fds: Vec<i32>,
    pub env_clear: bool,
    /// `K=V` pairs set after clearing (or on top of the inherited environment).
    pub env: Vec<OsString>,
    pub cwd: Option<PathBuf>,
    /// Stay in the caller's session and terminal (no setsid).
    pub tty: bool,
    /// Report calls answered with an errno too.
    pub report: bool,
    /// `--log FILE`: JSON lines of the supervisor's decisions.
    pub log: Option<PathBuf>,
    /// `--fs-landlock-only`: fs rules by Landlock alone, not the supervisor.
    pub fs_landlock_only: bool,
    /// `--fs-supervisor-only`: fs rules by the supervisor alone, not Landlock.
    pub fs_supervisor_only: bool,
    pub cmd: Vec<OsString>,
    /// `--allow-read/--allow-write/--allow-exec PATH`: Landlock rules added to the policy's.
    pub allow_read: Vec<PathBuf>,
    pub allow_write: Vec<PathBuf>,
    pub allow_exec: Vec<PathBuf>,
    /// Do not add the system paths preset to filesystem rules.
    pub no_system_paths: bool,
    /// Fail (exit 2) instead of warning when Landlock cannot enforce everything.
    pub require_landlock: bool,
    /// `--unshare LIST` (comma-separated namespace names or `all`), repeatable.
    pub unshare: Vec<String>,
    /// `--share LIST`: default isolations (pid, ipc, uts or `all`) to leave out, repeatable.
    pub share: Vec<String>,
    pub net_none: bool,
    pub hostname: Option<String>,
    pub private_tmp: bool,
    /// `--ro-bind SRC DST` / `--bind SRC DST`, flattened in pairs.
    pub ro_bind: Vec<PathBuf>,
    pub bind: Vec<PathBuf>,
    /// `--limit cpu=S,mem=B,…`, repeatable.
    pub limit: Vec<String>,
    pub timeout: Option<String>,
}

/// Loads the policy the options name (the `default` preset if none).
pub fn load_policy(opts: &RunOptions) -> Result<PolicyFile, Failure> {
    let o = Options::default();
    let pf = match (&opts.policy, &opts.preset) {
        (Some(_), Some(_)) => {
            return Err(Failure::input("give --policy or --preset, not both"));
        }
        (Some(path), None) => policy_file::load(path, &o)?,
        (None, Some(name)) => presets::load(name, &o)?,
        (None, None) => presets::load("default", &o)?,
    };
    let w = pf.render_warnings();
    if !w.is_empty() {
        eprint!("{w}");
    }
    Ok(pf)
}

/// The preset's filter under `routing`, compiled when the binary was built, when the policy
/// is a preset (not `--policy`).
fn precompiled(opts: &RunOptions, routing: &route::Routing) -> Option<Program> {
    if opts.policy.is_some() {
        return None;
    }
    let name = opts.preset.as_deref().unwrap_or("default");
    presets::precompiled(name, routing, Options::default().native)
}

/// The environment the program gets.
fn environment(opts: &RunOptions) -> Result<Vec<(OsString, OsString)>, Failure> {
    let mut env: Vec<(OsString, OsString)> = if opts.env_clear {
        Vec::new()
    } else {
        std::env::vars_os().collect()
    };
    for kv in &opts.env {
        let bytes = kv.as_bytes();
        let Some(eq) = bytes.iter().position(|&b| b == b'=').filter(|&i| i > 0) else {
            return Err(Failure::input(format!(
                "--env {}: expected NAME=VALUE",
                kv.to_string_lossy()
            )));
        };
        let k = OsString::from_vec(bytes[..eq].to_vec());
        let v = OsString::from_vec(bytes[eq + 1..].to_vec());
        env.retain(|(ek, _)| *ek != k);
        env.push((k, v));
    }
    Ok(env)
}

/// Why a command could not be found.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    NotFound,
    NotExecutable(PathBuf),
}

fn executable(p: &Path) -> Result<bool, ()> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => Ok(m.permissions().mode() & 0o111 != 0),
        Ok(_) => Ok(false),
        Err(_) => Err(()),
    }
}

/// Finds `cmd` as execvp would: as given if it contains a `/`, else in each directory of
/// `path` in turn. A file that exists but is not executable is remembered, and reported if
/// nothing better is found.
pub fn find_command(cmd: &Path, path: Option<&std::ffi::OsStr>) -> Result<PathBuf, Lookup> {
    if cmd.as_os_str().as_bytes().contains(&b'/') {
        return match executable(cmd) {
            Ok(true) => Ok(cmd.to_path_buf()),
            Ok(false) => Err(Lookup::NotExecutable(cmd.to_path_buf())),
            Err(()) => Err(Lookup::NotFound),
        };
    }
    if cmd.as_os_str().is_empty() {
        return Err(Lookup::NotFound);
    }
    let default = std::ffi::OsStr::new("/usr/local/bin:/usr/bin:/bin");
    let mut not_exec = None;
    for dir in std::env::split_paths(path.unwrap_or(default)) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let cand = dir.join(cmd);
        match executable(&cand) {
            Ok(true) => return Ok(cand),
            Ok(false) => {
                not_exec.get_or_insert(cand);
            }
            Err(()) => {}
        }
    }
    Err(not_exec.map_or(Lookup::NotFound, Lookup::NotExecutable))
}

/// Runs the command: the exit status to leave with, and what the run built.
fn run_keeping(opts: &RunOptions) -> Result<(i32, Leftovers), Failure> {
    let Some(cmd) = opts.cmd.first() else {
        return Err(Failure::input(
            "no command given: straitjacket run [OPTIONS] -- CMD [ARGS]",
        ));
    };
    let pf = load_policy(opts)?;

    let env = environment(opts)?;
    if let Some(cwd) = &opts.cwd {
        if !cwd.is_dir() {
            return Err(Failure::input(format!(
                "--cwd {}: no such directory",
                cwd.display()
            )));
        }
    }
    let path = command_path(cmd, &env)?;

    let confined = crate::confine::prepare(opts, &pf.resolved.policy, &path)?;
    if opts.fs_landlock_only
        && straitjacket_sys::landlock::abi_version() < 1
        && !confined.fs.is_empty()
    {
        return Err(Failure::input(
            "--fs-landlock-only: Landlock is not available on this kernel; the fs rules need the supervisor",
        ));
    }
    let routing = route::Routing {
        report: opts.report || opts.log.is_some(),
        fs: !confined.fs.is_empty() && !opts.fs_landlock_only,
        // `--net none` leaves unix sockets named by path reachable (they are files): their
        // connects and sends go to the supervisor, which lets only the `fs` rules reach them.
        net: confined.conf.net_rules() || confined.conf.net_none,
        seal_memfds: confined.exec_rules() && !confined.memfd_noexec_by_sysctl(),
    };
    let prog = match precompiled(opts, &routing) {
        Some(prog) => prog,
        None => {
            let routed = route::route(&pf.resolved.policy, &routing);
            compile::compile(&routed).map_err(|e| Failure::input(e.to_string()))?
        }
    };
    let spec = Spec {
        path: path.as_os_str().as_bytes().to_vec(),
        argv: opts.cmd.iter().map(|a| a.as_bytes().to_vec()).collect(),
        envp: envp(&env),
        cwd: opts.cwd.as_ref().map(|c| c.as_os_str().as_bytes().to_vec()),
        filter: prog.to_raw_records(),
        keep_fds: opts.keep_fds.clone(),
        new_session: !opts.tty,
        landlock: confined.landlock.as_ref().map(|fd| fd.as_raw_fd()),
        rlimits: confined.rlimits.clone(),
        namespaces: confined.launcher_namespaces(),
    };
    let plan = Plan::new(&spec).map_err(|e| match e {
        LaunchError::FdNotOpen(fd) => {
            Failure::input(format!("--keep-fd {fd}: file descriptor {fd} is not open"))
        }
        e => Failure::input(e.to_string()),
    })?;
    if let Some(f) = confined.conf.limits.files {
        let need = plan.listener_fd() as u64 + 1;
        if f < need {
            return Err(Failure::input(format!(
                "--limit files={f}: at least {need} are needed to start (0, 1, 2, the kept fds and the launcher's own)"
            )));
        }
    }
    let code = supervise::launch_and_supervise(&plan, &pf, opts, &path, &confined, routing, None)?;
    let _kept = (pf, plan, spec, env, prog);
    Ok((code, Leftovers { _kept }))
}

/// What a run built and no longer needs once the program has ended: plain data (the
/// confinement, whose pids cgroup is removed on drop, is not part of it).
struct Leftovers {
    _kept: (PolicyFile, Plan, Spec, Vec<(OsString, OsString)>, Program),
}

/// Runs a program under a policy; the exit status to exit with (see the module docs).
pub fn run(opts: &RunOptions) -> Result<i32, Failure> {
    run_keeping(opts).map(|(code, _)| code)
}

/// Runs as [`run`] does, then exits the process with the status. What the run built is left
/// to the kernel, which takes back the whole heap at exit: freeing it piece by piece first
/// would write to heap pages the fork made copy-on-write, about 20 page faults of ~3 µs each
/// here (BENCHMARKS.md, issue 9).
pub fn run_and_exit(opts: &RunOptions) -> Result<std::convert::Infallible, Failure> {
    let (code, leftovers) = run_keeping(opts)?;
    std::mem::forget(leftovers);
    std::process::exit(code)
}

/// Finds the command as `run` and `learn` start it (in the program's PATH), or the failure
/// to exit with: 127 not found, 126 not executable; nothing is run.
pub(crate) fn command_path(
    cmd: &std::ffi::OsStr,
    env: &[(OsString, OsString)],
) -> Result<PathBuf, Failure> {
    let search = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var_os("PATH"));
    let shown = cmd.to_string_lossy();
    match find_command(Path::new(cmd), search.as_deref()) {
        Ok(p) => Ok(p),
        Err(Lookup::NotFound) => Err(Failure::with_code(
            EXIT_NOT_FOUND,
            format!("{shown}: command not found (nothing was run)"),
        )),
        Err(Lookup::NotExecutable(p)) => Err(Failure::with_code(
            EXIT_NOT_EXECUTABLE,
            format!(
                "{}: permission denied: not an executable file (nothing was run)",
                p.display()
            ),
        )),
    }
}

/// `K=V` strings for the launcher.
pub(crate) fn envp(env: &[(OsString, OsString)]) -> Vec<Vec<u8>> {
    env.iter()
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            kv
        })
        .collect()
}

/// Maps a launch failure to a message and exit status.
pub(crate) fn launch_failure(e: &LaunchError, path: &Path) -> Failure {
    match e {
        LaunchError::Child {
            step: launch::Step::Exec,
            source,
        } => exec_failure(source, path),
        e => Failure::with_code(EXIT_LAUNCH, format!("cannot start {}: {e}", path.display())),
    }
}

pub(crate) fn exec_failure(source: &std::io::Error, path: &Path) -> Failure {
    let code = if source.raw_os_error() == Some(2) {
        EXIT_NOT_FOUND
    } else {
        EXIT_NOT_EXECUTABLE
    };
    let reason = match source.raw_os_error() {
        Some(8) => "not an executable format".to_string(),
        _ => policy_file::io_reason(source),
    };
    Failure::with_code(code, format!("cannot execute {}: {reason}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_commands_like_execvp() {
        let p = find_command(Path::new("sh"), Some("/nonexistent:/bin:/usr/bin".as_ref())).unwrap();
        assert!(p.ends_with("sh"), "{}", p.display());
        assert_eq!(
            find_command(Path::new("no-such-cmd-xyz"), Some("/bin".as_ref())),
            Err(Lookup::NotFound)
        );
        assert_eq!(
            find_command(Path::new("/etc/hostname-nope"), None),
            Err(Lookup::NotFound)
        );
        assert_eq!(
            find_command(Path::new("/etc/passwd"), None),
            Err(Lookup::NotExecutable(PathBuf::from("/etc/passwd")))
        );
    }
}
