//! A state disk that is full, read-only or missing: the checks still run and print, a person is
//! told directly (marked as unrecorded) and only once per `[escalation] repeat`, the exit
//! status says it failed, and the read commands never create, migrate or write the database.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `orchestrator -c CONFIG --db DB ARGS…` with the stamps of direct messages kept in `run`.
fn run_with(host: &Host, db: &Path, args: &[&str]) -> Run {
    Run::from(
        host.command_with_db(db, args)
            .env("RUNTIME_DIRECTORY", host.path("run"))
            .output()
            .expect("run orchestrator"),
    )
}

/// A disk check on the state filesystem (critical at 90%) and an HTTP check on a service that
/// is down.
fn checks(state: &Path, web: &Service) -> String {
    format!(
        r#"
[[checks]]
name = "state-disk"
kind = "disk"
path = "{state}"
crit = "90%"

[[checks]]
name = "web"
kind = "http"
url = "{url}"
timeout = "2s"
"#,
        state = state.display(),
        url = web.url()
    )
}

fn email_config(smtp_port: u16) -> String {
    format!(
        r#"
[escalation]
repeat = "1h"
hostname = "web01.test"
message_timeout = "10s"
[escalation.email]
to = ["ops@example.test"]
from = "orchestrator@web01.test"
smtp = "smtp://127.0.0.1:{smtp_port}"
"#
    )
}

/// An error names its cause once: "Read-only file system (os error 30)" not twice over.
#[track_caller]
fn assert_cause_once(text: &str) {
    let said = text.matches("Read-only file system (os error 30)").count();
    assert!(said <= 1, "the cause is printed {said} times:\n{text}");
}

fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Waits until the sink holds `count` messages, then a little longer to see none follows.
fn exactly_n_mails(smtp: &SmtpSink, count: usize) -> Vec<String> {
    wait_until(
        &format!("{count} mail(s) arrive"),
        Duration::from_secs(10),
        || smtp.messages().len() >= count,
    );
    std::thread::sleep(Duration::from_millis(300));
    let mails = smtp.messages();
    assert_eq!(mails.len(), count, "{mails:#?}");
    mails
}

#[test]
fn a_full_state_disk_still_runs_the_checks_and_tells_a_person_once() {
    require_system!(
        "a_full_state_disk_still_runs_the_checks_and_tells_a_person_once",
        Need::Root,
        AIOSMTPD
    );
    let host = Host::new();
    let disk = SmallDisk::mount(host.path("state"), "1m");
    let db = disk.0.join("state.db");
    let web = Service::new(&host, "web");
    let mut smtp = SmtpSink::new(&host);
    smtp.start();
    host.write_config(&format!(
        "{}{}",
        email_config(smtp.port),
        checks(&disk.0, &web)
    ));
    // While there is room the database records the service's incident.
    let first = run_with(&host, &db, &["--json", "scan"]).ok().json();
    assert_eq!(first["opened"].as_array().unwrap().len(), 1, "{first}");

    disk.fill();
    let cycle = run_with(&host, &db, &["--json", "cycle"]);
    assert_eq!(cycle.status, 1, "{}\n{}", cycle.stdout, cycle.stderr);
    let report = cycle.json();
    assert_eq!(report["unrecorded"], true, "{report}");
    let state_error = report["state_error"].as_str().unwrap();
    assert_contains(state_error, &db.display().to_string());
    assert_contains(state_error, "is full: 0 bytes free");
    let statuses: Vec<(String, String)> = report["scan"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].to_string(), c["status"].to_string()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("\"state-disk\"".into(), "\"critical\"".into()),
            ("\"web\"".into(), "\"critical\"".into())
        ],
        "{report}"
    );
    assert_eq!(report["direct_escalation"]["result"], "sent", "{report}");
    assert_contains(
        &cycle.stderr,
        "CRITICAL: [orchestrator] critical on web01.test",
    );

    // Headers unfolded, body decoded.
    let mail = decode_quoted_printable(&exactly_n_mails(&smtp, 1)[0])
        .replace("\r\n", "\n")
        .replace("\n ", " ");
    assert_contains(
        &mail,
        "state database unwritable, 2 failing check(s), unrecorded",
    );
    assert_contains(&mail, "NOT RECORDED");
    assert_contains(&mail, &db.display().to_string());
    assert_contains(&mail, "is full: 0 bytes free");
    assert_contains(&mail, "critical  state-disk: ");
    assert_contains(&mail, "critical  web: ");

    // The disk stays full: the next run prints and fails again, and sends nothing.
    let again = run_with(&host, &db, &["--json", "cycle"]);
    assert_eq!(again.status, 1, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(again.json()["direct_escalation"]["result"], "skipped");
    exactly_n_mails(&smtp, 1);

    // What was recorded before the disk filled can still be read.
    let listed = run_with(&host, &db, &["incidents", "list"]).ok();
    assert_contains(&listed.stdout, "web");

    // Room again: the next scan records, and a later outage is told at once.
    std::fs::remove_file(disk.0.join("filler")).unwrap();
    run_with(&host, &db, &["scan"]).ok();
    disk.fill();
    let later = run_with(&host, &db, &["--json", "scan"]);
    assert_eq!(later.status, 1, "{}\n{}", later.stdout, later.stderr);
    assert_eq!(later.json()["direct_escalation"]["result"], "sent");
    exactly_n_mails(&smtp, 2);
}

