//! scripts/install.sh into a temporary root, and back out.

mod common;
use common::*;
use std::process::Command;

fn install(args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg(format!("{}/scripts/install.sh", env!("CARGO_MANIFEST_DIR")))
        .args(args)
        .output()
        .expect("run install.sh")
}

#[test]
fn installs_into_a_root_keeps_an_existing_config_and_uninstalls() {
    let root = tempfile::tempdir().unwrap();
    let root_arg = root.path().to_str().unwrap();
    let binary = orchestrator_bin();
    let out = install(&[
        "--root",
        root_arg,
        "--prefix",
        "/opt/orch",
        "--binary",
        binary.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let at = |p: &str| root.path().join(p.trim_start_matches('/'));
    for file in [
        "/opt/orch/bin/orchestrator",
        "/etc/systemd/system/orchestrator.service",
        "/etc/systemd/system/orchestrator.timer",
        "/etc/systemd/system/orchestrator-dashboard.service",
        "/etc/systemd/system/orchestrator-failure@.service",
        "/opt/orch/share/man/man1/orchestrator.1",
        "/opt/orch/share/man/man1/orchestrator-scan.1",
        "/opt/orch/share/man/man5/orchestrator.toml.5",
        "/opt/orch/share/bash-completion/completions/orchestrator",
        "/etc/orchestrator/orchestrator.toml",
    ] {
        assert!(at(file).exists(), "{file} was not installed");
    }
    let unit = std::fs::read_to_string(at("/etc/systemd/system/orchestrator.service")).unwrap();
    assert_contains(&unit, "ExecStart=/opt/orch/bin/orchestrator scan");
    // The state is root's alone: the directory, and whatever the cycle creates in it.
    assert_contains(&unit, "UMask=0077");
    let state_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(at("/var/lib/orchestrator"))
            .unwrap()
            .permissions(),
    ) & 0o7777;
    assert_eq!(state_mode, 0o700, "/var/lib/orchestrator is {state_mode:o}");
    assert_contains(&unit, "OnFailure=orchestrator-failure@%n.service");
    let on_failure =
        std::fs::read_to_string(at("/etc/systemd/system/orchestrator-failure@.service")).unwrap();
    assert_contains(
        &on_failure,
        "ExecStart=/opt/orch/bin/orchestrator notify-failure %i",
    );
    // The installed binary accepts the installed config.
    let check = Command::new(at("/opt/orch/bin/orchestrator"))
        .arg("-c")
        .arg(at("/etc/orchestrator/orchestrator.toml"))
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // A second install keeps the admin's config.
    std::fs::write(at("/etc/orchestrator/orchestrator.toml"), "# mine\n").unwrap();
    let again = install(&[
        "--root",
        root_arg,
        "--prefix",
        "/opt/orch",
        "--binary",
        binary.to_str().unwrap(),
    ]);
    assert!(again.status.success());
    assert_eq!(
        std::fs::read_to_string(at("/etc/orchestrator/orchestrator.toml")).unwrap(),
        "# mine\n"
    );

    let out = install(&["--root", root_arg, "--prefix", "/opt/orch", "--uninstall"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!at("/opt/orch/bin/orchestrator").exists());
    assert!(!at("/etc/systemd/system/orchestrator.timer").exists());
    assert!(
        at("/etc/orchestrator/orchestrator.toml").exists(),
        "uninstall must keep the config"
    );
}
