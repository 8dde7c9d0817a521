//! The channels people use besides mail and Alertmanager (issue 22.5): a generic JSON webhook,
//! ntfy, Slack and Matrix, each through the outbox with its idempotency key, retried on
//! 408/429/5xx and failed for good on another 4xx; several incidents of one cycle go out as one
//! message per channel. A Python `http.server` (tests/servers/http_sink.py) stands in for each
//! receiver and records what it got; the mail goes through the local aiosmtpd.

use crate::common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const PYTHON3: Need = Need::Program("/usr/bin/python3", "python3");

/// tests/servers/http_sink.py on a free port; killed when dropped.
struct Sink {
    port: u16,
    log: std::path::PathBuf,
    child: Child,
}

impl Sink {
    fn start(host: &Host, script: &str) -> Sink {
        let port = free_port();
        let log = host.path(&format!("sink-{port}.jsonl"));
        let child = Command::new("/usr/bin/python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/http_sink.py"))
            .arg(port.to_string())
            .arg(&log)
            .arg("120")
            .arg(script)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start http_sink.py");
        wait_until("http_sink.py listens", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Sink { port, log, child }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request so far, oldest first.
    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }

    fn requests_to(&self, prefix: &str) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["path"].as_str().unwrap_or("").starts_with(prefix))
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SLACK_SECRET: &str = "T0000/B0000/slack-secret-XYZZY";
const MATRIX_TOKEN: &str = "syt_matrix_token_PLUGH";
const HOOK_TOKEN: &str = "hook-token-FROTZ";

/// Three file checks that fail until their file exists, and every channel pointed at `sink`
/// (the Slack URL comes from the environment, see [`run`]), mail at `smtp_port`.
fn config(host: &Host, sink: &Sink, smtp_port: u16) -> String {
    std::fs::write(host.path("matrix.token"), format!("{MATRIX_TOKEN}\n")).unwrap();
    std::fs::write(host.path("hook.token"), format!("{HOOK_TOKEN}\n")).unwrap();
    let mut text = format!(
        r#"
[escalation]
retry = "1ms"
hostname = "web-01"
message_timeout = "5s"
email = {{ to = ["ops@example.com"], from = "orchestrator@web-01", smtp = "smtp://127.0.0.1:{smtp_port}" }}
webhook = {{ url = "{am}" }}
json_webhook = {{ url = "{hook}", token_file = "{hook_token}" }}
ntfy = {{ url = "{ntfy}", topic = "web-01-alerts" }}
slack = {{ delivery_budget = "10s" }}
matrix = {{ homeserver = "{matrix}", room = "!ops:example.org", token_file = "{matrix_token}" }}
"#,
        am = sink.url("/am/api/v2/alerts"),
        hook = sink.url("/hook"),
        hook_token = host.path("hook.token").display(),
        ntfy = sink.url("/ntfy"),
        matrix = sink.url("/matrix"),
        matrix_token = host.path("matrix.token").display(),
    );
    for name in ["web", "db", "backup"] {
        text.push_str(&file_check(
            name,
            host.path(&format!("{name}.ok")).display(),
        ));
    }
    text
}

fn run(host: &Host, sink: &Sink, args: &[&str]) -> Run {
    Run::from(
        host.command(args)
            .env(
                "ORCHESTRATOR_SLACK_URL",
                sink.url(&format!("/slack/services/{SLACK_SECRET}")),
            )
            .output()
            .expect("run orchestrator"),
    )
}

fn body_of(request: &Value) -> Value {
    serde_json::from_str(request["body"].as_str().unwrap()).expect("a JSON body")
}

