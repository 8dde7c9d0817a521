//! `[[checks]]` entries. The keys every check has are one serde struct (`RawCheck`, here);
//! the keys of its kind are handed, with their spans, to the kind's own module under
//! `src/checks/`, which reads and judges them (`checks::Kind`). Unknown keys are caught while
//! deserializing, with a span, as serde's `deny_unknown_fields` would.

use super::error::{Problem, Source};
use super::limits;
use crate::actions::Action;
pub use crate::checks::CheckKind;
use crate::checks::{KeyProblem, Keys, KindInfo, KINDS};
use crate::duration::Duration;
pub use crate::model::Severity;
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::OnceLock;
use toml::{Spanned, Value};

#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub kind: CheckKind,
    pub timeout: Duration,
    /// The unit this check guards: the default target of unit actions.
    pub unit: Option<String>,
    /// Phase-1 remedies, tried in order, each as a plan of its own.
    pub remedy: Vec<Action>,
    /// The lowest severity that phases act on.
    pub act_on: Severity,
    /// Log files whose tails go into an agent's context.
    pub logs: Vec<PathBuf>,
    /// Checks this one needs: while one of them fails, this one's failure is its symptom.
    pub depends_on: Vec<String>,
    /// The service this check watches, naming its group (else its `unit` does).
    pub service: Option<String>,
    /// The daemon's own test of its configuration (`nginx -t`), run before any plan that
    /// (re)starts it; empty when none is configured.
    pub config_test: Vec<String>,
    /// Guidance a person wrote for this check (`runbook = """..."""`, or the file
    /// `runbooks/NAME.md` beside the config file): known causes, what is safe, whom to call.
    pub runbook: Option<String>,
    /// Scans in a row that must find the check failing before the failure counts (Monit's
    /// `for N cycles`); 1 counts every failure at once.
    pub for_cycles: u32,
    /// Files and directories that belong to the service (its state, runtime or spool): what
    /// they hold is tied to it (`service_files`), their filesystems are looked at by the facts
    /// and by the implicit disk dependencies.
    pub paths: Vec<PathBuf>,
}

impl crate::checks::Runnable for Check {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &CheckKind {
        &self.kind
    }

    fn deadline(&self) -> std::time::Duration {
        self.timeout.std()
    }
}

impl Check {
    /// The unit the check watches or guards: a `systemd` check's own, else its `unit` key.
    pub fn unit_name(&self) -> Option<&str> {
        self.kind.unit().or(self.unit.as_deref())
    }

    pub fn acts_on(&self, severity: Severity) -> bool {
        match severity {
            Severity::Critical => true,
            Severity::Warning => self.act_on == Severity::Warning,
            Severity::Unknown => false,
        }
    }

    /// The group of checks watching one service: one incident per fault, one remedy run,
    /// one restart budget. `service` names it, else the `unit`.
    pub fn group(&self) -> Option<&str> {
        self.service.as_deref().or(self.unit.as_deref())
    }
}

/// The keys every check has, whatever its kind: a new one is a field here and nothing else
/// (`common_keys` reads the list from serde). The kind's own keys are in
/// `CheckTable::kind_keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    pub name: Spanned<String>,
    kind: Spanned<String>,
    timeout: Option<Duration>,
    unit: Option<String>,
    #[serde(default)]
    remedy: Vec<Action>,
    act_on: Option<Spanned<String>>,
    #[serde(default)]
    logs: Vec<PathBuf>,
    #[serde(default)]
    depends_on: Vec<String>,
    service: Option<String>,
    config_test: Option<Vec<String>>,
    runbook: Option<String>,
    #[serde(default)]
    paths: Vec<PathBuf>,
    for_cycles: Option<u32>,
}

/// One `[[checks]]` table: the common keys, and the keys that belong to some kind, kept as
/// TOML values with their spans until the kind is known.
#[derive(Debug)]
pub(in crate::config) struct CheckTable {
    pub common: RawCheck,
    kind_keys: Vec<(String, Spanned<Value>)>,
}

/// The field names of `RawCheck`, as its derived `Deserialize` hands them to the deserializer.
pub(super) fn common_keys() -> &'static [&'static str] {
    static COMMON: OnceLock<&'static [&'static str]> = OnceLock::new();
    COMMON.get_or_init(field_names::<RawCheck>)
}

/// The field names of a struct, as its derived `Deserialize` hands them to the deserializer:
/// the keys its TOML table takes.
pub(super) fn field_names<T: Deserialize<'static>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

