//! A worker that opens what it needs, then confines itself for the rest of its life.
//!
//! ```text
//! cargo run --example worker -- /etc/hostname
//! ```
//! It reads the file named on the command line (default: /etc/hostname), applies a policy
//! that allows reading and writing open descriptors but no new files, shows that opening
//! another file now fails with EACCES, and writes what it read to stdout.

use std::fs::File;
use std::io::{Read, Write};

use straitjacket::Policy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/etc/hostname".to_string());
    // 1. Open everything the job needs.
    let mut input = File::open(&path)?;
    let mut stdout = std::io::stdout().lock();

    // 2. Restrict: no new files, no processes, no network; memory and I/O on open fds.
    let policy = Policy::builder()
        .default("kill-process")
        .allow("read, write, close, fstat, lseek, statx, newfstatat")
        .allow("brk, mmap, munmap, mremap, madvise, mprotect, futex")
        .allow("rt_sigaction, rt_sigprocmask, rt_sigreturn, sigaltstack")
        .allow("getrandom, exit, exit_group")
        // Debug builds of std check an fd is valid before closing it.
        .allow_if("fcntl", "cmd == F_GETFD || cmd == F_GETFL")
        .deny("open, openat, openat2, creat", "EACCES")
        .build()?;
    policy.apply()?;

    // 3. Work with what is open; anything new is refused.
    let mut data = Vec::new();
    input.read_to_end(&mut data)?;
    match File::open("/etc/passwd") {
        Ok(_) => writeln!(stdout, "worker: opened /etc/passwd after apply?!")?,
        Err(e) => writeln!(
            stdout,
            "worker: after apply, opening /etc/passwd fails: {e}"
        )?,
    }
    stdout.write_all(&data)?;
    Ok(())
}
