//! Starting a program under a seccomp filter: the only fork/exec of straitjacket.
//!
//! Everything the child needs is prepared before fork in a [`Plan`] (C strings and pointer
//! arrays for path, argv and envp, the filter records, the fd layout, the ranges to close), so
//! that between fork and exec the child allocates nothing and only makes raw system calls. The
//! child, in order:
//! 1. `PR_SET_PDEATHSIG(SIGKILL)`, then checks `getppid()` against the parent's pid taken
//!    before fork (the parent may have died before the prctl took effect; in a new pid
//!    namespace the parent is outside it and `getppid()` is 0);
//! 2. with namespaces: waits for the parent to write the uid/gid maps (and the cgroup), then
//!    makes the mounts (private propagation, binds, a tmpfs on /tmp, a fresh /proc), sets
//!    `vm.memfd_noexec`, the hostname, and brings loopback up;
//! 3. with an init ([`Namespaces::init`]): blocks every signal and forks; this process stays
//!    as the namespace's init (it closes every fd but its status pipe, says so on a pipe, and
//!    only waits, passes signals on and reaps), and the child, the program from here on, waits
//!    for that word, arms its own parent-death signal and goes on with step 4;
//! 4. `setsid()` unless the plan keeps the caller's terminal session;
//! 5. `chdir`;
//! 6. moves its ends of the sync and error pipes (and the Landlock ruleset) to known fd
//!    numbers just above the highest kept fd (through a temporary copy above every fd
//!    involved, so no move clobbers another), close-on-exec;
//! 7. closes every other fd but 0, 1, 2 and the kept ones (`close_range` over the gaps), and
//!    clears close-on-exec on the kept ones;
//! 8. resets SIGPIPE to its default (Rust ignores it) and unblocks every signal;
//! 9. `PR_SET_NO_NEW_PRIVS`;
//! 10. `landlock_restrict_self` with the ruleset, which it then closes;
//! 11. the resource limits;
//! 12. writes one byte to the sync pipe: "about to install";
//! 13. installs the filter with `SECCOMP_FILTER_FLAG_NEW_LISTENER` (and `WAIT_KILLABLE_RECV`
//!     where the kernel has it), LAST;
//! 14. `execve`. A failure at any step is written as (step, errno) to the error pipe.
//!
//! # Getting the listener without the child's help
//! After step 13 the child may make no call the policy denies, so it cannot send the listener
//! over a socket. Instead the parent takes it with `pidfd_getfd(child, N)` (with an init, of
//! the init's one child, the program, found in /proc once the sync byte has come). N is known
//! in advance: the kernel gives a new fd the lowest free number (`get_unused_fd_flags`), and
//! after step 7 the child's open fds are exactly 0..2 (those the parent had open), the kept
//! fds and the two pipe ends, none of which steps 8–12 change (step 10 closes the ruleset
//! again). So N is the lowest number not in
//! that set, computed by [`Plan::listener_fd`]. The parent waits for the sync byte, then retries
//! `pidfd_getfd` (EBADF until the install is done) and checks that what it got is a listener
//! (`notify::is_listener`). N cannot be reused by something else before the parent gets it:
//! the routed filter always notifies `execve`, so the child's next call after installing
//! blocks until the parent, holding the listener, answers it. The listener is close-on-exec in
//! the child (the kernel creates it O_CLOEXEC), so the new program never holds it.

use std::ffi::{CString, NulError};
use std::fmt;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use crate::last_error;
use crate::notify;
use crate::pidfd;
use crate::process::ChildOutcome;
use crate::seccomp::FilterFlags;

/// A step of the child, as reported on the error pipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Step {
    DeathSignal = 1,
    Setsid = 2,
    Chdir = 3,
    MoveFds = 4,
    CloseFds = 5,
    Signals = 6,
    NoNewPrivs = 7,
    Sync = 8,
    Install = 9,
    Exec = 10,
    Landlock = 11,
    Rlimit = 12,
    WaitParent = 13,
    Mount = 14,
    Hostname = 15,
    Loopback = 16,
    Init = 17,
    MemfdNoexec = 18,
}

impl Step {
    fn from_u32(v: u32) -> Option<Step> {
        Some(match v {
            1 => Step::DeathSignal,
            2 => Step::Setsid,
            3 => Step::Chdir,
            4 => Step::MoveFds,
            5 => Step::CloseFds,
            6 => Step::Signals,
            7 => Step::NoNewPrivs,
            8 => Step::Sync,
            9 => Step::Install,
            10 => Step::Exec,
            11 => Step::Landlock,
            12 => Step::Rlimit,
            13 => Step::WaitParent,
            14 => Step::Mount,
            15 => Step::Hostname,
            16 => Step::Loopback,
            17 => Step::Init,
            18 => Step::MemfdNoexec,
            _ => return None,
        })
    }

    pub fn describe(self) -> &'static str {
        match self {
            Step::DeathSignal => "setting the parent-death signal",
            Step::Setsid => "starting a new session",
            Step::Chdir => "changing directory",
            Step::MoveFds => "arranging file descriptors",
            Step::CloseFds => "closing file descriptors",
            Step::Signals => "resetting signals",
            Step::NoNewPrivs => "setting NO_NEW_PRIVS",
            Step::Sync => "signalling the parent",
            Step::Install => "installing the seccomp filter",
            Step::Exec => "executing the program",
            Step::Landlock => "enforcing the Landlock ruleset",
            Step::Rlimit => "setting a resource limit",
            Step::WaitParent => "waiting for the uid/gid maps",
            Step::Mount => "setting up the mount namespace",
            Step::Hostname => "setting the hostname",
            Step::Loopback => "bringing up the loopback interface",
            Step::Init => "starting the pid namespace's init",
            Step::MemfdNoexec => "refusing executable memfds (vm.memfd_noexec)",
        }
    }
}

