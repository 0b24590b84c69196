//! straitjacket: run code you do not trust under a seccomp policy.
//!
//! As a library it confines the calling process: parse or build a [`Policy`] and
//! [`Policy::apply`] it.
//!
//! ```no_run
//! use straitjacket::Policy;
//! let policy = Policy::builder()
//!     .default("kill-process")
//!     .allow("read")
//!     .allow_if("write", "fd == 1 || fd == 2")
//!     .allow("exit_group")
//!     .build()?;
//! policy.apply()?; // irreversible: from here on, only what the policy allows
//! # Ok::<(), straitjacket::Error>(())
//! ```
//!
//! The `straitjacket` binary is built on the same crate: `straitjacket run -- CMD` starts a
//! program under a policy and supervises it ([`run`]).
#![forbid(unsafe_code)]

pub mod api;
#[doc(hidden)]
pub mod confine;
#[doc(hidden)]
pub mod failure;
pub mod learn;
#[doc(hidden)]
pub mod policy_file;
#[doc(hidden)]
pub mod presets;
pub mod run;
mod supervise;

pub use api::{Builder, Error, Policy};
