//! Facts about an incident's check, probed on the host before any agent is asked
//! (docs/agents.md, "Facts"): the unit's state, the pid files and whether their pids live, who
//! listens on the check's port, free space and inodes under the check's paths, the modes of
//! paths named in error lines, files deleted but still held open, and the error lines
//! themselves. Agents and the runbook reason on these instead of guessing from wording.
//!
//! Every probe is read-only and bounded in time and count, and records how long it took.
//! Pid files are read by the one pid-file reader (`crate::pidfile`) and logs looked at through
//! `crate::untrusted_file`: a symlink, FIFO or device planted where a pid file or a log should
//! be is reported, never followed or read. A path that only the evidence names is looked at
//! only if every user who could have written the evidence could look it up themselves
//! ([`Writers`]): a log line never makes the facts, the dashboard or the CLI tell whether a
//! file exists in a directory its writer cannot search.

use crate::checks::host::pid_alive;
use crate::checks::http::port_of;
use crate::config::{Check, CheckKind};
use crate::pidfile::PidFileError;
use crate::untrusted_file::{self, Kind, Refusal};
use regex::Regex;
use rustix::fs::AtFlags;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::ops::ControlFlow;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `systemctl show` gets this long; the other probes read /proc and cost microseconds.
const SYSTEMCTL_TIMEOUT: Duration = Duration::from_secs(2);
/// The /proc walk (listeners, deleted-but-open files) stops after this long (it takes a few
/// milliseconds on an idle host; this bounds it on a thrashing one)…
const PROC_WALK_BUDGET: Duration = Duration::from_millis(250);
/// …or after this many file descriptors.
const MAX_FDS: usize = 200_000;
const MAX_PATHS: usize = 16;
const MAX_PID_FILES: usize = 8;
const MAX_FILESYSTEMS: usize = 8;
const MAX_DELETED_OPEN: usize = 10;
/// A filesystem with less than this share free (of bytes or inodes) counts as full.
const FULL_PERCENT: f64 = 1.0;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Facts {
    /// What systemd says of the check's unit; absent where systemd does not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitState>,
    #[serde(default)]
    pub pid_files: Vec<PidFile>,
    #[serde(default)]
    pub listeners: Vec<Listener>,
    #[serde(default)]
    pub filesystems: Vec<Filesystem>,
    /// Paths named in error lines (and the check's own), as `lstat` sees them.
    #[serde(default)]
    pub paths: Vec<PathFact>,
    /// The check's logs that are not read: a symlink, a FIFO, a device (with kind and owner).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread_logs: Vec<PathFact>,
    /// Files deleted but still held open: their space is not freed until the holder lets go.
    #[serde(default)]
    pub deleted_open: Vec<DeletedOpen>,
    /// The last error-looking lines of the evidence, oldest first.
    #[serde(default)]
    pub error_lines: Vec<String>,
    /// The states of the checks this one depends on; filled by the caller that knows them.
    #[serde(default)]
    pub dependencies: Vec<DependencyState>,
    /// How long each probe took, and why one gave up.
    #[serde(default)]
    pub probes: Vec<Probe>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct UnitState {
    pub unit: String,
    pub active_state: String,
    pub sub_state: String,
    pub result: String,
    pub n_restarts: Option<u64>,
    pub main_pid: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_group: Option<String>,
    /// `User=`; absent when the unit runs as root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PidFile {
    pub path: String,
    pub pid: Option<i32>,
    pub alive: bool,
    pub owner_uid: Option<u32>,
    /// The command name of the live process the file names.
    pub command: Option<String>,
    /// Why the file could not be read (a symlink, a FIFO). Neither a pid nor a problem: a
    /// regular file that holds no pid (a lock file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Listener {
    pub port: u16,
    pub pid: i32,
    pub command: String,
    /// The service's own process (its unit's cgroup, its pid file's pid or a process of the
    /// session that pid leads, or the check's process name), not a squatter.
    pub own: bool,
    /// The service's own, left behind: it belongs to the session of a pid file's pid that is
    /// dead (nginx's workers after their master was killed keep its port).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub orphan: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Filesystem {
    /// The path probed (the first of the check's paths on this filesystem).
    pub path: String,
    pub total_bytes: u64,
    pub free_bytes: u64,
    pub total_inodes: u64,
    pub free_inodes: u64,
    /// Less than 1% of bytes or of inodes free.
    pub full: bool,
    /// The filesystem's device: the same filesystem whichever path was probed.
    #[serde(skip)]
    pub device: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PathFact {
    pub path: String,
    /// file, directory, symlink, other; absent when it does not exist.
    pub kind: Option<String>,
    /// Permission bits in octal, e.g. "0600".
    pub mode: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DeletedOpen {
    pub pid: i32,
    pub command: String,
    pub path: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DependencyState {
    pub check: String,
    pub status: String,
    pub summary: String,
    /// Not written in `depends_on`: a `disk` check watching the filesystem of the check's paths.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub implicit: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Probe {
    pub name: String,
    pub micros: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Facts {
    /// The pid files whose pid is dead: left over from a process that no longer runs.
    pub fn stale_pid_files(&self) -> impl Iterator<Item = &PidFile> {
        self.pid_files
            .iter()
            .filter(|p| p.pid.is_some() && !p.alive)
    }

    pub fn squatters(&self) -> impl Iterator<Item = &Listener> {
        self.listeners.iter().filter(|l| !l.own)
    }

    /// The service's own listeners left behind by a dead leader (see [`Listener::orphan`]).
    pub fn orphans(&self) -> impl Iterator<Item = &Listener> {
        self.listeners.iter().filter(|l| l.own && l.orphan)
    }

    pub fn full_filesystems(&self) -> impl Iterator<Item = &Filesystem> {
        self.filesystems.iter().filter(|f| f.full)
    }

    fn time<T>(&mut self, name: &str, probe: impl FnOnce() -> (T, Option<String>)) -> T {
        let started = Instant::now();
        let (value, note) = probe();
        self.probes.push(Probe {
            name: name.to_string(),
            micros: started.elapsed().as_micros() as u64,
            note,
        });
        value
    }
}

/// Probes the host for `check`. `evidence` is the text an operator would read (log tails,
/// journal, outputs): it names pid files, ports and paths the config does not.
pub fn gather(check: &Check, evidence: &str) -> Facts {
    let mut facts = Facts::default();
    facts.error_lines = facts.time("error_lines", || (error_lines(evidence), None));
    facts.unit = facts.time("unit", || match unit_of(check) {
        Some(unit) if crate::checks::systemd_is_running() => match unit_state(unit) {
            Ok(state) => (Some(state), None),
            Err(why) => (None, Some(why)),
        },
        _ => (None, None),
    });
    let unit_user = facts.unit.as_ref().map(|u| u.user.clone());
    let logs = facts.time("logs", || (LogLooks::of(check), None));
    facts.unread_logs = logs.unread();
    let writers = facts.time("writers", || {
        let writers = Writers::of(unit_user, &logs);
        let note = writers.describe();
        (writers, note)
    });
    let named = facts.time("named_paths", || {
        (writers.visible(named_paths(evidence)), None)
    });
    let unit_pid_file = facts.unit.as_ref().and_then(|u| u.pid_file.clone());
    facts.pid_files = facts.time("pid_files", || {
        (
            pid_files(check, unit_pid_file.as_deref(), evidence, &named, &writers),
            None,
        )
    });
    let ports = ports_of(check, evidence);
    let own = OwnProcesses::of(check, &facts);
    let paths = check_paths(check, &named);
    facts.filesystems = facts.time("filesystems", || (filesystems(&paths), None));
    let sockets = listening_sockets(&ports);
    // Deleted-but-open files matter only where space is short; the walk is skipped when
    // neither they nor a listener are wanted.
    let lower = evidence.to_lowercase();
    let want_deleted = facts.full_filesystems().next().is_some()
        || lower.contains("no space left")
        || lower.contains("enospc");
    let walk = facts.time("proc_fds", || {
        if sockets.is_empty() && !want_deleted {
            return (ProcWalk::default(), Some("not needed".into()));
        }
        proc_walk(&sockets, want_deleted, &own)
    });
    // The service's own processes first, found by their session: a walk cut short on a busy
    // host must not miss an orphaned worker holding the port.
    facts.listeners = facts.time("own_listeners", || (own_listeners(&sockets, &own), None));
    for listener in walk.listeners {
        if !facts
            .listeners
            .iter()
            .any(|l| l.pid == listener.pid && l.port == listener.port)
        {
            facts.listeners.push(listener);
        }
    }
    let devices: BTreeSet<u64> = paths.iter().map(|(_, device)| *device).collect();
    facts.deleted_open = walk
        .deleted
        .into_iter()
        .filter(|(device, _)| devices.contains(device))
        .map(|(_, deleted)| deleted)
        .take(MAX_DELETED_OPEN)
        .collect();
    let error_lines = facts.error_lines.clone();
    facts.paths = facts.time("paths", || {
        (path_facts(check, &error_lines, &writers), None)
    });
    facts
}

/// A stand-in uid for "any local user": a log or its directory others may write.
const ANYONE: u32 = u32::MAX;

/// Who could have written the evidence a path was read from: the owner of each of the check's
/// logs and of its directory (who may replace it), anyone where either is writable by group
/// or others, and the unit's user (its journal; root when the unit names none). Check output
/// and attempt output come from processes orchestrator ran as root.
pub struct Writers {
    uids: BTreeSet<u32>,
}

impl Writers {
    fn of(unit_user: Option<Option<String>>, logs: &LogLooks) -> Writers {
        let mut uids = logs.writers();
        if let Some(user) = unit_user {
            uids.insert(match user.as_deref() {
                None | Some("") | Some("root") => 0,
                Some(name) => crate::service_files::uid_of_user(name).unwrap_or(ANYONE),
            });
        }
        Writers { uids }
    }

    /// The paths the evidence names that may be looked at: every writer could look them up.
    fn visible(&self, paths: Vec<PathBuf>) -> Vec<PathBuf> {
        let uids: Vec<u32> = self.uids.iter().copied().collect();
        untrusted_file::searchable_by_all(&uids, paths)
    }

    /// "written by uid 65534": the probe's note when someone other than root writes.
    fn describe(&self) -> Option<String> {
        let others: Vec<String> = self
            .uids
            .iter()
            .filter(|uid| **uid != 0)
            .map(|uid| match *uid {
                ANYONE => "any user".to_string(),
                uid => format!("uid {uid}"),
            })
            .collect();
        (!others.is_empty()).then(|| format!("evidence written by {}", others.join(", ")))
    }
}

/// Each of the check's logs and its directory, looked at once (one helper thread).
struct LogLooks {
    logs: Vec<(PathBuf, Result<untrusted_file::Meta, Refusal>)>,
    directories: Vec<Result<untrusted_file::Meta, Refusal>>,
}

impl LogLooks {
    fn of(check: &Check) -> LogLooks {
        let mut paths: Vec<PathBuf> = check.logs.clone();
        paths.extend(
            check
                .logs
                .iter()
                .map(|log| log.parent().unwrap_or(Path::new("/")).to_path_buf()),
        );
        let mut looks = untrusted_file::look_all(&paths);
        let directories = looks.split_off(check.logs.len());
        LogLooks {
            logs: check.logs.iter().cloned().zip(looks).collect(),
            directories,
        }
    }

    /// The owner of each log and of its directory (who may replace it), and anyone where one
    /// of them is writable by group or others.
    fn writers(&self) -> BTreeSet<u32> {
        self.logs
            .iter()
            .map(|(_, look)| look)
            .chain(&self.directories)
            .flat_map(|look| match look {
                Ok(meta) if meta.kind != Kind::Symlink && meta.mode & 0o022 != 0 => {
                    vec![meta.uid, ANYONE]
                }
                Ok(meta) => vec![meta.uid],
                Err(Refusal::Missing) => Vec::new(),
                Err(Refusal::LinkOnTheWay { uid, .. }) => vec![*uid],
                Err(_) => vec![ANYONE],
            })
            .collect()
    }

    /// The logs that are no regular file nor directory: reported, never read.
    fn unread(&self) -> Vec<PathFact> {
        self.logs
            .iter()
            .filter_map(|(log, look)| {
                let refusal = match look {
                    Ok(meta) if matches!(meta.kind, Kind::Regular | Kind::Directory) => {
                        return None
                    }
                    Ok(meta) if meta.kind == Kind::Symlink => Refusal::Symlink(*meta),
                    Ok(meta) => Refusal::NotRegular(*meta),
                    Err(Refusal::Missing) => return None,
                    Err(refusal) => refusal.clone(),
                };
                let meta = refusal.meta().copied();
                Some(PathFact {
                    path: log.display().to_string(),
                    kind: meta.map(|m| m.kind.word().to_string()),
                    mode: meta.map(|m| format!("{:04o}", m.mode)),
                    uid: meta.map(|m| m.uid),
                    gid: meta.map(|m| m.gid),
                    problem: Some(refusal.to_string()),
                })
            })
            .take(MAX_PATHS)
            .collect()
    }
}

fn unit_of(check: &Check) -> Option<&str> {
    match &check.kind {
        CheckKind::Systemd(systemd) => Some(&systemd.unit),
        _ => check.unit.as_deref(),
    }
}

/// One `systemctl show` for the properties the runbook reads.
fn unit_state(unit: &str) -> Result<UnitState, String> {
    let unit = crate::actions::full_unit_name(unit);
    let values = crate::checks::journal::unit_properties(
        &unit,
        &[
            "ActiveState",
            "SubState",
            "Result",
            "NRestarts",
            "MainPID",
            "PIDFile",
            "ControlGroup",
            "User",
        ],
        SYSTEMCTL_TIMEOUT,
    )?;
    Ok(unit_state_of(&unit, &values))
}

fn unit_state_of(unit: &str, values: &BTreeMap<String, String>) -> UnitState {
    let text_of = |key: &str| values.get(key).cloned().unwrap_or_default();
    let non_empty = |key: &str| values.get(key).filter(|v| !v.is_empty()).cloned();
    UnitState {
        unit: unit.to_string(),
        active_state: text_of("ActiveState"),
        sub_state: text_of("SubState"),
        result: text_of("Result"),
        n_restarts: values.get("NRestarts").and_then(|v| v.parse().ok()),
        main_pid: values
            .get("MainPID")
            .and_then(|v| v.parse().ok())
            .filter(|pid| *pid > 0),
        pid_file: non_empty("PIDFile"),
        control_group: non_empty("ControlGroup"),
        user: non_empty("User"),
    }
}

pub use crate::evidence::error_lines;

fn absolute_path_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r#"(?:^|[\s"'`(=\[,])(/[A-Za-z0-9_.@+%-][A-Za-z0-9_.@+%/-]*)"#).expect("regex")
    })
}

fn quoted_name_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| Regex::new(r#"["']([A-Za-z0-9_.@+-]+)["']"#).expect("regex"))
}

/// Absolute paths named in the evidence (trailing punctuation dropped, `file:12` positions
/// cut), in order of appearance, without repeats.
pub fn named_paths(evidence: &str) -> Vec<PathBuf> {
    let mut seen = BTreeSet::new();
    absolute_path_pattern()
        .captures_iter(evidence)
        .map(|c| clean_path(&c[1]))
        .filter(|p| p.len() > 1 && seen.insert(p.clone()))
        .map(PathBuf::from)
        .take(64)
        .collect()
}

fn clean_path(raw: &str) -> String {
    let trimmed = raw.trim_end_matches(['.', ',', ':', ';', ')', ']']);
    // "/etc/nginx/nginx.conf:12" names a line of the file.
    match trimmed.rsplit_once(':') {
        Some((path, line)) if line.chars().all(|c| c.is_ascii_digit()) => path.to_string(),
        _ => trimmed.to_string(),
    }
}

/// Pid files: the check's, the unit's, and those the evidence names on lines about pid or lock
/// files, including a quoted relative name (PostgreSQL's `lock file "postmaster.pid"`) under a
/// directory the evidence names.
fn pid_files(
    check: &Check,
    unit_pid_file: Option<&str>,
    evidence: &str,
    named: &[PathBuf],
    writers: &Writers,
) -> Vec<PidFile> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(path) = match &check.kind {
        CheckKind::Process(process) => process.pidfile.as_ref(),
        _ => None,
    } {
        candidates.push(path.clone());
    }
    candidates.extend(unit_pid_file.map(PathBuf::from));
    let directories: Vec<&PathBuf> = named.iter().filter(|p| p.is_dir()).collect();
    for line in evidence.lines() {
        let lower = line.to_lowercase();
        if !(lower.contains("pid") || lower.contains("lock")) {
            continue;
        }
        candidates.extend(
            writers.visible(
                absolute_path_pattern()
                    .captures_iter(line)
                    .map(|c| PathBuf::from(clean_path(&c[1])))
                    .collect(),
            ),
        );
        for name in quoted_name_pattern().captures_iter(line) {
            let name = &name[1];
            if name.ends_with(".pid") || name.ends_with(".lock") {
                candidates.extend(directories.iter().map(|d| d.join(name)));
            }
        }
    }
    let mut seen = BTreeSet::new();
    candidates
        .into_iter()
        .filter(|p| seen.insert(p.clone()))
        .filter_map(|p| read_pid_file(&p))
        .take(MAX_PID_FILES)
        .collect()
}

/// A pid file's facts, read by the one pid-file reader (`crate::pidfile`); `None` when the
/// path is no pid file: missing, a directory, or a regular file that holds no pid and is not
/// named like a pid or lock file (a log named on the same line).
pub fn read_pid_file(path: &Path) -> Option<PidFile> {
    let fact = PidFile {
        path: path.display().to_string(),
        ..PidFile::default()
    };
    match crate::pidfile::read(path) {
        Ok(file) => {
            let alive = pid_alive(file.pid);
            Some(PidFile {
                pid: Some(file.pid),
                alive,
                owner_uid: Some(file.meta.uid),
                command: alive.then(|| process_name(file.pid)),
                ..fact
            })
        }
        Err(PidFileError::NoPid { meta, .. }) => named_like_a_pid_file(path).then_some(PidFile {
            owner_uid: Some(meta.uid),
            ..fact
        }),
        Err(PidFileError::Unreadable(Refusal::Missing)) => None,
        Err(PidFileError::Unreadable(Refusal::NotRegular(meta)))
            if meta.kind == Kind::Directory =>
        {
            None
        }
        Err(PidFileError::Unreadable(why)) => Some(PidFile {
            owner_uid: why.meta().map(|m| m.uid),
            problem: Some(why.to_string()),
            ..fact
        }),
    }
}

/// `x.pid`, `x.lock`, `pid`, `lock`: a file whose being there means something even when it
/// holds no pid.
pub fn named_like_a_pid_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name == "pid" || name == "lock" || name.ends_with(".pid") || name.ends_with(".lock")
}

