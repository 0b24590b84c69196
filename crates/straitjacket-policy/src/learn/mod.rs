//! `straitjacket learn`, the pure part: observed system calls to a policy.
//!
//! In: each call the supervisor saw (ABI, number, six registers, and a [`Memory`] that reads
//! the caller's strings and structs while it is blocked), turned by [`observe`] into an
//! [`Observation`] (the call's name, the argument values worth pinning, the paths it names),
//! accumulated in a [`Learned`]. Out: policy text ([`render`]) with a machine-readable block
//! at its end ([`Learned::to_block`] / [`Learned::from_text`]) so that `--append` merges a new
//! run into an earlier one exactly ([`Learned::merge`]: the union of calls, values and paths).
//!
//! What is pinned (with `--args`), and why it is stable and safe:
//! - `write`/`writev` fd — only when every fd seen is 0, 1 or 2: the numbers of files the
//!   program opens itself depend on the run, so other fds leave the call unpinned (noted).
//! - `open`/`openat`/`openat2` access mode, and no `O_CREAT`/`O_TRUNC` when none was seen.
//!   openat2 passes its flags in memory the filter cannot read: it is learned, not pinned.
//! - `socket`/`socketpair` family; `ioctl` request; `clone` flags (exact values).
//! - `mmap` PROT_EXEC: none seen → `!(prot & PROT_EXEC)`; only on files →
//!   `!(prot & PROT_EXEC) || !(flags & MAP_ANONYMOUS)` (no anonymous executable memory);
//!   `mprotect` PROT_EXEC never seen → `!(prot & PROT_EXEC)`.
//! - `clone3` hides its flags in memory, so a policy that pins `clone` answers clone3 with
//!   ENOSYS (as `run` would anyway), and libc falls back to `clone`: the flags clone3 was
//!   seen with (read from the caller while learning) are pinned on `clone` instead.
//!
//! A value set larger than [`MAX_VALUES`], or one that could not be read, is not pinned; the
//! policy says so in a comment ([`Rendered::notes`]).

pub mod paths;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::arch::{classify, Arch, SyscallNr};
use crate::decode;
use crate::groups;
use crate::ir::FsAccess;

pub use paths::{Access, PathUse};

/// More distinct values than this and an argument is not pinned.
pub const MAX_VALUES: usize = 16;

/// The first line of the machine-readable block.
const BLOCK_START: &str =
    "# ---- straitjacket learn v1: what was seen (read by --append; keep it) ----";
const BLOCK_PREFIX: &str = "# learned: ";

/// Reads the calling process's memory while it is blocked in the call.
pub trait Memory {
    /// `len` bytes at `addr`, or `None`.
    fn bytes(&mut self, addr: u64, len: usize) -> Option<Vec<u8>>;
    /// The NUL-terminated string at `addr` (without the NUL), or `None`.
    fn cstr(&mut self, addr: u64) -> Option<Vec<u8>>;
}

/// A path argument of one call: relative to `dirfd` (`None`: the working directory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathArg {
    pub dirfd: Option<i32>,
    pub path: Vec<u8>,
    pub access: Access,
}

/// What one call tells the learner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub name: &'static str,
    /// (key, value); `None`: the value could not be read.
    pub pins: Vec<(&'static str, Option<u64>)>,
    pub paths: Vec<PathArg>,
}

/// Everything learned from one or more runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Learned {
    pub arch: Arch,
    pub runs: u32,
    /// The commands learned from, as shell-quoted text.
    pub commands: Vec<String>,
    pub calls: BTreeMap<String, Call>,
    /// Numbers the tables do not name, with counts.
    pub unnamed: BTreeMap<u32, u64>,
    /// Settled paths (absolute, existing at the end of the run).
    pub paths: BTreeMap<String, PathUse>,
}

/// One system call: how often, and the values of its pinnable arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Call {
    pub count: u64,
    /// Key → the values seen; `None`: any (too many, or unreadable).
    pub pins: BTreeMap<String, Option<BTreeSet<u64>>>,
}

fn arg(arch: Arch, name: &str, arg: &str, args: &[u64; 6]) -> Option<u64> {
    let sc = arch.syscall(name)?;
    let i = sc.args.iter().position(|a| a.name == arg)?;
    let kind = classify(arch, sc.args[i].c_type);
    Some(args[i] & kind.width.mask())
}

