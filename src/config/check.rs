//! `[[checks]]` entries: one flat raw struct (so unknown keys are caught by serde with a span),
//! validated per kind into `Check`.

use super::error::{Problem, Source};
use crate::actions::Action;
use crate::duration::Duration;
pub use crate::model::Severity;
use serde::Deserialize;
use std::ops::Range;
use std::path::PathBuf;
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
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DiskThreshold {
    /// Alarm when more than this percent is used.
    PercentUsed(f64),
    /// Alarm when fewer bytes than this are free.
    FreeBytes(u64),
}

#[derive(Debug, Clone)]
pub enum CheckKind {
    Systemd {
        unit: String,
    },
    SystemdFailed {
        ignore: Vec<String>,
    },
    Http {
        url: String,
        expect_status: u16,
        contains: Option<String>,
    },
    Tcp {
        address: String,
    },
    Disk {
        path: PathBuf,
        warn: DiskThreshold,
        crit: DiskThreshold,
        inodes_warn: f64,
        inodes_crit: f64,
    },
    Memory {
        warn: f64,
        crit: f64,
    },
    Load {
        warn: f64,
        crit: f64,
    },
    Process {
        process: Option<String>,
        pidfile: Option<PathBuf>,
        min: u32,
        max: Option<u32>,
    },
    File {
        path: PathBuf,
        max_age: Option<Duration>,
        max_size: Option<u64>,
        exists: bool,
    },
    Command {
        argv: Vec<String>,
    },
}

impl CheckKind {
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::Systemd { .. } => "systemd",
            CheckKind::SystemdFailed { .. } => "systemd-failed",
            CheckKind::Http { .. } => "http",
            CheckKind::Tcp { .. } => "tcp",
            CheckKind::Disk { .. } => "disk",
            CheckKind::Memory { .. } => "memory",
            CheckKind::Load { .. } => "load",
            CheckKind::Process { .. } => "process",
            CheckKind::File { .. } => "file",
            CheckKind::Command { .. } => "command",
        }
    }

    pub fn needs_systemd(&self) -> bool {
        matches!(
            self,
            CheckKind::Systemd { .. } | CheckKind::SystemdFailed { .. }
        )
    }
}

impl Check {
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

const KINDS: [&str; 10] = [
    "systemd",
    "systemd-failed",
    "http",
    "tcp",
    "disk",
    "memory",
    "load",
    "process",
    "file",
    "command",
];
const COMMON_KEYS: [&str; 9] = [
    "name",
    "kind",
    "timeout",
    "unit",
    "remedy",
    "act_on",
    "logs",
    "depends_on",
    "service",
];

fn keys_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "systemd" => &[],
        "systemd-failed" => &["ignore"],
        "http" => &["url", "expect_status", "contains"],
        "tcp" => &["address"],
        "disk" => &["path", "warn", "crit", "inodes_warn", "inodes_crit"],
        "memory" | "load" => &["warn", "crit"],
        "process" => &["process", "pidfile", "min", "max"],
        "file" => &["path", "max_age", "max_size", "exists"],
        "command" => &["command"],
        _ => &[],
    }
}

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
    url: Option<String>,
    expect_status: Option<u16>,
    contains: Option<String>,
    address: Option<String>,
    path: Option<PathBuf>,
    warn: Option<Value>,
    crit: Option<Value>,
    inodes_warn: Option<Value>,
    inodes_crit: Option<Value>,
    process: Option<String>,
    pidfile: Option<PathBuf>,
    min: Option<u32>,
    max: Option<u32>,
    max_age: Option<Duration>,
    max_size: Option<Value>,
    exists: Option<bool>,
    command: Option<Vec<String>>,
    ignore: Option<Vec<String>>,
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

    fn require<T: Clone>(&mut self, key: &str, value: &Option<T>, kind: &str) -> Option<T> {
        if value.is_none() {
            self.problem(key, format!("a `{kind}` check needs `{key}`"));
        }
        value.clone()
    }

    fn percent(&mut self, key: &str, value: &Option<Value>, default: f64) -> f64 {
        match value {
            None => default,
            Some(value) => match parse_percent(value) {
                Some(p) if (0.0..=100.0).contains(&p) => p,
                _ => {
                    self.problem(
                        key,
                        format!("expected a percentage like 90 or \"90%\", got {value}"),
                    );
                    default
                }
            },
        }
    }

    fn disk_threshold(
        &mut self,
        key: &str,
        value: &Option<Value>,
        default: DiskThreshold,
    ) -> DiskThreshold {
        let Some(value) = value else { return default };
        if let Some(p) = parse_percent(value).filter(|p| (0.0..=100.0).contains(p)) {
            return DiskThreshold::PercentUsed(p);
        }
        if let Some(bytes) = value.as_str().and_then(parse_size) {
            return DiskThreshold::FreeBytes(bytes);
        }
        self.problem(
            key,
            format!("expected percent used (90 or \"90%\") or free space (\"2GiB\"), got {value}"),
        );
        default
    }

    fn number(&mut self, key: &str, value: &Option<Value>, default: f64) -> f64 {
        match value {
            None => default,
            Some(Value::Float(f)) if *f >= 0.0 => *f,
            Some(Value::Integer(i)) if *i >= 0 => *i as f64,
            Some(other) => {
                self.problem(key, format!("expected a non-negative number, got {other}"));
                default
            }
        }
    }
}

