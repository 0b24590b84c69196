//! Network rules, enforced by the supervisor: `connect`, `bind` and addressed sends, checked
//! on the supervisor's own copy of the address and carried out on a duplicate of the
//! process's socket (`pidfd_getfd`), so the address the kernel uses is the one checked.
//!
//! - `net connect HOST:PORT` allows connects (and datagrams sent) to that address and port;
//!   `*` as HOST is any address. Names are resolved once, when the program starts.
//! - `net connect unix:/PATH` allows the unix socket at PATH — the socket FILE, compared by
//!   identity after the path is resolved in the process's view, so a symlink or a relative
//!   path to the same socket is the same socket; `unix:@NAME` an abstract name.
//! - `net bind …` likewise for binds.
//! - Everything else is refused with EACCES. An unnamed unix socket's autobind, AF_UNSPEC
//!   (dissolving a datagram association) and netlink (the kernel's own messages, used by the
//!   C library to list interfaces) are allowed: they reach no other host.
//! - `sendmsg` with control data (passing fds, credentials) is refused (EOPNOTSUPP): the
//!   supervisor would have to re-create them as its own.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use straitjacket_policy::resolve::settings::{Confinement, Endpoint};
use straitjacket_policy::supervised::NetCall;
use straitjacket_sys::fsops;

use super::fs::{ending as fs_ending, without_trailing_slashes, FsRules, Last, Outcome, Verdict};
use super::walk::{self, Caller, Mode};

const AF_UNSPEC: u16 = 0;
const AF_UNIX: u16 = 1;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;
const AF_NETLINK: u16 = 16;
const EACCES: i32 = 13;
const EINVAL: i32 = 22;
const ENAMETOOLONG: i32 = 36;
const ENOENT: i32 = 2;
const EADDRINUSE: i32 = 98;

/// One allowed destination or local address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Allowed {
    /// Anything (a genuine `notify` rule with no `net` rules: the call is only logged).
    Any,
    /// `None`: any address.
    Inet {
        addrs: Option<Vec<IpAddr>>,
        port: u16,
    },
    UnixPath(String),
    Abstract(Vec<u8>),
}

/// The rules of one direction each.
#[derive(Clone, Debug, Default)]
pub struct NetRules {
    pub connect: Vec<Allowed>,
    pub bind: Vec<Allowed>,
    /// A unix socket named by path is a file: with no `net` rule naming it, a connect or an
    /// addressed send reaches it only where an `fs write` rule covers the socket file (none
    /// without `fs` rules: `--net none`). Judged on the file the walk reached, never by
    /// resolving the name again.
    pub unix_by_fs: bool,
    /// The socket each `unix:/PATH` rule names, by identity: taken when the program starts,
    /// and again whenever the program binds that path under a `net bind` rule.
    /// A connect reaches only that socket: a file the program later puts at the name (a
    /// symlink to a host socket) is another file.
    pub unix_ids:
        std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, fsops::FileId>>>,
}

impl NetRules {
    /// Rules that allow everything.
    pub fn anything() -> NetRules {
        NetRules {
            connect: vec![Allowed::Any],
            bind: vec![Allowed::Any],
            unix_by_fs: false,
            unix_ids: Default::default(),
        }
    }

    /// Rules for a sandbox with `fs` rules or `--net none` but no address rules: every
    /// address but a unix socket's path, which the `fs` rules decide ([`Self::unix_by_fs`]).
    pub fn paths_by_fs() -> NetRules {
        NetRules {
            unix_by_fs: true,
            ..NetRules::anything()
        }
    }

