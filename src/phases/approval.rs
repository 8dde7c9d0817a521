//! A person's decisions, from the CLI or the dashboard. Plans held for a person: approving runs
//! and verifies the plan like any other (at once from the CLI, or by the next `fix` when
//! approved on the dashboard); dismissing drops it and leaves the incident escalated for a
//! person. Resolving by hand teaches phase 1 the plan that fixed it. Every plan is judged by
//! the policy as it is when it runs: a person's word stands for `[policy] approve`, never for
//! what the policy refuses — only root, from the CLI, explicitly, can teach beyond it.

use super::attempt::{try_plan, Candidate, Tried};
use super::report::{AttemptLine, IncidentLine, Verdict};
use super::Runtime;
use crate::actions::Plan;
use crate::config::Config;
use crate::exit::{EXIT_FAILURE, EXIT_NOTHING_TO_DO, EXIT_USAGE};
use crate::journald::CHANGE;
use crate::model::{HeldDecision, Phase};
use crate::policy::{Policy, Verdict as PolicyVerdict};
use crate::store::{HeldPlan, Store, StoreError, Taught};

#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("incident {0} has no plan waiting for approval")]
    NothingHeld(i64),
    #[error("the held plan of incident {0} was already {1}")]
    AlreadyDecided(i64, String),
    #[error("the held plan of incident {incident} no longer passes the policy: {reasons}")]
    NoLongerAllowed { incident: i64, reasons: String },
    #[error("the held plan of incident {0} cannot be read: {1}")]
    Unreadable(i64, serde_json::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Running the approved plan failed (the store, an action's bookkeeping): a runtime
    /// failure, kept as it came so its causes print once.
    #[error(transparent)]
    Run(anyhow::Error),
}

impl ApprovalError {
    /// No plan held, or one already decided, leaves nothing to do (3); the store's errors say
    /// for themselves; a plan that no longer passes or cannot be read failed (1), as does the
    /// run of an approved plan.
    pub fn exit_code(&self) -> u8 {
        match self {
            ApprovalError::NothingHeld(_) | ApprovalError::AlreadyDecided(..) => EXIT_NOTHING_TO_DO,
            ApprovalError::Store(err) => err.exit_code(),
            ApprovalError::NoLongerAllowed { .. }
            | ApprovalError::Unreadable(..)
            | ApprovalError::Run(_) => EXIT_FAILURE,
        }
    }
}

/// What a person decides on a held plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Dismiss,
}

/// Where the decision is made, which is what approving does. The dashboard never runs a plan
/// itself: it records the approval and the next `fix` runs the plan, so once a plan has a
/// decision there is nothing left to decide there. The CLI runs an approved plan at once, so it
/// may still approve (run now) or dismiss a plan approved on the dashboard that has not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecidedOn {
    /// `dry_run`: an approval is not recorded, since the plan's run is only a rehearsal.
    Cli {
        dry_run: bool,
    },
    Dashboard,
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("not a plan in the action vocabulary: {0}")]
    NotAPlan(serde_json::Error),
    #[error("refused by [policy]: {0}")]
    Refused(String),
}

impl ResolveError {
    /// The store's errors say for themselves (no incident, or already closed: 3); a plan that
    /// is no plan, or that the policy refuses, is the user's to fix (2).
    pub fn exit_code(&self) -> u8 {
        match self {
            ResolveError::Store(err) => err.exit_code(),
            ResolveError::NotAPlan(_) | ResolveError::Refused(_) => EXIT_USAGE,
        }
    }
}

/// How a plan a person types is judged before phase 1 learns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Teaching {
    /// Judged by `[policy]` like an agent's plan. The person typing it is the approval
    /// `[policy] approve` asks for; a refusal stands.
    WithinPolicy,
    /// Root, from the CLI, with `--outside-policy`: learned unjudged, and marked so in the
    /// store, so that phase 1 replays it as written.
    OutsidePolicy,
}

