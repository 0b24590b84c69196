//! `straitjacket learn`: the observed run of the library's [`straitjacket::learn`], then the
//! policy written (merged with an earlier one with `--append`) or summarised.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use straitjacket::learn::system_paths;
use straitjacket::load::io_reason;
use straitjacket_policy::arch::Arch;
use straitjacket_policy::learn::{self, Learned, RenderOptions};

use crate::exit::EXIT_LAUNCH;
use crate::failure::Failure;

/// What `straitjacket learn` was asked to do.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LearnArgs {
    /// Write the policy to FILE (default: stdout; with --append, the appended file).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Pin arguments where they are stable and safe: write fds 0-2, open access modes,
    /// socket families, ioctl requests, clone flags, no executable anonymous memory.
    #[arg(long)]
    pub args: bool,
    /// Add `fs read|write|exec` rules for the paths used, collapsed to directories
    /// (paths `run` adds by itself, the system paths, are left out).
    #[arg(long)]
    pub paths: bool,
    /// Merge this run into FILE, an earlier learned policy, and rewrite it (or write
    /// the merged policy to --output).
    #[arg(long, value_name = "FILE")]
    pub append: Option<PathBuf>,
    /// Print the system calls by group with counts, and the paths, on stdout INSTEAD of
    /// the policy (with --output or --append the policy is still written to the file).
    #[arg(long)]
    pub summary: bool,
    /// The program and its arguments.
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub cmd: Vec<OsString>,
}

fn read_earlier(path: &Path) -> Result<Learned, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::input(format!("--append {}: {}", path.display(), io_reason(&e))))?;
    let l = Learned::from_text(&text)
        .map_err(|e| Failure::input(format!("--append {}: {e}", path.display())))?;
    if l.arch != Arch::native() {
        return Err(Failure::input(format!(
            "--append {}: learned on {}, this machine is {}",
            path.display(),
            l.arch,
            Arch::native()
        )));
    }
    Ok(l)
}

/// Runs the command under observation, writes the policy; the exit status to leave with.
pub fn learn(opts: &LearnArgs) -> Result<i32, Failure> {
    let earlier = opts.append.as_deref().map(read_earlier).transpose()?;
    let observed = straitjacket::learn::learn(&opts.cmd, std::env::vars_os().collect())?;
    let code = crate::exit::of_finished(&observed.finished, &observed.program);
    let mut learned = observed.learned;
    if let Some(mut e) = earlier {
        e.merge(&learned);
        learned = e;
    }
    let rendered = learn::render(
        &learned,
        &RenderOptions {
            args: opts.args,
            paths: opts.paths,
            system_paths: if opts.paths {
                system_paths()?
            } else {
                Vec::new()
            },
        },
    );
    let target = opts.output.as_ref().or(opts.append.as_ref());
    match target {
        Some(t) => std::fs::write(t, &rendered.text).map_err(|e| {
            Failure::with_code(EXIT_LAUNCH, format!("{}: {}", t.display(), io_reason(&e)))
        })?,
        None if !opts.summary => {
            let _ = std::io::stdout().write_all(rendered.text.as_bytes());
        }
        None => {}
    }
    if opts.summary {
        print!("{}", learn::summary(&learned));
    }
    for n in &rendered.notes {
        eprintln!("straitjacket learn: not pinned: {n}");
    }
    if let Some(t) = target {
        eprintln!(
            "straitjacket learn: wrote {} ({} system calls)",
            t.display(),
            learned.calls.len()
        );
    }
    Ok(code)
}
