//! Each action described once: its name, its fields with their types, meanings, defaults and
//! allowed values, what it does, and whether it (re)starts something. The agents' vocabulary
//! (`vocabulary`, in every agent context) is generated from [`ACTIONS`], and the tests below
//! hold the parser (`Action`), the executor (`signal_number`, the defaults normalisation fills
//! in) and the policy to it. `ACTIONS` is public so that documentation, such as the ACTIONS
//! section of a man page, can be compared against it by a test.

use super::{ActionKind, DEFAULT_CLEAN_GLOB, DEFAULT_JOURNAL_SIZE, DEFAULT_SIGNAL, SIGNALS};
use serde_json::{json, Map, Value};

/// What a field holds, as the plan's JSON writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A systemd unit name (`web` means `web.service`).
    Unit,
    /// A list of strings: a program and its arguments, run without a shell.
    Argv,
    /// A duration such as `"30s"` or `"7d"`.
    Duration,
    /// A process id.
    Pid,
    /// A process name (comm or the executable's base name), not a path.
    ProcessName,
    /// A signal name or number.
    Signal,
    /// An absolute directory path.
    Directory,
    /// An absolute file path.
    File,
    /// A file-name glob (no `/`).
    FileGlob,
    /// A size as journalctl takes it, such as `"500M"`.
    Size,
}

impl FieldType {
    /// The JSON type an agent must write.
    pub fn json_type(self) -> &'static str {
        match self {
            FieldType::Argv => "list of strings",
            FieldType::Pid => "integer",
            _ => "string",
        }
    }
}

/// A field's value when the plan leaves it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldDefault {
    /// The field must be given.
    Required,
    /// Normalisation writes this value in (plans are compared with it filled in).
    Value(&'static str),
    /// Something that depends on the incident, in words.
    Means(&'static str),
    /// Optional, with no default.
    Nothing,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    pub default: FieldDefault,
    pub meaning: &'static str,
    /// The only values accepted, when there is such a list (besides their numbers, for signals).
    pub allowed: &'static [&'static str],
}

#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    pub kind: ActionKind,
    pub fields: &'static [Field],
    pub effect: &'static str,
    /// What it may reach, when that is narrower than its fields say.
    pub scope: Option<&'static str>,
    /// Whether it (re)starts something: these count against `[policy] restart_limit`.
    pub restarts: bool,
}

impl ActionSpec {
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
}

const fn field(
    name: &'static str,
    ty: FieldType,
    default: FieldDefault,
    meaning: &'static str,
) -> Field {
    Field {
        name,
        ty,
        default,
        meaning,
        allowed: &[],
    }
}

const UNIT: Field = field(
    "unit",
    FieldType::Unit,
    FieldDefault::Means("the check's unit"),
    "the systemd unit",
);

