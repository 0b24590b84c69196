//! Loading a strict-mode guest: fork, map its segments and stack, set its fds and limits,
//! enter seccomp mode 1 and jump to its entry point — plus the few calls the parent (the
//! runner and monitor) needs: a pidfd, a socketpair, `poll`, `wait4`, `openat2`.
//!
//! Everything the child does is described by a [`Plan`] the caller prepared before the
//! fork (file bytes read, regions computed, stack image built, files opened): the child
//! only reads the plan and makes system calls; it allocates nothing and never returns into
//! the caller's frames. A failure before strict mode is reported to the parent as a
//! fixed-size record on a pipe ([`LoadError`]); the pipe's write end is closed just before
//! the jump, so the parent sees EOF exactly when the guest is about to run.
//!
//! Strict mode (`SECCOMP_MODE_STRICT`, kernel/seccomp.c `mode1_syscalls`) allows only
//! read, write, exit and rt_sigreturn; any other call ends the process with SIGKILL. The
//! last steps are a trampoline copied to a page of its own: it unmaps all of
//! straitjacket's memory (the guest can read none of it), enters strict mode and jumps,
//! so no code of straitjacket's own runs (or needs a system call) in between.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::last_error;
use crate::process::ChildOutcome;

/// A page-aligned range to map and the protection (`PROT_*`) it ends with.
#[derive(Clone, Copy, Debug)]
pub struct MapRegion {
    pub start: u64,
    pub len: u64,
    pub prot: i32,
}

/// Bytes to copy to an address inside a mapped region.
#[derive(Clone, Copy, Debug)]
pub struct CopyIn<'a> {
    pub addr: u64,
    pub bytes: &'a [u8],
}

/// Make the guest's fd `to` a duplicate of the caller's fd `from`.
#[derive(Clone, Copy, Debug)]
pub struct FdMove {
    pub from: RawFd,
    pub to: RawFd,
}

/// Highest fd a guest may be given; the child parks fds at and above it while moving them.
pub const MAX_GUEST_FD: RawFd = 255;
const PARK_FLOOR: RawFd = 1000;

/// Everything the child does, prepared before the fork.
#[derive(Debug)]
pub struct Plan<'a> {
    /// Mapped read-write first, filled by `copies`, then protected as given.
    pub regions: &'a [MapRegion],
    pub copies: &'a [CopyIn<'a>],
    /// The stack mapping (read-write) and its initial contents, copied to `sp`.
    pub stack: MapRegion,
    pub stack_bytes: &'a [u8],
    pub sp: u64,
    pub entry: u64,
    /// The guest's fds; every other fd is closed. Targets are `0..=MAX_GUEST_FD`.
    pub fds: &'a [FdMove],
    /// `RLIMIT_CPU` in seconds: SIGXCPU at the limit, SIGKILL one second later.
    pub cpu_secs: Option<u64>,
    /// `RLIMIT_AS` in bytes, set before mapping.
    pub address_space: Option<u64>,
    /// Two free pages (in the loader's part of the address space) for the trampoline that
    /// unmaps everything of straitjacket's, enters strict mode and jumps.
    pub trampoline: u64,
}

/// End of the x86_64 user address space with 4-level paging (`TASK_SIZE`); a mapping above
/// it exists only if a program asks for one with a hint, which straitjacket never does.
pub const USER_TOP: u64 = 0x7fff_ffff_f000;
const PAGE: u64 = 4096;
/// Ranges the trampoline's data page can hold (16 bytes each).
const MAX_UNMAP: usize = (PAGE as usize) / 16;

/// The complement of `keep` (page-aligned `(start, len)` ranges) in `0..USER_TOP`: what
/// the trampoline unmaps. Unmapping a range with nothing in it is harmless.
fn unmap_ranges(keep: &[(u64, u64)]) -> Vec<[u64; 2]> {
    let mut keep = keep.to_vec();
    keep.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0u64;
    for (start, len) in keep {
        if start > at {
            out.push([at, start - at]);
        }
        at = at.max(start + len);
    }
    if at < USER_TOP {
        out.push([at, USER_TOP - at]);
    }
    out
}

