//! `fix`, phase 1: learned patterns of the incident's signature first, best record first, then
//! the check's configured remedy list; each verified by the check. A pattern is replayed only
//! if the policy as it is now lets it run (see [`replay_refusal`]).

use super::attempt::{try_plan, Candidate, Tried};
use super::report::{pass_on, AttemptLine, IncidentLine, Verdict};
use super::{causes, cleared, look, Runtime};
use crate::actions::{Action, Plan};
use crate::config::{Check, Config};
use crate::fleet;
use crate::journald::CHANGE;
use crate::model::{Phase, Severity};
use crate::policy::{Policy, Verdict as PolicyVerdict};
use crate::store::{Incident, Taught};
use serde::Serialize;
use std::cell::OnceCell;
use std::collections::HashSet;
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
    // Fixing a cause releases its symptoms: they are looked at in the same run.
    let mut seen = HashSet::new();
    loop {
        let waiting: Vec<Incident> = rt
            .store
            .incidents_waiting(Phase::Fix)?
            .into_iter()
            .filter(|incident| seen.insert(incident.id))
            .collect();
        if waiting.is_empty() {
            return Ok(report);
        }
        let mut looked = causes::Looked::default();
        for incident in waiting {
            let line = match super::silenced(rt, &incident)? {
                Some(line) => line,
                None => fix_incident(rt, &incident, &mut looked)?,
            };
            report.incidents.push(line);
        }
    }
}

fn fix_incident(
    rt: &mut Runtime,
    incident: &Incident,
    looked: &mut causes::Looked,
) -> anyhow::Result<IncidentLine> {
    let mut line = IncidentLine::new(incident);
    let config = rt.config;
    let Some(check) = config.check(&incident.check) else {
        line.detail = format!(
            "check `{}` is no longer configured; resolve the incident by hand",
            incident.check
        );
        log::warn!(target: CHANGE, "incident {}: {}", incident.id, line.detail);
        return Ok(line);
    };
    // A symptom whose cause closed has its check run again there: not a second time below.
    let rechecked = match incident.caused_by {
        Some(cause) => {
            if let Some(summary) = symptom_cleared(rt, incident, check, cause)? {
                line.verdict = Verdict::Recovered;
                line.detail = summary;
                return Ok(line);
            }
            true
        }
        None => false,
    };
    if let Some((dependency, result)) = causes::dependency_down(rt, check, looked)? {
        line.detail = format!(
            "not acted on: `{}` depends on `{dependency}`, which fails ({}); that is worked on first",
            check.name,
            rt.store.mask(&result.summary)
        );
        log::info!("incident {}: {}", incident.id, line.detail);
        return Ok(line);
    }
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
    if !rechecked {
        if let Some(summary) = cleared(rt, check)? {
            line.verdict = Verdict::Recovered;
            line.detail = format!("the check passes again: {summary}");
            return Ok(line);
        }
    }
    try_candidates(rt, incident, check, line)
}

/// A symptom whose cause has closed: after `settle` (counted from the cause's closing), its
/// check runs again. Passing, it is recovered (returns the summary); still failing, it is a
/// fault of its own and is worked on from here, phase 1.
fn symptom_cleared(
    rt: &mut Runtime,
    incident: &Incident,
    check: &Check,
    cause: i64,
) -> anyhow::Result<Option<String>> {
    let settle = rt.config.cycle.settle.as_secs_f64();
    if let Some(closed_at) = rt.store.closed_at(cause)? {
        let wait = (closed_at + settle - crate::clock::now()).clamp(0.0, settle);
        std::thread::sleep(crate::clock::duration_from_secs(wait));
    }
    if let Some(summary) = cleared(rt, check)? {
        return Ok(Some(format!(
            "the check passes again once its cause #{cause} closed: {summary}"
        )));
    }
    let reason =
        format!("its cause #{cause} closed and the check still fails: worked on by itself");
    log::info!("incident {} ({}): {reason}", incident.id, check.name);
    rt.store.release_symptom(incident.id, &reason)?;
    Ok(None)
}

