//! What the commands print, typed: each phase's report serializes itself (serde, for `--json`)
//! and renders itself for a person ([`PhaseReport::render_text`]), so a renamed field is a
//! compile error rather than a table that prints `incident 0 ()`.

use super::output;
use crate::phases::attempt::Tried;
use crate::phases::broken_state::DirectReport;
use crate::phases::consult::ConsultReport;
use crate::phases::deliver::Delivery;
use crate::phases::escalate::EscalateReport;
use crate::phases::fix::FixReport;
use crate::phases::report::IncidentLine;
use crate::phases::research::ResearchReport;
use crate::phases::scan::{CheckLine, ScanReport};
use crate::store::Observation;
use serde::Serialize;
use serde_json::{json, Value};

/// A report a phase command prints, stores the counts of, and (for the phases that queue
/// notifications) completes with what was delivered after the cycle lock is released.
pub(crate) trait PhaseReport: Serialize {
    /// The lines a person reads on a terminal, without the last newline.
    fn render_text(&self) -> String;
    /// The sizes of its lists, stored with the cycle's row: `{"opened": 1, "incidents": 3}`.
    fn counts(&self) -> Value;
    /// The one journal line of a run in a unit, when the report is not printed there: the
    /// scan's. The acting phases log each change of state as it happens instead.
    fn journal_summary(&self) -> Option<String> {
        None
    }
    /// Takes the notifications sent after the lock was released (escalate, cycle).
    fn delivered(&mut self, _sent: Vec<Delivery>) {}
}

impl PhaseReport for ScanReport {
    fn render_text(&self) -> String {
        let rows: Vec<Vec<String>> = self.checks.iter().map(check_row).collect();
        output::table(&["CHECK", "STATUS", "TIME", "SUMMARY"], &rows)
    }

    fn counts(&self) -> Value {
        json!({
            "checks": self.checks.len(),
            "opened": self.opened.len(),
            "updated": self.updated.len(),
            "reopened": self.reopened.len(),
            "flapping": self.flapping.len(),
            "recovered": self.recovered.len(),
            "symptoms": self.symptoms.len(),
        })
    }

    fn journal_summary(&self) -> Option<String> {
        Some(format!("scan: {}", scan_summary(self)))
    }
}

fn check_row(check: &CheckLine) -> Vec<String> {
    let mut summary = output::cell(&check.summary, 90);
    if let (Some(id), Some(change)) = (check.incident, check.change) {
        if change != Observation::Seen {
            summary.push_str(&format!("  [incident {id} {}]", observation_word(change)));
        }
    }
    if let Some(silenced) = &check.silenced {
        summary.push_str(&format!("  [{silenced}]"));
    }
    if let Some(pending) = check.pending {
        summary.push_str(&format!(
            "  [failing {} of {} scans: not counted yet]",
            pending.streak, pending.of
        ));
    }
    vec![
        check.name.clone(),
        check.status.to_string(),
        format!("{}ms", check.duration_ms),
        summary,
    ]
}

fn observation_word(change: Observation) -> &'static str {
    match change {
        Observation::Opened => "opened",
        Observation::Seen => "seen",
        Observation::Reopened => "reopened",
        Observation::Flapping => "flapping",
        Observation::Recovered => "recovered",
    }
}

/// `3 checks, 2 ok, 1 failing (web); incidents: 1 opened`.
pub(crate) fn scan_summary(scan: &ScanReport) -> String {
    let checks = &scan.checks;
    let failing: Vec<&str> = checks
        .iter()
        .filter(|check| check.status != crate::model::Status::Ok)
        .map(|check| check.name.as_str())
        .collect();
    let noun = if checks.len() == 1 { "check" } else { "checks" };
    let mut line = format!(
        "{} {noun}, {} ok",
        checks.len(),
        checks.len() - failing.len()
    );
    if !failing.is_empty() {
        line.push_str(&format!(
            ", {} failing ({})",
            failing.len(),
            failing.join(", ")
        ));
    }
    let changes: Vec<String> = [
        (scan.opened.len(), "opened"),
        (scan.reopened.len(), "reopened"),
        (scan.flapping.len(), "flapping"),
        (scan.recovered.len(), "recovered"),
        (scan.updated.len(), "still open"),
    ]
    .iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, said)| format!("{count} {said}"))
    .collect();
    if changes.is_empty() {
        line.push_str("; no incident");
    } else {
        line.push_str(&format!("; incidents: {}", changes.join(", ")));
    }
    line
}

impl PhaseReport for FixReport {
    fn render_text(&self) -> String {
        let mut text = Vec::new();
        if !self.approved.is_empty() {
            text.push(incident_lines("approved plans", &self.approved));
        }
        text.push(incident_lines("phase 1", &self.incidents));
        text.join("\n")
    }

