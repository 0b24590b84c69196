//! Landlock rulesets, built in the parent before fork (through the `landlock` crate), and
//! enforced in the child by one raw `landlock_restrict_self(fd, 0)` right before the seccomp
//! filter (see `launch`).
//!
//! Access per rule: `read` = read files and list directories; `write` = read too, plus write,
//! truncate, make and remove files, directories, links, fifos, sockets and devices, and
//! rename/link across directories; `exec` = execute (and read the file, as execve opens it). Everything the kernel's ABI handles and
//! no rule grants is denied beneath every path. Net rules restrict TCP bind/connect PORTS
//! (Landlock knows ports, not addresses; ABI ≥ 4).
//!
//! The ABI is the kernel's (`LANDLOCK_CREATE_RULESET_VERSION`, Documentation/userspace-api/
//! landlock.rst); what an older kernel cannot enforce is listed in [`Built::not_enforced`].

use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreatedAttr, Scope, ABI,
};

/// The kernel's Landlock ABI version; 0 when Landlock is unavailable (not built in, or
/// disabled at boot).
pub fn abi_version() -> i32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_ulong = 1;
    // SAFETY: with a NULL attribute, size 0 and the VERSION flag the call reads no memory and
    // returns the ABI version or an error.
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if r < 0 {
        0
    } else {
        r as i32
    }
}

/// One path and what beneath it is allowed.
#[derive(Clone, Debug, Default)]
pub struct Grant {
    pub path: PathBuf,
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

/// What to build.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Restrict the filesystem (every handled access outside the grants is denied).
    pub fs: bool,
    pub grants: Vec<Grant>,
    /// Restrict TCP connects to `connect_ports`.
    pub net_connect: bool,
    /// Restrict TCP binds to `bind_ports`.
    pub net_bind: bool,
    pub connect_ports: Vec<u16>,
    pub bind_ports: Vec<u16>,
    /// Cut the sandbox off from processes outside it: no ptrace or /proc/PID/mem access to
    /// them (any Landlock domain does that), no signals to them and no connections to
    /// their abstract Unix sockets (Landlock ABI 6 scopes).
    pub isolate: bool,
}

/// A ruleset ready for `landlock_restrict_self`, and what the kernel cannot enforce.
#[derive(Debug)]
pub struct Built {
    pub abi: i32,
    /// `None` when the kernel has no Landlock at all.
    pub fd: Option<OwnedFd>,
    pub not_enforced: Vec<&'static str>,
}

fn err(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{what}: {e}"))
}

