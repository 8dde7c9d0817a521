//! `cycle`: the phases in order, in one process and under the cycle lock — no copy of their
//! logic; then, with the lock released, the delivery of what phase 4 queued.

use super::{
    consult, escalate, fix, or_tell_a_person, research, scan, with_phase_lock_then_deliver,
};
use crate::cli::Global;
use crate::phases;
use serde_json::{json, Value};
use std::process::ExitCode;

pub fn exec(global: &Global) -> anyhow::Result<ExitCode> {
    let result = with_phase_lock_then_deliver(
        global,
        "cycle",
        "/escalate/deliveries",
        |rt| {
            let scan = serde_json::to_value(phases::scan::scan(rt)?)?;
            let fix = serde_json::to_value(phases::fix::fix(rt)?)?;
            let research = serde_json::to_value(phases::research::research(rt)?)?;
            let consult = serde_json::to_value(phases::consult::consult(rt)?)?;
            let escalate = serde_json::to_value(phases::escalate::escalate(rt)?)?;
            Ok(
                json!({ "scan": scan, "fix": fix, "research": research, "consult": consult, "escalate": escalate }),
            )
        },
        print,
    );
    or_tell_a_person(global, result)
}

fn print(report: &Value) {
    scan::print(&report["scan"]);
    println!();
    fix::print(&report["fix"]);
    research::print(&report["research"]);
    consult::print(&report["consult"]);
    escalate::print(&report["escalate"]);
}
