//! Filesystem rules, enforced by the supervisor: which files a path-based call may touch, and
//! the call carried out on the process's behalf.
//!
//! Rules are held by identity (device, inode) of their root, opened in the process's own view
//! of the filesystem (its root and mount namespace) before the program runs. Whether a file
//! is covered is decided from the file itself: from the directory the walk reached, the
//! supervisor goes up (`..`) to the process's root and takes every rule whose root it meets.
//! So a path that reaches a file some other way (`..`, a symlink planted by the process, a
//! relative path from a working directory anywhere) is judged by where the file IS, never by
//! how its name was spelled.
//!
//! What each kind of access needs:
//! - read (open for reading, listing a directory; an `O_PATH` open, answered with a read-only
//!   fd since the kernel cannot inject an `O_PATH` one): a `read`, `write` or `exec` rule;
//! - write (open for writing, creating, truncating; mkdir, unlink, rename at both ends,
//!   symlink, link at both ends, chmod, chown, utimes, truncate): a `write` rule — for the
//!   file itself when it exists, for its directory when it is created or removed;
//! - metadata (stat, access, readlink, statfs): any rule, or being a
//!   directory above a rule's root (so `realpath` and `ls -d /usr` work on the way to a rule).
//!
//! Outside every rule the call fails with EACCES — also when the path does not exist there,
//! so that missing and forbidden files look alike. On procfs, the pid directories of other
//! processes are outside every rule unless the sandbox has its own pid namespace: opened by
//! the supervisor, they would reach outside the sandbox (environments, memory).

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;

use straitjacket_policy::ir::FsAccess;
use straitjacket_policy::supervised::{self as sv, FsCall, StatKind, TimesKind};
use straitjacket_sys::fsops::{self, FileId, Meta};

use super::walk::{self, Caller, Found, Mode};
use crate::sandbox::FsRule;

pub const EACCES: i32 = 13;
pub const EPERM: i32 = 1;
pub const EEXIST: i32 = 17;
pub const EINVAL: i32 = 22;
pub const EFAULT: i32 = 14;
pub const EISDIR: i32 = 21;
pub const E2BIG: i32 = 7;
const PROC_ROOT_INO: u64 = 1;

/// What rules grant a file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Grant {
    pub read: bool,
    pub write: bool,
}

impl Grant {
    fn of(a: FsAccess) -> Grant {
        match a {
            FsAccess::Read | FsAccess::Exec => Grant {
                read: true,
                write: false,
            },
            // As with Landlock (and a read-write bind mount): what may be written may be read.
            FsAccess::Write => Grant {
                read: true,
                write: true,
            },
        }
    }
    fn union(self, o: Grant) -> Grant {
        Grant {
            read: self.read || o.read,
            write: self.write || o.write,
        }
    }
    pub fn any(self) -> bool {
        self.read || self.write
    }
}

/// The rules, by identity of their roots in the process's view.
#[derive(Debug)]
pub struct FsRules {
    roots: HashMap<FileId, Grant>,
    /// Directories above a root: their metadata is visible.
    ancestors: HashSet<FileId>,
    /// The sandbox has a pid namespace (and a procfs) of its own.
    own_pid_ns: bool,
    /// Rules whose path did not resolve in the process's view (shown once).
    pub missing: Vec<PathBuf>,
    /// Everything is granted (a genuine `notify` rule with no `fs` rules: only logged).
    all: bool,
}

/// A file's standing under the rules.
#[derive(Clone, Copy, Debug, Default)]
pub struct Standing {
    pub grant: Grant,
    /// Metadata may be shown (a rule, or a directory above one).
    pub visible: bool,
}

impl FsRules {
    /// Opens every rule's root from the process's root (`/proc/PID/root`) as the process
    /// sees it, and the directories above each.
    pub fn open(rules: &[FsRule], root: &OwnedFd, caller: Caller, own_pid_ns: bool) -> FsRules {
        let mut out = FsRules {
            roots: HashMap::new(),
            ancestors: HashSet::new(),
            own_pid_ns,
            missing: Vec::new(),
            all: false,
        };
        for r in rules {
            let path = r.path.as_os_str().as_encoded_bytes();
            let found = walk::resolve(root, root.as_fd(), path, true, Mode::default(), caller);
            let Some((fd, meta)) = found.ok().and_then(|f| f.entry) else {
                if !r.system {
                    out.missing.push(r.path.clone());
                }
                continue;
            };
            let g = out.roots.entry(meta.id).or_default();
            *g = g.union(Grant::of(r.access));
            if meta.is_dir() {
                out.add_ancestors(fd, root);
            } else if let Ok(f) =
                walk::resolve(root, root.as_fd(), path, false, Mode::default(), caller)
            {
                out.add_ancestors(f.dir, root);
            }
        }
        out
    }

    fn add_ancestors(&mut self, mut cur: OwnedFd, root: &OwnedFd) {
        let root_id = fsops::meta(root.as_fd()).map(|m| m.id).ok();
        for _ in 0..4096 {
            let Ok(m) = fsops::meta(cur.as_fd()) else {
                return;
            };
            self.ancestors.insert(m.id);
            if Some(m.id) == root_id {
                return;
            }
            let Ok(up) = fsops::open_entry(cur.as_fd(), c"..") else {
                return;
            };
            if fsops::meta(up.as_fd()).map(|u| u.id).ok() == Some(m.id) {
                return;
            }
            cur = up;
        }
    }

    /// Rules that grant everything.
    pub fn unrestricted() -> FsRules {
        FsRules {
            roots: HashMap::new(),
            ancestors: HashSet::new(),
            own_pid_ns: true,
            missing: Vec::new(),
            all: true,
        }
    }

