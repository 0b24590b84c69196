//! A system call written on the command line (`openat AT_FDCWD 0x1000 -1`) as `seccomp_data`.

use straitjacket_policy::arch::Arch;
use straitjacket_policy::bpf::SeccompData;

use crate::failure::Failure;

/// Parses `--arch` (default: the native ABI).
pub fn parse_arch(name: Option<&str>) -> Result<Arch, Failure> {
    match name {
        None => Ok(Arch::native()),
        Some(n) => Arch::from_name(n).ok_or_else(|| {
            Failure::input(format!(
                "unknown architecture `{n}` (known: x86_64, x32, i386 (x86), aarch64 (arm64))"
            ))
        }),
    }
}

/// The `seccomp_data` of a call of `arch`: syscall by name or number, up to six arguments in
/// decimal, negative decimal (two's complement), 0x hex, 0o/0b, or a named constant.
pub fn parse_call(arch: Arch, syscall: &str, args: &[String]) -> Result<SeccompData, Failure> {
    if args.len() > 6 {
        return Err(Failure::input(format!(
            "a system call has at most 6 arguments, {} given",
            args.len()
        )));
    }
    let nr = match parse_number(syscall) {
        // seccomp_data.nr is an int: -1 is 0xffffffff.
        Some(n) if n <= u64::from(u32::MAX) => n as u32,
        Some(n) if (n as i64) < 0 && (n as i64) >= i64::from(i32::MIN) => n as i64 as i32 as u32,
        Some(_) => {
            return Err(Failure::input(format!(
                "syscall number `{syscall}` does not fit in 32 bits"
            )))
        }
        None => match straitjacket_policy::resolve::lookup(arch, syscall) {
            Some(s) => s.nr,
            None => {
                let mut msg = format!("unknown system call `{syscall}` on {arch}");
                let names = arch.syscalls().iter().map(|s| s.name);
                if let Some(s) = straitjacket_policy::diag::suggest(syscall, names) {
                    msg.push_str(&format!(" (did you mean `{s}`?)"));
                }
                return Err(Failure::input(msg));
            }
        },
    };
    let mut regs = [0u64; 6];
    for (i, a) in args.iter().enumerate() {
        regs[i] = match parse_number(a) {
            Some(v) => v,
            None => match arch.constant(a) {
                Some(v) => v as u64,
                None => {
                    return Err(Failure::input(format!(
                        "argument {i}: `{a}` is not a number or a known constant"
                    )))
                }
            },
        };
    }
    Ok(SeccompData {
        nr: nr as i32,
        arch: arch.audit_arch(),
        instruction_pointer: 0,
        args: regs,
    })
}

/// A 64-bit register value: decimal, negative decimal, 0x/0o/0b.
pub fn parse_number(s: &str) -> Option<u64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let body = body.replace('_', "");
    let v: u64 = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = body.strip_prefix("0o") {
        u64::from_str_radix(o, 8).ok()?
    } else if let Some(b) = body.strip_prefix("0b") {
        u64::from_str_radix(b, 2).ok()?
    } else {
        body.parse().ok()?
    };
    if neg {
        if v > 1 << 63 {
            return None;
        }
        Some(v.wrapping_neg())
    } else {
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syscall_numbers_are_32_bit_ints() {
        let nr = |s: &str| parse_call(Arch::X86_64, s, &[]).map(|d| d.nr);
        assert_eq!(nr("read").ok(), Some(0));
        assert_eq!(nr("sys_write").ok(), Some(1));
        assert_eq!(nr("0x101").ok(), Some(257));
        assert_eq!(nr("-1").ok(), Some(-1));
        assert_eq!(nr("4294967295").ok(), Some(-1));
        assert!(nr("-2147483649").is_err());
        assert!(nr("0x100000000").is_err());
        assert!(nr("no_such_call").is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("12"), Some(12));
        assert_eq!(parse_number("-1"), Some(u64::MAX));
        assert_eq!(parse_number("0xffffffff"), Some(0xffff_ffff));
        assert_eq!(parse_number("-9223372036854775808"), Some(1 << 63));
        assert_eq!(parse_number("-9223372036854775809"), None);
        assert_eq!(parse_number("18446744073709551616"), None);
        assert_eq!(parse_number("x"), None);
    }
}
