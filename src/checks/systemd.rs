//! `systemd` checks: is the unit active, through `systemctl` (run by exec, with a timeout).
//! Also the `systemctl` runner that `systemd-failed` shares.

use super::{CheckResult, Keys, Kind};
use crate::exec::{self, CommandSpec};
use serde_json::json;
use std::time::Duration;

/// `kind = "systemd"`: the common `unit` key names the unit that must be active.
#[derive(Debug, Clone)]
pub struct Systemd {
    pub unit: String,
}

impl Kind for Systemd {
    const NAME: &'static str = "systemd";
    const KEYS: &'static [&'static str] = &[];
    const NEEDS_SYSTEMD: bool = true;
    const KEEPS_DEADLINE: bool = true;

    fn parse(keys: &mut Keys) -> Option<Self> {
        Some(Systemd {
            unit: keys.require_unit()?,
        })
    }

    fn probe(&self, deadline: Duration) -> CheckResult {
        unit_active(&self.unit, deadline)
    }

    fn details(&self) -> serde_json::Value {
        json!({ "unit": self.unit })
    }

    fn unit(&self) -> Option<&str> {
        Some(&self.unit)
    }
}

/// `systemctl ARGS` under `timeout`; a systemctl that cannot start is an unknown result.
pub(super) fn systemctl(args: &[&str], timeout: Duration) -> Result<exec::CommandOutput, CheckResult> {
    let mut argv = vec!["systemctl".to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    exec::run(&CommandSpec::new(argv, timeout)).map_err(|err| CheckResult::unknown(err.to_string()))
}

fn unit_active(unit: &str, timeout: Duration) -> CheckResult {
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
