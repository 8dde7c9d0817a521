//! Process trees: finding every process a command started, wherever it went, and ending them.
//!
//! A process group is not a tree: `setsid` leaves it, and a child whose parent exits is
//! reparented out of sight. Three things together attribute each process to the one command
//! that started it, even while several commands run at once (checks run in parallel threads):
//!
//! 1. **Subreaper.** orchestrator is a child subreaper (`PR_SET_CHILD_SUBREAPER`), so an orphan
//!    is reparented to orchestrator instead of PID 1: everything any command started stays in
//!    orchestrator's own process subtree, and that subtree is all a sweep has to search. It is
//!    read from the children lists of orchestrator's threads down (`/proc/PID/task/TID/children`),
//!    so a sweep costs what the commands running at that moment started, not what runs on the
//!    host: 2 000 idle processes elsewhere add nothing ([`own_subtree`]).
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
//! If orchestrator itself is SIGKILLed, the direct child of every command dies with it
//! (`PR_SET_PDEATHSIG`), but that child's own descendants go to PID 1 (or a subreaper above
//! orchestrator) and outlive it. For an action, the caller records the command's [`Trace`] (its
//! marker, process group and leader) before the command can do anything, and the next run ends
//! what is left of it with [`end_leftovers`]: the same sweep, searching the whole host, since
//! the orphans are no longer orchestrator's descendants. That is the one host-wide walk, and it
//! runs only when an interrupted attempt is recovered, never after a command. (So does the
//! sweep of a process that could not become the subreaper: it warns once.)
//!
//! Limits: a descendant that clears its environment (`env -i`) *and* loses its parent between
//! two polls (at most 20 ms apart) is attributed to no command; it is left alone and never
//! reaped (after orchestrator was killed: unless it stayed in the command's process group).

use crate::sys::{proc_stat as stat, process_name, ProcStat as Stat};
use rustix::process::{
    pidfd_open, pidfd_send_signal, waitid, Pid, PidfdFlags, Signal, WaitId, WaitIdOptions,
};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, Once, OnceLock};
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

thread_local! {
    /// How many times this thread listed every process of the host: tests prove a command's
    /// sweep never does.
    static HOST_WALKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

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

/// What identifies one command's processes from outside orchestrator, so that a later run can
/// find what a killed orchestrator left of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// The value of [`MARKER_VARIABLE`] every process of the command inherits.
    pub marker: String,
    /// The direct child: its pid, which is also the command's process group id, and its start
    /// time. None until the command has started.
    pub leader: Option<Leader>,
    /// The kernel's boot id: start times count from boot, so they mean nothing after a reboot.
    pub boot: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leader {
    pub pid: i32,
    /// Clock ticks after boot (`/proc/PID/stat`, field 22).
    pub start: u64,
}

impl Trace {
    pub fn new(marker: String) -> Trace {
        Trace {
            marker,
            leader: None,
            boot: boot_id(),
        }
    }

    /// The trace once the command's direct child runs, as [`Tree::leader`] names it.
    pub fn with_leader(&self, leader: Option<Leader>) -> Trace {
        Trace {
            leader,
            ..self.clone()
        }
    }
}

/// This boot of the kernel, as `/proc/sys/kernel/random/boot_id` names it (read once: it
/// cannot change while orchestrator runs).
fn boot_id() -> String {
    static BOOT_ID: OnceLock<String> = OnceLock::new();
    BOOT_ID
        .get_or_init(|| {
            std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .map(|id| id.trim().to_string())
                .unwrap_or_default()
        })
        .clone()
}

/// A process a sweep killed, for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Killed {
    pub pid: i32,
    pub name: String,
}

/// Kills what is left of a command whose orchestrator was killed: every process that carries
/// its marker, every process of its group (only while the group id is still the recorded
/// leader's: a group id is not reused while any member lives, and a new leader with that pid
/// would have another start time), and their descendants. Searches the whole host; never
/// touches orchestrator itself nor its ancestors. Nothing after a reboot: nothing can be left.
pub fn end_leftovers(trace: &Trace) -> Vec<Killed> {
    if trace.marker.is_empty() || trace.boot != boot_id() {
        return Vec::new();
    }
    let mut tree = Tree {
        marker: trace.marker.clone(),
        child: trace.leader.map(|l| Proc {
            pid: l.pid,
            start: l.start,
        }),
        seen: HashSet::new(),
        group: trace.leader,
        host_wide: true,
    };
    tree.kill_all()
}

/// One process, told apart from a later process with the same pid by its start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Proc {
    pid: i32,
    start: u64,
}

