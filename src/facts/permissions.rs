//! The modes of the paths named on permission lines, and of the check's own.

use super::*;

/// Words of lines about access rights.
pub(super) const PERMISSION_WORDS: [&str; 7] = [
    "permission denied",
    "eacces",
    "operation not permitted",
    "eperm",
    "invalid permissions",
    "too open",
    "bad ownership",
];

pub fn is_permission_line(line: &str) -> bool {
    let lower = line.to_lowercase();
    PERMISSION_WORDS.iter().any(|w| lower.contains(w))
}

/// `lstat` of the paths named on permission lines (those their writers could look up), then of
/// the check's own paths (a Redis says "Can't open the log file: Permission denied" without
/// naming the file).
pub(super) fn path_facts(
    check: &Check,
    error_lines: &[String],
    writers: &Writers,
) -> Vec<PathFact> {
    let permission_lines: Vec<&String> = error_lines
        .iter()
        .filter(|l| is_permission_line(l))
        .collect();
    if permission_lines.is_empty() {
        return Vec::new();
    }
    let mut paths: Vec<PathBuf> = writers.visible(
        permission_lines
            .iter()
            .flat_map(|line| named_paths(line))
            .collect(),
    );
    paths.extend(check.logs.iter().cloned());
    paths.extend(check.kind.files().into_iter().map(Path::to_path_buf));
    paths.extend(check.kind.filesystem().map(Path::to_path_buf));
    let mut seen = BTreeSet::new();
    paths
        .into_iter()
        .filter(|p| seen.insert(p.clone()))
        .take(MAX_PATHS)
        .map(|p| lstat(&p))
        .collect()
}

pub(super) fn lstat(path: &Path) -> PathFact {
    let shown = path.display().to_string();
    match std::fs::symlink_metadata(path) {
        Err(e) => PathFact {
            path: shown,
            problem: Some(e.to_string()),
            ..PathFact::default()
        },
        Ok(meta) => {
            let kind = if meta.file_type().is_symlink() {
                "symlink"
            } else if meta.is_dir() {
                "directory"
            } else if meta.is_file() {
                "file"
            } else {
                "other"
            };
            PathFact {
                path: shown,
                kind: Some(kind.into()),
                mode: Some(format!("{:04o}", meta.mode() & 0o7777)),
                uid: Some(meta.uid()),
                gid: Some(meta.gid()),
                problem: None,
            }
        }
    }
}
