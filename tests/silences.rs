//! Silences on the built binary: a silenced check is scanned and shown but nothing acts on it
//! and nobody is mailed; once the silence ends (by `silence expire` or by its time) the phases
//! take its incident up again. Also the CLI's errors, `silence list --json` and `metrics`.

use crate::common::*;
use std::time::Duration;

/// A killed service `web` that its remedy restarts, and `backup`, a missing file that nothing
/// fixes, so it goes to a person; mail goes to `smtp_port`.
fn config(service: &Service, host: &Host, smtp_port: u16) -> String {
    format!(
        r#"
[cycle]
settle = "100ms"
[policy]
reopen_within = "0s"
[escalation]
retry = "1ms"
repeat = "24h"
hostname = "web-01"
email = {{ to = ["oncall@example.com"], from = "orchestrator@web-01", smtp = "smtp://127.0.0.1:{smtp_port}" }}

[[checks]]
name = "web"
kind = "http"
url = "{url}"
timeout = "2s"
remedy = [ {{ action = "remove_file", path = "{pid}" }}, {{ action = "run", argv = {start}, timeout = "15s" }} ]

[[checks]]
name = "backup"
kind = "file"
path = "{dir}/backup.tar"
"#,
        url = service.url(),
        pid = service.pidfile.display(),
        start = service.start_toml(),
        dir = host.dir.path().display(),
    )
}

