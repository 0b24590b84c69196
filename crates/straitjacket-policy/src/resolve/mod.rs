//! Syntax tree to resolved policy: names to numbers for each ABI the policy covers.
//!
//! In: the parsed main file (includes are read through a [`Loader`], so this stage stays free of
//! OS calls). Out: an [`ir::Policy`] with one [`ir::Filter`] per ABI, every comparison typed by
//! its argument's C type, plus warnings (lints). Every error is a [`Diagnostic`] at the place
//! it is about; nothing is silently skipped except group members an ABI does not have.
//!
//! Implicit rules (each with an `implicit:` origin so reports can say why):
//! - io_uring calls not named by the policy answer ENOSYS when the default would allow them
//!   (DESIGN invariant 3: io_uring's operations are not system calls and escape the filter).
//! - `clone3` answers ENOSYS whenever `clone` can be allowed and `clone3` is not named, or
//!   `clone`'s flags are restricted: clone3 hides its flags behind a pointer, and libc falls
//!   back to `clone` on ENOSYS.

mod consts;
mod lint;
pub mod settings;

use std::borrow::Cow;
use std::collections::{btree_map, BTreeMap};

use rustc_hash::FxHashSet;

use crate::action::Action;
use crate::arch::{classify, Arch, ArgKind, SyscallDef, SyscallNr};
use crate::diag::{suggest, Diagnostic, FileId, SourceFile, SourceMap, Span};
use crate::groups;
use crate::ir::{self, ArgIndex, Cmp, CmpOp, Cond, Origin, Rule};
use crate::syntax::{self, ast};

pub use consts::{eval_const, fit};

/// How to resolve: facts about the machine the policy is for.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The ABI a policy without an `arch` statement covers.
    pub native: Arch,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            native: Arch::native(),
        }
    }
}

/// A file an `include` names, as read by a [`Loader`].
#[derive(Debug)]
pub struct Loaded {
    /// Identity for cycle detection (a canonical path).
    pub key: String,
    /// Name shown in diagnostics.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Reads included files. The runtime reads the file system; tests read from memory.
pub trait Loader {
    /// Reads `path` as written in an `include` of `from`.
    fn load(&mut self, path: &str, from: &SourceFile) -> Result<Loaded, String>;
}

/// A loader for policies that may not include anything.
#[derive(Debug, Default)]
pub struct NoIncludes;

impl Loader for NoIncludes {
    fn load(&mut self, _path: &str, _from: &SourceFile) -> Result<Loaded, String> {
        Err("includes are not available for this policy".to_string())
    }
}

/// A resolved policy and the warnings found on the way.
#[derive(Debug)]
pub struct Resolved {
    pub policy: ir::Policy,
    pub warnings: Vec<Diagnostic>,
}

const MAX_INCLUDE_DEPTH: usize = 32;

/// Origin label of the rules straitjacket adds by itself.
pub const IMPLICIT_IO_URING: &str = "implicit: io_uring is denied unless the policy names it";
pub const IMPLICIT_CLONE3: &str =
    "implicit: clone3 answers ENOSYS so libc falls back to clone, whose flags the filter sees";

/// Resolves the policy in `root` (already added to `sources`).
pub fn resolve(
    sources: &mut SourceMap,
    root: FileId,
    loader: &mut dyn Loader,
    opts: &Options,
) -> Result<Resolved, Vec<Diagnostic>> {
    let mut items = Vec::new();
    let mut stack = vec![sources.get(root).name.clone()];
    flatten(sources, root, loader, &mut stack, &mut items)?;
    Resolver::new(sources, opts).run(&items, root)
}

/// Parses and resolves one file from memory; includes are refused.
pub fn resolve_text(
    name: &str,
    text: &str,
    opts: &Options,
) -> Result<(SourceMap, Resolved), (SourceMap, Vec<Diagnostic>)> {
    let mut sources = SourceMap::new();
    let id = sources.add(SourceFile::new(name, text));
    match resolve(&mut sources, id, &mut NoIncludes, opts) {
        Ok(r) => Ok((sources, r)),
        Err(d) => Err((sources, d)),
    }
}

/// Parses `file` and splices includes in place, depth-first, refusing cycles.
fn flatten(
    sources: &mut SourceMap,
    file: FileId,
    loader: &mut dyn Loader,
    stack: &mut Vec<String>,
    out: &mut Vec<ast::Item>,
) -> Result<(), Vec<Diagnostic>> {
    let policy = syntax::parse(sources, file)?;
    for item in policy.items {
        let ast::Item::Include { path, span } = &item else {
            out.push(item);
            continue;
        };
        if stack.len() > MAX_INCLUDE_DEPTH {
            return Err(vec![Diagnostic::error(
                *span,
                format!("includes nest deeper than {MAX_INCLUDE_DEPTH} levels"),
            )]);
        }
        let loaded = loader.load(&path.value, sources.get(file)).map_err(|why| {
            vec![Diagnostic::error(
                path.span,
                format!("cannot include `{}`: {why}", path.value),
            )]
        })?;
        if stack.contains(&loaded.key) {
            let chain = stack.join(" -> ");
            return Err(vec![Diagnostic::error(
                *span,
                format!("include cycle: `{}` includes itself", path.value),
            )
            .with_note(format!("include chain: {chain} -> {}", loaded.key))]);
        }
        let text = syntax::load(&loaded.name, &loaded.bytes).map_err(|e| {
            vec![Diagnostic::error(
                path.span,
                format!("cannot include `{}`: {e}", path.value),
            )]
        })?;
        let id = sources.add(text);
        stack.push(loaded.key);
        flatten(sources, id, loader, stack, out)?;
        stack.pop();
    }
    Ok(())
}

/// A rule as written, its action resolved, before it is split per ABI and syscall.
struct RuleSrc<'a> {
    action: Action,
    targets: Vec<TargetSrc<'a>>,
    cond: Option<&'a ast::Expr>,
    span: Span,
}

