//! Email through lettre: `smtp://host:port` (optionally STARTTLS), `smtps://host:port`
//! (implicit TLS), or `sendmail` (the local MTA). The password comes from `password_file` or
//! ORCHESTRATOR_SMTP_PASSWORD, never from the config text or the database.

use super::NotifyError;
use crate::config::EmailConfig;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SendmailTransport, SmtpTransport, Transport};
use std::time::Duration;

const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

pub fn send_email(
    config: &EmailConfig,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), NotifyError> {
    let permanent =
        |what: &str, e: &dyn std::fmt::Display| NotifyError::Permanent(format!("{what}: {e}"));
    let message = Message::builder()
        .from(
            config
                .from
                .parse()
                .map_err(|e| permanent("bad from address", &e))?,
        )
        .to(to
            .parse()
            .map_err(|e| permanent("bad recipient address", &e))?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_string())
        .map_err(|e| permanent("cannot build the mail", &e))?;
    if config.smtp.trim() == "sendmail" {
        return SendmailTransport::new()
            .send(&message)
            .map_err(|e| NotifyError::Transient(format!("sendmail: {e}")));
    }
    let transport = smtp_transport(config)?;
    transport
        .send(&message)
        .map(|_| ())
        .map_err(|e| NotifyError::Transient(format!("{}: {e}", config.smtp)))
}

fn smtp_transport(config: &EmailConfig) -> Result<SmtpTransport, NotifyError> {
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
        .timeout(Some(SMTP_TIMEOUT));
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
