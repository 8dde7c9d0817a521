//! `cycle`: the phases in order, in one process and under the cycle lock — no copy of their
//! logic; then, with the lock released, the delivery of what phase 4 queued. On a terminal
//! each phase's part of the report is printed as soon as the phase ends, under a line with its
//! time, and is not printed again at the end; piped or in the journal, only the report is.

use super::report::{scan_summary, CycleReport, PhaseReport};
use super::{load_config, or_tell_a_person, run_phase, CommandError};
use crate::cli::Global;
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
            scan: progress.step(rt, "scan", phases::scan::scan, |r| {
                (scan_summary(r), Some(r.render_text()))
            })?,
            fix: progress.step(rt, "fix", phases::fix::fix, |r| {
                acted(r.approved.len() + r.incidents.len(), r)
            })?,
            research: progress.step(rt, "research", phases::research::research, |r| {
                acted(r.incidents.len(), r)
            })?,
            consult: progress.step(rt, "consult", phases::consult::consult, |r| {
                acted(r.incidents.len(), r)
            })?,
            escalate: progress.step(rt, "escalate", phases::escalate::escalate, |r| {
                acted(r.incidents.len(), r)
            })?,
            shown_live: progress.shown,
        })
    })
    .map(|_| ExitCode::SUCCESS);
    or_tell_a_person(global, &config, result)
}

/// On a terminal, each phase's name while it runs, then a line with what it found and how
/// long it took, and its part of the report: every result once. Nothing at all when stdout is
/// not a terminal, so pipes and logs get the report alone, unchanged.
struct Progress {
    shown: bool,
}

impl Progress {
    fn step<R: PhaseReport>(
        &self,
        rt: &mut Runtime,
        name: &str,
        phase: impl FnOnce(&mut Runtime) -> anyhow::Result<R>,
        shown: impl FnOnce(&R) -> (String, Option<String>),
    ) -> Result<R, CommandError> {
        if !self.shown {
            return Ok(phase(rt)?);
        }
        let started = Instant::now();
        out!("{name} …");
        super::output::flush();
        let report = phase(rt);
        let (headline, body) = match &report {
            Ok(report) => shown(report),
            Err(_) => ("failed".to_string(), None),
        };
        outln!(
            "\r{name}: {headline} ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        if let Some(body) = body {
            outln!("{body}\n");
        }
        Ok(report?)
    }
}

/// An acting phase's line and part of the report: `no incident`, or how many it took up and
/// then what became of each (its report's words, said once).
fn acted<R: PhaseReport>(count: usize, report: &R) -> (String, Option<String>) {
    match count {
        0 => ("no incident".into(), None),
        1 => ("1 incident".into(), Some(report.render_text())),
        n => (format!("{n} incidents"), Some(report.render_text())),
    }
}