/// Why a launch failed.
#[derive(Debug)]
pub enum LaunchError {
    /// An argument, variable or path contains a NUL byte.
    Nul(NulError),
    /// A `--keep-fd` is not open in the caller.
    FdNotOpen(RawFd),
    /// A call of the parent failed.
    Parent {
        what: &'static str,
        source: io::Error,
    },
    /// The child failed at `step` before running the program.
    Child { step: Step, source: io::Error },
    /// The child never installed its filter in time.
    Timeout,
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::Nul(e) => write!(f, "an argument contains a NUL byte ({e})"),
            LaunchError::FdNotOpen(fd) => write!(f, "file descriptor {fd} is not open"),
            LaunchError::Parent { what, source } => {
                write!(f, "{what}: {source}")?;
                if *what == "pidfd_getfd" && source.raw_os_error() == Some(libc::EPERM) {
                    f.write_str(
                        " (hint: taking the child's seccomp listener needs ptrace access to it: \
                         check /proc/sys/kernel/yama/ptrace_scope, or whether straitjacket itself \
                         runs under a filter that denies pidfd_getfd)",
                    )?;
                }
                Ok(())
            }
            LaunchError::Child { step, source } => write!(f, "{}: {source}", step.describe()),
            LaunchError::Timeout => f.write_str("the child did not install its filter in time"),
        }
    }
}

impl std::error::Error for LaunchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LaunchError::Nul(e) => Some(e),
            LaunchError::Parent { source, .. } | LaunchError::Child { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<NulError> for LaunchError {
    fn from(e: NulError) -> LaunchError {
        LaunchError::Nul(e)
    }
}

/// Everything the child needs, prepared before fork.
#[derive(Debug)]
pub struct Plan {
    path: CString,
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    _envp: Vec<CString>,
    envp_ptrs: Vec<*const libc::c_char>,
    cwd: Option<CString>,
    filter: Vec<[u8; 8]>,
    /// Kept fds above 2, sorted, each open in the caller.
    keep: Vec<RawFd>,
    /// Which of 0, 1, 2 are open in the caller.
    std_open: [bool; 3],
    new_session: bool,
    /// Where the child's sync and error pipe ends go.
    sync_fd: RawFd,
    err_fd: RawFd,
    /// Where the Landlock ruleset goes in the child (`err_fd + 1`), if there is one.
    landlock: Option<(RawFd, RawFd)>,
    rlimits: Vec<(u32, libc::rlimit)>,
    ns: Option<NsPlan>,
}

/// Namespaces to create with the child (clone flags) and what to set up inside them.
#[derive(Debug, Clone, Default)]
pub struct Namespaces {
    /// `CLONE_NEW*` flags.
    pub clone_flags: i32,
    /// With `CLONE_NEWUSER`: map this uid and gid to themselves inside.
    pub map_ids: Option<(u32, u32)>,
    /// Map every id to itself (root: keeps file ownership meaningful inside).
    pub map_all: bool,
    pub hostname: Option<Vec<u8>>,
    /// Bring `lo` up (with `CLONE_NEWNET`).
    pub loopback_up: bool,
    /// A fresh tmpfs on /tmp (with `CLONE_NEWNS`).
    pub private_tmp: bool,
    /// `(source, destination, read_only)` bind mounts (with `CLONE_NEWNS`), in order.
    pub binds: Vec<(Vec<u8>, Vec<u8>, bool)>,
    /// Mount a fresh /proc (with `CLONE_NEWNS | CLONE_NEWPID`).
    pub mount_proc: bool,
    /// With `CLONE_NEWPID`: the first process stays behind as the namespace's init (it reaps,
    /// passes signals on, and reports the program's status), and the program runs as its
    /// child, so it is not pid 1: the signals it sends itself (`kill $$`, `abort()`) act as
    /// anywhere else. The status comes back on [`Launched::status`].
    pub init: bool,
    /// With `CLONE_NEWPID`: set `vm.memfd_noexec` to 2 in the new pid namespace, so no memfd
    /// there can be executed (memfd_create(2): MFD_EXEC is refused, every memfd is sealed
    /// non-executable). Landlock does not judge the exec of such internal files.
    pub memfd_noexec: bool,
    /// A `cgroup.procs` file the parent writes the child's pid to before it runs on.
    pub cgroup_procs: Option<std::path::PathBuf>,
}

#[derive(Debug)]
struct NsPlan {
    flags: i32,
    map: Option<(Vec<u8>, Vec<u8>)>,
    hostname: Option<CString>,
    loopback: bool,
    private_tmp: bool,
    binds: Vec<(CString, CString, bool)>,
    mount_proc: bool,
    init: bool,
    memfd_noexec: bool,
    lo_req: libc::ifreq,
    cgroup_procs: Option<std::path::PathBuf>,
}

// C strings used by the child for mounts, prepared once.
const ROOT: &std::ffi::CStr = c"/";
const TMP: &std::ffi::CStr = c"/tmp";
const TMPFS: &std::ffi::CStr = c"tmpfs";
const TMP_OPTS: &std::ffi::CStr = c"mode=1777";
const PROC_DIR: &std::ffi::CStr = c"/proc";
const PROC_FS: &std::ffi::CStr = c"proc";
const MEMFD_NOEXEC: &std::ffi::CStr = c"/proc/sys/vm/memfd_noexec";

/// What the caller asks for.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    /// The executable, already resolved (no PATH search here).
    pub path: Vec<u8>,
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    pub cwd: Option<Vec<u8>>,
    /// Raw `struct sock_filter` records.
    pub filter: Vec<[u8; 8]>,
    /// Fds beyond 0, 1, 2 the program keeps.
    pub keep_fds: Vec<RawFd>,
    /// `setsid()` in the child (no controlling terminal).
    pub new_session: bool,
    /// A Landlock ruleset fd (owned by the caller, open until `spawn` returns) that the
    /// child enforces right before the filter.
    pub landlock: Option<RawFd>,
    /// `(RLIMIT_*, soft, hard)` set in the child right before the filter.
    pub rlimits: Vec<(u32, u64, u64)>,
    /// New namespaces for the child (created by `clone` instead of `fork`).
    pub namespaces: Option<Namespaces>,
}

