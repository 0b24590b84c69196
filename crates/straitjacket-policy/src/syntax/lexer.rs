//! The lexer: one token at a time, at a byte offset the parser chooses.
//!
//! The parser drives it (`lex(src, pos, end, mode)`), because two statements (`fs`, and the
//! settings `net`, `unshare`, `limit`, `timeout`, `hostname`) read raw words such as
//! `/usr/lib` or `127.0.0.1:8080` that are not tokens of the expression language: those are read
//! in [`Mode::Word`]. Lexing is a pure function of its position, so the parser can peek, re-lex
//! in another mode, and rescan for error recovery without any state here.
//!
//! Invariants: every token's `start..end` is a non-empty range of `src` on char boundaries
//! (except `Eof`, which is empty at `end`), `end` never passes the `end` limit, and each call
//! takes time linear in the text it consumes. Errors are tokens ([`Tok::Error`]) carrying their
//! message, so the parser reports them where it meets them.

/// What the lexer reads at a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Tokens of statements and expressions.
    Normal,
    /// Raw words: anything up to whitespace, `,`, `;` or `#`; quoted strings as in `Normal`.
    Word,
}

/// What is wrong with the text of an error token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LexErrorKind {
    UnexpectedChar,
    /// `=` alone.
    SingleEq,
    /// `@` not followed by a name.
    NoGroupName,
    UnterminatedString,
    /// A `\` not followed by `"` or `\`.
    BadEscape,
    NumberTooBig,
    /// A character that is not a digit of the number's base.
    InvalidDigit {
        radix: u32,
        leading_zero: bool,
    },
    /// `0x`, `0o`, `0b` with no digits.
    NoDigits,
}

/// A lexer error: its kind and the place it is about (which may be narrower than the token).
/// No allocation: the message is made only when the error is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LexError {
    pub kind: LexErrorKind,
    pub start: usize,
    pub end: usize,
}

impl LexError {
    /// The message and help of the error found in token `tok` of `src`.
    pub fn message(&self, src: &str, tok: &Token) -> (String, Option<String>) {
        let at = src.get(self.start..self.end).unwrap_or("");
        let token = super::parser::clip(tok.text(src));
        match self.kind {
            LexErrorKind::UnexpectedChar => {
                let c = at.chars().next().unwrap_or('\u{fffd}');
                let shown = if c.is_control() || c.is_whitespace() {
                    format!("{c:?}")
                } else {
                    format!("`{c}`")
                };
                (format!("unexpected character {shown}"), None)
            }
            LexErrorKind::SingleEq => ("unexpected `=`".into(), Some("use `==` to compare".into())),
            LexErrorKind::NoGroupName => ("expected a group name after `@`".into(), None),
            LexErrorKind::UnterminatedString => (
                "unterminated string".into(),
                Some("add a closing `\"` on the same line".into()),
            ),
            LexErrorKind::BadEscape => (
                format!("unknown escape `{at}` in string"),
                Some("the only escapes are `\\\"` and `\\\\`".into()),
            ),
            LexErrorKind::NumberTooBig => ("number does not fit in 64 bits".into(), None),
            LexErrorKind::InvalidDigit {
                radix,
                leading_zero,
            } => {
                let base = match radix {
                    16 => "hexadecimal",
                    8 => "octal",
                    2 => "binary",
                    _ => "decimal",
                };
                let help = (leading_zero && at.bytes().all(|b| b.is_ascii_digit())).then(|| {
                    "a number with a leading `0` is octal; remove the `0` for decimal".into()
                });
                (
                    format!("invalid digit `{at}` in {base} number `{token}`"),
                    help,
                )
            }
            LexErrorKind::NoDigits => {
                let prefix = tok.text(src).get(..2).unwrap_or("");
                (format!("expected digits after `{prefix}`"), None)
            }
        }
    }
}

