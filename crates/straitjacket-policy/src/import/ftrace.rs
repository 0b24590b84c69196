//! The ftrace seed-table form (`{ "sys_read", "fd == 0" },`) to ordinary rules.
//!
//! The table is already a policy of its own (allow when the expression holds, kill
//! otherwise); importing rewrites it as `allow NAME if EXPR` lines so it can be edited and
//! mixed with other rules. `"1"` means always.

use std::fmt::Write;

use super::{ImportError, Imported};
use crate::diag::{SourceFile, SourceMap, Span};
use crate::syntax;

/// Converts a seed table.
pub fn import(text: &str, source: &str) -> Result<Imported, ImportError> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Imported by `straitjacket import --from ftrace` from {source}."
    );
    out.push_str("default kill-process\n");
    for (i, line) in text.lines().enumerate() {
        let at = format!("{source}:{}", i + 1);
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with("//") {
            continue;
        }
        // `{ "NAME", "EXPR" }` and at most one `,` after it: the table form's grammar.
        let body = t
            .strip_prefix('{')
            .and_then(|r| {
                let r = r.trim_end();
                r.strip_suffix(',')
                    .unwrap_or(r)
                    .trim_end()
                    .strip_suffix('}')
            })
            .ok_or_else(|| ImportError::new(&at, "expected `{ \"sys_NAME\", \"EXPR\" },`"))?;
        let (name, expr) = two_strings(body).ok_or_else(|| {
            ImportError::new(
                &at,
                "expected two quoted strings: the syscall and the filter",
            )
        })?;
        // The name and the condition are spliced into a rule: both must be what the table
        // form itself would read, or text after them (`#`, `;`) would change the rule.
        if !is_identifier(name) {
            return Err(ImportError::new(
                &at,
                format!("`{name}` is not a system call name"),
            ));
        }
        check_condition(expr).map_err(|m| ImportError::new(&at, m))?;
        let name = name.strip_prefix("sys_").unwrap_or(name);
        let name = if name == "sigreturn" {
            "rt_sigreturn"
        } else {
            name
        };
        let _ = writeln!(out, "# {at}: {t}");
        if expr.trim() == "1" {
            let _ = writeln!(out, "allow {name}");
        } else {
            let _ = writeln!(out, "allow {name} if {expr}");
        }
    }
    Ok(Imported {
        text: out,
        warnings: Vec::new(),
    })
}

fn is_identifier(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// The condition parses as the table form parses it, to its end.
fn check_condition(expr: &str) -> Result<(), String> {
    let mut sources = SourceMap::new();
    let id = sources.add(SourceFile::new("condition", expr));
    syntax::parse_expr(&sources, id, Span::new(id, 0, expr.len()))
        .map(|_| ())
        .map_err(|d| format!("the condition `{expr}`: {}", d.message))
}

/// `"A", "B"` (spaces around the comma allowed, nothing else).
fn two_strings(s: &str) -> Option<(&str, &str)> {
    let (a, rest) = string(s)?;
    let (b, rest) = string(rest.trim_start().strip_prefix(',')?)?;
    rest.trim().is_empty().then_some((a, b))
}

/// A leading `"…"` (no escapes) and what follows it.
fn string(s: &str) -> Option<(&str, &str)> {
    let r = s.trim_start().strip_prefix('"')?;
    let end = r.find('"')?;
    Some((&r[..end], &r[end + 1..]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn converts() {
        let i = super::import(
            "{ \"sys_read\", \"fd == 0\" },\n{ \"sys_exit_group\", \"1\" },\n",
            "seed",
        )
        .unwrap();
        assert!(i.text.contains("\nallow read if fd == 0\n"), "{}", i.text);
        assert!(i.text.contains("\nallow exit_group\n"), "{}", i.text);
        assert!(super::import("read: 1", "x").is_err());
    }

    /// Text after the name or the condition cannot turn into policy text of its own: the
    /// table `{ "sys_execve #", "fd == 0" }` once imported as `allow execve # if fd == 0`, an
    /// unconditional allow (seen in review for the `minijail` fuzz target, which compares a
    /// table with its import, and caught by it: fuzz/regressions/minijail/ftrace-*).
    #[test]
    fn refuses_what_the_table_form_refuses() {
        for bad in [
            r#"{ "sys_execve #", "fd == 0" },"#,
            r#"{ "sys_read if 1 #", "fd == 0" },"#,
            r#"{ "sys_read", "fd == 0; allow execve" },"#,
            r#"{ "sys_read", "fd == 0 ||" },"#,
            r#"{ "", "1" },"#,
            r#"{ "sys_read", "fd == 0" ,}"#,
            r#"{ "sys_read", "fd == 0" },,"#,
            r#"{ "sys_read" "fd == 0" },"#,
            r#"{ "sys_read", "fd == 0", "x" },"#,
        ] {
            let e = super::import(bad, "t").unwrap_err();
            assert_eq!(e.path, "t:1", "{bad}: {e}");
        }
        // A comment ends at the closing quote in the table form, and at the end of the line
        // once imported: the same condition.
        let i = super::import(r#"{ "sys_read", "fd == 0 # note" },"#, "t").unwrap();
        assert!(
            i.text.contains("\nallow read if fd == 0 # note\n"),
            "{}",
            i.text
        );
    }
}
