//! `log` checks: the lines a log file (or a unit's journal) gained since the last scan that
//! match a pattern, as Monit's `if content = "..."`.
//!
//! A scan reads from where the last one stopped (the file's device, inode and offset, or the
//! journal's cursor, kept by the store as the check's memory) up to `max_bytes`, and remembers
//! where it stopped. A new inode at the path is a rotation: the rest of the old file is read
//! first when it is still in the same directory (renamed to `app.log.1` or `app.log-20260101`),
//! then the new file from its start; a file shorter than the offset was truncated and is read
//! from its start. The first scan starts at the end: lines written before orchestrator watched
//! are not news.
//!
//! The verdict spans scans, so the looks between them differ ([`Look`]): a phase's re-check
//! before acting still sees the lines the scan matched (a log line does not "clear"), unless
//! it finds newer ones; a look after a plan judges only the lines written since the scan.
//! Neither moves the offset on.
//!
//! The file is one a non-root user may control: it is opened without following a symlink in
//! its last name and without blocking (`O_NOFOLLOW | O_NONBLOCK`), must be a regular file, and
//! is read by position up to `max_bytes` a scan. All of it goes through [`open_log`], the one
//! place to switch to the program's common reader of such files.

use super::{CheckResult, Keys, Kind, Look, Memory, Perf};
use crate::exec::{self, CommandSpec};
use crate::model::Status;
use regex::Regex;
use rustix::fs::{FileType, Mode, OFlags, Stat};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Bytes a scan reads at most, by default: a flood of log lines must not stall the scan.
const DEFAULT_MAX_BYTES: u64 = 1024 * 1024;
/// The most `max_bytes` may be.
const MOST_BYTES: u64 = 64 * 1024 * 1024;
/// Matching lines quoted in the check's output, and the length each is cut to.
const QUOTED_LINES: usize = 20;
const QUOTED_CHARS: usize = 300;
/// Directory entries looked at when searching for the rotated file.
const MOST_ENTRIES: usize = 10_000;

/// Where the lines come from.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    /// A systemd unit's journal.
    Journal(String),
}

/// `kind = "log"`.
#[derive(Debug, Clone)]
pub struct Log {
    pub source: Source,
    pub pattern: Regex,
    pub max_bytes: u64,
    /// What a match is: CRITICAL (default) or WARNING.
    pub severity: Status,
}

impl Kind for Log {
    const NAME: &'static str = "log";
    const KEYS: &'static [&'static str] = &["path", "journal", "pattern", "max_bytes", "severity"];

    fn parse(keys: &mut Keys) -> Option<Self> {
        let path: Option<PathBuf> = keys.get("path");
        let journal: Option<String> = keys.get("journal");
        let source = match (path, journal) {
            (Some(path), None) => Some(Source::File(path)),
            (None, Some(unit)) => Some(Source::Journal(unit)),
            (Some(_), Some(_)) => {
                keys.problem("journal", "a `log` check reads `path` or `journal`, not both");
                None
            }
            (None, None) => {
                if keys.raw("path").is_none() && keys.raw("journal").is_none() {
                    keys.problem(
                        "path",
                        "a `log` check needs `path` (a log file) or `journal` (a unit)",
                    );
                }
                None
            }
        };
        let pattern = keys.require::<String>("pattern").and_then(|text| {
            Regex::new(&text)
                .map_err(|err| keys.problem("pattern", format!("not a regular expression: {err}")))
                .ok()
        });
        let max_bytes = keys.size("max_bytes").unwrap_or(DEFAULT_MAX_BYTES);
        if !(1..=MOST_BYTES).contains(&max_bytes) {
            keys.problem(
                "max_bytes",
                format!("expected a size from 1 byte to 64MiB, got {max_bytes} bytes"),
            );
        }
        let severity = match keys.get::<String>("severity").as_deref() {
            None | Some("critical") => Status::Critical,
            Some("warning") => Status::Warning,
            Some(other) => {
                let message = format!("expected \"critical\" or \"warning\", got \"{other}\"");
                keys.problem("severity", message);
                Status::Critical
            }
        };
        Some(Log {
            source: source?,
            pattern: pattern?,
            max_bytes,
            severity,
        })
    }

    fn probe(&self, deadline: Duration) -> CheckResult {
        self.probe_after(deadline, Look::Recheck, &Memory::Null)
    }

    fn probe_after(&self, deadline: Duration, look: Look, memory: &Memory) -> CheckResult {
        let last: Remembered = serde_json::from_value(memory.clone()).unwrap_or_default();
        let read = match &self.source {
            Source::File(path) => read_file(path, last.file, self.max_bytes),
            Source::Journal(unit) => read_journal(unit, last.journal.clone(), self.max_bytes, deadline),
        };
        let read = match read {
            Ok(read) => read,
            Err(problem) => return CheckResult::unknown(problem),
        };
        let found = self.matches(&read.text);
        let result = self.judge(&read, &found, look, &last);
        let remembered = Remembered {
            file: read.file_position,
            journal: read.journal_position.clone(),
            matched: found.count,
            first: found.lines.first().cloned(),
        };
        result.with_memory(serde_json::to_value(remembered).unwrap_or_default())
    }

    fn details(&self) -> serde_json::Value {
        let (path, journal) = match &self.source {
            Source::File(path) => (Some(path.clone()), None),
            Source::Journal(unit) => (None, Some(unit.clone())),
        };
        json!({
            "path": path,
            "journal": journal,
            "pattern": self.pattern.as_str(),
            "max_bytes": self.max_bytes,
            "severity": self.severity,
        })
    }
}

