//! `load` checks: the 5-minute load average per core.

use super::{CheckResult, Keys, Kind, Perf};
use crate::model::Status;
use serde_json::json;
use std::time::Duration;

/// `kind = "load"`: alarm above `warn` / `crit` per core.
#[derive(Debug, Clone)]
pub struct Load {
    pub warn: f64,
    pub crit: f64,
}

impl Kind for Load {
    const NAME: &'static str = "load";
    const KEYS: &'static [&'static str] = &["warn", "crit"];

    fn parse(keys: &mut Keys) -> Option<Self> {
        Some(Load {
            warn: keys.number("warn", 2.0),
            crit: keys.number("crit", 4.0),
        })
    }

    fn probe(&self, _deadline: Duration) -> CheckResult {
        load(self.warn, self.crit)
    }

    fn details(&self) -> serde_json::Value {
        json!({ "warn": self.warn, "crit": self.crit })
    }
}

fn load(warn: f64, crit: f64) -> CheckResult {
    let text = match std::fs::read_to_string("/proc/loadavg") {
        Ok(text) => text,
        Err(err) => return CheckResult::unknown(format!("cannot read /proc/loadavg: {err}")),
    };
    let loads: Vec<f64> = text
        .split_whitespace()
        .take(3)
        .filter_map(|v| v.parse().ok())
        .collect();
    if loads.len() < 3 {
        return CheckResult::unknown("cannot parse /proc/loadavg");
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as f64;
    // The 5-minute average: steady enough to act on, recent enough to matter.
    let per_core = loads[1] / cores;
    let status = if per_core > crit {
        Status::Critical
    } else if per_core > warn {
        Status::Warning
    } else {
        Status::Ok
    };
    let summary = format!(
        "load {:.2} {:.2} {:.2} on {cores} cores ({per_core:.2} per core over 5m)",
        loads[0], loads[1], loads[2]
    );
    let perf = ["load1", "load5", "load15"]
        .iter()
        .zip(&loads)
        .map(|(label, v)| Perf::new(label, *v, ""))
        .collect();
    CheckResult::new(status, summary).with_perf(perf)
}
