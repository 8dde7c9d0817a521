//! `escalate`, phase 4: every incident that reaches it gets one escalation with the reason, and
//! its notifications, one per channel and recipient, queued in the same transaction; closed
//! escalations get an all-clear; `repeat` reminds each recipient of an escalation nobody
//! acknowledged. Messages are composed when queued, so a retry sends the same words.
//!
//! Queueing happens in the phase, under the cycle lock. Sending ([`super::deliver`]) happens
//! after the cycle lock is released, under the delivery lock, each channel with its own
//! deadline per message and budget per run: a slow or broken server never holds up the healing
//! phases, nor another channel.
//!
//! Every notification of one run, of one kind, for one channel and recipient joins one batch
//! with one idempotency key ([`Batches`]), so that three incidents escalated in one cycle make
//! one mail per recipient and one message per channel, not three.

use super::deliver::Delivery;
use super::report::{IncidentLine, Verdict};
use super::{cleared, Runtime};
use crate::clock::now;
use crate::journald::CHANGE;
use crate::model::{Channel, EventKind, NotificationKind, Phase};
use crate::notify::{self, incident_link, message_id, message_key, Brief};
use crate::store::{Incident, Outgoing};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Serialize, Default)]
pub struct EscalateReport {
    pub incidents: Vec<IncidentLine>,
    pub all_clear: Vec<i64>,
    pub repeated: Vec<i64>,
    /// Filled by the command after the cycle lock is released (see [`deliver`]).
    pub deliveries: Vec<Delivery>,
}

pub fn escalate(rt: &mut Runtime) -> anyhow::Result<EscalateReport> {
    let mut report = EscalateReport::default();
    let mut batches = Batches::default();
    rt.recover_interrupted()?;
    for incident in rt.store.incidents_waiting(Phase::Escalate)? {
        let line = match super::silenced(rt, &incident)? {
            Some(line) => line,
            None => escalate_incident(rt, &incident, &mut batches)?,
        };
        report.incidents.push(line);
    }
    if rt.dry_run {
        return Ok(report);
    }
    report.all_clear = queue_all_clears(rt, &mut batches)?;
    report.repeated = queue_reminders(rt, &mut batches)?;
    Ok(report)
}

/// The batches of one `escalate` run: one per kind of message, and in it one idempotency key
/// per channel and recipient, so that the run's notifications of a kind go out as one message
/// per channel and recipient.
///
/// Grouping and the keys: a key names one message, so the notifications of a batch share it
/// (the grouped mail's Message-ID, the Matrix txnId, the JSON body's `key`, the ntfy
/// sequence id), and every try of the message sends it unchanged: a resend after a crash is the
/// same message to a receiver that deduplicates. A notification that has to leave its batch
/// before it is sent (its check was silenced meanwhile) gets a new key, since it will be
/// another message. Alertmanager's alerts keep their own identity, their labels: a grouped POST
/// carries several alerts, each known by its labels.
#[derive(Default)]
pub(crate) struct Batches {
    batches: HashMap<NotificationKind, String>,
    keys: HashMap<(NotificationKind, Channel, String), String>,
}

impl Batches {
    fn batch(&mut self, kind: NotificationKind) -> String {
        self.batches
            .entry(kind)
            .or_insert_with(|| crate::random::random_hex(8))
            .clone()
    }

    /// The key of the batch's message to `recipient` on `channel`, chosen by its first
    /// notification.
    fn key(
        &mut self,
        kind: NotificationKind,
        channel: Channel,
        recipient: &str,
        incident: i64,
        host: &str,
    ) -> String {
        self.keys
            .entry((kind, channel, recipient.to_string()))
            .or_insert_with(|| match channel {
                Channel::Email => message_id(incident, host),
                _ => message_key(incident),
            })
            .clone()
    }
}

fn escalate_incident(
    rt: &mut Runtime,
    incident: &Incident,
    batches: &mut Batches,
) -> anyhow::Result<IncidentLine> {
    let mut line = IncidentLine::new(incident);
    let config = rt.config;
    // A flapping incident passes now and then; it is escalated all the same.
    if let Some(check) = config.check(&incident.check).filter(|_| !incident.flapping) {
        if let Some(summary) = cleared(rt, check)? {
            line.verdict = Verdict::Recovered;
            line.detail = format!("the check passes again: {summary}");
            return Ok(line);
        }
    }
    let reason = incident
        .handoff
        .clone()
        .unwrap_or_else(|| "the incident reached phase 4".into());
    if rt.dry_run {
        line.detail = format!("dry run: would escalate ({reason})");
        return Ok(line);
    }
    let story = what_each_phase_found(rt, incident, &reason)?;
    // An escalation still open keeps its reason; a new one takes the story.
    let alert_reason = rt
        .store
        .unresolved_escalation(incident.id)?
        .map_or_else(|| story.clone(), |e| e.reason);
    let announce = compose(
        rt,
        batches,
        None,
        incident,
        &alert_reason,
        "",
        NotificationKind::Escalation,
        None,
    )?;
    let (_, queued) = rt
        .store
        .open_escalation(incident.id, &story, &reason, &announce)?;
    log::warn!(
        target: CHANGE,
        "incident {} ({}) escalated: {reason} — {}",
        incident.id,
        incident.check,
        incident_link(config, incident.id)
    );
    line.verdict = Verdict::Escalated;
    line.detail = format!("escalated ({reason}); {queued} notification(s) queued");
    Ok(line)
}

