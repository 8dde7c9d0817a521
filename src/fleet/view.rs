//! What the fleet page shows, read from the central database: every host with its last
//! heartbeat, the open escalations of all hosts worst first, and the patterns with where they
//! were verified. Read-only: approvals stay on each host, judged by its own policy.

use super::{Central, FleetError};
use crate::config::FleetConfig;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct HostRow {
    pub name: String,
    pub version: String,
    pub dashboard_url: Option<String>,
    pub last_heartbeat_at: f64,
    pub last_cycle_at: Option<f64>,
    pub backlog: i64,
}

#[derive(Debug, Serialize)]
pub struct OpenEscalation {
    pub host: String,
    pub dashboard_url: Option<String>,
    pub incident: i64,
    pub check: String,
    pub severity: String,
    pub summary: String,
    pub reason: String,
    pub status: String,
    pub opened_at: f64,
}

#[derive(Debug, Serialize)]
pub struct PatternRow {
    pub signature: String,
    pub plan_hash: String,
    pub check: String,
    pub plan: String,
    pub fixes: i64,
    pub failures: i64,
    pub hosts: i64,
    pub failed_hosts: i64,
    pub verified_on: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct FleetView {
    pub hosts: Vec<HostRow>,
    pub escalations: Vec<OpenEscalation>,
    pub patterns: Vec<PatternRow>,
}

/// Rows shown per table: a page for people, not an export.
const ROWS: i64 = 500;

impl FleetView {
    pub fn read(fleet: &FleetConfig) -> Result<FleetView, FleetError> {
        let mut central = Central::connect(fleet)?;
        let client = &mut central.client;
        let sql = super::central::sql;
        let hosts = client
            .query(
                "SELECT name, version, dashboard_url, extract(epoch FROM last_heartbeat_at)::float8,
                        extract(epoch FROM last_cycle_at)::float8, backlog
                   FROM hosts ORDER BY name LIMIT $1",
                &[&ROWS],
            )
            .map_err(sql)?
            .iter()
            .map(|r| HostRow {
                name: r.get(0),
                version: r.get(1),
                dashboard_url: r.get(2),
                last_heartbeat_at: r.get(3),
                last_cycle_at: r.get(4),
                backlog: r.get(5),
            })
            .collect();
        // Worst first: critical, then unknown (a broken check), then warning; not yet
        // acknowledged before acknowledged; the oldest first.
        let escalations = client
            .query(
                "SELECT e.host, h.dashboard_url, e.incident, e.check_name, e.severity, e.summary,
                        e.reason, e.status, extract(epoch FROM e.opened_at)::float8
                   FROM escalations e LEFT JOIN hosts h ON h.name = e.host
                  WHERE e.status != 'resolved'
                  ORDER BY CASE e.severity WHEN 'critical' THEN 0 WHEN 'unknown' THEN 1 ELSE 2 END,
                           CASE e.status WHEN 'open' THEN 0 ELSE 1 END, e.opened_at, e.host
                  LIMIT $1",
                &[&ROWS],
            )
            .map_err(sql)?
            .iter()
            .map(|r| OpenEscalation {
                host: r.get(0),
                dashboard_url: r.get(1),
                incident: r.get(2),
                check: r.get(3),
                severity: r.get(4),
                summary: r.get(5),
                reason: r.get(6),
                status: r.get(7),
                opened_at: r.get(8),
            })
            .collect();
        let patterns = client
            .query(
                "SELECT signature, plan_hash, check_name, plan, fixes, failures, hosts, failed_hosts,
                        verified_on
                   FROM patterns ORDER BY fixes DESC, hosts DESC, signature LIMIT $1",
                &[&ROWS],
            )
            .map_err(sql)?
            .iter()
            .map(|r| PatternRow {
                signature: r.get(0),
                plan_hash: r.get(1),
                check: r.get(2),
                plan: r.get(3),
                fixes: r.get(4),
                failures: r.get(5),
                hosts: r.get(6),
                failed_hosts: r.get(7),
                verified_on: r.get(8),
            })
            .collect();
        Ok(FleetView {
            hosts,
            escalations,
            patterns,
        })
    }
}
