//! Differential test (DESIGN.md testing layer 2): for random policies and random
//! `seccomp_data`, the resolved rules' meaning (ir::eval) equals the emulator running the
//! compiled program.

use std::collections::BTreeMap;

use proptest::prelude::*;
use straitjacket_policy::action::Action;
use straitjacket_policy::arch::{Arch, SyscallNr, Width, X32_SYSCALL_BIT};
use straitjacket_policy::bpf::{vm, SeccompData};
use straitjacket_policy::compile::compile;
use straitjacket_policy::ir::{eval, ArgIndex, Cmp, CmpOp, Cond, Filter, Policy, Rule};

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Allow),
        Just(Action::Log),
        Just(Action::KillProcess),
        Just(Action::KillThread),
        Just(Action::Notify),
        (0u16..4096).prop_map(Action::Errno),
        (0u16..8).prop_map(Action::Trap),
        (0u16..8).prop_map(Action::Trace),
    ]
}

/// Interesting 64-bit values: small, sign patterns, each half set, all-ones.
fn value() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..4,
        Just(u64::MAX),
        Just(0xffff_ffff),
        Just(0x8000_0000),
        Just(0x7fff_ffff),
        Just(0x1_0000_0000),
        Just(0x1_0000_0001),
        Just(0xffff_ffff_0000_0000),
        Just(0x8000_0000_0000_0000),
        Just(0xffff_ff9c),
        Just(0xffff_ffff_ffff_ff9c),
        any::<u64>(),
    ]
}

fn cmp() -> impl Strategy<Value = Cmp> {
    (
        0usize..3,
        prop_oneof![Just(Width::W32), Just(Width::W64)],
        any::<bool>(),
        prop_oneof![
            Just(CmpOp::Eq),
            Just(CmpOp::Ne),
            Just(CmpOp::Lt),
            Just(CmpOp::Le),
            Just(CmpOp::Gt),
            Just(CmpOp::Ge)
        ],
        prop_oneof![Just(u64::MAX), value()],
        value(),
    )
        .prop_map(|(arg, width, signed, op, mask, value)| Cmp {
            arg: ArgIndex::new(arg).unwrap(),
            width,
            signed,
            op,
            mask: mask & width.mask(),
            value: value & width.mask(),
        })
}

fn cond() -> impl Strategy<Value = Cond> {
    let leaf = prop_oneof![1 => Just(Cond::True), 6 => cmp().prop_map(Cond::Cmp)];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Cond::And),
            prop::collection::vec(inner.clone(), 1..4).prop_map(Cond::Or),
            inner.prop_map(|c| Cond::Not(Box::new(c))),
        ]
    })
}

fn filter(arch: Arch) -> impl Strategy<Value = Filter> {
    let nrs: Vec<u32> = arch.syscalls().iter().map(|s| s.nr).collect();
    let rules = prop::collection::vec(
        (action(), cond()).prop_map(|(action, cond)| Rule {
            action,
            cond,
            origin: None,
            span: None,
        }),
        1..4,
    );
    (
        action(),
        action(),
        prop::collection::btree_map(prop::sample::select(nrs), rules, 0..6),
    )
        .prop_map(move |(default, unknown, m)| Filter {
            arch,
            default,
            default_origin: None,
            unknown,
            syscalls: m
                .into_iter()
                .map(|(k, v)| (SyscallNr(k), v))
                .collect::<BTreeMap<_, _>>(),
        })
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![
        filter(Arch::X86_64).prop_map(|f| vec![f]),
        (filter(Arch::X86_64), filter(Arch::I386)).prop_map(|(a, b)| vec![a, b]),
        (filter(Arch::X86_64), filter(Arch::X32)).prop_map(|(a, b)| vec![a, b]),
        filter(Arch::Aarch64).prop_map(|f| vec![f]),
        filter(Arch::I386).prop_map(|f| vec![f]),
    ]
    .prop_map(|filters| Policy {
        filters,
        fs: vec![],
        settings: vec![],
    })
}

fn data(p: &Policy) -> impl Strategy<Value = SeccompData> {
    let mut nrs: Vec<u32> = vec![0, 1, u32::MAX, X32_SYSCALL_BIT, X32_SYSCALL_BIT + 1];
    for f in &p.filters {
        nrs.extend(f.syscalls.keys().map(|k| k.0));
        nrs.push(f.arch.max_nr().0 + 1);
        nrs.push(f.arch.min_nr().0);
        nrs.push(f.arch.max_nr().0);
    }
    let arches = vec![
        Arch::X86_64.audit_arch(),
        Arch::I386.audit_arch(),
        Arch::Aarch64.audit_arch(),
        0x4000_0028,
    ];
    (
        prop::sample::select(nrs),
        prop::sample::select(arches),
        prop::array::uniform6(value()),
    )
        .prop_map(|(nr, arch, args)| SeccompData {
            nr: nr as i32,
            arch,
            instruction_pointer: 0,
            args,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn emulator_agrees_with_rules((p, datas) in policy().prop_flat_map(|p| {
        let d = prop::collection::vec(data(&p), 16);
        (Just(p), d)
    })) {
        let prog = compile(&p).expect("compiles");
        for d in &datas {
            let want = eval::eval(&p, d);
            let got = vm::run(&prog, d).action();
            prop_assert_eq!(got, want, "data {:?}", d);
        }
    }
}
