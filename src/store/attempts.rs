//! Attempts (a plan tried on an incident) and the patterns learned from them.

use super::incidents::add_event;
use super::{Result, Store};
use crate::clock::{now, Timestamp};
use crate::exec::{Leader, Trace};
use crate::model::{EventKind, Outcome, Phase};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

/// What became of the plans of one incident in one phase (`Store::episode_plans`).
#[derive(Debug, Default)]
pub struct EpisodePlans {
    /// Run (fixed or not, failed, or interrupted twice).
    pub run: Vec<String>,
    /// Refused by the policy, so never run: not a try of the plan, but an answer an agent gave.
    pub refused: Vec<String>,
}

impl EpisodePlans {
    /// Every plan judged in the episode, run or refused: what agents must not propose again.
    pub fn judged(self) -> Vec<String> {
        let mut all = self.run;
        all.extend(self.refused);
        all
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub id: i64,
    pub incident: i64,
    pub phase: Phase,
    pub source: String,
    pub plan: serde_json::Value,
    pub plan_hash: String,
    pub outcome: Outcome,
    pub reason: String,
    pub output: String,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

impl Attempt {
    pub(super) fn from_row(row: &Row) -> rusqlite::Result<Attempt> {
        let plan: String = row.get(4)?;
        Ok(Attempt {
            id: row.get(0)?,
            incident: row.get(1)?,
            phase: row.get(2)?,
            source: row.get(3)?,
            plan: serde_json::from_str(&plan).unwrap_or(serde_json::Value::Null),
            plan_hash: row.get(5)?,
            outcome: row.get(6)?,
            reason: row.get(7)?,
            output: row.get(8)?,
            started_at: row.get(9)?,
            finished_at: row.get(10)?,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Pattern {
    pub id: i64,
    pub signature: String,
    pub check: String,
    pub plan: String,
    pub plan_hash: String,
    pub source_phase: Phase,
    pub successes: i64,
    pub failures: i64,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub taught: Taught,
    /// A person disabled it: phase 1 does not replay it (migration 16).
    pub disabled_at: Option<Timestamp>,
    pub disabled_by: Option<String>,
    pub disabled_note: Option<String>,
}

impl Pattern {
    /// `active`, `disabled` (by a person), or `skipped`: it failed more often than it worked,
    /// so phase 1 passes it over.
    pub fn state(&self) -> &'static str {
        if self.disabled_at.is_some() {
            "disabled"
        } else if self.failures > self.successes {
            "skipped"
        } else {
            "active"
        }
    }

    /// Why phase 1 does not replay it, when a person disabled it.
    pub fn disabled(&self) -> Option<String> {
        let at = self.disabled_at?;
        let mut text = format!(
            "disabled by {} at {}",
            self.disabled_by.as_deref().unwrap_or("?"),
            crate::clock::rfc3339(at)
        );
        if let Some(note) = self.disabled_note.as_deref().filter(|n| !n.is_empty()) {
            text.push_str(&format!(": {note}"));
        }
        Some(text)
    }
}

/// Who vouched for a pattern's plan; it decides how phase 1 judges the plan's replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Taught {
    /// It ran unattended (a configured remedy, an agent plan the policy allowed).
    Unattended,
    /// A person approved it or typed it: that stands for `[policy] approve`.
    Person,
    /// Root taught it from the CLI with `--outside-policy`: replayed as written.
    OutsidePolicy,
}

impl Taught {
    fn column(self) -> Option<&'static str> {
        match self {
            Taught::Unattended => None,
            Taught::Person => Some("person"),
            Taught::OutsidePolicy => Some("outside_policy"),
        }
    }

    fn from_column(value: Option<String>) -> Taught {
        match value.as_deref() {
            Some("outside_policy") => Taught::OutsidePolicy,
            Some("person") => Taught::Person,
            _ => Taught::Unattended,
        }
    }
}

/// An attempt about to start.
pub struct NewAttempt<'a> {
    pub incident: i64,
    pub phase: Phase,
    pub source: &'a str,
    pub plan_json: &'a str,
    pub plan_hash: &'a str,
    pub restarts: bool,
    /// How many actions the plan runs, and the units it (re)starts: what `[policy] budget`
    /// counts (a person's own resolution runs nothing: 0 and none).
    pub actions: usize,
    pub units: &'a [String],
}

/// What a verified fix teaches.
pub struct Lesson<'a> {
    pub signature: &'a str,
    pub check: &'a str,
    pub plan_json: &'a str,
    pub plan_hash: &'a str,
    pub taught: Taught,
}

/// A pattern's `taught` only ever rises (unattended < person < outside_policy): replaying a
/// plan a person vouched for must not erase that they did.
const RAISE_TAUGHT: &str = "CASE WHEN excluded.taught = 'outside_policy' OR taught = 'outside_policy' THEN 'outside_policy'
     WHEN excluded.taught = 'person' OR taught = 'person' THEN 'person' END";

impl Store {
    /// Records an attempt as `running` before its plan runs, so that a killed process leaves
    /// a trace the next run closes as interrupted.
    pub fn begin_attempt(&self, new: &NewAttempt) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO attempts (incident, phase, source, plan, plan_hash, restarts, outcome, started_at, actions, units)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?8, ?9)",
            params![
                new.incident,
                new.phase.number(),
                new.source,
                new.plan_json,
                new.plan_hash,
                new.restarts as i64,
                now(),
                new.actions as i64,
                serde_json::to_string(new.units).unwrap_or_else(|_| "[]".into())
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Closes an attempt that did not fix (or did not run); a pattern whose plan it was loses credit.
    pub fn finish_attempt(
        &mut self,
        attempt: i64,
        outcome: Outcome,
        reason: &str,
        output: &str,
        signature: &str,
    ) -> Result<()> {
        let (reason, output) = (self.mask(reason), self.mask(output));
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE attempts SET outcome = ?2, reason = ?3, output = ?4, finished_at = ?5 WHERE id = ?1",
            params![attempt, outcome.as_str(), reason, output, now()],
        )?;
        if matches!(outcome, Outcome::NotFixed | Outcome::Failed) {
            tx.execute(
                "UPDATE patterns SET failures = failures + 1, last_used_at = ?3
                 WHERE signature = ?1 AND plan_hash = (SELECT plan_hash FROM attempts WHERE id = ?2)",
                params![signature, attempt, now()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A verified fix: the attempt is `fixed`, the incident resolved in this phase, and the plan
    /// becomes or strengthens a pattern of the incident's signature — one transaction.
    pub fn record_fix(
        &mut self,
        attempt: i64,
        incident: i64,
        phase: Phase,
        output: &str,
        lesson: &Lesson,
    ) -> Result<i64> {
        let output = self.mask(output);
        let tx = self.conn.transaction()?;
        let at = now();
        tx.execute(
            "UPDATE attempts SET outcome = 'fixed', output = ?2, finished_at = ?3 WHERE id = ?1",
            params![attempt, output, at],
        )?;
        let source: String = tx.query_row(
            "SELECT source FROM attempts WHERE id = ?1",
            [attempt],
            |row| row.get(0),
        )?;
        tx.execute(
            "UPDATE incidents SET status = 'resolved', resolved_at = ?2, resolved_phase = ?3, resolved_by = ?4, handoff = NULL WHERE id = ?1",
            params![incident, at, phase.number(), source],
        )?;
        add_event(
            &tx,
            incident,
            EventKind::Resolved,
            &format!("fixed in phase {} by {source}", phase.number()),
        )?;
        tx.execute(
            // The id is chosen past every pattern there ever was, forgotten ones included: a
            // pattern id is never given twice (attempts name patterns by it).
            &format!(
                "INSERT INTO patterns (id, signature, check_name, plan, plan_hash, source_phase, successes, created_at, last_used_at, taught)
                 VALUES ((SELECT MAX(COALESCE((SELECT MAX(id) FROM patterns), 0),
                                     COALESCE((SELECT MAX(pattern) FROM pattern_changes), 0)) + 1),
                         ?1, ?2, ?3, ?4, ?5, 1, ?6, ?6, ?7)
                 ON CONFLICT (signature, plan_hash) DO UPDATE SET successes = successes + 1, last_used_at = ?6,
                     taught = {RAISE_TAUGHT}"
            ),
            params![lesson.signature, lesson.check, lesson.plan_json, lesson.plan_hash, phase.number(), at, lesson.taught.column()],
        )?;
        let pattern: i64 = tx.query_row(
            "SELECT id FROM patterns WHERE signature = ?1 AND plan_hash = ?2",
            params![lesson.signature, lesson.plan_hash],
            |row| row.get(0),
        )?;
        tx.commit()?;
        Ok(pattern)
    }

    /// Patterns for a signature that phase 1 may replay (not disabled), best record first.
    pub fn patterns_for(&self, signature: &str) -> Result<Vec<Pattern>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {PATTERN_COLUMNS}
             FROM patterns WHERE signature = ?1 AND disabled_at IS NULL
             ORDER BY (successes - failures) DESC, successes DESC, last_used_at DESC"
        ))?;
        let rows = stmt.query_map([signature], pattern_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn patterns(&self) -> Result<Vec<Pattern>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {PATTERN_COLUMNS}
             FROM patterns ORDER BY successes DESC, id"
        ))?;
        let rows = stmt.query_map([], pattern_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Patterns learned on this check, best first: the "similar past incidents" of a context.
    /// A pattern a person disabled is no example to follow.
    pub fn patterns_of_check(&self, check: &str, limit: i64) -> Result<Vec<Pattern>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {PATTERN_COLUMNS}
             FROM patterns WHERE check_name = ?1 AND disabled_at IS NULL ORDER BY successes DESC, id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![check, limit], pattern_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn attempts(&self, incident: i64) -> Result<Vec<Attempt>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, incident, phase, source, plan, plan_hash, outcome, reason, output, started_at, finished_at
             FROM attempts WHERE incident = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([incident], Attempt::from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// What became of the latest attempt of a plan (by hash) on this incident in this phase:
    /// its outcome and reason, so a hand-off can say "rejected by the policy" rather than
    /// "already tried".
    pub fn plan_outcome(
        &self,
        incident: i64,
        phase: Phase,
        plan_hash: &str,
    ) -> Result<Option<(Outcome, Option<String>)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT outcome, reason FROM attempts WHERE incident = ?1 AND phase = ?2 AND plan_hash = ?3
                 ORDER BY id DESC LIMIT 1",
                params![incident, phase.number(), plan_hash],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?)
    }

    /// The plans (by hash) of this incident in this phase since it last (re)opened: those
    /// run, and those the policy refused (recorded once, never run). An interrupted run does
    /// not count: orchestrator was killed, the plan was not judged by its result, so it is
    /// tried again. A plan interrupted twice counts, once: one that kills orchestrator every
    /// time must not be retried forever.
    pub fn episode_plans(&self, incident: i64, phase: Phase) -> Result<EpisodePlans> {
        let mut stmt = self.conn.prepare(
            "WITH episode AS (
                 SELECT plan_hash, outcome FROM attempts WHERE incident = ?1 AND phase = ?2
                 AND started_at >= COALESCE((SELECT MAX(at) FROM incident_events WHERE incident = ?1 AND kind = 'reopened'), 0))
             SELECT plan_hash, outcome = 'rejected' FROM episode
              WHERE outcome NOT IN ('dry_run', 'running', 'interrupted')
             UNION ALL
             SELECT plan_hash, 0 FROM episode WHERE outcome = 'interrupted'
             GROUP BY plan_hash HAVING COUNT(*) >= ?3",
        )?;
        let rows = stmt.query_map(
            params![incident, phase.number(), INTERRUPTIONS_THAT_COUNT],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?)),
        )?;
        let mut plans = EpisodePlans::default();
        for row in rows {
            let (hash, refused) = row?;
            if refused {
                plans.refused.push(hash);
            } else {
                plans.run.push(hash);
            }
        }
        Ok(plans)
    }

    /// Restarting plans run on incidents of `checks` since `since` (`[policy] restart_limit`).
    pub fn restarts_since(&self, checks: &[&str], since: Timestamp) -> Result<i64> {
        let names = serde_json::to_string(checks).unwrap_or_default();
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM attempts a JOIN incidents i ON i.id = a.incident
             WHERE i.check_name IN (SELECT value FROM json_each(?1)) AND a.restarts = 1
               AND a.outcome NOT IN ('dry_run', 'rejected') AND a.started_at >= ?2",
            params![names, since],
            |row| row.get(0),
        )?)
    }

    /// Writes down what identifies the processes of the command `attempt` is running now, or
    /// clears it (`None`) when the command has ended: what an ended action left running, it
    /// left on purpose, and it is no longer the attempt's to end.
    pub fn record_attempt_trace(&self, attempt: i64, trace: Option<&Trace>) -> Result<()> {
        let leader = trace.and_then(|t| t.leader);
        self.conn.execute(
            "UPDATE attempts SET exec_marker = ?2, exec_group = ?3, exec_leader_start = ?4, exec_boot = ?5
             WHERE id = ?1 AND outcome = 'running'",
            params![
                attempt,
                trace.map(|t| &t.marker),
                leader.map(|l| l.pid),
                // SQLite integers are signed; a start time in ticks fits many times over.
                leader.map(|l| l.start as i64),
                trace.map(|t| &t.boot)
            ],
        )?;
        Ok(())
    }

    /// Attempts left `running` by a killed process, with the trace of the action each was in.
    pub fn running_attempts(&self) -> Result<Vec<RunningAttempt>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, incident, exec_marker, exec_group, exec_leader_start, exec_boot
             FROM attempts WHERE outcome = 'running' ORDER BY id",
        )?;
        let rows = stmt.query_map([], RunningAttempt::from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Closes an attempt a killed process left running as `interrupted`, saying why.
    pub fn interrupt_attempt(&self, attempt: i64, reason: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE attempts SET outcome = 'interrupted', finished_at = ?2, reason = ?3
             WHERE id = ?1 AND outcome = 'running'",
            params![attempt, now(), reason],
        )?;
        Ok(())
    }
}