    /// The standing of directory `dir` (walking up to the process's root).
    pub fn dir_standing(&self, dir: &OwnedFd, root: &OwnedFd, caller: Caller) -> Standing {
        if self.all {
            return Standing {
                grant: Grant {
                    read: true,
                    write: true,
                },
                visible: true,
            };
        }
        let root_id = fsops::meta(root.as_fd()).map(|m| m.id).ok();
        let mut grant = Grant::default();
        let mut first = None;
        let Ok(mut cur) = dir.try_clone() else {
            return Standing::default();
        };
        for _ in 0..4096 {
            let Ok(m) = fsops::meta(cur.as_fd()) else {
                break;
            };
            first.get_or_insert(m.id);
            if let Some(g) = self.roots.get(&m.id) {
                grant = grant.union(*g);
            }
            if Some(m.id) == root_id {
                break;
            }
            let Ok(up) = fsops::open_entry(cur.as_fd(), c"..") else {
                break;
            };
            let Ok(um) = fsops::meta(up.as_fd()) else {
                break;
            };
            if um.id == m.id {
                break;
            }
            if !self.own_pid_ns
                && um.id.ino == PROC_ROOT_INO
                && fsops::on_procfs(up.as_fd())
                && !self.is_callers_proc_dir(&up, &cur, caller)
            {
                // Below another process's /proc/PID: nothing is granted.
                return Standing::default();
            }
            cur = up;
        }
        let visible = grant.any() || first.is_some_and(|f| self.ancestors.contains(&f));
        Standing { grant, visible }
    }

    /// The standing of directory `entry` (identity `id`) of directory `dir`.
    fn entry_standing(
        &self,
        dir: &OwnedFd,
        entry: &OwnedFd,
        id: FileId,
        root: &OwnedFd,
        caller: Caller,
    ) -> Standing {
        if self.all {
            return self.dir_standing_all();
        }
        let parent = self.dir_standing(dir, root, caller);
        let in_proc_root = !self.own_pid_ns
            && fsops::meta(dir.as_fd()).is_ok_and(|m| m.id.ino == PROC_ROOT_INO)
            && fsops::on_procfs(dir.as_fd());
        if in_proc_root && !self.is_callers_proc_dir(dir, entry, caller) {
            // Another process's /proc/PID: nothing is granted.
            return Standing::default();
        }
        let mut grant = parent.grant;
        if let Some(g) = self.roots.get(&id) {
            grant = grant.union(*g);
        }
        let visible = grant.any() || self.ancestors.contains(&id);
        Standing { grant, visible }
    }

    /// Whether `dir`, an entry of the procfs root `proc`, is not a process at all
    /// (`/proc/sys`, `/proc/net`) or is the caller's own `/proc/PID`.
    fn is_callers_proc_dir(&self, proc: &OwnedFd, dir: &OwnedFd, caller: Caller) -> bool {
        use std::os::fd::AsRawFd;
        // The entry's name, as the kernel knows it (the supervisor's own fd link).
        let Ok(name) = std::fs::read_link(format!("/proc/self/fd/{}", dir.as_raw_fd())) else {
            return false;
        };
        let last = name.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if last.is_empty() || !last.bytes().all(|b| b.is_ascii_digit()) {
            return true;
        }
        let own = CString::new(caller.tgid.to_string()).expect("digits");
        let same = |fd: &OwnedFd| fsops::meta(fd.as_fd()).map(|m| m.id).ok();
        fsops::open_entry(proc.as_fd(), &own).is_ok_and(|fd| same(&fd) == same(dir))
    }

    /// The standing of what a walk found: the entry itself if it exists (a directory by its
    /// own place; a file by its directory and any rule naming the file), else its directory.
    pub fn standing(&self, f: &Found, root: &OwnedFd, caller: Caller) -> Standing {
        let mut s = match (&f.entry, &f.name) {
            (Some((fd, m)), Some(_)) if m.is_dir() => match &f.chain {
                Some(chain) => self.chain_standing(chain, Some(m.id)),
                // By its directory, which the walk went through, and its own rule: climbing
                // from the entry itself would need the search permission the caller may not
                // have on it (the kernel asks none to stat or rename a directory).
                None => self.entry_standing(&f.dir, fd, m.id, root, caller),
            },
            _ => self.found_dir_standing(f, root, caller),
        };
        if let Some((_, m)) = &f.entry {
            if !m.is_dir() {
                if let Some(g) = self.roots.get(&m.id) {
                    s.grant = s.grant.union(*g);
                }
                // A file in a directory above a rule is not on the way to it: only a rule
                // shows it.
                s.visible = s.grant.any();
            }
        }
        s
    }

    /// The standing of the directory a walk ended in.
    pub fn found_dir_standing(&self, f: &Found, root: &OwnedFd, caller: Caller) -> Standing {
        match &f.chain {
            Some(chain) => self.chain_standing(chain, None),
            None => self.dir_standing(&f.dir, root, caller),
        }
    }

    /// The standing of the last directory of a chain from the root (then `extra`, a
    /// directory below it).
    fn chain_standing(&self, chain: &[(FileId, bool)], extra: Option<FileId>) -> Standing {
        if self.all {
            return self.dir_standing_all();
        }
        if !self.own_pid_ns && chain.iter().any(|&(_, foreign)| foreign) {
            return Standing::default();
        }
        let ids = chain.iter().map(|&(id, _)| id).chain(extra);
        let mut grant = Grant::default();
        let mut last = None;
        for id in ids {
            if let Some(g) = self.roots.get(&id) {
                grant = grant.union(*g);
            }
            last = Some(id);
        }
        let visible = grant.any() || last.is_some_and(|l| self.ancestors.contains(&l));
        Standing { grant, visible }
    }

    fn dir_standing_all(&self) -> Standing {
        Standing {
            grant: Grant {
                read: true,
                write: true,
            },
            visible: true,
        }
    }
}

/// A path argument, copied from the caller, with the directory it starts from (the caller's
/// root for an absolute path, else its working directory or the dirfd it named).
#[derive(Debug)]
pub struct Located {
    /// The caller's root itself for an absolute path (shared, not duplicated).
    pub base: Arc<OwnedFd>,
    pub path: Vec<u8>,
}

