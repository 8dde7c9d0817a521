//! The words of a notification: what happened, what each phase tried, what waits for approval,
//! and where to look.

use crate::actions::Plan;
use crate::clock::rfc3339;
use crate::config::Config;
use crate::model::{EventKind, Phase};
use crate::store::{Attempt, Consultation, Event, HeldPlan, Incident};
use std::fmt::Write;

/// What a message is made of.
pub struct Brief<'a> {
    pub host: &'a str,
    pub incident: &'a Incident,
    pub reason: &'a str,
    pub attempts: &'a [Attempt],
    /// The incident's timeline: each hand-over says what that phase found.
    pub events: &'a [Event],
    pub votes: &'a [Consultation],
    pub held: Option<&'a HeldPlan>,
    pub link: &'a str,
    /// What was found on the host before agents were asked, one line each.
    pub facts: &'a [String],
    /// The admin's runbook for the check, if one is written.
    pub runbook: Option<&'a str>,
}

/// Subject and body of the first (or repeated) escalation mail.
pub fn escalation(brief: &Brief, repeat: bool) -> (String, String) {
    let incident = brief.incident;
    let again = if repeat { "still unresolved: " } else { "" };
    let subject = format!(
        "[orchestrator] {again}{} on {}: {} needs a person",
        incident.severity, brief.host, incident.check
    );
    let mut body = String::new();
    let _ = writeln!(
        body,
        "orchestrator on {} could not fix incident {} and needs a person.\n",
        brief.host, incident.id
    );
    let _ = writeln!(body, "Host:      {}", brief.host);
    let _ = writeln!(body, "Check:     {}", incident.check);
    let _ = writeln!(body, "Severity:  {}", incident.severity);
    let _ = writeln!(body, "Summary:   {}", incident.summary);
    let _ = writeln!(
        body,
        "Detected:  {} (seen {} times)",
        rfc3339(incident.detected_at),
        incident.occurrences
    );
    let _ = writeln!(body, "Why:       {}\n", brief.reason);
    write_attempts(&mut body, brief);
    if !brief.facts.is_empty() {
        let _ = writeln!(body, "What orchestrator found on the host:");
        for line in brief.facts {
            let _ = writeln!(body, "  {line}");
        }
        body.push('\n');
    }
    if let Some(held) = brief.held.filter(|h| h.decision.is_none()) {
        let plan = Plan::describe_stored_text(&held.plan);
        let _ = writeln!(
            body,
            "A plan from {} waits for your approval:\n  {plan}",
            held.source
        );
        let _ = writeln!(
            body,
            "Approve it on the dashboard or with: orchestrator incidents approve {}\n",
            incident.id
        );
    }
    if !incident.evidence.is_empty() {
        let evidence: String = incident.evidence.chars().take(1500).collect();
        let _ = writeln!(body, "Evidence:\n{evidence}\n");
    }
    if let Some(runbook) = brief.runbook {
        let _ = writeln!(
            body,
            "Your runbook for {} (runbook = ... or runbooks/{}.md):\n{}\n",
            incident.check,
            incident.check,
            runbook.trim_end()
        );
    }
    let _ = writeln!(body, "Dashboard: {}", brief.link);
    (subject, body)
}

fn write_attempts(body: &mut String, brief: &Brief) {
    let _ = writeln!(body, "What each phase did:");
    for event in brief
        .events
        .iter()
        .filter(|e| e.kind.is_handoff() || matches!(e.kind, EventKind::Held | EventKind::Flapping))
    {
        let _ = writeln!(body, "  {}", event.detail);
    }
    if brief.attempts.is_empty() && brief.votes.is_empty() {
        let _ = writeln!(body, "  (no plan was run)\n");
        return;
    }
    for phase in Phase::ALL {
        for attempt in brief.attempts.iter().filter(|a| a.phase == phase) {
            let reason = if attempt.reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", attempt.reason)
            };
            let _ = writeln!(
                body,
                "  phase {phase}  {:<16} {} -> {}{reason}",
                attempt.source,
                Plan::describe_stored(&attempt.plan),
                attempt.outcome
            );
        }
        for vote in brief.votes.iter().filter(|v| v.phase == phase) {
            let said = if vote.diagnosis.is_empty() {
                vote.error.clone().unwrap_or_default()
            } else {
                vote.diagnosis.clone()
            };
            let _ = writeln!(
                body,
                "  phase {phase}  agent {:<10} {}: {said}",
                vote.agent, vote.vote
            );
        }
    }
    body.push('\n');
}

/// The short mail when an escalated incident is over.
pub fn all_clear(host: &str, incident: &Incident, note: &str, link: &str) -> (String, String) {
    let subject = format!("[orchestrator] resolved on {host}: {}", incident.check);
    let how = match incident.status {
        crate::model::IncidentStatus::Recovered => "its check passes again".to_string(),
        _ => format!(
            "it was resolved by {}",
            incident.resolved_by.as_deref().unwrap_or("someone")
        ),
    };
    let body = format!(
        "All clear: incident {} ({} on {host}) is over: {how}.\n\nSummary was: {}\nNote: {note}\n\nDashboard: {link}\n",
        incident.id, incident.check, incident.summary
    );
    (subject, body)
}

/// A few lines for a chat or a push notification (ntfy, Slack, Matrix, the JSON webhook's
/// `text`): what, where, why, and the link to the rest.
pub fn short(
    host: &str,
    incident: &Incident,
    kind: crate::model::NotificationKind,
    why: &str,
    link: &str,
) -> String {
    use crate::model::NotificationKind;
    let what = format!(
        "{} on {host} is {}: {}",
        incident.check, incident.severity, incident.summary
    );
    match kind {
        NotificationKind::AllClear => format!("Resolved: {} on {host}.\n{link}", incident.check),
        NotificationKind::Repeat | NotificationKind::Refresh => {
            format!("Still unresolved: {what}\n{link}")
        }
        NotificationKind::Escalation => format!("{what}\nWhy: {why}\n{link}"),
    }
}
/// The dashboard's address as people reach it: `[escalation] dashboard_url`, else `[serve]
/// listen`.
pub fn dashboard_url(config: &Config) -> String {
    let base = config
        .escalation
        .as_ref()
        .and_then(|e| e.dashboard_url.clone())
        .unwrap_or_else(|| format!("http://{}", config.serve.listen));
    base.trim_end_matches('/').to_string()
}

/// The incident's page on the dashboard.
pub fn incident_link(config: &Config, incident: i64) -> String {
    format!("{}/incidents/{incident}", dashboard_url(config))
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

/// The idempotency key of a message on a channel other than mail: a Matrix txnId, an ntfy
/// sequence id, the JSON webhook's `key`; letters, digits and dashes only, so that it is a
/// valid identifier on each. Format: `orchestrator-INCIDENT-RANDOM`.
pub fn message_key(incident: i64) -> String {
    format!("orchestrator-{incident}-{}", crate::random::random_hex(8))
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
}
