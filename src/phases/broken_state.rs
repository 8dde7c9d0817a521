//! Telling a person when the state itself is broken. With the database on a full, read-only or
//! failing filesystem nothing can be recorded: no incident opens, no notification can be
//! queued, so the outbox cannot tell anyone. Here the checks' results are sent directly
//! through every configured channel, marked as unrecorded: all channels at once, each within
//! its own `message_timeout` and `delivery_budget`, so a hanging mail server delays nothing else.
//!
//! Alertmanager forgets an alert nobody posts again: every run posts the state's alert again,
//! with the firing alert of each escalation the (read-only) database still holds, so none of
//! them looks resolved while the disk is full. The disk may stay full for hours, and every timer
//! run would mail again: a message to a person (mail, the JSON webhook, ntfy, Slack, Matrix) is
//! sent at most once per `[escalation] repeat` (once per boot when `repeat` is 0) for each
//! database; the time of the last one is a stamp file in the runtime directory
//! (`$RUNTIME_DIRECTORY`, else /run/orchestrator for root, else `$XDG_RUNTIME_DIR/orchestrator`),
//! a tmpfs that does not share the state disk's fate. The stamp is removed when a scan
//! records again, so the next outage is told at once. `notify-failure` (systemd's
//! `OnFailure=`) keeps its own stamp per unit in the same place.

use super::scan::CheckLine;
use crate::clock::{now, rfc3339};
use crate::config::{Config, EscalationConfig};
use crate::lock::LockError;
use crate::model::{Channel, Status};
use crate::notify::{self, Outbound};
use crate::store::StoreError;
use serde::Serialize;
use serde_json::json;
use std::fmt::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// After a direct message about the state, `notify-failure` stays quiet this long: the unit
/// failed because of what that message already said.
const SAME_OUTAGE_SECS: f64 = 15.0 * 60.0;

/// What the direct message did, for the printed report and `--json`.
#[derive(Debug, Serialize, Default)]
pub struct DirectReport {
    /// sent | failed | skipped | dry_run | no_channel
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub deliveries: Vec<DirectDelivery>,
}

#[derive(Debug, Serialize)]
pub struct DirectDelivery {
    pub channel: Channel,
    pub recipient: String,
    /// sent | failed
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The words of the state failure in `err`'s chain, when it is one (a lock file or database
/// that cannot be created or written, a full or read-only disk, an I/O error): what SQLite or
/// the kernel said.
pub fn storage_failure(err: &anyhow::Error) -> Option<String> {
    let is_one = err.chain().any(|cause| {
        if let Some(store) = cause.downcast_ref::<StoreError>() {
            return store.is_storage_failure();
        }
        if let Some(sql) = cause.downcast_ref::<rusqlite::Error>() {
            return crate::store::is_storage_failure(sql);
        }
        matches!(
            cause.downcast_ref::<LockError>(),
            Some(LockError::Io { .. })
        )
    });
    let said = err
        .chain()
        .find(|cause| cause.is::<rusqlite::Error>() || cause.is::<std::io::Error>())
        .or_else(|| err.chain().last());
    is_one.then(|| said.map(ToString::to_string).unwrap_or_default())
}

/// The checks' lines a scan kept when it could not record them ([`super::scan::Unrecorded`] in
/// `err`'s chain), so they are not run a second time.
pub fn checks_kept(err: &anyhow::Error) -> Option<Vec<CheckLine>> {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<super::scan::Unrecorded>())
        .map(|unrecorded| unrecorded.checks.clone())
}

/// "orchestrator cannot write its state database DB: CAUSE", with what the filesystem says
/// about itself (SQLite often reports a full disk as an I/O error).
pub fn describe(db: &Path, cause: &str) -> String {
    let db = std::path::absolute(db).unwrap_or_else(|_| db.to_path_buf());
    let mut text = format!(
        "orchestrator cannot write its state database {}: {cause}",
        db.display()
    );
    if let Some(state) = filesystem_state(&db) {
        let _ = write!(text, " ({state})");
    }
    text
}

