//! Which masking rules a text needs. Compiling every rule costs a process milliseconds and
//! megabytes, and most texts a healthy host produces (`DISK OK - free space: / 3326 MiB`) can
//! match none of them. A rule's [`Gate`] is read from its pattern's syntax: clauses of strings,
//! each clause naming strings one of which every match must contain (`://`, then `:`, then
//! `@` for credentials in a URL). A text that fails a clause cannot match, and the rule is
//! neither compiled nor run for it.
//!
//! The gate is exact about ASCII only. A text with any other character opens every gate: with
//! Unicode case folding `(?i)s` also matches `ſ` and `(?i)k` the Kelvin sign, and a gate is not
//! the place to reason about that. Within ASCII the argument is short: a match in an ASCII text
//! is made of ASCII characters, so a literal must appear as written, and a class whose ASCII
//! members are one letter in either case must appear as that letter in some case.

use memchr::memmem::Finder;
use regex_syntax::hir::{Class, Hir, HirKind};

/// What every match of a pattern contains, in an ASCII text: of each clause, one needle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// No clause: nothing is known, every text is tried.
    clauses: Vec<Clause>,
}

/// Needles one of which every match contains.
type Clause = Vec<Needle>;

#[derive(Debug, Clone)]
struct Needle {
    text: String,
    /// Searches for `text`; built once, since the gates are asked for every text.
    finder: Finder<'static>,
    /// Appears as written; otherwise in some mix of cases, compared with the text's ASCII
    /// lower case (and `text` is lower case).
    exact: bool,
    /// The ASCII characters one of which must follow it (bit N: character N), when the
    /// pattern says (`SK[0-9a-fA-F]{32}` is not found in `DISK OK`).
    then: Option<u128>,
}

impl Eq for Needle {}

impl PartialEq for Needle {
    fn eq(&self, other: &Needle) -> bool {
        (&self.text, self.exact, self.then) == (&other.text, other.exact, other.then)
    }
}

impl Needle {
    fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether it occurs in `text` (whose ASCII lower case is `lower`).
    fn found(&self, text: &str, lower: &str) -> bool {
        let haystack = if self.exact { text } else { lower };
        let Some(set) = self.then else {
            return self.finder.find(haystack.as_bytes()).is_some();
        };
        self.finder.find_iter(haystack.as_bytes()).any(|at| {
            let next = text.as_bytes().get(at + self.text.len());
            next.is_some_and(|&byte| byte < 128 && set & (1 << byte) != 0)
        })
    }
}

impl Gate {
    /// The gate of `pattern` as `regex::Regex` reads it (its default syntax). A pattern that
    /// does not parse gets an open gate: compiling it will say what is wrong.
    pub fn of(pattern: &str) -> Gate {
        let clauses = regex_syntax::Parser::new()
            .parse(pattern)
            .map(|hir| clauses(&hir))
            .unwrap_or_default();
        Gate { clauses }
    }

    /// Whether a match in `text` is possible. `lower` caches the text's ASCII lower case
    /// between the rules; the caller clears it when the text changes.
    pub fn may_match(&self, text: &str, lower: &mut Option<String>) -> bool {
        if self.clauses.is_empty() || !text.is_ascii() {
            return true;
        }
        let lower = lower.get_or_insert_with(|| text.to_ascii_lowercase());
        self.clauses
            .iter()
            .all(|clause| clause.iter().any(|needle| needle.found(text, lower)))
    }
}

/// Clauses every match of `hir` satisfies; none when nothing is known.
fn clauses(hir: &Hir) -> Vec<Clause> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Vec::new(),
        HirKind::Literal(_) | HirKind::Class(_) => match as_text(hir) {
            Some((text, exact)) => vec![vec![needle(text, exact, None)]],
            None => Vec::new(),
        },
        HirKind::Repetition(repetition) if repetition.min >= 1 => clauses(&repetition.sub),
        HirKind::Repetition(_) => Vec::new(),
        HirKind::Capture(capture) => clauses(&capture.sub),
        // A match goes through one branch: each branch's most selective clause, joined.
        HirKind::Alternation(branches) => {
            let mut joined = Clause::new();
            for branch in branches {
                match best(clauses(branch)) {
                    Some(clause) => joined.extend(clause),
                    None => return Vec::new(),
                }
            }
            vec![joined]
        }
        // A match goes through every item: all their clauses, and the runs of adjacent
        // characters.
        HirKind::Concat(items) => {
            let mut all = Vec::new();
            let mut run = Run::default();
            for item in items {
                match as_text(item) {
                    Some((text, exact)) => run.push(&text, exact),
                    None => {
                        all.extend(run.take(first_character(item)));
                        all.extend(clauses(item));
                    }
                }
            }
            all.extend(run.take(None));
            all
        }
    }
}

/// Adjacent characters of a concatenation: they appear together in every match.
#[derive(Default)]
struct Run {
    text: String,
    exact: bool,
}

impl Run {
    fn push(&mut self, text: &str, exact: bool) {
        self.exact = if self.text.is_empty() {
            exact
        } else {
            self.exact && exact
        };
        self.text.push_str(text);
    }

    /// The run as a clause of one needle, followed by one of `then` if known.
    fn take(&mut self, then: Option<u128>) -> Option<Clause> {
        let run = std::mem::take(self);
        (!run.text.is_empty()).then(|| vec![needle(run.text, run.exact, then)])
    }
}

fn needle(text: String, exact: bool, then: Option<u128>) -> Needle {
    let text = if exact {
        text
    } else {
        text.to_ascii_lowercase()
    };
    Needle {
        finder: Finder::new(text.as_bytes()).into_owned(),
        text,
        exact,
        then,
    }
}

