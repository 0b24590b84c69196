//! How a sandbox fails before or while it starts: what went wrong, and of which kind.
//!
//! The library says only the kind; the command line maps each kind to its exit status (one
//! table, in the CLI's `exit.rs`).

use std::fmt;

/// Which sort of failure: the caller decides what each means to its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad input: a policy, a flag, a path that does not exist. Nothing ran.
    Input,
    /// The command was not found. Nothing ran.
    NotFound,
    /// The command was found but cannot be executed. Nothing ran.
    NotExecutable,
    /// The launch itself failed (fork, namespaces, filter install) or the supervisor could
    /// not go on.
    Launch,
}

/// A failure with its message.
#[derive(Debug)]
pub struct SandboxError {
    pub kind: ErrorKind,
    pub message: String,
    /// Already rendered (policy diagnostics): print as is, without a prefix.
    pub rendered: bool,
}

impl SandboxError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> SandboxError {
        SandboxError {
            kind,
            message: message.into(),
            rendered: false,
        }
    }

    /// Bad input.
    pub fn input(message: impl Into<String>) -> SandboxError {
        SandboxError::new(ErrorKind::Input, message)
    }

    /// Rendered policy diagnostics (bad input).
    pub fn diagnostics(rendered: String) -> SandboxError {
        SandboxError {
            kind: ErrorKind::Input,
            message: rendered,
            rendered: true,
        }
    }

    /// The launch or the supervisor failed.
    pub fn launch(message: impl Into<String>) -> SandboxError {
        SandboxError::new(ErrorKind::Launch, message)
    }
}

impl fmt::Display for SandboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message.trim_end())
    }
}

impl std::error::Error for SandboxError {}

/// The plain reason of an I/O error, without Rust's "(os error 2)".
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_string()
        }
    }
}