/// Everything a file call needs, copied from the caller before the notification was checked
/// still valid.
#[derive(Debug)]
pub struct FsRequest {
    pub call: FsCall,
    pub caller: Caller,
    pub root: Arc<OwnedFd>,
    pub paths: Vec<Located>,
    /// The fd an `AT_EMPTY_PATH` (or NULL-path utimensat) call acts on, duplicated.
    pub empty_fd: Option<OwnedFd>,
    /// The symlink text (symlink), `struct open_how` (openat2), or the times.
    pub extra: Vec<u8>,
    pub umask: u32,
    /// Carried out by the main loop: an open that may block (a FIFO, a device, a socket),
    /// or an open or truncate that would wait for a lease, is deferred to a worker instead.
    pub inline: bool,
}

/// What the supervisor answers.
#[derive(Debug)]
pub enum Outcome {
    Value(i64),
    Errno(i32),
    /// Install this fd in the caller and return its number.
    Fd {
        fd: OwnedFd,
        cloexec: bool,
    },
    /// Write these bytes into the caller's memory, then return the value.
    Write {
        addr: u64,
        bytes: Vec<u8>,
        value: i64,
    },
    /// Write each of these (address, bytes) into the caller's memory, then return the value
    /// (sendmmsg's `msg_len` of each message sent).
    Writes {
        at: Vec<(u64, Vec<u8>)>,
        value: i64,
    },
    /// Not done here: the call may block, hand it to a worker.
    Defer,
}

/// The decision, for the log and the report.
#[derive(Debug)]
pub struct Verdict {
    pub outcome: Outcome,
    /// `true` when the rules refused the call (as opposed to the call failing by itself).
    pub refused: bool,
}

fn done(o: Outcome) -> Verdict {
    Verdict {
        outcome: o,
        refused: false,
    }
}

fn refused(errno: i32) -> Verdict {
    Verdict {
        outcome: Outcome::Errno(errno),
        refused: true,
    }
}

fn errno(e: std::io::Error) -> Verdict {
    done(Outcome::Errno(e.raw_os_error().unwrap_or(5)))
}

impl FsRules {
    /// Resolves a path: a failure's errno is shown only where the walk stopped somewhere
    /// visible (else EACCES: the process learns nothing of forbidden trees).
    fn find(
        &self,
        req: &FsRequest,
        which: usize,
        follow: bool,
        mode: Mode,
    ) -> Result<Found, Verdict> {
        self.find_path(req, which, &req.paths[which].path, follow, mode)
    }

    /// A path whose last name is created or removed: walked without following it, and
    /// without the trailing slashes that would make the walk ask for a directory (the call
    /// decides what they mean), with how the path ends.
    fn find_name(&self, req: &FsRequest, which: usize) -> Result<(Found, Last, bool), Verdict> {
        let path = &req.paths[which].path;
        let (last, trailing) = ending(path);
        let walked = match last {
            Last::Name => without_trailing_slashes(path),
            _ => path.as_slice(),
        };
        let f = self.find_path(req, which, walked, false, Mode::default())?;
        Ok((f, last, trailing))
    }

    fn find_path(
        &self,
        req: &FsRequest,
        which: usize,
        path: &[u8],
        follow: bool,
        mode: Mode,
    ) -> Result<Found, Verdict> {
        let base = req.paths[which].base.as_fd();
        walk::resolve(&req.root, base, path, follow, mode, req.caller).map_err(|f| {
            let shown = f
                .reached
                .as_ref()
                .is_some_and(|d| self.dir_standing(d, &req.root, req.caller).grant.any());
            match (shown, f.magic) {
                (true, false) => done(Outcome::Errno(f.errno)),
                (true, true) => refused(f.errno),
                (false, _) => refused(EACCES),
            }
        })
    }

    /// For a path that must exist: ENOENT in a directory a rule covers, else EACCES (which
    /// names exist is not shown outside the rules).
    fn missing(&self, f: &Found, req: &FsRequest) -> Verdict {
        if self
            .found_dir_standing(f, &req.root, req.caller)
            .grant
            .any()
        {
            done(Outcome::Errno(walk::ENOENT))
        } else {
            refused(EACCES)
        }
    }

    /// Carries out one file call under the rules.
    pub fn perform(&self, req: &FsRequest) -> Verdict {
        match self.try_perform(req) {
            Ok(v) | Err(v) => v,
        }
    }

