//! The `straitjacket` command line.
#![forbid(unsafe_code)]

use clap::Parser;

/// Run code you do not trust under a seccomp policy.
#[derive(Parser, Debug)]
#[command(name = "straitjacket", version, about)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
}
