//! `straitjacket strict`: run a static binary in seccomp strict mode (mode 1), where it may
//! only read, write, exit and rt_sigreturn, and serve its requests on fd 3.
//!
//! The pipeline: read GUEST → `elf::parse` (a bad guest is refused here, exit 2, before any
//! of its code runs) → a [`guest::Plan`] (regions, copies, stack image, fds, limits — all
//! prepared before the fork) → `guest::spawn` (the child maps, enters strict mode and jumps)
//! → the monitor loop (requests on fd 3, the timeout, the child's end) → the report.
//!
//! Exit statuses (documented in docs/strict-protocol.md):
//! - the guest's own exit code when it exits;
//! - 2: bad input (a bad guest binary, flags, policy);
//! - 124: the timeout (`--timeout S`) was reached;
//! - 125: the guest could not be started (mapping failed, mem limit, strict mode refused);
//! - 152: the cpu limit was reached (128 + SIGXCPU);
//! - 159: killed for a forbidden system call, or for a malformed request to the monitor;
//! - 128 + N: killed by another signal N.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use straitjacket_guest::proto;
use straitjacket_policy::elf::{self, GuestImage};
use straitjacket_policy::ir::FsAccess;
use straitjacket_sys::guest::{self, CopyIn, FdMove, LoadError, MapRegion, OpenMode, Stage};
use straitjacket_sys::process::ChildOutcome;

use crate::failure::Failure;
use straitjacket::load::{self, io_reason};

use crate::exit::{
    EXIT_CPU, EXIT_KILLED_BY_POLICY as EXIT_KILLED, EXIT_LAUNCH as EXIT_SETUP, EXIT_TIMEOUT,
};

/// The guest's default stack size, and the least it may have.
const STACK_SIZE: u64 = 8 << 20;
const MIN_STACK: u64 = 64 << 10;
/// Largest guest file read.
const MAX_GUEST_FILE: u64 = 1 << 30;
/// Largest file the monitor serves, and the most the guest may write in all.
const MAX_SERVED: u64 = 1 << 30;
const MAX_OUTPUTS: usize = 16;

#[derive(Args, Debug)]
pub struct StrictArgs {
    /// The guest's standard input (default: straitjacket's).
    #[arg(long, value_name = "FILE")]
    stdin: Option<PathBuf>,
    /// The guest's standard output, created or truncated (default: straitjacket's).
    #[arg(long, value_name = "FILE")]
    stdout: Option<PathBuf>,
    /// The guest's standard error, created or truncated (default: straitjacket's).
    #[arg(long, value_name = "FILE")]
    stderr: Option<PathBuf>,
    /// Give the guest FILE as fd N (read-only; `:rw` read-write, created if missing).
    #[arg(long = "fd", value_name = "N=FILE[:rw]")]
    fds: Vec<String>,
    /// Limits: `cpu=SECONDS` (RLIMIT_CPU), `mem=BYTES` (K, M, G suffixes; the guest's
    /// segments and stack must fit), `stack=BYTES` (default 8M).
    #[arg(long, value_name = "cpu=S,mem=BYTES,stack=BYTES")]
    limit: Vec<String>,
    /// Kill the guest after this many seconds of wall-clock time.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<String>,
    /// Serve the guest's requests on fd 3 under this policy's `fs` rules.
    #[arg(long, value_name = "POLICY")]
    serve: Option<PathBuf>,
    /// The static binary to run.
    guest: PathBuf,
    /// Its arguments (argv[1..]).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// A guest's exit status as a command result (0 is success, anything else is passed on
/// without a message).
fn exit_with(code: i32) -> Result<(), Failure> {
    if code == 0 {
        Ok(())
    } else {
        Err(Failure {
            code,
            message: String::new(),
            rendered: true,
        })
    }
}

/// A size as everywhere else (`64M`; a unit is required): `resolve::settings::parse_size`.
fn parse_bytes(s: &str) -> Option<u64> {
    straitjacket_policy::resolve::settings::parse_size(s).ok()
}

#[derive(Debug, Default)]
struct Limits {
    cpu: Option<u64>,
    mem: Option<u64>,
    stack: Option<u64>,
}

fn parse_limits(specs: &[String]) -> Result<Limits, Failure> {
    let mut l = Limits::default();
    for spec in specs {
        for item in spec.split(',').filter(|s| !s.is_empty()) {
            let (k, v) = item.split_once('=').ok_or_else(|| {
                Failure::input(format!("--limit {item}: expected cpu=SECONDS or mem=BYTES"))
            })?;
            match k {
                "cpu" => {
                    let s = v
                        .trim_end_matches('s')
                        .parse::<u64>()
                        .ok()
                        .filter(|&s| s > 0);
                    l.cpu = Some(s.ok_or_else(|| {
                        Failure::input(format!("--limit cpu={v}: expected whole seconds > 0"))
                    })?);
                }
                "mem" => {
                    l.mem = Some(parse_bytes(v).filter(|&b| b > 0).ok_or_else(|| {
                        Failure::input(format!(
                            "--limit mem={v}: expected a size with its unit: B, K, M or G"
                        ))
                    })?);
                }
                "stack" => {
                    let b = parse_bytes(v)
                        .filter(|b| (MIN_STACK..=1 << 30).contains(b))
                        .map(|b| b.div_ceil(elf::PAGE) * elf::PAGE);
                    l.stack = Some(b.ok_or_else(|| {
                        Failure::input(format!("--limit stack={v}: expected bytes from 64K to 1G"))
                    })?);
                }
                _ => {
                    return Err(Failure::input(format!(
                        "--limit {k}: unknown limit (known: cpu, mem, stack)"
                    )))
                }
            }
        }
    }
    Ok(l)
}

fn open_fd_spec(spec: &str) -> Result<(i32, File), Failure> {
    let bad = || Failure::input(format!("--fd {spec}: expected N=FILE or N=FILE:rw"));
    let (n, rest) = spec.split_once('=').ok_or_else(bad)?;
    let n: i32 = n.parse().map_err(|_| bad())?;
    if !(0..=guest::MAX_GUEST_FD).contains(&n) {
        return Err(Failure::input(format!(
            "--fd {spec}: fd numbers go from 0 to {}",
            guest::MAX_GUEST_FD
        )));
    }
    let (path, rw) = match rest.strip_suffix(":rw") {
        Some(p) => (p, true),
        None => (rest, false),
    };
    let file = if rw {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
    } else {
        File::open(path)
    }
    .map_err(|e| Failure::input(format!("--fd {spec}: {path}: {}", io_reason(&e))))?;
    Ok((n, file))
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    } else {
        format!("{bytes} bytes")
    }
}