fn konst(arch: Arch, name: &str) -> u64 {
    arch.constant(name).unwrap_or(0) as u64
}

/// The open flags that matter to a pin: access mode, create, truncate.
fn oflags(arch: Arch, flags: u64) -> u64 {
    flags & (konst(arch, "O_ACCMODE") | konst(arch, "O_CREAT") | konst(arch, "O_TRUNC"))
}

fn open_access(arch: Arch, flags: u64) -> Access {
    let acc = flags & konst(arch, "O_ACCMODE");
    if flags & konst(arch, "O_CREAT") != 0 {
        Access::Create
    } else if acc == konst(arch, "O_WRONLY") {
        Access::Write
    } else if acc == konst(arch, "O_RDWR") {
        Access::ReadWrite
    } else if flags & konst(arch, "O_TRUNC") != 0 {
        Access::Write
    } else {
        Access::Read
    }
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// What call `nr` with `args` tells the learner; `None` for a number the ABI does not name.
pub fn observe(arch: Arch, nr: u32, args: &[u64; 6], mem: &mut dyn Memory) -> Option<Observation> {
    let sc = arch.syscall_by_nr(SyscallNr(nr))?;
    let name = sc.name;
    let a = |n: &str| arg(arch, name, n, args);
    let mut pins = Vec::new();
    let mut paths = Vec::new();
    let dirfd = |i: usize| Some(args[i] as i32);
    let mut path = |dfd: Option<i32>, at: u64, access: Access, mem: &mut dyn Memory| {
        if let Some(p) = mem.cstr(at) {
            paths.push(PathArg {
                dirfd: dfd,
                path: p,
                access,
            });
        }
    };
    match name {
        "write" | "writev" => pins.push(("fd", a("fd"))),
        "socket" | "socketpair" => pins.push(("family", a("family"))),
        "ioctl" => pins.push(("cmd", a("cmd"))),
        "clone" => pins.push(("clone_flags", a("clone_flags"))),
        "clone3" => {
            // struct clone_args: flags at 0, exit_signal at 32 (include/uapi/linux/sched.h);
            // clone(2) takes the exit signal in the low byte of its flags.
            let v = mem
                .bytes(args[0], 40)
                .and_then(|b| Some(u64_at(&b, 0)? | (u64_at(&b, 32)? & 0xff)));
            pins.push(("flags", v));
        }
        "mmap" => {
            let exec = a("prot").unwrap_or(0) & konst(arch, "PROT_EXEC") != 0;
            let anon = a("flags").unwrap_or(0) & konst(arch, "MAP_ANONYMOUS") != 0;
            pins.push(("exec", Some(u64::from(exec) * (1 + u64::from(anon)))));
        }
        "mprotect" | "pkey_mprotect" => {
            let exec = a("prot").unwrap_or(0) & konst(arch, "PROT_EXEC") != 0;
            pins.push(("exec", Some(2 * u64::from(exec))));
        }
        "open" | "openat" => {
            let f = a("flags").unwrap_or(0);
            pins.push(("oflags", Some(oflags(arch, f))));
            let dfd = if name == "openat" { dirfd(0) } else { None };
            path(dfd, a("filename").unwrap_or(0), open_access(arch, f), mem);
        }
        "openat2" => {
            // struct open_how: flags at 0 (include/uapi/linux/openat2.h).
            let f = mem.bytes(args[2], 8).and_then(|b| u64_at(&b, 0));
            pins.push(("oflags", f.map(|f| oflags(arch, f))));
            let access = open_access(arch, f.unwrap_or(0));
            path(dirfd(0), args[1], access, mem);
        }
        "creat" | "mkdir" | "rmdir" | "unlink" => path(None, args[0], Access::Create, mem),
        "mkdirat" | "unlinkat" | "mknodat" => path(dirfd(0), args[1], Access::Create, mem),
        "rename" | "link" => {
            path(None, args[0], Access::Create, mem);
            path(None, args[1], Access::Create, mem);
        }
        "symlink" => path(None, args[1], Access::Create, mem),
        "symlinkat" => path(dirfd(1), args[2], Access::Create, mem),
        "renameat" | "renameat2" | "linkat" => {
            path(dirfd(0), args[1], Access::Create, mem);
            path(dirfd(2), args[3], Access::Create, mem);
        }
        "truncate" => path(None, args[0], Access::Write, mem),
        "execve" => path(None, args[0], Access::Exec, mem),
        "execveat" => path(dirfd(0), args[1], Access::Exec, mem),
        _ => {}
    }
    Some(Observation { name, pins, paths })
}

impl Learned {
    pub fn new(arch: Arch) -> Learned {
        Learned {
            arch,
            runs: 0,
            commands: Vec::new(),
            calls: BTreeMap::new(),
            unnamed: BTreeMap::new(),
            paths: BTreeMap::new(),
        }
    }

    /// Counts one call and its pinnable values.
    pub fn record(&mut self, obs: &Observation) {
        let c = self.calls.entry(obs.name.to_string()).or_default();
        c.count += 1;
        for &(key, v) in &obs.pins {
            add_value(
                c.pins
                    .entry(key.to_string())
                    .or_insert(Some(BTreeSet::new())),
                v,
            );
        }
    }

    /// Counts a call of a number the tables do not name.
    pub fn record_unnamed(&mut self, nr: u32) {
        *self.unnamed.entry(nr).or_default() += 1;
    }

    /// Widens `self` by `other`: the union of calls, values and paths.
    pub fn merge(&mut self, other: &Learned) {
        self.runs += other.runs;
        self.commands.extend(other.commands.iter().cloned());
        for (name, c) in &other.calls {
            let mine = self.calls.entry(name.clone()).or_default();
            mine.count += c.count;
            for (k, vs) in &c.pins {
                let slot = mine.pins.entry(k.clone()).or_insert(Some(BTreeSet::new()));
                match vs {
                    None => *slot = None,
                    Some(vs) => vs.iter().for_each(|&v| add_value(slot, Some(v))),
                }
            }
        }
        for (nr, n) in &other.unnamed {
            *self.unnamed.entry(*nr).or_default() += n;
        }
        for (p, u) in &other.paths {
            self.paths.entry(p.clone()).or_default().merge(u);
        }
    }

    /// The machine-readable block (comment lines) that [`Learned::from_text`] reads back.
    pub fn to_block(&self) -> String {
        let mut out = format!("{BLOCK_START}\n");
        let _ = writeln!(out, "{BLOCK_PREFIX}arch {} runs {}", self.arch, self.runs);
        for c in &self.commands {
            let _ = writeln!(out, "{BLOCK_PREFIX}command {}", escape(c));
        }
        for (name, c) in &self.calls {
            let _ = write!(out, "{BLOCK_PREFIX}call {name} {}", c.count);
            for (k, vs) in &c.pins {
                let vals = match vs {
                    None => "*".to_string(),
                    Some(vs) => vs
                        .iter()
                        .map(|v| format!("{v:#x}"))
                        .collect::<Vec<_>>()
                        .join(","),
                };
                let _ = write!(out, " {k}={vals}");
            }
            out.push('\n');
        }
        for (nr, n) in &self.unnamed {
            let _ = writeln!(out, "{BLOCK_PREFIX}nr {nr} {n}");
        }
        for (p, u) in &self.paths {
            let _ = writeln!(
                out,
                "{BLOCK_PREFIX}path {} {} {}",
                u.flags(),
                u.count,
                escape(p)
            );
        }
        out
    }

    /// Reads the block of a learned policy back.
    pub fn from_text(text: &str) -> Result<Learned, String> {
        let mut lines = text
            .lines()
            .enumerate()
            .skip_while(|(_, l)| *l != BLOCK_START);
        if lines.next().is_none() {
            return Err(
                "no `straitjacket learn` block in it (was it written by `straitjacket learn`?)"
                    .into(),
            );
        }
        let mut learned: Option<Learned> = None;
        for (i, line) in lines {
            let Some(rest) = line.strip_prefix(BLOCK_PREFIX) else {
                continue;
            };
            let bad = || format!("line {}: cannot read `{}`", i + 1, line.trim());
            let mut w = rest.split(' ');
            let kind = w.next().unwrap_or("");
            if kind == "arch" {
                let arch = w.next().and_then(Arch::from_name).ok_or_else(bad)?;
                let runs = (w.next() == Some("runs"))
                    .then(|| w.next()?.parse().ok())
                    .flatten()
                    .ok_or_else(bad)?;
                let mut l = Learned::new(arch);
                l.runs = runs;
                learned = Some(l);
                continue;
            }
            let l = learned.as_mut().ok_or_else(bad)?;
            match kind {
                "command" => l.commands.push(unescape(&rest[8..]).ok_or_else(bad)?),
                "call" => {
                    let name = w.next().ok_or_else(bad)?;
                    if l.arch.syscall(name).is_none() {
                        return Err(format!(
                            "line {}: no system call `{name}` on {}",
                            i + 1,
                            l.arch
                        ));
                    }
                    let count = w.next().and_then(|c| c.parse().ok()).ok_or_else(bad)?;
                    let mut c = Call {
                        count,
                        pins: BTreeMap::new(),
                    };
                    for kv in w {
                        let (k, v) = kv.split_once('=').ok_or_else(bad)?;
                        let vs = if v == "*" {
                            None
                        } else {
                            let mut set = BTreeSet::new();
                            for x in v.split(',').filter(|x| !x.is_empty()) {
                                let x = x.strip_prefix("0x").ok_or_else(bad)?;
                                set.insert(u64::from_str_radix(x, 16).map_err(|_| bad())?);
                            }
                            Some(set)
                        };
                        c.pins.insert(k.to_string(), vs);
                    }
                    l.calls.insert(name.to_string(), c);
                }
                "nr" => {
                    let nr = w.next().and_then(|c| c.parse().ok()).ok_or_else(bad)?;
                    let n = w.next().and_then(|c| c.parse().ok()).ok_or_else(bad)?;
                    l.unnamed.insert(nr, n);
                }
                "path" => {
                    let flags = w.next().ok_or_else(bad)?;
                    let count = w.next().and_then(|c| c.parse().ok()).ok_or_else(bad)?;
                    let p: Vec<&str> = w.collect();
                    let p = unescape(&p.join(" ")).ok_or_else(bad)?;
                    let mut u = PathUse::from_flags(flags).ok_or_else(bad)?;
                    u.count = count;
                    l.paths.insert(p, u);
                }
                _ => return Err(bad()),
            }
        }
        learned.ok_or_else(|| "the `straitjacket learn` block has no `arch` line".to_string())
    }
}

fn add_value(slot: &mut Option<BTreeSet<u64>>, v: Option<u64>) {
    match (slot.as_mut(), v) {
        (Some(set), Some(v)) => {
            set.insert(v);
            if set.len() > MAX_VALUES {
                *slot = None;
            }
        }
        (_, None) => *slot = None,
        (None, _) => {}
    }
}

/// Percent-escapes bytes that would break a block line: `%`, space, controls, non-ASCII.
fn escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b == b'%' || b <= b' ' || b >= 0x7f {
            let _ = write!(out, "%{b:02x}");
        } else {
            out.push(b as char);
        }
    }
    out
}

