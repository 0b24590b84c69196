//! The `straitjacket` command line.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};

mod cli_bpf;

/// Run code you do not trust under a seccomp policy.
#[derive(Parser, Debug)]
#[command(name = "straitjacket", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Inspect raw seccomp BPF filters: disassemble, emulate, dump a process's filters.
    #[command(subcommand)]
    Bpf(cli_bpf::BpfCommand),
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Bpf(cmd) => cli_bpf::run(cmd),
    };
    std::process::exit(code);
}
