//! Reading another process's memory (`process_vm_readv(2)`), for decoding the string
//! arguments of a notified call. The caller must check the notification is still valid
//! afterwards (`notify::id_valid`): only then did the memory belong to the calling thread.

use std::io;

use crate::last_error;

const PAGE: u64 = 4096;

/// Reads a NUL-terminated string at `addr` in process `pid`: at most `max` bytes. Returns
/// the bytes before the NUL and whether the NUL was found. Reads page by page, so a string
/// that ends just before an unmapped page is still read.
pub fn read_cstr(pid: i32, addr: u64, max: usize) -> io::Result<(Vec<u8>, bool)> {
    let mut out = Vec::with_capacity(max);
    let mut at = addr;
    while out.len() < max {
        let to_page_end = (PAGE - at % PAGE) as usize;
        let want = to_page_end.min(max - out.len());
        let mut buf = vec![0u8; want];
        let n = read(pid, at, &mut buf)?;
        if n == 0 {
            break;
        }
        buf.truncate(n);
        if let Some(z) = buf.iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..z]);
            return Ok((out, true));
        }
        out.extend_from_slice(&buf);
        at = at.wrapping_add(n as u64);
    }
    if out.is_empty() {
        return Err(io::Error::from_raw_os_error(libc::EFAULT));
    }
    Ok((out, false))
}

/// Reads up to `buf.len()` bytes at `addr` of process `pid`; the count read.
pub fn read(pid: i32, addr: u64, buf: &mut [u8]) -> io::Result<usize> {
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as usize as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: `local` describes `buf`, live and writable for its whole length; `remote` is
    // only an address in the other process, which the kernel checks itself.
    let r = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
    if r < 0 {
        Err(last_error())
    } else {
        Ok(r as usize)
    }
}

/// Reads exactly `len` bytes at `addr` of process `pid` (EFAULT if fewer are readable).
pub fn read_exact(pid: i32, addr: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let mut done = 0;
    while done < len {
        let n = read(pid, addr.wrapping_add(done as u64), &mut buf[done..])?;
        if n == 0 {
            return Err(io::Error::from_raw_os_error(libc::EFAULT));
        }
        done += n;
    }
    Ok(buf)
}

/// Writes all of `data` at `addr` of process `pid` (`process_vm_writev(2)`); EFAULT if the
/// memory is not all writable. The caller checks beforehand that the notification is still
/// pending, so the memory is the calling thread's.
pub fn write(pid: i32, addr: u64, data: &[u8]) -> io::Result<()> {
    let mut done = 0;
    while done < data.len() {
        let local = libc::iovec {
            iov_base: data[done..].as_ptr() as *mut libc::c_void,
            iov_len: data.len() - done,
        };
        let remote = libc::iovec {
            iov_base: addr.wrapping_add(done as u64) as usize as *mut libc::c_void,
            iov_len: data.len() - done,
        };
        // SAFETY: `local` describes the live bytes of `data` (only read by this call);
        // `remote` is an address in the other process, checked by the kernel.
        let r = unsafe { libc::process_vm_writev(pid, &local, 1, &remote, 1, 0) };
        if r < 0 {
            return Err(last_error());
        }
        if r == 0 {
            return Err(io::Error::from_raw_os_error(libc::EFAULT));
        }
        done += r as usize;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_strings_from_a_process() {
        let s = std::ffi::CString::new("/etc/shadow").unwrap();
        let me = std::process::id() as i32;
        let (bytes, complete) = read_cstr(me, s.as_ptr() as u64, 256).unwrap();
        assert_eq!((bytes.as_slice(), complete), (&b"/etc/shadow"[..], true));
        let long = std::ffi::CString::new(vec![b'x'; 300]).unwrap();
        let (bytes, complete) = read_cstr(me, long.as_ptr() as u64, 256).unwrap();
        assert_eq!((bytes.len(), complete), (256, false));
        assert!(read_cstr(me, 8, 256).is_err());
    }

    #[test]
    fn writes_and_reads_back() {
        let me = std::process::id() as i32;
        let buf = vec![0u8; 10_000];
        write(me, buf.as_ptr() as u64, &[7u8; 9_000]).unwrap();
        let back = read_exact(me, buf.as_ptr() as u64, 10_000).unwrap();
        assert_eq!(back[8_999], 7);
        assert_eq!(back[9_000], 0);
        assert!(write(me, 8, &[1]).is_err());
        std::hint::black_box(&buf);
    }
}
