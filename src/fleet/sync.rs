//! `fleet sync`: the outbox pushed in batches, a heartbeat, and the fleet's patterns pulled,
//! all within `[fleet] sync_budget`. It never holds the cycle lock; what it cannot send now
//! stays in the outbox for the next run, which is why a dead or slow database loses nothing.

use super::{host_name, Central, FleetError};
use crate::config::{Config, FleetConfig};
use crate::store::{FleetPattern, Store};
use serde::Serialize;
use std::time::Instant;

/// Events per push: one statement and one transaction each.
const BATCH: i64 = 500;
/// Patterns per pull.
const PULL: i64 = 1000;
/// Events a host keeps in the central database, for its own resends to be recognised.
const RETENTION_DAYS: i32 = 30;

#[derive(Debug, Default, Serialize)]
pub struct SyncReport {
    pub host: String,
    /// Events the central database applied now.
    pub pushed: usize,
    /// Events it had already (a batch resent after an answer was lost): not applied again.
    pub already_known: usize,
    /// Events folded into a summary because the outbox was over `outbox_limit`.
    pub summarised: i64,
    pub pulled: usize,
    /// Events still waiting in the outbox.
    pub backlog: i64,
    pub millis: u128,
    /// Why the sync stopped short, when it did; the outbox keeps what was not sent.
    pub error: Option<String>,
}

pub fn sync(config: &Config, fleet: &FleetConfig, store: &mut Store) -> SyncReport {
    let started = Instant::now();
    let mut report = SyncReport {
        host: host_name(config),
        ..SyncReport::default()
    };
    let result = run(config, fleet, store, started, &mut report);
    report.error = result.err().map(|e| e.to_string());
    report.backlog = store.fleet_state().map(|s| s.backlog).unwrap_or(-1);
    if let Err(err) = store.record_fleet_sync(report.error.as_deref()) {
        log::warn!("fleet sync: cannot record it: {err}");
    }
    report.millis = started.elapsed().as_millis();
    report
}

fn run(
    config: &Config,
    fleet: &FleetConfig,
    store: &mut Store,
    started: Instant,
    report: &mut SyncReport,
) -> Result<(), FleetError> {
    store.set_fleet_enabled(true)?;
    report.summarised = store.summarise_outbox(fleet.outbox_limit)?;
    if report.summarised > 0 {
        log::warn!(
            "fleet sync: the outbox was over {} events: the {} oldest are summarised",
            fleet.outbox_limit,
            report.summarised
        );
    }
    let mut central = Central::connect(fleet)?;
    let origin = store.fleet_state()?.origin;
    let within_budget = || started.elapsed() < fleet.sync_budget.std();
    while within_budget() {
        let events = store.outbox(BATCH)?;
        if events.is_empty() {
            break;
        }
        let applied = push(&mut central, &report.host, &origin, &events)?;
        report.pushed += applied;
        report.already_known += events.len() - applied;
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        store.outbox_delivered(&seqs)?;
    }
    heartbeat(&mut central, config, store, &report.host)?;
    let mut revision = store.fleet_state()?.pull_revision;
    while within_budget() {
        let patterns = pull(&mut central, revision)?;
        let done = (patterns.len() as i64) < PULL;
        report.pulled += patterns.len();
        if let Some(newest) = patterns.iter().map(|p| p.revision).max() {
            revision = newest;
        }
        store.store_fleet_patterns(&patterns)?;
        if done {
            break;
        }
    }
    prune(&mut central, &report.host)
}

/// One batch, applied by `orchestrator_push` in one statement; returns how many were new.
fn push(
    central: &mut Central,
    host: &str,
    origin: &str,
    events: &[crate::store::OutboxEvent],
) -> Result<usize, FleetError> {
    let batch = serde_json::to_string(events).unwrap_or_else(|_| "[]".into());
    let rows = central
        .client
        .query(
            "SELECT orchestrator_push($1, $2, $3::text::jsonb)",
            &[&host, &origin, &batch],
        )
        .map_err(super::central::sql)?;
    Ok(rows.len())
}

fn heartbeat(
    central: &mut Central,
    config: &Config,
    store: &Store,
    host: &str,
) -> Result<(), FleetError> {
    let dashboard = config
        .fleet
        .as_ref()
        .and_then(|f| f.dashboard_url.clone())
        .or_else(|| {
            config
                .escalation
                .as_ref()
                .and_then(|e| e.dashboard_url.clone())
        });
    let last_cycle = store.last_cycle_finished_at()?;
    let backlog = store.fleet_state()?.backlog;
    central
        .client
        .execute(
            "SELECT orchestrator_heartbeat($1, $2, $3, $4, $5)",
            &[
                &host,
                &env!("CARGO_PKG_VERSION"),
                &dashboard,
                &last_cycle,
                &backlog,
            ],
        )
        .map_err(super::central::sql)?;
    Ok(())
}

fn pull(central: &mut Central, since: i64) -> Result<Vec<FleetPattern>, FleetError> {
    let rows = central
        .client
        .query(
            "SELECT signature, plan_hash, check_name, plan, fixes, failures, hosts, failed_hosts,
                    verified_on, revision
               FROM patterns WHERE revision > $1 ORDER BY revision LIMIT $2",
            &[&since, &PULL],
        )
        .map_err(super::central::sql)?;
    Ok(rows
        .iter()
        .map(|row| FleetPattern {
            signature: row.get(0),
            plan_hash: row.get(1),
            check: row.get(2),
            plan: row.get(3),
            fixes: row.get(4),
            failures: row.get(5),
            hosts: row.get(6),
            failed_hosts: row.get(7),
            verified_on: row.get(8),
            revision: row.get(9),
        })
        .collect())
}

/// Keeps the central database bounded: this host's events after `RETENTION_DAYS` (far past
/// any resend), its leases after a day, its closed incidents and escalations after 90 days.
fn prune(central: &mut Central, host: &str) -> Result<(), FleetError> {
    central
        .client
        .execute(
            "DELETE FROM events WHERE host = $1 AND received_at < now() - make_interval(days => $2)",
            &[&host, &RETENTION_DAYS],
        )
        .map_err(super::central::sql)?;
    central
        .client
        .execute(
            "DELETE FROM leases WHERE host = $1 AND acquired_at < now() - interval '1 day'",
            &[&host],
        )
        .map_err(super::central::sql)?;
    // What is over: as long as a host keeps its own (`[state] retention`'s default).
    for sql in [
        "DELETE FROM incidents WHERE host = $1 AND closed_at < now() - interval '90 days'",
        "DELETE FROM escalations WHERE host = $1 AND status = 'resolved'
            AND updated_at < now() - interval '90 days'",
    ] {
        central
            .client
            .execute(sql, &[&host])
            .map_err(super::central::sql)?;
    }
    Ok(())
}
