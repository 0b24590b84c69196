//! `straitjacket run`: the command line made into a [`Sandbox`], launched and supervised.
//!
//! Flags are parsed here, once, into typed [`Overrides`]; the library merges them with the
//! policy ([`SandboxBuilder`]), prepares the launch and supervises. The exit status comes
//! from [`crate::exit`].

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use straitjacket::load::PolicyFile;
use straitjacket::sandbox::{Bind, Enforcement, Reporting};
use straitjacket::{presets, Launch, Mode, Overrides, Sandbox, SandboxBuilder};
use straitjacket_policy::resolve::settings::{parse_duration_ms, LimitKind, Namespace};
use straitjacket_policy::resolve::Options;

use crate::failure::Failure;

/// The flags of `run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// A policy file.
    #[arg(long, conflicts_with = "preset")]
    pub policy: Option<PathBuf>,
    /// An embedded policy (`straitjacket presets` lists them).
    #[arg(long)]
    pub preset: Option<String>,
    /// Pass this open file descriptor on (repeatable).
    #[arg(long = "keep-fd", value_name = "N")]
    pub keep_fd: Vec<i32>,
    /// Start from an empty environment.
    #[arg(long)]
    pub env_clear: bool,
    /// Set a variable (repeatable).
    #[arg(long, value_name = "K=V")]
    pub env: Vec<OsString>,
    /// Working directory of the program.
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Keep the caller's terminal session (no setsid): for interactive programs.
    #[arg(long)]
    pub tty: bool,
    /// Also report calls answered with an errno (one line per call and rule, then a count).
    #[arg(long)]
    pub report: bool,
    /// Write one JSON line per supervised decision and per blocked call to FILE
    /// (time, pid, tid, syscall, the decoded call, the decision, the rule).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Enforce fs rules with Landlock alone, without the supervisor (faster: file
    /// calls stay in the kernel; needs Landlock, and `..`/symlink checks are Landlock's).
    #[arg(long, conflicts_with = "fs_supervisor_only")]
    pub fs_landlock_only: bool,
    /// Enforce fs rules with the supervisor alone, without Landlock (as on a kernel
    /// without it: exec is then not confined by path).
    #[arg(long)]
    pub fs_supervisor_only: bool,
    #[command(flatten)]
    pub confine: ConfineArgs,
    /// The program and its arguments.
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub cmd: Vec<OsString>,
}

