//! In-process host checks: `disk`, `memory`, `load`, `process`, `file`. They read /proc and
//! statvfs(3) directly, which costs microseconds instead of a fork.

use super::{CheckResult, Perf};
use crate::config::DiskThreshold;
use crate::duration::Duration;
use crate::model::Status;
use crate::sys::{self, human_bytes, pids_named};
use std::path::Path;

// agents::runbook still reads these from here.
pub(crate) use crate::sys::pid_alive;

struct DiskUsage {
    total: u64,
    free: u64,
    used_percent: f64,
    inodes_used_percent: f64,
}

fn statvfs(path: &Path) -> std::io::Result<DiskUsage> {
    let fs = sys::statvfs(path)?;
    let total = fs.blocks * fs.block_size;
    let free = fs.blocks_available * fs.block_size;
    // As df(1): used / (used + available to unprivileged users).
    let used = (fs.blocks - fs.blocks_free) * fs.block_size;
    let used_percent = if used + free == 0 {
        0.0
    } else {
        used as f64 * 100.0 / (used + free) as f64
    };
    let inodes_used_percent = if fs.inodes == 0 {
        0.0
    } else {
        (fs.inodes - fs.inodes_free) as f64 * 100.0 / fs.inodes as f64
    };
    Ok(DiskUsage {
        total,
        free,
        used_percent,
        inodes_used_percent,
    })
}

fn breaches(threshold: DiskThreshold, usage: &DiskUsage) -> bool {
    match threshold {
        DiskThreshold::PercentUsed(p) => usage.used_percent > p,
        DiskThreshold::FreeBytes(b) => usage.free < b,
    }
}

pub fn disk(
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

fn meminfo_kib(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

pub fn memory(warn: f64, crit: f64) -> CheckResult {
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

pub fn load(warn: f64, crit: f64) -> CheckResult {
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

pub fn process(
    name: Option<&str>,
    pidfile: Option<&Path>,
    min: u32,
    max: Option<u32>,
) -> CheckResult {
    if let Some(pidfile) = pidfile {
        return process_by_pidfile(pidfile);
    }
    let Some(name) = name else {
        return CheckResult::unknown("no process name or pidfile");
    };
    let count = pids_named(name).len() as u32;
    let perf = vec![Perf::new("procs", count as f64, "")];
    if count < min {
        return CheckResult::critical(format!(
            "{count} {name} processes running, expected at least {min}"
        ))
        .with_perf(perf);
    }
    if let Some(max) = max.filter(|max| count > *max) {
        return CheckResult::critical(format!(
            "{count} {name} processes running, expected at most {max}"
        ))
        .with_perf(perf);
    }
    CheckResult::ok(format!("{count} {name} processes running")).with_perf(perf)
}

fn process_by_pidfile(pidfile: &Path) -> CheckResult {
    let text = match std::fs::read_to_string(pidfile) {
        Ok(text) => text,
        Err(err) => {
            return CheckResult::critical(format!(
                "cannot read pid file {}: {err}",
                pidfile.display()
            ))
        }
    };
    match text.trim().parse::<i32>() {
        Ok(pid) if pid_alive(pid) => {
            CheckResult::ok(format!("pid {pid} from {} is running", pidfile.display()))
        }
        Ok(pid) => CheckResult::critical(format!(
            "stale pid file {}: pid {pid} is not running",
            pidfile.display()
        )),
        Err(_) => CheckResult::critical(format!(
            "pid file {} does not hold a pid",
            pidfile.display()
        )),
    }
}

pub fn file(
    path: &Path,
    max_age: Option<Duration>,
    max_size: Option<u64>,
    exists: bool,
) -> CheckResult {
    let meta = match (std::fs::metadata(path), exists) {
        (Err(_), false) => return CheckResult::ok(format!("{} does not exist", path.display())),
        (Ok(_), false) => {
            return CheckResult::critical(format!("{} exists but should not", path.display()))
        }
        (Err(err), true) => return CheckResult::critical(format!("{}: {err}", path.display())),
        (Ok(meta), true) => meta,
    };
    let age = meta
        .modified()
        .ok()
        .and_then(|m| m.elapsed().ok())
        .unwrap_or_default();
    let perf = vec![
        Perf::new("age", age.as_secs_f64(), "s"),
        Perf::new("size", meta.len() as f64, "B"),
    ];
    if let Some(max_age) = max_age.filter(|max| age > max.std()) {
        let age = Duration(std::time::Duration::from_secs(age.as_secs()));
        return CheckResult::critical(format!("{} is {age} old (max {max_age})", path.display()))
            .with_perf(perf);
    }
    if let Some(max_size) = max_size.filter(|max| meta.len() > *max) {
        return CheckResult::critical(format!(
            "{} is {} (max {})",
            path.display(),
            human_bytes(meta.len()),
            human_bytes(max_size)
        ))
        .with_perf(perf);
    }
    CheckResult::ok(format!(
        "{} is {} and {}s old",
        path.display(),
        human_bytes(meta.len()),
        age.as_secs()
    ))
    .with_perf(perf)
}