#[test]
fn three_incidents_of_one_cycle_go_out_as_one_message_per_channel() {
    require_system!(
        "three_incidents_of_one_cycle_go_out_as_one_message_per_channel",
        PYTHON3,
        AIOSMTPD
    );
    let host = Host::new();
    let sink = Sink::start(&host, "");
    let mut smtp = SmtpSink::new(&host);
    smtp.start();
    host.write_config(&config(&host, &sink, smtp.port));
    run(&host, &sink, &["config", "check"]).ok();

    let cycle = run(&host, &sink, &["--json", "cycle"]).ok().json();
    let escalated = cycle["escalate"]["incidents"].as_array().unwrap().len();
    assert_eq!(escalated, 3, "{cycle}");
    // Six notifications per incident, queued as six messages in all.
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM notifications"), 18);
    assert_eq!(
        host.query_i64("SELECT COUNT(DISTINCT batch || channel || recipient) FROM notifications"),
        6
    );
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM notifications WHERE status = 'sent'"),
        18
    );

    // The generic JSON webhook: one POST, the documented body, the key twice.
    let hook = sink.requests_to("/hook");
    assert_eq!(hook.len(), 1, "{hook:#?}");
    let body = body_of(&hook[0]);
    assert_eq!(body["version"], 1);
    assert_eq!(body["kind"], "escalation");
    assert_eq!(body["host"], "web-01");
    let key = body["key"].as_str().unwrap();
    assert!(key.starts_with("orchestrator-"), "{key}");
    assert_eq!(hook[0]["headers"]["idempotency-key"], key);
    assert_eq!(
        hook[0]["headers"]["authorization"],
        format!("Bearer {HOOK_TOKEN}")
    );
    let checks: Vec<&str> = body["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["web", "db", "backup"], "{body}");
    for incident in body["incidents"].as_array().unwrap() {
        for field in [
            "id",
            "severity",
            "status",
            "summary",
            "reason",
            "detected_at",
            "link",
            "text",
        ] {
            assert!(!incident[field].is_null(), "{field} in {incident}");
        }
    }
    assert_contains(
        body["subject"].as_str().unwrap(),
        "3 incidents on web-01 need a person: web, db, backup",
    );

    // ntfy: one JSON publish to the server's root, a title, top priority, the key as sequence.
    let ntfy = sink.requests_to("/ntfy");
    assert_eq!(ntfy.len(), 1, "{ntfy:#?}");
    assert_eq!(ntfy[0]["path"], "/ntfy");
    let published = body_of(&ntfy[0]);
    assert_eq!(published["topic"], "web-01-alerts");
    assert_eq!(published["priority"], 5);
    assert_contains(
        published["title"].as_str().unwrap(),
        "3 incidents on web-01",
    );
    assert!(published["sequence_id"]
        .as_str()
        .unwrap()
        .starts_with("orchestrator-"));
    for check in ["web on web-01", "db on web-01", "backup on web-01"] {
        assert_contains(published["message"].as_str().unwrap(), check);
    }
    assert!(published["click"].as_str().unwrap().contains("/incidents/"));

    // Slack: one POST of {"text"} to the URL from the environment.
    let slack = sink.requests_to("/slack");
    assert_eq!(slack.len(), 1, "{slack:#?}");
    assert_eq!(slack[0]["path"], format!("/slack/services/{SLACK_SECRET}"));
    let text = body_of(&slack[0])["text"].as_str().unwrap().to_string();
    assert_contains(&text, "3 incidents on web-01 need a person");
    for check in ["web on web-01", "db on web-01", "backup on web-01"] {
        assert_contains(&text, check);
    }

    // Matrix: one PUT to the room's send API, the key as txnId, the token as bearer.
    let matrix = sink.requests_to("/matrix");
    assert_eq!(matrix.len(), 1, "{matrix:#?}");
    assert_eq!(matrix[0]["method"], "PUT");
    let path = matrix[0]["path"].as_str().unwrap();
    let prefix = "/matrix/_matrix/client/v3/rooms/%21ops%3Aexample.org/send/m.room.message/";
    assert!(path.starts_with(prefix), "{path}");
    assert!(path[prefix.len()..].starts_with("orchestrator-"), "{path}");
    assert_eq!(
        matrix[0]["headers"]["authorization"],
        format!("Bearer {MATRIX_TOKEN}")
    );
    let event = body_of(&matrix[0]);
    assert_eq!(event["msgtype"], "m.text");
    assert_contains(event["body"].as_str().unwrap(), "backup on web-01");

    // Alertmanager's webhook: one POST carrying the three alerts.
    let alerts = sink.requests_to("/am");
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(body_of(&alerts[0]).as_array().unwrap().len(), 3);

    // Mail: one message naming all three.
    wait_until("the mail arrives", Duration::from_secs(10), || {
        !smtp.messages().is_empty()
    });
    std::thread::sleep(Duration::from_millis(300));
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let mail = decode_quoted_printable(&mails[0]).replace("\r\n ", " ");
    assert_contains(
        &mail,
        "3 incidents on web-01 need a person: web, db, backup",
    );

    // No secret reached the database: the Slack URL, the tokens.
    let db = std::fs::read(host.db_path()).unwrap();
    let db = String::from_utf8_lossy(&db);
    for secret in ["slack-secret-XYZZY", MATRIX_TOKEN, HOOK_TOKEN] {
        assert!(!db.contains(secret), "{secret} is in the database");
    }

    // The next run sends nothing new; Alertmanager gets its firing alerts again, in one POST.
    run(&host, &sink, &["escalate"]).ok();
    assert_eq!(sink.requests_to("/hook").len(), 1);
    assert_eq!(sink.requests_to("/am").len(), 2);

    // All three pass again: one all-clear per channel for the three.
    for name in ["web", "db", "backup"] {
        std::fs::write(host.path(&format!("{name}.ok")), "ok").unwrap();
    }
    run(&host, &sink, &["cycle"]).ok();
    let hook = sink.requests_to("/hook");
    assert_eq!(hook.len(), 2, "{hook:#?}");
    let clear = body_of(&hook[1]);
    assert_eq!(clear["kind"], "all_clear");
    assert_eq!(clear["incidents"].as_array().unwrap().len(), 3);
    assert_ne!(clear["key"], key, "the all-clear is another message");
    for prefix in ["/ntfy", "/slack", "/matrix"] {
        assert_eq!(sink.requests_to(prefix).len(), 2, "{prefix}");
    }
    let ntfy = sink.requests_to("/ntfy");
    assert_eq!(body_of(&ntfy[1])["priority"], 3);
}

