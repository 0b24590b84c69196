//! The library face: a [`Policy`] parsed from text, read from a file, taken from the
//! embedded presets or built in code, and applied to the calling process.
//!
//! A built policy is written as policy text and parsed, so a policy means the same thing
//! however it was made.

use std::fmt;
use std::io;
use std::path::Path;

use straitjacket_policy::action::Action;
use straitjacket_policy::bpf::Program;
use straitjacket_policy::compile::{self, CompileError};
use straitjacket_policy::ir;
use straitjacket_policy::resolve::Options;
use straitjacket_sys::{landlock, prctl, seccomp};

use crate::load::{self, PolicyFile};
use crate::presets;

/// Everything that can go wrong, with its cause.
#[derive(Debug)]
pub enum Error {
    /// The policy text has errors: the rendered diagnostics (`FILE:LINE:COL: error: …`).
    Invalid(String),
    /// A policy file could not be read.
    Read { path: String, source: io::Error },
    /// No preset has this name.
    UnknownPreset { name: String, message: String },
    /// A builder input that would change the text's structure (a newline, a `#`).
    BadInput(String),
    /// The policy has parts `apply` cannot honour in-process: `notify` rules and settings
    /// need `straitjacket run`'s supervisor; `fs` rules need Landlock and a single-threaded
    /// caller (Landlock confines the calling thread only).
    NeedsSupervisor(String),
    /// The policy does not fit in one filter.
    Compile(CompileError),
    /// The kernel refused: the step and its error.
    Kernel {
        step: &'static str,
        source: io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(d) => f.write_str(d.trim_end()),
            Error::Read { path, source } => {
                write!(f, "{path}: {}", load::io_reason(source))
            }
            Error::UnknownPreset { message, .. } => f.write_str(message),
            Error::BadInput(m) => f.write_str(m),
            Error::NeedsSupervisor(m) => write!(
                f,
                "{m}: only `straitjacket run` (a supervisor) can enforce this, not `apply`"
            ),
            Error::Compile(e) => write!(f, "{e}"),
            Error::Kernel { step, source } => {
                write!(f, "{step}: {source}")?;
                // EINVAL from seccomp() for a filter the compiler validated: no filter mode.
                if source.raw_os_error() == Some(EINVAL) && *step == "seccomp" {
                    f.write_str(" (hint: the kernel may lack CONFIG_SECCOMP_FILTER)")?;
                }
                Ok(())
            }
        }
    }
}

const EINVAL: i32 = 22;

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Read { source, .. } | Error::Kernel { source, .. } => Some(source),
            Error::Compile(e) => Some(e),
            _ => None,
        }
    }
}

/// A resolved policy for this machine's ABI (and any other its `arch` statement lists).
#[derive(Debug)]
pub struct Policy {
    file: PolicyFile,
}

impl Policy {
    /// Parses policy text (named `policy.sj` in diagnostics; includes are refused).
    pub fn parse(text: &str) -> Result<Policy, Error> {
        Policy::parse_named("policy.sj", text)
    }

    /// Parses policy text, naming it `name` in diagnostics.
    pub fn parse_named(name: &str, text: &str) -> Result<Policy, Error> {
        let mut no = straitjacket_policy::resolve::NoIncludes;
        let file = load::load_with(name, text.as_bytes(), &Options::default(), &mut no)
            .map_err(|f| Error::Invalid(f.message))?;
        Ok(Policy { file })
    }

