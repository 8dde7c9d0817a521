//! Root cause first and one fault, one incident: `depends_on` between checks and checks grouped
//! by service, run through the real binary against small fake services.
//!
//! The "application" is a `command` check: a script that passes only while the database's
//! marker file exists and the application's own marker does. The "database" is a `file` check
//! on its marker. Remedies are scripts that write down each run, so a test can prove what ran.

use crate::common::*;
use std::path::Path;
use std::time::Duration;

/// Writes an executable script into the host directory and returns its path.
fn script(host: &Host, name: &str, body: &str) -> String {
    let path = host.path(name);
    write_script(&path, &format!("{body}\n"));
    path.display().to_string()
}

/// Lines a remedy script appended to its run log: how many times it ran.
fn runs(host: &Host, log: &str) -> usize {
    std::fs::read_to_string(host.path(log))
        .map(|text| text.lines().count())
        .unwrap_or(0)
}

/// An application that needs its database; only the database has a remedy unless
/// `app_remedy` is set. `db_fix` is the database's remedy script body.
fn chain_config(host: &Host, db_fix: &str, app_remedy: bool) -> String {
    let dir = host.dir.path().display();
    let app_check = script(
        host,
        "check-app",
        &format!(
            "if [ -e {dir}/db-up ] && [ -e {dir}/app-ok ]; then echo 'OK - app answers'; exit 0; fi\n\
             echo 'CRITICAL - app: database unreachable or app broken'; exit 2"
        ),
    );
    let db_remedy = script(
        host,
        "fix-db",
        &format!("echo run >> {dir}/db-runs\n{db_fix}"),
    );
    let app_fix = script(
        host,
        "restart-app",
        &format!("echo run >> {dir}/app-runs\ntouch {dir}/app-ok"),
    );
    let app_remedy = if app_remedy {
        format!("remedy = [{{ action = \"run\", argv = [\"{app_fix}\"] }}]\n")
    } else {
        String::new()
    };
    format!(
        r#"
[cycle]
settle = "50ms"

[[checks]]
name = "app"
kind = "command"
command = ["{app_check}"]
depends_on = ["db"]
{app_remedy}
[[checks]]
name = "db"
kind = "file"
path = "{dir}/db-up"
remedy = [{{ action = "run", argv = ["{db_remedy}"] }}]
"#
    )
}

fn touch(path: &Path) {
    std::fs::write(path, "").expect("touch");
}

#[test]
fn only_the_database_is_fixed_and_the_application_recovers_as_its_symptom() {
    let host = Host::new();
    let dir = host.dir.path().display().to_string();
    host.write_config(&chain_config(&host, &format!("touch {dir}/db-up"), true));
    touch(&host.path("app-ok"));

    let cycle = host.run(&["--json", "cycle"]).ok().json();

    assert_eq!(runs(&host, "db-runs"), 1, "{cycle}");
    assert_eq!(runs(&host, "app-runs"), 0, "the app was restarted: {cycle}");
    assert_eq!(
        host.query_text(
            "SELECT group_concat(check_name || ' ' || status, ', ') FROM incidents ORDER BY id"
        ),
        "app recovered, db resolved"
    );
    assert_eq!(
        host.query_i64("SELECT caused_by FROM incidents WHERE check_name = 'app'"),
        host.query_i64("SELECT id FROM incidents WHERE check_name = 'db'")
    );
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM attempts a JOIN incidents i ON i.id = a.incident WHERE i.check_name = 'app'"),
        0
    );
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM escalations"), 0);

    let app = host.run(&["incidents", "show", "1"]).ok().stdout;
    assert_contains(&app, "caused by:   #2 db (resolved)");
    let db = host.run(&["incidents", "show", "2"]).ok().stdout;
    assert_contains(&db, "symptoms:    #1 app (recovered)");
    let json = host.run(&["--json", "incidents", "show", "1"]).ok().json();
    assert_eq!(json["incident"]["caused_by"], 2, "{json}");
    assert_eq!(json["cause"]["check"], "db", "{json}");

    let dashboard = Dashboard::start(&host);
    let (status, page) = ureq_get(&dashboard.url("/incidents/1")).expect("incident page");
    assert_eq!(status, 200);
    assert_contains(
        &page,
        "<dt>Caused by</dt><dd><a href=\"/incidents/2\">#2</a> db",
    );
    let (_, page) = ureq_get(&dashboard.url("/incidents/2")).expect("incident page");
    assert_contains(
        &page,
        "<dt>Symptoms</dt><dd><a href=\"/incidents/1\">#1</a> app",
    );
}

