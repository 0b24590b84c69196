//! Policy text to syntax tree: the first stage of the pipeline.
//!
//! In: a [`SourceFile`] (made by [`load`] from bytes, which must be UTF-8). Out: an
//! [`ast::Policy`] whose every node carries the [`Span`] it came from, or every syntax error found
//! (up to [`MAX_DIAGNOSTICS`]), each a [`Diagnostic`] pointing at the exact token. Names are not
//! checked here (the resolver does that), except statement keywords and action names at the
//! start of a statement and the accesses of `fs`, which decide how the rest is read.
//!
//! Invariants: never panics on any text; time is linear in the text; recursion is bounded by
//! [`MAX_DEPTH`] levels of `(`, `!`, `~` and unary `-` (deeper is the error
//! `nesting deeper than 200 levels`); every span lies inside the file, on char boundaries.
//!
//! # Grammar
//! ```text
//! policy     := (statement? (NEWLINE | ';'))* statement?
//! statement  := 'default' action | 'unknown' action
//!             | 'arch' NAME (',' NAME)*
//!             | 'include' STRING
//!             | 'fs' ('read' | 'write' | 'exec') words
//!             | ('net' | 'unshare' | 'limit' | 'timeout' | 'hostname') words
//!             | '{' STRING ',' STRING '}' ','?            -- the ftrace table form
//!             | action target (',' target)* ('if' expr)?
//! action     := NAME ('(' constexpr ')')?                 -- a rule starts with a known action
//! target     := NAME | '@' NAME
//! words      := word ((',' | whitespace) word)*           -- word: bare, or a STRING
//! expr       := and ('||' and)*
//! and        := unary ('&&' unary)*
//! unary      := '!' unary | primary
//! primary    := '(' expr ')'
//!             | '(' NAME '&' constexpr ')' op constexpr   -- the parentheses only group
//!             | 'true' | 'false' | '0' | '1'              -- 0/1 when no operator follows
//!             | NAME ('&' constexpr)? op constexpr
//!             | NAME '&' constexpr                        -- non-zero
//! op         := '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in'
//! constexpr  := term ('|' term)*
//! term       := '~' term | '-' term | '(' constexpr ')' | NUMBER | 'NULL' | NAME
//! ```
//!
//! # Decisions
//! - **Statements end at a newline** (or `;`). A newline does not end a statement when it
//!   follows `,`, `||`, `&&`, `|`, `&` or `if`, or inside `( )` and `{ }` — unless the next
//!   line starts with `{`, a keyword (`default`, `unknown`, `arch`, `include`, `fs`) or an
//!   action other than `kill` (which is also a system call): then the statement ends there and
//!   the missing operand is the error (`allow read if fd == 1 ||` followed by `allow write`).
//!   That is the whole continuation rule; comments and blank lines may sit in between. The
//!   ftrace form's trailing `,` ends the entry.
//! - **Identifiers** are `[A-Za-z_][A-Za-z0-9_]*`, and may contain a `-` that is followed by a
//!   letter: `kill-process`, `@basic-io`. So `fd == -1` and `x-1` keep their minus sign.
//! - **`ARG & MASK OP VALUE` means `(ARG & MASK) OP VALUE`**, not C's `ARG & (MASK OP VALUE)`:
//!   a mask always applies to the argument. `(ARG & MASK) OP VALUE` means the same.
//! - `ARG` alone is an error (`write `fd != 0` to test for non-zero`); `ARG & MASK` alone tests
//!   for non-zero, as in ftrace.
//! - **Numbers**: decimal, `0x` hex, `0o` or leading-`0` octal, `0b` binary, with `_` between
//!   digits; more than 64 bits is an error. `-N` is [`ast::ConstExpr::Neg`]; the resolver applies
//!   the argument's type.
//! - **Strings** are on one line, with the escapes `\"` and `\\` only. The condition string of
//!   an ftrace entry may not contain escapes, so its spans map one to one onto the file: a
//!   diagnostic in `"fd == $"` points at the `$` in the file.
//! - **Words** of `fs` and settings are quoted strings or bare runs of anything up to whitespace,
//!   `,`, `;` or `#`; commas separate words and are not words.
//! - Error recovery: after an error, the parser skips to the end of the statement (a `;`, or a
//!   newline not after a continuing token) and goes on. Each statement gives one diagnostic.

pub mod ast;
mod lexer;
mod parser;

