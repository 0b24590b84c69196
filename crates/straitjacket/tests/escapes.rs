//! The escape suite: the classic ways out of a seccomp sandbox, each a small C program
//! (`tests/escapes/*.c`, compiled here with `gcc -static`) that tries ONE of them and says how
//! it went (see `escapes/escape.h`).
//!
//! Every case runs its program twice:
//! - unconfined (or under the weakest setting): it must ESCAPE, which shows the case is real.
//!   Where this machine cannot make it escape at all (a kernel without the x32 ABI, a pty
//!   that is no virtual console), the case prints why and checks only the confined half;
//! - under `straitjacket run` with a realistic policy: it must be CONTAINED with the exact
//!   outcome (an errno, or killed).
//!
//! SECURITY.md has the table of cases and their status.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const SJ: &str = env!("CARGO_BIN_EXE_straitjacket");
const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/escapes");

const EPERM: i32 = 1;
const EBADF: i32 = 9;
const EACCES: i32 = 13;
const EBUSY: i32 = 16;
const ENOSYS: i32 = 38;
/// `straitjacket run`'s status for a program the policy killed (128 + SIGSYS).
const KILLED_BY_POLICY: i32 = 159;
/// The unprivileged user cases run as, where being root would bypass the check under test.
const NOBODY: &str = "65534";

