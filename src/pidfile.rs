//! The one reader of pid files, for the whole program: the `process` check, the facts, the
//! runbook (through the facts) and the kill scope all read a pid file here, so that they
//! never disagree about what it holds.
//!
//! The pid is the first line, with surrounding blanks allowed (`  812 \r\n`); whatever follows
//! it is ignored: PostgreSQL's `postmaster.pid` has seven lines and more (data directory,
//! start time, port, socket directory, listen address, shared memory key, status), as Monit
//! and systemd read it. The file is read through [`crate::untrusted_file`]: a symlink, a FIFO
//! or a device is refused, and at most [`MAX_BYTES`] are read.

use crate::untrusted_file::{self, Limits, Meta, Refusal};
use std::path::Path;

/// A pid file is small: PostgreSQL's, the longest known, is about 100 bytes.
pub const MAX_BYTES: u64 = 4096;

/// A pid file that holds a pid, and the facts of the file read.
#[derive(Debug, Clone)]
pub struct PidFile {
    pub pid: i32,
    pub meta: Meta,
}

/// Why a pid file gave no pid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PidFileError {
    /// Missing, a symlink, a FIFO, unreadable: see [`Refusal`].
    #[error("{0}")]
    Unreadable(Refusal),
    /// A regular file whose first line is no pid (a lock file that holds none, a log).
    #[error("holds no pid on its first line ({first_line:?})")]
    NoPid { first_line: String, meta: Meta },
}

/// Reads the pid in the file at `path`.
pub fn read(path: &Path) -> Result<PidFile, PidFileError> {
    let contents = untrusted_file::read_head(path, Limits::new(MAX_BYTES, 1))
        .map_err(PidFileError::Unreadable)?;
    let text = contents.text();
    match parse(&text) {
        Some(pid) => Ok(PidFile {
            pid,
            meta: contents.meta,
        }),
        None => Err(PidFileError::NoPid {
            first_line: text.lines().next().unwrap_or("").chars().take(40).collect(),
            meta: contents.meta,
        }),
    }
}

/// The pid on the first line of `text`: digits only, blanks around them allowed, above 0.
pub fn parse(text: &str) -> Option<i32> {
    let first = text.split('\n').next()?.trim_matches([' ', '\t', '\r']);
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    first.parse().ok().filter(|pid| *pid > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pid files of real daemons, as they write them (the system test
    /// `daemon_files::real_pid_files_are_read_by_the_one_reader` reads the live ones).
    #[test]
    fn the_pid_is_the_first_line_of_every_daemons_pid_file() {
        for (daemon, text) in [
            ("nginx", "20965\n"),
            ("redis-server", "20965\n"),
            ("sshd", "20965\n"),
            ("apache httpd (no newline)", "20965"),
            ("start-stop-daemon, systemd PIDFile=", "20965\n"),
            (
                "PostgreSQL postmaster.pid",
                "20965\n/var/lib/postgresql/15/main\n1764230000\n5432\n/var/run/postgresql\n*\n  5432001         0\nready   \n",
            ),
            ("blanks", "  20965 \r\n"),
            ("a tab", "\t20965\t\n\n"),
        ] {
            assert_eq!(parse(text), Some(20965), "{daemon}: {text:?}");
        }
    }

    #[test]
    fn anything_else_holds_no_pid() {
        for text in [
            "",
            "\n",
            "\n20965\n",
            "-1\n",
            "0\n",
            "+20965\n",
            "20965 20966\n",
            "pid=20965\n",
            "99999999999\n",
            "abc\n",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_file_is_read_through_the_untrusted_reader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("postmaster.pid");
        std::fs::write(&path, "812\n/data\n1764230000\n5432\n").unwrap();
        let read = read(&path).unwrap();
        assert_eq!(read.pid, 812);
        assert_eq!(read.meta.uid, rustix::process::geteuid().as_raw());
        let lock = dir.path().join("queue.lock");
        std::fs::write(&lock, "locked\n").unwrap();
        assert!(matches!(
            super::read(&lock),
            Err(PidFileError::NoPid { first_line, .. }) if first_line == "locked"
        ));
        let zero = dir.path().join("zero.pid");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let refused = super::read(&zero).unwrap_err();
        assert!(
            refused.to_string().starts_with("a symlink (owner uid"),
            "{refused}"
        );
    }
}