    fn counts(&self) -> Value {
        json!({
            "interrupted_recovered": self.interrupted_recovered.len(),
            "approved": self.approved.len(),
            "incidents": self.incidents.len(),
        })
    }
}

impl PhaseReport for ResearchReport {
    fn render_text(&self) -> String {
        incident_lines("phase 2", &self.incidents)
    }

    fn counts(&self) -> Value {
        json!({ "incidents": self.incidents.len() })
    }
}

impl PhaseReport for ConsultReport {
    fn render_text(&self) -> String {
        incident_lines("phase 3", &self.incidents)
    }

    fn counts(&self) -> Value {
        json!({ "incidents": self.incidents.len() })
    }
}

impl EscalateReport {
    /// A line per message sent (or not) after the cycle lock was released.
    fn delivery_lines(&self) -> Vec<String> {
        self.deliveries
            .iter()
            .map(|delivery| {
                let error = suffix(delivery.error.as_deref());
                format!(
                    "  {} {} to {} → {}{error}",
                    delivery.kind, delivery.channel, delivery.recipient, delivery.result
                )
            })
            .collect()
    }
}

impl PhaseReport for EscalateReport {
    fn render_text(&self) -> String {
        let mut text = incident_lines("phase 4", &self.incidents);
        for line in self.delivery_lines() {
            text.push('\n');
            text.push_str(&line);
        }
        text
    }

    fn counts(&self) -> Value {
        json!({
            "incidents": self.incidents.len(),
            "all_clear": self.all_clear.len(),
            "repeated": self.repeated.len(),
            "deliveries": self.deliveries.len(),
        })
    }

    fn delivered(&mut self, sent: Vec<Delivery>) {
        self.deliveries = sent;
    }
}

/// `approve`: the one incident whose held plan ran.
impl PhaseReport for IncidentLine {
    fn render_text(&self) -> String {
        incident_lines("approve", std::slice::from_ref(self))
    }

    fn counts(&self) -> Value {
        json!({ "incidents": 1 })
    }
}

/// `dismiss`: the held plan dropped.
#[derive(Debug, Serialize)]
pub(crate) struct Dismissed {
    pub incident: i64,
    pub dismissed: bool,
}

impl PhaseReport for Dismissed {
    fn render_text(&self) -> String {
        format!(
            "incident {}: held plan dismissed; the incident stays escalated",
            self.incident
        )
    }

    fn counts(&self) -> Value {
        json!({ "incidents": 1 })
    }
}

/// The per-incident lines of an acting phase, each attempt under its incident.
fn incident_lines(phase: &str, lines: &[IncidentLine]) -> String {
    let mut text = Vec::new();
    if lines.is_empty() {
        text.push(format!("{phase}: no incident waits for it"));
    }
    for line in lines {
        text.push(format!(
            "incident {} ({}): {}",
            line.incident, line.check, line.detail
        ));
        for attempt in &line.attempts {
            let (result, detail) = tried_words(&attempt.tried);
            text.push(format!(
                "  {} {} → {result}{}",
                attempt.source,
                attempt.plan,
                suffix(detail)
            ));
        }
    }
    text.join("\n")
}

/// What `--json` calls the result of an attempt, and its detail.
fn tried_words(tried: &Tried) -> (&'static str, Option<&str>) {
    match tried {
        Tried::Fixed => ("fixed", None),
        Tried::NotFixed(detail) => ("not_fixed", Some(detail)),
        Tried::Failed(detail) => ("failed", Some(detail)),
        Tried::DryRun => ("dry_run", None),
        Tried::RestartLimit(detail) => ("restart_limit", Some(detail)),
        Tried::Refused(detail) => ("refused", Some(detail)),
        Tried::ConfigTestFailed(detail) => ("config_test_failed", Some(detail)),
        Tried::Held(detail) => ("held", Some(detail)),
        Tried::Waiting(detail) => ("waiting", Some(detail)),
    }
}

/// `: detail` when there is one.
fn suffix(detail: Option<&str>) -> String {
    detail.map(|d| format!(": {d}")).unwrap_or_default()
}

/// `cycle`: every phase's report, in order.
#[derive(Debug, Serialize)]
pub(crate) struct CycleReport {
    pub scan: ScanReport,
    pub fix: FixReport,
    pub research: ResearchReport,
    pub consult: ConsultReport,
    pub escalate: EscalateReport,
    /// Each phase's part was printed on the terminal as the phase ended: what is left to say
    /// is what was delivered after the lock was released.
    #[serde(skip)]
    pub shown_live: bool,
}