/// The step of loading that failed in the child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Setup,
    Limits,
    MapSegment,
    Protect,
    MapStack,
    MapTrampoline,
    Fds,
    Unknown(u32),
}

impl Stage {
    fn code(self) -> u32 {
        match self {
            Stage::Setup => 1,
            Stage::Limits => 2,
            Stage::MapSegment => 3,
            Stage::Protect => 4,
            Stage::MapStack => 5,
            Stage::Fds => 6,
            Stage::MapTrampoline => 7,
            Stage::Unknown(c) => c,
        }
    }
    fn from_code(c: u32) -> Stage {
        match c {
            1 => Stage::Setup,
            2 => Stage::Limits,
            3 => Stage::MapSegment,
            4 => Stage::Protect,
            5 => Stage::MapStack,
            6 => Stage::Fds,
            7 => Stage::MapTrampoline,
            c => Stage::Unknown(c),
        }
    }
}

/// Why the child could not start the guest: the stage, its errno, and the address
/// (of the region) or fd concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub stage: Stage,
    pub errno: i32,
    pub at: u64,
}

impl LoadError {
    pub fn io_error(&self) -> io::Error {
        io::Error::from_raw_os_error(self.errno)
    }
}

/// Exit code of the child when `prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)` itself fails
/// (the caller checks the mode beforehand, so this is a last resort).
pub const STRICT_FAILED_EXIT: i32 = 125;

/// A guest being started: its pid and the read end of the report pipe.
#[derive(Debug)]
pub struct Spawned {
    pub pid: i32,
    report: OwnedFd,
}

