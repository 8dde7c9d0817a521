//! `metrics`: the names of orchestrator-metrics(1) from a real history, the Prometheus format
//! (counters, histogram, per-check status and perfdata) that Debian's `promtool` accepts on all
//! three outputs, the atomic textfile, and `/health` going stale without cycles.

use crate::common::*;
use std::time::Duration;

/// web fixed twice in phase 1 (by the remedy, then by the learned pattern), a check_tcp plugin
/// down and recovered twice (with perfdata in seconds), backup escalated to phase 4.
fn real_history(host: &Host) {
    let service = Service::new(host, "web");
    let dir = host.dir.path().display();
    host.write_config(&format!(
        r#"
[cycle]
settle = "100ms"
[policy]
reopen_within = "0s"
[[checks]]
name = "web"
kind = "http"
url = "{url}"
remedy = [ {{ action = "remove_file", path = "{pid}" }}, {{ action = "run", argv = {start} }} ]
[[checks]]
name = "plugin-tcp"
kind = "command"
command = ["/usr/lib/nagios/plugins/check_tcp", "-H", "127.0.0.1", "-p", "{port}"]
[[checks]]
name = "backup"
kind = "file"
path = "{dir}/backup.tar"
"#,
        url = service.url(),
        pid = service.pidfile.display(),
        start = service.start_toml(),
        port = service.port,
    ));
    service.start();
    service.kill();
    host.run(&["cycle"]).ok(); // web fixed by the remedy (phase 1); backup → phase 4
    service.kill();
    host.run(&["cycle"]).ok(); // web fixed by the learned pattern
    let _ = dir;
}