fn prot_bits(p: elf::Prot) -> i32 {
    // PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4 (include/uapi/asm-generic/mman-common.h).
    (p.read as i32) | (p.write as i32) << 1 | (p.exec as i32) << 2
}

fn load_error(e: LoadError, mem: Option<u64>) -> Failure {
    let reason = io_reason(&e.io_error());
    let msg = match e.stage {
        Stage::MapSegment if e.errno == 17 => format!(
            "cannot map the guest's segment at {:#x}: the range is already in use by \
             straitjacket's own mappings",
            e.at
        ),
        Stage::MapSegment | Stage::MapStack | Stage::MapTrampoline if e.errno == 12 => format!(
            "cannot map the guest's memory at {:#x}: out of memory{}",
            e.at,
            match mem {
                Some(m) => format!(" (mem limit {})", human(m)),
                None => String::new(),
            }
        ),
        Stage::MapSegment => format!("cannot map the guest's segment at {:#x}: {reason}", e.at),
        Stage::MapStack => format!("cannot map the guest's stack at {:#x}: {reason}", e.at),
        Stage::MapTrampoline => {
            format!(
                "cannot map the loader's trampoline at {:#x}: {reason}",
                e.at
            )
        }
        Stage::Protect => format!(
            "cannot protect the guest's segment at {:#x}: {reason}",
            e.at
        ),
        Stage::Limits => format!("cannot set resource limit {}: {reason}", e.at),
        Stage::Fds => format!("cannot set up the guest's fd {}: {reason}", e.at),
        Stage::Setup | Stage::Unknown(_) => format!("cannot start the guest: {reason}"),
    };
    Failure::with_code(EXIT_SETUP, msg)
}

