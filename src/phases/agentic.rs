//! What phases 2 and 3 share: gathering an incident's context for agents, recording what they
//! said, and acting on a plan only after the policy has judged it.

use super::attempt::{try_plan, Candidate, Tried};
use super::report::{pass_on, AttemptLine, IncidentLine, Verdict};
use super::{cleared, Runtime};
use crate::agents::context::{self, Facts};
use crate::agents::{Answer, Consultation, Offer};
use crate::config::Check;
use crate::journald::CHANGE;
use crate::model::{Phase, Vote};
use crate::policy::{Policy, Verdict as PolicyVerdict};
use crate::store::{Incident, NewConsultation};
use serde_json::Value;

/// How many learned fixes of the same check go into a context.
const SIMILAR_FIXES: i64 = 5;
/// How many of the fleet's plans go into a context.
const FLEET_HINTS: usize = 5;

pub struct Briefing {
    pub context: Value,
    pub prompt: String,
    /// The MCP server on this incident and the answer's schema, for command agents, and where
    /// their workspaces go.
    pub offer: Offer,
}

pub fn brief(rt: &Runtime, incident: &Incident, check: &Check) -> anyhow::Result<Briefing> {
    let attempts = rt.store.attempts(incident.id)?;
    let similar = rt.store.patterns_of_check(&check.name, SIMILAR_FIXES)?;
    let facts = Facts {
        incident,
        check,
        config: rt.config,
        last_result: rt.store.last_check_result(&check.name)?,
        attempts: &attempts,
        similar: &similar,
        dependencies: dependency_states(rt, check)?,
    };
    // Masked once: stored text on its way into the store, live text by `build`. The prompt is
    // the context's JSON and fixed words, so it is not masked again.
    let mut context = context::build(&facts, rt.store.redactor());
    if rt.config.fleet.is_some() {
        // What other hosts learned, with its record: plans verified there but not yet trusted
        // here are hints, never run by phase 1.
        let hints = crate::fleet::hints(
            rt.store,
            rt.config,
            &check.name,
            &incident.signature,
            FLEET_HINTS,
        )?;
        let mut hints = serde_json::to_value(hints).unwrap_or_default();
        rt.store.redactor().redact_value(&mut hints);
        context["fleet_hints"] = hints;
    }
    if !rt.dry_run {
        rt.store.record_facts(incident.id, &context["facts"])?;
    }
    let prompt = context::prompt(&context);
    Ok(Briefing {
        context,
        prompt,
        offer: offer(rt, incident),
    })
}

/// `orchestrator [-c CONFIG] --db DB mcp --incident ID`: this binary, on the config and the
/// database this phase runs with, as absolute paths (the agent runs in a directory of its own).
/// The workspaces go beside the database (`agents::workspaces_dir`).
fn offer(rt: &Runtime, incident: &Incident) -> Offer {
    let absolute = |path: &std::path::Path| {
        std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string()
    };
    let workspaces = crate::agents::workspaces_dir(rt.store.path());
    let Ok(binary) = std::env::current_exe() else {
        return Offer {
            incident: incident.id,
            mcp_server: Vec::new(),
            workspaces,
        };
    };
    let mut argv = vec![binary.display().to_string()];
    if rt.config.source != crate::config::EMBEDDED_NAME {
        argv.push("-c".into());
        argv.push(absolute(std::path::Path::new(&rt.config.source)));
    }
    argv.extend([
        "--db".into(),
        absolute(rt.store.path()),
        "mcp".into(),
        "--incident".into(),
        incident.id.to_string(),
    ]);
    Offer {
        incident: incident.id,
        mcp_server: argv,
        workspaces,
    }
}

/// Dependencies an agent is told about: the nearest ones. A chain thousands deep would
/// otherwise fill the prompt.
const DEPENDENCY_STATES: usize = 32;

/// What the last scan said of each check this one depends on (a database down explains an
/// application failing in front of it), the nearest [`DEPENDENCY_STATES`] of them.
fn dependency_states(
    rt: &Runtime,
    check: &Check,
) -> anyhow::Result<Vec<crate::facts::DependencyState>> {
    let mut states = Vec::new();
    let nearest = super::causes::dependencies(rt.config, check);
    for name in nearest.into_iter().take(DEPENDENCY_STATES) {
        if let Some((status, summary, _)) = rt.store.last_check_result(name)? {
            states.push(crate::facts::DependencyState {
                check: name.to_string(),
                status,
                summary,
                implicit: super::causes::is_implicit(rt.config, check, name),
            });
        }
    }
    Ok(states)
}

/// The vote word and error stored for a consultation.
pub fn describe_answer(answer: &Answer) -> (Vote, Option<String>) {
    match answer {
        Answer::Plan { .. } => (Vote::Proposed, None),
        Answer::Invalid { reason, .. } => (Vote::Rejected, Some(reason.clone())),
        Answer::Abstained { reason, .. } => (Vote::Abstained, Some(reason.clone())),
    }
}

pub struct Recorded<'a> {
    pub phase: Phase,
    pub round: Option<i64>,
    pub vote: Vote,
    pub agreement: Option<&'a str>,
    pub error: Option<&'a str>,
}

