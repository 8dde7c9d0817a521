//! The TOML config (every key: man/orchestrator.toml.5). Parsing is two steps: serde into raw structs that reject unknown
//! keys and bad values (with spans), then validation into the typed `Config` the rest of the
//! program trusts. Every problem names the file, line and key.

mod check;
mod depends;
mod error;
mod limits;
mod maintenance;
mod recover;
mod sections;

pub use check::Check;
pub use error::{ConfigError, Problem, Source};
pub use maintenance::Maintenance;
pub use sections::*;

/// Every key the config file takes outside a check kind's own, by the section of
/// orchestrator.toml(5) that describes it: the field names of each table's serde struct (what
/// the parser accepts), so the man page is held to the parser, not to source text.
pub fn config_keys() -> Vec<(&'static str, &'static [&'static str])> {
    use check::field_names;
    vec![
        ("[state]", field_names::<StateConfig>()),
        ("[cycle]", field_names::<CycleConfig>()),
        ("[cycle]", field_names::<PhaseTimeouts>()),
        ("[[checks]]", check::common_keys()),
        ("[agents.NAME]", field_names::<AgentConfig>()),
        ("[research]", field_names::<ResearchConfig>()),
        ("[consult]", field_names::<ConsultConfig>()),
        ("[policy]", field_names::<PolicyConfig>()),
        ("[policy]", field_names::<Budget>()),
        ("[policy]", field_names::<RestartLimit>()),
        ("[policy]", field_names::<Flapping>()),
        ("[escalation]", field_names::<EscalationConfig>()),
        ("[escalation]", field_names::<EmailConfig>()),
        ("[escalation]", field_names::<WebhookConfig>()),
        ("[escalation]", field_names::<JsonWebhookConfig>()),
        ("[escalation]", field_names::<NtfyConfig>()),
        ("[escalation]", field_names::<SlackConfig>()),
        ("[escalation]", field_names::<MatrixConfig>()),
        (
            "[[maintenance]]",
            field_names::<maintenance::MaintenanceTable>(),
        ),
        ("[serve]", field_names::<ServeConfig>()),
        ("[context]", field_names::<ContextConfig>()),
    ]
}

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use toml::Spanned;

pub const SYSTEM_CONFIG: &str = "/etc/orchestrator/orchestrator.toml";
pub const EMBEDDED_NAME: &str = "<embedded default config>";
pub const DEFAULT_CONFIG_TEXT: &str = include_str!("default.toml");

#[derive(Debug, Clone)]
pub struct Config {
    /// Where it came from: a path, or the embedded default.
    pub source: String,
    pub state: StateConfig,
    pub cycle: CycleConfig,
    pub checks: Vec<Check>,
    pub agents: BTreeMap<String, AgentConfig>,
    pub research: Option<ResearchConfig>,
    pub consult: Option<ConsultConfig>,
    pub policy: PolicyConfig,
    pub escalation: Option<EscalationConfig>,
    pub serve: ServeConfig,
    pub context: ContextConfig,
    /// Each check's place in `checks` by name, so that [`Config::check`] does not search:
    /// the dependency walks ask it once per edge.
    index: HashMap<String, usize>,
    /// `[[maintenance]]`: recurring windows that silence checks.
    pub maintenance: Vec<Maintenance>,
    pub fleet: Option<FleetConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    state: StateConfig,
    #[serde(default)]
    cycle: CycleConfig,
    #[serde(default)]
    checks: Vec<Spanned<check::CheckTable>>,
    #[serde(default)]
    agents: BTreeMap<String, Spanned<AgentConfig>>,
    research: Option<Spanned<ResearchConfig>>,
    consult: Option<Spanned<ConsultConfig>>,
    #[serde(default)]
    policy: PolicyConfig,
    escalation: Option<EscalationConfig>,
    #[serde(default)]
    serve: ServeConfig,
    #[serde(default)]
    context: ContextConfig,
    #[serde(default)]
    maintenance: Vec<Spanned<maintenance::MaintenanceTable>>,
    fleet: Option<FleetConfig>,
}

impl Config {
    /// The config a command runs with: `-c PATH` (or ORCHESTRATOR_CONFIG), else the system file
    /// when it exists, else the embedded default.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        match explicit {
            Some(path) => Config::from_file(path),
            None if Path::new(SYSTEM_CONFIG).exists() => {
                Config::from_file(Path::new(SYSTEM_CONFIG))
            }
            None => Config::embedded_default(),
        }
    }

    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        let mut config = Config::parse(&path.display().to_string(), &text)?;
        config.read_runbook_files(path)?;
        Ok(config)
    }

    /// The directory of runbook files beside a config file: `runbooks/NAME.md` for the check
    /// NAME (names are letters, digits and `- _ . @ :`, and `.md` is added, so a name never
    /// leads out of it).
    pub fn runbook_dir(config_file: &Path) -> PathBuf {
        config_file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("runbooks")
    }

    /// Each check without an inline `runbook` takes its file, if there is one. The files are
    /// the admin's, like the config (root's directory); still, one larger than
    /// [`check::RUNBOOK_MAX_BYTES`], not a regular file, or unreadable, is a config error.
    fn read_runbook_files(&mut self, config_file: &Path) -> Result<(), ConfigError> {
        let dir = Config::runbook_dir(config_file);
        let mut problems = Vec::new();
        for check in self.checks.iter_mut().filter(|c| c.runbook.is_none()) {
            let path = dir.join(format!("{}.md", check.name));
            match read_runbook(&path) {
                Ok(text) => check.runbook = text.filter(|t| !t.trim().is_empty()),
                Err(message) => problems.push(Problem {
                    file: path.display().to_string(),
                    line: None,
                    column: None,
                    key: None,
                    message: format!("runbook of check `{}`: {message}", check.name),
                    source_line: None,
                }),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// The embedded default, less the checks that need systemd on a host not booted with it.
    pub fn embedded_default() -> Result<Config, ConfigError> {
        let mut config = Config::parse(EMBEDDED_NAME, DEFAULT_CONFIG_TEXT)?;
        if !crate::sys::systemd_is_running() {
            config.checks.retain(|c| !c.kind.needs_systemd());
            config.index = index_of(&config.checks);
        }
        Ok(config)
    }

    pub fn parse(name: &str, text: &str) -> Result<Config, ConfigError> {
        let source = Source {
            name: name.to_string(),
            text: text.to_string(),
        };
        let (raw, mut problems) = recover::deserialize_every_error::<RawConfig>(&source);
        let Some(raw) = raw else {
            return Err(ConfigError::Invalid(problems));
        };
        let checks = validate_checks(&source, raw.checks, &mut problems);
        let maintenance = maintenance::validate(&source, raw.maintenance, &checks, &mut problems);
        validate_agents(
            &source,
            &raw.agents,
            raw.research.as_ref(),
            raw.consult.as_ref(),
            &mut problems,
        );
        validate_cycle(&source, &raw.cycle, &mut problems);
        validate_context(&source, &raw.context, &mut problems);
        if let Some(escalation) = &raw.escalation {
            for (key, message) in escalation.validate() {
                let span = escalation_span(&source, key);
                problems.push(Problem::at(&source, span, Some(key), message));
            }
        }
        if let Some(fleet) = &raw.fleet {
            for (key, message) in fleet.validate() {
                let span = section_span(&source, key);
                problems.push(Problem::at(&source, span, Some(key), message));
            }
        }
        if !problems.is_empty() {
            problems.sort_by_key(|problem| problem.line.unwrap_or(usize::MAX));
            return Err(ConfigError::Invalid(problems));
        }
        Ok(Config {
            source: name.to_string(),
            state: raw.state,
            cycle: raw.cycle,
            index: index_of(&checks),
            checks,
            agents: raw
                .agents
                .into_iter()
                .map(|(k, v)| (k, v.into_inner()))
                .collect(),
            research: raw.research.map(Spanned::into_inner),
            consult: raw.consult.map(Spanned::into_inner),
            policy: raw.policy,
            escalation: raw.escalation,
            serve: raw.serve,
            context: raw.context,
            maintenance,
            fleet: raw.fleet,
        })
    }

    /// A silence for a check the config does not know would silence nothing: refused, naming
    /// the checks there are. Shared by `silence add` and the dashboard's form.
    pub fn known_check(&self, name: &str) -> Result<String, String> {
        if self.check(name).is_some() {
            return Ok(name.to_string());
        }
        let known: Vec<&str> = self.checks.iter().map(|c| c.name.as_str()).collect();
        Err(format!(
            "unknown check `{name}`; the config has: {}",
            if known.is_empty() {
                "no checks".to_string()
            } else {
                known.join(", ")
            }
        ))
    }

    pub fn check(&self, name: &str) -> Option<&Check> {
        let indexed = self.index.get(name).and_then(|&i| self.checks.get(i));
        match indexed {
            Some(check) if check.name == name => Some(check),
            // `checks` changed since the index was made: search.
            _ => self.checks.iter().find(|c| c.name == name),
        }
    }

    /// The unit the named check guards, if the check is configured and guards one.
    pub fn unit_of(&self, check: &str) -> Option<&str> {
        self.check(check).and_then(|c| c.unit.as_deref())
    }

    /// The host's one name, in everything orchestrator says about it (the dashboard, the CLI,
    /// mail and alerts, metrics, an agent's context): `[escalation] hostname` when set, else the
    /// kernel's host name, else `localhost`.
    pub fn host_name(&self) -> String {
        self.escalation
            .as_ref()
            .and_then(|e| e.hostname.clone())
            .filter(|name| !name.trim().is_empty())
            .or_else(crate::sys::hostname)
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "localhost".into())
    }

    /// The database path: `--db`/ORCHESTRATOR_DB, else `[state] db`, else the per-user default.
    pub fn db_path(&self, explicit: Option<&Path>) -> PathBuf {
        if let Some(path) = explicit {
            return path.to_path_buf();
        }
        if let Some(path) = &self.state.db {
            return path.clone();
        }
        default_db_path()
    }
}

/// A runbook file's text; `None` when there is none. Read through a bounded handle, never
/// following a symlink at its last component, so a FIFO or /dev/zero there cannot hang or fill
/// the load.
fn read_runbook(path: &Path) -> Result<Option<String>, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err.to_string()),
    };
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(check::RUNBOOK_MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > check::RUNBOOK_MAX_BYTES {
        return Err(format!(
            "larger than {} bytes (it goes whole into every agent's prompt and the escalation mail)",
            check::RUNBOOK_MAX_BYTES
        ));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| "not UTF-8 text".to_string())
}

