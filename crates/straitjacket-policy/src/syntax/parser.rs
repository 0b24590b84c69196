//! The recursive-descent parser: tokens to [`ast`](super::ast) nodes, with error recovery.
//!
//! See the module doc of [`super`] for the grammar. Each statement yields an item or exactly one
//! diagnostic; after an error the parser resumes at the next statement (see [`Parser::recover`]).
//! Every recursive cycle (`(`, `!`, `~`, unary `-`) goes through [`Parser::enter`], which bounds
//! the nesting at [`MAX_DEPTH`].

use super::ast::{ActionSpec, CmpOp, ConstExpr, Expr, Ident, Item, Policy, StrLit, Target};
use super::lexer::{lex, LexError, Mode, Tok, Token};
use crate::diag::{suggest, Diagnostic, FileId, Span};

/// The deepest nesting of parentheses, `!`, `~` and unary `-` accepted.
pub const MAX_DEPTH: u32 = 200;
/// The parser stops after this many diagnostics.
pub const MAX_DIAGNOSTICS: usize = 50;

/// Names of the actions a rule may start with (the resolver checks the data).
pub const ACTIONS: &[&str] = &[
    "allow",
    "log",
    "notify",
    "kill-thread",
    "kill-process",
    "kill",
    "trap",
    "errno",
    "trace",
];
/// Statement keywords other than actions and settings.
pub const KEYWORDS: &[&str] = &["default", "unknown", "arch", "include", "fs"];
/// Setting statements: a keyword and words read to the end of the statement.
pub const SETTINGS: &[&str] = &["net", "unshare", "limit", "timeout", "hostname"];
/// The accesses of an `fs` statement.
pub const FS_ACCESS: &[&str] = &["read", "write", "exec"];

/// The error has been reported (pushed to [`Parser::diags`]).
#[derive(Debug)]
pub(crate) struct Reported;

type PResult<T> = Result<T, Reported>;

/// At most 40 characters of `s`, with `…` when cut.
pub(crate) fn clip(s: &str) -> String {
    match s.char_indices().nth(39) {
        Some((i, _)) if s[i..].chars().nth(1).is_some() => format!("{}…", &s[..i]),
        _ => s.to_string(),
    }
}

/// Whether a newline after this token continues the statement.
fn continues(kind: &Tok, text: &str) -> bool {
    matches!(
        kind,
        Tok::Comma | Tok::OrOr | Tok::AndAnd | Tok::Pipe | Tok::Amp
    ) || (*kind == Tok::Ident && text == "if")
}

pub(crate) struct Parser<'s> {
    src: &'s str,
    file: FileId,
    /// Where the text to parse ends (the closing quote, for an ftrace condition).
    end: usize,
    /// Just after the last consumed token.
    pos: usize,
    /// The next token, lexed in that mode, with insignificant newlines skipped.
    peeked: Option<(Mode, Token)>,
    /// The last consumed token's range.
    prev: Option<(usize, usize)>,
    /// The last consumed token continues the statement over a newline.
    prev_continues: bool,
    /// Open `(`/`{`: newlines inside are insignificant.
    parens: u32,
    depth: u32,
    /// Parsing an ftrace condition inside a string: the end is "end of string".
    in_string: bool,
    pub diags: Vec<Diagnostic>,
}

impl<'s> Parser<'s> {
    /// A parser of `src[start..end]` (offsets stay those of the whole file).
    pub fn new(src: &'s str, file: FileId, start: usize, end: usize, in_string: bool) -> Self {
        Parser {
            src,
            file,
            end,
            pos: start,
            peeked: None,
            prev: None,
            prev_continues: false,
            parens: 0,
            depth: 0,
            in_string,
            diags: Vec::new(),
        }
    }

    // ---- tokens ----

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    fn tspan(&self, t: &Token) -> Span {
        self.span(t.start, t.end)
    }

