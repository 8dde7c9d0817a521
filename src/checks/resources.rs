//! `resources` checks: what a process and its descendants use, as Monit's `if totalmem > N`,
//! `if cpu > N% for 3 cycles` (with `for_cycles`), `if children > N`.
//!
//! The process is named (`process`: those of that name whose parent is not of that name, the
//! masters) or read from a `pidfile`; with it, every descendant counts (a daemon's workers do
//! the work). Memory is the sum of their resident sets (RSS), open files the sum of their
//! descriptors, children the number of descendants. CPU is a rate, so it needs two samples:
//! each scan remembers the CPU time of every process of the tree and when it read it, and the
//! next look divides what was spent since by the time that passed. 100% is one core busy, as
//! top and ps count (two busy cores are 200%); the first scan has no rate yet.

use super::host::{human_bytes, pids_named};
use super::{CheckResult, Keys, Kind, Look, Memory, Perf};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// Processes of one tree whose CPU time a scan remembers, at most.
const MOST_REMEMBERED: usize = 4096;

/// `kind = "resources"`.
#[derive(Debug, Clone)]
pub struct Resources {
    pub process: Option<String>,
    pub pidfile: Option<PathBuf>,
    /// Resident memory of the tree, in bytes.
    pub max_memory: Option<u64>,
    /// CPU of the tree over the interval, in percent of one core.
    pub max_cpu: Option<f64>,
    pub max_open_files: Option<u64>,
    pub max_children: Option<u64>,
}

impl Kind for Resources {
    const NAME: &'static str = "resources";
    const KEYS: &'static [&'static str] = &[
        "process",
        "pidfile",
        "max_memory",
        "max_cpu",
        "max_open_files",
        "max_children",
    ];

    fn parse(keys: &mut Keys) -> Option<Self> {
        let process: Option<String> = keys.get("process");
        let pidfile: Option<PathBuf> = keys.get("pidfile");
        let max_memory = keys.size("max_memory");
        let max_cpu = keys.raw("max_cpu").is_some().then(|| cpu_percent(keys));
        let max_open_files = keys.get("max_open_files");
        let max_children = keys.get("max_children");
        let named = keys.raw("process").is_some() || keys.raw("pidfile").is_some();
        if !named {
            keys.problem(
                "process",
                "a `resources` check needs `process` (a process name) or `pidfile`",
            );
        } else if keys.raw("process").is_some() && keys.raw("pidfile").is_some() {
            keys.problem("pidfile", "a `resources` check names `process` or `pidfile`, not both");
        }
        let limits = ["max_memory", "max_cpu", "max_open_files", "max_children"];
        if !limits.iter().any(|key| keys.raw(key).is_some()) {
            keys.problem(
                "max_memory",
                "a `resources` check needs at least one of max_memory, max_cpu, max_open_files, max_children",
            );
        }
        named.then_some(Resources {
            process,
            pidfile,
            max_memory,
            max_cpu,
            max_open_files,
            max_children,
        })
    }

    fn probe(&self, deadline: Duration) -> CheckResult {
        self.probe_after(deadline, Look::Recheck, &Memory::Null)
    }

    fn probe_after(&self, _deadline: Duration, _look: Look, memory: &Memory) -> CheckResult {
        let roots = match self.roots() {
            Ok(roots) => roots,
            Err(problem) => return CheckResult::critical(problem),
        };
        let table = ProcessTable::read();
        let tree = table.tree(&roots);
        let sample = Sample::of(&table, &tree);
        let last: Option<Sample> = serde_json::from_value(memory.clone()).ok();
        let cpu = last.and_then(|last| sample.cpu_percent_since(&last));
        let usage = Usage {
            memory: tree.iter().filter_map(|pid| table.get(*pid)).map(|p| p.rss).sum(),
            cpu,
            open_files: tree.iter().map(|pid| open_files(*pid)).sum(),
            children: tree.len().saturating_sub(roots.len()) as u64,
        };
        self.judge(&roots, &usage)
            .with_memory(serde_json::to_value(sample).unwrap_or_default())
    }

    fn details(&self) -> serde_json::Value {
        json!({
            "process": self.process,
            "pidfile": self.pidfile,
            "max_memory": self.max_memory,
            "max_cpu": self.max_cpu,
            "max_open_files": self.max_open_files,
            "max_children": self.max_children,
        })
    }
}

