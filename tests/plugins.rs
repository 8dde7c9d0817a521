//! Real monitoring-plugins from Debian as `command` checks: OK, WARNING and CRITICAL, with
//! their perfdata kept, and only CRITICAL acted on.

use crate::common::*;

const PLUGIN_DIR: &str = "/usr/lib/nagios/plugins";

fn plugin_check(name: &str, argv: &[String]) -> String {
    format!(
        "[[checks]]\nname = \"{name}\"\nkind = \"command\"\ncommand = {}\n",
        toml_array(argv)
    )
}

fn argv(plugin: &str, args: &[&str]) -> Vec<String> {
    let mut argv = vec![format!("{PLUGIN_DIR}/{plugin}")];
    argv.extend(args.iter().map(|a| a.to_string()));
    argv
}

#[test]
fn monitoring_plugins_report_ok_warning_and_critical() {
    require_system!("monitoring_plugins_report_ok_warning_and_critical", PLUGINS);
    let host = Host::new();
    let service = Service::new(&host, "web");
    service.start();
    let port = service.port.to_string();
    let closed = free_port().to_string();
    let dir = host.dir.path().display().to_string();
    let port_filter = format!("--port {port}");
    let checks = [
        plugin_check(
            "tcp-ok",
            &argv("check_tcp", &["-H", "127.0.0.1", "-p", &port]),
        ),
        plugin_check(
            "tcp-slow",
            &argv(
                "check_tcp",
                &["-H", "127.0.0.1", "-p", &port, "-w", "0.000001", "-c", "10"],
            ),
        ),
        plugin_check(
            "tcp-closed",
            &argv("check_tcp", &["-H", "127.0.0.1", "-p", &closed]),
        ),
        plugin_check(
            "http",
            &argv(
                "check_http",
                &["-H", "127.0.0.1", "-p", &port, "-u", "/health", "-s", "ok"],
            ),
        ),
        plugin_check(
            "disk-warn",
            &argv("check_disk", &["-w", "100%", "-c", "1%", "-p", &dir]),
        ),
        plugin_check(
            "disk-crit",
            &argv("check_disk", &["-w", "100%", "-c", "100%", "-p", &dir]),
        ),
        plugin_check(
            "procs",
            &argv("check_procs", &["-a", &port_filter, "-c", "1:1"]),
        ),
    ];
    host.write_config(&format!(
        "[cycle]\nsettle = \"10ms\"\n{}",
        checks.join("\n")
    ));

    let scan = host.run(&["--json", "scan"]).ok().json();
    let status_of = |name: &str| -> String {
        let check = scan["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        check["status"].as_str().unwrap().to_string()
    };
    assert_eq!(status_of("tcp-ok"), "ok", "{scan}");
    assert_eq!(status_of("tcp-slow"), "warning", "{scan}");
    assert_eq!(status_of("tcp-closed"), "critical", "{scan}");
    assert_eq!(status_of("http"), "ok", "{scan}");
    assert_eq!(status_of("disk-warn"), "warning", "{scan}");
    assert_eq!(status_of("disk-crit"), "critical", "{scan}");
    assert_eq!(status_of("procs"), "ok", "{scan}");

    // Summary and perfdata as the plugin printed them.
    assert!(host
        .query_text("SELECT summary FROM checks WHERE name = 'tcp-ok'")
        .starts_with("TCP OK"));
    let perf: serde_json::Value =
        serde_json::from_str(&host.query_text("SELECT perfdata FROM checks WHERE name = 'tcp-ok'"))
            .unwrap();
    assert_eq!(perf[0]["label"], "time");
    assert_eq!(perf[0]["uom"], "s");

    assert_eq!(
        host.query_text("SELECT severity FROM incidents WHERE check_name = 'disk-warn'"),
        "warning"
    );
    assert_eq!(
        host.query_text("SELECT severity FROM incidents WHERE check_name = 'disk-crit'"),
        "critical"
    );

    // The service breaks: the HTTP plugin goes CRITICAL, the process plugin too once it is gone.
    service.set_flag("unhealthy", "");
    host.run(&["scan"]).ok();
    assert_eq!(
        host.query_text("SELECT status FROM checks WHERE name = 'http'"),
        "critical"
    );
    service.kill();
    host.run(&["scan"]).ok();
    assert_eq!(
        host.query_text("SELECT status FROM checks WHERE name = 'procs'"),
        "critical"
    );

    // Phase 1 acts on CRITICAL only: warnings stay in phase 1, watched.
    host.run(&["fix"]).ok();
    assert_eq!(
        host.query_i64("SELECT phase FROM incidents WHERE check_name = 'disk-warn'"),
        1
    );
    assert_eq!(
        host.query_i64("SELECT phase FROM incidents WHERE check_name = 'disk-crit'"),
        2
    );
}

#[test]
fn a_plugin_that_hangs_is_killed_and_reported_unknown() {
    require_system!(
        "a_plugin_that_hangs_is_killed_and_reported_unknown",
        PLUGINS
    );
    let host = Host::new();
    host.write_config(
        "[[checks]]\nname = \"slow\"\nkind = \"command\"\ncommand = [\"sleep\", \"30\"]\ntimeout = \"300ms\"\n\
         [[checks]]\nname = \"missing\"\nkind = \"command\"\ncommand = [\"/nonexistent/check_thing\"]\n",
    );
    let scan = host.run(&["--json", "scan"]).ok().json();
    assert_eq!(scan["checks"][0]["status"], "unknown");
    assert_contains(scan["checks"][0]["summary"].as_str().unwrap(), "timed out");
    assert_eq!(scan["checks"][1]["status"], "unknown");
    assert_contains(
        scan["checks"][1]["summary"].as_str().unwrap(),
        "/nonexistent/check_thing",
    );
    // UNKNOWN is not acted on: the check itself is broken, which a person must see.
    host.run(&["fix"]).ok();
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM incidents WHERE phase = 4"),
        2
    );
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM attempts"), 0);
}
