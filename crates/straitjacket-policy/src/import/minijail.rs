//! minijail policy files (`.policy`, as `minijail0 -S` and `compile_seccomp_policy.py` read
//! them) to the native language.
//!
//! `name: filter` lines, where a filter is `1`/`allow`, an action (`kill`, `kill-process`,
//! `kill-thread`, `trap`, `trace`, `log`, `user-notify`), `return N`, or an argument
//! expression (`||` of `&&` of `argN OP VALUE`, OP one of `== != < <= > >= & in`) optionally
//! followed by `; return N`. `@include` is read through a callback (so this stays pure),
//! `@frequency` is ignored, `@default ACTION` and `@denylist` are honoured. Values are
//! constants combined with `|` and `~`; minijail compares the raw 64-bit argument, so the
//! output uses `argN` with every value computed here.

use std::fmt::Write;

use super::{num, ImportError, Imported};
use crate::arch::Arch;
use crate::resolve::lookup;

const MAX_INCLUDE_DEPTH: usize = 8;
/// `@include`s read in all: the depth bound alone lets eight files that each include the
/// next ten times expand to 10^8 copies.
const MAX_INCLUDES: usize = 256;

/// Reads the file an `@include` names; returns (name for messages, text).
pub type IncludeFn<'a> = dyn FnMut(&str) -> Result<(String, String), String> + 'a;

struct State<'a> {
    arch: Arch,
    include: &'a mut IncludeFn<'a>,
    out: String,
    default: Option<String>,
    denylist: bool,
    warnings: Vec<String>,
    rules: usize,
    includes: usize,
}

/// Converts a minijail policy for `arch`.
pub fn import<'a>(
    text: &str,
    source: &str,
    arch: Arch,
    include: &'a mut IncludeFn<'a>,
) -> Result<Imported, ImportError> {
    let mut st = State {
        arch,
        include,
        out: String::new(),
        default: None,
        denylist: false,
        warnings: Vec::new(),
        rules: 0,
        includes: 0,
    };
    file(&mut st, text, source, 0)?;
    let mut head = String::new();
    let _ = writeln!(
        head,
        "# Imported by `straitjacket import --from minijail` from {source}."
    );
    let _ = writeln!(
        head,
        "# minijail compares raw 64-bit arguments: conditions use arg0..arg5."
    );
    let default = st.default.clone().unwrap_or_else(|| {
        if st.denylist {
            "allow".to_string()
        } else {
            "kill-process".to_string()
        }
    });
    let _ = writeln!(head, "default {default}");
    let _ = writeln!(head, "arch {arch}");
    Ok(Imported {
        text: head + &st.out,
        warnings: st.warnings,
    })
}

fn file(st: &mut State, text: &str, source: &str, depth: usize) -> Result<(), ImportError> {
    // Join `\` continuations, keeping the first line number.
    let mut lines: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let (mut start, mut acc) = pending.take().unwrap_or((line_no, String::new()));
        let stripped = raw.trim_end();
        if let Some(s) = stripped.strip_suffix('\\') {
            acc.push_str(s);
            acc.push(' ');
            pending = Some((start, acc));
            continue;
        }
        acc.push_str(stripped);
        if acc.trim().is_empty() {
            start = line_no;
        }
        lines.push((start, acc));
    }
    if let Some(p) = pending {
        lines.push(p);
    }
    for (line_no, line) in lines {
        let at = format!("{source}:{line_no}");
        let code = match line.find('#') {
            Some(i) => &line[..i],
            None => &line[..],
        };
        let code = code.trim();
        if code.is_empty() {
            continue;
        }
        if let Some(rest) = code.strip_prefix('@') {
            let (kw, arg) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let arg = arg.trim();
            match kw {
                "include" => {
                    if depth >= MAX_INCLUDE_DEPTH {
                        return Err(ImportError::new(at, "@include nests too deeply"));
                    }
                    st.includes += 1;
                    if st.includes > MAX_INCLUDES {
                        return Err(ImportError::new(
                            at,
                            format!("more than {MAX_INCLUDES} @include in all"),
                        ));
                    }
                    let (name, inner) = (st.include)(arg).map_err(|e| {
                        ImportError::new(&at, format!("cannot @include {arg}: {e}"))
                    })?;
                    let _ = writeln!(st.out, "\n# {at}: @include {arg}");
                    file(st, &inner, &name, depth + 1)?;
                }
                "frequency" => {
                    let _ = writeln!(st.out, "# {at}: @frequency {arg} (ignored)");
                }
                "denylist" => st.denylist = true,
                "default" => st.default = Some(action_word(arg, &at)?),
                _ => return Err(ImportError::new(at, format!("unknown directive @{kw}"))),
            }
            continue;
        }
        let Some((name, filter)) = code.split_once(':') else {
            return Err(ImportError::new(at, "expected `syscall: filter`"));
        };
        let name = name.trim();
        let filter = filter.trim();
        statement(st, name, filter, &at, code)?;
    }
    Ok(())
}