/// The processes of one command.
pub struct Tree {
    marker: String,
    child: Option<Proc>,
    seen: HashSet<Proc>,
    /// The recorded leader, whose process group is also the tree's (for leftovers only: while
    /// orchestrator lives, the group's members are its descendants anyway).
    group: Option<Leader>,
    /// Search every process on the host, not only orchestrator's descendants.
    host_wide: bool,
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
            group: None,
            host_wide: false,
        }
    }

    /// The command's direct child, as it was when the tree was made: its pid (the command's
    /// process group id too) and start time, for the [`Trace`].
    pub fn leader(&self) -> Option<Leader> {
        self.child.map(|c| Leader {
            pid: c.pid,
            start: c.start,
        })
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
        self.kill_all().len()
    }

    /// [`Tree::end`], naming what it killed.
    fn kill_all(&mut self) -> Vec<Killed> {
        let deadline = Instant::now() + KILL_FOR;
        let frozen = self.freeze(deadline);
        if frozen.is_empty() {
            // Nothing ran: the usual case, and done with one look at /proc.
            reap_adopted();
            return Vec::new();
        }
        let mut names = HashMap::new();
        let mut kill = |p: Proc| {
            // Named before the signal, while the process still has its name.
            let name = process_name(p.pid);
            let sent = send(p, Signal::KILL);
            if sent {
                names.insert(p, name);
            }
            sent
        };
        let mut killed: HashSet<Proc> = frozen.into_iter().filter(|&p| kill(p)).collect();
        // Whatever a freeze that ran out of time missed, killed until none is left.
        let mut quiet = QuietLooks::new(self.searches_host());
        loop {
            let live = self.live_members();
            if quiet.settled(live.is_empty()) {
                break;
            }
            if live.is_empty() {
                continue;
            }
            killed.extend(live.into_iter().filter(|&p| kill(p)));
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
        if self.host_wide {
            // Leftovers are PID 1's children (or another subreaper's) now: not ours to reap.
            wait_dead(killed.iter().copied().collect());
        } else {
            self.reap(killed.iter().copied().collect());
        }
        reap_adopted();
        let mut listed: Vec<Killed> = names
            .into_iter()
            .map(|(p, name)| Killed { pid: p.pid, name })
            .collect();
        listed.sort_by_key(|k| k.pid);
        listed
    }

    /// Stops every live member, looking again until no member runs: then none can fork.
    fn freeze(&self, deadline: Instant) -> HashSet<Proc> {
        let mut stopped = HashSet::new();
        let mut quiet = QuietLooks::new(self.searches_host());
        loop {
            let procs = self.snapshot();
            let members = self.members(&procs);
            let running: Vec<Proc> = members
                .iter()
                .filter(|(_, s)| !s.zombie && !s.stopped)
                .map(|&(p, _)| p)
                .collect();
            if quiet.settled(running.is_empty()) || Instant::now() >= deadline {
                return stopped;
            }
            if running.is_empty() {
                // Confirmed by a second look at once: it guards against a read, not a delay.
                continue;
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
        self.members(&self.snapshot())
            .into_iter()
            .filter(|(_, s)| !s.zombie)
            .map(|(p, _)| p)
            .collect()
    }

    /// Leaves the tree's live processes running and remembers them, to reap when they exit.
    pub fn release(&mut self) -> usize {
        let live: Vec<Proc> = self
            .members(&self.snapshot())
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let count = live.len();
        adopt(live);
        reap_adopted();
        count
    }

    /// Whether a sweep of this tree lists every process of the host: leftovers of a killed
    /// orchestrator (no longer its descendants), or any tree when orchestrator could not become
    /// the subreaper (an orphan would leave its subtree).
    fn searches_host(&self) -> bool {
        self.host_wide || !IS_SUBREAPER.load(Ordering::SeqCst)
    }

    /// The processes that may be members, by pid: orchestrator's own subtree, or the host's.
    fn snapshot(&self) -> HashMap<i32, Stat> {
        if self.searches_host() {
            host_snapshot()
        } else {
            own_subtree()
        }
    }

    /// The tree's processes in `procs`: the child, those seen, those carrying the marker, and
    /// every descendant of those.
    fn members(&self, procs: &HashMap<i32, Stat>) -> Vec<(Proc, Stat)> {
        let me = own_pid().as_raw_nonzero().get();
        let candidates = procs.keys().copied();
        let is_member = |pid: i32| {
            let proc = Proc {
                pid,
                start: procs[&pid].start,
            };
            Some(proc) == self.child
                || self.seen.contains(&proc)
                || self.in_recorded_group(procs, pid)
                || has_marker(pid, &self.marker)
        };
        let seeds: Vec<i32> = candidates.filter(|&p| is_member(p)).collect();
        let mut all: HashSet<i32> = descendants(procs, &seeds).into_iter().collect();
        all.extend(seeds);
        if self.host_wide {
            // A leftover search must not stop the orchestrator that runs it, nor what runs it.
            for pid in ancestors(procs, me) {
                all.remove(&pid);
            }
        }
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

    /// Whether `pid` is in the recorded leader's process group. The group id is the leader's
    /// pid; it is trusted only while no other process holds that pid (the kernel does not hand
    /// out a pid that is still some group's id), and the member must be younger than the leader.
    fn in_recorded_group(&self, procs: &HashMap<i32, Stat>, pid: i32) -> bool {
        let Some(leader) = self.group else {
            return false;
        };
        let member = procs[&pid];
        let group_is_the_leaders = procs
            .get(&leader.pid)
            .is_none_or(|l| l.start == leader.start);
        member.group == leader.pid && member.start >= leader.start && group_is_the_leaders
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

/// Waits (bounded) until each of `procs` has died, reaped or not.
fn wait_dead(mut procs: Vec<Proc>) {
    let deadline = Instant::now() + REAP_FOR;
    loop {
        procs.retain(|&p| stat(p.pid).is_some_and(|s| s.start == p.start && !s.zombie));
        if procs.is_empty() || Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
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

/// Two looks in a row must agree that nothing is left before a sweep stops. A children list
/// is read entry by entry, and one read while a listed sibling exits may skip the entry after
/// it (the kernel documents the file as exact only for frozen tasks); the second look would
/// have to lose the same race again, on the same process. A listing of /proc skips nothing that
/// lives throughout, so one look is enough there.
struct QuietLooks {
    needed: u32,
    seen: u32,
}

impl QuietLooks {
    fn new(host_wide: bool) -> QuietLooks {
        QuietLooks {
            needed: if host_wide { 1 } else { 2 },
            seen: 0,
        }
    }

    /// Counts one look that found nothing (`quiet`) or something; true once enough quiet looks
    /// came in a row.
    fn settled(&mut self, quiet: bool) -> bool {
        self.seen = if quiet { self.seen + 1 } else { 0 };
        self.seen >= self.needed
    }
}

/// orchestrator's descendants, by pid: the children of each of its threads, theirs, and so on.
/// Every process a command started is in it while orchestrator is the subreaper, and reading it
/// costs in proportion to it, not to the host.
fn own_subtree() -> HashMap<i32, Stat> {
    let mut procs = HashMap::new();
    let mut pending = children_of(own_pid().as_raw_nonzero().get());
    while let Some(pid) = pending.pop() {
        if procs.contains_key(&pid) {
            continue;
        }
        if let Some(s) = stat(pid) {
            procs.insert(pid, s);
            pending.extend(children_of(pid));
        }
    }
    procs
}

/// How many times this thread has listed every process on the host.
#[cfg(test)]
pub(crate) fn host_walks_on_this_thread() -> u64 {
    HOST_WALKS.with(|walks| walks.get())
}

/// Every process on the host, by pid.
fn host_snapshot() -> HashMap<i32, Stat> {
    HOST_WALKS.with(|walks| walks.set(walks.get() + 1));
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

/// `pid` and every process above it, by parent links in `procs`.
fn ancestors(procs: &HashMap<i32, Stat>, pid: i32) -> Vec<i32> {
    let mut found = vec![pid];
    let mut current = pid;
    while let Some(parent) = procs.get(&current).map(|s| s.parent) {
        if parent <= 0 || found.contains(&parent) {
            break;
        }
        found.push(parent);
        current = parent;
    }
    found
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::pid_alive;

    #[test]
    fn markers_are_unique() {
        assert_ne!(new_marker(), new_marker());
    }

    fn process(group: i32, start: u64) -> Stat {
        Stat {
            parent: 1,
            group,
            session: group,
            start,
            zombie: false,
            stopped: false,
        }
    }

    fn leftovers_of(leader: Leader) -> Tree {
        Tree {
            marker: "unused".into(),
            child: None,
            seen: HashSet::new(),
            group: Some(leader),
            host_wide: true,
        }
    }

    #[test]
    fn a_recorded_group_is_trusted_only_while_its_id_is_the_leaders() {
        let tree = leftovers_of(Leader {
            pid: 100,
            start: 50,
        });
        // The leader is gone; a member of its group, started after it, remains.
        let procs = HashMap::from([(101, process(100, 60))]);
        assert!(tree.in_recorded_group(&procs, 101));
        // Pid 100 now is another process, leading a group of its own with the same id.
        let procs = HashMap::from([(100, process(100, 70)), (101, process(100, 80))]);
        assert!(!tree.in_recorded_group(&procs, 101));
        // Older than the leader: not its descendant, whatever its group says.
        let procs = HashMap::from([(99, process(100, 40))]);
        assert!(!tree.in_recorded_group(&procs, 99));
    }

    #[test]
    fn leftovers_are_found_by_marker_and_never_after_a_reboot() {
        let marker = new_marker();
        let mut victim = std::process::Command::new("sleep")
            .arg("30")
            .env(MARKER_VARIABLE, &marker)
            .spawn()
            .unwrap();
        let pid = victim.id() as i32;
        let rebooted = Trace {
            marker: marker.clone(),
            leader: None,
            boot: "another boot".into(),
        };
        assert!(end_leftovers(&rebooted).is_empty());
        assert!(pid_alive(pid), "a trace of another boot hit {pid}");
        let killed = end_leftovers(&Trace::new(marker));
        assert_eq!(
            killed,
            vec![Killed {
                pid,
                name: "sleep".into()
            }]
        );
        assert!(!pid_alive(pid));
        // The sweep reaped it already; this only makes sure.
        let _ = victim.try_wait();
    }

    #[test]
    fn descendants_follow_parent_links_only() {
        let procs: HashMap<i32, Stat> = [(2, 1), (3, 2), (4, 3), (5, 1), (6, 5)]
            .into_iter()
            .map(|(pid, parent)| {
                let s = Stat {
                    parent,
                    group: pid,
                    session: pid,
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
