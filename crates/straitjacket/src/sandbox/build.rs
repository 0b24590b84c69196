//! [`SandboxBuilder`]: a policy plus overrides (the command line's, or a library caller's)
//! made into one validated [`Sandbox`]. No side effect: it reads the filesystem (rules name
//! paths that must exist; the command's interpreter) and nothing else.
//!
//! The merge rules (the policy is the floor; overrides never widen it silently):
//! - a limit or timeout given both ways takes the SMALLER, with a warning when the override
//!   asked for more;
//! - namespaces are the union; `net none` and a hostname add to the policy; a hostname given
//!   both ways must agree;
//! - `--allow-read/-write/-exec` add paths explicitly (that is their purpose);
//! - a hostname implies the uts namespace, `pid` the mount namespace (a /proc of its own),
//!   a private /tmp and binds the mount namespace, `procs` the user, pid and mount
//!   namespaces, and for an ordinary user any namespace a user namespace;
//! - `net none` with a `net connect|bind` rule is an error: no network is left to reach;
//! - the default isolation (pid, IPC, UTS) is made unless shared; a namespace the policy asks
//!   for cannot be shared.
//!
//! Paths: every path of a rule or override must exist (an error otherwise, before anything
//! runs); system paths that do not exist on this machine are skipped.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;

use straitjacket_policy::compile;
use straitjacket_policy::ir::route::{self, Routing};
use straitjacket_policy::ir::FsAccess;
use straitjacket_policy::resolve::settings::{
    check_hostname, show_ms, Confinement, LimitKind, Namespace,
};
use straitjacket_policy::resolve::Options;

use super::command::{exec_paths, resolve_command};
use super::{Bind, Command, Enforcement, FsRule, Host, Reporting, Sandbox};
use crate::error::SandboxError;
use crate::load::PolicyFile;
use crate::presets;

/// What a caller asks for on top of the policy. Each field is typed: its text form (a flag)
/// was parsed once, by whoever read it.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Resource limits, in the order given.
    pub limits: Vec<(LimitKind, u64)>,
    pub timeout_ms: Option<u64>,
    pub unshare: BTreeSet<Namespace>,
    /// Namespaces of the default isolation to leave out.
    pub share: BTreeSet<Namespace>,
    pub net_none: bool,
    pub hostname: Option<String>,
    pub private_tmp: bool,
    pub binds: Vec<Bind>,
    pub allow_read: Vec<PathBuf>,
    pub allow_write: Vec<PathBuf>,
    pub allow_exec: Vec<PathBuf>,
    /// Do not add the system paths preset to filesystem rules.
    pub no_system_paths: bool,
    pub enforcement: Enforcement,
    pub reporting: Reporting,
}

/// The inputs of one sandbox; [`SandboxBuilder::build`] checks and merges them.
#[derive(Debug)]
pub struct SandboxBuilder {
    pub policy: PolicyFile,
    /// The embedded preset the policy is, if it is one: its filters were compiled when the
    /// binary was built, and are used instead of compiling again.
    pub preset: Option<String>,
    /// The program and its arguments (`argv[0]` is looked up in the program's PATH).
    pub argv: Vec<OsString>,
    /// The program's whole environment.
    pub env: Vec<(OsString, OsString)>,
    pub cwd: Option<PathBuf>,
    pub keep_fds: Vec<i32>,
    pub new_session: bool,
    pub overrides: Overrides,
    pub host: Host,
}

impl SandboxBuilder {
    /// A program run under `policy` with no overrides, the caller's environment, a new
    /// session and this machine's facts.
    pub fn new(policy: PolicyFile, argv: Vec<OsString>) -> SandboxBuilder {
        SandboxBuilder {
            policy,
            preset: None,
            argv,
            env: std::env::vars_os().collect(),
            cwd: None,
            keep_fds: Vec::new(),
            new_session: true,
            overrides: Overrides::default(),
            host: Host::current(),
        }
    }

