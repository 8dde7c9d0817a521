//! The project's habits, checked: scripts/test.sh under CI refuses to skip the format check or
//! the lints, and the declared `rust-version` is no lower than any locked dependency needs.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// A `cargo` that has neither rustfmt nor clippy (every `cargo fmt|clippy --version` fails) and
/// fails loudly on anything else, so the script must stop at the check.
fn cargo_without_fmt_and_clippy(dir: &Path) {
    let cargo = dir.join("cargo");
    std::fs::write(
        &cargo,
        "#!/bin/sh\ncase \"$1 $2\" in\n  'fmt --version'|'clippy --version') exit 1 ;;\nesac\necho \"cargo $* was run\" >&2\nexit 99\n",
    )
    .expect("write the fake cargo");
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn run_test_sh(path: &str, ci: bool) -> (i32, String) {
    let mut command = Command::new("bash");
    command
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test.sh"))
        .env_clear()
        .env("PATH", path)
        .env("HOME", "/nonexistent");
    if ci {
        command.env("CI", "true");
    }
    let output = command.output().expect("run scripts/test.sh");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn under_ci_a_missing_rustfmt_fails_the_test_script() {
    let dir = tempfile::tempdir().expect("tempdir");
    cargo_without_fmt_and_clippy(dir.path());
    let path = format!("{}:/usr/bin:/bin", dir.path().display());
    let (status, stderr) = run_test_sh(&path, true);
    assert_eq!(status, 1, "stderr:\n{stderr}");
    assert!(
        stderr.contains("cargo fmt is not installed, and CI must run it"),
        "stderr:\n{stderr}"
    );
    assert!(!stderr.contains("was run"), "it went on: {stderr}");
}

/// Every package in the dependency graph (this platform's) with the `rust-version` it declares.
fn locked_rust_versions() -> Vec<(String, String)> {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version=1",
            "--offline",
            "--locked",
            "--filter-platform=x86_64-unknown-linux-gnu",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|package| {
            let version = package["rust_version"].as_str()?;
            Some((package["name"].as_str()?.to_string(), version.to_string()))
        })
        .collect()
}

fn version_parts(version: &str) -> (u32, u32, u32) {
    let mut parts = version
        .split('.')
        .map(|part| part.parse::<u32>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// clippy's `incompatible_msrv` (denied in Cargo.toml) holds our own code to `rust-version`;
/// this holds the dependencies to it: a `cargo update` that pulls a crate needing a newer Rust
/// fails here (the resolver falls back to compatible versions where it can, Cargo.toml's
/// `resolver = "3"`).
#[test]
fn the_declared_rust_version_covers_every_locked_dependency() {
    let declared = env!("CARGO_PKG_RUST_VERSION");
    assert!(!declared.is_empty(), "Cargo.toml declares no rust-version");
    let too_new: Vec<String> = locked_rust_versions()
        .into_iter()
        .filter(|(_, version)| version_parts(version) > version_parts(declared))
        .map(|(name, version)| format!("{name} needs {version}"))
        .collect();
    assert!(
        too_new.is_empty(),
        "Cargo.toml says rust-version = \"{declared}\", but {}: raise rust-version (and the \
         README's prerequisites) or pin an older release",
        too_new.join(", ")
    );
}
