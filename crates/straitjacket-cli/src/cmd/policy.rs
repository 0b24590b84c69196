//! `check`, `compile`, `simulate`, `explain`, `groups`, `syscalls`: the policy tools.

use std::io::Write;
use std::path::{Path, PathBuf};

use straitjacket_policy::action::Action;
use straitjacket_policy::arch::{Arch, SyscallNr};
use straitjacket_policy::bpf::{disasm, vm, Program, SeccompData};
use straitjacket_policy::compile;
use straitjacket_policy::compile::report;
use straitjacket_policy::ir::{self, eval, Filter};
use straitjacket_policy::resolve::{self, Options};
use straitjacket_policy::{export, groups};

use crate::call::{parse_arch, parse_call};
use crate::failure::Failure;
use straitjacket::load::{self, PolicyFile};

/// Output formats of `compile`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Raw,
    Hex,
    C,
    Disasm,
}

/// Loads a policy for the machine `arch` (the ABI of a policy without an `arch` statement).
pub fn load_for(file: &Path, arch: Option<&str>) -> Result<(PolicyFile, Arch), Failure> {
    let native = parse_arch(arch)?;
    let pf = load::load(file, &Options { native })?;
    if arch.is_some() && pf.resolved.policy.filter(native).is_none() {
        let covered: Vec<&str> = pf
            .resolved
            .policy
            .filters
            .iter()
            .map(|f| f.arch.name())
            .collect();
        return Err(Failure::input(format!(
            "{}: the policy covers {}, not {native}",
            file.display(),
            covered.join(", ")
        )));
    }
    Ok((pf, native))
}

/// Compiles, turning a compiler refusal into exit 2.
pub fn build(pf: &PolicyFile, file: &Path) -> Result<Program, Failure> {
    compile::compile(&pf.resolved.policy)
        .map_err(|e| Failure::input(format!("{}: {e}", file.display())))
}

pub fn check(file: &Path, deny_warnings: bool) -> Result<(), Failure> {
    let pf = load::load(file, &Options::default())?;
    let warnings = pf.render_warnings();
    if deny_warnings && !pf.resolved.warnings.is_empty() {
        let n = pf.resolved.warnings.len();
        return Err(Failure::diagnostics(format!(
            "{warnings}straitjacket: policy rejected: {n} warning{} (--deny-warnings)\n",
            if n == 1 { "" } else { "s" }
        )));
    }
    eprint!("{warnings}");
    let prog = build(&pf, file)?;
    let mut out = format!("{}: ok\n", file.display());
    for f in &pf.resolved.policy.filters {
        out.push_str(&summary(f, &prog));
    }
    out.push_str(&format!(
        "program: {} instructions{}\n",
        prog.len(),
        match pf.resolved.policy.fs.len() {
            0 => String::new(),
            n => format!("; {n} fs rule{}", if n == 1 { "" } else { "s" }),
        }
    ));
    print!("{out}");
    Ok(())
}

/// One line per ABI: what is allowed, conditioned, notified; instructions executed; how much
/// of it the kernel's action cache can prove constant.
fn summary(f: &Filter, prog: &Program) -> String {
    let r = report::report(f, prog);
    let conditioned = r.syscalls.iter().filter(|s| s.conditional).count();
    let notified = f
        .syscalls
        .values()
        .filter(|rs| rs.iter().any(|r| r.action == Action::Notify))
        .count()
        + if f.default == Action::Notify {
            r.syscalls.iter().filter(|s| !s.named).count()
        } else {
            0
        };
    let fixed_allows = r.fixed_allows().count();
    let cached = r.fixed_allows().filter(|s| s.cached).count();
    format!(
        "{}: {} syscalls allowed ({} conditioned), {} notified, default {}; \
         instructions per call: mean {:.1} (named), max {}; action cache: {}/{} allowed without conditions proven constant\n",
        f.arch,
        r.allowed(),
        conditioned,
        notified,
        f.default,
        r.mean_named(),
        r.max(),
        cached,
        fixed_allows
    )
}

pub fn compile_cmd(
    file: &Path,
    arch: Option<&str>,
    format: Format,
    output: Option<&PathBuf>,
) -> Result<(), Failure> {
    let (pf, native) = load_for(file, arch)?;
    eprint!("{}", pf.render_warnings());
    let prog = build(&pf, file)?;
    let bytes: Vec<u8> = match format {
        Format::Raw => export::raw(&prog),
        Format::Hex => export::hex(&prog).into_bytes(),
        Format::C => export::c_source(&prog, "straitjacket_filter").into_bytes(),
        Format::Disasm => disasm::disasm(&prog, Some(native)).into_bytes(),
    };
    match output {
        Some(path) => std::fs::write(path, &bytes).map_err(|e| {
            Failure::with_code(1, format!("{}: {}", path.display(), load::io_reason(&e)))
        }),
        None => {
            if format == Format::Raw && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                return Err(Failure::input(
                    "refusing to write a raw filter to a terminal: use -o FILE or a redirect",
                ));
            }
            std::io::stdout()
                .write_all(&bytes)
                .map_err(|e| Failure::with_code(1, format!("stdout: {e}")))
        }
    }
}