    /// Reads a policy file (includes are read relative to it).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Policy, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.display().to_string(),
            source,
        })?;
        let file = load::load_bytes(&path.display().to_string(), &bytes, &Options::default())
            .map_err(|f| Error::Invalid(f.message))?;
        Ok(Policy { file })
    }

    /// One of the embedded presets (`default`, `strict`, `stdio`, …).
    pub fn preset(name: &str) -> Result<Policy, Error> {
        if presets::find(name).is_none() {
            return Err(Error::UnknownPreset {
                name: name.to_string(),
                message: presets::unknown(name).message,
            });
        }
        let file =
            presets::load(name, &Options::default()).map_err(|f| Error::Invalid(f.message))?;
        Ok(Policy { file })
    }

    /// A builder that writes policy text.
    pub fn builder() -> Builder {
        Builder {
            text: String::new(),
            error: None,
        }
    }

    /// The resolved policy.
    pub fn ir(&self) -> &ir::Policy {
        &self.file.resolved.policy
    }

    /// Warnings found while resolving, rendered.
    pub fn warnings(&self) -> String {
        self.file.render_warnings()
    }

    /// The compiled filter.
    pub fn compile(&self) -> Result<Program, Error> {
        compile::compile(self.ir()).map_err(Error::Compile)
    }

    /// What `apply` cannot enforce in-process, if anything.
    fn needs_supervisor(&self) -> Option<String> {
        let p = self.ir();
        if let Some(s) = p.settings.first() {
            return Some(format!(
                "{}: `{}`",
                s.origin.as_ref().map_or("policy", |o| &*o.0),
                s.keyword
            ));
        }
        for f in &p.filters {
            if f.default == Action::Notify || f.unknown == Action::Notify {
                return Some("a `notify` default".to_string());
            }
            for rules in f.syscalls.values() {
                for r in rules {
                    if r.action == Action::Notify {
                        return Some(format!(
                            "{}: a `notify` rule",
                            r.origin.as_ref().map_or("policy", |o| &*o.0)
                        ));
                    }
                }
            }
        }
        None
    }

    /// Confines the calling process, every thread of it, for the rest of its life.
    ///
    /// Sets `NO_NEW_PRIVS`; enforces `fs` rules with Landlock (refused while other threads
    /// run, or where the kernel cannot enforce them all); then installs the compiled filter
    /// with TSYNC so every thread is covered. The filter stacks on any earlier one: the kernel runs all of them and the
    /// strictest answer wins, so a second `apply` can only narrow what is allowed.
    ///
    /// **Irreversible**: there is no way to remove a filter. A policy with `notify` rules,
    /// `fs` rules or settings is refused (they need a supervisor: `straitjacket run`).
    /// Fails (with nothing installed) if a thread cannot be synchronized.
    /// The Landlock ruleset for the policy's `fs` rules, if it has any. Landlock restricts the
    /// calling thread only, so a process that already runs other threads is refused rather
    /// than half confined; and a kernel that cannot enforce every rule is refused too.
    fn landlock_ruleset(&self) -> Result<Option<std::os::fd::OwnedFd>, Error> {
        let p = self.ir();
        if p.fs.is_empty() {
            return Ok(None);
        }
        let threads = landlock::thread_count().map_err(|source| Error::Kernel {
            step: "reading /proc/self/status",
            source,
        })?;
        if threads > 1 {
            return Err(Error::NeedsSupervisor(format!(
                "filesystem rules with {threads} threads running: Landlock confines only the calling thread, \
                 so apply them before starting threads (or use `straitjacket run`)"
            )));
        }
        let req = landlock::Request {
            fs: true,
            grants: p
                .fs
                .iter()
                .map(|r| landlock::Grant {
                    path: std::path::PathBuf::from(&r.path),
                    read: r.access == ir::FsAccess::Read,
                    write: r.access == ir::FsAccess::Write,
                    exec: r.access == ir::FsAccess::Exec,
                })
                .collect(),
            net_connect: false,
            net_bind: false,
            connect_ports: Vec::new(),
            bind_ports: Vec::new(),
            isolate: true,
        };
        let built = landlock::build(&req).map_err(|source| Error::Kernel {
            step: "building the Landlock ruleset",
            source,
        })?;
        let fs_missing: Vec<&str> = built
            .not_enforced
            .iter()
            .copied()
            .filter(|w| !w.contains("isolation"))
            .collect();
        match built.fd {
            Some(fd) if fs_missing.is_empty() => Ok(Some(fd)),
            _ => Err(Error::NeedsSupervisor(format!(
                "filesystem rules the kernel cannot enforce (Landlock ABI {}): {}",
                built.abi,
                if fs_missing.is_empty() {
                    "no Landlock".to_string()
                } else {
                    fs_missing.join(", ")
                }
            ))),
        }
    }

    pub fn apply(&self) -> Result<(), Error> {
        if let Some(what) = self.needs_supervisor() {
            return Err(Error::NeedsSupervisor(what));
        }
        let prog = self.compile()?;
        let ruleset = self.landlock_ruleset()?;
        prctl::set_no_new_privs().map_err(|source| Error::Kernel {
            step: "prctl(PR_SET_NO_NEW_PRIVS)",
            source,
        })?;
        // Landlock first: the seccomp filter may deny the Landlock calls.
        if let Some(fd) = &ruleset {
            landlock::restrict_self(fd).map_err(|source| Error::Kernel {
                step: "landlock_restrict_self",
                source,
            })?;
        }
        seccomp::install(
            &prog.to_raw_records(),
            seccomp::FilterFlags::TSYNC | seccomp::FilterFlags::TSYNC_ESRCH,
        )
        .map_err(|source| Error::Kernel {
            step: "seccomp",
            source,
        })
    }
}

/// Writes a policy rule by rule; [`Builder::build`] parses the text.
#[derive(Debug, Clone)]
pub struct Builder {
    text: String,
    error: Option<String>,
}

impl Builder {
    fn check(&mut self, s: &str) -> bool {
        if s.contains('\n') || s.contains('\r') || s.contains('#') {
            self.error
                .get_or_insert_with(|| format!("builder input {s:?} contains a newline or `#`"));
            return false;
        }
        true
    }

    fn line(mut self, parts: &[&str]) -> Builder {
        if parts.iter().all(|p| self.check(p)) {
            self.text.push_str(&parts.join(" "));
            self.text.push('\n');
        }
        self
    }

    /// `default ACTION` (`kill-process`, `errno(EPERM)`, `allow`, …).
    pub fn default(self, action: &str) -> Builder {
        self.line(&["default", action])
    }

    /// `arch A, B`.
    pub fn arch(self, arches: &str) -> Builder {
        self.line(&["arch", arches])
    }

    /// `allow NAMES` (syscalls or `@groups`, comma-separated).
    pub fn allow(self, names: &str) -> Builder {
        self.line(&["allow", names])
    }

    /// `allow NAMES if COND`.
    pub fn allow_if(self, names: &str, cond: &str) -> Builder {
        self.line(&["allow", names, "if", cond])
    }

    /// `errno(ERR) NAMES`.
    pub fn deny(self, names: &str, errno: &str) -> Builder {
        let action = format!("errno({errno})");
        self.line(&[&action, names])
    }

    /// `ACTION NAMES [if COND]`, any action.
    pub fn rule(self, action: &str, names: &str, cond: Option<&str>) -> Builder {
        match cond {
            Some(c) => self.line(&[action, names, "if", c]),
            None => self.line(&[action, names]),
        }
    }

    /// The policy text written so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Parses the text.
    pub fn build(self) -> Result<Policy, Error> {
        if let Some(e) = self.error {
            return Err(Error::BadInput(e));
        }
        Policy::parse_named("builder.sj", &self.text)
    }
}