/// Every action, in the order agents are shown them.
pub const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        kind: ActionKind::RestartUnit,
        fields: &[UNIT],
        effect: "systemctl restart -- UNIT (90s timeout)",
        scope: None,
        restarts: true,
    },
    ActionSpec {
        kind: ActionKind::StartUnit,
        fields: &[UNIT],
        effect: "systemctl start -- UNIT (90s timeout)",
        scope: None,
        restarts: true,
    },
    ActionSpec {
        kind: ActionKind::ResetFailed,
        fields: &[UNIT],
        effect: "systemctl reset-failed -- UNIT (90s timeout)",
        scope: None,
        restarts: false,
    },
    ActionSpec {
        kind: ActionKind::Run,
        fields: &[
            field(
                "argv",
                FieldType::Argv,
                FieldDefault::Required,
                "the program and its arguments, run without a shell",
            ),
            field(
                "timeout",
                FieldType::Duration,
                FieldDefault::Value("1m"),
                "killed with everything it started past this, e.g. \"30s\"",
            ),
        ],
        effect: "runs argv directly, no shell",
        scope: Some("argv must match one of policy.commands, word by word"),
        restarts: true,
    },
    ActionSpec {
        kind: ActionKind::KillProcess,
        fields: &[
            field(
                "pid",
                FieldType::Pid,
                FieldDefault::Nothing,
                "the process id (give pid or name)",
            ),
            field(
                "name",
                FieldType::ProcessName,
                FieldDefault::Nothing,
                "every process of this name (comm or executable name, not a path)",
            ),
            Field {
                name: "signal",
                ty: FieldType::Signal,
                default: FieldDefault::Value(DEFAULT_SIGNAL),
                meaning: "a signal name, with or without SIG, or its number",
                allowed: &SIGNALS,
            },
        ],
        effect: "signals the matching processes, waits up to 10s for them to exit",
        scope: Some("only the incident's processes (its unit's cgroup, the check's pid file or process name) and names matching policy.processes; never orchestrator, its children or PID 1"),
        restarts: false,
    },
    ActionSpec {
        kind: ActionKind::CleanFiles,
        fields: &[
            field(
                "path",
                FieldType::Directory,
                FieldDefault::Required,
                "the directory, cleaned recursively without following symlinks",
            ),
            field(
                "older_than",
                FieldType::Duration,
                FieldDefault::Value("0s"),
                "only files last modified longer ago, e.g. \"7d\"",
            ),
            field(
                "glob",
                FieldType::FileGlob,
                FieldDefault::Value(DEFAULT_CLEAN_GLOB),
                "file name glob, e.g. \"*.log.*\"",
            ),
        ],
        effect: "deletes the matching regular files under path",
        scope: Some("path must match policy.paths; unless a person approved the plan, live files are kept: held open, named by the service (its logs, pid files, configuration), written in the last 15 minutes, data files"),
        restarts: false,
    },
    ActionSpec {
        kind: ActionKind::RemoveFile,
        fields: &[field(
            "path",
            FieldType::File,
            FieldDefault::Required,
            "one file, e.g. a stale pid or lock file",
        )],
        effect: "removes that one file; never a directory or a symlink",
        scope: Some("path must match policy.paths; a file the service's config or systemd does not name (nor its user's file in its directories), a live log or a data file waits for a person's approval"),
        restarts: false,
    },
    ActionSpec {
        kind: ActionKind::VacuumJournal,
        fields: &[field(
            "max_size",
            FieldType::Size,
            FieldDefault::Value(DEFAULT_JOURNAL_SIZE),
            "the journal's size after vacuuming, e.g. \"500M\"",
        )],
        effect: "journalctl --vacuum-size=MAX_SIZE",
        scope: None,
        restarts: false,
    },
    ActionSpec {
        kind: ActionKind::Remedy,
        fields: &[],
        effect: "runs the check's configured remedy list",
        scope: None,
        restarts: true,
    },
];

impl ActionKind {
    /// This action's description.
    pub fn spec(self) -> &'static ActionSpec {
        ACTIONS
            .iter()
            .find(|spec| spec.kind == self)
            .expect("every ActionKind is described in ACTIONS (tested)")
    }
}

/// The vocabulary as agents see it in their context.
pub fn vocabulary() -> Value {
    Value::Array(ACTIONS.iter().map(describe).collect())
}

fn describe(spec: &ActionSpec) -> Value {
    let fields: Map<String, Value> = spec
        .fields
        .iter()
        .map(|f| (f.name.to_string(), describe_field(f)))
        .collect();
    let mut action = json!({
        "action": spec.name(),
        "fields": fields,
        "effect": spec.effect,
    });
    if let Some(scope) = spec.scope {
        action["scope"] = json!(scope);
    }
    action
}

