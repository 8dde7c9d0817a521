//! The metrics defined in orchestrator-metrics(1) (the doc comment of `Command::Metrics` in
//! cli.rs), computed from the store, as JSON (those names exactly) and as the Prometheus text
//! exposition format.

use crate::checks::Perf;
use crate::store::{CheckState, Counts, Store};
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
    pub auto_fix_rate: Option<f64>,
    pub escalation_rate: Option<f64>,
    pub phase_success_rate: BTreeMap<String, Option<f64>>,
    pub ttr_seconds: BTreeMap<String, Ttr>,
    pub patterns_total: i64,
    pub patterns_new: i64,
    pub pattern_fixes: i64,
    pub agent_agreement: BTreeMap<String, f64>,
    pub notifications_failed: i64,
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
    let counts = store.metric_counts(crate::clock::now() - since_secs)?;
    Ok(from_counts(counts))
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
        auto_fix_rate: ratio(auto_fixed, decided),
        escalation_rate: ratio(counts.escalated, decided),
        phase_success_rate,
        ttr_seconds,
        patterns_total: counts.patterns_total,
        patterns_new: counts.patterns_new,
        pattern_fixes: counts.pattern_fixes,
        agent_agreement,
        notifications_failed: counts.notifications_failed,
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

/// The Prometheus text format: the metrics above, then per-check status and perfdata.
pub fn prometheus(metrics: &Metrics, checks: &[CheckState]) -> String {
    let mut out = Exposition(String::new());
    out.single(
        "detected",
        "Incidents opened in the window.",
        metrics.detected.to_string(),
    );
    out.single(
        "recovered",
        "Incidents closed by their check passing before any plan fixed them.",
        metrics.recovered.to_string(),
    );
    out.family(
        "fixed_by_phase",
        "Incidents resolved by a verified plan in the phase.",
    );
    for (phase, n) in &metrics.fixed_by_phase {
        out.sample("fixed_by_phase", &[("phase", phase)], n.to_string());
    }
    out.single(
        "auto_fixed",
        "Incidents fixed in phases 1 to 3.",
        metrics.auto_fixed.to_string(),
    );
    out.single(
        "escalated",
        "Incidents that reached phase 4.",
        metrics.escalated.to_string(),
    );
    out.single(
        "open",
        "Incidents still in phases 1 to 3.",
        metrics.open.to_string(),
    );
    out.single(
        "auto_fix_rate",
        "auto_fixed / (auto_fixed + escalated).",
        number(metrics.auto_fix_rate),
    );
    out.single(
        "escalation_rate",
        "escalated / (auto_fixed + escalated).",
        number(metrics.escalation_rate),
    );
    out.family(
        "phase_success_rate",
        "Fixed in the phase / incidents that entered it.",
    );
    for (phase, rate) in &metrics.phase_success_rate {
        out.sample("phase_success_rate", &[("phase", phase)], number(*rate));
    }
    out.family(
        "ttr_seconds",
        "Detection to resolution, by resolving phase.",
    );
    for (phase, ttr) in &metrics.ttr_seconds {
        for (stat, value) in [("p50", ttr.p50), ("p90", ttr.p90), ("mean", ttr.mean)] {
            out.sample(
                "ttr_seconds",
                &[("phase", phase), ("stat", stat)],
                number(Some(value)),
            );
        }
    }
    out.single(
        "patterns_total",
        "Learned patterns.",
        metrics.patterns_total.to_string(),
    );
    out.single(
        "patterns_new",
        "Patterns learned in the window.",
        metrics.patterns_new.to_string(),
    );
    out.single(
        "pattern_fixes",
        "Phase-1 fixes by a learned pattern.",
        metrics.pattern_fixes.to_string(),
    );
    out.family("agent_agreement", "Share of phase-3 rounds by agreement.");
    for (agreement, share) in &metrics.agent_agreement {
        out.sample(
            "agent_agreement",
            &[("agreement", agreement)],
            number(Some(*share)),
        );
    }
    out.typed_family(
        "notifications_failed_total",
        "Notifications refused for good (SMTP 5xx, a malformed address); the incident page shows the server's words.",
        "counter",
    );
    out.sample(
        "notifications_failed_total",
        &[],
        metrics.notifications_failed.to_string(),
    );
    check_series(&mut out, checks);
    out.0
}

fn check_series(out: &mut Exposition, checks: &[CheckState]) {
    out.family(
        "check_status",
        "Last result of each check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
    );
    for check in checks {
        let code = crate::model::Status::parse(&check.status)
            .map(|s| s.code())
            .unwrap_or(3);
        out.sample("check_status", &[("check", &check.name)], code.to_string());
    }
    out.family(
        "check_perfdata",
        "Performance data of each check's last result, in base units (seconds, bytes).",
    );
    for check in checks {
        let perf: Vec<Perf> = serde_json::from_str(&check.perfdata).unwrap_or_default();
        for p in perf {
            out.sample(
                "check_perfdata",
                &[("check", &check.name), ("label", &p.label)],
                number(Some(base_units(p.value, &p.uom))),
            );
        }
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
        let checks = vec![CheckState {
            name: "a\"b".into(),
            kind: "command".into(),
            status: "warning".into(),
            summary: "slow".into(),
            duration_ms: 5,
            checked_at: 0.0,
            last_ok_at: None,
            perfdata: r#"[{"label":"time","value":5.0,"uom":"ms"}]"#.into(),
        }];
        let text = prometheus(&from_counts(Counts::default()), &checks);
        assert!(
            text.contains("orchestrator_check_status{check=\"a\\\"b\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("orchestrator_check_perfdata{check=\"a\\\"b\",label=\"time\"} 0.005"),
            "{text}"
        );
        assert!(text.contains("orchestrator_auto_fix_rate NaN"));
    }
}