/// Approval cannot widen the policy: a plan is judged again under the policy as it is now,
/// which may have been narrowed since. Err holds the reasons.
pub fn still_allowed(config: &Config, check: &str, plan: &Plan) -> Result<(), String> {
    match Policy::new(&config.policy).judge(plan, config.unit_of(check)) {
        PolicyVerdict::Rejected(reasons) => Err(reasons.join("; ")),
        _ => Ok(()),
    }
}

/// A held plan may still run: as `still_allowed`, except that phase 1's own plans are trusted
/// as phase 1 trusts them (the circuit breaker holds those too): the check's configured remedy,
/// and a pattern root taught outside the policy.
fn held_still_allowed(
    store: &Store,
    config: &Config,
    check: &str,
    held: &HeldPlan,
    plan: &Plan,
) -> Result<(), String> {
    let unit = config.unit_of(check);
    let remedy = config
        .check(check)
        .map(|c| c.remedy.clone())
        .unwrap_or_default();
    if !remedy.is_empty() && plan.hash(unit) == Plan(remedy).hash(unit) {
        return Ok(());
    }
    let pattern = held
        .source
        .strip_prefix("pattern:")
        .and_then(|id| id.parse::<i64>().ok())
        .and_then(|id| store.pattern(id).ok());
    if pattern.is_some_and(|p| p.taught == Taught::OutsidePolicy) {
        return Ok(());
    }
    still_allowed(config, check, plan)
}

/// A person closes an incident; `plan` (JSON), the plan they say fixed it, is learned like any
/// verified fix once `teaching` lets it through. A refused plan changes nothing: the incident
/// stays as it was. Returns whether a plan was learned.
pub fn resolve_by_person(
    store: &mut Store,
    config: &Config,
    incident: i64,
    by: &str,
    note: &str,
    plan: Option<&str>,
    teaching: Teaching,
) -> Result<bool, ResolveError> {
    let record = store.incident(incident)?;
    let lesson = match plan {
        None => None,
        Some(text) => {
            let plan: Plan = serde_json::from_str(text).map_err(ResolveError::NotAPlan)?;
            let taught = match teaching {
                Teaching::WithinPolicy => {
                    still_allowed(config, &record.check, &plan).map_err(ResolveError::Refused)?;
                    Taught::Person
                }
                Teaching::OutsidePolicy => Taught::OutsidePolicy,
            };
            Some((
                plan.to_json(),
                plan.hash(config.unit_of(&record.check)),
                taught,
            ))
        }
    };
    let learned = lesson.is_some();
    store.resolve_by_person(
        incident,
        by,
        note,
        lesson
            .as_ref()
            .map(|(json, hash, taught)| (json.as_str(), hash.as_str(), *taught)),
    )?;
    Ok(learned)
}

/// The incident's held plan if a person may still decide on it from `on`.
fn pending(store: &Store, incident: i64, on: DecidedOn) -> Result<HeldPlan, ApprovalError> {
    let held = store
        .held_plan(incident)?
        .ok_or(ApprovalError::NothingHeld(incident))?;
    if held.executed_at.is_some() {
        return Err(ApprovalError::AlreadyDecided(incident, "run".into()));
    }
    match (held.decision, on) {
        (None, _) => Ok(held),
        (Some(decision @ HeldDecision::Dismissed), _) | (Some(decision), DecidedOn::Dashboard) => {
            Err(ApprovalError::AlreadyDecided(
                incident,
                decision.to_string(),
            ))
        }
        (Some(HeldDecision::Approved), DecidedOn::Cli { .. }) => Ok(held),
    }
}