/// `max_cpu`: a percentage of one core, so above 100 on a host with several.
fn cpu_percent(keys: &mut Keys) -> f64 {
    let value = keys.raw("max_cpu").cloned();
    match value.as_ref().and_then(super::keys::parse_percent) {
        Some(p) if p >= 0.0 && p.is_finite() => p,
        _ => {
            let shown = value.map(|v| v.to_string()).unwrap_or_default();
            keys.problem(
                "max_cpu",
                format!("expected a percentage of one core like 80 or \"250%\", got {shown}"),
            );
            0.0
        }
    }
}

/// What the tree uses now.
struct Usage {
    memory: u64,
    cpu: Option<f64>,
    open_files: u64,
    children: u64,
}

impl Resources {
    /// The processes the check is about: the pid file's, or those named `process` whose parent
    /// is not of that name.
    fn roots(&self) -> Result<Vec<i32>, String> {
        if let Some(pidfile) = &self.pidfile {
            let pid = super::process::pid_in_file(pidfile)?;
            if !super::host::pid_alive(pid) {
                return Err(format!(
                    "stale pid file {}: pid {pid} is not running",
                    pidfile.display()
                ));
            }
            return Ok(vec![pid]);
        }
        let name = self.process.as_deref().unwrap_or_default();
        let named = pids_named(name);
        let roots: Vec<i32> = named
            .iter()
            .copied()
            .filter(|pid| {
                crate::sys::proc_stat(*pid).is_some_and(|s| !s.zombie && !named.contains(&s.parent))
            })
            .collect();
        if roots.is_empty() {
            return Err(format!("no process named {name} is running"));
        }
        Ok(roots)
    }

    fn who(&self, roots: &[i32]) -> String {
        let pids: Vec<String> = roots.iter().map(i32::to_string).collect();
        match (&self.process, &self.pidfile) {
            (Some(name), _) => format!("{name} (pid {})", pids.join(", ")),
            (_, Some(pidfile)) => format!("pid {} from {}", pids.join(", "), pidfile.display()),
            _ => format!("pid {}", pids.join(", ")),
        }
    }

    fn judge(&self, roots: &[i32], usage: &Usage) -> CheckResult {
        let mut over = Vec::new();
        if let Some(max) = self.max_memory.filter(|max| usage.memory > *max) {
            over.push(format!(
                "memory {} > {}",
                human_bytes(usage.memory),
                human_bytes(max)
            ));
        }
        if let (Some(max), Some(cpu)) = (self.max_cpu, usage.cpu) {
            if cpu > max {
                over.push(format!("cpu {cpu:.1}% > {max}%"));
            }
        }
        if let Some(max) = self.max_open_files.filter(|max| usage.open_files > *max) {
            over.push(format!("{} open files > {max}", usage.open_files));
        }
        if let Some(max) = self.max_children.filter(|max| usage.children > *max) {
            over.push(format!("{} children > {max}", usage.children));
        }
        let cpu = match usage.cpu {
            Some(cpu) => format!("cpu {cpu:.1}%"),
            None => "cpu from the next scan on".to_string(),
        };
        let now = format!(
            "memory {}, {cpu}, {} open files, {} children",
            human_bytes(usage.memory),
            usage.open_files,
            usage.children
        );
        let mut perf = vec![
            Perf::new("memory", usage.memory as f64, "B"),
            Perf::new("open_files", usage.open_files as f64, ""),
            Perf::new("children", usage.children as f64, ""),
        ];
        if let Some(cpu) = usage.cpu {
            perf.push(Perf::new("cpu", cpu, "%"));
        }
        let who = self.who(roots);
        if over.is_empty() {
            CheckResult::ok(format!("{who}: {now}")).with_perf(perf)
        } else {
            CheckResult::critical(format!("{who}: {}", over.join(", ")))
                .with_perf(perf)
                .with_output(now)
        }
    }
}

/// One process as /proc/PID/stat shows it.
#[derive(Debug, Clone, Copy)]
struct Proc {
    parent: i32,
    start: u64,
    /// utime + stime, in clock ticks.
    ticks: u64,
    rss: u64,
}

/// Every process on the host, read once.
struct ProcessTable(HashMap<i32, Proc>);

impl ProcessTable {
    fn read() -> ProcessTable {
        let page = rustix::param::page_size() as u64;
        let mut table = HashMap::new();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return ProcessTable(table);
        };
        for pid in entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok()) {
            let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            if let Some(proc) = parse_stat(&text, page) {
                table.insert(pid, proc);
            }
        }
        ProcessTable(table)
    }

    fn get(&self, pid: i32) -> Option<&Proc> {
        self.0.get(&pid)
    }

    /// `roots` and all their descendants.
    fn tree(&self, roots: &[i32]) -> Vec<i32> {
        let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
        for (pid, proc) in &self.0 {
            children.entry(proc.parent).or_default().push(*pid);
        }
        let mut tree: Vec<i32> = roots.iter().copied().filter(|p| self.0.contains_key(p)).collect();
        let mut next = 0;
        while let Some(pid) = tree.get(next).copied() {
            next += 1;
            for child in children.get(&pid).into_iter().flatten() {
                if !tree.contains(child) {
                    tree.push(*child);
                }
            }
        }
        tree
    }
}

