//! `cycle`: the phases in order, in one process and under the cycle lock — no copy of their
//! logic; then, with the lock released, the delivery of what phase 4 queued. On a terminal
//! each phase gets a line as it runs; piped or in the journal, only the report is printed.

use super::report::{scan_summary, CycleReport, PhaseReport};
use super::{load_config, or_tell_a_person, run_phase, CommandError};
use crate::cli::Global;
use crate::phases::report::{IncidentLine, Verdict};
use crate::phases::{self, Runtime};
use std::io::IsTerminal;
use std::time::Instant;

use std::process::ExitCode;

pub fn exec(global: &Global) -> Result<ExitCode, CommandError> {
    let progress = Progress {
        shown: !global.json && std::io::stdout().is_terminal(),
    };
    let config = load_config(global)?;
    let result = run_phase(global, &config, "cycle", true, |rt| {
        Ok::<_, CommandError>(CycleReport {
            scan: progress.step(rt, "scan", phases::scan::scan, scan_summary)?,
            fix: progress.step(rt, "fix", phases::fix::fix, |r| {
                verdicts(r.approved.iter().chain(&r.incidents))
            })?,
            research: progress.step(rt, "research", phases::research::research, |r| {
                verdicts(&r.incidents)
            })?,
            consult: progress.step(rt, "consult", phases::consult::consult, |r| {
                verdicts(&r.incidents)
            })?,
            escalate: progress.step(rt, "escalate", phases::escalate::escalate, |r| {
                verdicts(&r.incidents)
            })?,
        })
    })
    .map(|_| ExitCode::SUCCESS);
    or_tell_a_person(global, &config, result)
}

/// A line per phase on a terminal: its name while it runs, then how long it took and what
/// came of it. Nothing at all when stdout is not a terminal, so pipes and logs are unchanged.
struct Progress {
    shown: bool,
}

impl Progress {
    fn step<R: PhaseReport>(
        &self,
        rt: &mut Runtime,
        name: &str,
        phase: impl FnOnce(&mut Runtime) -> anyhow::Result<R>,
        summary: impl FnOnce(&R) -> String,
    ) -> Result<R, CommandError> {
        if !self.shown {
            return Ok(phase(rt)?);
        }
        let started = Instant::now();
        out!("{name} …");
        super::output::flush();
        let report = phase(rt);
        let outcome = match &report {
            Ok(report) => summary(report),
            Err(_) => "failed".to_string(),
        };
        outln!(
            "\r{name}: {outcome} ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        Ok(report?)
    }
}

/// `2 incidents: 1 fixed, 1 passed on`, or `no incident`.
fn verdicts<'a>(lines: impl IntoIterator<Item = &'a IncidentLine>) -> String {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    let mut total = 0;
    for line in lines {
        total += 1;
        let word = verdict_word(&line.verdict);
        match counts.iter_mut().find(|(w, _)| *w == word) {
            Some((_, n)) => *n += 1,
            None => counts.push((word, 1)),
        }
    }
    if total == 0 {
        return "no incident".into();
    }
    let noun = if total == 1 { "incident" } else { "incidents" };
    let parts: Vec<String> = counts.iter().map(|(w, n)| format!("{n} {w}")).collect();
    format!("{total} {noun}: {}", parts.join(", "))
}

fn verdict_word(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Fixed => "fixed",
        Verdict::Recovered => "recovered",
        Verdict::PassedOn => "passed on",
        Verdict::Left => "left",
        Verdict::Held => "held for approval",
        Verdict::Escalated => "escalated",
        Verdict::Silenced => "silenced",
    }
}