/// Records a person's decision on the incident's held plan: the one set of rules for the CLI
/// and the dashboard. Approving judges the plan again under the policy as it is now (a person's
/// word never widens it) and returns the plan, for the caller to run at once or leave to the
/// next `fix`. Dismissing leaves the incident escalated for a person.
pub fn decide(
    store: &mut Store,
    config: &Config,
    incident: i64,
    decision: Decision,
    by: &str,
    on: DecidedOn,
) -> Result<(HeldPlan, Option<Plan>), ApprovalError> {
    let held = pending(store, incident, on)?;
    match decision {
        Decision::Dismiss => {
            store.decide_held_plan(held.escalation, false, by)?;
            Ok((held, None))
        }
        Decision::Approve => {
            let plan: Plan = serde_json::from_str(&held.plan)
                .map_err(|err| ApprovalError::Unreadable(incident, err))?;
            let check = store.incident(incident)?.check;
            held_still_allowed(store, config, &check, &held, &plan)
                .map_err(|reasons| ApprovalError::NoLongerAllowed { incident, reasons })?;
            if on != (DecidedOn::Cli { dry_run: true }) {
                store.decide_held_plan(held.escalation, true, by)?;
            }
            let held = HeldPlan {
                decision: Some(HeldDecision::Approved),
                decided_by: Some(by.to_string()),
                ..held
            };
            Ok((held, Some(plan)))
        }
    }
}

/// Approves the incident's held plan from the CLI and runs it now.
/// Its error is typed: a plan not there or already decided is nothing to do for the CLI.
pub fn approve(rt: &mut Runtime, incident: i64, by: &str) -> Result<IncidentLine, ApprovalError> {
    let on = DecidedOn::Cli {
        dry_run: rt.dry_run,
    };
    let (held, plan) = decide(rt.store, rt.config, incident, Decision::Approve, by, on)?;
    let plan = plan.expect("an approval returns its plan");
    run_held(rt, &held, plan).map_err(ApprovalError::Run)
}

pub fn dismiss(rt: &mut Runtime, incident: i64, by: &str) -> Result<(), ApprovalError> {
    let on = DecidedOn::Cli {
        dry_run: rt.dry_run,
    };
    decide(rt.store, rt.config, incident, Decision::Dismiss, by, on)?;
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
    // An approved plan waits out a silence too: it runs with the first `fix` after it ends.
    if let Some(line) = super::silenced(rt, &incident)? {
        return Ok(line);
    }
    let mut line = IncidentLine::new(&incident);
    let Some(check) = rt.config.check(&incident.check) else {
        line.detail = format!("check `{}` is no longer configured", incident.check);
        return Ok(line);
    };
    let phase = held.phase;
    let candidate = Candidate {
        source: held.source.clone(),
        plan,
        approved: true,
    };
    if let Err(reasons) =
        held_still_allowed(rt.store, rt.config, &incident.check, held, &candidate.plan)
    {
        return refuse_held(rt, held, phase, &candidate, &reasons, line);
    }
    let hash = candidate.plan.hash(check.unit.as_deref());
    // A refusal of an earlier approval (`refuse_held`) is not a try: approved again, it runs.
    if rt
        .store
        .episode_plans(incident.id, phase)?
        .run
        .contains(&hash)
    {
        // Only an approved plan that was interrupted twice gets here (a held plan never ran
        // before): orchestrator was killed running it each time, so it is not run a third time.
        rt.store.mark_held_plan_executed(held.escalation)?;
        line.detail = format!(
            "approved plan from {} not run again: it was interrupted twice; it is left to a person",
            held.source
        );
        log::warn!(target: CHANGE, "incident {}: {}", incident.id, line.detail);
        return Ok(line);
    }
    let tried = try_plan(rt, &incident, check, phase, &candidate)?.tried;
    if !rt.dry_run {
        rt.store.mark_held_plan_executed(held.escalation)?;
    }
    if tried == Tried::Fixed {
        rt.store
            .close_escalations(incident.id, "fixed by the approved plan")?;
        line.verdict = Verdict::Fixed;
    } else if let Some(why) = tried.failure().filter(|_| !rt.dry_run) {
        let reason = not_fixed_by_approval(held, why);
        log::warn!(target: CHANGE, "incident {}: {reason}", incident.id);
        rt.store.approved_plan_failed(held.escalation, &reason)?;
        line.verdict = Verdict::Escalated;
    }
    line.detail = match line.verdict {
        Verdict::Escalated => rt.store.incident(incident.id)?.handoff.unwrap_or_default(),
        _ => format!(
            "approved plan from {}: {}",
            held.source,
            candidate.plan.describe()
        ),
    };
    line.attempts.push(AttemptLine::new(&candidate, tried));
    Ok(line)
}