fn try_candidates(
    rt: &mut Runtime,
    incident: &Incident,
    check: &Check,
    mut line: IncidentLine,
) -> anyhow::Result<IncidentLine> {
    let policy = &rt.config.policy;
    let started = Instant::now();
    let plans = rt.store.episode_plans(incident.id, Phase::Fix)?;
    let (mut tried, mut refused) = (plans.run, plans.refused);
    let disabled = say_disabled(rt, incident, &mut line)?;
    // A remedy refused because it would start a second copy of a live process.
    let mut second_copy = None;
    // Look before restarting: what a restart cannot mend is handed on, not restarted over.
    let found = look::before_restarting(rt.config, incident, check);
    let mut not_restarted = 0;
    for (candidate, refusal) in candidates(rt, incident, check)? {
        let hash = candidate.plan.hash(check.unit.as_deref());
        if tried.contains(&hash) || refused.contains(&hash) {
            continue;
        }
        let (refusal, looked) = match &found {
            Some(found) if refusal.is_none() && candidate.plan.restarts() => {
                (Some(format!("a restart would hide {found}")), true)
            }
            _ => (refusal, false),
        };
        if let Some(reason) = refusal {
            if looked {
                not_restarted += 1;
            } else if candidate.is_admins_remedy() {
                second_copy = Some(format!("the remedy was not run: {reason}"));
            }
            refuse(rt, incident, check, &candidate, reason, &mut line)?;
            refused.push(hash);
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
            Tried::ConfigTestFailed(why) => {
                let reason = format!("phase 1: not restarted: {why}");
                return pass_on(rt, incident, Phase::Escalate, reason, line);
            }
            // Held by the circuit breaker: the hold moved the incident to phase 4.
            Tried::Held(reason) => {
                line.verdict = Verdict::Held;
                line.detail = reason;
                return Ok(line);
            }
            Tried::Waiting(reason) => {
                line.detail = reason;
                return Ok(line);
            }
            Tried::DryRun => {}
            Tried::NotFixed(_) | Tried::Failed(_) | Tried::Refused(_) => tried.push(hash),
        }
    }
    if rt.dry_run {
        line.detail = format!("dry run: {} plans would run", line.attempts.len());
        return Ok(line);
    }
    let mut reason = match tried.len() {
        0 if refused.is_empty() => {
            "phase 1: no learned pattern and no configured remedy".to_string()
        }
        0 if second_copy.is_some() && refused.len() == 1 => {
            "phase 1: no plan it may run".to_string()
        }
        0 if not_restarted > 0 => "phase 1: nothing restarted".to_string(),
        0 => "phase 1: no plan the policy lets run".to_string(),
        n => format!("phase 1: {n} plan(s) tried, none fixed it"),
    };
    if let Some(found) = found.filter(|_| not_restarted > 0) {
        reason.push_str(&format!(
            "; {found}: a restart cannot mend it, and would hide it"
        ));
    }
    let patterns_refused = refused
        .len()
        .saturating_sub(usize::from(second_copy.is_some()) + not_restarted);
    if patterns_refused > 0 {
        reason.push_str(&format!(
            "; {patterns_refused} learned pattern(s) skipped: the current [policy] refuses them"
        ));
    }
    if let Some(why) = second_copy {
        reason.push_str(&format!("; {why}"));
    }
    if disabled > 0 {
        reason.push_str(&format!(
            "; {disabled} learned pattern(s) not replayed: a person disabled them"
        ));
    }
    pass_on(rt, incident, Phase::Research, reason, line)
}

/// The patterns of the signature a person disabled are not replayed: the report says so, each
/// with who disabled it and why. Returns how many.
fn say_disabled(
    rt: &Runtime,
    incident: &Incident,
    line: &mut IncidentLine,
) -> anyhow::Result<usize> {
    let disabled = rt.store.disabled_patterns_for(&incident.signature)?;
    for pattern in &disabled {
        let why = pattern.disabled().unwrap_or_default();
        line.attempts.push(AttemptLine {
            source: format!("pattern:{}", pattern.id),
            plan: rt.store.mask(&Plan::describe_stored_text(&pattern.plan)),
            tried: Tried::Refused(format!("not replayed: {why}")),
        });
    }
    Ok(disabled.len())
}

/// A learned pattern the policy refuses now is not run and not deleted: the refusal is recorded
/// as a `rejected` attempt (once per incident), which `incidents show` lists with its reason.
fn refuse(
    rt: &mut Runtime,
    incident: &Incident,
    check: &Check,
    candidate: &Candidate,
    reason: String,
    line: &mut IncidentLine,
) -> anyhow::Result<()> {
    let verb = if candidate.source.starts_with("pattern:") {
        "not replayed"
    } else {
        "not run"
    };
    let reason = format!("{} {verb}: {reason}", candidate.source);
    log::warn!(target: CHANGE, "incident {} ({}): {reason}", incident.id, check.name);
    rt.store.record_rejected_plan(
        incident.id,
        Phase::Fix,
        &candidate.source,
        &candidate.plan.to_json(),
        &candidate.plan.hash(check.unit.as_deref()),
        &reason,
    )?;
    line.attempts
        .push(AttemptLine::new(candidate, Tried::Refused(reason)));
    Ok(())
}

