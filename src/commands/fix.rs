use super::with_phase_lock;
use crate::cli::Global;
use crate::phases::fix::fix;
use serde_json::Value;
use std::process::ExitCode;

pub fn exec(global: &Global) -> anyhow::Result<ExitCode> {
    with_phase_lock(
        global,
        "fix",
        |rt| Ok(serde_json::to_value(fix(rt)?)?),
        print,
    )
}

pub fn print(report: &Value) {
    let incidents = report["incidents"].as_array().cloned().unwrap_or_default();
    if incidents.is_empty() {
        println!("fix: no incident waits for phase 1");
    }
    for incident in incidents {
        let id = incident["incident"].as_i64().unwrap_or(0);
        let check = incident["check"].as_str().unwrap_or("");
        println!(
            "incident {id} ({check}): {}",
            incident["detail"].as_str().unwrap_or("")
        );
        for attempt in incident["attempts"].as_array().into_iter().flatten() {
            let result = attempt["result"].as_str().unwrap_or("");
            let detail = attempt["detail"]
                .as_str()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            println!(
                "  {} {} → {result}{detail}",
                attempt["source"].as_str().unwrap_or(""),
                attempt["plan"].as_str().unwrap_or("")
            );
        }
    }
}
