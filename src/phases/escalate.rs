//! `escalate`, phase 4: every incident that reaches it gets one escalation with the reason, and
//! its notifications, one per channel and recipient, queued in the same transaction; closed
//! escalations get an all-clear; `repeat` reminds each recipient of an escalation nobody
//! acknowledged. Messages are composed when queued, so a retry sends the same words.
//!
//! Queueing happens in the phase, under the cycle lock. Sending ([`deliver`]) happens after the
//! cycle lock is released, under the delivery lock, with a deadline per message and a budget
//! per run: a slow or broken mail server never holds up the healing phases.

use super::report::{IncidentLine, Verdict};
use super::{cleared, Runtime};
use crate::clock::now;
use crate::config::{Config, EscalationConfig};
use crate::model::{Channel, EventKind, NotificationKind, Phase};
use crate::notify::{self, Brief, Mail, NotifyError};
use crate::store::{Incident, Notification, Outgoing, Store};
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Serialize)]
pub struct Delivery {
    pub notification: i64,
    pub incident: i64,
    pub channel: Channel,
    pub recipient: String,
    pub kind: NotificationKind,
    /// sent | retry | failed
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize, Default)]
pub struct EscalateReport {
    pub incidents: Vec<IncidentLine>,
    pub all_clear: Vec<i64>,
    pub repeated: Vec<i64>,
    /// Filled by the command after the cycle lock is released (see [`deliver`]).
    pub deliveries: Vec<Delivery>,
}

/// The longest wait between two tries of one notification.
const MAX_BACKOFF_SECS: f64 = 3600.0;

pub fn escalate(rt: &mut Runtime) -> anyhow::Result<EscalateReport> {
    let mut report = EscalateReport::default();
    rt.recover_interrupted()?;
    for incident in rt.store.incidents_waiting(Phase::Escalate)? {
        let line = match super::silenced(rt, &incident)? {
            Some(line) => line,
            None => escalate_incident(rt, &incident)?,
        };
        report.incidents.push(line);
    }
    if rt.dry_run {
        return Ok(report);
    }
    report.all_clear = queue_all_clears(rt)?;
    report.repeated = queue_reminders(rt)?;
    Ok(report)
}

fn escalate_incident(rt: &mut Runtime, incident: &Incident) -> anyhow::Result<IncidentLine> {
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

pub(crate) fn host_name(config: &Config) -> String {
    config
        .escalation
        .as_ref()
        .and_then(|e| e.hostname.clone())
        .or_else(crate::sys::hostname)
        .unwrap_or_else(|| "localhost".into())
}

/// The incident's page on the dashboard.
pub fn incident_link(config: &Config, incident: i64) -> String {
    let base = config
        .escalation
        .as_ref()
        .and_then(|e| e.dashboard_url.clone())
        .unwrap_or_else(|| format!("http://{}", config.serve.listen));
    format!("{}/incidents/{incident}", base.trim_end_matches('/'))
}

/// The escalation's messages of `kind` (escalation | repeat | all_clear), one per channel and
/// recipient, each with its idempotency key; `only` limits them to those (channel, recipient).
/// Follow-ups of `escalation` thread under the first mail each recipient got.
#[allow(clippy::too_many_arguments)]
fn compose(
    rt: &Runtime,
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
    let host = host_name(rt.config);
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
            let brief = Brief {
                host: &host,
                incident,
                // The mail lists each phase below; "Why" is the last hand-off.
                reason: incident.handoff.as_deref().unwrap_or(reason),
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
    let wanted = |channel: Channel, recipient: &str| {
        only.is_none_or(|pairs| pairs.iter().any(|(c, r)| *c == channel && r == recipient))
    };
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
            idempotency_key: message_id(incident.id, &host),
            in_reply_to: firsts.get(&(Channel::Email, to.clone())).cloned(),
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
        });
    }
    Ok(messages)
}

/// A Message-ID chosen once, when the notification is queued: every try of the row sends it,
/// so a resend after a crash is the same message to the receiving side.
/// Format: `<orchestrator.INCIDENT.RANDOM@HOST>`.
pub fn message_id(incident: i64, host: &str) -> String {
    let domain: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    let domain = if domain.is_empty() {
        "localhost".to_string()
    } else {
        domain
    };
    format!(
        "<orchestrator.{incident}.{}@{domain}>",
        crate::random::random_hex(8)
    )
}