fn filesystem_state(db: &Path) -> Option<String> {
    let dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fs = rustix::fs::statvfs(dir).ok()?;
    if fs.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY) {
        return Some(format!("{} is on a read-only filesystem", dir.display()));
    }
    if fs.f_bavail == 0 {
        return Some(format!(
            "the filesystem holding {} is full: 0 bytes free",
            dir.display()
        ));
    }
    None
}

/// The checks that need a person: every one that does not pass. Without the state there is no
/// history to tell a new fault from an old one, and no phase may act, so each is reported.
pub fn failing(checks: &[CheckLine]) -> Vec<&CheckLine> {
    checks.iter().filter(|c| c.status != Status::Ok).collect()
}

/// Sends the unrecorded escalation unless one went out within the window; `dry_run` only
/// says what would be sent.
pub fn tell_a_person(
    config: &Config,
    db: &Path,
    problem: &str,
    checks: &[CheckLine],
    dry_run: bool,
) -> DirectReport {
    let stamp = stamp_path(&format!("unrecorded-{}", db_key(db)));
    let host = config.host_name();
    let (subject, body) = compose(&host, problem, checks);
    log::error!("CRITICAL: {subject}: {problem}");
    let message = Direct {
        kind: "unrecorded",
        subject: &subject,
        body: &body,
    };
    send_limited(config, &stamp, &message, dry_run, |escalation| {
        let mut alerts = vec![alert(
            &host,
            "OrchestratorStateUnwritable",
            problem,
            &subject,
            escalation,
        )];
        alerts.extend(firing_alerts(db, escalation));
        serde_json::Value::Array(alerts)
    })
}

/// The firing alert of every escalation the database holds open, read without writing: they
/// would lapse in Alertmanager while the state cannot be written. None when it cannot be read.
fn firing_alerts(db: &Path, escalation: Option<&EscalationConfig>) -> Vec<serde_json::Value> {
    let lasts = escalation.map_or_else(EscalationConfig::default_alert_ttl, |e| e.alert_ttl);
    let alerts = crate::store::Store::open_readonly(db).and_then(|store| store.alerts_to_refresh());
    let alerts = match alerts {
        Ok(alerts) => alerts,
        Err(e) => {
            log::warn!("cannot read the open escalations to re-post their alerts: {e}");
            return Vec::new();
        }
    };
    let posted = notify::merged(alerts.iter().map(|a| a.body.as_str()));
    let list = notify::payload_now(&posted, lasts.std());
    match serde_json::from_str(&list) {
        Ok(serde_json::Value::Array(alerts)) => alerts,
        _ => Vec::new(),
    }
}

/// `notify-failure UNIT`: a direct message that a unit failed, needing no database. Quiet when
/// a message about the state went out within the last minutes: that is why it failed.
pub fn unit_failed(config: &Config, db: &Path, unit: &str, dry_run: bool) -> DirectReport {
    let told = stamp_path(&format!("unrecorded-{}", db_key(db)));
    if sent_within(&told, SAME_OUTAGE_SECS) {
        return DirectReport {
            result: "skipped",
            detail: Some(format!(
                "a message about the state database went out at {}; it says why {unit} failed",
                last_sent(&told).map_or_else(String::new, rfc3339)
            )),
            deliveries: Vec::new(),
        };
    }
    let host = config.host_name();
    let subject = format!("[orchestrator] critical on {host}: {unit} failed");
    let body = format!(
        "The systemd unit {unit} on {host} failed.\n\n\
         orchestrator could not finish its run, so faults on this host may go unfixed and \
         unreported until it runs again.\n\n\
         See why with:\n  systemctl status {unit}\n  journalctl -u {unit} -n 100\n\n\
         This message is sent directly by `orchestrator notify-failure` (systemd OnFailure=) \
         and is not recorded in orchestrator's database.\n"
    );
    log::error!("CRITICAL: {subject}");
    let stamp = stamp_path(&format!("unit-failed-{}", file_safe(unit)));
    let message = Direct {
        kind: "unit_failed",
        subject: &subject,
        body: &body,
    };
    send_limited(config, &stamp, &message, dry_run, |escalation| {
        serde_json::Value::Array(vec![alert(
            &host,
            "OrchestratorUnitFailed",
            unit,
            &subject,
            escalation,
        )])
    })
}

