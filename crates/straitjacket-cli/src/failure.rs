//! How a command fails: a message for stderr and an exit status ([`crate::exit`]).

use std::fmt;

use straitjacket::SandboxError;

use crate::exit::EXIT_BAD_INPUT;

/// A failed command: what to print and how to exit.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
    /// Already rendered (diagnostics): print as is, without the `straitjacket:` prefix.
    pub rendered: bool,
}

impl Failure {
    /// Bad input, exit 2.
    pub fn input(message: impl Into<String>) -> Failure {
        Failure::with_code(EXIT_BAD_INPUT, message)
    }

    /// Rendered policy diagnostics, exit 2.
    pub fn diagnostics(rendered: String) -> Failure {
        Failure {
            code: EXIT_BAD_INPUT,
            message: rendered,
            rendered: true,
        }
    }

    /// A failure with another exit status.
    pub fn with_code(code: i32, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            rendered: false,
        }
    }

    /// Prints to stderr and returns the exit status.
    pub fn report(&self) -> i32 {
        if self.rendered {
            eprint!("{}", self.message);
        } else {
            eprintln!("straitjacket: {}", self.message);
        }
        self.code
    }
}

impl From<SandboxError> for Failure {
    fn from(e: SandboxError) -> Failure {
        Failure {
            code: crate::exit::of_error(e.kind),
            message: e.message,
            rendered: e.rendered,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
