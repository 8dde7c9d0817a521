//! The cycle lock (DESIGN §7): `flock` on `DB.lock`, so that two phases never act at once.
//! The kernel drops the lock when the holder dies, so a killed cycle never leaves it stuck.

use std::fs::File;
use std::os::unix::io::AsRawFd;
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

impl CycleLock {
    pub fn acquire(db: &Path, wait: bool) -> Result<CycleLock, LockError> {
        let path = lock_path(db);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = crate::store::private::create_dir(dir);
        }
        let io_err = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let file = crate::store::private::open_file(&path).map_err(io_err)?;
        let mode = if wait {
            libc::LOCK_EX
        } else {
            libc::LOCK_EX | libc::LOCK_NB
        };
        loop {
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), mode) } == 0 {
                return Ok(CycleLock { _file: file });
            }
            let err = std::io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EWOULDBLOCK) => return Err(LockError::Busy(path)),
                _ => return Err(io_err(err)),
            }
        }
    }
}
