//! Alertmanager's webhook format: POST a JSON list of alerts to `/api/v2/alerts`; an alert
//! with `endsAt` in the past resolves it. Alertmanager then groups, routes and pages.
//!
//! Alertmanager resolves an alert nobody re-posts: at its `endsAt`, or after its
//! `resolve_timeout` when it has none. So a firing alert is posted again on every delivery run
//! while its escalation is open, each time with `endsAt` a little past the next run; the
//! labels stay the same, so Alertmanager sees one alert (its fingerprint is the label set).

use super::NotifyError;
use crate::clock::{now, rfc3339};
use crate::store::Incident;
use serde_json::{json, Value};
use std::time::Duration;

/// One alert for an incident; `resolved` sets `endsAt` to now.
pub fn alert_payload(
    host: &str,
    incident: &Incident,
    reason: &str,
    link: &str,
    resolved: bool,
) -> Value {
    let mut alert = json!({
        "labels": {
            "alertname": "OrchestratorEscalation",
            "instance": host,
            "check": incident.check,
            "severity": incident.severity,
            "incident": incident.id.to_string(),
            "service": "orchestrator",
        },
        "annotations": {
            "summary": format!("{} on {host}: {}", incident.check, incident.summary),
            "description": reason,
            "dashboard": link,
        },
        "startsAt": rfc3339(incident.detected_at),
        "generatorURL": link,
    });
    if resolved {
        alert["endsAt"] = json!(rfc3339(now()));
    }
    json!([alert])
}

/// The alert's identity, stored as the notification's idempotency key: Alertmanager knows an
/// alert by its labels.
pub fn alert_key(payload: &serde_json::Value) -> String {
    payload[0]["labels"].to_string()
}

/// The stored payload as it goes out now: a firing alert lasts until `lasts` from now (zero:
/// no `endsAt`, Alertmanager's `resolve_timeout` decides); a resolved one keeps its `endsAt`.
pub fn payload_now(stored: &str, lasts: Duration) -> String {
    let Ok(mut alerts) = serde_json::from_str::<Value>(stored) else {
        return stored.to_string();
    };
    for alert in alerts.as_array_mut().into_iter().flatten() {
        if alert.get("endsAt").is_none() && !lasts.is_zero() {
            alert["endsAt"] = json!(rfc3339(now() + lasts.as_secs_f64()));
        }
    }
    alerts.to_string()
}

/// POSTs `payload`; `deadline` bounds the whole request (connect, send, answer).
pub fn post_webhook(url: &str, payload: &str, deadline: Duration) -> Result<(), NotifyError> {
    // A 4xx/5xx is an answer whose words we keep, so statuses are not turned into errors.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(deadline))
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(payload)
        .map_err(|err| NotifyError::Transient(format!("{url}: {}", cause_of(&err, deadline))))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let code = status.as_u16();
    let error = format!("{url} answered {code}: {}", excerpt(response));
    // 4xx other than 408/429 means our request is wrong; retrying cannot help.
    if status.is_client_error() && code != 408 && code != 429 {
        Err(NotifyError::Permanent(error))
    } else {
        Err(NotifyError::Transient(error))
    }
}

/// ureq names the kind before an I/O cause ("io: Connection refused"); keep the cause only.
fn cause_of(err: &ureq::Error, deadline: Duration) -> String {
    match err {
        ureq::Error::Io(io) => io.to_string(),
        ureq::Error::Timeout(_) => format!("no answer within {deadline:?}"),
        other => other.to_string(),
    }
}

/// The first 200 characters of an error answer, reading no more than 4 KiB of it.
fn excerpt(response: ureq::http::Response<ureq::Body>) -> String {
    use std::io::Read;
    let mut body = Vec::new();
    let _ = response
        .into_body()
        .into_reader()
        .take(4096)
        .read_to_end(&mut body);
    String::from_utf8_lossy(&body).chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_firing_alert_goes_out_with_ends_at_ahead_and_a_resolved_one_keeps_its_own() {
        let firing = r#"[{"labels":{"incident":"1"},"startsAt":"2026-01-01T00:00:00Z"}]"#;
        let sent: Value =
            serde_json::from_str(&payload_now(firing, Duration::from_secs(900))).unwrap();
        let ends = sent[0]["endsAt"].as_str().unwrap().to_string();
        assert!(
            ends > rfc3339(now() + 890.0) && ends <= rfc3339(now() + 900.0),
            "{ends}"
        );
        let unbounded: Value = serde_json::from_str(&payload_now(firing, Duration::ZERO)).unwrap();
        assert!(unbounded[0].get("endsAt").is_none());
        let resolved = r#"[{"labels":{"incident":"1"},"endsAt":"2026-01-01T00:05:00Z"}]"#;
        let sent: Value =
            serde_json::from_str(&payload_now(resolved, Duration::from_secs(900))).unwrap();
        assert_eq!(sent[0]["endsAt"], "2026-01-01T00:05:00Z");
    }

    #[test]
    fn the_alert_key_is_its_label_set() {
        let payload = json!([{"labels": {"alertname": "A", "incident": "7"}}]);
        assert_eq!(alert_key(&payload), r#"{"alertname":"A","incident":"7"}"#);
    }
}
