//! A resolved policy to an OCI `LinuxSeccomp` profile (what runc, crun and Docker load) and to
//! a Kubernetes Security Profiles Operator `SeccompProfile`.
//!
//! The policy's first-match rules become libseccomp's rule sets: for each system call the
//! region where each action decides is made explicit (a rule's condition minus the conditions
//! of earlier rules with other actions), so the regions of different actions are disjoint and
//! libseccomp's merge cannot reorder them. Conditions are compiled down to what OCI has — ANDs
//! of raw 64-bit unsigned comparisons, one per argument index (runc turns two on one index into
//! an OR): NOT is pushed to the comparisons, OR becomes several rules (DNF), a 32-bit, signed or
//! masked comparison becomes `SCMP_CMP_MASKED_EQ` patterns over the bits it reads (exact, one
//! pattern per deciding bit). What cannot be said — fs rules, settings, a trap with data, notify
//! without a listener, rules that differ between ABIs, i386's socketcall/ipc doubling — is
//! refused with the reason, never weakened.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{json, Map, Value};

use crate::action::Action;
use crate::arch::{Arch, SyscallNr};
use crate::import::oci::{action_name, arch_scmp_name, Op, I386_MULTIPLEXED};
use crate::ir::{Cmp, CmpOp, Cond, Policy};

/// Conjunctions per system call above which the export gives up.
const MAX_RULES_PER_SYSCALL: usize = 4096;

/// Why a policy cannot be written as an OCI profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportError(pub String);

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ExportError {}

/// Export options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `listenerPath` for notify rules (required when the policy notifies).
    pub listener_path: Option<String>,
    /// `metadata.name` of the Kubernetes resource.
    pub name: Option<String>,
}

/// One OCI comparison on one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Atom {
    Op(Op, u64),
    /// `(arg & mask) == value`.
    Masked(u64, u64),
}

/// `(x & mask) == value`, value within mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pat {
    mask: u64,
    value: u64,
}

impl Pat {
    fn atom(self) -> Atom {
        if self.mask == u64::MAX {
            Atom::Op(Op::Eq, self.value)
        } else {
            Atom::Masked(self.mask, self.value)
        }
    }
    fn intersect(self, o: Pat) -> Option<Pat> {
        let common = self.mask & o.mask;
        (self.value & common == o.value & common).then_some(Pat {
            mask: self.mask | o.mask,
            value: self.value | o.value,
        })
    }
}

/// A conjunction: at most one atom per argument index, sorted by index.
type Conj = Vec<(u8, Atom)>;

/// The OCI rules of one syscall: (action, conjunction).
type RuleSet = Vec<(Action, Conj)>;

/// A disjunction of patterns on one register, `None` = always true.
type PatSet = Option<Vec<Pat>>;

