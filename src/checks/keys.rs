//! The keys of one `[[checks]]` entry that belong to its kind, as the kind module reads them.
//!
//! The config layer deserializes the keys every check has itself and hands the rest here as
//! TOML values with their spans; each kind module takes the keys it knows through [`Keys`]
//! and reports what is wrong as a [`KeyProblem`], which the config layer turns into
//! `file:line:column: key: problem`. So a kind's keys, defaults and messages live in its own
//! module and nowhere else.

use serde::de::DeserializeOwned;
use std::ops::Range;
use toml::{Spanned, Value};

/// One thing wrong with a kind's key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyProblem {
    pub key: &'static str,
    pub message: String,
    /// Where the bad value is, for a value of the wrong type (pointed at as serde would);
    /// `None` for a problem about the key, pointed at the key's line (or the table when the
    /// key is missing).
    pub value_span: Option<Range<usize>>,
}

/// The kind-specific keys of one check, each with its value's span.
pub struct Keys {
    kind: &'static str,
    values: Vec<(String, Spanned<Value>)>,
    /// The check's common `unit` key, which the `systemd` kind requires.
    unit: Option<String>,
    problems: Vec<KeyProblem>,
}

impl Keys {
    pub fn new(kind: &'static str, values: Vec<(String, Spanned<Value>)>) -> Keys {
        Keys {
            kind,
            values,
            unit: None,
            problems: Vec::new(),
        }
    }

    pub fn with_unit(mut self, unit: Option<String>) -> Keys {
        self.unit = unit;
        self
    }

    pub fn into_problems(self) -> Vec<KeyProblem> {
        self.problems
    }

    /// The raw value of `key`, if the check sets it.
    pub fn raw(&self, key: &str) -> Option<&Value> {
        self.spanned(key).map(Spanned::get_ref)
    }

    fn spanned(&self, key: &str) -> Option<&Spanned<Value>> {
        self.values
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    /// `key` as `T`; a value of the wrong type is a problem worded as serde words it.
    pub fn get<T: DeserializeOwned>(&mut self, key: &'static str) -> Option<T> {
        let spanned = self.spanned(key)?;
        let span = spanned.span();
        match spanned.get_ref().clone().try_into::<T>() {
            Ok(value) => Some(value),
            Err(err) => {
                self.problems.push(KeyProblem {
                    key,
                    message: err.message().to_string(),
                    value_span: Some(span),
                });
                None
            }
        }
    }

    /// `key` as `T`, which this kind cannot do without.
    pub fn require<T: DeserializeOwned>(&mut self, key: &'static str) -> Option<T> {
        if self.spanned(key).is_none() {
            self.missing(key);
            return None;
        }
        self.get(key)
    }

    /// The common `unit` key, which this kind cannot do without.
    pub fn require_unit(&mut self) -> Option<String> {
        if self.unit.is_none() {
            self.missing("unit");
        }
        self.unit.clone()
    }

    fn missing(&mut self, key: &'static str) {
        let message = format!("a `{}` check needs `{key}`", self.kind);
        self.problem(key, message);
    }

    /// A problem with `key`'s value (or its absence), pointed at the key's line.
    pub fn problem(&mut self, key: &'static str, message: impl Into<String>) {
        self.problems.push(KeyProblem {
            key,
            message: message.into(),
            value_span: None,
        });
    }

    /// A percentage, `90` or `"90%"`, between 0 and 100.
    pub fn percent(&mut self, key: &'static str, default: f64) -> f64 {
        let Some(value) = self.raw(key) else {
            return default;
        };
        match parse_percent(value) {
            Some(p) if (0.0..=100.0).contains(&p) => p,
            _ => {
                let message = format!("expected a percentage like 90 or \"90%\", got {value}");
                self.problem(key, message);
                default
            }
        }
    }

    /// A non-negative number, integer or float.
    pub fn number(&mut self, key: &'static str, default: f64) -> f64 {
        match self.raw(key) {
            None => default,
            Some(Value::Float(f)) if *f >= 0.0 => *f,
            Some(Value::Integer(i)) if *i >= 0 => *i as f64,
            Some(other) => {
                let message = format!("expected a non-negative number, got {other}");
                self.problem(key, message);
                default
            }
        }
    }

    /// A size: a number of bytes or `"10MiB"` (see [`parse_size`]).
    pub fn size(&mut self, key: &'static str) -> Option<u64> {
        let value = self.raw(key)?;
        let size = match value {
            Value::Integer(i) => u64::try_from(*i).ok(),
            Value::String(s) => parse_size(s),
            _ => None,
        };
        if size.is_none() {
            let message =
                format!("expected a size like \"10MiB\" or a number of bytes, got {value}");
            self.problem(key, message);
        }
        size
    }
}

pub fn parse_percent(value: &Value) -> Option<f64> {
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
