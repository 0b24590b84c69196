//! `run --log FILE`: one JSON object per line for every supervised decision and every blocked
//! call — time, pid, tid, syscall, the call decoded (paths as strings), the decision, and the
//! rule that made it (`FILE:LINE: text`, or the default, or the fs/net rules).
//!
//! Lines are written whole under a lock, from the main loop and the workers alike, and
//! flushed at once: a log read while the program runs (or after it was killed) is complete up
//! to its last line.

use std::fs::File;
use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

/// What is known of a call before it is decided.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    pub pid: i32,
    pub tid: i32,
    pub syscall: String,
    /// The call as text, from the supervisor's own copy of its strings.
    pub call: String,
    pub paths: Vec<String>,
    /// The policy rule that sent the call to the supervisor (or `default`).
    pub rule: String,
    /// What refused it, when the fs or net rules do.
    pub why_refused: String,
}

#[derive(Debug)]
pub struct Audit {
    file: Mutex<File>,
}

impl Audit {
    pub fn create(path: &std::path::Path) -> std::io::Result<Audit> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .custom_flags(libc_o_cloexec())
            .open(path)?;
        Ok(Audit {
            file: Mutex::new(file),
        })
    }

    /// Records a call carried out (or refused) by the supervisor: `result` is its return
    /// value or errno.
    pub fn record(&self, e: &Entry, result: Result<i64, i32>, refused: bool) {
        let (decision, rule) = if refused {
            ("denied", e.why_refused.as_str())
        } else {
            ("performed", e.rule.as_str())
        };
        let mut v = self.base(e, decision, rule);
        match result {
            Ok(x) => v["result"] = json!(x),
            Err(errno) => v["errno"] = json!(errno),
        }
        self.write(&v);
    }

    /// Records a decision the supervisor did not carry out itself: `allowed` (let through),
    /// `denied` (an errno), `killed`, `exec` (let through; Landlock confines exec).
    pub fn decision(&self, e: &Entry, decision: &str, errno: Option<i32>) {
        let mut v = self.base(e, decision, &e.rule);
        if let Some(n) = errno {
            v["errno"] = json!(n);
        }
        self.write(&v);
    }

    fn base(&self, e: &Entry, decision: &str, rule: &str) -> serde_json::Value {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        json!({
            "time": format!("{}.{:06}", t.as_secs(), t.subsec_micros()),
            "pid": e.pid,
            "tid": e.tid,
            "syscall": e.syscall,
            "call": e.call,
            "paths": e.paths,
            "decision": decision,
            "rule": rule,
        })
    }

    fn write(&self, v: &serde_json::Value) {
        let mut line = v.to_string();
        line.push('\n');
        if let Ok(mut f) = self.file.lock() {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

const fn libc_o_cloexec() -> i32 {
    0o2000000
}
