//! The queries behind `metrics` (definitions: orchestrator-metrics(1)). Each counts incidents detected since the window
//! start; indexes of migration 3 keep them fast on long histories.

use super::{Result, Store, CYCLE_PHASES};
use crate::clock::Timestamp;
use crate::model::Status;
use rusqlite::OptionalExtension;
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
    /// Incidents that flapped (reopened too often, handed to a person): counted apart from
    /// the verified fixes they undid, which stay fixes.
    pub flapped: i64,
    /// Incidents detected while a silence covered their check.
    pub silenced: i64,
    /// Notifications refused for good (SMTP 5xx, a malformed address), ever: a counter, not
    /// windowed, so a scraper sees it only grow.
    pub notifications_failed: i64,
    /// Notifications not sent yet (queued, or waiting for a retry): now, not windowed.
    pub notifications_unsent: i64,
}

/// What the Prometheus exposition reads: counters kept by the triggers of migration 0008 as
/// events happen, and a few small gauges. Reading it costs the same over any history.
#[derive(Debug, Default, Clone)]
pub struct Totals {
    /// Counter name to its value per label ("" when it has none): see migration 0008.
    pub counters: BTreeMap<String, BTreeMap<String, f64>>,
    /// Per resolving phase, (upper bound, incidents in that bucket alone), bounds ascending.
    pub ttr_buckets: BTreeMap<i64, Vec<(f64, i64)>>,
    pub open: i64,
    pub patterns: i64,
    pub last_cycle_finished_at: Option<Timestamp>,
    /// Whether the newest cycle that is not still running finished; `None` before any cycle.
    pub last_cycle_success: Option<bool>,
    /// (agent, good, bad): people's verdicts on each agent's diagnoses.
    pub verdicts: Vec<(String, i64, i64)>,
    /// The circuit breaker, as the caller reads it with the config's `[policy] budget`
    /// (`Store::breaker`); closed by default.
    pub breaker: super::Breaker,
    /// In a fleet: the outbox and the last sync (migration 17); `None` outside one.
    pub fleet: Option<FleetTotals>,
    /// Escalations no person has acknowledged yet, per check.
    pub escalations_open: BTreeMap<String, i64>,
}

#[derive(Debug, Default, Clone)]
pub struct FleetTotals {
    pub backlog: i64,
    pub last_sync_ok_at: Option<Timestamp>,
}

impl Totals {
    pub fn counter(&self, name: &str, label: &str) -> f64 {
        self.counters
            .get(name)
            .and_then(|by_label| by_label.get(label))
            .copied()
            .unwrap_or(0.0)
    }
}

