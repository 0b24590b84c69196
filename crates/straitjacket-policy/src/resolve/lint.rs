//! Lints: things a policy says that are legal but probably not what its author meant.
//! Each is a warning with a place; `check --deny-warnings` makes them errors.

use std::collections::{BTreeMap, BTreeSet};

use crate::action::Action;
use crate::arch::{SyscallNr, Width};
use crate::diag::{Diagnostic, SourceMap, Span};
use crate::ir::{eval, Cmp, Cond, Filter, Rule};

/// What lints need to know of a rule as written.
#[derive(Debug)]
pub struct RuleInfo {
    pub action: Action,
    /// Syscalls named directly (not through a group), with their spans.
    pub names: Vec<(String, Span)>,
    pub conditional: bool,
}

/// Families of calls that do the same thing: denying one and not the others leaves a way round.
pub const ALIAS_FAMILIES: &[&[&str]] = &[
    &["open", "openat", "openat2", "creat"],
    &[
        "stat",
        "lstat",
        "fstat",
        "newfstatat",
        "statx",
        "stat64",
        "lstat64",
        "fstat64",
        "fstatat64",
    ],
    &["access", "faccessat", "faccessat2"],
    &["rename", "renameat", "renameat2"],
    &["unlink", "unlinkat"],
    &["rmdir", "unlinkat"],
    &["mkdir", "mkdirat"],
    &["link", "linkat"],
    &["symlink", "symlinkat"],
    &["chmod", "fchmod", "fchmodat", "fchmodat2"],
    &[
        "chown", "fchown", "lchown", "fchownat", "chown32", "fchown32", "lchown32",
    ],
    &["execve", "execveat"],
    &["fork", "vfork", "clone", "clone3"],
    &["dup", "dup2", "dup3"],
    &["readlink", "readlinkat"],
    &["getdents", "getdents64"],
    &["mknod", "mknodat"],
    &["utime", "utimes", "futimesat", "utimensat"],
    &["truncate", "truncate64", "ftruncate", "ftruncate64"],
    &["kill", "tkill", "tgkill", "pidfd_send_signal"],
    &[
        "mount",
        "fsopen",
        "fsmount",
        "move_mount",
        "open_tree",
        "fspick",
        "mount_setattr",
    ],
    &["umount", "umount2"],
    &["ptrace", "process_vm_readv", "process_vm_writev"],
    &[
        "setuid",
        "setreuid",
        "setresuid",
        "setuid32",
        "setreuid32",
        "setresuid32",
    ],
    &["mmap", "mmap2"],
    &["sendfile", "sendfile64", "splice", "copy_file_range"],
    &["chroot", "pivot_root"],
];

const VDSO: &[&str] = &[
    "gettimeofday",
    "clock_gettime",
    "time",
    "getcpu",
    "clock_getres",
];

pub fn lint(filters: &[Filter], rules: &[RuleInfo], sources: &SourceMap) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    unreachable_rules(filters, &mut out);
    for f in filters {
        alias_families(f, &mut out);
    }
    for r in rules {
        for (name, span) in &r.names {
            let bare = name.strip_prefix("sys_").unwrap_or(name);
            if bare.starts_with("io_uring") && r.action.runs_call() {
                out.push(Diagnostic::warning(*span, format!("`{bare}` is allowed: io_uring operations are not system calls and bypass this filter"))
                    .with_help("allow io_uring only for programs you would trust without a filter"));
            }
            // Allowing a vDSO call outright is harmless; restricting it is an illusion.
            if VDSO.contains(&bare) && (r.conditional || !r.action.runs_call()) {
                out.push(Diagnostic::warning(*span, format!("libc serves `{bare}` from the vDSO without entering the kernel: the filter only sees direct system calls"))
                    .with_note("this rule applies to `syscall()` and to programs that bypass the vDSO"));
            }
        }
    }
    let _ = sources;
    out
}

/// Where a rule applies: its span, in how many places, how many dead, and why.
type Reach = (Span, usize, usize, String);

/// A rule that can never match on any syscall it names, on any ABI: after an unconditional
/// rule, or with a condition that cannot hold where it stands. A rule that is dead for some
/// of its syscalls only (a group overlapping an earlier one) is fine.
fn unreachable_rules(filters: &[Filter], out: &mut Vec<Diagnostic>) {
    // Per rule (by span): how many places it applies, how many of them are dead, and why.
    let mut seen: BTreeMap<(u32, u32, u32), Reach> = BTreeMap::new();
    for filter in filters {
        for rules in filter.syscalls.values() {
            for (i, rule) in rules.iter().enumerate() {
                let Some(span) = rule.span else { continue };
                let earlier = &rules[..i];
                let why = if let Some(prev) = earlier.iter().find(|p| p.cond == Cond::True) {
                    let at = prev
                        .origin
                        .as_ref()
                        .map_or_else(String::new, |o| format!(" at {o}"));
                    Some(format!("an earlier rule{at} matches every call first"))
                } else if let Some(false) = satisfiable_after(&rule.cond, earlier) {
                    Some(if earlier.is_empty() {
                        "its condition is a contradiction".to_string()
                    } else {
                        "earlier rules match every call it would".to_string()
                    })
                } else {
                    None
                };
                let e = seen.entry((span.file.0, span.start, span.end)).or_insert((
                    span,
                    0,
                    0,
                    String::new(),
                ));
                e.1 += 1;
                if let Some(w) = why {
                    e.2 += 1;
                    e.3 = w;
                }
            }
        }
    }
    for (_, (span, applies, dead, why)) in seen {
        if applies > 0 && dead == applies {
            out.push(Diagnostic::warning(span, "this rule can never match").with_note(why));
        }
    }
}

