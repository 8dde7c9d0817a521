//! Masking secrets in text before it is stored or leaves the host: private keys, cloud and
//! service keys, tokens in headers, cookies and URLs, passwords on command lines and in
//! `key=value` settings, password hashes, plus the patterns the admin adds in `[context] redact`.
//!
//! Masking is idempotent: masked text masked again is unchanged. Every value pattern accepts
//! an earlier mask as a whole first, so a second pass replaces `[REDACTED]` by itself instead of
//! reading on past it (into an escaped newline and the timestamp of the next log line).

mod gate;

use gate::Gate;
use regex::Regex;
use std::sync::OnceLock;

pub const MASK: &str = "[REDACTED]";
const KEY_MASK: &str = "[REDACTED PRIVATE KEY]";

/// An earlier mask, matched whole so a second pass leaves it as it is.
macro_rules! masked_or {
    ($value:literal) => {
        concat!(r"(?:\[REDACTED[A-Z ]*\]|", $value, ")")
    };
}

/// Tokens whose shape alone says they are secret: a vendor prefix and a long random tail.
/// `pk_live_` (Stripe's publishable key) is missing on purpose: it is public, shipped in web pages.
const TOKENS: &[&str] = &[
    r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}", // AWS access key ids
    r"AIza[0-9A-Za-z_-]{35}",                                   // Google API keys
    r"ya29\.[0-9A-Za-z_-]{20,}",                                // Google OAuth access tokens
    r"gh[pousr]_[A-Za-z0-9]{20,}",                              // GitHub tokens
    r"github_pat_[A-Za-z0-9_]{20,}",                            // GitHub fine-grained tokens
    r"glpat-[A-Za-z0-9_-]{20,}",                                // GitLab personal tokens
    r"xox[abposre]-[A-Za-z0-9-]{10,}",                          // Slack tokens
    r"xapp-[0-9]-[A-Za-z0-9-]{10,}",                            // Slack app tokens
    r"npm_[A-Za-z0-9]{36}",                                     // npm tokens
    r"[sr]k_(?:live|test)_[0-9A-Za-z]{16,}",                    // Stripe secret and restricted keys
    r"sk-[A-Za-z0-9_-]{16,}", // OpenAI (sk-, sk-proj-) and Anthropic (sk-ant-) keys
    r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}", // SendGrid
    r"key-[0-9a-z]{32}",      // Mailgun
    r"SK[0-9a-fA-F]{32}",     // Twilio API keys
    r"hv[sbr]\.[A-Za-z0-9_-]{20,}", // HashiCorp Vault tokens
    r"dop_v1_[a-f0-9]{64}",   // DigitalOcean
    r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}", // Shopify
    r"dckr_pat_[A-Za-z0-9_-]{20,}", // Docker Hub
    r"hf_[A-Za-z0-9]{30,}",   // Hugging Face
    r"pypi-AgE[A-Za-z0-9_-]{50,}", // PyPI
    r"(?:bot)?[0-9]{8,10}:AA[A-Za-z0-9_-]{30,}", // Telegram bot tokens
    r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", // JSON web tokens
];

/// Commands whose flag takes a password as its next word or glued to it (`-pPASS`), as
/// (command names, flag, what precedes the secret within the value).
const COMMAND_FLAGS: &[(&str, &str, &str)] = &[
    (
        r"mysql|mysqldump|mysqladmin|mysqlcheck|mysqlimport|mysqlshow|mariadb|mariadb-dump|mariadb-admin|check_mysql|check_mysql_query|check_pgsql|sshpass",
        "-p",
        "",
    ),
    (r"redis-cli", "-a", ""),
    (
        r"curl|check_http|check_curl",
        "-u|--user|-a|--authorization",
        r"[^\s:]+:",
    ),
];

/// Names in a `name=value` or `name: value` pair that mean the value is secret.
const SECRET_NAMES: &str = r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|account[_-]?key|shared[_-]?access[_-]?key|app[_-]?key|credentials?";

