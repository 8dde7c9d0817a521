//! Failure signatures: the check name plus its failure summary with the parts that
//! change between occurrences (numbers, hex ids, timestamps, pids) masked, so that the same
//! fault tomorrow finds the pattern learned today.

use regex::Regex;
use std::sync::OnceLock;

fn maskers() -> &'static [Regex; 3] {
    static MASKERS: OnceLock<[Regex; 3]> = OnceLock::new();
    MASKERS.get_or_init(|| {
        [
            Regex::new(r"(?i)\b0x[0-9a-f]+\b").expect("valid regex"),
            // Hex ids and UUID parts: long hex runs that contain a digit.
            Regex::new(r"(?i)\b[0-9a-f]*[0-9][0-9a-f]*[a-f][0-9a-f]*\b|\b[0-9a-f]*[a-f][0-9a-f]*[0-9][0-9a-f]*\b").expect("valid regex"),
            // Numbers, decimals, dates and times alike.
            Regex::new(r"\d+(?:[.:,]\d+)*").expect("valid regex"),
        ]
    })
}

pub fn signature(check: &str, summary: &str) -> String {
    let mut text = summary.trim().to_string();
    for masker in maskers() {
        text = masker.replace_all(&text, "#").into_owned();
    }
    format!("{check}: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_what_varies() {
        assert_eq!(
            signature("web", "pid 4242 exited at 2026-11-25T10:00:01"),
            "web: pid # exited at #-#-#T#"
        );
        assert_eq!(
            signature("db", "lock held by 0x7f3a and deadbeef42"),
            "db: lock held by # and #"
        );
        assert_eq!(
            signature("d", "/: 96.3% used, 1.2 GiB free"),
            signature("d", "/: 97.1% used, 0.9 GiB free")
        );
    }

    #[test]
    fn keeps_words() {
        assert_eq!(
            signature("web", "connection refused"),
            "web: connection refused"
        );
    }
}
