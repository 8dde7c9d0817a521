//! Telling a person (phase 4, `escalate`): composing the message once, when it is queued, and
//! delivering it by email (SMTP or the local sendmail) or to an Alertmanager-style webhook,
//! each within a deadline. Delivery failures are returned, never hidden: the caller keeps a
//! transient one pending and marks a permanent one failed.

mod email;
mod message;
mod webhook;

pub use email::{send_email, Mail};
pub use message::{all_clear, escalation, Brief};
pub use webhook::{alert_key, alert_payload, payload_now, post_webhook};

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// Worth retrying: the server is down, refused for now (SMTP 4xx), timed out.
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help: SMTP 5xx, a malformed address or message.
    #[error("{0}")]
    Permanent(String),
}
