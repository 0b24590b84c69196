//! Path resolution as the kernel does it for the sandboxed process, done by the supervisor one
//! component at a time, so that every directory and symlink on the way is seen.
//!
//! Each step opens one entry with `O_PATH | O_NOFOLLOW` relative to the directory fd reached
//! so far: the supervisor holds every directory it went through, and nothing the process does
//! meanwhile (renaming, planting a symlink) changes what an fd refers to. Symlinks are read
//! and their text walked in turn (absolute ones from the process's root, at most 40, as the
//! kernel allows); `..` at the process's root stays there. Symlinks of procfs below the top
//! level are "magic" (`/proc/PID/fd/N`, `/proc/PID/root`, `/proc/PID/cwd`, `exe`, `ns/*`):
//! they jump to an object, not to a path, and would carry the supervisor past every check —
//! they are refused with ELOOP, as `RESOLVE_NO_MAGICLINKS` does. `/proc/self` and
//! `/proc/thread-self` mean the CALLER's, not the supervisor's.
//!
//! A scoped walk (`RESOLVE_BENEATH`, `RESOLVE_IN_ROOT`) keeps the directories it came down
//! through; when `..` leads anywhere else, a rename moved a directory out from under the walk
//! meanwhile and `..` could escape the scope, so the walk fails with EAGAIN, as the kernel's
//! own scoped lookup does when a rename races it (fs/namei.c, `handle_dots`).
//!
//! The walk runs with the caller's filesystem identity (the pool takes it on), so the kernel
//! checks search permission on every directory as it would for the caller.

use std::collections::VecDeque;
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use straitjacket_sys::fsops::{self, Meta};

pub const ELOOP: i32 = 40;
pub const ENOENT: i32 = 2;
pub const ENOTDIR: i32 = 20;
pub const EXDEV: i32 = 18;
pub const ENAMETOOLONG: i32 = 36;
pub const EAGAIN: i32 = 11;
const MAX_SYMLINKS: u32 = 40;
/// procfs's root directory inode (PROC_ROOT_INO).
const PROC_ROOT_INO: u64 = 1;

/// Who is asking, for `/proc/self`: the caller's thread group and thread ids as the procfs
/// the walk reaches numbers them (the innermost pid namespace).
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    pub tgid: i32,
    pub tid: i32,
}

/// How to walk: the kernel's `openat2` resolve flags that apply.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mode {
    /// RESOLVE_NO_SYMLINKS.
    pub no_symlinks: bool,
    /// RESOLVE_BENEATH: never above the starting directory (EXDEV).
    pub beneath: bool,
    /// RESOLVE_IN_ROOT: the starting directory is the root.
    pub in_root: bool,
    /// RESOLVE_NO_XDEV: never onto another device (EXDEV).
    pub no_xdev: bool,
}

/// Where a path led: the directory holding its last component, the component, and the entry
/// itself if it exists (opened `O_PATH`, never followed when it is the last component and the
/// call does not follow).
#[derive(Debug)]
pub struct Found {
    /// The directories from the caller's root down to `dir`, when the walk started at the
    /// root (an absolute path, or an absolute symlink): their identities, and whether each
    /// was entered as another process's `/proc/PID`. `None`: the walk started elsewhere
    /// (a relative path), and what lies above is found by going up.
    pub chain: Option<Vec<(fsops::FileId, bool)>>,
    pub dir: OwnedFd,
    /// `None` when the path ends at a directory with no name of its own (`/`, `.`, `a/..`):
    /// then `entry` is that directory.
    pub name: Option<CString>,
    pub entry: Option<(OwnedFd, Meta)>,
}

impl Found {
    /// The fd and name to act on an existing entry at: `(dir, name)`, or `(entry, "")` with
    /// `AT_EMPTY_PATH` when there is no name.
    pub fn at(&self) -> Option<(BorrowedFd<'_>, &CStr, bool)> {
        match (&self.name, &self.entry) {
            (Some(n), _) => Some((self.dir.as_fd(), n.as_c_str(), false)),
            (None, Some((e, _))) => Some((e.as_fd(), c"", true)),
            (None, None) => None,
        }
    }
}

