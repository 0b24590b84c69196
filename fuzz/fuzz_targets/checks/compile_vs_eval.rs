//! Policies built from fuzz bytes (a small grammar over real syscalls, arguments and
//! constants): every one that resolves must compile, and the emulator must agree with the
//! rules' meaning on calls derived from the same bytes.

use straitjacket_policy::arch::Arch;
use straitjacket_policy::bpf::{vm, SeccompData};
use straitjacket_policy::compile::compile;
use straitjacket_policy::ir::eval;
use straitjacket_policy::resolve::{resolve_text, Options};

const CALLS: &[&str] = &[
    "read",
    "write",
    "openat",
    "lseek",
    "kill",
    "mmap",
    "socket",
    "ioctl",
    "clone",
    "personality",
    "fcntl",
];
const OPS: &[&str] = &["==", "!=", "<", "<=", ">", ">="];
const VALUES: &[&str] = &[
    "0",
    "1",
    "2",
    "0x80000000",
    "0xffffffff",
    "0x100000000",
    "AT_FDCWD",
    "O_CREAT",
    "AF_UNIX",
    "CLONE_NEWUSER",
    "-1",
];
const ACTIONS: &[&str] = &[
    "allow",
    "errno(1)",
    "kill-process",
    "trap",
    "log",
    "notify",
    "kill-thread",
];

struct Bytes<'a>(&'a [u8], usize);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let b = self.0.get(self.1).copied().unwrap_or(0);
        self.1 += 1;
        b
    }
    fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[self.next() as usize % items.len()]
    }
    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, _| (acc << 8) | u64::from(self.next()))
    }
}

fn cond(b: &mut Bytes, depth: u8) -> String {
    match b.next() % 5 {
        0 if depth > 0 => format!("({} || {})", cond(b, depth - 1), cond(b, depth - 1)),
        1 if depth > 0 => format!("({} && {})", cond(b, depth - 1), cond(b, depth - 1)),
        2 if depth > 0 => format!("!({})", cond(b, depth - 1)),
        3 => format!("arg{} & 0x{:x}", b.next() % 6, b.u64()),
        _ => format!("arg{} {} {}", b.next() % 6, b.pick(OPS), b.pick(VALUES)),
    }
}

/// The target's check of one input: panics on a defect, returns otherwise.
pub fn check(data: &[u8]) {
    let mut b = Bytes(data, 0);
    let mut text = format!("default {}\n", b.pick(ACTIONS));
    if b.next() % 3 == 0 {
        text.push_str("arch x86_64, x32, i386\n");
    }
    for _ in 0..(b.next() % 8) {
        let action = b.pick(ACTIONS);
        let call = b.pick(CALLS);
        let c = cond(&mut b, 2);
        text.push_str(&format!("{action} {call} if {c}\n"));
    }
    let Ok((_, resolved)) = resolve_text(
        "fuzz.sj",
        &text,
        &Options {
            native: Arch::X86_64,
        },
    ) else {
        return;
    };
    let prog = compile(&resolved.policy)
        .expect("a resolved policy always compiles or says it is too long");
    for _ in 0..8 {
        let arch = [Arch::X86_64, Arch::I386, Arch::X32][b.next() as usize % 3];
        let nr = arch.syscalls()[b.next() as usize % arch.syscalls().len()].nr;
        let args = [b.u64(), b.u64(), b.u64(), b.u64(), b.u64(), b.u64()];
        let d = SeccompData {
            nr: nr as i32,
            arch: arch.audit_arch(),
            instruction_pointer: 0,
            args,
        };
        assert_eq!(
            vm::run(&prog, &d).action(),
            eval::eval(&resolved.policy, &d),
            "{text}\n{d:?}"
        );
    }
}
