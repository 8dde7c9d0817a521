//! The dashboard's pages, rendered on the server from a read-only connection.

use super::html::{badge, esc, opt_time, page, table, time};
use crate::actions::Plan;
use crate::metrics::Metrics;
use crate::model::IncidentStatus;
use crate::store::{Incident, IncidentFilter, Store, StoreError, Taught};

fn incident_link(incident: &Incident) -> String {
    format!("<a href=\"/incidents/{0}\">#{0}</a>", incident.id)
}

fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn card(value: &str, label: &str) -> String {
    format!(
        "<div class=\"card\"><div class=\"value\">{}</div><div class=\"label\">{}</div></div>",
        esc(value),
        esc(label)
    )
}

pub fn overview(store: &Store, m: &Metrics) -> Result<String, StoreError> {
    let cards = [
        card(&percent(m.auto_fix_rate), "auto-fix rate (7d)"),
        card(&percent(m.escalation_rate), "escalation rate (7d)"),
        card(&m.detected.to_string(), "incidents detected (7d)"),
        card(&m.auto_fixed.to_string(), "fixed without a person"),
        card(&m.patterns_total.to_string(), "learned patterns"),
    ]
    .concat();
    let escalations: Vec<Vec<String>> = store
        .open_escalations(50)?
        .iter()
        .filter_map(|e| store.incident(e.incident).ok().map(|i| (e, i)))
        .map(|(e, i)| {
            let held = if e.held_plan.is_some() && e.decision.is_none() {
                format!(" {}", badge("held"))
            } else {
                String::new()
            };
            vec![
                incident_link(&i),
                esc(&i.check),
                badge(&e.status) + &held,
                esc(&e.reason),
                time(e.created_at),
            ]
        })
        .collect();
    let active = IncidentFilter {
        status: Some(IncidentStatus::Open),
        limit: Some(50),
        ..IncidentFilter::default()
    };
    let in_progress: Vec<Vec<String>> = store
        .incidents(&active)?
        .iter()
        .map(|i| {
            vec![
                incident_link(i),
                esc(&i.check),
                format!("phase {}", i.phase),
                badge(i.severity.as_str()),
                esc(&i.summary),
                time(i.detected_at),
            ]
        })
        .collect();
    let fixed = IncidentFilter {
        status: Some(IncidentStatus::Resolved),
        limit: Some(15),
        ..IncidentFilter::default()
    };
    let recent: Vec<Vec<String>> = store
        .incidents(&fixed)?
        .iter()
        .map(|i| {
            let phase = i
                .resolved_phase
                .map(|p| format!("phase {p}"))
                .unwrap_or_default();
            vec![
                incident_link(i),
                esc(&i.check),
                esc(&phase),
                esc(i.resolved_by.as_deref().unwrap_or("")),
                esc(&i.summary),
                opt_time(i.resolved_at),
            ]
        })
        .collect();
    let body = format!(
        "<h1>Overview</h1><div class=\"cards\">{cards}</div>\
         <h2>Open escalations</h2>{}<h2>Incidents in progress</h2>{}<h2>Recent fixes</h2>{}",
        table(
            &[
                "Incident",
                "Check",
                "Status",
                "Why a person is needed",
                "Since"
            ],
            &escalations,
            "No open escalations. Nobody needs to be woken up."
        ),
        table(
            &["Incident", "Check", "Phase", "Severity", "Summary", "Detected"],
            &in_progress,
            "No incident is being worked on."
        ),
        table(
            &["Incident", "Check", "Fixed in", "By", "Summary", "Resolved"],
            &recent,
            "No fixes yet."
        ),
    );
    Ok(page("Overview", &body))
}

pub fn incidents(store: &Store) -> Result<String, StoreError> {
    let rows: Vec<Vec<String>> = store
        .incidents(&IncidentFilter {
            limit: Some(200),
            ..IncidentFilter::default()
        })?
        .iter()
        .map(|i| {
            vec![
                incident_link(i),
                badge(i.status.as_str()),
                i.phase.to_string(),
                badge(i.severity.as_str()),
                esc(&i.check),
                i.occurrences.to_string(),
                esc(&i.summary),
                time(i.detected_at),
            ]
        })
        .collect();
    let body = format!(
        "<h1>Incidents</h1>{}",
        table(
            &["Incident", "Status", "Phase", "Severity", "Check", "Seen", "Summary", "Detected"],
            &rows,
            "No incidents."
        )
    );
    Ok(page("Incidents", &body))
}