fn index_of(checks: &[Check]) -> HashMap<String, usize> {
    checks
        .iter()
        .enumerate()
        .map(|(i, check)| (check.name.clone(), i))
        .collect()
}

fn default_db_path() -> PathBuf {
    if crate::sys::is_root() {
        return PathBuf::from("/var/lib/orchestrator/orchestrator.db");
    }
    let state_home = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."));
    state_home.join("orchestrator/orchestrator.db")
}

/// The key on the line an error points at (`timeout = "5x"` → `timeout`), or the table header.
pub(super) fn key_at(source: &Source, offset: usize) -> Option<String> {
    let (line, _) = source.line_col(offset);
    let text = source.line_text(line)?;
    let trimmed = text.trim();
    if let Some((key, _)) = trimmed.split_once('=') {
        return Some(key.trim().to_string());
    }
    let header = trimmed.trim_start_matches('[').trim_end_matches(']').trim();
    (!header.is_empty()).then(|| header.to_string())
}

fn validate_checks(
    source: &Source,
    raw: Vec<Spanned<check::CheckTable>>,
    problems: &mut Vec<Problem>,
) -> Vec<Check> {
    if raw.len() > limits::MAX_CHECKS {
        let first_over = raw.get(limits::MAX_CHECKS).map(Spanned::span);
        let message = format!(
            "the config has {} checks; at most {} are allowed",
            raw.len(),
            limits::MAX_CHECKS
        );
        problems.push(Problem::at(source, first_over, Some("checks"), message));
        return Vec::new();
    }
    let mut seen = HashSet::new();
    let mut checks = Vec::new();
    let mut tables = Vec::new();
    for spanned in raw {
        let span = spanned.span();
        let raw = spanned.into_inner();
        let name_span = raw.common.name.span();
        if !seen.insert(raw.common.name.get_ref().clone()) {
            let message = format!("duplicate check name `{}`: check names must be unique (incidents are keyed by them)", crate::duration::quoted(raw.common.name.get_ref()));
            problems.push(Problem::at(source, Some(name_span), Some("name"), message));
            continue;
        }
        match raw.validate(source, &span) {
            Ok(check) => {
                checks.push(check);
                tables.push(span);
            }
            Err(mut found) => problems.append(&mut found),
        }
    }
    if problems.is_empty() {
        depends::validate(source, &checks, &tables, problems);
    }
    checks
}