/// A scan recorded again: the next outage is told at once.
pub fn state_is_back(db: &Path) {
    let stamp = stamp_path(&format!("unrecorded-{}", db_key(db)));
    if std::fs::remove_file(&stamp).is_ok() {
        log::warn!("orchestrator records its state again in {}", db.display());
    }
}

fn compose(host: &str, problem: &str, checks: &[CheckLine]) -> (String, String) {
    let failing = failing(checks);
    let subject = format!(
        "[orchestrator] critical on {host}: state database unwritable, {} failing check(s), unrecorded",
        failing.len()
    );
    let mut body = String::new();
    let _ = writeln!(
        body,
        "orchestrator on {host} cannot keep its state. This message is sent directly and is \
         NOT RECORDED: no incident was opened, no fix was tried, and the dashboard does not \
         show it.\n"
    );
    let _ = writeln!(body, "Host:      {host}");
    let _ = writeln!(body, "State:     {problem}\n");
    if failing.is_empty() {
        let _ = writeln!(body, "Every check passes ({} checks).\n", checks.len());
    } else {
        let _ = writeln!(body, "Failing checks:");
        for check in &failing {
            let _ = writeln!(
                body,
                "  {:<9} {}: {}",
                check.status.as_str(),
                check.name,
                check.summary
            );
        }
        let passing = checks.len() - failing.len();
        let _ = writeln!(body, "Passing checks: {passing}\n");
    }
    let _ = writeln!(
        body,
        "Free space on the state filesystem (or make it writable again); the next run records \
         and handles the failing checks as usual. Until then each run only checks and prints."
    );
    (subject, body)
}

/// One firing alert with the labels `alertname`, `instance`, `severity`, and
/// `unrecorded="true"` saying no incident stands behind it.
fn alert(
    host: &str,
    name: &str,
    what: &str,
    summary: &str,
    escalation: Option<&EscalationConfig>,
) -> serde_json::Value {
    let mut alert = json!({
        "labels": {
            "alertname": name,
            "instance": host,
            "severity": "critical",
            "service": "orchestrator",
            "unrecorded": "true",
        },
        "annotations": { "summary": summary, "description": what },
        "startsAt": rfc3339(now()),
    });
    let lasts = escalation.map_or_else(EscalationConfig::default_alert_ttl, |e| e.alert_ttl);
    if !lasts.std().is_zero() {
        alert["endsAt"] = json!(rfc3339(now() + lasts.as_secs_f64()));
    }
    alert
}

/// A direct message: its kind for the JSON webhook's body (`unrecorded`, `unit_failed`,
/// `test`, `maintenance`) and its words.
pub(crate) struct Direct<'a> {
    pub kind: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// Sends `message` on every configured channel at once. Alertmanager gets `alerts` on every
/// run (an alert not posted again lapses); the others, messages to people, go out at most
/// once per `repeat`, tracked by `stamp`.
fn send_limited(
    config: &Config,
    stamp: &Path,
    message: &Direct,
    dry_run: bool,
    alerts: impl FnOnce(Option<&EscalationConfig>) -> serde_json::Value,
) -> DirectReport {
    let escalation = config.escalation.as_ref();
    let Some(channels) = escalation.filter(|e| !e.channels().is_empty()) else {
        log::error!("CRITICAL: no [escalation] channel is configured: nobody can be told");
        return DirectReport {
            result: "no_channel",
            detail: Some("no [escalation] channel (email, webhook, json_webhook, ntfy, slack, matrix) is configured".into()),
            deliveries: Vec::new(),
        };
    };
    let window = channels.repeat.as_secs_f64();
    let told_at = last_sent(stamp).filter(|at| window == 0.0 || now() - at < window);
    if dry_run {
        return DirectReport {
            result: if told_at.is_some() {
                "skipped"
            } else {
                "dry_run"
            },
            detail: Some(format!("would send: {}", message.subject)),
            deliveries: Vec::new(),
        };
    }
    let alerts = alerts(Some(channels)).to_string();
    let outgoing = direct_messages(channels, message, Some(&alerts), told_at.is_none());
    let pushes = outgoing
        .iter()
        .filter(|m| m.channel != Channel::Webhook)
        .count();
    let deliveries = send_direct(channels, outgoing, |delivery| {
        log::error!(
            "CRITICAL: the direct message to {} was not sent: {}",
            delivery.recipient,
            delivery.error.as_deref().unwrap_or_default()
        )
    });
    if let Some(at) = told_at {
        let detail = format!(
            "already told at {} ({}); one direct message per [escalation] repeat",
            rfc3339(at),
            stamp.display()
        );
        log::warn!("not sending again: {detail}");
        return DirectReport {
            result: "skipped",
            detail: Some(detail),
            deliveries,
        };
    }
    let sent = deliveries
        .iter()
        .any(|d| d.result == "sent" && (pushes == 0 || d.channel != Channel::Webhook));
    if sent {
        write_stamp(stamp);
    }
    DirectReport {
        result: if sent { "sent" } else { "failed" },
        detail: None,
        deliveries,
    }
}

