//! The dashboard's pages, rendered on the server from a read-only connection. maud escapes
//! every value written into them.

use super::charts;
use super::html::{badge, badge_class, hidden_csrf, opt_time, page, table, time, Frame, Refresh};
use super::listing::{IncidentList, PAGE_SIZE};
use crate::actions::Plan;
use crate::metrics::Metrics;
use crate::model::{IncidentStatus, NotificationStatus};
use crate::store::{
    DayOutcomes, Escalation, Incident, IncidentFilter, NeedsPerson, Silence, Store, StoreError,
    Undelivered,
};
use maud::{html, Markup};

fn incident_link(id: i64) -> Markup {
    html! { a href={ "/incidents/" (id) } { "#" (id) } }
}

fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn card(value: &str, label: &str) -> Markup {
    html! { div.card { div.value { (value) } div.label { (label) } } }
}

fn code(text: &str) -> Markup {
    html! { code { (text) } }
}

fn text(text: &str) -> Markup {
    html! { (text) }
}

/// Who acknowledged an escalation, when, and what they wrote.
fn acknowledgement(escalation: &Escalation) -> Markup {
    html! {
        @match (&escalation.acknowledged_by, escalation.acknowledged_at) {
            (Some(by), Some(at)) => {
                "by " b { (by) } " " (time(at))
                @if let Some(note) = &escalation.note { ": " (note) }
            }
            _ => { "not yet" }
        }
    }
}

/// The overview. Its first screen answers the 3 am question, what is broken and who is on
/// it: each incident that needs a person, worst first, with its check, severity colour,
/// summary, since when, who acknowledged it and any message that did not get through. Below:
/// what the phases are working on, then the week's rates, the 30 days' pictures (`per_day`
/// holds the incidents of the 30 days up to `today` by outcome) and recent fixes.
pub fn overview(
    store: &Store,
    m: &Metrics,
    per_day: &[DayOutcomes],
    today: i64,
    frame: &Frame,
) -> Result<String, StoreError> {
    let silences = store.silences(false, None)?;
    let needs = store.needs_a_person(NEEDS_SHOWN)?;
    let waiting: Vec<i64> = needs.iter().map(|n| n.incident).collect();
    let cards = html! {
        div.cards {
            (card(&percent(m.auto_fix_rate), "auto-fix rate (7d)"))
            (card(&percent(m.escalation_rate), "escalation rate (7d)"))
            (card(&m.detected.to_string(), "incidents detected (7d)"))
            (card(&m.auto_fixed.to_string(), "fixed without a person"))
            (card(&m.patterns_total.to_string(), "learned patterns"))
        }
    };
    let active = IncidentFilter {
        status: Some(IncidentStatus::Open),
        limit: Some(50),
        ..IncidentFilter::default()
    };
    let in_progress: Vec<Vec<Markup>> = store
        .incidents(&active)?
        .iter()
        // A plan held for approval is an escalation: it is listed above.
        .filter(|i| !waiting.contains(&i.id))
        .map(|i| {
            vec![
                incident_link(i.id),
                html! { (i.check) (silenced_badge(&silences, &i.check)) },
                badge(i.severity.as_str()),
                summary(&i.summary),
                text(&format!("phase {}", i.phase)),
                time(i.detected_at),
            ]
        })
        .collect();
    let fixed = IncidentFilter {
        status: Some(IncidentStatus::Resolved),
        limit: Some(15),
        ..IncidentFilter::default()
    };
    let recent: Vec<Vec<Markup>> = store
        .incidents(&fixed)?
        .iter()
        .map(|i| {
            let phase = i
                .resolved_phase
                .map(|p| format!("phase {p}"))
                .unwrap_or_default();
            vec![
                incident_link(i.id),
                text(&i.check),
                summary(&i.summary),
                text(&phase),
                text(i.resolved_by.as_deref().unwrap_or("")),
                opt_time(i.resolved_at),
            ]
        })
        .collect();
    let body = html! {
        (breaker_notice(&m.circuit_breaker))
        (needs_a_person(&needs, &silences))
        h2 { "Being worked on" }
        (table(&["Incident", "Check", "Severity", "Summary", "Phase", "Detected"],
            in_progress, "No incident is being worked on."))
        h2 { "Last 7 days" }
        (cards)
        h2 { "Incidents per day, last 30 days" }
        (charts::outcomes(per_day, today))
        h2 { "Auto-fix ratio, last 30 days" }
        (charts::auto_fix_trend(per_day, today))
        h2 { "Recent fixes" }
        (table(&["Incident", "Check", "Summary", "Fixed in", "By", "Resolved"],
            recent, "No fixes yet."))
        h2 { "Agents' track record, last 7 days" }
        (agent_records(m))
    };
    Ok(page(frame, "Overview", Refresh::Every30s, body))
}

