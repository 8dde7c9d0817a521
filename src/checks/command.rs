//! `command` checks: the Nagios / monitoring-plugins protocol. Exit 0 OK, 1 WARNING,
//! 2 CRITICAL, 3 (or anything else) UNKNOWN; the first line is the summary, text after `|` on
//! any line is performance data, further lines are long output.

use super::{parse_perfdata, CheckResult, Keys, Kind};
use crate::exec::{self, CommandSpec, Containment, Ending};
use crate::model::Status;
use serde_json::json;
use std::time::Duration;

/// `kind = "command"`: a monitoring plugin's argv, run without a shell.
#[derive(Debug, Clone)]
pub struct Command {
    pub argv: Vec<String>,
}

impl Kind for Command {
    const NAME: &'static str = "command";
    const KEYS: &'static [&'static str] = &["command"];
    // Plugins may look at remote things; the Nagios default is tens of seconds.
    const DEFAULT_TIMEOUT: crate::duration::Duration = crate::duration::Duration::from_secs(30);
    const KEEPS_DEADLINE: bool = true;

    fn parse(keys: &mut Keys) -> Option<Self> {
        let argv: Vec<String> = keys.require("command")?;
        if argv.is_empty() {
            keys.problem(
                "command",
                "`command` must name a program: [\"/usr/lib/nagios/plugins/check_load\", ...]",
            );
            return None;
        }
        Some(Command { argv })
    }

    // Commands get their timeout from exec, which also kills the process group.
    fn probe(&self, deadline: Duration) -> CheckResult {
        run(&self.argv, deadline)
    }

    fn argv(&self) -> &[String] {
        &self.argv
    }
    fn details(&self) -> serde_json::Value {
        json!({ "command": self.argv })
    }
}

fn run(argv: &[String], timeout: Duration) -> CheckResult {
    let mut spec = CommandSpec::new(argv.to_vec(), timeout);
    spec.keep_bytes = 16 * 1024;
    // A plugin reports; whatever it leaves running (a `setsid` child too) is killed with it.
    spec.contain = Containment::Tree;
    let output = match exec::run(&spec) {
        Ok(output) => output,
        Err(err) => return CheckResult::unknown(err.to_string()),
    };
    let status = match output.ending {
        Ending::Exited(code) => Status::from_exit_code(code),
        // The plugin guidelines make a timeout UNKNOWN unless the plugin says otherwise.
        Ending::TimedOut => {
            return CheckResult::unknown(format!(
                "plugin timed out after {:.1}s",
                timeout.as_secs_f64()
            ))
        }
        _ => return CheckResult::unknown(format!("plugin {}", output.describe_ending())),
    };
    let text = if output.stdout.trim().is_empty() {
        output.stderr.clone()
    } else {
        output.stdout.clone()
    };
    parse_plugin_output(status, &text)
}

fn parse_plugin_output(status: Status, text: &str) -> CheckResult {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("").trim();
    let (summary, first_perf) = split_perf(first);
    let mut perf_text = first_perf.to_string();
    let mut long_output = Vec::new();
    // Long output may carry more perfdata after a `|` (the second half of the protocol).
    let mut in_perf = false;
    for line in lines {
        if in_perf {
            perf_text.push(' ');
            perf_text.push_str(line);
            continue;
        }
        let (text, perf) = split_perf(line);
        long_output.push(text.to_string());
        if line.contains('|') {
            perf_text.push(' ');
            perf_text.push_str(perf);
            in_perf = true;
        }
    }
    let summary = if summary.is_empty() {
        format!(
            "plugin returned {} with no output",
            status.as_str().to_uppercase()
        )
    } else {
        summary.to_string()
    };
    CheckResult::new(status, summary)
        .with_perf(parse_perfdata(&perf_text))
        .with_output(long_output.join("\n"))
}

fn split_perf(line: &str) -> (&str, &str) {
    match line.split_once('|') {
        Some((text, perf)) => (text.trim(), perf.trim()),
        None => (line.trim(), ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_summary_perfdata_and_long_output() {
        let r = parse_plugin_output(Status::Warning, "DISK WARNING - free space: / 10 MB | /=90MB;80;95;0;100\nline two\nline three | extra=1;;;\n");
        assert_eq!(r.summary, "DISK WARNING - free space: / 10 MB");
        assert_eq!(r.perfdata.len(), 2);
        assert_eq!(r.output, "line two\nline three");
    }
}