pub fn run(a: StrictArgs) -> Result<(), Failure> {
    let limits = parse_limits(&a.limit)?;
    let timeout = match &a.timeout {
        None => None,
        // The same syntax as `run --timeout` (`30`, `30s`, `500ms`, `2m`).
        Some(t) => {
            use straitjacket_policy::resolve::settings::{parse_duration_ms, show_ms};
            let ms = parse_duration_ms(t)
                .ok()
                .filter(|&ms| ms > 0)
                .ok_or_else(|| {
                    Failure::input(format!(
                        "--timeout {t}: expected a duration > 0 (seconds, or with ms, s, m or h)"
                    ))
                })?;
            Some((Duration::from_millis(ms), show_ms(ms)))
        }
    };
    let monitor = match &a.serve {
        Some(p) => Some(Monitor::from_policy(p)?),
        None => None,
    };

    // The guest, read whole and validated before anything else happens.
    let gname = a.guest.display().to_string();
    let mut file =
        File::open(&a.guest).map_err(|e| Failure::input(format!("{gname}: {}", io_reason(&e))))?;
    let mut bytes = Vec::new();
    (&mut file)
        .take(MAX_GUEST_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::input(format!("{gname}: {}", io_reason(&e))))?;
    if bytes.len() as u64 > MAX_GUEST_FILE {
        return Err(Failure::input(format!(
            "{gname}: refused: larger than {}",
            human(MAX_GUEST_FILE)
        )));
    }
    let image: GuestImage = elf::parse(&bytes, &elf::Limits::default())
        .map_err(|e| Failure::input(format!("{gname}: refused: {e}")))?;

    // Strict mode can only be entered from mode 0 (kernel/seccomp.c seccomp_may_assign_mode).
    match straitjacket_sys::prctl::seccomp_mode() {
        Ok(0) => {}
        Ok(m) => {
            return Err(Failure::with_code(
                EXIT_SETUP,
                format!(
                    "cannot enter strict mode: straitjacket itself already runs under seccomp \
                     (mode {m}) (hint: run it outside the container's seccomp profile)"
                ),
            ))
        }
        Err(e) => {
            return Err(Failure::with_code(
                EXIT_SETUP,
                format!(
                    "cannot enter strict mode: {} (hint: the kernel lacks CONFIG_SECCOMP)",
                    io_reason(&e)
                ),
            ))
        }
    }

    // Memory: the segments and the stack are all the guest will ever have.
    let stack_size = limits.stack.unwrap_or(STACK_SIZE);
    // (plus the loader's two trampoline pages, which stay mapped).
    let need = image.mapped_bytes() + stack_size + 2 * elf::PAGE;
    let address_space = match limits.mem {
        Some(mem) if need > mem => {
            return Err(Failure::with_code(
                EXIT_SETUP,
                format!(
                    "guest needs {} (segments {} + stack {} + 8 KiB), over the mem limit {}",
                    human(need),
                    human(image.mapped_bytes()),
                    human(stack_size),
                    human(mem)
                ),
            ))
        }
        Some(mem) => Some(
            guest::address_space_size()
                .map_err(|e| Failure::with_code(EXIT_SETUP, format!("/proc/self/statm: {e}")))?
                + mem,
        ),
        None => None,
    };

    // fds: 0, 1, 2 from the caller or the files named; --fd; 3 = the monitor.
    let mut files: Vec<(i32, File)> = Vec::new();
    if let Some(p) = &a.stdin {
        let f = File::open(p)
            .map_err(|e| Failure::input(format!("--stdin {}: {}", p.display(), io_reason(&e))))?;
        files.push((0, f));
    }
    for (n, p) in [(1, &a.stdout), (2, &a.stderr)] {
        if let Some(p) = p {
            let f = File::create(p).map_err(|e| {
                Failure::input(format!(
                    "--std{} {}: {}",
                    if n == 1 { "out" } else { "err" },
                    p.display(),
                    io_reason(&e)
                ))
            })?;
            files.push((n, f));
        }
    }
    for spec in &a.fds {
        files.push(open_fd_spec(spec)?);
    }
    let mut moves: Vec<FdMove> = Vec::new();
    for n in 0..3 {
        if !files.iter().any(|(t, _)| *t == n) {
            moves.push(FdMove { from: n, to: n });
        }
    }
    for (n, f) in &files {
        if moves.iter().any(|m| m.to == *n) && *n >= 3 {
            return Err(Failure::input(format!("--fd {n}: given twice")));
        }
        moves.retain(|m| m.to != *n);
        moves.push(FdMove {
            from: f.as_raw_fd(),
            to: *n,
        });
    }
    let control: Option<(OwnedFd, OwnedFd)> = if monitor.is_some() {
        if moves.iter().any(|m| m.to == proto::CONTROL_FD) {
            return Err(Failure::input(
                "--fd 3: fd 3 is the monitor's control fd with --serve",
            ));
        }
        let pair = guest::socketpair()
            .map_err(|e| Failure::with_code(EXIT_SETUP, format!("socketpair: {e}")))?;
        moves.push(FdMove {
            from: pair.1.as_raw_fd(),
            to: proto::CONTROL_FD,
        });
        Some(pair)
    } else {
        None
    };

    // The plan: everything the child needs, computed here.
    let regions: Vec<MapRegion> = image
        .regions()
        .iter()
        .map(|r| MapRegion {
            start: r.start,
            len: r.end - r.start,
            prot: prot_bits(r.prot),
        })
        .collect();
    let copies: Vec<CopyIn<'_>> = image
        .segments
        .iter()
        .filter(|s| s.filesz > 0)
        .map(|s| CopyIn {
            addr: s.vaddr,
            bytes: &bytes[s.offset as usize..(s.offset + s.filesz) as usize],
        })
        .collect();
    let mut argv: Vec<&[u8]> = vec![gname.as_bytes()];
    argv.extend(a.args.iter().map(|s| s.as_bytes()));
    let mut random = [0u8; 16];
    guest::getrandom(&mut random)
        .map_err(|e| Failure::with_code(EXIT_SETUP, format!("getrandom: {e}")))?;
    let (uid, euid, gid, egid) = guest::ids();
    let aux = elf::AuxInfo {
        random,
        uid: uid.into(),
        euid: euid.into(),
        gid: gid.into(),
        egid: egid.into(),
        hwcap: guest::hwcap(),
    };
    let stack = elf::build_stack(&image, &argv, &[], &aux, elf::STACK_TOP);
    if stack.bytes.len() as u64 > stack_size / 2 {
        return Err(Failure::input(format!(
            "arguments too long: {} of the guest's {} stack",
            human(stack.bytes.len() as u64),
            human(stack_size)
        )));
    }
    let plan = guest::Plan {
        regions: &regions,
        copies: &copies,
        stack: MapRegion {
            start: elf::STACK_TOP - stack_size,
            len: stack_size,
            prot: 3,
        },
        stack_bytes: &stack.bytes,
        sp: stack.sp,
        entry: image.entry,
        fds: &moves,
        cpu_secs: limits.cpu,
        address_space,
        trampoline: elf::TRAMPOLINE,
    };

    let spawned = guest::spawn(&plan)
        .map_err(|e| Failure::with_code(EXIT_SETUP, format!("fork: {}", io_reason(&e))))?;
    let pid = spawned.pid;
    // The guest's ends of the fds stay with the guest only.
    drop(files);
    let control = control.map(|(mine, theirs)| {
        drop(theirs);
        mine
    });
    let pidfd = guest::pidfd_open(pid);
    match spawned.started() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let _ = guest::wait_with_cpu(pid);
            return Err(load_error(e, limits.mem));
        }
        Err(e) => {
            guest::kill(pid, 9);
            let _ = guest::wait_with_cpu(pid);
            return Err(Failure::with_code(
                EXIT_SETUP,
                format!("cannot start the guest: {e}"),
            ));
        }
    }
    let pidfd = pidfd.map_err(|e| {
        guest::kill(pid, 9);
        let _ = guest::wait_with_cpu(pid);
        Failure::with_code(EXIT_SETUP, format!("pidfd_open: {e}"))
    })?;

    let deadline = timeout.as_ref().map(|(d, _)| Instant::now() + *d);
    let mut conn = control.map(|fd| Conn {
        fd: File::from(fd),
        pidfd: pidfd.as_raw_fd(),
        deadline,
    });
    if let Some(c) = &conn {
        let _ = straitjacket_sys::fsops::set_nonblocking(c.fd.as_fd(), true);
    }
    let mut monitor = monitor;
    let end = loop {
        let mut watch = vec![(pidfd.as_raw_fd(), POLLIN)];
        if let Some(c) = &conn {
            watch.push((c.fd.as_raw_fd(), POLLIN));
        }
        let wait_ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break End::Timeout;
                }
                left.as_millis().min(i32::MAX as u128) as i32 + 1
            }
        };
        let ready = guest::poll(&watch, wait_ms).map_err(|e| {
            guest::kill(pid, 9);
            Failure::with_code(EXIT_SETUP, format!("poll: {e}"))
        })?;
        if ready[0] != 0 {
            break End::Exited;
        }
        if ready.len() > 1 && ready[1] != 0 {
            let (Some(c), Some(m)) = (conn.as_mut(), monitor.as_mut()) else {
                unreachable!("the control fd is watched only with a monitor")
            };
            match m.serve_one(c) {
                Ok(()) => {}
                Err(Stop::GuestGone) => conn = None,
                Err(Stop::Timeout) => break End::Timeout,
                Err(Stop::Malformed(why)) => break End::Malformed(why),
                Err(Stop::Io(e)) => {
                    guest::kill(pid, 9);
                    let _ = guest::wait_with_cpu(pid);
                    return Err(Failure::with_code(EXIT_SETUP, format!("monitor: {e}")));
                }
            }
        }
    };
    if !matches!(end, End::Exited) {
        guest::kill(pid, 9);
    }
    let (outcome, cpu_used) = guest::wait_with_cpu(pid)
        .map_err(|e| Failure::with_code(EXIT_SETUP, format!("wait: {e}")))?;
    drop(conn);
    if let Some(m) = monitor {
        m.finish();
    }
    match end {
        End::Timeout => {
            let t = timeout.map(|(_, s)| s).unwrap_or_default();
            return Err(Failure::with_code(
                EXIT_TIMEOUT,
                format!("guest killed: timeout {t} reached"),
            ));
        }
        End::Malformed(why) => {
            return Err(Failure::with_code(
                EXIT_KILLED,
                format!("guest killed: malformed request: {why}"),
            ))
        }
        End::Exited => {}
    }
    const SIGKILL: i32 = 9;
    const SIGXCPU: i32 = 24;
    match outcome {
        ChildOutcome::Exited(code) => exit_with(code),
        ChildOutcome::Signaled(s)
            if s == SIGXCPU
                || (s == SIGKILL
                    && limits
                        .cpu
                        .is_some_and(|c| cpu_used >= Duration::from_secs(c))) =>
        {
            Err(Failure::with_code(
                EXIT_CPU,
                format!(
                    "guest killed: cpu limit {}s reached",
                    limits.cpu.unwrap_or_default()
                ),
            ))
        }
        ChildOutcome::Signaled(SIGKILL) => Err(Failure::with_code(
            EXIT_KILLED,
            "guest killed: forbidden system call in strict mode",
        )),
        ChildOutcome::Signaled(s) => Err(Failure::with_code(
            128 + s,
            format!("guest killed by signal {s} ({})", signal_name(s)),
        )),
    }
}

