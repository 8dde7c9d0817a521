//! `fix`, phase 1: learned patterns of the incident's signature first, best
//! record first, then the check's configured remedy list; each verified by the check.

use super::attempt::{try_plan, Candidate, Tried};
use super::report::{pass_on, AttemptLine, IncidentLine, Verdict};
use super::{cleared, Runtime};
use crate::actions::Plan;
use crate::config::Check;
use crate::model::{Phase, Severity};
use crate::store::Incident;
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Serialize, Default)]
pub struct FixReport {
    pub interrupted_recovered: Vec<i64>,
    /// Plans a person approved elsewhere (the dashboard), run now.
    pub approved: Vec<IncidentLine>,
    pub incidents: Vec<IncidentLine>,
}

pub fn fix(rt: &mut Runtime) -> anyhow::Result<FixReport> {
    let mut report = FixReport {
        interrupted_recovered: rt.recover_interrupted()?,
        ..FixReport::default()
    };
    report.approved = super::approval::run_approved(rt)?;
    for incident in rt.store.incidents_waiting(Phase::Fix)? {
        let line = fix_incident(rt, &incident)?;
        report.incidents.push(line);
    }
    Ok(report)
}

fn fix_incident(rt: &mut Runtime, incident: &Incident) -> anyhow::Result<IncidentLine> {
    let mut line = IncidentLine::new(incident);
    let config = rt.config;
    let Some(check) = config.check(&incident.check) else {
        line.detail = format!(
            "check `{}` is no longer configured; resolve the incident by hand",
            incident.check
        );
        log::warn!("incident {}: {}", incident.id, line.detail);
        return Ok(line);
    };
    if incident.severity == Severity::Unknown {
        let reason = "the check returned UNKNOWN: nothing is acted on until the check itself works"
            .to_string();
        return pass_on(rt, incident, Phase::Escalate, reason, line);
    }
    if !check.acts_on(incident.severity) {
        line.detail = format!(
            "severity {} is watched, not acted on (set act_on = \"warning\" to act)",
            incident.severity
        );
        return Ok(line);
    }
    if let Some(summary) = cleared(rt, check)? {
        line.verdict = Verdict::Recovered;
        line.detail = format!("the check passes again: {summary}");
        return Ok(line);
    }
    try_candidates(rt, incident, check, line)
}

fn try_candidates(
    rt: &mut Runtime,
    incident: &Incident,
    check: &Check,
    mut line: IncidentLine,
) -> anyhow::Result<IncidentLine> {
    let policy = &rt.config.policy;
    let started = Instant::now();
    let mut tried = rt.store.tried_plans(incident.id, Phase::Fix)?;
    for candidate in candidates(rt, incident, check)? {
        let hash = candidate.plan.hash(check.unit.as_deref());
        if tried.contains(&hash) {
            continue;
        }
        if tried.len() >= policy.max_attempts as usize {
            break;
        }
        if started.elapsed() >= rt.config.cycle.phase_timeout.fix.std() {
            line.detail = format!(
                "phase 1 time ({}) used up; the next run goes on",
                rt.config.cycle.phase_timeout.fix
            );
            return Ok(line);
        }
        let outcome = try_plan(rt, incident, check, Phase::Fix, &candidate)?.tried;
        line.attempts
            .push(AttemptLine::new(&candidate, outcome.clone()));
        match outcome {
            Tried::Fixed => {
                line.verdict = Verdict::Fixed;
                line.detail = format!("fixed by {}", candidate.source);
                return Ok(line);
            }
            Tried::RestartLimit(reason) => {
                return pass_on(rt, incident, Phase::Escalate, reason, line)
            }
            Tried::DryRun => {}
            Tried::NotFixed(_) | Tried::Failed(_) => tried.push(hash),
        }
    }
    if rt.dry_run {
        line.detail = format!("dry run: {} plans would run", line.attempts.len());
        return Ok(line);
    }
    let reason = match tried.len() {
        0 => "phase 1: no learned pattern and no configured remedy".to_string(),
        n => format!("phase 1: {n} plan(s) tried, none fixed it"),
    };
    pass_on(rt, incident, Phase::Research, reason, line)
}

/// Patterns of the signature (best first, those that failed more often than they worked left
/// out), then the remedy list as one plan: its actions run in order, as the admin wrote them.
fn candidates(rt: &Runtime, incident: &Incident, check: &Check) -> anyhow::Result<Vec<Candidate>> {
    let mut list = Vec::new();
    for pattern in rt.store.patterns_for(&incident.signature)? {
        if pattern.failures > pattern.successes {
            continue;
        }
        match serde_json::from_str::<Plan>(&pattern.plan) {
            Ok(plan) => list.push(Candidate::new(format!("pattern:{}", pattern.id), plan)),
            Err(err) => log::warn!(
                "pattern {} holds a plan this version cannot read: {err}",
                pattern.id
            ),
        }
    }
    if !check.remedy.is_empty() {
        list.push(Candidate::new("remedy", Plan(check.remedy.clone())));
    }
    Ok(list)
}