#[test]
fn metrics_report_a_real_history() {
    require_system!("metrics_report_a_real_history", PLUGINS);
    let host = Host::new();
    real_history(&host);

    let m = host.run(&["--json", "metrics"]).ok().json();
    let names: Vec<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "detected",
        "recovered",
        "fixed_by_phase",
        "auto_fixed",
        "escalated",
        "open",
        "auto_fix_rate",
        "escalation_rate",
        "phase_success_rate",
        "ttr_seconds",
        "patterns_total",
        "patterns_new",
        "pattern_fixes",
        "agent_agreement",
        "notifications_failed",
        "notifications_unsent",
        "circuit_breaker",
        "flapped",
        "silenced",
        "agents",
        "host",    // the host's one name ([escalation] hostname, else the kernel's)
        "version", // of every --json document (orchestrator(1), JSON OUTPUT)
    ];
    expected.sort();
    let mut names_sorted = names.clone();
    names_sorted.sort();
    assert_eq!(names_sorted, expected);
    // web twice, the plugin twice (down with the service, recovered with it), backup once.
    assert_eq!(m["detected"], 5, "{m}");
    assert_eq!(m["recovered"], 2);
    assert_eq!(m["phase_success_rate"]["1"], 0.4);
    assert_eq!(m["fixed_by_phase"]["1"], 2);
    assert_eq!(m["auto_fixed"], 2);
    assert_eq!(m["escalated"], 1);
    assert!((m["auto_fix_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(m["pattern_fixes"], 1);
    assert_eq!(m["patterns_total"], 1);
    assert!(m["ttr_seconds"]["1"]["p50"].as_f64().unwrap() > 0.0);

    let text = host.run(&["metrics", "--prometheus"]).ok().stdout;
    // The same history as counters: the triggers counted each event as it happened.
    for line in [
        "orchestrator_incidents_detected_total 5",
        "orchestrator_incidents_recovered_total 2",
        "orchestrator_incidents_auto_fixed_total{phase=\"1\"} 2",
        "orchestrator_incidents_escalated_total 1",
        "orchestrator_incidents_pattern_fixed_total 1",
        "orchestrator_phase_success_ratio{phase=\"1\"} 0.4",
        "orchestrator_time_to_resolve_seconds_count{phase=\"1\"} 2",
        "orchestrator_time_to_resolve_seconds_bucket{phase=\"1\",le=\"+Inf\"} 2",
        "orchestrator_last_cycle_success 1",
        "orchestrator_check_status{check=\"web\"} 0",
        "orchestrator_check_status{check=\"backup\"} 2",
        "orchestrator_check_perfdata_seconds{check=\"plugin-tcp\",label=\"time\"}",
    ] {
        assert_contains(&text, line);
    }
    assert!(!text.contains("orchestrator_check_perfdata{"), "{text}");

    let textfile = host.path("node_exporter/orchestrator.prom");
    std::fs::create_dir_all(textfile.parent().unwrap()).unwrap();
    host.run(&["metrics", "--textfile", textfile.to_str().unwrap()])
        .ok();
    assert_eq!(std::fs::read_to_string(&textfile).unwrap(), text);
    let leftovers = std::fs::read_dir(textfile.parent().unwrap())
        .unwrap()
        .count();
    assert_eq!(
        leftovers, 1,
        "the temporary file must be renamed, not left behind"
    );

    let table = host.run(&["metrics", "--since", "1h"]).ok().stdout;
    assert_contains(&table, "auto-fix rate    66.7%");
}

/// `promtool check metrics` (Debian's `prometheus` package) on the exposition from stdout, from
/// the textfile, and from the dashboard's `/metrics`: exit 0 and no lint complaint.
#[test]
fn promtool_accepts_every_prometheus_output() {
    require_system!(
        "promtool_accepts_every_prometheus_output",
        PLUGINS,
        Need::Program("/usr/bin/promtool", "prometheus")
    );
    let host = Host::new();
    real_history(&host);
    let stdout = host.run(&["metrics", "--prometheus"]).ok().stdout;
    let textfile = host.path("orchestrator.prom");
    host.run(&["metrics", "--textfile", textfile.to_str().unwrap()])
        .ok();
    let dashboard = Dashboard::start(&host);
    let (status, scraped) = ureq_get(&dashboard.url("/metrics")).expect("GET /metrics");
    assert_eq!(status, 200, "{scraped}");
    let from_file = std::fs::read_to_string(&textfile).unwrap();
    for (what, text) in [
        ("stdout", stdout),
        ("textfile", from_file),
        ("/metrics", scraped),
    ] {
        assert_contains(&text, "orchestrator_time_to_resolve_seconds_bucket");
        promtool_accepts(what, &text);
    }
}

#[track_caller]
fn promtool_accepts(what: &str, text: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("/usr/bin/promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run promtool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "promtool did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool rejects the {what} exposition ({}): {said}\n{text}",
        out.status
    );
}

/// `/health` is 503 "stale" before any cycle, 200 "ok" right after one, and 503 again once
/// `[serve] stale_after` has passed without another: a stopped timer is noticed.
#[test]
fn health_is_stale_without_a_recent_cycle() {
    let host = Host::new();
    host.write_config(
        "[serve]\nstale_after = \"2s\"\n[[checks]]\nname = \"memory\"\nkind = \"memory\"\n",
    );
    host.run(&["scan"]).ok();
    rusqlite::Connection::open(host.db_path())
        .unwrap()
        .execute("DELETE FROM cycles", [])
        .unwrap();
    let dashboard = Dashboard::start(&host);
    let health = || ureq_get(&dashboard.url("/health")).expect("GET /health");
    let (status, body) = health();
    assert_eq!(status, 503, "never ran, yet: {body}");
    assert_contains(&body, "\"status\":\"stale\"");
    assert_contains(&body, "\"database\":true");

    host.run(&["scan"]).ok();
    let (status, body) = health();
    assert_eq!(status, 200, "{body}");
    assert_contains(&body, "\"status\":\"ok\"");

    wait_until("the last cycle goes stale", Duration::from_secs(6), || {
        health().0 == 503
    });
    assert_contains(&health().1, "\"status\":\"stale\"");
    let text = host.run(&["metrics", "--prometheus"]).ok().stdout;
    assert_contains(&text, "orchestrator_last_cycle_success 1");
    assert!(
        !text.contains("orchestrator_last_cycle_timestamp_seconds 0\n"),
        "{text}"
    );
}

/// A service dying right after each fix: two verified fixes in phase 1, then it flaps and goes
/// to a person. The fixes stay fixes (the reopen used to erase them: "auto-fix rate 0 %"), the
/// flapping is counted on its own, in the table, `--json` and the Prometheus counters.
#[test]
fn a_fix_that_was_verified_stays_a_fix_when_the_incident_later_flaps() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&format!(
        r#"
[cycle]
settle = "100ms"
[policy]
reopen_within = "1h"
flapping = {{ reopened = 2, within = "1h" }}
restart_limit = {{ count = 100, within = "1h" }}
[[checks]]
name = "web"
kind = "http"
url = "{url}"
timeout = "2s"
remedy = [ {{ action = "remove_file", path = "{pid}" }}, {{ action = "run", argv = {start}, timeout = "15s" }} ]
"#,
        url = service.url(),
        pid = service.pidfile.display(),
        start = service.start_toml(),
    ));
    service.set_flag("die-after-ms", "800");
    service.start();
    for round in 1..=3 {
        wait_until("the service dies", Duration::from_secs(10), || {
            !service.healthy()
        });
        let cycle = host.run(&["--json", "cycle"]).ok().json();
        let fixed = cycle["fix"]["incidents"][0]["verdict"] == "fixed";
        assert_eq!(fixed, round < 3, "round {round}: {cycle}");
    }
    assert_eq!(
        host.query_text("SELECT flapping || ' ' || status FROM incidents"),
        "1 escalated"
    );

    let m = host.run(&["--json", "metrics"]).ok().json();
    assert_eq!(m["fixed_by_phase"]["1"], 2, "{m}");
    assert_eq!(m["auto_fixed"], 2, "{m}");
    assert_eq!(m["pattern_fixes"], 1, "{m}");
    assert_eq!(m["escalated"], 1, "{m}");
    assert_eq!(m["flapped"], 1, "{m}");
    assert!(
        (m["auto_fix_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9,
        "{m}"
    );

    let table = host.run(&["metrics"]).ok().stdout;
    assert_contains(&table, "auto-fix rate    66.7%");
    assert_contains(&table, "flapped             1");

    let text = host.run(&["metrics", "--prometheus"]).ok().stdout;
    for line in [
        "orchestrator_incidents_auto_fixed_total{phase=\"1\"} 2",
        "orchestrator_incidents_flapped_total 1",
        "orchestrator_incidents_escalated_total 1",
        "orchestrator_incidents_silenced_total 0",
    ] {
        assert_contains(&text, line);
    }
}
