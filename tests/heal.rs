//! Phase 1 on a real service: a killed service is detected, restarted by its remedy, verified,
//! learned, and fixed by the learned pattern next time.

use crate::common::*;
use std::time::Duration;

fn web_config(service: &Service, extra: &str) -> String {
    format!(
        r#"
[cycle]
settle = "100ms"

[policy]
reopen_within = "0s"
{extra}

[[checks]]
name = "web"
kind = "http"
url = "{url}"
timeout = "2s"
remedy = [ {{ action = "remove_file", path = "{pidfile}" }}, {{ action = "run", argv = {start}, timeout = "15s" }} ]
"#,
        url = service.url(),
        pidfile = service.pidfile.display(),
        start = service.start_toml(),
    )
}

#[test]
fn a_killed_service_is_restarted_by_its_remedy_then_by_the_learned_pattern() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&web_config(&service, ""));
    service.start();
    let healthy = host.run(&["--json", "scan"]).ok().json();
    assert_eq!(healthy["opened"].as_array().unwrap().len(), 0);

    // The kill leaves a stale pid file: the service cannot just be started again.
    service.kill();
    let scan = host.run(&["--json", "scan"]).ok().json();
    assert_eq!(scan["opened"].as_array().unwrap().len(), 1, "{scan}");
    host.run(&["scan"]).ok();
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM incidents"),
        1,
        "a second scan deduplicates"
    );
    assert_eq!(host.query_i64("SELECT occurrences FROM incidents"), 2);

    let fix = host.run(&["--json", "fix"]).ok().json();
    assert_eq!(fix["incidents"][0]["verdict"], "fixed", "{fix}");
    assert!(service.healthy());
    assert_eq!(
        host.query_text(
            "SELECT status || ' ' || resolved_phase || ' ' || resolved_by FROM incidents"
        ),
        "resolved 1 remedy"
    );
    assert_eq!(host.query_text("SELECT outcome FROM attempts"), "fixed");
    assert_eq!(host.query_i64("SELECT successes FROM patterns"), 1);

    // The same fault again: a new incident (reopen_within = 0s), fixed by the pattern.
    service.kill();
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(cycle["fix"]["incidents"][0]["verdict"], "fixed", "{cycle}");
    let pattern_id = host.query_i64("SELECT id FROM patterns");
    assert_eq!(
        host.query_text("SELECT source FROM attempts ORDER BY id DESC LIMIT 1"),
        format!("pattern:{pattern_id}")
    );
    assert_eq!(host.query_i64("SELECT successes FROM patterns"), 2);
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM patterns"), 1);
    assert!(service.healthy());

    let shown = host.run(&["incidents", "show", "2"]).ok();
    assert_contains(&shown.stdout, &format!("pattern:{pattern_id} → fixed"));
}

#[test]
fn a_remedy_that_does_not_fix_hands_the_incident_to_phase_2() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&format!(
        r#"
[cycle]
settle = "50ms"
[[checks]]
name = "web"
kind = "http"
url = "{}"
remedy = [ {{ action = "run", argv = ["true"] }} ]
"#,
        service.url()
    ));
    host.run(&["scan"]).ok();
    let fix = host.run(&["--json", "fix"]).ok().json();
    assert_eq!(fix["incidents"][0]["verdict"], "passed_on", "{fix}");
    assert_eq!(host.query_text("SELECT outcome FROM attempts"), "not_fixed");
    assert_eq!(host.query_i64("SELECT phase FROM incidents"), 2);
    assert_contains(
        &host.query_text("SELECT handoff FROM incidents"),
        "1 plan(s) tried, none fixed it",
    );
    // Nothing was learned from a plan that did not work.
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM patterns"), 0);
}

#[test]
fn a_failed_action_is_named_by_its_kind_in_the_attempt_reason() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&format!(
        r#"
[[checks]]
name = "web"
kind = "http"
url = "{}"
remedy = [ {{ action = "run", argv = ["true"] }}, {{ action = "run", argv = ["sh", "-c", "echo 'disk (sda) gone'; exit 3"] }} ]
"#,
        service.url()
    ));
    host.run(&["scan"]).ok();
    host.run(&["fix"]);
    assert_eq!(host.query_text("SELECT outcome FROM attempts"), "failed");
    let reason = host.query_text("SELECT reason FROM attempts");
    assert!(reason.starts_with("run failed: "), "{reason}");
    assert_contains(&reason, "disk (sda) gone");
}

#[test]
fn dry_run_records_the_plan_and_executes_nothing() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&web_config(&service, ""));
    service.start();
    service.kill();
    let cycle = host.run(&["--json", "--dry-run", "cycle"]).ok().json();
    assert_eq!(
        cycle["fix"]["incidents"][0]["attempts"][0]["result"], "dry_run",
        "{cycle}"
    );
    assert!(service.pidfile.exists(), "remove_file ran in a dry run");
    assert!(!service.healthy(), "the service was started in a dry run");
    assert_eq!(host.query_text("SELECT outcome FROM attempts"), "dry_run");
    assert_eq!(
        host.query_text("SELECT status || ' ' || phase FROM incidents"),
        "open 1"
    );
}

