//! Reading another process's memory (`process_vm_readv(2)`), for decoding the string
//! arguments of a notified call. The caller must check the notification is still valid
//! afterwards (`notify::id_valid`): only then did the memory belong to the calling thread.
//!
//! Writing is the other way round, and a check before a write by thread id cannot be made
//! safe (the thread may die and its id be reused by another process in between): a write
//! goes through [`Memory`], opened BEFORE the check, which holds the address space it was
//! opened on whatever becomes of the thread id.

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

/// A thread's address space, held open (`/proc/TID/mem`): what is written through it lands
/// in the memory the thread had when it was opened, even if the thread has since died and
/// its id belongs to another process.
#[derive(Debug)]
pub struct Memory(std::os::fd::OwnedFd);

impl Memory {
    /// Opens thread `tid`'s memory for writing (the opener needs ptrace access to it, as
    /// process_vm_writev does).
    pub fn open(tid: i32) -> io::Result<Memory> {
        use std::os::unix::fs::OpenOptionsExt;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(format!("/proc/{tid}/mem"))?;
        Ok(Memory(f.into()))
    }

    /// Writes all of `data` at `addr`; EFAULT if the memory is not all writable.
    pub fn write(&self, addr: u64, data: &[u8]) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let mut done = 0;
        while done < data.len() {
            let at = addr.wrapping_add(done as u64);
            let Ok(off) = libc::off64_t::try_from(at) else {
                return Err(io::Error::from_raw_os_error(libc::EFAULT));
            };
            let rest = &data[done..];
            // SAFETY: `rest` is live and only read by the call; the offset is an address in
            // the other process, which the kernel checks itself.
            let r = unsafe {
                libc::pwrite64(self.0.as_raw_fd(), rest.as_ptr().cast(), rest.len(), off)
            };
            if r < 0 {
                let e = last_error();
                // An address with nothing mapped reads as EIO through this file.
                return Err(match e.raw_os_error() {
                    Some(libc::EIO) => io::Error::from_raw_os_error(libc::EFAULT),
                    _ => e,
                });
            }
            if r == 0 {
                return Err(io::Error::from_raw_os_error(libc::EFAULT));
            }
            done += r as usize;
        }
        Ok(())
    }
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
        let m = Memory::open(me).unwrap();
        m.write(buf.as_ptr() as u64, &[7u8; 9_000]).unwrap();
        let back = read_exact(me, buf.as_ptr() as u64, 10_000).unwrap();
        assert_eq!(back[8_999], 7);
        assert_eq!(back[9_000], 0);
        let e = m.write(8, &[1]).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EFAULT));
        std::hint::black_box(&buf);
    }

    #[test]
    fn memory_opened_stays_with_its_address_space() {
        // A child's memory, opened, then the child gone and reaped: a write lands nowhere
        // (and never in whichever process gets the id next).
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let m = Memory::open(child.id() as i32).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(m.write(0x10000, &[1]).is_err());
    }
}
