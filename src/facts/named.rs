//! The absolute paths the evidence names.

use super::*;

pub(super) fn absolute_path_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r#"(?:^|[\s"'`(=\[,])(/[A-Za-z0-9_.@+%-][A-Za-z0-9_.@+%/-]*)"#).expect("regex")
    })
}

pub(super) fn quoted_name_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| Regex::new(r#"["']([A-Za-z0-9_.@+-]+)["']"#).expect("regex"))
}

/// Absolute paths named in the evidence (trailing punctuation dropped, `file:12` positions
/// cut), in order of appearance, without repeats.
pub fn named_paths(evidence: &str) -> Vec<PathBuf> {
    let mut seen = BTreeSet::new();
    absolute_path_pattern()
        .captures_iter(evidence)
        .map(|c| clean_path(&c[1]))
        .filter(|p| p.len() > 1 && seen.insert(p.clone()))
        .map(PathBuf::from)
        .take(64)
        .collect()
}

pub(super) fn clean_path(raw: &str) -> String {
    let trimmed = raw.trim_end_matches(['.', ',', ':', ';', ')', ']']);
    // "/etc/nginx/nginx.conf:12" names a line of the file.
    match trimmed.rsplit_once(':') {
        Some((path, line)) if line.chars().all(|c| c.is_ascii_digit()) => path.to_string(),
        _ => trimmed.to_string(),
    }
}
