//! `disk` checks: space and inodes of the filesystem holding `path`, by statvfs(3).

use super::host::{statvfs, DiskUsage};
use crate::sys::human_bytes;
use super::keys::{parse_percent, parse_size};
use super::{CheckResult, Keys, Kind, Perf};
use crate::model::Status;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `kind = "disk"`.
#[derive(Debug, Clone)]
pub struct Disk {
    pub path: PathBuf,
    pub warn: DiskThreshold,
    pub crit: DiskThreshold,
    pub inodes_warn: f64,
    pub inodes_crit: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DiskThreshold {
    /// Alarm when more than this percent is used.
    PercentUsed(f64),
    /// Alarm when fewer bytes than this are free.
    FreeBytes(u64),
}

impl Kind for Disk {
    const NAME: &'static str = "disk";
    const KEYS: &'static [&'static str] = &["path", "warn", "crit", "inodes_warn", "inodes_crit"];

    fn parse(keys: &mut Keys) -> Option<Self> {
        Some(Disk {
            path: keys.get("path").unwrap_or_else(|| PathBuf::from("/")),
            warn: threshold(keys, "warn", DiskThreshold::PercentUsed(85.0)),
            crit: threshold(keys, "crit", DiskThreshold::PercentUsed(95.0)),
            inodes_warn: keys.percent("inodes_warn", 85.0),
            inodes_crit: keys.percent("inodes_crit", 95.0),
        })
    }

    fn probe(&self, _deadline: Duration) -> CheckResult {
        disk(
            &self.path,
            self.warn,
            self.crit,
            self.inodes_warn,
            self.inodes_crit,
        )
    }

    fn filesystem(&self) -> Option<&Path> {
        Some(&self.path)
    }
    fn details(&self) -> serde_json::Value {
        json!({ "path": self.path })
    }
}

/// Percent used (`90`, `"90%"`) or free space (`"2GiB"`).
fn threshold(keys: &mut Keys, key: &'static str, default: DiskThreshold) -> DiskThreshold {
    let Some(value) = keys.raw(key) else {
        return default;
    };
    if let Some(p) = parse_percent(value).filter(|p| (0.0..=100.0).contains(p)) {
        return DiskThreshold::PercentUsed(p);
    }
    if let Some(bytes) = value.as_str().and_then(parse_size) {
        return DiskThreshold::FreeBytes(bytes);
    }
    let message =
        format!("expected percent used (90 or \"90%\") or free space (\"2GiB\"), got {value}");
    keys.problem(key, message);
    default
}

fn breaches(threshold: DiskThreshold, usage: &DiskUsage) -> bool {
    match threshold {
        DiskThreshold::PercentUsed(p) => usage.used_percent > p,
        DiskThreshold::FreeBytes(b) => usage.free < b,
    }
}

fn disk(
    path: &Path,
    warn: DiskThreshold,
    crit: DiskThreshold,
    inodes_warn: f64,
    inodes_crit: f64,
) -> CheckResult {
    let usage = match statvfs(path) {
        Ok(usage) => usage,
        Err(err) => return CheckResult::critical(format!("cannot stat {}: {err}", path.display())),
    };
    let status = if breaches(crit, &usage) || usage.inodes_used_percent > inodes_crit {
        Status::Critical
    } else if breaches(warn, &usage) || usage.inodes_used_percent > inodes_warn {
        Status::Warning
    } else {
        Status::Ok
    };
    let summary = format!(
        "{}: {:.1}% used, {} free, inodes {:.1}% used",
        path.display(),
        usage.used_percent,
        human_bytes(usage.free),
        usage.inodes_used_percent
    );
    let perf = vec![
        Perf {
            max: Some(usage.total as f64),
            min: Some(0.0),
            ..Perf::new("free", usage.free as f64, "B")
        },
        Perf::new("used_pct", usage.used_percent, "%"),
        Perf::new("inodes_used_pct", usage.inodes_used_percent, "%"),
    ];
    CheckResult::new(status, summary).with_perf(perf)
}
