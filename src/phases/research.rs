//! `research`, phase 2: one agent gets the incident's context and answers with a
//! diagnosis and a plan; the plan is judged by the policy, run, and verified. Up to
//! `max_attempts` plans, each asked for with the earlier ones (and why they failed) in the
//! context; then phase 3.

use super::agentic::{act, brief, conclude, describe_answer, ready, record, Ready, Recorded, Step};
use super::attempt::{Candidate, Tried};
use super::report::{pass_on, AttemptLine, IncidentLine, NO_RESEARCH_AGENT};
use super::Runtime;
use crate::agents::{self, Answer};
use crate::config::{AgentConfig, Check};
use crate::model::{Outcome, Phase};
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
        let line = match super::silenced(rt, &incident)? {
            Some(line) => line,
            None => research_incident(rt, &incident)?,
        };
        report.incidents.push(line);
    }
    Ok(report)
}

fn research_incident(rt: &mut Runtime, incident: &Incident) -> anyhow::Result<IncidentLine> {
    let line = IncidentLine::new(incident);
    let config = rt.config;
    let Some(research) = &config.research else {
        return pass_on(rt, incident, Phase::Consult, NO_RESEARCH_AGENT.into(), line);
    };
    let Some(agent) = config.agents.get(&research.agent) else {
        return pass_on(
            rt,
            incident,
            Phase::Consult,
            format!("phase 2: agent `{}` is not configured", research.agent),
            line,
        );
    };
    match ready(rt, incident, line)? {
        Ready::Done(line) => Ok(line),
        Ready::Ask(check, line) => {
            ask_until_fixed(rt, incident, check, (&research.agent, agent), line)
        }
    }
}

fn ask_until_fixed(
    rt: &mut Runtime,
    incident: &Incident,
    check: &Check,
    (name, agent): (&str, &AgentConfig),
    mut line: IncidentLine,
) -> anyhow::Result<IncidentLine> {
    let config = rt.config;
    let started = Instant::now();
    let source = format!("agent:{name}");
    let mut tried = rt
        .store
        .episode_plans(incident.id, Phase::Research)?
        .judged();
    // Invalid answers count as tries, but have no plan hash to remember.
    let mut invalid_answers = 0;
    while tried.len() + invalid_answers < config.policy.max_attempts as usize {
        if started.elapsed() >= config.cycle.phase_timeout.research.std() {
            line.detail = format!(
                "phase 2 time ({}) used up; the next run goes on",
                config.cycle.phase_timeout.research
            );
            return Ok(line);
        }
        let briefing = brief(rt, incident, check)?;
        let consultation = agents::consult(
            name,
            agent,
            check,
            (&briefing.context, &briefing.prompt),
            &briefing.offer,
        );
        if let Some(reason) = repeated_plan(rt, incident, check, &source, &consultation, &tried)? {
            return pass_on(rt, incident, Phase::Consult, reason, line);
        }
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
            Answer::Plan { plan, .. } => plan,
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
                let plan = plan.to_string();
                let attempt = rt.store.record_rejected_plan(
                    incident.id,
                    Phase::Research,
                    &source,
                    &plan,
                    "",
                    &reason,
                )?;
                rt.store.link_consultations(&[consultation_id], attempt)?;
                line.attempts.push(AttemptLine {
                    source: source.clone(),
                    plan,
                    tried: Tried::Failed(reason),
                });
                invalid_answers += 1;
                continue;
            }
        };
        let hash = plan.hash(check.unit.as_deref());
        let candidate = Candidate::new(source.clone(), plan);
        let (acted, attempt) = act(rt, incident, check, Phase::Research, &candidate)?;
        if let Some(attempt) = attempt {
            rt.store.link_consultations(&[consultation_id], attempt)?;
        }
        line = match conclude(rt, incident, &candidate, acted, line)? {
            Step::Done(line) => return Ok(line),
            Step::Again(line) => line,
        };
        tried.push(hash);
    }
    let mut reason = format!(
        "phase 2: {} plan(s) from {source}, none fixed it",
        tried.len()
    );
    // The last failure's own words name the cause better than the count.
    if let Some(why) = line.attempts.last().and_then(|a| a.tried.failure()) {
        reason.push_str(&format!(": {why}"));
    }
    pass_on(rt, incident, Phase::Consult, reason, line)
}

/// An agent answering with a plan it already gave in this phase adds nothing: the answer is not
/// stored again as a vote (the first one is), and the hand-off says what became of that plan:
/// refused by the policy is not the same as tried and failed.
fn repeated_plan(
    rt: &Runtime,
    incident: &Incident,
    check: &Check,
    source: &str,
    consultation: &agents::Consultation,
    tried: &[String],
) -> anyhow::Result<Option<String>> {
    let Answer::Plan { plan, .. } = &consultation.answer else {
        return Ok(None);
    };
    let hash = plan.hash(check.unit.as_deref());
    if !tried.contains(&hash) {
        return Ok(None);
    }
    let earlier = rt.store.plan_outcome(incident.id, Phase::Research, &hash)?;
    log::info!(
        "incident {}: {source} answered again with {}; not recorded twice",
        incident.id,
        plan.describe()
    );
    Ok(Some(match earlier {
        Some((Outcome::Rejected, reason)) => {
            let reason = reason.unwrap_or_default();
            let why = reason
                .strip_prefix("rejected by the policy: ")
                .unwrap_or(&reason);
            format!("phase 2: {source} proposed again the plan the policy rejected: {why}")
        }
        Some((outcome, reason)) => format!(
            "phase 2: {source} proposed again a plan already tried ({}{})",
            outcome.replace('_', " "),
            reason.map(|r| format!(": {r}")).unwrap_or_default()
        ),
        None => format!("phase 2: {source} proposed again a plan already tried"),
    }))
}
