//! The emulator against the running kernel (DESIGN.md, testing layer 2; STYLE.md habit 6).
//!
//! Each program is installed in a forked child (NO_NEW_PRIVS + filter), which then issues a
//! system call that ignores its arguments (getpid, getppid, …) with chosen argument values.
//! The filter's returns are distinct `ERRNO(n)`, computed `ret a` values, or actions with a
//! visible effect, so the child's exit status tells which return the kernel took — and
//! nothing under test ever really runs. The same `seccomp_data` goes through `bpf::vm::run`,
//! and the two must agree.

use straitjacket_policy::bpf::{
    run, vm::Outcome, AluOp, Assembler, JmpOp, Program, SeccompData, Src, Target,
};
use straitjacket_policy::Action;
use straitjacket_sys::process::{in_child, ChildOutcome};
use straitjacket_sys::testing::{native_audit_arch, probe, Probe};
use straitjacket_sys::{prctl, seccomp};
use straitjacket_testkit::alone;

const SIGSYS: i32 = 31;
const ENOSYS: i32 = 38;

/// Starts a program that lets the child exit: `exit` and `exit_group` are allowed first.
fn prologue() -> Assembler {
    let mut a = Assembler::new();
    a.ld_nr()
        .jeq(libc_nr::EXIT_GROUP, Target::Next, "p1")
        .ret(Action::Allow)
        .label("p1")
        .jeq(libc_nr::EXIT, Target::Next, "body")
        .ret(Action::Allow)
        .label("body");
    a
}

/// Syscall numbers the prologue needs, per arch.
mod libc_nr {
    #[cfg(target_arch = "x86_64")]
    pub const EXIT: u32 = 60;
    #[cfg(target_arch = "x86_64")]
    pub const EXIT_GROUP: u32 = 231;
    #[cfg(target_arch = "aarch64")]
    pub const EXIT: u32 = 93;
    #[cfg(target_arch = "aarch64")]
    pub const EXIT_GROUP: u32 = 94;
}

/// What the child reports for an action the filter returns.
fn expected(action: Action) -> ChildOutcome {
    match action {
        // The call runs (and returns a non-negative value), or errno 0 makes it return 0.
        Action::Allow | Action::Log | Action::Errno(0) => ChildOutcome::Exited(0),
        Action::Errno(n) => ChildOutcome::Exited(i32::from(n) & 0xff),
        Action::KillProcess | Action::KillThread | Action::Trap(_) => {
            ChildOutcome::Signaled(SIGSYS)
        }
        // No tracer attached / no listener: the kernel answers ENOSYS.
        Action::Trace(_) | Action::Notify => ChildOutcome::Exited(ENOSYS),
    }
}

/// Runs `p` in the kernel for `call` with `args`.
fn kernel(p: &Program, call: Probe, args: [u64; 6]) -> ChildOutcome {
    let records = p.to_raw_records();
    in_child(move || {
        if prctl::set_no_new_privs().is_err() {
            return 250;
        }
        if seccomp::install(&records, seccomp::FilterFlags::NONE).is_err() {
            return 251;
        }
        match probe(call, args) {
            Ok(_) => 0,
            Err(e) => e,
        }
    })
    .expect("fork")
}

fn emulate(p: &Program, call: Probe, args: [u64; 6]) -> Outcome {
    let data = SeccompData {
        nr: call.nr() as i32,
        arch: native_audit_arch(),
        instruction_pointer: 0,
        args,
    };
    run(p, &data)
}

/// Checks kernel == emulator for one input; returns the action.
#[track_caller]
fn agree(p: &Program, call: Probe, args: [u64; 6]) -> Action {
    let vm = emulate(p, call, args).action();
    let k = kernel(p, call, args);
    assert_eq!(
        k,
        expected(vm),
        "kernel and emulator disagree on {call:?} {args:x?}: emulator says {vm}\n{}",
        straitjacket_policy::bpf::disasm::disasm(p, None)
    );
    vm
}