/// A deserializer that only notes the field names of the struct asked of it.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("field names noted"))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only a struct's field names are read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// Every key a check may have: the common ones, then each kind's, in the order of `KINDS`.
fn all_keys() -> &'static [&'static str] {
    static ALL: OnceLock<Vec<&'static str>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<&'static str> = common_keys().to_vec();
        for key in KINDS.iter().flat_map(|kind| kind.keys) {
            if !all.contains(key) {
                all.push(key);
            }
        }
        all
    })
}

impl<'de> Deserialize<'de> for CheckTable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(CheckTableVisitor)
    }
}

struct CheckTableVisitor;

impl<'de> Visitor<'de> for CheckTableVisitor {
    type Value = CheckTable;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a check table")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CheckTable, A::Error> {
        let mut kind_keys = Vec::new();
        let common_only = CommonKeysOnly {
            inner: map,
            kind_keys: &mut kind_keys,
        };
        let common = RawCheck::deserialize(de::value::MapAccessDeserializer::new(common_only))?;
        Ok(CheckTable { common, kind_keys })
    }
}

/// A view of the check's table that shows `RawCheck` only the common keys and keeps the
/// others aside. Keys are judged while the TOML deserializer reads them, so an unknown key's
/// error points at the key, as before.
struct CommonKeysOnly<'a, A> {
    inner: A,
    kind_keys: &'a mut Vec<(String, Spanned<Value>)>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for CommonKeysOnly<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.inner.next_key_seed(KnownKey)? {
            if common_keys().contains(&key.as_str()) {
                return seed
                    .deserialize(de::value::StringDeserializer::new(key))
                    .map(Some);
            }
            let value: Spanned<Value> = self.inner.next_value()?;
            self.kind_keys.push((key, value));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }
}

/// A key name that some check takes; any other is `unknown field`, listing them all.
struct KnownKey;

impl<'de> DeserializeSeed<'de> for KnownKey {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        let key = String::deserialize(deserializer)?;
        if all_keys().contains(&key.as_str()) {
            Ok(key)
        } else {
            Err(de::Error::unknown_field(&key, all_keys()))
        }
    }
}

/// Collects problems for one check, each pointing at its key's line.
struct Validator<'a> {
    source: &'a Source,
    table: &'a Range<usize>,
    check: String,
    problems: Vec<Problem>,
}

impl Validator<'_> {
    fn problem(&mut self, key: &str, message: impl Into<String>) {
        let span = self
            .source
            .key_span(self.table, key)
            .or_else(|| Some(self.table.clone()));
        let message = format!("check `{}`: {}", self.check, message.into());
        self.problems
            .push(Problem::at(self.source, span, Some(key), message));
    }

    /// A problem a kind module found with one of its keys.
    fn key_problem(&mut self, found: KeyProblem) {
        match found.value_span {
            // A value of the wrong type: worded and pointed at as serde does.
            Some(span) => self.problems.push(Problem::at(
                self.source,
                Some(span),
                Some(found.key),
                found.message,
            )),
            None => self.problem(found.key, found.message),
        }
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@:".contains(c))
}

impl CheckTable {
    pub(super) fn validate(
        self,
        source: &Source,
        table: &Range<usize>,
    ) -> Result<Check, Vec<Problem>> {
        let CheckTable { common, kind_keys } = self;
        let name = common.name.get_ref().clone();
        let mut v = Validator {
            source,
            table,
            check: crate::duration::quoted(&name),
            problems: Vec::new(),
        };
        if !valid_name(&name) {
            v.problem(
                "name",
                "a check name uses letters, digits and - _ . @ : only",
            );
        }
        common.within_limits(&mut v);
        let Some(info) = known_kind(&common, &mut v) else {
            return Err(v.problems);
        };
        let kind_keys = keys_of_kind(info, kind_keys, &mut v);
        let act_on = common.act_on(&mut v);
        let for_cycles = common.for_cycles(&mut v);
        let mut keys = Keys::new(info.name, kind_keys).with_unit(common.unit.clone());
        let check_kind = CheckKind::parse(info.name, &mut keys);
        for problem in keys.into_problems() {
            v.key_problem(problem);
        }
        common.validate_remedies(&mut v);
        common.validate_config_test(&mut v);
        common.validate_paths(&mut v);
        if let Some(problem) = common.runbook.as_deref().and_then(runbook_problem) {
            v.problem("runbook", problem);
        }
        match check_kind {
            Some(check_kind) if v.problems.is_empty() => Ok(Check {
                name,
                unit: common
                    .unit
                    .clone()
                    .or_else(|| check_kind.unit().map(str::to_string)),
                kind: check_kind,
                timeout: common.timeout.unwrap_or(info.default_timeout),
                remedy: common.remedy,
                act_on,
                logs: common.logs,
                depends_on: common.depends_on,
                service: common.service,
                config_test: common.config_test.unwrap_or_default(),
                runbook: common.runbook.filter(|text| !text.trim().is_empty()),
                paths: common.paths,
                for_cycles,
            }),
            _ => Err(v.problems),
        }
    }
}

