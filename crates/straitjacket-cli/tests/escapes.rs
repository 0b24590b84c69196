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

use straitjacket::Policy;
use straitjacket_sys::process::{in_child, ChildOutcome};
use straitjacket_sys::testing::{probe, Probe};

const SJ: &str = env!("CARGO_BIN_EXE_straitjacket");
const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/escapes");

const EPERM: i32 = 1;
const ENOENT: i32 = 2;
const ESRCH: i32 = 3;
const EBADF: i32 = 9;
const EACCES: i32 = 13;
const EBUSY: i32 = 16;
const EINVAL: i32 = 22;
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
    if code == Some(KILLED_BY_POLICY)
        && out
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("TRYING: "))
    {
        return Outcome::Killed;
    }
    Outcome::Other(format!(
        "status {:?}\n--- stdout\n{out}--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    ))
}

fn run(mut cmd: impl std::borrow::BorrowMut<Command>) -> Output {
    let cmd = cmd.borrow_mut();
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

/// `args` as the unprivileged user (`setpriv` when the tests run as root).
/// Not root already, `args` run as the current user: the cases only need the program to
/// be unprivileged and of the same user as its supervisor.
fn as_nobody(dir: &Path, args: &[&str]) -> Command {
    let mut c = if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups", "--"])
            .args(args);
        c
    } else {
        let mut c = Command::new(args[0]);
        c.args(&args[1..]);
        c
    };
    c.current_dir(dir);
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
        straitjacket_testkit::note(format!(
            "escape case `{case}`: this machine cannot make the unconfined half escape ({why}); the confined half is still checked"
        ));
        return false;
    }
    panic!("escape case `{case}`: the unconfined program did not escape, so the case proves nothing: {got:?}");
}

fn must_be(case: &str, o: &Output, want: Outcome) {
    let got = outcome(o);
    assert_eq!(got, want, "escape case `{case}` under straitjacket");
}

use straitjacket_testkit::is_root;

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
fn path_calls_the_supervisor_does_not_carry_out_are_refused_under_fs_rules() {
    // Under `fs` rules every path call is carried out by the supervisor or refused: an ABI's
    // own spelling (i386 `stat64` and `truncate64` through `int $0x80`, where the policy
    // admits i386) and a newer call (`file_getattr`, Linux 6.17) must not reach a file
    // outside the rules. (Until 2026-11-29 the i386 ones did: found by extending the check
    // that every path-taking call is listed from x86_64 to every ABI.)
    let d = TempDir::new("pathabi");
    let p = d.build("abi_calls");
    let secret = d.write("secret", "s");
    let secret = secret.to_str().unwrap();
    std::fs::create_dir_all(d.path().join("allowed")).unwrap();
    let allowed = d.path().join("allowed");
    d.write("both.sj", "arch x86_64, i386\ndefault allow\n");
    for case in ["stat64", "truncate64", "file_getattr"] {
        std::fs::write(secret, "s").unwrap();
        let escapes = must_escape(case, &bare(d.path(), &p, &[case, secret]), |o| {
            (case == "file_getattr" && *o == Outcome::Contained(ENOSYS))
                .then(|| "this kernel has no file_getattr (Linux 6.17)".to_owned())
        });
        std::fs::write(secret, "s").unwrap();
        let o = sj(
            d.path(),
            &[
                "--policy",
                "both.sj",
                "--allow-read",
                allowed.to_str().unwrap(),
                "--",
                &p,
                case,
                secret,
            ],
        );
        must_be(case, &o, Outcome::Contained(ENOSYS));
        if escapes && case == "truncate64" {
            assert_eq!(
                std::fs::read_to_string(secret).unwrap(),
                "s",
                "the file was emptied"
            );
        }
    }
}

#[test]
fn a_rename_mid_walk_does_not_lead_out_of_the_write_tree() {
    // A program with a write tree moves a directory up while the supervisor walks a path
    // through it: the `..` that follow lead out of the tree, to a file beside it that no rule
    // allows. (Until 2026-11-29 this read the file: the walk judged an absolute path by the
    // names it went down, and a worker walks while the main loop carries out renames.)
    let d = TempDir::new("renamerace");
    let p = d.build("rename_race");
    d.write("secret", "the secret");
    let w = d.path().join("w");
    std::fs::create_dir_all(&w).unwrap();
    std::fs::set_permissions(&w, std::fs::Permissions::from_mode(0o777)).unwrap();
    let w = w.to_str().unwrap();
    // Unconfined, the kernel's own walk of the path leaves a far smaller window: the race is
    // rarely won there, and reading the file would prove nothing about the supervisor.
    must_escape("rename_race", &bare(d.path(), &p, &[w, "20000"]), |o| {
        matches!(o, Outcome::Other(s) if s.contains("never won"))
            .then(|| "the kernel's own walk is too quick to race here".to_owned())
    });
    for how in [&[][..], &["--fs-supervisor-only"][..]] {
        let mut args = vec!["--allow-write", w];
        args.extend(how);
        args.extend(["--", &p, w, "200000"]);
        must_be(
            "rename_race",
            &sj(d.path(), &args),
            Outcome::Contained(EACCES),
        );
    }
}

