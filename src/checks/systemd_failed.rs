//! `systemd-failed` checks: no unit in the failed state, except those `ignore` globs match.

use super::systemd::systemctl;
use super::{CheckResult, Keys, Kind};
use serde_json::json;
use std::time::Duration;

/// `kind = "systemd-failed"`.
#[derive(Debug, Clone)]
pub struct SystemdFailed {
    /// Globs of unit names whose failure is not reported.
    pub ignore: Vec<String>,
}

impl Kind for SystemdFailed {
    const NAME: &'static str = "systemd-failed";
    const KEYS: &'static [&'static str] = &["ignore"];
    const NEEDS_SYSTEMD: bool = true;
    const WITHOUT_SYSTEMD: &'static str = "it reports ok with a note";
    const KEEPS_DEADLINE: bool = true;

    fn parse(keys: &mut Keys) -> Option<Self> {
        Some(SystemdFailed {
            ignore: keys.get("ignore").unwrap_or_default(),
        })
    }

    fn probe(&self, deadline: Duration) -> CheckResult {
        failed_units(&self.ignore, deadline)
    }

    fn details(&self) -> serde_json::Value {
        json!({ "ignore": self.ignore })
    }
}

/// On a host not booted with systemd no unit can fail: ok, saying why, rather than an unknown
/// that would open an incident nobody can fix.
fn failed_units(ignore: &[String], timeout: Duration) -> CheckResult {
    if !crate::sys::systemd_is_running() {
        return CheckResult::ok(
            "systemd is not running on this host (no /run/systemd/system): no unit to fail",
        );
    }
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