/// A failed walk: the errno, and the last directory reached (whether the caller may learn
/// the errno depends on where the walk stopped).
#[derive(Debug)]
pub struct Failed {
    pub errno: i32,
    pub reached: Option<OwnedFd>,
    /// The walk met a magic link: refused by the supervisor (the kernel would have followed
    /// it), so the log says `denied`.
    pub magic: bool,
}

fn fail(errno: i32, reached: Option<OwnedFd>) -> Failed {
    Failed {
        errno,
        reached,
        magic: false,
    }
}

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc_eio())
}

const fn libc_eio() -> i32 {
    5
}

/// `AT_EMPTY_PATH`.
const fn libc_at_empty_path() -> i32 {
    0x1000
}

/// The directory the walk is in: one of the caller's (borrowed, not duplicated for every
/// call) or one the walk opened.
enum Dir<'a> {
    Borrowed(BorrowedFd<'a>),
    Owned(OwnedFd),
}

impl AsFd for Dir<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Dir::Borrowed(b) => *b,
            Dir::Owned(o) => o.as_fd(),
        }
    }
}

impl Dir<'_> {
    fn owned(self) -> Result<OwnedFd, Failed> {
        match self {
            Dir::Owned(o) => Ok(o),
            Dir::Borrowed(b) => b.try_clone_to_owned().map_err(|e| fail(errno_of(&e), None)),
        }
    }
    fn reached(self) -> Option<OwnedFd> {
        self.owned().ok()
    }
}

