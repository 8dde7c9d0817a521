use super::{output, with_phase_lock};
use crate::cli::Global;
use crate::phases::scan::scan;
use serde_json::Value;
use std::process::ExitCode;

pub fn exec(global: &Global) -> anyhow::Result<ExitCode> {
    with_phase_lock(
        global,
        "scan",
        |rt| Ok(serde_json::to_value(scan(rt)?)?),
        print,
    )
}

pub fn print(report: &Value) {
    let rows: Vec<Vec<String>> = report["checks"]
        .as_array()
        .map(|checks| checks.iter().map(row).collect())
        .unwrap_or_default();
    println!(
        "{}",
        output::table(&["CHECK", "STATUS", "TIME", "SUMMARY"], &rows)
    );
}

fn row(check: &Value) -> Vec<String> {
    let text = |key: &str| check[key].as_str().unwrap_or("").to_string();
    let mut summary = output::cell(&text("summary"), 90);
    if let (Some(id), Some(change)) = (check["incident"].as_i64(), check["change"].as_str()) {
        if change != "seen" {
            summary.push_str(&format!("  [incident {id} {change}]"));
        }
    }
    vec![
        text("name"),
        text("status"),
        format!("{}ms", check["duration_ms"].as_u64().unwrap_or(0)),
        summary,
    ]
}
