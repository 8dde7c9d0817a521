//! Phase 4 against a real SMTP server (aiosmtpd) and an HTTP receiver in Alertmanager's place.

use crate::common::*;

fn escalation_config(
    host: &Host,
    smtp_port: u16,
    webhook_port: Option<u16>,
    extra: &str,
) -> String {
    let webhook = webhook_port
        .map(|p| format!("webhook = {{ url = \"http://127.0.0.1:{p}/api/v2/alerts\", format = \"alertmanager\" }}\n"))
        .unwrap_or_default();
    format!(
        r#"
[escalation]
retry = "1ms"
repeat = "24h"
hostname = "web-01"
dashboard_url = "http://dash.example:8888"
email = {{ to = ["ops@example.com", "oncall@example.com"], from = "orchestrator@web-01", smtp = "smtp://127.0.0.1:{smtp_port}" }}
{webhook}{extra}

[[checks]]
name = "nightly-backup"
kind = "file"
path = "{dir}/backup.tar"
"#,
        dir = host.dir.path().display()
    )
}

#[test]
fn an_escalation_is_mailed_once_with_its_story_and_alertmanager_gets_an_alert() {
    require_system!(
        "an_escalation_is_mailed_once_with_its_story_and_alertmanager_gets_an_alert",
        AIOSMTPD
    );
    let host = Host::new();
    let mut smtp = SmtpSink::new(&host);
    smtp.start();
    let webhook = WebhookSink::start();
    host.write_config(&escalation_config(&host, smtp.port, Some(webhook.port), ""));
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(
        cycle["escalate"]["incidents"][0]["verdict"], "escalated",
        "{cycle}"
    );
    assert_eq!(
        host.query_text("SELECT status || ' ' || phase FROM incidents"),
        "escalated 4"
    );
    assert_eq!(
        host.query_text("SELECT reason FROM escalations"),
        "phase 1: no learned pattern and no configured remedy; \
         phase 2: no research agent configured; phase 3: no consult agents configured"
    );
    wait_until(
        "two mails arrive",
        std::time::Duration::from_secs(10),
        || smtp.messages().len() == 2,
    );
    let mail = &smtp.messages()[0];
    assert_contains(
        mail,
        "Subject: [orchestrator] critical on web-01: nightly-backup needs a person",
    );
    assert_contains(mail, "Host:      web-01");
    assert_contains(mail, "Check:     nightly-backup");
    assert_contains(mail, "Severity:  critical");
    assert_contains(mail, "backup.tar: No such file or directory");
    assert_contains(mail, "phase 1: no learned pattern and no configured remedy");
    // "Why:" names where the cause was found, not the phases that had nothing to do.
    assert_contains(
        mail,
        "Why:       phase 1: no learned pattern and no configured remedy",
    );
    assert_contains(mail, "http://dash.example:8888/incidents/1");
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM notifications WHERE status = 'sent'"),
        3
    );

    let alerts = webhook.received();
    assert_eq!(alerts.len(), 1);
    let (request_line, body) = alerts[0].split_once(' ').unwrap();
    assert_eq!(request_line, "POST");
    let json: serde_json::Value =
        serde_json::from_str(body.split_once(' ').unwrap().1.split_once(' ').unwrap().1).unwrap();
    let alert = &json[0];
    assert_eq!(alert["labels"]["alertname"], "OrchestratorEscalation");
    assert_eq!(alert["labels"]["instance"], "web-01");
    assert_eq!(alert["labels"]["check"], "nightly-backup");
    assert_eq!(alert["labels"]["severity"], "critical");
    assert!(alert["annotations"]["summary"]
        .as_str()
        .unwrap()
        .contains("backup.tar"));
    assert!(alert["startsAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        alert["generatorURL"],
        "http://dash.example:8888/incidents/1"
    );
    // Firing: `endsAt` lies ahead (alert_ttl, 15 min by default), so Alertmanager keeps it
    // until the next re-post.
    let ends = alert["endsAt"].as_str().expect("endsAt");
    assert!(ends > alert["startsAt"].as_str().unwrap(), "{alert}");

    // Later cycles send no mail again; the alert is re-posted, the same alert (same labels).
    host.run(&["cycle"]).ok();
    host.run(&["escalate"]).ok();
    assert_eq!(smtp.messages().len(), 2);
    let posts = webhook.received();
    assert_eq!(posts.len(), 3, "{posts:?}");
    assert!(
        posts.iter().all(|p| p.contains("\"incident\":\"1\"")),
        "{posts:?}"
    );

    // The backup appears: the incident recovers, the escalation closes, an all-clear goes out.
    std::fs::write(host.path("backup.tar"), "data").unwrap();
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(cycle["escalate"]["all_clear"][0], 1, "{cycle}");
    wait_until(
        "the all-clear arrives",
        std::time::Duration::from_secs(10),
        || smtp.messages().len() == 4,
    );
    assert_contains(&smtp.messages()[3], "All clear");
    assert_eq!(
        host.query_text("SELECT status FROM escalations"),
        "resolved"
    );
    let resolved = webhook.received().last().cloned().unwrap();
    assert!(resolved.contains("endsAt"), "{resolved}");
}

