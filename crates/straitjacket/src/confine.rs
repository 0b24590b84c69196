//! Confinement beyond system calls for `run`: Landlock filesystem and port rules, namespaces,
//! resource limits and the wall clock.
//!
//! In: the resolved policy's `fs` rules and settings, and the command line. Out: a
//! [`Confined`] — the Landlock ruleset fd (built here, in the parent, before fork), the
//! rlimits and namespace requests for the launcher, and the limits the supervisor's watchdog
//! enforces on the whole process tree.
//!
//! Merging (the profile is the floor, flags never widen it silently): a limit or timeout
//! given both ways takes the SMALLER, with a warning when the flag asked for more;
//! namespaces are the union; `--net none` or `--hostname` add to the profile; a hostname
//! given both ways must agree. `--allow-read/-write/-exec` add paths explicitly (that is
//! their purpose). `--hostname` implies the uts namespace, `unshare pid` the mount namespace
//! (for a fresh /proc), `--private-tmp` and binds the mount namespace. `--net none` with a
//! `net connect|bind` rule is an error: no network is left to reach.
//!
//! Paths: every path of a rule or flag must exist (an error otherwise, before anything runs);
//! system paths that do not exist on this machine are skipped.

use std::collections::BTreeSet;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use straitjacket_policy::ir::{FsAccess, Policy};
use straitjacket_policy::resolve::settings::{
    self, check_hostname, show_ms, Confinement, LimitKind, Limits, Namespace,
};

use straitjacket_sys::{landlock, launch};

use crate::failure::Failure;
use crate::presets;
use crate::run::RunOptions;

/// One filesystem rule, with where it came from (for errors).
#[derive(Clone, Debug)]
pub struct FsRule {
    pub access: FsAccess,
    pub path: PathBuf,
    pub origin: String,
    /// A system path: skipped when absent.
    pub system: bool,
}

/// Everything `run` enforces besides the filter.
#[derive(Debug, Default)]
pub struct Confined {
    pub conf: Confinement,
    /// Namespaces to create (after implications).
    pub namespaces: BTreeSet<Namespace>,
    pub fs: Vec<FsRule>,
    pub landlock: Option<OwnedFd>,
    pub rlimits: Vec<(u32, u64, u64)>,
    pub private_tmp: bool,
    /// (source, destination, read-only)
    pub binds: Vec<(PathBuf, PathBuf, bool)>,
    /// For root with `procs`: a pids cgroup capping the tree.
    pub pids_cgroup: Option<PidsCgroup>,
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
}

impl PidsCgroup {
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

impl Confined {
    pub fn limits(&self) -> Limits {
        self.conf.limits
    }

    /// Whether exec rules are in force (they say what may run).
    pub fn exec_rules(&self) -> bool {
        self.fs.iter().any(|r| r.access == FsAccess::Exec)
    }

    /// Whether the sandbox's pid namespace gets `vm.memfd_noexec = 2`. Landlock does not
    /// judge the exec of a memfd (an internal file): where exec rules say what may run, no
    /// memfd may. The sysctl file is the global root's (sysctl_perm tests the global root
    /// uid), so only root can set it, even in a namespace of its own; elsewhere the filter
    /// refuses memfds that are not sealed non-executable (`Routing::seal_memfds`).
    pub fn memfd_noexec_by_sysctl(&self) -> bool {
        self.exec_rules() && self.namespaces.contains(&Namespace::Pid) && caller_ids().0 == 0
    }

