//! docs/architecture.md is the map a newcomer reads first; these tests keep it true to the code:
//! every source file is on it, every file and function it names exists, and its database table
//! lists every table, column and migration the migrations make (generated from the migrations
//! themselves, applied to an empty database).

use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn architecture() -> String {
    std::fs::read_to_string(root().join("docs/architecture.md")).expect("docs/architecture.md")
}

/// The text under a heading (`## X` or `### X`), up to the next heading.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let start = ["## ", "### "]
        .iter()
        .find_map(|level| doc.find(&format!("\n{level}{heading}\n")))
        .unwrap_or_else(|| panic!("docs/architecture.md has no section \"{heading}\""));
    let body = &doc[start + 1..];
    let body = &body[body.find('\n').unwrap_or(body.len())..];
    &body[..body.find("\n#").unwrap_or(body.len())]
}

/// The rows of the markdown tables in `text`, each as its cells (the header and rule skipped).
fn table_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in text.lines() {
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        let cells: Vec<String> = line
            .trim_matches('|')
            .split(" | ")
            .map(|cell| cell.trim().to_string())
            .collect();
        if !in_table {
            in_table = true; // the header
            continue;
        }
        if !cells[0].starts_with("---") {
            rows.push(cells);
        }
    }
    rows
}

fn backticked(text: &str) -> Vec<String> {
    let ticks = Regex::new(r"`([^`]+)`").unwrap();
    ticks
        .captures_iter(text)
        .map(|c| c[1].to_string())
        .collect()
}

fn is_path(token: &str) -> bool {
    let exts = [".rs", ".sql", ".toml", ".sh", ".py", ".md"];
    !token.contains(' ') && exts.iter().any(|ext| token.ends_with(ext))
}

/// The files a cell names, relative to src/: `a/b.rs`, then `c.rs` means `a/c.rs` (or
/// src/c.rs when there is no a/c.rs). A placeholder (`runbooks/NAME.md`) names no file.
fn files_named(cell: &str) -> Vec<String> {
    let mut folder = String::new();
    let mut files = Vec::new();
    for token in backticked(cell).into_iter().filter(|t| is_path(t)) {
        if token.contains("NAME") {
            continue;
        }
        match token.rsplit_once('/') {
            Some((dir, _)) => {
                folder = format!("{dir}/");
                files.push(token);
            }
            None => {
                let in_folder = format!("{folder}{token}");
                if folder.is_empty() || root().join("src").join(&in_folder).exists() {
                    files.push(in_folder);
                } else {
                    files.push(token);
                }
            }
        }
    }
    files
}

/// Every file under `dir`, relative to `base`.
fn files_under(base: &Path, dir: &Path, into: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(base, &path, into);
        } else {
            into.push(
                path.strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
}

fn source_files() -> Vec<String> {
    let src = root().join("src");
    let mut files = Vec::new();
    files_under(&src, &src, &mut files);
    files.sort();
    files
}

#[test]
fn every_source_file_is_on_the_map() {
    let doc = architecture();
    let mut on_map = BTreeSet::new();
    for row in table_rows(section(&doc, "Modules")) {
        on_map.extend(files_named(&row[0]));
    }
    let missing: Vec<String> = source_files()
        .into_iter()
        .filter(|file| !file.ends_with(".sql")) // the migrations have their own table
        .filter(|file| !on_map.contains(file))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/architecture.md, \"## Modules\", does not name {missing:?}: add a row \
         `| \\`{}\\` | what it holds |` for each (in the first cell, `dir/a.rs`, `b.rs` names \
         dir/b.rs too), or move it into the row of the module it belongs with",
        missing.first().map(String::as_str).unwrap_or("")
    );
}

/// A definition of `name` in `text`: an item, a variant, a field or a macro; in SQL, what a
/// `CREATE` makes (a table, trigger, index, view or function).
fn defines(text: &str, name: &str) -> bool {
    let name = regex::escape(name);
    let item = format!(
        r"(?m)(\b(fn|struct|enum|trait|type|const|static|mod|union)\s+{name}\b|macro_rules!\s*{name}\b|^\s*(pub(\([a-z]+\))?\s+)?{name}\s*[,({{:]|^\s*{name}\s*=|\bCREATE\s+(OR\s+REPLACE\s+)?(TABLE|TRIGGER|INDEX|VIEW|FUNCTION)\s+(IF\s+NOT\s+EXISTS\s+)?{name}\b)"
    );
    Regex::new(&item).unwrap().is_match(text)
}

