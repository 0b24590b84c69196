//! The paths a learned program used, to `fs` rules.
//!
//! In: the paths each call named with the access it asked for ([`Access`]), made absolute
//! by the supervisor. [`settle`] asks an oracle (the OS side: `realpath` and `stat` after the
//! run) what each one is: a path that does not exist was only probed (the open failed, and
//! Landlock would not have been asked) and is dropped; a created or removed entry needs
//! write access to its directory. [`rules`] then leaves out what `run` adds by itself (the
//! system paths), collapses reads to a directory where [`COLLAPSE_AT`] or more entries of
//! one directory were read (never to `/` or a top-level directory such as `/etc` or
//! `/home`), and drops what a broader rule already covers (write also grants read). Exec
//! rules stay file by file: executing is never widened to a directory.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::FsAccess;

/// So many entries read in one directory and the rule becomes the directory.
pub const COLLAPSE_AT: usize = 4;
/// A collapsed directory has at least this many components (`/usr/share`, not `/usr`).
pub const MIN_DEPTH: usize = 2;

/// What a call asked of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    Read,
    Write,
    ReadWrite,
    /// Creates, removes or renames the entry: write access to its directory.
    Create,
    Exec,
}

/// How a settled path was used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathUse {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
    /// A directory (a rule on it grants everything beneath).
    pub dir: bool,
    pub count: u64,
}

impl PathUse {
    pub fn merge(&mut self, o: &PathUse) {
        self.read |= o.read;
        self.write |= o.write;
        self.exec |= o.exec;
        self.dir |= o.dir;
        self.count += o.count;
    }

    /// `rw-d`, as the block and the summary show it.
    pub fn flags(&self) -> String {
        [
            (self.read, 'r'),
            (self.write, 'w'),
            (self.exec, 'x'),
            (self.dir, 'd'),
        ]
        .iter()
        .map(|&(on, c)| if on { c } else { '-' })
        .collect()
    }

    pub fn from_flags(s: &str) -> Option<PathUse> {
        let b = s.as_bytes();
        if b.len() != 4 {
            return None;
        }
        let on = |i: usize, c: u8| match b[i] {
            x if x == c => Some(true),
            b'-' => Some(false),
            _ => None,
        };
        Some(PathUse {
            read: on(0, b'r')?,
            write: on(1, b'w')?,
            exec: on(2, b'x')?,
            dir: on(3, b'd')?,
            count: 0,
        })
    }
}

/// What a path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    /// A device, pipe or socket: never created by the program in a way a rule must allow.
    Special,
}

/// What the oracle says of a path: its canonical form and kind; `None` if it does not exist.
pub type Stat<'a> = dyn Fn(&str) -> Option<(String, Kind)> + 'a;

/// The directory part of `p` (`/` for `/x`; `.`-free joins are the caller's).
fn parent(p: &str) -> &str {
    let p = p.trim_end_matches('/');
    match p.rfind('/') {
        Some(0) => "/",
        Some(i) => &p[..i],
        None => ".",
    }
}

/// Raw observations (absolute path, access, count) to settled paths.
pub fn settle(raw: &BTreeMap<(String, Access), u64>, stat: &Stat<'_>) -> BTreeMap<String, PathUse> {
    let mut out: BTreeMap<String, PathUse> = BTreeMap::new();
    for ((path, access), &n) in raw {
        // `> /dev/null` opens with O_CREAT: writing the device, not creating in /dev.
        let special =
            *access == Access::Create && stat(path).is_some_and(|(_, k)| k == Kind::Special);
        let target = if *access == Access::Create && !special {
            parent(path)
        } else {
            path
        };
        let Some((canon, kind)) = stat(target) else {
            continue;
        };
        let u = out.entry(canon).or_default();
        u.dir |= kind == Kind::Dir;
        u.count += n;
        match access {
            Access::Read => u.read = true,
            Access::Write | Access::Create => u.write = true,
            Access::ReadWrite => {
                u.read = true;
                u.write = true;
            }
            Access::Exec => u.exec = true,
        }
    }
    out
}

fn beneath(p: &str, dir: &str) -> bool {
    p == dir || dir == "/" || p.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

fn depth(p: &str) -> usize {
    p.split('/').filter(|c| !c.is_empty()).count()
}

/// What [`rules`] left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Notes {
    /// Paths covered by the system paths.
    pub skipped: usize,
}

/// Keeps the entries no other entry covers (an entry covers itself and, if a directory,
/// everything beneath).
fn minimal(entries: BTreeMap<String, bool>) -> BTreeMap<String, bool> {
    let dirs: Vec<String> = entries
        .iter()
        .filter(|(_, d)| **d)
        .map(|(p, _)| p.clone())
        .collect();
    entries
        .into_iter()
        .filter(|(p, _)| !dirs.iter().any(|d| d != p && beneath(p, d)))
        .collect()
}

/// Collapses entries to their directory where [`COLLAPSE_AT`] or more share one.
fn collapse(mut entries: BTreeMap<String, bool>) -> BTreeMap<String, bool> {
    loop {
        entries = minimal(entries);
        let mut children: BTreeMap<&str, usize> = BTreeMap::new();
        for p in entries.keys() {
            *children.entry(parent(p)).or_default() += 1;
        }
        let up: Vec<String> = children
            .into_iter()
            .filter(|&(d, n)| n >= COLLAPSE_AT && depth(d) >= MIN_DEPTH)
            .map(|(d, _)| d.to_string())
            .collect();
        if up.is_empty() {
            return entries;
        }
        for d in up {
            entries.insert(d, true);
        }
    }
}

/// The `fs` rules for `paths`, minus what `system` (the rules `run` adds) covers.
pub fn rules(
    paths: &BTreeMap<String, PathUse>,
    system: &[(FsAccess, String)],
) -> (Vec<(FsAccess, String)>, Notes) {
    let covered = |p: &str, a: FsAccess| {
        system.iter().any(|(sa, sp)| {
            (*sa == a || (*sa == FsAccess::Write && a == FsAccess::Read)) && beneath(p, sp)
        })
    };
    let mut notes = Notes::default();
    let mut reads = BTreeMap::new();
    let mut writes = BTreeMap::new();
    let mut execs = BTreeSet::new();
    for (p, u) in paths {
        let mut all_covered = true;
        for (on, a) in [
            (u.read, FsAccess::Read),
            (u.write, FsAccess::Write),
            (u.exec, FsAccess::Exec),
        ] {
            if !on {
                continue;
            }
            if covered(p, a) {
                continue;
            }
            all_covered = false;
            match a {
                FsAccess::Read => reads.insert(p.clone(), u.dir),
                FsAccess::Write => writes.insert(p.clone(), u.dir),
                FsAccess::Exec => execs.insert(p.clone()).then_some(false),
            };
        }
        notes.skipped += usize::from(all_covered);
    }
    let writes = minimal(writes);
    let reads: BTreeMap<String, bool> = collapse(reads)
        .into_iter()
        .filter(|(p, _)| !writes.iter().any(|(w, d)| w == p || (*d && beneath(p, w))))
        .collect();
    let mut out: Vec<(FsAccess, String)> = Vec::new();
    out.extend(reads.into_keys().map(|p| (FsAccess::Read, p)));
    out.extend(writes.into_keys().map(|p| (FsAccess::Write, p)));
    out.extend(execs.into_iter().map(|p| (FsAccess::Exec, p)));
    (out, notes)
}
