//! Recurring maintenance windows (`[[maintenance]]`, issue 22.4) on the built binary: a window
//! in force behaves as a silence everywhere silences matter (the phases, the scan's report,
//! `silence list`, the dashboard), people are told once when it starts and once when it ends,
//! and the checks are acted on again afterwards. The config's errors name the file, line and
//! key. A scripted HTTP receiver stands in for the JSON webhook the notices go to.

mod common;
use common::*;
use serde_json::Value;
use std::time::Duration;

/// `backup` fails while its file is missing; its remedy creates it. Notices go to `sink`.
fn config(host: &Host, sink: &ScriptedSink, maintenance: &str) -> String {
    format!(
        "[cycle]\nsettle = \"10ms\"\n[policy]\nreopen_within = \"0s\"\n\
         [escalation]\nhostname = \"web-01\"\njson_webhook = {{ url = \"{hook}\" }}\n\
         [[checks]]\nname = \"backup\"\nkind = \"file\"\npath = \"{path}\"\n\
         remedy = [{{ action = \"run\", argv = [\"/usr/bin/touch\", \"{path}\"] }}]\n\
         {maintenance}",
        hook = sink.url("/hook"),
        path = host.path("backup.tar").display()
    )
}

/// A daily window in UTC that started on the minute two minutes ago and lasts until
/// `left` from now (whole seconds).
fn window_started_lately(left: u64) -> String {
    let now = now_secs();
    let start = (now / 60.0).floor() * 60.0 - 120.0;
    let lasts = (now - start).ceil() as u64 + left;
    let minute = (start as u64 / 60) % (24 * 60);
    format!(
        "[[maintenance]]\nname = \"nightly\"\nchecks = [\"backup\"]\nevery = \"daily {:02}:{:02}\"\n\
         for = \"{lasts}s\"\ntimezone = \"UTC\"\nnote = \"backup disk swap\"\n",
        minute / 60,
        minute % 60
    )
}

/// The JSON bodies the receiver got, as (kind, subject).
fn notices(sink: &ScriptedSink) -> Vec<(String, String)> {
    sink.requests()
        .iter()
        .filter_map(|(_, body)| serde_json::from_str::<Value>(body).ok())
        .map(|body| {
            (
                body["kind"].as_str().unwrap_or("").to_string(),
                body["subject"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_window_in_force_silences_its_checks_tells_people_once_and_they_are_healed_after_it() {
    let host = Host::new();
    let sink = ScriptedSink::start(&[200]);
    host.write_config(&config(&host, &sink, &window_started_lately(4)));
    let check = host.run(&["config", "check"]).ok();
    assert_contains(&check.stdout, "maintenance nightly: backup every daily ");
    assert_contains(&check.stdout, "(UTC); in force until ");

    let cycle = host.run(&["--json", "cycle"]).ok().json();
    let scanned = cycle["scan"]["checks"][0]["silenced"]
        .as_str()
        .unwrap_or("");
    assert_contains(scanned, "silenced by maintenance:nightly until ");
    assert_contains(scanned, "backup disk swap");
    assert_eq!(
        cycle["fix"]["incidents"][0]["verdict"], "silenced",
        "{cycle}"
    );
    assert!(
        !host.path("backup.tar").exists(),
        "acted on during maintenance"
    );
    let listed = host.run(&["--json", "silence", "list"]).ok().json();
    let silences = listed["silences"].as_array().unwrap();
    assert_eq!(silences.len(), 2, "in force and the next one: {listed}");
    assert!(silences.iter().all(|s| s["maintenance"] == "nightly"));
    assert!(silences.iter().any(|s| s["state"] == "active"));
    assert!(silences.iter().any(|s| s["state"] == "pending"));
    let started = notices(&sink);
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(started[0].0, "maintenance");
    assert_contains(
        &started[0].1,
        "[orchestrator] maintenance nightly started on web-01: backup silenced until ",
    );

    // Told once: the next run says nothing new.
    host.run(&["cycle"]).ok();
    assert_eq!(notices(&sink).len(), 1);
    let dashboard = Dashboard::start(&host);
    let (_, page) = ureq_get(&dashboard.url("/silences")).unwrap();
    assert_contains(&page, "<h2>Maintenance windows</h2>");
    assert_contains(&page, "<td>nightly</td>");
    assert_contains(&page, "maintenance:nightly");
    let (_, checks) = ureq_get(&dashboard.url("/checks")).unwrap();
    assert_contains(&checks, "silenced by maintenance:nightly until ");
    drop(dashboard);

    wait_until("the window ends", Duration::from_secs(15), || {
        host.run(&["--json", "silence", "list"]).ok().json()["silences"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] != "active")
    });
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(cycle["fix"]["incidents"][0]["verdict"], "fixed", "{cycle}");
    assert!(host.path("backup.tar").exists());
    let told = notices(&sink);
    assert_eq!(told.len(), 2, "{told:?}");
    assert_contains(
        &told[1].1,
        "[orchestrator] maintenance nightly ended on web-01: backup acted on again",
    );
}

#[test]
fn a_window_ended_by_a_person_or_dropped_from_the_config_stops_silencing_at_once() {
    let host = Host::new();
    let sink = ScriptedSink::start(&[200]);
    host.write_config(&config(&host, &sink, &window_started_lately(3600)));
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(
        cycle["fix"]["incidents"][0]["verdict"], "silenced",
        "{cycle}"
    );
    // A person ends it sooner: it is not written again, and the end is told.
    let listed = host.run(&["--json", "silence", "list"]).ok().json();
    let active = listed["silences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["state"] == "active")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    host.run(&["silence", "expire", &active.to_string()]).ok();
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(cycle["fix"]["incidents"][0]["verdict"], "fixed", "{cycle}");
    let told = notices(&sink);
    assert_eq!(told.len(), 2, "{told:?}");
    assert_contains(&told[1].1, "maintenance nightly ended");

    // The next occurrence waits as pending; dropping the window from the config expires it.
    std::fs::remove_file(host.path("backup.tar")).unwrap();
    host.write_config(&config(&host, &sink, ""));
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(cycle["fix"]["incidents"][0]["verdict"], "fixed", "{cycle}");
    let all = host
        .run(&["--json", "silence", "list", "--all"])
        .ok()
        .json();
    assert!(
        all["silences"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "expired"),
        "{all}"
    );
    assert!(
        host.run(&["--json", "silence", "list"]).ok().json()["silences"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_bad_window_is_a_config_error_naming_its_line_and_key() {
    let host = Host::new();
    let sink = ScriptedSink::start(&[200]);
    host.write_config(&config(
        &host,
        &sink,
        "[[maintenance]]\nname = \"patching\"\nchecks = [\"backup\"]\nevery = \"sun 02:00\"\n\
         for = \"2h\"\ntimezone = \"Europe/Berlinn\"\n",
    ));
    let run = host.run(&["config", "check"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert_contains(&run.stderr, "orchestrator.toml:18:");
    assert_contains(&run.stderr, "key `maintenance.timezone`");
    assert_contains(
        &run.stderr,
        "`Europe/Berlinn` is not a time zone this host knows",
    );
    host.write_config(&config(
        &host,
        &sink,
        "[[maintenance]]\nname = \"patching\"\nchecks = [\"backup\"]\nevery = \"sun 2am\"\nfor = \"8d\"\n",
    ));
    let run = host.run(&["config", "check"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert_contains(&run.stderr, "`sun 2am`: `2am` is not a time of day HH:MM");
}
