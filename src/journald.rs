//! Talking to journald through stderr. systemd sets `JOURNAL_STREAM=DEV:INODE` when it connects
//! a service's stdout or stderr to the journal (systemd.exec(5)); only when that pair is the
//! one of fd 2 (a child may have redirected stderr) do our lines go to journald, and then each
//! starts with the sd-daemon(3) `<N>` priority prefix and carries no timestamp of its own:
//! journald stores the priority and stamps the time itself.

use std::io::Write;
use std::os::fd::AsFd;
use std::sync::OnceLock;

/// The log target of a line about an incident's change of state that the command's report
/// prints too. The journal needs the line (no report goes there); a person at a terminal reads
/// the report, so there it is left out, and a result is not printed twice (main.rs).
pub const CHANGE: &str = "change";

/// Whether stderr is the journal: decided once per process, before any line is written.
pub fn stderr_is_journal() -> bool {
    static ANSWER: OnceLock<bool> = OnceLock::new();
    *ANSWER.get_or_init(|| is_journal(std::io::stderr().as_fd()))
}

/// Whether stdout is the journal too, as it is in a unit with the default `StandardOutput=`.
pub fn stdout_is_journal() -> bool {
    static ANSWER: OnceLock<bool> = OnceLock::new();
    *ANSWER.get_or_init(|| is_journal(std::io::stdout().as_fd()))
}

fn is_journal(fd: std::os::fd::BorrowedFd<'_>) -> bool {
    is_stream(fd, std::env::var("JOURNAL_STREAM").ok().as_deref())
}

/// Whether `fd` is the file that `journal_stream` (the variable's value, if set) names.
fn is_stream(fd: std::os::fd::BorrowedFd<'_>, journal_stream: Option<&str>) -> bool {
    let Some(stream) = journal_stream.and_then(parse_stream) else {
        return false;
    };
    match rustix::fs::fstat(fd) {
        Ok(stat) => (stat.st_dev, stat.st_ino) == stream,
        Err(_) => false,
    }
}

/// `"DEV:INODE"`, both decimal, as systemd writes it.
fn parse_stream(value: &str) -> Option<(u64, u64)> {
    let (dev, ino) = value.split_once(':')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

/// The syslog priority journald stores for a log level: err, warning, info, debug.
pub fn priority(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}

/// Writes `text` with the `<N>` prefix on every line: journald reads each line as its own
/// entry, and a continuation line without a prefix would be stored as info.
pub fn write_prefixed(out: &mut impl Write, priority: u8, text: &str) -> std::io::Result<()> {
    for line in text.split('\n') {
        writeln!(out, "<{priority}>{line}")?;
    }
    Ok(())
}

/// Prints an error that ends the process to stderr: with the err priority when stderr is the
/// journal, as it is otherwise.
pub fn print_error(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = if stderr_is_journal() {
        write_prefixed(&mut stderr, priority(log::Level::Error), text)
    } else {
        writeln!(stderr, "{text}")
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_two_decimal_numbers() {
        assert_eq!(parse_stream("8:12345"), Some((8, 12345)));
        assert_eq!(parse_stream("0:0"), Some((0, 0)));
        for bad in ["", "8", "8:", ":5", "8:5:1", "x:5", "8:-5", " 8:5"] {
            assert_eq!(parse_stream(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn levels_map_to_syslog_priorities() {
        assert_eq!(priority(log::Level::Error), 3);
        assert_eq!(priority(log::Level::Warn), 4);
        assert_eq!(priority(log::Level::Info), 6);
        assert_eq!(priority(log::Level::Debug), 7);
        assert_eq!(priority(log::Level::Trace), 7);
    }

    #[test]
    fn every_line_of_a_message_carries_the_prefix() {
        let mut out = Vec::new();
        write_prefixed(&mut out, 4, "incident 3 escalated\n  reason: none").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<4>incident 3 escalated\n<4>  reason: none\n"
        );
    }

    #[test]
    fn a_file_whose_dev_and_inode_are_named_is_the_journal() {
        let file = tempfile::tempfile().unwrap();
        let stat = rustix::fs::fstat(&file).unwrap();
        let other = tempfile::tempfile().unwrap();
        let named = format!("{}:{}", stat.st_dev, stat.st_ino);
        assert!(is_stream(file.as_fd(), Some(&named)));
        assert!(!is_stream(other.as_fd(), Some(&named)));
        assert!(!is_stream(file.as_fd(), None));
        assert!(!is_stream(file.as_fd(), Some("garbage")));
    }
}
