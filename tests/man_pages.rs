//! The man pages and shell completions are generated from the clap definitions (house style:
//! one definition feeds help, man pages and completions). This test regenerates them and fails
//! when the committed files differ; `UPDATE_MAN=1 cargo test --test man_pages` rewrites them.

use clap::CommandFactory;
use orchestrator::cli::Cli;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn man_page(command: clap::Command) -> Vec<u8> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut out)
        .expect("render man page");
    out
}

/// orchestrator(1) with the sections clap does not write (EXIT STATUS, JSON OUTPUT, FILES,
/// EXAMPLES, SEE ALSO), kept as roff in man/orchestrator.1.extra, before VERSION.
fn with_extra_sections(page: Vec<u8>) -> Vec<u8> {
    let page = String::from_utf8(page).expect("roff is text");
    let extra = std::fs::read_to_string(root().join("man/orchestrator.1.extra")).unwrap();
    let (head, version) = page.split_once(".SH VERSION").expect("clap writes VERSION");
    format!("{head}{extra}.SH VERSION{version}").into_bytes()
}

/// (path under the repository, contents) of every generated file.
fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    let mut command = Cli::command();
    // Building propagates the global options into every subcommand's page.
    command.build();
    let mut files = vec![(
        PathBuf::from("man/orchestrator.1"),
        with_extra_sections(man_page(command.clone())),
    )];
    for sub in command.get_subcommands() {
        // clap wants 'static names; these few strings live as long as the test anyway.
        let name: &'static str =
            Box::leak(format!("orchestrator-{}", sub.get_name()).into_boxed_str());
        let page = sub
            .clone()
            .name(name)
            .display_name(name)
            .bin_name(format!("orchestrator {}", sub.get_name()));
        files.push((PathBuf::from(format!("man/{name}.1")), man_page(page)));
    }
    for (shell, file) in [
        (clap_complete::Shell::Bash, "orchestrator.bash"),
        (clap_complete::Shell::Zsh, "_orchestrator"),
        (clap_complete::Shell::Fish, "orchestrator.fish"),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "orchestrator", &mut out);
        files.push((PathBuf::from(format!("completions/{file}")), out));
    }
    files
}

#[test]
fn committed_man_pages_and_completions_match_the_cli() {
    let update = std::env::var_os("UPDATE_MAN").is_some();
    let mut stale = Vec::new();
    for (path, contents) in generated() {
        let full = root().join(&path);
        if update {
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, &contents).unwrap();
        } else if std::fs::read(&full).ok().as_deref() != Some(contents.as_slice()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}\nrun: UPDATE_MAN=1 cargo test --test man_pages"
    );
}

/// Field names of the config structs, read from their source, each of which the
/// orchestrator.toml(5) page must describe.
fn config_keys(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut keys = Vec::new();
    let mut in_struct = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("pub struct") || line.starts_with("pub(super) struct") {
            in_struct = true;
        } else if line == "}" {
            in_struct = false;
        } else if in_struct {
            let field = line
                .trim_start_matches("pub(super) ")
                .trim_start_matches("pub ");
            if let Some((name, _)) = field.split_once(':') {
                if name.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !name.is_empty() {
                    keys.push(name.to_string());
                }
            }
        }
    }
    keys
}

#[test]
fn the_config_page_describes_every_key() {
    let page = std::fs::read_to_string(root().join("man/orchestrator.toml.5")).unwrap();
    let mut missing = Vec::new();
    for file in ["src/config/sections.rs", "src/config/check.rs"] {
        for key in config_keys(&root().join(file)) {
            // Internal fields of the validated Check, not keys.
            if ["kind", "remedy", "logs"].contains(&key.as_str())
                && file.ends_with("check.rs")
                && page.contains(&key)
            {
                continue;
            }
            if !page.contains(&format!("\\fB{key}\\fR")) {
                missing.push(format!("{file}: {key}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "orchestrator.toml(5) lacks: {missing:?}"
    );
}

/// The field names of each action in `src/actions/mod.rs`, which the ACTIONS section of
/// orchestrator.toml(5) must describe.
fn action_fields() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("src/actions/mod.rs")).unwrap();
    let body = text
        .split_once("pub enum Action {")
        .and_then(|(_, rest)| rest.split_once("\n}"))
        .map(|(body, _)| body.to_string())
        .expect("pub enum Action");
    let mut fields: Vec<String> = body
        .lines()
        .filter_map(|line| {
            line.trim()
                .split_once(':')
                .map(|(name, _)| name.to_string())
        })
        .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

#[test]
fn the_config_page_describes_every_action_and_its_fields() {
    let page = std::fs::read_to_string(root().join("man/orchestrator.toml.5")).unwrap();
    let actions = page
        .split_once(".SH ACTIONS")
        .map(|(_, rest)| rest.split(".SH ").next().unwrap_or(""))
        .expect("orchestrator.toml(5) has an ACTIONS section");
    let fields = action_fields();
    assert!(fields.len() >= 8, "{fields:?}");
    let missing: Vec<&String> = fields
        .iter()
        .filter(|field| !actions.contains(&format!("\\fB{field}\\fR")))
        .collect();
    assert!(missing.is_empty(), "ACTIONS lacks the fields {missing:?}");
    for action in [
        "restart_unit",
        "start_unit",
        "reset_failed",
        "run",
        "kill_process",
        "clean_files",
        "remove_file",
        "vacuum_journal",
        "remedy",
    ] {
        assert!(actions.contains(action), "ACTIONS lacks {action}");
    }
}
