use super::report::Dismissed;
use super::{load_config, open_store, open_store_readonly, output, CommandError};
use crate::actions::Plan;
use crate::cli::{Global, IncidentsCommand};
use crate::clock;
use crate::model::IncidentStatus;
use crate::phases::approval::{self, ApprovalError, ResolveError, Teaching};
use crate::store::{IncidentFilter, IncidentRecord, Store};
use serde_json::json;
use std::process::ExitCode;

pub fn exec(global: &Global, command: IncidentsCommand) -> Result<ExitCode, CommandError> {
    if matches!(
        command,
        IncidentsCommand::Resolve {
            outside_policy: true,
            ..
        }
    ) {
        require_root()?;
    }
    let config = load_config(global)?;
    let store = match command {
        IncidentsCommand::List { .. } | IncidentsCommand::Show { .. } => {
            open_store_readonly(global, &config)?
        }
        _ => open_store(global, &config)?,
    };
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
                    CommandError::Usage(format!(
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
                    offset: None,
                },
            )
        }
        IncidentsCommand::Show { id } => show(global, &store, id),
        IncidentsCommand::Approve { id, by } => decide(global, "approve", id, true, by),
        IncidentsCommand::Dismiss { id, by } => decide(global, "dismiss", id, false, by),
        IncidentsCommand::Ack { id, note, by } => acknowledge(
            global,
            store,
            id,
            note.as_deref(),
            &super::operator(by.as_deref())?,
        ),
        IncidentsCommand::Resolve {
            id,
            note,
            plan,
            outside_policy,
            by,
        } => {
            let by = super::operator(by.as_deref())?;
            let teaching = if outside_policy {
                Teaching::OutsidePolicy
            } else {
                Teaching::WithinPolicy
            };
            let resolution = Resolution {
                note: &note,
                plan: plan.as_deref(),
                teaching,
                by: &by,
            };
            resolve(global, store, &config, id, &resolution)
        }
        IncidentsCommand::Feedback {
            id,
            agent,
            verdict,
            note,
            by,
        } => {
            let by = super::operator(by.as_deref())?;
            feedback(global, store, id, &agent, verdict, note.as_deref(), &by)
        }
    }
}

/// A person's verdict on an agent's diagnosis: kept in the agent's track record.
fn feedback(
    global: &Global,
    mut store: Store,
    id: i64,
    agent: &str,
    verdict: crate::cli::Verdict,
    note: Option<&str>,
    by: &str,
) -> Result<ExitCode, CommandError> {
    let good = verdict == crate::cli::Verdict::Good;
    store.record_feedback(id, agent, good, note, by)?;
    let word = if good { "good" } else { "bad" };
    if global.json {
        output::print_json(&json!({"incident": id, "agent": agent, "verdict": word, "by": by}));
    } else {
        outln!("incident {id}: the diagnosis of agent {agent} is marked {word}");
    }
    Ok(ExitCode::SUCCESS)
}