/// A red line while `[policy] budget` is reached: new plans wait for a person's approval.
fn breaker_notice(breaker: &crate::store::Breaker) -> Markup {
    html! {
        @if breaker.open {
            div.notice.breaker {
                b { "Circuit breaker open: " }
                "new plans are held for a person's approval ([policy] budget). "
                (breaker.reasons.join("; "))
            }
        }
    }
}

/// How many incidents needing a person the overview lists (the incident list has them all).
const NEEDS_SHOWN: i64 = 50;

/// The overview's head: one card per incident a person must look at, worst first, its left
/// edge in the severity's colour; or, when there is none, a line that says so.
fn needs_a_person(needs: &[NeedsPerson], silences: &[Silence]) -> Markup {
    if needs.is_empty() {
        return html! {
            h1.allclear { "Nothing needs a person now" }
        };
    }
    html! {
        h1 { "Needs a person now " span.count { "(" (needs.len()) ")" } }
        ul.needs {
            @for need in needs { (need_card(need, silences)) }
        }
        @if needs.len() as i64 == NEEDS_SHOWN {
            p { a href="/incidents?status=active" { "Every active incident" } }
        }
    }
}

fn need_card(need: &NeedsPerson, silences: &[Silence]) -> Markup {
    let escalation = &need.escalation;
    let held = escalation.held_plan.is_some() && escalation.decision.is_none();
    html! {
        li class={ "need " (badge_class(need.severity.as_str())) } {
            div.what {
                a.check href={ "/incidents/" (need.incident) } { (need.check) }
                " " (badge(need.severity.as_str()))
                @if held { " " (badge("held")) }
                @if need.flapping { " " (badge("flapping")) }
                (silenced_badge(silences, &need.check))
                " " span.id { "#" (need.incident) }
            }
            p.summary { (need.summary) }
            p.when {
                "since " (time(need.detected_at))
                " · "
                @match (&escalation.acknowledged_by, escalation.acknowledged_at) {
                    (Some(by), Some(at)) => {
                        span.acked { "acknowledged by " b { (by) } " " (time(at)) }
                        @if let Some(note) = &escalation.note { ": " (note) }
                    }
                    _ => { b.unacked { "nobody has acknowledged it" } }
                }
            }
            @if held { p.held { "A plan waits for your approval: " a href={ "/incidents/" (need.incident) } { "approve or dismiss it" } } }
            @for failure in &need.undelivered { p.undelivered { (undelivered(failure)) } }
            details.why { summary { "Why a person is needed" } p { (escalation.reason) } }
        }
    }
}

/// `email to ops@example.com failed: 550 …`, or `… not sent yet after 3 tries: …`.
fn undelivered(failure: &Undelivered) -> String {
    let state = match failure.status {
        NotificationStatus::Failed => "failed".to_string(),
        _ => format!("not sent yet after {} tries", failure.tries),
    };
    let error = failure
        .last_error
        .as_deref()
        .map(|e| format!(": {e}"))
        .unwrap_or_default();
    format!(
        "{} to {} {state}{error}",
        failure.channel, failure.recipient
    )
}

/// A summary, allowed to break anywhere on a narrow screen (URLs, paths).
fn summary(text: &str) -> Markup {
    html! { span.summary { (text) } }
}

/// The silence in force over `check` (one on the check, or one on all checks), if any: the
/// one lasting longest when several do, as `Store::silence_of` picks it for the phases.
fn silence_over<'a>(silences: &'a [Silence], check: &str) -> Option<&'a Silence> {
    silences
        .iter()
        .filter(|s| s.state == "active" && s.check.as_deref().is_none_or(|name| name == check))
        .max_by(|a, b| a.ends_at.total_cmp(&b.ends_at))
}

