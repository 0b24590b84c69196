//! Source files, byte spans and diagnostics.
//!
//! Every syntax-tree node carries a [`Span`] into a [`SourceFile`]; a [`Diagnostic`] renders as
//! `FILE:LINE:COL: error: MESSAGE`, the source line, a caret line under the span, and optional
//! `help:`/`note:` lines. Columns count characters, starting at 1.

use std::fmt;
use std::sync::Arc;

/// A half-open byte range `[start, end)` in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Span {
            file,
            start: clamp(start),
            end: clamp(end.max(start)),
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// One policy file: its display name and its text.
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = (offset as usize).min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let mut o = offset;
        while !self.text.is_char_boundary(o) {
            o -= 1;
        }
        (line + 1, self.text[start..o].chars().count() + 1)
    }

    /// The text of 1-based line `line`, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |e| e - 1);
        self.text[start..end].trim_end_matches('\r')
    }
}

/// Every file read for one policy (the main file and its includes).
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<Arc<SourceFile>>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(Arc::new(file));
        FileId(self.files.len() as u32 - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f.as_ref()))
    }

    /// `FILE:LINE` of a span, as rules are cited in reports.
    pub fn location(&self, span: Span) -> String {
        let f = self.get(span.file);
        let (line, _) = f.line_col(span.start);
        format!("{}:{}", f.name, line)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One message about a policy, pointing at the place it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub span: Option<Span>,
    pub message: String,
    /// `help:` lines (a suggestion: "did you mean `openat`?").
    pub help: Vec<String>,
    /// `note:` lines (context).
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            span: Some(span),
            message: message.into(),
            help: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn warning(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(span, message)
        }
    }

    /// An error about the policy as a whole, with no place to point at.
    pub fn global(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span: None,
            ..Diagnostic::error(Span::default(), message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help.push(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic against its sources, ending in a newline.
    pub fn render(&self, sources: &SourceMap) -> String {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = String::new();
        match self.span {
            Some(span) if (span.file.0 as usize) < sources.files.len() => {
                let file = sources.get(span.file);
                let (line, col) = file.line_col(span.start);
                out.push_str(&format!(
                    "{}:{}:{}: {}: {}\n",
                    file.name, line, col, kind, self.message
                ));
                let text = file.line_text(line);
                // Very long lines are cut around the caret so the output stays readable.
                let (shown, shift) = excerpt(text, col - 1);
                out.push_str(&format!("  {shown}\n"));
                let (end_line, end_col) = file.line_col(span.end.max(span.start + 1) - 1);
                let width = if end_line == line {
                    (end_col + 1).saturating_sub(col).max(1)
                } else {
                    1
                };
                let pad: String = shown
                    .chars()
                    .take(col - 1 - shift)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                out.push_str(&format!("  {pad}{}\n", "^".repeat(width.min(80))));
            }
            _ => out.push_str(&format!("straitjacket: {}: {}\n", kind, self.message)),
        }
        for n in &self.notes {
            out.push_str(&format!("  = note: {n}\n"));
        }
        for h in &self.help {
            out.push_str(&format!("  = help: {h}\n"));
        }
        out
    }
}

/// At most ~100 characters of `line` around character column `col` (0-based); returns the
/// excerpt and how many characters were dropped before it.
fn excerpt(line: &str, col: usize) -> (String, usize) {
    const MAX: usize = 100;
    let n = line.chars().count();
    if n <= MAX {
        return (line.to_string(), 0);
    }
    let start = col.saturating_sub(MAX / 2).min(n - MAX);
    (line.chars().skip(start).take(MAX).collect(), start)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The closest of `candidates` to `name`, if close enough to be a likely misspelling.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, c)| (d, c.len()))
        .map(|(_, c)| c)
}

/// Levenshtein distance, counting an adjacent transposition as one edit.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 3 {
        return a.len().abs_diff(b.len());
    }
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_caret() {
        let mut map = SourceMap::new();
        let id = map.add(SourceFile::new("p.sj", "default kill\nallow opnat\n"));
        let d = Diagnostic::error(Span::new(id, 19, 24), "unknown system call `opnat`")
            .with_help("did you mean `openat`?");
        assert_eq!(
            d.render(&map),
            "p.sj:2:7: error: unknown system call `opnat`\n  allow opnat\n        ^^^^^\n  = help: did you mean `openat`?\n"
        );
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(suggest("opnat", ["openat", "open", "read"]), Some("openat"));
        assert_eq!(suggest("wirte", ["write", "read"]), Some("write"));
        assert_eq!(suggest("zzzzzz", ["write", "read"]), None);
    }
}
