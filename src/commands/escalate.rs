use super::{print_incident_lines, with_phase_lock_then_deliver};
use crate::cli::Global;
use crate::phases::escalate::escalate;
use serde_json::Value;
use std::process::ExitCode;

pub fn exec(global: &Global) -> anyhow::Result<ExitCode> {
    with_phase_lock_then_deliver(
        global,
        "escalate",
        "/deliveries",
        |rt| Ok(serde_json::to_value(escalate(rt)?)?),
        print,
    )
}

pub fn print(report: &Value) {
    print_incident_lines("phase 4", &report["incidents"]);
    for delivery in report["deliveries"].as_array().into_iter().flatten() {
        let error = delivery["error"]
            .as_str()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        println!(
            "  {} {} to {} → {}{error}",
            delivery["kind"].as_str().unwrap_or(""),
            delivery["channel"].as_str().unwrap_or(""),
            delivery["recipient"].as_str().unwrap_or(""),
            delivery["result"].as_str().unwrap_or("")
        );
    }
}
