//! The ftrace seed-table form (`{ "sys_read", "fd == 0" },`) to ordinary rules.
//!
//! The table is already a policy of its own (allow when the expression holds, kill
//! otherwise); importing rewrites it as `allow NAME if EXPR` lines so it can be edited and
//! mixed with other rules. `"1"` means always.

use std::fmt::Write;

use super::{ImportError, Imported};

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
        let body = t
            .strip_prefix('{')
            .and_then(|r| {
                r.trim_end()
                    .trim_end_matches(',')
                    .trim_end()
                    .strip_suffix('}')
            })
            .ok_or_else(|| ImportError::new(&at, "expected `{ \"sys_NAME\", \"EXPR\" },`"))?;
        let strings = quoted(body).ok_or_else(|| {
            ImportError::new(
                &at,
                "expected two quoted strings: the syscall and the filter",
            )
        })?;
        let [name, expr] = strings.as_slice() else {
            return Err(ImportError::new(
                &at,
                "expected two quoted strings: the syscall and the filter",
            ));
        };
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

fn quoted(s: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let r = rest.strip_prefix('"')?;
        let end = r.find('"')?;
        out.push(r[..end].to_string());
        rest = r[end + 1..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    Some(out)
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
}