#[test]
fn a_503_is_retried_under_the_same_key_and_a_400_fails_for_good() {
    require_system!(
        "a_503_is_retried_under_the_same_key_and_a_400_fails_for_good",
        PYTHON3
    );
    let host = Host::new();
    let sink = Sink::start(
        &host,
        "/hook=503,200;/matrix=503,200;/ntfy=400;/slack=429,200",
    );
    let mut text = config(&host, &sink, free_port());
    // No mail here: the mail server is not running.
    text = text
        .lines()
        .filter(|l| !l.starts_with("email ="))
        .collect::<Vec<_>>()
        .join("\n");
    host.write_config(&text);

    run(&host, &sink, &["cycle"]).ok();
    let rows = |channel: &str| {
        host.query_text(&format!(
            "SELECT status || ' ' || tries || ' ' || COALESCE(last_error, '') FROM notifications
             WHERE channel = '{channel}' ORDER BY id LIMIT 1"
        ))
    };
    let hook = rows("json_webhook");
    assert!(hook.starts_with("pending 1 "), "{hook}");
    assert_contains(&hook, "answered 503");
    assert!(rows("slack").starts_with("pending 1 "), "{}", rows("slack"));
    let ntfy = rows("ntfy");
    assert!(ntfy.starts_with("failed 1 "), "{ntfy}");
    assert_contains(&ntfy, "answered 400");
    assert!(!ntfy.contains("127.0.0.1/ntfy?"), "{ntfy}");
    let slack_error = rows("slack");
    assert!(
        !slack_error.contains("slack-secret"),
        "the Slack URL is not in an error: {slack_error}"
    );

    // The next run sends them again, each under its key; the 400 is not tried again.
    run(&host, &sink, &["escalate"]).ok();
    for channel in ["json_webhook", "matrix", "slack"] {
        let row = rows(channel);
        assert!(row.starts_with("sent 2"), "{channel}: {row}");
    }
    assert!(rows("ntfy").starts_with("failed 1 "));
    let hook = sink.requests_to("/hook");
    assert_eq!(hook.len(), 2);
    assert_eq!(body_of(&hook[0])["key"], body_of(&hook[1])["key"]);
    assert_eq!(
        hook[0]["headers"]["idempotency-key"],
        hook[1]["headers"]["idempotency-key"]
    );
    let matrix = sink.requests_to("/matrix");
    assert_eq!(matrix.len(), 2);
    assert_eq!(matrix[0]["path"], matrix[1]["path"], "the same txnId");
    assert_eq!(sink.requests_to("/ntfy").len(), 1, "a 400 is not retried");
    let failed = run(&host, &sink, &["metrics", "--prometheus"]).ok().stdout;
    assert_contains(&failed, "orchestrator_notifications_failed_total 3");
}

#[test]
fn config_check_names_the_line_of_each_bad_channel_key() {
    let host = Host::new();
    host.write_config(
        r##"[escalation]
ntfy = { url = "https://ntfy.example.org", topic = "ops alerts" }
matrix = { homeserver = "matrix.example.org", room = "#ops:example.org" }
slack = { message_timeout = "0s" }

[[checks]]
name = "x"
kind = "file"
path = "/"
"##,
    );
    let checked = Run::from(
        host.command(&["config", "check"])
            .env_remove("ORCHESTRATOR_SLACK_URL")
            .env_remove("ORCHESTRATOR_MATRIX_TOKEN")
            .output()
            .unwrap(),
    );
    assert_eq!(checked.status, 2, "{}\n{}", checked.stdout, checked.stderr);
    let said = format!("{}{}", checked.stdout, checked.stderr);
    let file = host.config_path().display().to_string();
    for expected in [
        format!("{file}:2:1: key `escalation.ntfy`: `topic = \"ops alerts\"`"),
        format!("{file}:3:1: key `escalation.matrix`: `homeserver = \"matrix.example.org\"` is not an http(s) URL"),
        format!("{file}:3:1: key `escalation.matrix`: `room = \"#ops:example.org\"` is not a room id"),
        format!("{file}:3:1: key `escalation.matrix`: needs `token_file`"),
        format!("{file}:4:1: key `escalation.slack`: `message_timeout` must be longer than 0s"),
        format!("{file}:4:1: key `escalation.slack`: needs `url_file`"),
    ] {
        assert_contains(&said, &expected);
    }
}
