//! `process` checks: how many processes of a name run, or whether a pid file's pid lives.

use super::host::{pid_alive, pids_named};
use super::{CheckResult, Keys, Kind, Perf};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `kind = "process"`: by `process` name (between `min` and `max` of them) or by `pidfile`.
#[derive(Debug, Clone)]
pub struct Process {
    pub process: Option<String>,
    pub pidfile: Option<PathBuf>,
    pub min: u32,
    pub max: Option<u32>,
}

impl Kind for Process {
    const NAME: &'static str = "process";
    const KEYS: &'static [&'static str] = &["process", "pidfile", "min", "max"];

    fn parse(keys: &mut Keys) -> Option<Self> {
        let process = keys.get("process");
        let pidfile = keys.get("pidfile");
        let min = keys.get("min").unwrap_or(1);
        let max = keys.get("max");
        if keys.raw("process").is_none() && keys.raw("pidfile").is_none() {
            keys.problem(
                "process",
                "a `process` check needs `process` (a process name) or `pidfile`",
            );
            return None;
        }
        Some(Process {
            process,
            pidfile,
            min,
            max,
        })
    }

    fn probe(&self, _deadline: Duration) -> CheckResult {
        process(
            self.process.as_deref(),
            self.pidfile.as_deref(),
            self.min,
            self.max,
        )
    }

    fn details(&self) -> serde_json::Value {
        json!({ "process": self.process, "pidfile": self.pidfile, "min": self.min, "max": self.max })
    }
}

fn process(
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

/// Through the one pid-file reader (`crate::pidfile`): the pid on the first line, the rest
/// ignored (PostgreSQL's `postmaster.pid`); a symlink, FIFO or device is refused, not read.
fn process_by_pidfile(pidfile: &Path) -> CheckResult {
    match pid_in_file(pidfile) {
        Ok(pid) if pid_alive(pid) => {
            CheckResult::ok(format!("pid {pid} from {} is running", pidfile.display()))
        }
        Ok(pid) => CheckResult::critical(format!(
            "stale pid file {}: pid {pid} is not running",
            pidfile.display()
        )),
        Err(problem) => CheckResult::critical(problem),
    }
}

/// The pid a pid file holds, or what is wrong with it, through the one pid-file reader. (The
/// `resources` kind reads pid files through here too.)
pub(super) fn pid_in_file(pidfile: &Path) -> Result<i32, String> {
    let shown = pidfile.display();
    match crate::pidfile::read(pidfile) {
        Ok(file) => Ok(file.pid),
        Err(crate::pidfile::PidFileError::Unreadable(why)) => {
            Err(format!("cannot read pid file {shown}: {why}"))
        }
        Err(no_pid) => Err(format!("pid file {shown} {no_pid}")),
    }
}
