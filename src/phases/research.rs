//! `research`, phase 2 (DESIGN §1): one agent gets the incident's context and answers with a
//! diagnosis and a plan; the plan is judged by the policy, run, and verified. Up to
//! `max_attempts` plans, each asked for with the earlier ones (and why they failed) in the
//! context; then phase 3.

use super::agentic::{act, brief, describe_answer, record, Acted, Recorded};
use super::attempt::{Candidate, Tried};
use super::report::{pass_on, AttemptLine, IncidentLine, Verdict};
use super::{cleared, Runtime};
use crate::agents::{self, Answer};
use crate::config::Check;
use crate::model::Phase;
use crate::store::Incident;
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Serialize, Default)]
pub struct ResearchReport {
    pub incidents: Vec<IncidentLine>,
}

pub fn research(rt: &mut Runtime) -> anyhow::Result<ResearchReport> {
    let mut report = ResearchReport::default();
    rt.recover_interrupted()?;
    for incident in rt.store.incidents_waiting(Phase::Research)? {
        report.incidents.push(research_incident(rt, &incident)?);
    }
    Ok(report)
}

fn research_incident(rt: &mut Runtime, incident: &Incident) -> anyhow::Result<IncidentLine> {
    let line = IncidentLine::new(incident);
    let config = rt.config;
    let Some(research) = &config.research else {
        return pass_on(
            rt,
            incident,
            Phase::Consult,
            "phase 2: no research agent configured".into(),
            line,
        );
    };
    let Some(check) = config.check(&incident.check) else {
        return Ok(IncidentLine {
            detail: format!("check `{}` is no longer configured", incident.check),
            ..line
        });
    };
    if let Some(summary) = cleared(rt, check)? {
        return Ok(IncidentLine {
            verdict: Verdict::Recovered,
            detail: format!("the check passes again: {summary}"),
            ..line
        });
    }
    ask_until_fixed(rt, incident, check, &research.agent, line)
}

fn ask_until_fixed(
    rt: &mut Runtime,
    incident: &Incident,
    check: &Check,
    agent_name: &str,
    mut line: IncidentLine,
) -> anyhow::Result<IncidentLine> {
    let config = rt.config;
    let Some(agent) = config.agents.get(agent_name) else {
        return pass_on(
            rt,
            incident,
            Phase::Consult,
            format!("phase 2: agent `{agent_name}` is not configured"),
            line,
        );
    };
    let started = Instant::now();
    let source = format!("agent:{agent_name}");
    let mut tried = rt.store.tried_plans(incident.id, Phase::Research)?;
    while tried.len() < config.policy.max_attempts as usize {
        if started.elapsed() >= config.cycle.phase_timeout.research.std() {
            line.detail = format!(
                "phase 2 time ({}) used up; the next run goes on",
                config.cycle.phase_timeout.research
            );
            return Ok(line);
        }
        let briefing = brief(rt, incident, check)?;
        let consultation = agents::consult(
            agent_name,
            agent,
            check,
            &briefing.context,
            &briefing.prompt,
        );
        let (vote, error) = describe_answer(&consultation.answer);
        let recorded = Recorded {
            phase: Phase::Research,
            round: None,
            vote,
            agreement: None,
            error: error.as_deref(),
        };
        let consultation_id = record(rt, incident, check, &consultation, recorded)?;
        let plan = match consultation.answer {
            Answer::Abstained { reason, diagnosis } => {
                let why = if diagnosis.is_empty() {
                    reason
                } else {
                    format!("{reason} ({diagnosis})")
                };
                return pass_on(
                    rt,
                    incident,
                    Phase::Consult,
                    format!("phase 2: {source} abstained: {why}"),
                    line,
                );
            }
            Answer::Invalid { plan, reason, .. } => {
                let attempt = rt.store.record_rejected_plan(
                    incident.id,
                    Phase::Research,
                    &source,
                    &plan.to_string(),
                    "",
                    &reason,
                )?;
                rt.store.link_consultations(&[consultation_id], attempt)?;
                line.attempts.push(AttemptLine {
                    source: source.clone(),
                    plan: plan.to_string(),
                    tried: Tried::Failed(reason),
                });
                tried.push(format!("invalid-{attempt}"));
                continue;
            }
            Answer::Plan { plan, .. } => plan,
        };
        let hash = plan.hash(check.unit.as_deref());
        if tried.contains(&hash) {
            return pass_on(
                rt,
                incident,
                Phase::Consult,
                format!("phase 2: {source} proposed a plan already tried"),
                line,
            );
        }
        let candidate = Candidate::new(source.clone(), plan);
        let (acted, attempt) = act(rt, incident, check, Phase::Research, &candidate)?;
        if let Some(attempt) = attempt {
            rt.store.link_consultations(&[consultation_id], attempt)?;
        }
        let described = candidate.plan.describe();
        match acted {
            Acted::Tried(Tried::Fixed) => {
                line.attempts.push(AttemptLine {
                    source: source.clone(),
                    plan: described,
                    tried: Tried::Fixed,
                });
                return Ok(IncidentLine {
                    verdict: Verdict::Fixed,
                    detail: format!("fixed by {source}"),
                    ..line
                });
            }
            Acted::Tried(Tried::DryRun) => {
                line.attempts.push(AttemptLine {
                    source: source.clone(),
                    plan: described,
                    tried: Tried::DryRun,
                });
                return Ok(IncidentLine {
                    detail: "dry run: the plan would run".into(),
                    ..line
                });
            }
            Acted::Tried(Tried::RestartLimit(reason)) => {
                return pass_on(rt, incident, Phase::Escalate, reason, line)
            }
            Acted::Tried(other) => line.attempts.push(AttemptLine {
                source: source.clone(),
                plan: described,
                tried: other,
            }),
            Acted::Held(reason) => {
                return Ok(IncidentLine {
                    verdict: Verdict::Held,
                    detail: reason,
                    ..line
                })
            }
            Acted::Rejected(reason) => line.attempts.push(AttemptLine {
                source: source.clone(),
                plan: described,
                tried: Tried::Failed(reason),
            }),
        }
        tried.push(hash);
    }
    let reason = format!(
        "phase 2: {} plan(s) from {source}, none fixed it",
        tried.len()
    );
    pass_on(rt, incident, Phase::Consult, reason, line)
}