pub fn simulate(
    file: &Path,
    arch: Option<&str>,
    syscall: &str,
    args: &[String],
) -> Result<(), Failure> {
    let (pf, native) = load_for(file, arch)?;
    let prog = build(&pf, file)?;
    let data = parse_call(native, syscall, args)?;
    let out = vm::run(&prog, &data);
    println!("{}", out.action());
    println!("instructions: {}", out.executed);
    Ok(())
}

pub fn explain(
    file: &Path,
    arch: Option<&str>,
    syscall: &str,
    args: &[String],
) -> Result<(), Failure> {
    let (pf, native) = load_for(file, arch)?;
    let prog = build(&pf, file)?;
    let data = parse_call(native, syscall, args)?;
    let policy = &pf.resolved.policy;
    let (action, rule) = eval::decide(policy, &data);
    let emulated = vm::run(&prog, &data);
    println!("{action}");
    let source = |span: Option<straitjacket_policy::diag::Span>| -> String {
        span.map(|s| {
            let f = pf.sources.get(s.file);
            let (line, _) = f.line_col(s.start);
            let text = f
                .text
                .get(s.start as usize..s.end as usize)
                .unwrap_or_default();
            format!("{}:{}: {}", f.name, line, text.trim())
        })
        .unwrap_or_default()
    };
    let name = resolve::lookup(native, syscall)
        .map_or_else(|| syscall.to_string(), |s| s.name.to_string());
    match (eval::abi_of(&data).and_then(|a| policy.filter(a)), rule) {
        (None, _) => {
            let covered: Vec<&str> = policy.filters.iter().map(|f| f.arch.name()).collect();
            println!(
                "decided by: the architecture check: {native} calls are not covered (arch {})",
                covered.join(", ")
            );
        }
        (Some(f), Some(r)) => {
            match r.span {
                Some(_) => println!("decided by: {}", source(r.span)),
                None => println!(
                    "decided by: {}",
                    r.origin.as_ref().map_or("an implicit rule", |o| &*o.0)
                ),
            }
            tried(f, &data, r, &source);
        }
        (Some(f), None) => {
            let nr = SyscallNr(data.nr as u32);
            if !f.syscalls.contains_key(&nr) && (nr > f.arch.max_nr() || nr < f.arch.min_nr()) {
                println!(
                    "decided by: the unknown-syscall action: {} is beyond straitjacket's {} table (highest {})",
                    nr,
                    f.arch,
                    f.arch.max_nr()
                );
            } else {
                match &f.default_origin {
                    Some(o) => println!("decided by: the default ({o}: default {})", f.default),
                    None => println!(
                        "decided by: the default ({}; the policy sets none)",
                        f.default
                    ),
                }
                if let Some(rules) = f.syscalls.get(&nr) {
                    for r in rules {
                        println!("not matched: {}", source(r.span));
                    }
                } else {
                    println!("no rule names {name}");
                }
            }
        }
    }
    if emulated.action() != action {
        return Err(Failure::with_code(
            70,
            format!(
                "internal error: the compiled filter answers {} where the rules say {action}",
                emulated.action()
            ),
        ));
    }
    println!("instructions: {}", emulated.executed);
    Ok(())
}

/// Lists the rules tried before the deciding one.
fn tried(
    f: &Filter,
    data: &SeccompData,
    decided: &ir::Rule,
    source: &dyn Fn(Option<straitjacket_policy::diag::Span>) -> String,
) {
    if let Some(rules) = f.syscalls.get(&SyscallNr(data.nr as u32)) {
        for r in rules {
            if std::ptr::eq(r, decided) {
                break;
            }
            println!("not matched: {}", source(r.span));
        }
    }
}

pub fn groups_cmd(arch: Option<&str>) -> Result<(), Failure> {
    let arch = parse_arch(arch)?;
    let mut out = String::new();
    for g in groups::GROUPS {
        let members: Vec<&str> = groups::members(g)
            .into_iter()
            .filter(|m| arch.syscall(m).is_some())
            .collect();
        out.push_str(&format!("@{} — {}\n", g.name, g.about));
        out.push_str(&wrap(&members.join(" "), 4, 96));
    }
    print!("{out}");
    Ok(())
}

pub fn syscalls_cmd(arch: Option<&str>) -> Result<(), Failure> {
    let arch = parse_arch(arch)?;
    let mut out = String::new();
    for s in arch.syscalls() {
        out.push_str(&format!("{} {} {}\n", s.name, s.nr, resolve::signature(s)));
    }
    print!("{out}");
    Ok(())
}

fn wrap(text: &str, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !line.is_empty() && indent + line.len() + 1 + word.len() > width {
            out.push_str(&format!("{}{}\n", " ".repeat(indent), line));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("{}{}\n", " ".repeat(indent), line));
    }
    out
}