fn fd_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD takes no pointer; it only reports the fd's flags (or EBADF).
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

fn cstrings(items: &[Vec<u8>]) -> Result<(Vec<CString>, Vec<*const libc::c_char>), NulError> {
    let strings = items
        .iter()
        .map(|s| CString::new(s.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut ptrs: Vec<*const libc::c_char> = strings.iter().map(|s| s.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    Ok((strings, ptrs))
}

impl Plan {
    /// Checks the request and prepares it. Kept fds must be open now.
    pub fn new(spec: &Spec) -> Result<Plan, LaunchError> {
        let path = CString::new(spec.path.clone())?;
        let (argv, argv_ptrs) = cstrings(&spec.argv)?;
        let (envp, envp_ptrs) = cstrings(&spec.envp)?;
        let cwd = spec.cwd.clone().map(CString::new).transpose()?;
        let mut keep: Vec<RawFd> = Vec::new();
        for &fd in &spec.keep_fds {
            if fd < 0 || !fd_open(fd) {
                return Err(LaunchError::FdNotOpen(fd));
            }
            if fd > 2 && !keep.contains(&fd) {
                keep.push(fd);
            }
        }
        keep.sort_unstable();
        let std_open = [fd_open(0), fd_open(1), fd_open(2)];
        let sync_fd = keep.last().copied().unwrap_or(2).max(2) + 1;
        let rlimits = spec
            .rlimits
            .iter()
            .map(|&(r, soft, hard)| {
                (
                    r,
                    libc::rlimit {
                        rlim_cur: soft,
                        rlim_max: hard,
                    },
                )
            })
            .collect();
        Ok(Plan {
            path,
            _argv: argv,
            argv_ptrs,
            _envp: envp,
            envp_ptrs,
            cwd,
            filter: spec.filter.clone(),
            keep,
            std_open,
            new_session: spec.new_session,
            sync_fd,
            err_fd: sync_fd + 1,
            landlock: spec.landlock.map(|fd| (fd, sync_fd + 2)),
            rlimits,
            ns: spec.namespaces.as_ref().map(ns_plan).transpose()?,
        })
    }

    /// The fd number the listener gets in the child: the lowest one not open after the fd
    /// layout is arranged (see the module docs).
    pub fn listener_fd(&self) -> RawFd {
        let open = |n: RawFd| {
            (0..3).contains(&n) && self.std_open[n as usize]
                || self.keep.contains(&n)
                || n == self.sync_fd
                || n == self.err_fd
        };
        (0..).find(|&n| !open(n)).unwrap_or(0)
    }

    /// The fd ranges the child closes: everything but 0..2, the kept fds and the pipe ends.
    fn gaps(&self) -> Vec<(u32, u32)> {
        let mut kept: Vec<u32> = vec![0, 1, 2];
        kept.extend(self.keep.iter().map(|&f| f as u32));
        kept.push(self.sync_fd as u32);
        kept.push(self.err_fd as u32);
        if let Some((_, to)) = self.landlock {
            kept.push(to as u32);
        }
        kept.sort_unstable();
        kept.dedup();
        let mut gaps = Vec::new();
        for w in kept.windows(2) {
            if w[1] > w[0] + 1 {
                gaps.push((w[0] + 1, w[1] - 1));
            }
        }
        if let Some(&last) = kept.last() {
            gaps.push((last + 1, u32::MAX));
        }
        gaps
    }
}

fn ns_plan(n: &Namespaces) -> Result<NsPlan, LaunchError> {
    // SAFETY: ifreq is plain data (a name and a union of integers); all zero is valid.
    let mut lo_req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (i, b) in b"lo".iter().enumerate() {
        lo_req.ifr_name[i] = *b as libc::c_char;
    }
    Ok(NsPlan {
        flags: n.clone_flags,
        map: n.map_ids.map(|(u, g)| {
            if n.map_all {
                let all = b"0 0 4294967295\n".to_vec();
                (all.clone(), all)
            } else {
                (
                    format!("{u} {u} 1\n").into_bytes(),
                    format!("{g} {g} 1\n").into_bytes(),
                )
            }
        }),
        hostname: n.hostname.clone().map(CString::new).transpose()?,
        loopback: n.loopback_up,
        private_tmp: n.private_tmp,
        binds: n
            .binds
            .iter()
            .map(|(s, d, ro)| Ok((CString::new(s.clone())?, CString::new(d.clone())?, *ro)))
            .collect::<Result<_, NulError>>()?,
        mount_proc: n.mount_proc,
        init: n.init && n.clone_flags & libc::CLONE_NEWPID != 0,
        memfd_noexec: n.memfd_noexec && n.clone_flags & libc::CLONE_NEWPID != 0,
        lo_req,
        cgroup_procs: n.cgroup_procs.clone(),
    })
}

/// Writes the child's uid and gid maps (`user_namespaces(7)`: setgroups must be denied
/// before an unprivileged process may write gid_map).
fn write_maps(pid: i32, uid_map: &[u8], gid_map: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let w = |name: &str, data: &[u8]| -> io::Result<()> {
        std::fs::OpenOptions::new()
            .write(true)
            .open(format!("/proc/{pid}/{name}"))?
            .write_all(data)
    };
    w("uid_map", uid_map)?;
    // A full map is written by a privileged parent, which may keep setgroups.
    if !gid_map.starts_with(b"0 0 4294967295") {
        w("setgroups", b"deny")?;
    }
    w("gid_map", gid_map)
}

/// A started program: blocked in its first `execve` (a notification on `listener`).
#[derive(Debug)]
pub struct Launched {
    /// The child: the program, or with [`Namespaces::init`] the pid namespace's init, whose
    /// end ends every process of the namespace.
    pub pid: i32,
    pub pidfd: OwnedFd,
    /// With an init: the program (the init's child), its pid here and a pidfd.
    pub program: Option<(i32, OwnedFd)>,
    /// With an init: the read end of the pipe the init writes the program's wait status to
    /// (4 bytes) before it exits; see [`read_program_status`].
    pub status: Option<OwnedFd>,
    pub listener: OwnedFd,
    /// The error pipe's read end (non-blocking): 8 bytes (step, errno) if exec fails, EOF once
    /// the program runs (the kernel closes close-on-exec fds before the new program starts).
    pub errors: OwnedFd,
}

/// How the program of a launch with an init ended, as the init wrote it; `None` if the init
/// ended before the program did (it was killed: the program with it).
pub fn read_program_status(status: &OwnedFd) -> Option<ChildOutcome> {
    let mut buf = [0u8; 4];
    let mut f = std::fs::File::from(status.try_clone().ok()?);
    std::io::Read::read_exact(&mut f, &mut buf).ok()?;
    let st = i32::from_ne_bytes(buf);
    if libc::WIFEXITED(st) {
        Some(ChildOutcome::Exited(libc::WEXITSTATUS(st)))
    } else if libc::WIFSIGNALED(st) {
        Some(ChildOutcome::Signaled(libc::WTERMSIG(st)))
    } else {
        None
    }
}

/// Reads an error record from the error pipe: `Ok(None)` on EOF, `Err(WouldBlock)` if
/// nothing is there yet.
pub fn read_error_record(errors: &OwnedFd) -> io::Result<Option<(Option<Step>, io::Error)>> {
    let mut buf = [0u8; 8];
    let mut f = std::fs::File::from(errors.try_clone()?);
    let n = f.read(&mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    // A record is written with one write(2) of 8 bytes to a pipe: atomic.
    let step = Step::from_u32(u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]));
    let errno = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
    Ok(Some((step, io::Error::from_raw_os_error(errno))))
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a live array of two ints for the kernel to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(last_error());
    }
    // SAFETY: pipe2 returned two new fds that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn parent(what: &'static str) -> impl FnOnce(io::Error) -> LaunchError {
    move |source| LaunchError::Parent { what, source }
}

/// How long the parent waits for the child to install its filter.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Forks and starts `plan`'s program. On success the child is blocked in its `execve`,
/// which the caller must answer through `listener` (CONTINUE).
pub fn spawn(plan: &Plan) -> Result<Launched, LaunchError> {
    let (sync_r, sync_w) = pipe().map_err(parent("creating a pipe"))?;
    let (err_r, err_w) = pipe().map_err(parent("creating a pipe"))?;
    let gaps = plan.gaps();
    let high = plan
        .err_fd
        .max(sync_w.as_raw_fd())
        .max(err_w.as_raw_fd())
        .max(plan.landlock.map_or(0, |(from, to)| from.max(to)))
        + 1;
    let prog = libc::sock_fprog {
        len: u16::try_from(plan.filter.len())
            .map_err(|_| parent("filter")(io::Error::from_raw_os_error(libc::EINVAL)))?,
        filter: plan.filter.as_ptr().cast::<libc::sock_filter>().cast_mut(),
    };
    // SAFETY: sigset_t is plain data; sigemptyset initialises it.
    let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `empty` is a live sigset_t.
    unsafe { libc::sigemptyset(&mut empty) };
    // SAFETY: sigset_t is plain data; sigfillset initialises it.
    let mut full: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `full` is a live sigset_t.
    unsafe { libc::sigfillset(&mut full) };
    let with_init = plan.ns.as_ref().is_some_and(|n| n.init);
    let status = if with_init {
        Some(pipe().map_err(parent("creating a pipe"))?)
    } else {
        None
    };
    let child_fds = ChildFds {
        sync_w: sync_w.as_raw_fd(),
        err_w: err_w.as_raw_fd(),
        high,
        gaps: &gaps,
        prog: &prog,
        empty: &empty,
        full: &full,
        status_w: status.as_ref().map_or(-1, |(_, w)| w.as_raw_fd()),
        // SAFETY: getpid has no preconditions.
        ppid: unsafe { libc::getpid() },
        go_r: -1,
    };

    // With namespaces the child waits on this pipe until the parent has written its uid and
    // gid maps.
    let go = match &plan.ns {
        Some(_) => Some(pipe().map_err(parent("creating a pipe"))?),
        None => None,
    };
    let child_fds = ChildFds {
        go_r: go.as_ref().map_or(-1, |(r, _)| r.as_raw_fd()),
        ..child_fds
    };
    let pid = match &plan.ns {
        // SAFETY: fork has no memory-safety preconditions of its own. The child runs only
        // `child_main`, which makes raw system calls on data prepared above (no allocation,
        // no locks) and ends in execve or _exit, never returning into the caller.
        None => unsafe { libc::fork() },
        // SAFETY: clone with a NULL stack and no CLONE_VM/CLONE_SETTLS is fork with new
        // namespaces: the child gets a copy of the address space and runs on from here, as
        // after fork (only `child_main`, as above).
        Some(ns) => unsafe {
            libc::syscall(
                libc::SYS_clone,
                (ns.flags | libc::SIGCHLD) as libc::c_ulong,
                0usize,
                0usize,
                0usize,
                0usize,
            ) as libc::pid_t
        },
    };
    if pid < 0 {
        return Err(parent(if plan.ns.is_some() { "clone" } else { "fork" })(
            last_error(),
        ));
    }
    if pid == 0 {
        child_main(plan, &child_fds);
    }
    drop(sync_w);
    drop(err_w);
    let (status_r, status_w) = match status {
        Some((r, w)) => (Some(r), Some(w)),
        None => (None, None),
    };
    drop(status_w);
    if let (Some(ns), Some((go_r, go_w))) = (&plan.ns, go) {
        drop(go_r);
        let mut mapped = match &ns.map {
            Some((u, g)) => write_maps(pid, u, g),
            None => Ok(()),
        };
        if let (Ok(()), Some(procs)) = (&mapped, &ns.cgroup_procs) {
            mapped = std::fs::write(procs, pid.to_string());
        }
        if let Err(e) = mapped {
            let _ = crate::signals::kill_unreaped_child(pid, libc::SIGKILL);
            let _ = crate::process::wait(pid);
            return Err(parent("writing the uid/gid maps")(e));
        }
        let mut f = std::fs::File::from(go_w);
        let _ = std::io::Write::write_all(&mut f, &[1]);
    }

    let pidfd = match pidfd::open(pid, 0) {
        Ok(p) => p,
        Err(e) => {
            let _ = crate::signals::kill_unreaped_child(pid, libc::SIGKILL);
            let _ = crate::process::wait(pid);
            return Err(parent("pidfd_open")(e));
        }
    };
    let fail = |e: LaunchError| {
        let _ = pidfd::send_signal(pidfd.as_fd(), libc::SIGKILL);
        let _ = crate::process::wait(pid);
        e
    };
    let child_failed = || -> LaunchError {
        match read_error_record(&err_r) {
            Ok(Some((Some(step), source))) => LaunchError::Child { step, source },
            _ => LaunchError::Parent {
                what: "the child",
                source: io::Error::other(match crate::process::wait(pid) {
                    Ok(ChildOutcome::Exited(c)) => {
                        format!("exited with status {c} before running the program")
                    }
                    Ok(ChildOutcome::Signaled(s)) => {
                        format!("died of signal {s} before running the program")
                    }
                    Err(e) => e.to_string(),
                }),
            },
        }
    };

    // Wait for "about to install" (or EOF if the child failed or died first).
    let mut byte = [0u8; 1];
    let mut sync = std::fs::File::from(sync_r);
    let got = loop {
        match sync.read(&mut byte) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(fail(parent("reading the sync pipe")(e))),
        }
    };
    if got == 0 {
        let e = child_failed();
        return Err(fail(e));
    }
    crate::fsops::set_nonblocking(err_r.as_fd(), true).map_err(|e| fail(parent("fcntl")(e)))?;

    // With an init, the program is the init's child (it has forked: the program itself
    // wrote the sync byte), and the listener is the program's.
    let program = if with_init {
        let child = program_of(pid).map_err(|e| fail(parent("finding the program")(e)))?;
        let fd = pidfd::open(child, 0).map_err(|e| fail(parent("pidfd_open")(e)))?;
        Some((child, fd))
    } else {
        None
    };
    let holder = program.as_ref().map_or(pidfd.as_fd(), |(_, fd)| fd.as_fd());
    let n = plan.listener_fd();
    let start = Instant::now();
    let mut tries = 0u32;
    let listener = loop {
        match pidfd::getfd(holder, n) {
            Ok(fd) if notify::is_listener(fd.as_fd()) => {
                // Best effort: an older kernel keeps the ordinary wake-ups.
                let _ = notify::set_sync_wakeup(fd.as_fd());
                break fd;
            }
            Ok(_) => {
                return Err(fail(parent("pidfd_getfd")(io::Error::other(format!(
                    "fd {n} of the child is not a seccomp listener"
                )))))
            }
            Err(e) if e.raw_os_error() == Some(libc::EBADF) => {}
            Err(e) => return Err(fail(parent("pidfd_getfd")(e))),
        }
        // Not installed yet: the install takes tens of microseconds (the kernel runs the new
        // filter over every number to build its cache), so look again soon — not at once,
        // which would take the CPU the child needs on a busy machine — then every
        // millisecond; meanwhile the error pipe speaks if the install failed.
        tries += 1;
        let wait_us = if tries < 20 { 50 } else { 1000 };
        let ready = crate::signals::poll_readable_us(&[err_r.as_fd()], Some(wait_us))
            .map_err(|e| fail(parent("poll")(e)))?;
        if ready[0] {
            let e = child_failed();
            return Err(fail(e));
        }
        if start.elapsed() > INSTALL_TIMEOUT {
            return Err(fail(LaunchError::Timeout));
        }
    };
    Ok(Launched {
        pid,
        pidfd,
        program,
        status: status_r,
        listener,
        errors: err_r,
    })
}