impl Spawned {
    /// Waits until the child either jumps to the guest (Ok) or reports a failure.
    pub fn started(&self) -> io::Result<Result<(), LoadError>> {
        let mut rec = [0u8; 16];
        let mut got = 0;
        while got < rec.len() {
            // SAFETY: the destination is the unfilled tail of `rec`, valid for writes of
            // `rec.len() - got` bytes; the fd is our own pipe.
            let n = unsafe {
                libc::read(
                    self.report.as_raw_fd(),
                    rec[got..].as_mut_ptr().cast(),
                    rec.len() - got,
                )
            };
            if n < 0 {
                let e = last_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if n == 0 {
                break;
            }
            got += n as usize;
        }
        if got < rec.len() {
            return Ok(Ok(()));
        }
        Ok(Err(LoadError {
            stage: Stage::from_code(u32::from_le_bytes(rec[0..4].try_into().expect("4"))),
            errno: i32::from_le_bytes(rec[4..8].try_into().expect("4")),
            at: u64::from_le_bytes(rec[8..16].try_into().expect("8")),
        }))
    }
}

/// Forks a child that loads and enters the guest as `plan` says.
pub fn spawn(plan: &Plan<'_>) -> io::Result<Spawned> {
    let mut keep: Vec<(u64, u64)> = plan.regions.iter().map(|r| (r.start, r.len)).collect();
    keep.push((plan.stack.start, plan.stack.len));
    keep.push((plan.trampoline, 2 * PAGE));
    if keep.iter().any(|&(s, l)| {
        s % PAGE != 0 || l % PAGE != 0 || s.checked_add(l).is_none_or(|end| end > USER_TOP)
    }) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "guest mappings must be page-aligned and below USER_TOP",
        ));
    }
    // The child writes each copy to its address: every byte of it must lie inside one of
    // the regions it maps read-write first, or safe code could make it write anywhere.
    let inside = |c: &CopyIn<'_>| {
        let Some(end) = c.addr.checked_add(c.bytes.len() as u64) else {
            return false;
        };
        plan.regions
            .iter()
            .any(|r| c.addr >= r.start && r.start.checked_add(r.len).is_some_and(|e| end <= e))
    };
    if !plan.copies.iter().all(inside) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a guest copy lies outside the regions mapped for it",
        ));
    }
    let unmap = unmap_ranges(&keep);
    let rseq = rseq_area();
    if unmap.len() > MAX_UNMAP {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many separate guest regions",
        ));
    }
    if plan.fds.len() > 64 || plan.fds.iter().any(|m| m.to < 0 || m.to > MAX_GUEST_FD) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "at most 64 guest fds, numbered 0..=255",
        ));
    }
    let mut pipe = [0 as libc::c_int; 2];
    // SAFETY: `pipe` is a writable array of two c_ints, as pipe2 requires.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(last_error());
    }
    // SAFETY: pipe2 succeeded: both fds are new and owned by nobody else.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(pipe[0]), OwnedFd::from_raw_fd(pipe[1])) };
    // SAFETY: getpid takes nothing and cannot fail.
    let parent = unsafe { libc::getpid() };
    // SAFETY: fork has no memory-safety preconditions; the child runs `child_main`, which
    // only reads `plan` (fully built before the fork), makes system calls, allocates
    // nothing, and ends in `_exit` or the guest — it never returns into our frames.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(last_error());
    }
    if pid == 0 {
        child_main(plan, &unmap, rseq, write_end.as_raw_fd(), parent);
    }
    drop(write_end);
    Ok(Spawned {
        pid,
        report: read_end,
    })
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Writes the failure record and ends the child.
fn fail(report: RawFd, stage: Stage, err: i32, at: u64) -> ! {
    let mut rec = [0u8; 16];
    rec[0..4].copy_from_slice(&stage.code().to_le_bytes());
    rec[4..8].copy_from_slice(&err.to_le_bytes());
    rec[8..16].copy_from_slice(&at.to_le_bytes());
    // SAFETY: `rec` is a live 16-byte array; a short or failed write only loses the report
    // (the parent then sees the exit status).
    unsafe { libc::write(report, rec.as_ptr().cast(), rec.len()) };
    // SAFETY: _exit takes an integer and never returns.
    unsafe { libc::_exit(STRICT_FAILED_EXIT) }
}