/// The longest runbook a check may carry, inline or in its file: it goes whole into every
/// agent's prompt, the incident page and the escalation mail.
pub const RUNBOOK_MAX_BYTES: usize = 16 * 1024;

/// Why a runbook's text is refused, if it is.
pub fn runbook_problem(text: &str) -> Option<String> {
    (text.len() > RUNBOOK_MAX_BYTES).then(|| {
        format!(
            "the runbook is {} bytes; at most {RUNBOOK_MAX_BYTES} (it goes whole into every agent's prompt and the escalation mail)",
            text.len()
        )
    })
}

/// The registered kind `kind = "..."` names.
fn known_kind(common: &RawCheck, v: &mut Validator) -> Option<&'static KindInfo> {
    let kind = common.kind.get_ref().as_str();
    let info = KindInfo::named(kind);
    if info.is_none() {
        let names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        v.problem(
            "kind",
            format!(
                "unknown kind `{kind}` (expected one of: {})",
                names.join(", ")
            ),
        );
    }
    info
}

/// The kind-specific keys that belong to this kind; each other one is a problem.
fn keys_of_kind(
    info: &KindInfo,
    kind_keys: Vec<(String, Spanned<Value>)>,
    v: &mut Validator,
) -> Vec<(String, Spanned<Value>)> {
    let (own, foreign): (Vec<_>, Vec<_>) = kind_keys
        .into_iter()
        .partition(|(key, _)| info.keys.contains(&key.as_str()));
    for (key, _) in foreign {
        v.problem(
            &key,
            format!(
                "`{key}` does not apply to a `{}` check (it takes: {})",
                info.name,
                info.keys.join(", ")
            ),
        );
    }
    own
}

impl RawCheck {
    fn act_on(&self, v: &mut Validator) -> Severity {
        match self.act_on.as_ref().map(|s| s.get_ref().as_str()) {
            None | Some("critical") => Severity::Critical,
            Some("warning") => Severity::Warning,
            Some(other) => {
                v.problem(
                    "act_on",
                    format!("expected \"critical\" or \"warning\", got \"{other}\""),
                );
                Severity::Critical
            }
        }
    }

    /// Absolute, without `..`: a tie to the service that text cannot stretch; a bounded list.
    fn validate_paths(&self, v: &mut Validator) {
        const MOST: usize = 64;
        if self.paths.len() > MOST {
            v.problem(
                "paths",
                format!("{} paths; at most {MOST} are allowed", self.paths.len()),
            );
        }
        let bad = self.paths.iter().find(|path| {
            !path.is_absolute()
                || path
                    .components()
                    .any(|c| c == std::path::Component::ParentDir)
        });
        if let Some(bad) = bad {
            v.problem(
                "paths",
                format!("`{}` is not an absolute path without `..`", bad.display()),
            );
        }
    }

    fn validate_config_test(&self, v: &mut Validator) {
        let Some(argv) = &self.config_test else {
            return;
        };
        if argv.first().is_none_or(|program| program.is_empty()) {
            v.problem(
                "config_test",
                "`config_test` is an argv like [\"nginx\", \"-t\"]: a program first, no shell",
            );
        }
    }

    /// At least one scan; at most a thousand (at five minutes a cycle, over three days).
    fn for_cycles(&self, v: &mut Validator) -> u32 {
        const MOST: u32 = 1000;
        match self.for_cycles {
            None => 1,
            Some(n) if (1..=MOST).contains(&n) => n,
            Some(n) => {
                v.problem(
                    "for_cycles",
                    format!("expected a number of scans from 1 to {MOST}, got {n}"),
                );
                1
            }
        }
    }

    /// The name and service within their length, the timeouts within the wait limit, and
    /// `depends_on` within its count (see `limits`).
    fn within_limits(&self, v: &mut Validator) {
        if let Some(why) = limits::name_too_long("a check name", self.name.get_ref()) {
            v.problem("name", why);
        }
        if let Some(why) = self
            .service
            .as_deref()
            .and_then(|service| limits::name_too_long("a service name", service))
        {
            v.problem("service", why);
        }
        if let Some(why) = self.timeout.as_ref().and_then(Duration::over_wait_limit) {
            v.problem("timeout", why);
        }
        let count = self.depends_on.len();
        if count > limits::MAX_DEPENDS_ON {
            v.problem(
                "depends_on",
                format!(
                    "`depends_on` names {count} checks; at most {} are allowed",
                    limits::MAX_DEPENDS_ON
                ),
            );
        }
        for action in &self.remedy {
            if let Action::Run {
                timeout: Some(timeout),
                ..
            } = action
            {
                if let Some(why) = timeout.over_wait_limit() {
                    v.problem("remedy", format!("a `run` action's timeout: {why}"));
                }
            }
        }
    }

