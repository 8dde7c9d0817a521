//! `kill_process`, scoped. Which processes a kill may reach is decided here, when it runs, not
//! only when the plan was judged: by then a pid may belong to another process. Each target is
//! held by a pidfd first, then its facts are read through its own /proc directory, then the
//! pidfd is checked to still be live — so the facts judged are those of the process signalled.
//!
//! Never signalled, whoever wrote the plan: PID 1 (and pids <= 1, which kill(2) reads as process
//! groups), orchestrator itself, its children (any process whose parent chain reaches it), and
//! any other orchestrator process (its executable is orchestrator's own binary, or its name is
//! `orchestrator`). An agent's kill (also a learned pattern, a vote, or a held plan a person
//! approved: approval does not widen the policy) is further scoped to the incident: processes
//! in its unit's cgroup, the pid in the check's pid file, processes named as the `process`
//! check's process, and names matching `[policy] processes`. The check's configured remedies
//! were written by the admin and may name any other process. A kill refusing any target
//! signals none of them, and says which and why.

use super::{normalise_signal, ActionError};
use crate::sys;
use rustix::fd::OwnedFd;
use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::process::{Pid, PidfdFlags, Signal};
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long `kill_process` waits for its targets to exit.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// The signals `kill_process` sends, by name; each also by its number.
pub const SIGNALS: [&str; 7] = ["TERM", "KILL", "HUP", "INT", "QUIT", "USR1", "USR2"];

/// What the other orchestrator processes call themselves.
const OWN_NAME: &str = "orchestrator";

/// Parent links followed before giving up on a chain (a pid namespace is far shallower).
const MAX_ANCESTORS: usize = 4096;

/// `TERM`, `SIGTERM`, `term` or `15`: one of [`SIGNALS`].
pub fn signal_number(name: &str) -> Option<Signal> {
    Some(match normalise_signal(name).as_str() {
        "TERM" | "15" => Signal::TERM,
        "KILL" | "9" => Signal::KILL,
        "HUP" | "1" => Signal::HUP,
        "INT" | "2" => Signal::INT,
        "QUIT" | "3" => Signal::QUIT,
        "USR1" | "10" => Signal::USR1,
        "USR2" | "12" => Signal::USR2,
        _ => return None,
    })
}

/// The processes of the incident a kill may reach.
#[derive(Debug, Clone, Copy, Default)]
pub struct KillScope<'a> {
    /// The incident's unit: processes in its cgroup.
    pub unit: Option<&'a str>,
    /// The check's pid file: the pid in it.
    pub pidfile: Option<&'a Path>,
    /// The `process` check's process name.
    pub process: Option<&'a str>,
    /// `[policy] processes`: globs of further process names.
    pub processes: &'a [String],
    /// The plan is the check's configured remedies, written by the admin: only the never-targets
    /// are refused.
    pub admin_written: bool,
}

pub fn kill_process(
    pid: Option<i32>,
    name: Option<&str>,
    signal: &str,
    scope: &KillScope,
) -> Result<String, ActionError> {
    let signo = signal_number(signal).ok_or_else(|| {
        ActionError::Invalid(format!(
            "unknown signal {signal} (known: {})",
            SIGNALS.join(", ")
        ))
    })?;
    let pids = match (pid, name) {
        (Some(pid), _) => vec![pid],
        (None, Some(name)) => sys::pids_named(name),
        (None, None) => {
            return Err(ActionError::Invalid(
                "kill_process needs `pid` or `name`".into(),
            ))
        }
    };
    let me = Me::new();
    let mut targets = Vec::new();
    let mut refused = Vec::new();
    for pid in pids {
        match Target::hold(pid) {
            Ok(None) => {}
            Ok(Some(target)) => match judge(&target, scope, &me) {
                Ok(()) => targets.push(target),
                Err(why) => refused.push(format!("pid {pid} ({}) {why}", target.comm)),
            },
            Err(why) => refused.push(format!("pid {pid} {why}")),
        }
    }
    if !refused.is_empty() {
        return Err(ActionError::Refused(format!(
            "refused, nothing signalled: {}",
            refused.join("; ")
        )));
    }
    if targets.is_empty() {
        // Nothing to stop is the state the plan wanted.
        let what = pid.map(|p| format!("pid {p}")).or(name.map(str::to_string));
        return Ok(format!(
            "no matching process ({})",
            what.unwrap_or_default()
        ));
    }
    signal_all(&targets, signo, signal).map_err(ActionError::Failed)
}

