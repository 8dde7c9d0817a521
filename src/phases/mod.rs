//! The phases of a cycle (docs/architecture.md, "An incident's life"): the operations behind `scan`, `fix`, … Commands
//! parse and print; these decide and record.

pub mod agentic;
pub mod approval;
pub mod attempt;
pub mod causes;
pub mod consult;
pub mod deliver;
pub mod escalate;
pub mod fix;
pub mod look;
pub mod maintenance;
pub mod notices;
pub mod report;
pub mod research;
pub mod scan;
pub mod unrecorded;

use crate::checks::{self, CheckResult, Look};
use crate::config::{Check, Config};
use crate::exec;
use crate::learning;
use crate::model::Status;
use crate::store::{Failure, Incident, Observation, Store};
use report::{IncidentLine, Verdict};

/// What every phase works with.
pub struct Runtime<'a> {
    pub config: &'a Config,
    pub store: &'a mut Store,
    pub dry_run: bool,
}

/// Evidence kept with an incident: the check's longer output, bounded.
const EVIDENCE_BYTES: usize = 4096;

fn bounded(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut cut = limit;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}\n[truncated]", &text[..cut])
}

impl Runtime<'_> {
    /// Records a check result seen by a scan (or a pre-check that counts as one) and updates the
    /// incident it concerns. Returns the incident and what happened to it, if anything did.
    pub fn observe(
        &mut self,
        check: &Check,
        result: &CheckResult,
    ) -> crate::store::Result<Option<(i64, Observation)>> {
        self.store
            .record_check(&check.name, check.kind.name(), result, true)?;
        let Some(severity) = result.status.severity() else {
            return Ok(self
                .store
                .observe_pass(&check.name)?
                .map(|id| (id, Observation::Recovered)));
        };
        let policy = &self.config.policy;
        // From the summary as it is stored, so no secret is kept in the signature either.
        let signature = learning::signature(&check.name, &self.store.mask(&result.summary));
        let evidence = bounded(&result.output, EVIDENCE_BYTES);
        let failure = Failure {
            check: &check.name,
            signature: &signature,
            severity,
            summary: &result.summary,
            evidence: &evidence,
            reopen_within: policy.reopen_within.as_secs_f64(),
            flapping_reopened: policy.flapping.reopened,
            flapping_within: policy.flapping.within.as_secs_f64(),
        };
        Ok(Some(self.store.observe_failure(&failure)?))
    }

    /// Runs a check outside a scan, from where the last scan left off (a log's offset, a
    /// process's CPU sample), leaving that where it is for the next scan.
    pub fn look(&self, check: &Check, look: Look) -> crate::store::Result<CheckResult> {
        let memory = self.store.check_memory(&check.name)?;
        Ok(checks::run_check(check, look, &memory))
    }

    /// Runs a check to verify a plan; recorded as the check's latest result, not as a scan.
    pub fn verify(&self, check: &Check) -> crate::store::Result<CheckResult> {
        let result = self.look(check, Look::Verify)?;
        self.store
            .record_check(&check.name, check.kind.name(), &result, false)?;
        Ok(result)
    }

    /// Closes attempts a killed process left running: first ends what the interrupted action
    /// left running (its direct child died with orchestrator; its descendants did not), so the
    /// plan is never retried while an orphan of it still repairs; then checks their incidents
    /// again: one whose check now passes is recovered.
    pub fn recover_interrupted(&mut self) -> crate::store::Result<Vec<i64>> {
        let interrupted = self.store.running_attempts()?;
        let mut recovered = Vec::new();
        for attempt in interrupted {
            let killed = attempt
                .trace
                .as_ref()
                .map(exec::end_leftovers)
                .unwrap_or_default();
            let reason = interrupted_reason(&killed);
            self.store.interrupt_attempt(attempt.id, &reason)?;
            let incident = attempt.incident;
            log::warn!(
                "attempt {} on incident {incident} was interrupted ({reason}); checking again",
                attempt.id
            );
            let incident = self.store.incident(incident)?;
            let Some(check) = self.config.check(&incident.check) else {
                continue;
            };
            let result = self.look(check, Look::Recheck)?;
            if result.status == Status::Ok {
                if let Some((id, _)) = self.observe(check, &result)? {
                    recovered.push(id);
                }
            }
        }
        Ok(recovered)
    }
}

/// The recorded reason of an interrupted attempt, naming what was left of it and killed.
fn interrupted_reason(killed: &[exec::Killed]) -> String {
    let mut reason = "the process running this plan stopped before it finished".to_string();
    if !killed.is_empty() {
        let names: Vec<String> = killed
            .iter()
            .map(|k| format!("{} ({})", k.pid, k.name))
            .collect();
        reason.push_str(&format!(
            "; killed {} process(es) it left running: {}",
            killed.len(),
            names.join(", ")
        ));
    }
    reason
}

/// A silenced check is still scanned, but no phase acts on its incident: the incident stays
/// where it is, untouched, and the phase that was due takes it up again once the silence ends.
/// Returns the line a phase reports for it, naming who silenced it, until when and why.
pub fn silenced(rt: &Runtime, incident: &Incident) -> crate::store::Result<Option<IncidentLine>> {
    let Some(silence) = rt.store.silence_of(&incident.check)? else {
        return Ok(None);
    };
    Ok(Some(IncidentLine {
        verdict: Verdict::Silenced,
        detail: silence.describe(),
        ..IncidentLine::new(incident)
    }))
}

/// Runs the check once more before acting: a fault that cleared since the scan is recorded as
/// recovered, and nothing is done to a healthy service. Returns the passing summary.
pub fn cleared(rt: &mut Runtime, check: &Check) -> crate::store::Result<Option<String>> {
    let fresh = rt.look(check, Look::Recheck)?;
    if fresh.status != Status::Ok {
        return Ok(None);
    }
    rt.observe(check, &fresh)?;
    Ok(Some(rt.store.mask(&fresh.summary)))
}
