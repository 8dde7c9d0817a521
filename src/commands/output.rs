//! Printing for people and for scripts: aligned tables, and JSON documents that carry
//! `"version"` and whose times (`at`, `*_at`) are RFC 3339.

use crate::clock::with_rfc3339;
use serde_json::Value;

/// The shape of every `--json` document; raised when a field changes meaning or goes away
/// (added fields do not raise it). orchestrator(1), JSON OUTPUT, describes version 1.
pub const JSON_VERSION: u64 = 1;

/// Prints one JSON document: `"version"` and the fields of `value` (an object), with every
/// time as RFC 3339.
pub fn print_json(value: &Value) {
    let value = versioned(with_rfc3339(value.clone()));
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| "null".into())
    );
}

fn versioned(value: Value) -> Value {
    let mut document = serde_json::Map::new();
    document.insert("version".into(), JSON_VERSION.into());
    match value {
        Value::Object(fields) => document.extend(fields),
        other => {
            document.insert("value".into(), other);
        }
    }
    Value::Object(document)
}

/// A plain aligned table; the last column is left ragged.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let columns = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let render = |cells: Vec<&str>| {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        line.trim_end().to_string()
    };
    let mut out = vec![render(headers.to_vec())];
    for row in rows {
        out.push(render(row.iter().map(String::as_str).collect()));
    }
    out.join("\n")
}

/// Cuts a cell to `max` characters for a table.
pub fn cell(text: &str, max: usize) -> String {
    let first_line = text.lines().next().unwrap_or("");
    if first_line.chars().count() <= max {
        return first_line.to_string();
    }
    let cut: String = first_line.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_become_rfc3339_and_every_document_has_a_version() {
        let document = versioned(with_rfc3339(json!({
            "events": [{"at": 0.0, "kind": "opened"}],
            "incident": {"detected_at": 0.0, "phase": 1},
        })));
        assert_eq!(document["version"], 1);
        assert_eq!(document["events"][0]["at"], "1970-01-01T00:00:00Z");
        assert_eq!(document["incident"]["detected_at"], "1970-01-01T00:00:00Z");
        assert_eq!(document["incident"]["phase"], 1);
    }
}
