use std::collections::BTreeMap;

use super::paths::Kind;
use super::*;
use crate::resolve::{resolve_text, Options};

const X: Arch = Arch::X86_64;

/// Memory from a map: strings and structs at fixed addresses.
#[derive(Default)]
struct Mem(BTreeMap<u64, Vec<u8>>);

impl Memory for Mem {
    fn bytes(&mut self, addr: u64, len: usize) -> Option<Vec<u8>> {
        self.0
            .get(&addr)
            .filter(|b| b.len() >= len)
            .map(|b| b[..len].to_vec())
    }
    fn cstr(&mut self, addr: u64) -> Option<Vec<u8>> {
        self.0.get(&addr).cloned()
    }
}

fn nr(name: &str) -> u32 {
    X.syscall(name).unwrap().nr
}

fn call(l: &mut Learned, mem: &mut Mem, name: &str, args: [u64; 6]) -> Observation {
    let o = observe(X, nr(name), &args, mem).unwrap();
    l.record(&o);
    o
}

/// A run of a small program: stdio writes, read-only opens, a file mapped executable, a
/// thread through clone3, an ioctl, a unix socket.
fn sample() -> Learned {
    let mut l = Learned::new(X);
    l.runs = 1;
    l.commands.push("prog --flag".into());
    let mut m = Mem::default();
    m.0.insert(0x1000, b"/etc/hostname".to_vec());
    let mut clone_args = vec![0u8; 88];
    let thread = 0x3d0f00u64;
    clone_args[..8].copy_from_slice(&thread.to_ne_bytes());
    m.0.insert(0x2000, clone_args);
    for _ in 0..3 {
        call(&mut l, &mut m, "write", [1, 0, 5, 0, 0, 0]);
    }
    call(&mut l, &mut m, "write", [2, 0, 5, 0, 0, 0]);
    let o = call(
        &mut l,
        &mut m,
        "openat",
        [(-100i64) as u64, 0x1000, 0o2000000, 0, 0, 0],
    );
    assert_eq!(
        o.paths,
        vec![PathArg {
            dirfd: Some(-100),
            path: b"/etc/hostname".to_vec(),
            access: Access::Read
        }]
    );
    call(&mut l, &mut m, "mmap", [0, 4096, 5, 2, 3, 0]); // PROT_READ|PROT_EXEC, MAP_PRIVATE
    call(&mut l, &mut m, "mmap", [0, 4096, 3, 0x22, u64::MAX, 0]);
    call(&mut l, &mut m, "clone3", [0x2000, 88, 0, 0, 0, 0]);
    call(&mut l, &mut m, "ioctl", [1, 0x5401, 0, 0, 0, 0]);
    call(&mut l, &mut m, "socket", [1, 1, 0, 0, 0, 0]);
    call(&mut l, &mut m, "exit_group", [0; 6]);
    l
}

fn check_clean(text: &str) {
    let opts = Options { native: X };
    match resolve_text("learned.sj", text, &opts) {
        Ok((s, r)) => assert!(
            r.warnings.is_empty(),
            "{}\n{text}",
            r.warnings.iter().map(|d| d.render(&s)).collect::<String>()
        ),
        Err((s, d)) => panic!(
            "{}\n{text}",
            d.iter().map(|d| d.render(&s)).collect::<String>()
        ),
    }
}

/// Renders with `--args`; `check` must accept it without a warning.
fn with_args(l: &Learned) -> Rendered {
    let r = render(
        l,
        &RenderOptions {
            args: true,
            ..Default::default()
        },
    );
    check_clean(&r.text);
    r
}

#[test]
fn a_policy_lists_what_was_seen_grouped_and_counted() {
    let l = sample();
    let r = render(&l, &RenderOptions::default());
    check_clean(&r.text);
    assert!(
        r.text.contains("default kill-process\narch x86_64\n"),
        "{}",
        r.text
    );
    let write = r
        .text
        .lines()
        .find(|l| l.starts_with("allow write"))
        .unwrap();
    assert!(write.ends_with("# seen 4 times"), "{write}");
    assert!(r.text.contains("# @default — "));
    assert!(r.text.contains("allow clone3 "), "{}", r.text);
    assert!(r
        .text
        .lines()
        .any(|l| l.starts_with("allow exit_group") && l.ends_with("# seen once")));
    assert!(!r.text.contains("allow read "), "never seen: {}", r.text);
    assert!(r.notes.is_empty());
}