fn child_main(
    plan: &Plan<'_>,
    unmap: &[[u64; 2]],
    rseq: Option<(u64, u32)>,
    report: RawFd,
    parent: libc::pid_t,
) -> ! {
    // SAFETY: prctl/getppid/setsid take integers only.
    unsafe {
        if libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        ) < 0
        {
            fail(report, Stage::Setup, errno(), 0);
        }
        if libc::getppid() != parent {
            libc::_exit(STRICT_FAILED_EXIT);
        }
        // A new session: the guest has no controlling terminal (no TIOCSTI anyway).
        libc::setsid();
    }
    // Default signal dispositions and an empty mask (Rust's runtime ignores SIGPIPE).
    // SAFETY: `set` is a local sigset_t initialised by sigemptyset before use; signal()
    // with SIG_DFL installs no handler code.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        for sig in 1..32 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
    }
    let setlimit = |res, soft: u64, hard: u64| {
        let lim = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: `lim` is a live rlimit read by the kernel during the call.
        if unsafe { libc::setrlimit(res, &lim) } < 0 {
            fail(report, Stage::Limits, errno(), res as u64);
        }
    };
    setlimit(libc::RLIMIT_CORE, 0, 0);
    if let Some(s) = plan.cpu_secs {
        setlimit(libc::RLIMIT_CPU, s, s + 1);
    }
    if let Some(bytes) = plan.address_space {
        setlimit(libc::RLIMIT_AS, bytes, bytes);
    }
    // Park the report pipe above every guest fd so moving fds cannot clobber it.
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) takes an fd and an integer.
    let report = match unsafe { libc::fcntl(report, libc::F_DUPFD_CLOEXEC, PARK_FLOOR) } {
        r if r < 0 => fail(report, Stage::Setup, errno(), 0),
        r => r,
    };

    let map = |r: &MapRegion, stage: Stage| {
        // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping: if anything of
        // ours (or anything at all) is in the range, the kernel refuses with EEXIST, so
        // no memory this process uses can be unmapped or aliased here.
        let p = unsafe {
            libc::mmap(
                r.start as *mut libc::c_void,
                r.len as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            fail(report, stage, errno(), r.start);
        }
        if p as u64 != r.start {
            // A kernel without MAP_FIXED_NOREPLACE took it as a hint and put it elsewhere.
            fail(report, stage, libc::EEXIST, r.start);
        }
    };
    for r in plan.regions {
        map(r, Stage::MapSegment);
    }
    for c in plan.copies {
        // SAFETY: `spawn` checked before forking that every copy lies inside a region, and
        // each region was mapped read-write just above (MAP_FIXED_NOREPLACE: nothing of ours
        // is there); the source is a live slice of the plan.
        unsafe {
            std::ptr::copy_nonoverlapping(c.bytes.as_ptr(), c.addr as *mut u8, c.bytes.len())
        };
    }
    for r in plan.regions {
        // SAFETY: the range is one we mapped above; changing its protection affects only
        // the guest's memory, which no code of ours uses.
        if unsafe { libc::mprotect(r.start as *mut libc::c_void, r.len as usize, r.prot) } < 0 {
            fail(report, Stage::Protect, errno(), r.start);
        }
    }
    map(&plan.stack, Stage::MapStack);
    // Only the top of the stack is written now; a transparent huge page there would make
    // the kernel zero 2 MiB (most of the start-up time). Advice only: errors are ignored.
    // SAFETY: madvise on our own fresh mapping changes no contents.
    unsafe {
        libc::madvise(
            plan.stack.start as *mut libc::c_void,
            plan.stack.len as usize,
            libc::MADV_NOHUGEPAGE,
        )
    };
    if plan.sp < plan.stack.start
        || plan.sp + plan.stack_bytes.len() as u64 > plan.stack.start + plan.stack.len
    {
        fail(report, Stage::MapStack, libc::EINVAL, plan.sp);
    }
    // SAFETY: sp..sp+len lies in the stack mapping just made read-write (checked above).
    unsafe {
        std::ptr::copy_nonoverlapping(
            plan.stack_bytes.as_ptr(),
            plan.sp as *mut u8,
            plan.stack_bytes.len(),
        )
    };

    // The trampoline: its code on the first page (read-execute), the ranges to unmap on the
    // second (read-only).
    let tramp = MapRegion {
        start: plan.trampoline,
        len: 2 * PAGE,
        prot: 0,
    };
    map(&tramp, Stage::MapTrampoline);
    let code = trampoline_code();
    // SAFETY: both pages were just mapped read-write; the code is at most a page (checked
    // in `trampoline_code`) and the ranges fit the second page (checked in `spawn`).
    unsafe {
        std::ptr::copy_nonoverlapping(code.as_ptr(), plan.trampoline as *mut u8, code.len());
        std::ptr::copy_nonoverlapping(
            unmap.as_ptr().cast::<u8>(),
            (plan.trampoline + PAGE) as *mut u8,
            unmap.len() * 16,
        );
    }
    // SAFETY: the pages are ours (mapped above); no code of ours runs from them yet.
    unsafe {
        if libc::mprotect(
            plan.trampoline as *mut libc::c_void,
            PAGE as usize,
            libc::PROT_READ | libc::PROT_EXEC,
        ) < 0
            || libc::mprotect(
                (plan.trampoline + PAGE) as *mut libc::c_void,
                PAGE as usize,
                libc::PROT_READ,
            ) < 0
        {
            fail(report, Stage::Protect, errno(), plan.trampoline);
        }
    }

    // fds: park every source above the targets, then dup2 into place, then close the rest.
    let mut parked = [-1 as RawFd; 64];
    for (i, m) in plan.fds.iter().enumerate() {
        // SAFETY: fcntl(F_DUPFD) takes an fd and an integer.
        let p = unsafe { libc::fcntl(m.from, libc::F_DUPFD, PARK_FLOOR) };
        if p < 0 {
            fail(report, Stage::Fds, errno(), m.from as u64);
        }
        parked[i] = p;
    }
    let mut max_target = -1;
    for (i, m) in plan.fds.iter().enumerate() {
        // SAFETY: dup2 takes two fds; `m.to` is below PARK_FLOOR so it is neither a parked
        // fd nor the report pipe.
        if unsafe { libc::dup2(parked[i], m.to) } < 0 {
            fail(report, Stage::Fds, errno(), m.to as u64);
        }
        max_target = max_target.max(m.to);
    }
    for fd in 0..=max_target {
        if !plan.fds.iter().any(|m| m.to == fd) {
            // SAFETY: closing an fd the guest must not have; no Rust object of the child
            // is used after this point.
            unsafe { libc::close(fd) };
        }
    }
    let first = (max_target + 1) as libc::c_uint;
    // SAFETY: close_range takes integers; it closes everything above the guest's fds
    // (the parked copies and the parent's fds) except the report pipe, closed last.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            (report - 1) as libc::c_uint,
            0,
        );
        libc::syscall(
            libc::SYS_close_range,
            (report + 1) as libc::c_uint,
            !0u32,
            0,
        );
    }
    // The kernel writes to a registered rseq area (glibc's, in straitjacket's TLS) whenever
    // the thread is preempted, and kills it with SIGSEGV if the area is gone: unregister it
    // before the trampoline unmaps straitjacket's memory.
    if let Some((area, size)) = rseq {
        let mut done = false;
        for len in [size, 32] {
            // SAFETY: rseq(RSEQ_FLAG_UNREGISTER) only compares its arguments with the
            // registration and forgets it; nothing is written to `area`.
            let r = unsafe { libc::syscall(libc::SYS_rseq, area, len, 1, RSEQ_SIG) };
            if r == 0 {
                done = true;
                break;
            }
        }
        if !done {
            fail(report, Stage::Setup, errno(), area);
        }
    }
    // SAFETY: the report pipe is closed last: the parent reads EOF, the guest is starting.
    unsafe { libc::close(report) };
    jump_to_trampoline(plan, unmap.len())
}

