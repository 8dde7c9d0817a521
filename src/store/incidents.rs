//! Incidents and their timeline: opened by failing checks, deduplicated, reopened, recovered,
//! moved between phases.

use super::{Result, Store, StoreError};
use crate::clock::{now, Timestamp};
use crate::model::{EventKind, IncidentStatus, Phase, Severity};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    pub id: i64,
    pub check: String,
    pub signature: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub phase: Phase,
    pub summary: String,
    pub evidence: String,
    pub occurrences: i64,
    pub detected_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub resolved_phase: Option<Phase>,
    pub resolved_by: Option<String>,
    pub reopened: i64,
    pub flapping: bool,
    pub handoff: Option<String>,
    /// The incident this one is a symptom of (a failing dependency, or its group's incident).
    pub caused_by: Option<i64>,
}

pub(super) const INCIDENT_COLUMNS: &str = "id, check_name, signature, severity, status, phase, summary, evidence, occurrences, \
     detected_at, last_seen_at, resolved_at, resolved_phase, resolved_by, reopened, flapping, handoff, caused_by";

impl Incident {
    pub(super) fn from_row(row: &Row) -> rusqlite::Result<Incident> {
        Ok(Incident {
            id: row.get(0)?,
            check: row.get(1)?,
            signature: row.get(2)?,
            severity: row.get(3)?,
            status: row.get(4)?,
            phase: row.get(5)?,
            summary: row.get(6)?,
            evidence: row.get(7)?,
            occurrences: row.get(8)?,
            detected_at: row.get(9)?,
            last_seen_at: row.get(10)?,
            resolved_at: row.get(11)?,
            resolved_phase: row.get(12)?,
            resolved_by: row.get(13)?,
            reopened: row.get(14)?,
            flapping: row.get::<_, i64>(15)? != 0,
            handoff: row.get(16)?,
            caused_by: row.get(17)?,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub at: Timestamp,
    pub kind: EventKind,
    pub detail: String,
}

/// A failing check result as the store needs it.
pub struct Failure<'a> {
    pub check: &'a str,
    pub signature: &'a str,
    pub severity: Severity,
    pub summary: &'a str,
    pub evidence: &'a str,
    pub reopen_within: f64,
    pub flapping_reopened: u32,
    pub flapping_within: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Observation {
    Opened,
    Seen,
    Reopened,
    /// Reopened too often: no phase acts on it any more; it waits for escalation.
    Flapping,
    Recovered,
}

#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub active_only: bool,
    pub status: Option<IncidentStatus>,
    pub check: Option<String>,
    pub limit: Option<i64>,
    /// Rows to skip (newest first), for paging.
    pub offset: Option<i64>,
}

fn severity_rank(severity: Severity) -> u8 {
    match severity {
        Severity::Unknown => 0,
        Severity::Warning => 1,
        Severity::Critical => 2,
    }
}

/// One line of an incident's timeline; every writer of `incident_events` goes through here.
pub(super) fn add_event(
    conn: &Connection,
    incident: i64,
    kind: EventKind,
    detail: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO incident_events (incident, at, kind, detail) VALUES (?1, ?2, ?3, ?4)",
        params![incident, now(), kind, detail],
    )?;
    Ok(())
}

/// Asked for every check of every scan: the statement is prepared once per connection.
fn active_incident(conn: &Connection, check: &str) -> rusqlite::Result<Option<Incident>> {
    conn.prepare_cached(&format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE check_name = ?1 AND status IN ('open', 'escalated') ORDER BY id DESC LIMIT 1"))?
        .query_row([check], Incident::from_row)
        .optional()
}

impl Store {
    /// Records a check's latest result. Only scans count as a healthy observation that resets
    /// the restart limit: a verifying check right after a restart proves little.
    pub fn record_check(
        &self,
        name: &str,
        kind: &str,
        result: &crate::checks::CheckResult,
        by_scan: bool,
    ) -> Result<()> {
        let mut perfdata = serde_json::to_value(&result.perfdata).unwrap_or_default();
        self.redactor().redact_value(&mut perfdata);
        let summary = self.mask(&result.summary);
        let output = self.mask(&result.output);
        let at = now();
        let ok_at = (by_scan && result.status == crate::model::Status::Ok).then_some(at);
        self.conn.prepare_cached(
            "INSERT INTO checks (name, kind, status, summary, perfdata, output, duration_ms, checked_at, last_ok_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (name) DO UPDATE SET kind = ?2, status = ?3, summary = ?4, perfdata = ?5, output = ?6,
                 duration_ms = ?7, checked_at = ?8, last_ok_at = COALESCE(?9, last_ok_at)",
        )?.execute(params![name, kind, result.status.as_str(), summary, perfdata.to_string(), output, result.duration_ms as i64, at, ok_at],
        )?;
        // One cell per scan in the history strip: the re-checks phases make are not kept.
        if by_scan {
            self.remember_result(name, result.status.as_str(), &summary, at)?;
        }
        Ok(())
    }

    /// A check failed: update its active incident, reopen a recently closed one, or open one.
    pub fn observe_failure(&mut self, failure: &Failure) -> Result<(i64, Observation)> {
        let (signature, summary, evidence) = (
            self.mask(failure.signature),
            self.mask(failure.summary),
            self.mask(failure.evidence),
        );
        let failure = &Failure {
            signature: &signature,
            summary: &summary,
            evidence: &evidence,
            ..*failure
        };
        // A savepoint: its own transaction, or a part of a scan's (`Store::in_one_transaction`).
        let tx = self.conn.savepoint()?;
        let at = now();
        let result = if let Some(active) = active_incident(&tx, failure.check)? {
            let severity = if severity_rank(failure.severity) > severity_rank(active.severity) {
                failure.severity
            } else {
                active.severity
            };
            tx.execute(
                "UPDATE incidents SET occurrences = occurrences + 1, last_seen_at = ?2, summary = ?3, evidence = ?4, severity = ?5 WHERE id = ?1",
                params![active.id, at, failure.summary, failure.evidence, severity.as_str()],
            )?;
            (active.id, Observation::Seen)
        } else if let Some(closed) =
            recently_closed(&tx, failure.check, at - failure.reopen_within)?
        {
            reopen(&tx, &closed, failure, at)?
        } else {
            tx.execute(
                "INSERT INTO incidents (check_name, signature, severity, status, phase, summary, evidence, detected_at, last_seen_at)
                 VALUES (?1, ?2, ?3, 'open', 1, ?4, ?5, ?6, ?6)",
                params![failure.check, failure.signature, failure.severity.as_str(), failure.summary, failure.evidence, at],
            )?;
            let id = tx.last_insert_rowid();
            add_event(&tx, id, EventKind::Opened, failure.summary)?;
            (id, Observation::Opened)
        };
        tx.commit()?;
        Ok(result)
    }

    /// A check passed: its active incident, unless flapping, is marked recovered. A flapping
    /// incident stays escalated until a person closes it: it is escalated once.
    pub fn observe_pass(&mut self, check: &str) -> Result<Option<i64>> {
        // Most passing checks have no incident: one cached query answers, no savepoint needed.
        if active_incident(&self.conn, check)?.is_none() {
            return Ok(None);
        }
        let tx = self.conn.savepoint()?;
        let Some(active) = active_incident(&tx, check)? else {
            return Ok(None);
        };
        if active.flapping {
            return Ok(None);
        }
        let at = now();
        tx.execute(
            &format!(
                "UPDATE incidents SET status = 'recovered', resolved_at = ?2, resolved_phase = phase, resolved_by = 'check' WHERE id = ?1 AND {}",
                IncidentStatus::sql_may_become(IncidentStatus::Recovered)
            ),
            params![active.id, at],
        )?;
        tx.execute(
            "UPDATE escalations SET status = 'resolved', note = COALESCE(note, 'the check passes again') WHERE incident = ?1 AND status != 'resolved'",
            [active.id],
        )?;
        add_event(
            &tx,
            active.id,
            EventKind::Recovered,
            "the check passes again",
        )?;
        tx.commit()?;
        Ok(Some(active.id))
    }

    /// Incidents that `phase` should work on: open, in that phase, not flapping, and not the
    /// symptom of an incident still active (the cause is worked on first).
    pub fn incidents_waiting(&self, phase: Phase) -> Result<Vec<Incident>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE status = 'open' AND phase = ?1 AND (flapping = 0 OR ?1 = 4)
             AND NOT EXISTS (SELECT 1 FROM incidents AS cause WHERE cause.id = incidents.caused_by
                             AND cause.status IN ('open', 'escalated'))
             ORDER BY id"
        ))?;
        let rows = stmt.query_map([phase.number()], Incident::from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Hands an incident to a later phase, saying why.
    pub fn move_to_phase(&mut self, incident: i64, phase: Phase, reason: &str) -> Result<()> {
        let reason = &self.mask(reason);
        let tx = self.conn.transaction()?;
        let changed = tx.execute(
            "UPDATE incidents SET phase = ?2, handoff = ?3, max_phase = MAX(max_phase, ?2) WHERE id = ?1 AND status = 'open'",
            params![incident, phase.number(), reason],
        )?;
        if changed == 1 {
            add_event(&tx, incident, EventKind::moved_to(phase), reason)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn incident(&self, id: i64) -> Result<Incident> {
        self.conn
            .query_row(
                &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1"),
                [id],
                Incident::from_row,
            )
            .optional()?
            .ok_or(StoreError::NoIncident(id))
    }

    pub fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>> {
        let mut sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE 1 = 1");
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
        if filter.active_only {
            sql.push_str(" AND status IN ('open', 'escalated')");
        }
        if let Some(status) = filter.status {
            sql.push_str(" AND status = ?");
            args.push(Box::new(status.as_str()));
        }
        if let Some(check) = &filter.check {
            sql.push_str(" AND check_name = ?");
            args.push(Box::new(check.clone()));
        }
        sql.push_str(" ORDER BY id DESC LIMIT ? OFFSET ?");
        args.push(Box::new(filter.limit.unwrap_or(-1)));
        args.push(Box::new(filter.offset.unwrap_or(0).max(0)));
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), Incident::from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn events(&self, incident: i64) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare(
            "SELECT at, kind, detail FROM incident_events WHERE incident = ?1 ORDER BY at, id",
        )?;
        let rows = stmt.query_map([incident], |row| {
            Ok(Event {
                at: row.get(0)?,
                kind: row.get(1)?,
                detail: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Deletes closed incidents (with their attempts, votes and escalations) resolved before
    /// `before` (`[state] retention`). Patterns stay: they are what was learned.
    pub fn prune_closed(&self, before: Timestamp) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM incidents INDEXED BY incidents_closed
             WHERE status IN ('resolved', 'recovered') AND resolved_at < ?1",
            [before],
        )?)
    }

    /// When a scan last saw the check pass.
    pub fn last_ok_at(&self, check: &str) -> Result<Option<Timestamp>> {
        Ok(self
            .conn
            .query_row(
                "SELECT last_ok_at FROM checks WHERE name = ?1",
                [check],
                |row| row.get(0),
            )
            .optional()?
            .flatten())
    }
}

fn recently_closed(
    tx: &Connection,
    check: &str,
    since: Timestamp,
) -> rusqlite::Result<Option<Incident>> {
    tx.query_row(
        &format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE check_name = ?1 AND status IN ('resolved', 'recovered')
             AND resolved_at >= ?2 ORDER BY id DESC LIMIT 1"
        ),
        params![check, since],
        Incident::from_row,
    )
    .optional()
}

/// Reopens a closed incident: the plan that "fixed" it loses credit, and an
/// incident reopened too often becomes flapping and goes straight to phase 4.
fn reopen(
    tx: &Connection,
    closed: &Incident,
    failure: &Failure,
    at: Timestamp,
) -> rusqlite::Result<(i64, Observation)> {
    let id = closed.id;
    tx.execute(
        &format!(
            "UPDATE incidents SET status = 'open', phase = 1, occurrences = occurrences + 1, last_seen_at = ?2, summary = ?3,
                 evidence = ?4, severity = ?5, resolved_at = NULL, resolved_phase = NULL, resolved_by = NULL,
                 reopened = reopened + 1, handoff = NULL, caused_by = NULL
             WHERE id = ?1 AND {}",
            IncidentStatus::sql_may_become(IncidentStatus::Open)
        ),
        params![id, at, failure.summary, failure.evidence, failure.severity.as_str()],
    )?;
    let fixed_by: Option<String> = tx
        .query_row("SELECT plan_hash FROM attempts WHERE incident = ?1 AND outcome = 'fixed' ORDER BY id DESC LIMIT 1", [id], |row| {
            row.get(0)
        })
        .optional()?;
    if let Some(hash) = fixed_by {
        tx.execute(
            "UPDATE patterns SET failures = failures + 1 WHERE signature = ?1 AND plan_hash = ?2",
            params![closed.signature, hash],
        )?;
    }
    add_event(tx, id, EventKind::Reopened, failure.summary)?;
    let reopens: i64 = tx.query_row(
        "SELECT COUNT(*) FROM incident_events WHERE incident = ?1 AND kind = 'reopened' AND at >= ?2",
        params![id, at - failure.flapping_within],
        |row| row.get(0),
    )?;
    if failure.flapping_reopened > 0 && reopens >= failure.flapping_reopened as i64 {
        let reason = format!(
            "flapping: reopened {reopens} times within {}",
            crate::duration::Duration(crate::clock::duration_from_secs(failure.flapping_within))
        );
        tx.execute(
            "UPDATE incidents SET flapping = 1, phase = 4, max_phase = 4, handoff = ?2 WHERE id = ?1",
            params![id, reason],
        )?;
        add_event(tx, id, EventKind::Flapping, &reason)?;
        return Ok((id, Observation::Flapping));
    }
    Ok((id, Observation::Reopened))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_stored_status_is_an_error_not_an_open_incident() {
        let (_dir, store, incident) = crate::store::store_with_incident();
        assert_eq!(
            store.incident(incident).unwrap().status,
            IncidentStatus::Open
        );

        for (column, value) in [
            ("status", "'reopend'"),
            ("severity", "'fatal'"),
            ("phase", "7"),
        ] {
            let good = store.incident(incident).unwrap();
            store
                .conn
                .execute(&format!("UPDATE incidents SET {column} = {value}"), [])
                .unwrap();
            let err = store.incident(incident).unwrap_err().to_string();
            assert!(
                err.contains("unknown") && err.contains(value.trim_matches('\'')),
                "{err}"
            );
            store
                .conn
                .execute(
                    "UPDATE incidents SET status = ?1, severity = ?2, phase = ?3",
                    params![good.status, good.severity, good.phase],
                )
                .unwrap();
        }
    }
}