#[test]
fn with_args_stable_values_are_pinned() {
    let l = sample();
    let r = with_args(&l);
    let t = &r.text;
    for want in [
        "allow write if fd == 1 || fd == 2 ",
        "allow openat if (flags & O_ACCMODE) == O_RDONLY && !(flags & O_CREAT) && !(flags & O_TRUNC) ",
        "allow mmap if !(prot & PROT_EXEC) || !(flags & MAP_ANONYMOUS) ",
        "allow ioctl if cmd == TCGETS ",
        "allow socket if family == AF_UNIX ",
        "errno(ENOSYS) clone3 ",
        "allow clone if clone_flags == CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID ",
    ] {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
    assert!(
        r.notes.iter().any(|n| n.contains("clone3")),
        "{:?}",
        r.notes
    );
}

#[test]
fn unstable_values_are_noted_not_pinned() {
    let mut l = sample();
    let mut m = Mem::default();
    call(&mut l, &mut m, "write", [5, 0, 1, 0, 0, 0]);
    for c in 0..=MAX_VALUES as u64 {
        call(&mut l, &mut m, "ioctl", [0, 0x1000 + c, 0, 0, 0, 0]);
    }
    call(&mut l, &mut m, "mmap", [0, 4096, 7, 0x22, u64::MAX, 0]);
    call(&mut l, &mut m, "clone3", [0x9999, 88, 0, 0, 0, 0]); // unreadable
    let r = with_args(&l);
    assert!(r
        .text
        .lines()
        .any(|l| l.starts_with("allow write ") && !l.contains(" if ")));
    assert!(r
        .text
        .lines()
        .any(|l| l.starts_with("allow ioctl ") && !l.contains(" if ")));
    assert!(r
        .text
        .lines()
        .any(|l| l.starts_with("allow mmap ") && !l.contains(" if ")));
    // clone cannot be pinned, so clone3 stays allowed as seen, and clone is not added.
    assert!(
        r.text.lines().any(|l| l.starts_with("allow clone3 ")),
        "{}",
        r.text
    );
    assert!(!r.text.contains("allow clone "));
    assert_eq!(r.notes.len(), 4, "{:?}", r.notes);
    assert!(r.text.contains("# Not pinned:\n"));
    assert!(r.text.contains("\n#   `write`: fds 5 seen besides 0-2"));
}

#[test]
fn the_block_reads_back_and_append_widens() {
    let mut l = sample();
    l.paths.insert(
        "/tmp/a dir/x%y".into(),
        PathUse {
            read: true,
            write: true,
            exec: false,
            dir: false,
            count: 2,
        },
    );
    l.record_unnamed(999);
    let r = render(
        &l,
        &RenderOptions {
            args: true,
            paths: true,
            ..Default::default()
        },
    );
    let back = Learned::from_text(&r.text).unwrap();
    assert_eq!(back, l);

    let mut other = Learned::new(X);
    other.runs = 1;
    other.commands.push("prog --other".into());
    let mut m = Mem::default();
    call(&mut other, &mut m, "write", [2, 0, 1, 0, 0, 0]);
    call(&mut other, &mut m, "socket", [2, 1, 0, 0, 0, 0]);
    call(&mut other, &mut m, "getpid", [0; 6]);
    let mut merged = back;
    merged.merge(&other);
    assert_eq!(merged.runs, 2);
    assert_eq!(merged.calls["write"].count, 5);
    assert_eq!(merged.calls["getpid"].count, 1);
    let r2 = with_args(&merged);
    assert!(
        r2.text
            .contains("allow socket if family == AF_UNIX || family == AF_INET "),
        "{}",
        r2.text
    );
    assert!(r2
        .text
        .contains("from 2 runs:\n#   prog --flag\n#   prog --other\n"));
    assert!(Learned::from_text("default allow\n").is_err());
}

#[test]
fn open_flags_widen_with_what_was_seen() {
    let mut l = Learned::new(X);
    let mut m = Mem::default();
    call(&mut l, &mut m, "openat", [0, 0, 0o1101, 0, 0, 0]); // O_WRONLY|O_CREAT|O_TRUNC
    call(&mut l, &mut m, "openat", [0, 0, 0, 0, 0, 0]);
    let r = with_args(&l);
    assert!(
        r.text.contains(
            "allow openat if (flags & O_ACCMODE) == O_RDONLY || (flags & O_ACCMODE) == O_WRONLY "
        ),
        "{}",
        r.text
    );
}

#[test]
fn counts_have_thousands_separators() {
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1204), "1,204");
    assert_eq!(thousands(1234567), "1,234,567");
}

