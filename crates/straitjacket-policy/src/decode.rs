//! A system call as a person reads it: `openat(dfd=AT_FDCWD, filename="/etc/shadow",
//! flags=O_RDONLY|O_CLOEXEC)`, for the supervisor's blocked-call lines.
//!
//! In: the ABI, the call's number and six register values, and a closure that reads a string
//! from the calling process (the supervisor passes one that copies at most
//! [`MAX_STRING`] bytes of the child's memory; tests pass a map). Out: one line of text.
//! Pure: no OS calls. Arguments are decoded by their type in the syscall tables: path-like
//! `const char *` arguments as quoted strings, flags and constants by name from the ABI's
//! constant table, other pointers as hex (`NULL` for 0), integers in decimal (signed or not as
//! the C type says).

use std::fmt::Write as _;

use crate::action::Action;
use crate::arch::{classify, Arch, SyscallDef, SyscallNr, Width};
use crate::ir::eval::sext;

/// The most bytes of a string argument that are read and shown.
pub const MAX_STRING: usize = 256;

/// What the closure returns for a string at an address: the bytes before the NUL, and whether
/// the NUL was found within [`MAX_STRING`] bytes (`false`: shown with `...`).
pub type ReadStr<'a> = dyn FnMut(u64) -> Option<(Vec<u8>, bool)> + 'a;

/// `const char *` arguments that name a file system path (or a similar string worth showing).
const PATH_ARGS: &[&str] = &[
    "filename",
    "pathname",
    "path",
    "oldname",
    "newname",
    "oldpath",
    "newpath",
    "specialfile",
    "library",
    "dev_name",
    "dir_name",
    "type",
    "name",
    "uname",
    "target",
    "linkpath",
    "old",
    "new",
    "from",
    "to",
    "fsname",
    "_key_name",
    "_description",
    "_type",
    "key",
];

/// Decodes one call. `nr` is the number as in `seccomp_data` (x32 with its bit set).
pub fn call(arch: Arch, nr: u32, args: &[u64; 6], read: &mut ReadStr<'_>) -> String {
    let Some(sc) = arch.syscall_by_nr(SyscallNr(nr)) else {
        let a: Vec<String> = args.iter().map(|v| format!("{v:#x}")).collect();
        return format!("syscall({nr}, {})", a.join(", "));
    };
    let mut out = format!("{}(", sc.name);
    let mut first = true;
    for (i, a) in sc.args.iter().enumerate() {
        if omitted(arch, sc, a.name, args) {
            continue;
        }
        let text = arg(arch, sc, i, args, read);
        if !first {
            out.push_str(", ");
        }
        first = false;
        let _ = write!(out, "{}={}", a.name, text);
    }
    out.push(')');
    out
}