/// Whether some arguments satisfy `cond` and none of `earlier`'s conditions. `None` when the
/// conditions are beyond this exact check (masks, mixed widths on one argument, too many
/// combinations): then nothing is claimed.
fn satisfiable_after(cond: &Cond, earlier: &[Rule]) -> Option<bool> {
    // The common case, a plain rule first in line, needs no search.
    if earlier.is_empty() && *cond == Cond::True {
        return Some(true);
    }
    let mut cmps = Vec::new();
    collect(cond, &mut cmps);
    for r in earlier {
        collect(&r.cond, &mut cmps);
    }
    let mut per_arg: BTreeMap<usize, (Width, bool, BTreeSet<u64>)> = BTreeMap::new();
    for c in &cmps {
        if c.mask & c.width.mask() != c.width.mask() {
            return None;
        }
        let e = per_arg
            .entry(c.arg.get())
            .or_insert((c.width, c.signed, BTreeSet::new()));
        if e.0 != c.width || e.1 != c.signed {
            return None;
        }
        let m = c.width.mask();
        for v in [
            c.value,
            c.value.wrapping_add(1) & m,
            c.value.wrapping_sub(1) & m,
        ] {
            e.2.insert(v);
        }
    }
    let mut axes: Vec<(usize, Vec<u64>)> = Vec::new();
    let mut total: usize = 1;
    for (arg, (w, _, mut vals)) in per_arg {
        let m = w.mask();
        vals.extend([0, m, m >> 1, (m >> 1) + 1]);
        total = total.checked_mul(vals.len())?;
        axes.push((arg, vals.into_iter().collect()));
    }
    if total > 50_000 {
        return None;
    }
    let mut args = [0u64; 6];
    Some(search(&axes, 0, &mut args, cond, earlier))
}

fn search(
    axes: &[(usize, Vec<u64>)],
    i: usize,
    args: &mut [u64; 6],
    cond: &Cond,
    earlier: &[Rule],
) -> bool {
    if i == axes.len() {
        return eval::holds(cond, args) && !earlier.iter().any(|r| eval::holds(&r.cond, args));
    }
    let (arg, vals) = &axes[i];
    for &v in vals {
        args[*arg] = v;
        if search(axes, i + 1, args, cond, earlier) {
            return true;
        }
    }
    false
}

fn collect(c: &Cond, out: &mut Vec<Cmp>) {
    match c {
        Cond::True => {}
        Cond::Cmp(x) => out.push(*x),
        Cond::And(xs) | Cond::Or(xs) => xs.iter().for_each(|x| collect(x, out)),
        Cond::Not(x) => collect(x, out),
    }
}

/// In a deny-list, denying one member of a family but not its siblings.
fn alias_families(filter: &Filter, out: &mut Vec<Diagnostic>) {
    if !filter.default.runs_call() {
        return;
    }
    let denies = |nr: SyscallNr| -> Option<Span> {
        filter
            .syscalls
            .get(&nr)?
            .iter()
            .find(|r| !r.action.runs_call() && r.span.is_some())
            .and_then(|r| r.span)
    };
    for fam in ALIAS_FAMILIES {
        let present: Vec<_> = fam.iter().filter_map(|n| filter.arch.syscall(n)).collect();
        let denied: Vec<_> = present
            .iter()
            .filter_map(|s| denies(SyscallNr(s.nr)).map(|sp| (s.name, sp)))
            .collect();
        let Some(&(first, span)) = denied.first() else {
            continue;
        };
        let open: Vec<&str> = present
            .iter()
            .filter(|s| denies(SyscallNr(s.nr)).is_none())
            .filter(|s| {
                filter
                    .syscalls
                    .get(&SyscallNr(s.nr))
                    .is_none_or(|rs| rs.iter().all(|r| r.span.is_some()))
            })
            .map(|s| s.name)
            .collect();
        if open.is_empty() {
            continue;
        }
        let all: Vec<&str> = present.iter().map(|s| s.name).collect();
        out.push(
            Diagnostic::warning(
                span,
                format!(
                    "`{first}` is denied but {} {} not: the same thing can be done through {}",
                    quote_list(&open),
                    if open.len() == 1 { "is" } else { "are" },
                    if open.len() == 1 { "it" } else { "them" }
                ),
            )
            .with_help(format!(
                "deny the whole family on {}: {}",
                filter.arch,
                all.join(", ")
            )),
        );
    }
}

fn quote_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