fn signal_all(targets: &[Target], signo: Signal, signal: &str) -> Result<String, String> {
    let mut signalled = Vec::new();
    let mut failed = Vec::new();
    for target in targets {
        match rustix::process::pidfd_send_signal(&target.pidfd, signo) {
            Ok(()) => signalled.push(target),
            // It exited between the check and the signal: what the kill wanted anyway.
            Err(rustix::io::Errno::SRCH) => {}
            Err(err) => failed.push(format!("pid {}: {err}", target.pid)),
        }
    }
    if !failed.is_empty() {
        return Err(format!("could not signal {}", failed.join("; ")));
    }
    let pids: Vec<String> = signalled.iter().map(|t| t.pid.to_string()).collect();
    let sent = format!(
        "sent SIG{} to pid {}",
        normalise_signal(signal),
        pids.join(", ")
    );
    wait_for_exit(&signalled, sent)
}

/// Like `systemctl stop`, a kill is done when the processes are gone: the next action (a start
/// on the port they held) must not race their exit. A pidfd turns readable when its process
/// exits, and cannot be fooled by the pid's reuse.
fn wait_for_exit(targets: &[&Target], sent: String) -> Result<String, String> {
    let deadline = Instant::now() + KILL_WAIT;
    let mut running: Vec<&Target> = targets.to_vec();
    while !running.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let timeout = rustix::event::Timespec::try_from(left).unwrap_or_default();
        let mut fds: Vec<_> = running
            .iter()
            .map(|t| rustix::event::PollFd::new(&t.pidfd, rustix::event::PollFlags::IN))
            .collect();
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(err) => return Err(format!("{sent}; cannot wait for them: {err}")),
        }
        let exited: Vec<bool> = fds.iter().map(|fd| !fd.revents().is_empty()).collect();
        running = running
            .into_iter()
            .zip(exited)
            .filter_map(|(target, exited)| (!exited).then_some(target))
            .collect();
    }
    if running.is_empty() {
        return Ok(format!("{sent}; exited"));
    }
    let alive: Vec<String> = running.iter().map(|t| t.pid.to_string()).collect();
    Err(format!(
        "{sent}; still running after {}s: {}",
        KILL_WAIT.as_secs(),
        alive.join(", ")
    ))
}

/// Orchestrator as a kill sees itself: its pid and its executable's identity.
struct Me {
    pid: i32,
    exe: Option<(u64, u64)>,
}

impl Me {
    fn new() -> Me {
        Me {
            pid: std::process::id() as i32,
            exe: rustix::fs::stat("/proc/self/exe")
                .ok()
                .map(|s| (s.st_dev, s.st_ino)),
        }
    }
}

/// A process held by a pidfd, with the facts read through its own /proc directory.
struct Target {
    pid: i32,
    pidfd: OwnedFd,
    comm: String,
    /// The basename of its executable (comm is cut at 15 bytes and set by the process).
    exe_name: Option<String>,
    /// Device and inode of its executable.
    exe: Option<(u64, u64)>,
    /// Its effective uid: the owner of its /proc directory.
    uid: u32,
    cgroup: String,
    /// Its parent, grandparent, … up to PID 1.
    ancestors: Vec<i32>,
    /// Its session and process group: a daemon's workers keep their master's after it died.
    leaders: [i32; 2],
}