    /// The rules of a confinement, names resolved now. An error names the rule.
    pub fn from_conf(c: &Confinement) -> Result<NetRules, String> {
        let inet = |e: &Endpoint| -> Result<Allowed, String> {
            if e.host == "*" {
                return Ok(Allowed::Inet {
                    addrs: None,
                    port: e.port,
                });
            }
            let addrs: Vec<IpAddr> = match e.host.parse::<IpAddr>() {
                Ok(a) => vec![a],
                Err(_) => (e.host.as_str(), e.port)
                    .to_socket_addrs()
                    .map_err(|err| format!("net rule {}:{}: {err}", e.host, e.port))?
                    .map(|s| s.ip())
                    .collect(),
            };
            Ok(Allowed::Inet {
                addrs: Some(addrs),
                port: e.port,
            })
        };
        let unix = |s: &String| match s.strip_prefix('@') {
            Some(name) => Allowed::Abstract(name.as_bytes().to_vec()),
            None => Allowed::UnixPath(s.clone()),
        };
        let mut out = NetRules::default();
        for e in &c.connect {
            out.connect.push(inet(e)?);
        }
        for e in &c.bind {
            out.bind.push(inet(e)?);
        }
        out.connect.extend(c.connect_unix.iter().map(unix));
        out.bind.extend(c.bind_unix.iter().map(unix));
        // `net connect any` / `net bind any`: that direction is not restricted by address
        // (a unix socket by path is judged as a file: see `unix_by_fs`).
        if c.connect_any {
            out.connect = vec![Allowed::Any];
        }
        if c.bind_any {
            out.bind = vec![Allowed::Any];
        }
        let mut ids = out.unix_ids.lock().expect("not yet shared");
        for p in &c.connect_unix {
            if p.starts_with('@') {
                continue;
            }
            use std::os::unix::fs::{FileTypeExt, MetadataExt};
            if let Ok(m) = std::fs::metadata(p) {
                if m.file_type().is_socket() {
                    ids.insert(
                        p.clone(),
                        fsops::FileId {
                            dev: m.dev(),
                            ino: m.ino(),
                        },
                    );
                }
            }
        }
        drop(ids);
        Ok(out)
    }
}

/// A socket address as the caller gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Addr {
    Unspec,
    Inet(IpAddr, u16),
    UnixPath(Vec<u8>),
    Abstract(Vec<u8>),
    /// An unnamed unix address (autobind).
    UnixUnnamed,
    Netlink,
    Other(u16),
}

/// Parses the bytes of a `struct sockaddr_*`.
pub fn parse_addr(b: &[u8]) -> Option<Addr> {
    if b.len() < 2 {
        return None;
    }
    let family = u16::from_ne_bytes([b[0], b[1]]);
    let port = || Some(u16::from_be_bytes(b.get(2..4)?.try_into().ok()?));
    Some(match family {
        AF_UNSPEC => Addr::Unspec,
        AF_INET => {
            let a: [u8; 4] = b.get(4..8)?.try_into().ok()?;
            Addr::Inet(IpAddr::V4(Ipv4Addr::from(a)), port()?)
        }
        AF_INET6 => {
            let a: [u8; 16] = b.get(8..24)?.try_into().ok()?;
            Addr::Inet(IpAddr::V6(Ipv6Addr::from(a)), port()?)
        }
        AF_UNIX => {
            let path = &b[2..];
            match path.first() {
                None => Addr::UnixUnnamed,
                Some(0) => Addr::Abstract(path[1..].to_vec()),
                Some(_) => {
                    let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
                    Addr::UnixPath(path[..end].to_vec())
                }
            }
        }
        AF_NETLINK => Addr::Netlink,
        f => Addr::Other(f),
    })
}

/// A network call, with everything copied from the caller.
#[derive(Debug)]
pub struct NetRequest {
    pub call: NetCall,
    pub caller: Caller,
    /// A duplicate of the caller's socket.
    pub sock: OwnedFd,
    /// The address (empty: none, a send on a connected socket).
    pub addr: Vec<u8>,
    /// The bytes to send.
    pub data: Vec<u8>,
    /// sendmmsg: the messages after the first (address, bytes), in order.
    pub more: Vec<(Vec<u8>, Vec<u8>)>,
    /// The caller's root and working directory, for unix socket paths.
    pub root: std::sync::Arc<OwnedFd>,
    pub cwd: OwnedFd,
    /// The caller's umask: the mode of a unix socket's file.
    pub umask: u32,
}

fn errno(e: std::io::Error) -> Verdict {
    Verdict {
        outcome: Outcome::Errno(e.raw_os_error().unwrap_or(5)),
        refused: false,
    }
}

fn done(errno: i32) -> Verdict {
    Verdict {
        outcome: Outcome::Errno(errno),
        refused: false,
    }
}

fn refused(errno: i32) -> Verdict {
    Verdict {
        outcome: Outcome::Errno(errno),
        refused: true,
    }
}