fn list(global: &Global, store: &Store, filter: &IncidentFilter) -> Result<ExitCode, CommandError> {
    let incidents = store.incidents(filter)?;
    if global.json {
        output::print_json(&json!({ "incidents": incidents }));
        return Ok(ExitCode::SUCCESS);
    }
    if incidents.is_empty() {
        outln!("no incidents");
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
                clock::relative(i.detected_at, now),
                output::cell(&i.summary, 70),
            ]
        })
        .collect();
    outln!(
        "{}",
        output::table(
            &["ID", "STATUS", "PHASE", "SEVERITY", "CHECK", "SEEN", "DETECTED", "SUMMARY"],
            &rows
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// The host's facts as gathered before agents were asked, one line each.
fn print_facts(facts: Option<&serde_json::Value>) {
    let Some(facts) = facts.and_then(crate::facts::from_value) else {
        return;
    };
    outln!("\nfacts:");
    let lines = crate::facts::describe(&facts);
    if lines.is_empty() {
        outln!("  nothing notable");
    }
    for line in lines {
        outln!("  {line}");
    }
    for line in &facts.error_lines {
        outln!("  | {}", output::cell(line, 160));
    }
}

fn show(global: &Global, store: &Store, id: i64) -> Result<ExitCode, CommandError> {
    // No such incident: nothing to do (`StoreError::exit_code`).
    let record = store.incident_record(id)?;
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
        cause,
        symptoms,
        facts,
        feedback,
    } = record;
    outln!(
        "incident {}  {}  phase {}  {}",
        incident.id,
        incident.status,
        incident.phase,
        incident.severity
    );
    outln!("check:       {}", incident.check);
    outln!("summary:     {}", incident.summary);
    outln!("signature:   {}", incident.signature);
    outln!(
        "seen:        {} times, first {}, last {}",
        incident.occurrences,
        clock::rfc3339(incident.detected_at),
        clock::rfc3339(incident.last_seen_at)
    );
    if let Some(at) = incident.resolved_at {
        let by = incident.resolved_by.as_deref().unwrap_or("?");
        outln!(
            "closed:      {} in phase {} by {by}",
            clock::rfc3339(at),
            incident.resolved_phase.map_or(0, |phase| phase.number())
        );
    }
    if let Some(handoff) = &incident.handoff {
        outln!("why here:    {handoff}");
    }
    if let Some(cause) = &cause {
        outln!("caused by:   {}", linked(cause));
    }
    if !symptoms.is_empty() {
        let list: Vec<String> = symptoms.iter().map(linked).collect();
        outln!("symptoms:    {}", list.join(", "));
    }
    if incident.flapping {
        outln!("flapping:    yes — no phase acts on it; a person must close it");
    }
    if !incident.evidence.is_empty() {
        outln!("evidence:\n{}", indent(&incident.evidence));
    }
    print_facts(facts.as_ref());
    outln!("\ntimeline:");
    for event in &events {
        outln!(
            "  {}  {:<10} {}",
            clock::rfc3339(event.at),
            event.kind,
            output::cell(&event.detail, 80)
        );
    }
    outln!("\nattempts:");
    if attempts.is_empty() {
        outln!("  none");
    }
    for attempt in &attempts {
        outln!(
            "  #{} phase {} {} → {}  {}",
            attempt.id,
            attempt.phase,
            attempt.source,
            attempt.outcome,
            attempt.plan
        );
        if !attempt.reason.is_empty() {
            outln!("    reason: {}", attempt.reason);
        }
        if !attempt.output.is_empty() {
            outln!("{}", indent(&attempt.output));
        }
    }
    print_votes(&votes);
    for verdict in &feedback {
        let note = verdict
            .note
            .as_deref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default();
        outln!(
            "  feedback: agent {} {} (by {}){note}",
            verdict.agent,
            verdict.verdict,
            verdict.by
        );
    }
    if let Some(escalation) = &escalation {
        let by = escalation
            .acknowledged_by
            .as_deref()
            .map(|b| format!(" by {b}"))
            .unwrap_or_default();
        outln!(
            "\nescalation {} ({}{by}): {}",
            escalation.id,
            escalation.status,
            escalation.reason
        );
        for n in &notifications {
            let error = n
                .last_error
                .as_deref()
                .map(|e| format!(" — {e}"))
                .unwrap_or_default();
            outln!(
                "  #{} {} {} to {}: {} after {} tries{error}",
                n.id,
                n.kind,
                n.channel,
                n.recipient,
                n.status,
                n.tries
            );
        }
    }
    if let Some(held) = held {
        outln!(
            "\nheld plan from {} ({}): {}",
            held.source,
            held_state(&held),
            held.plan
        );
        if held.decision.is_none() {
            outln!("  approve: orchestrator incidents approve {id}    dismiss: orchestrator incidents dismiss {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where a held plan stands: `awaiting approval`, `approved by cli:alice, not run yet`,
/// `approved by cli:alice, ran 2026-11-27T03:12:00Z` (its attempt says how it went),
/// `dismissed by cli:bob`.
fn held_state(held: &crate::store::HeldPlan) -> String {
    let by = held
        .decided_by
        .as_deref()
        .map(|by| format!(" by {by}"))
        .unwrap_or_default();
    match (held.decision, held.executed_at) {
        (None, _) => "awaiting approval".into(),
        (Some(decision), Some(at)) => format!("{decision}{by}, ran {}", clock::rfc3339(at)),
        (Some(crate::model::HeldDecision::Approved), None) => {
            format!("approved{by}, not run yet: the next `fix` runs it")
        }
        (Some(decision), None) => format!("{decision}{by}"),
    }
}

fn print_votes(votes: &[crate::store::Consultation]) {
    if votes.is_empty() {
        return;
    }
    outln!("\nagent votes:");
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
        let tokens = match (vote.input_tokens, vote.output_tokens) {
            (None, None) => String::new(),
            (i, o) => format!(", {} tokens", i.unwrap_or(0) + o.unwrap_or(0)),
        };
        let cost = vote
            .cost_usd
            .map(|c| format!(", ${c:.4}"))
            .unwrap_or_default();
        outln!(
            "  phase {}{round} {} → {}{agreement} ({} ms{tokens}{cost})",
            vote.phase,
            vote.agent,
            vote.vote,
            vote.latency_ms
        );
        if !vote.diagnosis.is_empty() {
            outln!("    diagnosis: {}", vote.diagnosis);
        }
        if let Some(plan) = &vote.plan {
            outln!("    plan: {plan}");
        }
        if let Some(error) = &vote.error {
            outln!("    why: {error}");
        }
    }
}

/// `approve` and `dismiss` act on the host (approve runs the plan), so they take the cycle lock.
fn decide(
    global: &Global,
    name: &str,
    id: i64,
    approve: bool,
    by: Option<String>,
) -> Result<ExitCode, CommandError> {
    let by = super::operator(by.as_deref())?;
    if approve {
        return super::with_phase_lock(global, name, |rt| approval::approve(rt, id, &by));
    }
    super::with_phase_lock(global, name, |rt| {
        approval::dismiss(rt, id, &by)?;
        Ok::<_, ApprovalError>(Dismissed {
            incident: id,
            dismissed: true,
        })
    })
}

/// `#12 db (recovered)`: an incident named from another one.
fn linked(other: &crate::store::Linked) -> String {
    format!("#{} {} ({})", other.id, other.check, other.status)
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
    by: &str,
) -> Result<ExitCode, CommandError> {
    // No such incident, nothing left to acknowledge, or acknowledged already: nothing to do.
    store.acknowledge(id, by, note)?;
    report(
        global,
        json!({ "incident": id, "acknowledged_by": by }),
        &format!("incident {id}: acknowledged by {by}; reminders stop"),
    );
    Ok(ExitCode::SUCCESS)
}

/// What a person says in `incidents resolve`.
struct Resolution<'a> {
    note: &'a str,
    plan: Option<&'a str>,
    teaching: Teaching,
    by: &'a str,
}

fn resolve(
    global: &Global,
    mut store: Store,
    config: &crate::config::Config,
    id: i64,
    resolution: &Resolution,
) -> Result<ExitCode, CommandError> {
    let &Resolution {
        note,
        plan,
        teaching,
        by,
    } = resolution;
    if teaching == Teaching::OutsidePolicy {
        announce_outside_policy(&store, config, id, plan.unwrap_or_default(), by)?;
    }
    let learned = approval::resolve_by_person(&mut store, config, id, by, note, plan, teaching)
        .map_err(|err| match err {
            ResolveError::Store(err) => CommandError::from(err),
            ResolveError::NotAPlan(_) => CommandError::Usage(format!("--plan is {err}")),
            ResolveError::Refused(_) => CommandError::Usage(format!(
                "--plan is {err}\nnothing was learned and incident {id} stays open; root can teach \
                 it beyond the policy with --outside-policy"
            )),
        })?;
    let taught = match (learned, teaching) {
        (false, _) => None,
        (true, Teaching::WithinPolicy) => Some("person"),
        (true, Teaching::OutsidePolicy) => Some("outside_policy"),
    };
    let how = match taught {
        Some("outside_policy") => "; its plan is learned, marked as taught outside the policy",
        Some(_) => "; its plan is learned for next time",
        None => "",
    };
    report(
        global,
        json!({ "incident": id, "resolved_by": format!("person:{by}"), "learned": learned, "taught": taught }),
        &format!("incident {id}: resolved{how}"),
    );
    Ok(ExitCode::SUCCESS)
}

/// Teaching beyond the policy lets phase 1 run, as root, what the policy refuses: it is only
/// for root, who could run it anyway.
fn require_root() -> Result<(), CommandError> {
    if !crate::sys::is_root() {
        return Err(CommandError::Usage(
            "--outside-policy is for root only: it lets phase 1 run, as root, a plan [policy] refuses"
                .into(),
        ));
    }
    Ok(())
}

/// Says on stderr, before anything is stored, what teaching outside the policy will do.
fn announce_outside_policy(
    store: &Store,
    config: &crate::config::Config,
    id: i64,
    plan: &str,
    by: &str,
) -> Result<(), CommandError> {
    let Ok(parsed) = serde_json::from_str::<Plan>(plan) else {
        return Ok(()); // resolve_by_person reports the malformed plan
    };
    let check = store.incident(id)?.check;
    let verdict = match approval::still_allowed(config, &check, &parsed) {
        Ok(()) => "[policy] allows this plan anyway; it is marked all the same".to_string(),
        Err(reasons) => format!("[policy] refuses it: {reasons}"),
    };
    errln!(
        "incident {id}: {by} teaches a plan OUTSIDE [policy]: {}\n  {verdict}\n  phase 1 will replay it as written, unjudged, each time this fault recurs;\n  the pattern is recorded as taught outside the policy (delete it from the patterns table to stop it)",
        parsed.describe()
    );
    Ok(())
}

fn report(global: &Global, document: serde_json::Value, text: &str) {
    if global.json {
        output::print_json(&document);
    } else {
        outln!("{text}");
    }
}
