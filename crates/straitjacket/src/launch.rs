//! The side effects of a [`Sandbox`] before its program runs: the Landlock ruleset (built
//! here, in the parent, before fork), the pids cgroup root needs for `procs`, the rlimits,
//! and the launcher's plan (`straitjacket_sys::launch`), which the supervisor spawns.
//!
//! [`Launch`] owns what it made: the ruleset fd, and a cgroup directory removed on drop.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use straitjacket_policy::resolve::settings::Namespace;
use straitjacket_sys::landlock;
use straitjacket_sys::launch::{self, LaunchError, Plan, Spec};

use crate::error::SandboxError;
use crate::sandbox::{exec_failure, Sandbox};

/// A sandbox made ready to spawn.
#[derive(Debug)]
pub struct Launch {
    pub plan: Plan,
    /// For root with `procs`: a pids cgroup capping the tree.
    pub pids_cgroup: Option<PidsCgroup>,
    /// Kept open until the program runs: the launcher's plan names it by number.
    _landlock: Option<OwnedFd>,
    _spec: Spec,
}

impl Launch {
    /// Builds the Landlock ruleset and the pids cgroup, and plans the launch. Nothing runs
    /// yet. What the kernel's Landlock cannot enforce is pushed to `warnings` (an error with
    /// `require_landlock`).
    pub fn prepare(sb: &Sandbox, warnings: &mut Vec<String>) -> Result<Launch, SandboxError> {
        let landlock = ruleset(sb, warnings)?;
        let pids_cgroup = match sb.confinement.limits.procs {
            Some(n) if sb.host.is_root() => Some(PidsCgroup::create(n).map_err(|e| {
                SandboxError::input(format!(
                    "--limit procs: root needs a pids cgroup to cap processes (RLIMIT_NPROC is not enforced for root), and none could be created: {e}"
                ))
            })?),
            _ => None,
        };
        let c = &sb.command;
        let spec = Spec {
            path: c.path.as_os_str().as_bytes().to_vec(),
            argv: c.argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
            envp: crate::sandbox::envp(&c.env),
            cwd: c.cwd.as_ref().map(|d| d.as_os_str().as_bytes().to_vec()),
            filter: sb.program.to_raw_records(),
            keep_fds: c.keep_fds.clone(),
            new_session: c.new_session,
            landlock: landlock.as_ref().map(|fd| fd.as_raw_fd()),
            rlimits: rlimits(sb),
            namespaces: launcher_namespaces(sb, pids_cgroup.as_ref()),
        };
        let plan = Plan::new(&spec).map_err(|e| match e {
            LaunchError::FdNotOpen(fd) => {
                SandboxError::input(format!("--keep-fd {fd}: file descriptor {fd} is not open"))
            }
            e => SandboxError::input(e.to_string()),
        })?;
        if let Some(f) = sb.confinement.limits.files {
            let need = plan.listener_fd() as u64 + 1;
            if f < need {
                return Err(SandboxError::input(format!(
                    "--limit files={f}: at least {need} are needed to start (0, 1, 2, the kept fds and the launcher's own)"
                )));
            }
        }
        Ok(Launch {
            plan,
            pids_cgroup,
            _landlock: landlock,
            _spec: spec,
        })
    }
}

impl Launch {
    /// A launch of exactly `spec`, with no Landlock domain, namespace or cgroup: `learn`'s,
    /// which observes a program as it would run unconfined.
    pub fn unconfined(spec: Spec) -> Result<Launch, SandboxError> {
        let plan = Plan::new(&spec).map_err(|e| SandboxError::input(e.to_string()))?;
        Ok(Launch {
            plan,
            pids_cgroup: None,
            _landlock: None,
            _spec: spec,
        })
    }
}

/// A launch that failed, as the caller sees it.
pub(crate) fn launch_failure(e: &LaunchError, path: &Path) -> SandboxError {
    match e {
        LaunchError::Child {
            step: launch::Step::Exec,
            source,
        } => exec_failure(source, path),
        e => SandboxError::launch(format!("cannot start {}: {e}", path.display())),
    }
}

/// Always a Landlock domain, where the kernel has Landlock: whatever the policy allows, the
/// program cannot ptrace, write the memory of, signal, or reach the abstract sockets of
/// processes outside the sandbox (the supervisor, the user's shell and editor).
fn ruleset(sb: &Sandbox, warnings: &mut Vec<String>) -> Result<Option<OwnedFd>, SandboxError> {
    let conf = &sb.confinement;
    let restrict_net = conf.net_rules();
    let req = landlock::Request {
        fs: !sb.fs.is_empty() && sb.enforcement.landlock,
        grants: sb
            .fs
            .iter()
            .map(|r| landlock::Grant {
                path: r.path.clone(),
                read: r.access == straitjacket_policy::ir::FsAccess::Read,
                write: r.access == straitjacket_policy::ir::FsAccess::Write,
                exec: r.access == straitjacket_policy::ir::FsAccess::Exec,
            })
            .collect(),
        net_connect: restrict_net && conf.connect_rules(),
        net_bind: restrict_net && conf.bind_rules(),
        connect_ports: conf.connect.iter().map(|e| e.port).collect(),
        bind_ports: conf.bind.iter().map(|e| e.port).collect(),
        isolate: true,
    };
    let built = landlock::build(&req)
        .map_err(|e| SandboxError::input(format!("building the Landlock ruleset: {e}")))?;
    if !built.not_enforced.is_empty() {
        let msg = format!(
            "Landlock ABI {}: {} not enforced",
            built.abi,
            built.not_enforced.join(", ")
        );
        if sb.enforcement.require_landlock {
            return Err(SandboxError::input(format!("{msg} (--require-landlock)")));
        }
        warnings.push(msg);
    }
    Ok(built.fd)
}