/// The name of errno `e` on `arch` (`EPERM`), if it has one.
pub fn errno_name(arch: Arch, e: u16) -> Option<&'static str> {
    arch.constants()
        .iter()
        .find(|(n, v)| {
            *v == i64::from(e)
                && n.starts_with('E')
                && !n.starts_with("EPOLL")
                && n.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
        .map(|(n, _)| *n)
}

/// An action as a policy would write it, errno by name: `errno(EPERM)`, `kill-process`.
pub fn action(arch: Arch, a: Action) -> String {
    match a {
        Action::Errno(e) => match errno_name(arch, e) {
            Some(n) => format!("errno({n})"),
            None => a.to_string(),
        },
        _ => a.to_string(),
    }
}

/// `mode` of open/openat means nothing without O_CREAT or O_TMPFILE.
fn omitted(arch: Arch, sc: &SyscallDef, arg: &str, args: &[u64; 6]) -> bool {
    let flags = match (sc.name, arg) {
        ("open", "mode") => args[1],
        ("openat", "mode") => args[2],
        _ => return false,
    };
    let creat = constant(arch, "O_CREAT");
    let tmpfile = constant(arch, "O_TMPFILE") & !constant(arch, "O_DIRECTORY");
    flags & (creat | tmpfile) == 0
}

fn constant(arch: Arch, name: &str) -> u64 {
    arch.constant(name).map_or(0, |v| v as u64)
}

/// One argument's text.
fn arg(arch: Arch, sc: &SyscallDef, i: usize, args: &[u64; 6], read: &mut ReadStr<'_>) -> String {
    let a = sc.args[i];
    let kind = classify(arch, a.c_type);
    let v = args[i] & kind.width.mask();
    if kind.pointer {
        if a.c_type.contains("char") && PATH_ARGS.contains(&a.name) && v != 0 {
            if let Some((bytes, complete)) = read(v) {
                return quote(&bytes, complete);
            }
        }
        return pointer(v);
    }
    value(arch, sc, i, v)
}

/// Argument `i` of `sc`, not a pointer, as text: by name where the tables name it
/// (`AT_FDCWD`, `AF_UNIX`, `TCGETS`, `CLONE_VM|SIGCHLD`, `O_RDONLY|O_CLOEXEC`), else a number.
/// Named forms are constant expressions the policy language reads back to the same value.
pub fn value(arch: Arch, sc: &SyscallDef, i: usize, v: u64) -> String {
    let a = sc.args[i];
    let kind = classify(arch, a.c_type);
    let v = v & kind.width.mask();
    let int = || {
        if kind.signed {
            sext(v, kind.width).to_string()
        } else {
            v.to_string()
        }
    };
    match (sc.name, a.name) {
        (_, "dfd" | "olddfd" | "newdfd" | "fromfd" | "todfd" | "dirfd")
            if sext(v, Width::W32) == -100 =>
        {
            "AT_FDCWD".to_string()
        }
        ("open" | "openat" | "creat", "flags") => open_flags(arch, v),
        (
            "open" | "openat" | "creat" | "mkdir" | "mkdirat" | "chmod" | "fchmod" | "fchmodat",
            "mode",
        ) => {
            format!("0{v:o}")
        }
        ("socket" | "socketpair", "family") => named(arch, v, |n| {
            n.starts_with("AF_") && !AF_ALIASES.contains(&n)
        })
        .unwrap_or_else(int),
        ("socket" | "socketpair", "type") => sock_type(arch, v),
        ("mmap" | "mprotect" | "pkey_mprotect" | "mmap2", "prot") => prot(arch, v),
        ("mmap" | "mmap2", "flags") => bits(arch, v, MAP_FLAGS),
        ("ioctl", "arg") => pointer(v),
        ("ioctl", "cmd") => named(arch, v, ioctl_name).unwrap_or_else(|| format!("{v:#x}")),
        (
            "kill" | "tkill" | "tgkill" | "rt_sigaction" | "rt_sigqueueinfo" | "rt_tgsigqueueinfo"
            | "pidfd_send_signal" | "sigaction" | "signal",
            "sig",
        ) => signal(arch, v),
        ("clone", "clone_flags" | "flags") => clone_flags(arch, v),
        ("unshare", "unshare_flags") | ("setns", "nstype") => bits(arch, v, &[]),
        ("fcntl" | "fcntl64", "cmd") => {
            named(arch, v, |n| FCNTL_CMDS.contains(&n)).unwrap_or_else(int)
        }
        ("prctl", "option") => named(arch, v, |n| {
            n.starts_with("PR_SET_") || n.starts_with("PR_GET_") || n.starts_with("PR_CAPBSET_")
        })
        .unwrap_or_else(int),
        ("ptrace", "request") => named(arch, v, |n| {
            n.starts_with("PTRACE_")
                && !n.starts_with("PTRACE_O_")
                && !n.starts_with("PTRACE_EVENT")
                && !n.starts_with("PTRACE_SYSCALL_INFO")
        })
        .unwrap_or_else(int),
        ("personality", _) => format!("{v:#x}"),
        (_, n) if n.contains("flags") || n.contains("mask") => {
            if v == 0 {
                "0".to_string()
            } else {
                format!("{v:#x}")
            }
        }
        _ => int(),
    }
}

fn pointer(v: u64) -> String {
    if v == 0 {
        "NULL".to_string()
    } else {
        format!("{v:#x}")
    }
}

/// A C string as a quoted literal with non-printables escaped.
pub fn quote(bytes: &[u8], complete: bool) -> String {
    let mut s = String::from("\"");
    for &b in bytes.iter().take(MAX_STRING) {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
    if !complete {
        s.push_str("...");
    }
    s
}

const AF_ALIASES: &[&str] = &["AF_FILE", "AF_LOCAL", "AF_ROUTE", "AF_MAX"];

/// The first constant (in name order) with value `v` among those `pick` accepts.
fn named(arch: Arch, v: u64, pick: impl Fn(&str) -> bool) -> Option<String> {
    arch.constants()
        .iter()
        .find(|(n, c)| *c as u64 & 0xffff_ffff == v & 0xffff_ffff && *c >= 0 && pick(n))
        .map(|(n, _)| n.to_string())
}

fn ioctl_name(n: &str) -> bool {
    (n.starts_with("TIOC") || n.starts_with("TC") || n.starts_with("FIO"))
        && !n.starts_with("TIOCM_")
        && !n.starts_with("TIOCPKT_")
        && !n.starts_with("TIOCSER_")
}

const SIGNALS: &[&str] = &[
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

fn signal(arch: Arch, v: u64) -> String {
    let v32 = v & 0xffff_ffff;
    SIGNALS
        .iter()
        .find(|n| arch.constant(n) == Some(v32 as i64))
        .map_or_else(|| sext(v, Width::W32).to_string(), |n| n.to_string())
}

const OPEN_FLAGS: &[&str] = &[
    "O_CREAT",
    "O_EXCL",
    "O_NOCTTY",
    "O_TRUNC",
    "O_APPEND",
    "O_NONBLOCK",
    "O_SYNC",
    "O_DSYNC",
    "O_ASYNC",
    "O_DIRECT",
    "O_LARGEFILE",
    "O_TMPFILE",
    "O_DIRECTORY",
    "O_NOFOLLOW",
    "O_NOATIME",
    "O_CLOEXEC",
    "O_PATH",
];

fn open_flags(arch: Arch, v: u64) -> String {
    let acc = v & 3;
    let mut out = match acc {
        0 => "O_RDONLY".to_string(),
        1 => "O_WRONLY".to_string(),
        2 => "O_RDWR".to_string(),
        _ => "3".to_string(),
    };
    let rest = bits(arch, v & !3, OPEN_FLAGS);
    if rest != "0" {
        out.push('|');
        out.push_str(&rest);
    }
    out
}

const MAP_FLAGS: &[&str] = &[
    "MAP_SHARED_VALIDATE",
    "MAP_SHARED",
    "MAP_PRIVATE",
    "MAP_FIXED",
    "MAP_ANONYMOUS",
    "MAP_32BIT",
    "MAP_GROWSDOWN",
    "MAP_DENYWRITE",
    "MAP_EXECUTABLE",
    "MAP_LOCKED",
    "MAP_NORESERVE",
    "MAP_POPULATE",
    "MAP_NONBLOCK",
    "MAP_STACK",
    "MAP_HUGETLB",
    "MAP_SYNC",
    "MAP_FIXED_NOREPLACE",
];

const CLONE_FLAGS: &[&str] = &[
    "CLONE_VM",
    "CLONE_FS",
    "CLONE_FILES",
    "CLONE_SIGHAND",
    "CLONE_PIDFD",
    "CLONE_PTRACE",
    "CLONE_VFORK",
    "CLONE_PARENT",
    "CLONE_THREAD",
    "CLONE_NEWNS",
    "CLONE_SYSVSEM",
    "CLONE_SETTLS",
    "CLONE_PARENT_SETTID",
    "CLONE_CHILD_CLEARTID",
    "CLONE_DETACHED",
    "CLONE_UNTRACED",
    "CLONE_CHILD_SETTID",
    "CLONE_NEWCGROUP",
    "CLONE_NEWUTS",
    "CLONE_NEWIPC",
    "CLONE_NEWUSER",
    "CLONE_NEWPID",
    "CLONE_NEWNET",
    "CLONE_IO",
    "CLONE_NEWTIME",
    "CLONE_CLEAR_SIGHAND",
    "CLONE_INTO_CGROUP",
];

const FCNTL_CMDS: &[&str] = &[
    "F_DUPFD",
    "F_GETFD",
    "F_SETFD",
    "F_GETFL",
    "F_SETFL",
    "F_GETLK",
    "F_SETLK",
    "F_SETLKW",
    "F_SETOWN",
    "F_GETOWN",
    "F_SETSIG",
    "F_GETSIG",
    "F_SETOWN_EX",
    "F_GETOWN_EX",
    "F_OFD_GETLK",
    "F_OFD_SETLK",
    "F_OFD_SETLKW",
    "F_SETLEASE",
    "F_GETLEASE",
    "F_NOTIFY",
    "F_DUPFD_CLOEXEC",
    "F_SETPIPE_SZ",
    "F_GETPIPE_SZ",
    "F_ADD_SEALS",
    "F_GET_SEALS",
];

/// `A|B|0x40`: the named bits of `v` in list order (an empty list means the CLONE_ flags),
/// then whatever is left in hex; `0` when no bit is set.
fn bits(arch: Arch, v: u64, names: &[&str]) -> String {
    let names = if names.is_empty() { CLONE_FLAGS } else { names };
    let mut left = v;
    let mut parts: Vec<String> = Vec::new();
    for n in names {
        let Some(c) = arch.constant(n) else { continue };
        let c = c as u64;
        if c != 0 && left & c == c {
            parts.push(n.to_string());
            left &= !c;
        }
    }
    if left != 0 {
        parts.push(format!("{left:#x}"));
    }
    if parts.is_empty() {
        "0".to_string()
    } else {
        parts.join("|")
    }
}

fn prot(arch: Arch, v: u64) -> String {
    if v == 0 {
        return "PROT_NONE".to_string();
    }
    bits(
        arch,
        v,
        &[
            "PROT_READ",
            "PROT_WRITE",
            "PROT_EXEC",
            "PROT_SEM",
            "PROT_GROWSDOWN",
            "PROT_GROWSUP",
        ],
    )
}

fn sock_type(arch: Arch, v: u64) -> String {
    let base = v & 0xf;
    let mut out = named(arch, base, |n| {
        n.starts_with("SOCK_") && !matches!(n, "SOCK_CLOEXEC" | "SOCK_NONBLOCK")
    })
    .unwrap_or_else(|| base.to_string());
    let rest = bits(arch, v & !0xf, &["SOCK_NONBLOCK", "SOCK_CLOEXEC"]);
    if rest != "0" {
        out.push('|');
        out.push_str(&rest);
    }
    out
}

fn clone_flags(arch: Arch, v: u64) -> String {
    let sig = v & 0xff;
    let flags = bits(arch, v & !0xff, CLONE_FLAGS);
    match (flags.as_str(), sig) {
        (f, 0) => f.to_string(),
        ("0", s) => signal(arch, s),
        (f, s) => format!("{f}|{}", signal(arch, s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(name: &str, args: [u64; 6]) -> String {
        let arch = Arch::X86_64;
        let nr = arch.syscall(name).unwrap().nr;
        let mut read = |addr: u64| match addr {
            0x1000 => Some((b"/etc/shadow".to_vec(), true)),
            0x2000 => Some((b"a\"b\n\x01".to_vec(), true)),
            0x3000 => Some((vec![b'x'; MAX_STRING], false)),
            _ => None,
        };
        call(arch, nr, &args, &mut read)
    }

    #[test]
    fn open_calls() {
        let at_fdcwd = (-100i64) as u64;
        assert_eq!(
            dec("openat", [at_fdcwd, 0x1000, 0, 0o644, 0, 0]),
            r#"openat(dfd=AT_FDCWD, filename="/etc/shadow", flags=O_RDONLY)"#
        );
        assert_eq!(
            dec(
                "openat",
                [
                    at_fdcwd & 0xffff_ffff,
                    0x1000,
                    0o2000000 | 0o101,
                    0o644,
                    0,
                    0
                ]
            ),
            r#"openat(dfd=AT_FDCWD, filename="/etc/shadow", flags=O_WRONLY|O_CREAT|O_CLOEXEC, mode=0644)"#
        );
        assert_eq!(
            dec("open", [0x2000, 2, 0, 0, 0, 0]),
            r#"open(filename="a\"b\n\x01", flags=O_RDWR)"#
        );
        assert_eq!(
            dec("openat", [3, 0x3000, 0, 0, 0, 0]),
            format!(
                "openat(dfd=3, filename=\"{}\"..., flags=O_RDONLY)",
                "x".repeat(256)
            )
        );
        // Unreadable memory: the pointer.
        assert_eq!(
            dec("openat", [3, 0x9000, 0, 0, 0, 0]),
            "openat(dfd=3, filename=0x9000, flags=O_RDONLY)"
        );
    }

    #[test]
    fn constants_by_name() {
        assert_eq!(dec("getpid", [7; 6]), "getpid()");
        assert_eq!(
            dec("ioctl", [0, 0x5412, 0x7ffd, 0, 0, 0]),
            "ioctl(fd=0, cmd=TIOCSTI, arg=0x7ffd)"
        );
        assert_eq!(
            dec("socket", [2, 0x80001, 0, 0, 0, 0]),
            "socket(family=AF_INET, type=SOCK_STREAM|SOCK_CLOEXEC, protocol=0)"
        );
        assert_eq!(
            dec("socket", [1, 2, 0, 0, 0, 0]),
            "socket(family=AF_UNIX, type=SOCK_DGRAM, protocol=0)"
        );
        assert_eq!(
            dec("mprotect", [0x7000, 4096, 5, 0, 0, 0]),
            "mprotect(start=28672, len=4096, prot=PROT_READ|PROT_EXEC)"
        );
        assert_eq!(dec("mmap", [0, 4096, 0, 0x22, u64::MAX, 0]), "mmap(addr=0, len=4096, prot=PROT_NONE, flags=MAP_PRIVATE|MAP_ANONYMOUS, fd=18446744073709551615, off=0)");
        assert_eq!(
            dec("kill", [12, 9, 0, 0, 0, 0]),
            "kill(pid=12, sig=SIGKILL)"
        );
        assert_eq!(
            dec("kill", [(-1i64) as u64, 0, 0, 0, 0, 0]),
            "kill(pid=-1, sig=0)"
        );
        assert_eq!(
            dec("unshare", [0x1000_0000, 0, 0, 0, 0, 0]),
            "unshare(unshare_flags=CLONE_NEWUSER)"
        );
        assert_eq!(dec("clone", [0x0120_0011, 0, 0, 0, 0, 0]), "clone(clone_flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, newsp=0, parent_tidptr=NULL, child_tidptr=NULL, tls=0)");
        assert_eq!(
            dec("ptrace", [0, 0, 0, 0, 0, 0]),
            "ptrace(request=PTRACE_TRACEME, pid=0, addr=0, data=0)"
        );
        assert_eq!(
            dec("write", [1, 0x1000, 3, 0, 0, 0]),
            "write(fd=1, buf=0x1000, count=3)"
        );
    }

    #[test]
    fn actions_name_their_errno() {
        let a = Arch::X86_64;
        assert_eq!(action(a, Action::Errno(1)), "errno(EPERM)");
        assert_eq!(action(a, Action::Errno(38)), "errno(ENOSYS)");
        assert_eq!(action(a, Action::Errno(4000)), "errno(4000)");
        assert_eq!(action(a, Action::KillProcess), "kill-process");
    }

    #[test]
    fn unknown_numbers_are_raw() {
        let mut read = |_| None;
        assert_eq!(
            call(Arch::X86_64, 999, &[1, 2, 3, 4, 5, 6], &mut read),
            "syscall(999, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6)"
        );
    }
}