/// One syscall name a rule names, directly or through a group.
#[derive(Clone)]
struct TargetSrc<'a> {
    /// The name as written (or a group's member): borrowed, as a group expands to hundreds.
    name: Cow<'a, str>,
    span: Span,
    /// Named through `@group`: absent members are skipped quietly.
    via_group: Option<&'a str>,
}

struct Resolver<'s> {
    sources: &'s SourceMap,
    opts: Options,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    /// Per (rule, syscall): whether its condition fitted on some ABI, and where it did not.
    cond_failures: BTreeMap<(u32, &'static str), CondFailures>,
}

type CondFailures = (bool, Vec<(Arch, Diagnostic)>);

impl<'s> Resolver<'s> {
    fn new(sources: &'s SourceMap, opts: &Options) -> Resolver<'s> {
        Resolver {
            sources,
            opts: *opts,
            errors: Vec::new(),
            warnings: Vec::new(),
            cond_failures: BTreeMap::new(),
        }
    }

    fn origin(&self, span: Span) -> Origin {
        Origin(self.sources.location(span).into())
    }

    fn error(&mut self, d: Diagnostic) {
        if !self.errors.contains(&d) {
            self.errors.push(d);
        }
    }

    fn warn(&mut self, d: Diagnostic) {
        if !self.warnings.contains(&d) {
            self.warnings.push(d);
        }
    }

    fn run(mut self, items: &[ast::Item], root: FileId) -> Result<Resolved, Vec<Diagnostic>> {
        if items.is_empty() {
            return Err(vec![Diagnostic::error(
                Span::new(root, 0, 0),
                "the policy is empty: it has no rules and no default",
            )
            .with_help("start from a preset (`straitjacket presets`) or write `default kill-process` and `allow` rules")]);
        }
        let mut default: Option<(Action, Span)> = None;
        let mut unknown: Option<(Action, Span)> = None;
        let mut arches: Vec<(Arch, Span)> = Vec::new();
        let mut rules: Vec<RuleSrc> = Vec::new();
        let mut fs = Vec::new();
        let mut settings = Vec::new();
        let mut ftrace = false;
        for item in items {
            match item {
                ast::Item::Default { action, span } | ast::Item::Unknown { action, span } => {
                    let is_default = matches!(item, ast::Item::Default { .. });
                    let Some(a) = self.action(action) else {
                        continue;
                    };
                    let slot = if is_default {
                        &mut default
                    } else {
                        &mut unknown
                    };
                    if let Some((_, first)) = slot {
                        let first = self.sources.location(*first);
                        let kw = if is_default { "default" } else { "unknown" };
                        self.error(
                            Diagnostic::error(*span, format!("`{kw}` is given twice"))
                                .with_note(format!("first given at {first}")),
                        );
                    } else {
                        *slot = Some((a, *span));
                    }
                }
                ast::Item::Arch { arches: names, .. } => {
                    for n in names {
                        match Arch::from_name(&n.name) {
                            Some(a) if arches.iter().any(|(b, _)| *b == a) => {
                                self.warn(Diagnostic::warning(
                                    n.span,
                                    format!("architecture `{}` is listed twice", a),
                                ));
                            }
                            Some(a) => arches.push((a, n.span)),
                            None => {
                                let names = Arch::ALL
                                    .iter()
                                    .map(|a| a.name())
                                    .chain(["amd64", "x86", "arm64"]);
                                let mut d = Diagnostic::error(
                                    n.span,
                                    format!("unknown architecture `{}`", n.name),
                                );
                                if let Some(s) = suggest(&n.name, names) {
                                    d = d.with_help(format!("did you mean `{s}`?"));
                                }
                                self.error(
                                    d.with_note("known: x86_64, x32, i386 (x86), aarch64 (arm64)"),
                                );
                            }
                        }
                    }
                }
                ast::Item::Rule {
                    action,
                    targets,
                    cond,
                    span,
                } => {
                    let Some(a) = self.action(action) else {
                        continue;
                    };
                    let targets = self.targets(targets);
                    rules.push(RuleSrc {
                        action: a,
                        targets,
                        cond: cond.as_ref(),
                        span: *span,
                    });
                }
                ast::Item::Ftrace {
                    syscall,
                    expr,
                    span,
                } => {
                    ftrace = true;
                    let name =
                        Cow::Borrowed(syscall.value.strip_prefix("sys_").unwrap_or(&syscall.value));
                    let t = TargetSrc {
                        name,
                        span: syscall.span,
                        via_group: None,
                    };
                    rules.push(RuleSrc {
                        action: Action::Allow,
                        targets: vec![t],
                        cond: Some(expr),
                        span: *span,
                    });
                }
                ast::Item::Fs { access, paths, .. } => {
                    let acc = match access.name.as_str() {
                        "read" => ir::FsAccess::Read,
                        "write" => ir::FsAccess::Write,
                        "exec" => ir::FsAccess::Exec,
                        other => {
                            let mut d = Diagnostic::error(
                                access.span,
                                format!("unknown file access `{other}`"),
                            );
                            if let Some(s) = suggest(other, ["read", "write", "exec"]) {
                                d = d.with_help(format!("did you mean `{s}`?"));
                            }
                            self.error(d.with_note(
                                "write `fs read PATH`, `fs write PATH` or `fs exec PATH`",
                            ));
                            continue;
                        }
                    };
                    for p in paths {
                        if !p.value.starts_with('/') {
                            self.error(Diagnostic::error(
                                p.span,
                                format!("`{}` is not an absolute path", p.value),
                            ));
                            continue;
                        }
                        fs.push(ir::FsRule {
                            access: acc,
                            path: p.value.clone(),
                            origin: Some(self.origin(p.span)),
                        });
                    }
                }
                ast::Item::Setting {
                    keyword,
                    words,
                    span,
                } => {
                    let ws: Vec<String> = words.iter().map(|w| w.value.clone()).collect();
                    if let Err(e) = settings::Confinement::default().add(&keyword.name, &ws) {
                        self.error(Diagnostic::error(*span, e));
                    }
                    settings.push(ir::Setting {
                        keyword: keyword.name.clone(),
                        words: words.iter().map(|w| w.value.clone()).collect(),
                        origin: Some(self.origin(*span)),
                    })
                }
                ast::Item::Include { .. } => {}
            }
        }
        if arches.is_empty() {
            arches.push((self.opts.native, Span::default()));
        }
        let arch_list: Vec<Arch> = arches.iter().map(|(a, _)| *a).collect();
        self.check_names(&rules, &arch_list);

        let (default_action, default_origin) = match default {
            Some((a, span)) => (a, Some(self.origin(span))),
            None if ftrace => (Action::KillProcess, None),
            None => (Action::KillProcess, None),
        };
        let unknown_action = match unknown {
            Some((a, _)) => a,
            None if default_action.runs_call() => default_action,
            None => Action::Errno(38),
        };

        let mut filters = Vec::new();
        for &arch in &arch_list {
            let f = self.filter(
                arch,
                &rules,
                default_action,
                default_origin.clone(),
                unknown_action,
            );
            filters.push(f);
        }
        // A condition that fits a call on one ABI but not on another (i386's `mmap` takes a
        // pointer to its arguments) leaves the rule out where it does not fit, with a warning.
        for ((_, _), (fitted, failures)) in std::mem::take(&mut self.cond_failures) {
            for (arch, d) in failures {
                if fitted {
                    let msg = format!("this rule does not apply on {arch}: {}", d.message);
                    let mut w = Diagnostic::warning(d.span.unwrap_or_default(), msg);
                    w.notes = d.notes;
                    self.warn(w);
                } else {
                    self.error(d);
                }
            }
        }
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        for d in lint::lint(&filters, &rules_spans(&rules), self.sources) {
            self.warn(d);
        }
        let policy = ir::Policy {
            filters,
            fs,
            settings,
        };
        Ok(Resolved {
            policy,
            warnings: self.warnings,
        })
    }

    fn action(&mut self, spec: &ast::ActionSpec) -> Option<Action> {
        match consts::action(spec, self.opts.native) {
            Ok(a) => Some(a),
            Err(d) => {
                self.error(d);
                None
            }
        }
    }

    fn targets<'a>(&mut self, targets: &'a [ast::Target]) -> Vec<TargetSrc<'a>> {
        let mut out = Vec::new();
        for t in targets {
            match t {
                ast::Target::Syscall(id) => {
                    let name = Cow::Borrowed(id.name.strip_prefix("sys_").unwrap_or(&id.name));
                    out.push(TargetSrc {
                        name,
                        span: id.span,
                        via_group: None,
                    });
                }
                ast::Target::Group(id) => {
                    let gname = id.name.trim_start_matches('@');
                    match groups::group(gname) {
                        Some(g) => {
                            for m in groups::members(g) {
                                out.push(TargetSrc {
                                    name: Cow::Borrowed(m),
                                    span: id.span,
                                    via_group: Some(g.name),
                                });
                            }
                        }
                        None => {
                            let mut d =
                                Diagnostic::error(id.span, format!("unknown group `@{gname}`"));
                            if let Some(s) = suggest(gname, groups::GROUPS.iter().map(|g| g.name)) {
                                d = d.with_help(format!("did you mean `@{s}`?"));
                            }
                            self.error(d.with_note("`straitjacket groups` lists the groups"));
                        }
                    }
                }
            }
        }
        out
    }

    /// Every directly named syscall must exist on some ABI; one the policy's ABIs lack is a
    /// warning (the rule does not apply there).
    fn check_names(&mut self, rules: &[RuleSrc], arches: &[Arch]) {
        for r in rules {
            for t in r.targets.iter().filter(|t| t.via_group.is_none()) {
                if arches.iter().any(|a| lookup(*a, &t.name).is_some()) {
                    continue;
                }
                let elsewhere: Vec<&str> = Arch::ALL
                    .iter()
                    .filter(|a| lookup(**a, &t.name).is_some())
                    .map(|a| a.name())
                    .collect();
                let listed: Vec<&str> = arches.iter().map(|a| a.name()).collect();
                if !elsewhere.is_empty() {
                    // A portable policy may name calls other ABIs have; say so, don't fail.
                    self.warn(
                        Diagnostic::warning(
                            t.span,
                            format!(
                                "`{}` does not exist on {}: this rule does not apply there",
                                t.name,
                                listed.join(", ")
                            ),
                        )
                        .with_note(format!("it exists on {}", elsewhere.join(", "))),
                    );
                    continue;
                }
                let mut d = Diagnostic::error(t.span, format!("unknown system call `{}`", t.name));
                let names = Arch::ALL
                    .iter()
                    .flat_map(|a| a.syscalls().iter().map(|s| s.name));
                if let Some(s) = suggest(&t.name, names) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                self.error(d);
            }
        }
    }

    fn filter(
        &mut self,
        arch: Arch,
        rules: &[RuleSrc],
        default: Action,
        default_origin: Option<Origin>,
        unknown: Action,
    ) -> ir::Filter {
        let mut syscalls: BTreeMap<SyscallNr, Vec<Rule>> = BTreeMap::new();
        // Numbers, not names: a set of names costs a string comparison per step of every
        // insert, and groups name hundreds of calls.
        let mut named: FxHashSet<u32> = FxHashSet::default();
        let mut seen_here: FxHashSet<u32> = FxHashSet::default();
        let mut explicit_clone3_allow: Option<Span> = None;
        for r in rules {
            seen_here.clear();
            let origin = self.origin(r.span);
            for t in &r.targets {
                let Some(sc) = lookup(arch, &t.name) else {
                    continue;
                };
                if !seen_here.insert(sc.nr) {
                    continue;
                }
                named.insert(sc.nr);
                let cond = match r.cond {
                    None => Cond::True,
                    Some(e) => {
                        let key = (r.span.start, sc.name);
                        let res = self.cond(e, sc, arch, 0);
                        let entry = self.cond_failures.entry(key).or_default();
                        match res {
                            Ok(c) => {
                                entry.0 = true;
                                c
                            }
                            Err(d) => {
                                entry.1.push((arch, d));
                                continue;
                            }
                        }
                    }
                };
                if sc.name == "clone3" && r.action.runs_call() && t.via_group.is_none() {
                    explicit_clone3_allow = Some(t.span);
                }
                let rule = Rule {
                    action: r.action,
                    cond,
                    origin: Some(origin.clone()),
                    span: Some(r.span),
                };
                // Most calls get one rule: a list starts at that size, not at the four a
                // first push reserves (hundreds of lists: a fifth of `run`'s heap).
                match syscalls.entry(SyscallNr(sc.nr)) {
                    btree_map::Entry::Vacant(v) => {
                        v.insert(vec![rule]);
                    }
                    btree_map::Entry::Occupied(mut o) => o.get_mut().push(rule),
                }
            }
        }
        // io_uring: denied unless named.
        if default.runs_call() {
            for name in ["io_uring_setup", "io_uring_enter", "io_uring_register"] {
                if let Some(sc) = lookup(arch, name) {
                    if !named.contains(&sc.nr) {
                        syscalls.insert(
                            SyscallNr(sc.nr),
                            vec![implicit(Action::Errno(38), IMPLICIT_IO_URING)],
                        );
                    }
                }
            }
        }
        // clone3: ENOSYS when clone's flags are restricted or clone3 is not named.
        if let (Some(clone), Some(clone3)) = (lookup(arch, "clone"), lookup(arch, "clone3")) {
            let clone_rules = syscalls.get(&SyscallNr(clone.nr));
            let clone_may_run = match clone_rules {
                Some(rs) => rs.iter().any(|r| r.action.runs_call()) || default.runs_call(),
                None => default.runs_call(),
            };
            let restricted = clone_rules.is_some_and(|rs| rs.iter().any(|r| r.cond != Cond::True));
            let clone3_rules = syscalls.get(&SyscallNr(clone3.nr));
            let clone3_may_run = match clone3_rules {
                Some(rs) => rs.iter().any(|r| r.action.runs_call()),
                None => default.runs_call(),
            };
            let override_it =
                clone_may_run && (!named.contains(&clone3.nr) || (restricted && clone3_may_run));
            if override_it {
                if let (true, Some(span)) = (restricted, explicit_clone3_allow) {
                    self.warn(Diagnostic::warning(span, "`clone3` is allowed while `clone`'s flags are restricted")
                        .with_note("clone3 passes its flags in memory the filter cannot read, so it would bypass the restriction")
                        .with_help("straitjacket answers clone3 with ENOSYS instead, so libc falls back to clone"));
                }
                syscalls.insert(
                    SyscallNr(clone3.nr),
                    vec![implicit(Action::Errno(38), IMPLICIT_CLONE3)],
                );
            }
        }
        ir::Filter {
            arch,
            default,
            default_origin,
            unknown,
            syscalls,
        }
    }

    fn cond(
        &mut self,
        e: &ast::Expr,
        sc: &SyscallDef,
        arch: Arch,
        depth: usize,
    ) -> Result<Cond, Diagnostic> {
        if depth > 256 {
            return Err(Diagnostic::error(e.span(), "condition nests too deeply"));
        }
        Ok(match e {
            ast::Expr::Bool(true, _) => Cond::True,
            ast::Expr::Bool(false, _) => Cond::Not(Box::new(Cond::True)),
            ast::Expr::Not(inner, _) => {
                Cond::Not(Box::new(self.cond(inner, sc, arch, depth + 1)?))
            }
            ast::Expr::And(es, _) => Cond::And(
                es.iter()
                    .map(|x| self.cond(x, sc, arch, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            ast::Expr::Or(es, _) => Cond::Or(
                es.iter()
                    .map(|x| self.cond(x, sc, arch, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            ast::Expr::Cmp {
                arg,
                mask,
                op,
                value,
                span,
            } => {
                let (index, kind, c_type) = arg_of(sc, arch, arg)?;
                let wmask = kind.width.mask();
                let mask_v = match mask {
                    Some(m) => fit(
                        eval_const(m, arch, kind.width)?,
                        kind,
                        true,
                        m.span(),
                        &describe(c_type, &arg.name),
                    )?,
                    None => wmask,
                };
                let cmp = match (op, value) {
                    (None, _) => Cmp {
                        arg: index,
                        width: kind.width,
                        signed: false,
                        op: CmpOp::Ne,
                        mask: mask_v,
                        value: 0,
                    },
                    (Some((ast::CmpOp::In, _)), Some(v)) => {
                        let allowed = fit(
                            eval_const(v, arch, kind.width)?,
                            kind,
                            true,
                            v.span(),
                            &describe(c_type, &arg.name),
                        )?;
                        Cmp {
                            arg: index,
                            width: kind.width,
                            signed: false,
                            op: CmpOp::Eq,
                            mask: !allowed & mask_v & wmask,
                            value: 0,
                        }
                    }
                    (Some((o, _)), Some(v)) => {
                        let val = fit(
                            eval_const(v, arch, kind.width)?,
                            kind,
                            false,
                            v.span(),
                            &describe(c_type, &arg.name),
                        )?;
                        let op = match o {
                            ast::CmpOp::Eq => CmpOp::Eq,
                            ast::CmpOp::Ne => CmpOp::Ne,
                            ast::CmpOp::Lt => CmpOp::Lt,
                            ast::CmpOp::Le => CmpOp::Le,
                            ast::CmpOp::Gt => CmpOp::Gt,
                            ast::CmpOp::Ge => CmpOp::Ge,
                            ast::CmpOp::In => unreachable!("handled above"),
                        };
                        if kind.pointer && val != 0 {
                            self.warn(Diagnostic::warning(*span, format!(
                                "`{}` is a pointer: this compares its address, not what it points to", arg.name))
                                .with_help("a filter cannot read memory; use `notify` to let the supervisor inspect it"));
                        }
                        if mask.is_some()
                            && matches!(op, CmpOp::Eq | CmpOp::Ne)
                            && val & !mask_v & wmask != 0
                        {
                            self.warn(Diagnostic::warning(
                                *span,
                                format!(
                                    "`{}` masked with {:#x} can never equal {:#x}",
                                    arg.name, mask_v, val
                                ),
                            ));
                        }
                        Cmp {
                            arg: index,
                            width: kind.width,
                            signed: kind.signed,
                            op,
                            mask: mask_v,
                            value: val,
                        }
                    }
                    (Some((_, s)), None) => {
                        return Err(Diagnostic::error(*s, "expected a value after the operator"))
                    }
                };
                Cond::Cmp(cmp)
            }
        })
    }
}

fn implicit(action: Action, why: &str) -> Rule {
    Rule {
        action,
        cond: Cond::True,
        origin: Some(Origin(why.into())),
        span: None,
    }
}

fn rules_spans(rules: &[RuleSrc]) -> Vec<lint::RuleInfo> {
    rules
        .iter()
        .map(|r| lint::RuleInfo {
            action: r.action,
            conditional: r.cond.is_some(),
            names: r
                .targets
                .iter()
                .filter(|t| t.via_group.is_none())
                .map(|t| (t.name.to_string(), t.span))
                .collect(),
        })
        .collect()
}

/// `unsigned int fd` — how an argument is shown in messages.
fn describe(c_type: &str, name: &str) -> String {
    if c_type.ends_with('*') {
        format!("{c_type}{name}")
    } else {
        format!("{c_type} {name}")
    }
}

/// Looks a syscall up on one ABI by the names people write: with or without `sys_`, and the
/// kernel-function names ftrace uses (`newstat`, `sigreturn` on ABIs that only have
/// `rt_sigreturn`).
pub fn lookup(arch: Arch, name: &str) -> Option<&'static SyscallDef> {
    let name = name.strip_prefix("sys_").unwrap_or(name);
    if let Some(s) = arch.syscall(name) {
        return Some(s);
    }
    let alias = match name {
        "sigreturn" => "rt_sigreturn",
        "newstat" => "stat",
        "newlstat" => "lstat",
        "newfstat" => "fstat",
        "newfstatat" => "fstatat64",
        "newuname" => "uname",
        "sendfile64" => "sendfile",
        "umount" => "umount2",
        _ => return None,
    };
    arch.syscall(alias)
}

/// The index, type and C type of an argument named in a condition.
fn arg_of(
    sc: &SyscallDef,
    arch: Arch,
    arg: &ast::Ident,
) -> Result<(ArgIndex, ArgKind, &'static str), Diagnostic> {
    if let Some(rest) = arg.name.strip_prefix("arg") {
        if let Ok(i) = rest.parse::<usize>() {
            return match ArgIndex::new(i) {
                Some(idx) => Ok((idx, ArgKind::RAW, "u64")),
                None => Err(Diagnostic::error(
                    arg.span,
                    format!("`{}`: system calls have arguments arg0 to arg5", arg.name),
                )),
            };
        }
    }
    if let Some(i) = sc.args.iter().position(|a| a.name == arg.name) {
        let a = sc.args[i];
        let idx = ArgIndex::new(i)
            .ok_or_else(|| Diagnostic::error(arg.span, "argument beyond the sixth"))?;
        return Ok((idx, classify(arch, a.c_type), a.c_type));
    }
    let mut d = Diagnostic::error(
        arg.span,
        format!("`{}` has no argument `{}`", sc.name, arg.name),
    );
    if let Some(s) = suggest(&arg.name, sc.args.iter().map(|a| a.name)) {
        d = d.with_help(format!("did you mean `{s}`?"));
    }
    Err(d.with_note(signature(sc)))
}

/// `read(unsigned int fd, char * buf, size_t count)`.
pub fn signature(sc: &SyscallDef) -> String {
    let args: Vec<String> = sc.args.iter().map(|a| describe(a.c_type, a.name)).collect();
    format!("{}({})", sc.name, args.join(", "))
}
