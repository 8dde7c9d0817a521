use super::{load_config, open_store, output, UsageError};
use crate::cli::{Global, IncidentsCommand};
use crate::clock;
use crate::model::IncidentStatus;
use crate::phases::approval::{self, ResolveError};
use crate::store::{IncidentFilter, IncidentRecord, Store, StoreError};
use serde_json::json;
use std::process::ExitCode;

pub fn exec(global: &Global, command: IncidentsCommand) -> anyhow::Result<ExitCode> {
    let config = load_config(global)?;
    let store = open_store(global, &config)?;
    match command {
        IncidentsCommand::List {
            active,
            status,
            check,
            limit,
        } => {
            let status = match status.as_deref() {
                None => None,
                Some(text) => Some(IncidentStatus::parse(text).ok_or_else(|| {
                    UsageError(format!(
                        "unknown status `{text}` (expected open, escalated, resolved or recovered)"
                    ))
                })?),
            };
            list(
                global,
                &store,
                &IncidentFilter {
                    active_only: active,
                    status,
                    check,
                    limit: Some(limit),
                },
            )
        }
        IncidentsCommand::Show { id } => show(global, &store, id),
        IncidentsCommand::Approve { id } => decide(global, "approve", id, true),
        IncidentsCommand::Dismiss { id } => decide(global, "dismiss", id, false),
        IncidentsCommand::Ack { id, note } => acknowledge(global, store, id, note.as_deref()),
        IncidentsCommand::Resolve { id, note, plan } => {
            resolve(global, store, &config, id, &note, plan.as_deref())
        }
    }
}

fn list(global: &Global, store: &Store, filter: &IncidentFilter) -> anyhow::Result<ExitCode> {
    let incidents = store.incidents(filter)?;
    if global.json {
        output::print_json(&json!({ "incidents": incidents }));
        return Ok(ExitCode::SUCCESS);
    }
    if incidents.is_empty() {
        println!("no incidents");
        return Ok(ExitCode::SUCCESS);
    }
    let now = clock::now();
    let rows: Vec<Vec<String>> = incidents
        .iter()
        .map(|i| {
            vec![
                i.id.to_string(),
                i.status.to_string(),
                i.phase.to_string(),
                i.severity.to_string(),
                i.check.clone(),
                i.occurrences.to_string(),
                clock::age(i.detected_at, now),
                output::cell(&i.summary, 70),
            ]
        })
        .collect();
    println!(
        "{}",
        output::table(
            &["ID", "STATUS", "PHASE", "SEVERITY", "CHECK", "SEEN", "DETECTED", "SUMMARY"],
            &rows
        )
    );
    Ok(ExitCode::SUCCESS)
}