/// Sends `outgoing` on every channel at once (each within its budget) and says what became of
/// each message; `on_failure` is told of each one not sent.
pub(crate) fn send_direct(
    channels: &EscalationConfig,
    outgoing: Vec<Outbound>,
    on_failure: impl Fn(&DirectDelivery),
) -> Vec<DirectDelivery> {
    crate::phases::deliver::send_at_once(channels, outgoing)
        .into_iter()
        .map(|(message, sent)| {
            let delivery = DirectDelivery {
                channel: message.channel,
                recipient: message.recipient,
                result: if sent.is_ok() { "sent" } else { "failed" },
                error: sent.err().map(|e| e.to_string()),
            };
            if delivery.error.is_some() {
                on_failure(&delivery);
            }
            delivery
        })
        .collect()
}

/// The direct message shaped for each channel: `alerts` for Alertmanager, when given; the
/// words for the others when `to_people`.
pub(crate) fn direct_messages(
    channels: &EscalationConfig,
    message: &Direct,
    alerts: Option<&str>,
    to_people: bool,
) -> Vec<Outbound> {
    let host = host_name_of(channels.email.as_ref().map_or("", |e| e.from.as_str()));
    let words = (message.subject, message.body);
    let key = format!(
        "orchestrator-{}-{}",
        message.kind,
        crate::random::random_hex(8)
    );
    let mut outgoing = Vec::new();
    for channel in channels.channels() {
        let one = |recipient: &str, key: &str| {
            let alerts = alerts.unwrap_or_default();
            notify::direct(channel, recipient, key, &host, message.kind, words, alerts)
        };
        match channel {
            Channel::Webhook if alerts.is_none() => {}
            Channel::Webhook => {
                let url = channels.webhook.as_ref().map_or("", |w| w.url.as_str());
                outgoing.push(one(&url_host(url), &key));
            }
            _ if !to_people => {}
            Channel::Email => {
                for to in channels.email.iter().flat_map(|e| e.to.iter()) {
                    let message_id = format!(
                        "<orchestrator.{}.{}@{host}>",
                        message.kind.replace('_', "-"),
                        crate::random::random_hex(8)
                    );
                    outgoing.push(one(to, &message_id));
                }
            }
            other => {
                let named = notify::recipient_of(channels, other).unwrap_or_default();
                outgoing.push(one(&named_without_secrets(&named), &key));
            }
        }
    }
    outgoing
}

/// A URL's scheme and host; other names as they are (they hold no secret).
fn named_without_secrets(recipient: &str) -> String {
    if recipient.contains("://") {
        notify::origin(recipient)
    } else {
        recipient.to_string()
    }
}

/// The domain of the From address, for Message-IDs: `orchestrator@host.example` → `host.example`.
fn host_name_of(from: &str) -> String {
    let domain: String = from
        .rsplit('@')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    if domain.is_empty() {
        "localhost".into()
    } else {
        domain
    }
}

fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    format!("webhook {host}")
}