    /// Checks and merges everything (module docs). Warnings (an override the policy's
    /// stricter value overrules, a namespace shared) are pushed to `warnings`, also when the
    /// build then fails.
    pub fn build(self, warnings: &mut Vec<String>) -> Result<Sandbox, SandboxError> {
        let SandboxBuilder {
            policy,
            preset,
            argv,
            env,
            cwd,
            keep_fds,
            new_session,
            overrides: o,
            host,
        } = self;
        let Some(cmd) = argv.first() else {
            return Err(SandboxError::input("no command given"));
        };
        if let Some(cwd) = &cwd {
            if !cwd.is_dir() {
                return Err(SandboxError::input(format!(
                    "--cwd {}: no such directory",
                    cwd.display()
                )));
            }
        }
        let path = resolve_command(cmd, &env)?;
        let from_policy = Confinement::from_settings(&policy.resolved.policy.settings)
            .map_err(SandboxError::input)?;
        let conf = merge(&from_policy, &o, warnings)?;
        let namespaces = namespaces(&conf, &o, &host, warnings)?;
        let binds = binds(&o)?;
        let fs = fs_rules(&policy, &o, &path)?;

        let enforcement = o.enforcement;
        if !enforcement.supervisor && host.landlock_abi < 1 && !fs.is_empty() {
            return Err(SandboxError::input(
                "--fs-landlock-only: Landlock is not available on this kernel; the fs rules need the supervisor",
            ));
        }
        if enforcement.require_landlock && host.landlock_abi < 1 {
            return Err(SandboxError::input(
                "Landlock is not available on this kernel (--require-landlock)",
            ));
        }
        let routing = Routing {
            report: o.reporting.report || o.reporting.log.is_some(),
            fs: !fs.is_empty() && enforcement.supervisor,
            // `net none` leaves unix sockets named by path reachable (they are files): their
            // connects and sends go to the supervisor, which lets only the `fs` rules reach
            // them.
            net: conf.net_rules() || conf.net_none,
            seal_memfds: super::exec_rules(&fs)
                && !super::memfd_noexec_by_sysctl(&fs, &namespaces, &host),
        };
        let precompiled = preset
            .as_deref()
            .and_then(|name| presets::precompiled(name, &routing, Options::default().native));
        let program = match precompiled {
            Some(p) => p,
            None => {
                let routed = route::route(&policy.resolved.policy, &routing);
                compile::compile(&routed).map_err(|e| SandboxError::input(e.to_string()))?
            }
        };
        Ok(Sandbox {
            command: Command {
                path,
                argv,
                env,
                cwd,
                keep_fds,
                new_session,
            },
            policy,
            program,
            routing,
            confinement: conf,
            namespaces,
            fs,
            private_tmp: o.private_tmp,
            binds,
            enforcement,
            reporting: o.reporting,
            host,
        })
    }
}

/// The policy's settings with the overrides' limits, timeout, namespaces, network and
/// hostname merged in.
fn merge(
    from_policy: &Confinement,
    o: &Overrides,
    warnings: &mut Vec<String>,
) -> Result<Confinement, SandboxError> {
    let mut conf = from_policy.clone();
    for &(kind, v) in &o.limits {
        let k = kind.name();
        let slot = kind.slot(&mut conf.limits);
        match (kind.get(&from_policy.limits), *slot) {
            (Some(p), _) if v > p => warnings.push(format!(
                "--limit {k}={}: the policy's {k} limit {} is smaller and is kept (flags never widen a profile)",
                kind.show(v),
                kind.show(p)
            )),
            (_, Some(cur)) => *slot = Some(cur.min(v)),
            (_, None) => *slot = Some(v),
        }
    }
    if let Some(ms) = o.timeout_ms {
        if ms == 0 {
            return Err(SandboxError::input(
                "--timeout: a timeout of 0 would stop the program before it starts",
            ));
        }
        match from_policy.timeout_ms {
            Some(p) if ms > p => warnings.push(format!(
                "--timeout {}: the policy's timeout {} is shorter and is kept",
                show_ms(ms),
                show_ms(p)
            )),
            _ => conf.timeout_ms = Some(ms),
        }
    }
    conf.unshare.extend(o.unshare.iter().copied());
    conf.net_none |= o.net_none;
    if let Some(h) = &o.hostname {
        check_hostname(h).map_err(|e| SandboxError::input(format!("--hostname: {e}")))?;
        if let Some(p) = &from_policy.hostname {
            if p != h {
                return Err(SandboxError::input(format!(
                    "--hostname {h}: the policy sets hostname `{p}`"
                )));
            }
        }
        conf.hostname = Some(h.clone());
    }
    if conf.net_none
        && (!conf.connect.is_empty() || !conf.bind.is_empty() || conf.connect_any || conf.bind_any)
    {
        let what = if conf.connect.is_empty() && !conf.connect_any {
            "bind"
        } else {
            "connect"
        };
        return Err(SandboxError::input(format!(
            "`net none` (or --net none) conflicts with a `net {what}` rule: no network is left to reach; drop one of them"
        )));
    }
    Ok(conf)
}

