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

mod describe;
mod filesystems;
mod listeners;
mod named;
mod permissions;
mod pid_files;
mod proc_walk;
mod unit;
mod writers;

pub use describe::*;
pub use filesystems::*;
pub use listeners::*;
pub use named::*;
pub use permissions::*;
pub use pid_files::*;
use proc_walk::*;
use unit::*;
pub use writers::*;

use crate::config::Check;
use crate::evidence::error_lines;
use crate::pidfile::PidFileError;
use crate::sys::pid_alive;
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
    facts.unit = facts.time("unit", || match check.unit_name() {
        Some(unit) if crate::sys::systemd_is_running() => match unit_state(unit) {
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
