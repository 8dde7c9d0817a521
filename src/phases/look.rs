//! Look before restarting: a restart that hides the fault is not a fix. Before a plan (re)starts
//! a service, phase 1 reads the cheap facts that a restart cannot mend — a full filesystem
//! under the service's paths, a permission error, a configuration error — and hands such an
//! incident on instead; before any plan restarts a daemon that has a configuration test, that
//! test runs; and a fix counts as verified only when the full filesystem it was made for has
//! room again.

use crate::agents::{context, runbook};
use crate::clock::now;
use crate::config::{Check, Config};
use crate::evidence::says_no_space;
use crate::exec::{self, CommandSpec};
use crate::facts::{self, Filesystem};
use crate::store::Incident;
use std::time::Duration;

/// A configuration test (`nginx -t`) gets this long.
pub const CONFIG_TEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Output of a configuration test kept with the attempt.
const CONFIG_TEST_BYTES: usize = 8 * 1024;
/// Error lines quoted from each log: the last few the service wrote.
const LOG_ERROR_LINES: usize = 5;
/// A log not written for this long before the incident began says nothing about it.
const LOG_LOOK_BACK_SECS: f64 = 3600.0;

/// What a restart cannot mend, found before one runs: one line for people, or `None`. A daemon
/// with a configuration test is judged by the test (it runs before the restart), not by the
/// config errors its logs may still hold from an earlier edit.
pub fn before_restarting(config: &Config, incident: &Incident, check: &Check) -> Option<String> {
    if let Some(full) = full_filesystems(incident, check).first() {
        return Some(describe_full(full));
    }
    let evidence = evidence(incident, check);
    if let Some(line) = evidence.iter().rev().find(|l| facts::is_permission_line(l)) {
        return Some(format!("a permission error: \"{line}\""));
    }
    if config_test_of(config, check).is_some() {
        return None;
    }
    let quoted = runbook::config_error_lines(&evidence.join("\n"));
    if !quoted.is_empty() {
        return Some(format!("a configuration error: \"{}\"", quoted.join(" / ")));
    }
    None
}

/// The full filesystems under the check's paths (its kind's path or pid file, its logs) and
/// under the paths its failure names on "no space" lines.
pub fn full_filesystems(incident: &Incident, check: &Check) -> Vec<Filesystem> {
    let no_space: Vec<&str> = [incident.summary.as_str(), incident.evidence.as_str()]
        .into_iter()
        .flat_map(str::lines)
        .filter(|line| says_no_space(line))
        .collect();
    facts::full_filesystems_under(check, &no_space.join("\n"))
}

/// The filesystems of `before` that are still full now: a fix made while they stay full hides
/// the fault (a restarted Redis answers, and fails again at its next save).
pub fn still_full(before: &[Filesystem], incident: &Incident, check: &Check) -> Option<String> {
    let now_full = full_filesystems(incident, check);
    let still: Vec<String> = now_full
        .iter()
        .filter(|f| before.iter().any(|b| b.device == f.device))
        .map(describe_full)
        .collect();
    (!still.is_empty()).then(|| still.join("; "))
}

pub fn describe_full(full: &Filesystem) -> String {
    format!(
        "the filesystem of {} is full ({} of {} free, {} of {} inodes free)",
        full.path,
        crate::sys::human_bytes(full.free_bytes),
        crate::sys::human_bytes(full.total_bytes),
        full.free_inodes,
        full.total_inodes
    )
}

/// What the service said: the check's summary and output, and the last error lines of each of
/// its logs written since shortly before the incident began. Lines about one client's request
/// (nginx's `, client: ADDRESS`) say nothing about the service and are left out.
fn evidence(incident: &Incident, check: &Check) -> Vec<String> {
    let mut lines: Vec<String> = [incident.summary.as_str(), incident.evidence.as_str()]
        .into_iter()
        .flat_map(str::lines)
        .map(str::to_string)
        .collect();
    let since = incident.detected_at.min(now()) - LOG_LOOK_BACK_SECS;
    for log in check.logs.iter().filter(|log| written_since(log, since)) {
        let Some(tail) = context::tail(log, context::TAIL_BYTES) else {
            continue;
        };
        let errors = crate::evidence::error_lines(&tail);
        let recent = errors.len().saturating_sub(LOG_ERROR_LINES);
        lines.extend(errors.into_iter().skip(recent));
    }
    lines.retain(|line| !line.contains(", client: "));
    lines
}