/// A grey "silenced" badge whose tooltip says who, why and until when: no phase acts on the
/// incident and nobody is notified while it lasts.
fn silenced_badge(silences: &[Silence], check: &str) -> Markup {
    html! {
        @if let Some(silence) = silence_over(silences, check) {
            " " span.badge.muted title=(silence.describe()) { "silenced" }
        }
    }
}

pub fn incidents(store: &Store, list: &IncidentList, frame: &Frame) -> Result<String, StoreError> {
    let total = store.count_incidents(&list.filter())?;
    let rows: Vec<Vec<Markup>> = store
        .incidents(&list.filter())?
        .iter()
        .map(|i| {
            vec![
                incident_link(i.id),
                badge(i.status.as_str()),
                text(&i.phase.to_string()),
                badge(i.severity.as_str()),
                text(&i.check),
                text(&i.occurrences.to_string()),
                text(&i.summary),
                time(i.detected_at),
            ]
        })
        .collect();
    let pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    let body = html! {
        h1 { "Incidents" }
        nav.filters aria-label="status" {
            @for (word, label) in IncidentList::STATUSES {
                @let current = list.status_word() == word;
                a.current[current] href=(IncidentList { page: 1, ..*list }.with_status(word).url()) { (label) }
            }
        }
        (table(&["Incident", "Status", "Phase", "Severity", "Check", "Seen", "Summary", "Detected"],
            rows, "No incidents here."))
        nav.pages aria-label="pages" {
            @if list.page > 1 { a rel="prev" href=(IncidentList { page: list.page - 1, ..*list }.url()) { "← newer" } }
            span { "page " (list.page) " of " (pages.max(1)) ", " (total) " incidents" }
            @if list.page < pages { a rel="next" href=(IncidentList { page: list.page + 1, ..*list }.url()) { "older →" } }
        }
    };
    Ok(page(frame, "Incidents", Refresh::Every30s, body))
}

/// An incident's page; with `csrf` (a person logged in) the forms to decide on it.
pub fn incident(
    store: &Store,
    id: i64,
    csrf: Option<&str>,
    config: &crate::config::Config,
    frame: &Frame,
) -> Result<String, StoreError> {
    let incident = store.incident(id)?;
    let runbook = config
        .check(&incident.check)
        .and_then(|c| c.runbook.as_deref());
    let escalation = store.escalation_of(id)?;
    let facts = html! {
        dl.facts {
            dt { "Status" } dd { (badge(incident.status.as_str())) " phase " (incident.phase) @if incident.flapping { " " (badge("flapping")) } }
            dt { "Check" } dd { (incident.check) }
            dt { "Severity" } dd { (badge(incident.severity.as_str())) }
            dt { "Summary" } dd { (incident.summary) }
            dt { "Signature" } dd { code { (incident.signature) } }
            dt { "Seen" } dd { (incident.occurrences) " times, first " (time(incident.detected_at)) ", last " (time(incident.last_seen_at)) }
            dt { "Closed" } dd { (opt_time(incident.resolved_at)) " " (incident.resolved_by.as_deref().unwrap_or("")) }
            dt { "Why here" } dd { (incident.handoff.as_deref().unwrap_or("—")) }
            @if let Some(e) = &escalation { dt { "Acknowledged" } dd { (acknowledgement(e)) } }
            (chain(store, id)?)
        }
    };
    let body = html! {
        h1 { "Incident #" (id) ": " (incident.check) }
        (facts)
        (actions(store, &incident, escalation.as_ref(), csrf)?)
        @if let Some(runbook) = runbook {
            h2 { "Runbook" }
            p { "Written by the host's administrator for " code { (incident.check) } "; every agent gets it." }
            pre.runbook { (store.mask(runbook)) }
        }
        @if !incident.evidence.is_empty() { h2 { "Evidence" } pre { (incident.evidence) } }
        (host_facts(store, id)?)
        h2 { "Timeline" } (timeline(store, id)?)
        h2 { "Attempts" } (attempts(store, id)?)
        h2 { "Agent votes" } (votes(store, id)?)
        (diagnosis_feedback(store, id, csrf)?)
        h2 { "Notifications" } (notifications(store, id)?)
    };
    // No refresh: a person may be typing a note into the forms here.
    Ok(page(frame, &format!("Incident {id}"), Refresh::Never, body))
}