impl NetRules {
    /// Checks and carries out one call. `fs`: the filesystem rules, which a unix socket path
    /// created by `bind` must also satisfy.
    ///
    /// `other_user`: the caller's user, group or groups differ from the supervisor's, so a
    /// unix socket's peer, who reads them from the socket, would take it for someone else.
    pub fn perform(&self, req: &NetRequest, fs: Option<&FsRules>, other_user: bool) -> Verdict {
        let NetCall::SendMmsg { msgvec, vlen, .. } = req.call else {
            return match self.try_perform(req, &req.addr, &req.data, fs, other_user) {
                Ok(v) | Err(v) => v,
            };
        };
        if vlen == 0 {
            return sent(0);
        }
        // Each message as sendmsg would send it, in order, until one fails: the count sent,
        // each one's length written to its `msg_len`, as the kernel does (net/socket.c,
        // __sys_sendmmsg); the first message's error when none went.
        let mut lens = Vec::new();
        let messages =
            std::iter::once((&req.addr, &req.data)).chain(req.more.iter().map(|(a, d)| (a, d)));
        for (i, (addr, data)) in messages.enumerate() {
            match self.try_perform(req, addr, data, fs, other_user) {
                Ok(Verdict {
                    outcome: Outcome::Value(n),
                    ..
                }) => {
                    let at = msgvec + i as u64 * 64 + 56;
                    lens.push((at, (n as u32).to_ne_bytes().to_vec()));
                }
                Ok(v) | Err(v) if lens.is_empty() => return v,
                _ => break,
            }
        }
        let n = lens.len() as i64;
        Verdict {
            outcome: Outcome::Writes { at: lens, value: n },
            refused: false,
        }
    }