/// A check's last result: the dashboard's checks page and the per-check metric series.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckState {
    pub name: String,
    pub kind: String,
    pub status: Status,
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
        counts.notifications_unsent = self.count_unsent_notifications()?;
        self.add_undone_fixes(since, &mut counts)?;
        counts.flapped = self.conn.query_row(
            "SELECT COUNT(DISTINCT e.incident) FROM incident_events e INDEXED BY incident_events_kind
               JOIN incidents i ON i.id = e.incident
              WHERE e.kind = 'flapping' AND i.detected_at >= ?1",
            [since],
            |r| r.get(0),
        )?;
        counts.silenced = self.conn.query_row(
            "SELECT COUNT(*) FROM incidents INDEXED BY incidents_silenced
              WHERE silence IS NOT NULL AND detected_at >= ?1",
            [since],
            |r| r.get(0),
        )?;
        Ok(counts)
    }

    /// Every count over incidents in one range scan of the covering index `incidents_window`.
    /// A symptom (`caused_by`: its failure was another incident's) is not a fault of its own:
    /// it counts neither as detected nor as a failure of the phases; its cause counts.
    /// A fix counts for its phase unless a person did it; `resolved_by` is the source of the
    /// attempt that fixed it, so a pattern fix reads `pattern:ID`.
    fn window_counts(&self, since: Timestamp) -> Result<Counts> {
        let sql = "SELECT COUNT(*) AS detected,
                COALESCE(SUM(status = 'recovered'), 0) AS recovered,
                COALESCE(SUM(max_phase = 4), 0) AS escalated,
                COALESCE(SUM(status = 'open' AND phase < 4), 0) AS open,
                COALESCE(SUM(max_phase >= 2), 0) AS entered_2,
                COALESCE(SUM(max_phase >= 3), 0) AS entered_3,
                COALESCE(SUM(status = 'resolved' AND resolved_phase = 1 AND resolved_by LIKE 'pattern:%'), 0) AS pattern_fixes,
                COALESCE(SUM(status = 'resolved' AND resolved_phase = 1 AND resolved_by NOT LIKE 'person%'), 0) AS fixed_1,
                COALESCE(SUM(status = 'resolved' AND resolved_phase = 2 AND resolved_by NOT LIKE 'person%'), 0) AS fixed_2,
                COALESCE(SUM(status = 'resolved' AND resolved_phase = 3 AND resolved_by NOT LIKE 'person%'), 0) AS fixed_3
             FROM incidents INDEXED BY incidents_window WHERE detected_at >= ?1 AND caused_by IS NULL";
        Ok(self.conn.query_row(sql, [since], |r| {
            let detected: i64 = r.get("detected")?;
            Ok(Counts {
                detected,
                recovered: r.get("recovered")?,
                escalated: r.get("escalated")?,
                open: r.get("open")?,
                entered_phase: [
                    (1, detected),
                    (2, r.get("entered_2")?),
                    (3, r.get("entered_3")?),
                ]
                .into_iter()
                .collect(),
                pattern_fixes: r.get("pattern_fixes")?,
                fixed_by_phase: [
                    (1, r.get("fixed_1")?),
                    (2, r.get("fixed_2")?),
                    (3, r.get("fixed_3")?),
                ]
                .into_iter()
                .collect(),
                ..Counts::default()
            })
        })?)
    }

    /// A verified fix stays a fix when its incident comes back: a reopen clears the incident's
    /// resolution, so the fixes made before its last reopen are counted from the attempts
    /// (the one after it, if any, is the incident's resolution, counted by `window_counts`).
    fn add_undone_fixes(&self, since: Timestamp, counts: &mut Counts) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT a.phase, COUNT(*) AS fixes, COALESCE(SUM(a.source LIKE 'pattern:%'), 0) AS pattern_fixes
               FROM incidents i JOIN attempts a ON a.incident = i.id
              WHERE i.detected_at >= ?1 AND i.reopened > 0 AND a.outcome = 'fixed'
                AND a.source != 'person' AND a.phase BETWEEN 1 AND 3
                AND a.started_at < (SELECT MAX(e.at) FROM incident_events e
                                     WHERE e.incident = i.id AND e.kind = 'reopened')
              GROUP BY a.phase",
        )?;
        let mut rows = stmt.query([since])?;
        while let Some(row) = rows.next()? {
            let phase: i64 = row.get("phase")?;
            *counts.fixed_by_phase.entry(phase).or_default() += row.get::<_, i64>("fixes")?;
            if phase == 1 {
                counts.pattern_fixes += row.get::<_, i64>("pattern_fixes")?;
            }
        }
        Ok(())
    }

    fn durations(&self, since: Timestamp) -> Result<BTreeMap<i64, Vec<f64>>> {
        let mut stmt = self.conn.prepare(
            "SELECT resolved_phase, resolved_at - detected_at AS took FROM incidents INDEXED BY incidents_window
             WHERE detected_at >= ?1 AND status = 'resolved' AND resolved_phase IS NOT NULL AND caused_by IS NULL",
        )?;
        let mut by_phase: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
        let mut rows = stmt.query([since])?;
        while let Some(row) = rows.next()? {
            by_phase
                .entry(row.get("resolved_phase")?)
                .or_default()
                .push(row.get("took")?);
        }
        Ok(by_phase)
    }

    fn agreements(&self, since: Timestamp) -> Result<BTreeMap<String, i64>> {
        let mut stmt = self.conn.prepare(
            "SELECT agreement, COUNT(DISTINCT round) AS rounds FROM agent_consultations INDEXED BY agent_consultations_rounds
             WHERE phase = 3 AND created_at >= ?1 AND round IS NOT NULL AND agreement IS NOT NULL GROUP BY agreement",
        )?;
        let rows = stmt.query_map([since], |r| Ok((r.get("agreement")?, r.get("rounds")?)))?;
        Ok(rows.collect::<rusqlite::Result<BTreeMap<_, _>>>()?)
    }

    /// `running_for` is how long a cycle may run before an unfinished one counts as failed
    /// rather than as still running.
    pub fn totals(&self, running_for: f64) -> Result<Totals> {
        Ok(Totals {
            counters: self.counters()?,
            ttr_buckets: self.ttr_buckets()?,
            open: self.conn.query_row(
                "SELECT COUNT(*) FROM incidents WHERE status = 'open' AND phase < 4",
                [],
                |r| r.get(0),
            )?,
            patterns: self
                .conn
                .query_row("SELECT COUNT(*) FROM patterns", [], |r| r.get(0))?,
            last_cycle_finished_at: self.last_cycle_finished_at()?,
            last_cycle_success: self.last_cycle_success(crate::clock::now() - running_for)?,
            verdicts: self.verdicts(None)?,
            breaker: super::Breaker::default(),
            fleet: self.fleet_totals()?,
            escalations_open: self.escalations_open_by_check()?,
        })
    }

    fn escalations_open_by_check(&self) -> Result<BTreeMap<String, i64>> {
        let mut stmt = self.conn.prepare(
            "SELECT i.check_name, COUNT(*) AS open FROM escalations e JOIN incidents i ON i.id = e.incident
              WHERE e.status = 'open' GROUP BY i.check_name",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get("check_name")?, r.get("open")?)))?;
        Ok(rows.collect::<rusqlite::Result<BTreeMap<_, _>>>()?)
    }

    fn fleet_totals(&self) -> Result<Option<FleetTotals>> {
        let state = self.fleet_state()?;
        Ok(state.enabled.then_some(FleetTotals {
            backlog: state.backlog,
            last_sync_ok_at: state.last_sync_ok_at,
        }))
    }

    fn counters(&self) -> Result<BTreeMap<String, BTreeMap<String, f64>>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, label, value FROM counters")?;
        let mut counters: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            counters
                .entry(row.get("name")?)
                .or_default()
                .insert(row.get("label")?, row.get("value")?);
        }
        Ok(counters)
    }

    fn ttr_buckets(&self) -> Result<BTreeMap<i64, Vec<(f64, i64)>>> {
        let mut stmt = self
            .conn
            .prepare("SELECT phase, le, count FROM ttr_histogram ORDER BY phase, le")?;
        let mut buckets: BTreeMap<i64, Vec<(f64, i64)>> = BTreeMap::new();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            buckets
                .entry(row.get("phase")?)
                .or_default()
                .push((row.get("le")?, row.get("count")?));
        }
        Ok(buckets)
    }

    /// A cycle that errors never records its end, so the newest cycle run (of the timer's
    /// phases or `cycle`, not a person's `approve`) started before
    /// `started_before` and still unfinished is a failed one; newer unfinished ones may be running.
    fn last_cycle_success(&self, started_before: Timestamp) -> Result<Option<bool>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT finished_at IS NOT NULL FROM cycles
                      WHERE (finished_at IS NOT NULL OR started_at < ?1) AND phase IN ({CYCLE_PHASES})
                      ORDER BY id DESC LIMIT 1"
                ),
                [started_before],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn check_states(&self) -> Result<Vec<CheckState>> {
        let mut stmt = self.conn.prepare(
            "SELECT name, kind, status, summary, duration_ms, checked_at, last_ok_at, perfdata FROM checks ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(CheckState {
                name: r.get("name")?,
                kind: r.get("kind")?,
                status: r.get("status")?,
                summary: r.get("summary")?,
                duration_ms: r.get("duration_ms")?,
                checked_at: r.get("checked_at")?,
                last_ok_at: r.get("last_ok_at")?,
                perfdata: r.get("perfdata")?,
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

#[cfg(test)]
mod tests {
    use super::super::{Store, MIGRATIONS};
    use rusqlite::Connection;

    /// Where the counters' migration is in `MIGRATIONS`, found by its text so that renumbering
    /// can not silently point the tests at another one.
    fn counters_migration() -> usize {
        MIGRATIONS
            .iter()
            .position(|sql| sql.contains("CREATE TABLE counters"))
            .expect("the counters migration")
    }

    /// The counters' migration and those after it (their queries need every later index).
    fn apply_counters_and_later(store: &Store) {
        for sql in &MIGRATIONS[counters_migration()..] {
            store.conn.execute_batch(sql).unwrap();
        }
    }

    fn store_before_counters() -> Store {
        let conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..counters_migration()] {
            conn.execute_batch(sql).unwrap();
        }
        Store {
            conn,
            path: "memory".into(),
            redactor: std::cell::OnceCell::new(),
            snapshot: false,
        }
    }

    /// One incident as an import writes it, whole: (status, max_phase, resolved_phase,
    /// resolved_by, seconds to resolve).
    type Shape = (&'static str, i64, Option<i64>, Option<&'static str>, f64);

    fn insert(store: &Store, shape: Shape) -> i64 {
        let (status, max_phase, resolved_phase, by, ttr) = shape;
        let resolved_at = resolved_phase.map(|_| 1000.0 + ttr);
        store
            .conn
            .execute(
                "INSERT INTO incidents (check_name, signature, severity, status, phase, summary,
                     detected_at, last_seen_at, resolved_at, resolved_phase, resolved_by, max_phase)
                 VALUES ('c', 'c: down', 'critical', ?1, ?2, 's', 1000, 1000, ?3, ?4, ?5, ?2)",
                rusqlite::params![status, max_phase, resolved_at, resolved_phase, by],
            )
            .unwrap();
        store.conn.last_insert_rowid()
    }

    fn run(store: &Store, sql: &str, id: i64) {
        store.conn.execute(sql, [id]).unwrap();
    }

    const SHAPES: &[Shape] = &[
        ("resolved", 1, Some(1), Some("pattern:1"), 0.5),
        ("resolved", 1, Some(1), Some("remedy"), 45.0),
        ("resolved", 2, Some(2), Some("agent:runbook"), 400.0),
        ("resolved", 3, Some(3), Some("consensus"), 5000.0),
        ("resolved", 4, Some(4), Some("person:ops"), 90000.0),
        ("resolved", 1, Some(1), Some("person:ops"), 3.0),
        ("escalated", 4, None, None, 0.0),
        ("recovered", 1, Some(1), Some("check"), 2.0),
        ("open", 2, None, None, 0.0),
    ];

    /// The counters agree with a count over every incident kept: what the windowed query
    /// gives with a window that starts before the first incident.
    fn assert_counters_match_history(store: &Store) {
        let totals = store.totals(60.0).unwrap();
        let history = store.metric_counts(f64::NEG_INFINITY).unwrap();
        let counter = |name: &str, label: &str| totals.counter(name, label) as i64;
        assert_eq!(counter("detected", ""), history.detected);
        assert_eq!(counter("recovered", ""), history.recovered);
        assert_eq!(counter("escalated", ""), history.escalated);
        assert_eq!(counter("pattern_fixed", ""), history.pattern_fixes);
        for phase in 1..=3 {
            let label = phase.to_string();
            assert_eq!(
                counter("auto_fixed", &label),
                history.fixed_by_phase[&phase],
                "auto_fixed phase {phase}"
            );
            assert_eq!(
                counter("entered_phase", &label),
                history.entered_phase[&phase],
                "entered phase {phase}"
            );
        }
        for (phase, buckets) in &totals.ttr_buckets {
            let times = history.ttr.get(phase).cloned().unwrap_or_default();
            let counted: i64 = buckets.iter().map(|(_, n)| n).sum();
            assert_eq!(counted, times.len() as i64, "histogram count phase {phase}");
            let sum = totals.counter("ttr_sum", &phase.to_string());
            assert!(
                (sum - times.iter().sum::<f64>()).abs() < 1e-6,
                "sum phase {phase}"
            );
            for (le, n) in buckets {
                let below = |bound: f64| times.iter().filter(|t| **t <= bound).count() as i64;
                let cumulative: i64 = buckets
                    .iter()
                    .filter(|(b, _)| b <= le)
                    .map(|(_, n)| n)
                    .sum();
                assert_eq!(cumulative, below(*le), "phase {phase} le {le} ({n})");
            }
        }
        assert_eq!(
            counter("notifications_failed", ""),
            store.count_failed_notifications().unwrap()
        );
    }

    #[test]
    fn the_migration_backfills_counters_from_the_rows_kept() {
        let store = store_before_counters();
        for shape in SHAPES {
            insert(&store, *shape);
        }
        apply_counters_and_later(&store);
        assert_eq!(store.totals(60.0).unwrap().counter("detected", ""), 9.0);
        assert_counters_match_history(&store);
    }

    #[test]
    fn triggers_count_each_event_as_it_happens() {
        let store = store_before_counters();
        apply_counters_and_later(&store);
        for shape in SHAPES {
            insert(&store, *shape);
        }
        assert_counters_match_history(&store);
        // The same kinds of lives, lived through the updates the program makes.
        let handed_on = insert(&store, ("open", 1, None, None, 0.0));
        run(
            &store,
            "UPDATE incidents SET phase = 2, max_phase = MAX(max_phase, 2) WHERE id = ?1",
            handed_on,
        );
        run(
            &store,
            "UPDATE incidents SET status = 'resolved', resolved_at = 1700, resolved_phase = 2,
                     resolved_by = 'agent:runbook' WHERE id = ?1",
            handed_on,
        );
        let held = insert(&store, ("open", 1, None, None, 0.0));
        run(
            &store,
            "UPDATE incidents SET phase = 4, max_phase = 4 WHERE id = ?1",
            held,
        );
        run(
            &store,
            "UPDATE incidents SET status = 'resolved', resolved_at = 1010, resolved_phase = 4,
                     max_phase = 4, resolved_by = 'person:ops' WHERE id = ?1",
            held,
        );
        let recovered = insert(&store, ("open", 1, None, None, 0.0));
        run(
            &store,
            "UPDATE incidents SET status = 'recovered', resolved_at = 1001, resolved_phase = phase,
                     resolved_by = 'check' WHERE id = ?1",
            recovered,
        );
        let by_pattern = insert(&store, ("open", 1, None, None, 0.0));
        run(
            &store,
            "UPDATE incidents SET status = 'resolved', resolved_at = 1000.2, resolved_phase = 1,
                     resolved_by = 'pattern:1' WHERE id = ?1",
            by_pattern,
        );
        store
            .conn
            .execute_batch(
                "INSERT INTO escalations (incident, status, reason, created_at) VALUES (1, 'open', 'r', 0);
                 INSERT INTO notifications (escalation, channel, recipient, status, created_at)
                     VALUES (1, 'email', 'a@b', 'pending', 0);
                 UPDATE notifications SET status = 'failed' WHERE id = 1;
                 UPDATE notifications SET status = 'failed', last_error = 'again' WHERE id = 1;",
            )
            .unwrap();
        assert_eq!(
            store
                .totals(60.0)
                .unwrap()
                .counter("notifications_failed", ""),
            1.0
        );
        assert_counters_match_history(&store);
    }

    #[test]
    fn a_phase_three_round_counts_once_by_its_agreement() {
        let store = store_before_counters();
        apply_counters_and_later(&store);
        let id = insert(&store, ("open", 3, None, None, 0.0));
        for (agent, round, agreement) in [
            ("a", 1, "3/3"),
            ("b", 1, "3/3"),
            ("c", 1, "3/3"),
            ("a", 2, "none"),
        ] {
            store
                .conn
                .execute(
                    "INSERT INTO agent_consultations (incident, agent, phase, round, agreement, created_at)
                     VALUES (?1, ?2, 3, ?3, ?4, 0)",
                    rusqlite::params![id, agent, round, agreement],
                )
                .unwrap();
        }
        let totals = store.totals(60.0).unwrap();
        assert_eq!(totals.counter("agent_rounds", "3/3"), 1.0);
        assert_eq!(totals.counter("agent_rounds", "none"), 1.0);
        assert_eq!(
            store.agreements(f64::NEG_INFINITY).unwrap(),
            [("3/3".to_string(), 1), ("none".to_string(), 1)]
                .into_iter()
                .collect()
        );
    }

    #[test]
    fn an_unfinished_cycle_is_failed_only_once_it_is_too_old_to_be_running() {
        let store = store_before_counters();
        assert_eq!(store.last_cycle_success(100.0).unwrap(), None);
        store
            .conn
            .execute_batch(
                "INSERT INTO cycles (phase, started_at, finished_at) VALUES ('cycle', 10, 11);
                 INSERT INTO cycles (phase, started_at) VALUES ('cycle', 50);",
            )
            .unwrap();
        assert_eq!(
            store.last_cycle_success(40.0).unwrap(),
            Some(true),
            "still running"
        );
        assert_eq!(
            store.last_cycle_success(60.0).unwrap(),
            Some(false),
            "it died"
        );
        // A person's `approve` that found nothing to approve never finishes its row: it is
        // not a cycle, and says nothing about the timer.
        store
            .conn
            .execute_batch(
                "INSERT INTO cycles (phase, started_at, finished_at) VALUES ('scan', 70, 71);
                 INSERT INTO cycles (phase, started_at) VALUES ('approve', 80);",
            )
            .unwrap();
        assert_eq!(store.last_cycle_success(100.0).unwrap(), Some(true));
    }
}
