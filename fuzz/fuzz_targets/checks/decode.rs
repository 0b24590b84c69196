//! The supervisor's argument decoding on any call: any ABI, number and registers, and string
//! arguments read from a fake tracee memory holding fuzz bytes. It never panics, and the line
//! it prints is one line of printable ASCII — a hostile program's strings cannot put control
//! characters or escape sequences into the user's terminal.

use straitjacket_policy::action::Action;
use straitjacket_policy::arch::Arch;
use straitjacket_policy::bpf::SeccompData;
use straitjacket_policy::decode;
use straitjacket_policy::ir::eval;

fn word(data: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    for (i, b) in w.iter_mut().enumerate() {
        *b = data.get(at + i).copied().unwrap_or(0);
    }
    u64::from_le_bytes(w)
}

fn printable(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// The target's check of one input: panics on a defect, returns otherwise.
pub fn check(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let arch = Arch::ALL[data[0] as usize % Arch::ALL.len()];
    // Mostly a real number of the ABI (so the argument decoders run), sometimes any number.
    let raw = u32::from_le_bytes([data[1], data[2], data[3], 0]);
    let table = arch.syscalls();
    let nr = if data[1] & 0x80 == 0 {
        table[raw as usize % table.len()].nr
    } else {
        raw.rotate_left(data[2] as u32)
    };
    let mut args = [0u64; 6];
    for (i, a) in args.iter_mut().enumerate() {
        *a = word(data, 4 + 8 * i);
    }
    // Small registers point into the fake memory; anything else is unmapped.
    let memory = data.get(52..).unwrap_or(&[]);
    let mut reads = 0usize;
    let mut read = |addr: u64| -> Option<(Vec<u8>, bool)> {
        reads += 1;
        let at = usize::try_from(addr & 0xffff).ok()?;
        if addr >> 16 != 0x7fff || at > memory.len() {
            return None;
        }
        let rest = &memory[at..];
        let upto = rest.iter().take(decode::MAX_STRING).position(|&b| b == 0);
        Some(match upto {
            Some(n) => (rest[..n].to_vec(), true),
            None => (rest[..rest.len().min(decode::MAX_STRING)].to_vec(), false),
        })
    };
    let d = SeccompData {
        nr: nr as i32,
        arch: arch.audit_arch(),
        instruction_pointer: 0,
        args,
    };
    let abi = eval::abi_of(&d).unwrap_or(arch);
    let line = decode::call(abi, nr, &args, &mut read);
    assert!(printable(&line), "not one printable line: {line:?}");
    assert!(line.ends_with(')'), "{line:?}");
    assert!(reads <= 6, "{reads} reads for one call");

    let e = (args[0] & 0xffff) as u16;
    for a in [
        Action::Errno(e),
        Action::Trap(e),
        Action::Trace(e),
        Action::Allow,
        Action::KillProcess,
        Action::Notify,
    ] {
        let s = decode::action(abi, a);
        assert!(printable(&s) && !s.is_empty(), "{s:?}");
    }
    if let Some(n) = decode::errno_name(abi, e) {
        assert_eq!(abi.constant(n), Some(i64::from(e)), "{n}");
    }
}
