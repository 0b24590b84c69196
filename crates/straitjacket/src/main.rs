//! The `straitjacket` command line.
#![forbid(unsafe_code)]

mod call;
mod cli_bpf;
mod cli_formats;
mod cli_policy;
mod strict;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use straitjacket::{failure, policy_file, presets};

use failure::Failure;

/// Run code you do not trust under a seccomp policy.
#[derive(Parser, Debug)]
#[command(name = "straitjacket", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of the `run` variant costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Check a policy: diagnostics, or a summary of what it allows.
    Check {
        file: PathBuf,
        /// Treat warnings as errors.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Compile a policy to a seccomp-BPF filter.
    Compile {
        file: PathBuf,
        /// The machine's architecture (the ABI of a policy without an `arch` statement).
        #[arg(long)]
        arch: Option<String>,
        #[arg(long, value_enum, default_value = "disasm")]
        format: cli_policy::Format,
        /// Write to this file instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Run the compiled filter on one system call and print the action.
    Simulate {
        file: PathBuf,
        #[arg(long)]
        arch: Option<String>,
        /// Name or number.
        syscall: String,
        /// Up to six arguments: decimal, negative, 0x hex, or a named constant.
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
    },
    /// Say which rule decides a system call, and why.
    Explain {
        file: PathBuf,
        #[arg(long)]
        arch: Option<String>,
        syscall: String,
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
    },
    /// List the named groups of system calls (`@basic-io`, …) and their members.
    Groups {
        #[arg(long)]
        arch: Option<String>,
    },
    /// List the embedded policies, or print one (`presets show NAME`).
    Presets {
        #[command(subcommand)]
        show: Option<PresetsCommand>,
    },
    /// Run a program under a policy (the `default` preset unless told otherwise).
    ///
    /// The program gets only fds 0, 1, 2 and each --keep-fd, a new session (unless --tty),
    /// NO_NEW_PRIVS, and the filter, installed right before exec. A blocked call is explained
    /// on stderr. straitjacket forwards SIGINT, SIGTERM and SIGHUP, and is a child subreaper:
    /// descendants left running when the program ends are killed. Exit status: the
    /// program's; 128+N if it dies of signal N; 159 if the policy kills it; 127 command not
    /// found; 126 not executable; 2 bad input; 125 the launch failed; 124 the --timeout (or
    /// `timeout`) ran out; 137 a cpu, mem or procs limit was reached (the whole tree is killed,
    /// and a line `straitjacket: killed: … limit … reached` says which).
    Run {
        /// A policy file.
        #[arg(long, conflicts_with = "preset")]
        policy: Option<PathBuf>,
        /// An embedded policy (`straitjacket presets` lists them).
        #[arg(long)]
        preset: Option<String>,
        /// Pass this open file descriptor on (repeatable).
        #[arg(long = "keep-fd", value_name = "N")]
        keep_fd: Vec<i32>,
        /// Start from an empty environment.
        #[arg(long)]
        env_clear: bool,
        /// Set a variable (repeatable).
        #[arg(long, value_name = "K=V")]
        env: Vec<std::ffi::OsString>,
        /// Working directory of the program.
        #[arg(long)]
        cwd: Option<PathBuf>,
        /// Keep the caller's terminal session (no setsid): for interactive programs.
        #[arg(long)]
        tty: bool,
        /// Also report calls answered with an errno (one line per call and rule, then a count).
        #[arg(long)]
        report: bool,
        /// Write one JSON line per supervised decision and per blocked call to FILE
        /// (time, pid, tid, syscall, the decoded call, the decision, the rule).
        #[arg(long, value_name = "FILE")]
        log: Option<PathBuf>,
        /// Enforce fs rules with Landlock alone, without the supervisor (faster: file
        /// calls stay in the kernel; needs Landlock, and `..`/symlink checks are Landlock's).
        #[arg(long, conflicts_with = "fs_supervisor_only")]
        fs_landlock_only: bool,
        /// Enforce fs rules with the supervisor alone, without Landlock (as on a kernel
        /// without it: exec is then not confined by path).
        #[arg(long)]
        fs_supervisor_only: bool,
        #[command(flatten)]
        confine: ConfineArgs,
        /// The program and its arguments.
        #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
        cmd: Vec<std::ffi::OsString>,
    },
    /// Run a program with every system call observed, and write the policy that lets it
    /// run again.
    ///
    /// Follows threads, forks and execs. The policy: `default kill-process`, the native
    /// `arch`, each system call seen (grouped as `straitjacket groups` lists them, with how
    /// often), and what could not be pinned, as comments (also on stderr). A block of
    /// `# learned:` comments at its end records what was seen, so that --append can merge
    /// later runs exactly. Exit status: the program's (after the policy is written); as
    /// `run` for a command not found (127) or not executable (126); 2 bad input.
    Learn(straitjacket::learn::LearnOptions),
    /// Inspect raw seccomp BPF filters: disassemble, emulate, dump a process's filters.
    #[command(subcommand)]
    Bpf(cli_bpf::BpfCommand),
    /// Convert a policy of another format (OCI/Docker/Podman JSON, a Kubernetes
    /// SeccompProfile, minijail, an ftrace seed table) to the policy language.
    Import {
        file: PathBuf,
        #[arg(long, value_enum)]
        from: cli_formats::From,
        /// The machine's architecture (picks Docker's archMap entry and `includes.arches`).
        #[arg(long)]
        arch: Option<String>,
        /// The container's capabilities for Docker's includes/excludes, comma-separated
        /// (default: Docker's default set; `none` for none).
        #[arg(long)]
        caps: Option<String>,
        /// Kernel version MAJOR.MINOR for Docker's minKernel (default: this machine's).
        #[arg(long)]
        kernel: Option<String>,
        /// The SeccompProfile to import from a YAML with several (its metadata.name).
        #[arg(long)]
        profile: Option<String>,
        /// Where minijail `@include`s of absent absolute paths are looked up by file name.
        #[arg(long)]
        include_dir: Option<PathBuf>,
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Write a policy as an OCI seccomp profile (runc, crun, Docker) or a Kubernetes
    /// Security Profiles Operator SeccompProfile.
    Export {
        file: PathBuf,
        #[arg(long, value_enum)]
        format: cli_formats::To,
        #[arg(long)]
        arch: Option<String>,
        /// listenerPath for notify rules.
        #[arg(long)]
        listener_path: Option<String>,
        /// metadata.name of the SeccompProfile (default: the file's name).
        #[arg(long)]
        name: Option<String>,
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Run a static binary in seccomp strict mode (read, write, exit only), optionally
    /// serving its requests for files, outputs, time and randomness on fd 3.
    Strict(strict::StrictArgs),
    /// List the system calls of an architecture with their arguments.
    Syscalls {
        #[arg(long)]
        arch: Option<String>,
    },
}

/// Confinement beyond system calls (`run`).
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Confinement (Landlock, namespaces, limits)")]
struct ConfineArgs {
    /// Landlock: allow reading files and listing directories beneath PATH (repeatable).
    /// Any fs rule denies every other path, except the system paths
    /// (`straitjacket presets show system-paths`).
    #[arg(long, value_name = "PATH")]
    allow_read: Vec<PathBuf>,
    /// Landlock: allow reading, writing, truncating, creating and removing beneath PATH.
    #[arg(long, value_name = "PATH")]
    allow_write: Vec<PathBuf>,
    /// Landlock: allow executing files beneath PATH.
    #[arg(long, value_name = "PATH")]
    allow_exec: Vec<PathBuf>,
    /// Do not add the system paths (loader, libraries, locale, /dev/null, …) to fs rules.
    #[arg(long)]
    no_system_paths: bool,
    /// Exit 2 instead of warning when the kernel's Landlock cannot enforce every rule.
    #[arg(long)]
    require_landlock: bool,
    /// New namespaces: a comma-separated list of net, pid, ipc, uts, mount, user, cgroup,
    /// or `all`. For an ordinary user a user namespace is added, mapping their uid and gid.
    #[arg(long, value_name = "LIST")]
    unshare: Vec<String>,
    /// Keep the host's namespace instead of the one `run` makes by default: a comma-separated
    /// list of pid, ipc, uts, or `all`. By default the program gets its own pid, IPC and UTS
    /// namespaces (it cannot see or act on outside processes, reach the host's System V IPC
    /// objects or POSIX message queues, or change the host's hostname); sharing one gives that
    /// back, with a warning.
    #[arg(long, value_name = "LIST")]
    share: Vec<String>,
    /// `--net none`: an empty network namespace with only loopback, up.
    #[arg(long, value_name = "none", value_parser = ["none"])]
    net: Option<String>,
    /// The hostname inside (implies the uts namespace).
    #[arg(long, value_name = "NAME")]
    hostname: Option<String>,
    /// A fresh tmpfs on /tmp (implies the mount namespace).
    #[arg(long)]
    private_tmp: bool,
    /// Bind SRC read-only on DST (implies the mount namespace; repeatable).
    #[arg(long, num_args = 2, value_names = ["SRC", "DST"])]
    ro_bind: Vec<PathBuf>,
    /// Bind SRC on DST (implies the mount namespace; repeatable).
    #[arg(long, num_args = 2, value_names = ["SRC", "DST"])]
    bind: Vec<PathBuf>,
    /// Resource limits, comma-separated: cpu=SECONDS, mem=BYTES, procs=N, files=N,
    /// fsize=BYTES (sizes take K, M, G). Reaching cpu, mem or procs kills the whole tree
    /// (exit 137, `straitjacket: killed: … limit … reached`).
    #[arg(long, value_name = "NAME=VALUE,…")]
    limit: Vec<String>,
    /// Wall-clock limit (`30`, `30s`, `500ms`, `2m`): the whole tree is killed (exit 124).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<String>,
}

#[derive(Subcommand, Debug)]
enum PresetsCommand {
    /// Print a preset's source.
    Show { name: String },
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Run {
            policy,
            preset,
            keep_fd,
            env_clear,
            env,
            cwd,
            tty,
            report,
            log,
            fs_landlock_only,
            fs_supervisor_only,
            confine,
            cmd,
        } => {
            let opts = straitjacket::run::RunOptions {
                policy,
                preset,
                keep_fds: keep_fd,
                env_clear,
                env,
                cwd,
                tty,
                report,
                log,
                fs_landlock_only,
                fs_supervisor_only,
                cmd,
                allow_read: confine.allow_read,
                allow_write: confine.allow_write,
                allow_exec: confine.allow_exec,
                no_system_paths: confine.no_system_paths,
                require_landlock: confine.require_landlock,
                unshare: confine.unshare,
                share: confine.share,
                net_none: confine.net.is_some(),
                hostname: confine.hostname,
                private_tmp: confine.private_tmp,
                ro_bind: confine.ro_bind,
                bind: confine.bind,
                limit: confine.limit,
                timeout: confine.timeout,
            };
            match straitjacket::run::run_and_exit(&opts)? {}
        }
        Command::Learn(opts) => {
            let code = straitjacket::learn::learn(&opts)?;
            std::process::exit(code);
        }
        Command::Check {
            file,
            deny_warnings,
        } => cli_policy::check(&file, deny_warnings),
        Command::Compile {
            file,
            arch,
            format,
            output,
        } => cli_policy::compile_cmd(&file, arch.as_deref(), format, output.as_ref()),
        Command::Simulate {
            file,
            arch,
            syscall,
            args,
        } => cli_policy::simulate(&file, arch.as_deref(), &syscall, &args),
        Command::Explain {
            file,
            arch,
            syscall,
            args,
        } => cli_policy::explain(&file, arch.as_deref(), &syscall, &args),
        Command::Groups { arch } => cli_policy::groups_cmd(arch.as_deref()),
        Command::Syscalls { arch } => cli_policy::syscalls_cmd(arch.as_deref()),
        Command::Bpf(cmd) => cli_bpf::run(cmd),
        Command::Import {
            file,
            from,
            arch,
            caps,
            kernel,
            profile,
            include_dir,
            output,
        } => cli_formats::import_cmd(&cli_formats::ImportArgs {
            file: &file,
            from,
            arch: arch.as_deref(),
            caps: caps.as_deref(),
            kernel: kernel.as_deref(),
            profile: profile.as_deref(),
            include_dir: include_dir.as_deref(),
            output: output.as_ref(),
        }),
        Command::Export {
            file,
            format,
            arch,
            listener_path,
            name,
            output,
        } => cli_formats::export_cmd(
            &file,
            format,
            arch.as_deref(),
            listener_path,
            name,
            output.as_ref(),
        ),
        Command::Strict(args) => strict::run(args),
        Command::Presets { show: None } => {
            for p in presets::PRESETS {
                println!("{:<12} {}", p.name, p.about);
            }
            Ok(())
        }
        Command::Presets {
            show: Some(PresetsCommand::Show { name }),
        } => {
            let p = presets::find(&name).ok_or_else(|| presets::unknown(&name))?;
            print!("{}", p.source);
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => ExitCode::from(f.report().clamp(0, 255) as u8),
    }
}