#[test]
fn dispatch_on_the_syscall_number() {
    alone(|| {
        let mut a = prologue();
        for (i, call) in Probe::ALL.iter().enumerate() {
            let next = format!("n{i}");
            a.jeq(call.nr() as u32, Target::Next, next.as_str())
                .ret(Action::Errno(10 + i as u16))
                .label(&next);
        }
        a.ret(Action::KillProcess);
        let p = a.assemble().unwrap();
        for (i, call) in Probe::ALL.iter().enumerate() {
            assert_eq!(agree(&p, *call, [0; 6]), Action::Errno(10 + i as u16));
        }
    });
}

#[test]
fn actions_are_what_the_kernel_does() {
    alone(|| {
        for action in [
            Action::Allow,
            Action::Log,
            Action::Errno(0),
            Action::Errno(1),
            Action::Errno(255),
            Action::Trap(3),
            Action::KillThread,
            Action::KillProcess,
            Action::Trace(7),
            Action::Notify,
        ] {
            let mut a = prologue();
            a.ret(action);
            assert_eq!(
                agree(&a.assemble().unwrap(), Probe::Getppid, [0; 6]),
                action
            );
        }
    });
}

/// Interesting 32-bit words: bounds, signs, and common constants.
const WORDS: [u32; 12] = [
    0,
    1,
    2,
    3,
    100,
    0x7fff_ffff,
    0x8000_0000,
    0x8000_0001,
    0xffff_ff9c,
    0xffff_fffe,
    0xffff_ffff,
    0x1234_5678,
];

#[test]
fn comparisons_on_argument_words() {
    alone(|| {
        let ops = [JmpOp::Jeq, JmpOp::Jgt, JmpOp::Jge, JmpOp::Jset];
        let mut tested = 0;
        for arg in 0..6 {
            for hi in [false, true] {
                for (j, op) in ops.iter().enumerate() {
                    // One program per (arg, word, op): taken → errno 20+j, not taken → 30+j.
                    let k = WORDS[(arg * 2 + usize::from(hi) + j) % WORDS.len()];
                    let mut a = prologue();
                    if hi {
                        a.ld_arg_hi(arg);
                    } else {
                        a.ld_arg_lo(arg);
                    }
                    a.jmp(*op, Src::K(k), Target::Next, "no")
                        .ret(Action::Errno(20 + j as u16))
                        .label("no")
                        .ret(Action::Errno(30 + j as u16));
                    let p = a.assemble().unwrap();
                    for w in [k, k.wrapping_add(1), k.wrapping_sub(1), 0, u32::MAX] {
                        let mut args = [0x5555_5555_aaaa_aaaa_u64; 6];
                        let word = u64::from(w);
                        // The other word of the argument must not matter.
                        args[arg] = if hi {
                            (word << 32) | 0x0000_0003
                        } else {
                            0x0000_0001_0000_0000 | word
                        };
                        agree(&p, Probe::Getppid, args);
                        tested += 1;
                    }
                }
            }
        }
        assert_eq!(tested, 240);
    });
}

#[test]
fn comparisons_with_x() {
    alone(|| {
        // X = args[1].lo; compare args[0].lo with X.
        for op in [JmpOp::Jeq, JmpOp::Jgt, JmpOp::Jge, JmpOp::Jset] {
            let mut a = prologue();
            a.ld_arg_lo(1)
                .tax()
                .ld_arg_lo(0)
                .jmp(op, Src::X, Target::Next, "f")
                .ret(Action::Errno(1))
                .label("f")
                .ret(Action::Errno(2));
            let p = a.assemble().unwrap();
            for (x, y) in [
                (5u64, 5u64),
                (6, 5),
                (5, 6),
                (0xffff_ffff, 1),
                (0b1010, 0b0101),
            ] {
                agree(&p, Probe::Getuid, [x, y, 0, 0, 0, 0]);
            }
        }
    });
}