/// The one child of `init` (the program an init forked), by /proc/PID/task/PID/children.
fn program_of(init: i32) -> io::Result<i32> {
    let text = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children"))?;
    let mut pids = text.split_whitespace().map(str::parse::<i32>);
    match (pids.next(), pids.next()) {
        (Some(Ok(p)), None) => Ok(p),
        _ => Err(io::Error::other(format!(
            "the init has children `{}`",
            text.trim()
        ))),
    }
}

/// What the child uses besides the plan, computed before fork.
struct ChildFds<'a> {
    sync_w: RawFd,
    err_w: RawFd,
    /// Above every fd involved: temporary copies go here.
    high: RawFd,
    gaps: &'a [(u32, u32)],
    prog: &'a libc::sock_fprog,
    empty: &'a libc::sigset_t,
    /// Every signal: the init waits for them instead of taking them.
    full: &'a libc::sigset_t,
    /// The write end of the init's status pipe, or -1.
    status_w: RawFd,
    ppid: libc::pid_t,
    /// The read end of the "maps written" pipe, or -1.
    go_r: RawFd,
}

fn errno() -> i32 {
    // SAFETY: __errno_location returns this thread's errno slot, always valid to read.
    unsafe { *libc::__errno_location() }
}

/// Writes (step, errno) to `fd` and exits 127. Runs in the child: no allocation.
fn die(fd: RawFd, step: Step) -> ! {
    let e = errno();
    let mut rec = [0u8; 8];
    let s = (step as u32).to_ne_bytes();
    let v = e.to_ne_bytes();
    let mut i = 0;
    while i < 4 {
        rec[i] = s[i];
        rec[i + 4] = v[i];
        i += 1;
    }
    // SAFETY: `rec` is a live 8-byte buffer; a failed write changes nothing we rely on, and
    // _exit never returns.
    unsafe {
        libc::write(fd, rec.as_ptr().cast(), rec.len());
        libc::_exit(127)
    }
}

