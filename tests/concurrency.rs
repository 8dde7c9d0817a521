//! The cycle lock and crash safety: two cycles at once act once; a cycle killed mid-remedy
//! leaves a consistent database whose next run closes the attempt as interrupted.

mod common;
use common::*;
use std::time::Duration;

fn slow_remedy_config(service: &Service, sleep_secs: u32) -> String {
    format!(
        r#"
[cycle]
settle = "50ms"
[[checks]]
name = "web"
kind = "http"
url = "{url}"
remedy = [ {{ action = "run", argv = ["sleep", "{sleep_secs}"] }}, {{ action = "remove_file", path = "{pidfile}" }}, {{ action = "run", argv = {start} }} ]
"#,
        url = service.url(),
        pidfile = service.pidfile.display(),
        start = service.start_toml(),
    )
}

/// Starts a cycle, waits until its remedy runs, and kills it with SIGKILL.
fn kill_cycle_during_remedy(host: &Host) {
    let mut cycle = host.command(&["cycle"]).spawn().unwrap();
    wait_until("the remedy is running", Duration::from_secs(20), || {
        host.db_path().exists()
            && host
                .db()
                .query_row(
                    "SELECT COUNT(*) FROM attempts WHERE outcome = 'running'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .unwrap_or(0)
                == 1
    });
    signal(cycle.id() as i32, libc::SIGKILL);
    cycle.wait().unwrap();
}

#[test]
fn two_cycles_started_at_once_act_on_an_incident_once() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&slow_remedy_config(&service, 1));
    service.start();
    service.kill();
    let first = host
        .command(&["--json", "cycle"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let second = host
        .command(&["--json", "cycle"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    for output in &outputs {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let skipped = outputs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stdout).contains("\"skipped\": true"))
        .count();
    assert_eq!(skipped, 1, "exactly one cycle should have skipped");
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM attempts"), 1);
    assert_eq!(host.query_text("SELECT status FROM incidents"), "resolved");

    // With --wait the second one waits its turn instead.
    service.kill();
    let first = host.command(&["cycle"]).spawn().unwrap();
    let waited = host.run(&["--wait", "--json", "cycle"]).ok();
    assert!(!waited.stdout.contains("skipped"), "{}", waited.stdout);
    let _ = first.wait_with_output();
}

#[test]
fn a_cycle_killed_during_a_slow_remedy_leaves_the_attempt_interrupted() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&slow_remedy_config(&service, 30));
    service.start();
    service.kill();
    kill_cycle_during_remedy(&host);

    assert_eq!(host.query_text("PRAGMA integrity_check"), "ok");
    // The next run closes the dangling attempt and goes on: the check still fails, so phase 1
    // tries again.
    host.write_config(&slow_remedy_config(&service, 0));
    let fix = host.run(&["--json", "fix"]).ok().json();
    assert_eq!(
        host.query_text("SELECT outcome FROM attempts ORDER BY id LIMIT 1"),
        "interrupted"
    );
    assert_contains(
        &host.query_text("SELECT reason FROM attempts ORDER BY id LIMIT 1"),
        "stopped before it finished",
    );
    assert_eq!(fix["incidents"][0]["verdict"], "fixed", "{fix}");
    assert_eq!(host.query_text("PRAGMA integrity_check"), "ok");
}

#[test]
fn an_interrupted_attempt_whose_check_now_passes_is_recovered() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&slow_remedy_config(&service, 30));
    service.start();
    service.kill();
    kill_cycle_during_remedy(&host);
    let _ = std::fs::remove_file(&service.pidfile);
    service.start();
    let fix = host.run(&["--json", "fix"]).ok().json();
    assert_eq!(
        fix["interrupted_recovered"].as_array().unwrap().len(),
        1,
        "{fix}"
    );
    assert_eq!(host.query_text("SELECT status FROM incidents"), "recovered");
}
