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

/// Whether the text says a filesystem is full: "No space left on device", `ENOSPC`, "disk
/// full", in any case. The runbook's word rule and the look before a restart read it alike.
pub fn says_no_space(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["no space left", "enospc", "disk full"]
        .iter()
        .any(|words| lower.contains(words))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_told_in_any_of_its_wordings_and_case() {
        for text in [
            "write failed: No space left on device",
            "redis: MISCONF ... ENOSPC",
            "ERROR: Disk full, cannot write /var/lib/app",
        ] {
            assert!(says_no_space(text), "{text}");
        }
        assert!(!says_no_space("connection refused on port 8080"));
    }
}
