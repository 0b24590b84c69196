//! Compiled policies in the real kernel (DESIGN.md testing layer 2, the ret-rewriting trick).
//!
//! Random policies are written as text, resolved and compiled; every `ret` of the program is
//! rewritten to a distinct `ERRNO(tag)`, so whatever the kernel decides for a call, the call
//! never runs and the errno says which return was taken. A short prologue lets the forked
//! child `write` its results and exit. For each call, the tag's original action must equal
//! both the policy's meaning (ir::eval) and the emulator's answer on the unmodified program.
//! Also: the ftrace seed of DESIGN.md, compiled and enforced for real.

#![cfg(target_arch = "x86_64")]

use std::io::Read;
use std::os::unix::net::UnixStream;
use straitjacket_testkit::alone;

use straitjacket_policy::arch::{Arch, X32_SYSCALL_BIT};
use straitjacket_policy::bpf::vm;
use straitjacket_policy::compile::compile;
use straitjacket_policy::ir::{eval, Policy};
use straitjacket_policy::resolve::{resolve_text, Options};
use straitjacket_sys::process::{in_child, ChildOutcome};
use straitjacket_sys::{prctl, seccomp};

#[path = "support/tagged.rs"]
mod tagged;

use tagged::{kernel_tags, tagged, Case, NR_EXIT, NR_EXIT_GROUP, NR_WRITE};

/// A tiny deterministic generator (xorshift), so failures reproduce.
use straitjacket_testkit::Rng;

const CALLS: &[&str] = &[
    "read",
    "pread64",
    "lseek",
    "openat",
    "kill",
    "mmap",
    "socket",
    "fcntl",
    "close",
    "ioctl",
    "personality",
    "clone",
];
const VALUES: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "-100",
    "0x7fffffff",
    "0x80000000",
    "0xffffffff",
    "0x100000000",
    "AT_FDCWD",
    "O_RDONLY|O_CLOEXEC",
    "AF_UNIX",
    "PROT_EXEC",
];
const OPS: &[&str] = &["==", "!=", "<", "<=", ">", ">="];
const ACTIONS: &[&str] = &[
    "allow",
    "errno(EPERM)",
    "errno(13)",
    "kill-process",
    "trap",
    "log",
    "errno(ENOSYS)",
];

/// An argument test on `call`'s arguments: typed names, raw `argN`, masks, `in`.
fn condition(rng: &mut Rng, call: &str, depth: u32) -> String {
    let sc = Arch::X86_64.syscall(call).unwrap();
    let leaf = |rng: &mut Rng| -> String {
        let i = (rng.next_u64() % sc.args.len().max(1) as u64) as usize;
        let arg = if rng.one_in(4) || sc.args.is_empty() {
            format!("arg{i}")
        } else {
            sc.args[i].name.to_string()
        };
        let ty = sc.args.get(i).map_or("u64", |a| a.c_type);
        let kind = straitjacket_policy::arch::classify(Arch::X86_64, ty);
        let unsigned = !kind.signed || arg.starts_with("arg");
        let mut v = rng.pick(VALUES).to_string();
        if (unsigned && (v.starts_with('-') || v == "AT_FDCWD"))
            || (kind.width == straitjacket_policy::arch::Width::W32 && v == "0x100000000")
        {
            v = "0x10".to_string();
        }
        if ty.contains('*') && !arg.starts_with("arg") {
            v = "NULL".to_string();
        }
        match rng.next_u64() % 6 {
            0 => format!("{arg} & 0xff == {}", rng.next_u64() % 4),
            1 => format!("{arg} in 0x{:x}", rng.next_u64() & 0xffff),
            2 => format!("{arg} & 0x80000001"),
            _ => format!("{arg} {} {v}", rng.pick(OPS)),
        }
    };
    if depth == 0 {
        return leaf(rng);
    }
    match rng.next_u64() % 4 {
        0 => format!(
            "({} || {})",
            condition(rng, call, depth - 1),
            condition(rng, call, depth - 1)
        ),
        1 => format!(
            "({} && {})",
            condition(rng, call, depth - 1),
            condition(rng, call, depth - 1)
        ),
        2 => format!("!({})", condition(rng, call, depth - 1)),
        _ => leaf(rng),
    }
}

fn random_policy(rng: &mut Rng) -> String {
    let mut text = format!("default {}\n", rng.pick(ACTIONS));
    if rng.one_in(3) {
        text.push_str("arch x86_64, x32, i386\n");
    }
    for _ in 0..(2 + rng.next_u64() % 6) {
        let call = *rng.pick(CALLS);
        let action = rng.pick(ACTIONS);
        if rng.one_in(4) {
            text.push_str(&format!("{action} {call}\n"));
        } else {
            let depth = (rng.next_u64() % 3) as u32;
            text.push_str(&format!(
                "{action} {call} if {}\n",
                condition(rng, call, depth)
            ));
        }
    }
    text
}

