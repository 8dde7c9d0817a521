//! The man pages and shell completions are generated from the clap definitions (house style:
//! one definition feeds help, man pages and completions). This test regenerates them and fails
//! when the committed files differ; `UPDATE_MAN=1 cargo test --test integration man_pages::` rewrites them.

use clap::CommandFactory;
use orchestrator::cli::Cli;
use std::path::PathBuf;

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
        "out of date: {stale:?}\nrun: UPDATE_MAN=1 cargo test --test integration man_pages::"
    );
}

/// The text of `.SH NAME` in a man page, up to the next `.SH`.
fn man_section<'a>(page: &'a str, name: &str) -> &'a str {
    let heading = format!(".SH {name}\n");
    let start = page
        .find(&heading)
        .unwrap_or_else(|| panic!("orchestrator.toml(5) has no section {name}"))
        + heading.len();
    let rest = &page[start..];
    &rest[..rest.find("\n.SH ").unwrap_or(rest.len())]
}

/// The `.TP` entries of a section, by each bold word on the line that heads it (`\fBa\fR,
/// \fBb\fR` heads one entry for both).
fn tagged_entries(section: &str) -> Vec<(String, String)> {
    let mut entries = Vec::new();
    for entry in section.split("\n.TP\n").skip(1) {
        let (tag, _) = entry.split_once('\n').unwrap_or((entry, ""));
        let body = entry.split("\n.PP").next().unwrap_or(entry);
        for word in tag.split("\\fB").skip(1) {
            if let Some((name, _)) = word.split_once("\\fR") {
                entries.push((name.replace("\\-", "-"), body.to_string()));
            }
        }
    }
    entries
}

fn bold(word: &str) -> String {
    format!("\\fB{}\\fR", word.replace('-', "\\-"))
}

/// Every key the parser takes (the serde structs' field names, `orchestrator::config_keys`)
/// is described in its own section of orchestrator.toml(5).
#[test]
fn the_config_page_describes_every_key_in_its_section() {
    let page = std::fs::read_to_string(root().join("man/orchestrator.toml.5")).unwrap();
    let keys = orchestrator::config_keys();
    assert!(
        keys.len() > 10 && keys.iter().all(|(_, keys)| !keys.is_empty()),
        "{keys:?}"
    );
    let mut missing = Vec::new();
    for (section, keys) in keys {
        let text = man_section(&page, section);
        for key in keys {
            if !text.contains(&bold(key)) {
                missing.push(format!("{section} {key}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "orchestrator.toml(5) lacks, in the section named: {missing:?}"
    );
}

/// Every action (`orchestrator::ACTIONS`, what the parser takes) has its entry in the ACTIONS
/// section of orchestrator.toml(5), and the entry names each of its fields.
#[test]
fn the_config_page_describes_every_action_and_its_fields() {
    let page = std::fs::read_to_string(root().join("man/orchestrator.toml.5")).unwrap();
    let entries = tagged_entries(man_section(&page, "ACTIONS"));
    let mut missing = Vec::new();
    for spec in orchestrator::ACTIONS {
        let Some((_, body)) = entries.iter().find(|(name, _)| name == spec.name()) else {
            missing.push(spec.name().to_string());
            continue;
        };
        for field in spec.fields {
            if !body.contains(&bold(field.name)) {
                missing.push(format!("{}.{}", spec.name(), field.name));
            }
        }
    }
    assert!(missing.is_empty(), "ACTIONS lacks {missing:?}");
    let described: Vec<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
    let known: Vec<&str> = orchestrator::ACTIONS
        .iter()
        .map(|spec| spec.name())
        .collect();
    assert_eq!(
        described, known,
        "ACTIONS describes actions there are not, or out of order"
    );
}
