//! Bad config files: exit status 2 and a message naming the file, the line and the key.

use crate::common::*;

fn check_config(text: &str) -> Run {
    let host = Host::new();
    host.write_config(text);
    let run = host.run(&["config", "check"]);
    // Every command refuses a bad config the same way, not only `config check`.
    let scan = host.run(&["scan"]);
    assert_eq!(
        scan.status, 2,
        "scan accepted a bad config: {}",
        scan.stderr
    );
    assert_eq!(
        run.status, 2,
        "config check accepted:\n{text}\nstdout: {}",
        run.stdout
    );
    run
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let run = check_config("[cycle]\nparallelism = 2\n\n[[checks]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://x\"\nexpect_code = 200\n");
    assert_contains(&run.stderr, "orchestrator.toml:8:");
    assert_contains(&run.stderr, "expect_code");
}

#[test]
fn a_bad_duration_is_named_with_its_line() {
    let run = check_config("[cycle]\nsettle = \"5 seconds\"\n");
    assert_contains(&run.stderr, "orchestrator.toml:2:");
    assert_contains(&run.stderr, "settle");
    assert_contains(&run.stderr, "invalid duration");
}

#[test]
fn a_duplicate_check_name_is_named_with_its_line() {
    let run = check_config("[[checks]]\nname = \"mem\"\nkind = \"memory\"\n\n[[checks]]\nname = \"mem\"\nkind = \"load\"\n");
    assert_contains(&run.stderr, "orchestrator.toml:6:");
    assert_contains(&run.stderr, "duplicate check name `mem`");
}

#[test]
fn a_wrong_type_is_named_with_its_line() {
    let run = check_config("[policy]\nmax_attempts = \"three\"\n");
    assert_contains(&run.stderr, "orchestrator.toml:2:");
    assert_contains(&run.stderr, "max_attempts");
}

#[test]
fn a_key_of_another_kind_and_a_missing_key_are_named() {
    let run = check_config("[[checks]]\nname = \"d\"\nkind = \"disk\"\nurl = \"http://x\"\n\n[[checks]]\nname = \"h\"\nkind = \"http\"\n");
    assert_contains(&run.stderr, "orchestrator.toml:4:");
    assert_contains(&run.stderr, "`url` does not apply to a `disk` check");
    assert_contains(&run.stderr, "a `http` check needs `url`");
}

#[test]
fn an_unknown_action_in_a_remedy_is_refused() {
    let run = check_config(
        "[[checks]]\nname = \"w\"\nkind = \"memory\"\nremedy = [ { action = \"reboot\" } ]\n",
    );
    assert_contains(&run.stderr, "orchestrator.toml:4:");
    assert_contains(&run.stderr, "reboot");
}

#[test]
fn an_unknown_builtin_agent_or_webhook_format_is_named_at_its_value() {
    let run = check_config("[agents.doc]\nbuiltin = \"gpt\"\n");
    assert_contains(&run.stderr, "orchestrator.toml:2:11:");
    assert_contains(&run.stderr, "unknown `gpt` (known: runbook)");
    let run = check_config("[escalation.webhook]\nurl = \"http://x/\"\nformat = \"slack\"\n");
    assert_contains(&run.stderr, "orchestrator.toml:3:10:");
    assert_contains(&run.stderr, "unknown `slack` (known: alertmanager)");
}

#[test]
fn a_missing_config_file_is_a_usage_error() {
    let host = Host::new();
    let run = host.run(&["config", "check"]);
    assert_eq!(run.status, 2);
    assert_contains(&run.stderr, "cannot read config file");
    // The cause once, not "...: No such file or directory (os error 2): No such file ...".
    assert_eq!(
        run.stderr.matches("(os error 2)").count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn a_good_config_passes_and_the_default_is_printed() {
    let host = Host::new();
    let default = host.run(&["config", "default"]).ok();
    host.write_config(&default.stdout);
    let run = host.run(&["config", "check"]).ok();
    assert_contains(&run.stdout, "root-disk");
}

/// Everything the project ships as a config: the embedded default (as `config default` prints
/// it on this host, and whole, as install.sh writes it), the commented example the man page
/// points to, and the config install.sh writes for a prefix of its own (with `[state] db`).
#[test]
fn every_config_the_project_ships_passes_config_check_strict() {
    let host = Host::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let printed = host.path("printed.toml");
    std::fs::write(&printed, host.run(&["config", "default"]).ok().stdout).unwrap();
    let staged = host.path("staged");
    let install = std::process::Command::new("bash")
        .arg(root.join("scripts/install.sh"))
        .args(["--prefix", "/opt/orch", "--binary"])
        .arg(orchestrator_bin())
        .arg("--destdir")
        .arg(&staged)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    for config in [
        root.join("src/config/default.toml"),
        printed,
        root.join("examples/orchestrator.toml"),
        staged.join("opt/orch/etc/orchestrator/orchestrator.toml"),
        staged.join("opt/orch/share/doc/orchestrator/examples/orchestrator.toml"),
    ] {
        assert_passes_strict(&config);
    }
}