fn unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// How to render a policy.
#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    /// Argument conditions (`--args`).
    pub args: bool,
    /// `fs` rules (`--paths`).
    pub paths: bool,
    /// Paths `run` adds by itself (the system paths, canonical), left out of the rules.
    pub system_paths: Vec<(FsAccess, String)>,
}

/// A rendered policy and what it could not pin (also in its comments).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub notes: Vec<String>,
}

/// `1,204`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn seen(n: u64) -> String {
    match n {
        1 => "seen once".to_string(),
        n => format!("seen {} times", thousands(n)),
    }
}

/// The group a call is listed under: the first (in `straitjacket groups` order) that has it.
pub fn group_of(name: &str) -> Option<&'static groups::Group> {
    groups::GROUPS
        .iter()
        .filter(|g| g.name != "file-system")
        .find(|g| g.members.contains(&name))
}

/// Calls listed under one group (`None`: in no group).
pub type Grouped<'a> = (Option<&'static groups::Group>, Vec<(&'a str, &'a Call)>);

/// The calls of `learned` by group, in `straitjacket groups` order, then the ungrouped.
pub fn by_group(learned: &Learned) -> Vec<Grouped<'_>> {
    let mut out: Vec<Grouped<'_>> = Vec::new();
    let order = |g: Option<&groups::Group>| {
        g.map_or(usize::MAX, |g| {
            groups::GROUPS
                .iter()
                .position(|x| x.name == g.name)
                .unwrap_or(0)
        })
    };
    for (name, c) in &learned.calls {
        let g = group_of(name);
        match out
            .iter_mut()
            .find(|(og, _)| og.map(|x| x.name) == g.map(|x| x.name))
        {
            Some((_, v)) => v.push((name, c)),
            None => out.push((g, vec![(name, c)])),
        }
    }
    out.sort_by_key(|(g, _)| order(*g));
    out
}

