//! Reading evidence text (log lines, a failed command's output) the way a person skims it:
//! the lines that say what went wrong. Used by the facts an agent gets and by the reason a
//! failed action gives, so both quote the same lines.

use std::collections::BTreeSet;

/// At most this many lines are quoted.
const MAX_ERROR_LINES: usize = 20;

/// Words that make a log line worth quoting.
const ERROR_WORDS: [&str; 22] = [
    "error",
    "fatal",
    "emerg",
    "crit",
    "panic",
    "fail",
    "denied",
    "refus",
    "cannot",
    "can't",
    "could not",
    "unable",
    "no space",
    "already exists",
    "already running",
    "in use",
    "invalid",
    "bad ",
    "too open",
    "not permitted",
    "stale",
    "exists",
];

/// The last error-looking lines, oldest first, without repeats.
pub fn error_lines(evidence: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut lines: Vec<String> = evidence
        .lines()
        .rev()
        .map(str::trim)
        .filter(|line| {
            let lower = line.to_lowercase();
            ERROR_WORDS.iter().any(|w| lower.contains(w))
        })
        .filter(|line| seen.insert(line.to_string()))
        .take(MAX_ERROR_LINES)
        .map(|line| line.chars().take(400).collect())
        .collect();
    lines.reverse();
    lines
}
