//! The admin's daily tools (issue 22.4) on the built binary: `scan --check NAME`, `silence add
//! --from`, failed notifications in `metrics` and `escalate --resend ID`, and `escalate --test`
//! on every channel. An HTTP receiver of the test's own, answering the statuses it is told,
//! (`common::ScriptedSink`) stands in for the JSON webhook, ntfy, Slack, Matrix and Alertmanager.

mod common;
use common::*;
use serde_json::Value;
use std::time::Duration;

#[test]
fn scan_check_runs_and_records_one_check_and_acts_on_nothing() {
    let host = Host::new();
    host.write_config(&format!(
        "[[checks]]\nname = \"web\"\nkind = \"file\"\npath = \"{}\"\n\
         remedy = [{{ action = \"run\", argv = [\"/usr/bin/touch\", \"{}\"] }}]\n{}",
        host.path("web.ok").display(),
        host.path("web.ok").display(),
        file_check("db", host.path("db.ok").display()),
    ));
    let run = host.run(&["--json", "scan", "--check", "web"]).ok();
    let checks = run.json()["checks"].as_array().unwrap().clone();
    assert_eq!(checks.len(), 1, "{}", run.stdout);
    assert_eq!(checks[0]["name"], "web");
    assert_eq!(checks[0]["change"], "opened");
    // Recorded as a scan records it, and nothing acted: the remedy did not run.
    assert_eq!(
        host.query_text("SELECT GROUP_CONCAT(name || ' ' || status) FROM checks"),
        "web critical"
    );
    assert_eq!(
        host.query_text("SELECT check_name || ' ' || status || ' ' || phase FROM incidents"),
        "web open 1"
    );
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM attempts"), 0);
    assert!(!host.path("web.ok").exists());
    assert_eq!(
        host.query_text("SELECT phase FROM cycles"),
        "scan --check",
        "a scan by hand is told apart from the timer's"
    );
    // A repaired fault is seen at once; the exit status convention holds.
    std::fs::write(host.path("web.ok"), "").unwrap();
    let run = host.run(&["scan", "--check", "web", "--check", "db", "--exit-status"]);
    assert_eq!(run.status, 2, "{}", run.stdout);
    assert_contains(&run.stdout, "[incident 1 recovered]");
    assert_contains(&run.stdout, "db ");
    let unknown = host.run(&["scan", "--check", "wbe"]);
    assert_eq!(unknown.status, 2);
    assert_contains(
        &unknown.stderr,
        "unknown check `wbe`; the config has: web, db",
    );
}

#[test]
fn a_silence_from_later_is_pending_until_its_start_and_then_silences() {
    let host = Host::new();
    host.write_config(&file_check("backup", host.path("backup.tar").display()));
    let past = host.run(&[
        "silence",
        "add",
        "backup",
        "--from",
        "2001-01-01T00:00:00Z",
        "--for",
        "1h",
        "--note",
        "x",
    ]);
    assert_eq!(past.status, 2);
    assert_contains(&past.stderr, "--from 2001-01-01T00:00:00Z is in the past");
    let start = now_secs() + 3.0;
    let from = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + Duration::from_secs_f64(start.ceil()),
    )
    .to_string();
    let added = host
        .run(&[
            "--json",
            "silence",
            "add",
            "backup",
            "--from",
            &from,
            "--for",
            "1h",
            "--note",
            "disk swap",
        ])
        .ok()
        .json();
    assert_eq!(added["silence"]["state"], "pending", "{added}");
    assert_eq!(added["silence"]["starts_at"], from.as_str());
    let listed = host.run(&["silence", "list"]).ok();
    assert_contains(&listed.stdout, "pending");
    // Before its start the check is acted on as ever.
    let scan = host.run(&["--json", "scan"]).ok().json();
    assert!(scan["checks"][0].get("silenced").is_none(), "{scan}");
    wait_until("the silence starts", Duration::from_secs(10), || {
        now_secs() > start.ceil()
    });
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_contains(
        cycle["scan"]["checks"][0]["silenced"]
            .as_str()
            .unwrap_or(""),
        "disk swap",
    );
    assert_eq!(
        cycle["fix"]["incidents"][0]["verdict"], "silenced",
        "{cycle}"
    );
}