fn queue_all_clears(rt: &mut Runtime) -> anyhow::Result<Vec<i64>> {
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
fn queue_reminders(rt: &mut Runtime) -> anyhow::Result<Vec<i64>> {
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

/// Sends what is due, within the run's budget; runs outside the cycle lock, under the delivery
/// lock (the caller holds it), so two deliverers never send the same row at once. Each row is
/// marked `sending` before its network call: a crash after that leaves it to the next run,
/// which resends it with the same idempotency key. Then re-posts the firing alerts.
pub fn deliver(config: &Config, store: &mut Store) -> anyhow::Result<Vec<Delivery>> {
    let settings = config.escalation.clone();
    let limits = Limits::new(settings.as_ref());
    // Every log line about an escalation ends with the incident's page, for whoever reads it.
    let link = |incident: i64| incident_link(config, incident);
    let mut deliveries = Vec::new();
    let mut last = 0;
    while let Some(notification) = store.next_due_notification(now(), last)? {
        last = notification.id;
        // Queued before the silence began: held, and sent once it ends.
        if store
            .silence_of(&store.incident(notification.incident)?.check)?
            .is_some()
        {
            continue;
        }
        let Some(deadline) = limits.next_deadline() else {
            log::warn!(
                "delivery budget spent; notification {} and later ones wait for the next run",
                notification.id
            );
            return Ok(deliveries);
        };
        store.mark_notification_sending(notification.id)?;
        // An error may quote the webhook's URL and its credentials: logged as it is stored.
        let outcome =
            send(settings.as_ref(), &notification, deadline).map_err(|e| masked(store, e));
        let sent = record(store, settings.as_ref(), &notification, outcome, &link)?;
        deliveries.push(sent);
    }
    refresh_alerts(store, settings.as_ref(), &limits, &mut deliveries, &link)?;
    Ok(deliveries)
}

/// The run's budget and the per-message deadline.
pub(crate) struct Limits {
    started: Instant,
    budget: Duration,
    per_message: Duration,
}

impl Limits {
    pub(crate) fn new(config: Option<&EscalationConfig>) -> Limits {
        let budget = config.map_or_else(EscalationConfig::default_delivery_budget, |c| {
            c.delivery_budget
        });
        let per_message = config.map_or_else(EscalationConfig::default_message_timeout, |c| {
            c.message_timeout
        });
        Limits {
            started: Instant::now(),
            budget: budget.std(),
            per_message: per_message.std(),
        }
    }

    /// The deadline of the next message: the per-message one, cut to what is left of the
    /// budget; None when the budget is spent.
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        let left = self.budget.checked_sub(self.started.elapsed())?;
        (!left.is_zero()).then(|| left.min(self.per_message))
    }
}

fn record(
    store: &mut Store,
    config: Option<&EscalationConfig>,
    notification: &Notification,
    outcome: Result<(), NotifyError>,
    link: &dyn Fn(i64) -> String,
) -> anyhow::Result<Delivery> {
    let (result, error) = match outcome {
        Ok(()) => {
            store.mark_notification_sent(notification.id)?;
            ("sent", None)
        }
        Err(NotifyError::Transient(error)) => {
            let retry = config
                .map_or_else(EscalationConfig::default_retry, |e| e.retry)
                .as_secs_f64();
            let wait =
                (retry * 2f64.powi((notification.tries).min(30) as i32)).min(MAX_BACKOFF_SECS);
            store.mark_notification_retry(notification.id, &error, now() + wait)?;
            log::warn!(
                "notification {} to {} not sent, retry in {wait:.0}s: {error} — {}",
                notification.id,
                notification.recipient,
                link(notification.incident)
            );
            ("retry", Some(error))
        }
        Err(NotifyError::Permanent(error)) => {
            store.mark_notification_failed(notification.id, &error)?;
            log::error!(
                "notification {} to {} failed for good: {error} — {}",
                notification.id,
                notification.recipient,
                link(notification.incident)
            );
            ("failed", Some(error))
        }
    };
    Ok(Delivery {
        notification: notification.id,
        incident: notification.incident,
        channel: notification.channel,
        recipient: notification.recipient.clone(),
        kind: notification.kind,
        result,
        error,
    })
}

/// Posts each open escalation's firing alert again, so Alertmanager does not resolve it while a
/// person is still needed. A failure is only logged: the next run posts again.
fn refresh_alerts(
    store: &mut Store,
    config: Option<&EscalationConfig>,
    limits: &Limits,
    deliveries: &mut Vec<Delivery>,
    link: &dyn Fn(i64) -> String,
) -> anyhow::Result<()> {
    let posted_now: Vec<i64> = deliveries.iter().map(|d| d.notification).collect();
    for alert in store.alerts_to_refresh()? {
        if posted_now.contains(&alert.id) {
            continue;
        }
        let Some(deadline) = limits.next_deadline() else {
            log::warn!("delivery budget spent before every firing alert was re-posted");
            return Ok(());
        };
        let outcome = send(config, &alert, deadline).map_err(|e| masked(store, e));
        let error = outcome.err().map(|e| e.to_string());
        if let Some(error) = &error {
            log::warn!(
                "re-posting the alert of incident {}: {error} — {}",
                alert.incident,
                link(alert.incident)
            );
        }
        deliveries.push(Delivery {
            notification: alert.id,
            incident: alert.incident,
            channel: alert.channel,
            recipient: alert.recipient.clone(),
            kind: NotificationKind::Refresh,
            result: if error.is_none() { "sent" } else { "retry" },
            error,
        });
    }
    Ok(())
}

fn masked(store: &Store, error: NotifyError) -> NotifyError {
    match error {
        NotifyError::Transient(e) => NotifyError::Transient(store.mask(&e)),
        NotifyError::Permanent(e) => NotifyError::Permanent(store.mask(&e)),
    }
}

fn send(
    config: Option<&EscalationConfig>,
    notification: &Notification,
    deadline: Duration,
) -> Result<(), NotifyError> {
    let gone = || {
        NotifyError::Permanent(format!(
            "the {} channel is no longer configured",
            notification.channel
        ))
    };
    match notification.channel {
        Channel::Email => {
            let email = config.and_then(|c| c.email.as_ref()).ok_or_else(gone)?;
            let mail = Mail {
                to: &notification.recipient,
                subject: &notification.subject,
                body: &notification.body,
                message_id: &notification.idempotency_key,
                in_reply_to: notification.in_reply_to.as_deref(),
            };
            notify::send_email(email, &mail, deadline)
        }
        // The stored recipient is masked (a webhook URL may carry a token); the configured URL
        // is where the alert goes.
        Channel::Webhook => {
            let webhook = config.and_then(|c| c.webhook.as_ref()).ok_or_else(gone)?;
            let lasts = config.map_or_else(EscalationConfig::default_alert_ttl, |c| c.alert_ttl);
            let payload = notify::payload_now(&notification.body, lasts.std());
            notify::post_webhook(&webhook.url, &payload, deadline)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_id_names_the_incident_and_a_clean_host() {
        let id = message_id(42, "web 01<x>.example");
        assert!(id.starts_with("<orchestrator.42."), "{id}");
        assert!(id.ends_with("@web01x.example>"), "{id}");
        assert_ne!(id, message_id(42, "web 01<x>.example"), "random part");
        assert!(message_id(1, "<>").ends_with("@localhost>"));
    }

    #[test]
    fn the_deadline_is_the_smaller_of_message_and_what_is_left() {
        let limits = Limits {
            started: Instant::now(),
            budget: Duration::from_secs(60),
            per_message: Duration::from_secs(20),
        };
        assert_eq!(limits.next_deadline(), Some(Duration::from_secs(20)));
        let almost = Limits {
            started: Instant::now() - Duration::from_secs(55),
            ..limits
        };
        assert!(almost.next_deadline().unwrap() <= Duration::from_secs(5));
        let spent = Limits {
            started: Instant::now() - Duration::from_secs(61),
            ..almost
        };
        assert_eq!(spent.next_deadline(), None);
    }
}