/// Why a person is needed once the plan they approved ran and did not fix it.
fn not_fixed_by_approval(held: &HeldPlan, why: &str) -> String {
    let by = held
        .decided_by
        .as_deref()
        .map(|by| format!(" approved by {by}"))
        .unwrap_or_default();
    format!(
        "phase {}: the plan from {}{by} ran and did not fix it ({why}); it needs a person",
        held.phase, held.source
    )
}

/// An approved plan the policy refuses now (it was narrowed after the approval): it does not
/// run, the refusal is recorded as a `rejected` attempt, and the plan waits for a person again.
fn refuse_held(
    rt: &mut Runtime,
    held: &HeldPlan,
    phase: Phase,
    candidate: &Candidate,
    reasons: &str,
    mut line: IncidentLine,
) -> anyhow::Result<IncidentLine> {
    let reason = format!(
        "the approved plan was not run: the current [policy] refuses it: {reasons}; it waits for a person's decision again"
    );
    log::warn!(target: CHANGE, "incident {}: {reason}", held.incident);
    if !rt.dry_run {
        let unit = rt.config.unit_of(&line.check);
        rt.store.record_rejected_plan(
            held.incident,
            phase,
            &held.source,
            &candidate.plan.to_json(),
            &candidate.plan.hash(unit),
            &reason,
        )?;
        rt.store.withdraw_approval(held.escalation, &reason)?;
    }
    line.detail = reason.clone();
    line.attempts
        .push(AttemptLine::new(candidate, Tried::Refused(reason)));
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_held_plan() -> (tempfile::TempDir, Store, i64, i64) {
        let (dir, mut store, incident) = crate::store::store_with_incident();
        let escalation = store
            .hold_plan(incident, Phase::Consult, "agent", "[]", "approve")
            .unwrap();
        (dir, store, incident, escalation)
    }

    const CLI: DecidedOn = DecidedOn::Cli { dry_run: false };

    #[test]
    fn nothing_held_or_decided_is_nothing_to_do_and_the_store_says_for_itself() {
        assert_eq!(
            ApprovalError::NothingHeld(1).exit_code(),
            EXIT_NOTHING_TO_DO
        );
        let decided = ApprovalError::AlreadyDecided(1, "dismissed".into());
        assert_eq!(decided.exit_code(), EXIT_NOTHING_TO_DO);
        let missing = ApprovalError::Store(StoreError::NoIncident(1));
        assert_eq!(missing.exit_code(), EXIT_NOTHING_TO_DO);
        let broken = ApprovalError::Store(StoreError::Missing("x.db".into()));
        assert_eq!(broken.exit_code(), EXIT_FAILURE);
        let narrowed = ApprovalError::NoLongerAllowed {
            incident: 1,
            reasons: "no".into(),
        };
        assert_eq!(narrowed.exit_code(), EXIT_FAILURE);
        let run = ApprovalError::Run(anyhow::anyhow!("disk on fire"));
        assert_eq!(run.exit_code(), EXIT_FAILURE);
    }

    #[test]
    fn a_plan_that_is_no_plan_or_refused_is_the_users_to_fix() {
        let not_a_plan = serde_json::from_str::<Plan>("{").unwrap_err();
        assert_eq!(ResolveError::NotAPlan(not_a_plan).exit_code(), EXIT_USAGE);
        assert_eq!(ResolveError::Refused("no".into()).exit_code(), EXIT_USAGE);
        let closed = ResolveError::Store(StoreError::AlreadyClosed(1, "resolved".into()));
        assert_eq!(closed.exit_code(), EXIT_NOTHING_TO_DO);
    }

    #[test]
    fn approving_or_dismissing_nothing_held_says_so_typed() {
        let (_dir, mut store, incident) = crate::store::store_with_incident();
        let config = Config::parse("t.toml", "").unwrap();
        let mut rt = Runtime {
            config: &config,
            store: &mut store,
            dry_run: false,
        };
        let err = dismiss(&mut rt, incident, "me").unwrap_err();
        assert!(matches!(err, ApprovalError::NothingHeld(_)), "{err}");
        let err = approve(&mut rt, 99, "me").unwrap_err();
        assert_eq!(err.exit_code(), EXIT_NOTHING_TO_DO, "{err}");
    }

    #[test]
    fn an_undecided_plan_can_be_decided_from_either_place() {
        let (_dir, store, incident, _) = store_with_held_plan();
        assert!(pending(&store, incident, CLI).is_ok());
        assert!(pending(&store, incident, DecidedOn::Dashboard).is_ok());
    }

    #[test]
    fn an_approval_not_yet_run_is_final_on_the_dashboard_but_the_cli_may_run_it() {
        let (_dir, mut store, incident, escalation) = store_with_held_plan();
        store
            .decide_held_plan(escalation, true, "dashboard")
            .unwrap();
        assert!(matches!(
            pending(&store, incident, DecidedOn::Dashboard),
            Err(ApprovalError::AlreadyDecided(_, decision)) if decision == "approved"
        ));
        assert!(pending(&store, incident, CLI).is_ok());
    }

    #[test]
    fn a_dismissed_or_run_plan_is_final_everywhere() {
        let config = Config::parse("test", "").unwrap();
        let (_dir, mut store, incident, escalation) = store_with_held_plan();
        let dismissed = decide(
            &mut store,
            &config,
            incident,
            Decision::Dismiss,
            "dashboard",
            DecidedOn::Dashboard,
        );
        assert!(dismissed.is_ok());
        for on in [CLI, DecidedOn::Dashboard] {
            assert!(matches!(
                decide(&mut store, &config, incident, Decision::Dismiss, "root", on),
                Err(ApprovalError::AlreadyDecided(_, decision)) if decision == "dismissed"
            ));
        }
        store.mark_held_plan_executed(escalation).unwrap();
        for on in [CLI, DecidedOn::Dashboard] {
            assert!(matches!(
                pending(&store, incident, on),
                Err(ApprovalError::AlreadyDecided(_, decision)) if decision == "run"
            ));
        }
    }

    #[test]
    fn a_plan_approved_again_after_a_refusal_runs() {
        const TRUE: &str = r#"[{"action": "run", "argv": ["/bin/true"]}]"#;
        let (_dir, mut store, incident) = crate::store::store_with_incident();
        let escalation = store
            .hold_plan(incident, Phase::Consult, "agent", TRUE, "approve")
            .unwrap();
        let config = Config::parse(
            "t.toml",
            "[cycle]\nsettle = \"1ms\"\n[policy]\nactions = [\"run\"]\ncommands = [[\"/bin/true\"]]\n\
             [[checks]]\nname = \"web\"\nkind = \"memory\"\n",
        )
        .unwrap();
        // What `refuse_held` leaves when the policy was narrowed after a first approval.
        let hash = serde_json::from_str::<Plan>(TRUE).unwrap().hash(None);
        store
            .record_rejected_plan(incident, Phase::Consult, "agent", TRUE, &hash, "refused")
            .unwrap();
        store.withdraw_approval(escalation, "refused").unwrap();
        let mut rt = Runtime {
            config: &config,
            store: &mut store,
            dry_run: false,
        };
        let line = approve(&mut rt, incident, "me").unwrap();
        assert!(
            !line.detail.contains("interrupted twice"),
            "{}",
            line.detail
        );
        assert_eq!(line.attempts.len(), 1, "{}", line.detail);
    }

    #[test]
    fn nothing_held_is_named() {
        let (_dir, store, _, _) = store_with_held_plan();
        assert!(matches!(
            pending(&store, 999, CLI),
            Err(ApprovalError::NothingHeld(999))
        ));
    }
}