// The trampoline, copied to its own page in the child. In: rdi = the ranges to unmap
// ((start, len) pairs of u64), rsi = their count, rdx = the guest's stack pointer, rcx =
// its entry. It unmaps every range (all of straitjacket's memory: its code, heap, stack,
// libraries, vdso — so none of it is readable by the guest), then
// `prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)` (157, 22, 1), then sets the registers as the
// x86_64 ABI wants them at process entry (rsp = stack, rdx = 0, the others zero) and
// jumps. It is position-independent, uses no stack (straitjacket's is being unmapped) and
// makes no call; if prctl fails it exits with STRICT_FAILED_EXIT (SYS_exit, 60).
std::arch::global_asm!(
    ".pushsection .text.straitjacket_trampoline,\"ax\",@progbits",
    ".globl straitjacket_trampoline_start",
    ".globl straitjacket_trampoline_end",
    "straitjacket_trampoline_start:",
    "mov r12, rdx",
    "mov r13, rcx",
    "mov r14, rdi",
    "mov r15, rsi",
    "3:",
    "test r15, r15",
    "jz 4f",
    "mov rdi, qword ptr [r14]",
    "mov rsi, qword ptr [r14 + 8]",
    "mov eax, 11",
    "syscall",
    "add r14, 16",
    "dec r15",
    "jmp 3b",
    "4:",
    "mov eax, 157",
    "mov edi, 22",
    "mov esi, 1",
    "xor edx, edx",
    "xor r10d, r10d",
    "xor r8d, r8d",
    "syscall",
    "test rax, rax",
    "jnz 5f",
    "mov rsp, r12",
    "xor eax, eax",
    "xor ebx, ebx",
    "xor ecx, ecx",
    "xor edx, edx",
    "xor esi, esi",
    "xor edi, edi",
    "xor ebp, ebp",
    "xor r8d, r8d",
    "xor r9d, r9d",
    "xor r10d, r10d",
    "xor r11d, r11d",
    "xor r12d, r12d",
    "xor r14d, r14d",
    "xor r15d, r15d",
    "cld",
    "jmp r13",
    "5:",
    "mov edi, 125",
    "mov eax, 60",
    "syscall",
    "ud2",
    "straitjacket_trampoline_end:",
    ".popsection",
);

