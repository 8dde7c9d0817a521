//! `scan`: run every check; open, update, reopen or recover incidents.

use super::Runtime;
use crate::checks::{self, CheckResult};
use crate::config::Check;
use crate::journald::CHANGE;
use crate::model::Status;
use crate::redact::Redactor;
use crate::store::{Observation, StoreError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct CheckLine {
    pub name: String,
    pub kind: &'static str,
    pub status: Status,
    pub summary: String,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Observation>,
    /// Who silenced the check, until when and why: scanned, but no phase acts on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silenced: Option<String>,
    /// A failure not counted yet (`for_cycles`): the scans in a row that found it so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
}

/// A failing check under `for_cycles = of` that has failed `streak` scans in a row, fewer
/// than `of`: recorded and shown, but no incident opens yet.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Pending {
    pub streak: u32,
    pub of: u32,
}

#[derive(Debug, Serialize, Default)]
pub struct ScanReport {
    pub checks: Vec<CheckLine>,
    pub opened: Vec<i64>,
    pub updated: Vec<i64>,
    pub reopened: Vec<i64>,
    pub flapping: Vec<i64>,
    pub recovered: Vec<i64>,
    /// Incidents found to be symptoms of another (a failing dependency, their service's
    /// incident): no phase works on them while it is active.
    pub symptoms: Vec<i64>,
    /// Closed incidents older than `[state] retention`, deleted.
    pub pruned: usize,
}

/// The checks ran but their results could not be stored (a full, read-only or failing state
/// disk): the results travel with the error, so the person who must be told sees them
/// without running every check again.
#[derive(Debug, thiserror::Error)]
#[error("the check results could not be recorded")]
pub struct Unrecorded {
    pub checks: Vec<CheckLine>,
    #[source]
    pub source: StoreError,
}

/// A check's line as printed, with no incident: for results nothing could record, and the base
/// of a recorded one.
pub fn unrecorded_line(check: &Check, result: &CheckResult, redactor: &Redactor) -> CheckLine {
    CheckLine {
        name: check.name.clone(),
        kind: check.kind.name(),
        status: result.status,
        summary: redactor.redact(&result.summary),
        duration_ms: result.duration_ms,
        incident: None,
        change: None,
        silenced: None,
        pending: None,
    }
}

pub fn scan(rt: &mut Runtime) -> anyhow::Result<ScanReport> {
    let config = rt.config;
    scan_checks(rt, &config.checks, Prune::Closed)
}

/// `scan --check NAME`: only the checks named (configured ones: the command checked), their
/// results recorded as a scan records them. Nothing is pruned.
pub fn scan_only(rt: &mut Runtime, names: &[String]) -> anyhow::Result<ScanReport> {
    let config = rt.config;
    let chosen: Vec<Check> = config
        .checks
        .iter()
        .filter(|check| names.contains(&check.name))
        .cloned()
        .collect();
    scan_checks(rt, &chosen, Prune::Nothing)
}

/// Whether a scan deletes the closed incidents older than `[state] retention`.
#[derive(PartialEq)]
enum Prune {
    Closed,
    Nothing,
}

/// A store error as the scan returns it: when the state cannot be written, the results travel
/// with it (see [`Unrecorded`]).
fn unrecorded(
    checks: &[Check],
    results: &[CheckResult],
    rt: &Runtime,
    source: StoreError,
) -> anyhow::Error {
    if !source.is_storage_failure() {
        return source.into();
    }
    let checks = checks
        .iter()
        .zip(results)
        .map(|(check, result)| unrecorded_line(check, result, rt.store.redactor()))
        .collect();
    Unrecorded { checks, source }.into()
}