impl Target {
    /// `Ok(None)` when there is no such process (any more).
    fn hold(pid: i32) -> Result<Option<Target>, String> {
        if pid <= 1 {
            return Err("is PID 1 or a process group: never signalled".into());
        }
        let raw = Pid::from_raw(pid).ok_or("is not a pid")?;
        let pidfd = match rustix::process::pidfd_open(raw, PidfdFlags::empty()) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::SRCH) => return Ok(None),
            Err(rustix::io::Errno::INVAL) => {
                return Err("is not a process (a thread of one?): never signalled".into())
            }
            Err(err) => return Err(format!("cannot be held: {err}")),
        };
        let Ok(dir) = rustix::fs::open(
            format!("/proc/{pid}"),
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            return Ok(None);
        };
        let stat = read_at(&dir, "stat");
        let target = Target {
            pid,
            comm: read_at(&dir, "comm").trim_end().to_string(),
            exe_name: rustix::fs::readlinkat(&dir, "exe", Vec::new())
                .ok()
                .and_then(|link| {
                    let link = link.to_string_lossy().into_owned();
                    let link = link.trim_end_matches(" (deleted)");
                    link.rsplit('/').next().map(str::to_string)
                }),
            exe: rustix::fs::statat(&dir, "exe", AtFlags::empty())
                .ok()
                .map(|s| (s.st_dev, s.st_ino)),
            uid: rustix::fs::fstat(&dir).map(|s| s.st_uid).unwrap_or(0),
            cgroup: read_at(&dir, "cgroup"),
            ancestors: ancestors_of(&stat),
            leaders: sys::parse_proc_stat(&stat).map_or([0, 0], |s| [s.session, s.group]),
            pidfd,
        };
        // Facts read while the pidfd's process still lives are that process's own.
        Ok(target.alive().then_some(target))
    }

    fn alive(&self) -> bool {
        let mut fds = [rustix::event::PollFd::new(
            &self.pidfd,
            rustix::event::PollFlags::IN,
        )];
        let zero = rustix::event::Timespec::default();
        matches!(rustix::event::poll(&mut fds, Some(&zero)), Ok(0))
    }

    /// Its comm or its executable's name.
    fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.comm.as_str()).chain(self.exe_name.as_deref())
    }
}

fn read_at(dir: &OwnedFd, name: &str) -> String {
    let Ok(fd) = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
    ) else {
        return String::new();
    };
    let mut text = String::new();
    let _ = std::fs::File::from(fd)
        .take(64 * 1024)
        .read_to_string(&mut text);
    text
}

/// The parent chain from /proc/PID/stat's ppid upward. Ancestors are other processes, read by
/// path: one that exits meanwhile ends the chain, as its children are then reparented anyway.
fn ancestors_of(stat: &str) -> Vec<i32> {
    let mut chain = Vec::new();
    let mut parent = sys::parent_in_stat(stat);
    while let Some(pid) = parent.filter(|p| *p > 1) {
        if chain.len() >= MAX_ANCESTORS || chain.contains(&pid) {
            break;
        }
        chain.push(pid);
        parent = sys::proc_stat(pid).map(|s| s.parent);
    }
    chain
}

/// Why `target` may not be signalled, if it may not.
fn judge(target: &Target, scope: &KillScope, me: &Me) -> Result<(), String> {
    if target.pid == me.pid {
        return Err("is orchestrator itself: never signalled".into());
    }
    if target.ancestors.contains(&me.pid) {
        return Err("is a child of orchestrator: never signalled".into());
    }
    if (me.exe.is_some() && target.exe == me.exe) || target.names().any(|n| n == OWN_NAME) {
        return Err("is an orchestrator process: never signalled".into());
    }
    if scope.admin_written || in_scope(target, scope) {
        return Ok(());
    }
    Err(format!(
        "is outside the incident's scope ({})",
        describe_scope(scope)
    ))
}

fn in_scope(target: &Target, scope: &KillScope) -> bool {
    let in_unit = scope
        .unit
        .is_some_and(|unit| cgroup_holds_unit(&target.cgroup, &super::full_unit_name(unit)));
    let named = scope
        .process
        .is_some_and(|name| target.names().any(|n| n == name));
    let allowed = scope
        .processes
        .iter()
        .any(|glob| super::path_glob(glob).is_some_and(|g| target.names().any(|n| g.is_match(n))));
    in_unit
        || named
        || allowed
        || scope
            .pidfile
            .is_some_and(|file| pidfile_names(file, target))
}

