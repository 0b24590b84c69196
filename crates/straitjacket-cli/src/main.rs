//! The `straitjacket` command line: clap's structs, the dispatch, and nothing else (each
//! subcommand is a module of `cmd`; exit statuses are `exit`'s).
#![forbid(unsafe_code)]

mod call;
mod cmd;
mod exit;
mod failure;

use cmd::{bpf as cli_bpf, formats as cli_formats, policy as cli_policy, strict};

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use straitjacket::presets;

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
    Run(cmd::run::RunArgs),
    /// Run a program with every system call observed, and write the policy that lets it
    /// run again.
    ///
    /// Follows threads, forks and execs. The policy: `default kill-process`, the native
    /// `arch`, each system call seen (grouped as `straitjacket groups` lists them, with how
    /// often), and what could not be pinned, as comments (also on stderr). A block of
    /// `# learned:` comments at its end records what was seen, so that --append can merge
    /// later runs exactly. Exit status: the program's (after the policy is written); as
    /// `run` for a command not found (127) or not executable (126); 2 bad input.
    Learn(cmd::learn::LearnArgs),
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

#[derive(Subcommand, Debug)]
enum PresetsCommand {
    /// Print a preset's source.
    Show { name: String },
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Run(args) => match cmd::run::run_and_exit(args)? {},
        Command::Learn(opts) => {
            let code = cmd::learn::learn(&opts)?;
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