/// What a scan keeps for the next one.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Remembered {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<Position>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    journal: Option<JournalPosition>,
    /// Lines that matched at that scan, and the first of them: a re-check before acting still
    /// sees them.
    #[serde(default)]
    matched: u64,
    #[serde(default)]
    first: Option<String>,
}

/// Where reading stopped in a file: its identity and the offset of the next unread byte.
/// An inode number is reused once its file is deleted, so the identity includes a hash of the
/// file's first bytes (up to [`HEAD_BYTES`], never past the offset): a new file that took the
/// number of a deleted one is read from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    dev: u64,
    ino: u64,
    offset: u64,
    #[serde(default)]
    head: u64,
}

/// Bytes of a file's start that identify it with its inode.
const HEAD_BYTES: u64 = 256;

/// FNV-1a of the first bytes of `file`, up to `HEAD_BYTES` and never past `offset`.
fn head_of(file: &std::fs::File, offset: u64) -> u64 {
    let bytes = read_range(file, 0, offset.min(HEAD_BYTES)).unwrap_or_default();
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum JournalPosition {
    /// After this entry.
    Cursor(String),
    /// From this time (Unix seconds), while the journal had no entry of the unit to stand on.
    Since(u64),
}

/// The new text since the last scan, and where the next scan starts.
#[derive(Debug, Default)]
struct NewText {
    text: Vec<u8>,
    file_position: Option<Position>,
    journal_position: Option<JournalPosition>,
    /// What happened on the way, for the summary: "rotated", "truncated", bytes skipped.
    notes: Vec<String>,
    /// Whether this was the first look: nothing was remembered, reading starts at the end.
    first: bool,
}

/// The matching lines of the new text.
struct Found {
    count: u64,
    lines: Vec<String>,
    read: usize,
}

impl Log {
    fn what(&self) -> String {
        match &self.source {
            Source::File(path) => path.display().to_string(),
            Source::Journal(unit) => format!("the journal of {unit}"),
        }
    }

    fn matches(&self, text: &[u8]) -> Found {
        let text = String::from_utf8_lossy(text);
        let mut found = Found {
            count: 0,
            lines: Vec::new(),
            read: 0,
        };
        for line in text.lines() {
            found.read += 1;
            if self.pattern.is_match(line) {
                found.count += 1;
                if found.lines.len() < QUOTED_LINES {
                    found.lines.push(line.chars().take(QUOTED_CHARS).collect());
                }
            }
        }
        found
    }

    fn judge(&self, read: &NewText, found: &Found, look: Look, last: &Remembered) -> CheckResult {
        let what = self.what();
        let pattern = self.pattern.as_str();
        let notes = if read.notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", read.notes.join(", "))
        };
        let perf = vec![
            Perf::new("lines", found.read as f64, ""),
            Perf::new("matched", found.count as f64, ""),
            Perf::new("bytes", read.text.len() as f64, "B"),
        ];
        if found.count > 0 {
            let first = found.lines.first().map(String::as_str).unwrap_or_default();
            let summary = format!(
                "{} new line(s) of {what} match {pattern:?}: {first}{notes}",
                found.count
            );
            return CheckResult::new(self.severity, summary)
                .with_perf(perf)
                .with_output(found.lines.join("\n"));
        }
        // A log line does not clear: until the next scan, the lines it matched stand.
        if look == Look::Recheck && last.matched > 0 {
            let first = last.first.as_deref().unwrap_or_default();
            let summary = format!(
                "{} line(s) of {what} matched {pattern:?} at the last scan: {first}",
                last.matched
            );
            return CheckResult::new(self.severity, summary).with_perf(perf);
        }
        let summary = if read.first {
            format!("watching {what} for {pattern:?} from now on")
        } else {
            format!(
                "no new line of {what} matches {pattern:?} ({} read){notes}",
                found.read
            )
        };
        CheckResult::ok(summary).with_perf(perf)
    }
}

