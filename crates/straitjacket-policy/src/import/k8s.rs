//! Kubernetes Security Profiles Operator `SeccompProfile` resources (YAML) to OCI JSON, which
//! [`super::oci`] then imports: the resource's `spec` mirrors LinuxSeccomp.
//!
//! The YAML reader is deliberately small: block mappings and sequences (including the
//! Kubernetes habit of a sequence at its key's indentation), flow `[…]` and `{…}`, plain,
//! single- and double-quoted scalars, comments and `---` document separators — what SPO
//! resources use. Anything else is an error with its line, never a guess.

use serde_json::{Map, Number, Value};

use super::ImportError;

/// How deep blocks and flow collections may nest (SPO resources use five or six levels; the
/// readers recurse, so an unbounded depth would overflow the stack).
const MAX_DEPTH: usize = 64;

struct Line {
    no: usize,
    indent: usize,
    text: String,
}

/// Converts the `SeccompProfile` of a YAML stream (the one named `name` when the stream holds
/// several) to OCI JSON text.
pub fn to_oci_json(text: &str, name: Option<&str>) -> Result<String, ImportError> {
    let docs = documents(text)?;
    let mut profiles = docs.iter().filter(|d| {
        d.get("kind").and_then(Value::as_str) == Some("SeccompProfile")
            && name.is_none_or(|n| d.pointer("/metadata/name").and_then(Value::as_str) == Some(n))
    });
    let Some(first) = profiles.next() else {
        return Err(ImportError::new(
            "",
            match name {
                Some(n) => format!("no SeccompProfile named `{n}` in the YAML"),
                None => "no `kind: SeccompProfile` document in the YAML".to_string(),
            },
        ));
    };
    if let Some(other) = profiles.next() {
        let name = |d: &Value| {
            d.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string()
        };
        return Err(ImportError::new(
            "",
            format!(
                "several SeccompProfile documents ({}, {}, …): choose one with --profile NAME",
                name(first),
                name(other)
            ),
        ));
    }
    let spec = first
        .get("spec")
        .and_then(Value::as_object)
        .ok_or_else(|| ImportError::new(".spec", "missing"))?;
    if let Some(base) = spec.get("baseProfileName").and_then(Value::as_str) {
        if !base.is_empty() {
            return Err(ImportError::new(
                ".spec.baseProfileName",
                format!("the profile extends `{base}`, which is not in this file; merge it first"),
            ));
        }
    }
    if spec.get("disabled").and_then(Value::as_bool) == Some(true)
        || spec.get("state").and_then(Value::as_str) == Some("Disabled")
    {
        return Err(ImportError::new(".spec", "the profile is disabled"));
    }
    let mut out = Map::new();
    for (k, v) in spec {
        if matches!(
            k.as_str(),
            "defaultAction"
                | "architectures"
                | "flags"
                | "listenerPath"
                | "listenerMetadata"
                | "syscalls"
                | "defaultErrnoRet"
        ) {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(serde_json::to_string(&Value::Object(out)).unwrap_or_default())
}

/// Parses a YAML stream into its documents.
pub fn documents(text: &str) -> Result<Vec<Value>, ImportError> {
    let mut docs = Vec::new();
    let mut cur: Vec<Line> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let t = strip_comment(raw);
        if t.trim() == "---" || t.trim() == "..." {
            if !cur.is_empty() {
                docs.push(parse_doc(std::mem::take(&mut cur))?);
            }
            continue;
        }
        if t.trim().is_empty() {
            continue;
        }
        if t.contains('\t') && t.trim_start().len() != t.len() && t.starts_with('\t') {
            return Err(ImportError::new(format!("line {}", i + 1), "tabs indent"));
        }
        let indent = t.len() - t.trim_start().len();
        cur.push(Line {
            no: i + 1,
            indent,
            text: t.trim().to_string(),
        });
    }
    if !cur.is_empty() {
        docs.push(parse_doc(cur)?);
    }
    Ok(docs)
}

fn strip_comment(s: &str) -> String {
    let mut out = String::new();
    let (mut sq, mut dq) = (false, false);
    let mut prev = ' ';
    for c in s.chars() {
        match c {
            '\'' if !dq => sq = !sq,
            '"' if !sq => dq = !dq,
            '#' if !sq && !dq && (prev == ' ' || prev == '\t' || out.is_empty()) => break,
            _ => {}
        }
        out.push(c);
        prev = c;
    }
    out.trim_end().to_string()
}

fn parse_doc(lines: Vec<Line>) -> Result<Value, ImportError> {
    let mut i = 0;
    let indent = lines[0].indent;
    let v = block(&lines, &mut i, indent, 0)?;
    if i < lines.len() {
        return Err(err(&lines[i], "unexpected indentation"));
    }
    Ok(v)
}

fn err(l: &Line, msg: &str) -> ImportError {
    ImportError::new(format!("line {}", l.no), msg.to_string())
}

fn block(lines: &[Line], i: &mut usize, indent: usize, depth: usize) -> Result<Value, ImportError> {
    let l = &lines[*i];
    if depth >= MAX_DEPTH {
        return Err(err(l, &format!("nested more than {MAX_DEPTH} levels deep")));
    }
    if l.text == "-" || l.text.starts_with("- ") {
        sequence(lines, i, indent, depth)
    } else {
        mapping(lines, i, indent, None, depth)
    }
}

fn sequence(
    lines: &[Line],
    i: &mut usize,
    indent: usize,
    depth: usize,
) -> Result<Value, ImportError> {
    let mut items = Vec::new();
    while *i < lines.len() && lines[*i].indent == indent {
        let l = &lines[*i];
        let Some(rest) = l.text.strip_prefix('-') else {
            break;
        };
        let rest = rest.trim_start();
        if rest.is_empty() {
            *i += 1;
            if *i < lines.len() && lines[*i].indent > indent {
                let ind = lines[*i].indent;
                items.push(block(lines, i, ind, depth + 1)?);
            } else {
                items.push(Value::Null);
            }
        } else if key_of(rest).is_some() && !rest.starts_with(['{', '[', '"', '\'']) {
            // A mapping starting on the dash line: its keys sit at the column after "- ".
            let col = indent + (l.text.len() - rest.len());
            if depth + 1 >= MAX_DEPTH {
                return Err(err(l, &format!("nested more than {MAX_DEPTH} levels deep")));
            }
            items.push(mapping(lines, i, col, Some(rest.to_string()), depth + 1)?);
        } else {
            items.push(scalar(rest, l)?);
            *i += 1;
        }
    }
    Ok(Value::Array(items))
}

/// `key: rest` → (key, rest).
fn key_of(s: &str) -> Option<(String, String)> {
    let (k, rest) = if let Some(q) = s.strip_prefix('"') {
        let end = q.find('"')?;
        (q[..end].to_string(), &q[end + 1..])
    } else {
        let pos = s
            .find(": ")
            .or_else(|| s.ends_with(':').then(|| s.len() - 1))?;
        (s[..pos].trim().to_string(), &s[pos..])
    };
    let rest = rest.strip_prefix(':')?;
    Some((k, rest.trim().to_string()))
}

fn mapping(
    lines: &[Line],
    i: &mut usize,
    indent: usize,
    first: Option<String>,
    depth: usize,
) -> Result<Value, ImportError> {
    let mut m = Map::new();
    let mut pending_first = first;
    loop {
        let (text, l) = match pending_first.take() {
            Some(t) => (t, &lines[*i]),
            None => {
                if *i >= lines.len() || lines[*i].indent != indent {
                    break;
                }
                if lines[*i].text.starts_with("- ") || lines[*i].text == "-" {
                    break;
                }
                (lines[*i].text.clone(), &lines[*i])
            }
        };
        let (k, rest) = key_of(&text).ok_or_else(|| err(l, "expected `key: value`"))?;
        *i += 1;
        let v = if rest.is_empty() {
            if *i < lines.len() && lines[*i].indent > indent {
                let ind = lines[*i].indent;
                block(lines, i, ind, depth + 1)?
            } else if *i < lines.len()
                && lines[*i].indent == indent
                && (lines[*i].text.starts_with("- ") || lines[*i].text == "-")
            {
                if depth + 1 >= MAX_DEPTH {
                    return Err(err(l, &format!("nested more than {MAX_DEPTH} levels deep")));
                }
                sequence(lines, i, indent, depth + 1)?
            } else {
                Value::Null
            }
        } else {
            scalar(&rest, l)?
        };
        m.insert(k, v);
    }
    Ok(Value::Object(m))
}

fn scalar(s: &str, l: &Line) -> Result<Value, ImportError> {
    let mut p = Flow {
        s: s.as_bytes(),
        pos: 0,
        depth: 0,
    };
    let v = p.value().map_err(|m| err(l, &m))?;
    p.ws();
    if p.pos != p.s.len() {
        return Err(err(l, "unexpected text after the value"));
    }
    Ok(v)
}

struct Flow<'a> {
    s: &'a [u8],
    pos: usize,
    /// Open `[` and `{` around the current position.
    depth: usize,
}