/// A token's kind and value; its text is `src[start..end]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// `[A-Za-z_][A-Za-z0-9_]*`, with interior `-` allowed when a letter follows it.
    Ident,
    /// `@name`: the name is `src[start + 1..end]`.
    Group,
    Number(u64),
    /// A quoted string; the value has its escapes (`\"`, `\\`) resolved.
    Str(String),
    /// A bare word ([`Mode::Word`] only).
    Word,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    Semi,
    Newline,
    Eof,
    AndAnd,
    OrOr,
    Amp,
    Pipe,
    Bang,
    Tilde,
    Minus,
    EqEq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Error(LexError),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// The token's source text.
    pub fn text<'s>(&self, src: &'s str) -> &'s str {
        src.get(self.start..self.end).unwrap_or("")
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The end of an identifier starting at `i` (which must be an identifier start).
fn ident_end(b: &[u8], mut i: usize, end: usize) -> usize {
    i += 1;
    loop {
        while i < end && is_ident_continue(b[i]) {
            i += 1;
        }
        // `kill-process`, `@basic-io`: a `-` joins two words when a letter follows; `fd-1`
        // stays `fd`, `-`, `1`.
        if i + 1 < end && b[i] == b'-' && b[i + 1].is_ascii_alphabetic() {
            i += 2;
        } else {
            return i;
        }
    }
}

/// The character starting at byte `i` of `src` (which must be a char boundary).
fn char_at(src: &str, i: usize) -> char {
    src.get(i..)
        .and_then(|s| s.chars().next())
        .unwrap_or('\u{fffd}')
}

fn error(kind: LexErrorKind, start: usize, end: usize) -> Tok {
    Tok::Error(LexError { kind, start, end })
}

/// Reads the token at or after byte `pos` of `src`, looking no further than `end`.
///
/// Spaces, tabs, carriage returns and `#` comments are skipped; a newline is a token.
pub(crate) fn lex(src: &str, pos: usize, end: usize, mode: Mode) -> Token {
    let b = src.as_bytes();
    let end = end.min(b.len());
    let mut i = pos.min(end);
    loop {
        while i < end && matches!(b[i], b' ' | b'\t' | b'\r' | b'\x0c' | b'\x0b') {
            i += 1;
        }
        if i < end && b[i] == b'#' {
            while i < end && b[i] != b'\n' {
                i += 1;
            }
        } else {
            break;
        }
    }
    let start = i;
    let tok = |kind: Tok, len: usize| Token {
        kind,
        start,
        end: start + len,
    };
    if i >= end {
        return tok(Tok::Eof, 0);
    }
    let next = if i + 1 < end { b[i + 1] } else { 0 };
    match b[i] {
        b'\n' => return tok(Tok::Newline, 1),
        b';' => return tok(Tok::Semi, 1),
        b',' => return tok(Tok::Comma, 1),
        b'"' => return string(src, start, end),
        _ if mode == Mode::Word => {
            let mut j = i;
            while j < end && !matches!(b[j], b' ' | b'\t' | b'\r' | b'\n' | b',' | b';' | b'#') {
                j += 1;
            }
            return tok(Tok::Word, j - i);
        }
        _ => {}
    }
    match (b[i], next) {
        (b'(', _) => tok(Tok::LParen, 1),
        (b')', _) => tok(Tok::RParen, 1),
        (b'{', _) => tok(Tok::LBrace, 1),
        (b'}', _) => tok(Tok::RBrace, 1),
        (b'~', _) => tok(Tok::Tilde, 1),
        (b'-', _) => tok(Tok::Minus, 1),
        (b'&', b'&') => tok(Tok::AndAnd, 2),
        (b'&', _) => tok(Tok::Amp, 1),
        (b'|', b'|') => tok(Tok::OrOr, 2),
        (b'|', _) => tok(Tok::Pipe, 1),
        (b'!', b'=') => tok(Tok::Ne, 2),
        (b'!', _) => tok(Tok::Bang, 1),
        (b'=', b'=') => tok(Tok::EqEq, 2),
        (b'=', _) => tok(error(LexErrorKind::SingleEq, start, start + 1), 1),
        (b'<', b'=') => tok(Tok::Le, 2),
        (b'<', _) => tok(Tok::Lt, 1),
        (b'>', b'=') => tok(Tok::Ge, 2),
        (b'>', _) => tok(Tok::Gt, 1),
        (b'@', n) if is_ident_start(n) => tok(Tok::Group, ident_end(b, i + 1, end) - i),
        (b'@', _) => tok(error(LexErrorKind::NoGroupName, start, start + 1), 1),
        (c, _) if c.is_ascii_digit() => {
            let mut j = i;
            while j < end && is_ident_continue(b[j]) {
                j += 1;
            }
            Token {
                kind: number(&src[i..j], i, j),
                start,
                end: j,
            }
        }
        (c, _) if is_ident_start(c) => tok(Tok::Ident, ident_end(b, i, end) - i),
        _ => {
            let len = char_at(src, i).len_utf8().min(end - i);
            tok(error(LexErrorKind::UnexpectedChar, start, start + len), len)
        }
    }
}

