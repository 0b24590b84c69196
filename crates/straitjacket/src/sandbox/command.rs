//! The command of a sandbox: finding it as execvp would, what it needs to execute (its
//! interpreter), and the facts of the caller that decide which namespaces can be made.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{io_reason, ErrorKind, SandboxError};

/// Why a command could not be found.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    NotFound,
    NotExecutable(PathBuf),
}

fn executable(p: &Path) -> Result<bool, ()> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => Ok(m.permissions().mode() & 0o111 != 0),
        Ok(_) => Ok(false),
        Err(_) => Err(()),
    }
}

/// Finds `cmd` as execvp would: as given if it contains a `/`, else in each directory of
/// `path` in turn. A file that exists but is not executable is remembered, and reported if
/// nothing better is found.
pub fn find_command(cmd: &Path, path: Option<&OsStr>) -> Result<PathBuf, Lookup> {
    if cmd.as_os_str().as_bytes().contains(&b'/') {
        return match executable(cmd) {
            Ok(true) => Ok(cmd.to_path_buf()),
            Ok(false) => Err(Lookup::NotExecutable(cmd.to_path_buf())),
            Err(()) => Err(Lookup::NotFound),
        };
    }
    if cmd.as_os_str().is_empty() {
        return Err(Lookup::NotFound);
    }
    let default = OsStr::new("/usr/local/bin:/usr/bin:/bin");
    let mut not_exec = None;
    for dir in std::env::split_paths(path.unwrap_or(default)) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let cand = dir.join(cmd);
        match executable(&cand) {
            Ok(true) => return Ok(cand),
            Ok(false) => {
                not_exec.get_or_insert(cand);
            }
            Err(()) => {}
        }
    }
    Err(not_exec.map_or(Lookup::NotFound, Lookup::NotExecutable))
}

/// Finds the command as the program's own PATH (in `env`, else ours) would; nothing is run
/// when it is missing or not executable.
pub fn resolve_command(cmd: &OsStr, env: &[(OsString, OsString)]) -> Result<PathBuf, SandboxError> {
    let search = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var_os("PATH"));
    let shown = cmd.to_string_lossy();
    match find_command(Path::new(cmd), search.as_deref()) {
        Ok(p) => Ok(p),
        Err(Lookup::NotFound) => Err(SandboxError::new(
            ErrorKind::NotFound,
            format!("{shown}: command not found (nothing was run)"),
        )),
        Err(Lookup::NotExecutable(p)) => Err(SandboxError::new(
            ErrorKind::NotExecutable,
            format!(
                "{}: permission denied: not an executable file (nothing was run)",
                p.display()
            ),
        )),
    }
}

/// `K=V` strings for the launcher.
pub fn envp(env: &[(OsString, OsString)]) -> Vec<Vec<u8>> {
    env.iter()
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            kv
        })
        .collect()
}

/// The program's exec failed (reported by the launcher after the fork).
pub fn exec_failure(source: &std::io::Error, path: &Path) -> SandboxError {
    let kind = if source.raw_os_error() == Some(ENOENT) {
        ErrorKind::NotFound
    } else {
        ErrorKind::NotExecutable
    };
    let reason = match source.raw_os_error() {
        Some(ENOEXEC) => "not an executable format".to_string(),
        _ => io_reason(source),
    };
    SandboxError::new(kind, format!("cannot execute {}: {reason}", path.display()))
}

const ENOENT: i32 = 2;
const ENOEXEC: i32 = 8;

/// What the command needs to execute: its binary, and its interpreter (the ELF loader
/// named by PT_INTERP, or the program of a `#!` line, found again for `#!/usr/bin/env`).
pub(crate) fn exec_paths(cmd: &Path) -> Vec<PathBuf> {
    let mut out = vec![cmd.to_path_buf()];
    let Ok(bytes) = std::fs::read(cmd) else {
        return out;
    };
    if let Some(rest) = bytes.strip_prefix(b"#!") {
        let line = rest.split(|&b| b == b'\n').next().unwrap_or(&[]);
        let text = String::from_utf8_lossy(line);
        if let Some(interp) = text.split_whitespace().next() {
            let p = PathBuf::from(interp);
            out.extend(exec_paths(&p));
            // `#!/usr/bin/env python3`: env execs the named program from PATH.
            if p.ends_with("env") {
                if let Some(prog) = text.split_whitespace().nth(1) {
                    if let Ok(found) =
                        find_command(Path::new(prog), std::env::var_os("PATH").as_deref())
                    {
                        out.extend(exec_paths(&found));
                    }
                }
            }
        }
    } else if let Some(i) = elf_interp(&bytes) {
        out.push(PathBuf::from(i));
    }
    out
}

/// PT_INTERP of a 64-bit little-endian ELF file.
fn elf_interp(b: &[u8]) -> Option<String> {
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 || b[5] != 1 {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?));
    let phoff = usize::try_from(u64_at(32)?).ok()?;
    let phentsize = usize::from(u16_at(54)?);
    let phnum = usize::from(u16_at(56)?);
    for i in 0..phnum.min(256) {
        let ph = phoff.checked_add(i.checked_mul(phentsize)?)?;
        if u32_at(ph)? == 3 {
            let off = usize::try_from(u64_at(ph + 8)?).ok()?;
            let size = usize::try_from(u64_at(ph + 32)?).ok()?;
            let raw = b.get(off..off.checked_add(size)?)?;
            let s = raw.split(|&c| c == 0).next()?;
            return Some(String::from_utf8_lossy(s).into_owned());
        }
    }
    None
}

/// Our effective uid and gid: the owner of /proc/self.
pub(crate) fn caller_ids() -> (u32, u32) {
    std::fs::metadata("/proc/self").map_or((0, 0), |m| (m.uid(), m.gid()))
}

/// Why an ordinary user cannot make namespaces here, or `None` when they can. Read from the
/// sysctls that switch user namespaces off: `user.max_user_namespaces` (0 refuses every new
/// one, kernel/ucount.c), Debian's `kernel.unprivileged_userns_clone` and Ubuntu's AppArmor
/// `kernel.apparmor_restrict_unprivileged_userns`.
pub(crate) fn unprivileged_namespaces_unavailable() -> Option<String> {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return Some("user namespaces are disabled here (user.max_user_namespaces = 0)".into());
    }
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return Some(
            "user namespaces are disabled here (kernel.unprivileged_userns_clone = 0)".into(),
        );
    }
    if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        return Some(
            "AppArmor restricts unprivileged user namespaces here (kernel.apparmor_restrict_unprivileged_userns = 1)"
                .into(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_commands_like_execvp() {
        let p = find_command(Path::new("sh"), Some("/nonexistent:/bin:/usr/bin".as_ref())).unwrap();
        assert!(p.ends_with("sh"), "{}", p.display());
        assert_eq!(
            find_command(Path::new("no-such-cmd-xyz"), Some("/bin".as_ref())),
            Err(Lookup::NotFound)
        );
        assert_eq!(
            find_command(Path::new("/etc/hostname-nope"), None),
            Err(Lookup::NotFound)
        );
        assert_eq!(
            find_command(Path::new("/etc/passwd"), None),
            Err(Lookup::NotExecutable(PathBuf::from("/etc/passwd")))
        );
    }
}
