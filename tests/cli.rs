//! The command line tells the truth: exit statuses (orchestrator(1), EXIT STATUS), `scan
//! --exit-status`, every config problem in one run, warnings, the JSON documents' `version`
//! and times, and `cycle` output that is the same as ever when piped.

use crate::common::*;
use std::path::Path;

/// A `command` check that prints `summary` and exits `code` (the plugin protocol).
fn plugin_check(name: &str, code: u8) -> String {
    format!(
        "[[checks]]\nname = \"{name}\"\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"echo {name} says {code}; exit {code}\"]\n\n"
    )
}

fn host_with_checks(codes: &[u8]) -> Host {
    let host = Host::new();
    let checks: String = codes
        .iter()
        .enumerate()
        .map(|(i, code)| plugin_check(&format!("c{i}"), *code))
        .collect();
    host.write_config(&checks);
    host
}

#[test]
fn scan_exit_status_is_the_worst_state_and_plain_scan_exits_0() {
    // (check states, --exit-status) — critical outranks warning outranks unknown outranks ok.
    let cases: [(&[u8], i32); 6] = [
        (&[0, 0], 0),
        (&[0, 1], 1),
        (&[1, 2, 0], 2),
        (&[3], 3),
        (&[3, 1], 1),
        (&[3, 2], 2),
    ];
    for (codes, expected) in cases {
        let host = host_with_checks(codes);
        let run = host.run(&["scan", "--exit-status"]);
        assert_eq!(
            run.status, expected,
            "{codes:?}\n{}{}",
            run.stdout, run.stderr
        );
        // The default keeps the timer's chain going whatever the checks found.
        assert_eq!(host.run(&["scan"]).status, 0, "{codes:?}");
    }
}

#[test]
fn exit_statuses_follow_one_table() {
    let host = host_with_checks(&[2]);
    host.run(&["scan"]).ok();
    // 3: nothing to do — no plan held, no open escalation, no such incident.
    for args in [
        &["incidents", "approve", "1"][..],
        &["incidents", "dismiss", "1"],
        &["incidents", "ack", "1"],
        &["incidents", "show", "99"],
        &["incidents", "resolve", "99", "--note", "x"],
    ] {
        let run = host.run(args);
        assert_eq!(run.status, 3, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("orchestrator: "), "{}", run.stderr);
    }
    // 2: the user's to fix — arguments (clap's own) and values.
    assert_eq!(host.run(&["incidents", "frobnicate"]).status, 2);
    assert_eq!(
        host.run(&["incidents", "list", "--status", "bogus"]).status,
        2
    );
    // 1: a failure while running — here a database that is not there to read.
    let missing = host
        .command(&["incidents", "list"])
        .arg("--db")
        .arg(host.path("none/x.db"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    // 0: done.
    host.run(&["incidents", "list"]).ok();
}

#[test]
fn a_bad_config_exits_2_with_every_problem_in_one_run() {
    let host = Host::new();
    host.write_config(EIGHT_PROBLEMS);
    let run = host.run(&["config", "check"]);
    assert_eq!(run.status, 2, "{}", run.stdout);
    let file = host.config_path().display().to_string();
    let problem_lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with(&format!("{file}:")))
        .collect();
    assert_eq!(problem_lines.len(), 8, "{}", run.stderr);
    for (line, number) in problem_lines.iter().zip([2, 3, 9, 11, 20, 22, 26, 29]) {
        assert!(
            line.starts_with(&format!("{file}:{number}:")),
            "{}",
            run.stderr
        );
    }
    let json = host.run(&["--json", "config", "check"]);
    assert_eq!(json.status, 2);
    assert_eq!(json.json()["problems"].as_array().unwrap().len(), 8);
    assert_eq!(json.json()["version"], 1);
}

/// Unknown key and wrong type in [cycle], a bad duration, a check with no name, an unknown key,
/// an unknown table, an agent nobody configured, a bad regular expression.
const EIGHT_PROBLEMS: &str = include_str!("fixtures/eight-problems.toml");

#[test]
fn a_valid_config_gets_warnings_and_strict_makes_them_fail() {
    let host = Host::new();
    host.write_config(
        r#"
[[checks]]
name = "idle"
kind = "tcp"
address = "127.0.0.1:1"

# A host-wide kind has no service to restart: no remedy is no oversight, and no warning.
[[checks]]
name = "load"
kind = "load"
warn = 50.0
crit = 99.0

[agents.spare]
command = ["/bin/true"]

[agents.runbook]
builtin = "runbook"

[research]
agent = "runbook"

[policy]
actions = ["restart_unit"]
approve = []
paths = ["/var/{log"]
"#,
    );
    let run = host.run(&["config", "check"]).ok();
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 5, "{}", run.stderr);
    for expected in [
        "[escalation]: no channel",
        "[agents.spare]: used by no phase",
        "check `idle`: no `remedy` and no `unit`",
        "[policy] paths: `/var/{log` is not a valid glob",
        "the builtin runbook proposes remove_file, remedy, kill_process, clean_files, vacuum_journal",
    ] {
        assert_contains(&run.stderr, expected);
    }
    assert_eq!(host.run(&["config", "check", "--strict"]).status, 2);
    let json = host.run(&["--json", "config", "check"]).ok().json();
    assert_eq!(json["warnings"].as_array().unwrap().len(), 5);
}

