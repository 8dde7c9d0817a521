//! Trying one plan on one incident, the step every acting phase shares: guard the restart
//! limit, record the attempt, run the plan, wait `settle`, verify with the check, learn.

use super::look::{self, ConfigTest};
use super::Runtime;
use crate::actions::fs::Keep;
use crate::actions::{execute_plan, Action, ExecOptions, KillScope, Plan};
use crate::clock::now;
use crate::config::Check;
use crate::fleet::{self, Lease};
use crate::journald::CHANGE;
use crate::model::{Outcome, Phase, Status};
use crate::service_files::ServiceFiles;
use crate::store::{Incident, Lesson, NewAttempt, Taught};
use serde::Serialize;

/// A plan and where it came from (`pattern:ID`, `remedy`, `agent:NAME`, `consensus`, `person`).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub source: String,
    pub plan: Plan,
    /// A person approved this very plan: the restart limit does not second-guess them.
    pub approved: bool,
}

impl Candidate {
    /// The check's configured remedies: written by the admin, not by an agent.
    pub fn is_admins_remedy(&self) -> bool {
        self.source == "remedy"
    }

    pub fn new(source: impl Into<String>, plan: Plan) -> Candidate {
        Candidate {
            source: source.into(),
            plan,
            approved: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", content = "detail", rename_all = "snake_case")]
pub enum Tried {
    Fixed,
    NotFixed(String),
    Failed(String),
    DryRun,
    /// Not run: the check has restarted too often; the incident needs a person.
    RestartLimit(String),
    /// Not run: a replayed plan (a learned pattern, an approved plan) that the policy as it is
    /// now refuses.
    Refused(String),
    /// Not run: the daemon's configuration test failed, so a restart would stop it for good; the
    /// incident needs a person (the reason quotes the test's output).
    ConfigTestFailed(String),
    /// Not run: the circuit breaker (`[policy] budget`) is open; the plan is held for a person's
    /// approval and the incident waits in phase 4.
    Held(String),
    /// Not run yet: the fleet's blast radius is reached for this signature (`[fleet]
    /// blast_radius`); the incident waits in its phase and the next run asks again.
    Waiting(String),
}

impl Tried {
    /// Why the plan did not fix the fault, if it ran and did not.
    pub fn failure(&self) -> Option<&str> {
        match self {
            Tried::NotFixed(why) | Tried::Failed(why) => Some(why),
            _ => None,
        }
    }
}

/// What came of trying a plan, and the attempt that records it (none when the restart limit
/// kept the plan from running).
pub struct Trial {
    pub tried: Tried,
    pub attempt: Option<i64>,
}

impl Trial {
    fn recorded(attempt: i64, tried: Tried) -> Trial {
        Trial {
            tried,
            attempt: Some(attempt),
        }
    }
}

/// Output kept per attempt.
const ATTEMPT_OUTPUT_BYTES: usize = 16 * 1024;

pub fn try_plan(
    rt: &mut Runtime,
    incident: &Incident,
    check: &Check,
    phase: Phase,
    candidate: &Candidate,
) -> anyhow::Result<Trial> {
    let plan = &candidate.plan;
    // Restart only what would start: the daemon's own test of its configuration first.
    let mut config_test = String::new();
    if let Some(argv) = look::config_test_of(rt.config, check).filter(|_| plan.restarts()) {
        if !rt.dry_run {
            match look::run_config_test(argv) {
                ConfigTest::Passed(said) => config_test = format!("{said}\n"),
                ConfigTest::Failed(why) => {
                    return refuse_restart(rt, incident, check, phase, candidate, why)
                }
            }
        }
    }
    if plan.restarts() && !candidate.approved {
        if let Some(reason) = restart_limit_reached(rt, check)? {
            return Ok(Trial {
                tried: Tried::RestartLimit(reason),
                attempt: None,
            });
        }
    }
    let lease = take_lease(rt, incident, candidate)?;
    if let Lease::Wait(reason) = lease {
        return Ok(Trial {
            tried: Tried::Waiting(reason),
            attempt: None,
        });
    }
    let trial = run_plan(rt, incident, check, phase, candidate, config_test);
    fleet::release(rt.config, &lease);
    trial
}

/// The fleet's word on acting on this signature now (see `fleet::lease`). A plan a person
/// approved is theirs, not the fleet's: it takes no lease, as it is not held back by the restart
/// limit either. What the fleet said is noted on the incident's timeline.
fn take_lease(rt: &Runtime, incident: &Incident, candidate: &Candidate) -> anyhow::Result<Lease> {
    if candidate.approved || rt.dry_run {
        return Ok(Lease::NotInFleet);
    }
    let lease = fleet::lease(rt.config, &incident.signature);
    match &lease {
        Lease::Wait(reason) => {
            log::warn!("incident {}: {reason}", incident.id);
            rt.store.note_fleet(incident.id, reason)?;
            rt.store.count("fleet_lease_waits")?;
        }
        Lease::Local(note) => {
            log::warn!("incident {}: {note}", incident.id);
            rt.store.note_fleet(incident.id, note)?;
            rt.store.count("fleet_local_leases")?;
        }
        Lease::Granted { .. } | Lease::NotInFleet => {}
    }
    Ok(lease)
}

/// Records, runs, settles and verifies a plan (under its lease, when in a fleet).
fn run_plan(
    rt: &mut Runtime,
    incident: &Incident,
    check: &Check,
    phase: Phase,
    candidate: &Candidate,
    config_test: String,
) -> anyhow::Result<Trial> {
    let plan = &candidate.plan;
    let unit = check.unit.as_deref();
    let plan_json = plan.to_json();
    let plan_hash = plan.hash(unit);
    let actions = plan.action_count(&check.remedy);
    let units = plan.units_started(unit, &check.remedy);
    // A person's approval stands above the budget, as it does above the restart limit.
    if !candidate.approved {
        let refusal = rt
            .store
            .budget_refusal(&rt.config.policy.budget, actions, &units)?;
        if let Some(reason) = refusal {
            return hold_for_budget(rt, incident, phase, candidate, &plan_json, reason);
        }
    }
    let attempt = rt.store.begin_attempt(&NewAttempt {
        incident: incident.id,
        phase,
        source: &candidate.source,
        plan_json: &plan_json,
        plan_hash: &plan_hash,
        restarts: plan.restarts(),
        actions,
        units: &units,
    })?;
    if rt.dry_run {
        let reason = format!("dry run: would run {}", plan.describe());
        rt.store
            .finish_attempt(attempt, Outcome::DryRun, &reason, "", &incident.signature)?;
        return Ok(Trial::recorded(attempt, Tried::DryRun));
    }
    log::info!(
        "incident {} ({}): phase {phase} tries {} from {}",
        incident.id,
        check.name,
        plan.describe(),
        candidate.source
    );
    let store = &*rt.store;
    let record_trace = |trace: Option<&crate::exec::Trace>| {
        // Not fatal: without the record, only the leftovers' sweep after a kill is lost.
        if let Err(err) = store.record_attempt_trace(attempt, trace) {
            log::warn!("attempt {attempt}: cannot record its processes: {err}");
        }
    };
    let keep = live_files(rt.config, check, candidate);
    let options = ExecOptions {
        unit,
        remedies: &check.remedy,
        keep_bytes: ATTEMPT_OUTPUT_BYTES,
        kill_scope: kill_scope(check, &rt.config.policy.processes, candidate),
        keep: keep.as_ref(),
        on_trace: &record_trace,
    };
    let full_before = look::full_filesystems(incident, check);
    let report = execute_plan(plan, &options);
    let output = format!("{config_test}{}", report.output());
    if !report.ok() {
        let reason = report
            .actions
            .iter()
            .find(|a| !a.ok)
            .map(|a| format!("{} failed: {}", a.kind, a.why()))
            .unwrap_or_default();
        // The reason quotes the command's output: logged and reported as it is stored.
        let reason = rt.store.mask(&reason);
        log::warn!(target: CHANGE, "incident {}: {reason}", incident.id);
        rt.store.finish_attempt(
            attempt,
            Outcome::Failed,
            &reason,
            &output,
            &incident.signature,
        )?;
        return Ok(Trial::recorded(attempt, Tried::Failed(reason)));
    }
    std::thread::sleep(rt.config.cycle.settle.std());
    let verdict = rt.verify(check)?;
    // A fix is verified when the failing fact is gone too: a service that answers again on a
    // filesystem still full is only hiding the fault until its next write.
    let hidden = (verdict.status == Status::Ok)
        .then(|| look::still_full(&full_before, incident, check))
        .flatten();
    if let Some(still) = hidden {
        let reason = format!(
            "not verified: the check passes after {}, but {still}",
            rt.config.cycle.settle
        );
        log::warn!(target: CHANGE, "incident {}: {reason}", incident.id);
        rt.store.finish_attempt(
            attempt,
            Outcome::NotFixed,
            &reason,
            &output,
            &incident.signature,
        )?;
        return Ok(Trial::recorded(attempt, Tried::NotFixed(reason)));
    }
    if verdict.status == Status::Ok {
        let lesson = Lesson {
            signature: &incident.signature,
            check: &check.name,
            plan_json: &plan_json,
            plan_hash: &plan_hash,
            taught: if candidate.approved {
                Taught::Person
            } else {
                Taught::Unattended
            },
        };
        let pattern = rt
            .store
            .record_fix(attempt, incident.id, phase, &output, &lesson)?;
        log::info!(
            "incident {} fixed in phase {phase} by {}; pattern {pattern} learned",
            incident.id,
            candidate.source
        );
        return Ok(Trial::recorded(attempt, Tried::Fixed));
    }
    let reason = format!(
        "the check still fails after {}: {}",
        rt.config.cycle.settle,
        rt.store.mask(&verdict.summary)
    );
    rt.store.finish_attempt(
        attempt,
        Outcome::NotFixed,
        &reason,
        &output,
        &incident.signature,
    )?;
    Ok(Trial::recorded(attempt, Tried::NotFixed(reason)))
}

/// A restarting plan not run because the daemon's configuration test failed: recorded as a
/// `rejected` attempt (it restarted nothing, and no learned pattern is blamed) whose reason
/// quotes the test's output.
fn refuse_restart(
    rt: &mut Runtime,
    incident: &Incident,
    check: &Check,
    phase: Phase,
    candidate: &Candidate,
    why: String,
) -> anyhow::Result<Trial> {
    let reason = format!("{} not run: {why}", candidate.source);
    log::warn!(target: CHANGE, "incident {} ({}): {reason}", incident.id, check.name);
    let attempt = rt.store.record_rejected_plan(
        incident.id,
        phase,
        &candidate.source,
        &candidate.plan.to_json(),
        &candidate.plan.hash(check.unit.as_deref()),
        &reason,
    )?;
    Ok(Trial::recorded(attempt, Tried::ConfigTestFailed(why)))
}

/// The circuit breaker is open: the plan is held for a person, as a plan `[policy] approve`
/// asks about is (`Store::hold_plan`: the incident goes to phase 4 with the reason), unless
/// this is a dry run.
fn hold_for_budget(
    rt: &mut Runtime,
    incident: &Incident,
    phase: Phase,
    candidate: &Candidate,
    plan_json: &str,
    reason: String,
) -> anyhow::Result<Trial> {
    let reason = format!(
        "plan from {} held for a person's approval: {reason}",
        candidate.source
    );
    if !rt.dry_run {
        rt.store
            .hold_plan(incident.id, phase, &candidate.source, plan_json, &reason)?;
    }
    log::warn!("incident {} ({}): {reason}", incident.id, incident.check);
    Ok(Trial {
        tried: Tried::Held(reason),
        attempt: None,
    })
}

/// What the plan's kills may reach: the incident's unit, the check's own process, the processes
/// `[policy]` names; and anything the admin's own remedies name.
fn kill_scope<'a>(
    check: &'a Check,
    processes: &'a [String],
    candidate: &Candidate,
) -> KillScope<'a> {
    KillScope {
        unit: check.unit.as_deref(),
        pidfile: check.kind.pid_file(),
        process: check.kind.process_name(),
        processes,
        admin_written: candidate.is_admins_remedy(),
    }
}

/// The live files a plan's `clean_files` leaves alone (`service_files`): for every plan but
/// the admin's own remedies and a plan a person approved. Gathered only for a plan that cleans.
fn live_files(
    config: &crate::config::Config,
    check: &Check,
    candidate: &Candidate,
) -> Option<Keep> {
    let cleans = candidate
        .plan
        .actions()
        .iter()
        .any(|a| matches!(a, Action::CleanFiles { .. }));
    (cleans && !candidate.is_admins_remedy() && !candidate.approved)
        .then(|| ServiceFiles::of(config, check).keep())
}

/// `restart_limit`: restarting plans on this check, or on any check of its service (one
/// budget per group), within the window, counted since the last scan that saw every check of
/// the group healthy. Monit counts cycles, which lets a slow restart loop run forever; a
/// wall-clock window with an explicit reset does not.
fn restart_limit_reached(rt: &Runtime, check: &Check) -> anyhow::Result<Option<String>> {
    let limit = &rt.config.policy.restart_limit;
    if limit.count == 0 {
        return Ok(None);
    }
    let group = group_of(rt.config, check);
    let window_start = now() - limit.within.as_secs_f64();
    let mut since = f64::INFINITY;
    for name in &group {
        let ok = rt.store.last_ok_at(name)?.unwrap_or(window_start);
        since = since.min(ok);
    }
    let since = since.max(window_start);
    let restarts = rt.store.restarts_since(&group, since)?;
    if restarts >= limit.count as i64 {
        let counted = match check.group() {
            Some(service) if group.len() > 1 => format!("the checks of service `{service}`"),
            _ => format!("`{}`", check.name),
        };
        return Ok(Some(format!(
            "restart limit reached: {restarts} restarting plans on {counted} within {} without a healthy scan",
            limit.within
        )));
    }
    Ok(None)
}

/// The names of the checks that share `check`'s restart budget: its service group, or itself.
fn group_of<'a>(config: &'a crate::config::Config, check: &'a Check) -> Vec<&'a str> {
    match check.group() {
        Some(group) => config
            .checks
            .iter()
            .filter(|c| c.group() == Some(group))
            .map(|c| c.name.as_str())
            .collect(),
        None => vec![check.name.as_str()],
    }
}