    /// What the launcher creates: `None` without namespaces. An ordinary user gets a user
    /// namespace whenever any namespace is asked for (the kernel requires it), mapping their
    /// own uid and gid (only those: every other id is unmapped inside).
    pub fn launcher_namespaces(&self) -> Option<launch::Namespaces> {
        if self.namespaces.is_empty() {
            return None;
        }
        let (uid, gid) = caller_ids();
        let set = &self.namespaces;
        let flags = set.iter().fold(0, |f, n| f | clone_flag(*n));
        Some(launch::Namespaces {
            clone_flags: flags,
            map_ids: set.contains(&Namespace::User).then_some((uid, gid)),
            map_all: uid == 0,
            hostname: self.conf.hostname.clone().map(String::into_bytes),
            loopback_up: set.contains(&Namespace::Net),
            private_tmp: self.private_tmp,
            binds: self
                .binds
                .iter()
                .map(|(s, d, ro)| {
                    (
                        s.as_os_str().as_bytes().to_vec(),
                        d.as_os_str().as_bytes().to_vec(),
                        *ro,
                    )
                })
                .collect(),
            mount_proc: set.contains(&Namespace::Pid),
            init: set.contains(&Namespace::Pid),
            memfd_noexec: self.memfd_noexec_by_sysctl(),
            cgroup_procs: self
                .pids_cgroup
                .as_ref()
                .map(|c| c.dir.join("cgroup.procs")),
        })
    }
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

/// Our effective uid and gid: the owner of /proc/self.
fn caller_ids() -> (u32, u32) {
    std::fs::metadata("/proc/self").map_or((0, 0), |m| (m.uid(), m.gid()))
}

fn warn(msg: &str) {
    eprintln!("straitjacket: warning: {msg}");
}

/// Parses `--limit cpu=2,mem=64M,…` into the merged limits.
fn merge_limit_flag(flag: &str, limits: &mut Limits, from_policy: &Limits) -> Result<(), Failure> {
    for part in flag.split(',').filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(Failure::input(format!(
                "--limit {part}: expected NAME=VALUE (cpu=SECONDS, mem=BYTES, procs=N, files=N, fsize=BYTES)"
            )));
        };
        let kind =
            LimitKind::parse(k.trim()).map_err(|e| Failure::input(format!("--limit: {e}")))?;
        let v = kind
            .value(v.trim())
            .map_err(|e| Failure::input(format!("--limit {k}: {e}")))?;
        let slot = kind.slot(limits);
        match (kind.get(from_policy), *slot) {
            (Some(p), _) if v > p => warn(&format!(
                "--limit {k}={}: the policy's {k} limit {} is smaller and is kept (flags never widen a profile)",
                kind.show(v),
                kind.show(p)
            )),
            (_, Some(cur)) => *slot = Some(cur.min(v)),
            (_, None) => *slot = Some(v),
        }
    }
    Ok(())
}

/// The exec rules for the command: its binary, and its interpreter (the ELF loader named
/// by PT_INTERP, or the program of a `#!` line).
fn exec_paths(cmd: &Path) -> Vec<PathBuf> {
    let mut out = vec![cmd.to_path_buf()];
    let Ok(bytes) = std::fs::read(cmd) else {
        return out;
    };
    if let Some(rest) = bytes.strip_prefix(b"#!") {
        let line = rest.split(|&b| b == b'\n').next().unwrap_or(&[]);
        let text = String::from_utf8_lossy(line);
        if let Some(interp) = text.split_whitespace().next() {
            let p = PathBuf::from(interp);
            out.extend(exec_paths(&p));
            // `#!/usr/bin/env python3`: env execs the named program from PATH.
            if p.ends_with("env") {
                if let Some(prog) = text.split_whitespace().nth(1) {
                    if let Ok(found) = crate::run::find_command(
                        Path::new(prog),
                        std::env::var_os("PATH").as_deref(),
                    ) {
                        out.extend(exec_paths(&found));
                    }
                }
            }
        }
    } else if let Some(i) = elf_interp(&bytes) {
        out.push(PathBuf::from(i));
    }
    out
}

/// PT_INTERP of a 64-bit little-endian ELF file.
fn elf_interp(b: &[u8]) -> Option<String> {
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 || b[5] != 1 {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?));
    let phoff = usize::try_from(u64_at(32)?).ok()?;
    let phentsize = usize::from(u16_at(54)?);
    let phnum = usize::from(u16_at(56)?);
    for i in 0..phnum.min(256) {
        let ph = phoff.checked_add(i.checked_mul(phentsize)?)?;
        if u32_at(ph)? == 3 {
            let off = usize::try_from(u64_at(ph + 8)?).ok()?;
            let size = usize::try_from(u64_at(ph + 32)?).ok()?;
            let raw = b.get(off..off.checked_add(size)?)?;
            let s = raw.split(|&c| c == 0).next()?;
            return Some(String::from_utf8_lossy(s).into_owned());
        }
    }
    None
}

/// The system paths preset's rules.
fn system_paths() -> Vec<FsRule> {
    let Ok(pf) = presets::load("system-paths", &Default::default()) else {
        return Vec::new();
    };
    pf.resolved
        .policy
        .fs
        .iter()
        .map(|r| FsRule {
            access: r.access,
            path: PathBuf::from(&r.path),
            origin: "system-paths".into(),
            system: true,
        })
        .collect()
}

