//! Settings statements (`net`, `unshare`, `limit`, `timeout`, `hostname`) to a typed
//! [`Confinement`].
//!
//! In: the keyword and words of one `ast::Item::Setting` (the resolver checks each one here
//! and reports a bad value at the statement's position), or the `ir::Setting`s a resolved
//! policy kept. Out: one [`Confinement`] for the runtime (Landlock ports, namespaces,
//! resource limits). The command line's values go through the same parsers
//! ([`parse_size`], [`parse_duration_ms`]) so a value means the same in both places.

use std::collections::BTreeSet;
use std::fmt;

use crate::ir::Setting;

/// A namespace `unshare` may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Namespace {
    Net,
    Pid,
    Ipc,
    Uts,
    Mount,
    User,
    Cgroup,
}

impl Namespace {
    pub const ALL: [Namespace; 7] = [
        Namespace::Net,
        Namespace::Pid,
        Namespace::Ipc,
        Namespace::Uts,
        Namespace::Mount,
        Namespace::User,
        Namespace::Cgroup,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Namespace::Net => "net",
            Namespace::Pid => "pid",
            Namespace::Ipc => "ipc",
            Namespace::Uts => "uts",
            Namespace::Mount => "mount",
            Namespace::User => "user",
            Namespace::Cgroup => "cgroup",
        }
    }

    /// A name as `unshare` and `--unshare` take it (`mnt` is accepted for `mount`).
    /// What `run` isolates by default: namespaces that need no privilege (through a user
    /// namespace) and change nothing an ordinary program relies on. Each cuts the program off
    /// from a class of host objects no system-call rule names: the host's processes (pid:
    /// prlimit64, sched_*, setpriority, ioprio_*, kill, /proc/PID of anyone outside; the
    /// program runs under a small init of the launcher's, so it is not pid 1), the host's
    /// System V IPC objects and POSIX message queues (ipc), and its hostname (uts).
    /// `--share` gives one back.
    pub const DEFAULT_ISOLATION: [Namespace; 3] = [Namespace::Pid, Namespace::Ipc, Namespace::Uts];

    pub fn parse(s: &str) -> Result<Namespace, String> {
        Ok(match s {
            "net" => Namespace::Net,
            "pid" => Namespace::Pid,
            "ipc" => Namespace::Ipc,
            "uts" => Namespace::Uts,
            "mount" | "mnt" => Namespace::Mount,
            "user" => Namespace::User,
            "cgroup" => Namespace::Cgroup,
            other => {
                let mut m = format!("unknown namespace `{other}`");
                if let Some(s) =
                    crate::diag::suggest(other, Namespace::ALL.iter().map(|n| n.name()))
                {
                    m.push_str(&format!(" (did you mean `{s}`?)"));
                }
                m.push_str("; expected net, pid, ipc, uts, mount, user, cgroup or all");
                return Err(m);
            }
        })
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Resource limits; `None` is no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// CPU time of the whole tree, seconds.
    pub cpu: Option<u64>,
    /// Memory, bytes.
    pub mem: Option<u64>,
    /// Processes (and threads) at once.
    pub procs: Option<u64>,
    /// Open files per process.
    pub files: Option<u64>,
    /// Largest file a process may write, bytes.
    pub fsize: Option<u64>,
}

/// Which limit (for reports and merging).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitKind {
    Cpu,
    Mem,
    Procs,
    Files,
    Fsize,
}