impl Flow<'_> {
    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos] == b' ' {
            self.pos += 1;
        }
    }
    fn value(&mut self) -> Result<Value, String> {
        self.ws();
        let nested = matches!(self.s.get(self.pos), Some(b'[' | b'{'));
        if nested {
            if self.depth >= MAX_DEPTH {
                return Err(format!("nested more than {MAX_DEPTH} levels deep"));
            }
            self.depth += 1;
        }
        let v = self.item();
        if nested {
            self.depth -= 1;
        }
        v
    }

    /// The value at the current position (after spaces).
    fn item(&mut self) -> Result<Value, String> {
        match self.s.get(self.pos) {
            Some(b'[') => {
                self.pos += 1;
                let mut xs = Vec::new();
                loop {
                    self.ws();
                    if self.s.get(self.pos) == Some(&b']') {
                        self.pos += 1;
                        break;
                    }
                    xs.push(self.value()?);
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {}
                        _ => return Err("expected `,` or `]`".into()),
                    }
                }
                Ok(Value::Array(xs))
            }
            Some(b'{') => {
                self.pos += 1;
                let mut m = Map::new();
                loop {
                    self.ws();
                    if self.s.get(self.pos) == Some(&b'}') {
                        self.pos += 1;
                        break;
                    }
                    let k = match self.value()? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    self.ws();
                    if self.s.get(self.pos) != Some(&b':') {
                        return Err("expected `:` in a flow mapping".into());
                    }
                    self.pos += 1;
                    let v = self.value()?;
                    m.insert(k, v);
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {}
                        _ => return Err("expected `,` or `}`".into()),
                    }
                }
                Ok(Value::Object(m))
            }
            Some(b'"') => {
                let start = self.pos;
                self.pos += 1;
                while self.pos < self.s.len() && self.s[self.pos] != b'"' {
                    if self.s[self.pos] == b'\\' {
                        self.pos += 1;
                    }
                    self.pos += 1;
                }
                self.pos += 1;
                let raw = std::str::from_utf8(&self.s[start..self.pos.min(self.s.len())])
                    .map_err(|_| "not UTF-8")?;
                serde_json::from_str::<String>(raw)
                    .map(Value::String)
                    .map_err(|_| "bad double-quoted string".into())
            }
            Some(b'\'') => {
                self.pos += 1;
                let mut out = String::new();
                loop {
                    match self.s.get(self.pos) {
                        None => return Err("unterminated single-quoted string".into()),
                        Some(b'\'') if self.s.get(self.pos + 1) == Some(&b'\'') => {
                            out.push('\'');
                            self.pos += 2;
                        }
                        Some(b'\'') => {
                            self.pos += 1;
                            break;
                        }
                        Some(_) => {
                            let rest = std::str::from_utf8(&self.s[self.pos..])
                                .map_err(|_| "not UTF-8")?;
                            let c = rest.chars().next().unwrap_or(' ');
                            out.push(c);
                            self.pos += c.len_utf8();
                        }
                    }
                }
                Ok(Value::String(out))
            }
            _ => {
                let start = self.pos;
                while self.pos < self.s.len() && !b",]}".contains(&self.s[self.pos]) {
                    if self.s[self.pos] == b':'
                        && self.s.get(self.pos + 1).is_none_or(|c| *c == b' ')
                    {
                        break;
                    }
                    self.pos += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.pos])
                    .map_err(|_| "not UTF-8")?
                    .trim();
                Ok(plain(t))
            }
        }
    }
}

