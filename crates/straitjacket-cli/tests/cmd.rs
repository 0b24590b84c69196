//! Goldens of what users read (STYLE.md habit 7): `check` summaries and diagnostics,
//! `compile` per architecture for every preset and in each format, `explain`, `simulate`,
//! `groups` and `syscalls`. The cases are listed in tests/cmd/cases; each has a NAME.out with
//! the exit status, stdout and stderr. A missing or different golden fails;
//! `STRAITJACKET_BLESS=1 cargo test -p straitjacket-cli --test cmd` rewrites them.

use std::path::Path;
use std::process::{Command, Stdio};

use straitjacket_testkit::{assert_goldens, golden};

const SJ: &str = env!("CARGO_BIN_EXE_straitjacket");

#[test]
fn what_users_read_is_as_the_goldens_say() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cmd");
    let cases = std::fs::read_to_string(dir.join("cases")).unwrap();
    let mut failures = Vec::new();
    let mut n = 0;
    for line in cases.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let name = words.next().unwrap();
        let args: Vec<&str> = words.collect();
        let o = Command::new(SJ)
            .args(&args)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let actual = format!(
            "$ straitjacket {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            o.status
                .code()
                .map_or_else(|| format!("{:?}", o.status), |c| c.to_string()),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        if let Err(e) = golden(&dir.join(format!("{name}.out")), &actual) {
            failures.push(e);
        }
        n += 1;
    }
    assert!(n >= 40, "only {n} cases in tests/cmd/cases");
    assert_goldens(failures);
}