/// A string literal starting at the `"` at `start`. Strings end at the line's end at the
/// latest; the only escapes are `\"` and `\\`.
fn string(src: &str, start: usize, end: usize) -> Token {
    let b = src.as_bytes();
    let mut value = String::new();
    let mut bad_escape: Option<usize> = None;
    let mut i = start + 1;
    let mut run = i; // start of the current run of plain text
    while i < end {
        match b[i] {
            b'"' => {
                value.push_str(&src[run..i]);
                let kind = match bad_escape {
                    None => Tok::Str(value),
                    Some(e) => {
                        let len = 1 + char_at(src, e + 1).len_utf8();
                        error(LexErrorKind::BadEscape, e, e + len)
                    }
                };
                return Token {
                    kind,
                    start,
                    end: i + 1,
                };
            }
            b'\n' => break,
            b'\\' if i + 1 < end && matches!(b[i + 1], b'"' | b'\\') => {
                value.push_str(&src[run..i]);
                value.push(b[i + 1] as char);
                i += 2;
                run = i;
            }
            b'\\' if i + 1 < end && b[i + 1] != b'\n' => {
                bad_escape.get_or_insert(i);
                i += 1;
            }
            _ => i += 1,
        }
    }
    Token {
        kind: error(LexErrorKind::UnterminatedString, start, start + 1),
        start,
        end: i,
    }
}