/// The incident's place in a chain of causes: `caused by #12 db`, `symptoms: #13 app`.
fn chain(store: &Store, id: i64) -> Result<Markup, StoreError> {
    let link = |other: &crate::store::Linked| {
        html! { (incident_link(other.id)) " " (other.check) " " (badge(&other.status)) }
    };
    let cause = store.cause_of(id)?;
    let symptoms = store.symptoms_of(id)?;
    Ok(html! {
        @if let Some(cause) = &cause { dt { "Caused by" } dd { (link(cause)) } }
        @if !symptoms.is_empty() {
            dt { "Symptoms" }
            dd { @for (i, symptom) in symptoms.iter().enumerate() { @if i > 0 { ", " } (link(symptom)) } }
        }
    })
}

/// What was probed on the host before agents were asked (src/facts/), if anything was.
fn host_facts(store: &Store, id: i64) -> Result<Markup, StoreError> {
    let Some(facts) = store
        .facts_of(id)?
        .as_ref()
        .and_then(crate::facts::from_value)
    else {
        return Ok(html! {});
    };
    Ok(html! {
        h2 { "Host facts" }
        ul.host-facts { @for line in crate::facts::describe(&facts) { li { (line) } } }
        @if !facts.error_lines.is_empty() { pre { (facts.error_lines.join("\n")) } }
    })
}

/// The forms a person can use: acknowledge, approve or dismiss a held plan, resolve. Without
/// `csrf` (nobody logged in) a held plan is shown, and where to log in instead of the forms.
fn actions(
    store: &Store,
    incident: &Incident,
    escalation: Option<&Escalation>,
    csrf: Option<&str>,
) -> Result<Markup, StoreError> {
    if !incident.status.is_active() {
        return Ok(html! {});
    }
    let id = incident.id;
    let held = store
        .held_plan(id)?
        .filter(|h| h.decision.is_none() && h.executed_at.is_none());
    let can_ack = escalation.is_some_and(|e| e.status == crate::model::EscalationStatus::Open);
    let held_notice = |held: &crate::store::HeldPlan| {
        html! {
            p { "A plan from " b { (held.source) } " waits for approval: "
                // Plans are stored as they must run; a password in an argv is masked for display.
                code { (store.mask(&Plan::describe_stored_text(&held.plan))) } }
        }
    };
    let Some(csrf) = csrf else {
        return Ok(html! {
            h2 { "Act" }
            @if let Some(held) = &held { div.notice { (held_notice(held)) } }
            p { a href="/login" { "Log in" } " to acknowledge, approve or resolve ("
                code { "orchestrator serve --login-link" } " prints a one-time link)." }
        });
    };
    Ok(html! {
        h2 { "Act" }
        @if let Some(held) = &held {
            div.notice {
                (held_notice(held))
                p { "Approving records your decision; the next " code { "orchestrator fix" } " runs and verifies the plan (the dashboard never acts on the host)." }
                form.inline method="post" action={ "/incidents/" (id) "/approve" } { (hidden_csrf(csrf)) button { "Approve plan" } }
                form.inline method="post" action={ "/incidents/" (id) "/dismiss" } { (hidden_csrf(csrf)) button.secondary { "Dismiss plan" } }
            }
        }
        @if can_ack {
            form.inline method="post" action={ "/incidents/" (id) "/ack" } {
                (hidden_csrf(csrf))
                input type="text" name="note" placeholder="note (optional): who is on it" aria-label="note";
                button.secondary { "Acknowledge" }
            }
        }
        form.block method="post" action={ "/incidents/" (id) "/resolve" } {
            (hidden_csrf(csrf))
            label { "What was wrong and what you did" input type="text" name="note" required; }
            label { "The plan that fixed it (optional JSON; judged by [policy], then learned for next time)"
                textarea name="plan" rows="3" placeholder="[{\"action\": \"restart_unit\"}]" {} }
            button { "Resolve" }
        }
    })
}

fn timeline(store: &Store, id: i64) -> Result<Markup, StoreError> {
    let rows: Vec<Vec<Markup>> = store
        .events(id)?
        .iter()
        .map(|e| vec![time(e.at), text(&e.kind), text(&e.detail)])
        .collect();
    Ok(table(&["When", "What", "Detail"], rows, "No events."))
}