    fn text(&self, t: &Token) -> &'s str {
        t.text(self.src)
    }

    fn peek_mode(&mut self, mode: Mode) -> Token {
        self.peek_mode_ref(mode).clone()
    }

    fn peek_mode_ref(&mut self, mode: Mode) -> &Token {
        if !matches!(&self.peeked, Some((m, _)) if *m == mode) {
            let mut p = self.pos;
            let t = loop {
                let t = lex(self.src, p, self.end, mode);
                if t.kind == Tok::Newline
                    && (self.parens > 0 || self.prev_continues)
                    && !self.starts_statement(t.end)
                {
                    p = t.end;
                    continue;
                }
                break t;
            };
            self.peeked = Some((mode, t));
        }
        let end = self.end;
        let (_, t) = self.peeked.get_or_insert_with(|| {
            let eof = Token {
                kind: Tok::Eof,
                start: end,
                end,
            };
            (mode, eof)
        });
        t
    }

    /// Whether the line from `p` clearly starts a statement: `{`, a keyword (`default`,
    /// `unknown`, `arch`, `include`, `fs`) or an action other than `kill` (also a system call).
    /// Settings do not count: their words collide with names (`timeout`, `unshare pid, net`).
    /// A newline before such a line ends the statement even after a continuing token.
    fn starts_statement(&self, p: usize) -> bool {
        let t = lex(self.src, p, self.end, Mode::Normal);
        match t.kind {
            Tok::LBrace => true,
            Tok::Ident => {
                let w = self.text(&t);
                w != "kill" && (ACTIONS.contains(&w) || KEYWORDS.contains(&w))
            }
            _ => false,
        }
    }

    fn peek_ref(&mut self) -> &Token {
        self.peek_mode_ref(Mode::Normal)
    }

    /// Whether the next token is of fieldless kind `kind`.
    fn at(&mut self, kind: &Tok) -> bool {
        self.peek_ref().kind == *kind
    }

    fn peek(&mut self) -> Token {
        self.peek_mode(Mode::Normal)
    }

    /// Consumes the peeked token.
    fn bump(&mut self) -> Token {
        let t = match self.peeked.take() {
            Some((_, t)) => t,
            None => {
                let t = self.peek();
                self.peeked = None;
                t
            }
        };
        self.pos = t.end;
        self.prev = Some((t.start, t.end));
        self.prev_continues = continues(&t.kind, self.text(&t));
        match t.kind {
            Tok::LParen | Tok::LBrace => self.parens += 1,
            Tok::RParen | Tok::RBrace => self.parens = self.parens.saturating_sub(1),
            _ => {}
        }
        t
    }

    fn prev_end(&self) -> usize {
        self.prev.map_or(self.pos, |p| p.1)
    }

    fn is_word(&self, t: &Token, word: &str) -> bool {
        t.kind == Tok::Ident && self.text(t) == word
    }

    /// Source text from `start` to `end`, whitespace collapsed, clipped for a message.
    fn snippet(&self, start: usize, end: usize) -> String {
        let mut e = end.min(start + 200).min(self.src.len());
        while !self.src.is_char_boundary(e) {
            e -= 1;
        }
        let s = self.src.get(start..e).unwrap_or("");
        clip(&s.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// ` after `X``, naming the last consumed token, or nothing at the start.
    fn after_prev(&self) -> String {
        match self.prev {
            Some((s, e)) => format!(" after `{}`", self.snippet(s, e)),
            None => String::new(),
        }
    }

    fn describe(&self, t: &Token) -> String {
        match t.kind {
            Tok::Newline => "end of line".into(),
            Tok::Eof if self.in_string => "end of string".into(),
            Tok::Eof => "end of file".into(),
            _ => format!("`{}`", clip(self.text(t))),
        }
    }

    // ---- diagnostics ----

    fn report(&mut self, d: Diagnostic) -> Reported {
        self.diags.push(d);
        Reported
    }

    fn lex_error(&mut self, e: &LexError, t: &Token) -> Reported {
        let (message, help) = e.message(self.src, t);
        let mut d = Diagnostic::error(self.span(e.start, e.end), message);
        if let Some(h) = help {
            d = d.with_help(h);
        }
        self.report(d)
    }

    /// `expected EXPECTED, found T` at `t`, or the lexer's error if `t` is one.
    fn fail(&mut self, t: &Token, expected: &str) -> Reported {
        self.fail_with(t, expected, None)
    }

    fn fail_with(&mut self, t: &Token, expected: &str, help: Option<String>) -> Reported {
        if let Tok::Error(e) = &t.kind {
            return self.lex_error(e, t);
        }
        if t.kind == Tok::RParen && self.parens == 0 {
            return self.report(Diagnostic::error(self.tspan(t), "unmatched `)`"));
        }
        let mut d = Diagnostic::error(
            self.tspan(t),
            format!("expected {expected}, found {}", self.describe(t)),
        );
        if let Some(h) = help {
            d = d.with_help(h);
        }
        self.report(d)
    }

    /// One level deeper, at the next token (returns its start); an error past [`MAX_DEPTH`].
    fn enter(&mut self) -> PResult<usize> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.too_deep());
        }
        Ok(self.peek_ref().start)
    }

    #[inline(never)]
    fn too_deep(&mut self) -> Reported {
        let t = self.peek();
        let d = Diagnostic::error(
            self.tspan(&t),
            format!("nesting deeper than {MAX_DEPTH} levels"),
        );
        self.report(d)
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Expects the `)` or `}` closing `open`. If the statement ends (or the line did) first, the
    /// error points at the unclosed one.
    fn close(&mut self, open: &Token, kind: Tok, expected: &str) -> PResult<()> {
        let t = self.peek();
        if t.kind == kind {
            self.bump();
            return Ok(());
        }
        let (o, c) = if kind == Tok::RBrace {
            ("{", "}")
        } else {
            ("(", ")")
        };
        let later_line = self
            .src
            .get(open.end..t.start)
            .is_some_and(|s| s.contains('\n'));
        if matches!(t.kind, Tok::Eof | Tok::Semi | Tok::Newline) || later_line {
            let d = Diagnostic::error(self.tspan(open), format!("unclosed `{o}`"))
                .with_note(format!("expected `{c}` before {}", self.describe(&t)));
            return Err(self.report(d));
        }
        Err(self.fail(&t, expected))
    }

    /// Expects the end of the statement (or of the ftrace string) without consuming it.
    fn end_of_statement(&mut self, expected: &str) -> PResult<()> {
        let t = self.peek();
        let end = match t.kind {
            Tok::Eof => true,
            Tok::Newline | Tok::Semi => !self.in_string,
            _ => false,
        };
        if end {
            return Ok(());
        }
        Err(self.fail(&t, expected))
    }

    /// Skips the rest of a broken statement: up to a `;`, or a newline that does not follow a
    /// continuing token (ignoring parentheses, which may be the broken part).
    fn recover(&mut self) {
        self.peeked = None;
        self.parens = 0;
        let mut p = self.pos;
        let mut cont = self.prev_continues;
        loop {
            let t = lex(self.src, p, self.end, Mode::Normal);
            match t.kind {
                Tok::Eof | Tok::Semi => {
                    self.pos = t.end;
                    break;
                }
                Tok::Newline if !cont || self.starts_statement(t.end) => {
                    self.pos = t.end;
                    break;
                }
                Tok::Newline => {}
                _ => cont = continues(&t.kind, self.text(&t)),
            }
            p = t.end;
        }
        self.prev_continues = false;
    }

    fn ident(&self, t: &Token) -> Ident {
        Ident {
            name: self.text(t).to_string(),
            span: self.tspan(t),
        }
    }

    // ---- statements ----

    /// A whole file.
    pub fn policy(&mut self) -> Policy {
        let mut items = Vec::new();
        loop {
            self.peeked = None;
            self.parens = 0;
            self.depth = 0;
            self.prev_continues = false;
            if self.diags.len() >= MAX_DIAGNOSTICS {
                self.diags.push(Diagnostic::global(format!(
                    "too many syntax errors; stopped after {MAX_DIAGNOSTICS}"
                )));
                break;
            }
            let t = self.peek();
            match t.kind {
                Tok::Eof => break,
                Tok::Newline | Tok::Semi => {
                    self.bump();
                    continue;
                }
                _ => {}
            }
            match self.statement() {
                Ok(item) => items.push(item),
                Err(Reported) => self.recover(),
            }
        }
        Policy { items }
    }

    fn statement(&mut self) -> PResult<Item> {
        let t = self.peek();
        match t.kind {
            Tok::Ident => {}
            Tok::LBrace => return self.ftrace(),
            Tok::Group => {
                let help = format!("a rule starts with an action: `allow {}`", self.text(&t));
                return Err(self.fail_with(&t, "a statement", Some(help)));
            }
            _ => return Err(self.fail(&t, "a statement")),
        }
        let word = self.text(&t);
        match word {
            "default" | "unknown" => {
                self.bump();
                let action = self.action(&format!("an action after `{word}`"))?;
                self.end_of_statement("end of line")?;
                let span = self.span(t.start, self.prev_end());
                Ok(if word == "default" {
                    Item::Default { action, span }
                } else {
                    Item::Unknown { action, span }
                })
            }
            "arch" => self.arch(),
            "include" => self.include(),
            "fs" => self.fs(),
            w if SETTINGS.contains(&w) => self.setting(),
            w if ACTIONS.contains(&w) => self.rule(),
            w => {
                let mut d = Diagnostic::error(
                    self.tspan(&t),
                    format!("unknown statement or action `{}`", clip(w)),
                );
                let all = KEYWORDS.iter().chain(SETTINGS).chain(ACTIONS).copied();
                match Some(w)
                    .filter(|w| w.len() <= 64)
                    .and_then(|w| suggest(w, all))
                {
                    Some(s) => d = d.with_help(format!("did you mean `{s}`?")),
                    None => {
                        d = d.with_help(
                            "a statement starts with an action (`allow`, `errno(EPERM)`, …) \
                             or a keyword (`default`, `arch`, `fs`, `include`, …)",
                        )
                    }
                }
                Err(self.report(d))
            }
        }
    }

    /// `NAME [( CONSTEXPR )]`
    fn action(&mut self, expected: &str) -> PResult<ActionSpec> {
        let t = self.peek();
        if t.kind != Tok::Ident {
            return Err(self.fail(&t, expected));
        }
        self.bump();
        let name = self.ident(&t);
        let mut arg = None;
        if self.peek().kind == Tok::LParen {
            let open = self.bump();
            arg = Some(self.constexpr()?);
            self.close(&open, Tok::RParen, "`|` or `)`")?;
        }
        Ok(ActionSpec {
            name,
            arg,
            span: self.span(t.start, self.prev_end()),
        })
    }

    /// `ACTION TARGET, TARGET… [if EXPR]`
    fn rule(&mut self) -> PResult<Item> {
        let action = self.action("an action")?;
        let mut targets = vec![self.target()?];
        let mut cond = None;
        loop {
            let t = self.peek();
            if t.kind == Tok::Comma {
                self.bump();
                targets.push(self.target()?);
            } else if self.is_word(&t, "if") {
                let kw = self.bump();
                cond = Some(self.condition(&kw)?);
                break;
            } else {
                break;
            }
        }
        if cond.is_some() {
            self.end_of_statement("`&&`, `||` or end of line")?;
        } else {
            let t = self.peek();
            if !matches!(t.kind, Tok::Eof | Tok::Newline | Tok::Semi) {
                let next = lex(self.src, t.end, self.end, Mode::Normal);
                let help = (t.kind == Tok::Ident && cmp_op(&next, self.src).is_some())
                    .then(|| "a condition starts with `if`: `allow read if fd == 0`".to_string());
                return Err(self.fail_with(&t, "`,`, `if` or end of line", help));
            }
        }
        Ok(Item::Rule {
            span: self.span(action.span.start as usize, self.prev_end()),
            action,
            targets,
            cond,
        })
    }

    /// A system call name or `@group`.
    fn target(&mut self) -> PResult<Target> {
        let t = self.peek();
        match t.kind {
            Tok::Ident if self.text(&t) != "if" => {
                self.bump();
                Ok(Target::Syscall(self.ident(&t)))
            }
            Tok::Group => {
                self.bump();
                Ok(Target::Group(Ident {
                    name: self.text(&t)[1..].to_string(),
                    span: self.tspan(&t),
                }))
            }
            _ => {
                let expected = format!("a system call name or `@group`{}", self.after_prev());
                Err(self.fail(&t, &expected))
            }
        }
    }

    /// The condition after `if` (already consumed as `kw`).
    fn condition(&mut self, kw: &Token) -> PResult<Expr> {
        let t = self.peek();
        if matches!(t.kind, Tok::Eof | Tok::Semi | Tok::Newline) {
            let d = Diagnostic::error(
                self.tspan(kw),
                format!(
                    "expected a condition after `if`, found {}",
                    self.describe(&t)
                ),
            );
            self.prev_continues = false;
            return Err(self.report(d));
        }
        self.expr().map(|e| *e)
    }

    /// `arch NAME, NAME…`
    fn arch(&mut self) -> PResult<Item> {
        let kw = self.bump();
        let mut arches = Vec::new();
        loop {
            let t = self.peek();
            if t.kind != Tok::Ident {
                let expected = format!("an architecture name{}", self.after_prev());
                return Err(self.fail(&t, &expected));
            }
            self.bump();
            arches.push(self.ident(&t));
            if self.peek().kind != Tok::Comma {
                break;
            }
            self.bump();
        }
        self.end_of_statement("`,` or end of line")?;
        Ok(Item::Arch {
            arches,
            span: self.span(kw.start, self.prev_end()),
        })
    }

    /// `include "FILE"`
    fn include(&mut self) -> PResult<Item> {
        let kw = self.bump();
        let t = self.peek();
        let Tok::Str(value) = t.kind.clone() else {
            let help = matches!(t.kind, Tok::Ident)
                .then(|| "write the file name in quotes: `include \"common.sj\"`".to_string());
            return Err(self.fail_with(&t, "a quoted file name after `include`", help));
        };
        self.bump();
        self.end_of_statement("end of line")?;
        Ok(Item::Include {
            path: StrLit {
                value,
                span: self.tspan(&t),
            },
            span: self.span(kw.start, self.prev_end()),
        })
    }

    /// `fs read|write|exec PATH, PATH…`
    fn fs(&mut self) -> PResult<Item> {
        let kw = self.bump();
        let t = self.peek();
        if t.kind != Tok::Ident {
            // Found as a word: `fs /usr` names `/usr`, not `/`.
            let w = self.peek_mode(Mode::Word);
            let help = "an `fs` rule names its access first: `fs read /usr`".to_string();
            return Err(self.fail_with(&w, "`read`, `write` or `exec` after `fs`", Some(help)));
        }
        self.bump();
        let access = self.ident(&t);
        if !FS_ACCESS.contains(&access.name.as_str()) {
            let mut d = Diagnostic::error(
                access.span,
                format!("unknown filesystem access `{}`", clip(&access.name)),
            );
            let near = Some(access.name.as_str())
                .filter(|w| w.len() <= 64)
                .and_then(|w| suggest(w, FS_ACCESS.iter().copied()));
            d = match near {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                _ => d.with_help("the accesses are `read`, `write` and `exec`"),
            };
            return Err(self.report(d));
        }
        let paths = self.words(&format!("a path after `fs {}`", access.name), "a path")?;
        Ok(Item::Fs {
            access,
            paths,
            span: self.span(kw.start, self.prev_end()),
        })
    }

    /// `net|unshare|limit|timeout|hostname WORD…`
    fn setting(&mut self) -> PResult<Item> {
        let kw = self.bump();
        let keyword = self.ident(&kw);
        let words = self.words(&format!("a value after `{}`", keyword.name), "a value")?;
        Ok(Item::Setting {
            keyword,
            words,
            span: self.span(kw.start, self.prev_end()),
        })
    }

    /// One or more words (bare or quoted) to the end of the statement, separated by whitespace
    /// or one comma.
    fn words(&mut self, first: &str, what: &str) -> PResult<Vec<StrLit>> {
        let mut out = Vec::new();
        let mut need = true;
        loop {
            let t = self.peek_mode(Mode::Word);
            let value = match &t.kind {
                Tok::Word => self.text(&t).to_string(),
                Tok::Str(v) => v.clone(),
                Tok::Comma if !need => {
                    self.bump();
                    need = true;
                    continue;
                }
                Tok::Newline | Tok::Semi | Tok::Eof if !need => return Ok(out),
                _ if out.is_empty() => return Err(self.fail(&t, first)),
                _ => return Err(self.fail(&t, &format!("{what} after `,`"))),
            };
            self.bump();
            out.push(StrLit {
                value,
                span: self.tspan(&t),
            });
            need = false;
        }
    }

    /// `{ "sys_NAME", "EXPR" }` with an optional trailing `,`.
    fn ftrace(&mut self) -> PResult<Item> {
        let open = self.bump();
        let t = self.peek();
        let Tok::Str(name) = t.kind.clone() else {
            return Err(self.fail(&t, "a quoted system call name after `{`"));
        };
        self.bump();
        let syscall = StrLit {
            value: name,
            span: self.tspan(&t),
        };
        let t = self.peek();
        if t.kind != Tok::Comma {
            return Err(self.fail(&t, "`,` after the system call name"));
        }
        self.bump();
        let cond = self.peek();
        if !matches!(cond.kind, Tok::Str(_)) {
            return Err(self.fail(&cond, "a quoted condition after `,`"));
        }
        self.bump();
        self.close(&open, Tok::RBrace, "`}`")?;
        let end = self.prev_end();
        if self.peek().kind == Tok::Comma {
            // The table's trailing comma ends the entry; it does not continue the statement.
            self.bump();
            self.prev_continues = false;
            self.peeked = None;
        }
        let (cs, ce) = (cond.start + 1, cond.end.saturating_sub(1));
        if let Some(k) = self.src.get(cs..ce).and_then(|s| s.find('\\')) {
            let d = Diagnostic::error(
                self.span(cs + k, cs + k + 1),
                "escapes are not allowed in an ftrace condition",
            );
            return Err(self.report(d));
        }
        let mut sub = Parser::new(self.src, self.file, cs, ce, true);
        let expr = sub.whole_condition();
        self.diags.append(&mut sub.diags);
        let expr = expr?;
        let t = self.peek();
        if !matches!(t.kind, Tok::Eof | Tok::Newline | Tok::Semi | Tok::LBrace) {
            return Err(self.fail(&t, "end of line"));
        }
        Ok(Item::Ftrace {
            syscall,
            expr,
            span: self.span(open.start, end),
        })
    }

    // ---- expressions ----

    /// A condition filling the whole text (an ftrace string).
    pub fn whole_condition(&mut self) -> PResult<Expr> {
        let t = self.peek();
        if t.kind == Tok::Eof {
            return Err(self.fail(&t, "a condition"));
        }
        let e = self.expr()?;
        self.end_of_statement("`&&`, `||` or end of string")?;
        Ok(*e)
    }

    // The functions on the recursive cycles (`expr`, `and`, `unary`, `primary`, `group`;
    // `constexpr`, `term`) keep their frames small, so that MAX_DEPTH levels fit easily in a
    // small stack even in debug builds: everything else is in `#[inline(never)]` functions.

    /// `AND ( || AND )*`
    fn expr(&mut self) -> PResult<Box<Expr>> {
        let start = self.peek_ref().start;
        let first = self.and()?;
        if self.at(&Tok::OrOr) {
            self.chain(start, first, true)
        } else {
            Ok(first)
        }
    }

    /// `UNARY ( && UNARY )*`
    fn and(&mut self) -> PResult<Box<Expr>> {
        let start = self.peek_ref().start;
        let first = self.unary()?;
        if self.at(&Tok::AndAnd) {
            self.chain(start, first, false)
        } else {
            Ok(first)
        }
    }

    /// The rest of an `||` (`or`) or `&&` chain after its first operand.
    #[inline(never)]
    #[allow(clippy::boxed_local)] // boxed so the recursive callers' frames stay small
    fn chain(&mut self, start: usize, first: Box<Expr>, or: bool) -> PResult<Box<Expr>> {
        let op = if or { Tok::OrOr } else { Tok::AndAnd };
        let mut v = vec![*first];
        while self.at(&op) {
            self.bump();
            v.push(*if or { self.and()? } else { self.unary()? });
        }
        // From the first token to the last, parentheses included.
        let span = self.span(start, self.prev_end());
        Ok(Box::new(if or {
            Expr::Or(v, span)
        } else {
            Expr::And(v, span)
        }))
    }

    /// `! UNARY | PRIMARY`
    fn unary(&mut self) -> PResult<Box<Expr>> {
        if !self.at(&Tok::Bang) {
            return self.primary();
        }
        let start = self.enter()?;
        self.bump();
        let e = self.unary()?;
        self.leave();
        let span = self.span(start, self.prev_end());
        Ok(Box::new(Expr::Not(e, span)))
    }

    /// `( EXPR ) [OP VALUE] | true | false | 0 | 1 | COMPARISON`
    fn primary(&mut self) -> PResult<Box<Expr>> {
        if self.at(&Tok::LParen) {
            self.group()
        } else {
            self.atom()
        }
    }

    /// `( EXPR )`, or `( ARG & MASK ) OP VALUE`.
    fn group(&mut self) -> PResult<Box<Expr>> {
        self.enter()?;
        let open = self.bump();
        let inner = self.expr()?;
        self.group_end(open, inner)
    }

    #[inline(never)]
    fn group_end(&mut self, open: Token, inner: Box<Expr>) -> PResult<Box<Expr>> {
        self.close(&open, Tok::RParen, "`&&`, `||` or `)`")?;
        self.leave();
        let op_tok = self.peek();
        let Some(op) = cmp_op(&op_tok, self.src) else {
            return Ok(inner);
        };
        // `(flags & MASK) == VALUE`: the parentheses only group `ARG & MASK`.
        match *inner {
            Expr::Cmp {
                arg,
                mask: Some(mask),
                op: None,
                value: None,
                ..
            } => {
                self.bump();
                let value = self.constexpr()?;
                let span = self.span(open.start, self.prev_end());
                Ok(Box::new(Expr::Cmp {
                    arg,
                    mask: Some(mask),
                    op: Some((op, self.tspan(&op_tok))),
                    value: Some(value),
                    span,
                }))
            }
            _ => {
                let d = Diagnostic::error(
                    self.tspan(&op_tok),
                    format!("`{}` cannot compare a condition", self.text(&op_tok)),
                )
                .with_help(
                    "compare an argument, optionally masked: `fd == 1`, \
                     `(flags & O_ACCMODE) == O_RDONLY`",
                );
                Err(self.report(d))
            }
        }
    }

    /// A condition that is not parenthesised: a literal or a comparison.
    #[inline(never)]
    fn atom(&mut self) -> PResult<Box<Expr>> {
        let t = self.peek();
        match t.kind {
            Tok::Ident if matches!(self.text(&t), "true" | "false") => {
                self.bump();
                Ok(Box::new(Expr::Bool(
                    self.text(&t) == "true",
                    self.tspan(&t),
                )))
            }
            Tok::Number(n @ (0 | 1))
                if cmp_op(&lex(self.src, t.end, self.end, Mode::Normal), self.src).is_none() =>
            {
                self.bump();
                Ok(Box::new(Expr::Bool(n == 1, self.tspan(&t))))
            }
            Tok::Ident => self.comparison().map(Box::new),
            Tok::Number(_) => {
                let expected = format!("a condition{}", self.after_prev());
                let help = "a comparison starts with an argument name: `fd == 1`".to_string();
                Err(self.fail_with(&t, &expected, Some(help)))
            }
            _ => {
                let expected = format!("a condition{}", self.after_prev());
                Err(self.fail(&t, &expected))
            }
        }
    }

    /// `ARG [& MASK] OP VALUE` or `ARG & MASK`.
    fn comparison(&mut self) -> PResult<Expr> {
        let a = self.bump();
        let arg = self.ident(&a);
        let mut mask = None;
        if self.peek().kind == Tok::Amp {
            self.bump();
            mask = Some(self.constexpr()?);
        }
        let t = self.peek();
        if let Some(op) = cmp_op(&t, self.src) {
            self.bump();
            let value = self.constexpr()?;
            return Ok(Expr::Cmp {
                span: self.span(a.start, self.prev_end()),
                arg,
                mask,
                op: Some((op, self.tspan(&t))),
                value: Some(value),
            });
        }
        let at_end = matches!(
            t.kind,
            Tok::AndAnd | Tok::OrOr | Tok::RParen | Tok::Newline | Tok::Semi | Tok::Eof
        );
        if let Some(mask) = mask {
            if at_end {
                return Ok(Expr::Cmp {
                    span: self.span(a.start, self.prev_end()),
                    arg,
                    mask: Some(mask),
                    op: None,
                    value: None,
                });
            }
        }
        let shown = self.snippet(a.start, self.prev_end());
        let help = if at_end && self.prev_end() == a.end {
            Some(format!("write `{shown} != 0` to test for non-zero"))
        } else if t.kind == Tok::Amp {
            Some("combine mask bits with `|`: `flags & (A | B)`".to_string())
        } else if t.kind == Tok::Tilde || t.kind == Tok::Minus {
            Some("write a comparison operator (`==`, `!=`, `<`, `<=`, `>`, `>=`, `in`)".into())
        } else {
            None
        };
        if let Tok::Error(e) = &t.kind {
            return Err(self.lex_error(e, &t));
        }
        // Not `fail`: a stray `)` here is better told as the missing operator.
        let mut d = Diagnostic::error(
            self.tspan(&t),
            format!(
                "expected a comparison operator after `{shown}`, found {}",
                self.describe(&t)
            ),
        );
        if let Some(h) = help {
            d = d.with_help(h);
        }
        Err(self.report(d))
    }

    /// `TERM ( | TERM )*`
    fn constexpr(&mut self) -> PResult<ConstExpr> {
        let start = self.peek_ref().start;
        let first = self.term()?;
        if self.at(&Tok::Pipe) {
            self.bitor(start, first)
        } else {
            Ok(first)
        }
    }

    #[inline(never)]
    fn bitor(&mut self, start: usize, first: ConstExpr) -> PResult<ConstExpr> {
        let mut v = vec![first];
        while self.at(&Tok::Pipe) {
            self.bump();
            v.push(self.term()?);
        }
        Ok(ConstExpr::BitOr(v, self.span(start, self.prev_end())))
    }

    /// `~TERM | -TERM | ( CONSTEXPR ) | NUMBER | NULL | NAME`
    fn term(&mut self) -> PResult<ConstExpr> {
        let tilde = self.at(&Tok::Tilde);
        if tilde || self.at(&Tok::Minus) {
            let start = self.enter()?;
            self.bump();
            let x = Box::new(self.term()?);
            self.leave();
            let span = self.span(start, self.prev_end());
            return Ok(if tilde {
                ConstExpr::BitNot(x, span)
            } else {
                ConstExpr::Neg(x, span)
            });
        }
        if self.at(&Tok::LParen) {
            self.enter()?;
            let open = self.bump();
            let c = self.constexpr()?;
            return self.const_group_end(open, c);
        }
        self.const_atom()
    }

    #[inline(never)]
    fn const_group_end(&mut self, open: Token, c: ConstExpr) -> PResult<ConstExpr> {
        self.close(&open, Tok::RParen, "`|` or `)`")?;
        self.leave();
        Ok(c)
    }

    /// A number, `NULL` or a name.
    #[inline(never)]
    fn const_atom(&mut self) -> PResult<ConstExpr> {
        let t = self.peek();
        match t.kind {
            Tok::Number(n) => {
                self.bump();
                Ok(ConstExpr::Num(n, self.tspan(&t)))
            }
            Tok::Ident if self.text(&t) == "NULL" => {
                self.bump();
                Ok(ConstExpr::Null(self.tspan(&t)))
            }
            Tok::Ident => {
                self.bump();
                Ok(ConstExpr::Name(self.ident(&t)))
            }
            _ => {
                let expected = format!("a value{}", self.after_prev());
                Err(self.fail(&t, &expected))
            }
        }
    }
}

/// The comparison operator `t` is, if any.
fn cmp_op(t: &Token, src: &str) -> Option<CmpOp> {
    Some(match t.kind {
        Tok::EqEq => CmpOp::Eq,
        Tok::Ne => CmpOp::Ne,
        Tok::Lt => CmpOp::Lt,
        Tok::Le => CmpOp::Le,
        Tok::Gt => CmpOp::Gt,
        Tok::Ge => CmpOp::Ge,
        Tok::Ident if t.text(src) == "in" => CmpOp::In,
        _ => return None,
    })
}
