//! Pid files: the check's, the unit's and those the evidence names, read by the one pid-file
//! reader, and whether their pids live.

use super::*;

/// Pid files: the check's, the unit's, and those the evidence names on lines about pid or lock
/// files, including a quoted relative name (PostgreSQL's `lock file "postmaster.pid"`) under a
/// directory the evidence names.
pub(super) fn pid_files(
    check: &Check,
    unit_pid_file: Option<&str>,
    evidence: &str,
    named: &[PathBuf],
    writers: &Writers,
) -> Vec<PidFile> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(path) = check.kind.pid_file() {
        candidates.push(path.to_path_buf());
    }
    candidates.extend(unit_pid_file.map(PathBuf::from));
    let directories: Vec<&PathBuf> = named.iter().filter(|p| p.is_dir()).collect();
    for line in evidence.lines() {
        let lower = line.to_lowercase();
        if !(lower.contains("pid") || lower.contains("lock")) {
            continue;
        }
        candidates.extend(
            writers.visible(
                absolute_path_pattern()
                    .captures_iter(line)
                    .map(|c| PathBuf::from(clean_path(&c[1])))
                    .collect(),
            ),
        );
        for name in quoted_name_pattern().captures_iter(line) {
            let name = &name[1];
            if name.ends_with(".pid") || name.ends_with(".lock") {
                candidates.extend(directories.iter().map(|d| d.join(name)));
            }
        }
    }
    let mut seen = BTreeSet::new();
    candidates
        .into_iter()
        .filter(|p| seen.insert(p.clone()))
        .filter_map(|p| read_pid_file(&p))
        .take(MAX_PID_FILES)
        .collect()
}

/// A pid file's facts, read by the one pid-file reader (`crate::pidfile`); `None` when the
/// path is no pid file: missing, a directory, or a regular file that holds no pid and is not
/// named like a pid or lock file (a log named on the same line).
pub fn read_pid_file(path: &Path) -> Option<PidFile> {
    let fact = PidFile {
        path: path.display().to_string(),
        ..PidFile::default()
    };
    match crate::pidfile::read(path) {
        Ok(file) => {
            let alive = pid_alive(file.pid);
            Some(PidFile {
                pid: Some(file.pid),
                alive,
                owner_uid: Some(file.meta.uid),
                command: alive.then(|| process_name(file.pid)),
                ..fact
            })
        }
        Err(PidFileError::NoPid { meta, .. }) => named_like_a_pid_file(path).then_some(PidFile {
            owner_uid: Some(meta.uid),
            ..fact
        }),
        Err(PidFileError::Unreadable(Refusal::Missing)) => None,
        Err(PidFileError::Unreadable(Refusal::NotRegular(meta)))
            if meta.kind == Kind::Directory =>
        {
            None
        }
        Err(PidFileError::Unreadable(why)) => Some(PidFile {
            owner_uid: why.meta().map(|m| m.uid),
            problem: Some(why.to_string()),
            ..fact
        }),
    }
}

/// `x.pid`, `x.lock`, `pid`, `lock`: a file whose being there means something even when it
/// holds no pid.
pub fn named_like_a_pid_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name == "pid" || name == "lock" || name.ends_with(".pid") || name.ends_with(".lock")
}

/// The process's command name, or `unknown` once it is gone (a fact must name something).
pub(super) fn process_name(pid: i32) -> String {
    let name = crate::sys::process_name(pid);
    if name.is_empty() {
        "unknown".into()
    } else {
        name
    }
}
