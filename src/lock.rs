//! Two locks, each an `flock` beside the database (docs/architecture.md, "The cycle lock"). The cycle lock (`DB.lock`) keeps two phases
//! from acting at once. The delivery lock (`DB.deliver.lock`) keeps two processes from sending
//! the same notification at once; it is separate so that sending, which waits on other
//! people's servers, never holds up the healing phases. The kernel drops a lock when its
//! holder dies, so a killed process never leaves one stuck.

use crate::exit::EXIT_FAILURE;
use crate::sys::FlockError;
use std::fs::File;
use std::path::{Path, PathBuf};

pub struct CycleLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another orchestrator process holds {0}")]
    Busy(PathBuf),
    // `cause`, not `source`: the message carries it, and `{:#}` must not print it twice.
    #[error("cannot lock {path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

impl LockError {
    /// A lock is no question for the user: a busy one is skipped or waited for before it
    /// gets here, so what is left failed (1).
    pub fn exit_code(&self) -> u8 {
        EXIT_FAILURE
    }
}

pub fn lock_path(db: &Path) -> PathBuf {
    crate::store::private::beside(db, ".lock")
}

/// Held while notifications are sent; see the module comment.
pub struct DeliveryLock {
    _file: File,
}

pub fn delivery_lock_path(db: &Path) -> PathBuf {
    crate::store::private::beside(db, ".deliver.lock")
}

impl CycleLock {
    pub fn acquire(db: &Path, wait: bool) -> Result<CycleLock, LockError> {
        Ok(CycleLock {
            _file: flock(lock_path(db), wait)?,
        })
    }
}

impl DeliveryLock {
    /// Never waits: a busy lock means another process is delivering, and it sends what is due
    /// (it looks for due rows until it is done), ours included.
    pub fn try_acquire(db: &Path) -> Result<DeliveryLock, LockError> {
        Ok(DeliveryLock {
            _file: flock(delivery_lock_path(db), false)?,
        })
    }
}

/// Held while `fleet sync` runs (`DB.fleet.lock`): two syncs would push the same outbox rows
/// at once. Harmless (the central database applies each key once) but wasted; the second one
/// skips. Never the cycle lock: a slow fleet database never holds up healing.
pub struct FleetLock {
    _file: File,
}

impl FleetLock {
    pub fn try_acquire(db: &Path) -> Result<FleetLock, LockError> {
        Ok(FleetLock {
            _file: flock(crate::store::private::beside(db, ".fleet.lock"), false)?,
        })
    }
}

fn flock(path: PathBuf, wait: bool) -> Result<File, LockError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = crate::store::private::make_dir(dir);
    }
    let io_err = |cause| LockError::Io {
        path: path.clone(),
        cause,
    };
    let file = crate::store::private::open_file(&path).map_err(io_err)?;
    match crate::sys::flock(&file, wait) {
        Ok(()) => Ok(file),
        Err(FlockError::Busy) => Err(LockError::Busy(path)),
        Err(FlockError::Io(err)) => Err(io_err(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_that_cannot_be_made_names_its_cause_once() {
        let dir = tempfile::tempdir().unwrap();
        // A lock beside a database in a directory that is a file: ENOTDIR.
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let err = flock(blocker.join("state.db.lock"), false).unwrap_err();
        assert!(matches!(err, LockError::Io { .. }), "{err}");
        let said = format!("{:#}", anyhow::Error::from(err));
        assert_eq!(said.matches("(os error 20)").count(), 1, "{said}");
    }

    #[test]
    fn every_lock_error_is_a_failure() {
        assert_eq!(LockError::Busy("x.lock".into()).exit_code(), EXIT_FAILURE);
        let io = LockError::Io {
            path: "x.lock".into(),
            cause: std::io::Error::from_raw_os_error(libc::EROFS),
        };
        assert_eq!(io.exit_code(), EXIT_FAILURE);
    }
}
