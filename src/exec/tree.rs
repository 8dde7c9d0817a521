//! Process trees: finding every process a command started, wherever it went, and ending them.
//!
//! A process group is not a tree: `setsid` leaves it, and a child whose parent exits is
//! reparented out of sight. Three things together attribute each process to the one command
//! that started it, even while several commands run at once (checks run in parallel threads):
//!
//! 1. **Subreaper.** orchestrator is a child subreaper (`PR_SET_CHILD_SUBREAPER`), so an orphan
//!    is reparented to orchestrator instead of PID 1: everything any command started stays in
//!    orchestrator's own process subtree, and that subtree is all a sweep has to search.
//! 2. **Marker.** Each command runs with `ORCHESTRATOR_EXEC_ID=<unique id>` in its environment.
//!    Descendants inherit it through `fork`, `setsid` and `exec`; the sweep reads
//!    `/proc/PID/environ` of orchestrator's descendants and takes those that carry this id.
//! 3. **Sightings.** While the command runs, each poll records the descendants of its child as
//!    (pid, start time), so a descendant that cleared its environment is still known if it was
//!    ever seen; the sweep also takes every descendant of a process it already took.
//!
//! A process is identified by pid *and* start time, so a reused pid is never mistaken for a
//! member; signals go through a pidfd opened and then checked against that identity.
//!
//! Orphans reparented to orchestrator must be reaped, or they stay zombies. orchestrator never
//! waits for "any child" (`waitpid(-1)`): that would steal the exit status of a child that
//! std or duct (or lettre's sendmail) is waiting for. It waits only for specific pids it knows to
//! be members of a tree and whose parent is orchestrator: those belong to no other waiter.
//! Members still alive when their command ends (a daemon an action started on purpose) are
//! remembered and reaped by a later command's bookkeeping once they exit.
//!
//! Why not a cgroup through `systemd-run --scope`: it needs systemd as PID 1, a working D-Bus
//! and root, and a self-healing tool must act precisely when systemd or D-Bus may be what is
//! broken, in containers and on hosts without systemd too. The sweep needs none of them. A cgroup
//! of orchestrator's own (with `cgroup.kill`) would close the one gap below, and is the next step
//! where orchestrator is given a delegated cgroup subtree.
//!
//! Limits: a descendant that clears its environment (`env -i`) *and* loses its parent between
//! two polls (at most 20 ms apart) is attributed to no command; it is left alone and never
//! reaped. If orchestrator itself is SIGKILLed, the direct children of checks and agents die
//! with it (`PR_SET_PDEATHSIG`), but their orphaned descendants go to PID 1 (or a subreaper
//! above orchestrator) and outlive it: no later run can attribute them, since its ids are new.

use rustix::process::{
    pidfd_open, pidfd_send_signal, waitid, Pid, PidfdFlags, Signal, WaitId, WaitIdOptions,
};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

/// The environment variable that marks every process of one command.
pub const MARKER_VARIABLE: &str = "ORCHESTRATOR_EXEC_ID";

/// How long a sweep keeps killing: a tree that keeps forking is outrun within this.
const KILL_FOR: Duration = Duration::from_secs(2);
/// How long a sweep waits to reap what it killed before leaving it to later bookkeeping.
const REAP_FOR: Duration = Duration::from_secs(1);

static SUBREAPER: Once = Once::new();
static IS_SUBREAPER: AtomicBool = AtomicBool::new(false);
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
/// Members that outlived their command and will be orchestrator's zombies when they exit.
static ADOPTED: Mutex<Vec<Proc>> = Mutex::new(Vec::new());

/// Makes orchestrator the reaper of every orphan its commands leave (once per process).
pub fn become_subreaper() {
    SUBREAPER.call_once(
        || match rustix::process::set_child_subreaper(Some(own_pid())) {
            Ok(()) => IS_SUBREAPER.store(true, Ordering::SeqCst),
            Err(err) => log::warn!(
            "cannot become a child subreaper ({err}); orphans of commands are searched host-wide"
        ),
        },
    );
}

/// A fresh marker value: unique within this process, and across processes by pid and time.
pub fn new_marker() -> String {
    let count = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}-{count}-{nanos:08x}", std::process::id())
}

/// One process, told apart from a later process with the same pid by its start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Proc {
    pid: i32,
    start: u64,
}

/// What `/proc/PID/stat` says about a process.
#[derive(Debug, Clone, Copy)]
struct Stat {
    parent: i32,
    start: u64,
    zombie: bool,
    /// Stopped by a signal (state `T`; `t` is stopped by a tracer, and may be let go).
    stopped: bool,
}

/// The processes of one command.
pub struct Tree {
    marker: String,
    child: Option<Proc>,
    seen: HashSet<Proc>,
}