/// Argument `arg` of `name` as a constant expression (see [`decode::value`]).
fn shown(arch: Arch, name: &str, arg: &str, v: u64) -> String {
    let shown = arch.syscall(name).and_then(|sc| {
        let i = sc.args.iter().position(|a| a.name == arg)?;
        Some(decode::value(arch, sc, i, v))
    });
    shown.unwrap_or_else(|| format!("{v:#x}"))
}

fn any_of(arg: &str, values: impl Iterator<Item = String>) -> String {
    values
        .map(|v| format!("{arg} == {v}"))
        .collect::<Vec<_>>()
        .join(" || ")
}

/// The condition pinned on `name`, or a note why there is none. `Ok(None)`: nothing to pin.
fn condition(
    arch: Arch,
    name: &str,
    call: &Call,
    learned: &Learned,
) -> Result<Option<String>, String> {
    let vals = |k: &str| call.pins.get(k);
    let unpinned = |k: &str| {
        format!(
            "`{name}`: {k} took more than {MAX_VALUES} values, or could not be read: not pinned"
        )
    };
    match name {
        "write" | "writev" => match vals("fd") {
            Some(Some(fds)) if fds.iter().all(|&f| f <= 2) => {
                Ok(Some(any_of("fd", fds.iter().map(u64::to_string))))
            }
            Some(Some(fds)) => Err(format!(
                "`{name}`: fds {} seen besides 0-2: the numbers of files a program opens depend on the run: not pinned",
                fds.iter().filter(|&&f| f > 2).map(u64::to_string).collect::<Vec<_>>().join(", ")
            )),
            _ => Err(unpinned("fd")),
        },
        "socket" | "socketpair" => match vals("family") {
            Some(Some(v)) => Ok(Some(any_of("family", v.iter().map(|&f| shown(arch, name, "family", f))))),
            _ => Err(unpinned("family")),
        },
        "ioctl" => match vals("cmd") {
            Some(Some(v)) => Ok(Some(any_of("cmd", v.iter().map(|&c| shown(arch, name, "cmd", c))))),
            _ => Err(unpinned("cmd")),
        },
        "clone" => {
            let mut all: BTreeSet<u64> = match vals("clone_flags") {
                Some(Some(v)) => v.clone(),
                None => BTreeSet::new(),
                Some(None) => return Err(unpinned("clone_flags")),
            };
            if let Some(c3) = learned.calls.get("clone3") {
                match c3.pins.get("flags") {
                    Some(Some(v)) => all.extend(v),
                    _ => return Err("`clone`: the flags of clone3 could not be read, so clone (its fallback) is not pinned".into()),
                }
            }
            if all.len() > MAX_VALUES {
                return Err(unpinned("clone_flags"));
            }
            Ok(Some(any_of("clone_flags", all.iter().map(|&f| shown(arch, "clone", "clone_flags", f)))))
        }
        "mmap" => match vals("exec") {
            Some(Some(v)) if v.iter().all(|&e| e == 0) => Ok(Some("!(prot & PROT_EXEC)".into())),
            Some(Some(v)) if v.iter().all(|&e| e <= 1) => {
                Ok(Some("!(prot & PROT_EXEC) || !(flags & MAP_ANONYMOUS)".into()))
            }
            _ => Err("`mmap`: executable anonymous memory was mapped (a JIT?): PROT_EXEC not pinned".into()),
        },
        "mprotect" | "pkey_mprotect" => match vals("exec") {
            Some(Some(v)) if v.iter().all(|&e| e == 0) => Ok(Some("!(prot & PROT_EXEC)".into())),
            _ => Err(format!("`{name}`: memory was made executable: PROT_EXEC not pinned")),
        },
        "open" | "openat" => match vals("oflags") {
            Some(Some(v)) => Ok(Some(open_condition(arch, v))),
            _ => Err(unpinned("flags")),
        },
        "openat2" => Err("`openat2`: its flags are in memory the filter cannot read: not pinned".into()),
        _ => Ok(None),
    }
}

