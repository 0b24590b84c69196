//! `wc` over standard input: lines, words, bytes, formatted as GNU `wc` does for stdin.
#![no_std]
#![no_main]

use core::fmt::Write;
use straitjacket_guest::{entry, io, sys, Args};

entry!(main);

fn main(_args: Args) -> i32 {
    let mut buf = [0u8; 65536];
    let (mut lines, mut words, mut bytes) = (0u64, 0u64, 0u64);
    let mut in_word = false;
    loop {
        let n = sys::read(0, &mut buf);
        if n == -4 {
            continue;
        }
        if n < 0 {
            let _ = writeln!(io::stderr(), "wc: read error {}", -n);
            return 1;
        }
        if n == 0 {
            break;
        }
        for &c in &buf[..n as usize] {
            bytes += 1;
            if c == b'\n' {
                lines += 1;
            }
            let space = matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
            if !space && !in_word {
                words += 1;
            }
            in_word = !space;
        }
    }
    let mut out = io::Buffered::<128>::new(1);
    let _ = writeln!(out, "{lines:7} {words:7} {bytes:7}");
    if out.flush().is_err() {
        return 1;
    }
    0
}