/// The process's command name, or `unknown` once it is gone (a fact must name something).
fn process_name(pid: i32) -> String {
    let name = crate::sys::process_name(pid);
    if name.is_empty() {
        "unknown".into()
    } else {
        name
    }
}

/// The port an HTTP or TCP check connects to.
pub fn check_port(check: &Check) -> Option<u16> {
    match &check.kind {
        CheckKind::Http(http) => port_of(&http.url),
        CheckKind::Tcp(tcp) => port_of(&tcp.address),
        _ => None,
    }
}

/// The check's own port and the ports its evidence says were taken.
fn ports_of(check: &Check, evidence: &str) -> Vec<u16> {
    let mut ports: Vec<u16> = check_port(check).into_iter().collect();
    for port in ports_in_use(evidence) {
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    ports
}

/// Ports named by "address already in use" messages. A port is read only where it follows an
/// address (`0.0.0.0:80`, `[::]:80`, `*:6379`, `tcp :8080`) or the word "port" (`port 22`), so
/// a timestamp's `08:15:42` is never taken for one. PostgreSQL names the port on its HINT
/// line, after the line that says the address is in use: lines up to two after count.
pub fn ports_in_use(evidence: &str) -> Vec<u16> {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        Regex::new(
            r"(?i)(?:\b\d{1,3}(?:\.\d{1,3}){3}|\]|\*|\blocalhost|\btcp6?\s*|\budp6?\s*|\bbind\(?\)?\s+to\s+):(\d{1,5})\b|\bport\s+(\d{1,5})\b",
        )
        .expect("regex")
    });
    let lines: Vec<&str> = evidence.lines().collect();
    let mut ports = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let lower = line.to_lowercase();
        if !(lower.contains("address already in use") || lower.contains("eaddrinuse")) {
            continue;
        }
        for nearby in &lines[at..lines.len().min(at + 3)] {
            for captures in pattern.captures_iter(nearby) {
                let number = captures.get(1).or_else(|| captures.get(2));
                if let Some(port) = number.and_then(|m| m.as_str().parse::<u16>().ok()) {
                    if port > 0 && !ports.contains(&port) {
                        ports.push(port);
                    }
                }
            }
            if !ports.is_empty() {
                break;
            }
        }
    }
    ports
}

