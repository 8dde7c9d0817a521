use super::{load_config, or_tell_a_person, run_phase, CommandError};
use crate::cli::Global;
use crate::model::Status;
use crate::phases::scan::{scan, scan_only, ScanReport};
use std::process::ExitCode;

/// `scan`; with `exit_status`, the worst check's state is the exit status (the
/// monitoring-plugins convention), and a scan skipped for a running cycle is UNKNOWN. With
/// `only` (`--check NAME`), just those checks run; their results are recorded as by a scan.
pub fn exec(global: &Global, exit_status: bool, only: &[String]) -> Result<ExitCode, CommandError> {
    let config = load_config(global)?;
    for name in only {
        config.known_check(name).map_err(CommandError::Usage)?;
    }
    let result = match only {
        [] => run_phase(global, &config, "scan", false, scan),
        // Its own name in `cycles`: one check run by hand is not the timer's scan.
        _ => run_phase(global, &config, "scan --check", false, |rt| {
            scan_only(rt, only)
        }),
    };
    let result = result.map(|report| match exit_status {
        false => ExitCode::SUCCESS,
        true => ExitCode::from(report.as_ref().map_or(Status::Unknown, worst).code()),
    });
    or_tell_a_person(global, &config, result)
}

/// The worst state, ranked as monitoring-plugins' `max_state_alt`: critical, then warning,
/// then unknown, then ok.
pub fn worst(report: &ScanReport) -> Status {
    let rank = |status: Status| match status {
        Status::Ok => 0,
        Status::Unknown => 1,
        Status::Warning => 2,
        Status::Critical => 3,
    };
    report
        .checks
        .iter()
        .map(|check| check.status)
        .max_by_key(|status| rank(*status))
        .unwrap_or(Status::Ok)
}