/// `PR_SET_PDEATHSIG(SIGKILL)`: this process dies when its parent does. Runs in the child.
fn arm_death_signal(err: RawFd) {
    // SAFETY: integer arguments only.
    let r = unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    if r != 0 {
        die(err, Step::DeathSignal);
    }
}

/// The child between fork and exec. Only raw system calls on data the parent prepared
/// before fork (which stays alive: this is a copy of its address space until execve replaces
/// it or _exit ends it); no allocation; never returns.
fn child_main(plan: &Plan, c: &ChildFds<'_>) -> ! {
    let mut err = c.err_w;
    arm_death_signal(err);
    let new_pid_ns = plan
        .ns
        .as_ref()
        .is_some_and(|n| n.flags & libc::CLONE_NEWPID != 0);
    // SAFETY: getppid has no arguments.
    let ppid = unsafe { libc::getppid() };
    // In a new pid namespace the parent is outside it: getppid() is 0 while it lives.
    if ppid != c.ppid && !(new_pid_ns && ppid == 0) {
        // The parent died before the death signal was armed: nobody to run for.
        // SAFETY: _exit takes an integer and never returns.
        unsafe { libc::_exit(127) };
    }
    if let Some(ns) = &plan.ns {
        setup_namespaces(ns, c.go_r, err);
        if ns.init {
            // Blocked before the fork, so none is lost to the default action in between:
            // the init waits for them; the program unblocks them below (step Signals).
            // SAFETY: `c.full` is an initialised sigset_t prepared before fork.
            if unsafe { libc::sigprocmask(libc::SIG_SETMASK, c.full, std::ptr::null_mut()) } != 0 {
                die(err, Step::Init);
            }
            // The init must have let go of the pipes before the program goes on: the parent
            // ends the launch phase when the error pipe reaches EOF, and an init still
            // holding it would leave the program's first calls treated as the launcher's.
            let mut settled = [0 as libc::c_int; 2];
            // SAFETY: `settled` is a live array of two ints for the kernel to fill.
            if unsafe { libc::pipe2(settled.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
                die(err, Step::Init);
            }
            // SAFETY: fork has no memory-safety preconditions of its own; both sides go on
            // with raw system calls on prepared data only.
            let program = unsafe { libc::fork() };
            if program < 0 {
                die(err, Step::Init);
            }
            if program > 0 {
                init_main(program, c.status_w, settled[1]);
            }
            let mut b = [0u8; 1];
            // SAFETY: close and read take integers and a live 1-byte buffer. The read ends
            // when the init writes its byte, after closing every other fd (or dies).
            unsafe {
                libc::close(settled[1]);
                if libc::read(settled[0], b.as_mut_ptr().cast(), 1) != 1 {
                    die(err, Step::Init);
                }
                libc::close(settled[0]);
            }
            // The program: dies with its init (which dies with the supervisor).
            arm_death_signal(err);
            // SAFETY: getppid has no arguments.
            if unsafe { libc::getppid() } != 1 {
                // SAFETY: _exit takes an integer and never returns.
                unsafe { libc::_exit(127) };
            }
        }
    }
    // SAFETY: setsid has no arguments.
    if plan.new_session && unsafe { libc::setsid() } < 0 {
        die(err, Step::Setsid);
    }
    if let Some(cwd) = &plan.cwd {
        // SAFETY: `cwd` is a NUL-terminated string owned by the plan.
        if unsafe { libc::chdir(cwd.as_ptr()) } != 0 {
            die(err, Step::Chdir);
        }
    }
    // SAFETY: F_DUPFD_CLOEXEC takes integers; the copies land at or above `high`, above every
    // fd involved, so the dup3 calls below cannot overwrite them.
    let a = unsafe { libc::fcntl(c.sync_w, libc::F_DUPFD_CLOEXEC, c.high) };
    if a < 0 {
        die(err, Step::MoveFds);
    }
    // SAFETY: as above.
    let b = unsafe { libc::fcntl(c.err_w, libc::F_DUPFD_CLOEXEC, c.high) };
    if b < 0 {
        die(err, Step::MoveFds);
    }
    err = b;
    let ll = match plan.landlock {
        Some((from, _)) => {
            // SAFETY: as above.
            let l = unsafe { libc::fcntl(from, libc::F_DUPFD_CLOEXEC, c.high) };
            if l < 0 {
                die(err, Step::MoveFds);
            }
            l
        }
        None => -1,
    };
    // SAFETY: integer arguments; the target numbers belong to the plan's layout (whatever
    // was open there in this child is not kept).
    if unsafe { libc::dup3(a, plan.sync_fd, libc::O_CLOEXEC) } < 0 {
        die(err, Step::MoveFds);
    }
    // SAFETY: as above.
    if unsafe { libc::dup3(b, plan.err_fd, libc::O_CLOEXEC) } < 0 {
        die(err, Step::MoveFds);
    }
    err = plan.err_fd;
    if let Some((_, to)) = plan.landlock {
        // SAFETY: as above; `to` is err_fd + 1, part of the plan's layout.
        if unsafe { libc::dup3(ll, to, libc::O_CLOEXEC) } < 0 {
            die(err, Step::MoveFds);
        }
    }
    // 0..2 that the caller had closed may have been taken by the pipes in the parent: close
    // them again so the layout is the one `listener_fd` computed.
    for (fd, &open) in plan.std_open.iter().enumerate() {
        // SAFETY: close takes an integer; the fd is one the program must not get.
        if !open && unsafe { libc::close(fd as RawFd) } != 0 && errno() != libc::EBADF {
            die(err, Step::CloseFds);
        }
    }
    for &(lo, hi) in c.gaps {
        // SAFETY: close_range takes integers; the gaps exclude 0..2, kept fds and the pipes.
        if unsafe { libc::syscall(libc::SYS_close_range, lo, hi, 0) } != 0 {
            die(err, Step::CloseFds);
        }
    }
    for &fd in &plan.keep {
        // SAFETY: F_SETFD with an integer: clears close-on-exec on a kept fd.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } != 0 {
            die(err, Step::CloseFds);
        }
    }
    // SAFETY: restores the default disposition; no handler is involved.
    if unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) } == libc::SIG_ERR {
        die(err, Step::Signals);
    }
    // SAFETY: `c.empty` is an initialised sigset_t prepared before fork.
    if unsafe { libc::sigprocmask(libc::SIG_SETMASK, c.empty, std::ptr::null_mut()) } != 0 {
        die(err, Step::Signals);
    }
    // SAFETY: integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) } != 0 {
        die(err, Step::NoNewPrivs);
    }
    if let Some((_, to)) = plan.landlock {
        // SAFETY: integer arguments: the ruleset fd and no flags. NO_NEW_PRIVS is set, as
        // landlock_restrict_self requires of an unprivileged caller.
        if unsafe { libc::syscall(libc::SYS_landlock_restrict_self, to, 0 as libc::c_uint) } != 0 {
            die(err, Step::Landlock);
        }
        // Closed again, so the fd layout is the one `listener_fd` computed.
        // SAFETY: close takes an integer; the fd is ours.
        unsafe { libc::close(to) };
    }
    for (res, lim) in &plan.rlimits {
        // SAFETY: `lim` is a live rlimit prepared before fork; the kernel copies it.
        if unsafe { libc::setrlimit(*res as _, lim) } != 0 {
            die(err, Step::Rlimit);
        }
    }
    let one = [1u8];
    // SAFETY: `one` is a live 1-byte buffer.
    if unsafe { libc::write(plan.sync_fd, one.as_ptr().cast(), 1) } != 1 {
        die(err, Step::Sync);
    }
    // WAIT_KILLABLE_RECV (Linux 5.19): once the supervisor has received a notification, only
    // a fatal signal interrupts the caller's wait, so a thread the supervisor decided to kill
    // cannot run a signal handler meanwhile. Older kernels refuse the flag (EINVAL) before
    // installing anything; then install without it.
    let listener = FilterFlags::NEW_LISTENER;
    for flags in [listener | FilterFlags::WAIT_KILLABLE_RECV, listener] {
        // SAFETY: `c.prog` points to a sock_fprog whose records live in the plan; the kernel
        // copies them during the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                1 as libc::c_ulong,
                flags.bits() as libc::c_ulong,
                c.prog as *const libc::sock_fprog,
            )
        };
        if r >= 0 {
            break;
        }
        if errno() != libc::EINVAL || flags == listener {
            die(err, Step::Install);
        }
    }
    // SAFETY: path, argv and envp are NUL-terminated strings and NULL-terminated pointer
    // arrays owned by the plan. execve returns only on failure.
    unsafe {
        libc::execve(
            plan.path.as_ptr(),
            plan.argv_ptrs.as_ptr(),
            plan.envp_ptrs.as_ptr(),
        )
    };
    die(err, Step::Exec)
}