/// The patterns for `y OP u`, where `y` is the compared quantity built from register `x`:
/// bit p of y is `x_p ^ flip_p` when p is in `m`, else the constant `flip_p`; `bits` wide.
fn patterns(m: u64, flip: u64, bits: u32, op: CmpOp, u: u64) -> PatSet {
    let width = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let m = m & width;
    let u = u & width;
    let mut out = Vec::new();
    // Constraint "y_p == b" for every p in `sel`, returning the pattern or None if impossible.
    let agree = |sel: u64, want: u64| -> Option<Pat> {
        let consts = sel & !m;
        if (flip & consts) != (want & consts) {
            return None;
        }
        let vm = sel & m;
        Some(Pat {
            mask: vm,
            value: (want ^ flip) & vm,
        })
    };
    match op {
        CmpOp::Eq => {
            if let Some(p) = agree(width, u) {
                out.push(p);
            }
        }
        CmpOp::Ne => {
            // Some bit differs.
            let consts = width & !m;
            if (flip & consts) != (u & consts) {
                return None;
            }
            for p in 0..bits {
                let b = 1u64 << p;
                if m & b != 0 {
                    out.push(Pat {
                        mask: b,
                        value: !(u ^ flip) & b,
                    });
                }
            }
        }
        CmpOp::Lt | CmpOp::Gt => {
            let lt = op == CmpOp::Lt;
            for k in (0..bits).rev() {
                let b = 1u64 << k;
                let above = width & !((b << 1).wrapping_sub(1));
                let above = if k == 63 { 0 } else { above };
                // Lt: u_k = 1, y_k = 0. Gt: u_k = 0, y_k = 1.
                if (u & b != 0) != lt {
                    continue;
                }
                let want_k = if lt { 0 } else { b };
                let Some(hi) = agree(above, u) else { continue };
                let Some(at) = agree(b, want_k) else { continue };
                if let Some(p) = hi.intersect(at) {
                    out.push(p);
                }
            }
        }
        CmpOp::Le => {
            let mut a = patterns(m, flip, bits, CmpOp::Lt, u)?;
            a.extend(patterns(m, flip, bits, CmpOp::Eq, u)?);
            out = a;
        }
        CmpOp::Ge => {
            let mut a = patterns(m, flip, bits, CmpOp::Gt, u)?;
            a.extend(patterns(m, flip, bits, CmpOp::Eq, u)?);
            out = a;
        }
    }
    if out.iter().any(|p| p.mask == 0) {
        return None;
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// A typed comparison as a disjunction of single OCI atoms; `None` = always true.
fn cmp_atoms(c: &Cmp) -> Option<Vec<Atom>> {
    let wmask = c.width.mask();
    let m = c.mask & wmask;
    let k = c.value & wmask;
    let bits = c.width.bits();
    if m == u64::MAX && !c.signed {
        let op = match c.op {
            CmpOp::Eq => Op::Eq,
            CmpOp::Ne => Op::Ne,
            CmpOp::Lt => Op::Lt,
            CmpOp::Le => Op::Le,
            CmpOp::Gt => Op::Gt,
            CmpOp::Ge => Op::Ge,
        };
        return Some(vec![Atom::Op(op, k)]);
    }
    if m == u64::MAX && c.signed && matches!(c.op, CmpOp::Eq | CmpOp::Ne) {
        let op = if c.op == CmpOp::Eq { Op::Eq } else { Op::Ne };
        return Some(vec![Atom::Op(op, k)]);
    }
    let sign = if c.signed { 1u64 << (bits - 1) } else { 0 };
    let pats = patterns(m, sign, bits, c.op, k ^ sign)?;
    Some(pats.into_iter().map(Pat::atom).collect())
}

/// Patterns equivalent to one atom on a full register.
fn atom_pats(a: Atom) -> PatSet {
    match a {
        Atom::Masked(m, v) => {
            if v & !m != 0 {
                Some(Vec::new())
            } else if m == 0 {
                None
            } else {
                Some(vec![Pat { mask: m, value: v }])
            }
        }
        Atom::Op(op, v) => {
            let op = match op {
                Op::Eq => CmpOp::Eq,
                Op::Ne => CmpOp::Ne,
                Op::Lt => CmpOp::Lt,
                Op::Le => CmpOp::Le,
                Op::Gt => CmpOp::Gt,
                Op::Ge => CmpOp::Ge,
                Op::MaskedEq => unreachable!("masked atoms are Atom::Masked"),
            };
            patterns(u64::MAX, 0, 64, op, v)
        }
    }
}

/// Pushes NOT down to the comparisons. `None` = constant (true/false as the bool).
fn nnf(c: &Cond, neg: bool) -> Result<Cond, bool> {
    match c {
        Cond::True => Err(!neg),
        Cond::Cmp(x) => {
            let mut x = *x;
            if neg {
                x.op = match x.op {
                    CmpOp::Eq => CmpOp::Ne,
                    CmpOp::Ne => CmpOp::Eq,
                    CmpOp::Lt => CmpOp::Ge,
                    CmpOp::Ge => CmpOp::Lt,
                    CmpOp::Le => CmpOp::Gt,
                    CmpOp::Gt => CmpOp::Le,
                };
            }
            Ok(Cond::Cmp(x))
        }
        Cond::Not(inner) => nnf(inner, !neg),
        Cond::And(cs) | Cond::Or(cs) => {
            let is_and = matches!(c, Cond::And(_)) != neg;
            let mut out = Vec::new();
            for x in cs {
                match nnf(x, neg) {
                    Ok(y) => out.push(y),
                    // In an AND, false decides and true drops out; in an OR, the reverse.
                    Err(b) if b != is_and => return Err(b),
                    Err(_) => {}
                }
            }
            if out.is_empty() {
                return Err(is_and);
            }
            Ok(if is_and {
                Cond::And(out)
            } else {
                Cond::Or(out)
            })
        }
    }
}

/// A condition (NOT-free) as a list of conjunctions of OCI atoms, one atom per index.
fn dnf(c: &Cond, name: &str) -> Result<Vec<Conj>, ExportError> {
    let too_big = || {
        ExportError(format!(
            "`{name}`: the condition needs more than {MAX_RULES_PER_SYSCALL} OCI rules"
        ))
    };
    match c {
        Cond::True => Ok(vec![Vec::new()]),
        Cond::Not(_) => unreachable!("nnf removed NOT"),
        Cond::Cmp(x) => Ok(match cmp_atoms(x) {
            None => vec![Vec::new()],
            Some(atoms) => atoms
                .into_iter()
                .map(|a| vec![(x.arg.get() as u8, a)])
                .collect(),
        }),
        Cond::Or(cs) => {
            let mut out = Vec::new();
            for x in cs {
                out.extend(dnf(x, name)?);
                if out.len() > MAX_RULES_PER_SYSCALL {
                    return Err(too_big());
                }
            }
            Ok(out)
        }
        Cond::And(cs) => {
            let mut acc: Vec<Conj> = vec![Vec::new()];
            for x in cs {
                let d = dnf(x, name)?;
                let mut next = Vec::new();
                for a in &acc {
                    for b in &d {
                        if let Some(c) = conj_and(a, b) {
                            next.push(c);
                        }
                    }
                    if next.len() > MAX_RULES_PER_SYSCALL {
                        return Err(too_big());
                    }
                }
                acc = next;
            }
            Ok(acc)
        }
    }
}

/// The AND of two conjunctions; atoms on one index are intersected as patterns, which may
/// split into several conjunctions — returned as the first when only one results. `None`:
/// unsatisfiable.
fn conj_and(a: &Conj, b: &Conj) -> Option<Conj> {
    let mut by_idx: BTreeMap<u8, Vec<Atom>> = BTreeMap::new();
    for (i, x) in a.iter().chain(b.iter()) {
        let e = by_idx.entry(*i).or_default();
        if !e.contains(x) {
            e.push(*x);
        }
    }
    let mut out = Vec::new();
    for (i, atoms) in by_idx {
        if atoms.len() == 1 {
            out.push((i, atoms[0]));
            continue;
        }
        // Intersect as single patterns when each atom is one pattern.
        let mut acc: Option<Pat> = Some(Pat { mask: 0, value: 0 });
        for x in &atoms {
            match atom_pats(*x) {
                None => {}
                Some(ps) if ps.len() == 1 => acc = acc.and_then(|p| p.intersect(ps[0])),
                Some(ps) if ps.is_empty() => return None,
                Some(_) => {
                    // A range and something else on one index: give up on merging here;
                    // `split_same_index` expands it.
                    return Some(split_marker(a, b));
                }
            }
        }
        match acc {
            None => return None,
            Some(p) if p.mask == 0 => {}
            Some(p) => out.push((i, p.atom())),
        }
    }
    Some(out)
}

/// Keeps both conjunctions' atoms (same index twice); resolved by [`split_same_index`].
fn split_marker(a: &Conj, b: &Conj) -> Conj {
    let mut c = a.clone();
    c.extend(b.iter().copied());
    c.sort();
    c.dedup();
    c
}

/// Rewrites a conjunction with several atoms on one index into conjunctions with one each,
/// by expanding those atoms into patterns and intersecting. The expansion multiplies (a range
/// is up to 64 patterns, a 32-bit `!=` 32): past [`MAX_RULES_PER_SYSCALL`] it gives up
/// with an error instead of exhausting memory.
fn split_same_index(c: &Conj, name: &str) -> Result<Vec<Conj>, ExportError> {
    let too_big = || {
        ExportError(format!(
            "`{name}`: the condition needs more than {MAX_RULES_PER_SYSCALL} OCI rules"
        ))
    };
    let mut by_idx: BTreeMap<u8, Vec<Atom>> = BTreeMap::new();
    for (i, x) in c {
        by_idx.entry(*i).or_default().push(*x);
    }
    let mut acc: Vec<Conj> = vec![Vec::new()];
    for (i, atoms) in by_idx {
        let options: Vec<Option<Atom>> = if atoms.len() == 1 {
            vec![Some(atoms[0])]
        } else {
            let mut pats: Vec<Pat> = vec![Pat { mask: 0, value: 0 }];
            for x in atoms {
                let Some(ps) = atom_pats(x) else { continue };
                let mut next = Vec::new();
                for p in &pats {
                    for q in &ps {
                        if let Some(r) = p.intersect(*q) {
                            next.push(r);
                        }
                    }
                    if next.len() > MAX_RULES_PER_SYSCALL {
                        return Err(too_big());
                    }
                }
                pats = next;
            }
            pats.into_iter()
                .map(|p| (p.mask != 0).then(|| p.atom()))
                .collect()
        };
        let mut next = Vec::new();
        for a in &acc {
            for o in &options {
                let mut c = a.clone();
                if let Some(x) = o {
                    c.push((i, *x));
                }
                next.push(c);
            }
            if next.len() > MAX_RULES_PER_SYSCALL {
                return Err(too_big());
            }
        }
        acc = next;
    }
    Ok(acc)
}

/// The OCI rules of one syscall: (action, conjunction), regions of different actions disjoint.
fn syscall_rules(
    rules: &[crate::ir::Rule],
    default: Action,
    name: &str,
) -> Result<Vec<(Action, Conj)>, ExportError> {
    let mut out: Vec<(Action, Conj)> = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        if r.action == default {
            continue;
        }
        let mut parts = vec![r.cond.clone()];
        for earlier in &rules[..i] {
            if earlier.action != r.action {
                parts.push(Cond::Not(Box::new(earlier.cond.clone())));
            }
        }
        let region = match nnf(&Cond::And(parts), false) {
            Err(false) => continue,
            Err(true) => Cond::True,
            Ok(c) => c,
        };
        for c in dnf(&region, name)? {
            for c in split_same_index(&c, name)? {
                let item = (r.action, c);
                if !out.contains(&item) {
                    out.push(item);
                }
                if out.len() > MAX_RULES_PER_SYSCALL {
                    return Err(ExportError(format!(
                        "`{name}`: the rules need more than {MAX_RULES_PER_SYSCALL} OCI rules"
                    )));
                }
            }
        }
    }
    // An unconditional rule makes libseccomp drop every other rule of the call: keep it alone.
    if let Some(u) = out.iter().find(|(_, c)| c.is_empty()).cloned() {
        out.retain(|(a, c)| *a == u.0 && c.is_empty());
    }
    Ok(out)
}

/// The profile as a JSON value (plain OCI: no Docker extensions).
pub fn profile(policy: &Policy, opts: &Options) -> Result<(Value, Vec<String>), ExportError> {
    let mut warnings = Vec::new();
    if !policy.fs.is_empty() {
        let paths: Vec<&str> = policy.fs.iter().map(|f| f.path.as_str()).collect();
        return Err(ExportError(format!(
            "the policy has fs rules ({}), which an OCI seccomp profile cannot carry; seccomp filters cannot see paths",
            paths.join(", ")
        )));
    }
    if !policy.settings.is_empty() {
        let kw: Vec<&str> = policy.settings.iter().map(|s| s.keyword.as_str()).collect();
        return Err(ExportError(format!(
            "the policy has settings ({}) that an OCI seccomp profile cannot carry",
            kw.join(", ")
        )));
    }
    let Some(first) = policy.filters.first() else {
        return Err(ExportError("the policy covers no architecture".into()));
    };
    let default = first.default;
    for f in &policy.filters {
        if f.default != default {
            return Err(ExportError(format!(
                "the default differs between {} ({}) and {} ({}); OCI has one defaultAction",
                first.arch, default, f.arch, f.default
            )));
        }
    }
    let check_action = |a: Action| -> Result<(), ExportError> {
        match a {
            Action::Trap(d) if d != 0 => Err(ExportError(format!(
                "trap({d}): OCI's SCMP_ACT_TRAP carries no data"
            ))),
            Action::Notify if opts.listener_path.is_none() => Err(ExportError(
                "notify rules need a listener: OCI runtimes hand the notification fd to listenerPath (give --listener-path)".into(),
            )),
            _ => Ok(()),
        }
    };
    check_action(default)?;
    if first.unknown != default {
        warnings.push(format!(
            "calls newer than straitjacket's tables answer {} in the policy; OCI gives them the default ({default}) (runc adds its own ENOSYS stub for calls newer than libseccomp)",
            first.unknown
        ));
    }

    // Per name: the rules on each ABI that has it.
    let mut per_name: BTreeMap<&'static str, Vec<(Arch, RuleSet)>> = BTreeMap::new();
    let mut order: Vec<&'static str> = Vec::new();
    for f in &policy.filters {
        for sc in f.arch.syscalls() {
            let rules = match f.syscalls.get(&SyscallNr(sc.nr)) {
                Some(rs) => syscall_rules(rs, default, sc.name)?,
                None => Vec::new(),
            };
            for (a, _) in &rules {
                check_action(*a)?;
            }
            if !per_name.contains_key(sc.name) {
                order.push(sc.name);
            }
            per_name.entry(sc.name).or_default().push((f.arch, rules));
        }
    }
    let mut entries: Vec<(Action, Conj, Vec<&'static str>)> = Vec::new();
    let mut exported: BTreeMap<&'static str, Vec<(Action, Conj)>> = BTreeMap::new();
    for name in &order {
        let versions = &per_name[name];
        let (a0, r0) = &versions[0];
        for (a, r) in &versions[1..] {
            if r != r0 {
                return Err(ExportError(format!(
                    "`{name}` has different rules on {a0} and {a}; an OCI profile applies one rule set to every architecture (export one architecture with `arch`)"
                )));
            }
        }
        if r0.is_empty() {
            continue;
        }
        exported.insert(name, r0.clone());
        for (act, conj) in r0 {
            match entries.iter_mut().find(|(a, c, _)| a == act && c == conj) {
                Some(e) => e.2.push(name),
                None => entries.push((*act, conj.clone(), vec![name])),
            }
        }
    }
    // i386: libseccomp also applies rules of multiplexed calls to socketcall/ipc.
    if policy.filter(Arch::I386).is_some() {
        for (call, mux, sel) in I386_MULTIPLEXED {
            if !exported.contains_key(call) {
                continue;
            }
            let mux_uncond = exported
                .get(mux)
                .is_some_and(|rs| rs.iter().any(|(_, c)| c.is_empty()));
            if !mux_uncond {
                return Err(ExportError(format!(
                    "on i386, libseccomp also applies the rules of `{call}` to `{mux}({sel})`, which this policy decides differently; give `{mux}` an unconditional rule or leave i386 out"
                )));
            }
        }
    }

    let mut o = Map::new();
    let (d, de) = action_name(default);
    o.insert("defaultAction".into(), Value::from(d));
    if let Some(e) = de {
        o.insert("defaultErrnoRet".into(), Value::from(e));
    }
    o.insert(
        "architectures".into(),
        Value::from(
            policy
                .filters
                .iter()
                .map(|f| arch_scmp_name(f.arch))
                .collect::<Vec<_>>(),
        ),
    );
    if let Some(l) = &opts.listener_path {
        o.insert("listenerPath".into(), Value::from(l.clone()));
    }
    let mut calls = Vec::new();
    for (act, conj, names) in entries {
        let mut c = Map::new();
        c.insert("names".into(), Value::from(names));
        let (a, e) = action_name(act);
        c.insert("action".into(), Value::from(a));
        if let Some(e) = e {
            c.insert("errnoRet".into(), Value::from(e));
        }
        if !conj.is_empty() {
            let args: Vec<Value> = conj
                .iter()
                .map(|(i, atom)| match atom {
                    Atom::Op(op, v) => json!({"index": i, "value": v, "op": op.name()}),
                    Atom::Masked(m, v) => {
                        json!({"index": i, "value": m, "valueTwo": v, "op": "SCMP_CMP_MASKED_EQ"})
                    }
                })
                .collect();
            c.insert("args".into(), Value::from(args));
        }
        calls.push(Value::Object(c));
    }
    o.insert("syscalls".into(), Value::from(calls));
    Ok((Value::Object(o), warnings))
}

/// The OCI profile as pretty JSON.
pub fn oci(policy: &Policy, opts: &Options) -> Result<(String, Vec<String>), ExportError> {
    let (v, w) = profile(policy, opts)?;
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    Ok((s, w))
}

/// A Security Profiles Operator `SeccompProfile` (YAML).
pub fn k8s(policy: &Policy, opts: &Options) -> Result<(String, Vec<String>), ExportError> {
    let (v, w) = profile(policy, opts)?;
    let name = opts.name.clone().unwrap_or_else(|| "straitjacket".into());
    let mut out = String::new();
    out.push_str("apiVersion: security-profiles-operator.x-k8s.io/v1beta1\n");
    out.push_str("kind: SeccompProfile\n");
    out.push_str("metadata:\n");
    out.push_str(&format!("  name: {}\n", yaml_str(&name)));
    out.push_str("spec:\n");
    let obj = v.as_object().cloned().unwrap_or_default();
    for key in [
        "defaultAction",
        "defaultErrnoRet",
        "architectures",
        "listenerPath",
    ] {
        let Some(x) = obj.get(key) else { continue };
        match x {
            Value::Array(xs) => {
                out.push_str(&format!("  {key}:\n"));
                for a in xs {
                    out.push_str(&format!("  - {}\n", yaml_scalar(a)));
                }
            }
            _ => out.push_str(&format!("  {key}: {}\n", yaml_scalar(x))),
        }
    }
    let calls = obj
        .get("syscalls")
        .and_then(|s| s.as_array())
        .cloned()
        .unwrap_or_default();
    if calls.is_empty() {
        out.push_str("  syscalls: []\n");
    } else {
        out.push_str("  syscalls:\n");
    }
    for c in calls {
        let c = c.as_object().cloned().unwrap_or_default();
        out.push_str("  - action: ");
        out.push_str(&yaml_scalar(&c["action"]));
        out.push('\n');
        if let Some(e) = c.get("errnoRet") {
            out.push_str(&format!("    errnoRet: {}\n", yaml_scalar(e)));
        }
        out.push_str("    names:\n");
        for n in c["names"].as_array().cloned().unwrap_or_default() {
            out.push_str(&format!("    - {}\n", yaml_scalar(&n)));
        }
        if let Some(Value::Array(args)) = c.get("args") {
            out.push_str("    args:\n");
            for a in args {
                for key in ["value", "valueTwo"] {
                    if a.get(key)
                        .and_then(|v| v.as_u64())
                        .is_some_and(|v| v > i64::MAX as u64)
                    {
                        return Err(ExportError(format!(
                            "a value above 2^63-1 ({:#x}): the SeccompProfile CRD stores int64 values",
                            a[key].as_u64().unwrap_or(0)
                        )));
                    }
                }
                out.push_str(&format!("    - index: {}\n", a["index"]));
                out.push_str(&format!("      op: {}\n", yaml_scalar(&a["op"])));
                out.push_str(&format!("      value: {}\n", a["value"]));
                if let Some(v2) = a.get("valueTwo") {
                    out.push_str(&format!("      valueTwo: {v2}\n"));
                }
            }
        }
    }
    Ok((out, w))
}

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::String(s) => yaml_str(s),
        other => other.to_string(),
    }
}