#[test]
fn a_fault_that_clears_before_fix_is_recovered_not_acted_on() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&web_config(&service, ""));
    host.run(&["scan"]).ok();
    service.start();
    let fix = host.run(&["--json", "fix"]).ok().json();
    assert_eq!(fix["incidents"][0]["verdict"], "recovered", "{fix}");
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM attempts"), 0);
    assert_eq!(host.query_text("SELECT status FROM incidents"), "recovered");
}

#[test]
fn restart_limit_stops_a_restart_loop_and_a_healthy_scan_resets_it() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&web_config(&service, "restart_limit = { count = 2, within = \"1h\" }\nflapping = { reopened = 0, within = \"1h\" }"));
    // Each start lives long enough to pass verification, then dies: a restart loop.
    service.set_flag("die-after-ms", "800");
    service.start();
    for round in 1..=2 {
        wait_until("the service dies", Duration::from_secs(10), || {
            !service.healthy()
        });
        let cycle = host.run(&["--json", "cycle"]).ok().json();
        assert_eq!(
            cycle["fix"]["incidents"][0]["verdict"], "fixed",
            "round {round}: {cycle}"
        );
    }
    wait_until("the service dies", Duration::from_secs(10), || {
        !service.healthy()
    });
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    let line = &cycle["fix"]["incidents"][0];
    assert_eq!(line["verdict"], "passed_on", "{cycle}");
    assert_contains(
        line["detail"].as_str().unwrap(),
        "restart limit reached: 2 restarting plans",
    );
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM attempts"),
        2,
        "no third restart"
    );
    assert_eq!(
        host.query_i64("SELECT phase FROM incidents ORDER BY id DESC LIMIT 1"),
        4
    );

    // A person mends it; a scan sees it healthy: the count starts afresh.
    service.clear_flag("die-after-ms");
    let _ = std::fs::remove_file(&service.pidfile);
    service.start();
    host.run(&["scan"]).ok();
    assert_eq!(
        host.query_text("SELECT status FROM incidents ORDER BY id DESC LIMIT 1"),
        "recovered"
    );
    service.kill();
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(cycle["fix"]["incidents"][0]["verdict"], "fixed", "{cycle}");
}

#[test]
fn a_service_dying_right_after_each_fix_is_flapping_and_no_longer_acted_on() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    let config = web_config(&service, "flapping = { reopened = 2, within = \"1h\" }\nrestart_limit = { count = 100, within = \"1h\" }")
        .replace_once("reopen_within = \"0s\"", "reopen_within = \"1h\"");
    host.write_config(&config);
    service.set_flag("die-after-ms", "800");
    service.start();
    for round in 1..=2 {
        wait_until("the service dies", Duration::from_secs(10), || {
            !service.healthy()
        });
        let cycle = host.run(&["--json", "cycle"]).ok().json();
        assert_eq!(
            cycle["fix"]["incidents"][0]["verdict"], "fixed",
            "round {round}: {cycle}"
        );
    }
    wait_until("the service dies", Duration::from_secs(10), || {
        !service.healthy()
    });
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(
        cycle["scan"]["flapping"].as_array().unwrap().len(),
        1,
        "{cycle}"
    );
    assert!(
        cycle["fix"]["incidents"].as_array().unwrap().is_empty(),
        "phase 1 acted on a flapping incident: {cycle}"
    );
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM incidents"),
        1,
        "reopened, not opened anew"
    );
    assert_eq!(
        host.query_text("SELECT flapping || ' ' || phase || ' ' || reopened FROM incidents"),
        "1 4 2"
    );
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM attempts"), 2);
    // Each reopen took credit from the pattern that had "fixed" it.
    assert_eq!(host.query_i64("SELECT failures FROM patterns"), 2);
    // It stays escalated for a person even when the check passes meanwhile.
    service.clear_flag("die-after-ms");
    let _ = std::fs::remove_file(&service.pidfile);
    service.start();
    host.run(&["cycle"]).ok();
    assert_eq!(host.query_text("SELECT status FROM incidents"), "escalated");
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM escalations"),
        1,
        "escalated once"
    );
}

#[test]
fn closed_incidents_past_retention_are_pruned_but_patterns_stay() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&format!(
        "[state]\nretention = \"1ms\"\n{}",
        web_config(&service, "")
    ));
    service.start();
    service.kill();
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(cycle["fix"]["incidents"][0]["verdict"], "fixed", "{cycle}");
    let scan = host.run(&["--json", "scan"]).ok().json();
    assert_eq!(scan["pruned"], 1, "{scan}");
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM incidents"), 0);
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM attempts"), 0);
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM patterns"), 1);
}
