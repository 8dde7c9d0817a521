//! `metrics`: reads without the cycle lock (WAL lets it read while a cycle writes), through a
//! read-only connection that never migrates.

use super::{load_config, open_store_readonly, output, CommandError};
use crate::cli::Global;
use crate::duration::Duration;
use crate::metrics::{self, Metrics};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn exec(
    global: &Global,
    since: Duration,
    prometheus: bool,
    textfile: Option<&Path>,
) -> Result<ExitCode, CommandError> {
    let config = load_config(global)?;
    let store = open_store_readonly(global, &config)?;
    if prometheus || textfile.is_some() {
        // Counters since the database began, not the window: `--since` is for people.
        let mut totals = store.totals(config.serve.stale_after.as_secs_f64())?;
        totals.breaker = store.breaker(&config.policy.budget)?;
        let text = metrics::prometheus(&totals, &store.check_states()?, &config.host_name());
        match textfile {
            Some(path) => write_atomically(path, &text)?,
            None => out!("{text}"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut computed = metrics::compute(&store, since.as_secs_f64())?;
    computed.circuit_breaker = store.breaker(&config.policy.budget)?;
    let host = config.host_name();
    if global.json {
        let mut document = serde_json::to_value(&computed)?;
        document["host"] = host.into();
        output::print_json(&document);
    } else {
        print_table(&computed, since, &host);
        print_failed(&computed, &store.failed_notifications(FAILED_SHOWN)?);
        print_breaker(&computed.circuit_breaker);
    }
    Ok(ExitCode::SUCCESS)
}

/// `[policy] budget`: open (plans are held, and why) or closed, with what it counts now.
fn print_breaker(breaker: &crate::store::Breaker) {
    let cap = |n: u32| match n {
        0 => "no cap".to_string(),
        n => n.to_string(),
    };
    outln!();
    if breaker.open {
        outln!("circuit breaker: OPEN, new plans are held for a person's approval");
        for reason in &breaker.reasons {
            outln!("  {reason}");
        }
        return;
    }
    let unit = breaker
        .most_restarted_unit
        .as_ref()
        .map(|most| {
            format!(
                "; most (re)started unit in the last day: {}, {} of {}",
                most.unit,
                most.restarts,
                cap(breaker.restarts_per_unit_per_day)
            )
        })
        .unwrap_or_default();
    outln!(
        "circuit breaker: closed ({} of {} actions in the last hour{unit})",
        breaker.actions_last_hour,
        cap(breaker.actions_per_hour)
    );
}

/// How many of the notifications that failed for good the table names, newest first.
const FAILED_SHOWN: i64 = 5;

/// Notifications that failed for good, and those still waiting to go out: a message nobody
/// got is what a person must not miss.
fn print_failed(m: &Metrics, failed: &[crate::store::Notification]) {
    outln!();
    outln!(
        "notifications: {} failed for good (ever), {} not sent yet",
        m.notifications_failed,
        m.notifications_unsent
    );
    for n in failed {
        outln!(
            "  #{} {} {} to {} (incident {}, {}): {}",
            n.id,
            n.kind,
            n.channel,
            n.recipient,
            n.incident,
            crate::clock::rfc3339(n.created_at),
            output::cell(n.last_error.as_deref().unwrap_or("no reason kept"), 100)
        );
    }
    if let Some(newest) = failed.first() {
        outln!(
            "  send one again: orchestrator escalate --resend {}",
            newest.id
        );
    }
}

/// node_exporter must never read half a file: write a temporary file beside it, then rename.
fn write_atomically(path: &Path, text: &str) -> Result<(), CommandError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new()
        .prefix(".orchestrator-metrics-")
        .tempfile_in(dir)?;
    file.write_all(text.as_bytes())?;
    file.as_file().sync_all()?;
    // Readable by node_exporter, which usually runs as another user.
    std::fs::set_permissions(
        file.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )?;
    file.persist(path).map_err(|e| {
        CommandError::Failure(anyhow::anyhow!(
            "cannot write {}: {}",
            path.display(),
            e.error
        ))
    })?;
    Ok(())
}

fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "-".into())
}

fn print_table(m: &Metrics, since: Duration, host: &str) {
    outln!(
        "incidents detected on {host} in the last {since}: {}",
        m.detected
    );
    outln!(
        "  auto-fixed     {:>6}   auto-fix rate    {}",
        m.auto_fixed,
        percent(m.auto_fix_rate)
    );
    outln!(
        "  escalated      {:>6}   escalation rate  {}",
        m.escalated,
        percent(m.escalation_rate)
    );
    outln!(
        "  recovered      {:>6}   (the check passed before a plan fixed it)",
        m.recovered
    );
    outln!("  open           {:>6}   (still in phases 1-3)", m.open);
    outln!(
        "  flapped        {:>6}   (came back too often; their verified fixes still count)",
        m.flapped
    );
    outln!(
        "  silenced       {:>6}   (detected under a silence, not acted on while it lasted)",
        m.silenced
    );
    outln!();
    let rows: Vec<Vec<String>> = (1..=4)
        .map(|phase| {
            let key = phase.to_string();
            let fixed = m
                .fixed_by_phase
                .get(&key)
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into());
            let success = m
                .phase_success_rate
                .get(&key)
                .map(|r| percent(*r))
                .unwrap_or_else(|| "-".into());
            let ttr = m.ttr_seconds.get(&key);
            let secs = |f: fn(&metrics::Ttr) -> f64| {
                ttr.map(|t| format!("{:.1}s", f(t)))
                    .unwrap_or_else(|| "-".into())
            };
            vec![
                key,
                fixed,
                success,
                secs(|t| t.p50),
                secs(|t| t.p90),
                secs(|t| t.mean),
            ]
        })
        .collect();
    outln!(
        "{}",
        output::table(
            &["PHASE", "FIXED", "SUCCESS", "TTR P50", "TTR P90", "TTR MEAN"],
            &rows
        )
    );
    outln!();
    outln!(
        "patterns: {} learned ({} new), {} phase-1 fixes by a pattern",
        m.patterns_total,
        m.patterns_new,
        m.pattern_fixes
    );
    if !m.agent_agreement.is_empty() {
        let shares: Vec<String> = m
            .agent_agreement
            .iter()
            .map(|(k, v)| format!("{k} {}", percent(Some(*v))))
            .collect();
        outln!("agent agreement in phase 3: {}", shares.join(", "));
    }
    if !m.agents.is_empty() {
        outln!();
        print_agents(&m.agents);
    }
}

/// Each agent's track record: a row per agent.
fn print_agents(agents: &[metrics::AgentMetrics]) {
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = agents
        .iter()
        .map(|a| {
            let r = &a.record;
            vec![
                r.agent.clone(),
                r.incidents.to_string(),
                r.proposed.to_string(),
                r.fixed.to_string(),
                r.refused.to_string(),
                r.abstained.to_string(),
                format!("{}/{}", r.good, r.bad),
                or_dash(a.mean_seconds.map(|s| format!("{s:.1}s"))),
                or_dash(a.tokens_per_incident.map(|t| format!("{t:.0}"))),
                or_dash(a.cost_usd_per_incident.map(|c| format!("${c:.4}"))),
            ]
        })
        .collect();
    outln!(
        "{}",
        output::table(
            &[
                "AGENT",
                "INCIDENTS",
                "PROPOSED",
                "FIXED",
                "REFUSED",
                "ABSTAINED",
                "GOOD/BAD",
                "TIME",
                "TOKENS/INC",
                "COST/INC",
            ],
            &rows
        )
    );
}