#[test]
fn an_unfixable_database_is_escalated_once_and_the_application_never() {
    let host = Host::new();
    let dir = host.dir.path().display().to_string();
    host.write_config(&chain_config(&host, "echo 'disk gone'; exit 1", true));
    touch(&host.path("app-ok"));

    for _ in 0..2 {
        host.run(&["cycle"]).ok();
    }

    assert_eq!(runs(&host, "app-runs"), 0, "the app was restarted");
    assert_eq!(
        host.query_text("SELECT group_concat(i.check_name, ',') FROM escalations e JOIN incidents i ON i.id = e.incident"),
        "db"
    );
    assert_eq!(
        host.query_text("SELECT status || ' ' || phase || ' ' || max_phase FROM incidents WHERE check_name = 'app'"),
        "open 1 1"
    );
    let metrics = host.run(&["--json", "metrics"]).ok().json();
    assert_eq!(metrics["escalated"], 1, "{metrics}");
    assert_eq!(
        metrics["detected"], 1,
        "a symptom is not a fault: {metrics}"
    );

    // A person mends the database: both end closed, and nothing ever ran on the app.
    touch(&host.path("db-up"));
    host.run(&["cycle"]).ok();
    assert_eq!(
        host.query_text(
            "SELECT group_concat(check_name || ' ' || status, ', ') FROM incidents ORDER BY id"
        ),
        "app recovered, db recovered"
    );
    assert_eq!(runs(&host, "app-runs"), 0);
    assert!(Path::new(&format!("{dir}/app-ok")).exists());
}

#[test]
fn an_application_still_failing_after_its_database_recovered_is_worked_on() {
    let host = Host::new();
    let dir = host.dir.path().display().to_string();
    host.write_config(&chain_config(&host, &format!("touch {dir}/db-up"), true));
    // The app is broken on its own too (no app-ok): fixing the database is not enough.

    host.run(&["cycle"]).ok();

    assert_eq!(runs(&host, "db-runs"), 1);
    assert_eq!(runs(&host, "app-runs"), 1);
    assert_eq!(
        host.query_text(
            "SELECT group_concat(check_name || ' ' || status, ', ') FROM incidents ORDER BY id"
        ),
        "app resolved, db resolved"
    );
    let kinds = host.query_text(
        "SELECT group_concat(kind, ',') FROM incident_events WHERE incident = 1 ORDER BY id",
    );
    assert_eq!(kinds, "opened,symptom,released,resolved");
    // A fault of its own after all: no longer counted as a symptom.
    assert_eq!(
        host.query_text("SELECT COALESCE(caused_by, 'none') FROM incidents WHERE id = 1"),
        "none"
    );
}

/// An application failing while its database passes is a fault of its own: the facts the
/// agents get (and `incidents show`) carry the database's state, so a diagnosis can rule it out.
#[test]
fn the_facts_of_an_incident_name_the_state_of_its_dependencies() {
    let host = Host::new();
    let dir = host.dir.path().display().to_string();
    let config = chain_config(&host, "true", false).replace_once(
        "[cycle]",
        "[agents.runbook]\nbuiltin = \"runbook\"\n\n[research]\nagent = \"runbook\"\n\n[cycle]",
    );
    host.write_config(&config);
    touch(&host.path("db-up"));

    host.run(&["cycle"]).ok();

    let shown = host.run(&["--json", "incidents", "show", "1"]);
    let record: serde_json::Value = serde_json::from_str(&shown.stdout).expect("JSON");
    let dependencies = &record["facts"]["dependencies"];
    assert_eq!(dependencies[0]["check"], "db", "{record}");
    assert_eq!(dependencies[0]["status"], "ok", "{record}");
    assert_contains(
        dependencies[0]["summary"].as_str().unwrap_or(""),
        &format!("{dir}/db-up"),
    );
    let text = host.run(&["incidents", "show", "1"]).stdout;
    assert_contains(&text, "depends on db: ok");
}

#[test]
fn a_dependency_cycle_is_a_config_error_naming_it() {
    let host = Host::new();
    host.write_config(
        "[[checks]]\nname = \"web\"\nkind = \"memory\"\ndepends_on = [\"app\"]\n\n\
         [[checks]]\nname = \"app\"\nkind = \"memory\"\ndepends_on = [\"db\"]\n\n\
         [[checks]]\nname = \"db\"\nkind = \"memory\"\ndepends_on = [\"web\"]\n",
    );
    let run = host.run(&["config", "check"]);
    assert_eq!(run.status, 2, "{}{}", run.stdout, run.stderr);
    assert_contains(&run.stderr, "web -> app -> db -> web");
    assert_contains(&run.stderr, "orchestrator.toml:4:");
    assert_contains(&run.stderr, "depends_on");
}

