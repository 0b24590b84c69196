//! The subcommands, one module each (the clap structs they take are in `crate::args`, or
//! beside them where only they use them).

pub mod bpf;
pub mod formats;
pub mod learn;
pub mod policy;
pub mod run;
pub mod strict;