/// What marks a process as the check's own rather than a squatter (none, by default).
#[derive(Default)]
struct OwnProcesses {
    pids: BTreeSet<i32>,
    /// The pids the service's pid files name, alive or not, and whether each lives: a daemon's
    /// master leads the session (and process group) its workers keep, even once it is dead.
    leaders: BTreeMap<i32, bool>,
    control_group: Option<String>,
    name: Option<String>,
}

/// Whose a listening process is.
#[derive(Debug, PartialEq)]
enum Whose {
    Foreign,
    Own,
    /// The service's own, whose leader (the pid file's pid) is dead.
    Orphan,
}

impl OwnProcesses {
    fn of(check: &Check, facts: &Facts) -> OwnProcesses {
        let mut pids: BTreeSet<i32> = facts
            .pid_files
            .iter()
            .filter(|p| p.alive)
            .filter_map(|p| p.pid)
            .collect();
        pids.extend(facts.unit.as_ref().and_then(|u| u.main_pid));
        let leaders = facts
            .pid_files
            .iter()
            .filter_map(|p| Some((p.pid?, p.alive)))
            .collect();
        let name = match &check.kind {
            CheckKind::Process(process) => process.process.clone(),
            _ => None,
        };
        OwnProcesses {
            pids,
            leaders,
            control_group: facts.unit.as_ref().and_then(|u| u.control_group.clone()),
            name,
        }
    }

