//! The circuit breaker (issue 22.6) on the built binary: `[policy] budget` caps the actions of
//! plans per hour on the host and the (re)starts of one unit per day; past a cap, the plan is
//! not run but held for a person's approval with the reason, and `metrics` (table, JSON,
//! Prometheus), `/health` and the dashboard's overview say the breaker is open. A person's
//! approval runs the plan all the same.

mod common;
use common::*;

/// `backup` fails while its file is missing; its remedy (one action) creates it.
fn config(host: &Host, budget: &str) -> String {
    format!(
        "[cycle]\nsettle = \"10ms\"\n\
         [policy]\nreopen_within = \"0s\"\nbudget = {budget}\n\
         [[checks]]\nname = \"backup\"\nkind = \"file\"\npath = \"{path}\"\n\
         remedy = [{{ action = \"run\", argv = [\"/usr/bin/touch\", \"{path}\"] }}]\n",
        path = host.path("backup.tar").display()
    )
}

#[test]
fn past_the_hourly_budget_a_plan_is_held_and_everything_says_the_breaker_is_open() {
    let host = Host::new();
    host.write_config(&config(
        &host,
        "{ actions_per_hour = 2, restarts_per_unit_per_day = 0 }",
    ));
    for _ in 0..2 {
        let cycle = host.run(&["--json", "cycle"]).ok().json();
        assert_eq!(cycle["fix"]["incidents"][0]["verdict"], "fixed", "{cycle}");
        std::fs::remove_file(host.path("backup.tar")).unwrap();
    }
    let reached = host.run(&["metrics", "--prometheus"]).ok();
    assert_contains(&reached.stdout, "orchestrator_circuit_breaker_open 1");
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    let fix = &cycle["fix"]["incidents"][0];
    assert_eq!(fix["verdict"], "held", "{cycle}");
    assert_eq!(fix["attempts"][0]["result"], "held");
    let reason = fix["detail"].as_str().unwrap();
    assert_contains(reason, "plan from pattern:1 held for a person's approval");
    assert_contains(
        reason,
        "circuit breaker open: 2 action(s) in the last hour, and this plan's 1 would pass [policy] budget.actions_per_hour = 2",
    );
    assert!(
        !host.path("backup.tar").exists(),
        "a plan ran past the budget"
    );
    assert_eq!(cycle["escalate"]["incidents"][0]["verdict"], "escalated");
    let shown = host.run(&["incidents", "show", "3"]).ok();
    assert_contains(
        &shown.stdout,
        "held plan from pattern:1 (awaiting approval)",
    );
    assert_contains(&shown.stdout, "circuit breaker open");

    let table = host.run(&["metrics"]).ok();
    assert_contains(
        &table.stdout,
        "circuit breaker: OPEN, new plans are held for a person's approval",
    );
    assert_contains(
        &table.stdout,
        "2 action(s) in the last hour: [policy] budget.actions_per_hour is 2",
    );
    let json = host.run(&["--json", "metrics"]).ok().json();
    assert_eq!(json["circuit_breaker"]["open"], true, "{json}");
    assert_eq!(json["circuit_breaker"]["actions_last_hour"], 2);
    let prometheus = host.run(&["metrics", "--prometheus"]).ok();
    assert_contains(&prometheus.stdout, "orchestrator_circuit_breaker_open 1");
    assert_contains(&prometheus.stdout, "orchestrator_plan_actions_last_hour 2");

    let dashboard = Dashboard::start(&host);
    let (status, health) = ureq_get(&dashboard.url("/health")).unwrap();
    assert_eq!(status, 200, "{health}");
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["circuit_breaker"]["open"], true, "{health}");
    let (_, overview) = ureq_get(&dashboard.url("/")).unwrap();
    assert_contains(&overview, "<b>Circuit breaker open: </b>");

    // A person's approval stands above the budget; the plan runs and counts.
    let approved = host
        .run(&["--json", "incidents", "approve", "3"])
        .ok()
        .json();
    assert_eq!(approved["verdict"], "fixed", "{approved}");
    assert!(host.path("backup.tar").exists());
    let json = host.run(&["--json", "metrics"]).ok().json();
    assert_eq!(json["circuit_breaker"]["actions_last_hour"], 3);
}

#[test]
fn past_the_daily_restarts_of_a_unit_its_plans_are_held_and_other_plans_still_run() {
    let host = Host::new();
    // A unit no host has: restarting it fails (that is a restart all the same) and changes
    // nothing on the machine running the test.
    let unit = "orchestrator-test-no-such-unit.service";
    host.write_config(&format!(
        "[cycle]\nsettle = \"10ms\"\n\
         [policy]\nreopen_within = \"0s\"\nrestart_limit = {{ count = 0 }}\n\
         budget = {{ actions_per_hour = 0, restarts_per_unit_per_day = 2 }}\n\
         [[checks]]\nname = \"web\"\nkind = \"file\"\npath = \"{web}\"\nunit = \"{unit}\"\n\
         remedy = [{{ action = \"restart_unit\" }}]\n\
         [[checks]]\nname = \"backup\"\nkind = \"file\"\npath = \"{backup}\"\n\
         remedy = [{{ action = \"run\", argv = [\"/usr/bin/touch\", \"{backup}\"] }}]\n",
        web = host.path("web.ok").display(),
        backup = host.path("backup.tar").display(),
    ));
    for round in 0..2 {
        let fix = host.run(&["--json", "cycle"]).ok().json();
        let web = &fix["fix"]["incidents"][0];
        assert_eq!(
            web["attempts"][0]["result"], "failed",
            "round {round}: {fix}"
        );
        let id = web["incident"].as_i64().unwrap().to_string();
        host.run(&["incidents", "resolve", &id, "--note", "by hand"])
            .ok();
    }
    std::fs::remove_file(host.path("backup.tar")).unwrap();
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    let web = &cycle["fix"]["incidents"][0];
    assert_eq!(web["verdict"], "held", "{cycle}");
    assert_contains(
        web["detail"].as_str().unwrap(),
        &format!("{unit} was (re)started 2 time(s) in the last day"),
    );
    // The budget is per unit: another check's plan runs.
    let backup = &cycle["fix"]["incidents"][1];
    assert_eq!(backup["verdict"], "fixed", "{cycle}");
    let json = host.run(&["--json", "metrics"]).ok().json();
    let breaker = &json["circuit_breaker"];
    assert_eq!(breaker["open"], true, "{json}");
    assert_eq!(breaker["most_restarted_unit"]["unit"], unit);
    assert_eq!(breaker["most_restarted_unit"]["restarts"], 2);
}

#[test]
fn a_budget_key_that_is_not_a_count_is_a_config_error_with_its_line() {
    let host = Host::new();
    host.write_config(&config(&host, "{ actions_per_hour = -1 }"));
    let run = host.run(&["config", "check"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert_contains(&run.stderr, "orchestrator.toml:5:");
    assert_contains(&run.stderr, "budget");
    host.write_config(&config(&host, "{ actions_per_hr = 3 }"));
    let run = host.run(&["config", "check"]);
    assert_eq!(run.status, 2);
    assert_contains(&run.stderr, "actions_per_hr");
}