fn attempts(store: &Store, id: i64) -> Result<Markup, StoreError> {
    let rows: Vec<Vec<Markup>> = store
        .attempts(id)?
        .iter()
        .map(|a| {
            vec![
                text(&a.phase.to_string()),
                text(&a.source),
                code(&store.mask(&Plan::describe_stored(&a.plan))),
                badge(&a.outcome),
                html! {
                    (a.reason)
                    @if !a.output.is_empty() { details { summary { "output" } pre { (a.output) } } }
                },
                time(a.started_at),
            ]
        })
        .collect();
    Ok(table(
        &["Phase", "Source", "Plan", "Outcome", "Reason", "Started"],
        rows,
        "No plan was run.",
    ))
}

/// Whether each agent's diagnosis was right, in a person's words, with the two buttons that
/// say so (the same token, CSRF and same-origin checks as every decision).
/// Each agent's verdict; with `csrf` (a person logged in) the buttons to give one.
fn diagnosis_feedback(store: &Store, id: i64, csrf: Option<&str>) -> Result<Markup, StoreError> {
    let mut agents: Vec<String> = store
        .consultations(id)?
        .into_iter()
        .map(|c| c.agent)
        .collect();
    agents.sort();
    agents.dedup();
    if agents.is_empty() {
        return Ok(html! {});
    }
    let verdicts = store.feedback_of(id)?;
    let rows: Vec<Vec<Markup>> = agents
        .iter()
        .map(|agent| {
            let given = verdicts.iter().find(|v| &v.agent == agent);
            vec![
                text(agent),
                match given {
                    Some(v) => html! { (badge(&v.verdict)) " by " (v.by) " " (time(v.at)) @if let Some(note) = &v.note { ": " (note) } },
                    None => text("not marked"),
                },
                match csrf {
                    Some(csrf) => html! {
                        @for (verdict, label) in [("good", "Right"), ("bad", "Wrong")] {
                            form.inline method="post" action={ "/incidents/" (id) "/feedback" } {
                                (hidden_csrf(csrf))
                                input type="hidden" name="agent" value=(agent);
                                input type="hidden" name="verdict" value=(verdict);
                                button.secondary { (label) }
                            }
                        }
                    },
                    None => html! { a href="/login" { "log in" } },
                },
            ]
        })
        .collect();
    Ok(html! {
        h2 { "Were the diagnoses right?" }
        p { "Your verdict goes into each agent's track record (metrics, /metrics, the overview)." }
        (table(&["Agent", "Verdict", "Mark it"], rows, ""))
    })
}

fn votes(store: &Store, id: i64) -> Result<Markup, StoreError> {
    let rows: Vec<Vec<Markup>> = store
        .consultations(id)?
        .iter()
        .map(|v| {
            let plan = v
                .plan
                .as_ref()
                .map(Plan::describe_stored)
                .unwrap_or_default();
            vec![
                text(&v.phase.to_string()),
                text(&v.agent),
                badge(&v.vote),
                text(v.agreement.as_deref().unwrap_or("")),
                text(&v.diagnosis),
                code(&plan),
                text(&v.confidence.map(|c| format!("{c:.2}")).unwrap_or_default()),
                text(&format!("{} ms", v.latency_ms)),
                text(&spent(v)),
                text(v.error.as_deref().unwrap_or("")),
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
            "Spent",
            "Why",
        ],
        rows,
        "No agent was asked.",
    ))
}

/// Tokens and cost of one answer, where the CLI reported them.
fn spent(vote: &crate::store::Consultation) -> String {
    let tokens = match (vote.input_tokens, vote.output_tokens) {
        (None, None) => None,
        (i, o) => Some(format!("{} tokens", i.unwrap_or(0) + o.unwrap_or(0))),
    };
    let cost = vote.cost_usd.map(|c| format!("${c:.4}"));
    [tokens, cost]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each agent's record over the overview's week.
fn agent_records(m: &Metrics) -> Markup {
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "—".into());
    let rows: Vec<Vec<Markup>> = m
        .agents
        .iter()
        .map(|a| {
            let r = &a.record;
            vec![
                text(&r.agent),
                text(&r.incidents.to_string()),
                text(&r.proposed.to_string()),
                text(&r.fixed.to_string()),
                text(&r.refused.to_string()),
                text(&r.abstained.to_string()),
                text(&format!("{} / {}", r.good, r.bad)),
                text(&or_dash(a.mean_seconds.map(|s| format!("{s:.1} s")))),
                text(&or_dash(a.tokens_per_incident.map(|t| format!("{t:.0}")))),
                text(&or_dash(
                    a.cost_usd_per_incident.map(|c| format!("${c:.4}")),
                )),
            ]
        })
        .collect();
    table(
        &[
            "Agent",
            "Incidents",
            "Proposed",
            "Fixed",
            "Refused",
            "Abstained",
            "Right / wrong",
            "Time per answer",
            "Tokens per incident",
            "Cost per incident",
        ],
        rows,
        "No agent was asked in 7 days.",
    )
}

