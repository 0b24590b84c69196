//! OCI `linux.seccomp` profiles (runtime-spec `LinuxSeccomp`), with Docker's and Podman's
//! extensions, to the native language — meaning what runc and libseccomp 2.5 make of them.
//!
//! Two steps: [`expand`] reads the JSON and settles Docker's run-time choices (archMap,
//! includes/excludes for a capability set, an arch and a kernel version) into a plain
//! [`Profile`]; [`to_native`] writes that as policy text. The facts reproduced, each checked
//! against libseccomp 2.5.4 (tests/oci_libseccomp.rs builds every corpus profile with both):
//! - a rule whose action equals the default is dropped (runc, crun);
//! - `args` on different indexes are ANDed; when one index appears twice, every arg becomes a
//!   rule of its own, i.e. OR (runc's "revert to old behavior");
//! - all comparisons are on the raw 64-bit argument, unsigned (`argN`); MASKED_EQ is
//!   `(arg & value) == valueTwo`; on 32-bit ABIs libseccomp compares the low 32 bits;
//! - per syscall, libseccomp keeps the FIRST unconditional rule and drops every conditional rule
//!   of that syscall, before or after it; conditional rules of one action are ORed; overlapping
//!   single-comparison rules of different actions are ordered as libseccomp's tree tries them
//!   (db.c `_db_chain_lt`), anything more tangled gets a warning;
//! - on i386, a rule for a call that i386 also reaches through `socketcall`/`ipc` is added to
//!   the multiplexer too, with arg0 replaced by the call's selector (other args kept as written);
//! - names a target ABI lacks are skipped there, as libseccomp does; names unknown everywhere
//!   are skipped with a warning (runc logs and ignores them).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde_json::{Map, Value};

use super::{num, ImportError, Imported};
use crate::action::Action;
use crate::arch::Arch;
use crate::resolve::lookup;

/// The capabilities Docker gives a container by default (moby `oci/caps/defaults.go`).
pub const DOCKER_DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// The run-time facts Docker's `includes`/`excludes` depend on.
#[derive(Clone, Debug)]
pub struct Options {
    /// The machine's ABI: picks the archMap entry and `includes.arches`.
    pub native: Arch,
    /// The container's bounding capabilities (`CAP_…`); `None`: Docker's defaults.
    pub caps: Option<Vec<String>>,
    /// The host kernel `(major, minor)`; `None`: every `minKernel` condition holds.
    pub kernel: Option<(u32, u32)>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            native: Arch::native(),
            caps: None,
            kernel: None,
        }
    }
}

/// A comparison operator of libseccomp (`enum scmp_compare`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    MaskedEq,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Ne => "SCMP_CMP_NE",
            Op::Lt => "SCMP_CMP_LT",
            Op::Le => "SCMP_CMP_LE",
            Op::Eq => "SCMP_CMP_EQ",
            Op::Ge => "SCMP_CMP_GE",
            Op::Gt => "SCMP_CMP_GT",
            Op::MaskedEq => "SCMP_CMP_MASKED_EQ",
        }
    }
    fn from_name(s: &str) -> Option<Op> {
        [Op::Ne, Op::Lt, Op::Le, Op::Eq, Op::Ge, Op::Gt, Op::MaskedEq]
            .into_iter()
            .find(|o| o.name() == s)
    }
}

/// One `args[]` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Arg {
    pub index: u8,
    pub value: u64,
    pub value_two: u64,
    pub op: Op,
}

impl Arg {
    /// The comparison in the language's raw form.
    pub fn to_text(self) -> String {
        let a = format!("arg{}", self.index);
        let v = num(self.value);
        match self.op {
            Op::Ne => format!("{a} != {v}"),
            Op::Lt => format!("{a} < {v}"),
            Op::Le => format!("{a} <= {v}"),
            Op::Eq => format!("{a} == {v}"),
            Op::Ge => format!("{a} >= {v}"),
            Op::Gt => format!("{a} > {v}"),
            Op::MaskedEq => format!("{a} & {v} == {}", num(self.value_two)),
        }
    }
}

/// One `syscalls[]` entry after Docker's filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Syscall {
    /// `.syscalls[N]`, for comments and messages.
    pub path: String,
    pub names: Vec<String>,
    pub action: Action,
    pub args: Vec<Arg>,
    pub comment: Option<String>,
}

impl Syscall {
    /// The conjunctions libseccomp adds for this entry (runc's splitting). Empty: unconditional.
    pub fn conjunctions(&self) -> Vec<Vec<Arg>> {
        if self.args.is_empty() {
            return Vec::new();
        }
        let mut count = [0usize; 6];
        for a in &self.args {
            count[usize::from(a.index)] += 1;
        }
        if count.iter().any(|&c| c > 1) {
            self.args.iter().map(|a| vec![*a]).collect()
        } else {
            vec![self.args.clone()]
        }
    }
}

/// A plain OCI profile: what a runtime hands to libseccomp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub default: Action,
    /// ABIs the filter covers, native first.
    pub arches: Vec<Arch>,
    /// `architectures` entries straitjacket has no tables for (their calls are killed).
    pub foreign_arches: Vec<String>,
    pub flags: Vec<String>,
    pub listener_path: Option<String>,
    pub listener_metadata: Option<String>,
    pub syscalls: Vec<Syscall>,
    /// Lines for the header: what was assumed and what was dropped.
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

const FLAGS: &[&str] = &[
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
];

/// `SCMP_ARCH_*` to straitjacket's ABI; `Err` with the name when straitjacket lacks it.
fn scmp_arch(name: &str) -> Result<Arch, ()> {
    match name {
        "SCMP_ARCH_X86_64" => Ok(Arch::X86_64),
        "SCMP_ARCH_X86" => Ok(Arch::I386),
        "SCMP_ARCH_X32" => Ok(Arch::X32),
        "SCMP_ARCH_AARCH64" => Ok(Arch::Aarch64),
        _ => Err(()),
    }
}

