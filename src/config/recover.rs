//! Every type and key error of a config file in one run. serde stops at the first error, so
//! after each one the offending key (or table) is blanked out — replaced by spaces, so every
//! byte offset, and so every line and column, stays that of the file — and the text is
//! deserialized again. A TOML syntax error is reported alone: the parser cannot go past it.

use super::{key_at, Problem, Source};
use serde::de::DeserializeOwned;
use std::ops::Range;

/// More errors than this in one file are not worth a longer wait.
const MAX_PROBLEMS: usize = 100;

/// The deserialized value, when it could be had once every error was blanked out, and every
/// problem found on the way.
pub(super) fn deserialize_every_error<T: DeserializeOwned>(
    source: &Source,
) -> (Option<T>, Vec<Problem>) {
    let mut text = source.text.clone();
    let mut blanked: Vec<Range<usize>> = Vec::new();
    let mut problems = Vec::new();
    while problems.len() < MAX_PROBLEMS {
        let err = match toml::from_str::<T>(&text) {
            Ok(value) => return (Some(value), problems),
            Err(err) => err,
        };
        // A valid file is parsed once; only a failing one is asked whether its syntax is
        // what failed.
        if blanked.is_empty() {
            if let Err(syntax) = source.text.parse::<toml::Table>() {
                return (None, vec![problem(source, &syntax)]);
            }
        }
        let Some(span) = err.span() else {
            problems.push(problem(source, &err));
            break;
        };
        let missing = err.message().starts_with("missing field");
        let region = match missing {
            true => enclosing_table(&text, span.start),
            false => key_or_table(&text, span.start),
        };
        let ours = missing && blanked.iter().any(|done| overlaps(done, &region));
        if !ours {
            problems.push(problem(source, &err));
        }
        if region.is_empty() || blanked.contains(&region) {
            break;
        }
        blank(&mut text, &region);
        blanked.push(region);
        if text.parse::<toml::Table>().is_err() {
            // Blanking cut a value the parser cannot do without: what is found is reported.
            break;
        }
    }
    (None, problems)
}

fn problem(source: &Source, err: &toml::de::Error) -> Problem {
    let key = err.span().and_then(|span| key_at(source, span.start));
    Problem::at(
        source,
        err.span(),
        key.as_deref(),
        err.message().to_string(),
    )
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Spaces for every character of `region` but its newlines.
fn blank(text: &mut String, region: &Range<usize>) {
    let blanked: String = text[region.clone()]
        .chars()
        .map(|c| if c == '\n' { '\n' } else { ' ' })
        .collect();
    text.replace_range(region.clone(), &blanked);
}

/// The lines of `text` with their byte ranges (newline included).
fn lines(text: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    text.split_inclusive('\n').scan(0, |start, line| {
        let range = *start..*start + line.len();
        *start = range.end;
        Some((range, line))
    })
}

fn is_header(line: &str) -> bool {
    line.trim_start().starts_with('[')
}

/// The error at `offset` is on a table header: the table, up to the next header; else the
/// key-value on that line, with the lines its brackets keep open.
fn key_or_table(text: &str, offset: usize) -> Range<usize> {
    let Some((line, content)) = lines(text).find(|(range, _)| range.contains(&offset)) else {
        return offset..offset;
    };
    if is_header(content) {
        return line.start..next_header(text, line.end);
    }
    let mut depth = 0i32;
    for (range, content) in lines(text).skip_while(|(range, _)| range.start < line.start) {
        depth += bracket_balance(content);
        if depth <= 0 {
            return line.start..range.end;
        }
    }
    line.start..text.len()
}

/// The table (header and keys) that holds `offset`, for a missing key.
fn enclosing_table(text: &str, offset: usize) -> Range<usize> {
    let header = lines(text)
        .take_while(|(range, _)| range.start <= offset)
        .filter(|(_, content)| is_header(content))
        .last();
    match header {
        Some((range, _)) => range.start..next_header(text, range.end),
        None => offset..offset,
    }
}

fn next_header(text: &str, from: usize) -> usize {
    lines(text)
        .find(|(range, content)| range.start >= from && is_header(content))
        .map_or(text.len(), |(range, _)| range.start)
}

/// Opening minus closing brackets and braces outside strings and comments.
fn bracket_balance(line: &str) -> i32 {
    let mut balance = 0;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in line.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '#' => break,
                '[' | '{' => balance += 1,
                ']' | '}' => balance -= 1,
                _ => {}
            },
        }
    }
    balance
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_line_value_is_blanked_whole() {
        let text = "a = 1\nbad = [\n  \"x\",\n]\nb = 2\n";
        let region = key_or_table(text, 6);
        assert_eq!(&text[region], "bad = [\n  \"x\",\n]\n");
    }

    #[test]
    fn a_header_takes_its_table_with_it() {
        let text = "[one]\na = 1\n[[two]]\nb = 2\n[three]\n";
        assert_eq!(&text[key_or_table(text, 14)], "[[two]]\nb = 2\n");
        assert_eq!(&text[enclosing_table(text, 20)], "[[two]]\nb = 2\n");
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        assert_eq!(bracket_balance(r#"x = "[" # ["#), 0);
        assert_eq!(bracket_balance("x = [ # ]"), 1);
    }
}
