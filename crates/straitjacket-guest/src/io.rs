//! Whole reads and writes over the raw calls, and a `core::fmt::Write` for fds.

use crate::sys;

/// Writes all of `buf` (retrying short writes); `Err(-errno)` on failure.
pub fn write_all(fd: i32, mut buf: &[u8]) -> Result<(), isize> {
    while !buf.is_empty() {
        let n = sys::write(fd, buf);
        if n == -4 {
            continue; // EINTR
        }
        if n <= 0 {
            return Err(n);
        }
        buf = &buf[n as usize..];
    }
    Ok(())
}

/// Reads until `buf` is full or end of file; the number of bytes read.
pub fn read_full(fd: i32, buf: &mut [u8]) -> Result<usize, isize> {
    let mut got = 0;
    while got < buf.len() {
        let n = sys::read(fd, &mut buf[got..]);
        if n == -4 {
            continue;
        }
        if n < 0 {
            return Err(n);
        }
        if n == 0 {
            break;
        }
        got += n as usize;
    }
    Ok(got)
}

/// A `core::fmt::Write` sink on an fd (unbuffered).
#[derive(Debug, Clone, Copy)]
pub struct Fd(pub i32);

impl core::fmt::Write for Fd {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        write_all(self.0, s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

/// Standard output, as a formatter.
pub fn stdout() -> Fd {
    Fd(1)
}

/// Standard error, as a formatter.
pub fn stderr() -> Fd {
    Fd(2)
}

/// A small output buffer on the stack, flushed when full and on [`Buffered::flush`].
#[derive(Debug)]
pub struct Buffered<const N: usize> {
    fd: i32,
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Buffered<N> {
    pub fn new(fd: i32) -> Self {
        Buffered {
            fd,
            buf: [0; N],
            len: 0,
        }
    }
    pub fn flush(&mut self) -> Result<(), isize> {
        let r = write_all(self.fd, &self.buf[..self.len]);
        self.len = 0;
        r
    }
}

impl<const N: usize> core::fmt::Write for Buffered<N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &b in s.as_bytes() {
            if self.len == N {
                self.flush().map_err(|_| core::fmt::Error)?;
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}