/// Opens a log file for reading as one a non-root user may control: a symlink in its last name
/// is not followed, a FIFO does not block the open, and anything but a regular file is
/// refused. The one place that opens the file (to become the program's common safe reader).
fn open_log(path: &Path) -> Result<(std::fs::File, Stat), String> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = rustix::fs::open(path, flags, Mode::empty()).map_err(|err| match err {
        rustix::io::Errno::LOOP => format!(
            "{} is a symbolic link; a `log` check does not follow links",
            path.display()
        ),
        err => format!("cannot read {}: {}", path.display(), std::io::Error::from(err)),
    })?;
    regular(fd, path)
}

/// The open file, when it is a regular one.
fn regular(fd: rustix::fd::OwnedFd, path: &Path) -> Result<(std::fs::File, Stat), String> {
    let stat = rustix::fs::fstat(&fd)
        .map_err(|err| format!("cannot read {}: {}", path.display(), std::io::Error::from(err)))?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err(format!("{} is not a regular file", path.display()));
    }
    // A second name for a file is how another user would point a log at one they may not
    // read (where the kernel lets them link it): a log has one name.
    if stat.st_nlink > 1 {
        return Err(format!(
            "{} has {} hard links; a `log` check reads a file with one name",
            path.display(),
            stat.st_nlink
        ));
    }
    Ok((std::fs::File::from(fd), stat))
}

fn position_of(file: &std::fs::File, stat: &Stat, offset: u64) -> Position {
    Position {
        dev: stat.st_dev,
        ino: stat.st_ino,
        offset,
        head: head_of(file, offset),
    }
}

/// The new text of the file at `path` since `last`, at most `budget` bytes.
fn read_file(path: &Path, last: Option<Position>, budget: u64) -> Result<NewText, String> {
    let (file, stat) = open_log(path)?;
    let size = stat.st_size.max(0) as u64;
    let mut new = NewText::default();
    let start = match last {
        None => {
            new.first = true;
            new.file_position = Some(position_of(&file, &stat, size));
            return Ok(new);
        }
        Some(last) if (last.dev, last.ino) == (stat.st_dev, stat.st_ino) => {
            if size < last.offset {
                new.notes.push("truncated: read from its start".into());
                0
            } else if head_of(&file, last.offset) != last.head {
                new.notes.push("replaced: read from its start".into());
                0
            } else {
                last.offset
            }
        }
        Some(last) => {
            new.notes.push("rotated".into());
            read_rotated_rest(path, last, budget, &mut new);
            0
        }
    };
    let budget = budget.saturating_sub(new.text.len() as u64);
    let end = size.min(start.saturating_add(budget));
    let mut chunk = read_range(&file, start, end).map_err(|err| {
        format!("cannot read {}: {err}", path.display())
    })?;
    // A line still being written waits for the next scan, unless it alone fills the budget.
    let mut taken = chunk.len();
    if let Some(last_newline) = chunk.iter().rposition(|b| *b == b'\n') {
        taken = last_newline + 1;
    } else if (chunk.len() as u64) < budget {
        taken = 0;
    }
    chunk.truncate(taken);
    let next = start + taken as u64;
    if next < size && end < size {
        new.notes.push(format!("{} byte(s) left for the next scan", size - next));
    }
    new.text.extend_from_slice(&chunk);
    new.file_position = Some(position_of(&file, &stat, next));
    Ok(new)
}

