//! The integration tests, one crate (one binary, `tests/common` built once): each module runs
//! the built `orchestrator` against real processes, files, servers and clients (README,
//! "Tests"). A new file under tests/ is a module here: `mod NAME;` below, and
//! `use crate::common::*;` where a test file of its own would write `mod common;` (the test
//! `every_test_file_is_a_module_of_this_crate` fails until it is). Tests of different modules
//! run in parallel threads of this one process: what several share (the systemd test host,
//! the environment, the working directory, a fixed name or port) is held by a lock in
//! `common` (`one_testhost`), never by running in a binary of its own.

mod common;

mod agent_clis;
mod agent_record;
mod agents;
mod architecture;
mod breaker;
mod channels;
mod check_kinds;
mod checks;
mod cli;
mod concurrency;
mod config;
mod daemon_files;
mod daemons;
mod daily_tools;
mod dashboard;
mod dashboard_views;
mod delivery;
mod dependencies;
mod discover;
mod escalate;
mod fleet;
mod fleet_storm;
mod full_disk;
mod habits;
mod heal;
mod install;
mod journal;
mod layers;
mod maintenance;
mod man_pages;
mod mcp;
mod metrics;
mod patterns;
mod pipes;
mod plugins;
mod prometheus_rules;
mod readme;
mod runbook;
mod security;
mod serve_abuse;
mod silences;
mod systemd;
mod wordy;

/// Every `.rs` file directly under tests/ is declared above: Cargo builds only this crate
/// (`autotests = false`), so a file left out would silently never run.
#[test]
fn every_test_file_is_a_module_of_this_crate() {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let main = std::fs::read_to_string(tests.join("main.rs")).expect("tests/main.rs");
    let mut missing = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&tests).expect("tests/") {
        let path = entry.expect("an entry of tests/").path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(module) = name.strip_suffix(".rs") else {
            continue;
        };
        files += 1;
        if module != "main" && !main.contains(&format!("\nmod {module};\n")) {
            missing.push(module.to_string());
        }
    }
    assert!(files > 30, "found {files} test files");
    assert!(
        missing.is_empty(),
        "tests/{m}.rs is not a module of the integration crate: add `mod {m};` to tests/main.rs, \
         and in tests/{m}.rs write `use crate::common::*;` instead of `mod common;` and \
         `use common::*;` (missing: {missing:?})",
        m = missing.first().map(String::as_str).unwrap_or("")
    );
}
