//! `escalate`, phase 4: every incident that reaches it gets one escalation with
//! the reason and notifications queued per channel; unsent ones are retried with backoff on
//! later runs; `repeat` re-announces escalations nobody acknowledged; closed ones get an
//! all-clear. Messages are composed when queued, so a retry sends the same words.

use super::report::{IncidentLine, Verdict};
use super::{cleared, Runtime};
use crate::clock::now;
use crate::config::{Config, EscalationConfig};
use crate::model::Phase;
use crate::notify::{self, Brief, NotifyError};
use crate::store::{Escalation, Incident, Notification, Outgoing};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Delivery {
    pub notification: i64,
    pub incident: i64,
    pub channel: String,
    pub recipient: String,
    pub kind: String,
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
    pub deliveries: Vec<Delivery>,
}

/// The longest wait between two tries of one notification.
const MAX_BACKOFF_SECS: f64 = 3600.0;

pub fn escalate(rt: &mut Runtime) -> anyhow::Result<EscalateReport> {
    let mut report = EscalateReport::default();
    rt.recover_interrupted()?;
    for incident in rt.store.incidents_waiting(Phase::Escalate)? {
        report.incidents.push(escalate_incident(rt, &incident)?);
    }
    if rt.dry_run {
        return Ok(report);
    }
    report.all_clear = queue_all_clears(rt)?;
    report.repeated = queue_repeats(rt)?;
    report.deliveries = deliver(rt)?;
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
    let (escalation, _) = rt.store.open_escalation(incident.id, &story, &reason)?;
    let already_announced = rt
        .store
        .notifications_of(incident.id)?
        .iter()
        .any(|n| n.escalation == escalation.id && n.kind == "escalation");
    let queued = if already_announced {
        0
    } else {
        queue(rt, &escalation, "escalation")?
    };
    log::warn!(
        "incident {} ({}) escalated: {reason}",
        incident.id,
        incident.check
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
        .rposition(|e| matches!(e.kind.as_str(), "opened" | "reopened"))
        .map_or(0, |i| i + 1);
    let mut handoffs: Vec<&str> = events[since_opened..]
        .iter()
        .filter(|e| e.kind.starts_with("phase ") || e.kind == "flapping")
        .map(|e| e.detail.as_str())
        .collect();
    if handoffs.last() != Some(&last) {
        handoffs.push(last);
    }
    Ok(handoffs.join("; "))
}

fn host_name(config: &Config) -> String {
    config
        .escalation
        .as_ref()
        .and_then(|e| e.hostname.clone())
        .or_else(crate::checks::host::hostname)
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

/// Queues one notification per recipient and channel; returns how many.
fn queue(rt: &Runtime, escalation: &Escalation, kind: &str) -> anyhow::Result<usize> {
    let Some(channels) = rt.config.escalation.as_ref() else {
        return Ok(0);
    };
    let incident = rt.store.incident(escalation.incident)?;
    let host = host_name(rt.config);
    let link = incident_link(rt.config, incident.id);
    let (subject, body) = match kind {
        "all_clear" => notify::all_clear(
            &host,
            &incident,
            escalation.note.as_deref().unwrap_or(""),
            &link,
        ),
        _ => {
            let attempts = rt.store.attempts(incident.id)?;
            let votes = rt.store.consultations(incident.id)?;
            let held = rt.store.held_plan(incident.id)?;
            let events = rt.store.events(incident.id)?;
            let brief = Brief {
                host: &host,
                incident: &incident,
                // The mail lists each phase below; "Why" is the last hand-off.
                reason: incident.handoff.as_deref().unwrap_or(&escalation.reason),
                attempts: &attempts,
                events: &events,
                votes: &votes,
                held: held.as_ref(),
                link: &link,
            };
            notify::escalation(&brief, kind == "repeat")
        }
    };
    let mut count = 0;
    for to in channels.email.iter().flat_map(|e| e.to.iter()) {
        rt.store.queue_notification(
            escalation.id,
            &Outgoing {
                channel: "email",
                recipient: to,
                kind,
                subject: &subject,
                body: &body,
            },
        )?;
        count += 1;
    }
    if let Some(webhook) = &channels.webhook {
        let payload = notify::alert_payload(
            &host,
            &incident,
            &escalation.reason,
            &link,
            kind == "all_clear",
        )
        .to_string();
        rt.store.queue_notification(
            escalation.id,
            &Outgoing {
                channel: "webhook",
                recipient: &webhook.url,
                kind,
                subject: &subject,
                body: &payload,
            },
        )?;
        count += 1;
    }
    Ok(count)
}

fn queue_all_clears(rt: &Runtime) -> anyhow::Result<Vec<i64>> {
    let mut incidents = Vec::new();
    for escalation in rt.store.escalations_needing_all_clear()? {
        queue(rt, &escalation, "all_clear")?;
        rt.store.mark_all_clear_queued(escalation.id)?;
        incidents.push(escalation.incident);
    }
    Ok(incidents)
}

fn queue_repeats(rt: &Runtime) -> anyhow::Result<Vec<i64>> {
    let Some(config) = rt
        .config
        .escalation
        .as_ref()
        .filter(|e| e.repeat.as_secs_f64() > 0.0)
    else {
        return Ok(Vec::new());
    };
    let mut incidents = Vec::new();
    for escalation in rt
        .store
        .escalations_due_for_repeat(now() - config.repeat.as_secs_f64())?
    {
        queue(rt, &escalation, "repeat")?;
        incidents.push(escalation.incident);
    }
    Ok(incidents)
}

/// Sends every notification that is due; a failure stays pending with its next try later.
fn deliver(rt: &mut Runtime) -> anyhow::Result<Vec<Delivery>> {
    let mut deliveries = Vec::new();
    for notification in rt.store.due_notifications(now())? {
        // An error may quote the webhook's URL and its credentials: logged as it is stored.
        let outcome = send(rt.config.escalation.as_ref(), &notification).map_err(|err| match err {
            NotifyError::Transient(e) => NotifyError::Transient(rt.store.mask(&e)),
            NotifyError::Permanent(e) => NotifyError::Permanent(rt.store.mask(&e)),
        });
        let (result, error) = match outcome {
            Ok(()) => {
                rt.store.mark_notification_sent(notification.id)?;
                ("sent", None)
            }
            Err(NotifyError::Transient(error)) => {
                let retry = rt
                    .config
                    .escalation
                    .as_ref()
                    .map_or_else(EscalationConfig::default_retry, |e| e.retry)
                    .as_secs_f64();
                let wait =
                    (retry * 2f64.powi(notification.tries.min(30) as i32)).min(MAX_BACKOFF_SECS);
                rt.store
                    .mark_notification_retry(notification.id, &error, now() + wait)?;
                log::warn!(
                    "notification {} to {} not sent, retry in {wait:.0}s: {error}",
                    notification.id,
                    notification.recipient
                );
                ("retry", Some(error))
            }
            Err(NotifyError::Permanent(error)) => {
                rt.store.mark_notification_failed(notification.id, &error)?;
                log::error!(
                    "notification {} to {} failed for good: {error}",
                    notification.id,
                    notification.recipient
                );
                ("failed", Some(error))
            }
        };
        deliveries.push(Delivery {
            notification: notification.id,
            incident: notification.incident,
            channel: notification.channel.clone(),
            recipient: notification.recipient.clone(),
            kind: notification.kind.clone(),
            result,
            error,
        });
    }
    Ok(deliveries)
}

fn send(config: Option<&EscalationConfig>, notification: &Notification) -> Result<(), NotifyError> {
    let gone = || {
        NotifyError::Permanent(format!(
            "the {} channel is no longer configured",
            notification.channel
        ))
    };
    match notification.channel.as_str() {
        "email" => {
            let email = config.and_then(|c| c.email.as_ref()).ok_or_else(gone)?;
            notify::send_email(
                email,
                &notification.recipient,
                &notification.subject,
                &notification.body,
            )
        }
        // The stored recipient is masked (a webhook URL may carry a token); the configured URL
        // is where the alert goes.
        "webhook" => {
            let webhook = config.and_then(|c| c.webhook.as_ref()).ok_or_else(gone)?;
            notify::post_webhook(&webhook.url, &notification.body)
        }
        _ => Err(gone()),
    }
}
