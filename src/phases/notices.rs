//! Messages to people that no incident stands behind, sent at once through the channels
//! escalations use (`[escalation]`), each channel within its own `message_timeout` and
//! `delivery_budget`: the test message of `escalate --test`, and the notices that a
//! maintenance window started or ended (`phases::maintenance`). Nothing of them is recorded as
//! an escalation or a notification; the caller reports each channel's result.

use super::broken_state::{direct_messages, send_direct, Direct, DirectDelivery};
use crate::clock::{now, rfc3339};
use crate::config::Config;
use crate::model::Channel;
use serde_json::json;

/// How long the test alert stays firing in Alertmanager: long enough to see it routed.
const TEST_ALERT_SECS: f64 = 300.0;

#[derive(Debug, thiserror::Error)]
#[error(
    "no [escalation] channel (email, webhook, json_webhook, ntfy, slack, matrix) is configured: \
     there is nothing to test"
)]
pub struct NoChannel;

/// `escalate --test`: one test message on every configured channel (to every mail recipient),
/// as a real escalation would reach it, and what came of each. Alertmanager gets a test alert
/// (`alertname="OrchestratorTest"`, `severity="info"`) that lapses after five minutes.
pub fn send_test(config: &Config, by: &str) -> Result<Vec<DirectDelivery>, NoChannel> {
    let channels = config
        .escalation
        .as_ref()
        .filter(|e| !e.channels().is_empty())
        .ok_or(NoChannel)?;
    let host = config.host_name();
    let subject = format!("[orchestrator] test message from {host}");
    let body = format!(
        "This is a test message from orchestrator on {host}, sent by {by} with \
         `orchestrator escalate --test` at {}.\n\n\
         If you read it, escalations reach you on this channel. Nothing was recorded: no \
         incident, no escalation.\n\nDashboard: {}\n",
        rfc3339(now()),
        crate::notify::dashboard_url(config)
    );
    let alert = json!([{
        "labels": {
            "alertname": "OrchestratorTest",
            "instance": host,
            "severity": "info",
            "service": "orchestrator",
            "test": "true",
        },
        "annotations": { "summary": subject, "description": format!("sent by {by}") },
        "startsAt": rfc3339(now()),
        "endsAt": rfc3339(now() + TEST_ALERT_SECS),
    }])
    .to_string();
    let message = Direct {
        kind: "test",
        subject: &subject,
        body: &body,
    };
    let outgoing = without_urgency(direct_messages(channels, &message, Some(&alert), true));
    Ok(send_direct(channels, outgoing, |delivery| {
        log::warn!(
            "the test message to {} ({}) was not sent: {}",
            delivery.recipient,
            delivery.channel,
            delivery.error.as_deref().unwrap_or_default()
        )
    }))
}

/// A notice to the people on every channel but Alertmanager (a notice is not an alert):
/// `kind` names it in the JSON webhook's body. Sends nothing when no channel is configured.
pub fn send_notice(config: &Config, kind: &str, subject: &str, body: &str) -> Vec<DirectDelivery> {
    let Some(channels) = config.escalation.as_ref() else {
        return Vec::new();
    };
    let message = Direct {
        kind,
        subject,
        body,
    };
    let outgoing = without_urgency(direct_messages(channels, &message, None, true));
    send_direct(channels, outgoing, |delivery| {
        log::warn!(
            "the notice \"{subject}\" to {} was not sent: {}",
            delivery.recipient,
            delivery.error.as_deref().unwrap_or_default()
        )
    })
}

/// Neither a test nor a notice is an emergency: no severity (ntfy's default priority).
fn without_urgency(mut outgoing: Vec<crate::notify::Outbound>) -> Vec<crate::notify::Outbound> {
    for message in &mut outgoing {
        if message.channel != Channel::Webhook {
            message.severity = None;
        }
    }
    outgoing
}
