//! The host's side of the fleet (migration 17): the outbox the triggers fill, the state of the
//! last sync, and the patterns the fleet knows as last pulled. The network is `crate::fleet`'s;
//! this is only what is kept on the host.

use super::incidents::add_event;
use super::{Result, Store};
use crate::clock::{now, Timestamp};
use crate::model::EventKind;
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

/// One event waiting for the central database.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxEvent {
    pub seq: i64,
    pub kind: String,
    pub at: Timestamp,
    pub body: serde_json::Value,
}

/// The fleet's state on this host.
#[derive(Debug, Clone, Serialize)]
pub struct FleetState {
    pub enabled: bool,
    pub origin: String,
    pub last_sync_at: Option<Timestamp>,
    pub last_sync_ok_at: Option<Timestamp>,
    pub last_sync_error: Option<String>,
    pub pull_revision: i64,
    /// Events waiting in the outbox.
    pub backlog: i64,
}

/// A pattern as the fleet knows it: its plan and its record on every host.
#[derive(Debug, Clone, Serialize)]
pub struct FleetPattern {
    pub signature: String,
    pub plan_hash: String,
    pub check: String,
    pub plan: String,
    pub fixes: i64,
    pub failures: i64,
    pub hosts: i64,
    pub failed_hosts: i64,
    pub verified_on: Vec<String>,
    pub revision: i64,
}

impl FleetPattern {
    fn from_row(row: &Row) -> rusqlite::Result<FleetPattern> {
        let verified: String = row.get(8)?;
        Ok(FleetPattern {
            signature: row.get(0)?,
            plan_hash: row.get(1)?,
            check: row.get(2)?,
            plan: row.get(3)?,
            fixes: row.get(4)?,
            failures: row.get(5)?,
            hosts: row.get(6)?,
            failed_hosts: row.get(7)?,
            verified_on: serde_json::from_str(&verified).unwrap_or_default(),
            revision: row.get(9)?,
        })
    }
}

const FLEET_PATTERN_COLUMNS: &str =
    "signature, plan_hash, check_name, plan, fixes, failures, hosts, failed_hosts, verified_on, revision";

