//! Running checks (kinds and keys: man/orchestrator.toml.5). Each kind lives in its own file and returns a `CheckResult` in
//! the Nagios vocabulary; `run_all` runs many at once, each under its own deadline.

mod command;
pub mod host;
pub mod journal;
mod net;
mod perfdata;
mod systemd;

pub use perfdata::{parse_perfdata, Perf};
// agents::runbook still reads this from here.
pub(crate) use crate::sys::systemd_is_running;

use crate::config::{Check, CheckKind};
use crate::model::Status;
use serde::Serialize;
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub status: Status,
    /// One line, as the first line of a plugin's output.
    pub summary: String,
    pub perfdata: Vec<Perf>,
    /// Longer output (a plugin's further lines, a failed unit list), bounded.
    pub output: String,
    pub duration_ms: u64,
}

impl CheckResult {
    pub fn new(status: Status, summary: impl Into<String>) -> Self {
        CheckResult {
            status,
            summary: summary.into(),
            perfdata: Vec::new(),
            output: String::new(),
            duration_ms: 0,
        }
    }

    pub fn ok(summary: impl Into<String>) -> Self {
        CheckResult::new(Status::Ok, summary)
    }

    pub fn critical(summary: impl Into<String>) -> Self {
        CheckResult::new(Status::Critical, summary)
    }

    pub fn unknown(summary: impl Into<String>) -> Self {
        CheckResult::new(Status::Unknown, summary)
    }

    pub fn with_perf(mut self, perf: Vec<Perf>) -> Self {
        self.perfdata = perf;
        self
    }

    pub fn with_output(mut self, output: impl Into<String>) -> Self {
        self.output = output.into();
        self
    }
}

/// Runs one check under its timeout. A probe that overruns is reported CRITICAL (a service
/// that does not answer in time is down for its users); its thread is left to finish alone.
pub fn run_check(check: &Check) -> CheckResult {
    let started = Instant::now();
    let deadline = check.timeout.std();
    let mut result = match &check.kind {
        // Commands get their timeout from exec, which also kills the process group.
        CheckKind::Command { argv } => command::run(argv, deadline),
        CheckKind::Systemd { unit } => systemd::unit_active(unit, deadline),
        CheckKind::SystemdFailed { ignore } => systemd::failed_units(ignore, deadline),
        CheckKind::Http { .. } => net::http(&check.kind, deadline),
        _ => with_deadline(check.clone(), deadline),
    };
    result.duration_ms = started.elapsed().as_millis() as u64;
    result
}

fn with_deadline(check: Check, deadline: Duration) -> CheckResult {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(format!("check-{}", check.name))
        .spawn(move || {
            let _ = tx.send(probe(&check.kind, deadline));
        });
    if let Err(err) = spawned {
        return CheckResult::unknown(format!("cannot start the check: {err}"));
    }
    match rx.recv_timeout(deadline) {
        Ok(result) => result,
        Err(_) => CheckResult::critical(format!(
            "check timed out after {:.1}s",
            deadline.as_secs_f64()
        )),
    }
}

fn probe(kind: &CheckKind, deadline: Duration) -> CheckResult {
    match kind {
        CheckKind::Tcp { address } => net::tcp(address, deadline),
        CheckKind::Disk {
            path,
            warn,
            crit,
            inodes_warn,
            inodes_crit,
        } => host::disk(path, *warn, *crit, *inodes_warn, *inodes_crit),
        CheckKind::Memory { warn, crit } => host::memory(*warn, *crit),
        CheckKind::Load { warn, crit } => host::load(*warn, *crit),
        CheckKind::Process {
            process,
            pidfile,
            min,
            max,
        } => host::process(process.as_deref(), pidfile.as_deref(), *min, *max),
        CheckKind::File {
            path,
            max_age,
            max_size,
            exists,
        } => host::file(path, *max_age, *max_size, *exists),
        CheckKind::Command { argv } => command::run(argv, deadline),
        CheckKind::Systemd { unit } => systemd::unit_active(unit, deadline),
        CheckKind::SystemdFailed { ignore } => systemd::failed_units(ignore, deadline),
        CheckKind::Http { .. } => net::http(kind, deadline),
    }
}

/// Runs every check, at most `parallelism` at once, and returns results in config order.
pub fn run_all(checks: &[Check], parallelism: usize) -> Vec<CheckResult> {
    crate::pool::map_bounded(checks, parallelism, run_check)
        .into_iter()
        .map(|r| r.unwrap_or_else(|| CheckResult::unknown("the check did not run")))
        .collect()
}