fn plain(t: &str) -> Value {
    match t {
        "" | "~" | "null" => return Value::Null,
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = t.parse::<u64>() {
        return Value::Number(Number::from(n));
    }
    if let Ok(n) = t.parse::<i64>() {
        return Value::Number(Number::from(n));
    }
    if let Some(h) = t.strip_prefix("0x") {
        if let Ok(n) = u64::from_str_radix(h, 16) {
            return Value::Number(Number::from(n));
        }
    }
    Value::String(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_spo_resources() {
        let y = r#"---
apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: demo # a comment
spec:
  defaultAction: "SCMP_ACT_ERRNO"
  defaultErrnoRet: 38
  architectures: [SCMP_ARCH_X86_64]
  syscalls:
  - action: SCMP_ACT_ALLOW
    names:
    - read
    - write

  - action: SCMP_ACT_ALLOW
    names: [personality]
    args:
    - { index: 0, value: 8, op: SCMP_CMP_EQ }
"#;
        let j: Value = serde_json::from_str(&to_oci_json(y, None).unwrap()).unwrap();
        assert_eq!(j["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(j["defaultErrnoRet"], 38);
        assert_eq!(j["architectures"][0], "SCMP_ARCH_X86_64");
        assert_eq!(j["syscalls"][0]["names"][1], "write");
        assert_eq!(j["syscalls"][1]["args"][0]["value"], 8);
        assert_eq!(j["syscalls"][1]["args"][0]["op"], "SCMP_CMP_EQ");
    }

    #[test]
    fn several_profiles_are_refused() {
        let y = "kind: SeccompProfile\nmetadata:\n  name: a\nspec:\n  defaultAction: SCMP_ACT_LOG\n---\nkind: SeccompProfile\nmetadata:\n  name: b\nspec:\n  defaultAction: SCMP_ACT_LOG\n";
        let e = to_oci_json(y, None).unwrap_err();
        assert!(e.message.contains("a, b"), "{e}");
        let j: Value = serde_json::from_str(&to_oci_json(y, Some("b")).unwrap()).unwrap();
        assert_eq!(j["defaultAction"], "SCMP_ACT_LOG");
    }

    /// Nesting is bounded: 200,000 `[` on one line, or 30,000 ever deeper keys, overflowed
    /// the stack (seen in review for the `oci` fuzz target, which reads YAML through here;
    /// fuzz/regressions/oci/k8s-deep-flow.yaml). 1,000 levels of keys keep this test quick.
    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        for y in [
            format!("a: {}\n", "[".repeat(200_000)),
            (0..1000)
                .map(|i| format!("{}k:\n", " ".repeat(i)))
                .collect(),
            (0..1000)
                .map(|i| format!("{}- k:\n", "  ".repeat(i)))
                .collect(),
        ] {
            let e = documents(&y).unwrap_err();
            assert!(e.message.contains("nested more than 64 levels"), "{e}");
        }
        // Sixty levels of flow and of blocks still read.
        let flow = format!("a: {}{}\n", "[".repeat(60), "]".repeat(60));
        assert!(documents(&flow).is_ok());
        let blocks: String = (0..60).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert!(documents(&blocks).is_ok());
    }
}