    /// Carries out `req` for one destination `addr` (empty: the connected peer) and payload.
    fn try_perform(
        &self,
        req: &NetRequest,
        addr_bytes: &[u8],
        data: &[u8],
        fs: Option<&FsRules>,
        other_user: bool,
    ) -> Result<Verdict, Verdict> {
        let bind = matches!(req.call, NetCall::Bind { .. });
        let rules = if bind { &self.bind } else { &self.connect };
        if addr_bytes.is_empty() {
            // A send on a connected socket: where it goes was checked when it connected.
            let n =
                fsops::send_to(req.sock.as_fd(), data, send_flags(req.call), &[]).map_err(errno)?;
            return Ok(sent(n));
        }
        let addr = parse_addr(addr_bytes).ok_or_else(|| refused(EINVAL))?;
        // The address the kernel will use, rewritten for unix paths (see below).
        let mut kaddr = addr_bytes.to_vec();
        // The `net bind unix:/PATH` rule a bind made its socket under.
        let mut bound_rule: Option<String> = None;
        let mut _dir = None;
        let any = rules.contains(&Allowed::Any);
        // A unix path is always resolved here, even when any address is allowed: in the
        // caller's view (its root and working directory, not the supervisor's), and for a
        // bind under the `fs` rules.
        let ok = match &addr {
            _ if any && !matches!(addr, Addr::UnixPath(_)) => true,
            Addr::Unspec | Addr::Netlink | Addr::UnixUnnamed => true,
            Addr::Other(_) => false,
            Addr::Inet(ip, port) => rules.iter().any(|r| match r {
                Allowed::Inet { addrs, port: p } => {
                    p == port
                        && addrs
                            .as_ref()
                            .is_none_or(|v| v.iter().any(|a| same_ip(a, ip)))
                }
                _ => false,
            }),
            Addr::Abstract(name) => rules
                .iter()
                .any(|r| matches!(r, Allowed::Abstract(n) if n == name)),
            Addr::UnixPath(path) => {
                let base = if path.first() == Some(&b'/') {
                    &req.root
                } else {
                    &req.cwd
                };
                // A failed walk's errno where the `fs` rules let the program see where it
                // stopped (all of it without `fs` rules), else EACCES.
                let shown = |e: i32, reached: Option<&OwnedFd>| match fs {
                    None => done(e),
                    Some(f)
                        if reached.is_some_and(|d| {
                            f.dir_standing(d, &req.root, req.caller).grant.any()
                        }) =>
                    {
                        done(e)
                    }
                    Some(_) => refused(EACCES),
                };
                // A bind makes the socket file as mknod makes a node (fs/namei.c,
                // filename_create; EEXIST is EADDRINUSE): the name is not followed.
                let (last, trailing) = fs_ending(path);
                let walked = if bind && last == Last::Name {
                    without_trailing_slashes(path)
                } else {
                    path.as_slice()
                };
                let found = walk::resolve(
                    &req.root,
                    base.as_fd(),
                    walked,
                    !bind,
                    Mode::default(),
                    req.caller,
                )
                .map_err(|f| {
                    if f.magic {
                        refused(EACCES)
                    } else {
                        shown(f.errno, f.reached.as_ref())
                    }
                })?;
                let dir_shown = |e: i32| shown(e, Some(&found.dir));
                if bind {
                    if last != Last::Name || found.entry.is_some() {
                        return Err(dir_shown(EADDRINUSE));
                    }
                    if trailing {
                        return Err(dir_shown(ENOENT));
                    }
                } else if found.entry.is_none() {
                    return Err(dir_shown(ENOENT));
                }
                // Making a socket file is writing in its directory: the `fs` rules
                // decide that whatever the `net` rules allow.
                let may_make = || {
                    fs.is_none_or(|f| {
                        f.found_dir_standing(&found, &req.root, req.caller)
                            .grant
                            .write
                    })
                };
                let allowed = if any {
                    if bind {
                        may_make()
                    } else if self.unix_by_fs {
                        // Reaching a socket is writing to its file (as connect(2) asks write
                        // permission on it): an `fs write` rule must cover the socket itself.
                        fs.is_some_and(|f| f.standing(&found, &req.root, req.caller).grant.write)
                    } else {
                        true
                    }
                } else if bind {
                    // The socket file does not exist yet: compare its directory and name.
                    bound_rule = rules.iter().find_map(|r| match r {
                        Allowed::UnixPath(p)
                            if self.is_entry(req, p, &found.dir, found.name.as_deref()) =>
                        {
                            Some(p.clone())
                        }
                        _ => None,
                    });
                    bound_rule.is_some() && may_make()
                } else {
                    // The socket the rule was bound to, by identity: never the name again.
                    let id = found.entry.as_ref().map(|(_, m)| m.id);
                    let ids = self.unix_ids.lock().map_err(|_| refused(EACCES))?;
                    rules.iter().any(|r| match r {
                        Allowed::UnixPath(p) => id.is_some() && ids.get(p).copied() == id,
                        _ => false,
                    })
                };
                if allowed {
                    // The supervisor's own path to the same directory: its fd, through
                    // /proc/self/fd, whatever the caller's root and cwd are.
                    let name = found.name.clone().ok_or_else(|| refused(EACCES))?;
                    let p = format!("/proc/self/fd/{}/", found.dir.as_raw_fd());
                    let mut sun = p.into_bytes();
                    sun.extend_from_slice(name.as_bytes());
                    if sun.len() > 107 {
                        return Err(refused(ENAMETOOLONG));
                    }
                    kaddr = AF_UNIX.to_ne_bytes().to_vec();
                    kaddr.extend_from_slice(&sun);
                    kaddr.push(0);
                    _dir = Some(found.dir);
                }
                allowed
            }
        };
        if !ok {
            return Err(refused(EACCES));
        }
        // A unix socket's peer learns who connected or sent from the socket itself
        // (SO_PEERCRED, SCM_CREDENTIALS): the supervisor's pid and user ids, since it is the
        // one acting. For a caller of the same user that tells nothing new; for one that
        // changed user, group or groups (a program dropping root), the peer would take it for
        // the supervisor's: refused.
        let unix_peer = matches!(addr, Addr::UnixPath(_) | Addr::Abstract(_));
        if unix_peer && other_user && !bind {
            return Err(refused(EACCES));
        }
        Ok(match req.call {
            NetCall::Connect { .. } => {
                fsops::connect(req.sock.as_fd(), &kaddr).map_err(errno)?;
                sent(0)
            }
            NetCall::Bind { .. } => {
                // The socket file's mode is 0777 less the umask of whoever binds: the
                // caller's, on this worker's own file system state (the supervisor's is 0).
                let path = matches!(addr, Addr::UnixPath(_));
                let old = path.then(|| fsops::set_umask(req.umask));
                let bound = fsops::bind(req.sock.as_fd(), &kaddr);
                if let Some(old) = old {
                    fsops::set_umask(old);
                }
                bound.map_err(errno)?;
                // The socket this rule names from now on: the one just made (where no socket
                // stood at the name when the program started).
                if let (Some(p), Some(name)) = (&bound_rule, &_dir) {
                    let _ = name; // its fd keeps the path below valid
                    if let Some(id) = new_socket_id(&kaddr) {
                        if let Ok(mut ids) = self.unix_ids.lock() {
                            // The program made it through an allowed bind: from now on
                            // the rule names this socket (a server restarted in the sandbox
                            // makes a new one at the same path).
                            ids.insert(p.clone(), id);
                        }
                    }
                }
                sent(0)
            }
            NetCall::SendTo { .. } | NetCall::SendMsg { .. } | NetCall::SendMmsg { .. } => {
                let n = fsops::send_to(req.sock.as_fd(), data, send_flags(req.call), &kaddr)
                    .map_err(errno)?;
                sent(n)
            }
        })
    }

