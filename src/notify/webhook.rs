//! Alertmanager's webhook format: POST a JSON list of alerts to `/api/v2/alerts`; an alert
//! with `endsAt` in the past resolves it. Alertmanager then groups, routes and pages.

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

pub fn post_webhook(url: &str, payload: &str) -> Result<(), NotifyError> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    match agent
        .post(url)
        .set("Content-Type", "application/json")
        .send_string(payload)
    {
        Ok(_) => Ok(()),
        Err(ureq::Error::Status(code, response)) => {
            let text: String = response
                .into_string()
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect();
            let error = format!("{url} answered {code}: {text}");
            // 4xx other than 408/429 means our request is wrong; retrying cannot help.
            if (400..500).contains(&code) && code != 408 && code != 429 {
                Err(NotifyError::Permanent(error))
            } else {
                Err(NotifyError::Transient(error))
            }
        }
        Err(ureq::Error::Transport(err)) => Err(NotifyError::Transient(format!("{url}: {err}"))),
    }
}
