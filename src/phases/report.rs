//! What a phase reports per incident, for tables and `--json`, and the hand-over to a later phase.

use super::attempt::{Candidate, Tried};
use super::Runtime;
use crate::model::Phase;
use crate::store::Incident;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct AttemptLine {
    pub source: String,
    pub plan: String,
    #[serde(flatten)]
    pub tried: Tried,
}

impl AttemptLine {
    pub fn new(candidate: &Candidate, tried: Tried) -> AttemptLine {
        AttemptLine {
            source: candidate.source.clone(),
            plan: candidate.plan.describe(),
            tried,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Fixed and verified in this phase.
    Fixed,
    /// The check passed before anything ran.
    Recovered,
    /// Handed to a later phase.
    PassedOn,
    /// Left where it was (not acted on, dry run, or out of time).
    Left,
    /// A plan waits for a person's approval.
    Held,
    /// Handed to a person: an escalation is open and its notifications queued.
    Escalated,
    /// Left untouched: a person silenced its check.
    Silenced,
}

#[derive(Debug, Serialize)]
pub struct IncidentLine {
    pub incident: i64,
    pub check: String,
    pub verdict: Verdict,
    pub detail: String,
    pub attempts: Vec<AttemptLine>,
}

impl IncidentLine {
    pub fn new(incident: &Incident) -> IncidentLine {
        IncidentLine {
            incident: incident.id,
            check: incident.check.clone(),
            verdict: Verdict::Left,
            detail: String::new(),
            attempts: Vec::new(),
        }
    }
}

/// Hands an incident to `phase`, recording why (unless this is a dry run).
pub fn pass_on(
    rt: &mut Runtime,
    incident: &Incident,
    phase: Phase,
    reason: String,
    mut line: IncidentLine,
) -> anyhow::Result<IncidentLine> {
    // The reason may quote an agent's diagnosis; it is logged and printed as it is stored.
    let reason = rt.store.mask(&reason);
    if !rt.dry_run {
        rt.store.move_to_phase(incident.id, phase, &reason)?;
        log::info!(
            "incident {} ({}) → phase {phase}: {reason}",
            incident.id,
            incident.check
        );
    }
    line.verdict = Verdict::PassedOn;
    line.detail = format!("→ phase {phase}: {reason}");
    Ok(line)
}

/// The hand-off of phase 2 when no research agent is configured: it passes the incident on
/// without a word about its cause.
pub const NO_RESEARCH_AGENT: &str = "phase 2: no research agent configured";
/// The same for phase 3 without consult agents.
pub const NO_CONSULT_AGENTS: &str = "phase 3: no consult agents configured";

/// A hand-off that says only that its phase had nothing to do.
pub fn says_nothing(reason: &str) -> bool {
    reason == NO_RESEARCH_AGENT || reason == NO_CONSULT_AGENTS
}
