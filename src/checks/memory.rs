//! `memory` checks: available memory (MemAvailable) as a percentage of the total.

use crate::sys::human_bytes;
use super::{CheckResult, Keys, Kind, Perf};
use crate::model::Status;
use serde_json::json;
use std::time::Duration;

/// `kind = "memory"`: alarm below `warn` / `crit` percent available.
#[derive(Debug, Clone)]
pub struct Memory {
    pub warn: f64,
    pub crit: f64,
}

impl Kind for Memory {
    const NAME: &'static str = "memory";
    const KEYS: &'static [&'static str] = &["warn", "crit"];

    fn parse(keys: &mut Keys) -> Option<Self> {
        Some(Memory {
            warn: keys.percent("warn", 10.0),
            crit: keys.percent("crit", 5.0),
        })
    }

    fn probe(&self, _deadline: Duration) -> CheckResult {
        memory(self.warn, self.crit)
    }

    fn details(&self) -> serde_json::Value {
        json!({ "warn": self.warn, "crit": self.crit })
    }
}

fn meminfo_kib(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn memory(warn: f64, crit: f64) -> CheckResult {
    let text = match std::fs::read_to_string("/proc/meminfo") {
        Ok(text) => text,
        Err(err) => return CheckResult::unknown(format!("cannot read /proc/meminfo: {err}")),
    };
    let (Some(total), Some(available)) = (
        meminfo_kib(&text, "MemTotal:"),
        meminfo_kib(&text, "MemAvailable:"),
    ) else {
        return CheckResult::unknown("/proc/meminfo lacks MemTotal or MemAvailable");
    };
    let percent = if total == 0 {
        0.0
    } else {
        available as f64 * 100.0 / total as f64
    };
    let status = if percent < crit {
        Status::Critical
    } else if percent < warn {
        Status::Warning
    } else {
        Status::Ok
    };
    let summary = format!(
        "{percent:.1}% memory available ({} of {})",
        human_bytes(available * 1024),
        human_bytes(total * 1024)
    );
    CheckResult::new(status, summary).with_perf(vec![
        Perf::new("available_pct", percent, "%"),
        Perf::new("available", (available * 1024) as f64, "B"),
    ])
}