/// Builds the ruleset for the running kernel's ABI.
pub fn build(req: &Request) -> io::Result<Built> {
    let v = abi_version();
    let abi = ABI::from(v);
    let mut not_enforced = Vec::new();
    let any_net = req.net_connect || req.net_bind;
    if v < 1 {
        if req.fs {
            not_enforced.push("filesystem rules");
        }
        if any_net {
            not_enforced.push("network port rules");
        }
        if req.isolate && (req.fs || any_net) {
            not_enforced.push("isolation from processes outside the sandbox");
        }
        return Ok(Built {
            abi: v,
            fd: None,
            not_enforced,
        });
    }
    if req.fs {
        if v < 2 {
            not_enforced.push("renaming or linking across directories (always denied)");
        }
        if v < 3 {
            not_enforced.push("truncate");
        }
        if v < 5 {
            not_enforced.push("ioctl on devices");
        }
    }
    if any_net && v < 4 {
        not_enforced.push("network port rules");
    }
    let read: BitFlags<AccessFs> = AccessFs::ReadFile | AccessFs::ReadDir;
    let write = AccessFs::from_write(abi) | read;
    // execve opens the file for reading too (`open_exec`: O_RDONLY | __FMODE_EXEC), and
    // Landlock checks both rights at that open (security/landlock/fs.c, hook_file_open).
    let exec: BitFlags<AccessFs> = AccessFs::Execute | AccessFs::ReadFile;
    let mut rs = Ruleset::default().set_compatibility(CompatLevel::BestEffort);
    if req.fs {
        rs = rs
            .handle_access(AccessFs::from_all(abi))
            .map_err(|e| err("landlock", e))?;
    }
    // A domain that restricts nothing else still isolates: Landlock refuses ptrace access
    // (and so /proc/PID/mem) from inside a domain to processes outside it
    // (security/landlock/task.c). ABI 6 adds signal and abstract-socket scopes; before it,
    // handling every file access and granting it on / makes a domain that changes nothing
    // else (from ABI 2 on; ABI 1 would forbid cross-directory renames, so not there).
    let scoped = req.isolate && v >= 6;
    if scoped {
        rs = rs
            .scope(Scope::AbstractUnixSocket | Scope::Signal)
            .map_err(|e| err("landlock", e))?;
    }
    let fs_for_isolation = req.isolate && !req.fs && !scoped && !any_net && v >= 2;
    if fs_for_isolation {
        rs = rs
            .handle_access(AccessFs::from_all(abi))
            .map_err(|e| err("landlock", e))?;
    }
    if req.isolate && v < 2 {
        not_enforced.push("isolation from processes outside the sandbox");
    } else if req.isolate && v < 6 {
        not_enforced.push("signal and abstract-socket isolation");
    }
    let net = any_net && v >= 4;
    if net {
        // Only the directions that are restricted: a direction left to `any` is not handled,
        // so Landlock allows it whatever the port.
        let mut handled = BitFlags::<AccessNet>::EMPTY;
        if req.net_connect {
            handled |= AccessNet::ConnectTcp;
        }
        if req.net_bind {
            handled |= AccessNet::BindTcp;
        }
        rs = rs.handle_access(handled).map_err(|e| err("landlock", e))?;
    }
    let mut created = rs.create().map_err(|e| err("landlock_create_ruleset", e))?;
    if req.fs {
        for g in &req.grants {
            let mut access = BitFlags::<AccessFs>::EMPTY;
            if g.read {
                access |= read;
            }
            if g.write {
                access |= write;
            }
            if g.exec {
                access |= exec;
            }
            let fd = PathFd::new(&g.path).map_err(|e| err(&g.path.display().to_string(), e))?;
            let is_dir = std::fs::metadata(&g.path)
                .map(|m| m.is_dir())
                .unwrap_or(false);
            if !is_dir {
                access &= AccessFs::from_file(abi);
            }
            access &= AccessFs::from_all(abi);
            if access.is_empty() {
                continue;
            }
            created = created
                .add_rule(PathBeneath::new(fd, access))
                .map_err(|e| err(&g.path.display().to_string(), e))?;
        }
    }
    if fs_for_isolation {
        let root = PathFd::new("/").map_err(|e| err("/", e))?;
        created = created
            .add_rule(PathBeneath::new(root, AccessFs::from_all(abi)))
            .map_err(|e| err("/", e))?;
    }
    if net && req.net_connect {
        for &p in &req.connect_ports {
            created = created
                .add_rule(NetPort::new(p, AccessNet::ConnectTcp))
                .map_err(|e| err("landlock net rule", e))?;
        }
    }
    if net && req.net_bind {
        for &p in &req.bind_ports {
            created = created
                .add_rule(NetPort::new(p, AccessNet::BindTcp))
                .map_err(|e| err("landlock net rule", e))?;
        }
    }
    let fd: Option<OwnedFd> = created.into();
    Ok(Built {
        abi: v,
        fd,
        not_enforced,
    })
}

/// Enforces a built ruleset on the calling thread (`landlock_restrict_self`). Landlock
/// restricts only the calling thread and the threads and processes it starts afterwards;
/// NO_NEW_PRIVS must already be set for an unprivileged caller.
pub fn restrict_self(ruleset: &OwnedFd) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the call takes a ruleset fd we own (borrowed for the call) and flags 0; it reads
    // no memory of ours.
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_restrict_self,
            ruleset.as_raw_fd(),
            0 as libc::c_uint,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// How many threads the calling process has (`Threads:` in /proc/self/status).
pub fn thread_count() -> io::Result<usize> {
    crate::procfs::ProcStatus::own()?
        .threads()
        .ok_or_else(|| io::Error::other("no Threads: line in /proc/self/status"))
}