fn action_word(w: &str, at: &str) -> Result<String, ImportError> {
    Ok(match w.trim() {
        "1" | "allow" => "allow".into(),
        "kill" | "kill-process" => "kill-process".into(),
        "kill-thread" => "kill-thread".into(),
        "trap" => "trap".into(),
        "trace" => "trace(0)".into(),
        "log" => "log".into(),
        "user-notify" => "notify".into(),
        other => return Err(ImportError::new(at, format!("unknown action `{other}`"))),
    })
}

fn statement(
    st: &mut State,
    name: &str,
    filter: &str,
    at: &str,
    original: &str,
) -> Result<(), ImportError> {
    let name = if let Ok(nr) = name.parse::<u32>() {
        match st.arch.syscalls().iter().find(|s| s.nr == nr) {
            Some(s) => s.name,
            None => {
                return Err(ImportError::new(
                    at,
                    format!("no system call number {nr} on {}", st.arch),
                ))
            }
        }
        .to_string()
    } else {
        name.to_string()
    };
    if lookup(st.arch, &name).is_none() {
        return Err(ImportError::new(
            at,
            format!("nonexistent syscall `{name}` on {}", st.arch),
        ));
    }
    let _ = writeln!(st.out, "\n# {at}: {original}");
    st.rules += 1;
    let (expr, ret) = match filter.split_once(';') {
        Some((e, r)) => (e.trim(), Some(r.trim())),
        None => (filter, None),
    };
    if let Some(n) = expr.strip_prefix("return") {
        if n.starts_with(char::is_whitespace) {
            let _ = writeln!(st.out, "errno({}) {name}", errno(st, n.trim(), at)?);
            return Ok(());
        }
    }
    if let Ok(a) = action_word(expr, at) {
        let _ = writeln!(st.out, "{a} {name}");
        return Ok(());
    }
    let cond = expression(st, expr, at)?;
    let _ = writeln!(st.out, "allow {name} if {cond}");
    if let Some(r) = ret {
        let Some(n) = r.strip_prefix("return") else {
            return Err(ImportError::new(
                at,
                format!("expected `return N` after `;`, found `{r}`"),
            ));
        };
        let _ = writeln!(st.out, "errno({}) {name}", errno(st, n.trim(), at)?);
    }
    Ok(())
}

fn errno(st: &State, s: &str, at: &str) -> Result<u64, ImportError> {
    let v = value(st, s, at)?;
    if v > 4095 {
        return Err(ImportError::new(at, format!("errno {v} is above 4095")));
    }
    Ok(v)
}

fn expression(st: &State, e: &str, at: &str) -> Result<String, ImportError> {
    let clauses: Vec<&str> = e.split("||").collect();
    let mut out = Vec::new();
    for c in &clauses {
        let atoms: Vec<String> = c
            .split("&&")
            .map(|a| atom(st, a.trim(), at))
            .collect::<Result<_, _>>()?;
        if atoms.len() > 1 && clauses.len() > 1 {
            out.push(format!("({})", atoms.join(" && ")));
        } else {
            out.push(atoms.join(" && "));
        }
    }
    Ok(out.join(" || "))
}

fn atom(st: &State, a: &str, at: &str) -> Result<String, ImportError> {
    let bad = || ImportError::new(at, format!("expected `argN OP VALUE`, found `{a}`"));
    let a = a.trim();
    let rest = a.strip_prefix("arg").ok_or_else(bad)?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let idx: usize = digits.parse().map_err(|_| bad())?;
    if idx > 5 {
        return Err(ImportError::new(
            at,
            format!("arg{idx}: arguments are arg0 to arg5"),
        ));
    }
    let rest = rest[digits.len()..].trim_start();
    let ops = ["==", "!=", "<=", ">=", "<", ">", "&", "in"];
    let op = ops.iter().find(|o| rest.starts_with(**o)).ok_or_else(bad)?;
    let v = value(st, rest[op.len()..].trim(), at)?;
    let arg = format!("arg{idx}");
    Ok(match *op {
        "&" => format!("{arg} & {} != 0", num(v)),
        "in" => format!("{arg} & {} == 0", num(!v)),
        o => format!("{arg} {o} {}", num(v)),
    })
}

/// `A|B|~C`, numbers in C `strtol` syntax, named constants of the arch.
fn value(st: &State, s: &str, at: &str) -> Result<u64, ImportError> {
    value_in(st, s, at, 0)
}

/// How deep `(` and `~` may nest in a value (they are read recursively).
const MAX_VALUE_DEPTH: usize = 32;