fn written_since(path: &std::path::Path, since: f64) -> bool {
    std::fs::symlink_metadata(path)
        .ok()
        .filter(|meta| meta.is_file())
        .and_then(|meta| meta.modified().ok())
        .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
        .is_some_and(|at| at.as_secs_f64() >= since)
}

/// The configuration test for `check`: its own `config_test`, else the first one another check
/// of its service group names (one daemon, one test).
pub fn config_test_of<'c>(config: &'c Config, check: &'c Check) -> Option<&'c [String]> {
    if !check.config_test.is_empty() {
        return Some(&check.config_test);
    }
    let group = check.group()?;
    config
        .checks
        .iter()
        .filter(|c| c.group() == Some(group))
        .find(|c| !c.config_test.is_empty())
        .map(|c| c.config_test.as_slice())
}

/// How a configuration test went.
pub enum ConfigTest {
    /// It passed: what it printed, for the attempt's output.
    Passed(String),
    /// It failed (or could not run): why, quoting its decisive lines.
    Failed(String),
}

/// Runs the configuration test through `exec` (argv, no shell, its own process group, a
/// timeout, bounded output).
pub fn run_config_test(argv: &[String]) -> ConfigTest {
    let shown = argv.join(" ");
    let mut spec = CommandSpec::new(argv.to_vec(), CONFIG_TEST_TIMEOUT);
    spec.keep_bytes = CONFIG_TEST_BYTES;
    let output = match exec::run(&spec) {
        Ok(output) => output,
        Err(err) => {
            return ConfigTest::Failed(format!("the config test `{shown}` could not run: {err}"))
        }
    };
    let printed = format!("{}{}", output.stdout, output.stderr);
    let printed = printed.trim();
    if output.success() {
        return ConfigTest::Passed(format!("config test `{shown}` succeeded: {printed}"));
    }
    let mut quoted = runbook::config_error_lines(printed);
    if quoted.is_empty() {
        quoted = crate::evidence::error_lines(printed);
    }
    if quoted.is_empty() {
        quoted = printed.lines().rev().take(3).map(str::to_string).collect();
        quoted.reverse();
    }
    ConfigTest::Failed(format!(
        "the config test `{shown}` failed ({}): {}",
        output.describe_ending(),
        quoted.join(" / ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str) -> Check {
        let config = Config::parse("t.toml", &format!("[[checks]]\nname = \"web\"\n{body}"))
            .unwrap_or_else(|e| panic!("{e}"));
        config.checks[0].clone()
    }

    fn incident(summary: &str, evidence: &str) -> Incident {
        Incident {
            id: 1,
            check: "web".into(),
            signature: String::new(),
            severity: crate::model::Severity::Critical,
            status: crate::model::IncidentStatus::Open,
            phase: crate::model::Phase::Fix,
            summary: summary.into(),
            evidence: evidence.into(),
            occurrences: 1,
            detected_at: now(),
            last_seen_at: now(),
            resolved_at: None,
            resolved_phase: None,
            resolved_by: None,
            reopened: 0,
            flapping: false,
            handoff: None,
            caused_by: None,
        }
    }

    #[test]
    fn recent_permission_and_config_errors_in_the_logs_stop_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("redis.log");
        let body = format!(
            "kind = \"tcp\"\naddress = \"127.0.0.1:9\"\nlogs = [\"{}\"]",
            log.display()
        );
        let quiet = incident("TCP CRITICAL - Unexpected response: -MISCONF", "");
        std::fs::write(
            &log,
            "1:M 27 Nov 2026 08:15:42.123 * Ready to accept connections\n",
        )
        .unwrap();
        let none = Config::parse("t.toml", "").unwrap();
        assert_eq!(before_restarting(&none, &quiet, &check(&body)), None);
        std::fs::write(
            &log,
            "9:C 27 Nov 2026 08:15:43.001 # Failed opening the RDB file temp-9.rdb (in server root dir /srv/redis) for saving: Permission denied\n\
             1:M 27 Nov 2026 08:15:43.101 # Background saving error\n",
        )
        .unwrap();
        let found = before_restarting(&none, &quiet, &check(&body)).expect("a permission error");
        assert!(found.starts_with("a permission error: \"9:C"), "{found}");
        // A line about one client's request is not the service's fault.
        std::fs::write(
            &log,
            "2026/11/27 08:15:42 [error] 9#9: *1 open() \"/srv/www/x\" failed (13: Permission denied), client: 127.0.0.1, server: _\n",
        )
        .unwrap();
        assert_eq!(before_restarting(&none, &quiet, &check(&body)), None);
        let broken = incident(
            "run failed",
            "nginx: [emerg] unexpected \"}\" in /srv/nginx/nginx.conf:6\n",
        );
        let found = before_restarting(&none, &broken, &check(&body)).expect("a config error");
        assert!(
            found.contains("unexpected \"}\" in /srv/nginx/nginx.conf:6"),
            "{found}"
        );
        // With a config test, the test judges (it runs before any restart), not old log lines.
        let tested = Config::parse(
            "t.toml",
            &format!("[[checks]]\nname = \"web\"\n{body}\nconfig_test = [\"nginx\", \"-t\"]"),
        )
        .unwrap();
        assert_eq!(before_restarting(&tested, &broken, &tested.checks[0]), None);
    }

    #[test]
    fn an_old_log_says_nothing_about_a_new_fault() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("app.log");
        std::fs::write(&log, "open(/srv/app/db): Permission denied\n").unwrap();
        let old = std::time::SystemTime::now() - Duration::from_secs(3 * 3600);
        std::fs::File::options()
            .write(true)
            .open(&log)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let body = format!(
            "kind = \"tcp\"\naddress = \"127.0.0.1:9\"\nlogs = [\"{}\"]",
            log.display()
        );
        let none = Config::parse("t.toml", "").unwrap();
        assert_eq!(
            before_restarting(&none, &incident("refused", ""), &check(&body)),
            None
        );
    }

    #[test]
    fn a_failed_config_test_is_quoted_and_a_passing_one_recorded() {
        let failing = ["sh", "-c", "echo 'nginx: [emerg] unexpected \"}\" in /x/nginx.conf:6' >&2; echo 'nginx: configuration file /x/nginx.conf test failed' >&2; exit 1"];
        let argv: Vec<String> = failing.iter().map(|s| s.to_string()).collect();
        let ConfigTest::Failed(why) = run_config_test(&argv) else {
            panic!("the test should fail");
        };
        assert!(why.contains("failed (exit status 1)"), "{why}");
        assert!(why.contains("unexpected \"}\" in /x/nginx.conf:6"), "{why}");
        let ConfigTest::Passed(said) = run_config_test(&["true".to_string()]) else {
            panic!("`true` passes");
        };
        assert!(said.starts_with("config test `true` succeeded"), "{said}");
        let ConfigTest::Failed(why) = run_config_test(&["/nonexistent/nginx".to_string()]) else {
            panic!("a missing program fails");
        };
        assert!(why.contains("could not run"), "{why}");
    }

    #[test]
    fn a_service_groups_config_test_serves_each_of_its_checks() {
        let config = Config::parse(
            "t.toml",
            "[[checks]]\nname = \"web\"\nkind = \"tcp\"\naddress = \"127.0.0.1:9\"\nservice = \"nginx\"\n\
             [[checks]]\nname = \"web-pid\"\nkind = \"process\"\npidfile = \"/run/nginx.pid\"\nservice = \"nginx\"\nconfig_test = [\"nginx\", \"-t\"]\n\
             [[checks]]\nname = \"other\"\nkind = \"tcp\"\naddress = \"127.0.0.1:9\"\n",
        )
        .unwrap();
        let test_of = |name: &str| config_test_of(&config, config.check(name).unwrap());
        assert_eq!(
            test_of("web"),
            Some(&["nginx".to_string(), "-t".to_string()][..])
        );
        assert_eq!(test_of("other"), None);
    }
}