impl Store {
    /// Turns the outbox triggers on or off, as `[fleet]` is configured. Turned on, the host's
    /// patterns so far are queued once, so the fleet learns what the host already knew. Turned
    /// off (`[fleet]` removed), what waits is dropped: no sync would ever send it.
    pub fn set_fleet_enabled(&mut self, enabled: bool) -> Result<()> {
        let tx = self.conn.transaction()?;
        let changed = tx.execute(
            "UPDATE fleet_state SET enabled = ?1 WHERE id = 1 AND enabled != ?1",
            [enabled as i64],
        )?;
        if changed == 1 && !enabled {
            tx.execute("DELETE FROM fleet_outbox", [])?;
        }
        if changed == 1 && enabled {
            tx.execute(
                "INSERT INTO fleet_outbox (kind, at, body)
                 SELECT 'pattern_known', ?1, json_object('signature', signature, 'check', check_name,
                        'plan', plan, 'plan_hash', plan_hash, 'phase', source_phase,
                        'successes', successes, 'failures', failures)
                   FROM patterns ORDER BY id",
                [now()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn fleet_state(&self) -> Result<FleetState> {
        Ok(self.conn.query_row(
            "SELECT enabled, origin, last_sync_at, last_sync_ok_at, last_sync_error, pull_revision,
                    (SELECT COUNT(*) FROM fleet_outbox)
               FROM fleet_state WHERE id = 1",
            [],
            |row| {
                Ok(FleetState {
                    enabled: row.get(0)?,
                    origin: row.get(1)?,
                    last_sync_at: row.get(2)?,
                    last_sync_ok_at: row.get(3)?,
                    last_sync_error: row.get(4)?,
                    pull_revision: row.get(5)?,
                    backlog: row.get(6)?,
                })
            },
        )?)
    }

    /// The oldest `limit` events of the outbox, in the order they happened.
    pub fn outbox(&self, limit: i64) -> Result<Vec<OutboxEvent>> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, kind, at, body FROM fleet_outbox ORDER BY seq LIMIT ?1")?;
        let rows = stmt.query_map([limit], |row| {
            let body: String = row.get(3)?;
            Ok(OutboxEvent {
                seq: row.get(0)?,
                kind: row.get(1)?,
                at: row.get(2)?,
                body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Forgets the events the central database has committed (by their keys).
    pub fn outbox_delivered(&mut self, seqs: &[i64]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare("DELETE FROM fleet_outbox WHERE seq = ?1")?;
            for seq in seqs {
                stmt.execute([seq])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Keeps the outbox within `limit` events: past it, the oldest are replaced by one
    /// `summary` event (a fresh key, so it can never be mistaken for one already delivered)
    /// that counts them by kind and keeps every fix and failure as a count per pattern, so
    /// that what the fleet trusts is never lost. Returns how many events were summarised.
    pub fn summarise_outbox(&mut self, limit: u32) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let count: i64 = tx.query_row("SELECT COUNT(*) FROM fleet_outbox", [], |r| r.get(0))?;
        // Room for the summary itself.
        let excess = count - i64::from(limit) + 1;
        if excess <= 1 {
            return Ok(0);
        }
        let last: i64 = tx.query_row(
            "SELECT seq FROM fleet_outbox ORDER BY seq LIMIT 1 OFFSET ?1",
            [excess - 1],
            |r| r.get(0),
        )?;
        let summary: String = tx.query_row(
            "WITH old AS (SELECT * FROM fleet_outbox WHERE seq <= ?1),
                  kinds AS (SELECT kind, COUNT(*) AS n FROM old GROUP BY kind),
                  fixes AS (
                      SELECT json_extract(body, '$.signature') AS signature,
                             json_extract(body, '$.plan_hash') AS plan_hash,
                             MAX(json_extract(body, '$.check')) AS check_name,
                             MAX(json_extract(body, '$.plan')) AS plan,
                             SUM(CASE kind WHEN 'fix_verified' THEN 1
                                           WHEN 'summary' THEN 0 ELSE 0 END)
                             + SUM(CASE WHEN kind = 'pattern_known'
                                        THEN json_extract(body, '$.successes') ELSE 0 END) AS fixes,
                             SUM(CASE kind WHEN 'fix_failed' THEN 1 ELSE 0 END)
                             + SUM(CASE WHEN kind = 'pattern_known'
                                        THEN json_extract(body, '$.failures') ELSE 0 END) AS failures
                        FROM old WHERE kind IN ('fix_verified', 'fix_failed', 'pattern_known')
                       GROUP BY 1, 2
                      UNION ALL
                      SELECT json_extract(f.value, '$.signature'), json_extract(f.value, '$.plan_hash'),
                             json_extract(f.value, '$.check'), json_extract(f.value, '$.plan'),
                             json_extract(f.value, '$.fixes'), json_extract(f.value, '$.failures')
                        FROM old, json_each(old.body, '$.fixes') f WHERE old.kind = 'summary')
             SELECT json_object(
                 'events', json((SELECT json_group_object(kind, n) FROM kinds)),
                 'from', (SELECT MIN(at) FROM old), 'to', (SELECT MAX(at) FROM old),
                 'fixes', json((SELECT json_group_array(json_object('signature', signature,
                           'plan_hash', plan_hash, 'check', check_name, 'plan', plan,
                           'fixes', fixes, 'failures', failures)) FROM fixes)))",
            [last],
            |r| r.get(0),
        )?;
        let removed = tx.execute("DELETE FROM fleet_outbox WHERE seq <= ?1", [last])?;
        tx.execute(
            "INSERT INTO fleet_outbox (kind, at, body) VALUES ('summary', ?1, ?2)",
            params![now(), summary],
        )?;
        tx.commit()?;
        Ok(removed as i64)
    }

    /// Records how the last sync went: `error` None when it reached the central database.
    pub fn record_fleet_sync(&self, error: Option<&str>) -> Result<()> {
        let at = now();
        self.conn.execute(
            "UPDATE fleet_state SET last_sync_at = ?1, last_sync_error = ?2,
                    last_sync_ok_at = CASE WHEN ?2 IS NULL THEN ?1 ELSE last_sync_ok_at END
              WHERE id = 1",
            params![at, error.map(|e| self.mask(e))],
        )?;
        Ok(())
    }

    /// Keeps the patterns pulled from the central database, and the revision to pull from next.
    pub fn store_fleet_patterns(&mut self, patterns: &[FleetPattern]) -> Result<()> {
        let tx = self.conn.transaction()?;
        let at = now();
        {
            let mut stmt = tx.prepare(&format!(
                "INSERT INTO fleet_patterns ({FLEET_PATTERN_COLUMNS}, pulled_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (signature, plan_hash) DO UPDATE SET
                     check_name = excluded.check_name, plan = excluded.plan, fixes = excluded.fixes,
                     failures = excluded.failures, hosts = excluded.hosts,
                     failed_hosts = excluded.failed_hosts, verified_on = excluded.verified_on,
                     revision = excluded.revision, pulled_at = excluded.pulled_at"
            ))?;
            for p in patterns {
                let verified = serde_json::to_string(&p.verified_on).unwrap_or_default();
                stmt.execute(params![
                    p.signature,
                    p.plan_hash,
                    p.check,
                    p.plan,
                    p.fixes,
                    p.failures,
                    p.hosts,
                    p.failed_hosts,
                    verified,
                    p.revision,
                    at
                ])?;
            }
        }
        if let Some(newest) = patterns.iter().map(|p| p.revision).max() {
            tx.execute(
                "UPDATE fleet_state SET pull_revision = MAX(pull_revision, ?1) WHERE id = 1",
                [newest],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The fleet's patterns of a signature, most fixes first.
    pub fn fleet_patterns_for(&self, signature: &str) -> Result<Vec<FleetPattern>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {FLEET_PATTERN_COLUMNS} FROM fleet_patterns WHERE signature = ?1
             ORDER BY fixes - failures DESC, hosts DESC, plan_hash"
        ))?;
        let rows = stmt.query_map([signature], FleetPattern::from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The fleet's patterns of a check (any signature), most fixes first, at most `limit`.
    pub fn fleet_patterns_of_check(&self, check: &str, limit: i64) -> Result<Vec<FleetPattern>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {FLEET_PATTERN_COLUMNS} FROM fleet_patterns WHERE check_name = ?1
             ORDER BY fixes - failures DESC, hosts DESC, plan_hash LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![check, limit], FleetPattern::from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// One fleet pattern, by its signature and plan hash.
    pub fn fleet_pattern(&self, signature: &str, plan_hash: &str) -> Result<Option<FleetPattern>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {FLEET_PATTERN_COLUMNS} FROM fleet_patterns
                     WHERE signature = ?1 AND plan_hash = ?2"
                ),
                params![signature, plan_hash],
                FleetPattern::from_row,
            )
            .optional()?)
    }

    /// A line on the incident's timeline about the fleet (a plan waiting for the blast radius,
    /// a lease granted locally), written once while it says the same.
    pub fn note_fleet(&self, incident: i64, detail: &str) -> Result<()> {
        let detail = self.mask(detail);
        let last: Option<String> = self
            .conn
            .query_row(
                "SELECT detail FROM incident_events WHERE incident = ?1 ORDER BY id DESC LIMIT 1",
                [incident],
                |r| r.get(0),
            )
            .optional()?;
        if last.as_deref() != Some(detail.as_str()) {
            add_event(&self.conn, incident, EventKind::Fleet, &detail)?;
        }
        Ok(())
    }

    /// Adds one to a counter of the Prometheus exposition (`fleet_lease_waits`, …).
    pub fn count(&self, name: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO counters (name, label, value) VALUES (?1, '', 1)
             ON CONFLICT (name, label) DO UPDATE SET value = value + 1",
            [name],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outbox_is_filled_only_in_a_fleet_and_summarised_past_its_limit() {
        let (_dir, mut store, _incident) = crate::store::store_with_incident();
        assert_eq!(
            store.fleet_state().unwrap().backlog,
            0,
            "no fleet, no outbox"
        );
        store.set_fleet_enabled(true).unwrap();
        for n in 0..150 {
            store
                .conn
                .execute(
                    "INSERT INTO fleet_outbox (kind, at, body) VALUES (?1, ?2, ?3)",
                    params![
                        if n % 2 == 0 { "fix_verified" } else { "fix_failed" },
                        n as f64,
                        r#"{"signature": "web: down", "plan_hash": "aa", "check": "web", "plan": "[]"}"#
                    ],
                )
                .unwrap();
        }
        let removed = store.summarise_outbox(100).unwrap();
        assert_eq!(removed, 51);
        let events = store.outbox(1000).unwrap();
        assert_eq!(events.len(), 100);
        let summary = events.last().unwrap();
        assert_eq!(summary.kind, "summary");
        assert_eq!(summary.body["events"]["fix_verified"], 26);
        assert_eq!(summary.body["events"]["fix_failed"], 25);
        assert_eq!(summary.body["fixes"][0]["fixes"], 26);
        assert_eq!(summary.body["fixes"][0]["failures"], 25);
        assert!(summary.seq > events[0].seq, "a summary has a fresh key");
        // A summary summarised again keeps its counts.
        for _ in 0..150 {
            store.conn.execute("INSERT INTO fleet_outbox (kind, at, body) VALUES ('fix_verified', 1, '{\"signature\": \"web: down\", \"plan_hash\": \"aa\"}')", []).unwrap();
        }
        store.summarise_outbox(100).unwrap();
        let events = store.outbox(1000).unwrap();
        assert_eq!(events.len(), 100);
        let fixes: i64 = events
            .iter()
            .filter(|e| e.kind == "summary")
            .flat_map(|e| e.body["fixes"].as_array().cloned().unwrap_or_default())
            .map(|f| f["fixes"].as_i64().unwrap_or(0))
            .sum::<i64>()
            + events.iter().filter(|e| e.kind == "fix_verified").count() as i64;
        assert_eq!(fixes, 75 + 150, "no fix is lost to summarising");
    }

    #[test]
    fn the_triggers_queue_what_the_fleet_should_know() {
        let (_dir, mut store, incident) = crate::store::store_with_incident();
        store.set_fleet_enabled(true).unwrap();
        store
            .conn
            .execute(
                "UPDATE incidents SET status = 'recovered', resolved_at = 5 WHERE id = ?1",
                [incident],
            )
            .unwrap();
        let kinds: Vec<String> = store
            .outbox(10)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["incident_closed"]);
    }
}
