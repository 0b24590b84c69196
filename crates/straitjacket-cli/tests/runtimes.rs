//! straitjacket's output in other people's sandboxes: a raw filter for bubblewrap
//! (`bwrap --seccomp 3 … 3< filter.bpf`) and an exported OCI profile for crun.
//!
//! The policy allows everything but `chdir`, which answers EXDEV (18, "Invalid cross-device
//! link" — an errno nothing else would produce): the shell's `echo` shows an allowed call
//! working, its `cd` shows the denied one failing with the profile's errno.
//! Skips print their reason: a tool that is not installed, bwrap unable to set up its
//! sandbox here, crun without root.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const POLICY: &str = "default allow\nerrno(EXDEV) chdir\n";
const SCRIPT: &str = "echo allowed-call-works; cd /; echo rc=$?";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_straitjacket")
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sj-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn straitjacket(args: &[&str]) {
    let o = Command::new(bin()).args(args).output().unwrap();
    assert!(o.status.success(), "straitjacket {args:?}: {}", text(&o));
}

/// `errno_shown`: the shell prints strerror (busybox does; dash does not).
fn check(out: &str, who: &str, errno_shown: bool) {
    assert!(out.contains("allowed-call-works"), "{who}: {out}");
    assert!(
        out.contains("rc=") && !out.contains("rc=0"),
        "{who}: chdir was not denied: {out}"
    );
    if errno_shown {
        assert!(out.contains("cross-device"), "{who}: not EXDEV: {out}");
    }
}

#[test]
fn bubblewrap_takes_a_compiled_raw_filter() {
    if !have("bwrap") {
        straitjacket_testkit::skip("bwrap is not installed (apt-get install bubblewrap)");
        return;
    }
    let probe = Command::new("bwrap")
        .args(["--ro-bind", "/", "/", "--dev", "/dev", "true"])
        .output()
        .unwrap();
    if !probe.status.success() {
        straitjacket_testkit::skip(format!(
            "bwrap cannot create its sandbox here: {}",
            text(&probe).trim()
        ));
        return;
    }
    let dir = tmpdir("bwrap");
    let policy = dir.join("p.sj");
    let filter = dir.join("filter.bpf");
    std::fs::write(&policy, POLICY).unwrap();
    straitjacket(&[
        "compile",
        policy.to_str().unwrap(),
        "--format",
        "raw",
        "-o",
        filter.to_str().unwrap(),
    ]);
    // As the README shows it: the filter on fd 3.
    let bb = busybox();
    let shell = match &bb {
        Some(b) => format!("{} sh", b.display()),
        None => "/bin/sh".to_string(),
    };
    let cmd = format!(
        "bwrap --ro-bind / / --dev /dev --proc /proc --seccomp 3 {shell} -c '{SCRIPT}' 3< {}",
        filter.display()
    );
    let o = Command::new("sh").args(["-c", &cmd]).output().unwrap();
    check(&text(&o), "bwrap", bb.is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

use straitjacket_testkit::is_root;

fn busybox() -> Option<PathBuf> {
    ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A cgroup2 mount that is not the only hierarchy: the hybrid layout crun refuses.
fn hybrid_cgroup2_mounts() -> Vec<String> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let v1 = mounts
        .lines()
        .any(|l| l.split_whitespace().nth(2) == Some("cgroup"));
    if !v1 {
        return Vec::new();
    }
    mounts
        .lines()
        .filter(|l| l.split_whitespace().nth(2) == Some("cgroup2"))
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect()
}

#[test]
fn crun_runs_a_container_under_an_exported_profile() {
    if !is_root() {
        straitjacket_testkit::skip("crun needs root to create a container");
        return;
    }
    if !have("crun") {
        straitjacket_testkit::skip("crun is not installed (apt-get install crun)");
        return;
    }
    let Some(bb) = busybox() else {
        straitjacket_testkit::skip("no busybox for the rootfs (apt-get install busybox-static)");
        return;
    };
    let dir = tmpdir("crun");
    let policy = dir.join("p.sj");
    let profile = dir.join("profile.json");
    std::fs::write(&policy, POLICY).unwrap();
    straitjacket(&[
        "export",
        policy.to_str().unwrap(),
        "--format",
        "oci",
        "-o",
        profile.to_str().unwrap(),
    ]);
    let bundle = dir.join("bundle");
    let rootfs = bundle.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    std::fs::copy(&bb, rootfs.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", rootfs.join("bin/sh")).unwrap();
    let o = Command::new("crun")
        .arg("spec")
        .current_dir(&bundle)
        .output()
        .unwrap();
    assert!(o.status.success(), "crun spec: {}", text(&o));
    let config_path = bundle.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    let seccomp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&profile).unwrap()).unwrap();
    config["process"]["terminal"] = false.into();
    config["process"]["args"] = serde_json::json!(["/bin/sh", "-c", SCRIPT]);
    config["root"]["readonly"] = true.into();
    config["linux"]["seccomp"] = seccomp;
    std::fs::write(&config_path, config.to_string()).unwrap();

    let state = dir.join("state");
    let id = format!("sj-test-{}", std::process::id());
    let run = format!(
        "crun --root {} run --bundle {} {id}",
        state.display(),
        bundle.display()
    );
    // crun refuses hybrid cgroups: run it in a private mount namespace without the
    // cgroup v2 mount, so it sees cgroup v1 only.
    let hybrid = hybrid_cgroup2_mounts();
    let cmd = if hybrid.is_empty() {
        run
    } else {
        if !have("unshare") {
            straitjacket_testkit::skip(
                "hybrid cgroups and no unshare(1) to hide the cgroup2 mount",
            );
            return;
        }
        let umounts: Vec<String> = hybrid.iter().map(|m| format!("umount {m} &&")).collect();
        format!("unshare -m sh -c '{} {run}'", umounts.join(" "))
    };
    let o = Command::new("sh").args(["-c", &cmd]).output().unwrap();
    let out = text(&o);
    if out.contains("cgroups in hybrid mode") || out.contains("unshare failed") {
        straitjacket_testkit::skip(format!("crun cannot run here: {}", out.trim()));
        return;
    }
    check(&out, "crun", true);
    let _ = Command::new("crun")
        .args(["--root", state.to_str().unwrap(), "delete", "-f", &id])
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(Path::new("/").exists());
}