fn open_condition(arch: Arch, v: &BTreeSet<u64>) -> String {
    let acc = konst(arch, "O_ACCMODE");
    let modes: BTreeSet<u64> = v.iter().map(|f| f & acc).collect();
    let mode_name = |m: u64| match m {
        _ if m == konst(arch, "O_RDONLY") => "O_RDONLY".to_string(),
        _ if m == konst(arch, "O_WRONLY") => "O_WRONLY".to_string(),
        _ if m == konst(arch, "O_RDWR") => "O_RDWR".to_string(),
        m => format!("{m:#x}"),
    };
    let mut parts = Vec::new();
    for bit in ["O_CREAT", "O_TRUNC"] {
        if v.iter().all(|f| f & konst(arch, bit) == 0) {
            parts.push(format!("!(flags & {bit})"));
        }
    }
    if modes.len() < 3 {
        let m = any_of("(flags & O_ACCMODE)", modes.iter().map(|&m| mode_name(m)));
        let m = if modes.len() > 1 && !parts.is_empty() {
            format!("({m})")
        } else {
            m
        };
        parts.insert(0, m);
    }
    // Empty: every access mode, with create and truncate: nothing left to pin.
    parts.join(" && ")
}

/// Calls not seen that the calls seen make likely in another run, by timing alone: a
/// thread that had to wait (`futex`), a signal handler that ran (`rt_sigreturn`), a sleep a
/// signal interrupted (`restart_syscall`).
pub fn implied(learned: &Learned) -> Vec<(&'static str, &'static str)> {
    let seen = |n: &str| learned.calls.contains_key(n);
    let threads = seen("clone3")
        || learned
            .calls
            .get("clone")
            .is_some_and(|c| match c.pins.get("clone_flags") {
                Some(Some(v)) => v
                    .iter()
                    .any(|f| f & konst(learned.arch, "CLONE_THREAD") != 0),
                _ => true,
            });
    let handlers = seen("rt_sigaction");
    let mut out = Vec::new();
    let candidates = [
        (
            "futex",
            threads,
            "threads were started: one may wait for another",
        ),
        (
            "rt_sigreturn",
            handlers,
            "signal handlers were set: one may run",
        ),
        (
            "restart_syscall",
            handlers,
            "a signal may interrupt a sleep",
        ),
    ];
    for (name, cond, why) in candidates {
        if cond && !seen(name) && learned.arch.syscall(name).is_some() {
            out.push((name, why));
        }
    }
    out
}