/// Every namespace to make: those asked for, their implications, and the default isolation.
fn namespaces(
    conf: &Confinement,
    o: &Overrides,
    host: &Host,
    warnings: &mut Vec<String>,
) -> Result<BTreeSet<Namespace>, SandboxError> {
    let mut namespaces = conf.namespaces();
    if namespaces.contains(&Namespace::Pid) {
        namespaces.insert(Namespace::Mount);
    }
    if o.private_tmp || !o.binds.is_empty() {
        namespaces.insert(Namespace::Mount);
    }
    // RLIMIT_NPROC is counted per user namespace (Linux 5.14, kernel/ucount.c) and enforced
    // for root too inside one (copy_process checks capabilities in the initial namespace):
    // so `procs` brings a user namespace, where the count is the sandbox's alone.
    // With a pid namespace too, the whole tree dies with its first process (the kernel kills
    // the rest of a pid namespace when its init ends): a fork bomb cannot outrun the kill.
    if conf.limits.procs.is_some() {
        namespaces.extend([Namespace::User, Namespace::Pid, Namespace::Mount]);
    }
    // An ordinary user may create the others only inside a user namespace: where none can be
    // made, what was asked for cannot be given, and nothing runs half confined.
    if !namespaces.is_empty() {
        if let Some(why) = &host.namespaces_unavailable {
            let names: Vec<&str> = namespaces.iter().map(|n| n.name()).collect();
            return Err(SandboxError::input(format!(
                "namespaces {} need a user namespace for an ordinary user, and {why}",
                names.join(", ")
            )));
        }
    }
    let isolation = default_isolation(&o.share, conf, host, warnings)?;
    // A pid namespace of its own comes with a mount namespace, for a /proc of its own.
    if isolation.contains(&Namespace::Pid) {
        namespaces.insert(Namespace::Mount);
    }
    namespaces.extend(isolation);
    if !namespaces.is_empty() && !host.is_root() {
        namespaces.insert(Namespace::User);
    }
    Ok(namespaces)
}

