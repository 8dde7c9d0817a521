//! In-process host checks: `disk`, `memory`, `load`, `process`, `file`. They read /proc and
//! statvfs(3) directly, which costs microseconds instead of a fork.

use super::{CheckResult, Perf};
use crate::config::DiskThreshold;
use crate::duration::Duration;
use crate::model::Status;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

struct DiskUsage {
    total: u64,
    free: u64,
    used_percent: f64,
    inodes_used_percent: f64,
}

fn statvfs(path: &Path) -> std::io::Result<DiskUsage> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("path contains NUL"))?;
    // SAFETY: statvfs writes into the zeroed struct we own; the path is a valid C string.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above: a valid C string and a struct we own.
    if unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let block = stat.f_frsize as u64;
    let total = stat.f_blocks as u64 * block;
    let free = stat.f_bavail as u64 * block;
    // As df(1): used / (used + available to unprivileged users).
    let used = (stat.f_blocks as u64 - stat.f_bfree as u64) * block;
    let used_percent = if used + free == 0 {
        0.0
    } else {
        used as f64 * 100.0 / (used + free) as f64
    };
    let inodes_used_percent = if stat.f_files == 0 {
        0.0
    } else {
        (stat.f_files - stat.f_ffree) as f64 * 100.0 / stat.f_files as f64
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

pub fn human_bytes(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
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

/// Processes whose command name (comm) or executable basename equals `name`.
pub fn pids_named(name: &str) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| process_name_matches(*pid, name))
        .collect()
}

fn process_name_matches(pid: i32, name: &str) -> bool {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim_end() == name {
        return true;
    }
    // comm is cut at 15 bytes; argv[0]'s basename is the full name.
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    let argv0 = String::from_utf8_lossy(argv0);
    argv0.rsplit('/').next() == Some(name)
}

/// The kernel's name for this host.
pub fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
}

pub fn pid_alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid)
}

fn is_zombie(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        .unwrap_or(false)
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
