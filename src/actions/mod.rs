//! Plans: lists of typed actions (docs/agents.md, "The action vocabulary"). Parsing them is strict (unknown actions or fields
//! are errors), so that what reaches the executor is only ever the vocabulary below. Each
//! action is described once, in `vocabulary::ACTIONS`; what agents are shown is generated from
//! it, and its tests hold this parser, the executor and the policy to it.

pub mod fs;
mod kill;
mod run;
pub mod vocabulary;

pub use kill::{signal_number, KillScope, SIGNALS};
pub use run::{execute_plan, ExecOptions};

use crate::duration::Duration;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    RestartUnit {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
    },
    StartUnit {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
    },
    ResetFailed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
    },
    Run {
        argv: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout: Option<Duration>,
    },
    KillProcess {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pid: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<String>,
    },
    CleanFiles {
        path: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        older_than: Option<Duration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        glob: Option<String>,
    },
    RemoveFile {
        path: String,
    },
    VacuumJournal {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_size: Option<String>,
    },
    Remedy {},
}

/// The action names, for the policy's allow lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    RestartUnit,
    StartUnit,
    ResetFailed,
    Run,
    KillProcess,
    CleanFiles,
    RemoveFile,
    VacuumJournal,
    Remedy,
}

impl ActionKind {
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::RestartUnit => "restart_unit",
            ActionKind::StartUnit => "start_unit",
            ActionKind::ResetFailed => "reset_failed",
            ActionKind::Run => "run",
            ActionKind::KillProcess => "kill_process",
            ActionKind::CleanFiles => "clean_files",
            ActionKind::RemoveFile => "remove_file",
            ActionKind::VacuumJournal => "vacuum_journal",
            ActionKind::Remedy => "remedy",
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Defaults that normalisation fills in, so that two ways of writing one plan compare equal.
pub const DEFAULT_SIGNAL: &str = "TERM";
pub const DEFAULT_RUN_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_UNIT_TIMEOUT: Duration = Duration::from_secs(90);
pub const DEFAULT_JOURNAL_SIZE: &str = "500M";
pub const DEFAULT_CLEAN_GLOB: &str = "*";
pub const DEFAULT_CLEAN_AGE: Duration = Duration::from_secs(0);

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::RestartUnit { .. } => ActionKind::RestartUnit,
            Action::StartUnit { .. } => ActionKind::StartUnit,
            Action::ResetFailed { .. } => ActionKind::ResetFailed,
            Action::Run { .. } => ActionKind::Run,
            Action::KillProcess { .. } => ActionKind::KillProcess,
            Action::CleanFiles { .. } => ActionKind::CleanFiles,
            Action::RemoveFile { .. } => ActionKind::RemoveFile,
            Action::VacuumJournal { .. } => ActionKind::VacuumJournal,
            Action::Remedy {} => ActionKind::Remedy,
        }
    }

    /// Whether running it (re)starts something: these count against `restart_limit`.
    pub fn restarts(&self) -> bool {
        self.kind().spec().restarts
    }

    /// The action with every default spelled out: plans are compared normalised.
    pub fn normalised(&self, default_unit: Option<&str>) -> Action {
        let unit_or_default =
            |unit: &Option<String>| unit.clone().or_else(|| default_unit.map(str::to_string));
        match self {
            Action::RestartUnit { unit } => Action::RestartUnit {
                unit: unit_or_default(unit).map(|u| full_unit_name(&u)),
            },
            Action::StartUnit { unit } => Action::StartUnit {
                unit: unit_or_default(unit).map(|u| full_unit_name(&u)),
            },
            Action::ResetFailed { unit } => Action::ResetFailed {
                unit: unit_or_default(unit).map(|u| full_unit_name(&u)),
            },
            Action::Run { argv, timeout } => Action::Run {
                argv: argv.clone(),
                timeout: Some(timeout.unwrap_or(DEFAULT_RUN_TIMEOUT)),
            },
            Action::KillProcess { pid, name, signal } => Action::KillProcess {
                pid: *pid,
                name: name.clone(),
                signal: Some(normalise_signal(
                    signal.as_deref().unwrap_or(DEFAULT_SIGNAL),
                )),
            },
            Action::CleanFiles {
                path,
                older_than,
                glob,
            } => Action::CleanFiles {
                path: path.trim_end_matches('/').to_string(),
                older_than: Some(older_than.unwrap_or(DEFAULT_CLEAN_AGE)),
                glob: Some(
                    glob.clone()
                        .unwrap_or_else(|| DEFAULT_CLEAN_GLOB.to_string()),
                ),
            },
            Action::RemoveFile { path } => Action::RemoveFile { path: path.clone() },
            Action::VacuumJournal { max_size } => Action::VacuumJournal {
                max_size: Some(
                    max_size
                        .clone()
                        .unwrap_or_else(|| DEFAULT_JOURNAL_SIZE.to_string()),
                ),
            },
            Action::Remedy {} => Action::Remedy {},
        }
    }
}