/// The namespaces `run` makes by default ([`Namespace::DEFAULT_ISOLATION`]) less those
/// `--share` gives back (each with a warning: the program can reach that class of host
/// objects again). A namespace the policy itself unshares cannot be shared from the command
/// line: flags never widen a policy. Where this machine cannot make namespaces without
/// privilege (user namespaces disabled), none is made, and one warning says what is missing
/// (`available`: other namespaces are made anyway, so these can be too).
fn default_isolation(
    share: &[String],
    conf: &Confinement,
    available: bool,
) -> Result<BTreeSet<Namespace>, Failure> {
    let mut shared = BTreeSet::new();
    for list in share {
        for w in list.split(',').map(str::trim) {
            if w == "all" {
                shared.extend(Namespace::DEFAULT_ISOLATION);
                continue;
            }
            let n = Namespace::parse(w).map_err(|_| {
                Failure::input(format!(
                    "--share {w}: expected pid, ipc, uts or all (the namespaces run makes by default)"
                ))
            })?;
            if !Namespace::DEFAULT_ISOLATION.contains(&n) {
                return Err(Failure::input(format!(
                    "--share {w}: run does not make a {w} namespace unless asked (--unshare {w}); \
                     only pid, ipc and uts are made by default"
                )));
            }
            shared.insert(n);
        }
    }
    for n in &shared {
        if conf.unshare.contains(n) || (*n == Namespace::Uts && conf.hostname.is_some()) {
            return Err(Failure::input(format!(
                "--share {}: the policy asks for its own {} namespace; a flag cannot widen the policy",
                n.name(),
                n.name()
            )));
        }
        warn(&format!(
            "--share {}: the program shares the host's {} namespace: {}",
            n.name(),
            n.name(),
            match n {
                Namespace::Pid => "it can see outside processes and act on those it may signal",
                Namespace::Ipc =>
                    "it can reach the host's System V IPC objects and POSIX message queues",
                _ => "it sees the host's hostname",
            }
        ));
    }
    let wanted: BTreeSet<Namespace> = Namespace::DEFAULT_ISOLATION
        .into_iter()
        .filter(|n| !shared.contains(n))
        .collect();
    if wanted.is_empty() || available {
        return Ok(wanted);
    }
    if let Some(why) = unprivileged_namespaces_unavailable() {
        let names: Vec<&str> = wanted.iter().map(|n| n.name()).collect();
        warn(&format!(
            "{why}: the program shares the host's {} namespaces (it can see outside processes and reach the host's System V IPC objects)",
            names.join(", ")
        ));
        return Ok(BTreeSet::new());
    }
    Ok(wanted)
}

/// Why an ordinary user cannot make namespaces here, or `None` when they can (root always
/// can). Read from the sysctls that switch user namespaces off: `user.max_user_namespaces`
/// (0 refuses every new one, kernel/ucount.c), Debian's `kernel.unprivileged_userns_clone`
/// and Ubuntu's AppArmor `kernel.apparmor_restrict_unprivileged_userns`.
fn unprivileged_namespaces_unavailable() -> Option<String> {
    if caller_ids().0 == 0 {
        return None;
    }
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return Some("user namespaces are disabled here (user.max_user_namespaces = 0)".into());
    }
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return Some(
            "user namespaces are disabled here (kernel.unprivileged_userns_clone = 0)".into(),
        );
    }
    if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        return Some(
            "AppArmor restricts unprivileged user namespaces here (kernel.apparmor_restrict_unprivileged_userns = 1)"
                .into(),
        );
    }
    None
}

/// Parses `--unshare net,pid,…|all`.
fn parse_unshare(list: &str, into: &mut BTreeSet<Namespace>) -> Result<(), Failure> {
    for w in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        if w == "all" {
            into.extend(Namespace::ALL);
        } else {
            into.insert(
                Namespace::parse(w).map_err(|e| Failure::input(format!("--unshare: {e}")))?,
            );
        }
    }
    Ok(())
}