    fn try_perform(&self, req: &FsRequest) -> Result<Verdict, Verdict> {
        let nofollow = |flags: u64| flags & sv::AT_SYMLINK_NOFOLLOW != 0;
        let caller = req.caller;
        let root = &req.root;
        Ok(match req.call {
            FsCall::Open {
                flags, mode, how, ..
            } => {
                let (flags, mode, resolve) = match how {
                    None => (flags, mode, 0),
                    Some(_) => open_how(&req.extra)?,
                };
                return self.open_file(req, flags, mode, resolve);
            }
            FsCall::Stat {
                flags, buf, kind, ..
            } => {
                let target = if let Some(fd) = &req.empty_fd {
                    fd.try_clone().map_err(errno)?
                } else {
                    let f = self.find(req, 0, !nofollow(flags), Mode::default())?;
                    let Some((fd, _)) = &f.entry else {
                        return Err(self.missing(&f, req));
                    };
                    if !self.standing(&f, root, caller).visible {
                        return Err(refused(EACCES));
                    }
                    fd.try_clone().map_err(errno)?
                };
                let at = libc_at::EMPTY_PATH | libc_at::SYMLINK_NOFOLLOW;
                let bytes = match kind {
                    StatKind::Stat => fsops::stat_bytes(target.as_fd(), c"", at),
                    StatKind::Statx { mask } => {
                        let sync = (flags as i32) & libc_at::STATX_SYNC_TYPE;
                        fsops::statx_bytes(target.as_fd(), c"", at | sync, mask)
                    }
                }
                .map_err(errno)?;
                done(Outcome::Write {
                    addr: buf,
                    bytes,
                    value: 0,
                })
            }
            FsCall::Statfs { buf, .. } => {
                let f = self.find(req, 0, true, Mode::default())?;
                let Some((fd, _)) = &f.entry else {
                    return Err(self.missing(&f, req));
                };
                if !self.standing(&f, root, caller).visible {
                    return Err(refused(EACCES));
                }
                let bytes = fsops::statfs_bytes(fd.as_fd()).map_err(errno)?;
                done(Outcome::Write {
                    addr: buf,
                    bytes,
                    value: 0,
                })
            }
            FsCall::Access { mode, flags, .. } => {
                let f = self.find(req, 0, !nofollow(flags), Mode::default())?;
                let Some((fd, m)) = &f.entry else {
                    return Err(self.missing(&f, req));
                };
                let s = self.standing(&f, root, caller);
                let (r, w, x) = (mode & 4 != 0, mode & 2 != 0, mode & 1 != 0);
                let allowed = s.visible
                    && (!r || s.grant.read)
                    && (!w || s.grant.write)
                    && (!x || s.grant.read || (m.is_dir() && s.visible));
                if !allowed {
                    return Err(refused(EACCES));
                }
                fsops::access_at(
                    fd.as_fd(),
                    c"",
                    mode as i32,
                    libc_at::EMPTY_PATH | libc_at::SYMLINK_NOFOLLOW,
                )
                .map_err(errno)?;
                done(Outcome::Value(0))
            }
            FsCall::Readlink { buf, size, .. } => {
                let f = self.find(req, 0, false, Mode::default())?;
                let Some((_, m)) = &f.entry else {
                    return Err(self.missing(&f, req));
                };
                if !self.standing(&f, root, caller).visible {
                    return Err(refused(EACCES));
                }
                if !m.is_symlink() || f.name.is_none() {
                    return Err(done(Outcome::Errno(EINVAL)));
                }
                if (size as i64) <= 0 {
                    return Err(done(Outcome::Errno(EINVAL)));
                }
                let (dir, name, _) = f.at().expect("a named entry");
                let mut text = fsops::readlink_at(dir, name).map_err(errno)?;
                text.truncate(size as usize);
                let n = text.len() as i64;
                done(Outcome::Write {
                    addr: buf,
                    bytes: text,
                    value: n,
                })
            }
            FsCall::Mkdir { mode, .. } => {
                let (f, name) = self.creatable(req, 0, true)?;
                fsops::mkdir_at(f.dir.as_fd(), &name, mode & !req.umask & 0o7777).map_err(errno)?;
                done(Outcome::Value(0))
            }
            FsCall::Mknod { mode, dev, .. } => {
                let kind = mode & 0o170000;
                // Regular files, FIFOs and sockets only: a device node would open the device
                // around every rule.
                if !matches!(kind, 0 | 0o100000 | 0o10000 | 0o140000) {
                    return Err(refused(EPERM));
                }
                let (f, name) = self.creatable(req, 0, false)?;
                let perm = mode & !req.umask & 0o7777;
                fsops::mknod_at(f.dir.as_fd(), &name, kind | perm, dev).map_err(errno)?;
                done(Outcome::Value(0))
            }
            FsCall::Unlink { flags, .. } => {
                let rmdir = flags & sv::AT_REMOVEDIR != 0;
                let (last, _) = ending(&req.paths[0].path);
                if last != Last::Name {
                    // fs/namei.c: do_unlinkat refuses these names, do_rmdir tells them apart.
                    let f = self.find(req, 0, false, Mode::default())?;
                    if !self.standing(&f, root, caller).visible {
                        return Err(refused(EACCES));
                    }
                    return Err(done(Outcome::Errno(match (rmdir, last) {
                        (false, _) => EISDIR,
                        (true, Last::Dot) => EINVAL,
                        (true, Last::DotDot) => ENOTEMPTY,
                        (true, _) => EBUSY,
                    })));
                }
                let (f, trailing) = self.removable(req, 0)?;
                let is_dir = f.entry.as_ref().is_some_and(|(_, m)| m.is_dir());
                if trailing && !rmdir {
                    // fs/namei.c, do_unlinkat: a name with a trailing slash is a directory's.
                    return Err(done(Outcome::Errno(if is_dir {
                        EISDIR
                    } else {
                        walk::ENOTDIR
                    })));
                }
                let (dir, name, _) = f.at().ok_or_else(|| done(Outcome::Errno(EBUSY)))?;
                let rm = (flags & sv::AT_REMOVEDIR) as i32;
                fsops::unlink_at(dir, name, rm).map_err(errno)?;
                done(Outcome::Value(0))
            }
            FsCall::Rename { flags, .. } => {
                // fs/namei.c, do_renameat2, in its order: the flags; both directories; `.`,
                // `..` and the root (EBUSY, or EEXIST as the target under NOREPLACE); the
                // source; the target under NOREPLACE or EXCHANGE; trailing slashes.
                const NOREPLACE: u32 = 1;
                const EXCHANGE: u32 = 2;
                const WHITEOUT: u32 = 4;
                if flags & !(NOREPLACE | EXCHANGE | WHITEOUT) != 0
                    || (flags & (NOREPLACE | WHITEOUT) != 0 && flags & EXCHANGE != 0)
                {
                    return Err(done(Outcome::Errno(EINVAL)));
                }
                let exchange = flags & EXCHANGE != 0;
                let (from, from_last, from_slash) = self.find_name(req, 0)?;
                let (to, to_last, to_slash) = self.find_name(req, 1)?;
                if from_last != Last::Name || to_last != Last::Name {
                    for f in [&from, &to] {
                        if !self.standing(f, root, caller).visible {
                            return Err(refused(EACCES));
                        }
                    }
                    let e = if from_last == Last::Name && flags & NOREPLACE != 0 {
                        EEXIST
                    } else {
                        EBUSY
                    };
                    return Err(done(Outcome::Errno(e)));
                }
                if from.entry.is_none() {
                    return Err(self.missing(&from, req));
                }
                if !self.found_dir_standing(&from, root, caller).grant.write {
                    return Err(refused(EACCES));
                }
                if !self.found_dir_standing(&to, root, caller).grant.write {
                    return Err(refused(EACCES));
                }
                let is_dir = |f: &Found| f.entry.as_ref().is_some_and(|(_, m)| m.is_dir());
                if flags & NOREPLACE != 0 && to.entry.is_some() {
                    return Err(done(Outcome::Errno(EEXIST)));
                }
                if exchange {
                    if to.entry.is_none() {
                        return Err(self.missing(&to, req));
                    }
                    if to_slash && !is_dir(&to) {
                        return Err(done(Outcome::Errno(walk::ENOTDIR)));
                    }
                }
                if !is_dir(&from) && (from_slash || (!exchange && to_slash)) {
                    return Err(done(Outcome::Errno(walk::ENOTDIR)));
                }
                if to.entry.is_some() && !exchange {
                    // Replacing an existing entry removes it: the same rule applies.
                    if !self.standing(&to, root, caller).grant.write {
                        return Err(refused(EACCES));
                    }
                }
                let (fd, fname, _) = from.at().ok_or_else(|| done(Outcome::Errno(EBUSY)))?;
                let (td, tname) = match &to.name {
                    Some(n) => (to.dir.as_fd(), n.as_c_str()),
                    None => return Err(done(Outcome::Errno(EBUSY))),
                };
                fsops::rename_at(fd, fname, td, tname, flags).map_err(errno)?;
                done(Outcome::Value(0))
            }
            FsCall::Symlink { .. } => {
                let (f, name) = self.creatable(req, 0, false)?;
                let target = CString::new(req.extra.clone()).map_err(|_| refused(EINVAL))?;
                fsops::symlink_at(&target, f.dir.as_fd(), &name).map_err(errno)?;
                done(Outcome::Value(0))
            }
            FsCall::Link { flags, .. } => {
                if flags & sv::AT_EMPTY_PATH != 0 {
                    // Linking an open file into the tree: its name is unknown, so is its rule.
                    return Err(refused(EPERM));
                }
                let follow = flags & sv::AT_SYMLINK_FOLLOW != 0;
                let from = self.find(req, 0, follow, Mode::default())?;
                if from.entry.is_none() {
                    return Err(self.missing(&from, req));
                }
                // A new name for a file is a new way to write it: the file must be writable.
                if !self.standing(&from, root, caller).grant.write {
                    return Err(refused(EACCES));
                }
                let (to, tname) = self.creatable(req, 1, false)?;
                let (fd, fname, empty) = from.at().ok_or_else(|| done(Outcome::Errno(EPERM)))?;
                if empty {
                    return Err(done(Outcome::Errno(EPERM)));
                }
                fsops::link_at(fd, fname, to.dir.as_fd(), &tname).map_err(errno)?;
                done(Outcome::Value(0))
            }
            FsCall::Chmod { mode, flags, .. } => {
                let f = self.writable(req, !nofollow(flags))?;
                let (fd, name, empty) = f.at().expect("an existing entry");
                let fl = at_flags(empty, nofollow(flags));
                fsops::chmod_at(fd, name, mode & 0o7777, fl).map_err(errno)?;
                done(Outcome::Value(0))
            }
            FsCall::Chown {
                uid, gid, flags, ..
            } => {
                let f = self.writable(req, !nofollow(flags))?;
                let (fd, name, empty) = f.at().expect("an existing entry");
                let fl = at_flags(empty, nofollow(flags));
                fsops::chown_at(fd, name, uid, gid, fl).map_err(errno)?;
                done(Outcome::Value(0))
            }
            FsCall::Truncate { len, .. } => {
                let f = self.writable(req, true)?;
                let (fd, m) = f.entry.as_ref().expect("an existing entry");
                if m.is_dir() {
                    return Err(done(Outcome::Errno(EISDIR)));
                }
                // fs/open.c, vfs_truncate: only a regular file (a FIFO would be opened).
                if m.mode & 0o170000 != 0o100000 {
                    return Err(done(Outcome::Errno(EINVAL)));
                }
                // truncate(2) waits for a lease to break as an open for writing does.
                let opened = unleased(req.inline, libc_o::WRONLY, |fl| reopen(fd, fl, m))?;
                fsops::truncate_fd(opened.as_fd(), len).map_err(errno)?;
                done(Outcome::Value(0))
            }
            FsCall::Utimes {
                kind, times, flags, ..
            } => {
                let t = parse_times(kind, times, &req.extra)?;
                if let Some(fd) = &req.empty_fd {
                    // utimensat(fd, NULL, …): the file the caller holds open.
                    fsops::utimens_at(fd.as_fd(), c"", t, libc_at::EMPTY_PATH).map_err(errno)?;
                    return Ok(done(Outcome::Value(0)));
                }
                let f = self.writable(req, !nofollow(flags))?;
                let (fd, name, empty) = f.at().expect("an existing entry");
                fsops::utimens_at(fd, name, t, at_flags(empty, nofollow(flags))).map_err(errno)?;
                done(Outcome::Value(0))
            }
        })
    }