#[test]
fn a_real_alertmanager_takes_the_alert_and_the_all_clear_resolves_it() {
    require_system!(
        "a_real_alertmanager_takes_the_alert_and_the_all_clear_resolves_it",
        AIOSMTPD,
        ALERTMANAGER
    );
    let host = Host::new();
    let mut smtp = SmtpSink::new(&host);
    smtp.start();
    let alertmanager = Alertmanager::start(&host);
    host.write_config(&escalation_config(
        &host,
        smtp.port,
        Some(alertmanager.port),
        "",
    ));
    host.run(&["cycle"]).ok();
    assert_eq!(
        host.query_text("SELECT status FROM notifications WHERE channel = 'webhook'"),
        "sent"
    );
    let alerts = alertmanager.active_alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert["status"]["state"], "active", "{alert}");
    assert_eq!(alert["labels"]["alertname"], "OrchestratorEscalation");
    assert_eq!(alert["labels"]["instance"], "web-01");
    assert_eq!(alert["labels"]["check"], "nightly-backup");
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_contains(
        alert["annotations"]["summary"].as_str().unwrap(),
        "backup.tar",
    );
    assert_contains(
        alert["annotations"]["description"].as_str().unwrap(),
        "phase 1",
    );
    assert_eq!(
        alert["generatorURL"],
        "http://dash.example:8888/incidents/1"
    );

    std::fs::write(host.path("backup.tar"), "data").unwrap();
    host.run(&["cycle"]).ok();
    assert_eq!(
        host.query_i64(
            "SELECT COUNT(*) FROM notifications WHERE channel = 'webhook' AND status = 'sent'"
        ),
        2
    );
    let alerts = alertmanager.active_alerts();
    assert!(alerts.is_empty(), "the alert is resolved: {alerts:?}");
}

#[test]
fn with_the_mail_server_down_a_notification_waits_and_arrives_exactly_once() {
    require_system!(
        "with_the_mail_server_down_a_notification_waits_and_arrives_exactly_once",
        AIOSMTPD
    );
    let host = Host::new();
    let mut smtp = SmtpSink::new(&host);
    host.write_config(&escalation_config(&host, smtp.port, None, ""));
    host.run(&["cycle"]).ok();
    host.run(&["escalate"]).ok();
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM notifications WHERE status = 'pending'"),
        2
    );
    assert!(
        host.query_i64("SELECT MIN(tries) FROM notifications") >= 2,
        "retried on the later run"
    );
    assert_contains(
        &host.query_text("SELECT last_error FROM notifications LIMIT 1"),
        "127.0.0.1",
    );

    smtp.start();
    // The backoff doubles from 1ms: wait until the next try is due, then run.
    wait_until(
        "the retry is due",
        std::time::Duration::from_secs(5),
        || {
            host.query_i64(&format!(
                "SELECT COUNT(*) FROM notifications WHERE next_try_at > {}",
                now_secs()
            )) == 0
        },
    );
    let escalate = host.run(&["--json", "escalate"]).ok().json();
    assert_eq!(
        escalate["deliveries"].as_array().unwrap().len(),
        2,
        "{escalate}"
    );
    wait_until(
        "the mails arrive",
        std::time::Duration::from_secs(10),
        || smtp.messages().len() == 2,
    );
    host.run(&["escalate"]).ok();
    host.run(&["cycle"]).ok();
    assert_eq!(
        smtp.messages().len(),
        2,
        "a sent notification is never sent again"
    );
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM notifications WHERE status = 'sent'"),
        2
    );
}