impl LimitKind {
    pub fn parse(s: &str) -> Result<LimitKind, String> {
        Ok(match s {
            "cpu" => LimitKind::Cpu,
            "mem" => LimitKind::Mem,
            "procs" => LimitKind::Procs,
            "files" => LimitKind::Files,
            "fsize" => LimitKind::Fsize,
            other => {
                let names = ["cpu", "mem", "procs", "files", "fsize"];
                let mut m = format!("unknown limit `{other}`");
                if let Some(s) = crate::diag::suggest(other, names.iter().copied()) {
                    m.push_str(&format!(" (did you mean `{s}`?)"));
                }
                m.push_str("; expected cpu, mem, procs, files or fsize");
                return Err(m);
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            LimitKind::Cpu => "cpu",
            LimitKind::Mem => "mem",
            LimitKind::Procs => "procs",
            LimitKind::Files => "files",
            LimitKind::Fsize => "fsize",
        }
    }

    /// Parses a value of this limit: seconds for cpu, a size for mem and fsize, a count
    /// otherwise. Zero is refused (it would stop the program before it starts).
    pub fn value(self, s: &str) -> Result<u64, String> {
        let v = match self {
            LimitKind::Cpu => parse_duration_ms(s)?.div_ceil(1000),
            LimitKind::Mem | LimitKind::Fsize => parse_size(s)?,
            LimitKind::Procs | LimitKind::Files => s
                .parse::<u64>()
                .map_err(|_| format!("`{s}` is not a count (expected a whole number)"))?,
        };
        if v == 0 {
            return Err(format!(
                "a {} limit of 0 would stop the program before it starts",
                self.name()
            ));
        }
        Ok(v)
    }

    pub fn get(self, l: &Limits) -> Option<u64> {
        match self {
            LimitKind::Cpu => l.cpu,
            LimitKind::Mem => l.mem,
            LimitKind::Procs => l.procs,
            LimitKind::Files => l.files,
            LimitKind::Fsize => l.fsize,
        }
    }

    pub fn slot(self, l: &mut Limits) -> &mut Option<u64> {
        match self {
            LimitKind::Cpu => &mut l.cpu,
            LimitKind::Mem => &mut l.mem,
            LimitKind::Procs => &mut l.procs,
            LimitKind::Files => &mut l.files,
            LimitKind::Fsize => &mut l.fsize,
        }
    }

    /// The value as a report shows it (`2s`, `64M`, `16`).
    pub fn show(self, v: u64) -> String {
        match self {
            LimitKind::Cpu => format!("{v}s"),
            LimitKind::Mem | LimitKind::Fsize => show_size(v),
            _ => v.to_string(),
        }
    }
}

/// A size in bytes: digits with an optional K, M or G suffix (powers of 1024; `KB`, `KiB`
/// and lower case accepted).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.bytes().take_while(|b| b.is_ascii_digit()).count();
    let (num, suffix) = t.split_at(digits);
    let bad = || format!("`{s}` is not a size (expected digits with an optional K, M or G)");
    if num.is_empty() {
        return Err(bad());
    }
    let n: u64 = num.parse().map_err(|_| bad())?;
    let shift = match suffix.to_ascii_uppercase().as_str() {
        // A bare number is refused: `limit mem 64` meant 64 bytes, which kills any program
        // at once; a size says its unit.
        "" => {
            return Err(format!(
                "`{s}` has no unit: a size is {num}B (bytes), {num}K, {num}M or {num}G"
            ))
        }
        "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(bad()),
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// A size as `64M` when it is a whole number of K/M/G.
pub fn show_size(v: u64) -> String {
    for (shift, unit) in [(30, "G"), (20, "M"), (10, "K")] {
        if v >= 1 << shift && v.is_multiple_of(1 << shift) {
            return format!("{}{unit}", v >> shift);
        }
    }
    v.to_string()
}

/// A duration in milliseconds: a number (seconds) with an optional `ms`, `s`, `m` or `h`.
pub fn parse_duration_ms(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad =
        || format!("`{s}` is not a duration (expected seconds, or a number with ms, s, m or h)");
    let n: f64 = num.parse().map_err(|_| bad())?;
    let scale = match unit {
        "ms" => 1.0,
        "" | "s" => 1000.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return Err(bad()),
    };
    let ms = n * scale;
    if !ms.is_finite() || ms > 1e15 {
        return Err(format!("`{s}` is too long"));
    }
    Ok(ms.ceil() as u64)
}

/// A duration as a report shows it (`5s`, `1500ms`).
pub fn show_ms(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// `HOST:PORT` of a `net connect|bind` rule. `HOST` is an address, a name (resolved when the
/// program starts), or `*` for any address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

pub fn parse_endpoint(s: &str) -> Result<Endpoint, String> {
    let bad = || format!("`{s}` is not HOST:PORT (a port from 0 to 65535)");
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    Ok(Endpoint {
        host: host.to_string(),
        port,
    })
}

/// Everything a policy's settings ask for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Confinement {
    /// `net none`: an empty network namespace with only loopback.
    pub net_none: bool,
    /// `net connect HOST:PORT` (Landlock restricts the port, not the address).
    pub connect: Vec<Endpoint>,
    /// `net bind HOST:PORT`.
    pub bind: Vec<Endpoint>,
    /// `net connect unix:/PATH` or `unix:@NAME` (abstract): the socket's path or name.
    pub connect_unix: Vec<String>,
    /// `net bind unix:/PATH` or `unix:@NAME`.
    pub bind_unix: Vec<String>,
    /// `net connect any`: connects are not restricted by address (a unix socket by path is
    /// still a file, for the `fs` rules to judge). Says so explicitly: a policy with only
    /// `net bind` rules refuses every connect.
    pub connect_any: bool,
    /// `net bind any`: likewise for binds.
    pub bind_any: bool,
    pub unshare: BTreeSet<Namespace>,
    pub limits: Limits,
    /// Wall clock, milliseconds.
    pub timeout_ms: Option<u64>,
    pub hostname: Option<String>,
}

impl Confinement {
    /// Adds one statement; an error names what is wrong with its words.
    pub fn add(&mut self, keyword: &str, words: &[String]) -> Result<(), String> {
        match keyword {
            "net" => match words.first().map(String::as_str) {
                Some("none") if words.len() == 1 => self.net_none = true,
                Some(dir @ ("connect" | "bind")) if words.len() == 2 && words[1] == "any" => {
                    if dir == "connect" {
                        self.connect_any = true;
                    } else {
                        self.bind_any = true;
                    }
                }
                Some(dir @ ("connect" | "bind")) if words.len() > 1 => {
                    if words[1..].iter().any(|w| w == "any") {
                        return Err(format!(
                            "`net {dir} any` stands alone: it allows every address, so naming others beside it says nothing"
                        ));
                    }
                    for w in &words[1..] {
                        if let Some(sock) = w.strip_prefix("unix:") {
                            if !(sock.starts_with('/') || sock.len() > 1 && sock.starts_with('@')) {
                                return Err(format!(
                                    "`{w}`: a unix socket is `unix:/absolute/path` or `unix:@abstract-name`"
                                ));
                            }
                            if sock.len() > 107 {
                                return Err(format!("`{w}`: a unix socket path has at most 107 bytes"));
                            }
                            if dir == "connect" {
                                self.connect_unix.push(sock.to_string());
                            } else {
                                self.bind_unix.push(sock.to_string());
                            }
                            continue;
                        }
                        let e = parse_endpoint(w)?;
                        if dir == "connect" {
                            self.connect.push(e);
                        } else {
                            self.bind.push(e);
                        }
                    }
                }
                _ => {
                    return Err(
                        "expected `net none`, `net connect HOST:PORT|unix:/PATH|any` or `net bind HOST:PORT|unix:/PATH|any`"
                            .into(),
                    )
                }
            },
            "unshare" => {
                for w in words {
                    if w == "all" {
                        self.unshare.extend(Namespace::ALL);
                    } else {
                        self.unshare.insert(Namespace::parse(w)?);
                    }
                }
            }
            "limit" => {
                if !words.len().is_multiple_of(2) {
                    return Err("expected pairs: `limit mem 512M, procs 64`".into());
                }
                for pair in words.chunks(2) {
                    let kind = LimitKind::parse(&pair[0])?;
                    let v = kind.value(&pair[1])?;
                    let slot = kind.slot(&mut self.limits);
                    // Two statements for one limit: the smaller wins.
                    *slot = Some(slot.map_or(v, |old| old.min(v)));
                }
            }
            "timeout" => {
                let [w] = words else {
                    return Err("expected one duration: `timeout 30s`".into());
                };
                let ms = parse_duration_ms(w)?;
                if ms == 0 {
                    return Err("a timeout of 0 would stop the program before it starts".into());
                }
                self.timeout_ms = Some(self.timeout_ms.map_or(ms, |o| o.min(ms)));
            }
            "hostname" => {
                let [w] = words else {
                    return Err("expected one name: `hostname sandbox`".into());
                };
                check_hostname(w)?;
                self.hostname = Some(w.clone());
            }
            other => return Err(format!("unknown setting `{other}`")),
        }
        Ok(())
    }

    /// The confinement of a resolved policy's settings; the error carries the origin.
    pub fn from_settings(settings: &[Setting]) -> Result<Confinement, String> {
        let mut c = Confinement::default();
        for s in settings {
            c.add(&s.keyword, &s.words).map_err(|e| match &s.origin {
                Some(o) => format!("{o}: {e}"),
                None => e,
            })?;
        }
        Ok(c)
    }

    /// Whether `net connect|bind` rules are given (the network is then allowlisted).
    pub fn net_rules(&self) -> bool {
        self.connect_rules() || self.bind_rules()
    }

    /// Whether any address rule names something (either direction).
    fn names_addresses(&self) -> bool {
        !self.connect.is_empty()
            || !self.connect_unix.is_empty()
            || !self.bind.is_empty()
            || !self.bind_unix.is_empty()
    }

    /// Whether connects are restricted to named addresses (`net connect` rules without
    /// `any`; with bind rules alone, to none).
    pub fn connect_rules(&self) -> bool {
        !self.connect_any && self.names_addresses()
    }

    /// Whether binds are restricted to named addresses, likewise.
    pub fn bind_rules(&self) -> bool {
        !self.bind_any && self.names_addresses()
    }

    /// The namespaces actually needed: `net none` implies net, a hostname uts.
    pub fn namespaces(&self) -> BTreeSet<Namespace> {
        let mut n = self.unshare.clone();
        if self.net_none {
            n.insert(Namespace::Net);
        }
        if self.hostname.is_some() {
            n.insert(Namespace::Uts);
        }
        n
    }
}

/// A hostname the kernel takes: 1 to 64 bytes, letters, digits, `-` and `.`.
pub fn check_hostname(h: &str) -> Result<(), String> {
    if h.is_empty()
        || h.len() > 64
        || !h
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(format!(
            "`{h}` is not a hostname (1 to 64 letters, digits, `-` or `.`)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn values() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("100B"), Ok(100));
        assert_eq!(
            parse_size("64"),
            Err("`64` has no unit: a size is 64B (bytes), 64K, 64M or 64G".to_string())
        );
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("M").is_err());
        assert_eq!(parse_duration_ms("30s"), Ok(30_000));
        assert_eq!(parse_duration_ms("1.5"), Ok(1500));
        assert_eq!(parse_duration_ms("2m"), Ok(120_000));
        assert!(parse_duration_ms("soon").is_err());
        assert_eq!(show_size(64 << 20), "64M");
        assert_eq!(show_ms(5000), "5s");
    }

    #[test]
    fn statements() {
        let mut c = Confinement::default();
        c.add("limit", &w(&["mem", "512M", "procs", "64"])).unwrap();
        c.add("limit", &w(&["mem", "1G"])).unwrap();
        assert_eq!(c.limits.mem, Some(512 << 20));
        assert_eq!(c.limits.procs, Some(64));
        c.add("unshare", &w(&["pid", "net"])).unwrap();
        c.add("timeout", &w(&["30s"])).unwrap();
        c.add("hostname", &w(&["sandbox"])).unwrap();
        c.add("net", &w(&["connect", "127.0.0.1:8080"])).unwrap();
        assert_eq!(c.connect[0].port, 8080);
        assert!(c.namespaces().contains(&Namespace::Uts));
        assert!(c
            .add("limit", &w(&["procs", "0"]))
            .unwrap_err()
            .contains("of 0"));
        assert!(c.add("limit", &w(&["mem", "lots"])).is_err());
        assert!(c
            .add("unshare", &w(&["nett"]))
            .unwrap_err()
            .contains("did you mean `net`"));
        assert!(c.add("net", &w(&["connect", "nope"])).is_err());
        // `any` opens one direction explicitly; bind rules alone still close connects.
        let mut b = Confinement::default();
        b.add("net", &w(&["bind", "*:0"])).unwrap();
        assert!(b.connect_rules() && b.bind_rules());
        b.add("net", &w(&["connect", "any"])).unwrap();
        assert!(!b.connect_rules() && b.bind_rules() && b.net_rules());
        let mut a = Confinement::default();
        a.add("net", &w(&["connect", "any"])).unwrap();
        assert!(!a.net_rules());
        assert!(a.add("net", &w(&["connect", "any", "1.2.3.4:5"])).is_err());
        assert!(c.add("hostname", &w(&["a b"])).is_err());
    }
}
