//! The generic JSON webhook: one POST per message, its body documented in orchestrator.toml(5),
//! JSON WEBHOOK BODY. Every try of a message carries the same `key`, in the body and as the
//! `Idempotency-Key` header, so a receiver can drop a second copy after a crash.

use super::{http, NotifyError, Outbound};
use crate::clock::rfc3339;
use crate::config::{JsonWebhookConfig, JSON_WEBHOOK_TOKEN_VARIABLE};
use crate::store::Incident;
use serde_json::{json, Value};
use std::time::Duration;

/// The version of the body's schema; a change that breaks a receiver raises it.
pub const BODY_VERSION: u32 = 1;

/// One incident of a message, stored with its notification when it is queued.
pub fn item(incident: &Incident, reason: &str, link: &str, subject: &str, text: &str) -> Value {
    json!({
        "id": incident.id,
        "check": incident.check,
        "severity": incident.severity,
        "status": incident.status,
        "summary": incident.summary,
        "reason": reason,
        "detected_at": rfc3339(incident.detected_at),
        "occurrences": incident.occurrences,
        "link": link,
        "subject": subject,
        "text": text,
    })
}

/// The whole body: the message's own fields, then its incidents (none for a direct message
/// about the state).
pub fn body(
    key: &str,
    kind: &str,
    host: &str,
    subject: &str,
    text: &str,
    items: Vec<Value>,
) -> String {
    json!({
        "version": BODY_VERSION,
        "key": key,
        "kind": kind,
        "host": host,
        "subject": subject,
        "text": text,
        "incidents": items,
    })
    .to_string()
}

pub fn post(
    config: &JsonWebhookConfig,
    message: &Outbound,
    deadline: Duration,
) -> Result<(), NotifyError> {
    let mut headers = vec![
        ("Content-Type", "application/json".to_string()),
        ("Idempotency-Key", message.key.clone()),
    ];
    if let Some(token) = http::secret(config.token_file.as_deref(), JSON_WEBHOOK_TOKEN_VARIABLE)? {
        headers.push(("Authorization", format!("Bearer {token}")));
    }
    let shown = http::origin(&config.url);
    http::send(
        &http::Request {
            method: http::Method::Post,
            url: &config.url,
            shown: &shown,
            headers,
            body: &message.body,
        },
        deadline,
    )
}