impl PhaseReport for CycleReport {
    fn render_text(&self) -> String {
        if self.shown_live {
            let lines = self.escalate.delivery_lines();
            if lines.is_empty() {
                return String::new();
            }
            return format!("delivered:\n{}", lines.join("\n"));
        }
        [
            format!("{}\n", self.scan.render_text()),
            self.fix.render_text(),
            self.research.render_text(),
            self.consult.render_text(),
            self.escalate.render_text(),
        ]
        .join("\n")
    }

    fn counts(&self) -> Value {
        json!({
            "scan": self.scan.counts(),
            "fix": self.fix.counts(),
            "research": self.research.counts(),
            "consult": self.consult.counts(),
            "escalate": self.escalate.counts(),
        })
    }

    fn journal_summary(&self) -> Option<String> {
        Some(format!("cycle: {}", scan_summary(&self.scan)))
    }

    fn delivered(&mut self, sent: Vec<Delivery>) {
        self.escalate.delivered(sent);
    }
}

/// `scan` or `cycle` when the state could not be recorded: the checks, the state problem, and
/// what became of the direct message to a person.
#[derive(Debug, Serialize)]
pub(crate) struct UnrecordedReport {
    pub unrecorded: bool,
    pub state_error: String,
    pub scan: UnrecordedChecks,
    pub direct_escalation: DirectReport,
}

#[derive(Debug, Serialize)]
pub(crate) struct UnrecordedChecks {
    pub checks: Vec<CheckLine>,
}

impl UnrecordedReport {
    pub fn render_text(&self) -> String {
        let rows: Vec<Vec<String>> = self.scan.checks.iter().map(check_row).collect();
        let mut text = output::table(&["CHECK", "STATUS", "TIME", "SUMMARY"], &rows);
        text.push_str(&format!("\n\nNOT RECORDED: {}\n", self.state_error));
        text.push_str(&format!(
            "direct escalation: {}",
            direct_outcome(&self.direct_escalation)
        ));
        text
    }
}

/// What became of a message sent to a person directly (`scan`/`cycle` unrecorded,
/// `notify-failure`): its result and detail, then a line per channel and recipient.
pub(crate) fn direct_outcome(told: &DirectReport) -> String {
    let mut text = format!("{}{}", told.result, suffix(told.detail.as_deref()));
    for delivery in &told.deliveries {
        text.push_str(&format!(
            "\n  {} to {} → {}{}",
            delivery.channel,
            delivery.recipient,
            delivery.result,
            suffix(delivery.error.as_deref())
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    fn check(name: &str, status: Status) -> CheckLine {
        CheckLine {
            name: name.into(),
            kind: "memory",
            status,
            summary: String::new(),
            duration_ms: 1,
            incident: None,
            change: None,
            silenced: None,
            pending: None,
        }
    }

    #[test]
    fn a_healthy_scan_is_one_short_line() {
        let scan = ScanReport {
            checks: vec![check("a", Status::Ok), check("b", Status::Ok)],
            ..ScanReport::default()
        };
        assert_eq!(
            scan.journal_summary().unwrap(),
            "scan: 2 checks, 2 ok; no incident"
        );
    }

    #[test]
    fn failing_checks_and_incident_changes_are_named() {
        let scan = ScanReport {
            checks: vec![check("web", Status::Critical), check("db", Status::Ok)],
            opened: vec![1],
            updated: vec![2, 3],
            recovered: vec![4],
            ..ScanReport::default()
        };
        assert_eq!(
            scan.journal_summary().unwrap(),
            "scan: 2 checks, 1 ok, 1 failing (web); incidents: 1 opened, 1 recovered, 2 still open"
        );
        assert_eq!(scan.counts()["opened"], 1);
        assert_eq!(scan.counts()["updated"], 2);
    }

    #[test]
    fn acting_phases_leave_no_summary() {
        assert_eq!(FixReport::default().journal_summary(), None);
        assert_eq!(EscalateReport::default().journal_summary(), None);
    }

    #[test]
    fn an_incident_line_prints_its_id_check_and_attempts() {
        let line = IncidentLine {
            incident: 7,
            check: "web".into(),
            verdict: crate::phases::report::Verdict::Fixed,
            detail: "fixed".into(),
            attempts: vec![crate::phases::report::AttemptLine {
                source: "remedy".into(),
                plan: "restart_unit(web.service)".into(),
                tried: Tried::NotFixed("still down".into()),
            }],
        };
        assert_eq!(
            line.render_text(),
            "incident 7 (web): fixed\n  remedy restart_unit(web.service) → not_fixed: still down"
        );
    }
}