fn describe_field(field: &Field) -> Value {
    let mut described = json!({
        "type": field.ty.json_type(),
        "meaning": field.meaning,
    });
    match field.default {
        FieldDefault::Required => described["required"] = json!(true),
        FieldDefault::Value(value) | FieldDefault::Means(value) => {
            described["default"] = json!(value)
        }
        FieldDefault::Nothing => {}
    }
    if !field.allowed.is_empty() {
        described["allowed"] = json!(field.allowed);
    }
    described
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::actions::{signal_number, Action};

    /// A value of the field's type that the policy below accepts.
    pub(crate) fn sample(field: &Field) -> Value {
        match field.ty {
            FieldType::Unit => json!("web.service"),
            FieldType::Argv => json!(["/usr/local/bin/fix-web", "--now"]),
            FieldType::Duration => json!("30s"),
            FieldType::Pid => json!(4242),
            FieldType::ProcessName => json!("web-worker"),
            FieldType::Signal => json!(field.allowed[0]),
            FieldType::Directory => json!("/var/log/web"),
            FieldType::File => json!("/var/log/web/web.pid"),
            FieldType::FileGlob => json!("*.log.*"),
            FieldType::Size => json!("100M"),
        }
    }

    pub(crate) fn with_fields<'a>(
        spec: &ActionSpec,
        fields: impl Iterator<Item = &'a Field>,
    ) -> Value {
        let mut action = json!({ "action": spec.name() });
        for field in fields {
            action[field.name] = sample(field);
        }
        action
    }

    #[test]
    fn every_action_kind_is_described_once() {
        let names: Vec<&str> = ACTIONS.iter().map(ActionSpec::name).collect();
        for spec in ACTIONS {
            assert_eq!(names.iter().filter(|n| **n == spec.name()).count(), 1);
            // The name the spec shows is the one the parser reads.
            let kind: ActionKind = serde_json::from_value(json!(spec.name())).unwrap();
            assert_eq!(kind, spec.kind);
        }
        let vocabulary = vocabulary();
        assert_eq!(vocabulary.as_array().unwrap().len(), ACTIONS.len());
        // And every action the parser knows is described: serde lists them all when refusing
        // an unknown one.
        let refusal = serde_json::from_value::<Action>(json!({"action": "?"}))
            .unwrap_err()
            .to_string();
        let (_, known) = refusal.split_once("expected one of ").unwrap();
        let known: Vec<&str> = known.split(", ").map(|n| n.trim_matches('`')).collect();
        assert_eq!(known, names, "{refusal}");
    }

    /// Every field the vocabulary lists parses, with every field given and with only the
    /// required ones; a required field left out, or a field it does not list, does not parse.
    #[test]
    fn the_vocabulary_and_the_parser_agree() {
        for spec in ACTIONS {
            let full = with_fields(spec, spec.fields.iter());
            let action: Action = serde_json::from_value(full.clone())
                .unwrap_or_else(|e| panic!("{full} does not parse: {e}"));
            assert_eq!(action.kind(), spec.kind);
            // Every listed field survives the round trip: the parser has exactly these fields.
            assert_eq!(serde_json::to_value(&action).unwrap(), full);
            let required = spec
                .fields
                .iter()
                .filter(|f| f.default == FieldDefault::Required);
            let minimal = with_fields(spec, required.clone());
            assert!(
                serde_json::from_value::<Action>(minimal.clone()).is_ok(),
                "{minimal}"
            );
            for left_out in required {
                let mut missing = full.clone();
                missing.as_object_mut().unwrap().remove(left_out.name);
                assert!(
                    serde_json::from_value::<Action>(missing.clone()).is_err(),
                    "{missing} parsed without its required `{}`",
                    left_out.name
                );
            }
            let mut extra = full.clone();
            extra["not_in_the_vocabulary"] = json!("x");
            assert!(serde_json::from_value::<Action>(extra).is_err());
        }
    }

    /// The defaults agents are told are the ones normalisation fills in.
    #[test]
    fn the_vocabulary_defaults_are_what_normalisation_fills_in() {
        for spec in ACTIONS {
            let required = spec
                .fields
                .iter()
                .filter(|f| f.default == FieldDefault::Required);
            let action: Action = serde_json::from_value(with_fields(spec, required)).unwrap();
            let normalised = serde_json::to_value(action.normalised(Some("web"))).unwrap();
            for field in spec.fields {
                if let FieldDefault::Value(default) = field.default {
                    assert_eq!(
                        normalised[field.name],
                        json!(default),
                        "{}.{}",
                        spec.name(),
                        field.name
                    );
                }
            }
        }
    }

    /// The signals listed are the ones the executor sends: each listed name is accepted, and
    /// every signal it accepts (by any number) is listed by name.
    #[test]
    fn the_listed_signals_are_the_ones_the_executor_sends() {
        let signal = ActionKind::KillProcess
            .spec()
            .fields
            .iter()
            .find(|f| f.ty == FieldType::Signal)
            .unwrap();
        for name in signal.allowed {
            assert!(
                signal_number(name).is_some(),
                "{name} is listed but not sent"
            );
        }
        for number in 1..=64 {
            if let Some(accepted) = signal_number(&number.to_string()) {
                assert!(
                    signal
                        .allowed
                        .iter()
                        .any(|name| signal_number(name) == Some(accepted)),
                    "signal {number} is sent but not listed"
                );
            }
        }
        assert_eq!(signal.allowed, &SIGNALS);
    }

    #[test]
    fn restarting_actions_are_the_ones_described_so() {
        let restarting: Vec<&str> = ACTIONS
            .iter()
            .filter(|a| a.restarts)
            .map(ActionSpec::name)
            .collect();
        assert_eq!(restarting, ["restart_unit", "start_unit", "run", "remedy"]);
    }

    /// docs/agents.md documents the vocabulary: each action and field appears there.
    #[test]
    fn the_agents_doc_names_every_action_and_field() {
        let doc = include_str!("../../docs/agents.md");
        for spec in ACTIONS {
            assert!(
                doc.contains(&format!("`{}`", spec.name())),
                "{}",
                spec.name()
            );
            for field in spec.fields {
                assert!(
                    doc.contains(&format!("`{}`", field.name)),
                    "{}.{}",
                    spec.name(),
                    field.name
                );
            }
        }
    }
}