pub fn record(
    rt: &Runtime,
    incident: &Incident,
    check: &Check,
    consultation: &Consultation,
    how: Recorded,
) -> anyhow::Result<i64> {
    let (plan_json, plan_hash, confidence) = match &consultation.answer {
        Answer::Plan {
            plan, confidence, ..
        } => (
            Some(plan.to_json()),
            Some(plan.hash(check.unit.as_deref())),
            *confidence,
        ),
        Answer::Invalid { plan, .. } => (Some(plan.to_string()), None, None),
        Answer::Abstained { .. } => (None, None, None),
    };
    Ok(rt.store.record_consultation(&NewConsultation {
        incident: incident.id,
        agent: &consultation.agent,
        phase: how.phase,
        round: how.round,
        response: &consultation.response,
        diagnosis: consultation.answer.diagnosis(),
        plan_json: plan_json.as_deref(),
        plan_hash: plan_hash.as_deref(),
        confidence,
        vote: how.vote,
        agreement: how.agreement,
        latency_ms: consultation.latency_ms,
        error: how.error,
        input_tokens: consultation.usage.input_tokens,
        output_tokens: consultation.usage.output_tokens,
        cost_usd: consultation.usage.cost_usd,
    })?)
}

#[derive(Debug, Clone)]
pub enum Acted {
    Tried(Tried),
    /// Needs a person's approval: held, the incident handed to phase 4.
    Held(String),
    Rejected(String),
}

/// Judges an agent's plan and, when the policy allows it, runs and verifies it.
pub fn act(
    rt: &mut Runtime,
    incident: &Incident,
    check: &Check,
    phase: Phase,
    candidate: &Candidate,
) -> anyhow::Result<(Acted, Option<i64>)> {
    let unit = check.unit.as_deref();
    let verdict = Policy::new(&rt.config.policy).judge_for(&candidate.plan, rt.config, check);
    let plan_json = candidate.plan.to_json();
    let plan_hash = candidate.plan.hash(unit);
    match verdict {
        PolicyVerdict::Rejected(reasons) => {
            let reason = format!("rejected by the policy: {}", reasons.join("; "));
            log::warn!(
                target: CHANGE,
                "incident {}: plan from {} {reason}",
                incident.id,
                candidate.source
            );
            let attempt = rt.store.record_rejected_plan(
                incident.id,
                phase,
                &candidate.source,
                &plan_json,
                &plan_hash,
                &reason,
            )?;
            Ok((Acted::Rejected(reason), Some(attempt)))
        }
        PolicyVerdict::NeedsApproval(reasons) => {
            let reason = format!(
                "plan from {} awaits a person's approval: {}",
                candidate.source,
                reasons.join("; ")
            );
            if !rt.dry_run {
                rt.store
                    .hold_plan(incident.id, phase, &candidate.source, &plan_json, &reason)?;
            }
            log::info!("incident {}: {reason}", incident.id);
            Ok((Acted::Held(reason), None))
        }
        PolicyVerdict::Allowed => {
            let trial = try_plan(rt, incident, check, phase, candidate)?;
            Ok((Acted::Tried(trial.tried), trial.attempt))
        }
    }
}

/// Where an agent phase stands with an incident before asking anyone.
pub enum Ready<'c> {
    Ask(&'c Check, IncidentLine),
    Done(IncidentLine),
}

/// The check must still be configured and still fail: agents are not asked about a fault
/// that cleared.
pub fn ready<'c>(
    rt: &mut Runtime<'c>,
    incident: &Incident,
    line: IncidentLine,
) -> anyhow::Result<Ready<'c>> {
    let config = rt.config;
    let Some(check) = config.check(&incident.check) else {
        let detail = format!("check `{}` is no longer configured", incident.check);
        return Ok(Ready::Done(IncidentLine { detail, ..line }));
    };
    if let Some(summary) = cleared(rt, check)? {
        let detail = format!("the check passes again: {summary}");
        return Ok(Ready::Done(IncidentLine {
            verdict: Verdict::Recovered,
            detail,
            ..line
        }));
    }
    Ok(Ready::Ask(check, line))
}

/// After a plan was judged (and perhaps run): the phase is done with the incident, or asks again.
pub enum Step {
    Done(IncidentLine),
    Again(IncidentLine),
}

pub fn conclude(
    rt: &mut Runtime,
    incident: &Incident,
    candidate: &Candidate,
    acted: Acted,
    mut line: IncidentLine,
) -> anyhow::Result<Step> {
    let source = &candidate.source;
    let tried = match acted {
        Acted::Held(reason) => {
            return Ok(Step::Done(IncidentLine {
                verdict: Verdict::Held,
                detail: reason,
                ..line
            }))
        }
        Acted::Rejected(reason) => Tried::Failed(reason),
        Acted::Tried(Tried::ConfigTestFailed(why)) => {
            let reason = format!("phase {}: not restarted: {why}", incident.phase);
            return Ok(Step::Done(pass_on(
                rt,
                incident,
                Phase::Escalate,
                reason,
                line,
            )?));
        }
        Acted::Tried(Tried::Held(reason)) => {
            line.attempts
                .push(AttemptLine::new(candidate, Tried::Held(reason.clone())));
            return Ok(Step::Done(IncidentLine {
                verdict: Verdict::Held,
                detail: reason,
                ..line
            }));
        }
        Acted::Tried(Tried::Waiting(reason)) => {
            return Ok(Step::Done(IncidentLine {
                verdict: Verdict::Left,
                detail: reason,
                ..line
            }))
        }
        Acted::Tried(Tried::RestartLimit(reason)) => {
            return Ok(Step::Done(pass_on(
                rt,
                incident,
                Phase::Escalate,
                reason,
                line,
            )?))
        }
        Acted::Tried(tried) => tried,
    };
    let done = match &tried {
        Tried::Fixed => Some((Verdict::Fixed, format!("fixed by {source}"))),
        Tried::DryRun => Some((
            Verdict::Left,
            format!("dry run: the plan from {source} would run"),
        )),
        _ => None,
    };
    line.attempts.push(AttemptLine::new(candidate, tried));
    Ok(match done {
        Some((verdict, detail)) => Step::Done(IncidentLine {
            verdict,
            detail,
            ..line
        }),
        None => Step::Again(line),
    })
}