/// The columns `pattern_from_row` reads, in its order.
pub(super) const PATTERN_COLUMNS: &str =
    "id, signature, check_name, plan, plan_hash, source_phase, successes, failures, \
     created_at, last_used_at, taught, disabled_at, disabled_by, disabled_note";

/// How many interrupted runs of one plan count as one try (see `episode_plans`).
const INTERRUPTIONS_THAT_COUNT: i64 = 2;

/// An attempt found `running` when no process runs it any more.
#[derive(Debug, Clone)]
pub struct RunningAttempt {
    pub id: i64,
    pub incident: i64,
    /// The processes of the action it was in; None when no action had started.
    pub trace: Option<Trace>,
}

impl RunningAttempt {
    fn from_row(row: &Row) -> rusqlite::Result<RunningAttempt> {
        let marker: Option<String> = row.get(2)?;
        let group: Option<i32> = row.get(3)?;
        let start: Option<i64> = row.get(4)?;
        let boot: Option<String> = row.get(5)?;
        let leader = group.zip(start).map(|(pid, start)| Leader {
            pid,
            start: start as u64,
        });
        Ok(RunningAttempt {
            id: row.get(0)?,
            incident: row.get(1)?,
            trace: marker.map(|marker| Trace {
                marker,
                leader,
                boot: boot.unwrap_or_default(),
            }),
        })
    }
}

