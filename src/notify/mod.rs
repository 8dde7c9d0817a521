//! Telling a person (phase 4, `escalate`): composing the message once, when it is queued, and
//! delivering it by email (SMTP or the local sendmail) or to an Alertmanager-style webhook.
//! Delivery failures are returned, never hidden: the caller keeps the notification pending.

mod email;
mod message;
mod webhook;

pub use email::send_email;
pub use message::{all_clear, escalation, Brief};
pub use webhook::{alert_payload, post_webhook};

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// Worth retrying: the server is down, refused for now, timed out.
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help: a malformed address or message.
    #[error("{0}")]
    Permanent(String),
}
