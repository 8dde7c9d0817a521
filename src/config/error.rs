//! Config errors that point at the place in the file: `file:line:column: key: what is wrong`,
//! then the line itself with a caret, in the manner of just and rustc.

use crate::exit::EXIT_USAGE;
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub key: Option<String>,
    pub message: String,
    pub source_line: Option<String>,
}

impl Problem {
    /// A problem located by a byte span of the config text.
    pub fn at(
        source: &Source,
        span: Option<Range<usize>>,
        key: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column, source_line) = match span {
            Some(span) => {
                let (line, column) = source.line_col(span.start);
                (Some(line), Some(column), source.line_text(line))
            }
            None => (None, None, None),
        };
        Problem {
            file: source.name.clone(),
            line,
            column,
            key: key.map(str::to_string),
            message: cut(message.into()),
            source_line,
        }
    }
}

/// Characters of a problem's message: the parser's own words quote a value whole, and a value
/// may be 70 000 characters long.
const MESSAGE: usize = 1_000;

fn cut(message: String) -> String {
    if message.chars().count() <= MESSAGE {
        return message;
    }
    let mut cut: String = message.chars().take(MESSAGE).collect();
    cut.push('…');
    cut
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "key `{key}`: ")?;
        }
        write!(f, "{}", self.message)?;
        if let (Some(line), Some(text)) = (self.line, &self.source_line) {
            let gutter = " ".repeat(line.to_string().len());
            let (shown, caret) = excerpt(text, self.column);
            write!(f, "\n {line} | {shown}")?;
            if let Some(caret) = caret {
                write!(f, "\n {gutter} | {}^", " ".repeat(caret))?;
            }
        }
        Ok(())
    }
}

/// Characters of a source line shown with a problem: a longer line is cut around the column.
const SHOWN: usize = 100;

/// The part of `text` shown, and how many characters precede the caret in it. `column` counts
/// bytes from 1, as `Source::line_col` gives it; a line of 70 000 characters is shown as the
/// [`SHOWN`] around the problem, an ellipsis marking each cut.
fn excerpt(text: &str, column: Option<usize>) -> (String, Option<usize>) {
    let total = text.chars().count();
    let at = column.map(|column| {
        text.get(..column.saturating_sub(1).min(text.len()))
            .map_or(total, |before| before.chars().count())
    });
    if total <= SHOWN {
        return (text.to_string(), at);
    }
    let start = at.unwrap_or(0).saturating_sub(SHOWN / 2).min(total - SHOWN);
    let end = start + SHOWN;
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    shown.extend(text.chars().skip(start).take(SHOWN));
    if end < total {
        shown.push('…');
    }
    let lead = usize::from(start > 0);
    (shown, at.map(|at| at - start + lead))
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // `cause`, not `source`: the message carries it, and `{:#}` must not print it twice.
    #[error("cannot read config file {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{}", render(.0))]
    Invalid(Vec<Problem>),
}

impl ConfigError {
    /// A config that cannot be read or is invalid is the user's to fix (2).
    pub fn exit_code(&self) -> u8 {
        EXIT_USAGE
    }

    pub fn problems(&self) -> Vec<String> {
        match self {
            ConfigError::Read { .. } => vec![self.to_string()],
            ConfigError::Invalid(problems) => problems.iter().map(|p| p.to_string()).collect(),
        }
    }
}

fn render(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    lines.join("\n")
}

/// The config text and its name, for turning byte offsets into lines.
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    /// `offset` moved back to the start of the character it falls in: a span from the parser
    /// may point inside a multi-byte character, and slicing there panics.
    fn floor(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..self.floor(offset)];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rfind('\n')
            .map(|nl| before.len() - nl)
            .unwrap_or(before.len() + 1);
        (line, column)
    }

    pub fn line_text(&self, line: usize) -> Option<String> {
        self.text
            .lines()
            .nth(line.checked_sub(1)?)
            .map(str::to_string)
    }

    /// The span of `key = ...` inside a table's span, so a problem can point at the key's own
    /// line rather than at the table header.
    pub fn key_span(&self, table: &Range<usize>, key: &str) -> Option<Range<usize>> {
        let end = self.floor(self.table_end(table));
        let start = self.floor(table.start.min(end));
        let body = &self.text[start..end];
        let mut offset = start;
        for line in body.split_inclusive('\n') {
            let trimmed = line.trim_start();
            if let Some(rest) = trimmed.strip_prefix(key) {
                if rest.trim_start().starts_with('=') {
                    let indent = line.len() - trimmed.len();
                    return Some(offset + indent..offset + indent + key.len());
                }
            }
            offset += line.len();
        }
        None
    }

    /// Where a table's keys end: the next table header after its own, else the end of the
    /// file. (The span toml gives a table of an array of tables may cover its header only.)
    fn table_end(&self, table: &Range<usize>) -> usize {
        let start = self.floor(table.start);
        let after_header = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |newline| start + newline + 1);
        let mut offset = after_header;
        for line in self.text[after_header..].split_inclusive('\n') {
            if line.trim_start().starts_with('[') {
                return offset.max(table.end);
            }
            offset += line.len();
        }
        self.text.len().max(table.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the property test: the parser's span fell inside `ଏ` (three bytes).
    #[test]
    fn a_span_inside_a_multibyte_character_is_located_without_panic() {
        let text = "[agents.a]\ncommand = \"/¥𞹔:\\\\🕴Ѩዔ$d𐮯<ⵯ%\u{fffd}'7ଏ𞊓(𝼗?:\"\ntimeout = [\"r\\\"{𝄦Fsࡣ𞺓z=Zᝮ\"]\n";
        let found = match crate::config::Config::parse("t.toml", text) {
            Ok(_) => panic!("a command that is a string was accepted"),
            Err(err) => err.to_string(),
        };
        assert!(found.contains("t.toml:"), "{found}");
        let source = Source {
            name: "t.toml".into(),
            text: "aଏb".into(),
        };
        assert_eq!(source.line_col(2), (1, 2));
        assert_eq!(source.key_span(&(2..3), "b"), None);
    }

    #[test]
    fn a_long_line_is_shown_cut_around_its_problem() {
        let source = Source {
            name: "t.toml".into(),
            text: format!("x = \"{}\", bogus = 1\n", "p".repeat(70_000)),
        };
        let offset = source.text.find("bogus").unwrap();
        let problem = Problem::at(&source, Some(offset..offset + 5), Some("bogus"), "unknown");
        let shown = problem.to_string();
        assert!(shown.len() < 400, "{shown}");
        let lines: Vec<&str> = shown.lines().collect();
        assert!(lines[1].starts_with(" 1 | …ppp"), "{shown}");
        let caret = lines[2].find('^').unwrap();
        let under: String = lines[1].chars().skip(caret).take(5).collect();
        assert_eq!(under, "bogus", "{shown}");
        // A short line is shown whole, the caret under its column.
        let short = Source {
            name: "t.toml".into(),
            text: "a = 1\nsetle = 2\n".into(),
        };
        let problem = Problem::at(&short, Some(6..11), Some("setle"), "unknown");
        assert_eq!(
            problem.to_string(),
            "t.toml:2:1: key `setle`: unknown\n 2 | setle = 2\n   | ^"
        );
    }

    #[test]
    fn a_config_that_cannot_be_read_or_is_invalid_is_the_users_to_fix() {
        let read = ConfigError::Read {
            path: "x.toml".into(),
            cause: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(read.exit_code(), EXIT_USAGE);
        assert_eq!(ConfigError::Invalid(Vec::new()).exit_code(), EXIT_USAGE);
    }
}
