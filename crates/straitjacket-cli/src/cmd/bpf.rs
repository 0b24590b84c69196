//! `straitjacket bpf …`: the cBPF toolkit on the command line.
//!
//! - `disasm FILE` — disassemble a raw filter (as written by `seccomp_export_bpf`).
//! - `emulate FILE [--arch A] SYSCALL [ARG0 … ARG5]` — run it on one `seccomp_data` and print
//!   the action and the instruction count.
//! - `dump PID` — read a running process's filters (needs CAP_SYS_ADMIN) and disassemble them.
//!
//! Exit status: 0 on success, 2 for bad input (a file the kernel would refuse, an unknown
//! syscall or arch, a malformed number), 1 when the system refuses (permissions).

use std::path::{Path, PathBuf};

use clap::Subcommand;
use straitjacket_policy::bpf::{disasm::disasm, run as emulate, Program};

use crate::call::{parse_arch, parse_call};
use crate::failure::Failure;
use straitjacket_policy::Arch;
use straitjacket_sys::ptrace::{get_seccomp_filters, DumpError};

#[derive(Subcommand, Debug)]
pub enum BpfCommand {
    /// Disassemble a raw filter file.
    Disasm {
        /// A raw filter: 8-byte `struct sock_filter` records in host byte order.
        file: PathBuf,
        /// Architecture for syscall names in comments (default: native).
        #[arg(long)]
        arch: Option<String>,
    },
    /// Run a raw filter on one system call and print what the kernel would do.
    #[command(allow_negative_numbers = true)]
    Emulate {
        /// A raw filter file.
        file: PathBuf,
        /// Architecture of the call: x86_64, x32, i386, aarch64 (default: native).
        #[arg(long)]
        arch: Option<String>,
        /// System call name (`openat`) or number (`257`, `0x101`).
        syscall: String,
        /// Up to six arguments: decimal, negative (two's complement), or 0x hex; missing are 0.
        #[arg(num_args = 0..=6, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Read and disassemble the seccomp filters of a running process (needs CAP_SYS_ADMIN).
    Dump {
        /// Process id.
        pid: i32,
    },
}

pub fn run(cmd: BpfCommand) -> Result<(), Failure> {
    match cmd {
        BpfCommand::Disasm { file, arch } => cmd_disasm(&file, arch.as_deref()),
        BpfCommand::Emulate {
            file,
            arch,
            syscall,
            args,
        } => cmd_emulate(&file, arch.as_deref(), &syscall, &args),
        BpfCommand::Dump { pid } => cmd_dump(pid),
    }
}

fn load(file: &Path) -> Result<Program, Failure> {
    let bytes = std::fs::read(file).map_err(|e| {
        Failure::input(format!(
            "{}: {}",
            file.display(),
            straitjacket::load::io_reason(&e)
        ))
    })?;
    Program::from_bytes(&bytes).map_err(|e| Failure::input(format!("{}: {e}", file.display())))
}

fn cmd_disasm(file: &Path, arch: Option<&str>) -> Result<(), Failure> {
    let arch = parse_arch(arch)?;
    let prog = load(file)?;
    print!("{}", disasm(&prog, Some(arch)));
    Ok(())
}

fn cmd_emulate(
    file: &Path,
    arch: Option<&str>,
    syscall: &str,
    args: &[String],
) -> Result<(), Failure> {
    let arch = parse_arch(arch)?;
    let data = parse_call(arch, syscall, args)?;
    let prog = load(file)?;
    let out = emulate(&prog, &data);
    println!("{}", out.action());
    println!("instructions: {}", out.executed);
    Ok(())
}

fn cmd_dump(pid: i32) -> Result<(), Failure> {
    let filters = get_seccomp_filters(pid).map_err(|e| {
        let code = match e {
            DumpError::NoSuchProcess(_) => 2,
            _ => 1,
        };
        Failure::with_code(code, format!("bpf dump {pid}: {e}"))
    })?;
    if filters.is_empty() {
        println!("process {pid} has no seccomp filters");
        return Ok(());
    }
    let arch = Arch::native();
    for (i, bytes) in filters.iter().enumerate() {
        println!("filter {i}:");
        match Program::from_bytes(bytes) {
            Ok(p) => print!("{}", disasm(&p, Some(arch))),
            Err(e) => println!("  (cannot decode: {e})"),
        }
    }
    Ok(())
}
