//! Free space and inodes under the check's paths, its logs and the paths the evidence names.

use super::*;

/// The check's paths, its logs, and the existing directories holding paths the evidence names,
/// each with its filesystem's device.
pub(super) fn check_paths(check: &Check, named: &[PathBuf]) -> Vec<(PathBuf, u64)> {
    let kind = &check.kind;
    let mut paths: Vec<PathBuf> = (kind.filesystem().into_iter())
        .chain(kind.files())
        .chain(kind.pid_file())
        .map(Path::to_path_buf)
        .collect();
    paths.extend(check.paths.iter().cloned());
    paths.extend(check.logs.iter().cloned());
    paths.extend(named.iter().take(MAX_PATHS).cloned());
    paths
        .into_iter()
        .filter_map(|p| nearest_existing(&p))
        .collect()
}

/// The full filesystems (under 1% of bytes or inodes free) holding the check's paths, its logs,
/// and the paths `evidence` names: a few `statvfs` calls, cheap enough for phase 1 to look
/// before it restarts anything, and to look again before it calls a fix verified.
pub fn full_filesystems_under(check: &Check, evidence: &str) -> Vec<Filesystem> {
    let paths = check_paths(check, &named_paths(evidence));
    filesystems(&paths).into_iter().filter(|f| f.full).collect()
}

/// The path itself, or its nearest existing ancestor (a file that could not be written may
/// not exist, but its directory's filesystem is the one that is full), and its device.
pub(super) fn nearest_existing(path: &Path) -> Option<(PathBuf, u64)> {
    path.ancestors().find_map(|p| {
        let meta = std::fs::symlink_metadata(p).ok()?;
        Some((p.to_path_buf(), meta.dev()))
    })
}

/// Free space and inodes of each filesystem holding one of `paths`, once per filesystem.
pub(super) fn filesystems(paths: &[(PathBuf, u64)]) -> Vec<Filesystem> {
    let mut seen = BTreeSet::new();
    paths
        .iter()
        .filter(|(_, device)| seen.insert(*device))
        .filter_map(|(path, device)| statvfs(path, *device))
        .take(MAX_FILESYSTEMS)
        .collect()
}

pub(super) fn statvfs(path: &Path, device: u64) -> Option<Filesystem> {
    let size = crate::sys::statvfs(path).ok()?;
    let total_bytes = size.blocks * size.block_size;
    let free_bytes = size.blocks_available * size.block_size;
    let full = below(free_bytes, total_bytes) || below(size.inodes_free, size.inodes);
    Some(Filesystem {
        path: path.display().to_string(),
        total_bytes,
        free_bytes,
        total_inodes: size.inodes,
        free_inodes: size.inodes_free,
        full,
        device,
    })
}

pub(super) fn below(free: u64, total: u64) -> bool {
    total > 0 && (free as f64) * 100.0 < FULL_PERCENT * total as f64
}
