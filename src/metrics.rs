//! The metrics defined in orchestrator-metrics(1) (the doc comment of `Command::Metrics` in
//! cli.rs), computed from the store, as JSON (those names exactly) and as the Prometheus text
//! exposition format.

use crate::checks::Perf;
use crate::store::{AgentRecord, Breaker, CheckState, Counts, Store, Totals};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Serialize)]
pub struct Ttr {
    pub p50: f64,
    pub p90: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    pub detected: i64,
    pub recovered: i64,
    pub fixed_by_phase: BTreeMap<String, i64>,
    pub auto_fixed: i64,
    pub escalated: i64,
    pub open: i64,
    /// Incidents that flapped; the fixes they undid still count in `fixed_by_phase`.
    pub flapped: i64,
    /// Incidents detected under a silence: never acted on while it lasted, not escalations.
    pub silenced: i64,
    pub auto_fix_rate: Option<f64>,
    pub escalation_rate: Option<f64>,
    pub phase_success_rate: BTreeMap<String, Option<f64>>,
    pub ttr_seconds: BTreeMap<String, Ttr>,
    pub patterns_total: i64,
    pub patterns_new: i64,
    pub pattern_fixes: i64,
    pub agent_agreement: BTreeMap<String, f64>,
    pub notifications_failed: i64,
    /// Each agent's track record over the window.
    pub agents: Vec<AgentMetrics>,
    pub notifications_unsent: i64,
    /// `[policy] budget` as it stands (set by the caller, which has the config).
    pub circuit_breaker: Breaker,
}

/// An agent's record, and what it costs per incident it was asked about.
#[derive(Debug, Clone, Serialize)]
pub struct AgentMetrics {
    #[serde(flatten)]
    pub record: AgentRecord,
    /// Seconds per answer.
    pub mean_seconds: Option<f64>,
    pub tokens_per_incident: Option<f64>,
    pub cost_usd_per_incident: Option<f64>,
}

impl AgentMetrics {
    fn of(record: AgentRecord) -> AgentMetrics {
        let per = |total: Option<f64>, n: i64| total.filter(|_| n > 0).map(|t| t / n as f64);
        let tokens = match (record.input_tokens, record.output_tokens) {
            (None, None) => None,
            (i, o) => Some((i.unwrap_or(0) + o.unwrap_or(0)) as f64),
        };
        AgentMetrics {
            mean_seconds: per(Some(record.seconds), record.consultations),
            tokens_per_incident: per(tokens, record.incidents),
            cost_usd_per_incident: per(record.cost_usd, record.incidents),
            record,
        }
    }
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

pub fn compute(store: &Store, since_secs: f64) -> crate::store::Result<Metrics> {
    let since = crate::clock::now() - since_secs;
    let counts = store.metric_counts(since)?;
    let mut metrics = from_counts(counts);
    metrics.agents = store
        .agent_records(since)?
        .into_iter()
        .map(AgentMetrics::of)
        .collect();
    Ok(metrics)
}

fn from_counts(counts: Counts) -> Metrics {
    let fixed = |phase: i64| counts.fixed_by_phase.get(&phase).copied().unwrap_or(0);
    let auto_fixed: i64 = (1..=3).map(fixed).sum();
    let decided = auto_fixed + counts.escalated;
    let phase_success_rate = (1..=3)
        .map(|n| {
            (
                n.to_string(),
                ratio(fixed(n), counts.entered_phase.get(&n).copied().unwrap_or(0)),
            )
        })
        .collect();
    let ttr_seconds = counts
        .ttr
        .into_iter()
        .map(|(phase, mut values)| {
            values.sort_by(f64::total_cmp);
            let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
            (
                phase.to_string(),
                Ttr {
                    p50: percentile(&values, 50.0),
                    p90: percentile(&values, 90.0),
                    mean,
                },
            )
        })
        .collect();
    let rounds: i64 = counts.agreement_rounds.values().sum();
    let agent_agreement = counts
        .agreement_rounds
        .iter()
        .map(|(k, n)| (k.clone(), *n as f64 / rounds.max(1) as f64))
        .collect();
    Metrics {
        detected: counts.detected,
        recovered: counts.recovered,
        fixed_by_phase: (1..=3).map(|n| (n.to_string(), fixed(n))).collect(),
        auto_fixed,
        escalated: counts.escalated,
        open: counts.open,
        flapped: counts.flapped,
        silenced: counts.silenced,
        auto_fix_rate: ratio(auto_fixed, decided),
        escalation_rate: ratio(counts.escalated, decided),
        phase_success_rate,
        ttr_seconds,
        patterns_total: counts.patterns_total,
        patterns_new: counts.patterns_new,
        pattern_fixes: counts.pattern_fixes,
        agent_agreement,
        notifications_failed: counts.notifications_failed,
        agents: Vec::new(),
        notifications_unsent: counts.notifications_unsent,
        circuit_breaker: Breaker::default(),
    }
}

fn number(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v}"),
        _ => "NaN".to_string(),
    }
}