fn validate_agents(
    source: &Source,
    agents: &BTreeMap<String, Spanned<AgentConfig>>,
    research: Option<&Spanned<ResearchConfig>>,
    consult: Option<&Spanned<ConsultConfig>>,
    problems: &mut Vec<Problem>,
) {
    for (name, agent) in agents {
        let too_long = limits::name_too_long("an agent name", name);
        let wait = agent.get_ref().timeout.over_wait_limit();
        for message in too_long.into_iter().chain(wait) {
            problems.push(Problem::at(
                source,
                Some(agent.span()),
                Some(&format!("agents.{}", crate::duration::quoted(name))),
                message,
            ));
        }
        if let Err(message) = agent.get_ref().validate() {
            problems.push(Problem::at(
                source,
                Some(agent.span()),
                Some(&format!("agents.{name}")),
                message,
            ));
        }
    }
    let unknown_agent = |name: &str| {
        let known: Vec<&str> = agents.keys().map(String::as_str).collect();
        format!(
            "no agent named `{name}` (configured agents: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )
    };
    if let Some(research) = research {
        if !agents.contains_key(&research.get_ref().agent) {
            let span = source
                .key_span(&research.span(), "agent")
                .or(Some(research.span()));
            problems.push(Problem::at(
                source,
                span,
                Some("research.agent"),
                unknown_agent(&research.get_ref().agent),
            ));
        }
    }
    if let Some(consult) = consult {
        let span = source
            .key_span(&consult.span(), "agents")
            .or(Some(consult.span()));
        for name in &consult.get_ref().agents {
            if !agents.contains_key(name) {
                problems.push(Problem::at(
                    source,
                    span.clone(),
                    Some("consult.agents"),
                    unknown_agent(name),
                ));
            }
        }
        let quorum = consult.get_ref().quorum;
        let count = consult.get_ref().agents.len();
        if quorum == 0 || (count > 0 && quorum > count) {
            let span = source
                .key_span(&consult.span(), "quorum")
                .or(Some(consult.span()));
            let message = format!(
                "quorum must be between 1 and the number of agents ({count}), got {quorum}"
            );
            problems.push(Problem::at(source, span, Some("consult.quorum"), message));
        }
    }
}

/// Where `escalation.CHANNEL` is written: its own `[escalation.CHANNEL]` header, else its
/// `CHANNEL = { … }` line in `[escalation]`, else the `[escalation]` header.
fn escalation_span(source: &Source, key: &str) -> Option<std::ops::Range<usize>> {
    let header = source
        .text
        .find("[escalation")
        .map(|start| start..start + 1);
    let Some(channel) = key.strip_prefix("escalation.") else {
        return header;
    };
    if let Some(start) = source.text.find(&format!("[escalation.{channel}]")) {
        return Some(start..start + 1);
    }
    header
        .and_then(|table| source.key_span(&table, channel))
        .or_else(|| {
            source
                .text
                .find("[escalation")
                .map(|start| start..start + 1)
        })
}

/// Where `fleet.KEY` is written: the key's line in `[fleet]`, else the `[fleet]` header.
fn section_span(source: &Source, key: &str) -> Option<std::ops::Range<usize>> {
    let header = source.text.find("[fleet]").map(|start| start..start + 1)?;
    let Some(inner) = key.strip_prefix("fleet.") else {
        return Some(header);
    };
    source.key_span(&header, inner).or(Some(header))
}

fn validate_cycle(source: &Source, cycle: &CycleConfig, problems: &mut Vec<Problem>) {
    if cycle.parallelism == 0 {
        problems.push(Problem::at(
            source,
            None,
            Some("cycle.parallelism"),
            "must be at least 1",
        ));
    }
    let waits = [
        ("cycle", "settle", &cycle.settle),
        ("cycle.phase_timeout", "fix", &cycle.phase_timeout.fix),
        (
            "cycle.phase_timeout",
            "research",
            &cycle.phase_timeout.research,
        ),
        (
            "cycle.phase_timeout",
            "consult",
            &cycle.phase_timeout.consult,
        ),
    ];
    for (table, key, value) in waits {
        if let Some(why) = value.over_wait_limit() {
            // `[cycle.phase_timeout]`, else `phase_timeout = { … }` in `[cycle]`.
            let span = key_in_table(source, table, key)
                .or_else(|| key_in_table(source, "cycle", "phase_timeout"));
            problems.push(Problem::at(
                source,
                span,
                Some(&format!("{table}.{key}")),
                why,
            ));
        }
    }
}

/// Where `key = …` is written in the table `[header]`, if it is.
fn key_in_table(source: &Source, header: &str, key: &str) -> Option<std::ops::Range<usize>> {
    let start = source.text.find(&format!("[{header}]"))?;
    source.key_span(&(start..start + 1), key)
}

fn validate_context(source: &Source, context: &ContextConfig, problems: &mut Vec<Problem>) {
    for pattern in &context.redact {
        if let Err(err) = regex::Regex::new(pattern) {
            let span = source
                .text
                .find("redact")
                .map(|start| start..start + "redact".len());
            problems.push(Problem::at(
                source,
                span,
                Some("context.redact"),
                format!("bad regular expression `{pattern}`: {err}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        match Config::parse("test.toml", text) {
            Ok(_) => vec![],
            Err(err) => err.problems(),
        }
    }

    #[test]
    fn the_embedded_default_is_valid() {
        Config::parse(EMBEDDED_NAME, DEFAULT_CONFIG_TEXT).unwrap();
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let found = problems("[cycle]\nparallelism = 2\nsetle = \"5s\"\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("test.toml:3:"), "{}", found[0]);
        assert!(found[0].contains("setle"), "{}", found[0]);
    }

    #[test]
    fn duplicate_check_names_point_at_the_second() {
        let text = "[[checks]]\nname = \"a\"\nkind = \"memory\"\n\n[[checks]]\nname = \"a\"\nkind = \"load\"\n";
        let found = problems(text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("test.toml:6:"), "{}", found[0]);
        assert!(found[0].contains("duplicate"), "{}", found[0]);
    }

    #[test]
    fn research_must_name_a_configured_agent() {
        let found = problems("[research]\nagent = \"claude\"\n");
        assert!(found[0].contains("no agent named `claude`"), "{found:?}");
    }

    /// Eight problems of every sort, in one run: unknown keys and tables, wrong types, a
    /// missing key, and what validation finds afterwards.
    pub(crate) const EIGHT_PROBLEMS: &str =
        include_str!("../../tests/fixtures/eight-problems.toml");

    #[test]
    fn every_problem_of_a_file_in_one_run() {
        let found = problems(EIGHT_PROBLEMS);
        let lines: Vec<&str> = found.iter().map(|p| p.lines().next().unwrap()).collect();
        assert_eq!(found.len(), 8, "{lines:#?}");
        for (problem, line) in found.iter().zip([2, 3, 9, 11, 20, 22, 26, 29]) {
            assert!(
                problem.starts_with(&format!("test.toml:{line}:")),
                "{lines:#?}"
            );
        }
    }

    #[test]
    fn a_fleet_database_url_must_be_postgresql_without_a_password_and_with_a_known_sslmode() {
        let fleet = |url: &str| problems(&format!("[cycle]\n\n[fleet]\ndatabase = \"{url}\"\n"));
        assert!(
            fleet("postgresql://orchestrator@db.example.org/fleet?sslmode=verify-full").is_empty()
        );
        let found = fleet("postgresql://orchestrator:hunter2@db.example.org/fleet");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("test.toml:4:"), "{}", found[0]);
        assert!(found[0].contains("password_file"), "{}", found[0]);
        let found = fleet("postgresql://o@db/fleet?sslmode=prefer");
        assert!(found[0].contains("sslmode `prefer`"), "{found:?}");
        assert!(fleet("mysql://o@db/fleet")[0].contains("not a postgresql:// URL"));
    }

    #[test]
    fn a_blast_radius_of_nobody_or_a_lease_past_an_hour_is_refused() {
        let found = problems(
            "[fleet]\ndatabase = \"postgresql://o@db/fleet\"\nblast_radius = { hosts = 0, per_hour = 5, lease = \"2h\" }\n",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found.iter().all(|p| p.starts_with("test.toml:3:")),
            "{found:?}"
        );
    }

    #[test]
    fn a_syntax_error_stops_there() {
        let found = problems("[cycle\nparallelism = 2\nsetle = 1\n");
        assert_eq!(found.len(), 1, "{found:?}");
    }
}