/// The escalation's reason: each phase's hand-off since the incident last opened, in order
/// ("phase 1: …; phase 2: …; phase 3: …"), so a reader of the row or the alert sees what was
/// tried without opening the timeline. `last` is the hand-off that brought it to phase 4.
fn what_each_phase_found(rt: &Runtime, incident: &Incident, last: &str) -> anyhow::Result<String> {
    let events = rt.store.events(incident.id)?;
    let since_opened = events
        .iter()
        .rposition(|e| matches!(e.kind, EventKind::Opened | EventKind::Reopened))
        .map_or(0, |i| i + 1);
    let mut handoffs: Vec<&str> = events[since_opened..]
        .iter()
        .filter(|e| e.kind.is_handoff() || e.kind == EventKind::Flapping)
        .map(|e| e.detail.as_str())
        .collect();
    if handoffs.last() != Some(&last) {
        handoffs.push(last);
    }
    Ok(handoffs.join("; "))
}

/// The mail's "Why:": the last hand-off that says something about the fault. A phase that had
/// nothing to do (no agent configured) passes the incident on without a word about its cause,
/// so the cause comes from the phase that found it (phase 1's look, phase 2's runbook);
/// `last` when every hand-off is such a one.
fn cause_found(events: &[crate::store::Event], last: &str) -> String {
    if !super::report::says_nothing(last) {
        return last.to_string();
    }
    let since_opened = events
        .iter()
        .rposition(|e| matches!(e.kind, EventKind::Opened | EventKind::Reopened))
        .map_or(0, |i| i + 1);
    events[since_opened..]
        .iter()
        .filter(|e| e.kind.is_handoff() && !super::report::says_nothing(&e.detail))
        .map(|e| e.detail.clone())
        .next_back()
        .unwrap_or_else(|| last.to_string())
}

/// The facts gathered before agents were asked, as the mail quotes them: what was found, then
/// the last error lines the service printed.
fn facts_lines(rt: &Runtime, incident: i64) -> anyhow::Result<Vec<String>> {
    let Some(facts) = rt
        .store
        .facts_of(incident)?
        .as_ref()
        .and_then(crate::facts::from_value)
    else {
        return Ok(Vec::new());
    };
    let mut lines = crate::facts::describe(&facts);
    let last = facts.error_lines.len().saturating_sub(5);
    lines.extend(facts.error_lines[last..].iter().map(|l| format!("| {l}")));
    Ok(lines)
}