extern "C" {
    static straitjacket_trampoline_start: u8;
    static straitjacket_trampoline_end: u8;
}

/// glibc's rseq signature on x86 (`RSEQ_SIG`, sysdeps/unix/sysv/linux/x86/bits/rseq.h).
const RSEQ_SIG: u32 = 0x5305_3053;

extern "C" {
    /// Offset of the thread's rseq area from the thread pointer, and its size (0 when
    /// glibc did not register one); glibc ≥ 2.35, `sys/rseq.h`.
    static __rseq_offset: isize;
    static __rseq_size: u32;
}

/// The calling thread's registered rseq area and size, if glibc registered one.
fn rseq_area() -> Option<(u64, u32)> {
    // SAFETY: plain reads of two constants glibc sets at start-up and never changes.
    let (offset, size) = unsafe { (__rseq_offset, __rseq_size) };
    if size == 0 {
        return None;
    }
    let tp: u64;
    // SAFETY: reads the thread pointer (the TCB's self pointer at fs:0, x86_64 TLS ABI).
    unsafe {
        std::arch::asm!("mov {}, qword ptr fs:[0]", out(reg) tp, options(nostack, readonly, preserves_flags))
    };
    Some((tp.wrapping_add(offset as u64), size))
}

/// The trampoline's machine code.
fn trampoline_code() -> &'static [u8] {
    let start = std::ptr::addr_of!(straitjacket_trampoline_start);
    let end = std::ptr::addr_of!(straitjacket_trampoline_end);
    let len = end as usize - start as usize;
    assert!(len <= PAGE as usize, "the trampoline fits a page");
    // SAFETY: both symbols are labels of the global_asm block above, in one section, start
    // before end: the bytes between them are its (immutable) code.
    unsafe { std::slice::from_raw_parts(start, len) }
}

/// Jumps to the trampoline copied to `plan.trampoline`.
fn jump_to_trampoline(plan: &Plan<'_>, count: usize) -> ! {
    // SAFETY: the trampoline page holds the code above (read-execute) and the next page
    // the `count` ranges; it never returns. The ranges exclude the guest's regions, stack
    // and the trampoline itself (see `unmap_ranges`), so what it runs on stays mapped.
    unsafe {
        std::arch::asm!(
            "jmp rax",
            in("rax") plan.trampoline,
            in("rdi") plan.trampoline + PAGE,
            in("rsi") count,
            in("rdx") plan.sp,
            in("rcx") plan.entry,
            options(noreturn)
        )
    }
}