/// Label values escaped as the exposition format asks: backslash, quote, newline.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, help: &str) {
        self.typed_family(name, help, "gauge");
    }
    fn typed_family(&mut self, name: &str, help: &str, kind: &str) {
        let _ = writeln!(
            self.0,
            "# HELP orchestrator_{name} {help}\n# TYPE orchestrator_{name} {kind}"
        );
    }
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: String) {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
            .collect();
        let labels = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{}}}", labels.join(","))
        };
        let _ = writeln!(self.0, "orchestrator_{name}{labels} {value}");
    }
    fn single(&mut self, name: &str, help: &str, value: String) {
        self.family(name, help);
        self.sample(name, &[], value);
    }
}

/// The Prometheus text format, named as the Prometheus naming guide asks: monotonic `_total`
/// counters since the database was created (kept as events happen, so this reads a few rows
/// on any history), `_ratio` gauges derived from them, a time-to-resolve histogram that sums
/// across hosts, the last cycle for staleness alerts, then per-check status and perfdata.
pub fn prometheus(totals: &Totals, checks: &[CheckState], host: &str) -> String {
    let mut out = Exposition(String::new());
    incident_counters(&mut out, totals);
    ratios(&mut out, totals);
    ttr_histogram(&mut out, totals);
    out.single(
        "incidents_open",
        "Incidents still in phases 1 to 3.",
        totals.open.to_string(),
    );
    out.single("patterns", "Learned patterns.", totals.patterns.to_string());
    breaker(&mut out, &totals.breaker);
    cycle_and_build(&mut out, totals, host);
    agent_series(&mut out, totals);
    fleet_series(&mut out, totals);
    escalation_series(&mut out, totals, checks);
    check_series(&mut out, checks);
    out.0
}

/// Each agent's track record: counters since the database began (migration 14), and the
/// verdicts people gave, which a later verdict may change (gauges).
fn agent_series(out: &mut Exposition, totals: &Totals) {
    let counters = [
        (
            "agent_consultations_total",
            "agent_consultations",
            "Answers recorded from the agent (votes and abstentions).",
        ),
        (
            "agent_incidents_total",
            "agent_incidents",
            "Incidents the agent was asked about.",
        ),
        (
            "agent_proposals_total",
            "agent_proposed",
            "Answers with a plan in the action vocabulary.",
        ),
        (
            "agent_fixes_total",
            "agent_fixed",
            "The agent's plans verified to fix the incident.",
        ),
        (
            "agent_refused_total",
            "agent_refused",
            "The agent's plans the policy refused, or outside the vocabulary.",
        ),
        (
            "agent_abstentions_total",
            "agent_abstained",
            "Answers without a usable plan (escalate, timeout, garbage).",
        ),
        (
            "agent_seconds_total",
            "agent_seconds",
            "Time the agent spent answering.",
        ),
        (
            "agent_cost_usd_total",
            "agent_cost_usd",
            "Cost the agent's CLI reported (Claude Code's total_cost_usd).",
        ),
    ];
    for (name, key, help) in counters {
        out.typed_family(name, help, "counter");
        for (agent, value) in totals.counters.get(key).into_iter().flatten() {
            out.sample(name, &[("agent", agent)], counter_value(*value));
        }
    }
    out.typed_family(
        "agent_tokens_total",
        "Tokens the agent's CLI reported, by direction (cache reads and writes count as input).",
        "counter",
    );
    for (key, direction) in [
        ("agent_input_tokens", "input"),
        ("agent_output_tokens", "output"),
    ] {
        for (agent, value) in totals.counters.get(key).into_iter().flatten() {
            out.sample(
                "agent_tokens_total",
                &[("agent", agent), ("direction", direction)],
                counter_value(*value),
            );
        }
    }
    out.family(
        "agent_feedback",
        "A person's verdicts on the agent's diagnoses (incidents feedback), by verdict.",
    );
    for (agent, good, bad) in &totals.verdicts {
        out.sample(
            "agent_feedback",
            &[("agent", agent), ("verdict", "good")],
            good.to_string(),
        );
        out.sample(
            "agent_feedback",
            &[("agent", agent), ("verdict", "bad")],
            bad.to_string(),
        );
    }
}