/// `ld [args[0]]; <op> …; and #0xff; or #ERRNO; ret a` — the computed value comes back as the
/// errno, so the kernel's arithmetic is observed directly.
fn alu_program(body: impl FnOnce(&mut Assembler)) -> Program {
    let mut a = prologue();
    a.ld_arg_lo(1).tax().ld_arg_lo(0);
    body(&mut a);
    a.alu(AluOp::And, Src::K(0xff))
        .alu(AluOp::Or, Src::K(Action::Errno(0).to_ret()))
        .ret_a();
    a.assemble().unwrap()
}

#[test]
fn arithmetic_agrees() {
    alone(|| {
        let ops = [
            AluOp::Add,
            AluOp::Sub,
            AluOp::Mul,
            AluOp::Div,
            AluOp::And,
            AluOp::Or,
            AluOp::Xor,
            AluOp::Lsh,
            AluOp::Rsh,
        ];
        let pairs: [(u32, u32); 8] = [
            (200, 7),
            (0xffff_ffff, 2),
            (0x8000_0001, 31),
            (0x1234_5678, 3),
            (0xdead_beef, 0x10),
            (1, 32),
            (0x8000_0000, 33),
            (0xf0f0_f0f0, 0xffff_ffff),
        ];
        for op in ops {
            for k in [1u32, 3, 17, 31] {
                let p = alu_program(|a| {
                    a.alu(op, Src::K(k));
                });
                for (x, _) in pairs {
                    agree(&p, Probe::Getegid, [u64::from(x), 0, 0, 0, 0, 0]);
                }
            }
            let p = alu_program(|a| {
                a.alu(op, Src::X);
            });
            for (x, y) in pairs {
                agree(&p, Probe::Getegid, [u64::from(x), u64::from(y), 0, 0, 0, 0]);
            }
        }
    });
}

#[test]
fn shift_by_x_of_32_or_more_takes_the_count_mod_32() {
    alone(|| {
        let p = alu_program(|a| {
            a.alu(AluOp::Lsh, Src::X);
        });
        // 1 << 33 → 2 when the count is taken mod 32.
        assert_eq!(
            agree(&p, Probe::Gettid, [1, 33, 0, 0, 0, 0]),
            Action::Errno(2)
        );
        assert_eq!(
            agree(&p, Probe::Gettid, [3, 32, 0, 0, 0, 0]),
            Action::Errno(3)
        );
        let p = alu_program(|a| {
            a.alu(AluOp::Rsh, Src::X);
        });
        assert_eq!(
            agree(&p, Probe::Gettid, [0x8000_0000, 0xffff_ffff, 0, 0, 0, 0]),
            Action::Errno(1)
        );
    });
}

#[test]
fn division_by_x_zero_returns_zero() {
    alone(|| {
        let p = alu_program(|a| {
            a.alu(AluOp::Div, Src::X);
        });
        // The filter returns 0 = SECCOMP_RET_KILL_THREAD: the (only) thread dies of SIGSYS.
        assert_eq!(
            agree(&p, Probe::Getpid, [10, 0, 0, 0, 0, 0]),
            Action::KillThread
        );
        assert_eq!(
            agree(&p, Probe::Getpid, [10, 0x1_0000_0000, 0, 0, 0, 0]),
            Action::KillThread
        );
        assert_eq!(
            agree(&p, Probe::Getpid, [10, 3, 0, 0, 0, 0]),
            Action::Errno(3)
        );
    });
}

#[test]
fn neg_scratch_memory_len_and_moves() {
    alone(|| {
        let p = alu_program(|a| {
            a.neg();
        });
        for x in [0u64, 1, 0x80, 0xffff_ffff] {
            agree(&p, Probe::Getgid, [x, 0, 0, 0, 0, 0]);
        }
        let p = alu_program(|a| {
            a.st(3)
                .stx(15)
                .ld_len()
                .ldx_mem(3)
                .alu(AluOp::Add, Src::X)
                .st(4)
                .ld_mem(15)
                .tax()
                .ld_mem(4)
                .alu(AluOp::Xor, Src::X)
                .ldx_len()
                .alu(AluOp::Sub, Src::X)
                .tax()
                .txa();
        });
        for (x, y) in [(1u64, 2u64), (0xff, 0x1), (0x1234, 0x4321)] {
            agree(&p, Probe::Getgid, [x, y, 0, 0, 0, 0]);
        }
    });
}

