//! `metrics`: the names of orchestrator-metrics(1) from a real history, the Prometheus format
//! with per-check status and perfdata, and the atomic textfile.

mod common;
use common::*;

#[test]
fn metrics_report_a_real_history() {
    require_system!("metrics_report_a_real_history", PLUGINS);
    let host = Host::new();
    let service = Service::new(&host, "web");
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
    assert_contains(&text, "orchestrator_fixed_by_phase{phase=\"1\"} 2");
    assert_contains(&text, "orchestrator_check_status{check=\"web\"} 0");
    assert_contains(&text, "orchestrator_check_status{check=\"backup\"} 2");
    assert_contains(
        &text,
        "orchestrator_check_perfdata{check=\"plugin-tcp\",label=\"time\"}",
    );
    assert_contains(&text, "orchestrator_ttr_seconds{phase=\"1\",stat=\"p90\"}");

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
    let _ = dir;
}