    fn open_file(
        &self,
        req: &FsRequest,
        flags: u64,
        mode: u32,
        resolve: u64,
    ) -> Result<Verdict, Verdict> {
        let caller = req.caller;
        let root = &req.root;
        if resolve & sv::RESOLVE_CACHED != 0 {
            return Err(done(Outcome::Errno(walk::EAGAIN)));
        }
        let walk_mode = Mode {
            no_symlinks: resolve & sv::RESOLVE_NO_SYMLINKS != 0,
            beneath: resolve & sv::RESOLVE_BENEATH != 0,
            in_root: resolve & sv::RESOLVE_IN_ROOT != 0,
            no_xdev: resolve & sv::RESOLVE_NO_XDEV != 0,
        };
        let create = flags & sv::O_CREAT != 0;
        let excl = create && flags & sv::O_EXCL != 0;
        let tmpfile = flags & sv::O_TMPFILE == sv::O_TMPFILE;
        let follow = flags & sv::O_NOFOLLOW == 0 && !excl;
        let (read, write) = sv::open_wants(flags);
        let cloexec = flags & sv::O_CLOEXEC != 0;
        // Our own copy is always close-on-exec (the caller's gets what it asked for), and a
        // terminal opened for the caller never becomes the supervisor's controlling terminal.
        let kflags = (flags | sv::O_CLOEXEC | sv::O_NOFOLLOW | O_NOCTTY) as i32;
        if create && !tmpfile {
            // fs/namei.c, open_last_lookups: creating through a trailing slash, or a path
            // ending in `.`, `..` or `/`, is EISDIR once the directories on the way are found.
            let (last, trailing) = ending(&req.paths[0].path);
            if trailing || last != Last::Name {
                let path = without_trailing_slashes(&req.paths[0].path);
                let path = if last == Last::Name {
                    path
                } else {
                    &req.paths[0].path
                };
                let f = self.find_path(req, 0, path, false, walk_mode)?;
                // Through handle_dots and do_open, O_EXCL answers first.
                let e = if last != Last::Name && excl {
                    EEXIST
                } else {
                    EISDIR
                };
                return Err(if self.found_dir_standing(&f, root, caller).grant.any() {
                    done(Outcome::Errno(e))
                } else {
                    refused(EACCES)
                });
            }
        }
        let f = self.find(req, 0, follow, walk_mode)?;
        match &f.entry {
            Some((fd, m)) => {
                let s = self.standing(&f, root, caller);
                let ok = if flags & sv::O_PATH != 0 {
                    s.visible
                } else if tmpfile {
                    s.grant.write
                } else {
                    (!read || s.grant.read) && (!write || s.grant.write)
                };
                if !ok {
                    return Err(refused(EACCES));
                }
                if excl {
                    return Err(done(Outcome::Errno(EEXIST)));
                }
                let kind = m.mode & 0o170000;
                if req.inline && !matches!(kind, 0o100000 | 0o040000 | 0o120000) {
                    return Ok(done(Outcome::Defer));
                }
                let opened = if flags & sv::O_PATH != 0 {
                    instead_of_o_path(fd, m, s, kflags)?
                } else if tmpfile {
                    fsops::open_at(
                        fd.as_fd(),
                        c".",
                        kflags & !(sv::O_NOFOLLOW as i32),
                        mode & !req.umask,
                    )
                    .map_err(errno)?
                } else {
                    let regular = kind == 0o100000;
                    unleased(req.inline && regular, kflags, |fl| {
                        reopen_with(fd, fl, mode & !req.umask, m)
                    })?
                };
                Ok(done(Outcome::Fd {
                    fd: opened,
                    cloexec,
                }))
            }
            None => {
                let s = self.found_dir_standing(&f, root, caller);
                if !create {
                    return Err(if s.grant.any() {
                        done(Outcome::Errno(walk::ENOENT))
                    } else {
                        refused(EACCES)
                    });
                }
                if !s.grant.write {
                    return Err(refused(EACCES));
                }
                let name = f.name.as_ref().expect("a missing entry has a name");
                // Without O_EXCL the file may have been made meanwhile, and be leased.
                let opened = unleased(req.inline, kflags, |fl| {
                    fsops::open_at(f.dir.as_fd(), name, fl, mode & !req.umask & 0o7777)
                        .map_err(errno)
                })?;
                Ok(done(Outcome::Fd {
                    fd: opened,
                    cloexec,
                }))
            }
        }
    }