use std::fmt;
use std::fmt::Write as _;

use crate::diag::{Diagnostic, FileId, SourceFile, SourceMap, Span};
pub use parser::{ACTIONS, FS_ACCESS, KEYWORDS, MAX_DEPTH, MAX_DIAGNOSTICS, SETTINGS};

/// Why bytes could not become a [`SourceFile`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The bytes are not UTF-8; `offset` is the first byte that is not.
    InvalidUtf8 { name: String, offset: usize },
    /// The file is larger than spans can address (4 GiB).
    TooLarge { name: String, len: usize },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::InvalidUtf8 { name, offset } => {
                write!(f, "{name}: invalid UTF-8 at byte {offset}")
            }
            LoadError::TooLarge { name, len } => {
                write!(f, "{name}: too large ({len} bytes; the limit is 4 GiB)")
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// Makes a source file from bytes read from `name`.
pub fn load(name: &str, bytes: &[u8]) -> Result<SourceFile, LoadError> {
    if bytes.len() >= u32::MAX as usize {
        return Err(LoadError::TooLarge {
            name: name.to_string(),
            len: bytes.len(),
        });
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(e) => Err(LoadError::InvalidUtf8 {
            name: name.to_string(),
            offset: e.valid_up_to(),
        }),
    }
}

fn file_text(sources: &SourceMap, file: FileId) -> Option<&str> {
    sources
        .files()
        .find(|(id, _)| *id == file)
        .map(|(_, f)| f.text.as_str())
}

/// Parses file `file` of `sources`: the policy, or every syntax error found (at most
/// [`MAX_DIAGNOSTICS`], then one saying it stopped). An empty file is an empty policy.
pub fn parse(sources: &SourceMap, file: FileId) -> Result<ast::Policy, Vec<Diagnostic>> {
    let Some(text) = file_text(sources, file) else {
        return Err(vec![Diagnostic::global(format!(
            "no source file with id {}",
            file.0
        ))]);
    };
    let mut p = parser::Parser::new(text, file, 0, text.len(), false);
    let policy = p.policy();
    if p.diags.is_empty() {
        Ok(policy)
    } else {
        Err(p.diags)
    }
}

/// Parses the condition written in `span` of `file` (the contents of a string, as in the
/// ftrace form `{ "sys_read", "fd == 0" }`); the expression's spans are those of the file.
/// The text must not span lines; its end is "end of string" in messages.
pub fn parse_expr(sources: &SourceMap, file: FileId, span: Span) -> Result<ast::Expr, Diagnostic> {
    let Some(text) = file_text(sources, file) else {
        return Err(Diagnostic::global(format!(
            "no source file with id {}",
            file.0
        )));
    };
    let (start, end) = (span.start as usize, span.end as usize);
    if span.file != file || text.get(start..end).is_none() {
        return Err(Diagnostic::global("condition span outside its file"));
    }
    if text[start..end].contains('\n') {
        return Err(Diagnostic::error(
            span,
            "a condition string cannot span lines",
        ));
    }
    let mut p = parser::Parser::new(text, file, start, end, true);
    match p.whole_condition() {
        Ok(e) if p.diags.is_empty() => Ok(e),
        _ => Err(p
            .diags
            .into_iter()
            .next()
            .unwrap_or_else(|| Diagnostic::error(span, "invalid condition"))),
    }
}

/// A compact, span-free rendering of a policy, one item per line, for tests and debugging:
/// `(rule allow (read @basic-io) (== (& flags O_ACCMODE) O_RDONLY))`.
pub fn to_sexpr(policy: &ast::Policy) -> String {
    let mut out = String::new();
    for item in &policy.items {
        item_sexpr(&mut out, item);
        out.push('\n');
    }
    out
}

fn item_sexpr(out: &mut String, item: &ast::Item) {
    use ast::Item;
    let words = |out: &mut String, ws: &[ast::StrLit]| {
        for w in ws {
            let _ = write!(out, " {:?}", w.value);
        }
    };
    match item {
        Item::Default { action, .. } | Item::Unknown { action, .. } => {
            let kw = if matches!(item, Item::Default { .. }) {
                "default"
            } else {
                "unknown"
            };
            let _ = write!(out, "({kw} ");
            action_sexpr(out, action);
            out.push(')');
        }
        Item::Arch { arches, .. } => {
            out.push_str("(arch");
            for a in arches {
                let _ = write!(out, " {}", a.name);
            }
            out.push(')');
        }
        Item::Rule {
            action,
            targets,
            cond,
            ..
        } => {
            out.push_str("(rule ");
            action_sexpr(out, action);
            out.push_str(" (");
            for (i, t) in targets.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                match t {
                    ast::Target::Syscall(n) => out.push_str(&n.name),
                    ast::Target::Group(n) => {
                        let _ = write!(out, "@{}", n.name);
                    }
                }
            }
            out.push(')');
            if let Some(c) = cond {
                out.push(' ');
                expr_sexpr(out, c);
            }
            out.push(')');
        }
        Item::Include { path, .. } => {
            let _ = write!(out, "(include {:?})", path.value);
        }
        Item::Fs { access, paths, .. } => {
            let _ = write!(out, "(fs {}", access.name);
            words(out, paths);
            out.push(')');
        }
        Item::Ftrace { syscall, expr, .. } => {
            let _ = write!(out, "(ftrace {:?} ", syscall.value);
            expr_sexpr(out, expr);
            out.push(')');
        }
        Item::Setting {
            keyword, words: ws, ..
        } => {
            let _ = write!(out, "({}", keyword.name);
            words(out, ws);
            out.push(')');
        }
    }
}