fn builtin_rules() -> Vec<(String, String)> {
    let value = masked_or!(r#"[^\s"']+"#);
    let mut rules = vec![
        // Private keys: PEM (RSA, EC, OPENSSH, PKCS#8, encrypted) and PGP blocks, also inside a
        // JSON string with escaped newlines; a block cut off by a log tail is masked to the end.
        (
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\z)".to_string(),
            KEY_MASK.to_string(),
        ),
        // Digest credentials run to the end of the header.
        (
            format!(r"(?i)\b((?:proxy-)?authorization\s*:\s*digest\s+){}", masked_or!(r"[a-z]+=[^\r\n]*")),
            format!("${{1}}{MASK}"),
        ),
        // Authorization headers keep their scheme, lose the credentials.
        (
            format!(r#"(?i)\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest|negotiate|ntlm|apikey|key)\s+)?){value}"#),
            format!("${{1}}{MASK}"),
        ),
        (format!(r"(?i)\b(bearer\s+){}", masked_or!(r"[A-Za-z0-9._~+/=-]{8,}")), format!("${{1}}{MASK}")),
        // Every cookie of a Cookie or Set-Cookie header is a session or worse.
        (
            format!(r"(?i)\b((?:set-)?cookie\s*:\s*){}", masked_or!(r"[^\r\n]+")),
            format!("${{1}}{MASK}"),
        ),
        // Credentials in URLs: scheme://user:password@host (the user may be empty).
        (
            format!(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):{}@", masked_or!(r"[^@\s/]+")),
            format!("${{1}}:{MASK}@"),
        ),
        // Webhook URLs whose path is the secret.
        (
            format!(
                r"(?i)\b((?:hooks\.slack\.com/(?:services|workflows|triggers)|discord(?:app)?\.com/api/webhooks)/){}",
                masked_or!(r"[A-Za-z0-9/_-]+")
            ),
            format!("${{1}}{MASK}"),
        ),
        // Signatures in pre-signed URLs and Azure SAS tokens.
        (
            format!(r"(?i)([?&;](?:sig|signature|x-amz-signature|x-goog-signature)=){}", masked_or!(r#"[^&\s"']+"#)),
            format!("${{1}}{MASK}"),
        ),
        // Long options with the secret as the next word: `--password PASS`, `--api-key KEY`.
        (
            format!(r#"(?i)((?:^|\s)--?(?:[a-z0-9]+-)*(?:password|passwd|pass|secret|token|api-?key|auth-token)[ \t]+["']?){value}"#),
            format!("${{1}}{MASK}"),
        ),
        // Crypt(3) password hashes (htpasswd, shadow): offline cracking material.
        (
            r"\$(?:1|2[abxy]?|5|6|7|y|gy|apr1)\$[./A-Za-z0-9$]{8,}".to_string(),
            MASK.to_string(),
        ),
    ];
    for (commands, flags, prefix) in COMMAND_FLAGS {
        rules.push((
            format!(r#"((?i:\b(?:{commands}))\b(?:[ \t]+\S+)*?[ \t]+(?:{flags})[ \t]*["']?{prefix}){value}"#),
            format!("${{1}}{MASK}"),
        ));
    }
    // `name=value`, `name: value`, `"name": "value"`; `$key` keeps the name so the text still
    // says which setting was there. `auth` counts only as a whole word of the name, so that
    // `Authorization: Bearer [REDACTED]` is not masked once more.
    rules.push((
        format!(
            r#"(?i)(?P<key>[A-Za-z0-9_.-]*(?:{SECRET_NAMES})[A-Za-z0-9_.-]*|[A-Za-z0-9_.-]*\bauth(?:[_.-][A-Za-z0-9_.-]*)?)(?P<sep>["']?\s*[=:]\s*["']?){}"#,
            masked_or!(r#"[^\s"',;&]+"#)
        ),
        format!("${{key}}${{sep}}{MASK}"),
    ));
    rules.push((format!(r"\b(?:{})\b", TOKENS.join("|")), MASK.to_string()));
    rules
}

/// One masking rule. Its regex is compiled the first time a text may match it (see
/// [`gate`]): a healthy scan's texts need few rules or none, and compiling all of them cost
/// every run several milliseconds and about a megabyte.
#[derive(Clone)]
struct Rule {
    pattern: String,
    replacement: String,
    /// Read from the pattern when a text first asks, so a command that masks nothing never
    /// parses the patterns at all.
    gate: OnceLock<Gate>,
    /// `None` inside: the pattern did not compile (a bug the tests catch for the built-in ones);
    /// the rule then masks the whole text rather than let a secret through.
    regex: OnceLock<Option<Regex>>,
}

impl Rule {
    fn new(pattern: String, replacement: String) -> Rule {
        Rule {
            gate: OnceLock::new(),
            pattern,
            replacement,
            regex: OnceLock::new(),
        }
    }

    fn gate(&self) -> &Gate {
        self.gate.get_or_init(|| Gate::of(&self.pattern))
    }

    fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| Regex::new(&self.pattern).ok())
            .as_ref()
    }

    /// Masks what the rule finds in `text`; true when it changed anything.
    fn apply(&self, text: &mut String) -> bool {
        let masked = match self.regex() {
            Some(regex) if regex.is_match(text) => regex
                .replace_all(text, self.replacement.as_str())
                .into_owned(),
            Some(_) => return false,
            None => MASK.to_string(),
        };
        *text = masked;
        true
    }
}

#[derive(Clone)]
pub struct Redactor {
    rules: Vec<Rule>,
}

impl Redactor {
    /// The built-in rules and the admin's own; a bad admin pattern is an error. The admin's
    /// patterns are compiled now, so the error comes with the config; the built-in ones when a
    /// text first needs them.
    pub fn new(extra: &[String]) -> Result<Redactor, regex::Error> {
        let mut rules: Vec<Rule> = builtin_rules()
            .into_iter()
            .map(|(pattern, replacement)| Rule::new(pattern, replacement))
            .collect();
        for pattern in extra {
            let rule = Rule::new(pattern.clone(), MASK.to_string());
            let _ = rule.regex.set(Some(Regex::new(pattern)?));
            rules.push(rule);
        }
        Ok(Redactor { rules })
    }

    /// The built-in rules alone, for a process that has no config at hand.
    pub fn builtin() -> Redactor {
        Redactor::new(&[]).expect("the built-in patterns compile")
    }

    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        // The text's lower case, for the gates; made again after a rule changed the text.
        let mut lower = None;
        for rule in &self.rules {
            if rule.gate().may_match(&text, &mut lower) && rule.apply(&mut text) {
                lower = None;
            }
        }
        text
    }

    /// An argument vector masked as the command line it stands for: `["mysql", "-p", "PASS"]`
    /// loses `PASS` although no single word looks secret. Each word is masked as it reads at
    /// the end of the line so far; when the mask reaches back past the word, it is masked whole.
    pub fn redact_argv(&self, argv: &[String]) -> Vec<String> {
        let mut line = String::new();
        let mut masked_line = String::new();
        argv.iter()
            .map(|word| {
                let before = format!("{masked_line} ");
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                masked_line = self.redact(&line);
                match masked_line.strip_prefix(before.trim_start()) {
                    Some(tail) if tail == word => self.redact(word),
                    Some(tail) => tail.to_string(),
                    None => MASK.to_string(),
                }
            })
            .collect()
    }

    /// Redacts every string in a JSON value, keys and values alike; a short list of strings is
    /// taken for an argument vector.
    pub fn redact_value(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => *s = self.redact(s),
            serde_json::Value::Array(items) if is_short_word_list(items) => {
                let words: Vec<String> = items
                    .iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect();
                *items = self
                    .redact_argv(&words)
                    .into_iter()
                    .map(serde_json::Value::String)
                    .collect();
            }
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

    /// JSON text masked string by string, so that escapes (`\n`) stay intact and the text
    /// stays JSON; other text is masked as it is.
    pub fn redact_json_text(&self, text: &str) -> String {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(mut value) if value.is_object() || value.is_array() => {
                self.redact_value(&mut value);
                value.to_string()
            }
            _ => self.redact(text),
        }
    }
}

/// Argument vectors are short; a long list of strings is data, masked item by item.
const ARGV_WORDS: usize = 64;

fn is_short_word_list(items: &[serde_json::Value]) -> bool {
    items.len() > 1 && items.len() <= ARGV_WORDS && items.iter().all(|v| v.is_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> String {
        Redactor::builtin().redact(text)
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
        assert_eq!(
            redact("Authorization: Bearer abcdefghijklmnop"),
            "Authorization: Bearer [REDACTED]"
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
    fn command_line_passwords() {
        assert_eq!(
            redact("mysql -u root -pHunter22 appdb"),
            "mysql -u root -p[REDACTED] appdb"
        );
        assert_eq!(
            redact("/usr/lib/nagios/plugins/check_mysql -H db -u nagios -p Hunter22 -P 3306"),
            "/usr/lib/nagios/plugins/check_mysql -H db -u nagios -p [REDACTED] -P 3306"
        );
        assert_eq!(
            redact("pg_dump --password Hunter22 --host db"),
            "pg_dump --password [REDACTED] --host db"
        );
        assert_eq!(
            redact("curl -u admin:Hunter22 https://x"),
            "curl -u admin:[REDACTED] https://x"
        );
        assert_eq!(
            redact("redis-cli -a Hunter22 ping"),
            "redis-cli -a [REDACTED] ping"
        );
    }

    #[test]
    fn argument_vectors_as_command_lines() {
        let argv: Vec<String> = [
            "check_mysql",
            "-H",
            "db",
            "-u",
            "nagios",
            "-p",
            "Hunter22",
            "-P",
            "3306",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            Redactor::builtin().redact_argv(&argv),
            [
                "check_mysql",
                "-H",
                "db",
                "-u",
                "nagios",
                "-p",
                "[REDACTED]",
                "-P",
                "3306"
            ]
        );
        let mut value = serde_json::json!({"argv": ["curl", "-u", "a:b", "https://u:p@h/x"]});
        Redactor::builtin().redact_value(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"argv": ["curl", "-u", "a:[REDACTED]", "https://u:[REDACTED]@h/x"]})
        );
    }

    #[test]
    fn masking_twice_changes_nothing() {
        let text = "Nov 27 06:00:01 app[42]: password=hunter2\nNov 27 06:00:02 app[42]: Authorization: Bearer abcdefghijklmnop\n\
                    Cookie: a=b\nmysql -pX1 -e 'select 1'\ncurl -u a:b http://u:p@h/\n-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----\n\
                    {\"private_key\": \"-----BEGIN PRIVATE KEY-----\\nAAA\\n-----END PRIVATE KEY-----\\n\", \"auth\": \"dXNlcjpwYXNz\"}";
        let once = redact(text);
        assert_eq!(redact(&once), once);
        // The bug this guards against: masked text inside JSON lost the escaped newline and the
        // timestamp after each mask when it was masked again.
        let json = serde_json::to_string(&once).unwrap();
        assert_eq!(redact(&json), json);
        assert!(
            json.contains(r"password=[REDACTED]\nNov 27 06:00:02"),
            "{json}"
        );
    }

    #[test]
    fn json_text_stays_json() {
        let r = Redactor::builtin();
        let body = r#"[{"annotations":{"summary":"db: password=hunter2\nnext line"}}]"#;
        let masked = r.redact_json_text(body);
        let value: serde_json::Value = serde_json::from_str(&masked).unwrap();
        assert_eq!(
            value[0]["annotations"]["summary"],
            "db: password=[REDACTED]\nnext line"
        );
    }

    #[test]
    fn leaves_ordinary_text() {
        for line in [
            "connection refused on port 8080",
            "FATAL:  password authentication failed for user \"app\"",
            "Failed password for invalid user admin from 10.0.0.5 port 22 ssh2",
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.5",
            "Authorization failed for user bob",
            "2026-11-27T06:00:01Z web[4242]: GET /health 200 1.2ms",
        ] {
            assert_eq!(redact(line), line);
        }
    }

    /// Every rule applied to every text, gates or not: what the gates must not change.
    fn redact_ungated(redactor: &Redactor, text: &str) -> String {
        let mut text = text.to_string();
        for rule in &redactor.rules {
            rule.apply(&mut text);
        }
        text
    }

    #[test]
    fn the_gates_change_no_masking() {
        let r = Redactor::new(&["internal-[0-9]+".to_string()]).unwrap();
        let secrets = [
            "password=hunter2",
            "DB_PASSWORD: 's3cret'",
            "Authorization: Bearer abcdefghijklmnop",
            "proxy-authorization: Digest username=\"a\", response=\"b\"",
            "Set-Cookie: session=abc; Path=/",
            "postgres://app:pa55@db/x",
            "https://hooks.slack.com/services/T000/B000/XXXX",
            "https://x.s3.amazonaws.com/f?X-Amz-Signature=abcdef&x=1",
            "pg_dump --password Hunter22 --host db",
            "$6$rounds=5000$saltsalt$hashhashhashhash",
            "mysql -u root -pHunter22 appdb",
            "redis-cli -a Hunter22 ping",
            "curl -u admin:Hunter22 https://x",
            "key AKIAABCDEFGHIJKLMNOP here",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "sk-proj-abcdefghijklmnopqrstuvwx",
            "bot123456789:AAabcdefghijklmnopqrstuvwxyz0123456",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX2hlcmU",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
            "host internal-42 down",
            "api-key = abc123; auth_token: zzz",
            "DISK OK - free space: / 3326 MiB (56.38% inode=91%);| /=2643MiB;5948;6292;0;6620",
            "HTTP 200 from http://127.0.0.1:8080/health in 0.001s",
            "88.1% memory available (20.7 GiB of 23.5 GiB)",
        ];
        let variants = |text: &str| {
            vec![
                text.to_string(),
                text.to_uppercase(),
                text.to_lowercase(),
                format!("noise before {text} and after"),
                format!("{text}\n{text}"),
                format!("é {text}"),
                text.replace('s', "ſ"),
                text.replace('k', "\u{212A}"),
            ]
        };
        for secret in secrets {
            for text in variants(secret) {
                assert_eq!(r.redact(&text), redact_ungated(&r, &text), "{text:?}");
            }
        }
    }

    #[test]
    fn a_healthy_checks_text_compiles_no_rule() {
        let r = Redactor::builtin();
        for text in [
            "DISK OK - free space: / 3326 MiB (56.38% inode=91%);| /=2643MiB;5948;6292;0;6620",
            "88.1% memory available (20.7 GiB of 23.5 GiB)",
            "OK - load average per CPU: 0.52, 0.60, 0.71",
            "TCP OK - 0.000 second response time on 127.0.0.1 port 8080",
            "HTTP 200 from http://127.0.0.1:8080/health in 0.001s",
            "127.0.0.1:8080 accepts connections",
        ] {
            assert_eq!(r.redact(text), text);
        }
        let compiled: Vec<&str> = r
            .rules
            .iter()
            .filter(|rule| rule.regex.get().is_some())
            .map(|rule| rule.pattern.as_str())
            .collect();
        assert!(compiled.is_empty(), "{compiled:#?}");
        // One that names a secret compiles what it needs, and is masked.
        assert_eq!(r.redact("password=hunter2"), "password=[REDACTED]");
        assert!(r.rules.iter().any(|rule| rule.regex.get().is_some()));
    }

    #[test]
    fn every_built_in_rule_compiles() {
        for (pattern, _) in builtin_rules() {
            assert!(Regex::new(&pattern).is_ok(), "{pattern}");
        }
    }

    #[test]
    fn admin_patterns_apply() {
        let r = Redactor::new(&["internal-[0-9]+".to_string()]).unwrap();
        assert_eq!(r.redact("host internal-42 down"), "host [REDACTED] down");
    }
}