    /// A path to create: it must not exist, and its directory must be writable. As the
    /// kernel's `filename_create`: EEXIST for a path ending in `.`, `..` or `/` or naming
    /// anything that exists (a symlink is not followed), then ENOENT for a trailing slash
    /// unless a directory is made.
    fn creatable(
        &self,
        req: &FsRequest,
        which: usize,
        dir: bool,
    ) -> Result<(Found, CString), Verdict> {
        let (f, last, trailing) = self.find_name(req, which)?;
        let s = self.found_dir_standing(&f, &req.root, req.caller);
        let shown = |e: i32| {
            if s.grant.any() {
                done(Outcome::Errno(e))
            } else {
                refused(EACCES)
            }
        };
        if last != Last::Name || f.entry.is_some() {
            return Err(shown(EEXIST));
        }
        if trailing && !dir {
            return Err(shown(walk::ENOENT));
        }
        if !s.grant.write {
            return Err(refused(EACCES));
        }
        let name = f.name.clone().expect("a missing entry has a name");
        Ok((f, name))
    }

    /// A path to remove (or move away): it must exist, in a writable directory. Its last
    /// name is not followed, even with a trailing slash (see [`FsRules::find_name`]); the
    /// trailing slash is returned for the call to judge.
    fn removable(&self, req: &FsRequest, which: usize) -> Result<(Found, bool), Verdict> {
        let (f, _, trailing) = self.find_name(req, which)?;
        if f.entry.is_none() {
            return Err(self.missing(&f, req));
        }
        let s = self.found_dir_standing(&f, &req.root, req.caller);
        if !s.grant.write {
            return Err(refused(EACCES));
        }
        Ok((f, trailing))
    }

    /// An existing path whose file may be written.
    fn writable(&self, req: &FsRequest, follow: bool) -> Result<Found, Verdict> {
        let f = self.find(req, 0, follow, Mode::default())?;
        if f.entry.is_none() {
            return Err(self.missing(&f, req));
        }
        if !self.standing(&f, &req.root, req.caller).grant.write {
            return Err(refused(EACCES));
        }
        Ok(f)
    }
}

/// How a path ends, as the kernel's calls that create or remove a name see it (fs/namei.c:
/// `LAST_NORM`, `LAST_DOT`, `LAST_DOTDOT`, `LAST_ROOT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Last {
    Name,
    Dot,
    DotDot,
    Root,
}

