//! Escalations and their notifications: one escalation per incident that reached phase 4, and
//! an outbox of notifications, one row per channel and recipient, each with an idempotency key
//! that every try sends unchanged (at-least-once delivery, deduplicated by the key).

use super::incidents::add_event;
use super::{Lesson, NewAttempt, Result, Store, StoreError, Taught};
use crate::clock::{now, Timestamp};
use crate::model::{
    Channel, EscalationStatus, EventKind, HeldDecision, IncidentStatus, NotificationKind,
    NotificationStatus, Phase, Severity,
};
use crate::redact::Redactor;
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Escalation {
    pub id: i64,
    pub incident: i64,
    pub status: EscalationStatus,
    pub reason: String,
    pub held_plan: Option<String>,
    pub created_at: Timestamp,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<Timestamp>,
    pub note: Option<String>,
    pub last_notified_at: Option<Timestamp>,
    pub decision: Option<HeldDecision>,
}

/// Read `FROM escalations e`, so that a query joining notifications can select them too.
pub(super) const ESCALATION_COLUMNS: &str =
    "e.id, e.incident, e.status, e.reason, e.held_plan, e.created_at, e.acknowledged_by, e.acknowledged_at, e.note, e.last_notified_at, e.decision";

pub(super) fn escalation_from_row(row: &Row) -> rusqlite::Result<Escalation> {
    Ok(Escalation {
        id: row.get("id")?,
        incident: row.get("incident")?,
        status: row.get("status")?,
        reason: row.get("reason")?,
        held_plan: row.get("held_plan")?,
        created_at: row.get("created_at")?,
        acknowledged_by: row.get("acknowledged_by")?,
        acknowledged_at: row.get("acknowledged_at")?,
        note: row.get("note")?,
        last_notified_at: row.get("last_notified_at")?,
        decision: row.get("decision")?,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: i64,
    pub escalation: i64,
    pub incident: i64,
    /// The incident's check and severity, for the subject of a grouped message.
    pub check: String,
    pub severity: Severity,
    pub channel: Channel,
    pub recipient: String,
    pub kind: NotificationKind,
    pub subject: String,
    pub body: String,
    pub status: NotificationStatus,
    pub tries: i64,
    pub last_error: Option<String>,
    pub next_try_at: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// Sent unchanged on every try: the mail's Message-ID, the alert's identity.
    pub idempotency_key: String,
    /// The Message-ID this mail answers (the escalation's first mail to the same person).
    pub in_reply_to: Option<String>,
    /// Notifications of one run, channel and recipient with the same batch go out as one
    /// message, under one key (migration 13); None: a message of its own.
    pub batch: Option<String>,
}

const NOTIFICATION_COLUMNS: &str =
    "n.id, n.escalation, e.incident, n.channel, n.recipient, n.kind, n.subject, n.body, n.status,
     n.tries, n.last_error, n.next_try_at, n.sent_at, n.created_at, n.idempotency_key, n.in_reply_to,
     n.batch, i.check_name, i.severity";

/// Where NOTIFICATION_COLUMNS are read from.
const NOTIFICATIONS: &str = "notifications n JOIN escalations e ON e.id = n.escalation
     JOIN incidents i ON i.id = e.incident";

fn notification_from_row(row: &Row) -> rusqlite::Result<Notification> {
    Ok(Notification {
        id: row.get("id")?,
        escalation: row.get("escalation")?,
        incident: row.get("incident")?,
        channel: row.get("channel")?,
        recipient: row.get("recipient")?,
        kind: row.get("kind")?,
        subject: row.get("subject")?,
        body: row.get("body")?,
        status: row.get("status")?,
        tries: row.get("tries")?,
        last_error: row.get("last_error")?,
        next_try_at: row.get("next_try_at")?,
        sent_at: row.get("sent_at")?,
        created_at: row.get("created_at")?,
        idempotency_key: row.get("idempotency_key")?,
        in_reply_to: row.get("in_reply_to")?,
        batch: row.get("batch")?,
        check: row.get("check_name")?,
        severity: row.get("severity")?,
    })
}

/// A message to queue on one channel for one recipient, composed in full before it is queued.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub channel: Channel,
    pub recipient: String,
    pub kind: NotificationKind,
    pub subject: String,
    pub body: String,
    pub idempotency_key: String,
    pub in_reply_to: Option<String>,
    /// The run's batch: the notifications of one run, channel and recipient that share it go
    /// out as one message.
    pub batch: Option<String>,
}

/// The recipients of one open escalation whose reminder is due.
#[derive(Debug, Clone)]
pub struct DueReminder {
    pub escalation: Escalation,
    /// (channel, recipient)
    pub recipients: Vec<(Channel, String)>,
}

/// The incident's open (or acknowledged) escalation, on `conn` or inside a transaction.
fn unresolved_escalation(
    conn: &rusqlite::Connection,
    incident: i64,
) -> rusqlite::Result<Option<Escalation>> {
    conn.query_row(
        &format!("SELECT {ESCALATION_COLUMNS} FROM escalations e WHERE incident = ?1 AND status != 'resolved' ORDER BY id DESC LIMIT 1"),
        [incident],
        escalation_from_row,
    )
    .optional()
}

/// Messages are composed from stored (masked) text; they are masked once more because they
/// also carry text that was never stored, such as a held plan's description. A webhook's JSON
/// body is masked string by string so that it stays the JSON that was composed.
fn insert_notifications(
    tx: &rusqlite::Transaction,
    redactor: &Redactor,
    escalation: i64,
    outgoing: &[Outgoing],
) -> Result<()> {
    let mut stmt = tx.prepare(
        "INSERT INTO notifications (escalation, channel, recipient, kind, subject, body, status, created_at, idempotency_key, in_reply_to, batch)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8, ?9, ?10)",
    )?;
    let at = now();
    for message in outgoing {
        stmt.execute(params![
            escalation,
            message.channel,
            redactor.redact(&message.recipient),
            message.kind,
            redactor.redact(&message.subject),
            redactor.redact_json_text(&message.body),
            at,
            message.idempotency_key,
            message.in_reply_to,
            message.batch
        ])?;
    }
    Ok(())
}

/// Who acknowledged the incident's escalation still in force, and when, if someone did: the
/// answer to a second acknowledgement.
fn already_acknowledged(conn: &rusqlite::Connection, incident: i64) -> Result<Option<StoreError>> {
    let found: Option<(String, Timestamp)> = conn
        .query_row(
            "SELECT COALESCE(acknowledged_by, '?') AS by, COALESCE(acknowledged_at, 0) AS at FROM escalations
              WHERE incident = ?1 AND status = 'acknowledged' ORDER BY id DESC LIMIT 1",
            [incident],
            |row| Ok((row.get("by")?, row.get("at")?)),
        )
        .optional()?;
    Ok(found.map(|(by, at)| StoreError::AlreadyAcknowledged {
        incident,
        by,
        at: crate::clock::rfc3339(at),
    }))
}

impl Store {
    /// The incident's open (or acknowledged) escalation, if any.
    pub fn unresolved_escalation(&self, incident: i64) -> Result<Option<Escalation>> {
        Ok(unresolved_escalation(&self.conn, incident)?)
    }

    /// In one transaction: the incident's open (or acknowledged) escalation, or a new one; the
    /// incident becomes `escalated`; and, unless it was announced already, `announce` is queued.
    /// A crash leaves either all of it or none. Returns the escalation and how many were queued.
    /// A new escalation keeps `reason`; the timeline notes `why`, the hand-off that brought it
    /// here.
    pub fn open_escalation(
        &mut self,
        incident: i64,
        reason: &str,
        why: &str,
        announce: &[Outgoing],
    ) -> Result<(Escalation, usize)> {
        let (reason, why) = (&self.mask(reason), &self.mask(why));
        let redactor = self.redactor.get_or_init(Redactor::builtin);
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO escalations (incident, status, reason, created_at)
             SELECT ?1, 'open', ?2, ?3
             WHERE NOT EXISTS (SELECT 1 FROM escalations WHERE incident = ?1 AND status != 'resolved')",
            params![incident, reason, now()],
        )?;
        tx.execute(
            &format!(
                "UPDATE incidents SET status = 'escalated' WHERE id = ?1 AND {}",
                IncidentStatus::sql_may_become(IncidentStatus::Escalated)
            ),
            [incident],
        )?;
        add_event(&tx, incident, EventKind::Escalated, why)?;
        let escalation =
            unresolved_escalation(&tx, incident)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        let announced: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM notifications WHERE escalation = ?1 AND kind = 'escalation')",
            [escalation.id],
            |row| row.get(0),
        )?;
        let queued = if announced {
            0
        } else {
            insert_notifications(&tx, redactor, escalation.id, announce)?;
            announce.len()
        };
        tx.commit()?;
        Ok((escalation, queued))
    }

    /// The all-clear of a closed escalation, queued and remembered in one transaction, so it
    /// is queued exactly once. Returns whether it was queued now.
    pub fn queue_all_clear(&mut self, escalation: i64, messages: &[Outgoing]) -> Result<bool> {
        let redactor = self.redactor.get_or_init(Redactor::builtin);
        let tx = self.conn.transaction()?;
        let first = tx.execute(
            "UPDATE escalations SET all_clear_queued = 1 WHERE id = ?1 AND all_clear_queued = 0",
            [escalation],
        )? == 1;
        if first {
            insert_notifications(&tx, redactor, escalation, messages)?;
        }
        tx.commit()?;
        Ok(first)
    }

    /// Reminders, one per due recipient, in one transaction.
    pub fn queue_reminders(&mut self, escalation: i64, messages: &[Outgoing]) -> Result<()> {
        let redactor = self.redactor.get_or_init(Redactor::builtin);
        let tx = self.conn.transaction()?;
        insert_notifications(&tx, redactor, escalation, messages)?;
        tx.commit()?;
        Ok(())
    }

    /// The first Message-ID each recipient got for the escalation: (channel, recipient) -> key.
    pub fn first_message_ids(
        &self,
        escalation: i64,
    ) -> Result<std::collections::HashMap<(Channel, String), String>> {
        let mut stmt = self.conn.prepare(
            "SELECT channel, recipient, idempotency_key FROM notifications
             WHERE escalation = ?1 AND kind = 'escalation' ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([escalation], |row| {
            Ok((
                (row.get("channel")?, row.get("recipient")?),
                row.get("idempotency_key")?,
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The next notification of `channel` to send after `after` (an id): pending ones whose
    /// try is due, and any left `sending` by a deliverer that died mid-call (only one deliverer
    /// runs at a time, under the delivery lock, so a `sending` row it did not mark itself is
    /// ambiguous).
    pub fn next_due_on(
        &self,
        channel: Channel,
        at: Timestamp,
        after: i64,
    ) -> Result<Option<Notification>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {NOTIFICATION_COLUMNS} FROM {NOTIFICATIONS}
                     WHERE n.channel = ?3 AND n.status IN ('pending', 'sending') AND n.id > ?2
                       AND (n.status = 'sending' OR n.next_try_at IS NULL OR n.next_try_at <= ?1)
                     ORDER BY n.id LIMIT 1"
                ),
                params![at, after, channel],
                notification_from_row,
            )
            .optional()?)
    }

    /// The channels that have a notification to send or resend.
    pub fn channels_due(&self, at: Timestamp) -> Result<Vec<Channel>> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT channel FROM notifications WHERE status IN ('pending', 'sending')
               AND (status = 'sending' OR next_try_at IS NULL OR next_try_at <= ?1)",
        )?;
        let rows = stmt.query_map([at], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The unsent notifications that go out with `notification` as one message: those of its
    /// batch for the same channel and recipient, oldest first; itself alone when it has none.
    pub fn batch_of(&self, notification: &Notification) -> Result<Vec<Notification>> {
        let Some(batch) = &notification.batch else {
            return Ok(vec![notification.clone()]);
        };
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM {NOTIFICATIONS}
             WHERE n.batch = ?1 AND n.channel = ?2 AND n.recipient = ?3
               AND n.status IN ('pending', 'sending') ORDER BY n.id"
        ))?;
        let rows = stmt.query_map(
            params![batch, notification.channel, notification.recipient],
            notification_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Takes `ids` out of their batch into a new one (they wait while the rest goes out), with
    /// a new idempotency key when one is given: a key names one message, and these will be
    /// another.
    pub fn split_batch(&mut self, ids: &[i64], batch: &str, key: Option<&str>) -> Result<()> {
        let tx = self.conn.transaction()?;
        for id in ids {
            tx.execute(
                "UPDATE notifications SET batch = ?2, idempotency_key = COALESCE(?3, idempotency_key) WHERE id = ?1",
                params![id, batch, key],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn notifications_of(&self, incident: i64) -> Result<Vec<Notification>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM {NOTIFICATIONS}
             WHERE e.incident = ?1 ORDER BY n.id"
        ))?;
        let rows = stmt.query_map([incident], notification_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Written before the network call, for every notification the message carries: from
    /// here until they are marked sent, retry or failed, a crash leaves them `sending`, resent
    /// later with the same idempotency key.
    pub fn mark_notifications_sending(&mut self, ids: &[i64]) -> Result<()> {
        self.each_in_one_transaction(ids, |tx, id| {
            tx.execute(
                "UPDATE notifications SET status = 'sending', tries = tries + 1 WHERE id = ?1",
                [id],
            )
        })
    }

    /// Sent: never sent again. Each escalation remembers when it last reached someone.
    pub fn mark_notifications_sent(&mut self, ids: &[i64]) -> Result<()> {
        let at = now();
        self.each_in_one_transaction(ids, |tx, id| {
            tx.execute(
                "UPDATE notifications SET status = 'sent', sent_at = ?2, settled_at = ?2, last_error = NULL WHERE id = ?1",
                params![id, at],
            )?;
            tx.execute(
                "UPDATE escalations SET last_notified_at = ?2 WHERE id = (SELECT escalation FROM notifications WHERE id = ?1)",
                params![id, at],
            )
        })
    }

    /// Not sent this time (the server is unreachable, slow, or asked to retry): tried again
    /// at `next_try_at`.
    pub fn mark_notifications_retry(
        &mut self,
        ids: &[i64],
        error: &str,
        next_try_at: Timestamp,
    ) -> Result<()> {
        let error = self.mask(error);
        self.each_in_one_transaction(ids, |tx, id| {
            tx.execute(
                "UPDATE notifications SET status = 'pending', last_error = ?2, next_try_at = ?3 WHERE id = ?1",
                params![id, error, next_try_at],
            )
        })
    }

    /// Never to be sent as queued: the server refused it for good (SMTP 5xx, HTTP 4xx) or it
    /// is malformed. `error` keeps the server's words for the dashboard.
    pub fn mark_notifications_failed(&mut self, ids: &[i64], error: &str) -> Result<()> {
        let error = self.mask(error);
        let at = now();
        self.each_in_one_transaction(ids, |tx, id| {
            tx.execute(
                "UPDATE notifications SET status = 'failed', settled_at = ?3, last_error = ?2 WHERE id = ?1",
                params![id, error, at],
            )
        })
    }

    /// `write` for each id, all in one transaction: a message's notifications change together.
    fn each_in_one_transaction(
        &mut self,
        ids: &[i64],
        write: impl Fn(&rusqlite::Transaction, i64) -> rusqlite::Result<usize>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        for id in ids {
            write(&tx, *id)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Notifications that failed for good, ever: `orchestrator_notifications_failed_total`.
    pub fn count_failed_notifications(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM notifications WHERE status = 'failed'",
            [],
            |r| r.get(0),
        )?)
    }

    pub fn notification(&self, id: i64) -> Result<Notification> {
        self.conn
            .query_row(
                &format!("SELECT {NOTIFICATION_COLUMNS} FROM {NOTIFICATIONS} WHERE n.id = ?1"),
                [id],
                notification_from_row,
            )
            .optional()?
            .ok_or(StoreError::NoNotification(id))
    }

    /// A person sends a notification again (`escalate --resend`): one that failed for good, or
    /// one waiting for a retry, is due now. It goes as the message it was: with the other
    /// notifications of its batch for the same channel and recipient that did not go out
    /// either, under the key they share. Each incident's timeline says who asked. Returns the
    /// notifications queued again.
    pub fn resend_notification(&mut self, id: i64, by: &str) -> Result<Vec<Notification>> {
        let wanted = self.notification(id)?;
        if wanted.status == NotificationStatus::Sent {
            let at = wanted
                .sent_at
                .map(crate::clock::rfc3339)
                .unwrap_or_default();
            return Err(StoreError::NotificationSent(id, at));
        }
        let message: Vec<Notification> = match &wanted.batch {
            None => vec![wanted.clone()],
            Some(batch) => {
                let mut stmt = self.conn.prepare(&format!(
                    "SELECT {NOTIFICATION_COLUMNS} FROM {NOTIFICATIONS}
                     WHERE n.batch = ?1 AND n.channel = ?2 AND n.recipient = ?3
                       AND n.status IN ('failed', 'pending') ORDER BY n.id"
                ))?;
                let rows = stmt.query_map(
                    params![batch, wanted.channel, wanted.recipient],
                    notification_from_row,
                )?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            }
        };
        let by = self.mask(by);
        let tx = self.conn.transaction()?;
        for member in &message {
            tx.execute(
                "UPDATE notifications SET status = 'pending', next_try_at = NULL
                 WHERE id = ?1 AND status IN ('failed', 'pending')",
                [member.id],
            )?;
            add_event(
                &tx,
                member.incident,
                EventKind::Resent,
                &format!(
                    "notification {} ({} {} to {}, {}) queued again by {by}",
                    member.id, member.kind, member.channel, member.recipient, member.status
                ),
            )?;
        }
        tx.commit()?;
        Ok(message)
    }

    /// Notifications not settled yet: queued, being sent, or waiting for a retry.
    pub fn count_unsent_notifications(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM notifications WHERE status IN ('pending', 'sending')",
            [],
            |r| r.get(0),
        )?)
    }

    /// The notifications that failed for good, newest first: what `metrics` names for
    /// `escalate --resend`.
    pub fn failed_notifications(&self, limit: i64) -> Result<Vec<Notification>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM {NOTIFICATIONS}
             WHERE n.status = 'failed' ORDER BY n.id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit], notification_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The firing alert of every unresolved escalation whose first post went out: Alertmanager
    /// forgets an alert not re-posted in time, so each delivery run posts it again.
    pub fn alerts_to_refresh(&self) -> Result<Vec<Notification>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM {NOTIFICATIONS}
             WHERE e.status != 'resolved' AND e.all_clear_queued = 0 AND n.channel = 'webhook'
               AND n.kind = 'escalation' AND n.status = 'sent' ORDER BY n.id"
        ))?;
        let rows = stmt.query_map([], notification_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
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

    /// Email recipients of open (not acknowledged) escalations whose last message, sent or
    /// refused, settled before `before` and who have nothing in flight: each recipient is
    /// reminded on its own, so a rejected address never silences the others.
    pub fn reminders_due(&self, before: Timestamp) -> Result<Vec<DueReminder>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ESCALATION_COLUMNS}, n.channel, n.recipient FROM {NOTIFICATIONS}
             WHERE e.status = 'open' AND n.channel != 'webhook' AND n.kind != 'all_clear'
               AND n.id = (SELECT MAX(m.id) FROM notifications m WHERE m.escalation = n.escalation
                           AND m.channel = n.channel AND m.recipient = n.recipient AND m.kind != 'all_clear')
               AND n.status IN ('sent', 'failed') AND n.settled_at < ?1
             ORDER BY n.escalation, n.id"
        ))?;
        let mut rows = stmt.query([before])?;
        let mut due: Vec<DueReminder> = Vec::new();
        while let Some(row) = rows.next()? {
            let recipient = (row.get("channel")?, row.get("recipient")?);
            match due.last_mut() {
                Some(last) if last.escalation.id == row.get::<_, i64>("id")? => {
                    last.recipients.push(recipient)
                }
                _ => due.push(DueReminder {
                    escalation: escalation_from_row(row)?,
                    recipients: vec![recipient],
                }),
            }
        }
        Ok(due)
    }

    pub fn escalation_of(&self, incident: i64) -> Result<Option<Escalation>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {ESCALATION_COLUMNS} FROM escalations e WHERE incident = ?1 ORDER BY id DESC LIMIT 1"),
                [incident],
                escalation_from_row,
            )
            .optional()?)
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
            return Err(already_acknowledged(&tx, incident)?
                .unwrap_or(StoreError::NothingToAcknowledge(incident)));
        }
        add_event(
            &tx,
            incident,
            EventKind::Acknowledged,
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
        if !record.status.can_become(IncidentStatus::Resolved) {
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
                actions: 0,
                units: &[],
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
                    EventKind::OutsidePolicy,
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
            EventKind::Resolved,
            &format!("resolved by {by}: {note}"),
        )?;
        tx.commit()?;
        Ok(())
    }
}