fn signal_name(s: i32) -> &'static str {
    match s {
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        25 => "SIGXFSZ",
        _ => "signal",
    }
}

const POLLIN: i16 = 0x001;
const POLLOUT: i16 = 0x004;

enum End {
    Exited,
    Timeout,
    Malformed(String),
}

/// Why serving stopped.
#[derive(Debug)]
enum Stop {
    /// The guest closed fd 3 or ended.
    GuestGone,
    Timeout,
    Malformed(String),
    Io(std::io::Error),
}

/// The monitor's end of fd 3, non-blocking: every wait also watches the guest's end and
/// the deadline, so a guest that stops reading cannot stall the monitor past the timeout.
struct Conn {
    fd: File,
    pidfd: i32,
    deadline: Option<Instant>,
}

impl Conn {
    fn wait(&self, events: i16) -> Result<(), Stop> {
        let ms = match self.deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Stop::Timeout);
                }
                left.as_millis().min(i32::MAX as u128) as i32 + 1
            }
        };
        let r = guest::poll(&[(self.fd.as_raw_fd(), events), (self.pidfd, POLLIN)], ms)
            .map_err(Stop::Io)?;
        if r[0] == 0 && r[1] != 0 {
            return Err(Stop::GuestGone);
        }
        Ok(())
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), Stop> {
        let mut got = 0;
        while got < buf.len() {
            match self.fd.read(&mut buf[got..]) {
                Ok(0) => return Err(Stop::GuestGone),
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => self.wait(POLLIN)?,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(Stop::GuestGone),
            }
        }
        Ok(())
    }

    fn write_all(&mut self, mut buf: &[u8]) -> Result<(), Stop> {
        while !buf.is_empty() {
            match self.fd.write(buf) {
                Ok(0) => return Err(Stop::GuestGone),
                Ok(n) => buf = &buf[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => self.wait(POLLOUT)?,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(Stop::GuestGone),
            }
        }
        Ok(())
    }

    fn respond(&mut self, status: u8, payload: &[u8]) -> Result<(), Stop> {
        self.write_all(&response_header(status, payload.len() as u32))?;
        self.write_all(payload)
    }
}

