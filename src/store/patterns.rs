//! A person's changes to learned patterns (`patterns disable|enable|forget`, the dashboard's
//! patterns page). Each is one transaction that also writes a `pattern_changes` row holding the
//! pattern as it was: forgetting deletes the pattern, and that row is what stays of it.

use super::attempts::{pattern_from_row, PATTERN_COLUMNS};
use super::{Attempt, Pattern, Result, Store, StoreError};
use crate::clock::{now, Timestamp};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

/// One change a person made to a pattern, with the pattern as it was then.
#[derive(Debug, Clone, Serialize)]
pub struct PatternChange {
    pub id: i64,
    pub pattern: i64,
    /// disabled | enabled | forgotten
    pub action: String,
    pub by: String,
    pub at: Timestamp,
    pub note: String,
    pub signature: String,
    pub check: String,
    pub plan: String,
    pub successes: i64,
    pub failures: i64,
}

const CHANGE_COLUMNS: &str =
    "id, pattern, action, by, at, note, signature, check_name, plan, successes, failures";

fn change_from_row(row: &Row) -> rusqlite::Result<PatternChange> {
    Ok(PatternChange {
        id: row.get(0)?,
        pattern: row.get(1)?,
        action: row.get(2)?,
        by: row.get(3)?,
        at: row.get(4)?,
        note: row.get(5)?,
        signature: row.get(6)?,
        check: row.get(7)?,
        plan: row.get(8)?,
        successes: row.get(9)?,
        failures: row.get(10)?,
    })
}

impl Store {
    pub fn pattern(&self, id: i64) -> Result<Pattern> {
        self.conn
            .query_row(
                &format!("SELECT {PATTERN_COLUMNS} FROM patterns WHERE id = ?1"),
                [id],
                pattern_from_row,
            )
            .optional()?
            .ok_or(StoreError::NoPattern(id))
    }

