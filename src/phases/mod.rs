//! The phases of a cycle (docs/architecture.md, "An incident's life"): the operations behind `scan`, `fix`, … Commands
//! parse and print; these decide and record.

pub mod agentic;
pub mod approval;
pub mod attempt;
pub mod consult;
pub mod escalate;
pub mod fix;
pub mod report;
pub mod research;
pub mod scan;
pub mod unrecorded;

use crate::checks::{self, CheckResult};
use crate::config::{Check, Config};
use crate::learning;
use crate::model::Status;
use crate::store::{Failure, Observation, Store};

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

    /// Runs a check to verify a plan; recorded as the check's latest result, not as a scan.
    pub fn verify(&self, check: &Check) -> crate::store::Result<CheckResult> {
        let result = checks::run_check(check);
        self.store
            .record_check(&check.name, check.kind.name(), &result, false)?;
        Ok(result)
    }

    /// Closes attempts a killed process left running, then checks their incidents again: one
    /// whose check now passes is recovered.
    pub fn recover_interrupted(&mut self) -> crate::store::Result<Vec<i64>> {
        let interrupted = self.store.interrupt_running_attempts()?;
        let mut recovered = Vec::new();
        for (attempt, incident) in interrupted {
            log::warn!("attempt {attempt} on incident {incident} was interrupted; checking again");
            let incident = self.store.incident(incident)?;
            let Some(check) = self.config.check(&incident.check) else {
                continue;
            };
            let result = checks::run_check(check);
            if result.status == Status::Ok {
                if let Some((id, _)) = self.observe(check, &result)? {
                    recovered.push(id);
                }
            }
        }
        Ok(recovered)
    }
}

/// Runs the check once more before acting: a fault that cleared since the scan is recorded as
/// recovered, and nothing is done to a healthy service. Returns the passing summary.
pub fn cleared(rt: &mut Runtime, check: &Check) -> crate::store::Result<Option<String>> {
    let fresh = checks::run_check(check);
    if fresh.status != Status::Ok {
        return Ok(None);
    }
    rt.observe(check, &fresh)?;
    Ok(Some(rt.store.mask(&fresh.summary)))
}
