//! The parser from the outside: golden diagnostics for broken policies, the robustness cases
//! (deep nesting, huge lines, bad bytes), and property tests that no input panics.
//!
//! Goldens: each `tests/golden/parse/NAME.sj` is parsed and its rendered diagnostics compared
//! with `NAME.diag`. A missing or different golden fails; `STRAITJACKET_BLESS=1` rewrites them.

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use straitjacket_policy::diag::{Diagnostic, SourceFile, SourceMap};
use straitjacket_policy::syntax::{self, ast, MAX_DEPTH};

fn parse_text(name: &str, text: &str) -> (SourceMap, Result<ast::Policy, Vec<Diagnostic>>) {
    let mut map = SourceMap::new();
    let id = map.add(SourceFile::new(name, text));
    let r = syntax::parse(&map, id);
    (map, r)
}

fn render(map: &SourceMap, r: &Result<ast::Policy, Vec<Diagnostic>>) -> String {
    match r {
        Ok(p) => format!("# parsed\n{}", syntax::to_sexpr(p)),
        Err(ds) => ds.iter().map(|d| d.render(map)).collect(),
    }
}

#[test]
fn golden_diagnostics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/parse");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/golden/parse")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sj"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 12, "golden inputs went missing");
    let mut failures = Vec::new();
    for input in &inputs {
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(input).unwrap();
        let (map, r) = parse_text(&name, &text);
        let got = render(&map, &r);
        if let Err(e) = straitjacket_testkit::golden(&input.with_extension("diag"), &got) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn single_error(text: &str) -> Diagnostic {
    let (_, r) = parse_text("t.sj", text);
    let mut ds = r.expect_err("must not parse");
    assert_eq!(ds.len(), 1, "{ds:?}");
    ds.remove(0)
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    for text in [
        format!(
            "allow read if {}fd == 1{}",
            "(".repeat(depth),
            ")".repeat(depth)
        ),
        format!("allow read if {}(fd & 1)", "!".repeat(depth)),
        format!("allow read if fd == {}0", "~".repeat(depth)),
        format!("allow read if fd == {}0", "-".repeat(depth)),
        format!(
            "allow read if fd == {}0{}",
            "(".repeat(depth),
            ")".repeat(depth)
        ),
        format!("errno({}1{}) read", "(".repeat(depth), ")".repeat(depth)),
        format!("{{ \"sys_read\", \"{}fd == 1\" }}", "(".repeat(depth)),
    ] {
        let d = single_error(&text);
        assert_eq!(d.message, format!("nesting deeper than {MAX_DEPTH} levels"));
        let s = d.span.unwrap();
        assert_eq!(s.end - s.start, 1);
    }
}

#[test]
fn deep_nesting_on_a_small_stack() {
    // The bound holds on a 512 KiB thread too, even in a debug build (fuzzers and embedders
    // use small stacks).
    let t = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(|| {
            let n = 10_000;
            [
                format!("allow read if {}fd == 1", "(".repeat(n)),
                format!("allow read if {}(fd & 1)", "!".repeat(n)),
                format!("allow read if {}", "!(".repeat(n)),
                format!("allow read if fd == {}0", "~".repeat(n)),
                format!("allow read if fd == {}0", "(".repeat(n)),
                format!("allow read if fd == {}0", "-(".repeat(n)),
            ]
            .iter()
            .map(|text| single_error(text).message)
            .collect::<Vec<_>>()
        })
        .unwrap();
    for m in t.join().unwrap() {
        assert!(m.starts_with("nesting deeper"), "{m}");
    }
}

/// A 10 MB line parses (or fails) in linear time, and its diagnostic stays short.
#[test]
fn ten_megabyte_lines_are_fast_and_diagnostics_short() {
    let n = 10 << 20;
    let mut or_chain = String::from("allow read if fd == 0");
    while or_chain.len() < n {
        or_chain.push_str(" || fd == 0");
    }
    let cases = [
        (or_chain.clone(), true),
        (format!("{or_chain} $"), false),
        (format!("allow {}", "a".repeat(n)), true),
        (format!("allow read if {} == 1", "a".repeat(n)), true),
        ("b".repeat(n), false),
        (format!("allow read if fd == {}", "9".repeat(n)), false),
        (format!("include \"{}", "x".repeat(n)), false),
        (format!("fs read {}", "/x".repeat(n / 2)), true),
        (format!("allow read if fd == {}", "0|".repeat(n / 2)), false),
        (format!("{}allow", " ".repeat(n)), false),
        ("(".repeat(n), false),
        ("$".repeat(n), false),
    ];
    for (text, ok) in cases {
        let start = Instant::now();
        let (map, r) = parse_text("big.sj", &text);
        assert_eq!(r.is_ok(), ok, "{}", &text[..40]);
        let out = render(&map, &r);
        let elapsed = start.elapsed();
        assert!(
            elapsed < Duration::from_secs(10),
            "{elapsed:?} for {}",
            &text[..40]
        );
        if !ok {
            assert!(out.len() < 2000, "{} bytes of diagnostics", out.len());
        }
    }
}

#[test]
fn invalid_utf8_is_a_load_error_with_the_offset() {
    let mut bytes = b"allow read\nallow write if fd == 1\n".repeat(40);
    bytes.insert(1234, 0xc3);
    bytes.insert(1235, 0x28);
    let e = syntax::load("bad.sj", &bytes).unwrap_err();
    assert_eq!(e.to_string(), "bad.sj: invalid UTF-8 at byte 1234");
    let e: Box<dyn std::error::Error> = Box::new(e);
    assert!(e.to_string().contains("1234"));
}

#[test]
fn an_empty_file_is_an_empty_policy() {
    for text in ["", "\n", "# nothing\n", "  \t\r\n;", ";;;"] {
        let (_, r) = parse_text("e.sj", text);
        assert_eq!(r.unwrap(), ast::Policy::default());
    }
    let f = syntax::load("e.sj", b"").unwrap();
    let mut map = SourceMap::new();
    let id = map.add(f);
    assert!(syntax::parse(&map, id).unwrap().items.is_empty());
}

#[test]
fn the_robustness_messages() {
    let cases: &[(&str, &str)] = &[
        (
            "allow read if fd == 18446744073709551616",
            "number does not fit in 64 bits",
        ),
        ("include \"x.sj", "unterminated string"),
        ("allow read if fd == $", "unexpected character `$`"),
        (
            "allow read if fd ==",
            "expected a value after `==`, found end of file",
        ),
        (
            "allow read if",
            "expected a condition after `if`, found end of file",
        ),
        ("allow read if (fd == 1", "unclosed `(`"),
        ("allow read if fd == 1)", "unmatched `)`"),
    ];
    for (text, msg) in cases {
        assert_eq!(single_error(text).message, *msg, "{text:?}");
    }
}

/// Parses `text` and checks every diagnostic's span lies inside the file on char boundaries,
/// and every node's span too.
fn check(text: &str) {
    let (map, r) = parse_text("p.sj", text);
    let len = text.len() as u32;
    let ok = |s: straitjacket_policy::diag::Span| {
        s.start <= s.end
            && s.end <= len
            && text.is_char_boundary(s.start as usize)
            && text.is_char_boundary(s.end as usize)
    };
    match &r {
        Ok(p) => {
            for item in &p.items {
                assert!(ok(item.span()), "{item:?}");
                if let ast::Item::Rule { cond: Some(c), .. } | ast::Item::Ftrace { expr: c, .. } =
                    item
                {
                    assert!(ok(c.span()), "{c:?}");
                }
            }
        }
        Err(ds) => {
            assert!(!ds.is_empty());
            assert!(ds.len() <= syntax::MAX_DIAGNOSTICS + 1);
            for d in ds {
                if let Some(s) = d.span {
                    assert!(ok(s), "{d:?} in {text:?}");
                }
            }
        }
    }
    let _ = render(&map, &r);
}

const TOKENS: &[&str] = &[
    "allow",
    "kill-process",
    "errno",
    "trap",
    "default",
    "unknown",
    "arch",
    "include",
    "fs",
    "read",
    "write",
    "net",
    "limit",
    "timeout",
    "if",
    "in",
    "fd",
    "flags",
    "NULL",
    "true",
    "0",
    "1",
    "0x1f",
    "077",
    "0b1",
    "99999999999999999999999",
    "@basic-io",
    "@",
    "(",
    ")",
    "{",
    "}",
    ",",
    ";",
    "\n",
    "\r\n",
    "#c\n",
    "\"s\"",
    "\"",
    "\"fd == 0\"",
    "\\",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "!",
    "&",
    "&&",
    "|",
    "||",
    "~",
    "-",
    "$",
    "é",
    "/usr",
    " ",
    "\t",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,80}") {
        check(&text);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(f) = syntax::load("b.sj", &bytes) {
            check(&f.text);
        }
    }

    #[test]
    fn token_soup_never_panics(toks in proptest::collection::vec(proptest::sample::select(TOKENS), 0..40)) {
        check(&toks.join(" "));
        check(&toks.concat());
    }

    #[test]
    fn ftrace_soup_never_panics(toks in proptest::collection::vec(proptest::sample::select(TOKENS), 0..12)) {
        let inner: String = toks.join(" ").replace(['"', '\n', '\\'], "");
        check(&format!("{{ \"sys_read\", \"{inner}\" }},\n"));
    }
}
