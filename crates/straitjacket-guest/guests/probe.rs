//! A test guest that does one thing named by its first argument: a forbidden system call,
//! a loop, a malformed request, a panic, an exit code, or a monitor request.
#![no_std]
#![no_main]

use core::fmt::Write;
use straitjacket_guest::{entry, io, proto, sys, Args};

entry!(main);

fn num(s: &str) -> usize {
    s.bytes().fold(0, |n, c| n * 10 + (c - b'0') as usize)
}

fn main(args: Args) -> i32 {
    let what = args.str(1).unwrap_or("");
    let arg = args.str(2).unwrap_or("");
    // SAFETY (for the raw calls below): their arguments are plain integers or live
    // buffers; in strict mode the kernel kills the process before doing anything.
    match what {
        "open" => unsafe {
            sys::syscall6(2, [b"/etc/passwd\0".as_ptr() as usize, 0, 0, 0, 0, 0]);
        },
        "getpid" => unsafe {
            sys::syscall6(39, [0; 6]);
        },
        "exit_group" => unsafe {
            sys::syscall6(231, [0; 6]);
        },
        "mmap" => unsafe {
            sys::syscall6(9, [0, 4096, 3, 0x22, usize::MAX, 0]);
        },
        "loop" => {
            let mut x: u64 = 1;
            loop {
                x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        "exit" => return num(arg) as i32,
        "cat" => {
            // Copies fd ARG to stdout.
            let mut buf = [0u8; 4096];
            loop {
                let n = sys::read(num(arg) as i32, &mut buf);
                if n < 0 {
                    let _ = writeln!(io::stderr(), "probe: read fd {arg}: error {}", -n);
                    return 1;
                }
                if n == 0 {
                    return 0;
                }
                let _ = io::write_all(1, &buf[..n as usize]);
            }
        }
        "peek" => {
            // Copies 4 bytes at the hex address ARG to stdout: the kernel answers EFAULT
            // (without killing the guest) if nothing is mapped there.
            let addr = arg
                .trim_start_matches("0x")
                .bytes()
                .fold(0usize, |n, c| n * 16 + (c as char).to_digit(16).unwrap_or(0) as usize);
            // SAFETY: write only reads the range; an unmapped one is an EFAULT return.
            let r = unsafe { sys::syscall6(1, [1, addr, 4, 0, 0, 0]) };
            if r == -14 {
                let _ = writeln!(io::stderr(), "EFAULT");
                return 3;
            }
            return 0;
        }
        "panic" => panic!("on purpose"),
        "args" => {
            for i in 0..args.len() {
                let _ = io::write_all(1, args.get(i).unwrap_or(b""));
                let _ = io::write_all(1, b"\n");
            }
            return 0;
        }
        "bad-magic" => {
            let _ = proto::send_raw(b"XXXX\x01\x01\0\0\0\0\0\0");
            let _ = proto::receive_header();
            return 0;
        }
        "bad-length" => {
            let _ = proto::send_raw(b"SJRQ\x01\x01\0\0\xff\xff\xff\x7f");
            let _ = proto::receive_header();
            return 0;
        }
        "read" => {
            let r = proto::read_file(arg, &mut |b| {
                let _ = io::write_all(1, b);
            });
            return match r {
                Ok(_) => 0,
                Err(e) => {
                    let _ = writeln!(io::stderr(), "probe: {arg}: {}", e.describe());
                    1
                }
            };
        }
        "write" => {
            let text = args.get(3).unwrap_or(b"");
            return match proto::write_output(arg, text) {
                Ok(()) => 0,
                Err(e) => {
                    let _ = writeln!(io::stderr(), "probe: {arg}: {}", e.describe());
                    1
                }
            };
        }
        "time" => {
            return match proto::time() {
                Ok((s, _)) => {
                    let _ = writeln!(io::stdout(), "{s}");
                    0
                }
                Err(_) => 1,
            }
        }
        "random" => {
            let mut buf = [0u8; 64];
            if proto::random(&mut buf).is_err() {
                return 1;
            }
            for b in buf {
                let _ = write!(io::stdout(), "{b:02x}");
            }
            let _ = writeln!(io::stdout());
            return 0;
        }
        _ => {
            let _ = writeln!(io::stderr(), "probe: unknown action {what:?}");
            return 2;
        }
    }
    // Only reached if a forbidden call was somehow allowed.
    let _ = writeln!(io::stderr(), "probe: {what} was not stopped");
    0
}