/// Resolves `path` from `base` (already the root for absolute paths), with `root` as the
/// caller's root. `follow_last`: follow a symlink in the last component.
pub fn resolve(
    root: &OwnedFd,
    base: BorrowedFd<'_>,
    path: &[u8],
    follow_last: bool,
    mode: Mode,
    caller: Caller,
) -> Result<Found, Failed> {
    if path.len() >= 4096 {
        return Err(fail(ENAMETOOLONG, None));
    }
    let meta = |fd: BorrowedFd<'_>| fsops::meta(fd).map_err(|e| fail(errno_of(&e), None));
    let root_meta = meta(root.as_fd())?;
    // An absolute path starts at the root itself (the same fd): one stat for both.
    let base_meta = if base.as_raw_fd() == root.as_raw_fd() {
        root_meta
    } else {
        meta(base)?
    };
    let scoped = mode.in_root || mode.beneath;
    let top_id = if scoped { base_meta.id } else { root_meta.id };
    let (top, top_meta) = if mode.in_root {
        (base, base_meta)
    } else {
        (root.as_fd(), root_meta)
    };
    // Whether a device is a procfs, asked once per device.
    let mut procfs: Vec<(u64, bool)> = Vec::new();
    let mut is_procfs = |fd: BorrowedFd<'_>, dev: u64| {
        if let Some(&(_, p)) = procfs.iter().find(|(d, _)| *d == dev) {
            return p;
        }
        let p = fsops::on_procfs(fd);
        procfs.push((dev, p));
        p
    };

    // RESOLVE_NO_XDEV compares mounts, not devices (a bind mount is another mount of the
    // same device); asked only in that mode.
    let crosses = |a: BorrowedFd<'_>, b: BorrowedFd<'_>| -> Result<bool, Failed> {
        let mnt = |fd| fsops::mount_id(fd).map_err(|e| fail(errno_of(&e), None));
        Ok(mode.no_xdev && mnt(a)? != mnt(b)?)
    };
    // Whether the kernel would know the root by now. Under RESOLVE_NO_XDEV it refuses an
    // absolute symlink (EXDEV) unless it does — as it does from the start for an absolute
    // path or a scoped walk, and after any `..` — and the symlink is on the root's mount
    // (fs/namei.c, nd_jump_root).
    let mut root_known = path.first() == Some(&b'/') || scoped;

    // In a scoped walk, the directories entered on the way down from the top, each below
    // the one before: where `..` must lead.
    let mut came_from: Vec<fsops::FileId> = Vec::new();
    let mut parts: VecDeque<Vec<u8>> = VecDeque::new();
    let from_root = |m: Meta| (!mode.in_root).then(|| vec![(m.id, false)]);
    let mut chain = None;
    let (mut cur, mut cur_meta) = if path.first() == Some(&b'/') {
        if mode.beneath {
            // Out of bounds by its spelling: the walk stopped where it began.
            return Err(fail(EXDEV, base.try_clone_to_owned().ok()));
        }
        chain = from_root(top_meta);
        (Dir::Borrowed(top), top_meta)
    } else {
        (Dir::Borrowed(base), base_meta)
    };
    push_front(&mut parts, path);
    // A trailing slash (or `/.`) asks for a directory and follows the last symlink.
    let must_be_dir = path.ends_with(b"/") || path.ends_with(b"/.") || path == b".";
    let follow_last = follow_last || must_be_dir;
    let mut links = 0u32;

    // The kernel checks search permission on a directory before every name looked up in it
    // (fs/namei.c, may_lookup) — `.` and `..` at the top included, which the walk takes
    // without a call of its own that would check it.
    let searchable = |dir: BorrowedFd<'_>| fsops::access_at(dir, c"", 1, libc_at_empty_path());
    while let Some(part) = parts.pop_front() {
        let last = parts.is_empty();
        if part == b"." {
            if let Err(e) = searchable(cur.as_fd()) {
                return Err(fail(errno_of(&e), cur.reached()));
            }
            continue;
        }
        if part == b".." {
            root_known = true;
            if cur_meta.id == top_id {
                if let Err(e) = searchable(cur.as_fd()) {
                    return Err(fail(errno_of(&e), cur.reached()));
                }
                if mode.beneath {
                    return Err(fail(EXDEV, cur.reached()));
                }
            } else {
                let up =
                    fsops::open_entry(cur.as_fd(), c"..").map_err(|e| fail(errno_of(&e), None))?;
                let up_meta = meta(up.as_fd())?;
                if crosses(up.as_fd(), cur.as_fd())? {
                    return Err(fail(EXDEV, cur.reached()));
                }
                if scoped && came_from.pop().is_some_and(|above| above != up_meta.id) {
                    return Err(fail(EAGAIN, cur.reached()));
                }
                (cur, cur_meta) = (Dir::Owned(up), up_meta);
                if let Some(c) = &mut chain {
                    if c.len() > 1 {
                        c.pop();
                    }
                    // The chain is the way down by name. A rename meanwhile (by the program,
                    // while a worker walks) can put a directory on it elsewhere, and `..`
                    // then leads off the chain — out of the tree whose rules the chain
                    // would grant. From here where the walk stands is found by climbing its
                    // real parents instead (`chain: None`).
                    if c.last().map(|&(id, _)| id) != Some(up_meta.id) {
                        chain = None;
                    }
                }
            }
            continue;
        }
        let name = CString::new(part.clone()).map_err(|_| fail(ENOENT, None))?;
        let in_proc = is_procfs(cur.as_fd(), cur_meta.id.dev);
        let at_proc_root = in_proc && cur_meta.id.ino == PROC_ROOT_INO;
        // `/proc/self` and `/proc/thread-self` are the caller's.
        if at_proc_root {
            let own = match part.as_slice() {
                b"self" => Some(caller.tgid.to_string()),
                b"thread-self" => Some(format!("{}/task/{}", caller.tgid, caller.tid)),
                _ => None,
            };
            if let Some(own) = own {
                push_front(&mut parts, own.as_bytes());
                continue;
            }
        }
        let foreign = at_proc_root
            && part.iter().all(u8::is_ascii_digit)
            && part != caller.tgid.to_string().as_bytes();
        let entry = match fsops::open_entry(cur.as_fd(), &name) {
            Ok(e) => e,
            Err(e) if errno_of(&e) == ENOENT && last => {
                return Ok(Found {
                    chain,
                    dir: cur.owned()?,
                    name: Some(name),
                    entry: None,
                })
            }
            Err(e) => return Err(fail(errno_of(&e), cur.reached())),
        };
        let entry_meta = meta(entry.as_fd())?;
        if crosses(cur.as_fd(), entry.as_fd())? {
            return Err(fail(EXDEV, cur.reached()));
        }
        if entry_meta.is_symlink() && (!last || follow_last) {
            if mode.no_symlinks {
                return Err(fail(ELOOP, cur.reached()));
            }
            // A magic link (see the module docs) is refused, as RESOLVE_NO_MAGICLINKS does.
            if in_proc && !at_proc_root {
                return Err(Failed {
                    magic: true,
                    ..fail(ELOOP, cur.reached())
                });
            }
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(fail(ELOOP, cur.reached()));
            }
            // The text of the link just inspected, through its own fd: by name it could be
            // another entry by now.
            let text =
                fsops::readlink_at(entry.as_fd(), c"").map_err(|e| fail(errno_of(&e), None))?;
            if text.is_empty() {
                return Err(fail(ENOENT, cur.reached()));
            }
            if text.first() == Some(&b'/') {
                if mode.beneath || (mode.no_xdev && !root_known) || crosses(cur.as_fd(), top)? {
                    return Err(fail(EXDEV, cur.reached()));
                }
                (cur, cur_meta) = (Dir::Borrowed(top), top_meta);
                chain = from_root(top_meta);
                came_from.clear();
            }
            push_front(&mut parts, &text);
            continue;
        }
        if last {
            if must_be_dir && !entry_meta.is_dir() {
                return Err(fail(ENOTDIR, cur.reached()));
            }
            if let Some(c) = &mut chain {
                // The last entry is not part of the chain of its directory, but whether it
                // is another process's /proc/PID matters: a flag on its directory's link.
                if foreign {
                    if let Some(l) = c.last_mut() {
                        l.1 = true;
                    }
                }
            }
            return Ok(Found {
                chain,
                dir: cur.owned()?,
                name: Some(name),
                entry: Some((entry, entry_meta)),
            });
        }
        if !entry_meta.is_dir() {
            return Err(fail(ENOTDIR, cur.reached()));
        }
        if let Some(c) = &mut chain {
            c.push((entry_meta.id, foreign));
        }
        if scoped {
            came_from.push(cur_meta.id);
        }
        (cur, cur_meta) = (Dir::Owned(entry), entry_meta);
    }
    // The path ended at a directory with no name of its own: it is its own "directory".
    let entry = cur.owned()?;
    let dir = entry.try_clone().map_err(|e| fail(errno_of(&e), None))?;
    Ok(Found {
        chain,
        dir,
        name: None,
        entry: Some((entry, cur_meta)),
    })
}