    fn whose(&self, pid: i32, command: &str) -> Whose {
        if self.pids.contains(&pid) || self.name.as_deref() == Some(command) {
            return Whose::Own;
        }
        if let Some(stat) = crate::sys::proc_stat(pid) {
            let led = [stat.session, stat.group]
                .iter()
                .find_map(|id| self.leaders.get(id).copied());
            match led {
                Some(true) => return Whose::Own,
                Some(false) => return Whose::Orphan,
                None => {}
            }
        }
        let Some(group) = &self.control_group else {
            return Whose::Foreign;
        };
        let in_unit = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .map(|text| {
                text.lines()
                    .any(|l| l.rsplit(':').next() == Some(group.as_str()))
            })
            .unwrap_or(false);
        if in_unit {
            Whose::Own
        } else {
            Whose::Foreign
        }
    }
}

/// The listeners among the processes of the sessions (or process groups) the service's pid
/// files name: one `stat` read per process, then the descriptors of those few only.
fn own_listeners(sockets: &BTreeMap<String, u16>, own: &OwnProcesses) -> Vec<Listener> {
    let mut found = Vec::new();
    if sockets.is_empty() || own.leaders.is_empty() {
        return found;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    let pids = entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok());
    for pid in pids {
        let led = crate::sys::proc_stat(pid).is_some_and(|stat| {
            own.leaders.contains_key(&stat.session) || own.leaders.contains_key(&stat.group)
        });
        if !led {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten().take(MAX_FDS) {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(port) = sockets.get(target.to_string_lossy().as_ref()) else {
                continue;
            };
            if found
                .iter()
                .any(|l: &Listener| l.pid == pid && l.port == *port)
            {
                continue;
            }
            let command = process_name(pid);
            let whose = own.whose(pid, &command);
            found.push(Listener {
                port: *port,
                pid,
                command,
                own: whose != Whose::Foreign,
                orphan: whose == Whose::Orphan,
            });
        }
    }
    found
}

/// The processes listening on TCP `port`, found by the same bounded /proc walk as the facts'
/// listeners; none is marked the service's own.
pub fn listeners_on(port: u16) -> Vec<Listener> {
    let sockets = listening_sockets(&[port]);
    if sockets.is_empty() {
        return Vec::new();
    }
    proc_walk(&sockets, false, &OwnProcesses::default())
        .0
        .listeners
}

#[derive(Default)]
struct ProcWalk {
    listeners: Vec<Listener>,
    /// (device, file) of deleted files still open.
    deleted: Vec<(u64, DeletedOpen)>,
}

/// One pass over /proc/*/fd: the holders of `sockets`, and (if wanted) every deleted file
/// still open. Bounded by [`PROC_WALK_BUDGET`] and [`MAX_FDS`].
fn proc_walk(
    sockets: &BTreeMap<String, u16>,
    want_deleted: bool,
    own: &OwnProcesses,
) -> (ProcWalk, Option<String>) {
    let mut walk = ProcWalk::default();
    let started = Instant::now();
    let me = std::process::id() as i32;
    let mut fds_seen = 0;
    let mut note = None;
    // The process being looked at, and its command once one of its descriptors wants it.
    let mut current: (i32, Option<String>) = (0, None);
    let read = crate::sys::each_open_fd(|pid, fd_dir, name| {
        if pid == me {
            return ControlFlow::Continue(());
        }
        let new_process = pid != current.0;
        // The clock is read at each process and every 256 descriptors.
        if (new_process || fds_seen % 256 == 0)
            && (started.elapsed() > PROC_WALK_BUDGET || fds_seen > MAX_FDS)
        {
            note = Some(format!(
                "stopped after {fds_seen} descriptors in {} ms",
                started.elapsed().as_millis()
            ));
            return ControlFlow::Break(());
        }
        if new_process {
            current = (pid, None);
        }
        fds_seen += 1;
        let command = &mut current.1;
        // Relative to the open fd directory: one lookup per descriptor, not a path walk.
        let Ok(target) = rustix::fs::readlinkat(fd_dir, name, Vec::new()) else {
            return ControlFlow::Continue(());
        };
        let target = target.to_string_lossy();
        if let Some(port) = sockets.get(target.as_ref()) {
            let command = command.get_or_insert_with(|| process_name(pid)).clone();
            let whose = own.whose(pid, &command);
            if !walk
                .listeners
                .iter()
                .any(|l| l.pid == pid && l.port == *port)
            {
                walk.listeners.push(Listener {
                    port: *port,
                    pid,
                    command,
                    own: whose != Whose::Foreign,
                    orphan: whose == Whose::Orphan,
                });
            }
        } else if let Some(path) = target.strip_suffix(" (deleted)").filter(|_| want_deleted) {
            // The descriptor's own stat: the file the name no longer leads to.
            let Ok(stat) = rustix::fs::statat(fd_dir, name, AtFlags::empty()) else {
                return ControlFlow::Continue(());
            };
            let bytes = stat.st_size.max(0) as u64;
            if rustix::fs::FileType::from_raw_mode(stat.st_mode).is_file() && bytes > 0 {
                let command = command.get_or_insert_with(|| process_name(pid)).clone();
                walk.deleted.push((
                    stat.st_dev,
                    DeletedOpen {
                        pid,
                        command,
                        path: path.to_string(),
                        bytes,
                    },
                ));
            }
        }
        ControlFlow::Continue(())
    });
    if read.is_err() {
        return (walk, Some("cannot read /proc".into()));
    }
    walk.deleted.sort_by_key(|d| std::cmp::Reverse(d.1.bytes));
    (walk, note)
}

/// `socket:[INODE]` → port, for the TCP sockets listening on `ports`.
fn listening_sockets(ports: &[u16]) -> BTreeMap<String, u16> {
    if ports.is_empty() {
        return BTreeMap::new();
    }
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .flat_map(|table| listening_lines(table))
        .filter_map(|line| listening_inode(&line, ports))
        .map(|(inode, port)| (format!("socket:[{inode}]"), port))
        .collect()
}

/// The LISTEN lines of a /proc/net/tcp table. The kernel lists listening sockets before
/// the established and TIME_WAIT ones, so reading stops at the first other state: a busy
/// host has thousands of those, and each costs the kernel time to print.
fn listening_lines(table: &str) -> Vec<String> {
    use std::io::BufRead;
    let Ok(file) = File::open(table) else {
        return Vec::new();
    };
    std::io::BufReader::new(file)
        .lines()
        .skip(1)
        .map_while(Result::ok)
        // State 0A is TCP_LISTEN.
        .take_while(|line| line.split_whitespace().nth(3) == Some("0A"))
        .collect()
}

/// The inode of a LISTEN line (see [`listening_lines`]) on one of `ports`.
fn listening_inode(line: &str, ports: &[u16]) -> Option<(String, u16)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let port = u16::from_str_radix(fields.get(1)?.rsplit(':').next()?, 16).ok()?;
    ports
        .contains(&port)
        .then(|| Some((fields.get(9)?.to_string(), port)))?
}