/// What a kill may reach, in words, for the refusal.
fn describe_scope(scope: &KillScope) -> String {
    let mut parts = Vec::new();
    if let Some(unit) = scope.unit {
        parts.push(format!(
            "not in the cgroup of {}",
            super::full_unit_name(unit)
        ));
    }
    if let Some(file) = scope.pidfile {
        parts.push(format!(
            "neither the pid in {} nor left behind by it",
            file.display()
        ));
    }
    if let Some(name) = scope.process {
        parts.push(format!("not named `{name}`"));
    }
    parts.push(if scope.processes.is_empty() {
        "no [policy] processes".to_string()
    } else {
        format!("not matched by [policy] processes {:?}", scope.processes)
    });
    parts.join(", ")
}

/// Whether /proc/PID/cgroup puts the process in `unit`'s cgroup or below it, in the unified
/// hierarchy (`0::/system.slice/web.service`) or systemd's named v1 one
/// (`1:name=systemd:/system.slice/web.service`).
pub(crate) fn cgroup_holds_unit(cgroup: &str, unit: &str) -> bool {
    cgroup.lines().any(|line| {
        let mut fields = line.splitn(3, ':');
        let (Some(hierarchy), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return false;
        };
        let systemds =
            (hierarchy == "0" && controllers.is_empty()) || controllers == "name=systemd";
        systemds && path.split('/').any(|part| part == unit)
    })
}

/// Whether the check's pid file names `target`. A pid file not owned by root counts only for a
/// process of its owner: a service that can write its pid file must not point a kill at
/// another user's process. Read through the one pid-file reader: a FIFO or a symlink planted
/// there is refused at once, never waited on.
fn pidfile_names(file: &Path, target: &Target) -> bool {
    crate::pidfile::read(file).is_ok_and(|read| {
        (read.meta.uid == 0 || read.meta.uid == target.uid)
            && (read.pid == target.pid || orphaned_by(read.pid, target))
    })
}