/// Where stamps live: systemd's `$RUNTIME_DIRECTORY`, else /run/orchestrator for root, else
/// `$XDG_RUNTIME_DIR/orchestrator`, else the temporary directory.
fn runtime_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("RUNTIME_DIRECTORY").filter(|d| !d.is_empty()) {
        // systemd may list several, separated by colons; the first is ours.
        let first = dir
            .to_string_lossy()
            .split(':')
            .next()
            .unwrap_or("")
            .to_string();
        return PathBuf::from(first);
    }
    if crate::sys::is_root() {
        return PathBuf::from("/run/orchestrator");
    }
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(|d| PathBuf::from(d).join("orchestrator"))
        .unwrap_or_else(|| {
            let uid = crate::sys::euid();
            std::env::temp_dir().join(format!("orchestrator-{uid}"))
        })
}

fn stamp_path(name: &str) -> PathBuf {
    runtime_dir().join(format!("{name}.stamp"))
}

/// One stamp per database: two instances on one host do not silence each other.
fn db_key(db: &Path) -> String {
    use sha2::{Digest, Sha256};
    let absolute = std::path::absolute(db).unwrap_or_else(|_| db.to_path_buf());
    let digest = Sha256::digest(absolute.as_os_str().as_encoded_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn last_sent(stamp: &Path) -> Option<f64> {
    std::fs::read_to_string(stamp).ok()?.trim().parse().ok()
}

fn sent_within(stamp: &Path, secs: f64) -> bool {
    last_sent(stamp).is_some_and(|at| now() - at < secs)
}

/// Written only when it can be: a stamp that cannot be written means the next run sends
/// again, which is better than telling nobody.
fn write_stamp(stamp: &Path) {
    let written = stamp
        .parent()
        .map_or(Ok(()), |dir| {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
        })
        .and_then(|()| std::fs::write(stamp, format!("{}\n", now())));
    if let Err(e) = written {
        log::warn!(
            "cannot write {} ({e}): the next run sends again",
            stamp.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, status: Status, summary: &str) -> CheckLine {
        CheckLine {
            name: name.into(),
            kind: "disk",
            status,
            summary: summary.into(),
            duration_ms: 1,
            incident: None,
            change: None,
            silenced: None,
            pending: None,
        }
    }

    #[test]
    fn the_message_names_the_state_problem_and_only_the_failing_checks() {
        let checks = [
            line("root-disk", Status::Ok, "12% used"),
            line("state-disk", Status::Critical, "/var/lib 100% used"),
            line("web", Status::Warning, "slow answer"),
        ];
        let (subject, body) = compose("web01", "cannot write: disk full", &checks);
        assert!(subject.contains("web01") && subject.contains("2 failing check(s)"));
        assert!(subject.contains("unrecorded"), "{subject}");
        assert!(
            body.contains("State:     cannot write: disk full"),
            "{body}"
        );
        assert!(
            body.contains("critical  state-disk: /var/lib 100% used"),
            "{body}"
        );
        assert!(body.contains("warning   web: slow answer"), "{body}");
        assert!(!body.contains("root-disk"), "{body}");
        assert!(body.contains("NOT RECORDED"), "{body}");
    }

    #[test]
    fn a_storage_failure_is_told_apart_from_other_errors() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        let err = anyhow::Error::from(StoreError::Sql(full)).context("recording");
        assert!(storage_failure(&err).is_some_and(|s| s.contains("full")));
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(storage_failure(&StoreError::Sql(busy).into()).is_none());
        assert!(storage_failure(&anyhow::anyhow!("an agent failed")).is_none());
        let lock = LockError::Io {
            path: "/x.lock".into(),
            cause: std::io::Error::from_raw_os_error(libc::EROFS),
        };
        assert!(storage_failure(&lock.into()).is_some());
    }

    #[test]
    fn a_webhook_recipient_is_named_without_its_credentials() {
        assert_eq!(
            url_host("https://user:secret@am.example:9093/api/v2/alerts"),
            "webhook am.example:9093"
        );
        assert_eq!(
            host_name_of("Orchestrator <orch@web01.example>"),
            "web01.example"
        );
        assert_eq!(
            file_safe("orchestrator.service/../x"),
            "orchestrator.service_.._x"
        );
    }
}
