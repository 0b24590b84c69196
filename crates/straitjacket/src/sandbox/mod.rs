//! A [`Sandbox`]: the validated description of one run, as plain data.
//!
//! Everything `run` will do is decided here, before anything runs: the program and its
//! environment, the filter and the routing it was compiled for, the policy that judges
//! notified calls, the merged confinement (limits, timeout, namespaces, network), the
//! absolute filesystem rules with their origins, and how they are enforced and reported.
//! [`SandboxBuilder`] makes one from a policy and overrides (`build.rs`, where the merge
//! rules live); [`crate::launch`] turns it into processes; [`crate::supervise`] serves it.
//!
//! Invariant: a `Sandbox` holds no open resource (no fd, no cgroup): building one has no side
//! effect, and dropping one undoes nothing.

mod build;
mod command;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;

use straitjacket_policy::bpf::Program;
use straitjacket_policy::ir::route::Routing;
use straitjacket_policy::ir::FsAccess;
use straitjacket_policy::resolve::settings::{Confinement, Limits, Namespace};

use crate::load::PolicyFile;

pub use build::{Overrides, SandboxBuilder};
pub use command::{envp, exec_failure, find_command, resolve_command, Lookup};

/// The program to start and what it is given.
#[derive(Debug, Clone, Default)]
pub struct Command {
    /// Where it was found (in the program's PATH).
    pub path: PathBuf,
    /// Its arguments, the first being its name as given.
    pub argv: Vec<OsString>,
    /// Its whole environment.
    pub env: Vec<(OsString, OsString)>,
    pub cwd: Option<PathBuf>,
    /// Open fds it gets besides 0, 1 and 2.
    pub keep_fds: Vec<i32>,
    /// A new session (setsid): false keeps the caller's terminal (interactive programs).
    pub new_session: bool,
}

/// One filesystem rule, with where it came from (for errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsRule {
    pub access: FsAccess,
    pub path: PathBuf,
    pub origin: String,
    /// A system path or the command's own binary, added by `run` itself.
    pub system: bool,
}

/// A bind mount in the program's mount namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bind {
    pub source: PathBuf,
    pub target: PathBuf,
    pub read_only: bool,
}

/// Who enforces the filesystem rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enforcement {
    /// Landlock, in the kernel (off: `--fs-supervisor-only`).
    pub landlock: bool,
    /// The supervisor, which copies each file call and carries it out (off:
    /// `--fs-landlock-only`).
    pub supervisor: bool,
    /// Fail instead of warning when Landlock cannot enforce every rule.
    pub require_landlock: bool,
}

impl Default for Enforcement {
    fn default() -> Self {
        Enforcement {
            landlock: true,
            supervisor: true,
            require_landlock: false,
        }
    }
}

/// What the supervisor says of the calls it answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reporting {
    /// A line for each kind of call answered with an errno, and a count at the end.
    pub report: bool,
    /// JSON lines of every supervised decision.
    pub log: Option<PathBuf>,
}

/// The facts of the caller that shape a sandbox: read once ([`Host::current`]), given by
/// hand in tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub uid: u32,
    pub gid: u32,
    /// Why an ordinary user cannot make namespaces here (user namespaces switched off), or
    /// `None` when they can. Always `None` for root.
    pub namespaces_unavailable: Option<String>,
    /// The kernel's Landlock ABI version (0: none).
    pub landlock_abi: i32,
}

impl Host {
    /// This process: its effective uid and gid, and whether it may make namespaces.
    pub fn current() -> Host {
        let (uid, gid) = command::caller_ids();
        Host {
            uid,
            gid,
            namespaces_unavailable: if uid == 0 {
                None
            } else {
                command::unprivileged_namespaces_unavailable()
            },
            landlock_abi: straitjacket_sys::landlock::abi_version(),
        }
    }

    pub fn is_root(&self) -> bool {
        self.uid == 0
    }
}

/// One run, validated. See the module docs.
#[derive(Debug)]
pub struct Sandbox {
    pub command: Command,
    /// The policy as written: it decides each notified call, and says why.
    pub policy: PolicyFile,
    /// The filter the program gets, compiled for [`Sandbox::routing`].
    pub program: Program,
    pub routing: Routing,
    /// The policy's settings merged with the overrides.
    pub confinement: Confinement,
    /// The namespaces to create, after every implication.
    pub namespaces: BTreeSet<Namespace>,
    /// The filesystem rules (empty: the filesystem is not restricted by path).
    pub fs: Vec<FsRule>,
    pub private_tmp: bool,
    pub binds: Vec<Bind>,
    pub enforcement: Enforcement,
    pub reporting: Reporting,
    pub host: Host,
}

impl Sandbox {
    pub fn limits(&self) -> Limits {
        self.confinement.limits
    }

    /// Whether exec rules are in force (they say what may run).
    pub fn exec_rules(&self) -> bool {
        exec_rules(&self.fs)
    }

    /// Whether the sandbox's pid namespace gets `vm.memfd_noexec = 2`. Landlock does not
    /// judge the exec of a memfd (an internal file): where exec rules say what may run, no
    /// memfd may. The sysctl file is the global root's (sysctl_perm tests the global root
    /// uid), so only root can set it, even in a namespace of its own; elsewhere the filter
    /// refuses memfds that are not sealed non-executable (`Routing::seal_memfds`).
    pub fn memfd_noexec_by_sysctl(&self) -> bool {
        memfd_noexec_by_sysctl(&self.fs, &self.namespaces, &self.host)
    }
}

fn exec_rules(fs: &[FsRule]) -> bool {
    fs.iter().any(|r| r.access == FsAccess::Exec)
}

fn memfd_noexec_by_sysctl(fs: &[FsRule], namespaces: &BTreeSet<Namespace>, host: &Host) -> bool {
    exec_rules(fs) && namespaces.contains(&Namespace::Pid) && host.is_root()
}
