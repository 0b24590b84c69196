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
use straitjacket_policy::bpf::{disasm::disasm, run as emulate, Program, SeccompData};
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

/// A failure: the message (without the `straitjacket: ` prefix) and the exit status.
struct Failure {
    message: String,
    code: i32,
}

fn bad_input(message: String) -> Failure {
    Failure { message, code: 2 }
}

pub fn run(cmd: BpfCommand) -> i32 {
    let result = match cmd {
        BpfCommand::Disasm { file, arch } => cmd_disasm(&file, arch.as_deref()),
        BpfCommand::Emulate {
            file,
            arch,
            syscall,
            args,
        } => cmd_emulate(&file, arch.as_deref(), &syscall, &args),
        BpfCommand::Dump { pid } => cmd_dump(pid),
    };
    match result {
        Ok(()) => 0,
        Err(f) => {
            eprintln!("straitjacket: {}", f.message);
            f.code
        }
    }
}

fn parse_arch(name: Option<&str>) -> Result<Arch, Failure> {
    match name {
        None => Ok(Arch::native()),
        Some(n) => Arch::from_name(n).ok_or_else(|| {
            let known: Vec<&str> = Arch::ALL.iter().map(|a| a.name()).collect();
            bad_input(format!(
                "unknown architecture {n:?} (known: {})",
                known.join(", ")
            ))
        }),
    }
}

fn load(file: &Path) -> Result<Program, Failure> {
    let bytes = std::fs::read(file)
        .map_err(|e| bad_input(format!("{}: cannot read: {e}", file.display())))?;
    Program::from_bytes(&bytes).map_err(|e| bad_input(format!("{}: {e}", file.display())))
}

fn cmd_disasm(file: &Path, arch: Option<&str>) -> Result<(), Failure> {
    let arch = parse_arch(arch)?;
    let prog = load(file)?;
    print!("{}", disasm(&prog, Some(arch)));
    Ok(())
}

/// Parses a 64-bit value: decimal, `0x` hex, or negative (two's complement).
pub fn parse_u64(text: &str) -> Option<u64> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<u64>().ok()?,
    };
    if neg {
        if magnitude > 1 << 63 {
            return None;
        }
        Some(magnitude.wrapping_neg())
    } else {
        Some(magnitude)
    }
}

fn parse_syscall(arch: Arch, text: &str) -> Result<u32, Failure> {
    if text.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        let v = parse_u64(text)
            .ok_or_else(|| bad_input(format!("invalid system call number {text:?}")))?;
        // seccomp_data.nr is an int: accept -2^31..2^32.
        let as_i64 = v as i64;
        return if v <= u64::from(u32::MAX) {
            Ok(v as u32)
        } else if as_i64 >= i64::from(i32::MIN) && as_i64 < 0 {
            Ok(as_i64 as i32 as u32)
        } else {
            Err(bad_input(format!(
                "system call number {text} does not fit in 32 bits"
            )))
        };
    }
    let name = text.strip_prefix("sys_").unwrap_or(text);
    arch.syscall(name).map(|d| d.nr).ok_or_else(|| {
        bad_input(format!(
            "unknown system call {text:?} for {arch} (give a name from the table or a number)"
        ))
    })
}

fn cmd_emulate(
    file: &Path,
    arch: Option<&str>,
    syscall: &str,
    args: &[String],
) -> Result<(), Failure> {
    let arch = parse_arch(arch)?;
    let nr = parse_syscall(arch, syscall)?;
    if args.len() > 6 {
        return Err(bad_input(format!(
            "at most 6 arguments, got {}",
            args.len()
        )));
    }
    let mut values = [0u64; 6];
    for (i, a) in args.iter().enumerate() {
        values[i] = parse_u64(a).ok_or_else(|| {
            bad_input(format!(
                "argument {i}: {a:?} is not a number (decimal, negative, or 0x hex)"
            ))
        })?;
    }
    let prog = load(file)?;
    let data = SeccompData {
        nr: nr as i32,
        arch: arch.audit_arch(),
        instruction_pointer: 0,
        args: values,
    };
    let out = emulate(&prog, &data);
    println!("{}", out.action());
    println!("instructions: {}", out.executed);
    Ok(())
}

fn cmd_dump(pid: i32) -> Result<(), Failure> {
    let filters = get_seccomp_filters(pid).map_err(|e| Failure {
        code: match e {
            DumpError::NoSuchProcess(_) => 2,
            _ => 1,
        },
        message: format!("bpf dump {pid}: {e}"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers() {
        assert_eq!(parse_u64("0"), Some(0));
        assert_eq!(parse_u64("42"), Some(42));
        assert_eq!(parse_u64("0x1_0"), None);
        assert_eq!(parse_u64("0x10"), Some(16));
        assert_eq!(parse_u64("-1"), Some(u64::MAX));
        assert_eq!(parse_u64("-100"), Some(0xffff_ffff_ffff_ff9c));
        assert_eq!(parse_u64("-0x8000000000000000"), Some(1 << 63));
        assert_eq!(parse_u64("-0x8000000000000001"), None);
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64("18446744073709551616"), None);
        assert_eq!(parse_u64("abc"), None);
    }

    #[test]
    fn parses_syscalls() {
        assert_eq!(parse_syscall(Arch::X86_64, "read").ok(), Some(0));
        assert_eq!(parse_syscall(Arch::X86_64, "sys_write").ok(), Some(1));
        assert_eq!(parse_syscall(Arch::X86_64, "257").ok(), Some(257));
        assert_eq!(parse_syscall(Arch::X86_64, "0x101").ok(), Some(257));
        assert_eq!(parse_syscall(Arch::X86_64, "-1").ok(), Some(u32::MAX));
        assert!(parse_syscall(Arch::X86_64, "no_such_call").is_err());
        assert!(parse_syscall(Arch::X86_64, "0x100000000").is_err());
    }
}
