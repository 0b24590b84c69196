//! `straitjacket bpf …` end to end, through the built binary.

use std::path::PathBuf;
use std::process::Command;
use straitjacket_testkit::alone;

use straitjacket_policy::bpf::Assembler;
use straitjacket_policy::Action;
use straitjacket_sys::process::fork_child;
use straitjacket_sys::{prctl, seccomp};

const BIN: &str = env!("CARGO_BIN_EXE_straitjacket");

fn fixture(name: &str) -> String {
    format!(
        "{}/../straitjacket-policy/tests/fixtures/libseccomp/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[path = "support/cli.rs"]
mod cli;
use cli::{err as stderr, out as stdout, sj};

/// A scratch file with `bytes`, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str, bytes: &[u8]) -> TempFile {
        let p = std::env::temp_dir().join(format!(
            "straitjacket-cli-bpf-{}-{tag}.bpf",
            std::process::id()
        ));
        std::fs::write(&p, bytes).unwrap();
        TempFile(p)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn disasm_prints_one_line_per_instruction() {
    let o = sj(&["bpf", "disasm", &fixture("allowlist.bpf")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 48);
    assert!(out.starts_with("0000: ld [arch]\n0001: jeq #AUDIT_ARCH_X86_64, 2, 47\n"));
    assert!(out.contains("0016: ld [args[0].hi]\n"));
    assert!(out.contains("0032: ret ERRNO(1)\n"));
    assert!(out.ends_with("0047: ret KILL_THREAD\n"));
}

#[test]
fn emulate_prints_action_and_count() {
    let f = fixture("allowlist.bpf");
    let run = |args: &[&str]| {
        let mut v = vec!["bpf", "emulate", f.as_str(), "--arch", "x86_64"];
        v.extend_from_slice(args);
        let o = sj(&v);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    assert_eq!(run(&["write", "1"]), "allow\ninstructions: 20\n");
    assert_eq!(run(&["1", "3"]), "kill-process\ninstructions: 20\n");
    assert!(run(&["41", "2"]).starts_with("errno(1)\n"));
    assert!(run(&["41", "-0x5"]).starts_with("errno(1)\n"));
    assert!(run(&["0x29", "1"]).starts_with("allow\n"));
    assert!(run(&["110"]).starts_with("trap\n"));
    assert!(run(&["102"]).starts_with("trace(7)\n"));
    assert!(run(&["39"]).starts_with("log\n"));
    assert!(run(&["8", "3", "0x100000001"]).starts_with("allow\n"));
    assert!(run(&["8", "3", "-1"]).starts_with("allow\n"));
    assert!(run(&["8", "3", "4294967296"]).starts_with("kill-process\n"));
    // Another arch is refused by the arch check.
    let o = sj(&["bpf", "emulate", &f, "--arch", "i386", "read"]);
    assert_eq!(stdout(&o), "kill-thread\ninstructions: 3\n");
}

#[test]
fn emulate_default_arch_is_native() {
    let mut a = Assembler::new();
    a.ld_arch()
        .jeq(
            straitjacket_policy::Arch::native().audit_arch(),
            "yes",
            "no",
        )
        .label("yes")
        .ret(Action::Errno(7))
        .label("no")
        .ret(Action::Errno(9));
    let f = TempFile::new("native", &a.assemble().unwrap().to_bytes());
    let o = sj(&["bpf", "emulate", f.path(), "0"]);
    assert_eq!(stdout(&o), "errno(7)\ninstructions: 3\n");
}

#[test]
fn bad_files_exit_2_with_one_line() {
    let check = |tag: &str, bytes: &[u8], want: &str| {
        let f = TempFile::new(tag, bytes);
        for cmd in [
            vec!["bpf", "disasm", f.path()],
            vec!["bpf", "emulate", f.path(), "0"],
        ] {
            let o = sj(&cmd);
            assert_eq!(o.status.code(), Some(2), "{tag}");
            assert_eq!(
                stderr(&o),
                format!("straitjacket: {}: {want}\n", f.path()),
                "{tag}"
            );
            assert!(o.stdout.is_empty());
        }
    };
    check("empty", b"", "the filter is empty (no instructions)");
    check(
        "size",
        &[0; 12],
        "the file is 12 bytes, not a multiple of 8 (one instruction is 8 bytes)",
    );
    // ld [nr]; jeq 0 → +300 (beyond the end); ret allow; ret kill.
    let rec = |code: u16, jt: u8, jf: u8, k: u32| {
        let mut b = code.to_ne_bytes().to_vec();
        b.extend([jt, jf]);
        b.extend(k.to_ne_bytes());
        b
    };
    let mut jump = rec(0x20, 0, 0, 0);
    jump.extend(rec(0x05, 0, 0, 300));
    jump.extend(rec(0x06, 0, 0, 0x7fff_0000));
    check(
        "jump",
        &jump,
        "instruction 1: jump target 302 is beyond the end (program has 3 instructions)",
    );
    let mut unaligned = rec(0x20, 0, 0, 0);
    unaligned.extend(rec(0x20, 0, 0, 2));
    unaligned.extend(rec(0x06, 0, 0, 0));
    check(
        "unaligned",
        &unaligned,
        "instruction 1: ld [2] is outside seccomp_data (offsets must be a multiple of 4 below 64)",
    );
    let mut no_ret = rec(0x06, 0, 0, 0);
    no_ret.extend(rec(0x20, 0, 0, 0));
    check(
        "noret",
        &no_ret,
        "instruction 1: the last instruction must be a return (ret), or execution runs off the end",
    );
    let mut modk = rec(0x94, 0, 0, 3);
    modk.extend(rec(0x06, 0, 0, 0));
    check(
        "mod",
        &modk,
        "instruction 0: BPF_MOD (%) is not allowed in a seccomp filter (kernel/seccomp.c does not list it)",
    );
}

#[test]
fn usage_errors_exit_2() {
    let f = fixture("allowlist.bpf");
    let o = sj(&["bpf", "emulate", &f, "no_such_call"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "straitjacket: unknown system call `no_such_call` on {}\n",
            straitjacket_policy::Arch::native()
        )
    );
    let o = sj(&["bpf", "emulate", &f, "--arch", "vax", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("straitjacket: unknown architecture `vax`"));
    let o = sj(&["bpf", "emulate", &f, "0", "12x"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "straitjacket: argument 0: `12x` is not a number or a known constant\n"
    );
    let o = sj(&["bpf", "disasm", "/nonexistent/filter.bpf"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("straitjacket: /nonexistent/filter.bpf: no such file"));
}

use straitjacket_testkit::is_root;

#[test]
fn dump_reads_a_running_process() {
    alone(|| {
        if !is_root() {
            straitjacket_testkit::skip("bpf dump needs CAP_SYS_ADMIN (run the tests as root)");
            return;
        }
        let mut a = Assembler::new();
        a.ld_nr()
            .jeq(0xffff, "deny", "ok")
            .label("deny")
            .ret(Action::Errno(1))
            .label("ok")
            .ret(Action::Allow);
        let records = a.assemble().unwrap().to_raw_records();
        let child = fork_child(move || {
            if prctl::set_no_new_privs().is_err()
                || seccomp::install(&records, seccomp::FilterFlags::NONE).is_err()
            {
                return 1;
            }
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        })
        .unwrap();
        let status = format!("/proc/{}/status", child.pid());
        for _ in 0..500 {
            if std::fs::read_to_string(&status)
                .unwrap_or_default()
                .contains("Seccomp_filters:\t1")
            {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let pid = child.pid().to_string();
        let o = sj(&["bpf", "dump", &pid]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(
            stdout(&o),
            "filter 0:\n0000: ld [nr]\n0001: jeq #0xffff, 2, 3\n0002: ret ERRNO(1)\n0003: ret ALLOW\n"
        );
        // Without privileges: one clear line, exit 1.
        if std::path::Path::new("/usr/bin/setpriv").exists() {
            let o = Command::new("/usr/bin/setpriv")
                .args([
                    "--reuid=65534",
                    "--regid=65534",
                    "--clear-groups",
                    BIN,
                    "bpf",
                    "dump",
                    &pid,
                ])
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
            let err = stderr(&o);
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(
                err.starts_with(&format!(
                    "straitjacket: bpf dump {pid}: reading seccomp filters needs CAP_SYS_ADMIN (run as root)"
                )),
                "{err}"
            );
        }
        child.kill().unwrap();
    });
}

#[test]
fn dump_of_a_missing_process() {
    let o = sj(&["bpf", "dump", "2147483647"]);
    assert_ne!(o.status.code(), Some(0));
    assert_eq!(stderr(&o).lines().count(), 1);
}