    fn validate_remedies(&self, v: &mut Validator) {
        let has_unit = self.unit.is_some();
        for action in &self.remedy {
            if action.kind().spec().needs_unit && action.unit().is_none() && !has_unit {
                v.problem(
                    "remedy",
                    format!(
                        "`{}` without `unit` needs the check to name its `unit`",
                        action.kind()
                    ),
                );
            }
            if let Action::Run { argv, .. } = action {
                if argv.is_empty() {
                    v.problem("remedy", "a `run` remedy needs a non-empty `argv`");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn problems(checks: &str) -> Vec<String> {
        match Config::parse("test.toml", &format!("[[checks]]\n{checks}")) {
            Ok(_) => vec![],
            Err(err) => err.problems(),
        }
    }

    #[test]
    fn the_common_keys_are_read_from_raw_check() {
        for key in [
            "name", "kind", "timeout", "unit", "remedy", "act_on", "logs",
        ] {
            assert!(super::common_keys().contains(&key), "{key}");
        }
    }

    #[test]
    fn a_kind_key_of_the_wrong_type_points_at_its_value() {
        let found = problems(
            "name = \"web\"\nkind = \"http\"\nurl = \"http://x\"\nexpect_status = \"x\"\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with(
                "test.toml:5:17: key `expect_status`: invalid type: string \"x\", expected u16"
            ),
            "{}",
            found[0]
        );
    }

    #[test]
    fn an_unknown_key_points_at_the_key_and_lists_every_key() {
        let found =
            problems("name = \"web\"\nkind = \"http\"\nurl = \"http://x\"\nexpect_code = 200\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("test.toml:5:1: key `expect_code`: unknown field `expect_code`, expected one of `name`"),
            "{}",
            found[0]
        );
        assert!(found[0].contains("`min_size`"), "{}", found[0]);
    }

    #[test]
    fn every_problem_of_a_check_is_reported_at_once() {
        let found = problems(
            "name = \"f\"\nkind = \"file\"\npath = \"/x\"\nmax_size = \"lots\"\nmax_age = \"5\"\nurl = \"u\"\n",
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found
            .iter()
            .any(|p| p.contains("`url` does not apply to a `file` check")));
        assert!(found.iter().any(|p| p.contains("invalid duration `5`")));
        assert!(found.iter().any(|p| p.contains("expected a size like")));
    }

    #[test]
    fn file_sizes_are_read_like_the_other_size_keys() {
        let config = Config::parse(
            "test.toml",
            "[[checks]]\nname = \"backup\"\nkind = \"file\"\npath = \"/b\"\nmin_size = \"1KB\"\nmax_size = \"2MiB\"\nmax_age = \"26h\"\n",
        )
        .unwrap();
        let crate::checks::CheckKind::File(file) = &config.checks[0].kind else {
            panic!("not a file check: {:?}", config.checks[0].kind);
        };
        assert_eq!(file.min_size, Some(1000));
        assert_eq!(file.max_size, Some(2 * 1024 * 1024));
        assert_eq!(file.max_age.map(|d| d.std().as_secs()), Some(26 * 3600));
    }

    #[test]
    fn a_config_test_is_an_argv() {
        let config = Config::parse(
            "test.toml",
            "[[checks]]\nname = \"web\"\nkind = \"tcp\"\naddress = \"127.0.0.1:80\"\nconfig_test = [\"nginx\", \"-t\"]\n",
        )
        .unwrap();
        assert_eq!(config.checks[0].config_test, ["nginx", "-t"]);
        let found = problems(
            "name = \"web\"\nkind = \"tcp\"\naddress = \"127.0.0.1:80\"\nconfig_test = []\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("test.toml:5:1: key `config_test`"),
            "{}",
            found[0]
        );
        let found = problems("name = \"web\"\nkind = \"tcp\"\naddress = \"127.0.0.1:80\"\nconfig_test = \"nginx -t\"\n");
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn a_min_size_above_max_size_is_refused() {
        let found = problems(
            "name = \"f\"\nkind = \"file\"\npath = \"/x\"\nmin_size = \"2MiB\"\nmax_size = \"1MiB\"\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("key `min_size`"), "{}", found[0]);
        assert!(found[0].contains("no file could pass"), "{}", found[0]);
    }
}