#[test]
fn the_default_config_written_to_a_file_opens_no_incident_without_systemd() {
    let host = Host::new();
    let default = host.run(&["config", "default"]).ok().stdout;
    let systemd = Path::new("/run/systemd/system").is_dir();
    assert_eq!(
        default.contains("kind = \"systemd-failed\""),
        systemd,
        "{default}"
    );
    host.write_config(&default);
    host.run(&["config", "check"]).ok();
    if systemd {
        return; // the host's own units decide; tests/systemd.rs covers a systemd host
    }
    // A systemd-failed check written by hand says why it has nothing to report.
    host.write_config(&format!(
        "{default}\n[[checks]]\nname = \"failed-units\"\nkind = \"systemd-failed\"\n"
    ));
    let scan = host.run(&["--json", "scan"]).ok().json();
    let failed = scan["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "failed-units")
        .expect("the check ran");
    assert_eq!(failed["status"], "ok", "{scan}");
    assert_contains(
        failed["summary"].as_str().unwrap(),
        "systemd is not running",
    );
}

#[test]
fn json_documents_carry_a_version_and_rfc3339_times() {
    let host = host_with_checks(&[2]);
    let scan = host.run(&["--json", "scan"]).ok().json();
    assert_eq!(scan["version"], 1);
    assert_eq!(scan["opened"], serde_json::json!([1]));
    let show = host.run(&["--json", "incidents", "show", "1"]).ok().json();
    assert_eq!(show["version"], 1);
    let at = show["events"][0]["at"]
        .as_str()
        .expect("an RFC 3339 string");
    assert!(at.ends_with('Z') && at.contains('T'), "{at}");
    assert!(show["incident"]["detected_at"].is_string(), "{show}");
    let list = host.run(&["--json", "incidents", "list"]).ok().json();
    assert_eq!(list["version"], 1);
    assert_eq!(list["incidents"].as_array().unwrap().len(), 1);
}

#[test]
fn the_scan_table_names_the_incident_it_opened() {
    let host = host_with_checks(&[0, 2]);
    let scan = host.run(&["scan"]).ok();
    let line = scan.stdout.lines().find(|l| l.starts_with("c1 ")).unwrap();
    assert_contains(line, "critical");
    assert_contains(line, "c1 says 2  [incident 1 opened]");
}

#[test]
fn a_piped_cycle_prints_the_report_and_nothing_else() {
    let host = host_with_checks(&[0]);
    let cycle = host.run(&["cycle"]).ok();
    let lines: Vec<&str> = cycle.stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{}", cycle.stdout);
    assert!(lines[0].starts_with("CHECK"), "{}", cycle.stdout);
    assert!(lines[1].starts_with("c0 ") && lines[1].contains("c0 says 0"));
    assert_eq!(
        lines[2..],
        [
            "",
            "phase 1: no incident waits for it",
            "phase 2: no incident waits for it",
            "phase 3: no incident waits for it",
            "phase 4: no incident waits for it",
        ]
    );
}

/// `cycle` run on a terminal (script(1) gives it one, stdout and stderr alike), as a person
/// types it; what the terminal showed, carriage returns and colours left in.
fn cycle_on_a_terminal(host: &Host) -> String {
    let command = format!(
        "{} -c {} --db {} cycle",
        orchestrator_bin().display(),
        host.config_path().display(),
        host.db_path().display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("ORCHESTRATOR_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn a_cycle_on_a_terminal_shows_each_phase() {
    // script(1) gives the command a terminal; without it there is nothing to show this on.
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("skipping: script(1) is not installed");
        return;
    }
    let host = host_with_checks(&[0]);
    let text = cycle_on_a_terminal(&host);
    for progress in [
        "scan: 1 check, 1 ok; no incident (",
        "fix: no incident (",
        "research: no incident (",
        "consult: no incident (",
        "escalate: no incident (",
    ] {
        assert_contains(&text, progress);
    }
    // Said once, by the line of its phase: not again in a report at the end.
    assert!(!text.contains("no incident waits for it"), "{text}");
    assert_eq!(text.matches("CHECK").count(), 1, "{text}");
}

#[test]
fn a_cycle_on_a_terminal_says_each_result_once() {
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("skipping: script(1) is not installed");
        return;
    }
    let host = Host::new();
    // Nothing listens on port 1: the webhook's message waits for a retry.
    host.write_config(&format!(
        "{}[escalation]\nwebhook = {{ url = \"http://127.0.0.1:1/hook\" }}\n",
        plugin_check("broken", 2)
    ));
    let text = cycle_on_a_terminal(&host);
    for (said_once, what) in [
        ("[incident 1 opened]", "the scan's result"),
        (
            "→ phase 2: phase 1: no learned pattern",
            "phase 1's hand-off",
        ),
        (
            "→ phase 4: phase 3: no consult agents",
            "phase 3's hand-off",
        ),
        ("escalated (", "the escalation"),
        ("to http://127.0.0.1:1/hook", "the delivery"),
        ("broken says 2", "the check's summary"),
    ] {
        assert_eq!(
            text.matches(said_once).count(),
            1,
            "{what} ({said_once}) is not said exactly once:\n{text}"
        );
    }
    for progress in [
        "scan: 1 check, 0 ok, 1 failing (broken); incidents: 1 opened (",
        "fix: 1 incident (",
        "escalate: 1 incident (",
        "delivered:\r\n  escalation webhook to http://127.0.0.1:1/hook → retry: ",
    ] {
        assert_contains(&text, progress);
    }
    // The log's words for the same changes (`Opened`, `not sent, retry in`) stay for the
    // journal; piped, the report and the log lines are as before.
    assert!(
        !text.contains("Opened") && !text.contains("not sent"),
        "{text}"
    );
    let piped = host.run(&["cycle"]).ok();
    assert_contains(&piped.stdout, "CHECK");
}

#[test]
fn the_example_config_is_valid_and_uses_every_section() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/orchestrator.toml");
    let text = std::fs::read_to_string(&example).unwrap();
    for section in [
        "[[checks]]",
        "[escalation.email]",
        "[escalation.webhook]",
        "[agents.",
        "[research]",
        "[consult]",
        "[policy]",
        "[serve]",
        "remedy",
    ] {
        assert_contains(&text, section);
    }
    let host = Host::new();
    host.write_config(&text);
    let run = host.run(&["config", "check"]);
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn every_log_line_about_an_escalation_links_the_incident() {
    let host = Host::new();
    // Nothing listens on port 1: the webhook's notification is retried, and says so.
    host.write_config(&format!(
        "{}[escalation]\ndashboard_url = \"https://ops.example.org/orc/\"\n\n[escalation.webhook]\nurl = \"http://127.0.0.1:1/hook\"\n",
        plugin_check("broken", 2)
    ));
    let cycle = host.run(&["cycle"]).ok();
    let link = "https://ops.example.org/orc/incidents/1";
    let about_it: Vec<&str> = cycle
        .stderr
        .lines()
        .filter(|l| l.contains("escalated") || l.contains("notification"))
        .collect();
    assert!(about_it.len() >= 2, "{}", cycle.stderr);
    for line in about_it {
        assert!(line.ends_with(link), "{line}\n{}", cycle.stderr);
    }
}

/// `incidents ack 1` on an escalated incident, run as `command` sets it up; who it recorded.
fn acknowledged_by(host: &Host, mut command: std::process::Command) -> String {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by = host.query_text("SELECT acknowledged_by FROM escalations");
    host.db()
        .execute(
            "UPDATE escalations SET status = 'open', acknowledged_by = NULL, acknowledged_at = NULL",
            [],
        )
        .unwrap();
    by
}

/// The test process's own login uid is unset (CI, containers): the environment decides.
fn no_login_uid() -> bool {
    std::fs::read_to_string("/proc/self/loginuid").is_ok_and(|uid| uid.trim() == "4294967295")
}

#[test]
fn acts_are_recorded_as_the_person_and_a_second_acknowledgement_says_by_whom() {
    let host = host_with_checks(&[2]);
    host.run(&["cycle"]).ok();
    let ack = |env: &[(&str, &str)], args: &[&str]| {
        let mut command = host.command(&[&["incidents", "ack", "1"][..], args].concat());
        command
            .env_remove("SUDO_USER")
            .env_remove("LOGNAME")
            .env_remove("USER")
            .stdin(std::process::Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        command
    };
    assert_eq!(
        acknowledged_by(&host, ack(&[("SUDO_USER", "alice"), ("USER", "root")], &[])),
        "cli:alice"
    );
    assert_eq!(
        acknowledged_by(&host, ack(&[("SUDO_USER", "alice")], &["--by", "bob"])),
        "cli:bob",
        "--by names the person"
    );
    if no_login_uid() {
        // No sudo, no login uid, no terminal: the login name is $LOGNAME, before $USER.
        assert_eq!(
            acknowledged_by(&host, ack(&[("LOGNAME", "carol"), ("USER", "root")], &[])),
            "cli:carol"
        );
        // Nothing names anyone else: the user running it, by name, never `cli:unknown`.
        // SAFETY: getuid(2) has no preconditions.
        let uid = unsafe { libc::getuid() };
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
        let name = passwd
            .lines()
            .find(|l| l.split(':').nth(2) == Some(&uid.to_string()))
            .and_then(|l| l.split(':').next())
            .map_or(format!("uid {uid}"), str::to_string);
        assert_eq!(acknowledged_by(&host, ack(&[], &[])), format!("cli:{name}"));
    } else {
        eprintln!("this process has a login uid: the $LOGNAME fallback is not reachable here");
    }
    let bad = host.run(&["incidents", "ack", "1", "--by", " "]);
    assert_eq!(bad.status, 2, "{}", bad.stderr);

    // A second acknowledgement names the first.
    host.run(&["incidents", "ack", "1", "--by", "dave"]).ok();
    let again = host.run(&["incidents", "ack", "1", "--by", "erin"]);
    assert_eq!(again.status, 3, "{}", again.stderr);
    assert!(
        again
            .stderr
            .starts_with("orchestrator: incident 1 is already acknowledged by cli:dave at 20"),
        "{}",
        again.stderr
    );
    assert_eq!(
        host.query_text("SELECT acknowledged_by FROM escalations"),
        "cli:dave"
    );

    // Resolving records the person too (`--by`), in the incident and its timeline.
    host.run(&[
        "incidents",
        "resolve",
        "1",
        "--note",
        "swapped the disk",
        "--by",
        "frank",
    ])
    .ok();
    assert_eq!(
        host.query_text("SELECT resolved_by FROM incidents WHERE id = 1"),
        "person:cli:frank"
    );
}

#[test]
fn behind_su_the_login_uid_and_the_terminal_name_the_person_not_root() {
    require_system!(
        "behind_su_the_login_uid_and_the_terminal_name_the_person_not_root",
        Need::Root
    );
    let host = host_with_checks(&[2]);
    host.run(&["cycle"]).ok();
    let bin = orchestrator_bin().display().to_string();
    let config = host.config_path().display().to_string();
    let db = host.db_path().display().to_string();
    // As root's shell reached by `su -` from a login of nobody (uid 65534): the kernel keeps
    // the login uid, and $LOGNAME and $USER say root.
    let mut su = std::process::Command::new("sh");
    su.args([
        "-c",
        "echo 65534 > /proc/self/loginuid && exec \"$0\" -c \"$1\" --db \"$2\" incidents ack 1",
        &bin,
        &config,
        &db,
    ])
    .env_remove("SUDO_USER")
    .env("LOGNAME", "root")
    .env("USER", "root");
    assert_eq!(acknowledged_by(&host, su), "cli:nobody");
    if no_login_uid() {
        // On a terminal nobody owns (script(1) gives one), with no login uid: its owner.
        let mut on_tty = std::process::Command::new("script");
        on_tty
            .args([
                "-qec",
                &format!("sh -c 'chown 65534 \"$(tty)\" && exec {bin} -c {config} --db {db} incidents ack 1'"),
                "/dev/null",
            ])
            .env_remove("SUDO_USER")
            .env("LOGNAME", "root")
            .env("USER", "root");
        assert_eq!(acknowledged_by(&host, on_tty), "cli:nobody");
    } else {
        eprintln!("this process has a login uid, which outranks the terminal's owner");
    }
}