/// The ASCII characters a match of `hir` must start with, when it is a class that is matched
/// at least once (`[0-9a-f]{32}`, `[pousr]`).
fn first_character(hir: &Hir) -> Option<u128> {
    let class = match hir.kind() {
        HirKind::Class(class) => class,
        HirKind::Repetition(repetition) if repetition.min >= 1 => match repetition.sub.kind() {
            HirKind::Class(class) => class,
            _ => return None,
        },
        _ => return None,
    };
    let mut set = 0u128;
    for (start, end) in ranges(class) {
        for byte in start..=end.min(0x7F) {
            set |= 1 << byte;
        }
    }
    Some(set)
}

/// The clause whose shortest needle is longest: the one that lets fewest texts through.
fn best(clauses: Vec<Clause>) -> Option<Clause> {
    let shortest = |clause: &Clause| clause.iter().map(Needle::len).min().unwrap_or(usize::MAX);
    clauses.into_iter().max_by_key(shortest)
}

/// What a literal or a one-character class must look like in an ASCII text, and whether in
/// exactly that case. A class with no ASCII member yields a character no ASCII text holds.
fn as_text(hir: &Hir) -> Option<(String, bool)> {
    match hir.kind() {
        HirKind::Literal(literal) => Some((String::from_utf8_lossy(&literal.0).into_owned(), true)),
        HirKind::Class(class) => {
            let ascii = ascii_members(class)?;
            match ascii.as_slice() {
                [] => Some(("\u{80}".to_string(), true)),
                [only] => Some(((*only as char).to_string(), true)),
                [a, b] if a.eq_ignore_ascii_case(b) => {
                    Some(((a.to_ascii_lowercase() as char).to_string(), false))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A class's ranges, as code points (bytes for a byte class).
fn ranges(class: &Class) -> Vec<(u32, u32)> {
    match class {
        Class::Unicode(class) => class
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        Class::Bytes(class) => class
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
    }
}

/// The ASCII bytes a class matches, if there are at most two (more is no single letter).
fn ascii_members(class: &Class) -> Option<Vec<u8>> {
    let mut members = Vec::new();
    for (start, end) in ranges(class) {
        let end = end.min(0x7F);
        if start > end {
            continue;
        }
        if members.len() as u32 + (end - start + 1) > 2 {
            return None;
        }
        members.extend((start..=end).map(|b| b as u8));
    }
    Some(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opens(pattern: &str, text: &str) -> bool {
        Gate::of(pattern).may_match(text, &mut None)
    }

    #[test]
    fn a_case_insensitive_word_must_appear_in_some_case() {
        let gate = Gate::of(r"(?i)\bbearer\s+\S+");
        // `\s+` follows: ASCII whitespace.
        let space = [9u8, 10, 11, 12, 13, 32]
            .iter()
            .fold(0, |set, &b| set | 1 << b);
        let bearer = needle("bearer".into(), false, Some(space));
        assert_eq!(gate.clauses, vec![vec![bearer]]);
        assert!(opens(r"(?i)\bbearer\s+\S+", "Authorization: BeArEr abc"));
        assert!(!opens(
            r"(?i)\bbearer\s+\S+",
            "DISK OK - free space: / 3326 MiB"
        ));
    }

    #[test]
    fn what_must_follow_a_needle_is_checked_too() {
        let twilio = r"SK[0-9a-fA-F]{32}";
        assert!(!opens(twilio, "DISK OK - free space: / 3326 MiB"));
        assert!(opens(twilio, "DISK OK SK0123456789abcdef0123456789abcdef"));
        // A needle at the very end has nothing after it.
        assert!(!opens(twilio, "RISK"));
    }

    #[test]
    fn case_matters_where_the_pattern_says_so() {
        assert!(opens(r"AKIA[0-9A-Z]{16}", "key AKIAABCDEFGHIJKLMNOP"));
        assert!(!opens(r"AKIA[0-9A-Z]{16}", "key akiaabcdefghijklmnop"));
    }

    #[test]
    fn an_alternation_needs_one_of_its_branches() {
        let pattern = r"(?i)(?:password|token)=\S+";
        assert!(opens(pattern, "TOKEN=x"));
        assert!(opens(pattern, "Password=x"));
        assert!(!opens(pattern, "load average 0.52"));
        // A branch that needs no text says nothing: the gate stays open.
        assert!(opens(r"(?:secret|[0-9]+)", "nothing alike"));
        // What follows the alternation is still needed.
        assert!(!opens(r"(?:a|)secret", "nothing alike"));
    }

    #[test]
    fn every_part_of_a_concatenation_is_required() {
        let url = r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):(?:\[REDACTED\]|[^@\s/]+)@";
        assert!(opens(url, "postgres://app:pa55@db/x"));
        assert!(!opens(url, "HTTP 200 from http://127.0.0.1:8080/health"));
    }

    #[test]
    fn an_optional_part_is_not_required() {
        assert!(opens(r"(?i)(?:proxy-)?authorization:", "authorization: x"));
        assert!(!opens(r"(?i)(?:proxy-)?authorization:", "proxy- alone"));
    }

    #[test]
    fn text_beyond_ascii_opens_every_gate() {
        // (?i)s matches the long s and (?i)k the Kelvin sign: not ASCII reasoning.
        assert!(opens(r"(?i)password", "paſſword=hunter2"));
        assert!(opens(r"(?i)token", "to\u{212A}en=x"));
        assert!(regex::Regex::new(r"(?i)password")
            .unwrap()
            .is_match("paſſword"));
    }

    #[test]
    fn a_pattern_with_no_required_text_is_always_tried() {
        assert!(Gate::of(r"[0-9]{8,}").clauses.is_empty());
        assert!(opens(r"[0-9]{8,}", "anything"));
        assert!(Gate::of("(unclosed").clauses.is_empty());
    }
}