fn notifications(store: &Store, id: i64) -> Result<Markup, StoreError> {
    let rows: Vec<Vec<Markup>> = store
        .notifications_of(id)?
        .iter()
        .map(|n| {
            vec![
                text(&n.kind),
                text(&n.channel),
                text(&n.recipient),
                badge(&n.status),
                text(&n.tries.to_string()),
                // A failed one keeps the server's refusal here, word for word.
                text(n.last_error.as_deref().unwrap_or("")),
                opt_time(n.sent_at),
                // A message's own key (Message-ID, txnId, …); an alert is known by its labels.
                text(if n.channel.keyed_per_message() {
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
            "Key",
        ],
        rows,
        "No notification.",
    ))
}

/// Results shown in each check's history strip.
const STRIP: i64 = 30;

pub fn checks(store: &Store, frame: &Frame) -> Result<String, StoreError> {
    let history = store.check_history(STRIP)?;
    let silences = store.silences(false, None)?;
    let rows: Vec<Vec<Markup>> = store
        .check_states()?
        .iter()
        .map(|c| {
            // Greyed (CSS `tr:has(.silenced)`), with who silenced it, why and until when.
            let silenced = silence_over(&silences, &c.name).map(Silence::describe);
            vec![
                text(&c.name),
                text(&c.kind),
                badge(&c.status),
                charts::history_strip(history.get(&c.name).map_or(&[], Vec::as_slice)),
                html! { (c.summary) @if let Some(s) = &silenced { br; small.silenced { (s) } } },
                text(&format!("{} ms", c.duration_ms)),
                time(c.checked_at),
                opt_time(c.last_ok_at),
            ]
        })
        .collect();
    let body = html! {
        h1 { "Checks" }
        (table(&["Check", "Kind", "Status", "Last results", "Summary", "Took", "Checked", "Last healthy scan"],
            rows, "No check has run yet."))
    };
    Ok(page(frame, "Checks", Refresh::Every30s, body))
}

pub fn login(message: &str, hint: &str, frame: &Frame) -> String {
    let body = html! {
        h1 { "Log in" }
        @if !message.is_empty() { p.notice { (message) } }
        p { "Decisions need a person who proved who they are: " (hint) ", or give the dashboard's token." }
        form.block method="post" action="/login" {
            label { "Dashboard token" input type="password" name="token" autofocus required; }
            button { "Log in" }
        }
    };
    page(frame, "Log in", Refresh::Never, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn silence(id: i64, check: Option<&str>, ends_at: f64, state: &'static str) -> Silence {
        Silence {
            id,
            check: check.map(String::from),
            created_at: 0.0,
            created_by: "alice".into(),
            note: String::new(),
            starts_at: 0.0,
            ends_at,
            expired_at: None,
            state,
            maintenance: None,
        }
    }

    #[test]
    fn the_silence_over_a_check_is_the_longest_in_force_as_the_phases_pick_it() {
        // Newest first, as `Store::silences` lists them.
        let silences = [
            silence(4, Some("db"), 9000.0, "active"),
            silence(3, None, 100.0, "active"),
            silence(2, Some("web"), 5000.0, "active"),
            silence(1, Some("web"), 9999.0, "pending"),
        ];
        assert_eq!(silence_over(&silences, "web").map(|s| s.id), Some(2));
        assert_eq!(silence_over(&silences, "db").map(|s| s.id), Some(4));
        assert_eq!(silence_over(&silences, "mail").map(|s| s.id), Some(3));
        assert!(silence_over(&silences[..1], "web").is_none());
    }
}