/// Patterns of the signature (best first, those that failed more often than they worked left
/// out), each with the reason the policy refuses it now, if it does; then the remedy list as
/// one plan: its actions run in order, as the admin wrote them.
fn candidates(
    rt: &Runtime,
    incident: &Incident,
    check: &Check,
) -> anyhow::Result<Vec<(Candidate, Option<String>)>> {
    let mut list = Vec::new();
    // `/proc` is walked once for all the plans, and only if one of them would start something.
    let alive = OnceCell::new();
    let local = rt.store.patterns_for(&incident.signature)?;
    for pattern in &local {
        if pattern.failures > pattern.successes {
            continue;
        }
        if let Some(why) =
            fleet::withdrawn(rt.store, rt.config, &pattern.signature, &pattern.plan_hash)?
        {
            log::info!(
                "incident {}: pattern {} is not replayed: {why}",
                incident.id,
                pattern.id
            );
            continue;
        }
        match serde_json::from_str::<Plan>(&pattern.plan) {
            Ok(plan) => {
                let refusal = replay_refusal(rt.config, check, pattern.taught, &plan)
                    .or_else(|| second_copy(check, &plan, &alive));
                list.push((
                    Candidate::new(format!("pattern:{}", pattern.id), plan),
                    refusal,
                ));
            }
            Err(err) => log::warn!(
                "pattern {} holds a plan this version cannot read: {err}",
                pattern.id
            ),
        }
    }
    list.extend(fleet_candidates(rt, check, incident, &local, &alive)?);
    if !check.remedy.is_empty() {
        let plan = Plan(check.remedy.clone());
        let refusal = second_copy(check, &plan, &alive);
        list.push((Candidate::new("remedy", plan), refusal));
    }
    Ok(list)
}

/// The fleet's plans for the signature that this host's `[fleet] trust_after` trusts and that
/// it has not learned itself, as last pulled by `fleet sync` (no network here). Each is judged
/// as a plan that ran unattended: whatever vouched for it elsewhere, only this host's policy
/// lets it run here.
fn fleet_candidates(
    rt: &Runtime,
    check: &Check,
    incident: &Incident,
    local: &[crate::store::Pattern],
    alive: &OnceCell<Vec<i32>>,
) -> anyhow::Result<Vec<(Candidate, Option<String>)>> {
    let Some(config) = &rt.config.fleet else {
        return Ok(Vec::new());
    };
    let mut list = Vec::new();
    for pattern in rt.store.fleet_patterns_for(&incident.signature)? {
        if fleet::standing(&pattern, config) != fleet::Standing::Trusted
            || local.iter().any(|own| own.plan_hash == pattern.plan_hash)
        {
            continue;
        }
        match serde_json::from_str::<Plan>(&pattern.plan) {
            Ok(plan) => {
                let refusal = replay_refusal(rt.config, check, Taught::Unattended, &plan)
                    .or_else(|| second_copy(check, &plan, alive));
                let source = format!("fleet:{}", pattern.plan_hash);
                list.push((Candidate::new(source, plan), refusal));
            }
            Err(err) => log::warn!(
                "the fleet's pattern {} holds a plan this version cannot read: {err}",
                pattern.plan_hash
            ),
        }
    }
    Ok(list)
}

/// Phase 1 never starts a second copy of a live service: for a `process` check that names its
/// `process`, while a process of that name is alive (the check fails on its pid file, or on
/// the count), a plan that starts something (`start_unit`, `run`, `remedy`) without first
/// stopping it (`kill_process`, or `restart_unit`, which stops before it starts) is not run.
/// Returns why, naming the live pids (`alive`: found once, on the first plan that asks).
fn second_copy(check: &Check, plan: &Plan, alive: &OnceCell<Vec<i32>>) -> Option<String> {
    let name = check.kind.process_name()?;
    let first_start = plan
        .0
        .iter()
        .position(|action| action.kind().spec().starts)?;
    let stops_first = plan.0[..first_start]
        .iter()
        .any(|action| action.kind().spec().stops);
    if stops_first {
        return None;
    }
    let alive = alive.get_or_init(|| crate::sys::pids_named(name));
    if alive.is_empty() {
        return None;
    }
    let pids: Vec<String> = alive.iter().map(i32::to_string).collect();
    Some(format!(
        "`{name}` is alive (pid {}): the plan would start a second copy",
        pids.join(", ")
    ))
}