/// Confinement beyond system calls (`run`).
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Confinement (Landlock, namespaces, limits)")]
pub struct ConfineArgs {
    /// Landlock: allow reading files and listing directories beneath PATH (repeatable).
    /// Any fs rule denies every other path, except the system paths
    /// (`straitjacket presets show system-paths`).
    #[arg(long, value_name = "PATH")]
    pub allow_read: Vec<PathBuf>,
    /// Landlock: allow reading, writing, truncating, creating and removing beneath PATH.
    #[arg(long, value_name = "PATH")]
    pub allow_write: Vec<PathBuf>,
    /// Landlock: allow executing files beneath PATH.
    #[arg(long, value_name = "PATH")]
    pub allow_exec: Vec<PathBuf>,
    /// Do not add the system paths (loader, libraries, locale, /dev/null, …) to fs rules.
    #[arg(long)]
    pub no_system_paths: bool,
    /// Exit 2 instead of warning when the kernel's Landlock cannot enforce every rule.
    #[arg(long)]
    pub require_landlock: bool,
    /// New namespaces: a comma-separated list of net, pid, ipc, uts, mount, user, cgroup,
    /// or `all`. For an ordinary user a user namespace is added, mapping their uid and gid.
    #[arg(long, value_name = "LIST")]
    pub unshare: Vec<String>,
    /// Keep the host's namespace instead of the one `run` makes by default: a comma-separated
    /// list of pid, ipc, uts, or `all`. By default the program gets its own pid, IPC and UTS
    /// namespaces (it cannot see or act on outside processes, reach the host's System V IPC
    /// objects or POSIX message queues, or change the host's hostname); sharing one gives that
    /// back, with a warning.
    #[arg(long, value_name = "LIST")]
    pub share: Vec<String>,
    /// `--net none`: an empty network namespace with only loopback, up.
    #[arg(long, value_name = "none", value_parser = ["none"])]
    pub net: Option<String>,
    /// The hostname inside (implies the uts namespace).
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// A fresh tmpfs on /tmp (implies the mount namespace).
    #[arg(long)]
    pub private_tmp: bool,
    /// Bind SRC read-only on DST (implies the mount namespace; repeatable).
    #[arg(long, num_args = 2, value_names = ["SRC", "DST"])]
    pub ro_bind: Vec<PathBuf>,
    /// Bind SRC on DST (implies the mount namespace; repeatable).
    #[arg(long, num_args = 2, value_names = ["SRC", "DST"])]
    pub bind: Vec<PathBuf>,
    /// Resource limits, comma-separated: cpu=SECONDS, mem=BYTES, procs=N, files=N,
    /// fsize=BYTES (sizes take K, M, G). Reaching cpu, mem or procs kills the whole tree
    /// (exit 137, `straitjacket: killed: … limit … reached`).
    #[arg(long, value_name = "NAME=VALUE,…")]
    pub limit: Vec<String>,
    /// Wall-clock limit (`30`, `30s`, `500ms`, `2m`): the whole tree is killed (exit 124).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<String>,
}

/// Runs the program, then exits with its status. What the run built is left to the kernel,
/// which takes back the whole heap at exit: freeing it piece by piece first would write to
/// heap pages the fork made copy-on-write, about 20 page faults of ~3 µs each here
/// (BENCHMARKS.md).
pub fn run_and_exit(args: RunArgs) -> Result<std::convert::Infallible, Failure> {
    let (sandbox, mut launch) = prepare(args)?;
    let finished = straitjacket::supervise(&sandbox, &mut launch, Mode::Enforce)?;
    let code = crate::exit::of_finished(&finished, &sandbox.command.path);
    std::mem::forget((sandbox, launch));
    std::process::exit(code)
}

/// The sandbox the flags describe, made ready to launch (warnings printed on the way).
fn prepare(args: RunArgs) -> Result<(Sandbox, Launch), Failure> {
    let pf = load_policy(&args)?;
    let preset = match args.policy {
        Some(_) => None,
        None => Some(args.preset.clone().unwrap_or_else(|| "default".into())),
    };
    let env = environment(args.env_clear, &args.env)?;
    let overrides = overrides(&args)?;
    let mut builder = SandboxBuilder::new(pf, args.cmd);
    builder.preset = preset;
    builder.env = env;
    builder.cwd = args.cwd;
    builder.keep_fds = args.keep_fd;
    builder.new_session = !args.tty;
    builder.overrides = overrides;
    let mut warnings = Vec::new();
    let built = builder.build(&mut warnings);
    print_warnings(&warnings);
    let sandbox = built?;
    let mut warnings = Vec::new();
    let launch = Launch::prepare(&sandbox, &mut warnings);
    print_warnings(&warnings);
    Ok((sandbox, launch?))
}

fn print_warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("straitjacket: warning: {w}");
    }
}

/// Loads the policy the flags name (the `default` preset if none).
fn load_policy(args: &RunArgs) -> Result<PolicyFile, Failure> {
    let o = Options::default();
    let pf = match (&args.policy, &args.preset) {
        (Some(_), Some(_)) => return Err(Failure::input("give --policy or --preset, not both")),
        (Some(path), None) => straitjacket::load::load(path, &o)?,
        (None, Some(name)) => presets::load(name, &o)?,
        (None, None) => presets::load("default", &o)?,
    };
    let w = pf.render_warnings();
    if !w.is_empty() {
        eprint!("{w}");
    }
    Ok(pf)
}