/// A YAML string: plain when safe, else double-quoted (JSON escaping is valid YAML).
fn yaml_str(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
        && !s
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '-')
        && !matches!(s, "true" | "false" | "null" | "yes" | "no" | "on" | "off");
    if plain {
        s.to_string()
    } else {
        Value::from(s).to_string()
    }
}

/// Whether a conjunction holds for these registers (libseccomp's meaning).
#[cfg(test)]
fn holds(conj: &Conj, args: &[u64; 6]) -> bool {
    conj.iter().all(|(i, a)| {
        let x = args[usize::from(*i)];
        match *a {
            Atom::Masked(m, v) => x & m == v,
            Atom::Op(op, v) => match op {
                Op::Eq => x == v,
                Op::Ne => x != v,
                Op::Lt => x < v,
                Op::Le => x <= v,
                Op::Gt => x > v,
                Op::Ge => x >= v,
                Op::MaskedEq => false,
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Width;
    use crate::ir::eval::cmp_holds;
    use crate::ir::ArgIndex;

    fn interesting(v: u64) -> Vec<u64> {
        let mut xs = vec![
            0,
            1,
            u64::MAX,
            0x8000_0000,
            0x7fff_ffff,
            0xffff_ffff,
            0x1_0000_0000,
            0x8000_0000_0000_0000,
            0x7fff_ffff_ffff_ffff,
        ];
        for d in [0u64, 1, u64::MAX] {
            xs.push(v.wrapping_add(d));
            xs.push(v.wrapping_add(d) | 0xdead_0000_0000_0000);
            xs.push(v.wrapping_add(d) & 0xffff_ffff);
        }
        xs
    }

    #[test]
    fn typed_comparisons_become_exact_patterns() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for width in [Width::W32, Width::W64] {
            for signed in [false, true] {
                for op in [
                    CmpOp::Eq,
                    CmpOp::Ne,
                    CmpOp::Lt,
                    CmpOp::Le,
                    CmpOp::Gt,
                    CmpOp::Ge,
                ] {
                    for _ in 0..20 {
                        let value = match rnd() % 4 {
                            0 => rnd() % 16,
                            1 => (rnd() as i64 % 100) as u64,
                            _ => rnd(),
                        } & width.mask();
                        let mask = if rnd() % 3 == 0 {
                            rnd() | value
                        } else {
                            u64::MAX
                        } & width.mask();
                        let c = Cmp {
                            arg: ArgIndex::new(0).unwrap(),
                            width,
                            signed,
                            op,
                            mask,
                            value,
                        };
                        let atoms = cmp_atoms(&c);
                        let mut xs = interesting(value);
                        xs.extend((0..50).map(|_| rnd()));
                        xs.extend((0..50).map(|_| rnd() & 0xff ^ value));
                        for x in xs {
                            let want = cmp_holds(&c, x);
                            let got = match &atoms {
                                None => true,
                                Some(a) => {
                                    a.iter().any(|a| holds(&vec![(0, *a)], &[x, 0, 0, 0, 0, 0]))
                                }
                            };
                            assert_eq!(got, want, "{c:?} on {x:#x}: {atoms:?}");
                        }
                    }
                }
            }
        }
    }

    /// Several comparisons on one argument multiply into patterns (a 64-bit `!=` is up to 64);
    /// the expansion stops at the rule limit with an error, instead of exhausting memory
    /// (found by the `oci` fuzz target: fuzz/regressions/oci/export-same-index-blowup.json).
    #[test]
    fn same_index_expansion_is_bounded() {
        let policy = |text: &str| {
            let opts = crate::resolve::Options {
                native: Arch::X86_64,
            };
            crate::resolve::resolve_text("t.sj", text, &opts)
                .unwrap()
                .1
                .policy
        };
        let five = policy(
            "default errno(1)\n\
             allow read if arg0 != 1 && arg0 != 2 && arg0 != 3 && arg0 != 4 && arg0 != 5\n",
        );
        let e = oci(&five, &Options::default()).unwrap_err();
        assert!(e.0.contains("more than 4096 OCI rules"), "{e}");
        // Two still fit, and mean what they said.
        let two = policy("default errno(1)\nallow read if arg0 != 1 && arg0 != 2\n");
        let rules = syscall_rules(
            &two.filters[0].syscalls.values().next().unwrap()[..],
            Action::Errno(1),
            "read",
        )
        .unwrap();
        for x in [0u64, 1, 2, 3, u64::MAX, 0x1_0000_0001] {
            let allowed = rules.iter().any(|(_, c)| holds(c, &[x, 0, 0, 0, 0, 0]));
            assert_eq!(allowed, x != 1 && x != 2, "{x:#x}");
        }
    }
}