/// A small xorshift, so the random programs are the same on every run.
use straitjacket_testkit::Rng;

/// A word for a random program: one of the interesting ones.
fn word(rng: &mut Rng) -> u32 {
    WORDS[rng.below(WORDS.len())]
}

/// Emits a random decision tree: loads of nr or argument words, conditional jumps with K or X,
/// leaves that return distinct errnos, other actions, or a computed `ret a`.
fn tree(a: &mut Assembler, rng: &mut Rng, depth: u32, ids: &mut u16) {
    *ids += 1;
    let id = *ids;
    if depth == 0 || rng.below(5) == 0 {
        match rng.below(8) {
            0 => {
                a.ret(
                    [
                        Action::Allow,
                        Action::Trap(1),
                        Action::KillProcess,
                        Action::Trace(2),
                    ][rng.below(4)],
                );
            }
            1 => {
                let arg = rng.below(6);
                a.ld_arg_lo(arg)
                    .alu(
                        [AluOp::Add, AluOp::Xor, AluOp::Rsh, AluOp::Mul][rng.below(4)],
                        Src::K(word(rng) % 31 + 1),
                    )
                    .alu(AluOp::And, Src::K(0xff))
                    .alu(AluOp::Or, Src::K(Action::Errno(0).to_ret()))
                    .ret_a();
            }
            _ => {
                a.ret(Action::Errno(1 + id % 250));
            }
        }
        return;
    }
    // X = another argument's low word, sometimes, to compare two arguments.
    let src = if rng.below(6) == 0 {
        a.ld_arg_lo(rng.below(6)).tax();
        Src::X
    } else {
        Src::K(word(rng))
    };
    let arg = rng.below(6);
    match rng.below(4) {
        0 => a.ld_nr(),
        1 => a.ld_arg_hi(arg),
        _ => a.ld_arg_lo(arg),
    };
    let op = [JmpOp::Jeq, JmpOp::Jgt, JmpOp::Jge, JmpOp::Jset][rng.below(4)];
    let (t, f) = (format!("t{id}"), format!("f{id}"));
    a.jmp(op, src, t.as_str(), f.as_str()).label(&t);
    tree(a, rng, depth - 1, ids);
    a.label(&f);
    tree(a, rng, depth - 1, ids);
}

#[test]
fn random_programs_agree() {
    alone(|| {
        let mut rng = Rng::new(0x5eed_cafe_f00d_0001);
        let mut actions = std::collections::BTreeSet::new();
        for _ in 0..80 {
            let mut a = prologue();
            let mut ids = 0;
            tree(&mut a, &mut rng, 4, &mut ids);
            let p = a.assemble().unwrap();
            for _ in 0..4 {
                let call = Probe::ALL[rng.below(Probe::ALL.len())];
                let mut args = [0u64; 6];
                for x in &mut args {
                    *x = (u64::from(word(&mut rng)) << 32) | u64::from(word(&mut rng));
                }
                actions.insert(agree(&p, call, args));
            }
        }
        // The spread covers many paths.
        assert!(
            actions.len() > 30,
            "only {} distinct actions",
            actions.len()
        );
    });
}

/// Does the kernel accept these records as a filter? (In a child, with NO_NEW_PRIVS.)
fn kernel_accepts(records: &[[u8; 8]]) -> bool {
    let records = records.to_vec();
    let out = in_child(move || {
        if prctl::set_no_new_privs().is_err() {
            return 2;
        }
        match seccomp::install(&records, seccomp::FilterFlags::NONE) {
            Ok(()) => 0,
            Err(e) if e.raw_os_error() == Some(22) => 1, // EINVAL
            Err(_) => 3,
        }
    })
    .expect("fork");
    match out {
        // Accepted; a filter that returns 0 (kill) on the child's exit_group shows as SIGSYS.
        ChildOutcome::Exited(0) | ChildOutcome::Signaled(SIGSYS) => true,
        ChildOutcome::Exited(1) => false,
        other => panic!("unexpected child outcome {other}"),
    }
}