impl Tree {
    pub fn new(marker: String, child_pid: Option<u32>) -> Tree {
        let child = child_pid
            .and_then(|pid| i32::try_from(pid).ok())
            .and_then(|pid| {
                stat(pid).map(|s| Proc {
                    pid,
                    start: s.start,
                })
            });
        Tree {
            marker,
            child,
            seen: HashSet::new(),
        }
    }

    /// Records the child's current descendants (called at each poll; cheap: it walks only the
    /// child's own subtree through `/proc/PID/task/TID/children`).
    pub fn record(&mut self) {
        let Some(child) = self.child else { return };
        let mut pending = children_of(child.pid);
        while let Some(pid) = pending.pop() {
            if let Some(s) = stat(pid) {
                if self.seen.insert(Proc {
                    pid,
                    start: s.start,
                }) {
                    pending.extend(children_of(pid));
                }
            }
        }
    }

    /// Kills every process of the tree still alive and reaps those that were orchestrator's.
    /// Returns how many were killed. The direct child is the caller's to wait for.
    ///
    /// The tree is frozen (SIGSTOP) before it is killed: killing one process at a time lets a
    /// parent that sees its child die run its next command (`sleep 2; touch x` runs `touch`
    /// when `sleep` is killed) before its own SIGKILL lands. A stopped process cannot fork.
    pub fn end(&mut self) -> usize {
        let deadline = Instant::now() + KILL_FOR;
        let frozen = self.freeze(deadline);
        if frozen.is_empty() {
            // Nothing ran: the usual case, and done with one look at /proc.
            reap_adopted();
            return 0;
        }
        let mut killed: HashSet<Proc> = frozen
            .into_iter()
            .filter(|&p| send(p, Signal::KILL))
            .collect();
        // Whatever a freeze that ran out of time missed, killed until none is left.
        loop {
            let live = self.live_members();
            if live.is_empty() {
                break;
            }
            killed.extend(live.into_iter().filter(|&p| send(p, Signal::KILL)));
            if Instant::now() >= deadline {
                log::warn!("processes of a command kept appearing for {KILL_FOR:?}; gave up");
                break;
            }
            // Give the signals a moment to land before looking again.
            std::thread::sleep(Duration::from_millis(1));
        }
        for proc in &killed {
            log::debug!("killed process {} of a command's tree", proc.pid);
        }
        self.reap(killed.iter().copied().collect());
        reap_adopted();
        killed.len()
    }