fn counter_value(value: f64) -> String {
    format!("{}", value.max(0.0))
}

fn incident_counters(out: &mut Exposition, totals: &Totals) {
    let unlabelled = [
        ("incidents_detected_total", "detected", "Incidents opened."),
        (
            "incidents_recovered_total",
            "recovered",
            "Incidents closed by their check passing before any plan fixed them.",
        ),
        ("incidents_escalated_total", "escalated", "Incidents that reached phase 4."),
        (
            "incidents_flapped_total",
            "flapped",
            "Incidents reopened too often and handed to a person; the fixes they undid stay counted as fixes.",
        ),
        (
            "incidents_silenced_total",
            "silenced",
            "Incidents detected while a silence covered their check.",
        ),
        (
            "incidents_pattern_fixed_total",
            "pattern_fixed",
            "Phase-1 fixes by a learned pattern.",
        ),
        (
            "notifications_failed_total",
            "notifications_failed",
            "Notifications refused for good (SMTP 5xx, a malformed address); the incident page shows the server's words.",
        ),
    ];
    for (name, key, help) in unlabelled {
        out.typed_family(name, help, "counter");
        out.sample(name, &[], counter_value(totals.counter(key, "")));
    }
    let by_phase = [
        (
            "incidents_auto_fixed_total",
            "auto_fixed",
            "Incidents resolved by a verified plan in the phase (not by a person).",
        ),
        (
            "incidents_entered_phase_total",
            "entered_phase",
            "Incidents that entered the phase (every incident enters phase 1).",
        ),
    ];
    for (name, key, help) in by_phase {
        out.typed_family(name, help, "counter");
        for phase in ["1", "2", "3"] {
            out.sample(
                name,
                &[("phase", phase)],
                counter_value(totals.counter(key, phase)),
            );
        }
    }
    out.typed_family(
        "agent_rounds_total",
        "Phase-3 voting rounds, by how many agents agreed.",
        "counter",
    );
    if let Some(rounds) = totals.counters.get("agent_rounds") {
        for (agreement, n) in rounds {
            out.sample(
                "agent_rounds_total",
                &[("agreement", agreement)],
                counter_value(*n),
            );
        }
    }
}

fn ratios(out: &mut Exposition, totals: &Totals) {
    let auto_fixed: f64 = ["1", "2", "3"]
        .iter()
        .map(|p| totals.counter("auto_fixed", p))
        .sum();
    let escalated = totals.counter("escalated", "");
    let decided = auto_fixed + escalated;
    let share = |part: f64, whole: f64| (whole > 0.0).then(|| part / whole);
    out.single(
        "auto_fix_ratio",
        "Auto-fixed / (auto-fixed + escalated), over the counters' lifetime.",
        number(share(auto_fixed, decided)),
    );
    out.single(
        "escalation_ratio",
        "Escalated / (auto-fixed + escalated), over the counters' lifetime.",
        number(share(escalated, decided)),
    );
    out.family(
        "phase_success_ratio",
        "Fixed in the phase / incidents that entered it, over the counters' lifetime.",
    );
    for phase in ["1", "2", "3"] {
        let rate = share(
            totals.counter("auto_fixed", phase),
            totals.counter("entered_phase", phase),
        );
        out.sample("phase_success_ratio", &[("phase", phase)], number(rate));
    }
}

fn ttr_histogram(out: &mut Exposition, totals: &Totals) {
    let name = "time_to_resolve_seconds";
    out.typed_family(
        name,
        "Detection to resolution of resolved incidents, by resolving phase.",
        "histogram",
    );
    for (phase, buckets) in &totals.ttr_buckets {
        let phase = phase.to_string();
        let mut cumulative = 0;
        for (le, count) in buckets {
            cumulative += count;
            let le = if le.is_infinite() {
                "+Inf".to_string()
            } else {
                format!("{le}")
            };
            let labels = [("phase", phase.as_str()), ("le", le.as_str())];
            out.sample(&format!("{name}_bucket"), &labels, cumulative.to_string());
        }
        let sum = totals.counter("ttr_sum", &phase);
        out.sample(
            &format!("{name}_sum"),
            &[("phase", &phase)],
            format!("{sum}"),
        );
        let count = cumulative.to_string();
        out.sample(&format!("{name}_count"), &[("phase", &phase)], count);
    }
}

/// `[policy] budget`: whether the next plan would be held, and what the hourly cap counts.
fn breaker(out: &mut Exposition, breaker: &Breaker) {
    out.single(
        "circuit_breaker_open",
        "1 when [policy] budget is reached: new plans are held for a person's approval.",
        u8::from(breaker.open).to_string(),
    );
    out.single(
        "plan_actions_last_hour",
        "Actions of plans run on this host within the last hour ([policy] budget.actions_per_hour counts them).",
        breaker.actions_last_hour.to_string(),
    );
}

