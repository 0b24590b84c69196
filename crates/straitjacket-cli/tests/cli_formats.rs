//! `import` and `export` end to end through the built binary.

use std::path::PathBuf;

#[path = "support/cli.rs"]
mod cli;
use cli::sj;

fn tmp(name: &str, text: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sj-cli-formats-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn import_errors_name_the_json_path() {
    let p = tmp(
        "bad.json",
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_FOO"}]}]}"#,
    );
    let o = sj(&["import", s(&p), "--from", "oci"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(".syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\""),
        "{err}"
    );
}

#[test]
fn oci_json_is_a_policy_everywhere() {
    let p = tmp(
        "p.json",
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"syscalls":[
            {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]},
            {"names":["exit_group"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    let o = sj(&["simulate", s(&p), "--arch", "x86_64", "socket", "1"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("allow"),
        "{o:?}"
    );
    let o = sj(&["simulate", s(&p), "--arch", "x86_64", "socket", "2"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("errno(1)"),
        "{o:?}"
    );
    let o = sj(&["check", s(&p)]);
    assert!(o.status.success(), "{o:?}");
    // Imported text is a policy that checks, and exports back.
    let o = sj(&["import", s(&p), "--from", "oci", "--arch", "x86_64"]);
    assert!(o.status.success(), "{o:?}");
    let native = tmp("p.sj", &String::from_utf8_lossy(&o.stdout));
    let o = sj(&["export", s(&native), "--format", "oci"]);
    assert!(o.status.success(), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
    let o = sj(&["export", s(&native), "--format", "k8s", "--name", "demo"]);
    let y = String::from_utf8_lossy(&o.stdout);
    assert!(y.starts_with("apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\nmetadata:\n  name: demo\n"), "{y}");
}

#[test]
fn export_refuses_with_a_reason() {
    let p = tmp("fs.sj", "default allow\nfs read /usr\n");
    let o = sj(&["export", s(&p), "--format", "oci"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot export") && err.contains("fs rules"),
        "{err}"
    );
}

#[test]
fn minijail_and_ftrace_import() {
    let p = tmp(
        "m.policy",
        "read: 1\nwrite: arg0 == 1 || arg0 == 2\nopenat: return EPERM\n",
    );
    let o = sj(&["import", s(&p), "--from", "minijail", "--arch", "x86_64"]);
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(t.contains("allow write if arg0 == 1 || arg0 == 2"), "{o:?}");
    let p = tmp("seed.txt", "{ \"sys_read\", \"fd == 0\" },\n");
    let o = sj(&["import", s(&p), "--from", "ftrace"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("allow read if fd == 0"),
        "{o:?}"
    );
}

#[test]
fn run_takes_an_oci_profile() {
    let p = tmp(
        "run.json",
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["chdir"],"action":"SCMP_ACT_ERRNO","errnoRet":18}]}"#,
    );
    let o = sj(&[
        "run",
        "--policy",
        s(&p),
        "--",
        "/bin/sh",
        "-c",
        "echo hi; cd / && echo moved",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("hi") && !out.contains("moved"), "{o:?}");
}