pub(super) fn pattern_from_row(row: &Row) -> rusqlite::Result<Pattern> {
    Ok(Pattern {
        id: row.get(0)?,
        signature: row.get(1)?,
        check: row.get(2)?,
        plan: row.get(3)?,
        plan_hash: row.get(4)?,
        source_phase: row.get(5)?,
        successes: row.get(6)?,
        failures: row.get(7)?,
        created_at: row.get(8)?,
        last_used_at: row.get(9)?,
        taught: Taught::from_column(row.get(10)?),
        disabled_at: row.get(11)?,
        disabled_by: row.get(12)?,
        disabled_note: row.get(13)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `plan` on the incident and leaves its attempt as a killed process would.
    fn interrupted(store: &Store, incident: i64, plan: &str) -> i64 {
        let attempt = store
            .begin_attempt(&NewAttempt {
                incident,
                phase: Phase::Fix,
                source: "remedy",
                plan_json: "[]",
                plan_hash: plan,
                restarts: false,
                actions: 1,
                units: &[],
            })
            .unwrap();
        let trace = Trace {
            marker: format!("marker-{attempt}"),
            leader: Some(Leader {
                pid: 4242,
                start: 7,
            }),
            boot: "boot".into(),
        };
        store.record_attempt_trace(attempt, Some(&trace)).unwrap();
        let running = store.running_attempts().unwrap();
        assert_eq!(running.len(), 1);
        assert_eq!(running[0].trace, Some(trace));
        store.interrupt_attempt(attempt, "killed").unwrap();
        attempt
    }

    #[test]
    fn a_plan_counts_as_tried_when_interrupted_twice_not_once() {
        let (_dir, store, incident) = crate::store::store_with_incident();
        interrupted(&store, incident, "aaaa");
        assert_eq!(
            store.episode_plans(incident, Phase::Fix).unwrap().run,
            Vec::<String>::new()
        );
        interrupted(&store, incident, "bbbb");
        interrupted(&store, incident, "aaaa");
        assert_eq!(
            store.episode_plans(incident, Phase::Fix).unwrap().run,
            vec!["aaaa"]
        );
        // Another phase keeps its own count.
        assert!(store
            .episode_plans(incident, Phase::Research)
            .unwrap()
            .run
            .is_empty());
    }
}