/// The escalation's messages of `kind` (escalation | repeat | all_clear), one per channel and
/// recipient, each in the run's batch with its idempotency key; `only` limits them to those
/// (channel, recipient), as stored. Follow-ups of `escalation` thread under the first mail each
/// recipient got.
#[allow(clippy::too_many_arguments)]
fn compose(
    rt: &Runtime,
    batches: &mut Batches,
    escalation: Option<i64>,
    incident: &Incident,
    reason: &str,
    note: &str,
    kind: NotificationKind,
    only: Option<&[(Channel, String)]>,
) -> anyhow::Result<Vec<Outgoing>> {
    let Some(channels) = rt.config.escalation.as_ref() else {
        return Ok(Vec::new());
    };
    let host = rt.config.host_name();
    let link = incident_link(rt.config, incident.id);
    let (subject, body) = match kind {
        NotificationKind::AllClear => notify::all_clear(&host, incident, note, &link),
        // A refresh is never composed: it re-posts the stored payload.
        NotificationKind::Escalation | NotificationKind::Repeat | NotificationKind::Refresh => {
            let attempts = rt.store.attempts(incident.id)?;
            let votes = rt.store.consultations(incident.id)?;
            let held = rt.store.held_plan(incident.id)?;
            let events = rt.store.events(incident.id)?;
            let facts = facts_lines(rt, incident.id)?;
            let why = cause_found(&events, incident.handoff.as_deref().unwrap_or(reason));
            let brief = Brief {
                host: &host,
                incident,
                // The mail lists each phase below; "Why" is where the cause was found.
                reason: &why,
                attempts: &attempts,
                events: &events,
                votes: &votes,
                held: held.as_ref(),
                link: &link,
                facts: &facts,
                runbook: rt
                    .config
                    .check(&incident.check)
                    .and_then(|c| c.runbook.as_deref()),
            };
            notify::escalation(&brief, kind == NotificationKind::Repeat)
        }
    };
    // Stored recipients are masked (a URL may carry a token): compared as stored.
    let wanted = |channel: Channel, recipient: &str| {
        let stored = rt.store.mask(recipient);
        only.is_none_or(|pairs| pairs.iter().any(|(c, r)| *c == channel && *r == stored))
    };
    let batch = batches.batch(kind);
    let why = incident.handoff.as_deref().unwrap_or(reason);
    let short = notify::short(&host, incident, kind, why, &link);
    let firsts = match escalation {
        Some(escalation) => rt.store.first_message_ids(escalation)?,
        None => HashMap::new(),
    };
    let mut messages = Vec::new();
    for to in channels.email.iter().flat_map(|e| e.to.iter()) {
        if !wanted(Channel::Email, to) {
            continue;
        }
        messages.push(Outgoing {
            channel: Channel::Email,
            recipient: to.clone(),
            kind,
            subject: subject.clone(),
            body: body.clone(),
            idempotency_key: batches.key(kind, Channel::Email, to, incident.id, &host),
            in_reply_to: firsts.get(&(Channel::Email, to.clone())).cloned(),
            batch: Some(batch.clone()),
        });
    }
    if let Some(webhook) = channels
        .webhook
        .as_ref()
        .filter(|w| wanted(Channel::Webhook, &w.url))
    {
        let payload = notify::alert_payload(
            &host,
            incident,
            reason,
            &link,
            kind == NotificationKind::AllClear,
        );
        messages.push(Outgoing {
            channel: Channel::Webhook,
            recipient: webhook.url.clone(),
            kind,
            subject: subject.clone(),
            idempotency_key: notify::alert_key(&payload),
            body: payload.to_string(),
            in_reply_to: None,
            batch: Some(batch.clone()),
        });
    }
    for channel in [
        Channel::JsonWebhook,
        Channel::Ntfy,
        Channel::Slack,
        Channel::Matrix,
    ] {
        let Some(recipient) =
            notify::recipient_of(channels, channel).filter(|r| wanted(channel, r))
        else {
            continue;
        };
        let body = match channel {
            Channel::JsonWebhook => {
                notify::json_item(incident, reason, &link, &subject, &short).to_string()
            }
            _ => short.clone(),
        };
        messages.push(Outgoing {
            channel,
            idempotency_key: batches.key(kind, channel, &recipient, incident.id, &host),
            recipient,
            kind,
            subject: subject.clone(),
            body,
            in_reply_to: None,
            batch: Some(batch.clone()),
        });
    }
    Ok(messages)
}

fn queue_all_clears(rt: &mut Runtime, batches: &mut Batches) -> anyhow::Result<Vec<i64>> {
    let mut incidents = Vec::new();
    for escalation in rt.store.escalations_needing_all_clear()? {
        let incident = rt.store.incident(escalation.incident)?;
        // Nothing is notified under a silence; the all-clear goes out once it ends.
        if rt.store.silence_of(&incident.check)?.is_some() {
            continue;
        }
        let note = escalation.note.clone().unwrap_or_default();
        let messages = compose(
            rt,
            batches,
            Some(escalation.id),
            &incident,
            &escalation.reason,
            &note,
            NotificationKind::AllClear,
            None,
        )?;
        if rt.store.queue_all_clear(escalation.id, &messages)? {
            incidents.push(escalation.incident);
        }
    }
    Ok(incidents)
}

/// Each recipient of an unacknowledged escalation is reminded `repeat` after its last message
/// settled, on its own: a refused address does not hold the others back.
fn queue_reminders(rt: &mut Runtime, batches: &mut Batches) -> anyhow::Result<Vec<i64>> {
    let Some(config) = rt
        .config
        .escalation
        .as_ref()
        .filter(|e| e.repeat.as_secs_f64() > 0.0)
    else {
        return Ok(Vec::new());
    };
    let mut incidents = Vec::new();
    for due in rt
        .store
        .reminders_due(now() - config.repeat.as_secs_f64())?
    {
        let escalation = &due.escalation;
        let incident = rt.store.incident(escalation.incident)?;
        if rt.store.silence_of(&incident.check)?.is_some() {
            continue;
        }
        let messages = compose(
            rt,
            batches,
            Some(escalation.id),
            &incident,
            &escalation.reason,
            "",
            NotificationKind::Repeat,
            Some(&due.recipients),
        )?;
        if messages.is_empty() {
            continue;
        }
        rt.store.queue_reminders(escalation.id, &messages)?;
        incidents.push(escalation.incident);
    }
    Ok(incidents)
}
