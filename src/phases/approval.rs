//! Plans held for a person (DESIGN §3): approving runs and verifies the plan like any other
//! (at once from the CLI, or by the next `fix` when approved on the dashboard); dismissing
//! drops it and leaves the incident escalated for a person.

use super::attempt::{try_plan, Candidate, Tried};
use super::report::{AttemptLine, IncidentLine, Verdict};
use super::Runtime;
use crate::actions::Plan;
use crate::model::Phase;
use crate::policy::{Policy, Verdict as PolicyVerdict};
use crate::store::HeldPlan;

#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("incident {0} has no plan waiting for approval")]
    NothingHeld(i64),
    #[error("the held plan of incident {0} was already {1}")]
    AlreadyDecided(i64, String),
    #[error("the held plan of incident {incident} no longer passes the policy: {reasons}")]
    NoLongerAllowed { incident: i64, reasons: String },
}

fn pending(rt: &Runtime, incident: i64) -> anyhow::Result<HeldPlan> {
    let held = rt
        .store
        .held_plan(incident)?
        .ok_or(ApprovalError::NothingHeld(incident))?;
    if held.executed_at.is_some() {
        return Err(ApprovalError::AlreadyDecided(incident, "run".into()).into());
    }
    if let Some(decision) = held.decision.as_deref().filter(|d| *d == "dismissed") {
        return Err(ApprovalError::AlreadyDecided(incident, decision.into()).into());
    }
    Ok(held)
}

/// Approves the incident's held plan and runs it now.
pub fn approve(rt: &mut Runtime, incident: i64, by: &str) -> anyhow::Result<IncidentLine> {
    let held = pending(rt, incident)?;
    let plan: Plan = serde_json::from_str(&held.plan)?;
    let record = rt.store.incident(incident)?;
    let unit = rt.config.check(&record.check).and_then(|c| c.unit.clone());
    // The policy may have been narrowed since the plan was held: approval cannot widen it.
    if let PolicyVerdict::Rejected(reasons) =
        Policy::new(&rt.config.policy).judge(&plan, unit.as_deref())
    {
        return Err(ApprovalError::NoLongerAllowed {
            incident,
            reasons: reasons.join("; "),
        }
        .into());
    }
    if !rt.dry_run {
        rt.store.decide_held_plan(held.escalation, true, by)?;
    }
    run_held(rt, &held, plan)
}

pub fn dismiss(rt: &mut Runtime, incident: i64, by: &str) -> anyhow::Result<()> {
    let held = pending(rt, incident)?;
    rt.store.decide_held_plan(held.escalation, false, by)?;
    Ok(())
}

/// Runs plans approved elsewhere (the dashboard) that have not run yet.
pub fn run_approved(rt: &mut Runtime) -> anyhow::Result<Vec<IncidentLine>> {
    let mut lines = Vec::new();
    for held in rt.store.approved_plans_pending()? {
        match serde_json::from_str::<Plan>(&held.plan) {
            Ok(plan) => lines.push(run_held(rt, &held, plan)?),
            Err(err) => log::warn!(
                "escalation {}: the approved plan cannot be read: {err}",
                held.escalation
            ),
        }
    }
    Ok(lines)
}

fn run_held(rt: &mut Runtime, held: &HeldPlan, plan: Plan) -> anyhow::Result<IncidentLine> {
    let incident = rt.store.incident(held.incident)?;
    let mut line = IncidentLine::new(&incident);
    let Some(check) = rt.config.check(&incident.check) else {
        line.detail = format!("check `{}` is no longer configured", incident.check);
        return Ok(line);
    };
    let phase = Phase::from_number(held.phase).unwrap_or(Phase::Escalate);
    let candidate = Candidate {
        source: held.source.clone(),
        plan,
        approved: true,
    };
    let tried = try_plan(rt, &incident, check, phase, &candidate)?;
    if !rt.dry_run {
        rt.store.mark_held_plan_executed(held.escalation)?;
    }
    if tried == Tried::Fixed {
        rt.store
            .close_escalations(incident.id, "fixed by the approved plan")?;
        line.verdict = Verdict::Fixed;
    }
    line.detail = format!(
        "approved plan from {}: {}",
        held.source,
        candidate.plan.describe()
    );
    line.attempts.push(AttemptLine {
        source: held.source.clone(),
        plan: candidate.plan.describe(),
        tried,
    });
    Ok(line)
}
