//! The benchmark's subject and baseline (scripts/bench-clean.sh): `clean_files`'s walk by
//! directory descriptor, against the walk by re-resolved paths it replaced. The old walk lives
//! only here, for comparison: it follows a symlink swapped in under it, which is why it went.
//!
//! clean-walk build DIR DIRS FILES   make DIR/dNN/fNNNN.tmp: DIRS directories of FILES empty files
//! clean-walk fd DIR                 remove DIR/**/*.tmp by descriptor (orchestrator's walk)
//! clean-walk paths DIR              remove DIR/**/*.tmp by path (the old walk)

use std::path::{Path, PathBuf};
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let glob = globset::Glob::new("*.tmp").unwrap().compile_matcher();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["build", dir, dirs, files] => build(Path::new(dir), parse(dirs), parse(files)),
        ["fd", dir] => {
            let cleaned = orchestrator::clean_files(
                Path::new(dir),
                Duration::ZERO,
                &glob,
                &Default::default(),
            )
            .unwrap_or_else(|why| panic!("{why}"));
            println!("{}", cleaned.files);
        }
        ["paths", dir] => println!("{}", clean_by_path(Path::new(dir), &glob)),
        _ => {
            eprintln!("usage: clean-walk build DIR DIRS FILES | fd DIR | paths DIR");
            std::process::exit(2);
        }
    }
}

fn parse(number: &str) -> usize {
    number.parse().expect("a number")
}

fn build(dir: &Path, dirs: usize, files: usize) {
    for d in 0..dirs {
        let sub = dir.join(format!("d{d:02}"));
        std::fs::create_dir_all(&sub).expect("mkdir");
        for f in 0..files {
            std::fs::File::create(sub.join(format!("f{f:04}.tmp"))).expect("create");
        }
    }
}

/// The walk `clean_files` had before: `symlink_metadata` on a path, then `read_dir` and
/// `remove_file` on paths that the kernel resolves again, component by component.
fn clean_by_path(root: &Path, glob: &globset::GlobMatcher) -> u64 {
    let mut count = 0;
    let mut pending: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                pending.push(path);
            } else if meta.is_file()
                && glob.is_match(entry.file_name())
                && std::fs::remove_file(&path).is_ok()
            {
                count += 1;
            }
        }
    }
    count
}
