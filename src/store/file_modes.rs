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
    make_dir(dir)?;
    warn_if_others_may_write(dir);
    Ok(())
}

/// Creates the directory `dir` (and missing parents) as `0700`, and says nothing of an
/// existing one: for the lock files, whose database is opened next and warns once.
pub fn make_dir(dir: &Path) -> std::io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
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
///
/// An existing file is looked at only through an `O_PATH` descriptor: closing any other
/// descriptor of a file drops every POSIX lock this process holds on it, so a connection open
/// in another thread (the dashboard serves requests in parallel) would lose its locks and a
/// second process could then write under it (SQLite: "disk I/O error", or worse).
pub fn prepare_database(db: &Path) -> std::io::Result<()> {
    create_if_missing(db)?;
    narrow_existing(db)?;
    for companion in companions(db) {
        match narrow_existing(&companion) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            other => other?,
        }
    }
    Ok(())
}

/// `O_EXCL` creates the file `0600` or fails on anything already there, a symlink included,
/// so this never opens (and closes) a file another connection may hold locks on.
fn create_if_missing(db: &Path) -> std::io::Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(db)
    {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

/// Narrows a state file's mode through an `O_PATH` descriptor (whose close drops no lock);
/// refuses anything but a regular file, so a symlink planted in its place is not followed.
fn narrow_existing(path: &Path) -> std::io::Result<()> {
    use rustix::fs::{FileType, Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let stat = rustix::fs::fstat(&fd)?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err(std::io::Error::other(format!(
            "{} is not a regular file (a symlink?); refusing to use it",
            path.display()
        )));
    }
    narrow(path, stat.st_mode, stat.st_uid, || {
        // fchmod refuses an O_PATH descriptor; its /proc link names exactly the file it holds.
        let by_descriptor = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
        std::fs::set_permissions(&by_descriptor, std::fs::Permissions::from_mode(FILE_MODE))
    })
}

fn companions(db: &Path) -> Vec<PathBuf> {
    ["-wal", "-shm"]
        .iter()
        .map(|suffix| beside(db, suffix))
        .collect()
}

/// A state file beside the database: its name with `suffix` appended (`-wal`, `.lock`).
pub fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `fchmod 0600` on a file of ours that others may read; another user's file is not ours
/// to change, only to warn about.
fn narrow_mode(file: &File, path: &Path) -> std::io::Result<()> {
    let meta = file.metadata()?;
    narrow(path, meta.permissions().mode(), meta.uid(), || {
        file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))
    })
}

/// What both ways of narrowing decide: a file of `mode` owned by `uid` that others may read
/// is made `0600` by `chmod` when it is ours, and only warned about when it is not.
fn narrow(
    path: &Path,
    mode: u32,
    uid: u32,
    chmod: impl FnOnce() -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mode = mode & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    if uid != rustix::process::geteuid().as_raw() {
        log::warn!(
            "{} is readable by others (mode {mode:o}) and not ours to change",
            path.display()
        );
        return Ok(());
    }
    chmod()?;
    log::info!("{}: mode {mode:o} narrowed to 600", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

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

    /// A POSIX lock held through one descriptor survives `prepare_database`: a child process
    /// (which shares no lock with us) still sees it.
    #[test]
    fn preparing_the_database_drops_no_lock_this_process_holds() {
        let base = tempfile::tempdir().unwrap();
        let db = base.path().join("state.db");
        for companion in std::iter::once(db.clone()).chain(companions(&db)) {
            std::fs::write(&companion, "x").unwrap();
        }
        let held: Vec<File> = std::iter::once(db.clone())
            .chain(companions(&db))
            .map(|path| {
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(path)
                    .unwrap()
            })
            .collect();
        for file in &held {
            set_lock(file.as_raw_fd(), libc::F_WRLCK as i16);
        }
        prepare_database(&db).unwrap();
        for (file, path) in held
            .iter()
            .zip(std::iter::once(db.clone()).chain(companions(&db)))
        {
            assert!(
                locked_for_another_process(&path),
                "{} lost its lock",
                path.display()
            );
            set_lock(file.as_raw_fd(), libc::F_UNLCK as i16);
        }
    }

    fn set_lock(fd: i32, kind: i16) {
        // SAFETY: a zeroed flock is a valid argument; fcntl only reads it.
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = kind;
        lock.l_whence = libc::SEEK_SET as i16;
        // SAFETY: fd is open for the duration of the call; F_SETLK takes a *const flock.
        assert_eq!(unsafe { libc::fcntl(fd, libc::F_SETLK, &lock) }, 0);
    }

    /// Asks from a forked child, which holds no locks of ours, whether the file is locked.
    fn locked_for_another_process(path: &Path) -> bool {
        let file = File::open(path).unwrap();
        // SAFETY: the child makes only async-signal-safe calls (fcntl, _exit).
        match unsafe { libc::fork() } {
            0 => {
                // SAFETY: as above.
                let mut lock: libc::flock = unsafe { std::mem::zeroed() };
                lock.l_type = libc::F_RDLCK as i16;
                lock.l_whence = libc::SEEK_SET as i16;
                // SAFETY: the descriptor is inherited and open.
                let held = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lock) } == 0
                    && lock.l_type != libc::F_UNLCK as i16;
                // SAFETY: _exit ends the child without running the parent's destructors.
                unsafe { libc::_exit(if held { 0 } else { 1 }) }
            }
            child => {
                let mut status = 0;
                // SAFETY: waits for the child just forked.
                unsafe { libc::waitpid(child, &mut status, 0) };
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
            }
        }
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
