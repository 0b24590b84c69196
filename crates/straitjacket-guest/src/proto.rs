//! The monitor protocol, version 1 (docs/strict-protocol.md): the guest's side.
//!
//! The guest talks to the monitor on fd [`CONTROL_FD`], a stream socket: it writes a
//! request and reads the response on the same fd. Every message is a 12-byte header
//! followed by `length` payload bytes; integers are little-endian.
//!
//! ```text
//! request:  "SJRQ" | version u8 = 1 | op u8     | reserved u16 = 0 | length u32 | payload
//! response: "SJRS" | version u8 = 1 | status u8 | reserved u16 = 0 | length u32 | payload
//! ```

use crate::io::{read_full, write_all};

/// The fd the monitor listens on.
pub const CONTROL_FD: i32 = 3;
pub const REQUEST_MAGIC: [u8; 4] = *b"SJRQ";
pub const RESPONSE_MAGIC: [u8; 4] = *b"SJRS";
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 12;

/// Read a whole file: payload = the path; response = the content (`length` bytes).
pub const OP_READ_FILE: u8 = 1;
/// Write to a named output: payload = path length u16, path, data. The first write to a
/// path creates (or truncates) it, later ones append.
pub const OP_WRITE_OUTPUT: u8 = 2;
/// The wall-clock time: empty payload; response = seconds u64, nanoseconds u32.
pub const OP_TIME: u8 = 3;
/// Random bytes: payload = count u32; response = `count` bytes.
pub const OP_RANDOM: u8 = 4;

/// Longest path, in bytes.
pub const MAX_PATH: usize = 4096;
/// Most data in one write request.
pub const MAX_WRITE: usize = 65536;
/// Most random bytes in one request.
pub const MAX_RANDOM: usize = 4096;
/// Largest request payload (a write with the longest path and the most data).
pub const MAX_REQUEST: usize = 2 + MAX_PATH + MAX_WRITE;

pub const STATUS_OK: u8 = 0;
/// The policy does not allow it (or the path escapes the allowed directory).
pub const STATUS_DENIED: u8 = 1;
pub const STATUS_NOT_FOUND: u8 = 2;
/// Over a limit (a file too large to read, too many outputs, too much output).
pub const STATUS_TOO_LARGE: u8 = 3;
pub const STATUS_IO_ERROR: u8 = 4;

/// Why a request failed: a status from the monitor, or the transport broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    Status(u8),
    /// A read or write on the control fd failed (`-errno`), or the response was cut short.
    Transport(isize),
    /// The response was not a version-1 response.
    BadResponse,
}

impl Error {
    pub fn describe(&self) -> &'static str {
        match self {
            Error::Status(STATUS_DENIED) => "denied by the policy",
            Error::Status(STATUS_NOT_FOUND) => "not found",
            Error::Status(STATUS_TOO_LARGE) => "too large",
            Error::Status(STATUS_IO_ERROR) => "I/O error",
            Error::Status(_) => "unknown status",
            Error::Transport(_) => "no monitor on fd 3 (run with --serve POLICY)",
            Error::BadResponse => "bad response from the monitor",
        }
    }
}

fn header(magic: [u8; 4], op: u8, len: usize) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(&magic);
    h[4] = VERSION;
    h[5] = op;
    h[8..12].copy_from_slice(&(len as u32).to_le_bytes());
    h
}

/// Sends a request made of `parts` (concatenated into the payload).
pub fn send(op: u8, parts: &[&[u8]]) -> Result<(), Error> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    write_all(CONTROL_FD, &header(REQUEST_MAGIC, op, len)).map_err(Error::Transport)?;
    for p in parts {
        write_all(CONTROL_FD, p).map_err(Error::Transport)?;
    }
    Ok(())
}

/// Sends raw bytes on the control fd (for testing the monitor's validation).
pub fn send_raw(bytes: &[u8]) -> Result<(), Error> {
    write_all(CONTROL_FD, bytes).map_err(Error::Transport)
}

/// Reads a response header: `(status, length)`.
pub fn receive_header() -> Result<(u8, u32), Error> {
    let mut h = [0u8; HEADER_LEN];
    let n = read_full(CONTROL_FD, &mut h).map_err(Error::Transport)?;
    if n < HEADER_LEN {
        return Err(Error::Transport(0));
    }
    if h[..4] != RESPONSE_MAGIC || h[4] != VERSION {
        return Err(Error::BadResponse);
    }
    Ok((h[5], u32::from_le_bytes([h[8], h[9], h[10], h[11]])))
}

/// Reads `len` payload bytes, handing them to `sink` in pieces.
fn stream(len: u64, sink: &mut dyn FnMut(&[u8])) -> Result<(), Error> {
    let mut buf = [0u8; 4096];
    let mut left = len;
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        let n = read_full(CONTROL_FD, &mut buf[..want]).map_err(Error::Transport)?;
        if n == 0 {
            return Err(Error::Transport(0));
        }
        sink(&buf[..n]);
        left -= n as u64;
    }
    Ok(())
}

/// Reads a response; OK payloads go to `sink`, an error's message is dropped.
fn response(sink: &mut dyn FnMut(&[u8])) -> Result<u64, Error> {
    let (status, len) = receive_header()?;
    if status == STATUS_OK {
        stream(u64::from(len), sink)?;
        Ok(u64::from(len))
    } else {
        stream(u64::from(len), &mut |_| {})?;
        Err(Error::Status(status))
    }
}

/// Reads the file at `path` (absolute, normalized) through the monitor, streaming its
/// content to `sink`; returns its length.
pub fn read_file(path: &str, sink: &mut dyn FnMut(&[u8])) -> Result<u64, Error> {
    send(OP_READ_FILE, &[path.as_bytes()])?;
    response(sink)
}

/// Writes `data` to the named output `path` (created on the first write, appended after).
pub fn write_output(path: &str, data: &[u8]) -> Result<(), Error> {
    let name_len = (path.len() as u16).to_le_bytes();
    let mut chunks = data.chunks(MAX_WRITE);
    loop {
        let chunk = chunks.next().unwrap_or(&[]);
        send(OP_WRITE_OUTPUT, &[&name_len, path.as_bytes(), chunk])?;
        response(&mut |_| {})?;
        if chunks.len() == 0 {
            return Ok(());
        }
    }
}

/// The wall-clock time: seconds and nanoseconds since the Unix epoch.
pub fn time() -> Result<(u64, u32), Error> {
    send(OP_TIME, &[])?;
    let mut out = [0u8; 12];
    let mut at = 0;
    let len = response(&mut |b| {
        let n = b.len().min(12 - at);
        out[at..at + n].copy_from_slice(&b[..n]);
        at += n;
    })?;
    if len != 12 {
        return Err(Error::BadResponse);
    }
    let secs = u64::from_le_bytes(out[..8].try_into().map_err(|_| Error::BadResponse)?);
    let nanos = u32::from_le_bytes(out[8..].try_into().map_err(|_| Error::BadResponse)?);
    Ok((secs, nanos))
}

/// Fills `buf` (at most [`MAX_RANDOM`] bytes per request) with random bytes.
pub fn random(buf: &mut [u8]) -> Result<(), Error> {
    for chunk in buf.chunks_mut(MAX_RANDOM) {
        send(OP_RANDOM, &[&(chunk.len() as u32).to_le_bytes()])?;
        let mut at = 0;
        let len = response(&mut |b| {
            let n = b.len().min(chunk.len() - at);
            chunk[at..at + n].copy_from_slice(&b[..n]);
            at += n;
        })?;
        if len as usize != chunk.len() {
            return Err(Error::BadResponse);
        }
    }
    Ok(())
}