    /// The patterns of a signature a person disabled: phase 1 says it did not replay them.
    pub fn disabled_patterns_for(&self, signature: &str) -> Result<Vec<Pattern>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {PATTERN_COLUMNS} FROM patterns
             WHERE signature = ?1 AND disabled_at IS NOT NULL ORDER BY id"
        ))?;
        let rows = stmt.query_map([signature], pattern_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Phase 1 stops replaying the pattern; its record stays.
    pub fn disable_pattern(&mut self, id: i64, by: &str, note: &str) -> Result<Pattern> {
        let pattern = self.pattern(id)?;
        if let Some(why) = pattern.disabled() {
            return Err(StoreError::PatternAlready(id, why));
        }
        let (by, note) = (self.mask(by), self.mask(note));
        let tx = self.conn.transaction()?;
        let at = now();
        tx.execute(
            "UPDATE patterns SET disabled_at = ?2, disabled_by = ?3, disabled_note = ?4 WHERE id = ?1",
            params![id, at, by, note],
        )?;
        log_change(&tx, &pattern, "disabled", &by, at, &note)?;
        tx.commit()?;
        self.pattern(id)
    }

    /// Phase 1 may replay the pattern again.
    pub fn enable_pattern(&mut self, id: i64, by: &str, note: &str) -> Result<Pattern> {
        let pattern = self.pattern(id)?;
        if pattern.disabled_at.is_none() {
            return Err(StoreError::PatternAlready(id, "enabled".into()));
        }
        let (by, note) = (self.mask(by), self.mask(note));
        let tx = self.conn.transaction()?;
        let at = now();
        tx.execute(
            "UPDATE patterns SET disabled_at = NULL, disabled_by = NULL, disabled_note = NULL WHERE id = ?1",
            [id],
        )?;
        log_change(&tx, &pattern, "enabled", &by, at, &note)?;
        tx.commit()?;
        self.pattern(id)
    }

    /// Deletes the pattern; its `pattern_changes` row keeps what it was. Returns that.
    pub fn forget_pattern(&mut self, id: i64, by: &str, note: &str) -> Result<PatternChange> {
        let pattern = self.pattern(id)?;
        let (by, note) = (self.mask(by), self.mask(note));
        let tx = self.conn.transaction()?;
        let at = now();
        log_change(&tx, &pattern, "forgotten", &by, at, &note)?;
        let change = tx.last_insert_rowid();
        tx.execute("DELETE FROM patterns WHERE id = ?1", [id])?;
        tx.commit()?;
        self.pattern_change(change)
    }

    fn pattern_change(&self, id: i64) -> Result<PatternChange> {
        Ok(self.conn.query_row(
            &format!("SELECT {CHANGE_COLUMNS} FROM pattern_changes WHERE id = ?1"),
            [id],
            change_from_row,
        )?)
    }

    /// People's changes, newest first: of one pattern, or of all.
    pub fn pattern_changes(&self, pattern: Option<i64>, limit: i64) -> Result<Vec<PatternChange>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {CHANGE_COLUMNS} FROM pattern_changes
             WHERE ?1 IS NULL OR pattern = ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![pattern, limit], change_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The attempts that replayed the pattern, newest first.
    pub fn pattern_attempts(&self, pattern: i64, limit: i64) -> Result<Vec<Attempt>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, incident, phase, source, plan, plan_hash, outcome, reason, output, started_at, finished_at
             FROM attempts WHERE source = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![format!("pattern:{pattern}"), limit], |row| {
            Attempt::from_row(row)
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

fn log_change(
    tx: &rusqlite::Transaction,
    pattern: &Pattern,
    action: &str,
    by: &str,
    at: Timestamp,
    note: &str,
) -> rusqlite::Result<usize> {
    tx.execute(
        "INSERT INTO pattern_changes (pattern, action, by, at, note, signature, check_name, plan, successes, failures)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            pattern.id,
            action,
            by,
            at,
            note,
            pattern.signature,
            pattern.check,
            pattern.plan,
            pattern.successes,
            pattern.failures
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Phase;
    use crate::store::{Lesson, NewAttempt, Taught};

    fn learn(store: &mut Store, incident: i64, plan_hash: &str) -> i64 {
        let attempt = store
            .begin_attempt(&NewAttempt {
                incident,
                phase: Phase::Fix,
                source: "remedy",
                plan_json: "[]",
                plan_hash,
                restarts: false,
                actions: 1,
                units: &[],
            })
            .unwrap();
        let lesson = Lesson {
            signature: "web:down",
            check: "web",
            plan_json: "[]",
            plan_hash,
            taught: Taught::Unattended,
        };
        store
            .record_fix(attempt, incident, Phase::Fix, "", &lesson)
            .unwrap()
    }

    #[test]
    fn a_disabled_pattern_is_not_replayed_and_a_forgotten_ones_id_is_never_given_again() {
        let (_dir, mut store, incident) = crate::store::store_with_incident();
        let first = learn(&mut store, incident, "aaaa");
        assert_eq!(store.patterns_for("web:down").unwrap().len(), 1);
        let disabled = store
            .disable_pattern(first, "alice", "restarts the wrong thing")
            .unwrap();
        assert!(disabled.disabled().unwrap().contains("disabled by alice"));
        assert!(store.patterns_for("web:down").unwrap().is_empty());
        assert_eq!(store.disabled_patterns_for("web:down").unwrap().len(), 1);
        let again = store.disable_pattern(first, "bob", "").unwrap_err();
        assert!(
            again.to_string().contains("already disabled by alice"),
            "{again}"
        );
        store.enable_pattern(first, "alice", "").unwrap();
        assert_eq!(store.patterns_for("web:down").unwrap().len(), 1);

        let forgotten = store.forget_pattern(first, "alice", "wrong fix").unwrap();
        assert_eq!(
            (forgotten.pattern, forgotten.action.as_str()),
            (first, "forgotten")
        );
        assert!(matches!(
            store.pattern(first),
            Err(StoreError::NoPattern(_))
        ));
        let changes: Vec<String> = store
            .pattern_changes(Some(first), 10)
            .unwrap()
            .into_iter()
            .map(|c| c.action)
            .collect();
        assert_eq!(changes, ["forgotten", "enabled", "disabled"]);
        // The same fix learned again is a new pattern, under a new id.
        let relearned = learn(&mut store, incident, "aaaa");
        assert!(relearned > first, "{relearned} reused {first}");
        assert_eq!(store.pattern(relearned).unwrap().successes, 1);
    }
}