const KNOWN_SCMP_ARCHES: &[&str] = &[
    "SCMP_ARCH_NATIVE",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_SH",
    "SCMP_ARCH_SHEB",
];

/// `SCMP_ARCH_*` name of an ABI.
pub fn arch_scmp_name(a: Arch) -> &'static str {
    match a {
        Arch::X86_64 => "SCMP_ARCH_X86_64",
        Arch::I386 => "SCMP_ARCH_X86",
        Arch::X32 => "SCMP_ARCH_X32",
        Arch::Aarch64 => "SCMP_ARCH_AARCH64",
    }
}

/// The names Docker's `includes.arches`/`excludes.arches` use for an ABI.
fn docker_arch_names(a: Arch) -> &'static [&'static str] {
    match a {
        Arch::X86_64 => &["amd64", "x86_64"],
        Arch::I386 => &["x86", "386", "i386"],
        Arch::X32 => &["x32"],
        Arch::Aarch64 => &["arm64", "aarch64"],
    }
}

fn path_of(base: &str, key: &str) -> String {
    format!("{base}.{key}")
}

fn get_str(obj: &Map<String, Value>, key: &str, base: &str) -> Result<Option<String>, ImportError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ImportError::new(path_of(base, key), "expected a string")),
    }
}

fn get_u64(obj: &Map<String, Value>, key: &str, base: &str) -> Result<Option<u64>, ImportError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| {
            ImportError::new(
                path_of(base, key),
                format!("expected an unsigned 64-bit integer, found {n}"),
            )
        }),
        Some(_) => Err(ImportError::new(path_of(base, key), "expected a number")),
    }
}

fn get_str_list(
    obj: &Map<String, Value>,
    key: &str,
    base: &str,
) -> Result<Vec<String>, ImportError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(xs)) => xs
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    ImportError::new(format!("{base}.{key}[{i}]"), "expected a string")
                })
            })
            .collect(),
        Some(_) => Err(ImportError::new(path_of(base, key), "expected an array")),
    }
}

/// An errno given as a number or (Podman) a name.
fn errno_value(v: &Value, path: &str) -> Result<u16, ImportError> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s
            .parse::<u64>()
            .ok()
            .or_else(|| Arch::X86_64.constant(s).and_then(|c| u64::try_from(c).ok())),
        _ => None,
    };
    match n {
        Some(n) if n <= u64::from(u16::MAX) => Ok(n as u16),
        Some(n) => Err(ImportError::new(
            path,
            format!("errno {n} does not fit the 16 bits of a seccomp return"),
        )),
        None => Err(ImportError::new(path, format!("unknown errno {v}"))),
    }
}

/// An `SCMP_ACT_*` with its errno; `errno` is `defaultErrnoRet`/`errnoRet` if given.
fn action(
    name: &str,
    errno: Option<u16>,
    path: &str,
    warnings: &mut Vec<String>,
) -> Result<Action, ImportError> {
    let mut data = errno.unwrap_or(1);
    if data > crate::action::MAX_ERRNO && matches!(name, "SCMP_ACT_ERRNO") {
        warnings.push(format!(
            "{path}: errno {data} is above 4095: libseccomp refuses it (runc fails); the kernel would clamp it to 4095 (MAX_ERRNO), and so does the import"
        ));
        data = crate::action::MAX_ERRNO;
    }
    let a = match name {
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
        "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
        "SCMP_ACT_TRAP" => Action::Trap(0),
        "SCMP_ACT_ERRNO" => return Ok(Action::Errno(data)),
        "SCMP_ACT_TRACE" => return Ok(Action::Trace(data)),
        "SCMP_ACT_ALLOW" => Action::Allow,
        "SCMP_ACT_LOG" => Action::Log,
        "SCMP_ACT_NOTIFY" => Action::Notify,
        _ => return Err(ImportError::new(path, format!("unknown action \"{name}\""))),
    };
    if errno.is_some() {
        warnings.push(format!(
            "{path}: an errno is given for {name}, which takes none; ignored (as runc does)"
        ));
    }
    Ok(a)
}

/// The OCI action name and errno field of an action.
pub fn action_name(a: Action) -> (&'static str, Option<u16>) {
    match a {
        Action::KillProcess => ("SCMP_ACT_KILL_PROCESS", None),
        Action::KillThread => ("SCMP_ACT_KILL_THREAD", None),
        Action::Trap(_) => ("SCMP_ACT_TRAP", None),
        Action::Errno(n) => ("SCMP_ACT_ERRNO", Some(n)),
        Action::Trace(n) => ("SCMP_ACT_TRACE", Some(n)),
        Action::Notify => ("SCMP_ACT_NOTIFY", None),
        Action::Log => ("SCMP_ACT_LOG", None),
        Action::Allow => ("SCMP_ACT_ALLOW", None),
    }
}

/// `"X.Y"` of Docker's `minKernel`.
fn parse_kernel(v: &Value, path: &str) -> Result<(u32, u32), ImportError> {
    let bad = || {
        ImportError::new(
            path,
            format!("minKernel must be a string \"MAJOR.MINOR\", found {v}"),
        )
    };
    let s = v.as_str().ok_or_else(bad)?;
    let mut parts = s.split('.');
    let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let a: u32 = a.parse().map_err(|_| bad())?;
    let b: u32 = b.parse().map_err(|_| bad())?;
    if a > 255 || b > 255 || (a, b) == (0, 0) {
        return Err(bad());
    }
    Ok((a, b))
}