/// In a fleet only: what waits for the central database, the last sync that reached it, and
/// what the blast radius did (contrib/prometheus/ alerts on them).
fn fleet_series(out: &mut Exposition, totals: &Totals) {
    let Some(fleet) = &totals.fleet else {
        return;
    };
    out.single(
        "fleet_outbox_events",
        "Events waiting in the outbox for the fleet database.",
        fleet.backlog.to_string(),
    );
    out.single(
        "fleet_last_sync_timestamp_seconds",
        "When a fleet sync last reached the fleet database (Unix time); 0 before the first.",
        format!("{}", fleet.last_sync_ok_at.unwrap_or(0.0)),
    );
    let counters = [
        (
            "fleet_lease_waits_total",
            "fleet_lease_waits",
            "Plans that waited because the blast radius of their signature was reached.",
        ),
        (
            "fleet_local_leases_total",
            "fleet_local_leases",
            "Plans run with a lease granted locally because the fleet database could not be reached.",
        ),
        (
            "fleet_pattern_fixed_total",
            "fleet_pattern_fixed",
            "Phase-1 fixes by a plan learned on other hosts of the fleet.",
        ),
    ];
    for (name, key, help) in counters {
        out.typed_family(name, help, "counter");
        out.sample(name, &[], counter_value(totals.counter(key, "")));
    }
}

fn cycle_and_build(out: &mut Exposition, totals: &Totals, host: &str) {
    out.single(
        "last_cycle_timestamp_seconds",
        "When the last cycle finished (Unix time); 0 before the first.",
        format!("{}", totals.last_cycle_finished_at.unwrap_or(0.0)),
    );
    out.single(
        "last_cycle_success",
        "1 when the newest cycle not still running finished, 0 when it failed or none ran.",
        u8::from(totals.last_cycle_success == Some(true)).to_string(),
    );
    out.family(
        "build_info",
        "Always 1; the labels are the version and the host's name as every message gives it.",
    );
    out.sample(
        "build_info",
        &[("version", env!("CARGO_PKG_VERSION")), ("host", host)],
        "1".into(),
    );
}

/// Per check, so that Alertmanager can group the alert by host and check; 0 for every check
/// known, so the series exists before the first escalation.
fn escalation_series(out: &mut Exposition, totals: &Totals, checks: &[CheckState]) {
    out.family(
        "escalations_open",
        "Escalations of the check that no person has acknowledged yet.",
    );
    let mut names: std::collections::BTreeSet<&str> =
        checks.iter().map(|c| c.name.as_str()).collect();
    names.extend(totals.escalations_open.keys().map(String::as_str));
    for name in names {
        let open = totals.escalations_open.get(name).copied().unwrap_or(0);
        out.sample("escalations_open", &[("check", name)], open.to_string());
    }
}

fn check_series(out: &mut Exposition, checks: &[CheckState]) {
    out.family(
        "check_status",
        "Last result of each check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
    );
    for check in checks {
        let code = check.status.code();
        out.sample("check_status", &[("check", &check.name)], code.to_string());
    }
    let mut by_unit: BTreeMap<&'static str, Vec<(String, String, f64)>> = BTreeMap::new();
    for check in checks {
        let perf: Vec<Perf> = serde_json::from_str(&check.perfdata).unwrap_or_default();
        for p in perf {
            let (unit, value) = base_unit(p.value, &p.uom);
            by_unit
                .entry(unit)
                .or_default()
                .push((check.name.clone(), p.label, value));
        }
    }
    for (unit, samples) in by_unit {
        let name = format!("check_perfdata{unit}");
        out.family(&name, perfdata_help(unit));
        for (check, label, value) in samples {
            out.sample(
                &name,
                &[("check", &check), ("label", &label)],
                number(Some(value)),
            );
        }
    }
}

fn perfdata_help(unit: &str) -> &'static str {
    match unit {
        "_seconds" => "Performance data of each check's last result measured in time, in seconds.",
        "_bytes" => "Performance data of each check's last result measured in bytes.",
        "_ratio" => "Performance data of each check's last result given in percent, as a ratio (0 to 1).",
        _ => "Performance data of each check's last result without a unit (counts, or a unit the plugin alone knows).",
    }
}