pub fn incident(store: &Store, id: i64, csrf: &str) -> Result<String, StoreError> {
    let incident = store.incident(id)?;
    let facts = format!(
        "<dl class=\"facts\"><dt>Status</dt><dd>{} phase {}{}</dd><dt>Check</dt><dd>{}</dd><dt>Severity</dt><dd>{}</dd>\
         <dt>Summary</dt><dd>{}</dd><dt>Signature</dt><dd><code>{}</code></dd><dt>Seen</dt><dd>{} times, first {}, last {}</dd>\
         <dt>Closed</dt><dd>{} {}</dd><dt>Why here</dt><dd>{}</dd></dl>",
        badge(incident.status.as_str()),
        incident.phase,
        if incident.flapping { format!(" {}", badge("flapping")) } else { String::new() },
        esc(&incident.check),
        badge(incident.severity.as_str()),
        esc(&incident.summary),
        esc(&incident.signature),
        incident.occurrences,
        time(incident.detected_at),
        time(incident.last_seen_at),
        opt_time(incident.resolved_at),
        esc(incident.resolved_by.as_deref().unwrap_or("")),
        esc(incident.handoff.as_deref().unwrap_or("—")),
    );
    let evidence = if incident.evidence.is_empty() {
        String::new()
    } else {
        format!("<h2>Evidence</h2><pre>{}</pre>", esc(&incident.evidence))
    };
    let body = format!(
        "<h1>Incident #{id}: {}</h1>{facts}{}{evidence}{}<h2>Timeline</h2>{}<h2>Attempts</h2>{}<h2>Agent votes</h2>{}<h2>Notifications</h2>{}",
        esc(&incident.check),
        actions(store, &incident, csrf)?,
        host_facts(store, id)?,
        timeline(store, id)?,
        attempts(store, id)?,
        votes(store, id)?,
        notifications(store, id)?,
    );
    Ok(page(&format!("Incident {id}"), &body))
}

/// What was probed on the host before agents were asked (src/facts.rs), if anything was.
fn host_facts(store: &Store, id: i64) -> Result<String, StoreError> {
    let Some(facts) = store
        .facts_of(id)?
        .as_ref()
        .and_then(crate::facts::from_value)
    else {
        return Ok(String::new());
    };
    let items: String = crate::facts::describe(&facts)
        .iter()
        .map(|line| format!("<li>{}</li>", esc(line)))
        .collect();
    let lines = if facts.error_lines.is_empty() {
        String::new()
    } else {
        format!("<pre>{}</pre>", esc(&facts.error_lines.join("\n")))
    };
    Ok(format!(
        "<h2>Host facts</h2><ul class=\"host-facts\">{items}</ul>{lines}"
    ))
}

fn hidden_csrf(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(csrf)
    )
}

/// The forms a person can use: acknowledge, approve or dismiss a held plan, resolve.
fn actions(store: &Store, incident: &Incident, csrf: &str) -> Result<String, StoreError> {
    if !incident.status.is_active() {
        return Ok(String::new());
    }
    let id = incident.id;
    let token = hidden_csrf(csrf);
    let mut out = String::from("<h2>Act</h2>");
    if let Some(held) = store
        .held_plan(id)?
        .filter(|h| h.decision.is_none() && h.executed_at.is_none())
    {
        out.push_str(&format!(
            "<div class=\"notice\"><p>A plan from <b>{}</b> waits for approval: <code>{}</code></p>\
             <p>Approving records your decision; the next <code>orchestrator fix</code> runs and verifies the plan (the dashboard never acts on the host).</p>\
             <form class=\"inline\" method=\"post\" action=\"/incidents/{id}/approve\">{token}<button>Approve plan</button></form>\
             <form class=\"inline\" method=\"post\" action=\"/incidents/{id}/dismiss\">{token}<button class=\"secondary\">Dismiss plan</button></form></div>",
            esc(&held.source),
            // Plans are stored as they must run; a password in an argv is masked for display.
            esc(&store.mask(&Plan::describe_stored_text(&held.plan))),
        ));
    }
    if store.escalation_of(id)?.is_some_and(|e| e.status == "open") {
        out.push_str(&format!(
            "<form class=\"inline\" method=\"post\" action=\"/incidents/{id}/ack\">{token}<button class=\"secondary\">Acknowledge</button></form>"
        ));
    }
    out.push_str(&format!(
        "<form class=\"block\" method=\"post\" action=\"/incidents/{id}/resolve\">{token}\
         <label>What was wrong and what you did<input type=\"text\" name=\"note\" required></label>\
         <label>The plan that fixed it (optional JSON; judged by [policy], then learned for next time)\
         <textarea name=\"plan\" rows=\"3\" placeholder='[{{\"action\": \"restart_unit\"}}]'></textarea></label>\
         <button>Resolve</button></form>"
    ));
    Ok(out)
}

fn timeline(store: &Store, id: i64) -> Result<String, StoreError> {
    let rows: Vec<Vec<String>> = store
        .events(id)?
        .iter()
        .map(|e| vec![time(e.at), esc(&e.kind), esc(&e.detail)])
        .collect();
    Ok(table(&["When", "What", "Detail"], &rows, "No events."))
}

