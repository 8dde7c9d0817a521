use super::{print_incident_lines, with_phase_lock};
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
    if report["approved"].as_array().is_some_and(|a| !a.is_empty()) {
        print_incident_lines("approved plans", &report["approved"]);
    }
    print_incident_lines("phase 1", &report["incidents"]);
}