fn stat_from<'a>(existing: &'a [(&'a str, bool)]) -> impl Fn(&str) -> Option<(String, Kind)> + 'a {
    move |p: &str| {
        let kind = |d: bool| match (d, p.starts_with("/dev/")) {
            (true, _) => Kind::Dir,
            (false, true) => Kind::Special,
            _ => Kind::File,
        };
        existing
            .iter()
            .find(|(e, _)| *e == p)
            .map(|&(e, d)| (e.to_string(), kind(d)))
    }
}

#[test]
fn paths_settle_collapse_and_skip_system_paths() {
    let mut raw = BTreeMap::new();
    let mut add = |p: &str, a: Access| {
        raw.insert((p.to_string(), a), 1u64);
    };
    for f in ["a.py", "b.py", "c.py", "d.py"] {
        add(&format!("/opt/app/lib/{f}"), Access::Read);
    }
    add("/opt/app/data/one", Access::Read);
    add("/etc/passwd", Access::Read);
    add("/etc/group", Access::Read);
    add("/etc/missing", Access::Read);
    add("/usr/lib/x/libc.so", Access::Read);
    add("/srv/out/new.tgz", Access::Create);
    add("/srv/in", Access::Read);
    add("/srv/in/f", Access::Read);
    add("/usr/bin/cat", Access::Exec);
    add("/dev/null", Access::Create);
    let existing = [
        ("/opt/app/lib/a.py", false),
        ("/opt/app/lib/b.py", false),
        ("/opt/app/lib/c.py", false),
        ("/opt/app/lib/d.py", false),
        ("/opt/app/data/one", false),
        ("/etc/passwd", false),
        ("/etc/group", false),
        ("/usr/lib/x/libc.so", false),
        ("/srv/out", true),
        ("/srv/in", true),
        ("/srv/in/f", false),
        ("/usr/bin/cat", false),
        ("/dev/null", false),
    ];
    let stat = stat_from(&existing);
    let settled = paths::settle(&raw, &stat);
    assert!(!settled.contains_key("/etc/missing"));
    assert!(settled["/srv/out"].write);
    let system = vec![
        (FsAccess::Read, "/usr/lib".to_string()),
        (FsAccess::Write, "/dev/null".to_string()),
    ];
    let (rules, notes) = paths::rules(&settled, &system);
    let want: Vec<(FsAccess, String)> = [
        (FsAccess::Read, "/etc/group"),
        (FsAccess::Read, "/etc/passwd"),
        (FsAccess::Read, "/opt/app/data/one"),
        (FsAccess::Read, "/opt/app/lib"),
        (FsAccess::Read, "/srv/in"),
        (FsAccess::Write, "/srv/out"),
        (FsAccess::Exec, "/usr/bin/cat"),
    ]
    .iter()
    .map(|(a, p)| (*a, p.to_string()))
    .collect();
    assert_eq!(rules, want);
    assert_eq!(notes.skipped, 2);

    let mut l = Learned::new(X);
    l.paths = settled;
    let r = render(
        &l,
        &RenderOptions {
            paths: true,
            system_paths: system,
            ..Default::default()
        },
    );
    assert!(r.text.contains("fs read /opt/app/lib\n"), "{}", r.text);
    assert!(r.text.contains("fs exec /usr/bin/cat\n"));
    assert!(r.text.contains("# 2 paths beneath the system paths"));
}

#[test]
fn summary_lists_groups_counts_and_paths() {
    let mut l = sample();
    l.paths.insert(
        "/etc/hostname".into(),
        PathUse {
            read: true,
            count: 1,
            ..Default::default()
        },
    );
    let s = summary(&l);
    assert!(
        s.starts_with("7 system calls, 11 calls in all:\n  @default (8)\n"),
        "{s}"
    );
    assert!(
        s.contains("    write                            4\n"),
        "{s}"
    );
    assert!(s.contains("  @process"), "{s}");
    assert!(s.contains("1 paths:\n  r---  /etc/hostname\n"), "{s}");
}

#[test]
fn calls_that_timing_decides_are_implied() {
    let mut l = Learned::new(X);
    let mut m = Mem::default();
    call(&mut l, &mut m, "rt_sigaction", [17, 0, 0, 8, 0, 0]);
    call(&mut l, &mut m, "clone", [0x3d0f00, 0, 0, 0, 0, 0]);
    let names: Vec<&str> = implied(&l).iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["futex", "rt_sigreturn", "restart_syscall"]);
    let r = with_args(&l);
    assert!(r.text.contains("\nallow futex "), "{}", r.text);
    let mut fork_only = Learned::new(X);
    call(&mut fork_only, &mut m, "clone", [0x1200011, 0, 0, 0, 0, 0]);
    call(&mut fork_only, &mut m, "rt_sigreturn", [0; 6]);
    assert!(implied(&fork_only).is_empty());
}