fn cases_for(rng: &mut Rng, policy: &Policy) -> Vec<Case> {
    let interesting: Vec<u64> = straitjacket_policy::vectors::interesting(
        straitjacket_policy::vectors::policy_constants(policy),
    )
    .into_iter()
    .collect();
    let mut cases = Vec::new();
    for _ in 0..40 {
        let abi = *rng.pick(&[
            Arch::X86_64,
            Arch::X86_64,
            Arch::X86_64,
            Arch::X32,
            Arch::I386,
        ]);
        let name = *rng.pick(CALLS);
        let Some(sc) = straitjacket_policy::resolve::lookup(abi, name) else {
            continue;
        };
        let mut args = [0u64; 6];
        for a in args.iter_mut() {
            *a = if rng.one_in(3) {
                rng.next_u64()
            } else {
                *rng.pick(&interesting)
            };
        }
        if abi == Arch::I386 {
            // Only five registers reach the i386 entry from here, each 32 bits wide.
            args[5] = 0;
            for a in args.iter_mut() {
                *a &= 0xffff_ffff;
            }
        }
        if [NR_WRITE, NR_EXIT, NR_EXIT_GROUP].contains(&sc.nr) && abi == Arch::X86_64 {
            continue;
        }
        cases.push(Case {
            abi,
            nr: sc.nr,
            args,
        });
    }
    // A number beyond the table, and a foreign ABI the policy may not list.
    cases.push(Case {
        abi: Arch::X86_64,
        nr: Arch::X86_64.max_nr().0 + 7,
        args: [0; 6],
    });
    cases.push(Case {
        abi: Arch::X32,
        nr: X32_SYSCALL_BIT | 39,
        args: [0; 6],
    });
    let _ = policy;
    cases
}

#[test]
fn compiled_policies_decide_in_the_kernel_as_the_rules_say() {
    alone(|| {
        let mut rng = Rng::new(0x5eed_1234_abcd_0001);
        let mut checked = 0;
        for round in 0..150 {
            let text = random_policy(&mut rng);
            let opts = Options {
                native: Arch::X86_64,
            };
            let resolved = match resolve_text("random.sj", &text, &opts) {
                Ok((_, r)) => r,
                Err((s, d)) => panic!(
                    "round {round}: generated policy rejected:\n{text}\n{}",
                    d.iter().map(|d| d.render(&s)).collect::<String>()
                ),
            };
            let policy = resolved.policy;
            let prog = compile(&policy).unwrap();
            let (tagged_prog, by_tag) = tagged(&prog);
            let cases = cases_for(&mut rng, &policy);
            let tags = kernel_tags(&tagged_prog, &cases);
            for (c, tag) in cases.iter().zip(tags) {
                let kernel = *by_tag.get(&tag).unwrap_or_else(|| {
                    panic!("round {round}: unknown tag {tag} for {c:?}\n{text}")
                });
                let meaning = eval::eval(&policy, &c.data());
                let emulated = vm::run(&prog, &c.data()).action();
                assert_eq!(
                    kernel, meaning,
                    "round {round}: kernel vs rules for {c:x?}\n{text}"
                );
                assert_eq!(
                    emulated, meaning,
                    "round {round}: emulator vs rules for {c:x?}\n{text}"
                );
                checked += 1;
            }
        }
        assert!(checked > 2000, "only {checked} calls checked");
    });
}

/// DESIGN.md's ftrace seed, compiled and installed: fd 0 reads and fd 1 writes work, a write
/// to fd 2 kills the process.
#[test]
fn the_ftrace_seed_is_enforced() {
    alone(|| {
        let seed = "{ \"sys_read\", \"fd == 0\" },\n{ \"sys_write\", \"fd == 1\" },\n{ \"sys_sigreturn\", \"1\" },\n{ \"sys_gettimeofday\", \"tz == NULL\" },\n";
        let (_, resolved) = resolve_text(
            "seed",
            seed,
            &Options {
                native: Arch::X86_64,
            },
        )
        .map_err(|_| "seed rejected")
        .unwrap();
        let records = compile(&resolved.policy).unwrap().to_raw_records();
        // The seed allows nothing else: the call after the write (or the write to fd 2) is killed.
        for (target_fd, expect_output) in [(1, "through fd 1\n"), (2, "")] {
            let (mut ours, theirs) = UnixStream::pair().unwrap();
            let records = records.clone();
            let outcome = in_child(move || {
                use std::os::fd::AsRawFd;
                // Make fd 1 and fd 2 the socket, so the test sees what reaches them.
                // SAFETY: dup2 on descriptors this child owns.
                unsafe {
                    libc::dup2(theirs.as_raw_fd(), 1);
                    libc::dup2(theirs.as_raw_fd(), 2);
                }
                if prctl::set_no_new_privs().is_err()
                    || seccomp::install(&records, seccomp::FilterFlags::NONE).is_err()
                {
                    return 99;
                }
                let msg = b"through fd 1\n";
                // SAFETY: writes a buffer we own.
                unsafe { libc::syscall(libc::SYS_write, target_fd, msg.as_ptr(), msg.len()) };
                // SAFETY: a plain syscall without memory arguments; the seed kills the caller.
                unsafe { libc::syscall(libc::SYS_getpid) };
                0
            })
            .unwrap();
            assert_eq!(
                outcome,
                ChildOutcome::Signaled(libc::SIGSYS),
                "fd {target_fd}"
            );
            ours.set_nonblocking(true).unwrap();
            let mut got = String::new();
            let _ = ours.read_to_string(&mut got);
            assert_eq!(got, expect_output, "fd {target_fd}");
        }
    });
}