/// The fields of `/proc/PID/stat` after the command name: ppid, utime, stime, start, rss.
fn parse_stat(text: &str, page: u64) -> Option<Proc> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let number = |i: usize| fields.get(i)?.parse::<u64>().ok();
    if fields.first() == Some(&"Z") {
        return None;
    }
    Some(Proc {
        parent: fields.get(1)?.parse().ok()?,
        ticks: number(11)?.saturating_add(number(12)?),
        start: number(19)?,
        rss: number(21)?.saturating_mul(page),
    })
}

/// Descriptors `pid` holds open; 0 when they may not be read.
fn open_files(pid: i32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|entries| entries.count() as u64)
        .unwrap_or(0)
}

/// The CPU time of every process of the tree at one moment, as a scan remembers it.
#[derive(Debug, Serialize, Deserialize)]
struct Sample {
    /// Seconds since boot (`/proc/uptime`), when it was read.
    uptime: f64,
    /// The boot it was read in: ticks and uptime do not carry across a reboot.
    boot: String,
    /// pid → (start time, CPU ticks).
    ticks: HashMap<i32, (u64, u64)>,
}

impl Sample {
    fn of(table: &ProcessTable, tree: &[i32]) -> Sample {
        let ticks = tree
            .iter()
            .take(MOST_REMEMBERED)
            .filter_map(|pid| table.get(*pid).map(|p| (*pid, (p.start, p.ticks))))
            .collect();
        Sample {
            uptime: uptime(),
            boot: boot_id(),
            ticks,
        }
    }

    /// The tree's CPU since `last`, in percent of one core. A process that was there then
    /// counts what it spent since; one started since counts all it spent; one that was not
    /// part of the tree then, but older, counts nothing (its earlier time is not this
    /// interval's).
    fn cpu_percent_since(&self, last: &Sample) -> Option<f64> {
        let elapsed = self.uptime - last.uptime;
        if last.boot != self.boot || elapsed <= 0.0 {
            return None;
        }
        let hz = rustix::param::clock_ticks_per_second() as f64;
        let since_tick = (last.uptime * hz) as u64;
        let spent: u64 = self
            .ticks
            .iter()
            .map(|(pid, (start, ticks))| match last.ticks.get(pid) {
                Some((then_start, then)) if then_start == start => ticks.saturating_sub(*then),
                _ if *start >= since_tick => *ticks,
                _ => 0,
            })
            .sum();
        Some(spent as f64 / hz / elapsed * 100.0)
    }
}

fn uptime() -> f64 {
    std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|id| id.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_a_hostile_command_name() {
        let line = "4242 (a) b) Z (c) S 17 4242 4242 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 \
                    987654 1000 25 18446744073709551615";
        let proc = parse_stat(line, 4096).unwrap();
        assert_eq!(proc.parent, 17);
        assert_eq!(proc.ticks, 10);
        assert_eq!(proc.start, 987654);
        assert_eq!(proc.rss, 25 * 4096);
    }

    #[test]
    fn cpu_counts_only_what_was_spent_in_the_interval() {
        let hz = rustix::param::clock_ticks_per_second();
        let last = Sample {
            uptime: 100.0,
            boot: "b".into(),
            ticks: HashMap::from([(1, (5, 1000)), (2, (6, 50))]),
        };
        let now = Sample {
            uptime: 110.0,
            boot: "b".into(),
            // pid 1 spent 5 s; pid 2 is a new process under the old number, started after
            // the sample, with 5 s; pid 3 is older than the sample and counts nothing.
            ticks: HashMap::from([
                (1, (5, 1000 + 5 * hz)),
                (2, (101 * hz, 5 * hz)),
                (3, (1, 9 * hz)),
            ]),
        };
        let cpu = now.cpu_percent_since(&last).unwrap();
        assert!((cpu - 100.0).abs() < 0.01, "{cpu}");
        let rebooted = Sample {
            boot: "c".into(),
            ..now
        };
        assert_eq!(rebooted.cpu_percent_since(&last), None);
    }
}
