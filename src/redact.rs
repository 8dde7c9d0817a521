//! Masking secrets in text before it is stored or leaves the host: private keys (PEM, OpenSSH,
//! PGP, SSH2, PuTTY, OpenVPN, and a key body whose header was cut off), cloud and service keys,
//! tokens in headers, cookies and URLs, passwords and communities given to known clients and
//! plugins (option-aware, also on an argument vector), `key=value` and `key: value` settings
//! (the whole value: quoted, or to the end of the line), config directives (`requirepass`,
//! `masterauth`, `rocommunity`, .netrc, SQL `IDENTIFIED BY '…'`), password hashes, plus the
//! patterns the admin adds in `[context] redact`.
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

/// A value as a command line or a config file writes it: quoted (the whole of it, spaces
/// included) or one word.
const WORD_OR_QUOTED: &str = masked_or!(r#""[^"\r\n]*"|'[^'\r\n]*'|[^\s"']+"#);

/// Tokens whose shape alone says they are secret: a vendor prefix and a long random tail.
/// `pk_live_` (Stripe's publishable key) is missing on purpose: it is public, shipped in web pages.
const TOKENS: &[&str] = &[
    r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}", // AWS access key ids
    r"AIza[0-9A-Za-z_-]{35}",                                   // Google API keys
    r"ya29\.[0-9A-Za-z_-]{20,}",                                // Google OAuth access tokens
    r"gh[pousr]_[A-Za-z0-9]{20,}",                              // GitHub tokens
    r"github_pat_[A-Za-z0-9_]{20,}",                            // GitHub fine-grained tokens
    // GitLab tokens; each prefix written whole, so that the gate looks for `glrt`, not `rt`.
    r"(?:glpat|gldt|glrt|glptt|glcbt|gloas|glsoat|glft|glimt|glagent)-[A-Za-z0-9_-]{20,}",
    r"xox[abposre]-[A-Za-z0-9-]{10,}",             // Slack tokens
    r"xapp-[0-9]-[A-Za-z0-9-]{10,}",               // Slack app tokens
    r"npm_[A-Za-z0-9]{36}",                        // npm tokens
    r"[sr]k_(?:live|test)_[0-9A-Za-z]{16,}",       // Stripe secret and restricted keys
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
    r"AGE-SECRET-KEY-1[0-9A-Z]{58}", // age secret keys
    r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}", // Grafana service account tokens
    r"NRAK-[A-Z0-9]{27}",     // New Relic user keys
    r"ATATT3[A-Za-z0-9_=-]{50,}", // Atlassian API tokens
    r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_-]{60,}", // Terraform Cloud
    r"LS0tLS1CRUdJTi[A-Za-z0-9+/=]{16,}", // "-----BEGIN" in base64: a key or certificate
];

/// A client or plugin whose options carry a secret: the password, passphrase, bind password,
/// SNMP community or key given as the option's value (`-p PASS`, `-pPASS`, `--opt=PASS`).
struct SecretOptions {
    /// The program's name, a regular-expression alternation (matched against argv[0]'s base
    /// name, or as a word of a command line).
    programs: &'static str,
    /// A subcommand that must come first (`docker login -p`, not `docker run -p 80:80`).
    subcommand: Option<&'static str>,
    /// The options, as written, each taking the secret as its value.
    options: &'static [&'static str],
    /// What precedes the secret within the value and stays (`user:` of `-u user:pass`).
    prefix: &'static str,
}

