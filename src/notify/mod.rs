//! Telling a person (phase 4, `escalate`): composing the message once, when it is queued, and
//! delivering it on each configured channel, within a deadline: email (SMTP or the local
//! sendmail), Alertmanager's webhook, a generic JSON webhook, ntfy, Slack and Matrix.
//! Delivery failures are returned, never hidden: the caller keeps a transient one pending and
//! marks a permanent one failed.
//!
//! Several notifications of one run, channel and recipient go out as one message
//! ([`outbound`]): they share a batch and one idempotency key, chosen when they are queued.

mod email;
mod group;
mod http;
mod json;
mod matrix;
mod message;
mod ntfy;
mod slack;
mod webhook;

pub use email::{send_email, Mail};
pub use group::{direct, outbound};
pub use http::origin;
pub use json::item as json_item;
pub use message::{
    all_clear, dashboard_url, escalation, incident_link, message_id, message_key, short, Brief,
};
pub use webhook::{alert_key, alert_payload, merged, payload_now, post_webhook};

use crate::config::EscalationConfig;
use crate::model::{Channel, Severity};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// Worth retrying: the server is down, refused for now (SMTP 4xx, HTTP 408/429/5xx),
    /// timed out.
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help: SMTP 5xx, HTTP 4xx, a malformed address or message, a secret
    /// file that cannot be read.
    #[error("{0}")]
    Permanent(String),
}

/// One message as it goes out on one channel: one notification, or several of one run grouped,
/// with the idempotency key every try sends unchanged.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub channel: Channel,
    /// As stored: a mail address, or the endpoint with its secrets masked.
    pub recipient: String,
    pub key: String,
    pub subject: String,
    /// Mail: the text. Webhook: the alert list. JSON webhook: the whole body. ntfy: the
    /// message under `subject`. Slack and Matrix: the text, `subject` on its first line.
    pub body: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// The worst severity in it; None for an all-clear.
    pub severity: Option<Severity>,
    /// The page a tap on the notification opens (ntfy).
    pub link: Option<String>,
}

/// Sends `message` on its channel as configured now, giving up after `deadline`. A channel
/// removed from the config since the message was queued fails it for good.
pub fn send(
    config: &EscalationConfig,
    message: &Outbound,
    deadline: Duration,
) -> Result<(), NotifyError> {
    let gone = || {
        NotifyError::Permanent(format!(
            "the {} channel is no longer configured",
            message.channel
        ))
    };
    match message.channel {
        Channel::Email => {
            let email = config.email.as_ref().ok_or_else(gone)?;
            let mail = Mail {
                to: &message.recipient,
                subject: &message.subject,
                body: &message.body,
                message_id: &message.key,
                in_reply_to: message.in_reply_to.as_deref(),
                references: &message.references,
            };
            send_email(email, &mail, deadline)
        }
        // The stored recipient is masked (a webhook URL may carry a token); the configured URL
        // is where the alert goes.
        Channel::Webhook => {
            let webhook = config.webhook.as_ref().ok_or_else(gone)?;
            let payload = payload_now(&message.body, config.alert_ttl.std());
            post_webhook(&webhook.url, &payload, deadline)
        }
        Channel::JsonWebhook => {
            let target = config.json_webhook.as_ref().ok_or_else(gone)?;
            json::post(target, message, deadline)
        }
        Channel::Ntfy => {
            let target = config.ntfy.as_ref().ok_or_else(gone)?;
            ntfy::publish(target, message, deadline)
        }
        Channel::Slack => {
            let target = config.slack.as_ref().ok_or_else(gone)?;
            slack::post(target, message, deadline)
        }
        Channel::Matrix => {
            let target = config.matrix.as_ref().ok_or_else(gone)?;
            matrix::send(target, message, deadline)
        }
    }
}

/// The stored recipient of a channel's notifications (masked again by the store): the
/// mail address for email, else the endpoint without its secret.
pub fn recipient_of(config: &EscalationConfig, channel: Channel) -> Option<String> {
    match channel {
        Channel::Email => None,
        Channel::Webhook => config.webhook.as_ref().map(|w| w.url.clone()),
        Channel::JsonWebhook => config.json_webhook.as_ref().map(|j| j.url.clone()),
        Channel::Ntfy => config
            .ntfy
            .as_ref()
            .map(|n| format!("{}/{}", n.url.trim_end_matches('/'), n.topic)),
        Channel::Slack => config
            .slack
            .as_ref()
            .map(|_| "Slack incoming webhook".to_string()),
        Channel::Matrix => config.matrix.as_ref().map(|m| m.room.clone()),
    }
}

/// At most `limit` characters: a chat message has a size limit, and the dashboard link
/// carries the rest.
pub(crate) fn clipped(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(limit.saturating_sub(40)).collect();
    cut.push_str("\n… (cut here; the dashboard has the rest)");
    cut
}
