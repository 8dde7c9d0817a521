//! Two locks, each an `flock` beside the database (docs/architecture.md, "The cycle lock"). The cycle lock (`DB.lock`) keeps two phases
//! from acting at once. The delivery lock (`DB.deliver.lock`) keeps two processes from sending
//! the same notification at once; it is separate so that sending, which waits on other
//! people's servers, never holds up the healing phases. The kernel drops a lock when its
//! holder dies, so a killed process never leaves one stuck.

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
    #[error("cannot lock {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Held while notifications are sent; see the module comment.
pub struct DeliveryLock {
    _file: File,
}

pub fn delivery_lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".deliver.lock");
    PathBuf::from(name)
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

fn flock(path: PathBuf, wait: bool) -> Result<File, LockError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = crate::store::private::create_dir(dir);
    }
    let io_err = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    let file = crate::store::private::open_file(&path).map_err(io_err)?;
    match crate::sys::flock(&file, wait) {
        Ok(()) => Ok(file),
        Err(FlockError::Busy) => Err(LockError::Busy(path)),
        Err(FlockError::Io(err)) => Err(io_err(err)),
    }
}