const fn takes(programs: &'static str, options: &'static [&'static str]) -> SecretOptions {
    SecretOptions {
        programs,
        subcommand: None,
        options,
        prefix: "",
    }
}

/// The clients and monitoring plugins an admin's commands and checks use, with the options
/// that take a secret. Options are case-sensitive: `check_snmp -C` is the community, `-c` the
/// critical threshold.
const SECRET_OPTIONS: &[SecretOptions] = &[
    takes(
        r"mysql|mysqldump|mysqladmin|mysqlcheck|mysqlimport|mysqlshow|mariadb|mariadb-dump|mariadb-admin|check_mysql|check_mysql_query|check_pgsql|sshpass|mongo|mongosh|mongodump|mongorestore|racadm",
        &["-p"],
    ),
    takes(r"mysqladmin", &["password"]),
    takes(r"redis-cli|valkey-cli|check_redis", &["-a", "--pass"]),
    SecretOptions {
        prefix: r"[^\s:]*:",
        ..takes(
            r"curl|check_http|check_curl",
            &[
                "-u",
                "--user",
                "-a",
                "--authorization",
                "-U",
                "--proxy-user",
            ],
        )
    },
    takes(
        r"ldapsearch|ldapmodify|ldapadd|ldapdelete|ldapwhoami|ldapcompare|ldapmodrdn|ldapexop|ldappasswd|ldapurl|ldapvc",
        &["-w"],
    ),
    takes(r"ldappasswd", &["-s", "-a"]),
    takes(r"check_ldap|check_ldaps", &["-P", "--pass"]),
    takes(
        r"check_snmp",
        &[
            "-C",
            "--community",
            "-A",
            "--authpassword",
            "-X",
            "--privpasswd",
        ],
    ),
    takes(
        r"snmpwalk|snmpbulkwalk|snmpget|snmpgetnext|snmpbulkget|snmpset|snmptable|snmpstatus|snmpdf|snmptrap|snmpinform|snmpdelta|snmpnetstat|snmptest|snmpusm|snmpvacm",
        &["-c", "-A", "-X"],
    ),
    takes(
        r"check_hpjd|check_ifstatus|check_ifoperstatus",
        &["-C", "--community"],
    ),
    takes(r"check_nt", &["-s", "--secret"]),
    takes(r"check_smtp", &["-P", "--authpass"]),
    takes(r"check_radius", &["-p", "--password", "-s", "--secret"]),
    takes(r"ipmitool", &["-P", "-k", "-y"]),
    SecretOptions {
        prefix: r"[^\s%]*%",
        ..takes(r"smbclient|rpcclient|smbcacls|smbget", &["-U", "--user"])
    },
    SecretOptions {
        prefix: r"[^\s,]*,",
        ..takes(r"lftp", &["-u"])
    },
    SecretOptions {
        subcommand: Some("login"),
        ..takes(r"docker|podman|buildah|nerdctl|helm", &["-p", "--password"])
    },
    SecretOptions {
        prefix: "pass:",
        ..takes(r"openssl", &["-passin", "-passout", "-pass"])
    },
    takes(r"openssl", &["-k"]),
    takes(
        r"keytool",
        &[
            "-storepass",
            "-keypass",
            "-srcstorepass",
            "-deststorepass",
            "-srckeypass",
            "-destkeypass",
        ],
    ),
    takes(r"zip|unzip|zipcloak|zipnote", &["-P", "--password"]),
    takes(r"7z|7za|7zr", &["-p"]),
    takes(
        r"xfreerdp|wlfreerdp|sdl-freerdp|xfreerdp3",
        &["/p:", "/gp:", "/pth:"],
    ),
    takes(r"ssh-keygen", &["-N", "-P"]),
    takes(r"gpg|gpg2", &["--passphrase"]),
    takes(r"sqlcmd|bcp|osql", &["-P"]),
];

/// Names in a `name=value` or `name: value` pair that mean the value is secret.
const SECRET_NAMES: &str = r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|account[_-]?key|shared[_-]?access[_-]?key|app[_-]?key|credentials?|psk|pre[_-]?shared[_-]?key|community|client[_-]?key[_-]?data";

/// A setting's name: one holding a secret word, or `auth` as a whole part of it (`BASIC_AUTH`,
/// `X-Auth-Key`), but not `Authorization`, which has its own rule.
fn secret_key() -> String {
    format!(
        r"(?P<key>[A-Za-z0-9_.-]*(?:{SECRET_NAMES})[A-Za-z0-9_.-]*|\b(?:[A-Za-z0-9.-]*[_.-])?auth(?:[_.-][A-Za-z0-9_.-]*)?)"
    )
}

fn builtin_rules() -> Vec<(String, String)> {
    let value = masked_or!(r#"[^\s"']+"#);
    let key_end = r"(?:[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?|OpenVPN Static key V1)";
    let mut rules = vec![
        // Private keys: PEM (RSA, EC, OPENSSH, PKCS#8, encrypted), PGP, SSH2 (`---- BEGIN SSH2
        // ENCRYPTED PRIVATE KEY ----`) and OpenVPN static key blocks, also inside a JSON string
        // with escaped newlines; a block cut off by a log tail is masked to the end.
        (
            format!(r"-{{4,5}} ?BEGIN {key_end} ?-{{4,5}}[\s\S]*?(?:-{{4,5}} ?END {key_end} ?-{{4,5}}|\z)"),
            KEY_MASK.to_string(),
        ),
        // A key body whose BEGIN line was cut off (a log tail starting inside it): the lines
        // of base64 up to its END line.
        (
            format!(r"(?m)(?:^[A-Za-z0-9+/=]+[ \t]*\r?\n)+-{{4,5}} ?END {key_end} ?-{{4,5}}"),
            KEY_MASK.to_string(),
        ),
        // A PuTTY key file's private lines.
        (
            r"(?m)(Private-Lines:[ \t]*\d+[ \t]*\r?\n)(?:[A-Za-z0-9+/=]+[ \t]*(?:\r?\n|\z))+".to_string(),
            format!("${{1}}{KEY_MASK}\n"),
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
        // The signature of an AWS Signature Version 4 header or query.
        (
            format!(r"(?i)\b((?:x-amz-)?signature=){}", masked_or!(r"[0-9a-f]{64}")),
            format!("${{1}}{MASK}"),
        ),
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
        // A token as the whole user part of a URL: https://TOKEN@github.com/org/repo.git (a
        // user name is short: `git@`, `deploy@` stay).
        (
            format!(r"(?i)\b([a-z][a-z0-9+.-]*://){}@", masked_or!(r"[A-Za-z0-9_.~%-]{16,}")),
            format!("${{1}}{MASK}@"),
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
        // Long options with the secret as the next word: `--password PASS`, `--api-key KEY`,
        // `--passphrase 'two words'`, `--oauth2-bearer TOKEN`.
        (
            format!(r#"(?i)((?:^|\s)--?(?:[a-z0-9]+-)*(?:password|passwd|passphrase|pass|secret|token|api-?key|auth-token|bearer)[ \t]+){WORD_OR_QUOTED}"#),
            format!("${{1}}{MASK}"),
        ),
        // Config directives whose value is the secret: Redis `requirepass`/`masterauth` (also
        // as `CONFIG SET` arguments in MONITOR output), snmpd communities, HAProxy's
        // `insecure-password`.
        (
            format!(r#"(?i)(\b(?:requirepass|masterauth|rocommunity6?|rwcommunity6?|insecure-password)["']?[ \t]+){WORD_OR_QUOTED}"#),
            format!("${{1}}{MASK}"),
        ),
        // A quoted secret after its keyword: SQL `PASSWORD '…'` and `IDENTIFIED BY '…'`,
        // ipsec.secrets `PSK "…"`.
        (
            r#"(?i)(\b(?:password|passwd|identified[ \t]+by|psk|secret)[ \t]+)(?:"[^"\r\n]*"|'[^'\r\n]*')"#.to_string(),
            format!("${{1}}{MASK}"),
        ),
        // Redis's AUTH command as MONITOR shows it: every argument.
        (
            r#"(?i)("auth")(?:[ \t]+"(?:[^"\\\r\n]|\\.)*")+"#.to_string(),
            format!("${{1}} {MASK}"),
        ),
        // .netrc: `machine HOST login USER password PASS`.
        (
            format!(r"(?i)(\b(?:machine[ \t]+\S+|default)(?:[ \t]+\S+)*?[ \t]+password[ \t]+){value}"),
            format!("${{1}}{MASK}"),
        ),
        // HAProxy `stats auth USER:PASS`.
        (
            format!(r"(?i)(\bstats[ \t]+auth[ \t]+[^\s:]+:){value}"),
            format!("${{1}}{MASK}"),
        ),
        // `htpasswd -b FILE USER PASS`: the password is the third word after the options.
        (
            format!(r"(\bhtpasswd(?:[ \t]+-\S+)*?[ \t]+-[A-Za-z]*b[A-Za-z]*(?:[ \t]+-\S+)*[ \t]+\S+[ \t]+\S+[ \t]+){value}"),
            format!("${{1}}{MASK}"),
        ),
        // Crypt(3) password hashes (htpasswd, shadow): offline cracking material.
        (
            r"\$(?:1|2[abxy]?|5|6|7|y|gy|apr1)\$[./A-Za-z0-9$]{8,}".to_string(),
            MASK.to_string(),
        ),
    ];
    for options in SECRET_OPTIONS {
        rules.push((options.text_rule(), format!("${{1}}{MASK}")));
    }
    let key = secret_key();
    // The same quoted inside JSON text: `password=\"two words\"`.
    rules.push((
        format!(r#"(?i){key}(?P<sep>(?:\\?["'])?\s*[=:]\s*)\\"(?:[^"\\\r\n]|\\[^"])*\\""#),
        format!(r#"${{key}}${{sep}}\"{MASK}\""#),
    ));
    // `name = "value"`, `"name": "value"`, `name: 'value'`: the whole quoted value. `$key`
    // keeps the name so the text still says which setting was there.
    for quote in ['"', '\''] {
        rules.push((
            format!(r#"(?i){key}(?P<sep>["']?\s*[=:]\s*){quote}(?:[^{quote}\\\r\n]|\\.)*{quote}"#),
            format!("${{key}}${{sep}}{quote}{MASK}{quote}"),
        ));
    }
    // `name: value` (YAML, headers) and `name = value` (INI, TOML): the value is the rest of
    // the line, spaces and all (`secret: correct horse battery staple`); inside JSON text it
    // stops at a quote or an escape.
    rules.push((
        format!(
            r#"(?i){key}(?P<sep>["']?[ \t]*:[ \t]*|[ \t]+=[ \t]+){}"#,
            masked_or!(r#"(?:[^\s"'\\]|\\[^nrt"'\\])(?:[^\r\n"\\]|\\[^nrt"\\])*"#)
        ),
        format!("${{key}}${{sep}}{MASK}"),
    ));
    // `name=value` (shell, URLs, connection strings): the value ends at a space or a
    // separator of the string it sits in.
    rules.push((
        format!(
            r#"(?i){key}(?P<sep>(?:\\?["'])?=(?:\\?["'])?){}"#,
            masked_or!(r#"(?:[^\s"',;&\\]|\\[^"'])+"#)
        ),
        format!("${{key}}${{sep}}{MASK}"),
    ));
    rules.push((format!(r"\b(?:{})\b", TOKENS.join("|")), MASK.to_string()));
    rules
}

impl SecretOptions {
    /// The rule for a command line in text: the program, then (past other words) the option
    /// and its value, glued (`-pPASS`), after `=` or as the next word.
    fn text_rule(&self) -> String {
        let subcommand = self
            .subcommand
            .map(|sub| format!(r"(?:[ \t]+\S+)*?[ \t]+{sub}\b"))
            .unwrap_or_default();
        let options: Vec<String> = self.options.iter().map(|o| regex::escape(o)).collect();
        let value = if self.prefix.is_empty() {
            WORD_OR_QUOTED.to_string()
        } else {
            masked_or!(r#"[^\s"']+"#).to_string()
        };
        let prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!(r#"["']?{}"#, self.prefix)
        };
        format!(
            r#"((?i:\b(?:{programs}))\b{subcommand}(?:[ \t]+\S+)*?[ \t]+(?:{options})(?:=|[ \t]*){prefix}){value}"#,
            programs = self.programs,
            options = options.join("|"),
        )
    }
}

/// [`SecretOptions`] compiled for argument vectors.
#[derive(Clone)]
struct ArgvOptions {
    program: Regex,
    subcommand: Option<&'static str>,
    options: &'static [&'static str],
    /// What stays of a value before its secret; `None`: the whole value is secret.
    prefix: Option<Regex>,
}

impl ArgvOptions {
    fn compile(options: &SecretOptions) -> Result<ArgvOptions, regex::Error> {
        Ok(ArgvOptions {
            program: Regex::new(&format!("(?i)^(?:{})$", options.programs))?,
            subcommand: options.subcommand,
            options: options.options,
            prefix: match options.prefix {
                "" => None,
                prefix => Some(Regex::new(&format!("^{prefix}"))?),
            },
        })
    }

    /// The value with its secret masked; a value without the secret part (`-u user` alone)
    /// stays as it is.
    fn mask(&self, value: &str) -> String {
        match &self.prefix {
            None => MASK.to_string(),
            Some(prefix) => match prefix.find(value) {
                Some(kept) => format!("{}{MASK}", kept.as_str()),
                None => value.to_string(),
            },
        }
    }

    /// Masks, in place, the values of this program's secret options in `argv[from..]`.
    fn apply(&self, argv: &mut [String], from: usize) {
        let mut i = from;
        while i < argv.len() {
            let word = argv[i].clone();
            for option in self.options {
                if word == *option {
                    if let Some(value) = argv.get_mut(i + 1) {
                        *value = self.mask(value);
                    }
                    i += 1;
                    break;
                }
                let glued = option.len() == 2 || option.ends_with(':');
                if let Some(rest) = word.strip_prefix(&format!("{option}=")) {
                    argv[i] = format!("{option}={}", self.mask(rest));
                    break;
                }
                if let Some(rest) = word.strip_prefix(option).filter(|r| glued && !r.is_empty()) {
                    argv[i] = format!("{option}{}", self.mask(rest));
                    break;
                }
            }
            i += 1;
        }
    }
}

/// `pattern` with its word boundaries on ASCII: a Unicode `\b` keeps the fast automaton from
/// running on text with any non-ASCII character (a dash, a name), which made masking a page of
/// such text several times slower. Secrets and their names are ASCII.
fn ascii_boundaries(pattern: &str) -> String {
    pattern.replace(r"\b", r"(?-u:\b)")
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

/// One masking step: a rule, or the private-key bodies with no BEGIN or END line.
#[derive(Clone)]
enum Step {
    Rule(Rule),
    KeyBody,
}

#[derive(Clone)]
pub struct Redactor {
    steps: Vec<Step>,
    /// The known clients' secret options, compiled when an argument vector is first masked.
    argv_options: OnceLock<Vec<ArgvOptions>>,
}

impl Redactor {
    /// The built-in rules and the admin's own; a bad admin pattern is an error. The admin's
    /// patterns are compiled now, so the error comes with the config; the built-in ones when a
    /// text first needs them.
    pub fn new(extra: &[String]) -> Result<Redactor, regex::Error> {
        let mut steps: Vec<Step> = builtin_rules()
            .into_iter()
            .map(|(pattern, replacement)| {
                Step::Rule(Rule::new(ascii_boundaries(&pattern), replacement))
            })
            .collect();
        // After the blocks with a BEGIN or END line, which it would cut in two.
        steps.push(Step::KeyBody);
        for pattern in extra {
            let rule = Rule::new(pattern.clone(), MASK.to_string());
            let _ = rule.regex.set(Some(Regex::new(pattern)?));
            steps.push(Step::Rule(rule));
        }
        Ok(Redactor {
            steps,
            argv_options: OnceLock::new(),
        })
    }

    /// The known clients' secret options (every one compiles: a test says so).
    fn argv_options(&self) -> &[ArgvOptions] {
        self.argv_options.get_or_init(|| {
            SECRET_OPTIONS
                .iter()
                .filter_map(|options| ArgvOptions::compile(options).ok())
                .collect()
        })
    }

    #[cfg(test)]
    fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.steps.iter().filter_map(|step| match step {
            Step::Rule(rule) => Some(rule),
            Step::KeyBody => None,
        })
    }

    /// The built-in rules alone, for a process that has no config at hand.
    pub fn builtin() -> Redactor {
        Redactor::new(&[]).expect("the built-in patterns compile")
    }

    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        // The text's lower case, for the gates; made again after a step changed the text.
        let mut lower = None;
        for step in &self.steps {
            let changed = match step {
                Step::Rule(rule) => {
                    rule.gate().may_match(&text, &mut lower) && rule.apply(&mut text)
                }
                Step::KeyBody => match mask_key_bodies(&text) {
                    Some(masked) => {
                        text = masked;
                        true
                    }
                    None => false,
                },
            };
            if changed {
                lower = None;
            }
        }
        text
    }

    /// An argument vector masked as the command line it stands for: `["mysql", "-p", "PASS"]`
    /// loses `PASS` although no single word looks secret. First the known clients' secret
    /// options, word by word (a value with spaces is masked whole); then each word is masked
    /// as it reads at the end of the line so far; when the mask reaches back past the word, it
    /// is masked whole.
    pub fn redact_argv(&self, argv: &[String]) -> Vec<String> {
        let argv = self.mask_secret_options(argv);
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

    /// The values of known programs' secret options masked, wherever the program appears in
    /// the vector (after `sudo`, `env`, `timeout`, …), by its base name.
    fn mask_secret_options(&self, argv: &[String]) -> Vec<String> {
        let mut masked = argv.to_vec();
        for (i, word) in argv.iter().enumerate() {
            let name = word.rsplit('/').next().unwrap_or(word);
            for options in self
                .argv_options()
                .iter()
                .filter(|o| o.program.is_match(name))
            {
                let from = match options.subcommand {
                    None => Some(i + 1),
                    Some(sub) => argv[i + 1..]
                        .iter()
                        .position(|w| w == sub)
                        .map(|at| i + 1 + at + 1),
                };
                if let Some(from) = from {
                    options.apply(&mut masked, from);
                }
            }
        }
        masked
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

/// Whether a list of strings reads as an argument vector: short, and mostly words. A list of
/// log lines (most with spaces) is masked line by line: read as one command line, a setting
/// masked to the end of its line would take every later line with it.
fn is_short_word_list(items: &[serde_json::Value]) -> bool {
    let spaced = items
        .iter()
        .filter(|v| v.as_str().is_some_and(|s| s.contains(char::is_whitespace)))
        .count();
    items.len() > 1
        && items.len() <= ARGV_WORDS
        && items.iter().all(|v| v.is_string())
        && spaced * 2 < items.len()
}

/// A private key's body seen without its BEGIN and END lines (a log tail inside a long key):
/// two or more consecutive lines of nothing but base64, 40 to 100 characters each, letters of
/// both cases among them (a hex dump is not a key). Each such run becomes one masked line.
fn mask_key_bodies(text: &str) -> Option<String> {
    fn is_body_line(line: &str) -> bool {
        let line = line.trim_end_matches(['\r', ' ', '\t']);
        (40..=100).contains(&line.len())
            && line
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
    }
    fn mixed_case(lines: &[&str]) -> bool {
        let text = lines.concat();
        text.bytes().any(|b| b.is_ascii_uppercase()) && text.bytes().any(|b| b.is_ascii_lowercase())
    }
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    let mut changed = false;
    let mut i = 0;
    while i < lines.len() {
        let run = lines[i..].iter().take_while(|l| is_body_line(l)).count();
        if run >= 2 && mixed_case(&lines[i..i + run]) {
            out.push(KEY_MASK);
            changed = true;
            i += run;
        } else {
            out.push(lines[i]);
            i += 1;
        }
    }
    changed.then(|| out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One redactor for every test: compiling its rules is the slow part, in a debug build.
    fn builtin() -> &'static Redactor {
        static REDACTOR: std::sync::OnceLock<Redactor> = std::sync::OnceLock::new();
        REDACTOR.get_or_init(Redactor::builtin)
    }

    fn redact(text: &str) -> String {
        builtin().redact(text)
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
            builtin().redact_argv(&argv),
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
        builtin().redact_value(&mut value);
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

    fn argv(words: &[&str]) -> Vec<String> {
        builtin().redact_argv(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn known_clients_lose_the_values_of_their_secret_options() {
        assert_eq!(
            argv(&["ldapsearch", "-x", "-w", "two words", "-b", "dc=x"]),
            ["ldapsearch", "-x", "-w", "[REDACTED]", "-b", "dc=x"]
        );
        assert_eq!(
            argv(&[
                "sudo",
                "/usr/lib/nagios/plugins/check_snmp",
                "-H",
                "sw1",
                "-C",
                "public",
                "-c",
                "20"
            ]),
            [
                "sudo",
                "/usr/lib/nagios/plugins/check_snmp",
                "-H",
                "sw1",
                "-C",
                "[REDACTED]",
                "-c",
                "20"
            ]
        );
        assert_eq!(
            argv(&["check_snmp", "-Cpublic"]),
            ["check_snmp", "-C[REDACTED]"]
        );
        assert_eq!(
            argv(&["check_snmp", "--community=public"]),
            ["check_snmp", "--community=[REDACTED]"]
        );
        assert_eq!(
            argv(&["docker", "run", "-p", "8080:80"]),
            ["docker", "run", "-p", "8080:80"]
        );
        assert_eq!(
            argv(&["docker", "login", "-u", "ci", "-p", "x1"]),
            ["docker", "login", "-u", "ci", "-p", "[REDACTED]"]
        );
        assert_eq!(
            argv(&["curl", "-u", "admin", "http://h/"]),
            ["curl", "-u", "admin", "http://h/"]
        );
        assert_eq!(
            argv(&["smbclient", "-U", "bob%pw 2"]),
            ["smbclient", "-U", "bob%[REDACTED]"]
        );
        assert_eq!(
            argv(&["lftp", "-u", "bob,pw"]),
            ["lftp", "-u", "bob,[REDACTED]"]
        );
        assert_eq!(
            argv(&["xfreerdp", "/u:bob", "/p:pw"]),
            ["xfreerdp", "/u:bob", "/p:[REDACTED]"]
        );
        assert_eq!(
            argv(&["openssl", "rsa", "-passin", "env:KEYPASS"]),
            ["openssl", "rsa", "-passin", "env:KEYPASS"]
        );
        assert_eq!(
            argv(&["openssl", "rsa", "-passin", "pass:pw"]),
            ["openssl", "rsa", "-passin", "pass:[REDACTED]"]
        );
        assert_eq!(
            argv(&["ssh-keygen", "-N", ""]),
            ["ssh-keygen", "-N", "[REDACTED]"]
        );
        assert_eq!(
            argv(&["htpasswd", "-b", "/etc/h", "bob", "pw"]),
            ["htpasswd", "-b", "/etc/h", "bob", "[REDACTED]"]
        );
    }

    #[test]
    fn command_lines_in_text_by_option() {
        for (line, kept) in [
            (
                "ldapsearch -x -D cn=admin -w Pw1 -b dc=x",
                "ldapsearch -x -D cn=admin -w [REDACTED] -b dc=x",
            ),
            (
                "check_snmp -H sw1 -C Comm1 -w 10 -c 20",
                "check_snmp -H sw1 -C [REDACTED] -w 10 -c 20",
            ),
            (
                "snmpwalk -v2c -c Comm2 sw1 system",
                "snmpwalk -v2c -c [REDACTED] sw1 system",
            ),
            (
                "smbclient //nas/x -U bob%Pw3 -c ls",
                "smbclient //nas/x -U bob%[REDACTED] -c ls",
            ),
            ("zip -P 'two words' a.zip f", "zip -P [REDACTED] a.zip f"),
            ("docker run -p 8080:80 nginx", "docker run -p 8080:80 nginx"),
            ("snmpwalk -v2c sw1 system", "snmpwalk -v2c sw1 system"),
        ] {
            assert_eq!(redact(line), kept);
        }
    }

    /// Every rule applied to every text, gates or not: what the gates must not change.
    fn redact_ungated(redactor: &Redactor, text: &str) -> String {
        let mut text = text.to_string();
        for step in &redactor.steps {
            match step {
                Step::Rule(rule) => {
                    rule.apply(&mut text);
                }
                Step::KeyBody => {
                    if let Some(masked) = mask_key_bodies(&text) {
                        text = masked;
                    }
                }
            }
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
    fn a_setting_loses_its_whole_value() {
        for (line, kept) in [
            ("secret: correct horse battery staple", "secret: [REDACTED]"),
            (
                "DB_PASSWORD=\"two words\" next",
                "DB_PASSWORD=\"[REDACTED]\" next",
            ),
            ("passphrase = open sesame", "passphrase = [REDACTED]"),
            ("psk='wifi pass'", "psk='[REDACTED]'"),
            ("BASIC_AUTH=admin:pw next", "BASIC_AUTH=[REDACTED] next"),
            ("requirepass \"two words\"", "requirepass [REDACTED]"),
            (
                "ALTER ROLE app PASSWORD 'x y'",
                "ALTER ROLE app PASSWORD [REDACTED]",
            ),
            ("\"AUTH\" \"default\" \"pw\"", "\"AUTH\" [REDACTED]"),
            (
                "machine h login bob password pw",
                "machine h login bob password [REDACTED]",
            ),
            (
                "https://abcdefghijklmnopqrstu@github.com/o/r",
                "https://[REDACTED]@github.com/o/r",
            ),
        ] {
            assert_eq!(redact(line), kept, "{line}");
        }
        // In JSON text, a value masked to the end of its line stops at the string's end.
        assert_eq!(
            redact(r#"{"note": "secret: a b\nnext", "x": 1}"#),
            r#"{"note": "secret: [REDACTED]\nnext", "x": 1}"#
        );
        for line in [
            "ssh://git@github.com/o/r",
            "Authorization failed for user bob",
            "app: secret rotation finished",
            "FATAL:  password authentication failed for user app",
        ] {
            assert_eq!(redact(line), line);
        }
    }

    #[test]
    fn a_key_body_is_masked_without_its_header() {
        let body = "MIIEowIBAAKCAQEAx7RsaKeyBodyLineOneAbCdEfGhIjKlMnOpQrStUvWxYz0123\n\
                    RsaKeyBodyLineTwo9f8e7d6c5b4aAbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
        let tail = format!("{body}\n-----END RSA PRIVATE KEY-----\nafter");
        assert_eq!(redact(&tail), "[REDACTED PRIVATE KEY]\nafter");
        let middle = format!("before\n{body}\nafter");
        assert_eq!(redact(&middle), "before\n[REDACTED PRIVATE KEY]\nafter");
        // One line of base64, or lines of hex, are no key.
        let one = "MIIEowIBAAKCAQEAx7RsaKeyBodyLineOneAbCdEfGhIjKlMnOpQrStUvWxYz0123";
        assert_eq!(redact(one), one);
        let hex = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d\n\
                   1a0f9e8d9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b";
        assert_eq!(redact(hex), hex);
        let putty = "Private-Lines: 1\nAAAAIPuttyPrivate0123456789\nPrivate-MAC: 00";
        assert_eq!(
            redact(putty),
            "Private-Lines: 1\n[REDACTED PRIVATE KEY]\nPrivate-MAC: 00"
        );
    }

    #[test]
    fn a_list_of_log_lines_is_masked_line_by_line() {
        let mut lines = serde_json::json!(["app: token: abc def", "app: started on port 8080"]);
        builtin().redact_value(&mut lines);
        assert_eq!(
            lines,
            serde_json::json!(["app: token: [REDACTED]", "app: started on port 8080"])
        );
    }

    #[test]
    fn masking_the_further_forms_twice_changes_nothing() {
        let text = "ldapsearch -w Pw1 -b x\nsecret: a b c\nDB_PASSWORD=\"a b\"\nrequirepass x\n\
                    \"AUTH\" \"pw\"\nhttps://abcdefghijklmnopqrstu@h/\nPrivate-Lines: 1\nAAAA\n\
                    ALTER ROLE a PASSWORD 'x'\nSignature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";
        let once = redact(text);
        assert_eq!(redact(&once), once);
        let json = serde_json::to_string(&once).unwrap();
        assert_eq!(redact(&json), json);
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
            .rules()
            .filter(|rule| rule.regex.get().is_some())
            .map(|rule| rule.pattern.as_str())
            .collect();
        assert!(compiled.is_empty(), "{compiled:#?}");
        // One that names a secret compiles what it needs, and is masked.
        assert_eq!(r.redact("password=hunter2"), "password=[REDACTED]");
        assert!(r.rules().any(|rule| rule.regex.get().is_some()));
    }

    #[test]
    fn every_built_in_rule_compiles() {
        for (pattern, _) in builtin_rules() {
            assert!(Regex::new(&ascii_boundaries(&pattern)).is_ok(), "{pattern}");
        }
        for options in SECRET_OPTIONS {
            assert!(
                ArgvOptions::compile(options).is_ok(),
                "{}",
                options.programs
            );
        }
    }

    #[test]
    fn admin_patterns_apply() {
        let r = Redactor::new(&["internal-[0-9]+".to_string()]).unwrap();
        assert_eq!(r.redact("host internal-42 down"), "host [REDACTED] down");
    }
}
