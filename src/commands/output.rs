//! Printing for people and for scripts: aligned tables, and JSON documents that carry
//! `"version"` and whose times (`at`, `*_at`) are RFC 3339.

use crate::document::document;
use serde_json::Value;

/// Prints one JSON document: `"version"` and the fields of `value` (an object), with every
/// time as RFC 3339 (`document::document`, which the dashboard's API writes too).
pub fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(&document(value)).unwrap_or_else(|_| "null".into())
    );
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
    // Padded by hand: a format width over 65 535 (a long cell) panics in `format!`.
    let render = |cells: Vec<&str>| {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < cells.len() {
                let width = widths.get(i).copied().unwrap_or(0);
                let pad = width.saturating_sub(cell.chars().count()) + 2;
                line.extend(std::iter::repeat_n(' ', pad));
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
    fn a_cell_of_any_length_is_padded() {
        let long = "n".repeat(70_000);
        let rows = vec![
            vec![long.clone(), "ok".into()],
            vec!["web".into(), "critical".into()],
        ];
        let printed = table(&["CHECK", "STATUS"], &rows);
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(
            lines[0],
            format!("CHECK{}STATUS", " ".repeat(70_000 - 5 + 2))
        );
        assert_eq!(lines[1], format!("{long}  ok"));
        assert_eq!(
            lines[2],
            format!("web{}critical", " ".repeat(70_000 - 3 + 2))
        );
    }

    #[test]
    fn times_become_rfc3339_and_every_document_has_a_version() {
        let document = document(&json!({
            "events": [{"at": 0.0, "kind": "opened"}],
            "incident": {"detected_at": 0.0, "phase": 1},
        }));
        assert_eq!(document["version"], 1);
        assert_eq!(document["events"][0]["at"], "1970-01-01T00:00:00Z");
        assert_eq!(document["incident"]["detected_at"], "1970-01-01T00:00:00Z");
        assert_eq!(document["incident"]["phase"], 1);
    }
}