/// The init of a pid namespace: holds no fd but the status pipe, waits for signals (all
/// blocked), passes each on to the program, reaps every child, and when the program has
/// ended writes its wait status to the pipe and exits, which ends every process left in the
/// namespace (pid_namespaces(7)). It is outside the program's Landlock domain, which keeps
/// the program from signalling or tracing it. Runs in the child: no allocation.
fn init_main(program: libc::pid_t, status_w: RawFd, settled_w: RawFd) -> ! {
    // Only the status pipe is kept, as fd 0; the settled pipe, as fd 1, tells the program
    // that nothing else is held any more. Both are first copied above 0..2, so moving one
    // into place cannot overwrite the other.
    // SAFETY: fcntl, dup2, close_range, prctl, write and close take integers and a live
    // 1-byte buffer.
    unsafe {
        let status = libc::fcntl(status_w, libc::F_DUPFD, 3);
        let settled = libc::fcntl(settled_w, libc::F_DUPFD, 3);
        if status < 0 || settled < 0 || libc::dup2(status, 0) != 0 || libc::dup2(settled, 1) != 1 {
            libc::_exit(127);
        }
        libc::syscall(libc::SYS_close_range, 2u32, u32::MAX, 0u32);
        libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong, 0, 0, 0);
        let one = [1u8];
        libc::write(1, one.as_ptr().cast(), 1);
        libc::close(1);
    }
    let status_w: RawFd = 0;
    // SAFETY: sigset_t is plain data; sigfillset initialises it.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `all` is a live sigset_t.
    unsafe { libc::sigfillset(&mut all) };
    loop {
        // SAFETY: siginfo_t is plain data; all zero is valid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `all` is an initialised sigset_t and `info` a live siginfo_t to fill.
        let sig = unsafe { libc::sigwaitinfo(&all, &mut info) };
        if sig < 0 {
            continue;
        }
        if sig != libc::SIGCHLD {
            // SAFETY: kill takes integers; `program` is this process's child, unreaped.
            unsafe { libc::kill(program, sig) };
            continue;
        }
        loop {
            let mut st: libc::c_int = 0;
            // SAFETY: `st` is a live c_int for the kernel to fill.
            let r = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG | libc::__WALL) };
            if r <= 0 {
                break;
            }
            if r == program {
                let b = st.to_ne_bytes();
                // SAFETY: `b` is a live 4-byte buffer; _exit never returns.
                unsafe {
                    libc::write(status_w, b.as_ptr().cast(), b.len());
                    libc::_exit(0)
                }
            }
        }
    }
}