/// RLIMIT_* numbers (include/uapi/asm-generic/resource.h).
mod resource {
    pub const CPU: u32 = 0;
    pub const FSIZE: u32 = 1;
    pub const DATA: u32 = 2;
    pub const NPROC: u32 = 6;
    pub const NOFILE: u32 = 7;
}

/// `(RLIMIT_*, soft, hard)` for the launcher.
fn rlimits(sb: &Sandbox) -> Vec<(u32, u64, u64)> {
    let mut out = Vec::new();
    let l = sb.confinement.limits;
    if let Some(cpu) = l.cpu {
        // Per process, a kernel backstop to the watchdog's count for the whole tree: SIGXCPU
        // at the limit, SIGKILL a second later.
        out.push((resource::CPU, cpu, cpu + 1));
    }
    if let Some(m) = l.mem {
        // Per process, a backstop to the watchdog's sum of resident memory: the data
        // segment (heap and private writable mappings) may not grow past twice the limit.
        let cap = m.saturating_mul(2);
        out.push((resource::DATA, cap, cap));
    }
    if let Some(p) = l.procs {
        // Counted in the sandbox's own user namespace: the kernel's hard stop; the watchdog
        // kills the tree when the count reaches it.
        out.push((resource::NPROC, p, p));
    }
    if let Some(f) = l.files {
        out.push((resource::NOFILE, f, f));
    }
    if let Some(f) = l.fsize {
        out.push((resource::FSIZE, f, f));
    }
    out
}

/// What the launcher creates: `None` without namespaces. An ordinary user gets a user
/// namespace whenever any namespace is asked for (the kernel requires it), mapping their
/// own uid and gid (only those: every other id is unmapped inside).
fn launcher_namespaces(sb: &Sandbox, cgroup: Option<&PidsCgroup>) -> Option<launch::Namespaces> {
    let set = &sb.namespaces;
    if set.is_empty() {
        return None;
    }
    let flags = set.iter().fold(0, |f, n| f | clone_flag(*n));
    Some(launch::Namespaces {
        clone_flags: flags,
        map_ids: set
            .contains(&Namespace::User)
            .then_some((sb.host.uid, sb.host.gid)),
        map_all: sb.host.is_root(),
        hostname: sb.confinement.hostname.clone().map(String::into_bytes),
        loopback_up: set.contains(&Namespace::Net),
        private_tmp: sb.private_tmp,
        binds: sb
            .binds
            .iter()
            .map(|b| {
                (
                    b.source.as_os_str().as_bytes().to_vec(),
                    b.target.as_os_str().as_bytes().to_vec(),
                    b.read_only,
                )
            })
            .collect(),
        mount_proc: set.contains(&Namespace::Pid),
        init: set.contains(&Namespace::Pid),
        memfd_noexec: sb.memfd_noexec_by_sysctl(),
        cgroup_procs: cgroup.map(|c| c.dir.join("cgroup.procs")),
    })
}

/// `CLONE_NEW*` (include/uapi/linux/sched.h).
fn clone_flag(n: Namespace) -> i32 {
    match n {
        Namespace::Mount => 0x0002_0000,
        Namespace::Cgroup => 0x0200_0000,
        Namespace::Uts => 0x0400_0000,
        Namespace::Ipc => 0x0800_0000,
        Namespace::User => 0x1000_0000,
        Namespace::Pid => 0x2000_0000,
        Namespace::Net => 0x4000_0000,
    }
}

/// A pids cgroup of our own (v2 under our cgroup, or the v1 pids hierarchy), removed on drop.
///
/// Root needs it for `procs`: RLIMIT_NPROC is never enforced for the kernel's root user
/// (copy_process skips the check for INIT_USER), even inside a user namespace that maps it.
#[derive(Debug)]
pub struct PidsCgroup {
    pub dir: PathBuf,
}

impl PidsCgroup {
    fn create(max: u64) -> std::io::Result<PidsCgroup> {
        let own = std::fs::read_to_string("/proc/self/cgroup")?;
        let mut candidates = Vec::new();
        for line in own.lines() {
            let mut f = line.splitn(3, ':');
            let (_, ctrl, path) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or("/"));
            let path = path.trim_start_matches('/');
            if ctrl.is_empty() {
                for root in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
                    let base = Path::new(root).join(path);
                    let ctrls = std::fs::read_to_string(base.join("cgroup.controllers"))
                        .unwrap_or_default();
                    if ctrls.split_whitespace().any(|c| c == "pids") {
                        candidates.push(base);
                    }
                }
            } else if ctrl.split(',').any(|c| c == "pids") {
                candidates.push(Path::new("/sys/fs/cgroup/pids").join(path));
            }
        }
        let name = format!("straitjacket-{}", std::process::id());
        let mut last = std::io::Error::other("no pids cgroup controller is mounted");
        for base in candidates {
            let dir = base.join(&name);
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) => {
                    last = e;
                    continue;
                }
            }
            let cg = PidsCgroup { dir };
            match std::fs::write(cg.dir.join("pids.max"), max.to_string()) {
                Ok(()) => return Ok(cg),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Whether a fork was refused at pids.max (`max` in pids.events).
    pub fn hit_max(&self) -> bool {
        std::fs::read_to_string(self.dir.join("pids.events")).is_ok_and(|t| {
            t.lines()
                .any(|l| l.strip_prefix("max ").is_some_and(|n| n.trim() != "0"))
        })
    }
}

impl Drop for PidsCgroup {
    fn drop(&mut self) {
        // Empty once the tree is gone; a few tries while the last tasks are released.
        for _ in 0..100 {
            if std::fs::remove_dir(&self.dir).is_ok() || !self.dir.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
