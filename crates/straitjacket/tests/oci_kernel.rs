//! Docker's default profile in the real kernel, built by libseccomp and by straitjacket.
//!
//! The emulator comparison over the whole corpus lives in the policy crate
//! (`tests/oci_libseccomp.rs`); this is its sample in the kernel (x86_64 host, x86_64 and i386
//! calls): both programs get every `ret` rewritten to a distinct `ERRNO(tag)` (the trick of
//! `kernel_policy.rs`), so no call under test runs, and the errno says which return the kernel
//! took. For every sampled call the kernel's answer must equal the emulator's, and
//! straitjacket's must equal libseccomp's.

#![cfg(target_arch = "x86_64")]

use std::path::PathBuf;
use std::process::Command;

use straitjacket_policy::arch::Arch;
use straitjacket_policy::bpf::{vm, Program};
use straitjacket_policy::compile::compile;
use straitjacket_policy::import::oci;
use straitjacket_policy::resolve::{lookup, resolve_text, Options};

#[path = "support/tagged.rs"]
mod tagged;

use tagged::{kernel_tags, tagged, Case, NR_EXIT, NR_EXIT_GROUP, NR_WRITE};

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
        straitjacket_testkit::skip(
            "no python3 with the seccomp module (apt-get install python3-seccomp)",
        );
        return;
    };
    let text = straitjacket_testkit::corpus_file("moby-default.json");
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