/// Renders `learned` as a policy, with the block at the end.
pub fn render(learned: &Learned, opts: &RenderOptions) -> Rendered {
    let arch = learned.arch;
    let mut notes = Vec::new();
    let mut out = String::new();
    let total: u64 = learned.calls.values().map(|c| c.count).sum();
    let runs = if learned.runs == 1 {
        "1 run".to_string()
    } else {
        format!("{} runs", learned.runs)
    };
    let _ = writeln!(out, "# Learned by `straitjacket learn` from {runs}:");
    for c in &learned.commands {
        let _ = writeln!(out, "#   {c}");
    }
    let _ = writeln!(
        out,
        "# {} calls of {} system calls. Only what was seen is allowed; widen it with\n# `straitjacket learn --append FILE -- CMD`.",
        thousands(total),
        learned.calls.len()
    );
    out.push_str("default kill-process\n");
    let _ = writeln!(out, "arch {arch}");
    // clone3 answers ENOSYS when clone can be pinned instead (see the module docs).
    let clone_seen = learned.calls.get("clone").cloned().unwrap_or_default();
    let pinned_clone = opts.args
        && learned.calls.contains_key("clone3")
        && condition(arch, "clone", &clone_seen, learned).is_ok();
    if opts.args && learned.calls.contains_key("clone3") && !learned.calls.contains_key("clone") {
        if let Err(note) = condition(arch, "clone", &clone_seen, learned) {
            notes.push(note);
        }
    }
    let mut rules = String::new();
    for (g, calls) in by_group(learned) {
        match g {
            Some(g) => {
                let _ = writeln!(rules, "\n# @{} — {}", g.name, g.about);
            }
            None => rules.push_str("\n# in no group\n"),
        }
        for (name, c) in calls {
            let mut line = format!("allow {name}");
            if name == "clone3" && pinned_clone {
                line = "errno(ENOSYS) clone3".to_string();
                let why = "`clone3`: its flags are in memory the filter cannot read: answered ENOSYS, so libc falls back to `clone` (pinned with the flags clone3 was seen with)";
                notes.push(why.to_string());
            } else if opts.args {
                match condition(arch, name, c, learned) {
                    Ok(Some(cond)) if !cond.is_empty() => line = format!("allow {name} if {cond}"),
                    Ok(_) => {}
                    Err(note) => notes.push(note),
                }
            }
            let _ = writeln!(rules, "{line:<48} # {}", seen(c.count));
        }
    }
    // clone3 seen without clone: the fallback must be allowed too.
    if pinned_clone && !learned.calls.contains_key("clone") {
        if let Ok(Some(cond)) = condition(arch, "clone", &clone_seen, learned) {
            let line = format!("allow clone if {cond}");
            let _ = writeln!(rules, "{line:<48} # never seen: the fallback of clone3");
        }
    }
    let implied = implied(learned);
    if !implied.is_empty() {
        rules.push_str("\n# Not seen, but timing decides whether they happen (a run that waited, or was signalled):\n");
        for (name, why) in implied {
            let _ = writeln!(rules, "{:<48} # {why}", format!("allow {name}"));
        }
    }
    out.push_str(&rules);
    if !learned.unnamed.is_empty() {
        out.push_str("\n# Numbers straitjacket's tables do not name (they answer ENOSYS under a deny default):\n");
        for (nr, n) in &learned.unnamed {
            let _ = writeln!(out, "#   syscall {nr}: {}", seen(*n));
        }
    }
    if opts.paths {
        let (rules, pnotes) = paths::rules(&learned.paths, &opts.system_paths);
        out.push_str("\n# Files: the paths opened, collapsed to directories where many were used beneath one.\n");
        if pnotes.skipped > 0 {
            let _ = writeln!(
                out,
                "# {} beneath the system paths `run` adds are not listed (`straitjacket presets show system-paths`).",
                if pnotes.skipped == 1 { "1 path".to_string() } else { format!("{} paths", pnotes.skipped) }
            );
        }
        for (access, path) in rules {
            let _ = writeln!(out, "fs {} {}", access_word(access), quote_path(&path));
        }
    }
    if !notes.is_empty() {
        out.push_str("\n# Not pinned:\n");
        for n in &notes {
            let _ = writeln!(out, "#   {n}");
        }
    }
    out.push('\n');
    out.push_str(&learned.to_block());
    Rendered { text: out, notes }
}