fn action_sexpr(out: &mut String, a: &ast::ActionSpec) {
    out.push_str(&a.name.name);
    if let Some(arg) = &a.arg {
        out.push('(');
        const_sexpr(out, arg);
        out.push(')');
    }
}

fn expr_sexpr(out: &mut String, e: &ast::Expr) {
    use ast::Expr;
    match e {
        Expr::Or(v, _) | Expr::And(v, _) => {
            out.push_str(if matches!(e, Expr::Or(..)) {
                "(or"
            } else {
                "(and"
            });
            for x in v {
                out.push(' ');
                expr_sexpr(out, x);
            }
            out.push(')');
        }
        Expr::Not(x, _) => {
            out.push_str("(not ");
            expr_sexpr(out, x);
            out.push(')');
        }
        Expr::Bool(b, _) => out.push_str(if *b { "true" } else { "false" }),
        Expr::Cmp {
            arg,
            mask,
            op,
            value,
            ..
        } => {
            let lhs = |out: &mut String| match mask {
                Some(m) => {
                    let _ = write!(out, "(& {} ", arg.name);
                    const_sexpr(out, m);
                    out.push(')');
                }
                None => out.push_str(&arg.name),
            };
            match (op, value) {
                (Some((op, _)), Some(v)) => {
                    let op = match op {
                        ast::CmpOp::Eq => "==",
                        ast::CmpOp::Ne => "!=",
                        ast::CmpOp::Lt => "<",
                        ast::CmpOp::Le => "<=",
                        ast::CmpOp::Gt => ">",
                        ast::CmpOp::Ge => ">=",
                        ast::CmpOp::In => "in",
                    };
                    let _ = write!(out, "({op} ");
                    lhs(out);
                    out.push(' ');
                    const_sexpr(out, v);
                    out.push(')');
                }
                _ => lhs(out),
            }
        }
    }
}