fn parse_percent(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::String(s) => s.trim().strip_suffix('%')?.trim().parse().ok(),
        _ => None,
    }
}

/// `512`, `10K`, `500MB`, `2GiB`, `1T`: single letters and `iB` are binary, `B` suffixes decimal.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let number: f64 = text[..split].parse().ok()?;
    let factor: f64 = match text[split..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024f64.powi(2),
        "g" | "gib" => 1024f64.powi(3),
        "t" | "tib" => 1024f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        _ => return None,
    };
    Some((number * factor) as u64)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@:".contains(c))
}

impl RawCheck {
    fn present_keys(&self) -> Vec<&'static str> {
        let present = [
            ("url", self.url.is_some()),
            ("expect_status", self.expect_status.is_some()),
            ("contains", self.contains.is_some()),
            ("address", self.address.is_some()),
            ("path", self.path.is_some()),
            ("warn", self.warn.is_some()),
            ("crit", self.crit.is_some()),
            ("inodes_warn", self.inodes_warn.is_some()),
            ("inodes_crit", self.inodes_crit.is_some()),
            ("process", self.process.is_some()),
            ("pidfile", self.pidfile.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("max_age", self.max_age.is_some()),
            ("max_size", self.max_size.is_some()),
            ("exists", self.exists.is_some()),
            ("command", self.command.is_some()),
            ("ignore", self.ignore.is_some()),
        ];
        present
            .iter()
            .filter(|(_, here)| *here)
            .map(|(key, _)| *key)
            .collect()
    }

    pub(super) fn validate(
        self,
        source: &Source,
        table: &Range<usize>,
    ) -> Result<Check, Vec<Problem>> {
        let name = self.name.get_ref().clone();
        let mut v = Validator {
            source,
            table,
            check: name.clone(),
            problems: Vec::new(),
        };
        if !valid_name(&name) {
            v.problem(
                "name",
                "a check name uses letters, digits and - _ . @ : only",
            );
        }
        let kind = self.kind.get_ref().as_str();
        if !KINDS.contains(&kind) {
            v.problem(
                "kind",
                format!(
                    "unknown kind `{kind}` (expected one of: {})",
                    KINDS.join(", ")
                ),
            );
            return Err(v.problems);
        }
        for key in self.present_keys() {
            if !keys_of(kind).contains(&key) && !COMMON_KEYS.contains(&key) {
                v.problem(
                    key,
                    format!(
                        "`{key}` does not apply to a `{kind}` check (it takes: {})",
                        keys_of(kind).join(", ")
                    ),
                );
            }
        }
        let act_on = match self.act_on.as_ref().map(|s| s.get_ref().as_str()) {
            None | Some("critical") => Severity::Critical,
            Some("warning") => Severity::Warning,
            Some(other) => {
                v.problem(
                    "act_on",
                    format!("expected \"critical\" or \"warning\", got \"{other}\""),
                );
                Severity::Critical
            }
        };
        let check_kind = self.kind_details(kind, &mut v);
        self.validate_remedies(&mut v);
        let default_timeout = if kind == "command" {
            Duration::from_secs(30)
        } else {
            Duration::from_secs(10)
        };
        match check_kind {
            Some(check_kind) if v.problems.is_empty() => Ok(Check {
                name,
                unit: self.unit.clone().or_else(|| match &check_kind {
                    CheckKind::Systemd { unit } => Some(unit.clone()),
                    _ => None,
                }),
                kind: check_kind,
                timeout: self.timeout.unwrap_or(default_timeout),
                remedy: self.remedy,
                act_on,
                logs: self.logs,
                depends_on: self.depends_on,
                service: self.service,
            }),
            _ => Err(v.problems),
        }
    }

