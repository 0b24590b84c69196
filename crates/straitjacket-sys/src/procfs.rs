//! The one reader of `/proc/PID/status`: the fields the supervisor and the library need of
//! a process or thread (its ids in each pid namespace, credentials, umask, caught signals,
//! thread count), parsed from one read of the file.

use std::io;

/// The calling thread's filesystem identity, as the kernel checks file access with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsCreds {
    pub fsuid: u32,
    pub fsgid: u32,
    pub groups: Vec<u32>,
    /// Effective capabilities (bit N = capability N).
    pub cap_eff: u64,
}

/// One read of a `status` file.
#[derive(Debug, Clone)]
pub struct ProcStatus {
    text: String,
}

impl ProcStatus {
    /// `/proc/PID/status` (a thread id works too: /proc has an entry for every thread).
    pub fn of(pid: i32) -> io::Result<ProcStatus> {
        std::fs::read_to_string(format!("/proc/{pid}/status")).map(ProcStatus::parse)
    }

    /// `/proc/self/status`.
    pub fn own() -> io::Result<ProcStatus> {
        std::fs::read_to_string("/proc/self/status").map(ProcStatus::parse)
    }

    pub fn parse(text: String) -> ProcStatus {
        ProcStatus { text }
    }

    /// The value of the line `NAME:` (without the colon), trimmed.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k == name).then(|| v.trim())
        })
    }

    /// The thread group (process) id, in the reader's pid namespace.
    pub fn tgid(&self) -> Option<i32> {
        self.field("Tgid")?.parse().ok()
    }

    /// The ids in the innermost pid namespace: (`NStgid`, `NSpid`) last entries.
    pub fn innermost_ids(&self) -> Option<(i32, i32)> {
        let last = |name| self.field(name)?.split_whitespace().last()?.parse().ok();
        Some((last("NStgid")?, last("NSpid")?))
    }

    pub fn umask(&self) -> Option<u32> {
        u32::from_str_radix(self.field("Umask")?, 8).ok()
    }

    pub fn threads(&self) -> Option<usize> {
        self.field("Threads")?.parse().ok()
    }

    /// Whether the process has a handler for signal `sig` (`SigCgt`).
    pub fn catches(&self, sig: i32) -> bool {
        (1..=64).contains(&sig)
            && self
                .field("SigCgt")
                .and_then(|v| u64::from_str_radix(v, 16).ok())
                .is_some_and(|mask| mask & (1 << (sig - 1)) != 0)
    }

    /// The filesystem identity: fsuid, fsgid (the fourth of `Uid:`/`Gid:`, after real,
    /// effective and saved), supplementary groups and effective capabilities.
    pub fn fs_creds(&self) -> Option<FsCreds> {
        let fs_id = |name| {
            self.field(name)?
                .split_whitespace()
                .nth(3)?
                .parse::<u32>()
                .ok()
        };
        Some(FsCreds {
            fsuid: fs_id("Uid")?,
            fsgid: fs_id("Gid")?,
            groups: self
                .field("Groups")?
                .split_whitespace()
                .map(|g| g.parse().ok())
                .collect::<Option<Vec<u32>>>()?,
            cap_eff: u64::from_str_radix(self.field("CapEff")?, 16).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Name:\tsh\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\n\
        Pid:\t4243\nPPid:\t1\nUid:\t1000\t1000\t1000\t1001\nGid:\t100\t100\t100\t101\n\
        Groups:\t4 24 \nNStgid:\t4242\t7\nNSpid:\t4243\t8\nThreads:\t3\n\
        SigCgt:\t0000000000004002\nCapEff:\t000001ffffffffff\n";

    #[test]
    fn reads_each_field_by_its_exact_name() {
        let s = ProcStatus::parse(SAMPLE.into());
        assert_eq!(s.tgid(), Some(4242), "Tgid, not NStgid");
        assert_eq!(s.innermost_ids(), Some((7, 8)));
        assert_eq!(s.umask(), Some(0o022));
        assert_eq!(s.threads(), Some(3));
        assert!(s.catches(2) && s.catches(15) && !s.catches(9) && !s.catches(0) && !s.catches(65));
        let c = s.fs_creds().unwrap();
        assert_eq!((c.fsuid, c.fsgid, c.groups), (1001, 101, vec![4, 24]));
        assert_eq!(s.field("Nope"), None);
    }

    #[test]
    fn reads_this_process() {
        let s = ProcStatus::own().unwrap();
        assert_eq!(s.tgid(), Some(std::process::id() as i32));
        assert!(s.threads().unwrap() >= 1);
    }
}