fn response_header(status: u8, len: u32) -> [u8; proto::HEADER_LEN] {
    let mut h = [0u8; proto::HEADER_LEN];
    h[..4].copy_from_slice(&proto::RESPONSE_MAGIC);
    h[4] = proto::VERSION;
    h[5] = status;
    h[8..12].copy_from_slice(&len.to_le_bytes());
    h
}

/// A request, validated: paths checked, sizes within the protocol's limits.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    ReadFile(String),
    WriteOutput(String, Vec<u8>),
    Time,
    Random(usize),
}

/// The largest payload each op may carry (checked before the payload is read).
fn max_payload(op: u8) -> Option<usize> {
    match op {
        proto::OP_READ_FILE => Some(proto::MAX_PATH),
        proto::OP_WRITE_OUTPUT => Some(proto::MAX_REQUEST),
        proto::OP_TIME => Some(0),
        proto::OP_RANDOM => Some(4),
        _ => None,
    }
}

/// Checks a request header; returns `(op, payload length)`.
fn parse_header(h: &[u8; proto::HEADER_LEN]) -> Result<(u8, usize), String> {
    if h[..4] != proto::REQUEST_MAGIC {
        return Err(format!("bad magic {:02x?} (expected \"SJRQ\")", &h[..4]));
    }
    if h[4] != proto::VERSION {
        return Err(format!("unsupported protocol version {} (this is 1)", h[4]));
    }
    let op = h[5];
    if h[6] != 0 || h[7] != 0 {
        return Err("reserved header bytes are not zero".to_string());
    }
    let len = u32::from_le_bytes([h[8], h[9], h[10], h[11]]) as usize;
    let max = max_payload(op).ok_or_else(|| format!("unknown operation {op}"))?;
    if len > max {
        return Err(format!(
            "payload of {len} bytes for operation {op} (at most {max})"
        ));
    }
    Ok((op, len))
}