fn scan_checks(rt: &mut Runtime, checks: &[Check], prune: Prune) -> anyhow::Result<ScanReport> {
    let config = rt.config;
    // A database that cannot be read here cannot be written below either, which reports it.
    let mut remembered = rt.store.check_memories().unwrap_or_default();
    let memories: Vec<_> = checks
        .iter()
        .map(|check| remembered.remove(&check.name).unwrap_or_default())
        .collect();
    let results = checks::run_all(checks, &memories, config.cycle.parallelism);
    crate::clock::span("checks ran");
    let unrecorded = |rt: &Runtime, source: StoreError| unrecorded(checks, &results, rt, source);
    let mut report = ScanReport::default();
    // One transaction for every result of the scan: one commit, not a few per check; a scan
    // killed midway leaves the state of the scan before it, whole.
    let dry_run = rt.dry_run;
    rt.store
        .in_one_transaction(|store| {
            let mut rt = Runtime {
                config,
                store,
                dry_run,
            };
            record(&mut rt, checks, &results, &mut report)
        })
        .map_err(|e| unrecorded(rt, e))?;
    crate::clock::span("results recorded");
    report.symptoms = super::causes::link_symptoms(rt).map_err(|e| unrecorded(rt, e))?;
    if prune == Prune::Closed {
        let retention = config.state.retention.as_secs_f64();
        report.pruned = rt
            .store
            .prune_closed(crate::clock::now() - retention)
            .map_err(|e| unrecorded(rt, e))?;
    }
    crate::clock::span("symptoms linked, old incidents pruned");
    Ok(report)
}

/// Records each check's result and what it changes of its incident, and adds its line to
/// `report`.
fn record(
    rt: &mut Runtime,
    checks: &[Check],
    results: &[CheckResult],
    report: &mut ScanReport,
) -> Result<(), StoreError> {
    for (check, result) in checks.iter().zip(results) {
        let (observed, pending) = observe_scan(rt, check, result)?;
        // The report is printed (and mailed by cron): the summary as the store keeps it.
        let line = unrecorded_line(check, result, rt.store.redactor());
        let summary = &line.summary;
        if let Some((id, change)) = observed {
            let list = match change {
                Observation::Opened => &mut report.opened,
                Observation::Seen => &mut report.updated,
                Observation::Reopened => &mut report.reopened,
                Observation::Flapping => &mut report.flapping,
                Observation::Recovered => &mut report.recovered,
            };
            list.push(id);
            log_change(&check.name, id, change, summary);
        }
        // Every check on every run: routine, for -vv, not for the journal of a healthy host.
        log::debug!(
            "check {}: {} in {} ms: {}",
            check.name,
            result.status,
            result.duration_ms,
            summary
        );
        let silenced = rt.store.silence_of(&check.name)?.map(|s| s.describe());
        report.checks.push(CheckLine {
            incident: observed.map(|(id, _)| id),
            change: observed.map(|(_, change)| change),
            silenced,
            pending,
            ..line
        });
    }
    Ok(())
}

/// What a scan's result did: the incident it concerns and what happened to it, or the
/// failure `for_cycles` does not count yet.
type ScanObservation = (Option<(i64, Observation)>, Option<Pending>);

/// Records a scan's result: keeps what the check remembers for the next scan, counts its
/// failing streak, and observes the result, except a failure that `for_cycles` does not count
/// yet (fewer scans in a row than it asks, and no incident open): that one is recorded as the
/// check's latest result only, and returned as pending. A pass counts at once.
fn observe_scan(
    rt: &mut Runtime,
    check: &Check,
    result: &CheckResult,
) -> crate::store::Result<ScanObservation> {
    if let Some(memory) = &result.memory {
        rt.store.remember(&check.name, memory)?;
    }
    let failing = result.status != Status::Ok;
    let streak = rt.store.count_failing_scan(&check.name, failing)?;
    if failing && streak < check.for_cycles && !rt.store.has_active_incident(&check.name)? {
        rt.store
            .record_check(&check.name, check.kind.name(), result, true)?;
        let pending = Pending {
            streak,
            of: check.for_cycles,
        };
        return Ok((None, Some(pending)));
    }
    Ok((rt.observe(check, result)?, None))
}

/// Only a change of state is worth a line: a check that starts failing (again) is a warning,
/// one that passes again is news, one that still fails was said before.
fn log_change(check: &str, incident: i64, change: Observation, summary: &str) {
    match change {
        Observation::Seen => {}
        Observation::Recovered => {
            log::info!(target: CHANGE, "check {check}: incident {incident} {change:?}: {summary}")
        }
        Observation::Opened | Observation::Reopened | Observation::Flapping => {
            log::warn!(target: CHANGE, "check {check}: incident {incident} {change:?}: {summary}")
        }
    }
}