fn show(global: &Global, store: &Store, id: i64) -> anyhow::Result<ExitCode> {
    let record = match store.incident_record(id) {
        Err(StoreError::NoIncident(id)) => {
            return Err(UsageError(format!("no incident {id}")).into())
        }
        other => other?,
    };
    if global.json {
        output::print_json(&serde_json::to_value(&record)?);
        return Ok(ExitCode::SUCCESS);
    }
    let IncidentRecord {
        incident,
        attempts,
        events,
        consultations: votes,
        held_plan: held,
        escalation,
        notifications,
    } = record;
    println!(
        "incident {}  {}  phase {}  {}",
        incident.id, incident.status, incident.phase, incident.severity
    );
    println!("check:       {}", incident.check);
    println!("summary:     {}", incident.summary);
    println!("signature:   {}", incident.signature);
    println!(
        "seen:        {} times, first {}, last {}",
        incident.occurrences,
        clock::rfc3339(incident.detected_at),
        clock::rfc3339(incident.last_seen_at)
    );
    if let Some(at) = incident.resolved_at {
        let by = incident.resolved_by.as_deref().unwrap_or("?");
        println!(
            "closed:      {} in phase {} by {by}",
            clock::rfc3339(at),
            incident.resolved_phase.unwrap_or(0)
        );
    }
    if let Some(handoff) = &incident.handoff {
        println!("why here:    {handoff}");
    }
    if incident.flapping {
        println!("flapping:    yes — no phase acts on it; a person must close it");
    }
    if !incident.evidence.is_empty() {
        println!("evidence:\n{}", indent(&incident.evidence));
    }
    println!("\ntimeline:");
    for event in &events {
        println!(
            "  {}  {:<10} {}",
            clock::rfc3339(event.at),
            event.kind,
            output::cell(&event.detail, 80)
        );
    }
    println!("\nattempts:");
    if attempts.is_empty() {
        println!("  none");
    }
    for attempt in &attempts {
        println!(
            "  #{} phase {} {} → {}  {}",
            attempt.id, attempt.phase, attempt.source, attempt.outcome, attempt.plan
        );
        if !attempt.reason.is_empty() {
            println!("    reason: {}", attempt.reason);
        }
        if !attempt.output.is_empty() {
            println!("{}", indent(&attempt.output));
        }
    }
    print_votes(&votes);
    if let Some(escalation) = &escalation {
        let by = escalation
            .acknowledged_by
            .as_deref()
            .map(|b| format!(" by {b}"))
            .unwrap_or_default();
        println!(
            "\nescalation {} ({}{by}): {}",
            escalation.id, escalation.status, escalation.reason
        );
        for n in &notifications {
            let error = n
                .last_error
                .as_deref()
                .map(|e| format!(" — {e}"))
                .unwrap_or_default();
            println!(
                "  {} {} to {}: {} after {} tries{error}",
                n.kind, n.channel, n.recipient, n.status, n.tries
            );
        }
    }
    if let Some(held) = held {
        let state = held
            .decision
            .clone()
            .unwrap_or_else(|| "awaiting approval".into());
        println!("\nheld plan from {} ({state}): {}", held.source, held.plan);
        if held.decision.is_none() {
            println!("  approve: orchestrator incidents approve {id}    dismiss: orchestrator incidents dismiss {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_votes(votes: &[crate::store::Consultation]) {
    if votes.is_empty() {
        return;
    }
    println!("\nagent votes:");
    for vote in votes {
        let round = vote
            .round
            .map(|r| format!(" round {r}"))
            .unwrap_or_default();
        let agreement = vote
            .agreement
            .as_deref()
            .map(|a| format!(" [{a}]"))
            .unwrap_or_default();
        println!(
            "  phase {}{round} {} → {}{agreement} ({} ms)",
            vote.phase, vote.agent, vote.vote, vote.latency_ms
        );
        if !vote.diagnosis.is_empty() {
            println!("    diagnosis: {}", vote.diagnosis);
        }
        if let Some(plan) = &vote.plan {
            println!("    plan: {plan}");
        }
        if let Some(error) = &vote.error {
            println!("    why: {error}");
        }
    }
}

/// `approve` and `dismiss` act on the host (approve runs the plan), so they take the cycle lock.
fn decide(global: &Global, name: &str, id: i64, approve: bool) -> anyhow::Result<ExitCode> {
    let by = super::operator();
    super::with_phase_lock(
        global,
        name,
        |rt| {
            if approve {
                Ok(serde_json::to_value(crate::phases::approval::approve(
                    rt, id, &by,
                )?)?)
            } else {
                crate::phases::approval::dismiss(rt, id, &by)?;
                Ok(json!({ "incident": id, "dismissed": true }))
            }
        },
        |report| match report.get("dismissed") {
            Some(_) => println!("incident {id}: held plan dismissed; the incident stays escalated"),
            None => super::print_incident_lines("approve", &json!([report])),
        },
    )
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn acknowledge(
    global: &Global,
    mut store: Store,
    id: i64,
    note: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let by = super::operator();
    store.acknowledge(id, &by, note).map_err(usage_if_missing)?;
    report(
        global,
        json!({ "incident": id, "acknowledged_by": by }),
        &format!("incident {id}: acknowledged by {by}; reminders stop"),
    );
    Ok(ExitCode::SUCCESS)
}

fn resolve(
    global: &Global,
    mut store: Store,
    config: &crate::config::Config,
    id: i64,
    note: &str,
    plan: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let by = super::operator();
    let learned =
        approval::resolve_by_person(&mut store, config, id, &by, note, plan).map_err(|err| {
            match err {
                ResolveError::Store(err) => usage_if_missing(err),
                ResolveError::NotAPlan(_) => UsageError(format!("--plan is {err}")).into(),
            }
        })?;
    let how = if learned {
        "; its plan is learned for next time"
    } else {
        ""
    };
    report(
        global,
        json!({ "incident": id, "resolved_by": format!("person:{by}"), "learned": learned }),
        &format!("incident {id}: resolved{how}"),
    );
    Ok(ExitCode::SUCCESS)
}

/// Errors about the id the user typed are usage errors (exit 2).
fn usage_if_missing(err: StoreError) -> anyhow::Error {
    match err {
        StoreError::NoIncident(_)
        | StoreError::NothingToAcknowledge(_)
        | StoreError::AlreadyClosed(..) => UsageError(err.to_string()).into(),
        other => other.into(),
    }
}

fn report(global: &Global, document: serde_json::Value, text: &str) {
    if global.json {
        output::print_json(&document);
    } else {
        println!("{text}");
    }
}