fn read_src(file: &str) -> Option<String> {
    std::fs::read_to_string(root().join("src").join(file)).ok()
}

/// What a name refers to: the last segment of `a::b::c`, without a call's `()`.
fn item_name(token: &str) -> Option<&str> {
    let token = token.trim_end_matches("()");
    let name = token.rsplit("::").next()?;
    let ident = Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*$").unwrap();
    ident.is_match(name).then_some(name)
}

/// Every path the page names exists: in src/, or from the repository's root (`scripts/…`,
/// `man/…`, `tests/…`), or, in a cell, in the folder of the path before it.
#[test]
fn every_file_the_map_names_exists() {
    let doc = architecture();
    let mut missing = BTreeSet::new();
    for line in doc.lines() {
        let cells: Vec<&str> = if line.starts_with('|') {
            line.split(" | ").collect()
        } else {
            vec![line]
        };
        for cell in cells {
            for file in files_named(cell) {
                let found = root().join("src").join(&file).exists()
                    || root().join(&file).exists()
                    || root().join("docs").join(&file).exists()
                    || file.contains('*');
                if !found {
                    missing.insert(file);
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/architecture.md names files that do not exist: {missing:?}; write the path as it \
         is now (relative to src/, or from the repository's root), or drop the claim"
    );
}

/// "Where each rule lives" and the transitions of an incident's life name files and, after a
/// colon, what is in them: each of those names is defined in one of the files named before it
/// in the same `;`-separated part.
#[test]
fn every_function_the_map_places_is_in_its_file() {
    let doc = architecture();
    let mut wrong = Vec::new();
    for row in table_rows(section(&doc, "Where each rule lives")) {
        for part in row[1].split("; ") {
            let Some((files, names)) = part.split_once(": ") else {
                continue;
            };
            let texts: Vec<String> = files_named(files)
                .iter()
                .filter_map(|file| read_src(file))
                .collect();
            if texts.is_empty() {
                continue;
            }
            for token in backticked(names) {
                if is_path(&token) {
                    break; // a new file: its names are checked in the next part
                }
                let Some(name) = item_name(&token) else {
                    continue;
                };
                if !texts.iter().any(|text| defines(text, name)) {
                    wrong.push(format!("{files}: `{token}`"));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/architecture.md, \"## Where each rule lives\", places names where they are not \
         defined:\n  {}\nname the file that defines each (or the function's new name)",
        wrong.join("\n  ")
    );
}

/// Every `a::b` the page names anywhere is defined somewhere in src/.
#[test]
fn every_qualified_name_on_the_map_exists() {
    let doc = architecture();
    let sources: Vec<String> = source_files()
        .iter()
        .filter(|file| file.ends_with(".rs"))
        .filter_map(|file| read_src(file))
        .collect();
    let external = [
        "std", "serde", "rusqlite", "rustix", "clap", "maud", "rmcp", "tokio", "clippy",
    ];
    let mut unknown = BTreeSet::new();
    for token in backticked(&doc) {
        if !token.contains("::") || token.contains(' ') || is_path(&token) {
            continue;
        }
        if external
            .iter()
            .any(|krate| token.starts_with(&format!("{krate}::")))
        {
            continue;
        }
        let Some(name) = item_name(&token) else {
            continue;
        };
        if !sources.iter().any(|text| defines(text, name)) {
            unknown.insert(token);
        }
    }
    assert!(
        unknown.is_empty(),
        "docs/architecture.md names {unknown:?}, defined nowhere in src/: use the name it has now"
    );
}

/// The migrations as src/store/mod.rs applies them, in order: (number, file name, SQL).
fn migrations() -> Vec<(usize, String, String)> {
    let store = read_src("store/mod.rs").expect("src/store/mod.rs");
    let included = Regex::new(r#"include_str!\("migrations/([^"]+\.sql)"\)"#).unwrap();
    let listed: Vec<String> = included
        .captures_iter(&store)
        .map(|c| c[1].to_string())
        .collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(root().join("src/store/migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    assert_eq!(
        listed, on_disk,
        "src/store/mod.rs must apply every file of src/store/migrations, in order"
    );
    listed
        .into_iter()
        .enumerate()
        .map(|(index, file)| {
            let sql = read_src(&format!("store/migrations/{file}")).unwrap();
            (index + 1, file, sql)
        })
        .collect()
}

/// Each table's columns, and the migrations that created or changed them.
fn schema() -> BTreeMap<String, (BTreeSet<String>, BTreeSet<usize>)> {
    let db = rusqlite::Connection::open_in_memory().unwrap();
    let mut tables: BTreeMap<String, (BTreeSet<String>, BTreeSet<usize>)> = BTreeMap::new();
    for (number, file, sql) in migrations() {
        db.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("migration {file}: {e}"));
        let names: Vec<String> = db
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .unwrap()
            .query_map([], |row| row.get::<_, String>("name"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for table in names {
            let columns: BTreeSet<String> = db
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .unwrap()
                .query_map([], |row| row.get::<_, String>("name"))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let entry = tables.entry(table).or_default();
            if entry.0 != columns {
                entry.0 = columns;
                entry.1.insert(number);
            }
        }
        tables.retain(|table, _| {
            db.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |row| row.get::<_, i64>(0),
            )
            .unwrap()
                == 1
        });
    }
    tables
}

/// `1, 3, 9` or `1–3` (an en dash or a hyphen): the numbers a cell lists.
fn numbers(cell: &str) -> BTreeSet<usize> {
    let mut found = BTreeSet::new();
    for part in cell.split(',') {
        let part = part.trim().replace('–', "-");
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.trim().parse::<usize>(), b.trim().parse::<usize>()) {
                    found.extend(a..=b);
                }
            }
            None => {
                if let Ok(n) = part.parse() {
                    found.insert(n);
                }
            }
        }
    }
    found
}

#[test]
fn the_database_table_lists_every_table_column_and_migration() {
    let doc = architecture();
    let rows: BTreeMap<String, (String, String)> = table_rows(section(&doc, "The database"))
        .into_iter()
        .filter(|row| row.len() == 3)
        .map(|row| {
            let name = row[0].trim_matches('`').to_string();
            (name, (row[1].clone(), row[2].clone()))
        })
        .collect();
    let mut problems = Vec::new();
    let schema = schema();
    for (table, (columns, changed_by)) in &schema {
        let Some((holds, listed)) = rows.get(table) else {
            problems.push(format!(
                "add a row `| \\`{table}\\` | what it holds, naming every column | {} |`",
                changed_by
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        };
        let named: BTreeSet<String> = backticked(holds).into_iter().collect();
        let unnamed: Vec<&String> = columns
            .iter()
            .filter(|column| *column != "id" && !named.contains(*column))
            .collect();
        if !unnamed.is_empty() {
            problems.push(format!(
                "`{table}`: name the columns {unnamed:?} (in backticks)"
            ));
        }
        if numbers(listed) != *changed_by {
            problems.push(format!(
                "`{table}`: its migration cell says {listed:?}, the migrations that made or \
                 changed its columns are {changed_by:?}"
            ));
        }
    }
    for table in rows.keys() {
        if !schema.contains_key(table) {
            problems.push(format!(
                "`{table}` is no table the migrations make: drop its row"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/architecture.md, \"## The database\":\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn every_migration_is_listed() {
    let doc = architecture();
    let listed: BTreeMap<usize, String> = table_rows(section(&doc, "Migrations"))
        .into_iter()
        .filter_map(|row| {
            let file = row[1].trim_matches('`').strip_prefix("store/migrations/")?;
            Some((row[0].parse().ok()?, file.to_string()))
        })
        .collect();
    let migrations: BTreeMap<usize, String> = migrations()
        .into_iter()
        .map(|(number, file, _)| (number, file))
        .collect();
    assert_eq!(
        listed,
        migrations,
        "docs/architecture.md, \"### Migrations\": one row `| N | \\`store/migrations/NNNN_name.sql\\` \
         | what it changes |` per file of src/store/migrations, in the order src/store/mod.rs applies them"
    );
}
