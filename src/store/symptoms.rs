//! Symptoms: an incident caused by another (a check it depends on fails, or another check of
//! its service holds the incident). No phase works on a symptom while its cause is active.

use super::incidents::add_event;
use super::{Result, Store};
use crate::model::EventKind;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// An incident named from another one: its cause, or one of its symptoms.
#[derive(Debug, Clone, Serialize)]
pub struct Linked {
    pub id: i64,
    pub check: String,
    pub status: crate::model::IncidentStatus,
}

impl Store {
    /// Marks an open incident as a symptom of `cause`: back to phase 1, where it waits.
    /// An incident already given to a person (phase 4, escalated, flapping) is left as it is:
    /// it is announced, and taking it back would hide it. Returns whether it changed.
    pub fn mark_symptom(&mut self, incident: i64, cause: i64, detail: &str) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let changed = tx.execute(
            "UPDATE incidents SET caused_by = ?2, phase = 1, handoff = ?3
             WHERE id = ?1 AND status = 'open' AND phase < 4 AND flapping = 0
               AND caused_by IS NOT ?2 AND id != ?2",
            params![incident, cause, detail],
        )?;
        if changed == 1 {
            add_event(&tx, incident, EventKind::Symptom, detail)?;
        }
        tx.commit()?;
        Ok(changed == 1)
    }

    /// A symptom that is a fault of its own after all (its cause closed and its check still
    /// fails, or the cause no longer explains it): worked on like any incident from now on.
    pub fn release_symptom(&mut self, incident: i64, reason: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        let changed = tx.execute(
            "UPDATE incidents SET caused_by = NULL, handoff = NULL WHERE id = ?1 AND caused_by IS NOT NULL",
            [incident],
        )?;
        if changed == 1 {
            add_event(&tx, incident, EventKind::Released, reason)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The incident `incident` is a symptom of, if any.
    pub fn cause_of(&self, incident: i64) -> Result<Option<Linked>> {
        Ok(self
            .conn
            .query_row(
                "SELECT cause.id, cause.check_name, cause.status FROM incidents AS i
                 JOIN incidents AS cause ON cause.id = i.caused_by WHERE i.id = ?1",
                [incident],
                linked,
            )
            .optional()?)
    }

    /// The incidents marked as symptoms of `incident`.
    pub fn symptoms_of(&self, incident: i64) -> Result<Vec<Linked>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, check_name, status FROM incidents WHERE caused_by = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([incident], linked)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// When `incident` closed (resolved or recovered), if it has.
    pub fn closed_at(&self, incident: i64) -> Result<Option<f64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT resolved_at FROM incidents WHERE id = ?1 AND status IN ('resolved', 'recovered')",
                [incident],
                |row| row.get(0),
            )
            .optional()?
            .flatten())
    }
}

fn linked(row: &rusqlite::Row) -> rusqlite::Result<Linked> {
    Ok(Linked {
        id: row.get("id")?,
        check: row.get("check_name")?,
        status: row.get("status")?,
    })
}