fn access_word(a: FsAccess) -> &'static str {
    match a {
        FsAccess::Read => "read",
        FsAccess::Write => "write",
        FsAccess::Exec => "exec",
    }
}

/// A path as the language reads it: quoted if it has anything but plain path characters.
fn quote_path(p: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._+-@:=~".contains(c);
    if !p.is_empty() && p.chars().all(plain) {
        p.to_string()
    } else {
        format!("\"{}\"", p.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The `--summary` text: calls by group with counts, then the paths.
pub fn summary(learned: &Learned) -> String {
    let mut out = String::new();
    let total: u64 = learned.calls.values().map(|c| c.count).sum();
    let _ = writeln!(
        out,
        "{} system calls, {} calls in all:",
        learned.calls.len(),
        thousands(total)
    );
    for (g, calls) in by_group(learned) {
        let n: u64 = calls.iter().map(|(_, c)| c.count).sum();
        let g = g.map_or("(in no group)".to_string(), |g| format!("@{}", g.name));
        let _ = writeln!(out, "  {g} ({})", thousands(n));
        let mut calls = calls;
        calls.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
        for (name, c) in calls {
            let _ = writeln!(out, "    {name:<24} {:>9}", thousands(c.count));
        }
    }
    for (nr, n) in &learned.unnamed {
        let _ = writeln!(out, "  syscall {nr:<16} {:>9}", thousands(*n));
    }
    let _ = writeln!(out, "{} paths:", learned.paths.len());
    for (p, u) in &learned.paths {
        let _ = writeln!(out, "  {:<5} {p}", u.flags());
    }
    out
}

#[cfg(test)]
mod tests;
