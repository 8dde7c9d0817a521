//! ntfy: a JSON publish to the server's root URL (`{"topic": …}`), with the message's title,
//! a priority from its severity, a tag and a link to the dashboard. The idempotency key is the
//! `sequence_id`: ntfy 2.16 and later replace a notification of the same sequence instead of
//! showing a second one; an older server ignores it and may show a resent message twice.

use super::{clipped, http, NotifyError, Outbound};
use crate::config::{NtfyConfig, NTFY_TOKEN_VARIABLE};
use crate::model::Severity;
use serde_json::json;
use std::time::Duration;

/// ntfy turns a longer message into an attachment.
const MESSAGE_LIMIT: usize = 3800;

pub fn publish(
    config: &NtfyConfig,
    message: &Outbound,
    deadline: Duration,
) -> Result<(), NotifyError> {
    let (priority, tag) = match message.severity {
        Some(Severity::Critical) => (5, "rotating_light"),
        Some(Severity::Unknown) => (4, "question"),
        Some(Severity::Warning) => (4, "warning"),
        None => (3, "white_check_mark"),
    };
    let mut body = json!({
        "topic": config.topic,
        "title": message.subject,
        "message": clipped(&message.body, MESSAGE_LIMIT),
        "priority": priority,
        "tags": [tag],
        "sequence_id": message.key,
    });
    if let Some(link) = &message.link {
        body["click"] = json!(link);
    }
    let mut headers = vec![("Content-Type", "application/json".to_string())];
    if let Some(token) = http::secret(config.token_file.as_deref(), NTFY_TOKEN_VARIABLE)? {
        headers.push(("Authorization", format!("Bearer {token}")));
    }
    let url = config.url.trim_end_matches('/');
    let shown = format!("ntfy {}", http::origin(url));
    http::send(
        &http::Request {
            method: http::Method::Post,
            url,
            shown: &shown,
            headers,
            body: &body.to_string(),
        },
        deadline,
    )
}