    fn kind_details(&self, kind: &str, v: &mut Validator) -> Option<CheckKind> {
        Some(match kind {
            "systemd" => CheckKind::Systemd {
                unit: v.require("unit", &self.unit, kind)?,
            },
            "systemd-failed" => CheckKind::SystemdFailed {
                ignore: self.ignore.clone().unwrap_or_default(),
            },
            "http" => CheckKind::Http {
                url: v.require("url", &self.url, kind)?,
                expect_status: self.expect_status.unwrap_or(200),
                contains: self.contains.clone(),
            },
            "tcp" => CheckKind::Tcp {
                address: v.require("address", &self.address, kind)?,
            },
            "disk" => CheckKind::Disk {
                path: self.path.clone().unwrap_or_else(|| PathBuf::from("/")),
                warn: v.disk_threshold("warn", &self.warn, DiskThreshold::PercentUsed(85.0)),
                crit: v.disk_threshold("crit", &self.crit, DiskThreshold::PercentUsed(95.0)),
                inodes_warn: v.percent("inodes_warn", &self.inodes_warn, 85.0),
                inodes_crit: v.percent("inodes_crit", &self.inodes_crit, 95.0),
            },
            "memory" => CheckKind::Memory {
                warn: v.percent("warn", &self.warn, 10.0),
                crit: v.percent("crit", &self.crit, 5.0),
            },
            "load" => CheckKind::Load {
                warn: v.number("warn", &self.warn, 2.0),
                crit: v.number("crit", &self.crit, 4.0),
            },
            "process" => {
                if self.process.is_none() && self.pidfile.is_none() {
                    v.problem(
                        "process",
                        "a `process` check needs `process` (a process name) or `pidfile`",
                    );
                    return None;
                }
                CheckKind::Process {
                    process: self.process.clone(),
                    pidfile: self.pidfile.clone(),
                    min: self.min.unwrap_or(1),
                    max: self.max,
                }
            }
            "file" => CheckKind::File {
                path: v.require("path", &self.path, kind)?,
                max_age: self.max_age,
                max_size: self.max_size_bytes(v),
                exists: self.exists.unwrap_or(true),
            },
            "command" => {
                let argv = v.require("command", &self.command, kind)?;
                if argv.is_empty() {
                    v.problem("command", "`command` must name a program: [\"/usr/lib/nagios/plugins/check_load\", ...]");
                    return None;
                }
                CheckKind::Command { argv }
            }
            _ => return None,
        })
    }

    fn max_size_bytes(&self, v: &mut Validator) -> Option<u64> {
        match &self.max_size {
            None => None,
            Some(Value::Integer(i)) if *i >= 0 => Some(*i as u64),
            Some(Value::String(s)) if parse_size(s).is_some() => parse_size(s),
            Some(other) => {
                v.problem(
                    "max_size",
                    format!("expected a size like \"10MiB\" or a number of bytes, got {other}"),
                );
                None
            }
        }
    }

    fn validate_remedies(&self, v: &mut Validator) {
        let has_unit = self.unit.is_some();
        for action in &self.remedy {
            let needs_unit = matches!(
                action,
                Action::RestartUnit { unit: None }
                    | Action::StartUnit { unit: None }
                    | Action::ResetFailed { unit: None }
            );
            if needs_unit && !has_unit {
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
