//! JSON documents as orchestrator writes them, on the command line (`--json`) and on the
//! dashboard's API alike: a `"version"` field, and every time (`at`, `*_at`) as RFC 3339.

use crate::clock::rfc3339;
use serde_json::Value;

/// The shape of every JSON document; raised when a field changes meaning or goes away
/// (added fields do not raise it). orchestrator(1), JSON OUTPUT, describes version 1.
pub const JSON_VERSION: u64 = 1;

/// `value` (an object) as a document: `"version"` first, then its fields, times as RFC 3339.
pub fn document(value: &Value) -> Value {
    let mut document = serde_json::Map::new();
    document.insert("version".into(), JSON_VERSION.into());
    match with_rfc3339(value.clone()) {
        Value::Object(fields) => document.extend(fields),
        other => {
            document.insert("value".into(), other);
        }
    }
    Value::Object(document)
}

/// Whether a field holds a time: `at` (timeline events) or `*_at`.
fn is_time_key(key: &str) -> bool {
    key == "at" || key.ends_with("_at")
}

/// Turns every numeric time field (see [`is_time_key`]) into an RFC 3339 string, recursively
/// (JSON output of the commands and the dashboard's API).
pub fn with_rfc3339(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let value = match (&value, is_time_key(&key)) {
                        (Value::Number(n), true) => n
                            .as_f64()
                            .map(|ts| Value::String(rfc3339(ts)))
                            .unwrap_or(value),
                        _ => with_rfc3339(value),
                    };
                    (key, value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(with_rfc3339).collect()),
        other => other,
    }
}