/// Puts the components of `path` in front of `parts` (an empty path adds nothing).
fn push_front(parts: &mut VecDeque<Vec<u8>>, path: &[u8]) {
    let comps: Vec<&[u8]> = path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .collect();
    for c in comps.into_iter().rev() {
        parts.push_front(c.to_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn open(p: &Path) -> OwnedFd {
        let c = CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        fsops::open_dir_path(&c).unwrap()
    }

    fn tree() -> PathBuf {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let d = std::env::temp_dir().join(format!("sj-walk-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        std::fs::write(d.join("a/b/f"), "x").unwrap();
        std::os::unix::fs::symlink("b/f", d.join("a/rel")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", d.join("a/abs")).unwrap();
        std::os::unix::fs::symlink("loop", d.join("a/loop")).unwrap();
        d
    }

    fn me() -> Caller {
        let p = std::process::id() as i32;
        Caller { tgid: p, tid: p }
    }

    fn id_of(p: &Path) -> (u64, u64) {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(p).unwrap();
        (m.dev(), m.ino())
    }

    fn found_id(f: &Found) -> (u64, u64) {
        let m = f.entry.as_ref().unwrap().1;
        (m.id.dev, m.id.ino)
    }

    #[test]
    fn resolves_like_the_kernel() {
        let d = tree();
        let root = open(Path::new("/"));
        let base = || open(&d);
        let m = Mode::default();
        let f = resolve(&root, base().as_fd(), b"a/b/../b/./f", true, m, me()).unwrap();
        assert_eq!(found_id(&f), id_of(&d.join("a/b/f")));
        let f = resolve(&root, base().as_fd(), b"a/rel", true, m, me()).unwrap();
        assert_eq!(found_id(&f), id_of(&d.join("a/b/f")));
        let f = resolve(&root, base().as_fd(), b"a/rel", false, m, me()).unwrap();
        assert!(f.entry.as_ref().unwrap().1.is_symlink());
        let f = resolve(&root, base().as_fd(), b"a/abs", true, m, me()).unwrap();
        assert_eq!(found_id(&f), id_of(Path::new("/etc/hostname")));
        let f = resolve(&root, base().as_fd(), b"a/missing", true, m, me()).unwrap();
        assert!(f.entry.is_none());
        assert_eq!(f.name.as_deref(), Some(c"missing"));
        let e = resolve(&root, base().as_fd(), b"a/missing/x", true, m, me()).unwrap_err();
        assert_eq!(e.errno, ENOENT);
        let e = resolve(&root, base().as_fd(), b"a/loop", true, m, me()).unwrap_err();
        assert_eq!(e.errno, ELOOP);
        let e = resolve(&root, base().as_fd(), b"a/b/f/", true, m, me()).unwrap_err();
        assert_eq!(e.errno, ENOTDIR);
        // `..` at the root stays at the root.
        let f = resolve(&root, base().as_fd(), b"/../../etc/hostname", true, m, me()).unwrap();
        assert_eq!(found_id(&f), id_of(Path::new("/etc/hostname")));
        let f = resolve(&root, base().as_fd(), b"/", true, m, me()).unwrap();
        assert!(f.name.is_none());
        assert_eq!(found_id(&f), id_of(Path::new("/")));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn beneath_and_no_symlinks_refuse_what_leaves() {
        let d = tree();
        let root = open(Path::new("/"));
        let base = || open(&d.join("a"));
        let beneath = Mode {
            beneath: true,
            ..Mode::default()
        };
        assert_eq!(
            resolve(&root, base().as_fd(), b"../a/b/f", true, beneath, me())
                .unwrap_err()
                .errno,
            EXDEV
        );
        assert_eq!(
            resolve(&root, base().as_fd(), b"abs", true, beneath, me())
                .unwrap_err()
                .errno,
            EXDEV
        );
        assert!(resolve(&root, base().as_fd(), b"rel", true, beneath, me()).is_ok());
        let nosym = Mode {
            no_symlinks: true,
            ..Mode::default()
        };
        assert_eq!(
            resolve(&root, base().as_fd(), b"rel", true, nosym, me())
                .unwrap_err()
                .errno,
            ELOOP
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn proc_self_is_the_caller_and_magic_links_are_refused() {
        let root = open(Path::new("/"));
        let base = || open(Path::new("/"));
        let m = Mode::default();
        let f = resolve(&root, base().as_fd(), b"/proc/self/status", true, m, me()).unwrap();
        assert!(f.entry.is_some());
        let f = resolve(&root, base().as_fd(), b"/proc/self", true, m, me()).unwrap();
        assert_eq!(
            found_id(&f),
            id_of(Path::new(&format!("/proc/{}", std::process::id())))
        );
        for magic in [
            "/proc/self/root/etc/hostname",
            "/proc/self/cwd",
            "/proc/self/fd/0",
        ] {
            let e = resolve(&root, base().as_fd(), magic.as_bytes(), true, m, me()).unwrap_err();
            assert_eq!((e.errno, e.magic), (ELOOP, true), "{magic}");
        }
        // Not following the last one: the link itself (readlink works on it).
        assert!(resolve(&root, base().as_fd(), b"/proc/self/exe", false, m, me()).is_ok());
        // An ordinary procfs symlink at the top level is followed.
        assert!(resolve(&root, base().as_fd(), b"/proc/mounts", true, m, me()).is_ok());
    }

    /// The kernel is the oracle: random paths through a tree of directories, files and
    /// symlinks (relative, absolute, with `..`, looping, dangling) resolve to the same file —
    /// or fail with the same errno — as the kernel's own `openat(O_PATH)`.
    #[test]
    fn agrees_with_the_kernel_on_random_paths() {
        use std::os::unix::fs::symlink;
        let d = tree();
        std::fs::create_dir_all(d.join("c/d")).unwrap();
        std::fs::write(d.join("c/d/g"), "g").unwrap();
        symlink("../c", d.join("a/up")).unwrap();
        symlink(d.join("c/d"), d.join("a/b/abs")).unwrap();
        symlink("nowhere", d.join("c/dangling")).unwrap();
        symlink("../../a/b/f", d.join("c/d/back")).unwrap();
        symlink(".", d.join("c/self")).unwrap();
        symlink("f/", d.join("a/b/slash")).unwrap();
        // In every directory: a subdirectory, a file and links, so that most paths exist.
        for dir in ["", "a", "a/b", "c", "c/d"] {
            let p = d.join(dir);
            std::fs::create_dir_all(p.join("x")).unwrap();
            std::fs::write(p.join("x/f"), "f").unwrap();
            let _ = std::fs::write(p.join("f"), "f");
            symlink("..", p.join("u")).unwrap();
            symlink("x/../f", p.join("l")).unwrap();
            symlink(d.join("a"), p.join("s")).unwrap();
        }
        let names = [
            "a", "b", "c", "d", "f", "g", "x", "u", "l", "s", "up", "abs", "dangling", "back",
            "self", "loop", "rel", "slash", ".", "..", "",
        ];
        let root = open(Path::new("/"));
        let mut kinds = std::collections::BTreeMap::new();
        let mut by_mode = std::collections::BTreeMap::new();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let n = 1 + next() % 7;
            let mut path = String::new();
            if next() % 4 == 0 {
                path.push_str(d.to_str().unwrap());
                path.push('/');
            }
            for i in 0..n {
                if i > 0 {
                    path.push('/');
                }
                // Mostly names that exist in every directory, so that walks go deep.
                let common = ["x", "u", "l", "s", "f", ".", ".."];
                let pick = if next() % 4 == 0 {
                    names[(next() % names.len() as u64) as usize]
                } else {
                    common[(next() % common.len() as u64) as usize]
                };
                path.push_str(pick);
            }
            if path.is_empty() {
                continue;
            }
            let c = CString::new(path.clone()).unwrap();
            let base = open(&d);
            let kernel = fsops::open_at(base.as_fd(), &c, 0o10000000 | 0o2000000, 0)
                .and_then(|fd| fsops::meta(fd.as_fd()))
                .map(|m| m.id)
                .map_err(|e| e.raw_os_error().unwrap());
            assert_eq!(walked(&root, &d, &path, Mode::default()), kernel, "{path}");
            // The openat2 modes, against the kernel's own openat2 (which, like the walk,
            // never follows a magic link).
            let plain = walked(&root, &d, &path, Mode::default());
            for (mode, resolve) in resolve_modes() {
                let kernel = kernel_openat2(base.as_fd(), &c, resolve | 2);
                assert_eq!(walked(&root, &d, &path, mode), kernel, "{path} {mode:?}");
                let e = by_mode.entry(resolve).or_insert((0, 0));
                e.0 += usize::from(kernel.is_ok());
                e.1 += usize::from(kernel != plain);
            }
            *kinds.entry(kernel.err()).or_insert(0) += 1;
        }
        // Not vacuous: many paths resolve, many fail in more than one way.
        assert!(kinds[&None] >= 300, "{kinds:?}");
        assert!(
            kinds[&Some(ENOTDIR)] >= 100 && kinds.len() >= 4,
            "{kinds:?}"
        );
        // Each mode both resolves paths and decides others unlike the plain walk.
        for (_, resolve) in resolve_modes() {
            let (resolved, changed) = by_mode[&resolve];
            assert!(
                resolved >= 100 && changed >= 100,
                "{resolve:#x}: {by_mode:?}"
            );
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// A directory renamed out of the scope while a scoped walk is inside it cannot carry the
    /// walk's `..` out with it: the walk fails with EAGAIN (as the kernel's does), and never
    /// reaches the directory the rename moved it to. The rename races the walk from another
    /// thread, many times over; the race must have been seen both ways.
    #[test]
    fn a_rename_race_never_carries_a_scoped_walk_out() {
        let d = tree();
        let (inside, outside) = (d.join("in"), d.join("out"));
        std::fs::create_dir_all(inside.join("m/n")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let root = open(Path::new("/"));
        let id = |p: &Path| fsops::meta(open(p).as_fd()).unwrap().id;
        let (top, away) = (id(&inside), id(&outside));
        let stop = std::sync::atomic::AtomicBool::new(false);
        let scoped: Vec<Mode> = resolve_modes()
            .into_iter()
            .map(|(m, _)| m)
            .filter(|m| m.beneath || m.in_root)
            .collect();
        // Per mode: walks that ended inside, and walks the race caught.
        let mut seen = vec![(0u32, 0u32); scoped.len()];
        let mut wrong = None;
        std::thread::scope(|s| {
            s.spawn(|| {
                let (here, there) = (inside.join("m"), outside.join("m"));
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::fs::rename(&here, &there).unwrap();
                    std::fs::rename(&there, &here).unwrap();
                }
            });
            // Checked only after the racer stops, so that a failure ends the test. Each mode
            // walks until it has seen both outcomes (a loaded machine races less often).
            'modes: for (mode, seen) in scoped.iter().zip(&mut seen) {
                for _ in 0..500_000 {
                    match walked(&root, &inside, "m/n/../..", *mode) {
                        Ok(id) if id == top => seen.0 += 1,
                        Err(EAGAIN) => seen.1 += 1,
                        Err(ENOENT) => {}
                        got => {
                            wrong = Some((*mode, got));
                            break 'modes;
                        }
                    }
                    if seen.0 >= 1000 && seen.1 >= 10 {
                        break;
                    }
                }
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        if let Some((mode, got)) = wrong {
            let left = got == Ok(away);
            panic!("{mode:?}: {got:?} (out of the scope: {left})");
        }
        // Not vacuous: in every mode, walks both ended inside and were caught by the race.
        assert!(
            seen.iter().all(|&(ok, caught)| ok > 0 && caught > 0),
            "{seen:?}"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// The chain a walk from the root returns names the directory the walk really ended in,
    /// even when a rename moved a directory on the way up from under it (a rule's grant is
    /// judged by the chain: a chain that said "still inside" would grant what is outside).
    #[test]
    fn a_rename_race_never_leaves_a_chain_that_is_not_the_way_taken() {
        let d = tree();
        std::fs::create_dir_all(d.join("w/a/b/c/d")).unwrap();
        let root = open(Path::new("/"));
        let (deep, high) = (d.join("w/a/b/c/d"), d.join("w/d"));
        let path = format!("{}/w/a/b/c/d/../../x", d.display());
        let stop = std::sync::atomic::AtomicBool::new(false);
        let (mut kept, mut dropped, mut wrong) = (0u32, 0u32, None);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = std::fs::rename(&deep, &high);
                    let _ = std::fs::rename(&high, &deep);
                }
            });
            for _ in 0..500_000 {
                let Ok(f) = resolve(
                    &root,
                    root.as_fd(),
                    path.as_bytes(),
                    true,
                    Mode::default(),
                    me(),
                ) else {
                    continue;
                };
                let real = fsops::meta(f.dir.as_fd()).unwrap().id;
                match f.chain {
                    Some(c) if c.last().map(|l| l.0) == Some(real) => kept += 1,
                    Some(c) => {
                        wrong = Some((c, real));
                        break;
                    }
                    None => dropped += 1,
                }
                if kept >= 1000 && dropped >= 10 {
                    break;
                }
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        assert!(wrong.is_none(), "a chain ending elsewhere than {wrong:?}");
        // Not vacuous: the race was both lost and won.
        assert!(kept > 0 && dropped > 0, "kept {kept}, dropped {dropped}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// A symlink swapped for a file while the walk is at it: the walk follows the link it
    /// looked at or reaches the file — never reads the text of what is there by then (by
    /// name, a file there answered EINVAL, which no lookup of the kernel's gives).
    #[test]
    fn a_symlink_swapped_mid_walk_is_followed_as_it_was_seen() {
        let d = tree();
        std::fs::write(d.join("target"), "t").unwrap();
        std::os::unix::fs::symlink("target", d.join("l")).unwrap();
        std::fs::write(d.join("other"), "o").unwrap();
        let root = open(Path::new("/"));
        let dir = open(&d);
        let id = |p: &str| {
            let (dev, ino) = id_of(&d.join(p));
            fsops::FileId { dev, ino }
        };
        let (target, other) = (id("target"), id("other"));
        let stop = std::sync::atomic::AtomicBool::new(false);
        let (mut seen, mut wrong) = ([0u32; 2], None);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    // RENAME_EXCHANGE: `l` is the link and the file by turns.
                    let _ = fsops::rename_at(dir.as_fd(), c"l", dir.as_fd(), c"other", 2);
                }
            });
            for _ in 0..200_000 {
                match walked(&root, &d, "l", Mode::default()) {
                    Ok(got) if got == target => seen[0] += 1,
                    Ok(got) if got == other => seen[1] += 1,
                    got => {
                        wrong = Some(got);
                        break;
                    }
                }
                if seen.iter().all(|&n| n >= 1000) {
                    break;
                }
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(wrong, None);
        assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// RESOLVE_NO_XDEV refuses a bind mount of the same file system (same device, another
    /// mount), going in and coming out, as the kernel does. In a child, in mount and user
    /// namespaces of its own (no privilege needed).
    #[test]
    fn no_xdev_refuses_a_bind_mount_of_the_same_device() {
        straitjacket_testkit::alone(|| {
            let d = tree();
            std::fs::create_dir_all(d.join("c/d")).unwrap();
            std::fs::write(d.join("c/d/g"), "g").unwrap();
            std::fs::create_dir_all(d.join("a/m")).unwrap();
            let (src, dst) = (
                CString::new(d.join("c").as_os_str().as_encoded_bytes()).unwrap(),
                CString::new(d.join("a/m").as_os_str().as_encoded_bytes()).unwrap(),
            );
            let cases: [(&str, Result<(), i32>); 4] = [
                ("a/m/d/g", Err(EXDEV)),
                ("a/m/d/../..", Err(EXDEV)),
                ("a/b/f", Ok(())),
                ("a/m", Err(EXDEV)), // a mount point, even as the last component
            ];
            let out = straitjacket_sys::process::in_child(|| {
                use straitjacket_sys::testing::{bind_mount, private_mounts};
                if private_mounts().is_err() {
                    return 100;
                }
                if bind_mount(&src, &dst).is_err() {
                    return 101;
                }
                let root = open(Path::new("/"));
                let no_xdev = Mode {
                    no_xdev: true,
                    ..Mode::default()
                };
                for (i, (path, want)) in cases.iter().enumerate() {
                    let ours = walked(&root, &d, path, no_xdev).map(|_| ());
                    let c = CString::new(*path).unwrap();
                    let kernel = fsops::openat2(open(&d).as_fd(), &c, 0o10000000 | 0o2000000, 1)
                        .map(|_| ())
                        .map_err(|e| e.raw_os_error().unwrap());
                    // Without the flag the same paths resolve (the mount is really crossed).
                    let plain = walked(&root, &d, path, Mode::default());
                    if ours != *want || kernel != *want || plain.is_err() {
                        return 1 + i as i32;
                    }
                }
                0
            })
            .unwrap();
            assert_eq!(out, straitjacket_sys::process::ChildOutcome::Exited(0));
            std::fs::remove_dir_all(&d).unwrap();
        });
    }

    /// The kernel's own `openat2(O_PATH | O_CLOEXEC)` of `path`, as the file it reaches.
    /// A scoped lookup (`RESOLVE_BENEATH`, `RESOLVE_IN_ROOT`) that passes `..` fails with
    /// EAGAIN when any rename or mount anywhere on the machine races it — other tests run
    /// alongside — and openat2(2) tells the caller to retry; so it is retried here.
    fn kernel_openat2(base: BorrowedFd, path: &CStr, resolve: u64) -> Result<fsops::FileId, i32> {
        let once = || {
            fsops::openat2(base, path, 0o10000000 | 0o2000000, resolve)
                .and_then(|fd| fsops::meta(fd.as_fd()))
                .map(|m| m.id)
                .map_err(|e| e.raw_os_error().unwrap())
        };
        let mut got = once();
        for _ in 0..1000 {
            if got != Err(EAGAIN) {
                break;
            }
            got = once();
        }
        got
    }

    /// The walk's modes and the `RESOLVE_*` flags they stand for.
    fn resolve_modes() -> Vec<(Mode, u64)> {
        let m = Mode::default();
        vec![
            (Mode { beneath: true, ..m }, 0x08),
            (Mode { in_root: true, ..m }, 0x10),
            (
                Mode {
                    no_symlinks: true,
                    ..m
                },
                0x04,
            ),
            (Mode { no_xdev: true, ..m }, 0x01),
            (
                Mode {
                    in_root: true,
                    no_symlinks: true,
                    ..m
                },
                0x14,
            ),
        ]
    }

    /// What the walk makes of `path` from `dir`: the identity it reaches, or the errno.
    fn walked(root: &OwnedFd, dir: &Path, path: &str, mode: Mode) -> Result<fsops::FileId, i32> {
        match resolve(root, open(dir).as_fd(), path.as_bytes(), true, mode, me()) {
            Ok(Found {
                entry: Some((_, m)),
                ..
            }) => Ok(m.id),
            Ok(Found { entry: None, .. }) => Err(ENOENT),
            Err(f) => Err(f.errno),
        }
    }
}
