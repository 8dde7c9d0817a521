//! `systemd` and `systemd-failed` checks, through `systemctl` (run by exec, with a timeout).

use super::CheckResult;
use crate::exec::{self, CommandSpec};
use std::time::Duration;

/// sd_booted(3): the host runs systemd as its init when this directory exists.
fn systemctl(args: &[&str], timeout: Duration) -> Result<exec::CommandOutput, CheckResult> {
    let mut argv = vec!["systemctl".to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    exec::run(&CommandSpec::new(argv, timeout)).map_err(|err| CheckResult::unknown(err.to_string()))
}

pub fn unit_active(unit: &str, timeout: Duration) -> CheckResult {
    let output = match systemctl(&["is-active", unit], timeout) {
        Ok(output) => output,
        Err(result) => return result,
    };
    let state = output.stdout.trim();
    match (output.exit_code(), state) {
        (Some(0), _) => CheckResult::ok(format!("{unit} is {state}")),
        (None, _) => CheckResult::unknown(format!(
            "systemctl is-active {unit}: {}",
            output.describe_ending()
        )),
        (_, "") => CheckResult::unknown(format!(
            "systemctl is-active {unit}: {}",
            output.stderr.trim()
        )),
        (_, "activating" | "reloading") => {
            CheckResult::new(crate::model::Status::Warning, format!("{unit} is {state}"))
        }
        _ => CheckResult::critical(format!("{unit} is {state}"))
            .with_output(unit_status(unit, timeout)),
    }
}

fn unit_status(unit: &str, timeout: Duration) -> String {
    systemctl(&["status", "--no-pager", "--lines=10", unit], timeout)
        .map(|o| o.stdout)
        .unwrap_or_default()
}

pub fn failed_units(ignore: &[String], timeout: Duration) -> CheckResult {
    let output = match systemctl(
        &[
            "list-units",
            "--state=failed",
            "--plain",
            "--no-legend",
            "--no-pager",
        ],
        timeout,
    ) {
        Ok(output) => output,
        Err(result) => return result,
    };
    if !output.success() {
        let why = if output.stderr.trim().is_empty() {
            output.describe_ending()
        } else {
            output.stderr.trim().to_string()
        };
        return CheckResult::unknown(format!("systemctl list-units: {why}"));
    }
    let patterns: Vec<globset::GlobMatcher> = ignore
        .iter()
        .filter_map(|g| globset::Glob::new(g).ok())
        .map(|g| g.compile_matcher())
        .collect();
    let failed: Vec<&str> = output
        .stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|unit| !patterns.iter().any(|p| p.is_match(unit)))
        .collect();
    match failed.len() {
        0 => CheckResult::ok("no failed units"),
        1 => CheckResult::critical(format!("1 failed unit: {}", failed[0]))
            .with_output(output.stdout.clone()),
        n => CheckResult::critical(format!("{n} failed units: {}", failed.join(", ")))
            .with_output(output.stdout.clone()),
    }
}
