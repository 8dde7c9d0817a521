//! The layers src/lib.rs states hold: scripts/module-graph.sh finds no import cycle and no
//! upward import among the top-level modules, and it does find one when it is there.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PYTHON3: Need = Need::Program("/usr/bin/python3", "python3");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn module_graph(tree: &Path) -> Output {
    Command::new("bash")
        .arg(tree.join("scripts/module-graph.sh"))
        .arg("--check")
        .output()
        .expect("run scripts/module-graph.sh")
}

#[test]
fn modules_import_no_cycle_and_nothing_above_their_layer() {
    crate::require_system!(
        "modules_import_no_cycle_and_nothing_above_their_layer",
        PYTHON3
    );
    let out = module_graph(&root());
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains("cycles: 0\n") && report.contains("upward imports: 0\n"),
        "{report}"
    );
}

#[test]
fn the_graph_reports_an_upward_import_and_the_cycle_it_makes() {
    crate::require_system!(
        "the_graph_reports_an_upward_import_and_the_cycle_it_makes",
        PYTHON3
    );
    let copy = tempfile::tempdir().unwrap();
    for dir in ["scripts", "src"] {
        let status = Command::new("cp")
            .arg("-r")
            .arg(root().join(dir))
            .arg(copy.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    // `clock` (layer 0) reaching up to `commands`, which imports `clock`.
    let clock = copy.path().join("src/clock.rs");
    let text = std::fs::read_to_string(&clock).unwrap();
    std::fs::write(&clock, format!("use crate::commands::run;\n{text}")).unwrap();

    let out = module_graph(copy.path());
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("upward imports: 1\n  clock [0] -> commands [5]"),
        "{report}"
    );
    assert!(report.contains("cycles: 1\n"), "{report}");
}
