//! Escalations and their notifications: one escalation per incident that reached
//! phase 4, one notification per channel and recipient, retried until sent, never sent twice.

use super::incidents::add_event;
use super::{Lesson, NewAttempt, Result, Store, StoreError, Taught};
use crate::clock::{now, Timestamp};
use crate::model::Phase;
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Escalation {
    pub id: i64,
    pub incident: i64,
    pub status: String,
    pub reason: String,
    pub held_plan: Option<String>,
    pub created_at: Timestamp,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<Timestamp>,
    pub note: Option<String>,
    pub last_notified_at: Option<Timestamp>,
    pub decision: Option<String>,
}

const ESCALATION_COLUMNS: &str =
    "id, incident, status, reason, held_plan, created_at, acknowledged_by, acknowledged_at, note, last_notified_at, decision";

fn escalation_from_row(row: &Row) -> rusqlite::Result<Escalation> {
    Ok(Escalation {
        id: row.get(0)?,
        incident: row.get(1)?,
        status: row.get(2)?,
        reason: row.get(3)?,
        held_plan: row.get(4)?,
        created_at: row.get(5)?,
        acknowledged_by: row.get(6)?,
        acknowledged_at: row.get(7)?,
        note: row.get(8)?,
        last_notified_at: row.get(9)?,
        decision: row.get(10)?,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: i64,
    pub escalation: i64,
    pub incident: i64,
    pub channel: String,
    pub recipient: String,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub tries: i64,
    pub last_error: Option<String>,
    pub next_try_at: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

const NOTIFICATION_COLUMNS: &str =
    "n.id, n.escalation, e.incident, n.channel, n.recipient, n.kind, n.subject, n.body, n.status,
     n.tries, n.last_error, n.next_try_at, n.sent_at, n.created_at";

fn notification_from_row(row: &Row) -> rusqlite::Result<Notification> {
    Ok(Notification {
        id: row.get(0)?,
        escalation: row.get(1)?,
        incident: row.get(2)?,
        channel: row.get(3)?,
        recipient: row.get(4)?,
        kind: row.get(5)?,
        subject: row.get(6)?,
        body: row.get(7)?,
        status: row.get(8)?,
        tries: row.get(9)?,
        last_error: row.get(10)?,
        next_try_at: row.get(11)?,
        sent_at: row.get(12)?,
        created_at: row.get(13)?,
    })
}

/// A message to queue on one channel for one recipient.
pub struct Outgoing<'a> {
    pub channel: &'a str,
    pub recipient: &'a str,
    pub kind: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

impl Store {
    /// The incident's open (or acknowledged) escalation, or a new one; the incident becomes
    /// `escalated`. Returns the escalation and whether it was created now. A new escalation
    /// keeps `reason`; the timeline notes `why`, the hand-off that brought it here.
    pub fn open_escalation(
        &mut self,
        incident: i64,
        reason: &str,
        why: &str,
    ) -> Result<(Escalation, bool)> {
        let (reason, why) = (&self.mask(reason), &self.mask(why));
        let tx = self.conn.transaction()?;
        let created = tx.execute(
            "INSERT INTO escalations (incident, status, reason, created_at)
             SELECT ?1, 'open', ?2, ?3
             WHERE NOT EXISTS (SELECT 1 FROM escalations WHERE incident = ?1 AND status != 'resolved')",
            params![incident, reason, now()],
        )? == 1;
        tx.execute(
            "UPDATE incidents SET status = 'escalated' WHERE id = ?1 AND status = 'open'",
            [incident],
        )?;
        add_event(&tx, incident, "escalated", why)?;
        let escalation = tx.query_row(
            &format!("SELECT {ESCALATION_COLUMNS} FROM escalations WHERE incident = ?1 AND status != 'resolved' ORDER BY id DESC LIMIT 1"),
            [incident],
            escalation_from_row,
        )?;
        tx.commit()?;
        Ok((escalation, created))
    }

    /// The message is composed from stored (masked) text; it is masked once more because it
    /// also carries text that was never stored, such as a held plan's description. A webhook's
    /// JSON body is masked string by string so that it stays the JSON that was composed.
    pub fn queue_notification(&self, escalation: i64, message: &Outgoing) -> Result<i64> {
        let recipient = self.mask(message.recipient);
        let subject = self.mask(message.subject);
        let body = self.redactor().redact_json_text(message.body);
        self.conn.execute(
            "INSERT INTO notifications (escalation, channel, recipient, kind, subject, body, status, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)",
            params![escalation, message.channel, recipient, message.kind, subject, body, now()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Pending notifications whose next try is due.
    pub fn due_notifications(&self, at: Timestamp) -> Result<Vec<Notification>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications n JOIN escalations e ON e.id = n.escalation
             WHERE n.status = 'pending' AND (n.next_try_at IS NULL OR n.next_try_at <= ?1) ORDER BY n.id"
        ))?;
        let rows = stmt.query_map([at], notification_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn notifications_of(&self, incident: i64) -> Result<Vec<Notification>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications n JOIN escalations e ON e.id = n.escalation
             WHERE e.incident = ?1 ORDER BY n.id"
        ))?;
        let rows = stmt.query_map([incident], notification_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Sent: never sent again. The escalation remembers when it last reached someone.
    pub fn mark_notification_sent(&mut self, id: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        let at = now();
        tx.execute("UPDATE notifications SET status = 'sent', sent_at = ?2, tries = tries + 1, last_error = NULL WHERE id = ?1", params![id, at])?;
        tx.execute(
            "UPDATE escalations SET last_notified_at = ?2 WHERE id = (SELECT escalation FROM notifications WHERE id = ?1)",
            params![id, at],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn mark_notification_retry(
        &self,
        id: i64,
        error: &str,
        next_try_at: Timestamp,
    ) -> Result<()> {
        let error = self.mask(error);
        self.conn.execute(
            "UPDATE notifications SET tries = tries + 1, last_error = ?2, next_try_at = ?3 WHERE id = ?1",
            params![id, error, next_try_at],
        )?;
        Ok(())
    }

    /// A notification that can never be sent as queued (a malformed address).
    pub fn mark_notification_failed(&self, id: i64, error: &str) -> Result<()> {
        let error = self.mask(error);
        self.conn.execute("UPDATE notifications SET status = 'failed', tries = tries + 1, last_error = ?2 WHERE id = ?1", params![id, error])?;
        Ok(())
    }

    /// Escalations closed since they were announced, whose all-clear is not queued yet.
    pub fn escalations_needing_all_clear(&self) -> Result<Vec<Escalation>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ESCALATION_COLUMNS} FROM escalations e WHERE status = 'resolved' AND all_clear_queued = 0
             AND EXISTS (SELECT 1 FROM notifications n WHERE n.escalation = e.id AND n.kind = 'escalation')"
        ))?;
        let rows = stmt.query_map([], escalation_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn mark_all_clear_queued(&self, escalation: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE escalations SET all_clear_queued = 1 WHERE id = ?1",
            [escalation],
        )?;
        Ok(())
    }

    /// Open (not acknowledged) escalations last announced before `before`, with nothing pending.
    pub fn escalations_due_for_repeat(&self, before: Timestamp) -> Result<Vec<Escalation>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ESCALATION_COLUMNS} FROM escalations e WHERE status = 'open' AND last_notified_at < ?1
             AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.escalation = e.id AND n.status = 'pending')"
        ))?;
        let rows = stmt.query_map([before], escalation_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn escalation_of(&self, incident: i64) -> Result<Option<Escalation>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {ESCALATION_COLUMNS} FROM escalations WHERE incident = ?1 ORDER BY id DESC LIMIT 1"),
                [incident],
                escalation_from_row,
            )
            .optional()?)
    }

    pub fn open_escalations(&self, limit: i64) -> Result<Vec<Escalation>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ESCALATION_COLUMNS} FROM escalations WHERE status != 'resolved' ORDER BY id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit], escalation_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// A person has seen it: repeats stop; the escalation stays until resolved.
    pub fn acknowledge(&mut self, incident: i64, by: &str, note: Option<&str>) -> Result<()> {
        let note = note.map(|n| self.mask(n));
        let tx = self.conn.transaction()?;
        let at = now();
        let changed = tx.execute(
            "UPDATE escalations SET status = 'acknowledged', acknowledged_by = ?2, acknowledged_at = ?3, note = COALESCE(?4, note)
             WHERE incident = ?1 AND status = 'open'",
            params![incident, by, at, note],
        )?;
        if changed == 0 {
            return Err(StoreError::NothingToAcknowledge(incident));
        }
        add_event(
            &tx,
            incident,
            "acknowledged",
            &format!("acknowledged by {by}"),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A person resolved it, optionally with the plan that fixed it (JSON, hash, and who
    /// vouches for it), which is learned like any verified fix.
    pub fn resolve_by_person(
        &mut self,
        incident: i64,
        by: &str,
        note: &str,
        plan: Option<(&str, &str, Taught)>,
    ) -> Result<()> {
        let note = &self.mask(note);
        let record = self.incident(incident)?;
        if !record.status.is_active() {
            return Err(StoreError::AlreadyClosed(
                incident,
                record.status.to_string(),
            ));
        }
        if let Some((plan_json, plan_hash, taught)) = plan {
            let attempt = self.begin_attempt(&NewAttempt {
                incident,
                phase: Phase::Escalate,
                source: "person",
                plan_json,
                plan_hash,
                restarts: false,
            })?;
            let lesson = Lesson {
                signature: &record.signature,
                check: &record.check,
                plan_json,
                plan_hash,
                taught,
            };
            if taught == Taught::OutsidePolicy {
                add_event(
                    &self.conn,
                    incident,
                    "outside_policy",
                    &format!("{by} taught its plan outside [policy]: phase 1 replays it unjudged"),
                )?;
            }
            self.record_fix(
                attempt,
                incident,
                Phase::Escalate,
                &format!("resolved by {by}: {note}"),
                &lesson,
            )?;
        }
        let tx = self.conn.transaction()?;
        let at = now();
        tx.execute(
            "UPDATE incidents SET status = 'resolved', resolved_at = COALESCE(resolved_at, ?2), resolved_phase = 4,
                 max_phase = 4, resolved_by = ?3, handoff = NULL WHERE id = ?1",
            params![incident, at, format!("person:{by}")],
        )?;
        tx.execute(
            "UPDATE escalations SET status = 'resolved', note = ?2 WHERE incident = ?1 AND status != 'resolved'",
            params![incident, note],
        )?;
        add_event(
            &tx,
            incident,
            "resolved",
            &format!("resolved by {by}: {note}"),
        )?;
        tx.commit()?;
        Ok(())
    }
}
