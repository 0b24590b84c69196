//! Docker's default profile in the real kernel, built by libseccomp and by straitjacket.
//!
//! The emulator comparison over the whole corpus lives in the policy crate
//! (`tests/oci_libseccomp.rs`); this is its sample in the kernel (x86_64 host, x86_64 and i386
//! calls): both programs get every `ret` rewritten to a distinct `ERRNO(tag)` (the trick of
//! `kernel_policy.rs`), so no call under test runs, and the errno says which return the kernel
//! took. For every sampled call the kernel's answer must equal the emulator's, and
//! straitjacket's must equal libseccomp's.

#![cfg(target_arch = "x86_64")]

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::Command;

use straitjacket_policy::action::Action;
use straitjacket_policy::arch::Arch;
use straitjacket_policy::bpf::{vm, Insn, JmpOp, Program, RetSrc, SeccompData, Src};
use straitjacket_policy::compile::compile;
use straitjacket_policy::import::oci;
use straitjacket_policy::resolve::{lookup, resolve_text, Options};
use straitjacket_sys::process::{in_child, ChildOutcome};
use straitjacket_sys::{prctl, seccomp};

const NR_WRITE: u32 = 1;
const NR_EXIT: u32 = 60;
const NR_EXIT_GROUP: u32 = 231;

fn tagged(prog: &Program) -> (Program, BTreeMap<u16, Action>) {
    let mut tags: BTreeMap<u32, u16> = BTreeMap::new();
    let mut insns = vec![
        Insn::LdAbs(SeccompData::OFFSET_NR),
        Insn::Jmp {
            op: JmpOp::Jeq,
            src: Src::K(NR_WRITE),
            jt: 2,
            jf: 0,
        },
        Insn::Jmp {
            op: JmpOp::Jeq,
            src: Src::K(NR_EXIT),
            jt: 1,
            jf: 0,
        },
        Insn::Jmp {
            op: JmpOp::Jeq,
            src: Src::K(NR_EXIT_GROUP),
            jt: 0,
            jf: 1,
        },
        Insn::Ret(RetSrc::K(Action::Allow.to_ret())),
    ];
    for i in prog.insns() {
        insns.push(match *i {
            Insn::Ret(RetSrc::K(k)) => {
                let n = tags.len() as u16 + 1;
                let tag = *tags.entry(k).or_insert(n);
                Insn::Ret(RetSrc::K(Action::Errno(tag).to_ret()))
            }
            other => other,
        });
    }
    let by_tag = tags
        .into_iter()
        .map(|(k, t)| (t, Action::from_ret(k)))
        .collect();
    (Program::new(insns).unwrap(), by_tag)
}

fn call64(nr: u64, a: [u64; 6]) -> i32 {
    // SAFETY: every return of the installed filter is an ERRNO (write/exit are not sampled),
    // so the kernel never runs the call: the registers are only read by the filter.
    let r = unsafe { libc::syscall(nr as libc::c_long, a[0], a[1], a[2], a[3], a[4], a[5]) };
    if r == -1 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    } else {
        0
    }
}

fn call32(nr: u32, a: [u64; 6]) -> i32 {
    let mut ret = nr as u64;
    // SAFETY: as for call64, the filter answers every call with an errno, so the i386 entry
    // never runs a call; int 0x80 only reads eax/ebx/ecx/edx/esi/edi and writes eax.
    unsafe {
        std::arch::asm!("xchg {b}, rbx", "int 0x80", "xchg {b}, rbx", b = inout(reg) a[0] => _,
            inout("rax") ret, in("rcx") a[1], in("rdx") a[2], in("rsi") a[3], in("rdi") a[4]);
    }
    let r = ret as u32 as i32;
    if r < 0 {
        -r
    } else {
        0
    }
}

#[derive(Clone, Copy, Debug)]
struct Case {
    abi: Arch,
    nr: u32,
    args: [u64; 6],
}

impl Case {
    fn data(&self) -> SeccompData {
        SeccompData {
            nr: self.nr as i32,
            arch: self.abi.audit_arch(),
            instruction_pointer: 0,
            args: self.args,
        }
    }
}