/// The check's paths, its logs, and the existing directories holding paths the evidence names,
/// each with its filesystem's device.
fn check_paths(check: &Check, named: &[PathBuf]) -> Vec<(PathBuf, u64)> {
    let mut paths: Vec<PathBuf> = match &check.kind {
        CheckKind::Disk(disk) => vec![disk.path.clone()],
        CheckKind::File(file) => vec![file.path.clone()],
        CheckKind::Process(process) => process.pidfile.iter().cloned().collect(),
        _ => Vec::new(),
    };
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
fn nearest_existing(path: &Path) -> Option<(PathBuf, u64)> {
    path.ancestors().find_map(|p| {
        let meta = std::fs::symlink_metadata(p).ok()?;
        Some((p.to_path_buf(), meta.dev()))
    })
}

/// Free space and inodes of each filesystem holding one of `paths`, once per filesystem.
fn filesystems(paths: &[(PathBuf, u64)]) -> Vec<Filesystem> {
    let mut seen = BTreeSet::new();
    paths
        .iter()
        .filter(|(_, device)| seen.insert(*device))
        .filter_map(|(path, device)| statvfs(path, *device))
        .take(MAX_FILESYSTEMS)
        .collect()
}

fn statvfs(path: &Path, device: u64) -> Option<Filesystem> {
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

fn below(free: u64, total: u64) -> bool {
    total > 0 && (free as f64) * 100.0 < FULL_PERCENT * total as f64
}

/// Words of lines about access rights.
const PERMISSION_WORDS: [&str; 7] = [
    "permission denied",
    "eacces",
    "operation not permitted",
    "eperm",
    "invalid permissions",
    "too open",
    "bad ownership",
];

pub fn is_permission_line(line: &str) -> bool {
    let lower = line.to_lowercase();
    PERMISSION_WORDS.iter().any(|w| lower.contains(w))
}

/// `lstat` of the paths named on permission lines (those their writers could look up), then of
/// the check's own paths (a Redis says "Can't open the log file: Permission denied" without
/// naming the file).
fn path_facts(check: &Check, error_lines: &[String], writers: &Writers) -> Vec<PathFact> {
    let permission_lines: Vec<&String> = error_lines
        .iter()
        .filter(|l| is_permission_line(l))
        .collect();
    if permission_lines.is_empty() {
        return Vec::new();
    }
    let mut paths: Vec<PathBuf> = writers.visible(
        permission_lines
            .iter()
            .flat_map(|line| named_paths(line))
            .collect(),
    );
    paths.extend(check.logs.iter().cloned());
    match &check.kind {
        CheckKind::File(file) => paths.push(file.path.clone()),
        CheckKind::Disk(disk) => paths.push(disk.path.clone()),
        _ => {}
    }
    let mut seen = BTreeSet::new();
    paths
        .into_iter()
        .filter(|p| seen.insert(p.clone()))
        .take(MAX_PATHS)
        .map(|p| lstat(&p))
        .collect()
}

fn lstat(path: &Path) -> PathFact {
    let shown = path.display().to_string();
    match std::fs::symlink_metadata(path) {
        Err(e) => PathFact {
            path: shown,
            problem: Some(e.to_string()),
            ..PathFact::default()
        },
        Ok(meta) => {
            let kind = if meta.file_type().is_symlink() {
                "symlink"
            } else if meta.is_dir() {
                "directory"
            } else if meta.is_file() {
                "file"
            } else {
                "other"
            };
            PathFact {
                path: shown,
                kind: Some(kind.into()),
                mode: Some(format!("{:04o}", meta.mode() & 0o7777)),
                uid: Some(meta.uid()),
                gid: Some(meta.gid()),
                problem: None,
            }
        }
    }
}

/// Gathers the facts of the check named `check` in the config file `config` `runs` times:
/// how long each took, and the last gathering as JSON. For the benchmark
/// (examples/bench-facts.rs), which times exactly what a phase gathers.
pub fn time_gathering(
    config: &Path,
    check: &str,
    evidence: &str,
    runs: usize,
) -> anyhow::Result<(Vec<Duration>, String)> {
    let config = crate::config::Config::load(Some(config))?;
    let check = config
        .check(check)
        .ok_or_else(|| anyhow::anyhow!("no check named `{check}`"))?;
    let mut times = Vec::with_capacity(runs);
    let mut facts = Facts::default();
    for _ in 0..runs {
        let started = Instant::now();
        facts = gather(check, evidence);
        times.push(started.elapsed());
    }
    Ok((times, serde_json::to_string(&facts)?))
}

/// The facts as short lines for people: `incidents show`, the dashboard, escalations.
pub fn describe(facts: &Facts) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(unit) = &facts.unit {
        let restarts = unit
            .n_restarts
            .map(|n| format!(", {n} restarts"))
            .unwrap_or_default();
        let pid = unit
            .main_pid
            .map(|p| format!(", main pid {p}"))
            .unwrap_or_default();
        lines.push(format!(
            "unit {}: {} ({}), result {}{restarts}{pid}",
            unit.unit, unit.active_state, unit.sub_state, unit.result
        ));
    }
    lines.extend(facts.pid_files.iter().map(describe_pid_file));
    lines.extend(facts.listeners.iter().map(|l| {
        let whose = match (l.own, l.orphan) {
            (true, true) => "the service's own, orphaned (its leader is dead)",
            (true, false) => "the service's own",
            (false, _) => "NOT the service's",
        };
        format!(
            "port {}: held by pid {} ({}), {whose}",
            l.port, l.pid, l.command
        )
    }));
    lines.extend(facts.filesystems.iter().map(|f| {
        format!(
            "filesystem of {}: {} of {} free, {} of {} inodes free{}",
            f.path,
            crate::checks::host::human_bytes(f.free_bytes),
            crate::checks::host::human_bytes(f.total_bytes),
            f.free_inodes,
            f.total_inodes,
            if f.full { " — FULL" } else { "" }
        )
    }));
    lines.extend(facts.paths.iter().map(describe_path));
    lines.extend(facts.unread_logs.iter().map(|log| {
        format!(
            "log {}: {}",
            log.path,
            log.problem.as_deref().unwrap_or("not read")
        )
    }));
    lines.extend(facts.deleted_open.iter().map(|d| {
        format!(
            "deleted but open: {} ({}) held by pid {} ({})",
            d.path,
            crate::checks::host::human_bytes(d.bytes),
            d.pid,
            d.command
        )
    }));
    lines.extend(facts.dependencies.iter().map(|d| {
        let how = if d.implicit {
            " (implicitly: its paths are on the filesystem it watches)"
        } else {
            ""
        };
        format!("depends on {}{how}: {} — {}", d.check, d.status, d.summary)
    }));
    lines
}

pub fn describe_pid_file(p: &PidFile) -> String {
    match (p.pid, &p.problem) {
        (_, Some(problem)) => format!("pid file {}: {problem}", p.path),
        (Some(pid), None) if p.alive => format!(
            "pid file {}: pid {pid} alive ({})",
            p.path,
            p.command.as_deref().unwrap_or("?")
        ),
        (Some(pid), None) => format!("pid file {}: pid {pid} is dead (stale)", p.path),
        (None, None) => format!("pid file {}: holds no pid", p.path),
    }
}

pub fn describe_path(p: &PathFact) -> String {
    match (&p.mode, &p.problem) {
        (Some(mode), _) => format!(
            "{} {}: mode {mode}, owner uid {} gid {}",
            p.kind.as_deref().unwrap_or("path"),
            p.path,
            p.uid.map(|u| u.to_string()).unwrap_or_default(),
            p.gid.map(|g| g.to_string()).unwrap_or_default()
        ),
        (None, Some(problem)) => format!("path {}: {problem}", p.path),
        (None, None) => format!("path {}", p.path),
    }
}

/// The facts kept as JSON, read back; `None` for anything else.
pub fn from_value(value: &serde_json::Value) -> Option<Facts> {
    Facts::deserialize(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_read_after_addresses_never_from_timestamps() {
        for (line, port) in [
            ("Nov 27 08:15:42 web nginx[812]: 2026/11/27 08:15:42 [emerg] 812#812: bind() to 0.0.0.0:8080 failed (98: Address already in use)", 8080),
            ("2026-11-27T08:15:42+00:00 web sshd[90]: error: Bind to port 2222 on 0.0.0.0 failed: Address already in use.", 2222),
            ("Nov 27 08:15:42.123456 web redis-server[4]: 4:M 27 Nov 2026 08:15:42.123 # Warning: Could not create server TCP listening socket *:6380: bind: Address already in use", 6380),
            ("2026-11-27 08:15:42.001 UTC [77] LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use\n2026-11-27 08:15:42.001 UTC [77] HINT:  Is another postmaster already running on port 5433? If not, wait a few seconds and retry.", 5433),
            ("08:15:42 app: listen tcp :9090: bind: address already in use", 9090),
            ("[2026-11-27 08:15:42] ERROR [::]:8443 Address already in use", 8443),
        ] {
            assert_eq!(ports_in_use(line), vec![port], "{line}");
        }
        assert!(ports_in_use("Nov 27 08:15:42 web app: Address already in use").is_empty());
    }

    #[test]
    fn paths_drop_punctuation_and_line_numbers() {
        let named = named_paths(
            "[emerg] unknown directive \"servr\" in /etc/nginx/nginx.conf:12\nopen() \"/var/log/nginx/error.log\" failed (13: Permission denied). pid file /srv/app/pid exists,",
        );
        assert_eq!(
            named,
            vec![
                PathBuf::from("/etc/nginx/nginx.conf"),
                PathBuf::from("/var/log/nginx/error.log"),
                PathBuf::from("/srv/app/pid")
            ]
        );
    }

    #[test]
    fn a_unit_state_is_parsed_from_systemctl_show() {
        let values = "ActiveState=failed\nSubState=failed\nResult=exit-code\nNRestarts=3\nMainPID=0\nPIDFile=/run/web.pid\nControlGroup=\nUser=\n"
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let state = unit_state_of("web.service", &values);
        assert_eq!(state.active_state, "failed");
        assert_eq!(state.result, "exit-code");
        assert_eq!(state.n_restarts, Some(3));
        assert_eq!(state.main_pid, None);
        assert_eq!(state.pid_file.as_deref(), Some("/run/web.pid"));
        assert_eq!(state.control_group, None);
        assert_eq!(state.user, None);
    }

    /// A session leader that exits, leaving its child on a listening port: a master killed,
    /// its worker orphaned. The pid file names the dead leader.
    #[test]
    fn a_listener_left_in_a_dead_pid_files_session_is_the_services_own_orphan() {
        let dir = tempfile::tempdir().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // The socket is inherited by the shell and its `sleep`, then closed here.
        rustix::io::fcntl_setfd(&listener, rustix::io::FdFlags::empty()).unwrap();
        let output = std::process::Command::new("setsid")
            .args(["sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $$ $!"])
            .output()
            .unwrap();
        drop(listener);
        let text = String::from_utf8_lossy(&output.stdout);
        let pids: Vec<i32> = text
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        let (leader, worker) = (pids[0], pids[1]);
        let pidfile = dir.path().join("nginx.pid");
        std::fs::write(&pidfile, format!("{leader}\n")).unwrap();
        let config = crate::config::Config::parse(
            "t.toml",
            &format!(
                "[[checks]]\nname = \"nginx-pid\"\nkind = \"process\"\npidfile = \"{}\"\n",
                pidfile.display()
            ),
        )
        .unwrap();
        let evidence = format!(
            "nginx: [emerg] bind() to 127.0.0.1:{port} failed (98: Address already in use)"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        let facts = loop {
            let facts = gather(&config.checks[0], &evidence);
            if facts.pid_files.iter().any(|p| !p.alive) || Instant::now() > deadline {
                break facts;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_raw(worker).unwrap(),
            rustix::process::Signal::KILL,
        );
        let found: Vec<&Listener> = facts.listeners.iter().filter(|l| l.pid == worker).collect();
        assert_eq!(found.len(), 1, "{:?}", facts.listeners);
        assert!(found[0].own && found[0].orphan, "{:?}", found[0]);
        assert_eq!(facts.orphans().count(), 1);
        let described = describe(&facts).join("\n");
        assert!(
            described.contains("the service's own, orphaned"),
            "{described}"
        );
    }

    #[test]
    fn error_lines_keep_the_last_errors_in_order() {
        let lines = error_lines("starting\nerror: one\nok\nFATAL: two\nerror: one\n");
        assert_eq!(lines, vec!["FATAL: two", "error: one"]);
    }
}