/// A guest path: UTF-8, absolute, normalized (no empty, `.` or `..` component, no trailing
/// slash), no NUL, at most `MAX_PATH` bytes.
fn check_path(bytes: &[u8]) -> Result<String, String> {
    if bytes.len() > proto::MAX_PATH {
        return Err(format!(
            "path of {} bytes (at most {})",
            bytes.len(),
            proto::MAX_PATH
        ));
    }
    let s = std::str::from_utf8(bytes).map_err(|_| "path is not UTF-8".to_string())?;
    if s.contains('\0') {
        return Err("path contains a NUL byte".to_string());
    }
    if !s.starts_with('/') {
        return Err(format!("path {s:?} is not absolute"));
    }
    if s != "/"
        && s[1..]
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(format!(
            "path {s:?} is not normalized (empty, \".\" or \"..\" component)"
        ));
    }
    Ok(s.to_string())
}

fn parse_payload(op: u8, p: &[u8]) -> Result<Request, String> {
    match op {
        proto::OP_READ_FILE => Ok(Request::ReadFile(check_path(p)?)),
        proto::OP_WRITE_OUTPUT => {
            if p.len() < 2 {
                return Err("write request without a path length".to_string());
            }
            let n = u16::from_le_bytes([p[0], p[1]]) as usize;
            if 2 + n > p.len() {
                return Err(format!("path length {n} runs past the payload"));
            }
            let path = check_path(&p[2..2 + n])?;
            let data = &p[2 + n..];
            if data.len() > proto::MAX_WRITE {
                return Err(format!(
                    "write of {} bytes (at most {})",
                    data.len(),
                    proto::MAX_WRITE
                ));
            }
            Ok(Request::WriteOutput(path, data.to_vec()))
        }
        proto::OP_TIME => Ok(Request::Time),
        proto::OP_RANDOM => {
            let n = u32::from_le_bytes(p.try_into().map_err(|_| "random count is not 4 bytes")?)
                as usize;
            if n > proto::MAX_RANDOM {
                return Err(format!("{n} random bytes (at most {})", proto::MAX_RANDOM));
            }
            Ok(Request::Random(n))
        }
        _ => Err(format!("unknown operation {op}")),
    }
}

