//! `file` checks: a file that must exist (or must not), be fresh enough and be neither too
//! small nor too large: a backup that is 0 bytes, or a day old, is a failed backup.
//!
//! The file is looked at through a descriptor opened with `O_PATH | O_NOFOLLOW` and `fstat`:
//! the last name is never followed, so a symlink is reported as one, not judged by whatever it
//! points to, and every fact comes from the one inode that was opened.

use super::host::human_bytes;
use super::{CheckResult, Keys, Kind, Perf};
use crate::duration::Duration;
use rustix::fs::{FileType, Mode, OFlags, Stat};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// `kind = "file"`.
#[derive(Debug, Clone)]
pub struct File {
    pub path: PathBuf,
    /// CRITICAL when last modified longer ago than this.
    pub max_age: Option<Duration>,
    /// CRITICAL when smaller than this many bytes (an empty or truncated backup).
    pub min_size: Option<u64>,
    /// CRITICAL when larger than this many bytes.
    pub max_size: Option<u64>,
    /// `false`: the file must not exist (a leftover lock, a `maintenance` flag).
    pub exists: bool,
}

impl Kind for File {
    const NAME: &'static str = "file";
    const KEYS: &'static [&'static str] = &["path", "max_age", "min_size", "max_size", "exists"];

    fn parse(keys: &mut Keys) -> Option<Self> {
        let path = keys.require("path");
        let max_age = keys.get("max_age");
        let min_size = keys.size("min_size");
        let max_size = keys.size("max_size");
        if let (Some(min), Some(max)) = (min_size, max_size) {
            if min > max {
                let message = format!(
                    "`min_size` ({}) is larger than `max_size` ({}): no file could pass",
                    human_bytes(min),
                    human_bytes(max)
                );
                keys.problem("min_size", message);
            }
        }
        Some(File {
            path: path?,
            max_age,
            min_size,
            max_size,
            exists: keys.get("exists").unwrap_or(true),
        })
    }

    fn probe(&self, _deadline: std::time::Duration) -> CheckResult {
        match (stat_nofollow(&self.path), self.exists) {
            (Err(_), false) => CheckResult::ok(format!("{} does not exist", self.path.display())),
            (Ok(_), false) => {
                CheckResult::critical(format!("{} exists but should not", self.path.display()))
            }
            (Err(err), true) => CheckResult::critical(format!("{}: {err}", self.path.display())),
            (Ok(stat), true) => self.judge(&stat),
        }
    }

    fn details(&self) -> serde_json::Value {
        json!({
            "path": self.path,
            "exists": self.exists,
            "max_age": self.max_age.map(|d| d.to_string()),
            "min_size": self.min_size,
            "max_size": self.max_size,
        })
    }
}

impl File {
    fn judge(&self, stat: &Stat) -> CheckResult {
        let path = self.path.display();
        if FileType::from_raw_mode(stat.st_mode) == FileType::Symlink {
            return CheckResult::critical(format!(
                "{path} is a symbolic link; a `file` check does not follow links"
            ));
        }
        let size = stat.st_size.max(0) as u64;
        let age = age_of(stat);
        let perf = vec![
            Perf::new("age", age.as_secs_f64(), "s"),
            Perf::new("size", size as f64, "B"),
        ];
        let problem = if let Some(max_age) = self.max_age.filter(|max| age > max.std()) {
            let age = Duration(std::time::Duration::from_secs(age.as_secs()));
            Some(format!("{path} is {age} old (max {max_age})"))
        } else if let Some(min_size) = self.min_size.filter(|min| size < *min) {
            Some(format!(
                "{path} is {} (min {})",
                human_bytes(size),
                human_bytes(min_size)
            ))
        } else {
            self.max_size.filter(|max| size > *max).map(|max_size| {
                format!(
                    "{path} is {} (max {})",
                    human_bytes(size),
                    human_bytes(max_size)
                )
            })
        };
        match problem {
            Some(problem) => CheckResult::critical(problem).with_perf(perf),
            None => CheckResult::ok(format!(
                "{path} is {} and {}s old",
                human_bytes(size),
                age.as_secs()
            ))
            .with_perf(perf),
        }
    }
}

/// The inode at `path` itself (a symlink is not followed), by descriptor.
fn stat_nofollow(path: &Path) -> std::io::Result<Stat> {
    let fd = rustix::fs::open(
        path,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    Ok(rustix::fs::fstat(&fd)?)
}

/// Time since the last modification; zero for a time in the future, however far (a user may
/// set any mtime on a tmpfs, up to the year 292 billion).
fn age_of(stat: &Stat) -> std::time::Duration {
    let since_epoch = std::time::Duration::from_secs(stat.st_mtime.max(0) as u64)
        .saturating_add(std::time::Duration::from_nanos(stat.st_mtime_nsec));
    UNIX_EPOCH
        .checked_add(since_epoch)
        .and_then(|modified| SystemTime::now().duration_since(modified).ok())
        .unwrap_or_default()
}
