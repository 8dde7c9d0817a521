//! Alertmanager's webhook format: POST a JSON list of alerts to `/api/v2/alerts`; an alert
//! with `endsAt` in the past resolves it. Alertmanager then groups, routes and pages.
//!
//! Alertmanager resolves an alert nobody re-posts: at its `endsAt`, or after its
//! `resolve_timeout` when it has none. So a firing alert is posted again on every delivery run
//! while its escalation is open, each time with `endsAt` a little past the next run; the
//! labels stay the same, so Alertmanager sees one alert (its fingerprint is the label set).

use super::{http, NotifyError};
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

/// Several stored alert lists as one list: one POST carries every alert of a group, or every
/// firing alert a run re-posts.
pub fn merged<'a>(payloads: impl IntoIterator<Item = &'a str>) -> String {
    let mut alerts = Vec::new();
    for payload in payloads {
        match serde_json::from_str::<Value>(payload) {
            Ok(Value::Array(list)) => alerts.extend(list),
            Ok(one) => alerts.push(one),
            // Stored text that is not JSON cannot be an alert: left out, never sent as garbage.
            Err(_) => {}
        }
    }
    Value::Array(alerts).to_string()
}

/// POSTs `payload`; `deadline` bounds the whole request (connect, send, answer).
pub fn post_webhook(url: &str, payload: &str, deadline: Duration) -> Result<(), NotifyError> {
    let request = http::Request {
        method: http::Method::Post,
        url,
        shown: url,
        headers: vec![("Content-Type", "application/json".into())],
        body: payload,
    };
    http::send(&request, deadline)
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
    fn alerts_of_a_group_go_out_as_one_list() {
        let one = r#"[{"labels":{"incident":"1"}}]"#;
        let two = r#"[{"labels":{"incident":"2"}}]"#;
        let list: Value = serde_json::from_str(&merged([one, two, "garbage"])).unwrap();
        assert_eq!(list.as_array().unwrap().len(), 2);
        assert_eq!(list[1]["labels"]["incident"], "2");
    }

    #[test]
    fn the_alert_key_is_its_label_set() {
        let payload = json!([{"labels": {"alertname": "A", "incident": "7"}}]);
        assert_eq!(alert_key(&payload), r#"{"alertname":"A","incident":"7"}"#);
    }
}
