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
        let totals = store.totals(config.serve.stale_after.as_secs_f64())?;
        let text = metrics::prometheus(&totals, &store.check_states()?, &config.host_name());
        match textfile {
            Some(path) => write_atomically(path, &text)?,
            None => print!("{text}"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let computed = metrics::compute(&store, since.as_secs_f64())?;
    let host = config.host_name();
    if global.json {
        let mut document = serde_json::to_value(&computed)?;
        document["host"] = host.into();
        output::print_json(&document);
    } else {
        print_table(&computed, since, &host);
    }
    Ok(ExitCode::SUCCESS)
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
    println!(
        "incidents detected on {host} in the last {since}: {}",
        m.detected
    );
    println!(
        "  auto-fixed     {:>6}   auto-fix rate    {}",
        m.auto_fixed,
        percent(m.auto_fix_rate)
    );
    println!(
        "  escalated      {:>6}   escalation rate  {}",
        m.escalated,
        percent(m.escalation_rate)
    );
    println!(
        "  recovered      {:>6}   (the check passed before a plan fixed it)",
        m.recovered
    );
    println!("  open           {:>6}   (still in phases 1-3)", m.open);
    println!(
        "  flapped        {:>6}   (came back too often; their verified fixes still count)",
        m.flapped
    );
    println!(
        "  silenced       {:>6}   (detected under a silence, not acted on while it lasted)",
        m.silenced
    );
    println!();
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
    println!(
        "{}",
        output::table(
            &["PHASE", "FIXED", "SUCCESS", "TTR P50", "TTR P90", "TTR MEAN"],
            &rows
        )
    );
    println!();
    println!(
        "patterns: {} learned ({} new), {} phase-1 fixes by a pattern",
        m.patterns_total, m.patterns_new, m.pattern_fixes
    );
    if !m.agent_agreement.is_empty() {
        let shares: Vec<String> = m
            .agent_agreement
            .iter()
            .map(|(k, v)| format!("{k} {}", percent(Some(*v))))
            .collect();
        println!("agent agreement in phase 3: {}", shares.join(", "));
    }
    if !m.agents.is_empty() {
        println!();
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
    println!(
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
