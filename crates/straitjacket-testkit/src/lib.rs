//! What every test suite of the workspace shares, written once.
//!
//! - [`skip`]: the one way a test declines to run. It prints `SKIP <test>: <reason>` past
//!   the harness's output capture, and fails the test instead when
//!   `STRAITJACKET_TEST_REQUIRE_ALL=1` (CI sets it after installing every prerequisite, so a
//!   skip there is a defect, never a silent pass).
//! - [`alone`] and [`alone_outcome`]: run a test's body in a process of its own (this test
//!   binary, started again with only that test), for bodies that confine themselves or fork.
//!   A child forked from the multi-threaded harness may run only async-signal-safe code until
//!   it execs or exits; a lock another test thread held at fork time (a `OnceLock` being
//!   initialised, the environment lock, stdout) would never be released in the child. In a
//!   process of its own the body is the only test, so its forks are from a quiet process.
//! - [`golden`]: compare with a golden file, or write it under `STRAITJACKET_BLESS=1`.
//! - [`corpus_dir`]: the real-world policies the tests read, inside the repository.
//! - [`note`]: a fact of this machine a reader should see, which is not a skip.
//! - [`TempDir`], [`is_root`], [`Rng`].

use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Set to `1` where every prerequisite is known to be present: a skip then fails.
pub const REQUIRE_ALL: &str = "STRAITJACKET_TEST_REQUIRE_ALL";
/// Set to `1` to rewrite golden files instead of comparing with them.
pub const BLESS: &str = "STRAITJACKET_BLESS";
/// Names the test a re-executed test binary runs as the body of [`alone`].
const CHILD: &str = "STRAITJACKET_TEST_ALONE";
/// A body in a process of its own that runs longer than this is killed.
const ALONE_TIMEOUT: Duration = Duration::from_secs(120);

fn env_is_one(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| v == "1")
}

/// The running test's name: libtest names each test's thread after it.
pub fn test_name() -> String {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(str::to_string)
        .or_else(|| std::env::var(CHILD).ok())
        .unwrap_or_else(|| "<test>".to_string())
}

/// Declines to run the rest of a test, saying why; under `STRAITJACKET_TEST_REQUIRE_ALL=1`,
/// fails it. Returns so that the caller can `return` after it.
///
/// The line goes straight to the standard error stream, not through `eprintln!`, which the
/// harness would capture and hide for a passing test.
pub fn skip(reason: impl Display) {
    let name = test_name();
    if env_is_one(REQUIRE_ALL) {
        panic!("{name} would be skipped, but {REQUIRE_ALL}=1: {reason}");
    }
    let _ = writeln!(std::io::stderr(), "SKIP {name}: {reason}");
}

/// Says something a reader of the run should know that is not a skip (a half of a case this
/// machine cannot show, while the rest of the test still runs), past the output capture.
pub fn note(what: impl Display) {
    let _ = writeln!(std::io::stderr(), "NOTE {}: {what}", test_name());
}

/// Whether the effective user is root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// How a body run by [`alone_outcome`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It returned, or called exit, with this status.
    Exited(i32),
    /// A signal ended its process.
    Signaled(i32),
}

/// Runs `body` as the only test of a fresh process and returns how that process ended:
/// `Exited(n)` when the body returns `n`, `Signaled(s)` when it dies of signal `s` (a seccomp
/// kill, say). A body that panics ends as `Exited(101)`, with its message on stderr.
///
/// In the parent, the body is not run: the test binary is started again with only this test
/// (found by the test's name), and that run executes the body. Call it once per test.
pub fn alone_outcome(body: impl FnOnce() -> i32) -> Outcome {
    let name = test_name();
    if std::env::var(CHILD).is_ok_and(|n| n == name) {
        let code = body();
        let _ = std::io::stdout().flush();
        std::process::exit(code);
    }
    let exe = std::env::current_exe().expect("the test binary's own path");
    let mut child = Command::new(exe)
        .args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, &name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the test binary again");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for the test's own process") {
            break st;
        }
        if start.elapsed() > ALONE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name}: its own process ran longer than {ALONE_TIMEOUT:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let out = child.wait_with_output().expect("the test process's output");
    let outcome = match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(c), _) => Outcome::Exited(c),
        (None, Some(s)) => Outcome::Signaled(s),
        (None, None) => unreachable!("a process ends by exit or by signal"),
    };
    // Show what the child printed, past the capture only when something went wrong: the
    // harness shows a failing test's captured output, so print through it.
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    // A skip in the child is a skip of this test: say it here too, uncaptured.
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        if line.starts_with("SKIP ") {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    }
    outcome
}

/// Runs `body` as the only test of a fresh process (see [`alone_outcome`]) and fails when it
/// fails: a panic or a failed assertion in the body fails the test.
pub fn alone(body: impl FnOnce()) {
    let outcome = alone_outcome(|| {
        body();
        0
    });
    assert_eq!(
        outcome,
        Outcome::Exited(0),
        "{}: the body in its own process failed (its output is above)",
        test_name()
    );
}

/// Compares `actual` with the golden file at `path`, or writes it when `STRAITJACKET_BLESS=1`.
/// A missing golden is a failure, never a pass.
pub fn golden(path: &Path, actual: &str) -> Result<(), String> {
    if env_is_one(BLESS) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(path, actual).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(());
    }
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => Ok(()),
        Ok(expected) => Err(format!(
            "{} differs (STRAITJACKET_BLESS=1 rewrites it):\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        )),
        Err(_) => Err(format!(
            "{} is missing (STRAITJACKET_BLESS=1 writes it):\n{actual}",
            path.display()
        )),
    }
}

/// Asserts every result of a golden comparison, listing all the failures at once.
pub fn assert_goldens(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} golden(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The workspace's root directory.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root")
}

/// The real-world policies the tests read, kept in the repository with their provenance
/// (`testdata/corpus/MANIFEST.md`). A missing directory fails the test.
pub fn corpus_dir() -> PathBuf {
    let dir = workspace().join("testdata/corpus");
    assert!(
        dir.join("MANIFEST.md").is_file(),
        "the corpus is missing at {}",
        dir.display()
    );
    dir
}

/// The corpus directories to read: the repository's (and its `real/`), then any listed in
/// `STRAITJACKET_EXTRA_CORPUS` (colon-separated), which add to it and never replace it.
pub fn corpus_dirs() -> Vec<PathBuf> {
    let base = corpus_dir();
    let mut dirs = vec![base.clone(), base.join("real")];
    if let Some(extra) = std::env::var_os("STRAITJACKET_EXTRA_CORPUS") {
        dirs.extend(std::env::split_paths(&extra).filter(|p| !p.as_os_str().is_empty()));
    }
    dirs
}

/// A file of the corpus, by its path below `testdata/corpus`; it must exist.
pub fn corpus_file(rel: &str) -> String {
    let p = corpus_dir().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A fresh directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("sj-test-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    /// A path inside the directory.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
    /// A path inside the directory, as a string for a command line.
    pub fn s(&self, rel: &str) -> String {
        self.join(rel)
            .to_str()
            .expect("UTF-8 temp path")
            .to_string()
    }
    /// Writes `text` to a file inside the directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A small deterministic generator (xorshift64) for randomized tests: the same seed gives
/// the same cases, so a failure names its seed and reproduces.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced: xorshift never leaves 0).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// True once in `n` draws on average.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.next_u64().is_multiple_of(n)
    }
    /// One element of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
