//! Masking secrets before context leaves the host: private keys, cloud keys,
//! bearer and JSON web tokens, credentials in URLs, and `password=…`-style pairs, plus the
//! patterns the admin adds in `[context] redact`.

use regex::Regex;

pub const MASK: &str = "[REDACTED]";

pub struct Redactor {
    rules: Vec<(Regex, String)>,
}

/// (pattern, replacement); `$key` keeps the name of a key=value pair so the context still
/// says *which* setting was there.
const BUILTIN: &[(&str, &str)] = &[
    (
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\z)",
        "[REDACTED PRIVATE KEY]",
    ),
    (r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", MASK),
    (r"\bgh[pousr]_[A-Za-z0-9]{20,}\b", MASK),
    (r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b", MASK),
    (r"\bsk-[A-Za-z0-9_-]{16,}\b", MASK),
    (
        r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b",
        MASK,
    ),
    (
        r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}",
        "$1 [REDACTED]",
    ),
    (
        r"(?i)([a-z][a-z0-9+.-]*://[^/\s:@]+):[^@\s/]+@",
        "$1:[REDACTED]@",
    ),
    (
        r#"(?i)(?P<key>[A-Za-z0-9_.-]*(pass(word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|auth)[A-Za-z0-9_.-]*)(?P<sep>["']?\s*[=:]\s*["']?)(?P<value>[^\s"',;&]+)"#,
        "${key}${sep}[REDACTED]",
    ),
];

impl Redactor {
    /// The built-in rules and the admin's own; a bad admin pattern is an error.
    pub fn new(extra: &[String]) -> Result<Redactor, regex::Error> {
        let mut rules = Vec::new();
        for (pattern, replacement) in BUILTIN {
            rules.push((Regex::new(pattern)?, replacement.to_string()));
        }
        for pattern in extra {
            rules.push((Regex::new(pattern)?, MASK.to_string()));
        }
        Ok(Redactor { rules })
    }

    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (regex, replacement) in &self.rules {
            if regex.is_match(&text) {
                text = regex.replace_all(&text, replacement.as_str()).into_owned();
            }
        }
        text
    }

    /// Redacts every string in a JSON value, keys and values alike.
    pub fn redact_value(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => *s = self.redact(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            serde_json::Value::Object(map) => {
                let entries: Vec<(String, serde_json::Value)> =
                    std::mem::take(map).into_iter().collect();
                for (key, mut v) in entries {
                    self.redact_value(&mut v);
                    map.insert(self.redact(&key), v);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> String {
        Redactor::new(&[]).unwrap().redact(text)
    }

    #[test]
    fn masks_common_secrets() {
        assert_eq!(
            redact("login password=hunter2 ok"),
            "login password=[REDACTED] ok"
        );
        assert_eq!(redact("DB_PASSWORD: 's3cret'"), "DB_PASSWORD: '[REDACTED]'");
        assert_eq!(
            redact("key AKIAIOSFODNN7EXAMPLE used"),
            "key [REDACTED] used"
        );
        let header = redact("Authorization: Bearer abcdefghijklmnop");
        assert!(
            !header.contains("abcdefghijklmnop") && header.starts_with("Authorization: "),
            "{header}"
        );
        assert_eq!(
            redact("postgres://app:pa55@db/x"),
            "postgres://app:[REDACTED]@db/x"
        );
        let pem =
            "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nxyz\n-----END RSA PRIVATE KEY-----\nb";
        assert_eq!(redact(pem), "a\n[REDACTED PRIVATE KEY]\nb");
        assert_eq!(redact("API_TOKEN=abc123 next"), "API_TOKEN=[REDACTED] next");
    }

    #[test]
    fn leaves_ordinary_text() {
        assert_eq!(
            redact("connection refused on port 8080"),
            "connection refused on port 8080"
        );
    }

    #[test]
    fn admin_patterns_apply() {
        let r = Redactor::new(&["internal-[0-9]+".to_string()]).unwrap();
        assert_eq!(r.redact("host internal-42 down"), "host [REDACTED] down");
    }
}