fn kernel_tags(prog: &Program, cases: &[Case]) -> Vec<u16> {
    let (mut ours, theirs) = UnixStream::pair().unwrap();
    let records = prog.to_raw_records();
    let n = cases.len();
    let cases = cases.to_vec();
    let outcome = in_child(move || {
        if prctl::set_no_new_privs().is_err()
            || seccomp::install(&records, seccomp::FilterFlags::NONE).is_err()
        {
            return 99;
        }
        let mut out = Vec::with_capacity(cases.len() * 2);
        for c in &cases {
            let e = match c.abi {
                Arch::I386 => call32(c.nr, c.args),
                _ => call64(u64::from(c.nr), c.args),
            };
            out.extend_from_slice(&(e as u16).to_le_bytes());
        }
        use std::os::fd::AsRawFd;
        // SAFETY: writes a buffer we own to a descriptor we own (plain write(2), which the
        // prologue lets through).
        let w = unsafe { libc::write(theirs.as_raw_fd(), out.as_ptr().cast(), out.len()) };
        if w != out.len() as isize {
            return 98;
        }
        0
    })
    .unwrap();
    assert_eq!(outcome, ChildOutcome::Exited(0), "child failed");
    let mut buf = vec![0u8; n * 2];
    ours.read_exact(&mut buf).unwrap();
    buf.chunks(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect()
}

fn python() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import seccomp"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn libseccomp(py: &str, json: &str, arch: &str) -> Program {
    let dir = std::env::temp_dir().join(format!("sj-oci-kernel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join(format!("{arch}.json"));
    let output = dir.join(format!("{arch}.bpf"));
    std::fs::write(&input, json).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../straitjacket-policy/tests/libseccomp/oci_filter.py");
    let o = Command::new(py)
        .arg(script)
        .arg(&input)
        .arg(arch)
        .arg(&output)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = Program::from_bytes(&std::fs::read(&output).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    p
}

#[test]
fn moby_default_in_the_kernel_as_libseccomp() {
    let Some(py) = python() else {
        println!("SKIP: no python3 with the seccomp module (apt-get install python3-seccomp)");
        return;
    };
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/moby-default.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("SKIP: no {}", path.display());
        return;
    };
    let opts = oci::Options {
        native: Arch::X86_64,
        caps: None,
        kernel: Some((6, 8)),
    };
    let profile = oci::expand(&text, &opts).unwrap();
    let imported = oci::to_native(&profile, "moby-default.json", &opts);
    let (_, resolved) = resolve_text(
        "moby",
        &imported.text,
        &Options {
            native: Arch::X86_64,
        },
    )
    .map_err(|_| "imported policy does not resolve")
    .unwrap();
    let ours = compile(&resolved.policy).unwrap();
    let plain = oci::plain_json(&profile);

    let values = [
        0u64,
        1,
        8,
        37,
        38,
        39,
        40,
        41,
        0x20000,
        0x20008,
        0xffff_ffff,
        0x1_0000_0000,
        0x7e02_0000,
        0x0001_0000,
        u64::MAX,
    ];
    let unknown_to_libseccomp = [
        "uretprobe",
        "statmount",
        "listmount",
        "mseal",
        "setxattrat",
        "getxattrat",
        "listxattrat",
        "removexattrat",
    ];
    let mut total = 0;
    for (abi, scmp) in [(Arch::X86_64, "x86_64"), (Arch::I386, "x86")] {
        let theirs = libseccomp(py, &plain, scmp);
        let skip: Vec<u32> = unknown_to_libseccomp
            .iter()
            .filter_map(|n| lookup(abi, n).map(|s| s.nr))
            .collect();
        let mut cases = Vec::new();
        for sc in abi.syscalls() {
            // uprobe/uretprobe pass seccomp unfiltered in the kernel (kernel/seccomp.c,
            // "passthrough uprobe systemcall without filtering").
            if skip.contains(&sc.nr)
                || ["uprobe", "uretprobe"].contains(&sc.name)
                // The prologue lets these numbers through on any ABI (i386's 1 is exit).
                || [NR_WRITE, NR_EXIT, NR_EXIT_GROUP].contains(&sc.nr)
            {
                continue;
            }
            cases.push(Case {
                abi,
                nr: sc.nr,
                args: [0; 6],
            });
            if ["socket", "personality", "clone", "socketcall"].contains(&sc.name) {
                for v in values {
                    let v = if abi == Arch::I386 {
                        v & 0xffff_ffff
                    } else {
                        v
                    };
                    cases.push(Case {
                        abi,
                        nr: sc.nr,
                        args: [v, 0, 0, 0, 0, 0],
                    });
                }
            }
        }
        let (t_ours, by_ours) = tagged(&ours);
        let (t_theirs, by_theirs) = tagged(&theirs);
        let k_ours = kernel_tags(&t_ours, &cases);
        let k_theirs = kernel_tags(&t_theirs, &cases);
        for (i, c) in cases.iter().enumerate() {
            let d = c.data();
            let (Some(&a), Some(&b)) = (by_ours.get(&k_ours[i]), by_theirs.get(&k_theirs[i]))
            else {
                panic!(
                    "{c:x?}: the kernel answered errno {} / {}, not a tag of ours {by_ours:?} / libseccomp's {by_theirs:?}",
                    k_ours[i], k_theirs[i]
                );
            };
            assert_eq!(
                a,
                vm::run(&ours, &d).action(),
                "kernel vs emulator (ours): {c:x?}"
            );
            assert_eq!(
                b,
                vm::run(&theirs, &d).action(),
                "kernel vs emulator (libseccomp): {c:x?}"
            );
            assert_eq!(a, b, "straitjacket vs libseccomp in the kernel: {c:x?}");
        }
        total += cases.len();
    }
    println!("{total} calls sampled in the kernel (x86_64 and i386 through int 0x80), both filters agree");
}
