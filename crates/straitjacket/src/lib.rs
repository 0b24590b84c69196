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
//! Or it runs another program in a sandbox, in three typed steps: a [`Sandbox`] described
//! and validated by a [`SandboxBuilder`] (pure data), a [`Launch`] that makes its kernel
//! objects, and [`supervise`], which starts the program and answers its notified calls until
//! it ends, with an [`Outcome`]. [`supervise::serve`] answers the notifications of a listener
//! made elsewhere (a container runtime's). The `straitjacket` command line
//! (`straitjacket-cli`) is built on these.
//!
//! ```no_run
//! use straitjacket::{Launch, Mode, SandboxBuilder};
//! let policy = straitjacket::presets::load("default", &Default::default())?;
//! let mut warnings = Vec::new();
//! let sandbox = SandboxBuilder::new(policy, vec!["true".into()]).build(&mut warnings)?;
//! let mut launch = Launch::prepare(&sandbox, &mut warnings)?;
//! let finished = straitjacket::supervise(&sandbox, &mut launch, Mode::Enforce)?;
//! println!("{:?}", finished.outcome);
//! # Ok::<(), straitjacket::SandboxError>(())
//! ```
#![forbid(unsafe_code)]

pub mod api;
pub mod error;
pub mod launch;
pub mod learn;
pub mod load;
pub mod outcome;
pub mod presets;
pub mod sandbox;
pub mod supervise;

pub use api::{Builder, Error, Policy};
pub use error::{ErrorKind, SandboxError};
pub use launch::Launch;
pub use outcome::{Finished, Outcome};
pub use sandbox::{Overrides, Sandbox, SandboxBuilder};
pub use supervise::{supervise, Mode};