/// `target` is left behind by the dead process `leader` (a pid file's pid): it is in the session
/// or process group `leader` led, as nginx's workers are after their master was killed.
fn orphaned_by(leader: i32, target: &Target) -> bool {
    leader > 1 && target.leaders.contains(&leader) && !sys::pid_alive(leader)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_numbers_and_prefixes() {
        assert_eq!(signal_number("TERM"), Some(Signal::TERM));
        assert_eq!(signal_number("sigkill"), Some(Signal::KILL));
        assert_eq!(signal_number("10"), Some(Signal::USR1));
        assert_eq!(signal_number("STOP"), None);
        for name in SIGNALS {
            assert!(signal_number(name).is_some(), "{name}");
        }
    }

    #[test]
    fn a_units_cgroup_in_either_hierarchy() {
        let unified = "0::/system.slice/web.service\n";
        assert!(cgroup_holds_unit(unified, "web.service"));
        assert!(cgroup_holds_unit(
            "0::/system.slice/web.service/payload\n",
            "web.service"
        ));
        assert!(!cgroup_holds_unit(unified, "eb.service"));
        assert!(!cgroup_holds_unit(
            "0::/system.slice/web.service-other\n",
            "web.service"
        ));
        let v1 = "12:cpu,cpuacct:/\n1:name=systemd:/system.slice/db.service\n";
        assert!(cgroup_holds_unit(v1, "db.service"));
        // A v1 controller hierarchy is not where systemd puts units.
        assert!(!cgroup_holds_unit(
            "3:memory:/system.slice/db.service\n",
            "db.service"
        ));
    }

    #[test]
    fn the_parent_of_a_comm_with_parentheses() {
        assert_eq!(sys::parent_in_stat("42 (a) b) S 7 42 42 0"), Some(7));
        assert_eq!(sys::parent_in_stat("garbage"), None);
    }

    /// A `sleep` that is no child of the test: its shell exits at once, leaving it orphaned.
    fn orphan_sleep() -> i32 {
        let output = std::process::Command::new("sh")
            .args(["-c", "sleep 30 >/dev/null 2>&1 & echo $!"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap()
    }

    #[test]
    fn the_pid_in_the_checks_pid_file_is_in_scope_and_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("web.pid");
        let scope = KillScope {
            pidfile: Some(&pidfile),
            ..KillScope::default()
        };
        let pid = orphan_sleep();
        std::fs::write(&pidfile, format!("{}\n", pid + 100_000)).unwrap();
        let refused = kill_process(Some(pid), None, "TERM", &scope)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("outside the incident's scope"),
            "{refused}"
        );
        assert!(refused.contains("neither the pid in"), "{refused}");
        assert!(sys::pid_alive(pid));
        std::fs::write(&pidfile, format!("{pid}\n")).unwrap();
        if rustix::process::geteuid().is_root() {
            // A pid file its writer could fill with anyone's pid counts only for its owner.
            std::os::unix::fs::chown(&pidfile, Some(65534), None).unwrap();
            let refused = kill_process(Some(pid), None, "TERM", &scope)
                .unwrap_err()
                .to_string();
            assert!(refused.contains("neither the pid in"), "{refused}");
            std::os::unix::fs::chown(&pidfile, Some(0), None).unwrap();
        }
        let killed = kill_process(Some(pid), None, "TERM", &scope).unwrap();
        assert!(killed.ends_with("exited"), "{killed}");
    }

    #[test]
    fn what_a_dead_pid_files_process_left_in_its_session_is_in_scope() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("nginx.pid");
        let scope = KillScope {
            pidfile: Some(&pidfile),
            ..KillScope::default()
        };
        // A session leader (the shell) that exits, leaving its `sleep` in its session: a
        // master killed, its worker orphaned.
        let output = std::process::Command::new("setsid")
            .args(["sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $$ $!"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        let pids: Vec<i32> = text
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        let (leader, worker) = (pids[0], pids[1]);
        let other = orphan_sleep();
        std::fs::write(&pidfile, format!("{leader}\n")).unwrap();
        let refused = kill_process(Some(other), None, "TERM", &scope)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("nor left behind by it"), "{refused}");
        assert!(sys::pid_alive(other));
        signal_kill(other);
        let killed = kill_process(Some(worker), None, "TERM", &scope).unwrap();
        assert!(killed.ends_with("exited"), "{killed}");
    }

    fn signal_kill(pid: i32) {
        let _ = kill_process(
            Some(pid),
            None,
            "KILL",
            &KillScope {
                admin_written: true,
                ..KillScope::default()
            },
        );
    }

    #[test]
    fn never_its_own_children() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let scope = KillScope {
            admin_written: true,
            ..KillScope::default()
        };
        let refused = kill_process(Some(child.id() as i32), None, "KILL", &scope)
            .unwrap_err()
            .to_string();
        let still_running = child.try_wait().unwrap().is_none();
        let _ = child.kill();
        let _ = child.wait();
        assert!(refused.contains("a child of orchestrator"), "{refused}");
        assert!(still_running);
    }

    #[test]
    fn never_pid_1_nor_itself() {
        let scope = KillScope {
            admin_written: true,
            ..KillScope::default()
        };
        let init = kill_process(Some(1), None, "TERM", &scope)
            .unwrap_err()
            .to_string();
        assert!(init.contains("PID 1"), "{init}");
        let own = std::process::id() as i32;
        let itself = kill_process(Some(own), None, "TERM", &scope)
            .unwrap_err()
            .to_string();
        assert!(itself.contains("orchestrator itself"), "{itself}");
    }

    #[test]
    fn a_refusal_and_a_mistake_are_told_apart() {
        let scope = KillScope {
            admin_written: true,
            ..KillScope::default()
        };
        assert!(matches!(
            kill_process(Some(1), None, "TERM", &scope),
            Err(ActionError::Refused(_))
        ));
        assert!(matches!(
            kill_process(Some(1), None, "SIGNOPE", &scope),
            Err(ActionError::Invalid(why)) if why.starts_with("unknown signal SIGNOPE")
        ));
        assert!(matches!(
            kill_process(None, None, "TERM", &scope),
            Err(ActionError::Invalid(_))
        ));
    }
}