#[test]
fn i386_socketcall_does_not_pass_the_net_rules() {
    // Where a policy admits i386, `socketcall` (the i386 ABI's multiplexed socket call) would
    // connect around the supervisor's address check: under `net` rules it answers ENOSYS.
    let d = TempDir::new("socketcall");
    let p = d.build("abi_calls");
    let listener = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    must_escape(
        "socketcall",
        &bare(d.path(), &p, &["socketcall_connect", &port]),
        |_| None,
    );
    d.write(
        "net.sj",
        "arch x86_64, i386\ndefault allow\nnet connect 127.0.0.1:1\n",
    );
    must_be(
        "socketcall",
        &sj(
            d.path(),
            &["--policy", "net.sj", "--", &p, "socketcall_connect", &port],
        ),
        Outcome::Contained(ENOSYS),
    );
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
    d.write(
        "deny.sj",
        "default allow\nerrno(EPERM) ioctl if cmd == TIOCSTI\n",
    );
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
    d.write(
        "deny.sj",
        "default allow\nerrno(EPERM) open, openat, openat2, creat\n",
    );
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
    let o = run(Command::new(SJ)
        .args(["check", "one.sj"])
        .current_dir(d.path()));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("warning: `openat` is denied but `open`, `openat2`, `creat` are not"),
        "{e}"
    );
    let o = sj(d.path(), &["--policy", "one.sj", "--", &p, "secret", "new"]);
    assert_eq!(outcome(&o), Outcome::Escaped, "the lint's warning is real");
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("open=OK openat=1 openat2=OK creat=OK"));

    // Denying the family: all four are contained.
    d.write(
        "all.sj",
        "default allow\nerrno(EPERM) open, openat, openat2, creat\n",
    );
    let o = sj(
        d.path(),
        &["--policy", "all.sj", "--", &p, "secret", "new2"],
    );
    must_be("aliases", &o, Outcome::Contained(EPERM));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("open=1 openat=1 openat2=1 creat=1"));
    assert!(!d.path().join("new2").exists());
}

/// Opens a pty pair: (master, slave).
fn openpty() -> (OwnedFd, OwnedFd) {
    let (mut m, mut s) = (-1, -1);
    // SAFETY: openpty writes two fds into the given ints; the name, termios and winsize
    // pointers may be null.
    let r = unsafe {
        libc::openpty(
            &mut m,
            &mut s,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty succeeded, so both are fresh fds owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) }
}

/// `ARGS…` as the unprivileged user, in a new session whose controlling terminal is a fresh
/// pty (on fd 0): that pty plays the caller's terminal.
fn on_a_terminal(dir: &Path, args: &[&str]) -> Output {
    let (_master, slave) = openpty();
    let mut full = vec!["setsid", "--ctty"];
    full.extend_from_slice(args);
    as_nobody(dir, &full)
        .stdin(Stdio::from(slave))
        .output()
        .unwrap()
}

#[test]
fn tiocsti_into_the_callers_terminal_is_contained() {
    let d = TempDir::new("sti");
    let p = d.build("tty_inject");
    let escaped = must_escape("tiocsti", &on_a_terminal(d.path(), &[&p, "sti"]), |o| {
        (*o == Outcome::Contained(5))
            .then(|| "dev.tty.legacy_tiocsti is 0: the kernel refuses TIOCSTI to everyone without CAP_SYS_ADMIN".to_owned())
    });
    d.write("allow.sj", "default allow\n");
    // No ioctl rule at all: the new session alone contains it (the pty is no longer the
    // program's controlling terminal).
    must_be(
        "tiocsti",
        &on_a_terminal(
            d.path(),
            &[SJ, "run", "--policy", "allow.sj", "--", &p, "sti"],
        ),
        Outcome::Contained(EPERM),
    );
    // `--tty` keeps the caller's session on purpose: under a policy that allows every ioctl,
    // TIOCSTI works (the weakest setting) ...
    if escaped {
        must_escape(
            "tiocsti",
            &on_a_terminal(
                d.path(),
                &[SJ, "run", "--tty", "--policy", "allow.sj", "--", &p, "sti"],
            ),
            |_| None,
        );
    }
    // ... and the default preset denies it even then.
    must_be(
        "tiocsti",
        &on_a_terminal(d.path(), &[SJ, "run", "--tty", "--", &p, "sti"]),
        Outcome::Contained(EPERM),
    );
    must_be(
        "tiocsti",
        &on_a_terminal(d.path(), &[SJ, "run", "--", &p, "sti"]),
        Outcome::Contained(EPERM),
    );
}

#[test]
fn tioclinux_into_the_callers_terminal_is_denied() {
    let d = TempDir::new("linux");
    let p = d.build("tty_inject");
    must_escape("tioclinux", &on_a_terminal(d.path(), &[&p, "linux"]), |o| {
        matches!(o, Outcome::Contained(e) if *e != EPERM).then(|| {
            "TIOCLINUX works only on a virtual console, and the test's terminal is a pty".to_owned()
        })
    });
    // The filter answers before the tty driver is reached: EPERM, not ENOTTY/EINVAL.
    must_be(
        "tioclinux",
        &on_a_terminal(d.path(), &[SJ, "run", "--tty", "--", &p, "linux"]),
        Outcome::Contained(EPERM),
    );
}

#[test]
fn ptrace_of_the_parent_is_denied() {
    let d = TempDir::new("ptrace");
    let p = d.build("ptrace_parent");
    // Unconfined, the parent is a shell that waits for the program.
    let sh = format!("{p}; true");
    must_escape(
        "ptrace_parent",
        &run(as_nobody(d.path(), &["sh", "-c", &sh])),
        |_| None,
    );
    // The parent is the pid namespace's init, or with --share pid the supervisor itself:
    // the filter refuses ptrace either way ...
    for share in [&[][..], &["--share", "pid"][..]] {
        let mut args = vec![SJ, "run"];
        args.extend(share);
        args.extend(["--", &p]);
        must_be(
            "ptrace_parent",
            &run(as_nobody(d.path(), &args)),
            Outcome::Contained(EPERM),
        );
    }
    // ... and even a policy that allows ptrace cannot attach to the supervisor: it is not
    // dumpable.
    d.write("allow.sj", "default allow\n");
    for share in [&[][..], &["--share", "pid"][..]] {
        let mut args = vec![SJ, "run"];
        args.extend(share);
        args.extend(["--policy", "allow.sj", "--", &p]);
        // Landlock refuses tracing a process outside the program's domain.
        let want = EPERM;
        must_be(
            "ptrace_parent",
            &run(as_nobody(d.path(), &args)),
            Outcome::Contained(want),
        );
    }
}