/// Why the policy as it is now refuses to replay a learned plan, or None when it may run.
/// A pattern outlives the policy that let it run, so it is judged again at every replay:
/// - root taught it with `--outside-policy`: replayed as written (that was the point);
/// - it is the check's configured remedy, still in the config: trusted like the remedy itself;
/// - otherwise `[policy]` judges it like an agent's plan. An action under `[policy] approve`
///   passes only if a person approved or typed this plan; a refusal always stands.
fn replay_refusal(config: &Config, check: &Check, taught: Taught, plan: &Plan) -> Option<String> {
    let unit = check.unit.as_deref();
    if taught == Taught::OutsidePolicy || is_configured_remedy(plan, &check.remedy, unit) {
        return None;
    }
    match Policy::new(&config.policy).judge_for(plan, config, check) {
        PolicyVerdict::Allowed => None,
        PolicyVerdict::NeedsApproval(_) if taught == Taught::Person => None,
        PolicyVerdict::NeedsApproval(reasons) => Some(format!(
            "no person approved it and the current [policy] wants one: {}",
            reasons.join("; ")
        )),
        PolicyVerdict::Rejected(reasons) => Some(format!(
            "the current [policy] refuses it: {}",
            reasons.join("; ")
        )),
    }
}

fn is_configured_remedy(plan: &Plan, remedy: &[Action], unit: Option<&str>) -> bool {
    !remedy.is_empty() && plan.hash(unit) == Plan(remedy.to_vec()).hash(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOUCH: &str = r#"[{"action": "run", "argv": ["/usr/bin/touch", "/tmp/victim"]}]"#;
    const TOUCH_TOML: &str = r#"[{ action = "run", argv = ["/usr/bin/touch", "/tmp/victim"] }]"#;

    /// `web` has the touch plan as its configured remedy; `bare` has no remedy.
    fn config(policy: &str) -> Config {
        let text = format!(
            "{policy}\n[[checks]]\nname = \"web\"\nkind = \"memory\"\nremedy = {TOUCH_TOML}\n\
             [[checks]]\nname = \"bare\"\nkind = \"memory\"\n"
        );
        Config::parse("test.toml", &text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn refusal(config: &Config, check: &str, taught: Taught) -> Option<String> {
        let plan: Plan = serde_json::from_str(TOUCH).unwrap();
        replay_refusal(config, config.check(check).unwrap(), taught, &plan)
    }

    #[test]
    fn a_replayed_plan_is_judged_by_the_policy_of_the_day() {
        let narrow = config("[policy]\ncommands = []\n");
        let reason = refusal(&narrow, "bare", Taught::Unattended).expect("refused");
        assert!(
            reason.contains("matches no entry of [policy] commands"),
            "{reason}"
        );
        // A person's word stands for approval, never for what the policy refuses.
        assert!(refusal(&narrow, "bare", Taught::Person).is_some());
        assert_eq!(refusal(&narrow, "bare", Taught::OutsidePolicy), None);
    }

    #[test]
    fn approval_actions_replay_only_what_a_person_vouched_for() {
        let approve = config(
            "[policy]\nactions = []\napprove = [\"run\"]\ncommands = [[\"/usr/bin/touch\", \"**\"]]\n",
        );
        let reason = refusal(&approve, "bare", Taught::Unattended).expect("needs a person");
        assert!(reason.contains("no person approved it"), "{reason}");
        assert_eq!(refusal(&approve, "bare", Taught::Person), None);
        let allowed = config("[policy]\nactions = [\"run\"]\napprove = []\ncommands = [[\"/usr/bin/touch\", \"**\"]]\n");
        assert_eq!(refusal(&allowed, "bare", Taught::Unattended), None);
    }

    #[test]
    fn the_checks_own_remedy_stays_trusted_while_it_is_configured() {
        let narrow = config("[policy]\ncommands = []\n");
        assert_eq!(refusal(&narrow, "web", Taught::Unattended), None);
    }
}
