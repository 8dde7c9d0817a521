use super::{or_tell_a_person, output, with_phase_lock};
use crate::cli::Global;
use crate::phases::scan::scan;
use serde_json::Value;
use std::process::ExitCode;

pub fn exec(global: &Global) -> anyhow::Result<ExitCode> {
    let result = with_phase_lock(
        global,
        "scan",
        |rt| Ok(serde_json::to_value(scan(rt)?)?),
        print,
    );
    or_tell_a_person(global, result)
}

/// The checks and what became of the direct message, when nothing could be recorded.
pub fn print_unrecorded(report: &Value) {
    print(&report["scan"]);
    println!();
    println!(
        "NOT RECORDED: {}",
        report["state_error"].as_str().unwrap_or("")
    );
    let told = &report["direct_escalation"];
    let detail = told["detail"]
        .as_str()
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    println!(
        "direct escalation: {}{detail}",
        told["result"].as_str().unwrap_or("")
    );
    for delivery in told["deliveries"].as_array().into_iter().flatten() {
        let error = delivery["error"]
            .as_str()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        println!(
            "  {} to {} → {}{error}",
            delivery["channel"].as_str().unwrap_or(""),
            delivery["recipient"].as_str().unwrap_or(""),
            delivery["result"].as_str().unwrap_or("")
        );
    }
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
    if let Some(silenced) = check["silenced"].as_str() {
        summary.push_str(&format!("  [{silenced}]"));
    }
    vec![
        text("name"),
        text("status"),
        format!("{}ms", check["duration_ms"].as_u64().unwrap_or(0)),
        summary,
    ]
}
