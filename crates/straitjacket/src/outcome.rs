//! How a supervised program ended, as the supervisor saw it: typed, with no exit status (the
//! command line maps each outcome to one).

/// How the program (the first process of the sandbox) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// It exited with this status.
    Exited(i32),
    /// It died of this signal (a forwarded one included).
    Signaled(i32),
    /// The supervisor killed it for a call the policy kills.
    KilledByPolicy,
    /// The kernel's filter killed it with SIGSYS: a call of an ABI the policy does not cover
    /// (such as i386 `int 0x80`).
    KilledBySigsys,
    /// A resource limit was reached and the whole tree killed: which (`cpu limit 2s
    /// reached`).
    Limit(String),
    /// The wall clock ran out and the whole tree was killed (`timeout 1s reached`).
    Timeout(String),
}

/// A supervised run that ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub outcome: Outcome,
    /// With `report`: calls answered with an errno, and how many kinds of them were shown.
    pub denied: Option<Denials>,
}

/// Calls the policy answered with an errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denials {
    pub calls: u64,
    pub shown: usize,
}
