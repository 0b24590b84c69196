//! The helpers hold what they promise: a body in its own process really runs elsewhere, its
//! failures fail, its signals are reported; a golden that is missing or different fails.

use straitjacket_testkit::{alone_outcome, golden, Outcome, TempDir};

#[test]
fn the_body_runs_in_another_process_as_the_only_test() {
    // The test function runs twice, in this process and in the child; only the child's run
    // reaches the body, and there the harness was asked for this one test by its exact name.
    let outcome = alone_outcome(|| {
        let args: Vec<String> = std::env::args().collect();
        let exact = args.iter().any(|a| a == "--exact");
        let named = args
            .iter()
            .any(|a| a == "the_body_runs_in_another_process_as_the_only_test");
        if exact && named {
            7
        } else {
            10
        }
    });
    assert_eq!(outcome, Outcome::Exited(7));
}

#[test]
fn a_panicking_body_is_a_failure() {
    let outcome = alone_outcome(|| panic!("on purpose"));
    assert_eq!(outcome, Outcome::Exited(101));
}

#[test]
fn a_signal_is_reported_as_such() {
    let outcome = alone_outcome(|| {
        // SAFETY: raise takes an integer; SIGKILL ends this (child) process.
        unsafe { libc::raise(libc::SIGKILL) };
        0
    });
    assert_eq!(outcome, Outcome::Signaled(libc::SIGKILL));
}

#[test]
fn goldens_fail_when_missing_or_different() {
    if std::env::var_os(straitjacket_testkit::BLESS).is_some() {
        return;
    }
    let d = TempDir::new("golden");
    let p = d.join("g.out");
    assert!(golden(&p, "a\n").unwrap_err().contains("missing"));
    std::fs::write(&p, "a\n").unwrap();
    assert!(golden(&p, "a\n").is_ok());
    assert!(golden(&p, "b\n").unwrap_err().contains("differs"));
}