fn attempts(store: &Store, id: i64) -> Result<String, StoreError> {
    let rows: Vec<Vec<String>> = store
        .attempts(id)?
        .iter()
        .map(|a| {
            let output = if a.output.is_empty() {
                String::new()
            } else {
                format!(
                    "<details><summary>output</summary><pre>{}</pre></details>",
                    esc(&a.output)
                )
            };
            vec![
                a.phase.to_string(),
                esc(&a.source),
                format!(
                    "<code>{}</code>",
                    esc(&store.mask(&Plan::describe_stored(&a.plan)))
                ),
                badge(&a.outcome),
                format!("{}{output}", esc(&a.reason)),
                time(a.started_at),
            ]
        })
        .collect();
    Ok(table(
        &["Phase", "Source", "Plan", "Outcome", "Reason", "Started"],
        &rows,
        "No plan was run.",
    ))
}

fn votes(store: &Store, id: i64) -> Result<String, StoreError> {
    let rows: Vec<Vec<String>> = store
        .consultations(id)?
        .iter()
        .map(|v| {
            let plan = v
                .plan
                .as_ref()
                .map(Plan::describe_stored)
                .unwrap_or_default();
            vec![
                v.phase.to_string(),
                esc(&v.agent),
                badge(&v.vote),
                esc(v.agreement.as_deref().unwrap_or("")),
                esc(&v.diagnosis),
                format!("<code>{}</code>", esc(&plan)),
                v.confidence.map(|c| format!("{c:.2}")).unwrap_or_default(),
                format!("{} ms", v.latency_ms),
                esc(v.error.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    Ok(table(
        &[
            "Phase",
            "Agent",
            "Vote",
            "Agreement",
            "Diagnosis",
            "Plan",
            "Confidence",
            "Latency",
            "Why",
        ],
        &rows,
        "No agent was asked.",
    ))
}

fn notifications(store: &Store, id: i64) -> Result<String, StoreError> {
    let rows: Vec<Vec<String>> = store
        .notifications_of(id)?
        .iter()
        .map(|n| {
            vec![
                esc(&n.kind),
                esc(&n.channel),
                esc(&n.recipient),
                badge(&n.status),
                n.tries.to_string(),
                // A failed one keeps the server's refusal here, word for word.
                esc(n.last_error.as_deref().unwrap_or("")),
                opt_time(n.sent_at),
                esc(if n.channel == "email" {
                    &n.idempotency_key
                } else {
                    ""
                }),
            ]
        })
        .collect();
    Ok(table(
        &[
            "Kind",
            "Channel",
            "To",
            "Status",
            "Tries",
            "Last error",
            "Sent",
            "Message-ID",
        ],
        &rows,
        "No notification.",
    ))
}

pub fn patterns(store: &Store) -> Result<String, StoreError> {
    let rows: Vec<Vec<String>> = store
        .patterns()?
        .iter()
        .map(|p| {
            vec![
                p.id.to_string(),
                esc(&p.check),
                format!("<code>{}</code>", esc(&p.signature)),
                format!(
                    "<code>{}</code>",
                    esc(&store.mask(&Plan::describe_stored_text(&p.plan)))
                ),
                format!("phase {}", p.source_phase),
                taught(p.taught).to_string(),
                p.successes.to_string(),
                p.failures.to_string(),
                opt_time(p.last_used_at),
            ]
        })
        .collect();
    let body = format!(
        "<h1>Learned patterns</h1><p>Every verified fix becomes a pattern; phase 1 tries them first, best record first.</p>{}",
        table(&["#", "Check", "Signature", "Plan", "Learned in", "Vouched for by", "Worked", "Failed", "Last used"], &rows, "Nothing learned yet.")
    );
    Ok(page("Patterns", &body))
}

/// Who vouched for a pattern's plan, which decides how phase 1 judges its replay.
fn taught(taught: Taught) -> &'static str {
    match taught {
        Taught::Unattended => "[policy]",
        Taught::Person => "a person",
        Taught::OutsidePolicy => "root, outside [policy]",
    }
}

pub fn checks(store: &Store) -> Result<String, StoreError> {
    let rows: Vec<Vec<String>> = store
        .check_states()?
        .iter()
        .map(|c| {
            vec![
                esc(&c.name),
                esc(&c.kind),
                badge(&c.status),
                esc(&c.summary),
                format!("{} ms", c.duration_ms),
                time(c.checked_at),
                opt_time(c.last_ok_at),
            ]
        })
        .collect();
    let body = format!(
        "<h1>Checks</h1>{}",
        table(
            &[
                "Check",
                "Kind",
                "Status",
                "Summary",
                "Took",
                "Checked",
                "Last healthy scan"
            ],
            &rows,
            "No check has run yet."
        )
    );
    Ok(page("Checks", &body))
}

pub fn login(message: &str) -> String {
    let note = if message.is_empty() {
        String::new()
    } else {
        format!("<p class=\"notice\">{}</p>", esc(message))
    };
    page(
        "Log in",
        &format!(
            "<h1>Log in</h1>{note}<form class=\"block\" method=\"post\" action=\"/login\">\
             <label>Dashboard token<input type=\"password\" name=\"token\" autofocus required></label><button>Log in</button></form>"
        ),
    )
}
