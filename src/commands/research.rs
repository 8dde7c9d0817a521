use super::{print_incident_lines, with_phase_lock};
use crate::cli::Global;
use crate::phases::research::research;
use serde_json::Value;
use std::process::ExitCode;

pub fn exec(global: &Global) -> anyhow::Result<ExitCode> {
    with_phase_lock(
        global,
        "research",
        |rt| Ok(serde_json::to_value(research(rt)?)?),
        print,
    )
}

pub fn print(report: &Value) {
    print_incident_lines("phase 2", &report["incidents"]);
}