fn rec(code: u16, jt: u8, jf: u8, k: u32) -> [u8; 8] {
    straitjacket_policy::bpf::SockFilter { code, jt, jf, k }.to_bytes()
}

#[test]
fn the_checker_accepts_exactly_what_the_kernel_accepts() {
    alone(|| {
        const RET_ALLOW: u16 = 0x06;
        let allow = rec(RET_ALLOW, 0, 0, 0x7fff_0000);
        let cases: Vec<(&str, Vec<[u8; 8]>)> = vec![
            ("ret only", vec![allow]),
            ("ld [60]", vec![rec(0x20, 0, 0, 60), allow]),
            ("ld [64]", vec![rec(0x20, 0, 0, 64), allow]),
            ("ld [2]", vec![rec(0x20, 0, 0, 2), allow]),
            ("ld byte", vec![rec(0x30, 0, 0, 0), allow]),
            ("ld ind", vec![rec(0x40, 0, 0, 0), allow]),
            ("ldx msh", vec![rec(0xb1, 0, 0, 0), allow]),
            ("ld len", vec![rec(0x80, 0, 0, 0), allow]),
            ("div #0", vec![rec(0x34, 0, 0, 0), allow]),
            ("div x", vec![rec(0x3c, 0, 0, 0), allow]),
            ("mod #3", vec![rec(0x94, 0, 0, 3), allow]),
            ("mod x", vec![rec(0x9c, 0, 0, 0), allow]),
            ("lsh #31", vec![rec(0x64, 0, 0, 31), allow]),
            ("lsh #32", vec![rec(0x64, 0, 0, 32), allow]),
            ("rsh #32", vec![rec(0x74, 0, 0, 32), allow]),
            ("st M[15]", vec![rec(0x02, 0, 0, 15), allow]),
            ("st M[16]", vec![rec(0x02, 0, 0, 16), allow]),
            ("ld M[0] unwritten", vec![rec(0x60, 0, 0, 0), allow]),
            (
                "st then ld",
                vec![rec(0x02, 0, 0, 4), rec(0x60, 0, 0, 4), allow],
            ),
            (
                "stored on one branch",
                vec![
                    rec(0x15, 0, 1, 0),
                    rec(0x02, 0, 0, 2),
                    rec(0x60, 0, 0, 2),
                    allow,
                ],
            ),
            (
                "dead read after ret",
                vec![allow, rec(0x60, 0, 0, 1), allow],
            ),
            (
                "dead read after ja",
                vec![rec(0x05, 0, 0, 1), rec(0x60, 0, 0, 1), allow],
            ),
            ("ja to last", vec![rec(0x05, 0, 0, 0), allow]),
            ("ja past end", vec![rec(0x05, 0, 0, 1), allow]),
            ("jeq jt past end", vec![rec(0x15, 1, 0, 0), allow]),
            ("jeq jf past end", vec![rec(0x15, 0, 1, 0), allow]),
            ("last not ret", vec![allow, rec(0x20, 0, 0, 0)]),
            ("ret a", vec![rec(0x16, 0, 0, 0)]),
            ("ret x (bad)", vec![rec(0x0e, 0, 0, 0)]),
            (
                "tax txa",
                vec![rec(0x07, 0, 0, 0), rec(0x87, 0, 0, 0), allow],
            ),
            ("neg", vec![rec(0x84, 0, 0, 0), allow]),
            ("unknown misc", vec![rec(0x27, 0, 0, 0), allow]),
            ("max length", {
                let mut v = vec![rec(0x00, 0, 0, 0); 4095];
                v.push(allow);
                v
            }),
            ("too long", {
                let mut v = vec![rec(0x00, 0, 0, 0); 4096];
                v.push(allow);
                v
            }),
        ];
        for (name, records) in cases {
            let ours = Program::from_bytes(&records.concat()).is_ok();
            assert_eq!(
                ours,
                kernel_accepts(&records),
                "{name}: checker says {ours}, kernel disagrees"
            );
        }
    });
}