/// The unit types systemd knows, by suffix.
const UNIT_SUFFIXES: [&str; 11] = [
    ".service",
    ".socket",
    ".target",
    ".timer",
    ".mount",
    ".path",
    ".slice",
    ".scope",
    ".device",
    ".swap",
    ".automount",
];

/// systemd's limit on a unit name's length.
const MAX_UNIT_NAME: usize = 255;

/// `web` and `web.service` name the same unit; systemctl accepts both, we compare the full name.
pub fn full_unit_name(unit: &str) -> String {
    if UNIT_SUFFIXES.iter().any(|s| unit.ends_with(s)) {
        unit.to_string()
    } else {
        format!("{unit}.service")
    }
}

/// Whether `unit` (with `.service` implied when it has no suffix) is a name systemd accepts:
/// ASCII letters, digits and `:-_.\@`, at most 255 bytes, a known suffix, at most one `@` with a
/// prefix before it and an instance after it, and no leading `-`. Anything else (`../../etc/x`,
/// `foo;bar`, `--root=/`) is refused with the reason, before it meets a glob or systemctl.
pub fn check_unit_name(unit: &str) -> Result<(), String> {
    let full = full_unit_name(unit);
    let refuse = |why: String| Err(format!("`{unit}` is not a valid unit name: {why}"));
    if full.len() > MAX_UNIT_NAME {
        return refuse(format!("longer than {MAX_UNIT_NAME} bytes"));
    }
    if full.starts_with('-') {
        return refuse("it starts with `-`".into());
    }
    if let Some(bad) = full
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ":-_.\\@".contains(*c)))
    {
        return refuse(format!(
            "`{bad}` is not allowed (only ASCII letters, digits and :-_.\\@)"
        ));
    }
    let suffix = UNIT_SUFFIXES
        .iter()
        .find(|s| full.ends_with(*s))
        .map_or(0, |s| s.len());
    let stem = &full[..full.len() - suffix];
    match stem.split_once('@') {
        _ if stem.is_empty() => refuse("nothing before the suffix".into()),
        Some((_, instance)) if instance.contains('@') => refuse("more than one `@`".into()),
        Some(("", _)) => refuse("nothing before `@`".into()),
        Some((_, "")) => refuse("a template (nothing after `@`) cannot be acted on".into()),
        _ => Ok(()),
    }
}

pub fn normalise_signal(signal: &str) -> String {
    let upper = signal.trim().to_ascii_uppercase();
    upper
        .strip_prefix("SIG")
        .map(str::to_string)
        .unwrap_or(upper)
}

/// A list of actions run in order; the unit of learning, voting and approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Plan(pub Vec<Action>);

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn actions(&self) -> &[Action] {
        &self.0
    }

    pub fn normalised(&self, default_unit: Option<&str>) -> Plan {
        Plan(self.0.iter().map(|a| a.normalised(default_unit)).collect())
    }

    pub fn restarts(&self) -> bool {
        self.0.iter().any(Action::restarts)
    }

    /// How many actions run: `remedy` stands for the check's `remedies`, each counted.
    pub fn action_count(&self, remedies: &[Action]) -> usize {
        self.0
            .iter()
            .map(|action| match action {
                Action::Remedy {} => remedies.len(),
                _ => 1,
            })
            .sum()
    }

    /// The units it (re)starts (`restart_unit`, `start_unit`, and those of the check's
    /// remedies for `remedy`), full names, once per action: what `[policy] budget` counts per
    /// unit. A `run` may start anything, but names no unit.
    pub fn units_started(&self, default_unit: Option<&str>, remedies: &[Action]) -> Vec<String> {
        let mut units = Vec::new();
        for action in &self.0 {
            match action.normalised(default_unit) {
                Action::RestartUnit { unit: Some(unit) }
                | Action::StartUnit { unit: Some(unit) } => units.push(unit),
                Action::Remedy {} => {
                    let own: Vec<Action> = remedies
                        .iter()
                        .filter(|a| !matches!(a, Action::Remedy {}))
                        .cloned()
                        .collect();
                    units.extend(Plan(own).units_started(default_unit, &[]));
                }
                _ => {}
            }
        }
        units
    }

    /// Canonical JSON: defaults filled, keys sorted (serde_json's map is ordered).
    pub fn canonical_json(&self, default_unit: Option<&str>) -> String {
        let value =
            serde_json::to_value(self.normalised(default_unit)).unwrap_or(serde_json::Value::Null);
        value.to_string()
    }

    /// A short stable id of the normalised plan: equal plans, however written, hash equal.
    pub fn hash(&self, default_unit: Option<&str>) -> String {
        let digest = Sha256::digest(self.canonical_json(default_unit).as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "[]".to_string())
    }

    /// `restart_unit(web.service), remove_file(/run/web.pid)`: for tables and logs.
    pub fn describe(&self) -> String {
        if self.0.is_empty() {
            return "(empty plan)".to_string();
        }
        let parts: Vec<String> = self.0.iter().map(describe_action).collect();
        parts.join(", ")
    }

    /// A stored plan (an attempt's, a pattern's, a vote's) in words; one this version cannot
    /// read is shown as the JSON it is.
    pub fn describe_stored(json: &serde_json::Value) -> String {
        Plan::deserialize(json)
            .map(|plan| plan.describe())
            .unwrap_or_else(|_| json.to_string())
    }

    /// [`Plan::describe_stored`] for plan JSON kept as text.
    pub fn describe_stored_text(text: &str) -> String {
        serde_json::from_str::<Plan>(text)
            .map(|plan| plan.describe())
            .unwrap_or_else(|_| text.to_string())
    }
}

