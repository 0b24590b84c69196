//! Other formats to straitjacket's policy language: OCI / Docker / Podman seccomp profiles
//! ([`oci`]) and minijail policy files ([`minijail`]).
//!
//! In: the text of a profile. Out: policy text in the native language (with comments that say
//! which rule of the input each line came from) and warnings, or a typed [`ImportError`] that
//! names the place in the input (a JSON path such as `.syscalls[12].args[0].op`, or a line).
//! Pure: facts about the machine (native arch, capabilities, kernel version) come in as options.

pub mod ftrace;
pub mod k8s;
pub mod minijail;
pub mod oci;

use std::fmt;

/// A policy converted to the native language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    pub text: String,
    /// What the conversion had to skip or could not reproduce exactly.
    pub warnings: Vec<String>,
}

/// Input that cannot be converted, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    /// A JSON path (`.syscalls[3].action`) or `LINE:` position; empty for the whole input.
    pub path: String,
    pub message: String,
}

impl ImportError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> ImportError {
        ImportError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ImportError {}

/// A 64-bit value as policy text: decimal when small, hex otherwise.
pub(crate) fn num(v: u64) -> String {
    if v < 4096 {
        v.to_string()
    } else {
        format!("{v:#x}")
    }
}