/// Reads what was not read yet of the file rotated away from `path`, when it is still in the
/// same directory under another name: the entry with the remembered device and inode.
fn read_rotated_rest(path: &Path, last: Position, budget: u64, new: &mut NewText) {
    let Some(rotated) = find_inode(path, last) else {
        new.notes.push("the rotated file is gone".into());
        return;
    };
    let Ok((file, stat)) = rustix::fs::open(
        &rotated,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|_| String::new())
    .and_then(|fd| regular(fd, &rotated)) else {
        return;
    };
    if (stat.st_dev, stat.st_ino) != (last.dev, last.ino) {
        return;
    }
    let size = stat.st_size.max(0) as u64;
    let end = size.min(last.offset.saturating_add(budget));
    if let Ok(text) = read_range(&file, last.offset, end) {
        new.text.extend_from_slice(&text);
        if !new.text.ends_with(b"\n") && !new.text.is_empty() {
            new.text.push(b'\n');
        }
    }
    if end < size {
        new.notes.push(format!(
            "{} byte(s) of {} skipped",
            size - end,
            rotated.display()
        ));
    }
}

/// The name in `path`'s directory of the regular file with `last`'s device and inode. An inode
/// number is reused once its file is deleted, so only a name that starts like the log's
/// (`app.log.1`, `app.log-20260101`, `app-20260101.log` for `app.log`) and a file at least as
/// long as the offset can be the rotated log: never an unrelated file that took the number.
fn find_inode(path: &Path, last: Position) -> Option<PathBuf> {
    let own = path.file_name()?.as_encoded_bytes();
    let stem = path.file_stem()?.as_encoded_bytes();
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let fd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let entries = rustix::fs::Dir::read_from(&fd).ok()?;
    for entry in entries.flatten().take(MOST_ENTRIES) {
        let name = entry.file_name();
        let bytes = name.to_bytes();
        if entry.ino() != last.ino || bytes == own || !bytes.starts_with(stem) {
            continue;
        }
        let Ok(stat) = rustix::fs::statat(&fd, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        if stat.st_dev == last.dev
            && FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile
            && stat.st_size.max(0) as u64 >= last.offset
        {
            use std::os::unix::ffi::OsStrExt;
            return Some(dir.join(std::ffi::OsStr::from_bytes(name.to_bytes())));
        }
    }
    None
}

/// The bytes of `file` from `start` to `end`, by position.
fn read_range(file: &std::fs::File, start: u64, end: u64) -> std::io::Result<Vec<u8>> {
    let mut buffer = vec![0; end.saturating_sub(start) as usize];
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read_at(&mut buffer[filled..], start + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
    }
    buffer.truncate(filled);
    Ok(buffer)
}

/// The unit's journal entries since `last`, at most about `budget` bytes of them:
/// `journalctl -o json`, each entry with its cursor, so reading stops after a whole entry.
fn read_journal(
    unit: &str,
    last: Option<JournalPosition>,
    budget: u64,
    deadline: Duration,
) -> Result<NewText, String> {
    let mut argv: Vec<String> = ["journalctl", "--no-pager", "--quiet", "-o", "json", "-u", unit]
        .iter()
        .map(|a| a.to_string())
        .collect();
    let mut new = NewText::default();
    match &last {
        None => {
            new.first = true;
            argv.extend(["-n".into(), "1".into()]);
        }
        Some(JournalPosition::Cursor(cursor)) => argv.push(format!("--after-cursor={cursor}")),
        Some(JournalPosition::Since(at)) => argv.push(format!("--since=@{at}")),
    }
    let mut spec = CommandSpec::new(argv, deadline);
    spec.keep_bytes = budget as usize;
    spec.kill_after_bytes = budget.saturating_mul(4).max(1024 * 1024);
    let output = exec::run(&spec).map_err(|err| format!("journalctl: {err}"))?;
    if !output.success() && output.ending != exec::Ending::TooMuchOutput {
        let said = output.stderr.lines().last().unwrap_or_default().to_string();
        return Err(format!("journalctl -u {unit}: {} {said}", output.describe_ending()));
    }
    // Whole lines only: the last may be cut by the byte bound.
    let complete = match output.stdout.rfind('\n') {
        Some(end) => &output.stdout[..end],
        None => "",
    };
    for line in complete.lines() {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let Some(cursor) = entry["__CURSOR"].as_str() {
            new.journal_position = Some(JournalPosition::Cursor(cursor.to_string()));
        }
        if !new.first {
            new.text.extend_from_slice(message_of(&entry).as_bytes());
            new.text.push(b'\n');
        }
    }
    if new.journal_position.is_none() {
        new.journal_position = Some(last.unwrap_or_else(|| {
            JournalPosition::Since(crate::clock::now().max(0.0) as u64)
        }));
    }
    if output.truncated {
        new.notes.push("more left for the next scan".into());
    }
    Ok(new)
}

/// An entry's MESSAGE: a string, or an array of bytes when it is not valid UTF-8.
fn message_of(entry: &serde_json::Value) -> String {
    match &entry["MESSAGE"] {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Array(bytes) => {
            let bytes: Vec<u8> = bytes.iter().filter_map(|b| b.as_u64()).map(|b| b as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn check(path: &Path, pattern: &str) -> Log {
        Log {
            source: Source::File(path.to_path_buf()),
            pattern: Regex::new(pattern).unwrap(),
            max_bytes: DEFAULT_MAX_BYTES,
            severity: Status::Critical,
        }
    }

    fn append(path: &Path, text: &str) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    /// A scan, keeping its memory as the store would.
    fn scan(log: &Log, memory: &mut Memory) -> CheckResult {
        let result = log.probe_after(Duration::from_secs(5), Look::Scan, memory);
        *memory = result.memory.clone().unwrap();
        result
    }

    #[test]
    fn new_lines_since_the_last_scan_are_matched_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        append(&path, "ERROR before we watched\n");
        let log = check(&path, "ERROR|panic");
        let mut memory = Memory::Null;
        let first = scan(&log, &mut memory);
        assert_eq!(first.status, Status::Ok, "{}", first.summary);
        append(&path, "all fine\nERROR disk on fire\n");
        let second = scan(&log, &mut memory);
        assert_eq!(second.status, Status::Critical);
        assert!(second.summary.contains("1 new line(s)"), "{}", second.summary);
        assert!(second.summary.contains("ERROR disk on fire"), "{}", second.summary);
        // A re-check before acting still sees it; a look after a plan judges new lines only.
        let recheck = log.probe_after(Duration::from_secs(5), Look::Recheck, &memory);
        assert_eq!(recheck.status, Status::Critical, "{}", recheck.summary);
        let verify = log.probe_after(Duration::from_secs(5), Look::Verify, &memory);
        assert_eq!(verify.status, Status::Ok, "{}", verify.summary);
        append(&path, "quiet\n");
        assert_eq!(scan(&log, &mut memory).status, Status::Ok);
    }

    #[test]
    fn a_half_written_line_waits_for_the_next_scan() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        append(&path, "");
        let log = check(&path, "^panic: boom$");
        let mut memory = Memory::Null;
        scan(&log, &mut memory);
        append(&path, "panic: bo");
        assert_eq!(scan(&log, &mut memory).status, Status::Ok);
        append(&path, "om\n");
        assert_eq!(scan(&log, &mut memory).status, Status::Critical);
    }

    #[test]
    fn a_scan_reads_at_most_max_bytes_and_goes_on_next_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        append(&path, "");
        let mut log = check(&path, "needle");
        log.max_bytes = 100;
        let mut memory = Memory::Null;
        scan(&log, &mut memory);
        append(&path, &"hay\n".repeat(100));
        append(&path, "needle\n");
        let mut scans = 0;
        loop {
            scans += 1;
            let result = scan(&log, &mut memory);
            assert!(result.perfdata.iter().any(|p| p.label == "bytes" && p.value <= 100.0));
            if result.status == Status::Critical {
                break;
            }
            assert!(scans < 10, "never reached the needle");
        }
        assert_eq!(scans, 5);
    }

    #[test]
    fn a_second_name_for_a_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "ERROR the secret\n").unwrap();
        let log = dir.path().join("app.log");
        std::fs::hard_link(&secret, &log).unwrap();
        let result = check(&log, "ERROR").probe_after(Duration::from_secs(5), Look::Scan, &Memory::Null);
        assert_eq!(result.status, Status::Unknown, "{}", result.summary);
        assert!(result.summary.contains("hard links"), "{}", result.summary);
    }

    #[test]
    fn a_fifo_a_symlink_and_a_device_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.log");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        let link = dir.path().join("link.log");
        std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
        for (path, said) in [
            (fifo.as_path(), "not a regular file"),
            (link.as_path(), "symbolic link"),
            (Path::new("/dev/zero"), "not a regular file"),
        ] {
            let result = check(path, "x").probe_after(Duration::from_secs(5), Look::Scan, &Memory::Null);
            assert_eq!(result.status, Status::Unknown, "{}", result.summary);
            assert!(result.summary.contains(said), "{}", result.summary);
        }
    }
}
