//! What systemd knows about a unit, for an agent's context: `systemctl status` and the last
//! journal lines. Either may be missing (no systemd, no journal); that is not an error.

use crate::exec::{self, CommandSpec};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(5);

fn output_of(argv: &[&str]) -> Option<String> {
    let mut spec = CommandSpec::new(argv.iter().map(|a| a.to_string()).collect(), TIMEOUT);
    spec.keep_bytes = 16 * 1024;
    let output = exec::run(&spec).ok()?;
    // `systemctl status` exits 3 for an inactive unit and still prints what we want.
    let text = output.stdout.trim_end().to_string();
    (!text.is_empty() && output.exit_code().is_some()).then_some(text)
}

/// `journalctl -u UNIT -n LINES -o cat`: the unit's last log lines, without metadata.
pub fn journal_tail(unit: &str, lines: usize) -> Option<String> {
    let lines = lines.to_string();
    output_of(&[
        "journalctl",
        "--no-pager",
        "-u",
        unit,
        "-n",
        &lines,
        "-o",
        "cat",
    ])
}

pub fn unit_status(unit: &str) -> Option<String> {
    output_of(&["systemctl", "status", "--no-pager", "--lines=0", "--", unit])
}

/// `systemctl show --property=…` of `unit`: each property asked for and its value (empty when
/// unset); `Err` says why systemctl gave none.
pub fn unit_properties(
    unit: &str,
    properties: &[&str],
    timeout: Duration,
) -> Result<std::collections::BTreeMap<String, String>, String> {
    let argv = vec![
        "systemctl".to_string(),
        "show".to_string(),
        format!("--property={}", properties.join(",")),
        "--".to_string(),
        unit.to_string(),
    ];
    let mut spec = CommandSpec::new(argv, timeout);
    spec.keep_bytes = 16 * 1024;
    let output = exec::run(&spec).map_err(|e| e.to_string())?;
    if !output.success() {
        return Err(format!("systemctl show: {}", output.describe_ending()));
    }
    Ok(output
        .stdout
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect())
}