/// The environment the program gets: ours (or none), with each `K=V` set on top.
fn environment(clear: bool, set: &[OsString]) -> Result<Vec<(OsString, OsString)>, Failure> {
    let mut env: Vec<(OsString, OsString)> = if clear {
        Vec::new()
    } else {
        std::env::vars_os().collect()
    };
    for kv in set {
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

/// The flags, typed.
fn overrides(args: &RunArgs) -> Result<Overrides, Failure> {
    let c = &args.confine;
    let mut limits = Vec::new();
    for flag in &c.limit {
        limits.extend(parse_limits(flag)?);
    }
    let timeout_ms = c
        .timeout
        .as_deref()
        .map(|t| parse_duration_ms(t).map_err(|e| Failure::input(format!("--timeout: {e}"))))
        .transpose()?;
    let mut unshare = BTreeSet::new();
    for list in &c.unshare {
        parse_unshare(list, &mut unshare)?;
    }
    let mut share = BTreeSet::new();
    for list in &c.share {
        parse_share(list, &mut share)?;
    }
    let mut binds = Vec::new();
    for (pairs, read_only) in [(&c.ro_bind, true), (&c.bind, false)] {
        for pair in pairs.chunks(2) {
            let [source, target] = pair else {
                return Err(Failure::input("--bind/--ro-bind take two paths: SRC DST"));
            };
            binds.push(Bind {
                source: source.clone(),
                target: target.clone(),
                read_only,
            });
        }
    }
    Ok(Overrides {
        limits,
        timeout_ms,
        unshare,
        share,
        net_none: c.net.is_some(),
        hostname: c.hostname.clone(),
        private_tmp: c.private_tmp,
        binds,
        allow_read: c.allow_read.clone(),
        allow_write: c.allow_write.clone(),
        allow_exec: c.allow_exec.clone(),
        no_system_paths: c.no_system_paths,
        enforcement: Enforcement {
            landlock: !args.fs_supervisor_only,
            supervisor: !args.fs_landlock_only,
            require_landlock: c.require_landlock,
        },
        reporting: Reporting {
            report: args.report,
            log: args.log.clone(),
        },
    })
}

/// `--limit cpu=2,mem=64M,…`.
fn parse_limits(flag: &str) -> Result<Vec<(LimitKind, u64)>, Failure> {
    let mut out = Vec::new();
    for part in flag.split(',').filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(Failure::input(format!(
                "--limit {part}: expected NAME=VALUE (cpu=SECONDS, mem=BYTES, procs=N, files=N, fsize=BYTES)"
            )));
        };
        let kind =
            LimitKind::parse(k.trim()).map_err(|e| Failure::input(format!("--limit: {e}")))?;
        let v = kind
            .value(v.trim())
            .map_err(|e| Failure::input(format!("--limit {k}: {e}")))?;
        out.push((kind, v));
    }
    Ok(out)
}

/// `--unshare net,pid,…|all`.
fn parse_unshare(list: &str, into: &mut BTreeSet<Namespace>) -> Result<(), Failure> {
    for w in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        if w == "all" {
            into.extend(Namespace::ALL);
        } else {
            into.insert(
                Namespace::parse(w).map_err(|e| Failure::input(format!("--unshare: {e}")))?,
            );
        }
    }
    Ok(())
}

/// `--share pid,ipc,uts|all`.
fn parse_share(list: &str, into: &mut BTreeSet<Namespace>) -> Result<(), Failure> {
    for w in list.split(',').map(str::trim) {
        if w == "all" {
            into.extend(Namespace::DEFAULT_ISOLATION);
            continue;
        }
        into.insert(Namespace::parse(w).map_err(|_| {
            Failure::input(format!(
                "--share {w}: expected pid, ipc, uts or all (the namespaces run makes by default)"
            ))
        })?);
    }
    Ok(())
}