/// A number's value, or the error it is. `text` is the whole run of letters, digits and `_`.
fn number(text: &str, start: usize, end: usize) -> Tok {
    let lower = |i: usize| text.as_bytes().get(i).map(u8::to_ascii_lowercase);
    let (radix, prefix) = match (lower(0), lower(1)) {
        (Some(b'0'), Some(b'x')) => (16, 2),
        (Some(b'0'), Some(b'o')) => (8, 2),
        (Some(b'0'), Some(b'b')) => (2, 2),
        (Some(b'0'), Some(_)) => (8, 1),
        _ => (10, 0),
    };
    let mut value: u64 = 0;
    let mut digits = 0usize;
    for (k, c) in text.char_indices().skip(prefix) {
        if c == '_' {
            continue;
        }
        let Some(d) = c.to_digit(radix) else {
            let kind = LexErrorKind::InvalidDigit {
                radix,
                leading_zero: prefix == 1,
            };
            return error(kind, start + k, start + k + c.len_utf8());
        };
        digits += 1;
        value = match value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => v,
            None => return error(LexErrorKind::NumberTooBig, start, end),
        };
    }
    if digits == 0 {
        return error(LexErrorKind::NoDigits, start, end);
    }
    Tok::Number(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str, mode: Mode) -> Vec<Tok> {
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            let t = lex(src, pos, src.len(), mode);
            assert!(t.start >= pos && t.end >= t.start && t.end <= src.len());
            pos = t.end;
            if t.kind == Tok::Eof {
                return out;
            }
            out.push(t.kind);
        }
    }

    fn texts(src: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            let t = lex(src, pos, src.len(), Mode::Normal);
            if t.kind == Tok::Eof {
                return out;
            }
            out.push(t.text(src));
            pos = t.end;
        }
    }

    #[test]
    fn identifiers_take_interior_dashes_before_letters() {
        assert_eq!(texts("kill-process x"), ["kill-process", "x"]);
        assert_eq!(texts("@basic-io,"), ["@basic-io", ","]);
        assert_eq!(texts("fd == -1"), ["fd", "==", "-", "1"]);
        assert_eq!(
            texts("fd-1 a- b -c"),
            ["fd", "-", "1", "a", "-", "b", "-", "c"]
        );
        assert_eq!(texts("_llseek x86_64 arg5"), ["_llseek", "x86_64", "arg5"]);
    }

    #[test]
    fn operators_and_comments() {
        assert_eq!(
            texts("a&&b&c||d|e!f!=g==h<i<=j>k>=l~m # x == y\nz;"),
            [
                "a", "&&", "b", "&", "c", "||", "d", "|", "e", "!", "f", "!=", "g", "==", "h", "<",
                "i", "<=", "j", ">", "k", ">=", "l", "~", "m", "\n", "z", ";"
            ]
        );
    }

    #[test]
    fn numbers_in_every_base() {
        let n = |s: &str| kinds(s, Mode::Normal);
        assert_eq!(n("0"), [Tok::Number(0)]);
        assert_eq!(n("1_000"), [Tok::Number(1000)]);
        assert_eq!(n("0x1F 0XfF"), [Tok::Number(31), Tok::Number(255)]);
        assert_eq!(n("0o17 017"), [Tok::Number(15), Tok::Number(15)]);
        assert_eq!(n("0b101"), [Tok::Number(5)]);
        assert_eq!(n("18446744073709551615"), [Tok::Number(u64::MAX)]);
        assert_eq!(n("0xffff_ffff_ffff_ffff"), [Tok::Number(u64::MAX)]);
        for bad in [
            "18446744073709551616",
            "0x1_0000_0000_0000_0000",
            "09",
            "0x",
            "30s",
            "0b2",
        ] {
            let k = n(bad);
            assert_eq!(k.len(), 1, "{bad}");
            assert!(matches!(k[0], Tok::Error(_)), "{bad}: {k:?}");
        }
        let Tok::Error(e) = &n("99999999999999999999")[0] else {
            panic!()
        };
        assert_eq!(e.kind, LexErrorKind::NumberTooBig);
    }

    #[test]
    fn strings() {
        assert_eq!(
            kinds(r#""a\"b\\c" "#, Mode::Normal),
            [Tok::Str(r#"a"b\c"#.into())]
        );
        let k = kinds("\"abc\nx", Mode::Normal);
        assert!(matches!(&k[0], Tok::Error(e) if e.kind == LexErrorKind::UnterminatedString));
        assert_eq!(k[1..], [Tok::Newline, Tok::Ident]);
        let k = kinds(r#""a\nb""#, Mode::Normal);
        assert!(matches!(&k[..], [Tok::Error(e)] if e.kind == LexErrorKind::BadEscape));
    }

    #[test]
    fn words() {
        let src = "/usr/lib, \"a b\" 127.0.0.1:8080 # c\n";
        assert_eq!(
            kinds(src, Mode::Word),
            [
                Tok::Word,
                Tok::Comma,
                Tok::Str("a b".into()),
                Tok::Word,
                Tok::Newline
            ]
        );
    }

    #[test]
    fn stray_characters() {
        let k = kinds("$ é", Mode::Normal);
        assert!(matches!(&k[0], Tok::Error(e) if e.kind == LexErrorKind::UnexpectedChar));
        assert!(matches!(&k[1], Tok::Error(e) if e.end - e.start == 2));
    }
}
