//! The reference meaning of a resolved policy: which action the kernel must take for a
//! given `seccomp_data`. Written for clarity, not speed; the compiled program is tested
//! against it (DESIGN.md, testing layer 2).

use super::{Cmp, CmpOp, Cond, Filter, Policy, Rule};
use crate::action::Action;
use crate::arch::{Arch, SyscallNr, Width, X32_SYSCALL_BIT};
use crate::bpf::SeccompData;

/// Which ABI a call belongs to, from `arch` and (on x86-64) the x32 bit of `nr`.
pub fn abi_of(data: &SeccompData) -> Option<Arch> {
    let nr = data.nr as u32;
    Arch::ALL.into_iter().find(|a| {
        a.audit_arch() == data.arch
            && match a {
                Arch::X86_64 => nr & X32_SYSCALL_BIT == 0,
                Arch::X32 => nr & X32_SYSCALL_BIT != 0,
                _ => true,
            }
    })
}

/// The decision for one call, and the rule that made it (`None`: the default or the
/// unknown-syscall action, or a foreign ABI).
pub fn decide<'p>(policy: &'p Policy, data: &SeccompData) -> (Action, Option<&'p Rule>) {
    let Some(filter) = abi_of(data).and_then(|a| policy.filter(a)) else {
        return (Action::KillProcess, None);
    };
    decide_in(filter, data)
}

/// The decision of one ABI's filter for a call already known to be of that ABI.
pub fn decide_in<'f>(filter: &'f Filter, data: &SeccompData) -> (Action, Option<&'f Rule>) {
    let nr = SyscallNr(data.nr as u32);
    if let Some(rules) = filter.syscalls.get(&nr) {
        for rule in rules {
            if holds(&rule.cond, &data.args) {
                return (rule.action, Some(rule));
            }
        }
        return (filter.default, None);
    }
    if nr > filter.arch.max_nr() || nr < filter.arch.min_nr() {
        return (filter.unknown, None);
    }
    (filter.default, None)
}

/// The action for one call.
pub fn eval(policy: &Policy, data: &SeccompData) -> Action {
    decide(policy, data).0
}

/// Whether a condition holds for these argument registers.
pub fn holds(cond: &Cond, args: &[u64; 6]) -> bool {
    match cond {
        Cond::True => true,
        Cond::Cmp(c) => cmp_holds(c, args[c.arg.get()]),
        Cond::And(cs) => cs.iter().all(|c| holds(c, args)),
        Cond::Or(cs) => cs.iter().any(|c| holds(c, args)),
        Cond::Not(c) => !holds(c, args),
    }
}

/// One comparison on one register value, as the kernel reads an argument of that type.
pub fn cmp_holds(c: &Cmp, reg: u64) -> bool {
    let v = reg & c.width.mask() & c.mask;
    let k = c.value & c.width.mask();
    let ord = if c.signed {
        sext(v, c.width).cmp(&sext(k, c.width))
    } else {
        v.cmp(&k)
    };
    match c.op {
        CmpOp::Eq => ord.is_eq(),
        CmpOp::Ne => ord.is_ne(),
        CmpOp::Lt => ord.is_lt(),
        CmpOp::Le => ord.is_le(),
        CmpOp::Gt => ord.is_gt(),
        CmpOp::Ge => ord.is_ge(),
    }
}

/// Sign-extends the low `width` bits of `v`. The one place sign extension happens.
pub fn sext(v: u64, width: Width) -> i64 {
    match width {
        Width::W32 => i64::from(v as u32 as i32),
        Width::W64 => v as i64,
    }
}