/// How `path` ends, and whether slashes follow its last component.
pub(crate) fn ending(path: &[u8]) -> (Last, bool) {
    let trimmed = without_trailing_slashes(path);
    let trailing = trimmed.len() < path.len();
    let last = match trimmed.rsplit(|&b| b == b'/').next() {
        _ if trimmed.is_empty() => Last::Root,
        Some(b".") => Last::Dot,
        Some(b"..") => Last::DotDot,
        _ => Last::Name,
    };
    (last, trailing)
}

pub(crate) fn without_trailing_slashes(path: &[u8]) -> &[u8] {
    let end = path.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    &path[..end]
}

const O_NOCTTY: u64 = 0o400;
const EOPNOTSUPP: i32 = 95;
const EBUSY: i32 = 16;
const ENOTEMPTY: i32 = 39;

/// `AT_*` and `O_*` as the supervisor passes them to its own calls.
mod libc_at {
    pub const SYMLINK_NOFOLLOW: i32 = 0x100;
    pub const EMPTY_PATH: i32 = 0x1000;
    pub const STATX_SYNC_TYPE: i32 = 0x6000;
}
mod libc_o {
    pub const WRONLY: i32 = 0o1;
    pub const NONBLOCK: i32 = 0o4000;
}

fn at_flags(empty: bool, nofollow: bool) -> i32 {
    if empty {
        libc_at::EMPTY_PATH
    } else if nofollow {
        libc_at::SYMLINK_NOFOLLOW
    } else {
        0
    }
}

/// What an `O_PATH` open gets. An `O_PATH` fd cannot be injected (the kernel's ADDFD takes no
/// `O_PATH` file: EBADF), so where the rules let the caller read the object — a directory or
/// a regular file — it gets a read-only fd of it instead: it does all an `O_PATH` fd does
/// (`*at` calls from it, `fstat`, `fchdir`), and reading, which the rules allow anyway. (The
/// caller's own permissions must then allow reading too.) Otherwise: EACCES where the rules
/// grant no read, ELOOP for a symlink (`O_PATH | O_NOFOLLOW`), EOPNOTSUPP for other kinds,
/// which a read-only open could block on or act on (FIFOs, devices).
fn instead_of_o_path(
    handle: &OwnedFd,
    m: &Meta,
    s: Standing,
    flags: i32,
) -> Result<OwnedFd, Verdict> {
    if !s.grant.read {
        return Err(refused(EACCES));
    }
    match m.mode & 0o170000 {
        0o040000 | 0o100000 => {}
        0o120000 => return Err(done(Outcome::Errno(walk::ELOOP))),
        _ => return Err(done(Outcome::Errno(EOPNOTSUPP))),
    }
    let keep = (sv::O_DIRECTORY | sv::O_CLOEXEC | sv::O_NOFOLLOW) as i32;
    reopen_with(handle, flags & keep, 0, m)
}

/// Opens the file an `O_PATH` handle refers to, through `/proc/self/fd` — the supervisor's
/// own magic link, which reaches exactly that file whatever happened to its name since.
fn reopen_with(handle: &OwnedFd, flags: i32, mode: u32, m: &Meta) -> Result<OwnedFd, Verdict> {
    use std::os::fd::AsRawFd;
    if m.is_symlink() {
        // Only `O_PATH | O_NOFOLLOW` opens a symlink itself; the handle is one.
        if flags & sv::O_PATH as i32 != 0 {
            return handle.try_clone().map_err(errno);
        }
        return Err(done(Outcome::Errno(walk::ELOOP)));
    }
    let link = CString::new(format!("/proc/self/fd/{}", handle.as_raw_fd())).expect("digits");
    // Following the magic link is the point here: drop O_NOFOLLOW for this one lookup. (The
    // path is absolute: the directory fd is not used.)
    let fd = fsops::open_at(
        handle.as_fd(),
        &link,
        flags & !(sv::O_NOFOLLOW as i32),
        mode,
    )
    .map_err(errno)?;
    let got = fsops::meta(fd.as_fd()).map_err(errno)?;
    if got.id != m.id {
        return Err(refused(EACCES));
    }
    Ok(fd)
}

/// Opens a file that a lease may be held on, without the main loop waiting for it. An open
/// that conflicts with a lease waits until its holder gives it up, up to
/// `/proc/sys/fs/lease-break-time` (45 s by default; fcntl(2), "Leases"), and the program
/// holds leases on its own files: the main loop waiting would hold up every other call and
/// the `--timeout` with it. So `inline` the open is tried with O_NONBLOCK, which fails with
/// EWOULDBLOCK instead of waiting, and then goes to a worker, which waits as the kernel
/// would have; an O_NONBLOCK the caller did not ask for is cleared again. `open` gets the
/// flags.
fn unleased(
    inline: bool,
    flags: i32,
    open: impl Fn(i32) -> Result<OwnedFd, Verdict>,
) -> Result<OwnedFd, Verdict> {
    if !inline || flags & libc_o::NONBLOCK != 0 {
        return open(flags);
    }
    match open(flags | libc_o::NONBLOCK) {
        Ok(fd) => {
            fsops::set_nonblocking(fd.as_fd(), false).map_err(errno)?;
            Ok(fd)
        }
        Err(Verdict {
            outcome: Outcome::Errno(walk::EAGAIN),
            ..
        }) => Err(done(Outcome::Defer)),
        Err(v) => Err(v),
    }
}

fn reopen(handle: &OwnedFd, flags: i32, m: &Meta) -> Result<OwnedFd, Verdict> {
    reopen_with(handle, flags | sv::O_CLOEXEC as i32, 0, m)
}

/// `struct open_how { u64 flags; u64 mode; u64 resolve; }` as copied from the caller.
/// Whether `call` is an openat2 whose resolution is scoped to its dirfd.
pub fn scoped_open(call: &FsCall, extra: &[u8]) -> bool {
    matches!(call, FsCall::Open { how: Some(_), .. })
        && open_how(extra)
            .is_ok_and(|(_, _, r)| r & (sv::RESOLVE_BENEATH | sv::RESOLVE_IN_ROOT) != 0)
}