/// Lexically normalizes a policy path; `None` if it is relative or has `..`.
fn normalize_rule(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut parts = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => return None,
            c => parts.push(c),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// Where a request path falls: the directory to open beneath and the path below it.
fn beneath(roots: &[String], path: &str) -> Option<(PathBuf, String)> {
    let root = roots
        .iter()
        .filter(|r| r.as_str() == "/" || path == r.as_str() || path.starts_with(&format!("{r}/")))
        .max_by_key(|r| r.len())?;
    if path == root {
        // The rule names the file itself: open it beneath its directory.
        let p = Path::new(path);
        let parent = p.parent()?.to_path_buf();
        let name = p.file_name()?.to_str()?.to_string();
        return Some((parent, name));
    }
    let rel = path[root.len()..].trim_start_matches('/').to_string();
    Some((PathBuf::from(root), rel))
}

/// The monitor: the policy's `fs` rules and the outputs opened so far.
struct Monitor {
    read_roots: Vec<String>,
    write_roots: Vec<String>,
    outputs: HashMap<String, File>,
    written: u64,
}

fn status_for(e: &std::io::Error) -> (u8, &'static str) {
    match e.raw_os_error() {
        Some(2) | Some(20) => (proto::STATUS_NOT_FOUND, "not found"),
        // EXDEV: a step out of the root; ELOOP: a symlink; EACCES, EPERM.
        Some(18) | Some(40) => (proto::STATUS_DENIED, "path leaves the allowed directory"),
        Some(13) | Some(1) => (proto::STATUS_DENIED, "permission denied"),
        _ => (proto::STATUS_IO_ERROR, "I/O error"),
    }
}

impl Monitor {
    fn from_policy(path: &Path) -> Result<Monitor, Failure> {
        let pf = load::load(path, &Default::default())?;
        let mut m = Monitor {
            read_roots: Vec::new(),
            write_roots: Vec::new(),
            outputs: HashMap::new(),
            written: 0,
        };
        for rule in &pf.resolved.policy.fs {
            let Some(root) = normalize_rule(&rule.path) else {
                return Err(Failure::input(format!(
                    "{}: fs {}: the monitor needs an absolute path without \"..\"",
                    path.display(),
                    rule.path
                )));
            };
            match rule.access {
                FsAccess::Read => m.read_roots.push(root),
                FsAccess::Write => m.write_roots.push(root),
                FsAccess::Exec => {}
            }
        }
        Ok(m)
    }

    /// Reads one request from the guest and answers it.
    fn serve_one(&mut self, c: &mut Conn) -> Result<(), Stop> {
        let mut h = [0u8; proto::HEADER_LEN];
        c.read_exact(&mut h)?;
        let (op, len) = parse_header(&h).map_err(Stop::Malformed)?;
        let mut payload = vec![0u8; len];
        c.read_exact(&mut payload)?;
        let req = parse_payload(op, &payload).map_err(Stop::Malformed)?;
        match req {
            Request::ReadFile(path) => self.read_file(c, &path),
            Request::WriteOutput(path, data) => {
                let (status, msg) = self.write_output(&path, &data);
                c.respond(status, msg.as_bytes())
            }
            Request::Time => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                let mut p = [0u8; 12];
                p[..8].copy_from_slice(&now.as_secs().to_le_bytes());
                p[8..].copy_from_slice(&now.subsec_nanos().to_le_bytes());
                c.respond(proto::STATUS_OK, &p)
            }
            Request::Random(n) => {
                let mut buf = vec![0u8; n];
                match guest::getrandom(&mut buf) {
                    Ok(()) => c.respond(proto::STATUS_OK, &buf),
                    Err(_) => c.respond(proto::STATUS_IO_ERROR, b"getrandom failed"),
                }
            }
        }
    }

    fn read_file(&mut self, c: &mut Conn, path: &str) -> Result<(), Stop> {
        let Some((root, rel)) = beneath(&self.read_roots, path) else {
            return c.respond(proto::STATUS_DENIED, b"no fs read rule allows this path");
        };
        let mut f = match guest::open_beneath(&root, &rel, OpenMode::Read) {
            Ok(f) => f,
            Err(e) => {
                let (s, m) = status_for(&e);
                return c.respond(s, m.as_bytes());
            }
        };
        let len = match f.metadata() {
            Ok(md) if md.is_file() => md.len(),
            Ok(_) => return c.respond(proto::STATUS_DENIED, b"not a regular file"),
            Err(_) => return c.respond(proto::STATUS_IO_ERROR, b"I/O error"),
        };
        if len > MAX_SERVED {
            return c.respond(proto::STATUS_TOO_LARGE, b"file larger than 1 GiB");
        }
        // Exactly `len` bytes follow: a file that shrinks meanwhile is padded with zeros,
        // one that grows is cut at `len`.
        c.write_all(&response_header(proto::STATUS_OK, len as u32))?;
        let mut buf = vec![0u8; 1 << 16];
        let mut left = len;
        while left > 0 {
            let want = left.min(buf.len() as u64) as usize;
            let n = match f.read(&mut buf[..want]) {
                Ok(0) | Err(_) => {
                    buf[..want].fill(0);
                    want
                }
                Ok(n) => n,
            };
            c.write_all(&buf[..n])?;
            left -= n as u64;
        }
        Ok(())
    }

    fn write_output(&mut self, path: &str, data: &[u8]) -> (u8, &'static str) {
        if self.written + data.len() as u64 > MAX_SERVED {
            return (proto::STATUS_TOO_LARGE, "more than 1 GiB of output");
        }
        if !self.outputs.contains_key(path) {
            if self.outputs.len() >= MAX_OUTPUTS {
                return (proto::STATUS_TOO_LARGE, "too many outputs (at most 16)");
            }
            let Some((root, rel)) = beneath(&self.write_roots, path) else {
                return (proto::STATUS_DENIED, "no fs write rule allows this path");
            };
            let f = match guest::open_beneath(&root, &rel, OpenMode::Create) {
                Ok(f) => f,
                Err(e) => return status_for(&e),
            };
            match f.metadata() {
                Ok(md) if md.is_file() => {}
                _ => return (proto::STATUS_DENIED, "not a regular file"),
            }
            self.outputs.insert(path.to_string(), f);
        }
        let f = self.outputs.get_mut(path).expect("inserted above");
        match f.write_all(data) {
            Ok(()) => {
                self.written += data.len() as u64;
                (proto::STATUS_OK, "")
            }
            Err(_) => (proto::STATUS_IO_ERROR, "write failed"),
        }
    }

    fn finish(self) {
        for (_, f) in self.outputs {
            let _ = f.sync_data();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(op: u8, len: u32) -> [u8; 12] {
        let mut h = [0u8; 12];
        h[..4].copy_from_slice(b"SJRQ");
        h[4] = 1;
        h[5] = op;
        h[8..].copy_from_slice(&len.to_le_bytes());
        h
    }

    #[test]
    fn headers_are_checked_before_any_payload_is_read() {
        assert_eq!(parse_header(&header(1, 10)), Ok((1, 10)));
        assert!(parse_header(&header(1, 5000))
            .unwrap_err()
            .contains("at most 4096"));
        assert!(parse_header(&header(9, 0))
            .unwrap_err()
            .contains("unknown operation"));
        assert!(parse_header(&header(3, 1)).is_err());
        let mut h = header(1, 1);
        h[0] = b'X';
        assert!(parse_header(&h).unwrap_err().contains("magic"));
        let mut h = header(1, 1);
        h[4] = 2;
        assert!(parse_header(&h).unwrap_err().contains("version"));
        let mut h = header(1, 1);
        h[7] = 1;
        assert!(parse_header(&h).unwrap_err().contains("reserved"));
    }

    #[test]
    fn paths_must_be_absolute_normalized_utf8() {
        assert_eq!(check_path(b"/data/x"), Ok("/data/x".to_string()));
        assert_eq!(check_path(b"/"), Ok("/".to_string()));
        for bad in [
            &b"data/x"[..],
            b"/data/../etc/passwd",
            b"/data/./x",
            b"/data//x",
            b"/data/",
            b"/da\0ta",
            b"/\xff",
            b"",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
        assert!(check_path(&[b'/'; 5000]).is_err());
    }

    #[test]
    fn payloads() {
        let mut w = vec![4, 0];
        w.extend_from_slice(b"/o/hi");
        assert_eq!(
            parse_payload(2, &w),
            Ok(Request::WriteOutput("/o/h".to_string(), b"i".to_vec()))
        );
        assert!(parse_payload(2, &[9, 0, b'/']).is_err());
        assert!(parse_payload(2, &[3, 0, b'/', b'o', b'/']).is_err());
        assert_eq!(
            parse_payload(4, &16u32.to_le_bytes()),
            Ok(Request::Random(16))
        );
        assert!(parse_payload(4, &5000u32.to_le_bytes()).is_err());
        assert!(parse_payload(4, &[1, 2]).is_err());
    }

    #[test]
    fn rules_and_roots() {
        assert_eq!(normalize_rule("/srv//data/"), Some("/srv/data".to_string()));
        assert_eq!(normalize_rule("/"), Some("/".to_string()));
        assert_eq!(normalize_rule("srv"), None);
        assert_eq!(normalize_rule("/srv/../etc"), None);
        let roots = vec!["/srv/data".to_string(), "/etc/hostname".to_string()];
        assert_eq!(
            beneath(&roots, "/srv/data/a/b"),
            Some((PathBuf::from("/srv/data"), "a/b".to_string()))
        );
        assert_eq!(beneath(&roots, "/srv/database"), None);
        assert_eq!(
            beneath(&roots, "/etc/hostname"),
            Some((PathBuf::from("/etc"), "hostname".to_string()))
        );
        assert_eq!(beneath(&roots, "/etc/passwd"), None);
        assert_eq!(
            beneath(&["/".to_string()], "/etc/passwd"),
            Some((PathBuf::from("/"), "etc/passwd".to_string()))
        );
    }

    #[test]
    fn limits_parse() {
        let l = parse_limits(&["cpu=2,mem=64M".to_string(), "stack=100K".to_string()]).unwrap();
        assert_eq!(
            (l.cpu, l.mem, l.stack),
            (Some(2), Some(64 << 20), Some(100 << 10))
        );
        assert!(parse_limits(&["stack=1K".to_string()]).is_err());
        assert!(parse_limits(&["cpu=x".to_string()]).is_err());
        assert!(parse_limits(&["disk=1".to_string()]).is_err());
    }
}