#[test]
fn a_refused_notification_shows_in_metrics_and_is_sent_again_on_request() {
    let host = Host::new();
    let sink = ScriptedSink::start(&[400]);
    host.write_config(&format!(
        "[escalation]\nretry = \"1ms\"\njson_webhook = {{ url = \"{}\" }}\n{}",
        sink.url("/hook"),
        file_check("backup", host.path("backup.tar").display())
    ));
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    let delivery = &cycle["escalate"]["deliveries"][0];
    assert_eq!(delivery["result"], "failed", "{cycle}");
    let id = delivery["notification"].as_i64().unwrap();
    let metrics = host.run(&["metrics"]).ok();
    assert_contains(
        &metrics.stdout,
        "notifications: 1 failed for good (ever), 0 not sent yet",
    );
    assert_contains(
        &metrics.stdout,
        &format!("#{id} escalation json_webhook to {}", sink.url("/hook")),
    );
    assert_contains(
        &metrics.stdout,
        &format!("orchestrator escalate --resend {id}"),
    );
    let json = host.run(&["--json", "metrics"]).ok().json();
    assert_eq!(json["notifications_failed"], 1);
    let shown = host.run(&["incidents", "show", "1"]).ok();
    assert_contains(&shown.stdout, &format!("#{id} escalation json_webhook to"));

    sink.answer(200);
    let resent = host
        .command(&["escalate", "--resend", &id.to_string()])
        .env("SUDO_USER", "alice")
        .output()
        .map(Run::from)
        .unwrap()
        .ok();
    assert_contains(
        &resent.stdout,
        &format!("notification {id} (escalation json_webhook"),
    );
    assert_contains(&resent.stdout, "→ sent");
    assert_eq!(
        host.query_text(&format!("SELECT status FROM notifications WHERE id = {id}")),
        "sent"
    );
    assert_eq!(
        sink.requests().len(),
        2,
        "one refusal, then the message again"
    );
    let first: Value = serde_json::from_str(&sink.requests()[0].1).unwrap();
    let second: Value = serde_json::from_str(&sink.requests()[1].1).unwrap();
    assert_eq!(
        first["key"], second["key"],
        "the same message under its key"
    );
    assert_contains(
        &host.query_text("SELECT detail FROM incident_events WHERE kind = 'resent'"),
        "queued again by cli:alice",
    );
    // Nothing is sent twice, and what is not there says so (3).
    let again = host.run(&["escalate", "--resend", &id.to_string()]);
    assert_eq!(again.status, 3, "{}", again.stderr);
    assert_contains(&again.stderr, "was sent at");
    assert_eq!(host.run(&["escalate", "--resend", "99"]).status, 3);
}

#[test]
fn escalate_test_reaches_every_channel_records_nothing_and_says_which_failed() {
    let host = Host::new();
    let sink = ScriptedSink::start(&[200]);
    let dead_smtp = free_port();
    let channels = format!(
        "hostname = \"web-01\"\nmessage_timeout = \"3s\"\n\
         webhook = {{ url = \"{am}\" }}\n\
         json_webhook = {{ url = \"{hook}\" }}\n\
         ntfy = {{ url = \"{ntfy}\", topic = \"ops\" }}\n\
         slack = {{}}\n\
         matrix = {{ homeserver = \"{matrix}\", room = \"!ops:example.org\" }}\n",
        am = sink.url("/am/api/v2/alerts"),
        hook = sink.url("/hook"),
        ntfy = sink.url("/ntfy"),
        matrix = sink.url("/matrix"),
    );
    let email = format!(
        "email = {{ to = [\"ops@example.com\"], from = \"orchestrator@web-01\", smtp = \"smtp://127.0.0.1:{dead_smtp}\" }}\n"
    );
    host.write_config(&format!("[escalation]\n{channels}{email}"));
    let test = |args: &[&str]| {
        Run::from(
            host.command(args)
                .env("ORCHESTRATOR_SLACK_URL", sink.url("/slack/hook"))
                .env("ORCHESTRATOR_MATRIX_TOKEN", "token")
                .output()
                .unwrap(),
        )
    };
    let run = test(&["--json", "escalate", "--test"]);
    assert_eq!(run.status, 1, "the mail server is down\n{}", run.stdout);
    let report = run.json();
    let results: Vec<(String, String)> = report["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["channel"].as_str().unwrap().to_string(),
                d["result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for channel in ["webhook", "json_webhook", "ntfy", "slack", "matrix"] {
        assert!(
            results.contains(&(channel.to_string(), "sent".to_string())),
            "{channel}: {results:?}"
        );
    }
    assert!(
        results.contains(&("email".into(), "failed".into())),
        "{results:?}"
    );
    assert_eq!(report["failed"], 1);
    let got = sink.requests();
    assert_eq!(got.len(), 5, "{got:?}");
    let to = |path: &str| {
        got.iter()
            .find(|(line, _)| line.starts_with(&format!("POST {path}")))
            .unwrap_or_else(|| panic!("nothing posted to {path}: {got:?}"))
    };
    let alert = to("/am/");
    assert_contains(&alert.1, "\"alertname\":\"OrchestratorTest\"");
    assert_contains(&alert.1, "\"severity\":\"info\"");
    let hook = to("/hook ");
    let body: Value = serde_json::from_str(&hook.1).unwrap();
    assert_eq!(body["kind"], "test");
    assert_contains(
        body["subject"].as_str().unwrap(),
        "test message from web-01",
    );
    // Recorded nowhere: not even a database was created.
    assert!(!host.db_path().exists(), "--test created the database");

    host.write_config(&format!("[escalation]\n{channels}"));
    let text = test(&["escalate", "--test"]).ok();
    assert_contains(&text.stdout, "json_webhook to http://127.0.0.1");
    assert_contains(&text.stdout, "→ sent");
    host.write_config("");
    let none = test(&["escalate", "--test"]);
    assert_eq!(none.status, 2, "{}", none.stderr);
    assert_contains(&none.stderr, "no [escalation] channel");
}