    /// Stops every live member, looking again until no member runs: then none can fork.
    fn freeze(&self, deadline: Instant) -> HashSet<Proc> {
        let mut stopped = HashSet::new();
        loop {
            let procs = snapshot();
            let members = self.members(&procs);
            let running: Vec<Proc> = members
                .iter()
                .filter(|(_, s)| !s.zombie && !s.stopped)
                .map(|&(p, _)| p)
                .collect();
            if running.is_empty() || Instant::now() >= deadline {
                return stopped;
            }
            for proc in running {
                if !stopped.contains(&proc) && send(proc, Signal::STOP) {
                    stopped.insert(proc);
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn live_members(&self) -> Vec<Proc> {
        self.members(&snapshot())
            .into_iter()
            .filter(|(_, s)| !s.zombie)
            .map(|(p, _)| p)
            .collect()
    }

    /// Leaves the tree's live processes running and remembers them, to reap when they exit.
    pub fn release(&mut self) -> usize {
        let live: Vec<Proc> = self
            .members(&snapshot())
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let count = live.len();
        adopt(live);
        reap_adopted();
        count
    }

    /// The tree's processes in `procs`: the child, those seen, those carrying the marker, and
    /// every descendant of those.
    fn members(&self, procs: &HashMap<i32, Stat>) -> Vec<(Proc, Stat)> {
        let candidates = if IS_SUBREAPER.load(Ordering::SeqCst) {
            descendants(procs, &[own_pid().as_raw_nonzero().get()])
        } else {
            procs.keys().copied().collect()
        };
        let is_member = |pid: i32| {
            let proc = Proc {
                pid,
                start: procs[&pid].start,
            };
            Some(proc) == self.child || self.seen.contains(&proc) || has_marker(pid, &self.marker)
        };
        let seeds: Vec<i32> = candidates.into_iter().filter(|&p| is_member(p)).collect();
        let mut all: HashSet<i32> = descendants(procs, &seeds).into_iter().collect();
        all.extend(seeds);
        all.into_iter()
            .map(|pid| {
                let s = procs[&pid];
                (
                    Proc {
                        pid,
                        start: s.start,
                    },
                    s,
                )
            })
            .collect()
    }

    /// Waits (bounded) for killed processes that are orchestrator's children; the rest is
    /// remembered for later.
    fn reap(&self, mut pending: Vec<Proc>) {
        let deadline = Instant::now() + REAP_FOR;
        pending.retain(|p| Some(p.pid) != self.child.map(|c| c.pid));
        loop {
            pending.retain(|&p| !reap_if_done(p));
            if pending.is_empty() || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        adopt(pending);
    }
}

fn adopt(procs: Vec<Proc>) {
    if let Ok(mut adopted) = ADOPTED.lock() {
        adopted.extend(procs);
    }
}

/// Reaps remembered members that have exited since; forgets those that are gone.
pub fn reap_adopted() {
    if let Ok(mut adopted) = ADOPTED.lock() {
        adopted.retain(|&p| !reap_if_done(p));
    }
}

/// True when `proc` needs no more attention: gone, replaced by another process, or a zombie of
/// orchestrator's that this call reaped.
fn reap_if_done(proc: Proc) -> bool {
    let Some(s) = stat(proc.pid) else { return true };
    if s.start != proc.start {
        return true;
    }
    if !s.zombie || s.parent != own_pid().as_raw_nonzero().get() {
        return false;
    }
    // Our zombie, and a member of a tree: no other code of ours waits for this pid.
    let Some(pid) = Pid::from_raw(proc.pid) else {
        return true;
    };
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG;
    !matches!(waitid(WaitId::Pid(pid), options), Ok(None))
}

/// Sends `signal` to `proc` if that pid still is that process. True when the signal was sent.
fn send(proc: Proc, signal: Signal) -> bool {
    let Some(pid) = Pid::from_raw(proc.pid) else {
        return false;
    };
    match pidfd_open(pid, PidfdFlags::empty()) {
        // The pidfd pins the process: checked once open, it cannot be swapped for another.
        Ok(fd) => same_process(proc) && pidfd_send_signal(&fd, signal).is_ok(),
        // Kernels before 5.3 have no pidfd: check, then signal, and accept the tiny window.
        Err(_) => same_process(proc) && rustix::process::kill_process(pid, signal).is_ok(),
    }
}

fn same_process(proc: Proc) -> bool {
    stat(proc.pid).is_some_and(|s| s.start == proc.start)
}

fn own_pid() -> Pid {
    rustix::process::getpid()
}

/// Every process on the host, by pid.
fn snapshot() -> HashMap<i32, Stat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .collect()
}

/// The descendants of `roots` (not the roots themselves) by parent links in `procs`.
fn descendants(procs: &HashMap<i32, Stat>, roots: &[i32]) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for (&pid, s) in procs {
        children.entry(s.parent).or_default().push(pid);
    }
    let mut found = Vec::new();
    let mut visited: HashSet<i32> = roots.iter().copied().collect();
    let mut pending: Vec<i32> = roots.to_vec();
    while let Some(pid) = pending.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            if visited.insert(child) {
                found.push(child);
                pending.push(child);
            }
        }
    }
    found
}

/// The children of every thread of `pid`.
fn children_of(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

fn has_marker(pid: i32, marker: &str) -> bool {
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    let wanted = format!("{MARKER_VARIABLE}={marker}");
    environ
        .split(|&b| b == 0)
        .any(|entry| entry == wanted.as_bytes())
}

fn stat(pid: i32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Parses `/proc/PID/stat`. The command name may hold spaces and parentheses, so fields are
/// counted from the last `)`: state, ppid, … and start time as the 20th after it.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = *fields.first()?;
    Some(Stat {
        zombie: state == "Z",
        stopped: state == "T",
        parent: fields.get(1)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_a_hostile_command_name() {
        let line = "4242 (a) b) Z (c) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
                    987654 1000 100 18446744073709551615";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.parent, 17);
        assert_eq!(s.start, 987654);
        assert!(!s.zombie);
    }

    #[test]
    fn reads_its_own_stat() {
        let me = stat(std::process::id() as i32).unwrap();
        assert_eq!(me.parent, std::os::unix::process::parent_id() as i32);
    }

    #[test]
    fn markers_are_unique() {
        assert_ne!(new_marker(), new_marker());
    }

    #[test]
    fn descendants_follow_parent_links_only() {
        let procs: HashMap<i32, Stat> = [(2, 1), (3, 2), (4, 3), (5, 1), (6, 5)]
            .into_iter()
            .map(|(pid, parent)| {
                let s = Stat {
                    parent,
                    start: 0,
                    zombie: false,
                    stopped: false,
                };
                (pid, s)
            })
            .collect();
        let mut found = descendants(&procs, &[2]);
        found.sort();
        assert_eq!(found, vec![3, 4]);
    }
}

/// Helpers for the exec module's tests.
#[cfg(test)]
pub mod tests_support {
    /// Whether `pid` runs (exists and is no zombie).
    pub fn alive(pid: i32) -> bool {
        super::stat(pid).is_some_and(|s| !s.zombie)
    }
}
