//! Reads each file named on the command line through the monitor (fd 3) and copies it to
//! standard output. Exit 1 if any is refused.
#![no_std]
#![no_main]

use core::fmt::Write;
use straitjacket_guest::{entry, io, proto, Args};

entry!(main);

fn main(args: Args) -> i32 {
    let mut status = 0;
    for i in 1..args.len() {
        let Some(path) = args.str(i) else {
            let _ = writeln!(io::stderr(), "readfile: argument {i} is not UTF-8");
            return 2;
        };
        let mut failed = false;
        let r = proto::read_file(path, &mut |chunk| {
            if io::write_all(1, chunk).is_err() {
                failed = true;
            }
        });
        if let Err(e) = r {
            let _ = writeln!(io::stderr(), "readfile: {path}: {}", e.describe());
            status = 1;
        }
        if failed {
            return 1;
        }
    }
    status
}
