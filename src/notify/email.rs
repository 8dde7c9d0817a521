//! Email through lettre: `smtp://host:port` (optionally STARTTLS), `smtps://host:port`
//! (implicit TLS), or `sendmail` (the local MTA). The password comes from `password_file` or
//! ORCHESTRATOR_SMTP_PASSWORD, never from the config text or the database.
//!
//! Every mail carries the Message-ID stored with its notification, so a resend after a crash is
//! recognisably the same message. SMTP replies 5xx are permanent (the notification fails with
//! the server's words); 4xx, network errors and timeouts are transient. lettre's socket timeout
//! bounds each read and write, not the whole exchange (a server that drips a byte at a time
//! never trips it), so the send runs in a helper thread and is abandoned at the message's
//! deadline: the process goes on, and the thread dies with it.

use super::NotifyError;
use crate::config::EmailConfig;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SendmailTransport, SmtpTransport, Transport};
use std::sync::mpsc;
use std::time::Duration;

/// One mail as stored in the outbox.
pub struct Mail<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// `<…@…>`, chosen when the notification was queued.
    pub message_id: &'a str,
    /// The Message-ID this mail follows up (reminders and the all-clear).
    pub in_reply_to: Option<&'a str>,
    /// Every Message-ID it follows up: a grouped all-clear answers several first mails.
    pub references: &'a [String],
}

/// Sends `mail`, giving up after `deadline` whatever the server does.
pub fn send_email(
    config: &EmailConfig,
    mail: &Mail,
    deadline: Duration,
) -> Result<(), NotifyError> {
    let message = build(config, mail)?;
    if config.smtp.trim() == "sendmail" {
        return within(deadline, "sendmail", move || {
            SendmailTransport::new()
                .send(&message)
                .map_err(|e| NotifyError::Transient(format!("sendmail: {e}")))
        });
    }
    let transport = smtp_transport(config, deadline)?;
    let server = config.smtp.clone();
    within(deadline, &config.smtp, move || {
        transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| classify(&server, &e))
    })
}

fn build(config: &EmailConfig, mail: &Mail) -> Result<Message, NotifyError> {
    let permanent =
        |what: &str, e: &dyn std::fmt::Display| NotifyError::Permanent(format!("{what}: {e}"));
    let mut builder = Message::builder()
        .from(
            config
                .from
                .parse()
                .map_err(|e| permanent("bad from address", &e))?,
        )
        .to(mail
            .to
            .parse()
            .map_err(|e| permanent("bad recipient address", &e))?)
        .subject(mail.subject)
        .message_id(Some(mail.message_id.to_string()))
        .header(ContentType::TEXT_PLAIN);
    if let Some(parent) = mail.in_reply_to {
        let references = if mail.references.is_empty() {
            parent.to_string()
        } else {
            mail.references.join(" ")
        };
        builder = builder
            .in_reply_to(parent.to_string())
            .references(references);
    }
    builder
        .body(mail.body.to_string())
        .map_err(|e| permanent("cannot build the mail", &e))
}

/// 5xx: the server refuses this message for good, retrying cannot help. Everything else (4xx,
/// a refused connection, a timeout, a garbled reply) may pass later.
fn classify(server: &str, error: &lettre::transport::smtp::Error) -> NotifyError {
    let words = format!("{server}: {error}");
    if error.is_permanent() {
        NotifyError::Permanent(words)
    } else {
        NotifyError::Transient(words)
    }
}

/// Runs `send` in a helper thread and waits at most `deadline` for it. A thread still talking
/// past the deadline is abandoned (it cannot be cancelled); it ends with the process, and if
/// its mail does get through after all, the resend carries the same Message-ID.
fn within(
    deadline: Duration,
    server: &str,
    send: impl FnOnce() -> Result<(), NotifyError> + Send + 'static,
) -> Result<(), NotifyError> {
    let (done, outcome) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("smtp-send".into())
        .spawn(move || {
            let _ = done.send(send());
        });
    if let Err(e) = spawned {
        return Err(NotifyError::Transient(format!(
            "cannot start the sending thread: {e}"
        )));
    }
    match outcome.recv_timeout(deadline) {
        Ok(result) => result,
        Err(_) => Err(NotifyError::Transient(format!(
            "{server}: no complete answer within {}",
            humantime::format_duration(Duration::from_millis(deadline.as_millis() as u64))
        ))),
    }
}

fn smtp_transport(config: &EmailConfig, deadline: Duration) -> Result<SmtpTransport, NotifyError> {
    let (implicit_tls, rest) = match config.smtp.split_once("://") {
        Some(("smtp", rest)) => (false, rest),
        Some(("smtps", rest)) => (true, rest),
        _ => {
            return Err(NotifyError::Permanent(format!(
                "`smtp = \"{}\"`: expected smtp://host:port, smtps://host:port or sendmail",
                config.smtp
            )))
        }
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse()
                .map_err(|_| NotifyError::Permanent(format!("bad SMTP port in {}", config.smtp)))?,
        ),
        None => (rest, if implicit_tls { 465 } else { 25 }),
    };
    let tls_parameters = || {
        TlsParameters::new(host.to_string())
            .map_err(|e| NotifyError::Permanent(format!("TLS for {host}: {e}")))
    };
    let tls = match (implicit_tls, config.starttls) {
        (true, _) => Tls::Wrapper(tls_parameters()?),
        (false, true) => Tls::Required(tls_parameters()?),
        (false, false) => Tls::None,
    };
    let mut builder = SmtpTransport::builder_dangerous(host)
        .port(port)
        .tls(tls)
        // Each socket read or write; the whole exchange is bounded by `within`.
        .timeout(Some(deadline));
    if let Some(user) = &config.user {
        builder = builder.credentials(Credentials::new(user.clone(), password(config)?));
    }
    Ok(builder.build())
}

fn password(config: &EmailConfig) -> Result<String, NotifyError> {
    if let Some(path) = &config.password_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            NotifyError::Permanent(format!("cannot read password_file {}: {e}", path.display()))
        })?;
        return Ok(text.trim_end_matches(['\n', '\r']).to_string());
    }
    std::env::var("ORCHESTRATOR_SMTP_PASSWORD")
        .map_err(|_| NotifyError::Permanent("`user` is set but neither `password_file` nor ORCHESTRATOR_SMTP_PASSWORD gives a password".into()))
}