/// Resolves and checks everything; builds the Landlock ruleset. Nothing runs yet.
pub fn prepare(opts: &RunOptions, policy: &Policy, cmd: &Path) -> Result<Confined, Failure> {
    let from_policy = Confinement::from_settings(&policy.settings).map_err(Failure::input)?;
    let mut conf = from_policy.clone();

    for l in &opts.limit {
        merge_limit_flag(l, &mut conf.limits, &from_policy.limits)?;
    }
    if let Some(t) = &opts.timeout {
        let ms = settings::parse_duration_ms(t)
            .map_err(|e| Failure::input(format!("--timeout: {e}")))?;
        if ms == 0 {
            return Err(Failure::input(
                "--timeout: a timeout of 0 would stop the program before it starts",
            ));
        }
        match from_policy.timeout_ms {
            Some(p) if ms > p => warn(&format!(
                "--timeout {}: the policy's timeout {} is shorter and is kept",
                show_ms(ms),
                show_ms(p)
            )),
            _ => conf.timeout_ms = Some(ms),
        }
    }
    for u in &opts.unshare {
        parse_unshare(u, &mut conf.unshare)?;
    }
    conf.net_none |= opts.net_none;
    if let Some(h) = &opts.hostname {
        check_hostname(h).map_err(|e| Failure::input(format!("--hostname: {e}")))?;
        if let Some(p) = &from_policy.hostname {
            if p != h {
                return Err(Failure::input(format!(
                    "--hostname {h}: the policy sets hostname `{p}`"
                )));
            }
        }
        conf.hostname = Some(h.clone());
    }
    if conf.net_none
        && (!conf.connect.is_empty() || !conf.bind.is_empty() || conf.connect_any || conf.bind_any)
    {
        let what = if conf.connect.is_empty() {
            "bind"
        } else {
            "connect"
        };
        return Err(Failure::input(format!(
            "`net none` (or --net none) conflicts with a `net {what}` rule: no network is left to reach; drop one of them"
        )));
    }

    let mut namespaces = conf.namespaces();
    if namespaces.contains(&Namespace::Pid) {
        namespaces.insert(Namespace::Mount);
    }
    if opts.private_tmp || !opts.bind.is_empty() || !opts.ro_bind.is_empty() {
        namespaces.insert(Namespace::Mount);
    }
    // RLIMIT_NPROC is counted per user namespace (Linux 5.14, kernel/ucount.c) and enforced
    // for root too inside one (copy_process checks capabilities in the initial namespace):
    // so `procs` brings a user namespace, where the count is the sandbox's alone.
    // With a pid namespace too, the whole tree dies with its first process (the kernel kills
    // the rest of a pid namespace when its init ends): a fork bomb cannot outrun the kill.
    if conf.limits.procs.is_some() {
        namespaces.insert(Namespace::User);
        namespaces.insert(Namespace::Pid);
        namespaces.insert(Namespace::Mount);
    }
    // An ordinary user may create the others only inside a user namespace: where none can be
    // made, what was asked for cannot be given, and nothing runs half confined.
    if !namespaces.is_empty() {
        if let Some(why) = unprivileged_namespaces_unavailable() {
            let names: Vec<&str> = namespaces.iter().map(|n| n.name()).collect();
            return Err(Failure::input(format!(
                "namespaces {} need a user namespace for an ordinary user, and {why}",
                names.join(", ")
            )));
        }
    }
    let checked = !namespaces.is_empty();
    let isolation = default_isolation(&opts.share, &conf, checked)?;
    // A pid namespace of its own comes with a mount namespace, for a /proc of its own.
    if isolation.contains(&Namespace::Pid) {
        namespaces.insert(Namespace::Mount);
    }
    namespaces.extend(isolation);
    if !namespaces.is_empty() && caller_ids().0 != 0 {
        namespaces.insert(Namespace::User);
    }
    let mut binds = Vec::new();
    for (pairs, ro) in [(&opts.ro_bind, true), (&opts.bind, false)] {
        for pair in pairs.chunks(2) {
            let [src, dst] = pair else {
                return Err(Failure::input("--bind/--ro-bind take two paths: SRC DST"));
            };
            for (p, what) in [(src, "source"), (dst, "destination")] {
                if !p.exists() {
                    return Err(Failure::input(format!(
                        "--{}bind {} {}: the {what} {} does not exist",
                        if ro { "ro-" } else { "" },
                        src.display(),
                        dst.display(),
                        p.display()
                    )));
                }
            }
            if opts.private_tmp && dst.starts_with("/tmp") {
                return Err(Failure::input(format!(
                    "--{}bind {} {}: --private-tmp mounts a fresh /tmp over the destination",
                    if ro { "ro-" } else { "" },
                    src.display(),
                    dst.display()
                )));
            }
            binds.push((src.clone(), dst.clone(), ro));
        }
    }

    // Filesystem rules.
    let mut fs: Vec<FsRule> = policy
        .fs
        .iter()
        .map(|r| FsRule {
            access: r.access,
            path: PathBuf::from(&r.path),
            origin: r
                .origin
                .as_ref()
                .map_or("policy".into(), |o| o.0.to_string()),
            system: false,
        })
        .collect();
    for (paths, access, flag) in [
        (&opts.allow_read, FsAccess::Read, "--allow-read"),
        (&opts.allow_write, FsAccess::Write, "--allow-write"),
        (&opts.allow_exec, FsAccess::Exec, "--allow-exec"),
    ] {
        for p in paths {
            let abs = if p.is_absolute() {
                p.clone()
            } else {
                std::env::current_dir().unwrap_or_default().join(p)
            };
            fs.push(FsRule {
                access,
                path: abs,
                origin: flag.into(),
                system: false,
            });
        }
    }
    for r in &fs {
        if !r.path.exists() {
            return Err(Failure::input(format!(
                "{}: {} does not exist (a rule for a missing path would not do what it says; create it first)",
                r.origin,
                r.path.display()
            )));
        }
    }
    let restrict_fs = !fs.is_empty();
    if restrict_fs {
        if !opts.no_system_paths {
            fs.extend(system_paths().into_iter().filter(|r| r.path.exists()));
            for p in exec_paths(cmd) {
                if p.exists() {
                    fs.push(FsRule {
                        access: FsAccess::Exec,
                        path: p,
                        origin: "the command".into(),
                        system: true,
                    });
                }
            }
        } else {
            for p in exec_paths(cmd).into_iter().take(1) {
                fs.push(FsRule {
                    access: FsAccess::Exec,
                    path: p,
                    origin: "the command".into(),
                    system: true,
                });
            }
        }
    }
    let restrict_net = conf.net_rules();
    // Always a Landlock domain, where the kernel has Landlock: whatever the policy allows, the
    // program cannot ptrace, write the memory of, signal, or reach the abstract sockets of
    // processes outside the sandbox (the supervisor, the user's shell and editor).
    let landlock_fd = {
        let req = landlock::Request {
            fs: restrict_fs && !opts.fs_supervisor_only,
            grants: fs
                .iter()
                .map(|r| landlock::Grant {
                    path: r.path.clone(),
                    read: r.access == FsAccess::Read,
                    write: r.access == FsAccess::Write,
                    exec: r.access == FsAccess::Exec,
                })
                .collect(),
            net_connect: restrict_net && conf.connect_rules(),
            net_bind: restrict_net && conf.bind_rules(),
            connect_ports: conf.connect.iter().map(|e| e.port).collect(),
            bind_ports: conf.bind.iter().map(|e| e.port).collect(),
            isolate: true,
        };
        let built = landlock::build(&req)
            .map_err(|e| Failure::input(format!("building the Landlock ruleset: {e}")))?;
        if !built.not_enforced.is_empty() {
            let msg = format!(
                "Landlock ABI {}: {} not enforced",
                built.abi,
                built.not_enforced.join(", ")
            );
            if opts.require_landlock {
                return Err(Failure::input(format!("{msg} (--require-landlock)")));
            }
            warn(&msg);
        }
        if opts.require_landlock && landlock::abi_version() < 1 {
            return Err(Failure::input(
                "Landlock is not available on this kernel (--require-landlock)",
            ));
        }
        built.fd
    };

    let mut rlimits = Vec::new();
    let l = conf.limits;
    if let Some(cpu) = l.cpu {
        // Per process, a kernel backstop to the watchdog's count for the whole tree: SIGXCPU
        // at the limit, SIGKILL a second later.
        rlimits.push((libc_res::CPU, cpu, cpu + 1));
    }
    if let Some(m) = l.mem {
        // Per process, a backstop to the watchdog's sum of resident memory: the data
        // segment (heap and private writable mappings) may not grow past twice the limit.
        let cap = m.saturating_mul(2);
        rlimits.push((libc_res::DATA, cap, cap));
    }
    if let Some(p) = l.procs {
        // Counted in the sandbox's own user namespace (see above): the kernel's hard stop; the
        // watchdog kills the tree when the count reaches it.
        rlimits.push((libc_res::NPROC, p, p));
    }
    if let Some(f) = l.files {
        rlimits.push((libc_res::NOFILE, f, f));
    }
    if let Some(f) = l.fsize {
        rlimits.push((libc_res::FSIZE, f, f));
    }
    let pids_cgroup = match l.procs {
        Some(n) if caller_ids().0 == 0 => Some(PidsCgroup::create(n).map_err(|e| {
            Failure::input(format!(
                "--limit procs: root needs a pids cgroup to cap processes (RLIMIT_NPROC is not enforced for root), and none could be created: {e}"
            ))
        })?),
        _ => None,
    };
    Ok(Confined {
        pids_cgroup,
        conf,
        namespaces,
        fs,
        landlock: landlock_fd,
        rlimits,
        private_tmp: opts.private_tmp,
        binds,
    })
}

/// RLIMIT_* numbers (include/uapi/asm-generic/resource.h).
mod libc_res {
    pub const CPU: u32 = 0;
    pub const FSIZE: u32 = 1;
    pub const DATA: u32 = 2;
    pub const NPROC: u32 = 6;
    pub const NOFILE: u32 = 7;
}
