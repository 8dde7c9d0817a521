//! The layers src/lib.rs states hold: no import cycle and no upward import among the top-level
//! modules (checked here in Rust, so a plain `cargo test` runs it; scripts/module-graph.sh
//! prints the same graph and owns the layer table), and the script finds one when it is there.

use crate::common::*;
use std::collections::{BTreeMap, BTreeSet};
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

/// The layer of each top-level module, read from the table in scripts/module-graph.sh.
fn layers() -> BTreeMap<String, u32> {
    let script = std::fs::read_to_string(root().join("scripts/module-graph.sh")).unwrap();
    let table = script
        .split("LAYERS='")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    let mut layers = BTreeMap::new();
    for line in table.lines().filter(|l| !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let layer: u32 = words.next().unwrap().parse().unwrap();
        for module in words {
            layers.insert(module.to_string(), layer);
        }
    }
    layers
}

/// Which top-level modules each one names as `crate::NAME` outside comments (as the script).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = root().join("src");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if name == "lib" || name == "main" {
            continue;
        }
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else {
            files.push(path.clone());
        }
        let targets: &mut BTreeSet<String> = graph.entry(name.clone()).or_default();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (at, _) in line.match_indices("crate::") {
                    let rest = &line[at + "crate::".len()..];
                    let target: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if !target.is_empty() && target != name {
                        targets.insert(target);
                    }
                }
            }
        }
    }
    graph
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Whether `from` reaches `to` through imports.
fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(module) = stack.pop() {
        for next in graph.get(&module).into_iter().flatten() {
            if next == to {
                return true;
            }
            if seen.insert(next.clone()) {
                stack.push(next.clone());
            }
        }
    }
    false
}

#[test]
fn modules_import_no_cycle_and_nothing_above_their_layer() {
    let layers = layers();
    let graph = imports();
    assert!(
        graph.len() > 15 && graph.contains_key("phases"),
        "{graph:?}"
    );
    let unplaced: Vec<&String> = graph.keys().filter(|m| !layers.contains_key(*m)).collect();
    assert!(
        unplaced.is_empty(),
        "add to LAYERS in scripts/module-graph.sh: {unplaced:?}"
    );
    let mut broken = Vec::new();
    for (module, targets) in &graph {
        for target in targets {
            if layers.get(target) > layers.get(module) {
                broken.push(format!("upward: {module} -> {target}"));
            }
            if reaches(&graph, target, module) {
                broken.push(format!("cycle: {module} -> {target} -> ... -> {module}"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
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

/// thiserror reports a field named `source` as the error's cause; a message that also prints
/// it says the cause twice under `{:#}`, which is how the commands print errors.
#[test]
fn no_error_message_prints_its_source_field() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    assert!(files.len() > 50, "src/ not found: {files:?}");
    let offenders: Vec<String> = files
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            text.lines()
                .enumerate()
                .filter(|(_, line)| line.contains("#[error(") && line.contains("{source}"))
                .map(|(n, line)| format!("{}:{}: {}", file.display(), n + 1, line.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "name the field `cause`:\n{}",
        offenders.join("\n")
    );
}

/// The files of one folder (`phases/deliver.rs`, `phases/escalate.rs`) as a graph: which
/// siblings each names, as `super::NAME` or `crate::FOLDER::NAME`, outside comments.
fn sibling_imports(folder: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let module = folder.file_name().unwrap().to_string_lossy().to_string();
    let siblings: BTreeSet<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs") || p.is_dir())
        .map(|p| p.file_stem().unwrap().to_string_lossy().to_string())
        .filter(|name| name != "mod")
        .collect();
    let mut graph = BTreeMap::new();
    for name in &siblings {
        let file = folder.join(format!("{name}.rs"));
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue; // a sub-folder: its own graph
        };
        let targets: &mut BTreeSet<String> = graph.entry(name.clone()).or_default();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for prefix in ["super::".to_string(), format!("crate::{module}::")] {
                for (at, _) in line.match_indices(prefix.as_str()) {
                    let rest = &line[at + prefix.len()..];
                    // `super::{a::x, b}` names a and b
                    let named = match rest.strip_prefix('{') {
                        Some(group) => group.split('}').next().unwrap_or("").to_string(),
                        None => rest.to_string(),
                    };
                    for item in named.split(',') {
                        let target: String = item
                            .trim()
                            .chars()
                            .take_while(|c| {
                                c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'
                            })
                            .collect();
                        if siblings.contains(&target) && target != *name {
                            targets.insert(target);
                        }
                    }
                }
            }
        }
    }
    graph
}

#[test]
fn no_two_files_of_a_folder_import_each_other() {
    let mut cycles = Vec::new();
    let mut folders = 0;
    for entry in std::fs::read_dir(root().join("src")).unwrap() {
        let folder = entry.unwrap().path();
        if !folder.is_dir() {
            continue;
        }
        folders += 1;
        let graph = sibling_imports(&folder);
        for (file, targets) in &graph {
            for target in targets {
                if reaches(&graph, target, file) {
                    cycles.push(format!(
                        "{}: {file} -> {target} -> ... -> {file}",
                        folder.display()
                    ));
                }
            }
        }
    }
    assert!(folders > 5, "found only {folders} folders under src/");
    assert!(
        cycles.is_empty(),
        "files import each other round a loop; move what both need into one of them or a file \
         of its own:\n{}",
        cycles.join("\n")
    );
}
