//! What the dashboard's pictures read: incidents per day by outcome, and each check's recent
//! results (kept by `record_check` through `remember_result`).

use super::{IncidentFilter, Result, Store};
use crate::clock::Timestamp;
use crate::model::IncidentStatus;
use std::collections::{BTreeMap, HashMap};

/// Results kept per check for the history strip; older ones are deleted as new ones come.
pub const HISTORY_KEPT: i64 = 48;

/// One scan result of a check, as the history strip draws it.
#[derive(Debug, Clone)]
pub struct CheckResultAt {
    pub status: crate::model::Status,
    pub summary: String,
    pub checked_at: Timestamp,
}

/// The incidents detected on one UTC day, by how they ended (the classes are disjoint and
/// follow `metrics`: a fix by a person, or after phase 4, counts as escalated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayOutcomes {
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    /// Fixed without a person in phase 1, 2 and 3.
    pub fixed: [i64; 3],
    pub escalated: i64,
    pub recovered: i64,
    /// Still being worked on by phases 1–3.
    pub open: i64,
}

impl DayOutcomes {
    pub fn total(&self) -> i64 {
        self.fixed.iter().sum::<i64>() + self.escalated + self.recovered + self.open
    }

    /// Fixed without a person among those decided (fixed or escalated), as `metrics` defines
    /// the auto-fix rate; `None` on a day where nothing was decided.
    pub fn auto_fix_ratio(&self) -> Option<f64> {
        let fixed: i64 = self.fixed.iter().sum();
        let decided = fixed + self.escalated;
        (decided > 0).then(|| fixed as f64 / decided as f64)
    }
}

impl Store {
    /// Adds a result to the check's history and trims it to the last `HISTORY_KEPT`.
    pub(super) fn remember_result(
        &self,
        name: &str,
        status: &str,
        summary: &str,
        at: Timestamp,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO check_history (name, status, summary, checked_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(rusqlite::params![name, status, summary, at])?;
        self.conn
            .prepare_cached(
                "DELETE FROM check_history WHERE name = ?1 AND id <= (
                 SELECT id FROM check_history WHERE name = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
            )?
            .execute(rusqlite::params![name, HISTORY_KEPT])?;
        Ok(())
    }

    /// The last `limit` results of every check, oldest first.
    pub fn check_history(&self, limit: i64) -> Result<BTreeMap<String, Vec<CheckResultAt>>> {
        let mut stmt = self.conn.prepare(
            "SELECT name, status, summary, checked_at FROM (
                 SELECT name, status, summary, checked_at, id,
                        ROW_NUMBER() OVER (PARTITION BY name ORDER BY id DESC) AS newest
                 FROM check_history)
             WHERE newest <= ?1 ORDER BY name, id",
        )?;
        let mut history: BTreeMap<String, Vec<CheckResultAt>> = BTreeMap::new();
        let mut rows = stmt.query([limit])?;
        while let Some(row) = rows.next()? {
            history
                .entry(row.get("name")?)
                .or_default()
                .push(CheckResultAt {
                    status: row.get("status")?,
                    summary: row.get("summary")?,
                    checked_at: row.get("checked_at")?,
                });
        }
        Ok(history)
    }

    /// Incidents detected since `since`, per UTC day that has any, oldest first.
    pub fn outcomes_per_day(&self, since: Timestamp) -> Result<Vec<DayOutcomes>> {
        let mut stmt = self.conn.prepare(
            "SELECT CAST(detected_at / 86400 AS INTEGER) AS day,
                    COALESCE(SUM(fixed_in = 1), 0) AS fixed_1, COALESCE(SUM(fixed_in = 2), 0) AS fixed_2,
                    COALESCE(SUM(fixed_in = 3), 0) AS fixed_3,
                    COALESCE(SUM(fixed_in IS NULL AND max_phase = 4), 0) AS escalated,
                    COALESCE(SUM(fixed_in IS NULL AND max_phase < 4 AND status = 'recovered'), 0) AS recovered,
                    COALESCE(SUM(fixed_in IS NULL AND max_phase < 4 AND status != 'recovered'), 0) AS open
             FROM (SELECT detected_at, status, max_phase,
                          CASE WHEN status = 'resolved' AND resolved_phase BETWEEN 1 AND 3
                                    AND resolved_by NOT LIKE 'person%' THEN resolved_phase END AS fixed_in
                   FROM incidents INDEXED BY incidents_window WHERE detected_at >= ?1)
             GROUP BY day ORDER BY day",
        )?;
        let rows = stmt.query_map([since], |r| {
            Ok(DayOutcomes {
                day: r.get("day")?,
                fixed: [r.get("fixed_1")?, r.get("fixed_2")?, r.get("fixed_3")?],
                escalated: r.get("escalated")?,
                recovered: r.get("recovered")?,
                open: r.get("open")?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The check of each incident of `ids` that exists, in one query, for a page listing rows
    /// that name incidents (the overview's open escalations).
    pub fn incident_checks(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        let ids = serde_json::to_string(ids).unwrap_or_default();
        let mut stmt = self.conn.prepare(
            "SELECT id, check_name FROM incidents WHERE id IN (SELECT value FROM json_each(?1))",
        )?;
        let rows = stmt.query_map([ids], |r| Ok((r.get("id")?, r.get("check_name")?)))?;
        Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
    }

    /// How many incidents the filter's status and activity select (its paging aside), for
    /// the pages of `/incidents`.
    pub fn count_incidents(&self, filter: &IncidentFilter) -> Result<i64> {
        let status = filter.status.map(IncidentStatus::as_str);
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM incidents
             WHERE (?1 IS NULL OR status = ?1) AND (?2 = 0 OR status IN ('open', 'escalated'))",
            rusqlite::params![status, filter.active_only],
            |r| r.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn incident_checks_names_the_check_of_each_incident_that_exists() {
        let (_dir, store, id) = crate::store::store_with_incident();
        let checks = store.incident_checks(&[id, id + 100]).unwrap();
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[&id], "web");
        assert!(store.incident_checks(&[]).unwrap().is_empty());
    }
}
