//! Shared by the tests that run straitjacket as root AND as an ordinary user (uid/gid 65534,
//! dropped with `setpriv` before straitjacket starts): where they run as root, each case runs
//! twice; where they run as an ordinary user already, once.
#![allow(dead_code)]

use std::process::Command;

pub const SJ: &str = env!("CARGO_BIN_EXE_straitjacket");
pub const NOBODY: &str = "65534";

/// Who runs straitjacket: the caller, or the ordinary user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum As {
    Caller,
    Nobody,
}

pub use straitjacket_testkit::is_root;

/// The caller, and an ordinary user too where the caller is root.
pub fn users() -> Vec<As> {
    if is_root() {
        if Command::new("setpriv").arg("--version").output().is_ok() {
            return vec![As::Caller, As::Nobody];
        }
        straitjacket_testkit::skip("the ordinary-user half: setpriv is not installed");
    }
    vec![As::Caller]
}

/// `straitjacket ARGS…` as `who`.
pub fn sj_command(who: As, args: &[&str]) -> Command {
    let mut c = match who {
        As::Caller => Command::new(SJ),
        As::Nobody => {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={NOBODY}"),
                &format!("--regid={NOBODY}"),
                "--clear-groups",
                SJ,
            ]);
            c
        }
    };
    c.args(args);
    c
}