/// Parses `"6.1.0-18-amd64"` (a `uname -r`) into `(6, 1)`.
pub fn parse_uname_release(s: &str) -> Option<(u32, u32)> {
    let mut it = s.trim().split(|c: char| !c.is_ascii_digit());
    let a = it.next()?.parse().ok()?;
    let b = it.next()?.parse().ok()?;
    Some((a, b))
}

/// Whether a rule survives Docker's `includes`/`excludes` (moby profiles `setupSeccomp`).
fn docker_filter(
    obj: &Map<String, Value>,
    base: &str,
    opts: &Options,
    caps: &[String],
) -> Result<bool, ImportError> {
    let native = docker_arch_names(opts.native);
    for (key, include) in [("includes", true), ("excludes", false)] {
        let p = path_of(base, key);
        let f = match obj.get(key) {
            None | Some(Value::Null) => continue,
            Some(Value::Object(f)) => f,
            Some(_) => return Err(ImportError::new(p, "expected an object")),
        };
        let arches = get_str_list(f, "arches", &p)?;
        let fcaps = get_str_list(f, "caps", &p)?;
        let kernel = match f.get("minKernel") {
            None | Some(Value::Null) => None,
            Some(v) => Some(parse_kernel(v, &path_of(&p, "minKernel"))?),
        };
        let on_arch = arches.iter().any(|a| native.contains(&a.as_str()));
        let has_cap = |c: &String| caps.iter().any(|x| x.eq_ignore_ascii_case(c));
        let kernel_at_least = |k: (u32, u32)| opts.kernel.is_none_or(|h| h >= k);
        if include {
            if !arches.is_empty() && !on_arch {
                return Ok(false);
            }
            if !fcaps.iter().all(has_cap) {
                return Ok(false);
            }
            if kernel.is_some_and(|k| !kernel_at_least(k)) {
                return Ok(false);
            }
        } else {
            if on_arch || fcaps.iter().any(has_cap) {
                return Ok(false);
            }
            if kernel.is_some_and(|k| opts.kernel.is_some() && kernel_at_least(k)) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Reads an OCI / Docker / Podman profile and settles Docker's run-time choices.
pub fn expand(text: &str, opts: &Options) -> Result<Profile, ImportError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| ImportError::new("", format!("not valid JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| ImportError::new(".", "expected a JSON object (a LinuxSeccomp profile)"))?;
    // A whole OCI config.json: take `.linux.seccomp`.
    if let Some(Value::Object(linux)) = obj.get("linux") {
        if let Some(Value::Object(s)) = linux.get("seccomp") {
            let inner = serde_json::to_string(s).unwrap_or_default();
            return expand(&inner, opts);
        }
    }
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    if !obj.contains_key("defaultAction") && !obj.contains_key("syscalls") {
        return Err(ImportError::new(
            "",
            "no defaultAction and no syscalls: Docker treats this profile as \"seccomp disabled\"",
        ));
    }
    let default_name = get_str(obj, "defaultAction", "")?
        .ok_or_else(|| ImportError::new(".defaultAction", "missing (it is required)"))?;
    // Podman's defaultErrno (a name) wins over defaultErrnoRet.
    let default_errno = match (obj.get("defaultErrno"), obj.get("defaultErrnoRet")) {
        (Some(v), _) if !v.is_null() => Some(errno_value(v, ".defaultErrno")?),
        (_, Some(v)) if !v.is_null() => Some(errno_value(v, ".defaultErrnoRet")?),
        _ => None,
    };
    let default = action(
        &default_name,
        default_errno,
        ".defaultAction",
        &mut warnings,
    )?;

    // Architectures: `architectures`, or Docker's archMap entry for the native ABI.
    if obj.contains_key("architectures") && obj.contains_key("archMap") {
        let both = !matches!(obj.get("architectures"), Some(Value::Null) | None)
            && !matches!(obj.get("archMap"), Some(Value::Null) | None);
        if both {
            return Err(ImportError::new(
                ".archMap",
                "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'",
            ));
        }
    }
    let mut arch_names: Vec<(String, String)> = Vec::new();
    for (i, a) in get_str_list(obj, "architectures", "")?
        .into_iter()
        .enumerate()
    {
        arch_names.push((format!(".architectures[{i}]"), a));
    }
    match obj.get("archMap") {
        None | Some(Value::Null) => {}
        Some(Value::Array(maps)) => {
            for (i, m) in maps.iter().enumerate() {
                let p = format!(".archMap[{i}]");
                let m = m
                    .as_object()
                    .ok_or_else(|| ImportError::new(&p, "expected an object"))?;
                let a = get_str(m, "architecture", &p)?
                    .ok_or_else(|| ImportError::new(path_of(&p, "architecture"), "missing"))?;
                if scmp_arch(&a) == Ok(opts.native) {
                    arch_names.push((path_of(&p, "architecture"), a));
                    for (j, s) in get_str_list(m, "subArchitectures", &p)?
                        .into_iter()
                        .enumerate()
                    {
                        arch_names.push((format!("{p}.subArchitectures[{j}]"), s));
                    }
                    notes.push(format!(
                        "archMap: the entry for {} (the native ABI) is used",
                        arch_scmp_name(opts.native)
                    ));
                }
            }
        }
        Some(_) => return Err(ImportError::new(".archMap", "expected an array")),
    }
    let mut arches = vec![opts.native];
    let mut foreign = Vec::new();
    for (p, a) in arch_names {
        if !KNOWN_SCMP_ARCHES.contains(&a.as_str()) {
            return Err(ImportError::new(p, format!("unknown architecture \"{a}\"")));
        }
        match scmp_arch(&a) {
            Ok(x) if !arches.contains(&x) => arches.push(x),
            Ok(_) => {}
            Err(()) if a == "SCMP_ARCH_NATIVE" => {}
            Err(()) => {
                if !foreign.contains(&a) {
                    foreign.push(a.clone());
                }
            }
        }
    }
    if !foreign.is_empty() {
        warnings.push(format!(
            "straitjacket has no syscall tables for {}: calls of those ABIs are killed",
            foreign.join(", ")
        ));
    }

    let mut flags = Vec::new();
    for (i, f) in get_str_list(obj, "flags", "")?.into_iter().enumerate() {
        if !FLAGS.contains(&f.as_str()) {
            return Err(ImportError::new(
                format!(".flags[{i}]"),
                format!("unknown seccomp flag \"{f}\""),
            ));
        }
        flags.push(f);
    }
    let listener_path = get_str(obj, "listenerPath", "")?;
    let listener_metadata = get_str(obj, "listenerMetadata", "")?;
    if listener_metadata.is_some() && listener_path.is_none() {
        return Err(ImportError::new(
            ".listenerMetadata",
            "listenerMetadata is set without listenerPath",
        ));
    }

    let caps: Vec<String> = match &opts.caps {
        Some(c) => c.clone(),
        None => DOCKER_DEFAULT_CAPS.iter().map(|s| s.to_string()).collect(),
    };
    let mut syscalls = Vec::new();
    let list = match obj.get("syscalls") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(xs)) => xs.clone(),
        Some(_) => return Err(ImportError::new(".syscalls", "expected an array")),
    };
    for (i, s) in list.iter().enumerate() {
        let p = format!(".syscalls[{i}]");
        let s = s
            .as_object()
            .ok_or_else(|| ImportError::new(&p, "expected an object"))?;
        let mut names = get_str_list(s, "names", &p)?;
        if let Some(n) = get_str(s, "name", &p)? {
            if !names.is_empty() {
                return Err(ImportError::new(
                    path_of(&p, "name"),
                    "use either 'name' or 'names'",
                ));
            }
            names.push(n);
        }
        if names.is_empty() {
            return Err(ImportError::new(
                path_of(&p, "names"),
                "missing or empty (a rule names at least one system call)",
            ));
        }
        if !docker_filter(s, &p, opts, &caps)? {
            notes.push(format!(
                "{p} ({}) left out by its includes/excludes",
                names.join(", ")
            ));
            continue;
        }
        let act_name = get_str(s, "action", &p)?
            .ok_or_else(|| ImportError::new(path_of(&p, "action"), "missing (it is required)"))?;
        let errno = match (s.get("errno"), s.get("errnoRet")) {
            (Some(v), _) if !v.is_null() && v.as_str() != Some("") => {
                Some(errno_value(v, &path_of(&p, "errno"))?)
            }
            (_, Some(v)) if !v.is_null() => Some(errno_value(v, &path_of(&p, "errnoRet"))?),
            _ => None,
        };
        let action = action(&act_name, errno, &path_of(&p, "action"), &mut warnings)?;
        let mut args = Vec::new();
        match s.get("args") {
            None | Some(Value::Null) => {}
            Some(Value::Array(xs)) => {
                for (j, a) in xs.iter().enumerate() {
                    let ap = format!("{p}.args[{j}]");
                    let a = a
                        .as_object()
                        .ok_or_else(|| ImportError::new(&ap, "expected an object"))?;
                    let index = get_u64(a, "index", &ap)?
                        .ok_or_else(|| ImportError::new(path_of(&ap, "index"), "missing"))?;
                    if index > 5 {
                        return Err(ImportError::new(
                            path_of(&ap, "index"),
                            format!(
                                "invalid seccomp index {index}: system calls have arguments 0 to 5"
                            ),
                        ));
                    }
                    let value = get_u64(a, "value", &ap)?.unwrap_or(0);
                    let value_two = get_u64(a, "valueTwo", &ap)?.unwrap_or(0);
                    let op_name = get_str(a, "op", &ap)?
                        .ok_or_else(|| ImportError::new(path_of(&ap, "op"), "missing"))?;
                    let op = Op::from_name(&op_name).ok_or_else(|| {
                        ImportError::new(
                            path_of(&ap, "op"),
                            format!("unknown operator \"{op_name}\""),
                        )
                    })?;
                    args.push(Arg {
                        index: index as u8,
                        value,
                        value_two,
                        op,
                    });
                }
            }
            Some(_) => return Err(ImportError::new(path_of(&p, "args"), "expected an array")),
        }
        let comment = get_str(s, "comment", &p)?.filter(|c| !c.is_empty());
        syscalls.push(Syscall {
            path: p,
            names,
            action,
            args,
            comment,
        });
    }
    Ok(Profile {
        default,
        arches,
        foreign_arches: foreign,
        flags,
        listener_path,
        listener_metadata,
        syscalls,
        notes,
        warnings,
    })
}

/// i386 calls also reachable through a multiplexer: (name, multiplexer, selector), as
/// libseccomp 2.5.4 adds them (measured with python3-seccomp).
pub const I386_MULTIPLEXED: &[(&str, &str, u64)] = &[
    ("socket", "socketcall", 1),
    ("bind", "socketcall", 2),
    ("connect", "socketcall", 3),
    ("listen", "socketcall", 4),
    ("accept", "socketcall", 5),
    ("getsockname", "socketcall", 6),
    ("getpeername", "socketcall", 7),
    ("socketpair", "socketcall", 8),
    ("send", "socketcall", 9),
    ("recv", "socketcall", 10),
    ("sendto", "socketcall", 11),
    ("recvfrom", "socketcall", 12),
    ("shutdown", "socketcall", 13),
    ("setsockopt", "socketcall", 14),
    ("getsockopt", "socketcall", 15),
    ("sendmsg", "socketcall", 16),
    ("recvmsg", "socketcall", 17),
    ("accept4", "socketcall", 18),
    ("recvmmsg", "socketcall", 19),
    ("sendmmsg", "socketcall", 20),
    ("semop", "ipc", 1),
    ("semget", "ipc", 2),
    ("semctl", "ipc", 3),
    ("semtimedop", "ipc", 4),
    ("msgsnd", "ipc", 11),
    ("msgrcv", "ipc", 12),
    ("msgget", "ipc", 13),
    ("msgctl", "ipc", 14),
    ("shmat", "ipc", 21),
    ("shmdt", "ipc", 22),
    ("shmget", "ipc", 23),
    ("shmctl", "ipc", 24),
];

/// One comparison with its rule's entry index and action.
type Single = (usize, Action, Arg);

/// One rule as libseccomp receives it, for one name.
#[derive(Clone, Debug)]
struct Piece {
    entry: usize,
    action: Action,
    /// `None`: unconditional.
    conds: Option<Vec<Vec<Arg>>>,
    /// `Some((call, selector))` for a rule libseccomp derives on i386's multiplexer.
    via: Option<(&'static str, u64)>,
}

/// Writes a plain profile as policy text. `source` names the input in the header.
pub fn to_native(p: &Profile, source: &str, opts: &Options) -> Imported {
    let mut warnings = p.warnings.clone();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Imported by `straitjacket import --from oci` from {source}."
    );
    let _ = writeln!(
        out,
        "# Meaning as runc + libseccomp: arguments are raw 64-bit values compared unsigned (argN)."
    );
    let caps = match &opts.caps {
        Some(c) if c.is_empty() => "none".to_string(),
        Some(c) => c.join(","),
        None => "Docker's defaults".to_string(),
    };
    let kernel = opts
        .kernel
        .map_or("any (minKernel always holds)".to_string(), |(a, b)| {
            format!("{a}.{b}")
        });
    let _ = writeln!(
        out,
        "# Assumed for includes/excludes: native ABI {}, capabilities {caps}, kernel {kernel}.",
        opts.native
    );
    for n in &p.notes {
        let _ = writeln!(out, "# {n}");
    }
    if !p.flags.is_empty() {
        let _ = writeln!(
            out,
            "# flags: {} (kept as a note; straitjacket installs with its own flags)",
            p.flags.join(", ")
        );
    }
    if let Some(l) = &p.listener_path {
        let _ = writeln!(
            out,
            "# listenerPath: {l} (notify rules go to straitjacket's supervisor)"
        );
    }
    if let Some(m) = &p.listener_metadata {
        let _ = writeln!(out, "# listenerMetadata: {m}");
    }
    if !p.foreign_arches.is_empty() {
        let _ = writeln!(
            out,
            "# not covered (no tables): {}",
            p.foreign_arches.join(", ")
        );
    }
    let _ = writeln!(out, "default {}", p.default);
    let arches: Vec<&str> = p.arches.iter().map(|a| a.name()).collect();
    let _ = writeln!(out, "arch {}", arches.join(", "));
    let has_i386 = p.arches.contains(&Arch::I386);
    if p.arches.contains(&Arch::X32) && p.syscalls.iter().any(|s| !s.args.is_empty()) {
        warnings.push(
            "x32: libseccomp compares only the low 32 bits of an argument there; straitjacket compares the whole 64-bit register the kernel passes (stricter for allow rules)"
                .to_string(),
        );
    }
    let uses_notify =
        p.syscalls.iter().any(|s| s.action == Action::Notify) || p.default == Action::Notify;
    if uses_notify && p.listener_path.is_none() {
        warnings.push(
            "SCMP_ACT_NOTIFY without a listenerPath: a runtime has nobody to answer; straitjacket's supervisor will"
                .to_string(),
        );
    }

    // Which names each ABI knows; names no ABI of the policy knows are skipped.
    let known_here = |n: &str| p.arches.iter().any(|a| lookup(*a, n).is_some());
    let known_anywhere = |n: &str| Arch::ALL.iter().any(|a| lookup(*a, n).is_some());

    // Pieces per name, in JSON order (libseccomp's insertion order).
    let mut pieces: BTreeMap<String, Vec<Piece>> = BTreeMap::new();
    let mut unknown: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, s) in p.syscalls.iter().enumerate() {
        if s.action == p.default {
            continue;
        }
        let conj = s.conjunctions();
        let conds = (!conj.is_empty()).then_some(conj);
        let mut seen = BTreeSet::new();
        for n in &s.names {
            if !seen.insert(n.as_str()) {
                continue;
            }
            if !known_here(n) {
                let multiplexed = has_i386 && I386_MULTIPLEXED.iter().any(|(m, _, _)| m == n);
                if !(known_anywhere(n) || multiplexed) {
                    unknown.entry(i).or_default().push(n.clone());
                }
            } else {
                pieces.entry(n.clone()).or_default().push(Piece {
                    entry: i,
                    action: s.action,
                    conds: conds.clone(),
                    via: None,
                });
            }
            if has_i386 {
                if let Some((_, mux, sel)) = I386_MULTIPLEXED.iter().find(|(m, _, _)| m == n) {
                    let derived = match &conds {
                        None => vec![vec![Arg {
                            index: 0,
                            value: *sel,
                            value_two: 0,
                            op: Op::Eq,
                        }]],
                        Some(cs) => cs
                            .iter()
                            .map(|c| {
                                let mut c: Vec<Arg> =
                                    c.iter().filter(|a| a.index != 0).copied().collect();
                                c.insert(
                                    0,
                                    Arg {
                                        index: 0,
                                        value: *sel,
                                        value_two: 0,
                                        op: Op::Eq,
                                    },
                                );
                                c
                            })
                            .collect(),
                    };
                    pieces.entry(mux.to_string()).or_default().push(Piece {
                        entry: i,
                        action: s.action,
                        conds: Some(derived),
                        via: Some((n_static(n), *sel)),
                    });
                }
            }
        }
    }
    for (i, names) in &unknown {
        warnings.push(format!(
            "{}: unknown system call{} {} skipped (as runc does)",
            p.syscalls[*i].path,
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }

    // libseccomp's merge, per name: the first unconditional rule wins over every other rule of
    // that syscall; conditional rules are kept in order.
    let mut kept: BTreeMap<usize, Vec<(String, Piece)>> = BTreeMap::new();
    let mut reordered: Vec<(String, Vec<Single>)> = Vec::new();
    let mut dropped: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (name, ps) in &pieces {
        if let Some(first_uncond) = ps.iter().position(|x| x.conds.is_none()) {
            let winner = &ps[first_uncond];
            for (k, x) in ps.iter().enumerate() {
                if k == first_uncond {
                    kept.entry(x.entry)
                        .or_default()
                        .push((name.clone(), x.clone()));
                    continue;
                }
                if x.conds.is_none() && x.action != winner.action {
                    warnings.push(format!(
                        "{}: {name} is already {} unconditionally by {}; libseccomp refuses this second rule (runc fails), it is left out",
                        p.syscalls[x.entry].path, winner.action, p.syscalls[winner.entry].path
                    ));
                }
                dropped.entry(x.entry).or_default().push(format!(
                    "{name} (overridden by {})",
                    p.syscalls[winner.entry].path
                ));
            }
            continue;
        }
        let actions: BTreeSet<Action> = ps.iter().map(|x| x.action).collect();
        let single = ps
            .iter()
            .all(|x| x.conds.iter().flatten().all(|c| c.len() == 1));
        if actions.len() > 1 && single && may_overlap(ps) {
            // One comparison per rule: libseccomp keeps the nodes of one level sorted
            // (db.c `_db_chain_lt`: higher argument first, then EQ/NE/MASKED_EQ before LT/LE
            // before GE/GT, then by value) and the first that matches decides.
            let mut flat: Vec<Single> = ps
                .iter()
                .flat_map(|x| {
                    x.conds
                        .iter()
                        .flatten()
                        .map(move |c| (x.entry, x.action, c[0]))
                })
                .collect();
            flat = libseccomp_sort(flat);
            warnings.push(format!(
                "{name}: rules of different actions ({}) overlap; they are ordered as libseccomp's decision tree tries them (exact for values below 2^32 in straitjacket's tests; for wider values libseccomp's tree can fail to fall back to a later rule, which no order reproduces)",
                actions.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
            ));
            reordered.push((name.clone(), flat));
            continue;
        }
        if actions.len() > 1 && may_overlap(ps) {
            warnings.push(format!(
                "{name}: conditional rules with different actions ({}) may overlap; libseccomp merges them into one decision tree, straitjacket tries them in file order",
                actions.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
            ));
        }
        for x in ps {
            kept.entry(x.entry)
                .or_default()
                .push((name.clone(), x.clone()));
        }
    }

    let has_fitting_values = |cs: &[Vec<Arg>]| {
        cs.iter()
            .flatten()
            .all(|a| a.value <= u64::from(u32::MAX) && a.value_two <= u64::from(u32::MAX))
    };
    let mut wide_warned = false;
    for (i, s) in p.syscalls.iter().enumerate() {
        let mut head = if s.names.len() > 8 {
            format!("# {}: {} names", s.path, s.names.len())
        } else {
            format!("# {}: {}", s.path, s.names.join(", "))
        };
        if let Some(c) = &s.comment {
            let _ = write!(head, " — {c}");
        }
        out.push('\n');
        let _ = writeln!(out, "{head}");
        if s.action == p.default {
            let _ = writeln!(
                out,
                "#   same action as the default ({}): dropped, as runc does",
                s.action
            );
            continue;
        }
        if let Some(names) = unknown.get(&i) {
            let _ = writeln!(out, "#   unknown, skipped: {}", names.join(", "));
        }
        if let Some(d) = dropped.get(&i) {
            let mut d = d.clone();
            d.sort();
            d.dedup();
            let _ = writeln!(out, "#   dropped as libseccomp does: {}", d.join(", "));
        }
        let Some(ks) = kept.get(&i) else {
            continue;
        };
        // Direct rules: one line for all names of the entry.
        let direct: Vec<&str> = ks
            .iter()
            .filter(|(_, x)| x.via.is_none())
            .map(|(n, _)| n.as_str())
            .collect();
        let cond_text = |cs: &Option<Vec<Vec<Arg>>>| match cs {
            None => String::new(),
            Some(cs) => {
                let parts: Vec<String> = cs
                    .iter()
                    .map(|c| {
                        let t: Vec<String> = c.iter().map(|a| a.to_text()).collect();
                        if c.len() > 1 && cs.len() > 1 {
                            format!("({})", t.join(" && "))
                        } else {
                            t.join(" && ")
                        }
                    })
                    .collect();
                format!(" if {}", parts.join(" || "))
            }
        };
        if !direct.is_empty() {
            let conds = s.conjunctions();
            let conds = (!conds.is_empty()).then_some(conds);
            if has_i386 && !wide_warned && conds.as_deref().is_some_and(|c| !has_fitting_values(c))
            {
                wide_warned = true;
                warnings.push(format!(
                    "{}: a value wider than 32 bits: libseccomp compares only the low 32 bits on i386, straitjacket all 64 (a 32-bit process's arguments are zero-extended, so such a comparison differs)",
                    s.path
                ));
            }
            let _ = writeln!(
                out,
                "{} {}{}",
                s.action,
                direct.join(", "),
                cond_text(&conds)
            );
        }
        for (mux, x) in ks.iter().filter(|(_, x)| x.via.is_some()) {
            let (call, sel) = x.via.unwrap_or(("", 0));
            let _ = writeln!(
                out,
                "# i386: {call} through {mux}({sel}), as libseccomp adds it"
            );
            let _ = writeln!(out, "{} {mux}{}", x.action, cond_text(&x.conds));
        }
    }
    for (name, rules) in &reordered {
        let _ = writeln!(
            out,
            "\n# {name}: overlapping rules of different actions, in the order libseccomp's decision tree tries them"
        );
        for (entry, action, arg) in rules {
            let _ = writeln!(out, "# {}", p.syscalls[*entry].path);
            let _ = writeln!(out, "{action} {name} if {}", arg.to_text());
        }
    }
    Imported {
        text: out,
        warnings,
    }
}

/// The sort key of a comparison among its siblings in libseccomp's tree (greater = tried
/// first): argument, operator class, then value (LT/LE: smaller first).
fn libseccomp_order(a: &Arg) -> (u8, u8, u64) {
    let class = match a.op {
        Op::Eq | Op::Ne | Op::MaskedEq => 3,
        Op::Lt | Op::Le => 2,
        Op::Ge | Op::Gt => 1,
    };
    let datum = if a.op == Op::MaskedEq {
        a.value_two
    } else {
        a.value
    };
    let datum = if matches!(a.op, Op::Lt | Op::Le) {
        !datum
    } else {
        datum
    };
    (a.index, class, datum)
}

/// Orders single comparisons as libseccomp's tree tries them. Values are split in a high and
/// a low word: the high-word nodes of one argument are sorted by operator class and value,
/// equal ones in insertion order; EQ and NE share one high node (`hi == v>>32`), MASKED_EQ
/// its own per mask; within a shared high node the low words sort by value.
fn libseccomp_sort(mut flat: Vec<Single>) -> Vec<Single> {
    flat.sort_by_key(|(_, _, a)| {
        let (i, c, _) = libseccomp_order(a);
        std::cmp::Reverse((i, c, hi_datum(a)))
    });
    let mut out = Vec::new();
    let mut i = 0;
    while i < flat.len() {
        let key = |a: &Arg| {
            let (x, c, _) = libseccomp_order(a);
            (x, c, hi_datum(a))
        };
        let k = key(&flat[i].2);
        let mut j = i;
        while j < flat.len() && key(&flat[j].2) == k {
            j += 1;
        }
        // Groups sharing a high node, by first appearance; inside, by low word.
        let mut groups: Vec<((u8, u64), Vec<Single>)> = Vec::new();
        for x in &flat[i..j] {
            let g = match x.2.op {
                Op::MaskedEq => (1, x.2.value >> 32),
                Op::Eq | Op::Ne => (0, 0),
                _ => (2 + x.2.op as u8, 0),
            };
            match groups.iter_mut().find(|(k, _)| *k == g) {
                Some((_, v)) => v.push(*x),
                None => groups.push((g, vec![*x])),
            }
        }
        for (_, mut g) in groups {
            g.sort_by_key(|(_, _, a)| std::cmp::Reverse(libseccomp_order(a).2 & 0xffff_ffff));
            out.extend(g);
        }
        i = j;
    }
    out
}

fn hi_datum(a: &Arg) -> u64 {
    let d = if a.op == Op::MaskedEq {
        a.value_two
    } else {
        a.value
    };
    let d = if matches!(a.op, Op::Lt | Op::Le) {
        !d
    } else {
        d
    };
    d >> 32
}

/// The name as a static string (the multiplexed table's entry).
fn n_static(n: &str) -> &'static str {
    I386_MULTIPLEXED
        .iter()
        .find(|(m, _, _)| *m == n)
        .map_or("", |(m, _, _)| m)
}

/// Conservatively, whether conditional pieces of different actions can hold together: only
/// equality tests on one shared argument with distinct values are known disjoint.
fn may_overlap(ps: &[Piece]) -> bool {
    let mut seen: Vec<(Action, u8, u64)> = Vec::new();
    for x in ps {
        for c in x.conds.iter().flatten() {
            if c.len() != 1 || c[0].op != Op::Eq {
                return true;
            }
            seen.push((x.action, c[0].index, c[0].value));
        }
    }
    seen.iter().any(|a| {
        seen.iter()
            .any(|b| a.0 != b.0 && (a.1 != b.1 || a.2 == b.2))
    })
}

/// Whether text is a JSON object (an OCI profile) rather than policy text: the first
/// non-space character is `{` and the first string after it is followed by `:` — the ftrace
/// seed table (`{ "sys_read", "fd == 0" },`) has a `,` there.
pub fn looks_like_json(bytes: &[u8]) -> bool {
    let s = String::from_utf8_lossy(bytes);
    let Some(rest) = s.trim_start().strip_prefix('{') else {
        return false;
    };
    let rest = rest.trim_start();
    if rest.starts_with('}') {
        return true;
    }
    let Some(rest) = rest.strip_prefix('"') else {
        return false;
    };
    let Some(end) = rest.find('"') else {
        return false;
    };
    rest[end + 1..].trim_start().starts_with(':')
}

/// The whole import: JSON text to policy text.
pub fn import(text: &str, source: &str, opts: &Options) -> Result<Imported, ImportError> {
    let p = expand(text, opts)?;
    Ok(to_native(&p, source, opts))
}

/// A plain profile back to plain OCI JSON (no Docker extensions), as a runtime would see it.
/// Used to hand the same rules to libseccomp in tests.
pub fn plain_json(p: &Profile) -> String {
    let mut o = Map::new();
    let (d, de) = action_name(p.default);
    o.insert("defaultAction".into(), Value::from(d));
    if let Some(e) = de {
        o.insert("defaultErrnoRet".into(), Value::from(e));
    }
    o.insert(
        "architectures".into(),
        Value::from(
            p.arches
                .iter()
                .map(|a| arch_scmp_name(*a))
                .collect::<Vec<_>>(),
        ),
    );
    if !p.flags.is_empty() {
        o.insert("flags".into(), Value::from(p.flags.clone()));
    }
    let mut calls = Vec::new();
    for s in &p.syscalls {
        let mut c = Map::new();
        c.insert("names".into(), Value::from(s.names.clone()));
        let (a, e) = action_name(s.action);
        c.insert("action".into(), Value::from(a));
        if let Some(e) = e {
            c.insert("errnoRet".into(), Value::from(e));
        }
        if !s.args.is_empty() {
            c.insert(
                "args".into(),
                Value::from(
                    s.args
                        .iter()
                        .map(|a| {
                            serde_json::json!({
                                "index": a.index, "value": a.value,
                                "valueTwo": a.value_two, "op": a.op.name()
                            })
                        })
                        .collect::<Vec<_>>(),
                ),
            );
        }
        calls.push(Value::Object(c));
    }
    o.insert("syscalls".into(), Value::from(calls));
    serde_json::to_string_pretty(&Value::Object(o)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            native: Arch::X86_64,
            caps: None,
            kernel: Some((6, 1)),
        }
    }

    #[test]
    fn errors_carry_the_json_path() {
        let t = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_FOO"}]}]}"#;
        let e = import(t, "t", &opts()).unwrap_err();
        assert_eq!(
            e.to_string(),
            ".syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\""
        );
        let t = r#"{"defaultAction":"SCMP_ACT_NOPE"}"#;
        assert_eq!(import(t, "t", &opts()).unwrap_err().path, ".defaultAction");
        let t = r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_X"]}"#;
        assert_eq!(import(t, "t", &opts()).unwrap_err().path, ".flags[0]");
        let t = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#;
        assert_eq!(
            import(t, "t", &opts()).unwrap_err().path,
            ".syscalls[0].args[0].index"
        );
    }

    #[test]
    fn same_index_args_are_ored_and_default_rules_dropped() {
        let t = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
          {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[
            {"index":0,"value":0,"op":"SCMP_CMP_EQ"},{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]},
          {"names":["mmap"],"action":"SCMP_ACT_ALLOW","args":[
            {"index":2,"value":4,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"},{"index":0,"value":0,"op":"SCMP_CMP_NE"}]},
          {"names":["kexec_load"],"action":"SCMP_ACT_ERRNO"},
          {"names":["nosuchcall"],"action":"SCMP_ACT_ALLOW"}]}"#;
        let i = import(t, "t", &opts()).unwrap();
        assert!(
            i.text
                .contains("allow personality if arg0 == 0 || arg0 == 8"),
            "{}",
            i.text
        );
        assert!(
            i.text.contains("allow mmap if arg2 & 4 == 0 && arg0 != 0"),
            "{}",
            i.text
        );
        assert!(!i.text.contains("errno(1) kexec_load"), "{}", i.text);
        assert!(i.warnings.iter().any(|w| w.contains("nosuchcall")));
    }

    #[test]
    fn unconditional_rule_wins_as_in_libseccomp() {
        let t = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
          {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]},
          {"names":["personality"],"action":"SCMP_ACT_TRAP"}]}"#;
        let i = import(t, "t", &opts()).unwrap();
        assert!(!i.text.contains("allow personality"), "{}", i.text);
        assert!(i.text.contains("trap personality"), "{}", i.text);
    }

    #[test]
    fn docker_extensions() {
        let t = straitjacket_testkit::corpus_file("moby-default.json");
        let p = expand(&t, &opts()).unwrap();
        assert_eq!(p.arches, [Arch::X86_64, Arch::I386, Arch::X32]);
        let names: Vec<&str> = p
            .syscalls
            .iter()
            .flat_map(|s| s.names.iter().map(|n| n.as_str()))
            .collect();
        assert!(names.contains(&"arch_prctl") && names.contains(&"chroot"));
        assert!(!names.contains(&"bpf") && !names.contains(&"arm_fadvise64_64"));
        let old = expand(
            &t,
            &Options {
                kernel: Some((4, 4)),
                ..opts()
            },
        )
        .unwrap();
        assert!(!old
            .syscalls
            .iter()
            .any(|s| s.names.contains(&"ptrace".to_string())));
        let i = to_native(&p, "moby", &opts());
        assert!(i.text.contains("allow socketcall\n") || i.text.contains("socketcall,"));
    }

    #[test]
    fn i386_multiplexer_rules() {
        let t = r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86"],"syscalls":[
          {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2,"op":"SCMP_CMP_EQ"},{"index":1,"value":5,"op":"SCMP_CMP_EQ"}]}]}"#;
        let i = import(t, "t", &opts()).unwrap();
        assert!(
            i.text
                .contains("allow socketcall if arg0 == 1 && arg1 == 5"),
            "{}",
            i.text
        );
    }

    #[test]
    fn tells_json_from_seed_tables() {
        assert!(looks_like_json(
            b"  {\n \"defaultAction\": \"SCMP_ACT_ALLOW\"}"
        ));
        assert!(!looks_like_json(b"{ \"sys_read\", \"fd == 0\" },"));
        assert!(!looks_like_json(b"default allow\n"));
    }

    #[test]
    fn uname_release() {
        assert_eq!(parse_uname_release("6.1.0-18-amd64"), Some((6, 1)));
        assert_eq!(parse_uname_release("3.12.25-gentoo"), Some((3, 12)));
    }
}