    /// Whether `dir`/`name` is where the rule's path points (for a bind, before the socket
    /// exists).
    fn is_entry(
        &self,
        req: &NetRequest,
        path: &str,
        dir: &OwnedFd,
        name: Option<&std::ffi::CStr>,
    ) -> bool {
        let Ok(f) = walk::resolve(
            &req.root,
            req.root.as_fd(),
            path.as_bytes(),
            false,
            Mode::default(),
            req.caller,
        ) else {
            return false;
        };
        let id = |fd: &OwnedFd| fsops::meta(fd.as_fd()).map(|m| m.id).ok();
        id(&f.dir) == id(dir) && f.name.as_deref() == name && name.is_some()
    }
}

/// The identity of the socket a bind just made at `kaddr` (the supervisor's own path to it,
/// through the fd of its directory).
fn new_socket_id(kaddr: &[u8]) -> Option<fsops::FileId> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let path = kaddr.get(2..)?.split(|&b| b == 0).next()?;
    let m = std::fs::symlink_metadata(std::ffi::OsStr::from_bytes(path)).ok()?;
    Some(fsops::FileId {
        dev: m.dev(),
        ino: m.ino(),
    })
}

fn same_ip(a: &IpAddr, b: &IpAddr) -> bool {
    let canon = |ip: &IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*ip, IpAddr::V4),
        v4 => *v4,
    };
    canon(a) == canon(b)
}

fn send_flags(call: NetCall) -> u32 {
    match call {
        NetCall::SendTo { flags, .. }
        | NetCall::SendMsg { flags, .. }
        | NetCall::SendMmsg { flags, .. } => flags,
        _ => 0,
    }
}

fn sent(n: usize) -> Verdict {
    Verdict {
        outcome: Outcome::Value(n as i64),
        refused: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_socket_addresses() {
        let mut v4 = vec![2, 0, 0x1f, 0x90, 127, 0, 0, 1];
        v4.extend_from_slice(&[0; 8]);
        assert_eq!(
            parse_addr(&v4),
            Some(Addr::Inet(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080))
        );
        let mut un = vec![1, 0];
        un.extend_from_slice(b"/run/x.sock\0junk");
        assert_eq!(
            parse_addr(&un),
            Some(Addr::UnixPath(b"/run/x.sock".to_vec()))
        );
        assert_eq!(
            parse_addr(&[1, 0, 0, b'a']),
            Some(Addr::Abstract(b"a".to_vec()))
        );
        assert_eq!(parse_addr(&[1, 0]), Some(Addr::UnixUnnamed));
        assert_eq!(parse_addr(&[2]), None);
        assert_eq!(parse_addr(&[2, 0, 0, 80]), None);
        assert!(same_ip(
            &"::ffff:127.0.0.1".parse().unwrap(),
            &"127.0.0.1".parse().unwrap()
        ));
    }

    #[test]
    fn rules_from_settings() {
        let mut c = Confinement::default();
        c.add(
            "net",
            &[
                "connect".into(),
                "127.0.0.1:80".into(),
                "*:443".into(),
                "unix:@bus".into(),
            ],
        )
        .unwrap();
        let r = NetRules::from_conf(&c).unwrap();
        assert_eq!(r.connect.len(), 3);
        assert_eq!(r.connect[2], Allowed::Abstract(b"bus".to_vec()));
        assert!(c
            .add("net", &["connect".into(), "unix:rel".into()])
            .is_err());
    }
}