fn const_sexpr(out: &mut String, c: &ast::ConstExpr) {
    use ast::ConstExpr;
    match c {
        ConstExpr::Num(n, _) => {
            let _ = write!(out, "{n}");
        }
        ConstExpr::Null(_) => out.push_str("NULL"),
        ConstExpr::Name(i) => out.push_str(&i.name),
        ConstExpr::Neg(x, _) | ConstExpr::BitNot(x, _) => {
            out.push_str(if matches!(c, ConstExpr::Neg(..)) {
                "(- "
            } else {
                "(~ "
            });
            const_sexpr(out, x);
            out.push(')');
        }
        ConstExpr::BitOr(v, _) => {
            out.push_str("(|");
            for x in v {
                out.push(' ');
                const_sexpr(out, x);
            }
            out.push(')');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> (SourceMap, Result<ast::Policy, Vec<Diagnostic>>) {
        let mut map = SourceMap::new();
        let id = map.add(SourceFile::new("t.sj", text));
        let r = parse(&map, id);
        (map, r)
    }

    /// The s-expression of a policy that must parse.
    fn sx(text: &str) -> String {
        match parse_str(text) {
            (_, Ok(p)) => to_sexpr(&p),
            (map, Err(ds)) => panic!(
                "{text:?} did not parse:\n{}",
                ds.iter().map(|d| d.render(&map)).collect::<String>()
            ),
        }
    }

    /// The rendered diagnostics of a policy that must not parse.
    fn errs(text: &str) -> String {
        match parse_str(text) {
            (_, Ok(p)) => panic!("{text:?} parsed: {}", to_sexpr(&p)),
            (map, Err(ds)) => ds.iter().map(|d| d.render(&map)).collect(),
        }
    }

    /// The first diagnostic's message and the text its span covers.
    fn err1(text: &str) -> (String, String) {
        let (_, r) = parse_str(text);
        let ds = r.expect_err(text);
        let d = &ds[0];
        let s = d.span.expect("a span");
        (
            d.message.clone(),
            text[s.start as usize..s.end as usize].to_string(),
        )
    }

    #[test]
    fn design_example_parses_in_full() {
        let text = "\
# comment
default kill-process                 # action for anything not matched
arch x86_64, i386                    # ABIs the policy covers
allow read if fd == 0
allow write if fd == 1 || fd == 2
allow exit_group, rt_sigreturn
allow gettimeofday if tz == NULL
errno(EPERM) socket if family != AF_UNIX
allow mmap if !(prot & PROT_EXEC)
allow openat if (flags & O_ACCMODE) == O_RDONLY
allow @basic-io                      # a named group
notify openat                        # the supervisor decides
fs read /usr, /lib, /etc             # filesystem rules (Landlock and/or the supervisor)
fs write /tmp/job
include \"common.sj\"
";
        assert_eq!(
            sx(text),
            "\
(default kill-process)
(arch x86_64 i386)
(rule allow (read) (== fd 0))
(rule allow (write) (or (== fd 1) (== fd 2)))
(rule allow (exit_group rt_sigreturn))
(rule allow (gettimeofday) (== tz NULL))
(rule errno(EPERM) (socket) (!= family AF_UNIX))
(rule allow (mmap) (not (& prot PROT_EXEC)))
(rule allow (openat) (== (& flags O_ACCMODE) O_RDONLY))
(rule allow (@basic-io))
(rule notify (openat))
(fs read \"/usr\" \"/lib\" \"/etc\")
(fs write \"/tmp/job\")
(include \"common.sj\")
"
        );
    }

    #[test]
    fn ftrace_seed_parses_into_four_entries() {
        let text = r#"{ "sys_read", "fd == 0" },
{ "sys_write", "fd == 1" },
{ "sys_sigreturn", "1" },
{ "sys_gettimeofday", "tz == NULL" },
"#;
        assert_eq!(
            sx(text),
            "(ftrace \"sys_read\" (== fd 0))\n(ftrace \"sys_write\" (== fd 1))\n\
             (ftrace \"sys_sigreturn\" true)\n(ftrace \"sys_gettimeofday\" (== tz NULL))\n"
        );
        let (_, r) = parse_str(text);
        let p = r.unwrap();
        // Spans inside the string point at the file's characters.
        let ast::Item::Ftrace {
            expr,
            span,
            syscall,
        } = &p.items[0]
        else {
            panic!()
        };
        assert_eq!(
            &text[span.start as usize..span.end as usize],
            r#"{ "sys_read", "fd == 0" }"#
        );
        assert_eq!(
            &text[syscall.span.start as usize..syscall.span.end as usize],
            "\"sys_read\""
        );
        let ast::Expr::Cmp {
            arg,
            op,
            value,
            span,
            ..
        } = expr
        else {
            panic!()
        };
        assert_eq!((arg.span.start, arg.span.end), (15, 17));
        assert_eq!(&text[span.start as usize..span.end as usize], "fd == 0");
        assert_eq!(op.unwrap().1.start, 18);
        assert_eq!(value.as_ref().unwrap().span().start, 21);
    }

    #[test]
    fn ftrace_variants() {
        assert_eq!(sx(r#"{"sys_read","0"}"#), "(ftrace \"sys_read\" false)\n");
        assert_eq!(
            sx("{ \"a\", \"x == 1\" }, { \"b\", \"1\" }\n{\n \"c\",\n \"y & 4\"\n}"),
            "(ftrace \"a\" (== x 1))\n(ftrace \"b\" true)\n(ftrace \"c\" (& y 4))\n"
        );
        assert_eq!(
            err1(r#"{ "sys_read", "fd == $" },"#),
            ("unexpected character `$`".into(), "$".into())
        );
        assert_eq!(
            err1(r#"{ "sys_read", "fd ==" }"#),
            (
                "expected a value after `==`, found end of string".into(),
                "".into()
            )
        );
        assert_eq!(
            err1(r#"{ "sys_read", "" }"#),
            (
                "expected a condition, found end of string".into(),
                "".into()
            )
        );
        assert_eq!(
            err1(r#"{ "sys_read", "fd == 0 fd" }"#),
            (
                "expected `&&`, `||` or end of string, found `fd`".into(),
                "fd".into()
            )
        );
        assert_eq!(
            err1(r#"{ "sys_read", "fd == \"0\"" }"#),
            (
                "escapes are not allowed in an ftrace condition".into(),
                "\\".into()
            )
        );
        assert_eq!(
            err1(r#"{ "sys_read" "fd == 0" }"#),
            (
                "expected `,` after the system call name, found `\"fd == 0\"`".into(),
                "\"fd == 0\"".into()
            )
        );
        assert_eq!(
            err1("{ \"sys_read\", \"fd == 0\"\n"),
            ("unclosed `{`".into(), "{".into())
        );
    }

    #[test]
    fn statements() {
        assert_eq!(
            sx("default errno(EPERM)\nunknown allow; default trap(3)\ndefault kill"),
            "(default errno(EPERM))\n(unknown allow)\n(default trap(3))\n(default kill)\n"
        );
        assert_eq!(
            sx("kill-thread ptrace\nkill-process a,b\nkill c\ntrap d\ntrace(1) e\nlog f\n"),
            "(rule kill-thread (ptrace))\n(rule kill-process (a b))\n(rule kill (c))\n\
             (rule trap (d))\n(rule trace(1) (e))\n(rule log (f))\n"
        );
        assert_eq!(
            sx("errno(ENOSYS | 0x10) _llseek, @file-read, arg5x"),
            "(rule errno((| ENOSYS 16)) (_llseek @file-read arg5x))\n"
        );
        assert_eq!(
            sx("include \"a b.sj\"\nfs exec \"/opt/my dir\" /bin\n"),
            "(include \"a b.sj\")\n(fs exec \"/opt/my dir\" \"/bin\")\n"
        );
        assert_eq!(sx(""), "");
        assert_eq!(sx("\n\n# only comments\n;;\n"), "");
    }

    #[test]
    fn settings() {
        assert_eq!(
            sx("net connect 127.0.0.1:8080\nnet none\nunshare pid, net\n\
                limit mem 512M, procs 64\ntimeout 30s # half a minute\nhostname \"sand box\""),
            "(net \"connect\" \"127.0.0.1:8080\")\n(net \"none\")\n(unshare \"pid\" \"net\")\n\
             (limit \"mem\" \"512M\" \"procs\" \"64\")\n(timeout \"30s\")\n\
             (hostname \"sand box\")\n"
        );
        assert_eq!(sx("unshare pid,\n  net"), "(unshare \"pid\" \"net\")\n");
        assert_eq!(
            err1("timeout\n"),
            (
                "expected a value after `timeout`, found end of line".into(),
                "\n".into()
            )
        );
        assert_eq!(
            err1("unshare pid,,net\n"),
            ("expected a value after `,`, found `,`".into(), ",".into())
        );
    }

    #[test]
    fn expressions() {
        let c = |cond: &str| {
            let s = sx(&format!("allow x if {cond}"));
            s.strip_prefix("(rule allow (x) ")
                .and_then(|s| s.strip_suffix(")\n"))
                .unwrap()
                .to_string()
        };
        assert_eq!(
            c("a == 1 || b != 2 && c < 3"),
            "(or (== a 1) (and (!= b 2) (< c 3)))"
        );
        assert_eq!(
            c("(a <= 1 || b > 2) && c >= 3"),
            "(and (or (<= a 1) (> b 2)) (>= c 3))"
        );
        assert_eq!(c("!!(a in 0o777)"), "(not (not (in a 511)))");
        assert_eq!(
            c("flags & O_ACCMODE == O_RDONLY"),
            "(== (& flags O_ACCMODE) O_RDONLY)"
        );
        assert_eq!(c("flags & (A | B) in ~C"), "(in (& flags (| A B)) (~ C))");
        assert_eq!(c("flags & A | B"), "(& flags (| A B))");
        assert_eq!(c("fd == -1"), "(== fd (- 1))");
        assert_eq!(
            c("fd == AT_FDCWD || fd != -(0x64)"),
            "(or (== fd AT_FDCWD) (!= fd (- 100)))"
        );
        assert_eq!(c("arg0 == ~0 | 0b1_0"), "(== arg0 (| (~ 0) 2))");
        assert_eq!(c("true"), "true");
        assert_eq!(c("false || 1"), "(or false true)");
        assert_eq!(
            c("!(prot & PROT_EXEC) && !(prot & PROT_WRITE)"),
            "(and (not (& prot PROT_EXEC)) (not (& prot PROT_WRITE)))"
        );
        assert_eq!(c("((flags & 3)) == 1"), "(== (& flags 3) 1)");
        assert_eq!(c("a==1&&b==2||c&4"), "(or (and (== a 1) (== b 2)) (& c 4))");
    }

    #[test]
    fn continuation_lines() {
        assert_eq!(
            sx("allow read,\n  write if\n  fd == 1 ||   # comment\n\n  fd == 2 &&\n (a ==\n 3)\nallow x"),
            "(rule allow (read write) (or (== fd 1) (and (== fd 2) (== a 3))))\n(rule allow (x))\n"
        );
        assert_eq!(sx("arch x86_64,\ni386"), "(arch x86_64 i386)\n");
        assert_eq!(sx("fs read /a,\n /b"), "(fs read \"/a\" \"/b\")\n");
        assert_eq!(
            sx("allow a if x & A |\n B"),
            "(rule allow (a) (& x (| A B)))\n"
        );
        assert_eq!(sx("allow a if x &\n B"), "(rule allow (a) (& x B))\n");
        assert_eq!(
            sx("allow a\r\nallow b\r\n"),
            "(rule allow (a))\n(rule allow (b))\n"
        );
        // `kill` and `timeout` continue a statement; other statement words start one.
        assert_eq!(sx("allow read,\n  kill"), "(rule allow (read kill))\n");
        assert_eq!(sx("unshare pid,\n  net"), "(unshare \"pid\" \"net\")\n");
        assert_eq!(
            sx("allow poll if timeout == 0 ||\n  timeout > 9"),
            "(rule allow (poll) (or (== timeout 0) (> timeout 9)))\n"
        );
        assert_eq!(
            err1("allow a if x == 1 ||\nallow b"),
            (
                "expected a condition after `||`, found end of line".into(),
                "\n".into()
            )
        );
        assert_eq!(
            err1("allow a,\n# c\n\nerrno(1) b"),
            (
                "expected a system call name or `@group` after `,`, found end of line".into(),
                "\n".into()
            )
        );
        assert_eq!(
            err1("fs read /a,\ninclude \"x\""),
            (
                "expected a path after `,`, found end of line".into(),
                "\n".into()
            )
        );
        // The statement after the broken one is parsed.
        let e = errs("allow a if x == 1 ||\nallow b\nalow c");
        assert_eq!(e.matches("error:").count(), 2, "{e}");
    }

    #[test]
    fn spans_are_exact() {
        let text = "errno(EPERM) socket, @net-io if !(flags & 0x3) && fd >= -1";
        let (_, r) = parse_str(text);
        let p = r.unwrap();
        let at = |s: Span| &text[s.start as usize..s.end as usize];
        let ast::Item::Rule {
            action,
            targets,
            cond,
            span,
        } = &p.items[0]
        else {
            panic!()
        };
        assert_eq!(at(*span), text);
        assert_eq!(at(action.span), "errno(EPERM)");
        assert_eq!(at(action.name.span), "errno");
        assert_eq!(at(action.arg.as_ref().unwrap().span()), "EPERM");
        let ast::Target::Group(g) = &targets[1] else {
            panic!()
        };
        assert_eq!((g.name.as_str(), at(g.span)), ("net-io", "@net-io"));
        let ast::Expr::And(v, s) = cond.as_ref().unwrap() else {
            panic!()
        };
        assert_eq!(at(*s), "!(flags & 0x3) && fd >= -1");
        assert_eq!(at(v[0].span()), "!(flags & 0x3)");
        let ast::Expr::Not(inner, _) = &v[0] else {
            panic!()
        };
        assert_eq!(at(inner.span()), "flags & 0x3");
        let ast::Expr::Cmp { op, value, .. } = &v[1] else {
            panic!()
        };
        assert_eq!(at(op.unwrap().1), ">=");
        assert_eq!(at(value.as_ref().unwrap().span()), "-1");

        let text = "allow openat if (flags & O_ACCMODE) == O_RDONLY";
        let (_, r) = parse_str(text);
        let p = r.unwrap();
        let ast::Item::Rule { cond: Some(c), .. } = &p.items[0] else {
            panic!()
        };
        assert_eq!(
            &text[c.span().start as usize..],
            "(flags & O_ACCMODE) == O_RDONLY"
        );

        let text = "fs read /usr,  \"/a b\" # c";
        let (_, r) = parse_str(text);
        let ast::Item::Fs { paths, span, .. } = &r.unwrap().items[0] else {
            panic!()
        };
        assert_eq!(at2(text, paths[0].span), "/usr");
        assert_eq!(at2(text, paths[1].span), "\"/a b\"");
        assert_eq!(at2(text, *span), "fs read /usr,  \"/a b\"");
    }

    fn at2(text: &str, s: Span) -> &str {
        &text[s.start as usize..s.end as usize]
    }

    #[test]
    fn error_messages() {
        let cases: &[(&str, &str, &str)] = &[
            ("alow read", "unknown statement or action `alow`", "alow"),
            (
                "allow read if fd",
                "expected a comparison operator after `fd`, found end of file",
                "",
            ),
            (
                "allow openat if flags & O_ACCMODE O_RDONLY",
                "expected a comparison operator after `flags & O_ACCMODE`, found `O_RDONLY`",
                "O_RDONLY",
            ),
            (
                "allow read if fd ==\n",
                "expected a value after `==`, found end of line",
                "\n",
            ),
            (
                "allow read if\n",
                "expected a condition after `if`, found end of file",
                "if",
            ),
            (
                "allow read if\nallow write\n",
                "expected a condition after `if`, found end of line",
                "if",
            ),
            ("allow read if (fd == 0\nallow write", "unclosed `(`", "("),
            ("allow read if fd == 0)", "unmatched `)`", ")"),
            (
                "allow read if fd == 0 fd",
                "expected `&&`, `||` or end of line, found `fd`",
                "fd",
            ),
            (
                "allow read if fd == 99999999999999999999",
                "number does not fit in 64 bits",
                "99999999999999999999",
            ),
            (
                "allow read if fd == 08",
                "invalid digit `8` in octal number `08`",
                "8",
            ),
            ("allow read if fd == $", "unexpected character `$`", "$"),
            ("allow read if fd = 1", "unexpected `=`", "="),
            ("include \"abc", "unterminated string", "\""),
            (
                "include abc",
                "expected a quoted file name after `include`, found `abc`",
                "abc",
            ),
            (
                "allow read fd == 1",
                "expected `,`, `if` or end of line, found `fd`",
                "fd",
            ),
            (
                "allow",
                "expected a system call name or `@group` after `allow`, found end of file",
                "",
            ),
            (
                "allow read,",
                "expected a system call name or `@group` after `,`, found end of file",
                "",
            ),
            ("allow @", "expected a group name after `@`", "@"),
            ("fs reed /usr", "unknown filesystem access `reed`", "reed"),
            (
                "fs read",
                "expected a path after `fs read`, found end of file",
                "",
            ),
            (
                "fs /usr",
                "expected `read`, `write` or `exec` after `fs`, found `/usr`",
                "/usr",
            ),
            (
                "default",
                "expected an action after `default`, found end of file",
                "",
            ),
            (
                "arch x86_64 i386",
                "expected `,` or end of line, found `i386`",
                "i386",
            ),
            (
                "errno(EPERM read",
                "expected `|` or `)`, found `read`",
                "read",
            ),
            (
                "allow a if (fd == 1) == 2",
                "`==` cannot compare a condition",
                "==",
            ),
            (
                "allow a if 5 == fd",
                "expected a condition after `if`, found `5`",
                "5",
            ),
            (
                "allow a if fd == 1 ||",
                "expected a condition after `||`, found end of file",
                "",
            ),
            (
                "allow a if fd == 1 && && b",
                "expected a condition after `&&`, found `&&`",
                "&&",
            ),
            ("allow a if fd == 0x", "expected digits after `0x`", "0x"),
            (
                "allow a if !",
                "expected a condition after `!`, found end of file",
                "",
            ),
            (
                "allow a if fd == ~",
                "expected a value after `~`, found end of file",
                "",
            ),
            ("allow a if fd == (1", "unclosed `(`", "("),
            ("(", "expected a statement, found `(`", "("),
            ("42", "expected a statement, found `42`", "42"),
            ("allow read; , x", "expected a statement, found `,`", ","),
            (
                "allow a if \"x\"",
                "expected a condition after `if`, found `\"x\"`",
                "\"x\"",
            ),
        ];
        for (text, msg, at) in cases {
            assert_eq!(err1(text), (msg.to_string(), at.to_string()), "{text:?}");
        }
    }

    #[test]
    fn helps() {
        let e = errs("alow read");
        assert!(e.contains("help: did you mean `allow`?"), "{e}");
        let e = errs("kill_process read");
        assert!(e.contains("did you mean `kill-process`?"), "{e}");
        let e = errs("allow read if fd");
        assert!(
            e.contains("help: write `fd != 0` to test for non-zero"),
            "{e}"
        );
        let e = errs("allow read if (fd) == 1");
        assert!(
            e.contains("help: write `fd != 0` to test for non-zero"),
            "{e}"
        );
        let e = errs("allow read fd == 1");
        assert!(e.contains("help: a condition starts with `if`"), "{e}");
        let e = errs("fs raed /x");
        assert!(e.contains("did you mean `read`?"), "{e}");
        let e = errs("allow read if fd == 09");
        assert!(e.contains("leading `0` is octal"), "{e}");
    }

    #[test]
    fn recovers_and_reports_every_statement() {
        let text = "alow a\nallow b if\nallow c\nallow d if (x == 1\nallow e\nallow f if $ ||\n  x\nallow g";
        let (_, r) = parse_str(text);
        let ds = r.unwrap_err();
        let lines: Vec<usize> = ds
            .iter()
            .map(|d| text[..d.span.unwrap().start as usize].matches('\n').count() + 1)
            .collect();
        assert_eq!(lines, [1, 2, 4, 6]);
    }

    #[test]
    fn stops_after_fifty_errors() {
        let text = "$\n".repeat(200);
        let (_, r) = parse_str(&text);
        let ds = r.unwrap_err();
        assert_eq!(ds.len(), MAX_DIAGNOSTICS + 1);
        assert!(ds[MAX_DIAGNOSTICS]
            .message
            .starts_with("too many syntax errors"));
    }

    #[test]
    fn depth_is_bounded() {
        for (open, tail) in [
            ("(", "fd == 1"),
            ("!", "(fd & 1)"),
            ("~", ""),
            ("-", ""),
            ("(", ""),
        ] {
            let deep = open.repeat(100_000);
            let text = if tail.is_empty() {
                format!("allow a if fd == {deep}1")
            } else {
                format!("allow a if {deep}{tail}")
            };
            let (_, r) = parse_str(&text);
            let ds = r.unwrap_err();
            assert_eq!(ds.len(), 1);
            assert_eq!(ds[0].message, "nesting deeper than 200 levels");
        }
        // 200 levels are fine.
        let ok = format!("allow a if {}fd == 1{}", "(".repeat(200), ")".repeat(200));
        sx(&ok);
        let ok = format!("allow a if fd == {}1", "~".repeat(200));
        sx(&ok);
        let ok = format!("errno({}1{}) a", "(".repeat(200), ")".repeat(200));
        sx(&ok);
    }

    #[test]
    fn load_reports_the_byte_offset() {
        let e = load("p.sj", b"allow read\n\xffx").unwrap_err();
        assert_eq!(e.to_string(), "p.sj: invalid UTF-8 at byte 11");
        assert_eq!(load("p.sj", "é".as_bytes()).unwrap().text, "é");
    }

    #[test]
    fn parse_expr_points_inside_the_file() {
        let mut map = SourceMap::new();
        let text = "xx \"fd == 0 && tz == NULL\"";
        let id = map.add(SourceFile::new("t", text));
        let e = parse_expr(&map, id, Span::new(id, 4, text.len() - 1)).unwrap();
        assert_eq!(e.span(), Span::new(id, 4, text.len() - 1));
        let d = parse_expr(&map, id, Span::new(id, 4, 9)).unwrap_err();
        assert_eq!(
            d.message,
            "expected a value after `==`, found end of string"
        );
        assert!(parse_expr(&map, id, Span::new(id, 4, 400)).is_err());
        assert!(parse_expr(&map, FileId(7), Span::new(id, 4, 9)).is_err());
    }
}