/// The mount flags to keep when remounting `path` (a user namespace may not clear them).
fn locked_flags(path: &CString) -> libc::c_ulong {
    // SAFETY: statvfs is plain data; all zero is valid.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated; `st` is a live statvfs to fill. glibc's statvfs is
    // statfs(2) plus a copy (the flags come from the kernel's f_flags since Linux 2.6.36):
    // no allocation.
    if unsafe { libc::statvfs(path.as_ptr(), &mut st) } != 0 {
        return 0;
    }
    let f = st.f_flag as libc::c_ulong;
    let mut out = f
        & (libc::MS_NOSUID
            | libc::MS_NODEV
            | libc::MS_NOEXEC
            | libc::MS_NOATIME
            | libc::MS_NODIRATIME);
    // ST_RELATIME (4096) is MS_RELATIME under another number.
    if f & 4096 != 0 {
        out |= libc::MS_RELATIME;
    }
    out
}

/// Namespace setup in the child: wait for the maps, then mounts, hostname, loopback.
/// Runs in the child: raw system calls on prepared data, no allocation.
fn setup_namespaces(ns: &NsPlan, go_r: RawFd, err: RawFd) {
    if go_r >= 0 {
        let mut b = [0u8; 1];
        // SAFETY: `b` is a live 1-byte buffer.
        if unsafe { libc::read(go_r, b.as_mut_ptr().cast(), 1) } != 1 {
            die(err, Step::WaitParent);
        }
        // SAFETY: close takes an integer.
        unsafe { libc::close(go_r) };
    }
    let null = std::ptr::null::<libc::c_char>();
    if ns.flags & libc::CLONE_NEWNS != 0 {
        // SAFETY: every pointer is a NUL-terminated string prepared before fork, or NULL
        // where mount(2) takes none.
        unsafe {
            if libc::mount(
                null,
                ROOT.as_ptr(),
                null,
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                die(err, Step::Mount);
            }
            for (src, dst, ro) in &ns.binds {
                if libc::mount(
                    src.as_ptr(),
                    dst.as_ptr(),
                    null,
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                ) != 0
                {
                    die(err, Step::Mount);
                }
                if *ro {
                    let keep = locked_flags(dst);
                    if libc::mount(
                        null,
                        dst.as_ptr(),
                        null,
                        libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | keep,
                        std::ptr::null(),
                    ) != 0
                    {
                        die(err, Step::Mount);
                    }
                }
            }
            if ns.private_tmp
                && libc::mount(
                    TMPFS.as_ptr(),
                    TMP.as_ptr(),
                    TMPFS.as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV,
                    TMP_OPTS.as_ptr().cast(),
                ) != 0
            {
                die(err, Step::Mount);
            }
            if ns.mount_proc
                && libc::mount(
                    PROC_FS.as_ptr(),
                    PROC_DIR.as_ptr(),
                    PROC_FS.as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                    std::ptr::null(),
                ) != 0
            {
                die(err, Step::Mount);
            }
        }
    }
    if ns.memfd_noexec {
        let two = b"2";
        // SAFETY: the path is a NUL-terminated string prepared before fork; `two` is a live
        // buffer of the given length.
        let ok = unsafe {
            let fd = libc::open(MEMFD_NOEXEC.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            let w =
                fd >= 0 && libc::write(fd, two.as_ptr().cast(), two.len()) == two.len() as isize;
            if fd >= 0 {
                libc::close(fd);
            }
            w
        };
        if !ok {
            die(err, Step::MemfdNoexec);
        }
    }
    if let Some(h) = &ns.hostname {
        // SAFETY: `h` is a live string of the given length.
        if unsafe { libc::sethostname(h.as_ptr(), h.as_bytes().len()) } != 0 {
            die(err, Step::Hostname);
        }
    }
    if ns.loopback {
        let mut req = ns.lo_req;
        // SAFETY: integer arguments.
        let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if sock < 0 {
            die(err, Step::Loopback);
        }
        // SAFETY: `req` is a live ifreq naming `lo`; the kernel reads and writes its flags.
        unsafe {
            if libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req) != 0 {
                die(err, Step::Loopback);
            }
            req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            if libc::ioctl(sock, libc::SIOCSIFFLAGS, &req) != 0 {
                die(err, Step::Loopback);
            }
            libc::close(sock);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(keep: Vec<RawFd>) -> Plan {
        Plan::new(&Spec {
            path: b"/bin/true".to_vec(),
            argv: vec![b"true".to_vec()],
            keep_fds: keep,
            ..Spec::default()
        })
        .unwrap()
    }

    #[test]
    fn fd_layout_is_computed() {
        let p = plan(vec![]);
        assert_eq!((p.sync_fd, p.err_fd), (3, 4));
        assert_eq!(p.gaps(), vec![(5, u32::MAX)]);
        let std_open = p.std_open.iter().filter(|o| **o).count();
        if std_open == 3 {
            assert_eq!(p.listener_fd(), 5);
        }
        let (r, _w) = pipe().unwrap();
        let fd = r.as_raw_fd();
        let p = plan(vec![fd]);
        assert_eq!(p.sync_fd, fd + 1);
        assert!(p.gaps().contains(&(fd as u32 + 3, u32::MAX)));
        assert!(matches!(
            Plan::new(&Spec {
                keep_fds: vec![9999],
                ..Spec::default()
            }),
            Err(LaunchError::FdNotOpen(9999))
        ));
    }
}
