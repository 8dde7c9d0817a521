//! What the dashboard reads: what needs a person now, incidents per day by outcome, and each
//! check's recent results (kept by `record_check` through `remember_result`).

use super::escalations::{escalation_from_row, Escalation, ESCALATION_COLUMNS};
use super::{IncidentFilter, Result, Store};
use crate::clock::Timestamp;
use crate::model::{Channel, IncidentStatus, NotificationStatus, Severity};
use std::collections::BTreeMap;

/// An incident a person must look at now: its escalation is still open (acknowledged or not),
/// with what the person paged at 3 am reads first.
#[derive(Debug, Clone)]
pub struct NeedsPerson {
    pub incident: i64,
    pub check: String,
    pub severity: Severity,
    pub summary: String,
    pub detected_at: Timestamp,
    pub flapping: bool,
    pub escalation: Escalation,
    /// Channels and recipients whose latest message about it has not got through.
    pub undelivered: Vec<Undelivered>,
}

/// A message about an escalation that failed for good, or is still being retried.
#[derive(Debug, Clone)]
pub struct Undelivered {
    pub channel: Channel,
    pub recipient: String,
    pub status: NotificationStatus,
    pub tries: i64,
    pub last_error: Option<String>,
}

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

    /// The incidents whose escalation is not resolved, worst first: critical, then warning,
    /// then unknown (the order `observe_failure` raises severities by); among equals, those
    /// nobody acknowledged first, then the oldest. At most `limit`.
    pub fn needs_a_person(&self, limit: i64) -> Result<Vec<NeedsPerson>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ESCALATION_COLUMNS}, i.check_name, i.severity, i.summary, i.detected_at, i.flapping
               FROM escalations e JOIN incidents i ON i.id = e.incident
              WHERE e.status != 'resolved' AND i.status IN ('open', 'escalated')
              ORDER BY CASE i.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
                       e.status = 'acknowledged', i.detected_at, e.id
              LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit], |row| {
            Ok(NeedsPerson {
                escalation: escalation_from_row(row)?,
                incident: row.get("incident")?,
                check: row.get("check_name")?,
                severity: row.get("severity")?,
                summary: row.get("summary")?,
                detected_at: row.get("detected_at")?,
                flapping: row.get::<_, i64>("flapping")? != 0,
                undelivered: Vec::new(),
            })
        })?;
        let mut needs = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        for need in &mut needs {
            need.undelivered = self.undelivered(need.escalation.id)?;
        }
        Ok(needs)
    }

    /// Per channel and recipient, the latest message about the escalation, when it failed for
    /// good or is being retried after a failure (a later reminder that got through clears an
    /// earlier failure to the same recipient).
    fn undelivered(&self, escalation: i64) -> Result<Vec<Undelivered>> {
        let mut stmt = self.conn.prepare(
            "SELECT channel, recipient, status, tries, last_error FROM notifications
              WHERE id IN (SELECT MAX(id) FROM notifications WHERE escalation = ?1 GROUP BY channel, recipient)
                AND (status = 'failed' OR (status != 'sent' AND tries > 0))
              ORDER BY id",
        )?;
        let rows = stmt.query_map([escalation], |row| {
            Ok(Undelivered {
                channel: row.get("channel")?,
                recipient: row.get("recipient")?,
                status: row.get("status")?,
                tries: row.get("tries")?,
                last_error: row.get("last_error")?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
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
    use crate::model::Severity;
    use crate::store::Failure;

    #[test]
    fn what_needs_a_person_comes_worst_first_with_what_did_not_get_through() {
        let (_dir, mut store, web) = crate::store::store_with_incident();
        let mut open = |check: &str, severity: Severity| {
            store
                .observe_failure(&Failure {
                    check,
                    signature: check,
                    severity,
                    summary: "broken",
                    evidence: "",
                    reopen_within: 0.0,
                    flapping_reopened: 0,
                    flapping_within: 0.0,
                })
                .unwrap()
                .0
        };
        let load = open("load", Severity::Warning);
        let plugin = open("plugin", Severity::Unknown);
        let backup = open("backup", Severity::Critical);
        let quiet = open("quiet", Severity::Critical);
        store
            .conn
            .execute_batch(&format!(
                "INSERT INTO escalations (id, incident, status, reason, created_at) VALUES
                     (1, {load}, 'open', 'w', 1), (2, {plugin}, 'open', 'u', 1),
                     (3, {backup}, 'acknowledged', 'b', 1), (4, {web}, 'open', 'c', 1),
                     (5, {quiet}, 'resolved', 'done', 1);
                 INSERT INTO notifications (escalation, channel, recipient, status, tries, last_error, created_at) VALUES
                     (4, 'email', 'ops@example.com', 'failed', 1, '550 refused', 1),
                     (4, 'webhook', 'http://am', 'pending', 3, 'connection refused', 1),
                     (4, 'ntfy', 'https://ntfy/t', 'sent', 1, NULL, 1),
                     (3, 'email', 'ops@example.com', 'failed', 1, '550 refused', 1),
                     (3, 'email', 'ops@example.com', 'sent', 1, NULL, 2);"
            ))
            .unwrap();
        let needs = store.needs_a_person(10).unwrap();
        let order: Vec<(&str, usize)> = needs
            .iter()
            .map(|n| (n.check.as_str(), n.undelivered.len()))
            .collect();
        // Critical (unacknowledged first), warning, unknown; a resolved escalation is gone.
        // A reminder that got through clears the earlier failure to the same recipient.
        assert_eq!(
            order,
            [("web", 2), ("backup", 0), ("load", 0), ("plugin", 0)]
        );
        let web = &needs[0].undelivered;
        assert_eq!(web[0].last_error.as_deref(), Some("550 refused"));
        assert_eq!(web[1].tries, 3);
    }
}