fn verdicts(cycle: &serde_json::Value, phase: &str) -> Vec<(String, String)> {
    cycle[phase]["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["check"].as_str().unwrap().to_string(),
                l["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_silenced_broken_service_is_not_restarted_nor_mailed_until_the_silence_is_expired() {
    require_system!(
        "a_silenced_broken_service_is_not_restarted_nor_mailed_until_the_silence_is_expired",
        AIOSMTPD
    );
    let host = Host::new();
    let service = Service::new(&host, "web");
    let mut smtp = SmtpSink::new(&host);
    smtp.start();
    host.write_config(&config(&service, &host, smtp.port));
    service.start();
    let added = host
        .run(&[
            "--json",
            "silence",
            "add",
            "--all",
            "--for",
            "1h",
            "--note",
            "kernel upgrade",
            "--by",
            "alice",
        ])
        .ok()
        .json();
    let id = added["silence"]["id"].as_i64().unwrap();
    assert_eq!(added["silence"]["check"], serde_json::Value::Null);
    service.kill();

    for _ in 0..2 {
        let cycle = host.run(&["--json", "cycle"]).ok().json();
        // Scanned and shown, with who, why and until when...
        let web = &cycle["scan"]["checks"][0];
        assert_eq!(web["status"], "critical", "{cycle}");
        assert_contains(
            web["silenced"].as_str().unwrap_or(""),
            "silenced by alice until",
        );
        assert_contains(web["silenced"].as_str().unwrap(), "kernel upgrade");
        // ...but left where it is by every phase.
        assert_eq!(
            verdicts(&cycle, "fix"),
            [
                ("web".into(), "silenced".into()),
                ("backup".into(), "silenced".into())
            ],
            "{cycle}"
        );
    }
    assert!(!service.healthy(), "a silenced service was restarted");
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM attempts"), 0);
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM escalations"), 0);
    assert_eq!(
        host.query_text("SELECT GROUP_CONCAT(status || ' ' || phase, ', ') FROM incidents"),
        "open 1, open 1"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(smtp.messages().is_empty(), "mailed under a silence");

    let expired = host
        .run(&["--json", "silence", "expire", &id.to_string()])
        .ok()
        .json();
    assert_eq!(expired["silence"]["state"], "expired");
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(
        verdicts(&cycle, "fix"),
        [
            ("web".into(), "fixed".into()),
            ("backup".into(), "passed_on".into())
        ],
        "{cycle}"
    );
    assert_eq!(
        verdicts(&cycle, "escalate"),
        [("backup".into(), "escalated".into())]
    );
    assert!(service.healthy());
    wait_until("the escalation is mailed", Duration::from_secs(10), || {
        smtp.messages().len() == 1
    });
    assert_contains(&smtp.messages()[0], "backup needs a person");

    // Kept, with its history; expiring it again says when it ended.
    let again = host.run(&["silence", "expire", &id.to_string()]);
    assert_ne!(again.status, 0);
    assert_contains(&again.stderr, &format!("silence {id} already ended at"));
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM silences WHERE expired_at IS NOT NULL"),
        1
    );
}

#[test]
fn a_silence_on_one_check_ends_by_itself_and_leaves_the_others_alone() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    // No mail server: escalation mail only queues.
    host.write_config(&config(&service, &host, free_port()));
    service.start();
    service.kill();
    // Open before the silence: left open, untouched while it lasts, taken up again after.
    host.run(&["scan"]).ok();
    host.run(&["silence", "add", "web", "--for", "3s", "--note", "deploy"])
        .ok();
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(
        verdicts(&cycle, "fix"),
        [
            ("web".into(), "silenced".into()),
            ("backup".into(), "passed_on".into())
        ],
        "{cycle}"
    );
    assert_eq!(
        verdicts(&cycle, "escalate"),
        [("backup".into(), "escalated".into())]
    );
    assert!(!service.healthy());
    let listed = host.run(&["--json", "silence", "list"]).ok().json();
    assert_eq!(listed["silences"][0]["state"], "active", "{listed}");

    wait_until("the silence ends", Duration::from_secs(10), || {
        host.run(&["--json", "silence", "list"]).ok().json()["silences"]
            .as_array()
            .unwrap()
            .is_empty()
    });
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(
        verdicts(&cycle, "fix"),
        [("web".into(), "fixed".into())],
        "{cycle}"
    );
    assert!(service.healthy());
    let all = host
        .run(&["--json", "silence", "list", "--all"])
        .ok()
        .json();
    assert_eq!(all["silences"][0]["state"], "expired", "{all}");
    assert_eq!(all["silences"][0]["expired_at"], serde_json::Value::Null);
}

#[test]
fn silence_list_json_shows_who_why_and_until_when_active_and_expired() {
    let host = Host::new();
    host.write_config("[[checks]]\nname = \"memory\"\nkind = \"memory\"\n");
    host.run(&[
        "silence",
        "add",
        "memory",
        "--until",
        "2099-01-01T01:00:00+01:00",
        "--note",
        "swap work",
        "--by",
        "bob",
    ])
    .ok();
    host.run(&[
        "silence",
        "add",
        "--all",
        "--for",
        "1h",
        "--note",
        "all of it",
    ])
    .ok();
    host.run(&["silence", "expire", "2"]).ok();
    let active = host.run(&["--json", "silence", "list"]).ok().json();
    let silences = active["silences"].as_array().unwrap();
    assert_eq!(silences.len(), 1, "{active}");
    let memory = &silences[0];
    assert_eq!(memory["id"], 1);
    assert_eq!(memory["check"], "memory");
    assert_eq!(memory["created_by"], "bob");
    assert_eq!(memory["note"], "swap work");
    assert_eq!(memory["state"], "active");
    assert_eq!(memory["ends_at"], "2099-01-01T00:00:00Z");
    let all = host
        .run(&["--json", "silence", "list", "--all"])
        .ok()
        .json();
    let states: Vec<(i64, &str)> = all["silences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_i64().unwrap(), s["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [(2, "expired"), (1, "active")]);
    assert!(all["silences"][0]["expired_at"].is_string(), "{all}");
    assert!(all["silences"][0]["check"].is_null());
    let table = host.run(&["silence", "list", "--all"]).ok().stdout;
    assert_contains(&table, "all checks");
    assert_contains(&table, "swap work");
}

#[test]
fn bad_silences_are_refused_with_the_reason() {
    let host = Host::new();
    host.write_config(
        "[[checks]]\nname = \"memory\"\nkind = \"memory\"\n[[checks]]\nname = \"load\"\nkind = \"load\"\n",
    );
    let unknown = host.run(&["silence", "add", "web", "--for", "1h", "--note", "x"]);
    assert_eq!(unknown.status, 2, "{}", unknown.stderr);
    assert_contains(
        &unknown.stderr,
        "unknown check `web`; the config has: memory, load",
    );
    let past = host.run(&[
        "silence",
        "add",
        "memory",
        "--until",
        "2001-01-01T00:00:00Z",
        "--note",
        "x",
    ]);
    assert_eq!(past.status, 2, "{}", past.stderr);
    assert_contains(&past.stderr, "not in the future");
    let garbled = host.run(&[
        "silence", "add", "memory", "--until", "tomorrow", "--note", "x",
    ]);
    assert_eq!(garbled.status, 2);
    assert_contains(&garbled.stderr, "is not an RFC 3339 time");
    let neither = host.run(&["silence", "add", "memory", "--note", "x"]);
    assert_eq!(neither.status, 2);
    let both = host.run(&[
        "silence", "add", "memory", "--all", "--for", "1h", "--note", "x",
    ]);
    assert_eq!(both.status, 2);
    let missing = host.run(&["silence", "expire", "7"]);
    assert_ne!(missing.status, 0);
    // Nothing was recorded by any of them.
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM silences"), 0);
}

/// Incidents detected under a silence are counted apart: not escalations, not failures.
#[test]
fn metrics_count_incidents_detected_under_a_silence_apart() {
    let host = Host::new();
    host.write_config(&file_check("backup", host.path("backup.tar").display()));
    host.run(&[
        "silence",
        "add",
        "backup",
        "--for",
        "1h",
        "--note",
        "moving disks",
    ])
    .ok();
    host.run(&["cycle"]).ok();
    let m = host.run(&["--json", "metrics"]).ok().json();
    assert_eq!(m["detected"], 1, "{m}");
    assert_eq!(m["silenced"], 1, "{m}");
    assert_eq!(m["escalated"], 0, "{m}");
    assert_eq!(host.query_i64("SELECT silence FROM incidents"), 1);
    let table = host.run(&["metrics"]).ok().stdout;
    assert_contains(&table, "silenced            1");
    let text = host.run(&["metrics", "--prometheus"]).ok().stdout;
    assert_contains(&text, "orchestrator_incidents_silenced_total 1");
    assert_contains(&text, "orchestrator_incidents_escalated_total 0");
}

#[test]
fn a_silence_ending_in_two_hours_reads_in_2h_not_ago() {
    let host = Host::new();
    host.write_config(&file_check("backup", host.path("backup.tar").display()));
    host.run(&["scan"]).ok();
    host.run(&["silence", "add", "backup", "--for", "2h", "--note", "tape"])
        .ok();
    let list = host.run(&["silence", "list"]).ok().stdout;
    assert_contains(&list, " (in 2h) ");
    assert!(!list.contains("ago"), "{list}");
    let dashboard = Dashboard::start(&host);
    let (_, page) = ureq_get(&dashboard.url("/silences")).unwrap();
    assert_contains(&page, "<span class=\"ago\">(in 2h)</span>");
    assert!(!page.contains("(0s ago)"), "{page}");
}