/// How the guest ended and the CPU time it used (user + system), from `wait4`.
pub fn wait_with_cpu(pid: i32) -> io::Result<(ChildOutcome, std::time::Duration)> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: an all-zero rusage is a valid value of the plain C struct.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `status` and `ru` are live and writable for the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r < 0 {
            let e = last_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let tv = |t: libc::timeval| {
            std::time::Duration::from_secs(t.tv_sec as u64)
                + std::time::Duration::from_micros(t.tv_usec as u64)
        };
        let cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
        if libc::WIFEXITED(status) {
            return Ok((ChildOutcome::Exited(libc::WEXITSTATUS(status)), cpu));
        }
        if libc::WIFSIGNALED(status) {
            return Ok((ChildOutcome::Signaled(libc::WTERMSIG(status)), cpu));
        }
    }
}

/// Sends `sig` to our child `pid` (not yet reaped, so the id is still ours).
pub fn kill(pid: i32, sig: i32) {
    // SAFETY: kill takes integers.
    unsafe { libc::kill(pid, sig) };
}

/// A pidfd for our child `pid`: readable (POLLIN) once it has ended.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes integers and returns a new fd or -1.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if r < 0 {
        return Err(last_error());
    }
    // SAFETY: the kernel just returned this new fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

/// A connected `AF_UNIX` stream socket pair, both ends close-on-exec.
pub fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a writable array of two c_ints, as socketpair requires.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if r < 0 {
        return Err(last_error());
    }
    // SAFETY: both fds are new and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// `poll` on `(fd, events)`; returns the `revents` of each, or all zero on timeout.
pub fn poll(fds: &[(RawFd, i16)], timeout_ms: i32) -> io::Result<Vec<i16>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&(fd, events)| libc::pollfd {
            fd,
            events,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: `pfds` is a live, writable array of `pfds.len()` pollfd structs.
        let r = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) };
        if r < 0 {
            let e = last_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(pfds.iter().map(|p| p.revents).collect());
    }
}

/// Resolution flags of `openat2` (`include/uapi/linux/openat2.h`).
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_BENEATH: u64 = 0x08;

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// `openat2(dirfd, path, {flags, mode, resolve})`.
pub fn openat2(
    dirfd: RawFd,
    path: &CStr,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> io::Result<OwnedFd> {
    let how = OpenHow {
        flags: flags as u32 as u64,
        mode: u64::from(mode),
        resolve,
    };
    // SAFETY: `path` is NUL-terminated and `how` a live open_how of the size passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dirfd,
            path.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if r < 0 {
        return Err(last_error());
    }
    // SAFETY: the kernel just returned this new fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

/// Fills `buf` from the kernel's random pool (`getrandom(2)`).
pub fn getrandom(buf: &mut [u8]) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: the destination is the unfilled tail of `buf`, valid for its length.
        let r = unsafe { libc::getrandom(buf[got..].as_mut_ptr().cast(), buf.len() - got, 0) };
        if r < 0 {
            let e = last_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        got += r as usize;
    }
    Ok(())
}

/// Real and effective user and group ids: `(uid, euid, gid, egid)`.
pub fn ids() -> (u32, u32, u32, u32) {
    // SAFETY: these calls take nothing and cannot fail.
    unsafe {
        (
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        )
    }
}

/// The CPU capability bits the kernel gave this process (`AT_HWCAP`).
pub fn hwcap() -> u64 {
    // SAFETY: getauxval reads this process's auxiliary vector; it takes an integer.
    unsafe { libc::getauxval(libc::AT_HWCAP) }
}

/// How [`open_beneath`] opens a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    Read,
    /// Write, creating it (mode 0644) or truncating it.
    Create,
}

/// Opens `rel` (a relative path, no `..` expected) beneath the directory `root`, with
/// `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS)`: the kernel
/// refuses any symlink (EXDEV/ELOOP), any `..` or absolute step out of `root`, and any
/// magic link, whatever happens to the tree meanwhile. Non-blocking and never a
/// controlling terminal, so a FIFO or a device cannot stall the caller.
pub fn open_beneath(
    root: &std::path::Path,
    rel: &str,
    mode: OpenMode,
) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(root)?;
    let flags = libc::O_CLOEXEC | libc::O_NOCTTY | libc::O_NOFOLLOW | libc::O_NONBLOCK;
    let flags = match mode {
        OpenMode::Read => flags | libc::O_RDONLY,
        OpenMode::Create => flags | libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
    };
    let rel = std::ffi::CString::new(rel)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
    let fd = openat2(
        dir.as_raw_fd(),
        &rel,
        flags,
        // openat2 refuses a mode without O_CREAT (EINVAL).
        if mode == OpenMode::Create { 0o644 } else { 0 },
        RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
    )?;
    Ok(std::fs::File::from(fd))
}