/// One action in words, as [`Plan::describe`] lists it: `restart_unit(web.service)`.
pub(super) fn describe_action(action: &Action) -> String {
    let detail = match action {
        Action::RestartUnit { unit }
        | Action::StartUnit { unit }
        | Action::ResetFailed { unit } => unit
            .clone()
            .unwrap_or_else(|| "the check's unit".to_string()),
        Action::Run { argv, .. } => argv.join(" "),
        Action::KillProcess { pid, name, signal } => {
            let target = pid
                .map(|p| format!("pid {p}"))
                .or_else(|| name.clone())
                .unwrap_or_default();
            format!(
                "{target}, SIG{}",
                normalise_signal(signal.as_deref().unwrap_or(DEFAULT_SIGNAL))
            )
        }
        Action::CleanFiles {
            path,
            older_than,
            glob,
        } => {
            let age = older_than
                .map(|d| format!(" older than {d}"))
                .unwrap_or_default();
            format!(
                "{path}/{}{age}",
                glob.as_deref().unwrap_or(DEFAULT_CLEAN_GLOB)
            )
        }
        Action::RemoveFile { path } => path.clone(),
        Action::VacuumJournal { max_size } => max_size
            .clone()
            .unwrap_or_else(|| DEFAULT_JOURNAL_SIZE.to_string()),
        Action::Remedy {} => "the check's remedies".to_string(),
    };
    format!("{}({detail})", action.kind())
}

/// Why an action did not do its job. The message is what the attempt records, so each says
/// its cause once; the variant says what kind of failure it was.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// Not runnable as written: no unit, a bad unit name or glob, an unknown signal, no
    /// configured remedies.
    #[error("{0}")]
    Invalid(String),
    /// Refused at the moment of acting: a process or a path it must not touch.
    #[error("{0}")]
    Refused(String),
    /// The command could not be started.
    #[error(transparent)]
    Start(#[from] crate::exec::ExecError),
    /// It ran and did not succeed: the command line, how it ended, and what it said.
    #[error("{0}")]
    Failed(String),
}

/// A glob whose `*` and `?` never match `/`: the policy's `paths` and a `kill_process`'s
/// `name_glob` both match whole path components.
pub(crate) fn path_glob(pattern: &str) -> Option<globset::GlobMatcher> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(json: &str) -> Plan {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_budget_counts_remedies_and_the_units_each_action_starts() {
        let remedies = plan(r#"[{"action": "remove_file", "path": "/run/x.pid"}, {"action": "restart_unit", "unit": "x"}]"#).0;
        let p = plan(
            r#"[{"action": "restart_unit"}, {"action": "remedy"}, {"action": "start_unit", "unit": "db"}, {"action": "run", "argv": ["/bin/true"]}]"#,
        );
        assert_eq!(p.action_count(&remedies), 5);
        assert_eq!(
            p.units_started(Some("web"), &remedies),
            ["web.service", "x.service", "db.service"]
        );
        assert!(plan(r#"[{"action": "restart_unit"}]"#)
            .units_started(None, &[])
            .is_empty());
    }

    #[test]
    fn equal_plans_written_differently_hash_equal() {
        let a = plan(r#"[{"action":"kill_process","name":"w"},{"action":"restart_unit"}]"#);
        let b = plan(
            r#"[{"name":"w","signal":"SIGTERM","action":"kill_process"},{"action":"restart_unit","unit":"web"}]"#,
        );
        assert_eq!(a.hash(Some("web.service")), b.hash(Some("web.service")));
        let c = plan(r#"[{"action":"restart_unit"}]"#);
        assert_ne!(a.hash(Some("web.service")), c.hash(Some("web.service")));
    }

    #[test]
    fn unknown_actions_and_fields_are_rejected() {
        assert!(serde_json::from_str::<Plan>(r#"[{"action":"format_disk"}]"#).is_err());
        assert!(
            serde_json::from_str::<Plan>(r#"[{"action":"restart_unit","shell":"rm -rf /"}]"#)
                .is_err()
        );
        assert!(serde_json::from_str::<Plan>(r#"[{"action":"run","argv":"rm -rf /"}]"#).is_err());
    }
}
