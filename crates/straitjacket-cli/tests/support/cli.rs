//! Shared by the end-to-end tests: the built binary, temporary directories, output helpers,
//! and C programs compiled at test time with the system's `cc`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const SJ: &str = env!("CARGO_BIN_EXE_straitjacket");

pub use straitjacket_testkit::TempDir;

pub fn sj_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(SJ)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

pub fn sj(args: &[&str]) -> Output {
    sj_in(Path::new("/"), args)
}

pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// A raw-syscall helper for programs built without libc.
pub const RAW: &str = r#"
static long sys(long n, long a, long b, long c) {
    long r;
    __asm__ volatile ("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}
"#;

/// Compiles `src` into `dir/name` with `cc` and `flags`.
pub fn cc(dir: &TempDir, name: &str, src: &str, flags: &[&str]) -> PathBuf {
    let c = dir.write(&format!("{name}.c"), src);
    let exe = dir.path().join(name);
    let o = Command::new("cc")
        .args(flags)
        .arg("-o")
        .arg(&exe)
        .arg(&c)
        .output()
        .expect("cc must be installed for these tests");
    assert!(o.status.success(), "cc failed: {}", err(&o));
    exe
}

/// The system's python3 by absolute path. A `python3` found first on PATH may be a version
/// manager's shim (pyenv's is a bash script that forks, reads files and opens sockets of its
/// own), which would make what a test learns or blocks depend on the machine's setup.
pub fn python3() -> &'static str {
    ["/usr/bin/python3", "/bin/python3"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("python3")
}
