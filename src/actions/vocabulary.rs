//! What an action's description holds: its fields with their types, meanings, defaults and
//! allowed values, what it does, whether it (re)starts, starts or stops something, whether it
//! needs a unit. Each is written once, in the `actions!` list (actions/mod.rs). The agents'
//! vocabulary (`vocabulary`, in every agent context) is generated from [`ACTIONS`], and the tests below
//! hold the parser (`Action`), the executor (`signal_number`, the defaults normalisation fills
//! in) and the policy to it. `ACTIONS` is public so that documentation, such as the ACTIONS
//! section of a man page, can be compared against it by a test.

use super::{ActionKind, ACTIONS};
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

/// An action's description, written once in the `actions!` list (actions/mod.rs).
#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    pub kind: ActionKind,
    pub fields: &'static [Field],
    pub effect: &'static str,
    /// What it may reach, when that is narrower than its fields say.
    pub scope: Option<&'static str>,
    /// Whether it (re)starts something: these count against `[policy] restart_limit`.
    pub restarts: bool,
    /// Whether it starts the service (`start_unit`, `run`, `remedy`): phase 1 never runs one
    /// while the service is alive unless an action before it stops it.
    pub starts: bool,
    /// Whether it stops the service first (`kill_process`, `restart_unit`).
    pub stops: bool,
    /// Whether, without a `unit`, it acts on the check's: a remedy needs the check to name one.
    pub needs_unit: bool,
}

impl ActionSpec {
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
}

pub(super) const fn field(
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

pub(super) const UNIT: Field = field(
    "unit",
    FieldType::Unit,
    FieldDefault::Means("the check's unit"),
    "the systemd unit",
);

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
    use crate::actions::{signal_number, Action, SIGNALS};

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
    fn every_action_kind_is_described_once_under_its_name() {
        for (index, spec) in ACTIONS.iter().enumerate() {
            assert_eq!(spec.kind as usize, index, "{}", spec.name());
            assert_eq!(spec.kind.spec().name(), spec.name());
            // The name the spec shows is the one the parser reads and writes.
            let kind: ActionKind = serde_json::from_value(json!(spec.name())).unwrap();
            assert_eq!(kind, spec.kind);
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(spec.name()));
        }
        let vocabulary = vocabulary();
        assert_eq!(vocabulary.as_array().unwrap().len(), ACTIONS.len());
        assert!(serde_json::from_value::<Action>(json!({"action": "?"})).is_err());
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

    #[test]
    fn what_starts_stops_and_needs_a_unit_is_described_so() {
        let names = |pick: fn(&ActionSpec) -> bool| -> Vec<&str> {
            ACTIONS
                .iter()
                .filter(|a| pick(a))
                .map(ActionSpec::name)
                .collect()
        };
        assert_eq!(names(|a| a.starts), ["start_unit", "run", "remedy"]);
        assert_eq!(names(|a| a.stops), ["restart_unit", "kill_process"]);
        assert_eq!(
            names(|a| a.needs_unit),
            ["restart_unit", "start_unit", "reset_failed"]
        );
        // Each that needs a unit has the `unit` field it may leave out.
        for spec in ACTIONS.iter().filter(|a| a.needs_unit) {
            assert!(spec.fields.iter().any(|f| f.ty == FieldType::Unit));
        }
    }

    /// docs/agents.md documents the vocabulary: each action has a row of its table (its first
    /// cell names it, with others sharing the row), and that row names each of its fields.
    #[test]
    fn the_agents_doc_names_every_action_and_field() {
        let doc = include_str!("../../docs/agents.md");
        for spec in ACTIONS {
            let name = format!("`{}`", spec.name());
            let row = doc
                .lines()
                .find(|line| {
                    line.strip_prefix("| ")
                        .and_then(|row| row.split(" | ").next())
                        .is_some_and(|first| first.split(", ").any(|cell| cell == name))
                })
                .unwrap_or_else(|| panic!("docs/agents.md has no row for {name}"));
            for field in spec.fields {
                assert!(
                    row.contains(&format!("`{}`", field.name)),
                    "docs/agents.md: the row of {name} does not name its field `{}`",
                    field.name
                );
            }
        }
    }
}
