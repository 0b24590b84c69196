//! The exit statuses of `straitjacket`, in one table (README's "Exit status" and `--help`
//! quote it), and how a finished run becomes one.
//!
//! | status | when |
//! |---|---|
//! | the program's | it exited |
//! | 128+N | it died of signal N |
//! | 159 (128+SIGSYS) | the policy killed it |
//! | 137 (128+SIGKILL) | a cpu, mem, procs or fsize limit was reached (the tree is killed) |
//! | 124 | the timeout ran out (as timeout(1)) |
//! | 127 | the command was not found (nothing ran) |
//! | 126 | the command is not executable (nothing ran) |
//! | 125 | the launch failed, or the supervisor could not go on |
//! | 2 | bad input: a policy, a flag, a file (nothing ran) |
//!
//! `strict` adds 152 (128+SIGXCPU) when the guest's CPU time ran out.

use straitjacket::{ErrorKind, Finished, Outcome};

pub const EXIT_BAD_INPUT: i32 = 2;
pub const EXIT_TIMEOUT: i32 = 124;
pub const EXIT_LAUNCH: i32 = 125;
pub const EXIT_NOT_EXECUTABLE: i32 = 126;
pub const EXIT_NOT_FOUND: i32 = 127;
pub const EXIT_LIMIT: i32 = 128 + 9;
/// `strict`: the guest's CPU time ran out (128 + SIGXCPU).
pub const EXIT_CPU: i32 = 128 + 24;
pub const EXIT_KILLED_BY_POLICY: i32 = 128 + 31;

/// The status of a failure of this kind.
pub fn of_error(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::NotFound => EXIT_NOT_FOUND,
        ErrorKind::NotExecutable => EXIT_NOT_EXECUTABLE,
        ErrorKind::Launch => EXIT_LAUNCH,
        _ => EXIT_BAD_INPUT,
    }
}

/// Says on stderr how the run ended where the program's own status does not (a count of
/// denied calls, a limit, a kill in the kernel), and gives the status to exit with.
pub fn of_finished(f: &Finished, program: &std::path::Path) -> i32 {
    if let Some(d) = &f.denied {
        eprintln!(
            "straitjacket: {} call{} denied ({} shown)",
            d.calls,
            if d.calls == 1 { "" } else { "s" },
            d.shown
        );
    }
    match &f.outcome {
        Outcome::Exited(c) => *c,
        Outcome::Signaled(s) => 128 + s,
        Outcome::KilledByPolicy => EXIT_KILLED_BY_POLICY,
        Outcome::KilledBySigsys => {
            eprintln!(
                "straitjacket: {} was killed by SIGSYS: the filter kills calls of ABIs the policy does not cover (such as i386 `int 0x80`) in the kernel",
                program.display()
            );
            EXIT_KILLED_BY_POLICY
        }
        Outcome::Limit(why) => {
            eprintln!("straitjacket: killed: {why}");
            EXIT_LIMIT
        }
        Outcome::Timeout(why) => {
            eprintln!("straitjacket: killed: {why}");
            EXIT_TIMEOUT
        }
        _ => EXIT_LAUNCH,
    }
}
