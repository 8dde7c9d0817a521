//! The README tells the truth about what it points to: the Rust version `Cargo.toml` asks for,
//! install before the deep sections, the dashboard's pictures as real PNG files, and a Safety
//! table whose every guarantee names tests this crate runs.

use std::path::Path;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).unwrap()
}

#[test]
fn the_prerequisites_come_first_and_name_the_rust_version_cargo_asks_for() {
    let readme = readme();
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("Cargo.toml names a rust-version");
    let prerequisites = readme
        .find("## Prerequisites")
        .expect("a Prerequisites section");
    assert!(
        readme[prerequisites..].contains(&format!("Rust {version} or newer")),
        "the README's Rust version is not Cargo.toml's {version}"
    );
    let sections: Vec<&str> = readme.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(sections[0], "## Prerequisites", "{sections:?}");
    let at = |name: &str| {
        sections
            .iter()
            .position(|s| s.starts_with(name))
            .unwrap_or_else(|| panic!("no section {name}: {sections:?}"))
    };
    assert!(at("## First ten minutes") < at("## Install and run under systemd"));
    assert!(at("## Install and run under systemd") < at("## How phase 1 decides"));
}

#[test]
fn the_dashboards_pictures_are_png_files_in_the_repository() {
    let readme = readme();
    let pictures: Vec<&str> = readme
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| target.ends_with(".png"))
        .collect();
    assert!(pictures.len() >= 2, "{pictures:?}");
    for picture in pictures {
        let bytes =
            std::fs::read(repo().join(picture)).unwrap_or_else(|e| panic!("{picture}: {e}"));
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{picture} is no PNG"
        );
        // The width, from the IHDR chunk: a desktop's or a phone's.
        let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        assert!([1280, 390].contains(&width), "{picture} is {width} px wide");
    }
}

/// Every test of this crate, by its path (`delivery::NAME`, `security::files::NAME`), as the
/// test binary itself lists them: the tests that run, not text that looks like one.
fn integration_tests() -> std::collections::HashSet<String> {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--list", "--format", "terse"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_safety_guarantee_is_a_table_row_naming_tests_that_exist() {
    let readme = readme();
    let start = readme.find("## Safety").expect("a Safety section");
    let section = &readme[start..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| **")).collect();
    let known = integration_tests();
    assert!(rows.len() >= 12, "{} guarantees", rows.len());
    assert!(
        !section.lines().any(|l| l.starts_with("**")),
        "a guarantee outside the table"
    );
    for row in rows {
        // Cells split on `|` not escaped as `\|`.
        let cells: Vec<String> = row
            .replace("\\|", "\u{1}")
            .split('|')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            cells.len(),
            3,
            "a row is guarantee | what holds | tests: {row}"
        );
        let tests: Vec<&str> = cells[2]
            .split("<br>")
            .map(|t| t.trim().trim_matches('`'))
            .collect();
        assert!(!tests[0].is_empty(), "no test proves {}", cells[0]);
        for test in tests {
            assert!(
                known.contains(test),
                "{}: `{test}` is no test of tests/ (`cargo test --test integration -- --list`)",
                cells[0]
            );
        }
    }
}
