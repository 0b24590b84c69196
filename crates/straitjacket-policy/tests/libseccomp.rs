//! Filters exported by libseccomp 2.5.4 (python3-seccomp; see fixtures/libseccomp/make.py):
//! they decode, pass the kernel's checks, disassemble to the committed goldens, and emulate
//! to the actions libseccomp meant.
//!
//! Goldens are regenerated with `STRAITJACKET_BLESS=1`; a missing golden fails.

use std::path::PathBuf;

use straitjacket_policy::bpf::{disasm::disasm, run, Program, SeccompData};
use straitjacket_policy::Action;

const X86_64: u32 = 0xc000_003e;
const I386: u32 = 0x4000_0003;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/libseccomp")
        .join(name)
}

fn load(name: &str) -> Program {
    let bytes = std::fs::read(fixture(name)).unwrap();
    Program::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn golden(name: &str) {
    let p = load(&format!("{name}.bpf"));
    // No arch: syscall-name comments would follow the generated tables, goldens must not.
    let got = disasm(&p, None);
    let path = fixture(&format!("{name}.disasm"));
    if let Err(e) = straitjacket_testkit::golden(&path, &got) {
        panic!("{name}: {e}");
    }
}

fn act(p: &Program, arch: u32, nr: u32, args: [u64; 6]) -> Action {
    run(
        p,
        &SeccompData {
            nr: nr as i32,
            arch,
            instruction_pointer: 0,
            args,
        },
    )
    .action()
}

fn a0(x: u64) -> [u64; 6] {
    [x, 0, 0, 0, 0, 0]
}

#[test]
fn goldens() {
    for name in ["allowlist", "allowlist-tree", "two-arches"] {
        golden(name);
    }
}

#[test]
fn round_trip_bytes() {
    for name in ["allowlist.bpf", "allowlist-tree.bpf", "two-arches.bpf"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        assert_eq!(Program::from_bytes(&bytes).unwrap().to_bytes(), bytes);
    }
}

/// (nr, args, action) on x86_64 for both allowlist variants.
fn allowlist_vectors() -> Vec<(u32, [u64; 6], Action)> {
    let kill = Action::KillProcess;
    vec![
        (0, a0(0), Action::Allow),                          // read(0)
        (0, a0(3), kill),                                   // read(3)
        (0, a0(0x1_0000_0000), kill),                       // 64-bit compare: high word matters
        (1, a0(1), Action::Allow),                          // write(1)
        (1, a0(2), Action::Allow),                          // write(2)
        (1, a0(3), kill),                                   // write(3)
        (231, a0(0), Action::Allow),                        // exit_group
        (15, a0(0), Action::Allow),                         // rt_sigreturn
        (41, a0(1), Action::Allow),                         // socket(AF_UNIX)
        (41, a0(2), Action::Errno(1)),                      // socket(AF_INET)
        (9, [0, 4096, 3, 0, 0, 0], Action::Allow),          // mmap PROT_READ|WRITE
        (9, [0, 4096, 7, 0, 0, 0], kill),                   // mmap PROT_EXEC
        (8, [3, 0x1_0000_0001, 0, 0, 0, 0], Action::Allow), // lseek offset > 4 GiB
        (8, [3, 0x1_0000_0000, 0, 0, 0, 0], kill),
        (8, [3, 5, 0, 0, 0, 0], kill),
        (110, a0(0), Action::Trap(0)),            // getppid
        (39, a0(0), Action::Log),                 // getpid
        (102, a0(0), Action::Trace(7)),           // getuid
        (435, a0(0), Action::Errno(38)),          // clone3
        (500, a0(0), kill),                       // unknown
        (0x4000_0000, a0(0), Action::KillThread), // x32 read: the bad-arch action
    ]
}

#[test]
fn allowlist_emulates_as_libseccomp_meant() {
    for name in ["allowlist.bpf", "allowlist-tree.bpf"] {
        let p = load(name);
        for (nr, args, want) in allowlist_vectors() {
            assert_eq!(act(&p, X86_64, nr, args), want, "{name}: nr {nr} {args:x?}");
        }
        // Another arch: libseccomp's bad-arch action (KILL, i.e. kill-thread, by default).
        assert_eq!(act(&p, I386, 3, a0(0)), Action::KillThread, "{name}");
    }
}

#[test]
fn tree_is_not_longer_per_call_for_late_syscalls() {
    // The binary tree dispatches the highest-numbered syscall in fewer steps than the list.
    let list = load("allowlist.bpf");
    let tree = load("allowlist-tree.bpf");
    let data = SeccompData {
        nr: 435,
        arch: X86_64,
        ..SeccompData::default()
    };
    assert!(run(&tree, &data).executed <= run(&list, &data).executed);
}

#[test]
fn two_arches_emulates_as_libseccomp_meant() {
    let p = load("two-arches.bpf");
    let cases: [(u32, u32, [u64; 6], Action); 10] = [
        (X86_64, 101, a0(0), Action::Errno(13)),       // ptrace
        (X86_64, 246, a0(0), Action::KillThread),      // kexec_load
        (X86_64, 135, a0(0), Action::Allow),           // personality(0)
        (X86_64, 135, a0(8), Action::Errno(1)),        // personality(8)
        (X86_64, 0, a0(0), Action::Allow),             // read
        (I386, 26, a0(0), Action::Errno(13)),          // ptrace
        (I386, 283, a0(0), Action::KillThread),        // kexec_load
        (I386, 136, a0(8), Action::Errno(1)),          // personality(8)
        (I386, 136, a0(0x1_0000_0000), Action::Allow), // i386 sees 32 bits only
        (0xc000_00b7, 0, a0(0), Action::KillThread),   // aarch64: bad arch
    ];
    for (arch, nr, args, want) in cases {
        assert_eq!(
            act(&p, arch, nr, args),
            want,
            "arch {arch:#x} nr {nr} {args:x?}"
        );
    }
}

#[test]
fn cache_proves_only_argument_free_allows() {
    use straitjacket_policy::bpf::cache::const_allow_bitmap;
    for name in ["allowlist.bpf", "allowlist-tree.bpf"] {
        let p = load(name);
        let bits = const_allow_bitmap(&p, X86_64, 500);
        let proven: Vec<usize> = (0..500).filter(|&n| bits[n]).collect();
        // rt_sigreturn and exit_group; read/write/socket/mmap/lseek test arguments.
        assert_eq!(proven, [15, 231], "{name}");
    }
    let p = load("two-arches.bpf");
    let x86 = const_allow_bitmap(&p, X86_64, 500);
    assert!(x86[0] && !x86[101] && !x86[135] && !x86[246]);
    let i386 = const_allow_bitmap(&p, I386, 500);
    assert!(i386[3] && !i386[26] && !i386[136] && !i386[283]);
}
