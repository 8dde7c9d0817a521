//! contrib/prometheus/: the recording and alerting rules pass their `promtool test rules` unit
//! tests, the example Prometheus and Alertmanager configs pass `promtool check config` and
//! `amtool check-config`, and every orchestrator series the rules read is one orchestrator
//! exports (all but the circuit breaker's, which `[policy] budget` exports).

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const PROMTOOL: Need = Need::Program("/usr/bin/promtool", "prometheus");
const AMTOOL: Need = Need::Program("/usr/bin/amtool", "prometheus-alertmanager");

fn contrib() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/prometheus")
}

#[track_caller]
fn succeeds(command: &mut Command) -> String {
    let output = command.output().expect("run the tool");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{command:?} failed:\n{said}");
    said
}

#[test]
fn the_rules_pass_their_promtool_unit_tests() {
    require_system!("the_rules_pass_their_promtool_unit_tests", PROMTOOL);
    let said = succeeds(
        Command::new("promtool")
            .args(["test", "rules", "orchestrator.rules.test.yml"])
            .current_dir(contrib()),
    );
    assert_contains(&said, "SUCCESS");
    succeeds(
        Command::new("promtool")
            .args(["check", "rules"])
            .arg(contrib().join("orchestrator.rules.yml")),
    );
}

#[test]
fn the_example_prometheus_and_alertmanager_configs_are_valid() {
    require_system!(
        "the_example_prometheus_and_alertmanager_configs_are_valid",
        PROMTOOL,
        AMTOOL
    );
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("orchestrator.token");
    std::fs::write(&token, "secret\n").unwrap();
    let config = std::fs::read_to_string(contrib().join("prometheus.yml"))
        .unwrap()
        .replace_once(
            "/etc/prometheus/orchestrator.token",
            &token.display().to_string(),
        );
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    std::fs::copy(
        contrib().join("orchestrator.rules.yml"),
        dir.path().join("orchestrator.rules.yml"),
    )
    .unwrap();
    succeeds(
        Command::new("promtool")
            .args(["check", "config", "prometheus.yml"])
            .current_dir(dir.path()),
    );
    let said = succeeds(
        Command::new("amtool")
            .args(["check-config"])
            .arg(contrib().join("alertmanager.yml")),
    );
    assert_contains(&said, "SUCCESS");
}

/// The `orchestrator_…` names a PromQL text reads.
fn series_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("orchestrator_") {
        let before = rest[..start].chars().last();
        let word: String = rest[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // `instance:orchestrator_…:1d` is a recorded series, not an exported one.
        if before != Some(':') && !word.ends_with('_') {
            names.insert(word.clone());
        }
        rest = &rest[start + word.len()..];
    }
    names
}

#[test]
fn every_series_the_rules_read_is_exported_by_a_host_in_a_fleet() {
    let rules = std::fs::read_to_string(contrib().join("orchestrator.rules.yml")).unwrap();
    let exprs: String = rules
        .lines()
        .filter(|l| {
            !l.trim_start().starts_with('#')
                && !l.contains("summary:")
                && !l.contains("description:")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let host = Host::new();
    // A fleet database nobody listens on: the host heals alone, and says so in its metrics.
    host.write_config(&format!(
        "{}\n[fleet]\ndatabase = \"postgresql://orchestrator@127.0.0.1:{}/fleet\"\nconnect_timeout = \"1s\"\n",
        file_check("backup", host.path("missing").display()),
        free_port()
    ));
    host.run(&["scan"]).ok();
    let exported = host.run(&["metrics", "--prometheus"]).ok().stdout;
    let names = series_names(&exprs);
    assert!(names.len() >= 8, "{names:?}");
    for name in names {
        if name == "orchestrator_circuit_breaker_open" {
            continue; // `[policy] budget`'s, exported where it is configured
        }
        assert!(
            exported.contains(&format!("\n{name}{{")) || exported.contains(&format!("\n{name} ")),
            "the rules read {name}, which orchestrator does not export:\n{exported}"
        );
    }
    assert_contains(
        &exported,
        "orchestrator_escalations_open{check=\"backup\"} 0",
    );
    assert_contains(&exported, "orchestrator_fleet_outbox_events 1");
}