/// A fresh directory under the system temp dir, open to every user, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("sj-esc-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        p
    }
    /// Compiles `escapes/NAME.c` into this directory.
    fn build(&self, name: &str) -> String {
        let exe = self.0.join(name);
        let o = Command::new("gcc")
            .args(["-static", "-O1", "-pthread", "-I", SRC, "-o"])
            .arg(&exe)
            .arg(format!("{SRC}/{name}.c"))
            .output()
            .expect("gcc must be installed for the escape suite");
        assert!(
            o.status.success(),
            "gcc {name}.c failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        exe.to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How an attempt ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// The program got out.
    Escaped,
    /// The attempt failed with this errno.
    Contained(i32),
    /// The policy killed the program during its attempt (`run` exits 159).
    Killed,
    /// Anything else: a test failure, with what was seen.
    Other(String),
}

fn outcome(o: &Output) -> Outcome {
    let out = String::from_utf8_lossy(&o.stdout);
    let code = o.status.code();
    for line in out.lines() {
        if line.starts_with("ESCAPED: ") && code == Some(0) {
            return Outcome::Escaped;
        }
        if line.starts_with("CONTAINED: ") && code == Some(1) {
            if let Some(n) = line.rsplit("errno=").next().and_then(|n| n.parse().ok()) {
                return Outcome::Contained(n);
            }
        }
    }
    // Killed mid-attempt: it announced the attempt and printed nothing after it.
    if code == Some(KILLED_BY_POLICY) && out.lines().last().is_some_and(|l| l.starts_with("TRYING: ")) {
        return Outcome::Killed;
    }
    Outcome::Other(format!(
        "status {:?}\n--- stdout\n{out}--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    ))
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap()
}

/// `straitjacket run ARGS…` in `dir`.
fn sj(dir: &Path, args: &[&str]) -> Output {
    run(Command::new(SJ).arg("run").args(args).current_dir(dir))
}

/// `PROG ARGS…` unconfined, in `dir`.
fn bare(dir: &Path, prog: &str, args: &[&str]) -> Output {
    run(Command::new(prog).args(args).current_dir(dir))
}

/// `setpriv` to the unprivileged user, then `args`.
fn as_nobody(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("setpriv");
    c.args([
        "--reuid",
        NOBODY,
        "--regid",
        NOBODY,
        "--clear-groups",
        "--",
    ])
    .args(args)
    .current_dir(dir);
    c
}

/// Asserts the unconfined run escaped, or says why this machine cannot make it escape and
/// returns false.
fn must_escape(case: &str, o: &Output, cannot: impl Fn(&Outcome) -> Option<String>) -> bool {
    let got = outcome(o);
    if got == Outcome::Escaped {
        return true;
    }
    if let Some(why) = cannot(&got) {
        eprintln!("escape case `{case}`: the unconfined half is skipped: {why}");
        return false;
    }
    panic!("escape case `{case}`: the unconfined program did not escape, so the case proves nothing: {got:?}");
}

fn must_be(case: &str, o: &Output, want: Outcome) {
    let got = outcome(o);
    assert_eq!(got, want, "escape case `{case}` under straitjacket");
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

#[test]
fn i386_calls_through_int80_are_killed() {
    let d = TempDir::new("int80");
    let p = d.build("int80");
    must_escape("int80", &bare(d.path(), &p, &[]), |_| None);
    // A deny-list that denies the x86_64 getuid: the i386 one must not slip past it.
    d.write("deny.sj", "default allow\nerrno(EPERM) getuid\n");
    must_be(
        "int80",
        &sj(d.path(), &["--policy", "deny.sj", "--", &p]),
        Outcome::Killed,
    );
    must_be("int80", &sj(d.path(), &["--", &p]), Outcome::Killed);
}

#[test]
fn x32_numbers_are_killed() {
    let d = TempDir::new("x32");
    let p = d.build("x32");
    must_escape("x32", &bare(d.path(), &p, &[]), |o| {
        (*o == Outcome::Contained(ENOSYS))
            .then(|| "this kernel has no x32 ABI (CONFIG_X86_X32_ABI): x32 numbers answer ENOSYS even unconfined".to_owned())
    });
    d.write("deny.sj", "default allow\nerrno(EPERM) getuid\n");
    must_be(
        "x32",
        &sj(d.path(), &["--policy", "deny.sj", "--", &p]),
        Outcome::Killed,
    );
    must_be("x32", &sj(d.path(), &["--", &p]), Outcome::Killed);
}

#[test]
fn tiocsti_with_junk_in_the_upper_half_is_still_tiocsti() {
    let d = TempDir::new("trunc");
    let p = d.build("tiocsti_trunc");
    must_escape("tiocsti_trunc", &bare(d.path(), &p, &[]), |_| None);
    // The default preset: `allow ioctl if cmd != TIOCSTI && cmd != TIOCLINUX`.
    must_be(
        "tiocsti_trunc",
        &sj(d.path(), &["--", &p]),
        Outcome::Contained(EPERM),
    );
    d.write("deny.sj", "default allow\nerrno(EPERM) ioctl if cmd == TIOCSTI\n");
    must_be(
        "tiocsti_trunc",
        &sj(d.path(), &["--policy", "deny.sj", "--", &p]),
        Outcome::Contained(EPERM),
    );
}

#[test]
fn io_uring_cannot_open_what_the_filter_denies() {
    let d = TempDir::new("uring");
    let p = d.build("io_uring");
    d.write("secret", "SECRET\n");
    must_escape("io_uring", &bare(d.path(), &p, &["secret"]), |_| None);
    d.write("deny.sj", "default allow\nerrno(EPERM) open, openat, openat2, creat\n");
    must_be(
        "io_uring",
        &sj(d.path(), &["--policy", "deny.sj", "--", &p, "secret"]),
        Outcome::Contained(ENOSYS),
    );
    must_be(
        "io_uring",
        &sj(d.path(), &["--", &p, "secret"]),
        Outcome::Contained(ENOSYS),
    );
}

#[test]
fn clone3_with_a_new_user_namespace_answers_enosys() {
    let d = TempDir::new("clone3");
    let p = d.build("clone3");
    must_escape("clone3", &bare(d.path(), &p, &[]), |_| None);
    // The default preset restricts clone's namespace flags.
    must_be(
        "clone3",
        &sj(d.path(), &["--", &p]),
        Outcome::Contained(ENOSYS),
    );
}

#[test]
fn open_aliases_are_linted_and_a_family_deny_contains_all_four() {
    let d = TempDir::new("alias");
    let p = d.build("aliases");
    d.write("secret", "SECRET\n");
    must_escape("aliases", &bare(d.path(), &p, &["secret", "new"]), |_| None);

    // Denying one of the family: `check` warns, and the program does get through the others.
    d.write("one.sj", "default allow\nerrno(EPERM) openat\n");
    let o = run(Command::new(SJ).args(["check", "one.sj"]).current_dir(d.path()));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("warning: `openat` is denied but `open`, `openat2`, `creat` are not"),
        "{e}"
    );
    let o = sj(d.path(), &["--policy", "one.sj", "--", &p, "secret", "new"]);
    assert_eq!(outcome(&o), Outcome::Escaped, "the lint's warning is real");
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("open=OK openat=1 openat2=OK creat=OK"));

    // Denying the family: all four are contained.
    d.write("all.sj", "default allow\nerrno(EPERM) open, openat, openat2, creat\n");
    let o = sj(d.path(), &["--policy", "all.sj", "--", &p, "secret", "new2"]);
    must_be("aliases", &o, Outcome::Contained(EPERM));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("open=1 openat=1 openat2=1 creat=1"));
    assert!(!d.path().join("new2").exists());
}