#[test]
fn the_supervisors_memory_cannot_be_written_through_proc_mem() {
    let d = TempDir::new("procmem");
    let p = d.build("parent_mem");
    let sh = format!("{p} procmem; true");
    must_escape(
        "procmem",
        &run(as_nobody(d.path(), &["sh", "-c", &sh])),
        |_| None,
    );
    // The default preset allows openat: the kernel's ptrace access check must refuse.
    must_be(
        "procmem",
        &run(as_nobody(d.path(), &[SJ, "run", "--", &p, "procmem"])),
        Outcome::Contained(EACCES),
    );
    // With --share pid the parent is the supervisor itself: the same refusal.
    must_be(
        "procmem",
        &run(as_nobody(
            d.path(),
            &[SJ, "run", "--share", "pid", "--", &p, "procmem"],
        )),
        Outcome::Contained(EACCES),
    );
}

#[test]
fn process_vm_writev_into_the_supervisor_is_denied() {
    let d = TempDir::new("pvm");
    let p = d.build("parent_mem");
    let sh = format!("{p} pvm; true");
    must_escape("pvm", &run(as_nobody(d.path(), &["sh", "-c", &sh])), |_| {
        None
    });
    must_be(
        "pvm",
        &run(as_nobody(d.path(), &[SJ, "run", "--", &p, "pvm"])),
        Outcome::Contained(EPERM),
    );
    must_be(
        "pvm",
        &run(as_nobody(
            d.path(),
            &[SJ, "run", "--share", "pid", "--", &p, "pvm"],
        )),
        Outcome::Contained(EPERM),
    );
    // A policy that allows process_vm_*: the kernel refuses (the supervisor is not dumpable).
    d.write("allow.sj", "default allow\n");
    must_be(
        "pvm",
        &run(as_nobody(
            d.path(),
            &[SJ, "run", "--policy", "allow.sj", "--", &p, "pvm"],
        )),
        Outcome::Contained(EPERM),
    );
}

#[test]
fn an_fd_inherited_from_the_caller_does_not_reach_the_program() {
    let d = TempDir::new("fd");
    let p = d.build("inherited_fd");
    d.write("secret", "SECRET\n");
    // The shell opens the secret as fd 7, without close-on-exec, and execs.
    let sh = |cmd: &str| {
        run(Command::new("sh")
            .args(["-c", &format!("exec {cmd} 7<secret")])
            .current_dir(d.path()))
    };
    must_escape("inherited_fd", &sh(&format!("{p} 7")), |_| None);
    must_be(
        "inherited_fd",
        &sh(&format!("{SJ} run -- {p} 7")),
        Outcome::Contained(EBADF),
    );
    // Named with --keep-fd, it does reach the program.
    assert_eq!(
        outcome(&sh(&format!("{SJ} run --keep-fd 7 -- {p} 7"))),
        Outcome::Escaped
    );
}

#[test]
fn a_setuid_binary_does_not_raise_privileges() {
    if !is_root() {
        straitjacket_testkit::skip("making a setuid-root copy of `id` needs root");
        return;
    }
    let d = TempDir::new("setuid");
    let id = d.path().join("id");
    std::fs::copy("/usr/bin/id", &id).unwrap();
    std::os::unix::fs::chown(&id, Some(0), Some(0)).unwrap();
    std::fs::set_permissions(&id, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let id = id.to_str().unwrap();
    let euid = |o: Output| String::from_utf8_lossy(&o.stdout).trim().to_owned();
    let bare = euid(run(as_nobody(d.path(), &[id, "-u"])));
    if bare != "0" {
        straitjacket_testkit::note(format!("escape case `setuid`: the setuid bit took no effect unconfined (a nosuid mount?): euid {bare}; the confined half is still checked"));
    }
    assert_eq!(
        euid(run(as_nobody(d.path(), &[SJ, "run", "--", id, "-u"]))),
        NOBODY
    );
    d.write("allow.sj", "default allow\n");
    assert_eq!(
        euid(run(as_nobody(
            d.path(),
            &[SJ, "run", "--policy", "allow.sj", "--", id, "-u"]
        ))),
        NOBODY
    );
}

#[test]
fn a_second_filter_cannot_widen() {
    let d = TempDir::new("widen");
    let p = d.build("widen");
    must_escape("widen", &bare(d.path(), &p, &[]), |_| None);
    must_be(
        "widen",
        &sj(d.path(), &["--", &p]),
        Outcome::Contained(EPERM),
    );
}

#[test]
fn a_listener_of_the_programs_own_cannot_continue_a_denied_call() {
    let d = TempDir::new("notif");
    let p = d.build("notif_continue");
    must_escape("notif_continue", &bare(d.path(), &p, &[]), |_| None);
    // `run`'s filter holds the one listener a filter chain may have (kernel/seccomp.c,
    // has_duplicate_listener): a second one is refused, whatever the policy.
    must_be(
        "notif_continue",
        &sj(d.path(), &["--", &p]),
        Outcome::Contained(EBUSY),
    );
    d.write("kill.sj", "default allow\nkill unshare\n");
    must_be(
        "notif_continue",
        &sj(d.path(), &["--policy", "kill.sj", "--", &p]),
        Outcome::Contained(EBUSY),
    );
}

#[test]
fn killing_the_supervisor_kills_the_program() {
    let d = TempDir::new("killsup");
    let p = d.build("kill_parent");
    // Unconfined, it kills the shell that started it (whose status is then SIGKILL's), and
    // lives on.
    let sh = format!("{p}; true");
    let o = run(as_nobody(d.path(), &["sh", "-c", &sh]));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("SURVIVED the parent\nESCAPED: "),
        "escape case `kill_parent`: the unconfined program did not escape: {o:?}"
    );
    // `kill unshare` is enforced by the supervisor (run routes kills to it). Even under a
    // policy that allows kill(), the program cannot signal its supervisor: `run`'s Landlock
    // domain scopes signals to the sandbox. (If the supervisor dies anyway, the program dies
    // with it: tests/run.rs kills straitjacket from outside.)
    // The parent is the pid namespace's init, or with --share pid the supervisor: outside
    // the domain either way.
    d.write("kill.sj", "default allow\nkill unshare\n");
    for (share, want) in [(&[][..], EPERM), (&["--share", "pid"][..], EPERM)] {
        let mut args = vec![SJ, "run"];
        args.extend(share);
        args.extend(["--policy", "kill.sj", "--", &p]);
        must_be(
            "kill_parent",
            &run(as_nobody(d.path(), &args)),
            Outcome::Contained(want),
        );
    }
}