/// A perfdata value in its base unit, with the name suffix of that unit ("" for none).
pub fn base_unit(value: f64, uom: &str) -> (&'static str, f64) {
    match uom {
        "s" => ("_seconds", value),
        "ms" => ("_seconds", value / 1e3),
        "us" => ("_seconds", value / 1e6),
        "%" => ("_ratio", value / 100.0),
        "B" => ("_bytes", value),
        "KB" | "KiB" | "MB" | "MiB" | "GB" | "GiB" | "TB" | "TiB" => {
            ("_bytes", base_units(value, uom))
        }
        _ => ("", value),
    }
}

/// Plugin units to base units: s, B, % and counters stay; ms/us to seconds; KB… to bytes.
pub fn base_units(value: f64, uom: &str) -> f64 {
    match uom {
        "ms" => value / 1e3,
        "us" => value / 1e6,
        "KB" | "KiB" => value * 1024.0,
        "MB" | "MiB" => value * 1024f64.powi(2),
        "GB" | "GiB" => value * 1024f64.powi(3),
        "TB" | "TiB" => value * 1024f64.powi(4),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_percentiles() {
        let mut counts = Counts {
            detected: 10,
            escalated: 1,
            ..Counts::default()
        };
        counts.fixed_by_phase.insert(1, 6);
        counts.fixed_by_phase.insert(2, 2);
        counts.fixed_by_phase.insert(3, 1);
        counts.entered_phase.insert(1, 10);
        counts.entered_phase.insert(2, 4);
        counts.ttr.insert(1, vec![3.0, 1.0, 2.0, 10.0]);
        counts.agreement_rounds.insert("3/3".into(), 3);
        counts.agreement_rounds.insert("none".into(), 1);
        let m = from_counts(counts);
        assert_eq!(m.auto_fixed, 9);
        assert_eq!(m.auto_fix_rate, Some(0.9));
        assert_eq!(m.escalation_rate, Some(0.1));
        assert_eq!(m.phase_success_rate["1"], Some(0.6));
        assert_eq!(m.phase_success_rate["2"], Some(0.5));
        assert_eq!(m.phase_success_rate["3"], None);
        assert_eq!(m.ttr_seconds["1"].p50, 2.0);
        assert_eq!(m.ttr_seconds["1"].p90, 10.0);
        assert_eq!(m.ttr_seconds["1"].mean, 4.0);
        assert_eq!(m.agent_agreement["3/3"], 0.75);
    }

    #[test]
    fn perfdata_in_base_units_and_escaped_labels() {
        assert_eq!(base_units(250.0, "ms"), 0.25);
        assert_eq!(base_units(2.0, "KB"), 2048.0);
        assert_eq!(base_unit(50.0, "%"), ("_ratio", 0.5));
        assert_eq!(base_unit(3.0, "c"), ("", 3.0));
        let checks = vec![CheckState {
            name: "a\"b".into(),
            kind: "command".into(),
            status: crate::model::Status::Warning,
            summary: "slow".into(),
            duration_ms: 5,
            checked_at: 0.0,
            last_ok_at: None,
            perfdata: r#"[{"label":"time","value":5.0,"uom":"ms"},{"label":"size","value":2.0,"uom":"KB"}]"#.into(),
        }];
        let text = prometheus(&Totals::default(), &checks, "web-01");
        assert!(
            text.contains("orchestrator_check_status{check=\"a\\\"b\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "orchestrator_check_perfdata_seconds{check=\"a\\\"b\",label=\"time\"} 0.005"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "orchestrator_check_perfdata_bytes{check=\"a\\\"b\",label=\"size\"} 2048"
            ),
            "{text}"
        );
        assert!(text.contains("orchestrator_auto_fix_ratio NaN"));
        assert!(text.contains("orchestrator_last_cycle_success 0"));
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut totals = Totals::default();
        totals
            .ttr_buckets
            .insert(1, vec![(1.0, 2), (5.0, 0), (10.0, 3), (f64::INFINITY, 1)]);
        totals
            .counters
            .entry("ttr_sum".into())
            .or_default()
            .insert("1".into(), 42.5);
        let text = prometheus(&totals, &[], "web-01");
        for line in [
            "orchestrator_time_to_resolve_seconds_bucket{phase=\"1\",le=\"1\"} 2",
            "orchestrator_time_to_resolve_seconds_bucket{phase=\"1\",le=\"5\"} 2",
            "orchestrator_time_to_resolve_seconds_bucket{phase=\"1\",le=\"10\"} 5",
            "orchestrator_time_to_resolve_seconds_bucket{phase=\"1\",le=\"+Inf\"} 6",
            "orchestrator_time_to_resolve_seconds_sum{phase=\"1\"} 42.5",
            "orchestrator_time_to_resolve_seconds_count{phase=\"1\"} 6",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }
}
