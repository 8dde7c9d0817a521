//! `cycle`: the phases in order, in one process and under one lock — no copy of their logic.

use super::{fix, scan, with_phase_lock};
use crate::cli::Global;
use serde_json::{json, Value};
use std::process::ExitCode;

pub fn exec(global: &Global) -> anyhow::Result<ExitCode> {
    with_phase_lock(
        global,
        "cycle",
        |rt| {
            let scan = serde_json::to_value(crate::phases::scan::scan(rt)?)?;
            let fix = serde_json::to_value(crate::phases::fix::fix(rt)?)?;
            Ok(json!({ "scan": scan, "fix": fix }))
        },
        print,
    )
}

fn print(report: &Value) {
    scan::print(&report["scan"]);
    println!();
    fix::print(&report["fix"]);
}
