use super::{print_incident_lines, with_phase_lock};
use crate::cli::Global;
use crate::phases::consult::consult;
use serde_json::Value;
use std::process::ExitCode;

pub fn exec(global: &Global) -> anyhow::Result<ExitCode> {
    with_phase_lock(
        global,
        "consult",
        |rt| Ok(serde_json::to_value(consult(rt)?)?),
        print,
    )
}

pub fn print(report: &Value) {
    print_incident_lines("phase 3", &report["incidents"]);
}