#[test]
fn a_read_only_state_disk_serves_the_read_commands_unchanged_and_tells_a_person() {
    require_system!(
        "a_read_only_state_disk_serves_the_read_commands_unchanged_and_tells_a_person",
        Need::Root,
        AIOSMTPD
    );
    let host = Host::new();
    let disk = SmallDisk::mount(host.path("state"), "4m");
    let db = disk.0.join("state.db");
    let web = Service::new(&host, "web");
    let mut smtp = SmtpSink::new(&host);
    smtp.start();
    host.write_config(&format!(
        "{}{}",
        email_config(smtp.port),
        checks(&disk.0, &web)
    ));
    run_with(&host, &db, &["scan"]).ok();
    disk.remount_read_only();
    let before = file_bytes(&db);

    let listed = run_with(&host, &db, &["incidents", "list"]).ok();
    assert_contains(&listed.stdout, "web");
    let shown = run_with(&host, &db, &["incidents", "show", "1"]).ok();
    assert_contains(&shown.stdout, "check:       web");
    let metrics = run_with(&host, &db, &["--json", "metrics"]).ok().json();
    assert_eq!(metrics["detected"], 1, "{metrics}");
    assert_eq!(
        file_bytes(&db),
        before,
        "a read command changed the database"
    );

    // The dashboard starts and serves what is recorded.
    let port = free_port();
    let mut serve = host
        .command_with_db(&db, &["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start serve");
    let page = |path: &str| ureq_get(&format!("http://127.0.0.1:{port}{path}"));
    wait_until("the dashboard answers", Duration::from_secs(10), || {
        page("/health").is_some()
    });
    let api = page("/api/incidents").unwrap();
    let incident = page("/incidents/1").unwrap();
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(api.0, 200, "{}", api.1);
    assert_contains(&api.1, "\"check\":\"web\"");
    assert_eq!(incident.0, 200, "{}", incident.1);
    assert_eq!(
        file_bytes(&db),
        before,
        "the dashboard changed the database"
    );

    // A decision cannot be recorded: it fails and says why.
    let ack = run_with(&host, &db, &["incidents", "ack", "1"]);
    assert_ne!(ack.status, 0, "{}", ack.stdout);
    assert_contains(
        &ack.stderr,
        "is on a read-only filesystem); nothing was recorded",
    );
    assert_cause_once(&ack.stderr);

    let cycle = run_with(&host, &db, &["--json", "cycle"]);
    assert_eq!(cycle.status, 1, "{}\n{}", cycle.stdout, cycle.stderr);
    let report = cycle.json();
    assert_contains(
        report["state_error"].as_str().unwrap(),
        "is on a read-only filesystem",
    );
    assert_cause_once(&cycle.stderr);
    assert_cause_once(report["state_error"].as_str().unwrap());
    assert_eq!(report["direct_escalation"]["result"], "sent", "{report}");
    let mail = decode_quoted_printable(&exactly_n_mails(&smtp, 1)[0]);
    assert_contains(&mail, "read-only filesystem");
    assert_contains(&mail, "critical  web: ");
    assert_eq!(file_bytes(&db), before, "the cycle changed the database");
}

#[test]
fn read_commands_on_a_missing_database_fail_and_create_nothing() {
    let host = Host::new();
    host.write_config("");
    let typo = host.path("typo/x.db");
    for args in [
        &["incidents", "list"][..],
        &["incidents", "show", "1"],
        &["metrics"],
        &["--json", "metrics", "--prometheus"],
    ] {
        let run = run_with(&host, &typo, args);
        assert_eq!(run.status, 1, "{args:?}: {}", run.stdout);
        assert_contains(
            &run.stderr,
            &format!("database {} does not exist", typo.display()),
        );
        assert!(!run.stdout.contains("no incidents"), "{}", run.stdout);
        assert!(
            !host.path("typo").exists(),
            "{args:?} created its directory"
        );
    }
}

#[test]
fn read_commands_neither_write_nor_migrate_the_database() {
    let host = Host::new();
    let absent = host.path("absent-file");
    host.write_config(&file_check("backup", absent.display()));
    let db = host.db_path();
    run_with(&host, &db, &["scan"]).ok();
    assert!(!sidecar(&db, "-wal").exists(), "the writer left a -wal");
    let before = file_bytes(&db);
    let modified = std::fs::metadata(&db).unwrap().modified().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    for args in [
        &["incidents", "list"][..],
        &["incidents", "show", "1"],
        &["metrics", "--prometheus"],
    ] {
        run_with(&host, &db, args).ok();
    }
    assert_eq!(file_bytes(&db), before);
    assert_eq!(
        std::fs::metadata(&db).unwrap().modified().unwrap(),
        modified
    );
    let wal = sidecar(&db, "-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "a reader wrote to the -wal"
    );

    // An older schema is an error, never an upgrade.
    host.db().pragma_update(None, "user_version", 3).unwrap();
    let old = run_with(&host, &db, &["incidents", "list"]);
    assert_eq!(old.status, 1, "{}", old.stdout);
    assert_contains(
        &old.stderr,
        "has schema version 3, older than this orchestrator's",
    );
    assert_eq!(
        host.query_i64("PRAGMA user_version"),
        3,
        "a reader migrated"
    );
}

#[test]
fn notify_failure_tells_a_person_once_without_a_database() {
    let host = Host::new();
    let hook = WebhookSink::start();
    host.write_config(&format!(
        "[escalation]\nrepeat = \"1h\"\nhostname = \"web01.test\"\n[escalation.webhook]\nurl = \"http://user:secret@127.0.0.1:{}/api/v2/alerts\"\n",
        hook.port
    ));
    let db = host.path("nowhere/state.db");
    let run = run_with(&host, &db, &["notify-failure", "orchestrator.service"]).ok();
    assert_contains(
        &run.stdout,
        "orchestrator.service failed; direct message: sent",
    );
    assert!(!run.stdout.contains("secret"), "{}", run.stdout);
    wait_until("the alert arrives", Duration::from_secs(5), || {
        !hook.received().is_empty()
    });
    let alert = &hook.received()[0];
    assert_contains(alert, "POST /api/v2/alerts");
    assert_contains(alert, "\"alertname\":\"OrchestratorUnitFailed\"");
    assert_contains(alert, "\"unrecorded\":\"true\"");
    assert_contains(alert, "orchestrator.service failed");
    assert!(
        !host.path("nowhere").exists(),
        "notify-failure created the state directory"
    );

    // Within `repeat` no message goes to a person again, but the alert is posted again with
    // the same labels, so Alertmanager keeps one alert firing instead of letting it lapse.
    let again = run_with(&host, &db, &["notify-failure", "orchestrator.service"]).ok();
    assert_contains(&again.stdout, "direct message: skipped");
    wait_until("the alert is posted again", Duration::from_secs(5), || {
        hook.received().len() == 2
    });
    // Each is "POST /api/v2/alerts HTTP/1.1 [the alerts]".
    let labels = |post: &str| {
        let alerts = &post[post.find('[').expect("a JSON list")..];
        let alerts: serde_json::Value = serde_json::from_str(alerts).unwrap();
        alerts[0]["labels"].clone()
    };
    let posts = hook.received();
    assert_eq!(labels(&posts[0]), labels(&posts[1]), "{posts:#?}");
}

#[test]
fn notify_failure_with_no_channel_fails_so_systemd_shows_it() {
    let host = Host::new();
    host.write_config("");
    let run = run_with(
        &host,
        &host.db_path(),
        &["notify-failure", "orchestrator.service"],
    );
    assert_eq!(run.status, 1, "{}", run.stdout);
    assert_contains(&run.stdout, "no_channel");
}
