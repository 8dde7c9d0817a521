use super::{load_config, open_store, output, UsageError};
use crate::cli::{Global, IncidentsCommand};
use crate::clock;
use crate::model::IncidentStatus;
use crate::store::{IncidentFilter, Store, StoreError};
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
    let incident = match store.incident(id) {
        Err(StoreError::NoIncident(id)) => {
            return Err(UsageError(format!("no incident {id}")).into())
        }
        other => other?,
    };
    let attempts = store.attempts(id)?;
    let events = store.events(id)?;
    if global.json {
        output::print_json(
            &json!({ "incident": incident, "attempts": attempts, "events": events }),
        );
        return Ok(ExitCode::SUCCESS);
    }
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
    Ok(ExitCode::SUCCESS)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