/// This process's mapped size in bytes (`/proc/self/statm`, first field, in pages).
pub fn address_space_size() -> io::Result<u64> {
    let s = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = s
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad /proc/self/statm"))?;
    Ok(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmap_is_the_complement_of_what_is_kept() {
        let keep = [
            (0x40_1000, 0x2000),
            (0x40_0000, 0x1000),
            (0x50_0000, 0x1000),
        ];
        assert_eq!(
            unmap_ranges(&keep),
            vec![
                [0, 0x40_0000],
                [0x40_3000, 0x50_0000 - 0x40_3000],
                [0x50_1000, USER_TOP - 0x50_1000]
            ]
        );
        assert!(trampoline_code().len() > 16);
    }

    /// A guest region where this process already has a mapping is refused (EEXIST from
    /// MAP_FIXED_NOREPLACE), reported on the pipe before anything runs.
    #[test]
    fn a_region_in_use_is_reported_not_replaced() {
        let addr = 0x7a00_0000_0000u64;
        // SAFETY: a fresh anonymous mapping at a hint address nobody else uses.
        let p = unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                4096,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        assert_eq!(p as u64, addr);
        let regions = [MapRegion {
            start: addr,
            len: 4096,
            prot: libc::PROT_READ,
        }];
        let plan = Plan {
            regions: &regions,
            copies: &[],
            stack: MapRegion {
                start: 0x7b00_0000_0000,
                len: 4096,
                prot: 3,
            },
            stack_bytes: &[],
            sp: 0x7b00_0000_0000,
            entry: addr,
            fds: &[],
            cpu_secs: None,
            address_space: None,
            trampoline: 0x7c00_0000_0000,
        };
        let s = spawn(&plan).unwrap();
        let err = s.started().unwrap().unwrap_err();
        assert_eq!(err.stage, Stage::MapSegment);
        assert_eq!(err.errno, libc::EEXIST);
        assert_eq!(err.at, addr);
        let (outcome, _) = wait_with_cpu(s.pid).unwrap();
        assert_eq!(outcome, ChildOutcome::Exited(STRICT_FAILED_EXIT));
    }

    /// A copy that reaches past its region (or lies in none, or wraps the address space)
    /// is refused before anything forks: the child writes copies without a check of its own.
    #[test]
    fn a_copy_outside_the_regions_is_refused_before_fork() {
        let regions = [MapRegion {
            start: 0x7a10_0000_0000,
            len: 4096,
            prot: libc::PROT_READ,
        }];
        let bytes = [0u8; 16];
        for addr in [0x7a10_0000_0ff8u64, 0x5555_0000_0000, u64::MAX - 4] {
            let copies = [CopyIn {
                addr,
                bytes: &bytes,
            }];
            let plan = Plan {
                regions: &regions,
                copies: &copies,
                stack: MapRegion {
                    start: 0x7b10_0000_0000,
                    len: 4096,
                    prot: 3,
                },
                stack_bytes: &[],
                sp: 0x7b10_0000_0000,
                entry: regions[0].start,
                fds: &[],
                cpu_secs: None,
                address_space: None,
                trampoline: 0x7c10_0000_0000,
            };
            let e = spawn(&plan).map(|_| ()).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{addr:#x}");
            assert!(e.to_string().contains("outside the regions"), "{e}");
        }
    }
}
