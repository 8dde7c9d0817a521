//! The queries behind `metrics` (definitions: orchestrator-metrics(1)). Each counts incidents detected since the window
//! start; indexes of migration 3 keep them fast on long histories.

use super::{Result, Store};
use crate::clock::Timestamp;
use std::collections::BTreeMap;

/// Raw counts; `crate::metrics` turns them into rates.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub detected: i64,
    pub recovered: i64,
    pub fixed_by_phase: BTreeMap<i64, i64>,
    pub escalated: i64,
    pub open: i64,
    /// Incidents that entered phase N (every incident enters phase 1).
    pub entered_phase: BTreeMap<i64, i64>,
    /// Seconds from detection to resolution, per resolving phase.
    pub ttr: BTreeMap<i64, Vec<f64>>,
    pub patterns_total: i64,
    pub patterns_new: i64,
    pub pattern_fixes: i64,
    /// Phase-3 rounds per agreement ("3/3", "2/3", "none").
    pub agreement_rounds: BTreeMap<String, i64>,
    /// Notifications refused for good (SMTP 5xx, a malformed address), ever: a counter, not
    /// windowed, so a scraper sees it only grow.
    pub notifications_failed: i64,
}

/// A check's last result: the dashboard's checks page and the per-check metric series.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckState {
    pub name: String,
    pub kind: String,
    pub status: String,
    pub summary: String,
    pub duration_ms: i64,
    pub checked_at: Timestamp,
    pub last_ok_at: Option<Timestamp>,
    /// The plugin's performance data as stored: a JSON list of `Perf`.
    pub perfdata: String,
}

impl Store {
    pub fn metric_counts(&self, since: Timestamp) -> Result<Counts> {
        let mut counts = self.window_counts(since)?;
        counts.patterns_total = self
            .conn
            .query_row("SELECT COUNT(*) FROM patterns", [], |r| r.get(0))?;
        counts.patterns_new = self.conn.query_row(
            "SELECT COUNT(*) FROM patterns WHERE created_at >= ?1",
            [since],
            |r| r.get(0),
        )?;
        counts.ttr = self.durations(since)?;
        counts.agreement_rounds = self.agreements(since)?;
        counts.notifications_failed = self.count_failed_notifications()?;
        Ok(counts)
    }

    /// Every count over incidents in one range scan of the covering index `incidents_window`.
    /// A fix counts for its phase unless a person did it; `resolved_by` is the source of the
    /// attempt that fixed it, so a pattern fix reads `pattern:ID`.
    fn window_counts(&self, since: Timestamp) -> Result<Counts> {
        let sql = "SELECT COUNT(*),
                COALESCE(SUM(status = 'recovered'), 0),
                COALESCE(SUM(max_phase = 4), 0),
                COALESCE(SUM(status = 'open' AND phase < 4), 0),
                COALESCE(SUM(max_phase >= 2), 0),
                COALESCE(SUM(max_phase >= 3), 0),
                COALESCE(SUM(status = 'resolved' AND resolved_phase = 1 AND resolved_by LIKE 'pattern:%'), 0),
                COALESCE(SUM(status = 'resolved' AND resolved_phase = 1 AND resolved_by NOT LIKE 'person%'), 0),
                COALESCE(SUM(status = 'resolved' AND resolved_phase = 2 AND resolved_by NOT LIKE 'person%'), 0),
                COALESCE(SUM(status = 'resolved' AND resolved_phase = 3 AND resolved_by NOT LIKE 'person%'), 0)
             FROM incidents INDEXED BY incidents_window WHERE detected_at >= ?1";
        Ok(self.conn.query_row(sql, [since], |r| {
            let detected: i64 = r.get(0)?;
            Ok(Counts {
                detected,
                recovered: r.get(1)?,
                escalated: r.get(2)?,
                open: r.get(3)?,
                entered_phase: [(1, detected), (2, r.get(4)?), (3, r.get(5)?)]
                    .into_iter()
                    .collect(),
                pattern_fixes: r.get(6)?,
                fixed_by_phase: [(1, r.get(7)?), (2, r.get(8)?), (3, r.get(9)?)]
                    .into_iter()
                    .collect(),
                ..Counts::default()
            })
        })?)
    }

    fn durations(&self, since: Timestamp) -> Result<BTreeMap<i64, Vec<f64>>> {
        let mut stmt = self.conn.prepare(
            "SELECT resolved_phase, resolved_at - detected_at FROM incidents INDEXED BY incidents_window
             WHERE detected_at >= ?1 AND status = 'resolved' AND resolved_phase IS NOT NULL",
        )?;
        let mut by_phase: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
        let mut rows = stmt.query([since])?;
        while let Some(row) = rows.next()? {
            by_phase.entry(row.get(0)?).or_default().push(row.get(1)?);
        }
        Ok(by_phase)
    }

    fn agreements(&self, since: Timestamp) -> Result<BTreeMap<String, i64>> {
        let mut stmt = self.conn.prepare(
            "SELECT agreement, COUNT(DISTINCT round) FROM agent_consultations INDEXED BY agent_consultations_rounds
             WHERE phase = 3 AND created_at >= ?1 AND round IS NOT NULL AND agreement IS NOT NULL GROUP BY agreement",
        )?;
        let rows = stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<BTreeMap<_, _>>>()?)
    }

    pub fn check_states(&self) -> Result<Vec<CheckState>> {
        let mut stmt = self.conn.prepare(
            "SELECT name, kind, status, summary, duration_ms, checked_at, last_ok_at, perfdata FROM checks ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(CheckState {
                name: r.get(0)?,
                kind: r.get(1)?,
                status: r.get(2)?,
                summary: r.get(3)?,
                duration_ms: r.get(4)?,
                checked_at: r.get(5)?,
                last_ok_at: r.get(6)?,
                perfdata: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn count_open_escalations(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM escalations WHERE status != 'resolved'",
            [],
            |r| r.get(0),
        )?)
    }
}
