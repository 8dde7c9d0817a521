//! The state files are private: the database keeps raw command and agent output, secrets
//! included, so it, its `-wal` and `-shm` files and the cycle lock are `0600`, and a directory
//! orchestrator creates for them is `0700`. Modes are given when each file is created rather
//! than through the process umask, which `run` actions and the services they start would
//! inherit. A directory the admin made is left as it is, with a warning when others may write
//! to it (they could replace the database).

use std::fs::{DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub const FILE_MODE: u32 = 0o600;
pub const DIR_MODE: u32 = 0o700;

/// Creates the directory `dir` (and missing parents) as `0700`; warns about an existing one
/// that others may write to.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    warn_if_others_may_write(dir);
    Ok(())
}

fn warn_if_others_may_write(dir: &Path) {
    let Ok(meta) = std::fs::metadata(dir) else {
        return;
    };
    let mode = meta.permissions().mode();
    let sticky = mode & 0o1000 != 0;
    if mode & 0o022 != 0 && !sticky {
        log::warn!(
            "{} is writable by others (mode {:o}): they could replace the state database; \
             make it 0700",
            dir.display(),
            mode & 0o7777
        );
    }
}

/// Opens (creating `0600` if needed) a state file without following a symlink, and narrows
/// the mode of one an earlier version left readable by others.
pub fn open_file(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    narrow_mode(&file, path)?;
    Ok(file)
}

/// The database file and what SQLite keeps beside it. SQLite creates `-wal` and `-shm` with
/// the database file's own mode, so a `0600` database gives `0600` companions; ones left by an
/// earlier version are narrowed here.
pub fn prepare_database(db: &Path) -> std::io::Result<()> {
    drop(open_file(db)?);
    for companion in companions(db) {
        match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&companion)
        {
            Ok(file) => narrow_mode(&file, &companion)?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

fn companions(db: &Path) -> Vec<PathBuf> {
    ["-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        })
        .collect()
}

/// `fchmod 0600` on a file of ours that others may read; another user's file is not ours
/// to change, only to warn about.
fn narrow_mode(file: &File, path: &Path) -> std::io::Result<()> {
    let meta = file.metadata()?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    if meta.uid() != rustix::process::geteuid().as_raw() {
        log::warn!(
            "{} is readable by others (mode {mode:o}) and not ours to change",
            path.display()
        );
        return Ok(());
    }
    file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    log::info!("{}: mode {mode:o} narrowed to 600", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn new_directories_and_files_are_private_and_old_files_are_narrowed() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("a/b");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&base.path().join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);

        let db = dir.join("state.db");
        prepare_database(&db).unwrap();
        assert_eq!(mode(&db), 0o600);

        let wal = dir.join("state.db-wal");
        std::fs::write(&wal, "").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        prepare_database(&db).unwrap();
        assert_eq!((mode(&db), mode(&wal)), (0o600, 0o600));
    }

    #[test]
    fn a_symlink_is_not_followed() {
        let base = tempfile::tempdir().unwrap();
        let target = base.path().join("target");
        std::fs::write(&target, "").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = base.path().join("state.db");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(prepare_database(&link).is_err());
        assert_eq!(mode(&target), 0o644);
    }
}