/// The namespaces `run` makes by default ([`Namespace::DEFAULT_ISOLATION`]) less those
/// shared (each with a warning: the program can reach that class of host objects again). A
/// namespace the policy itself unshares cannot be shared: overrides never widen a policy.
/// Where this machine cannot make namespaces without privilege (user namespaces disabled),
/// none is made, and one warning says what is missing.
fn default_isolation(
    shared: &BTreeSet<Namespace>,
    conf: &Confinement,
    host: &Host,
    warnings: &mut Vec<String>,
) -> Result<BTreeSet<Namespace>, SandboxError> {
    for n in shared {
        if !Namespace::DEFAULT_ISOLATION.contains(n) {
            return Err(SandboxError::input(format!(
                "--share {}: run does not make a {} namespace unless asked (--unshare {}); \
                 only pid, ipc and uts are made by default",
                n.name(),
                n.name(),
                n.name()
            )));
        }
        if conf.unshare.contains(n) || (*n == Namespace::Uts && conf.hostname.is_some()) {
            return Err(SandboxError::input(format!(
                "--share {}: the policy asks for its own {} namespace; a flag cannot widen the policy",
                n.name(),
                n.name()
            )));
        }
        warnings.push(format!(
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
    if wanted.is_empty() {
        return Ok(wanted);
    }
    if let Some(why) = &host.namespaces_unavailable {
        let names: Vec<&str> = wanted.iter().map(|n| n.name()).collect();
        warnings.push(format!(
            "{why}: the program shares the host's {} namespaces (it can see outside processes and reach the host's System V IPC objects)",
            names.join(", ")
        ));
        return Ok(BTreeSet::new());
    }
    Ok(wanted)
}

fn binds(o: &Overrides) -> Result<Vec<Bind>, SandboxError> {
    for b in &o.binds {
        let flag = if b.read_only { "--ro-bind" } else { "--bind" };
        for (p, what) in [(&b.source, "source"), (&b.target, "destination")] {
            if !p.exists() {
                return Err(SandboxError::input(format!(
                    "{flag} {} {}: the {what} {} does not exist",
                    b.source.display(),
                    b.target.display(),
                    p.display()
                )));
            }
        }
        if o.private_tmp && b.target.starts_with("/tmp") {
            return Err(SandboxError::input(format!(
                "{flag} {} {}: --private-tmp mounts a fresh /tmp over the destination",
                b.source.display(),
                b.target.display()
            )));
        }
    }
    Ok(o.binds.clone())
}

/// The policy's fs rules and the overrides' paths, absolute and checked, with the system
/// paths and what the command needs to execute when there are any.
fn fs_rules(
    policy: &PolicyFile,
    o: &Overrides,
    cmd: &std::path::Path,
) -> Result<Vec<FsRule>, SandboxError> {
    let mut fs: Vec<FsRule> = policy
        .resolved
        .policy
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
        (&o.allow_read, FsAccess::Read, "--allow-read"),
        (&o.allow_write, FsAccess::Write, "--allow-write"),
        (&o.allow_exec, FsAccess::Exec, "--allow-exec"),
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
            return Err(SandboxError::input(format!(
                "{}: {} does not exist (a rule for a missing path would not do what it says; create it first)",
                r.origin,
                r.path.display()
            )));
        }
    }
    if fs.is_empty() {
        return Ok(fs);
    }
    let needed = exec_paths(cmd);
    let needed = if o.no_system_paths {
        needed.into_iter().take(1).collect()
    } else {
        fs.extend(system_paths().into_iter().filter(|r| r.path.exists()));
        needed
            .into_iter()
            .filter(|p| p.exists())
            .collect::<Vec<_>>()
    };
    fs.extend(needed.into_iter().map(|path| FsRule {
        access: FsAccess::Exec,
        path,
        origin: "the command".into(),
        system: true,
    }));
    Ok(fs)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load;
    use straitjacket_policy::resolve::settings::Namespace::*;

    fn root() -> Host {
        Host {
            uid: 0,
            gid: 0,
            namespaces_unavailable: None,
            landlock_abi: 7,
        }
    }

    fn user() -> Host {
        Host {
            uid: 1000,
            gid: 1000,
            ..root()
        }
    }

    fn builder(policy: &str, o: Overrides, host: Host) -> SandboxBuilder {
        let pf = load::load_bytes("t.sj", policy.as_bytes(), &Options::default())
            .unwrap_or_else(|e| panic!("{e}"));
        SandboxBuilder {
            policy: pf,
            preset: None,
            argv: vec!["true".into()],
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            cwd: None,
            keep_fds: Vec::new(),
            new_session: true,
            overrides: o,
            host,
        }
    }

    fn build(policy: &str, o: Overrides, host: Host) -> (Sandbox, Vec<String>) {
        let mut w = Vec::new();
        let sb = builder(policy, o, host)
            .build(&mut w)
            .unwrap_or_else(|e| panic!("{e}"));
        (sb, w)
    }

    fn fails(policy: &str, o: Overrides, host: Host) -> String {
        let mut w = Vec::new();
        match builder(policy, o, host).build(&mut w) {
            Ok(_) => panic!("built, and should not have"),
            Err(e) => e.message,
        }
    }

    const MIB: u64 = 1 << 20;

    #[test]
    fn a_limit_given_both_ways_takes_the_smaller_and_warns_when_the_override_asked_for_more() {
        let policy = "default allow\nlimit mem 64M\n";
        let (sb, w) = build(
            policy,
            Overrides {
                limits: vec![(LimitKind::Mem, 32 * MIB)],
                ..Overrides::default()
            },
            root(),
        );
        assert_eq!(sb.limits().mem, Some(32 * MIB));
        assert!(w.is_empty(), "{w:?}");

        let (sb, w) = build(
            policy,
            Overrides {
                limits: vec![(LimitKind::Mem, 128 * MIB)],
                ..Overrides::default()
            },
            root(),
        );
        assert_eq!(sb.limits().mem, Some(64 * MIB), "the policy is the floor");
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("is smaller and is kept"), "{w:?}");

        // Given twice as overrides: the smaller of the two.
        let (sb, _) = build(
            "default allow\n",
            Overrides {
                limits: vec![(LimitKind::Files, 100), (LimitKind::Files, 50)],
                ..Overrides::default()
            },
            root(),
        );
        assert_eq!(sb.limits().files, Some(50));
    }

    #[test]
    fn a_timeout_given_both_ways_takes_the_shorter() {
        let policy = "default allow\ntimeout 10s\n";
        let o = |ms| Overrides {
            timeout_ms: Some(ms),
            ..Overrides::default()
        };
        let (sb, w) = build(policy, o(2_000), root());
        assert_eq!((sb.confinement.timeout_ms, w.len()), (Some(2_000), 0));
        let (sb, w) = build(policy, o(60_000), root());
        assert_eq!(sb.confinement.timeout_ms, Some(10_000));
        assert!(w[0].contains("is shorter and is kept"), "{w:?}");
        assert!(fails(policy, o(0), root()).contains("timeout of 0"));
    }

    #[test]
    fn namespaces_are_the_union_with_their_implications_and_the_default_isolation() {
        let (sb, _) = build(
            "default allow\nunshare net\n",
            Overrides {
                unshare: BTreeSet::from([Cgroup]),
                ..Overrides::default()
            },
            root(),
        );
        // pid (default isolation) brings mount for its /proc; root needs no user namespace.
        assert_eq!(
            sb.namespaces,
            BTreeSet::from([Net, Cgroup, Pid, Ipc, Uts, Mount])
        );
        // An ordinary user gets a user namespace whenever any is made.
        let (sb, _) = build("default allow\n", Overrides::default(), user());
        assert_eq!(sb.namespaces, BTreeSet::from([Pid, Ipc, Uts, Mount, User]));
        // procs brings user, pid and mount, for root too.
        let (sb, _) = build(
            "default allow\nlimit procs 8\n",
            Overrides {
                share: BTreeSet::from([Pid, Ipc, Uts]),
                ..Overrides::default()
            },
            root(),
        );
        assert_eq!(sb.namespaces, BTreeSet::from([User, Pid, Mount]));
        // A private /tmp and binds bring a mount namespace.
        let (sb, _) = build(
            "default allow\n",
            Overrides {
                private_tmp: true,
                share: BTreeSet::from([Pid, Ipc, Uts]),
                ..Overrides::default()
            },
            root(),
        );
        assert_eq!(sb.namespaces, BTreeSet::from([Mount]));
        // A hostname brings its uts namespace.
        let (sb, _) = build(
            "default allow\n",
            Overrides {
                hostname: Some("box".into()),
                share: BTreeSet::from([Pid, Ipc]),
                ..Overrides::default()
            },
            root(),
        );
        assert_eq!(sb.namespaces, BTreeSet::from([Uts]));
        assert_eq!(sb.confinement.hostname.as_deref(), Some("box"));
    }

    #[test]
    fn sharing_gives_back_a_default_namespace_with_a_warning_but_never_one_the_policy_asks_for() {
        let (sb, w) = build(
            "default allow\n",
            Overrides {
                share: BTreeSet::from([Ipc]),
                ..Overrides::default()
            },
            root(),
        );
        assert!(!sb.namespaces.contains(&Ipc));
        assert!(w.iter().any(|w| w.contains("--share ipc")), "{w:?}");
        let e = fails(
            "default allow\nunshare ipc\n",
            Overrides {
                share: BTreeSet::from([Ipc]),
                ..Overrides::default()
            },
            root(),
        );
        assert!(e.contains("a flag cannot widen the policy"), "{e}");
        let e = fails(
            "default allow\nhostname box\n",
            Overrides {
                share: BTreeSet::from([Uts]),
                ..Overrides::default()
            },
            root(),
        );
        assert!(e.contains("a flag cannot widen the policy"), "{e}");
        let e = fails(
            "default allow\n",
            Overrides {
                share: BTreeSet::from([Net]),
                ..Overrides::default()
            },
            root(),
        );
        assert!(
            e.contains("only pid, ipc and uts are made by default"),
            "{e}"
        );
    }

    #[test]
    fn without_user_namespaces_the_default_isolation_is_dropped_with_a_warning_and_asked_ones_fail()
    {
        let host = Host {
            namespaces_unavailable: Some("user namespaces are disabled here".into()),
            ..user()
        };
        let (sb, w) = build("default allow\n", Overrides::default(), host.clone());
        assert!(sb.namespaces.is_empty());
        assert!(
            w[0].starts_with("user namespaces are disabled here"),
            "{w:?}"
        );
        let e = fails("default allow\nunshare net\n", Overrides::default(), host);
        assert!(e.contains("need a user namespace"), "{e}");
    }

    #[test]
    fn hostnames_given_both_ways_must_agree() {
        let o = |h: &str| Overrides {
            hostname: Some(h.into()),
            ..Overrides::default()
        };
        let (sb, _) = build("default allow\nhostname box\n", o("box"), root());
        assert_eq!(sb.confinement.hostname.as_deref(), Some("box"));
        let e = fails("default allow\nhostname box\n", o("other"), root());
        assert!(e.contains("the policy sets hostname `box`"), "{e}");
    }

    #[test]
    fn net_none_conflicts_with_net_rules() {
        let none = Overrides {
            net_none: true,
            ..Overrides::default()
        };
        let (sb, _) = build("default allow\n", none.clone(), root());
        assert!(sb.confinement.net_none && sb.routing.net);
        assert!(sb.namespaces.contains(&Net));
        for (policy, what) in [
            ("default allow\nnet connect 127.0.0.1:80\n", "connect"),
            ("default allow\nnet connect any\n", "connect"),
            ("default allow\nnet bind *:0\n", "bind"),
        ] {
            let e = fails(policy, none.clone(), root());
            assert!(e.contains(&format!("a `net {what}` rule")), "{policy}: {e}");
        }
    }

    #[test]
    fn fs_rules_must_exist_and_bring_the_system_paths_and_the_command() {
        let (sb, _) = build(
            "default allow\nfs read /etc\n",
            Overrides::default(),
            root(),
        );
        assert!(sb.routing.fs, "fs rules route file calls to the supervisor");
        assert!(sb.fs.iter().any(|r| r.origin == "system-paths"));
        let cmd = sb
            .fs
            .iter()
            .find(|r| r.origin == "the command")
            .expect("the command's own binary");
        assert_eq!(cmd.access, FsAccess::Exec);
        assert!(cmd.path.ends_with("true"), "{}", cmd.path.display());
        // Without system paths: the policy's rule and the command only.
        let (sb, _) = build(
            "default allow\nfs read /etc\n",
            Overrides {
                no_system_paths: true,
                ..Overrides::default()
            },
            root(),
        );
        assert_eq!(sb.fs.len(), 2, "{:?}", sb.fs);
        // An allow flag adds a path; a missing path is an error before anything runs.
        let (sb, _) = build(
            "default allow\n",
            Overrides {
                allow_write: vec!["/tmp".into()],
                ..Overrides::default()
            },
            root(),
        );
        assert!(sb
            .fs
            .iter()
            .any(|r| r.access == FsAccess::Write && r.origin == "--allow-write"));
        let e = fails(
            "default allow\n",
            Overrides {
                allow_read: vec!["/no/such/path/here".into()],
                ..Overrides::default()
            },
            root(),
        );
        assert!(e.contains("does not exist"), "{e}");
        // No fs rules: the filesystem is not restricted by path.
        let (sb, _) = build("default allow\n", Overrides::default(), root());
        assert!(sb.fs.is_empty() && !sb.routing.fs);
    }

    #[test]
    fn enforcement_and_reporting_shape_the_routing() {
        let landlock_only = Overrides {
            allow_read: vec!["/etc".into()],
            enforcement: Enforcement {
                supervisor: false,
                ..Enforcement::default()
            },
            ..Overrides::default()
        };
        let (sb, _) = build("default allow\n", landlock_only.clone(), root());
        assert!(
            !sb.routing.fs,
            "Landlock alone: file calls stay in the kernel"
        );
        let no_landlock = Host {
            landlock_abi: 0,
            ..root()
        };
        let e = fails("default allow\n", landlock_only, no_landlock.clone());
        assert!(e.contains("Landlock is not available"), "{e}");
        let e = fails(
            "default allow\n",
            Overrides {
                enforcement: Enforcement {
                    require_landlock: true,
                    ..Enforcement::default()
                },
                ..Overrides::default()
            },
            no_landlock,
        );
        assert!(e.contains("--require-landlock"), "{e}");
        let (sb, _) = build(
            "default allow\n",
            Overrides {
                reporting: Reporting {
                    report: true,
                    log: None,
                },
                ..Overrides::default()
            },
            root(),
        );
        assert!(sb.routing.report);
    }

    #[test]
    fn exec_rules_seal_memfds_where_the_sysctl_cannot() {
        let exec = Overrides {
            allow_exec: vec!["/usr".into()],
            ..Overrides::default()
        };
        // Root in its own pid namespace: the sysctl does it, the filter need not.
        let (sb, _) = build("default allow\n", exec.clone(), root());
        assert!(sb.memfd_noexec_by_sysctl() && !sb.routing.seal_memfds);
        // An ordinary user cannot set the sysctl: the filter refuses unsealed memfds.
        let (sb, _) = build("default allow\n", exec.clone(), user());
        assert!(!sb.memfd_noexec_by_sysctl() && sb.routing.seal_memfds);
        // Root sharing the pid namespace: the filter too.
        let (sb, _) = build(
            "default allow\n",
            Overrides {
                share: BTreeSet::from([Pid]),
                ..exec
            },
            root(),
        );
        assert!(sb.routing.seal_memfds);
    }

    #[test]
    fn the_command_is_found_in_the_programs_path_or_nothing_is_built() {
        let mut b = builder("default allow\n", Overrides::default(), root());
        b.argv = vec!["no-such-command-xyz".into()];
        let e = b.build(&mut Vec::new()).expect_err("not found");
        assert_eq!(e.kind, crate::ErrorKind::NotFound);
        let mut b = builder("default allow\n", Overrides::default(), root());
        b.cwd = Some("/no/such/dir".into());
        assert_eq!(
            b.build(&mut Vec::new()).expect_err("no cwd").kind,
            crate::ErrorKind::Input
        );
    }
}