/// A service watched twice: an HTTP check and a pid-file process check, one `service`. The
/// remedy (on both) writes down each run and starts the service.
fn group_config(host: &Host, service: &Service, start: bool, extra: &str) -> String {
    let dir = host.dir.path().display();
    let start = if start {
        format!("exec {}", service.start_argv().join(" "))
    } else {
        "echo 'toy: cannot open /srv/toy/data: Permission denied'; exit 1".to_string()
    };
    let restart = script(
        host,
        "restart-toy",
        &format!("echo run >> {dir}/toy-runs\n{start}"),
    );
    format!(
        r#"
[cycle]
settle = "50ms"
{extra}
[[checks]]
name = "toy-http"
kind = "http"
url = "{url}"
service = "toy"
remedy = [{{ action = "run", argv = ["{restart}"] }}]

[[checks]]
name = "toy-pid"
kind = "process"
pidfile = "{pidfile}"
service = "toy"
remedy = [{{ action = "run", argv = ["{restart}"] }}]
"#,
        url = service.url(),
        pidfile = service.pidfile.display(),
    )
}

#[test]
fn two_checks_of_one_service_give_one_incident_and_one_remedy_run() {
    let host = Host::new();
    let service = Service::new(&host, "toy");
    service.start();
    host.write_config(&group_config(&host, &service, true, ""));
    host.run(&["scan"]).ok();
    service.crash_clean();

    let cycle = host.run(&["--json", "cycle"]).ok().json();

    let show = host.run(&["incidents", "show", "1"]).stdout;
    assert_eq!(runs(&host, "toy-runs"), 1, "{cycle}\n{show}");
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM attempts"), 1, "{show}");
    assert_eq!(
        host.query_text(
            "SELECT group_concat(check_name || ' ' || status, ', ') FROM incidents ORDER BY id"
        ),
        "toy-http resolved, toy-pid recovered",
        "{show}"
    );
    assert_eq!(
        host.query_i64("SELECT caused_by FROM incidents WHERE check_name = 'toy-pid'"),
        1
    );
    assert_eq!(cycle["scan"]["symptoms"], serde_json::json!([2]), "{cycle}");
    wait_until("the service answers again", Duration::from_secs(5), || {
        service.healthy()
    });
}

#[test]
fn a_service_that_cannot_be_fixed_is_mailed_once() {
    require_system!("a_service_that_cannot_be_fixed_is_mailed_once", AIOSMTPD);
    let host = Host::new();
    let mut smtp = SmtpSink::new(&host);
    smtp.start();
    let service = Service::new(&host, "toy");
    service.start();
    let mail = format!(
        "[escalation]\nretry = \"1ms\"\nrepeat = \"24h\"\n\
         email = {{ to = [\"ops@example.com\"], from = \"orchestrator@example.com\", smtp = \"smtp://127.0.0.1:{}\" }}\n",
        smtp.port
    );
    host.write_config(&group_config(&host, &service, false, &mail));
    host.run(&["scan"]).ok();
    service.crash_clean();

    for _ in 0..2 {
        host.run(&["cycle"]).ok();
    }

    assert_eq!(runs(&host, "toy-runs"), 1);
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM escalations"), 1);
    assert_eq!(
        host.query_text(
            "SELECT check_name FROM incidents i JOIN escalations e ON e.incident = i.id"
        ),
        "toy-http"
    );
    wait_until("the mail arrives", Duration::from_secs(10), || {
        !smtp.messages().is_empty()
    });
    // Give a second mail, were there one, the time to arrive.
    std::thread::sleep(Duration::from_millis(500));
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_contains(&messages[0], "toy-http");
}

#[test]
fn phase_one_does_not_start_a_second_copy_of_a_live_process() {
    let host = Host::new();
    let service = Service::new(&host, "solo");
    service.start();
    let dir = host.dir.path().display();
    let restart = script(
        &host,
        "start-solo",
        &format!(
            "echo run >> {dir}/solo-runs\nexec {}",
            service.start_argv().join(" ")
        ),
    );
    host.write_config(&format!(
        r#"
[cycle]
settle = "50ms"

[[checks]]
name = "solo"
kind = "process"
process = "flaky-service"
pidfile = "{pidfile}"
remedy = [{{ action = "run", argv = ["{restart}"] }}]
"#,
        pidfile = service.pidfile.display()
    ));
    // The pid file is gone, the process lives on: starting it again would make two.
    let pid = service.pid().expect("pid");
    std::fs::remove_file(&service.pidfile).expect("remove pid file");

    host.run(&["cycle"]).ok();

    assert_eq!(runs(&host, "solo-runs"), 0, "a second copy was started");
    assert_contains(
        &host.query_text("SELECT reason FROM attempts WHERE source = 'remedy'"),
        "`flaky-service` is alive (pid",
    );
    assert_eq!(host.query_i64("SELECT phase > 1 FROM incidents"), 1);
    assert_contains(
        &host.query_text("SELECT detail FROM incident_events WHERE kind = 'phase 2'"),
        "the remedy was not run: `flaky-service` is alive (pid",
    );
    // The live copy is left alone; the harness kills it by the pid it knew.
    std::fs::write(&service.pidfile, pid.to_string()).expect("restore pid file");
}