fn value_in(st: &State, s: &str, at: &str, depth: usize) -> Result<u64, ImportError> {
    let mut acc = 0u64;
    for part in s.split('|') {
        acc |= single(st, part.trim(), at, depth)?;
    }
    Ok(acc)
}

fn single(st: &State, s: &str, at: &str, depth: usize) -> Result<u64, ImportError> {
    let nested = s.starts_with('~') || s.starts_with('(');
    if nested && depth >= MAX_VALUE_DEPTH {
        return Err(ImportError::new(
            at,
            format!("a value nests `(` and `~` more than {MAX_VALUE_DEPTH} deep"),
        ));
    }
    if let Some(inner) = s.strip_prefix('~') {
        if inner.starts_with('~') {
            return Err(ImportError::new(at, "`~~` is not allowed"));
        }
        return Ok(!single(st, inner.trim(), at, depth + 1)?);
    }
    if let Some(inner) = s.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        return value_in(st, inner, at, depth + 1);
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let parsed = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if body.len() > 1 && body.starts_with('0') {
        u64::from_str_radix(&body[1..], 8).ok()
    } else {
        body.parse::<u64>().ok()
    };
    if let Some(v) = parsed {
        return Ok(if neg { v.wrapping_neg() } else { v });
    }
    match st.arch.constant(s) {
        Some(c) => Ok(c as u64),
        None => Err(ImportError::new(at, format!("unknown constant `{s}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(t: &str) -> Result<Imported, ImportError> {
        let mut inc = |p: &str| -> Result<(String, String), String> {
            if p == "common.policy" {
                Ok((p.to_string(), "close: 1\n".to_string()))
            } else {
                Err("not found".to_string())
            }
        };
        import(t, "t.policy", Arch::X86_64, &mut inc)
    }

    #[test]
    fn converts_the_grammar() {
        let i = conv(
            "# c\n@include common.policy\n@frequency x.frequency\nread: 1\nwrite: arg0 == 1 || arg0 == 2\n\
             mmap: arg2 in ~PROT_EXEC && arg3 & 0x20\nopenat: return ENOENT\nioctl: arg1 == TCGETS; return ENOTTY\n\
             futex: \\\n  arg1 != -1\n",
        )
        .unwrap();
        let t = &i.text;
        assert!(t.contains("default kill-process"), "{t}");
        assert!(t.contains("allow close"), "{t}");
        assert!(t.contains("allow read\n"), "{t}");
        assert!(t.contains("allow write if arg0 == 1 || arg0 == 2"), "{t}");
        assert!(
            t.contains("allow mmap if arg2 & 4 == 0 && arg3 & 32 != 0"),
            "{t}"
        );
        assert!(t.contains("errno(2) openat"), "{t}");
        assert!(
            t.contains("allow ioctl if arg1 == 0x5401\nerrno(25) ioctl"),
            "{t}"
        );
        assert!(
            t.contains("allow futex if arg1 != 0xffffffffffffffff"),
            "{t}"
        );
    }

    /// Files that each include the next several times stop at the include budget instead
    /// of expanding exponentially within the depth bound.
    #[test]
    fn includes_are_bounded_in_all() {
        let mut inc = |p: &str| -> Result<(String, String), String> {
            let level: usize = p.parse().map_err(|_| "not found".to_string())?;
            let next = format!("@include {}\n", level + 1).repeat(10);
            Ok((
                p.to_string(),
                if level < 7 { next } else { "read: 1\n".into() },
            ))
        };
        let e = import("@include 1\n", "t.policy", Arch::X86_64, &mut inc).unwrap_err();
        assert!(e.message.contains("more than 256 @include"), "{e}");
    }

    /// Parentheses and `~` nest within a bound: 20,000 `(` overflowed the stack (seen in
    /// review for the `minijail` fuzz target; fuzz/regressions/minijail/deep-parens.policy).
    #[test]
    fn value_nesting_is_bounded() {
        let deep = format!(
            "read: arg0 == {}1{}\n",
            "(".repeat(20_000),
            ")".repeat(20_000)
        );
        let e = conv(&deep).unwrap_err();
        assert!(e.message.contains("more than 32 deep"), "{e}");
        let e = conv(&format!("read: arg0 == {}1\n", "~ ".repeat(20_000))).unwrap_err();
        assert!(e.message.contains("more than 32 deep"), "{e}");
        let ok = conv("read: arg0 == ((~(2))) | 1\n").unwrap();
        assert!(
            ok.text.contains("allow read if arg0 == 0xfffffffffffffffd"),
            "{}",
            ok.text
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = conv("read: 1\nnosuch: 1\n").unwrap_err();
        assert_eq!(e.path, "t.policy:2");
        let e = conv("open: argnn ==\n").unwrap_err();
        assert_eq!(e.path, "t.policy:1");
    }
}