fn open_how(b: &[u8]) -> Result<(u64, u32, u64), Verdict> {
    if b.len() < 24 {
        return Err(done(Outcome::Errno(EINVAL)));
    }
    // Fields the kernel does not know must be zero (E2BIG otherwise, as openat2 does).
    if b[24..].iter().any(|&x| x != 0) {
        return Err(done(Outcome::Errno(E2BIG)));
    }
    let u = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let (flags, mode, resolve) = (u(0), u(8), u(16));
    if mode > 0o7777 || resolve & !0x3f != 0 {
        return Err(done(Outcome::Errno(EINVAL)));
    }
    Ok((flags, mode as u32, resolve))
}

/// The two times of a utime-family call (`None`: now), as (seconds, nanoseconds).
fn parse_times(kind: TimesKind, ptr: u64, b: &[u8]) -> Result<Option<[(i64, i64); 2]>, Verdict> {
    if ptr == 0 {
        return Ok(None);
    }
    let i = |o: usize| {
        b.get(o..o + 8)
            .map(|s| i64::from_le_bytes(s.try_into().expect("8 bytes")))
            .ok_or_else(|| done(Outcome::Errno(EFAULT)))
    };
    Ok(Some(match kind {
        TimesKind::Timespec => [(i(0)?, i(8)?), (i(16)?, i(24)?)],
        TimesKind::Timeval => {
            let us = |v: i64| {
                if (0..1_000_000).contains(&v) {
                    Ok(v * 1000)
                } else {
                    Err(done(Outcome::Errno(EINVAL)))
                }
            };
            [(i(0)?, us(i(8)?)?), (i(16)?, us(i(24)?)?)]
        }
        TimesKind::Utimbuf => [(i(0)?, 0), (i(8)?, 0)],
    }))
}

/// How many bytes of the caller's memory `call` needs besides its paths (read before it is
/// handed on): the open_how, or the times.
pub fn extra_len(call: &FsCall) -> Option<(u64, usize)> {
    match *call {
        FsCall::Open {
            how: Some((p, size)),
            ..
        } => Some((p, size.min(4096) as usize)),
        FsCall::Utimes { times, kind, .. } if times != 0 => Some((
            times,
            match kind {
                TimesKind::Timespec | TimesKind::Timeval => 32,
                TimesKind::Utimbuf => 16,
            },
        )),
        _ => None,
    }
}

/// The path arguments of a call, in order.
pub fn path_args(call: &FsCall) -> Vec<sv::PathArg> {
    match *call {
        FsCall::Open { at, .. }
        | FsCall::Stat { at, .. }
        | FsCall::Access { at, .. }
        | FsCall::Readlink { at, .. }
        | FsCall::Mkdir { at, .. }
        | FsCall::Mknod { at, .. }
        | FsCall::Unlink { at, .. }
        | FsCall::Symlink { at, .. }
        | FsCall::Chmod { at, .. }
        | FsCall::Chown { at, .. }
        | FsCall::Truncate { at, .. }
        | FsCall::Utimes { at, .. }
        | FsCall::Statfs { at, .. } => vec![at],
        FsCall::Rename { from, to, .. } | FsCall::Link { from, to, .. } => vec![from, to],
    }
}

/// Whether the call acts on its dirfd itself (`AT_EMPTY_PATH` with an empty path, or
/// utimensat with a NULL path): then there is no path to walk.
pub fn acts_on_fd(call: &FsCall, first_path: Option<&[u8]>) -> bool {
    match *call {
        FsCall::Utimes { at, kind, .. } => kind == TimesKind::Timespec && at.ptr == 0,
        FsCall::Stat { flags, .. } => {
            flags & sv::AT_EMPTY_PATH != 0 && first_path.is_some_and(|p| p.is_empty())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_ends_as_the_kernel_sees_it() {
        let cases: [(&[u8], Last, bool); 11] = [
            (b"a", Last::Name, false),
            (b"d/a/", Last::Name, true),
            (b"d/a//", Last::Name, true),
            (b".", Last::Dot, false),
            (b"d/./", Last::Dot, true),
            (b"..", Last::DotDot, false),
            (b"d/..", Last::DotDot, false),
            (b"/", Last::Root, true),
            (b"///", Last::Root, true),
            (b"d/...", Last::Name, false),
            (b".a", Last::Name, false),
        ];
        for (path, last, slash) in cases {
            assert_eq!(
                ending(path),
                (last, slash),
                "{}",
                String::from_utf8_lossy(path)
            );
        }
        assert_eq!(without_trailing_slashes(b"d/x//"), b"d/x");
        assert_eq!(without_trailing_slashes(b"//"), b"");
    }

    #[test]
    fn open_how_is_checked_as_the_kernel_does() {
        let mut b = vec![0u8; 24];
        b[0] = 1;
        b[16] = 0x08;
        assert!(matches!(open_how(&b), Ok((1, 0, 0x08))));
        b.extend_from_slice(&[0, 0, 0, 1]);
        assert!(open_how(&b).is_err());
        assert!(open_how(&[0; 8]).is_err());
    }

    #[test]
    fn times_in_three_layouts() {
        let mut b = Vec::new();
        for v in [5i64, 6, 7, 8] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        let t = parse_times(TimesKind::Timespec, 1, &b)
            .ok()
            .flatten()
            .unwrap();
        assert_eq!(t, [(5, 6), (7, 8)]);
        let t = parse_times(TimesKind::Timeval, 1, &b)
            .ok()
            .flatten()
            .unwrap();
        assert_eq!(t, [(5, 6000), (7, 8000)]);
        let t = parse_times(TimesKind::Utimbuf, 1, &b)
            .ok()
            .flatten()
            .unwrap();
        assert_eq!(t, [(5, 0), (6, 0)]);
        assert!(parse_times(TimesKind::Timespec, 0, &[])
            .ok()
            .flatten()
            .is_none());
    }
}