/// A process of the unprivileged user outside any sandbox (the user's shell, editor, agent),
/// killed on drop.
struct Sibling(std::process::Child);

impl Sibling {
    fn start(dir: &Path) -> Sibling {
        Sibling::spawn(dir, as_nobody)
    }
    /// `sleep 60` as `cmd` starts it (the ordinary user, or the test's own user).
    fn spawn(dir: &Path, cmd: fn(&Path, &[&str]) -> Command) -> Sibling {
        let c = cmd(dir, &["sleep", "60"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until setpriv has become `sleep` (same pid, new image).
        for _ in 0..200 {
            let comm =
                std::fs::read_to_string(format!("/proc/{}/comm", c.id())).unwrap_or_default();
            if comm.trim() == "sleep" {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Sibling(c)
    }
    fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

impl Drop for Sibling {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_sibling_outside_the_sandbox_cannot_be_traced_or_written_by_syscall() {
    let d = TempDir::new("sibling");
    let tracer = d.build("ptrace_parent");
    let writer = d.build("parent_mem");
    let s = Sibling::start(d.path());
    let pid = s.pid();
    must_escape(
        "ptrace_sibling",
        &run(as_nobody(d.path(), &[&tracer, &pid])),
        |_| None,
    );
    must_escape(
        "pvm_sibling",
        &run(as_nobody(d.path(), &[&writer, "pvm", &pid])),
        |_| None,
    );
    // The default preset denies ptrace and process_vm_*.
    must_be(
        "ptrace_sibling",
        &run(as_nobody(d.path(), &[SJ, "run", "--", &tracer, &pid])),
        Outcome::Contained(EPERM),
    );
    must_be(
        "pvm_sibling",
        &run(as_nobody(
            d.path(),
            &[SJ, "run", "--", &writer, "pvm", &pid],
        )),
        Outcome::Contained(EPERM),
    );
}

#[test]
// Was an escape: closed by the Landlock domain `run` always creates (ptrace scoping).
fn a_sibling_outside_the_sandbox_cannot_be_written_through_proc_mem() {
    let d = TempDir::new("sibmem");
    let writer = d.build("parent_mem");
    let s = Sibling::start(d.path());
    let pid = s.pid();
    must_escape(
        "procmem_sibling",
        &run(as_nobody(d.path(), &[&writer, "procmem", &pid])),
        |_| None,
    );
    let o = run(as_nobody(
        d.path(),
        &[SJ, "run", "--", &writer, "procmem", &pid],
    ));
    assert!(
        matches!(outcome(&o), Outcome::Contained(_) | Outcome::Killed),
        "escape case `procmem_sibling` under straitjacket: {:?}",
        outcome(&o)
    );
}

// ---- The library API (`Policy::apply`), each case in a forked child --------------------

/// Runs `attempt` in a forked child, passing it a function that applies `policy` (or does
/// nothing, for the unconfined half), and returns how the child ended.
fn lib_case(policy: Option<&str>, attempt: fn(&dyn Fn()) -> i32) -> ChildOutcome {
    in_child(|| {
        let apply = || {
            if let Some(text) = policy {
                if Policy::parse(text).and_then(|p| p.apply()).is_err() {
                    std::process::exit(10);
                }
            }
        };
        attempt(&apply)
    })
    .unwrap()
}

/// 0 if getppid ran, 1 if it answered EACCES, 2 otherwise.
fn getppid_verdict() -> i32 {
    match probe(Probe::Getppid, [0; 6]) {
        Ok(_) => 0,
        Err(EACCES) => 1,
        Err(_) => 2,
    }
}

const DENY_GETPPID: &str = "default allow\nerrno(EACCES) getppid\n";

/// Both halves of a library case: unconfined the call runs (exit 0), under `apply` it is
/// contained (exit 1).
/// Runs alone in a process of its own, so the forks come from a quiet process.
fn lib_both(case: &str, policy: &str, attempt: fn(&dyn Fn()) -> i32) {
    straitjacket_testkit::alone(|| {
        assert_eq!(
            lib_case(None, attempt),
            ChildOutcome::Exited(0),
            "escape case `{case}`: unconfined, the call did not run"
        );
        assert_eq!(
            lib_case(Some(policy), attempt),
            ChildOutcome::Exited(1),
            "escape case `{case}` under Policy::apply"
        );
    });
}

#[test]
fn a_thread_blocked_in_a_call_during_apply_is_filtered_when_it_wakes() {
    // The thread is inside read() when apply runs (TSYNC puts the filter on it anyway), then
    // makes the denied call.
    lib_both("tsync_blocked_thread", DENY_GETPPID, |apply| {
        let (mut r, mut w) = std::os::unix::net::UnixStream::pair().unwrap();
        let t = std::thread::spawn(move || {
            let mut b = [0u8; 1];
            std::io::Read::read_exact(&mut r, &mut b).unwrap();
            getppid_verdict()
        });
        std::thread::sleep(std::time::Duration::from_millis(20));
        apply();
        std::io::Write::write_all(&mut w, b"x").unwrap();
        t.join().unwrap()
    });
}

#[test]
fn threads_racing_the_install_are_all_filtered_after_it() {
    // Threads spin on getppid while apply runs; once apply has returned, no call of any
    // thread may run. Exit 0 if any call after apply ran (or none was denied), 1 if every
    // call after apply was denied.
    lib_both("tsync_spinning_threads", DENY_GETPPID, |apply| {
        use std::sync::atomic::{AtomicBool, AtomicI32};
        use std::sync::Arc;
        let applied = Arc::new(AtomicBool::new(false));
        let verdict = Arc::new(AtomicI32::new(1));
        let ts: Vec<_> = (0..4)
            .map(|_| {
                let (applied, verdict) = (applied.clone(), verdict.clone());
                std::thread::spawn(move || loop {
                    let after = applied.load(Ordering::SeqCst);
                    let v = getppid_verdict();
                    if after {
                        if v != 1 {
                            verdict.store(v, Ordering::SeqCst);
                        }
                        return;
                    }
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(5));
        apply();
        applied.store(true, Ordering::SeqCst);
        for t in ts {
            t.join().unwrap();
        }
        verdict.load(Ordering::SeqCst)
    });
}

static SIGNAL_VERDICT: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

extern "C" fn on_usr1(_: libc::c_int) {
    SIGNAL_VERDICT.store(getppid_verdict(), Ordering::SeqCst);
}

#[test]
fn a_signal_handler_installed_before_apply_runs_under_the_filter() {
    lib_both("signal_handler", DENY_GETPPID, |apply| {
        // SAFETY: `on_usr1` is an extern "C" fn(c_int) as signal() expects; it makes one raw
        // system call and stores to an atomic, both async-signal-safe.
        unsafe { libc::signal(libc::SIGUSR1, on_usr1 as *const () as libc::sighandler_t) };
        apply();
        // SAFETY: raise takes a signal number only; the handler above is installed.
        unsafe { libc::raise(libc::SIGUSR1) };
        SIGNAL_VERDICT.load(Ordering::SeqCst)
    });
}

#[test]
fn a_vforked_child_inherits_the_filter() {
    // std's Command spawns with posix_spawn (clone with CLONE_VM | CLONE_VFORK) on glibc;
    // `uname` exits non-zero when the uname call fails.
    lib_both("vfork", "default allow\nerrno(EACCES) uname\n", |apply| {
        apply();
        let ok = Command::new("uname")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        i32::from(!ok)
    });
}

#[test]
fn a_kill_rule_answered_by_the_programs_own_filter_still_does_not_run() {
    let d = TempDir::new("inner");
    let p = d.build("inner_answer");
    // Unconfined, the program's own filter denies the call too: there is nothing to escape
    // from, so this case only pins what `run` does (SECURITY.md: the program survives a kill
    // rule enforced by the supervisor, but the call never runs).
    for (how, errno) in [("errno", 11), ("notif", ENOSYS)] {
        let o = bare(d.path(), &p, &[how]);
        assert_eq!(
            outcome(&o),
            Outcome::Contained(errno),
            "inner_answer {how}: unconfined, the program's own filter answers the call"
        );
        d.write("kill.sj", "default allow\nkill unshare\n");
        must_be(
            "inner_answer",
            &sj(d.path(), &["--policy", "kill.sj", "--", &p, how]),
            Outcome::Contained(errno),
        );
    }
}

#[test]
fn a_pid_with_junk_in_the_upper_half_is_still_that_pid() {
    let d = TempDir::new("killtrunc");
    let p = d.build("kill_trunc");
    must_escape("kill_trunc", &bare(d.path(), &p, &[]), |o| {
        (*o == Outcome::Contained(EPERM))
            .then(|| "not root: pid 1 may not be signalled even unconfined".to_owned())
    });
    d.write("deny.sj", "default allow\nerrno(EACCES) kill if pid == 1\n");
    must_be(
        "kill_trunc",
        &sj(d.path(), &["--policy", "deny.sj", "--", &p]),
        Outcome::Contained(EACCES),
    );
}

// ---- What lies outside: other processes, the host's IPC, refused socket families ----------

/// `args` run by the test's own user (root in CI), in `dir`.
fn as_caller(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(args[0]);
    c.args(&args[1..]).current_dir(dir);
    c
}

/// The confined runs of an escape case: the default preset, net-client (which includes it),
/// and the default with fs rules, each as `who` runs it.
fn under_presets(d: &TempDir, prog: &[&str]) -> Vec<(String, Vec<String>)> {
    let dir = d.path().to_str().unwrap().to_owned();
    let mut runs = Vec::new();
    for extra in [
        vec![],
        vec!["--preset".to_owned(), "net-client".to_owned()],
        vec!["--allow-read".to_owned(), dir.clone()],
    ] {
        let mut a = vec![SJ.to_owned(), "run".to_owned()];
        a.extend(extra.iter().cloned());
        a.push("--".to_owned());
        a.extend(prog.iter().map(|s| s.to_string()));
        runs.push((format!("run {}", extra.join(" ")), a));
    }
    runs
}

#[test]
fn an_outside_process_keeps_its_limits_priority_and_affinity() {
    let d = TempDir::new("outside");
    let p = d.build("outside");
    for (who, cmd) in [
        ("nobody", as_nobody as fn(&Path, &[&str]) -> Command),
        ("caller", as_caller),
    ] {
        // A process of the same user, outside any sandbox.
        let s = Sibling::spawn(d.path(), cmd);
        let pid = s.pid();
        for mode in ["prlimit", "setpriority", "affinity"] {
            let case = format!("outside {mode} as {who}");
            must_escape(&case, &run(cmd(d.path(), &[&p, mode, &pid])), |_| None);
            for (how, args) in under_presets(&d, &[&p, mode, &pid]) {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                must_be(
                    &format!("{case} under {how}"),
                    &run(cmd(d.path(), &args)),
                    Outcome::Contained(EPERM),
                );
            }
        }
    }
}

#[test]
fn the_hosts_system_v_ipc_is_out_of_reach() {
    let d = TempDir::new("sysvipc");
    let p = d.build("outside");
    for (who, cmd) in [
        ("nobody", as_nobody as fn(&Path, &[&str]) -> Command),
        ("caller", as_caller),
    ] {
        // A 0600 segment of the same user, made outside the sandbox.
        let o = run(cmd(d.path(), &[&p, "mkshm"]));
        assert_eq!(o.status.code(), Some(0), "mkshm: {o:?}");
        let id = String::from_utf8_lossy(&o.stdout).trim().to_owned();
        let case = format!("sysv shm as {who}");
        must_escape(&case, &run(cmd(d.path(), &[&p, "readshm", &id])), |_| None);
        for (how, args) in under_presets(&d, &[&p, "readshm", &id]) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            // In its own IPC namespace the segment's id names nothing.
            must_be(
                &format!("{case} under {how}"),
                &run(cmd(d.path(), &args)),
                Outcome::Contained(EINVAL),
            );
        }
        // --share ipc gives the host's IPC back, and says so.
        let o = run(cmd(
            d.path(),
            &[SJ, "run", "--share", "ipc", "--", &p, "readshm", &id],
        ));
        assert_eq!(outcome(&o), Outcome::Escaped, "--share ipc");
        assert!(
            String::from_utf8_lossy(&o.stderr)
                .contains("--share ipc: the program shares the host's ipc namespace"),
            "{o:?}"
        );
        let _ = run(cmd(d.path(), &[&p, "rmshm", &id]));
    }
}

#[test]
fn refused_socket_families_are_refused_by_the_default_preset() {
    let d = TempDir::new("vsock");
    let p = d.build("outside");
    must_escape("vsock", &run(as_nobody(d.path(), &[&p, "vsock"])), |o| {
        (*o == Outcome::Contained(97)).then(|| "this kernel has no AF_VSOCK".to_owned())
    });
    for (how, args) in under_presets(&d, &[&p, "vsock"]) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(as_nobody(d.path(), &args));
        assert!(
            matches!(
                outcome(&o),
                Outcome::Contained(EPERM) | Outcome::Contained(97)
            ),
            "vsock under {how}: {:?}",
            outcome(&o)
        );
    }
}

/// A unix stream listener and datagram socket at `dir/sock` (and `sock.d`), served by
/// `unix_path serve` as `cmd` starts it, until dropped.
struct UnixServer(std::process::Child);

impl UnixServer {
    fn start(prog: &str, dir: &Path, cmd: fn(&Path, &[&str]) -> Command) -> UnixServer {
        let sock = dir.join("sock");
        let mut c = cmd(dir, &[prog, "serve", sock.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(c.stdout.as_mut().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line, "ready\n", "the unix server did not start");
        UnixServer(c)
    }
}

impl Drop for UnixServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_unix_socket_outside_the_fs_rules_is_out_of_reach() {
    use std::os::unix::fs::PermissionsExt;
    let d = TempDir::new("unixpath");
    let p = d.build("unix_path");
    let outside = TempDir::new("unixpath-host");
    std::fs::set_permissions(outside.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let inside = d.path().to_str().unwrap();
    for (who, cmd) in [
        ("nobody", as_nobody as fn(&Path, &[&str]) -> Command),
        ("caller", as_caller),
    ] {
        let _ = std::fs::remove_file(outside.path().join("sock"));
        let _ = std::fs::remove_file(outside.path().join("sock.d"));
        let _server = UnixServer::start(&p, outside.path(), cmd);
        let sock = outside.path().join("sock").to_str().unwrap().to_owned();
        for mode in ["connect", "sendto", "sendmsg", "sendmmsg"] {
            let case = format!("unix {mode} as {who}");
            must_escape(&case, &run(cmd(d.path(), &[&p, mode, &sock])), |_| None);
            // fs rules that do not cover the socket; `--net none`; both.
            for confine in [
                &["--allow-read", inside][..],
                &["--allow-write", inside],
                &["--net", "none"],
                &["--net", "none", "--allow-read", inside],
                &["--preset", "net-client", "--allow-read", inside],
            ] {
                let mut args = vec![SJ, "run"];
                args.extend(confine);
                args.extend(["--", &p, mode, &sock]);
                must_be(
                    &format!("{case} under {}", confine.join(" ")),
                    &run(cmd(d.path(), &args)),
                    Outcome::Contained(EACCES),
                );
            }
            // A write rule over the socket's directory allows it: a socket file is a file.
            let o = run(cmd(
                d.path(),
                &[
                    SJ,
                    "run",
                    "--allow-read",
                    inside,
                    "--allow-write",
                    outside.path().to_str().unwrap(),
                    "--",
                    &p,
                    mode,
                    &sock,
                ],
            ));
            assert_eq!(
                outcome(&o),
                Outcome::Escaped,
                "{case} with a write rule over it"
            );
        }
    }
}

#[test]
fn a_unix_rule_is_bound_to_its_socket_not_its_name() {
    use std::os::unix::fs::PermissionsExt;
    let d = TempDir::new("unixswap");
    let p = d.build("unix_path");
    let allowed = TempDir::new("unixswap-allowed");
    let outside = TempDir::new("unixswap-host");
    for t in [&allowed, &outside] {
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let host = outside.path().join("sock").to_str().unwrap().to_owned();
    let sock = allowed.path().join("sock").to_str().unwrap().to_owned();
    for (who, cmd) in [
        ("nobody", as_nobody as fn(&Path, &[&str]) -> Command),
        ("caller", as_caller),
    ] {
        let case = format!("unix rule swap as {who}");
        let _host = UnixServer::start(&p, outside.path(), cmd);
        // Unconfined: the name now leads to the host's socket.
        let s = UnixServer::start(&p, allowed.path(), cmd);
        must_escape(
            &case,
            &run(cmd(d.path(), &[&p, "swap", &sock, &host])),
            |_| None,
        );
        drop(s);
        // Confined: the rule names the socket that stood there when the program started.
        for f in ["sock", "sock.d"] {
            let _ = std::fs::remove_file(allowed.path().join(f));
        }
        let _s = UnixServer::start(&p, allowed.path(), cmd);
        d.write(
            "rule.sj",
            &format!("default allow\nnet connect unix:{sock}\n"),
        );
        // The rule itself works: the socket it names is reached.
        let o = run(cmd(
            d.path(),
            &[SJ, "run", "--policy", "rule.sj", "--", &p, "connect", &sock],
        ));
        assert_eq!(outcome(&o), Outcome::Escaped, "{case}: the allowed socket");
        must_be(
            &case,
            &run(cmd(
                d.path(),
                &[
                    SJ, "run", "--policy", "rule.sj", "--", &p, "swap", &sock, &host,
                ],
            )),
            Outcome::Contained(EACCES),
        );
        for t in [&allowed, &outside] {
            for f in ["sock", "sock.d"] {
                let _ = std::fs::remove_file(t.path().join(f));
            }
        }
    }
}

#[test]
fn the_supervisor_has_no_pid_in_the_sandbox() {
    // The program is told the supervisor's pid as the host sees it (on its stdin, once the
    // supervisor runs) and attacks that pid: in its own pid namespace no process has it.
    let d = TempDir::new("suppid");
    let trace = d.build("ptrace_parent");
    let mem = d.build("parent_mem");
    d.write("allow.sj", "default allow\n");
    // No such process (ESRCH); and /proc, the sandbox's own, has no such entry (ENOENT).
    for (case, attack, errno) in [
        ("ptrace", format!("{trace} $pid"), ESRCH),
        ("pvm", format!("{mem} pvm $pid"), ESRCH),
        ("procmem", format!("{mem} procmem $pid"), ENOENT),
    ] {
        let script = format!("read pid; exec {attack}");
        let mut c = as_nobody(
            d.path(),
            &[SJ, "run", "--policy", "allow.sj", "--", "sh", "-c", &script],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        // setpriv execs straitjacket in place: this pid is the supervisor's.
        let pid = c.id();
        std::io::Write::write_all(c.stdin.as_mut().unwrap(), format!("{pid}\n").as_bytes())
            .unwrap();
        let o = c.wait_with_output().unwrap();
        must_be(
            &format!("supervisor by pid: {case}"),
            &o,
            Outcome::Contained(errno),
        );
    }
}

#[test]
fn exec_rules_are_not_bypassed_by_an_anonymous_file() {
    // The payload lies outside every exec rule (in the test's directory); the loader runs
    // from /usr, which the rules allow. As root the sandbox's pid namespace refuses
    // executable memfds (vm.memfd_noexec = 2: the execveat fails); as an ordinary user, or
    // sharing the host's pid namespace, the filter refuses a memfd not sealed
    // non-executable (the memfd_create fails). EACCES either way.
    let d = TempDir::new("memfd");
    let p = d.build("memfd_exec");
    let payload = d.build("ran");
    let dir = d.path().to_str().unwrap();
    for (who, cmd) in [
        ("nobody", as_nobody as fn(&Path, &[&str]) -> Command),
        ("caller", as_caller),
    ] {
        let case = format!("memfd_exec as {who}");
        must_escape(&case, &run(cmd(d.path(), &[&p, &payload])), |_| None);
        for share in [&[][..], &["--share", "pid"][..]] {
            let mut a = vec![SJ, "run"];
            a.extend(share);
            a.extend(["--allow-read", dir, "--allow-exec", &p, "--", &p, &payload]);
            must_be(
                &format!("{case} {}", share.join(" ")),
                &run(cmd(d.path(), &a)),
                Outcome::Contained(EACCES),
            );
        }
        // Without exec rules nothing says what may run: it runs.
        let o = run(cmd(d.path(), &[SJ, "run", "--", &p, &payload]));
        assert_eq!(
            outcome(&o),
            Outcome::Escaped,
            "{case}, no exec rules: {o:?}"
        );
    }
    // A memfd sealed non-executable stays allowed under exec rules (the sealed kind is the
    // one programs use for data).
    let code = "import os; os.memfd_create('data', 0x8 | os.MFD_CLOEXEC); print('made')";
    for who in [as_nobody as fn(&Path, &[&str]) -> Command, as_caller] {
        let o = run(who(
            d.path(),
            &[
                SJ,
                "run",
                "--allow-read",
                dir,
                "--",
                "/usr/bin/python3",
                "-c",
                code,
            ],
        ));
        assert_eq!(String::from_utf8_lossy(&o.stdout), "made\n", "{o:?}");
    }
}

/// A python3 program, by its text.
fn py(dir: &Path, cmd: fn(&Path, &[&str]) -> Command, code: &str, args: &[&str]) -> Command {
    let mut all = vec!["/usr/bin/python3", "-c", code];
    all.extend(args);
    cmd(dir, &all)
}

const NETLINK_SEND: &str = r#"
import socket, sys
try:
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 2)  # NETLINK_USERSOCK
    print("TRYING: sendto(NETLINK_USERSOCK port id)", flush=True)
    s.sendto(b"outside", (int(sys.argv[1]), 0))
except OSError as e:
    print("CONTAINED: netlink errno=%d" % e.errno); sys.exit(1)
print("ESCAPED: a datagram reached an outside netlink listener")
"#;

const RAW_SOCKETS: &str = r#"
import socket, sys
kinds = {"raw": (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP),
         "packet": (socket.AF_PACKET, socket.SOCK_RAW, 0)}
f, t, p = kinds[sys.argv[1]]
print("TRYING: socket(%s)" % sys.argv[1], flush=True)
try:
    socket.socket(f, t, p)
except OSError as e:
    print("CONTAINED: socket errno=%d" % e.errno); sys.exit(1)
print("ESCAPED: a %s socket, which no address rule can judge" % sys.argv[1])
"#;

#[test]
fn under_net_rules_netlink_and_raw_sockets_reach_nothing_outside() {
    let d = TempDir::new("netlink");
    // A NETLINK_USERSOCK listener outside: it prints its port id, then what it receives.
    let listener = r#"
import socket, os
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 2)
s.bind((0, 0))
print(s.getsockname()[0], flush=True)
s.settimeout(2)
try:
    print(s.recv(100).decode(), flush=True)
except OSError:
    print("nothing", flush=True)
"#;
    for (who, cmd) in [
        ("nobody", as_nobody as fn(&Path, &[&str]) -> Command),
        ("caller", as_caller),
    ] {
        for confined in [false, true] {
            let mut l = py(d.path(), cmd, listener, &[])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut lines =
                std::io::BufRead::lines(std::io::BufReader::new(l.stdout.take().unwrap()));
            let port = lines.next().unwrap().unwrap();
            let case = format!("netlink usersock as {who}");
            let o = if confined {
                let mut a = vec![SJ, "run", "--policy", "net.sj", "--", "/usr/bin/python3"];
                a.extend(["-c", NETLINK_SEND, &port]);
                d.write("net.sj", "default allow\nnet connect 127.0.0.1:1\n");
                run(cmd(d.path(), &a))
            } else {
                run(py(d.path(), cmd, NETLINK_SEND, &[&port]))
            };
            let got = lines.next().unwrap().unwrap();
            let _ = l.wait();
            if confined {
                must_be(&case, &o, Outcome::Contained(EACCES));
                assert_eq!(got, "nothing", "{case}: the listener was reached");
            } else {
                must_escape(&case, &o, |_| None);
                assert_eq!(got, "outside", "{case}");
            }
        }
    }
    // Raw and packet sockets need CAP_NET_RAW: root's, outside and in.
    if !is_root() {
        straitjacket_testkit::skip("raw and packet sockets need root");
        return;
    }
    d.write("net.sj", "default allow\nnet connect 127.0.0.1:1\n");
    for kind in ["raw", "packet"] {
        let case = format!("{kind} socket");
        must_escape(
            &case,
            &run(py(d.path(), as_caller, RAW_SOCKETS, &[kind])),
            |_| None,
        );
        for confine in [&["--policy", "net.sj"][..], &["--net", "none"]] {
            let mut a = vec![SJ, "run"];
            a.extend(confine);
            a.extend(["--", "/usr/bin/python3", "-c", RAW_SOCKETS, kind]);
            must_be(
                &case,
                &run(as_caller(d.path(), &a)),
                Outcome::Contained(EACCES),
            );
        }
    }
}

#[test]
fn userfaultfd_by_its_device_is_refused_too() {
    if !std::path::Path::new("/dev/userfaultfd").exists() {
        straitjacket_testkit::skip("this kernel has no /dev/userfaultfd");
        return;
    }
    if !is_root() {
        straitjacket_testkit::skip("/dev/userfaultfd is root's (mode 0600)");
        return;
    }
    let code = r#"
import os, fcntl, sys
fd = os.open("/dev/userfaultfd", os.O_RDWR | os.O_CLOEXEC)
print("TRYING: ioctl(USERFAULTFD_IOC_NEW)", flush=True)
try:
    fcntl.ioctl(fd, 0xaa00, 0)
except OSError as e:
    print("CONTAINED: ioctl errno=%d" % e.errno); sys.exit(1)
print("ESCAPED: a userfaultfd, which can stall whoever reads its pages")
"#;
    let d = TempDir::new("uffd");
    must_escape("uffd_dev", &run(py(d.path(), as_caller, code, &[])), |_| {
        None
    });
    must_be(
        "uffd_dev",
        &run(as_caller(
            d.path(),
            &[SJ, "run", "--", "/usr/bin/python3", "-c", code],
        )),
        Outcome::Contained(EPERM),
    );
}

const UDP_SERVER: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print("TRYING: bind(udp 127.0.0.1:%s) and serve" % sys.argv[1], flush=True)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError as e:
    print("CONTAINED: bind errno=%d" % e.errno); sys.exit(1)
print("READY", flush=True)
s.settimeout(10)
data, peer = s.recvfrom(100)
s.sendto(b"served " + data, peer)
print("ESCAPED: answered a client outside on a port of its own")
"#;

#[test]
fn the_net_client_preset_serves_no_one() {
    let d = TempDir::new("netclient");
    for (who, cmd) in [
        ("nobody", as_nobody as fn(&Path, &[&str]) -> Command),
        ("caller", as_caller),
    ] {
        for confined in [false, true] {
            let port = std::net::UdpSocket::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
                .to_string();
            let mut args = if confined {
                vec![SJ, "run", "--preset", "net-client", "--"]
            } else {
                vec![]
            };
            args.extend(["/usr/bin/python3", "-c", UDP_SERVER, &port]);
            let mut c = cmd(d.path(), &args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut out = std::io::BufReader::new(c.stdout.take().unwrap());
            let mut line = String::new();
            // TRYING, then READY (bound) or CONTAINED.
            std::io::BufRead::read_line(&mut out, &mut line).unwrap();
            line.clear();
            std::io::BufRead::read_line(&mut out, &mut line).unwrap();
            let mut rest = line.clone();
            if line == "READY\n" {
                // An outside client asks, and gets an answer.
                let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                client.send_to(b"hi", format!("127.0.0.1:{port}")).unwrap();
                client
                    .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                    .unwrap();
                let mut buf = [0u8; 64];
                let n = client.recv(&mut buf).unwrap_or(0);
                assert_eq!(&buf[..n], b"served hi", "{who}: the server did not answer");
            }
            std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
            let st = c.wait().unwrap();
            let o = Output {
                status: st,
                stdout: format!("TRYING: serve\n{rest}").into_bytes(),
                stderr: Vec::new(),
            };
            let case = format!("udp server as {who}");
            if confined {
                must_be(&case, &o, Outcome::Contained(EACCES));
            } else {
                must_escape(&case, &o, |_| None);
            }
        }
    }
}
