//! Printing for people and for scripts: aligned tables, and JSON whose `*_at` fields are
//! RFC 3339 times.

use crate::clock::with_rfc3339;
use serde_json::Value;

pub fn print_json(value: &Value) {
    let value = with_rfc3339(value.clone());
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| "null".into())
    );
}

/// Sizes of a report's lists, stored with the cycle: `{"opened": 1, "incidents": 3}`.
pub fn counts(report: &Value) -> Value {
    let mut counts = serde_json::Map::new();
    if let Value::Object(map) = report {
        for (key, value) in map {
            match value {
                Value::Array(items) => {
                    counts.insert(key.clone(), items.len().into());
                }
                Value::Object(_) => {
                    counts.insert(key.clone(), self::counts(value));
                }
                _ => {}
            }
        }
    }
    Value::Object(counts)
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

/// The one line a phase run leaves in the journal, when its report is not printed there:
/// the scan's (on its own or within a cycle). The acting phases leave none of their own;
/// they log each change of state as it happens.
pub fn journal_summary(command: &str, report: &Value) -> Option<String> {
    let scan = match command {
        "scan" => report,
        "cycle" => &report["scan"],
        _ => return None,
    };
    Some(format!("{command}: {}", scan_summary(scan)))
}

/// `3 checks, 2 ok, 1 failing (web); incidents: 1 opened`.
fn scan_summary(scan: &Value) -> String {
    let checks = scan["checks"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let failing: Vec<&str> = checks
        .iter()
        .filter(|check| check["status"] != "ok")
        .map(|check| check["name"].as_str().unwrap_or("?"))
        .collect();
    let noun = if checks.len() == 1 { "check" } else { "checks" };
    let mut line = format!(
        "{} {noun}, {} ok",
        checks.len(),
        checks.len() - failing.len()
    );
    if !failing.is_empty() {
        line.push_str(&format!(
            ", {} failing ({})",
            failing.len(),
            failing.join(", ")
        ));
    }
    let changes: Vec<String> = [
        ("opened", "opened"),
        ("reopened", "reopened"),
        ("flapping", "flapping"),
        ("recovered", "recovered"),
        ("updated", "still open"),
    ]
    .iter()
    .filter_map(|(key, said)| {
        let count = scan[*key].as_array().map_or(0, Vec::len);
        (count > 0).then(|| format!("{count} {said}"))
    })
    .collect();
    if changes.is_empty() {
        line.push_str("; no incident");
    } else {
        line.push_str(&format!("; incidents: {}", changes.join(", ")));
    }
    line
}

#[cfg(test)]
mod journal_summary_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_healthy_scan_is_one_short_line() {
        let scan = json!({"checks": [{"name": "a", "status": "ok"}, {"name": "b", "status": "ok"}],
                          "opened": [], "updated": [], "reopened": [], "flapping": [], "recovered": []});
        assert_eq!(
            journal_summary("scan", &scan).unwrap(),
            "scan: 2 checks, 2 ok; no incident"
        );
        assert_eq!(
            journal_summary("cycle", &json!({ "scan": scan })).unwrap(),
            "cycle: 2 checks, 2 ok; no incident"
        );
    }

    #[test]
    fn failing_checks_and_incident_changes_are_named() {
        let scan = json!({"checks": [{"name": "web", "status": "critical"}, {"name": "db", "status": "ok"}],
                          "opened": [1], "updated": [2, 3], "reopened": [], "recovered": [4]});
        assert_eq!(
            journal_summary("scan", &scan).unwrap(),
            "scan: 2 checks, 1 ok, 1 failing (web); incidents: 1 opened, 1 recovered, 2 still open"
        );
    }

    #[test]
    fn acting_phases_leave_no_summary() {
        for phase in ["fix", "research", "consult", "escalate"] {
            assert_eq!(journal_summary(phase, &json!({"incidents": []})), None);
        }
    }
}