#[test]
fn an_open_escalation_is_repeated_until_acknowledged() {
    require_system!(
        "an_open_escalation_is_repeated_until_acknowledged",
        AIOSMTPD
    );
    let host = Host::new();
    let mut smtp = SmtpSink::new(&host);
    smtp.start();
    host.write_config(
        &escalation_config(&host, smtp.port, None, "")
            .replace_once("repeat = \"24h\"", "repeat = \"1ms\""),
    );
    host.run(&["cycle"]).ok();
    let escalate = host.run(&["--json", "escalate"]).ok().json();
    assert_eq!(escalate["repeated"][0], 1, "{escalate}");
    wait_until(
        "the reminder arrives",
        std::time::Duration::from_secs(10),
        || smtp.messages().len() == 4,
    );
    assert_contains(&smtp.messages()[2], "still unresolved");
    host.run(&["incidents", "ack", "1", "--note", "restoring from tape"])
        .ok();
    let escalate = host.run(&["--json", "escalate"]).ok().json();
    assert!(
        escalate["repeated"].as_array().unwrap().is_empty(),
        "{escalate}"
    );
    assert_eq!(
        host.query_text("SELECT status || ' ' || note FROM escalations"),
        "acknowledged restoring from tape"
    );
}

#[test]
fn a_person_resolving_with_a_plan_teaches_phase_1() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    // The person's plan is judged by [policy]: its `run` must match `commands` (that `run`
    // needs approval is fine: the person is that approval).
    host.write_config(&format!(
        "[cycle]\nsettle = \"100ms\"\n[policy]\nreopen_within = \"0s\"\ncommands = [[\"{}\", \"**\"]]\n\
         [[checks]]\nname = \"web\"\nkind = \"http\"\nurl = \"{}\"\n",
        service_bin().display(),
        service.url()
    ));
    service.start();
    service.kill();
    host.run(&["cycle"]).ok();
    assert_eq!(host.query_text("SELECT status FROM incidents"), "escalated");
    // The person mends it by hand and tells orchestrator how.
    let _ = std::fs::remove_file(&service.pidfile);
    service.start();
    let plan = serde_json::json!([
        {"action": "remove_file", "path": service.pidfile.display().to_string()},
        {"action": "run", "argv": service.start_argv()},
    ]);
    host.run(&[
        "incidents",
        "resolve",
        "1",
        "--note",
        "stale pid file",
        "--plan",
        &plan.to_string(),
    ])
    .ok();
    assert_eq!(
        host.query_text("SELECT status || ' ' || resolved_phase FROM incidents"),
        "resolved 4"
    );
    assert_eq!(host.query_i64("SELECT source_phase FROM patterns"), 4);

    service.kill();
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(cycle["fix"]["incidents"][0]["verdict"], "fixed", "{cycle}");
    assert!(service.healthy());

    let bad = host.run(&[
        "incidents",
        "resolve",
        "2",
        "--note",
        "x",
        "--plan",
        "[{\"action\": \"reboot\"}]",
    ]);
    assert_eq!(bad.status, 2);
    assert_contains(&bad.stderr, "not a plan in the action vocabulary");
}
