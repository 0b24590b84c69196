//! What a compiled filter costs and proves, per syscall: instructions executed (from the
//! emulator) and whether the kernel's action cache can prove an allow constant (the
//! kernel's own prover, `bpf::cache`). Feeds `check`'s summary, the benchmarks, and the
//! tests that guard these figures.

use crate::action::Action;
use crate::arch::SyscallNr;
use crate::bpf::{cache, vm, Program, SeccompData};
use crate::ir::{Cond, Filter};

/// One syscall of one ABI under a compiled filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallCost {
    pub nr: u32,
    /// The policy names it (it has rules).
    pub named: bool,
    /// Its decision depends on arguments.
    pub conditional: bool,
    /// Its decision when it does not depend on arguments.
    pub fixed: Option<Action>,
    /// Instructions executed with all arguments 0.
    pub executed: usize,
    /// The kernel's action cache proves it allowed without running the filter.
    pub cached: bool,
}

/// The figures of one ABI.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterReport {
    pub syscalls: Vec<SyscallCost>,
}

impl FilterReport {
    /// Syscalls allowed with no condition.
    pub fn fixed_allows(&self) -> impl Iterator<Item = &SyscallCost> {
        self.syscalls
            .iter()
            .filter(|s| s.fixed == Some(Action::Allow))
    }
    /// Syscalls that may be allowed (unconditionally or under a condition).
    pub fn allowed(&self) -> usize {
        self.syscalls
            .iter()
            .filter(|s| s.fixed.is_some_and(Action::runs_call) || s.conditional)
            .count()
    }
    /// Mean instructions over the syscalls the policy names.
    pub fn mean_named(&self) -> f64 {
        let named: Vec<usize> = self
            .syscalls
            .iter()
            .filter(|s| s.named)
            .map(|s| s.executed)
            .collect();
        named.iter().sum::<usize>() as f64 / named.len().max(1) as f64
    }
    /// Mean instructions over every syscall of the table.
    pub fn mean_all(&self) -> f64 {
        self.syscalls.iter().map(|s| s.executed).sum::<usize>() as f64
            / self.syscalls.len().max(1) as f64
    }
    /// Most instructions any call of the table executes (arguments 0).
    pub fn max(&self) -> usize {
        self.syscalls.iter().map(|s| s.executed).max().unwrap_or(0)
    }
    /// Most instructions a call whose decision needs no argument executes.
    pub fn max_fixed(&self) -> usize {
        self.syscalls
            .iter()
            .filter(|s| !s.conditional)
            .map(|s| s.executed)
            .max()
            .unwrap_or(0)
    }
}

/// Measures `prog` (compiled from a policy containing `filter`) for every syscall of the
/// filter's ABI.
pub fn report(filter: &Filter, prog: &Program) -> FilterReport {
    let audit = filter.arch.audit_arch();
    let syscalls = filter
        .arch
        .syscalls()
        .iter()
        .map(|sc| {
            let rules = filter.syscalls.get(&SyscallNr(sc.nr));
            let conditional =
                rules.is_some_and(|rs| rs.iter().take_while(|r| r.cond != Cond::True).count() > 0);
            let fixed = match (conditional, rules.and_then(|rs| rs.first())) {
                (true, _) => None,
                (false, Some(r)) => Some(r.action),
                (false, None) => Some(filter.default),
            };
            let data = SeccompData {
                nr: sc.nr as i32,
                arch: audit,
                instruction_pointer: 0,
                args: [0; 6],
            };
            SyscallCost {
                nr: sc.nr,
                named: rules.is_some(),
                conditional,
                fixed,
                executed: vm::run(prog, &data).executed,
                cached: cache::is_const_allow(prog, audit, sc.nr),
            }
        })
        .collect();
    FilterReport { syscalls }
}
