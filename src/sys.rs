//! The host as the kernel shows it: small syscall wrappers and `/proc` readers that several
//! layers share. Bottom layer: imports nothing from the crate. Calls go through `rustix`, whose
//! safe wrappers leave no raw libc call here. (`exec` keeps the process-tree walking it owns,
//! `actions::kill` its pidfd-held reads, and `facts` its bounded walk of listeners and open
//! files; all of them read `/proc/PID/stat` through [`proc_stat`] and [`parse_proc_stat`], and
//! every `/proc/*/fd` walk goes through [`each_open_fd`].)

use rustix::fs::{FlockOperation, Mode, OFlags};
use rustix::process::{Pid, Signal};
use std::ffi::CStr;
use std::fs::File;
use std::ops::ControlFlow;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

/// Whether orchestrator runs as root (effective uid 0).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The effective uid, for per-user paths.
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Whether systemd manages this host (sd_booted(3) looks at the same directory).
pub fn systemd_is_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// The uid a person logged in as (`/proc/self/loginuid`, set by pam_loginuid at login and
/// kept by the kernel across `sudo` and `su`); `None` when no login set it (a service, most
/// containers).
pub fn login_uid() -> Option<u32> {
    let text = std::fs::read_to_string("/proc/self/loginuid").ok()?;
    let uid: u32 = text.trim().parse().ok()?;
    // (uid_t)-1: unset.
    (uid != u32::MAX).then_some(uid)
}

/// The owner of the terminal on stdin, stdout or stderr, the first that is one: who logged in
/// on it (`sudo` and `su` leave the terminal theirs, as `who am i` reads it).
pub fn terminal_owner() -> Option<u32> {
    use std::io::IsTerminal;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let terminals = [
        stdin.is_terminal().then(|| stdin.as_fd()),
        stdout.is_terminal().then(|| stdout.as_fd()),
        stderr.is_terminal().then(|| stderr.as_fd()),
    ];
    let fd = terminals.into_iter().flatten().next()?;
    rustix::fs::fstat(fd).ok().map(|stat| stat.st_uid)
}

/// A user's name in `/etc/passwd`; `None` for a uid it does not list (a directory service's
/// user: the callers fall back on the environment).
pub fn user_name(uid: u32) -> Option<String> {
    use std::io::Read;
    let mut text = String::new();
    File::open("/etc/passwd")
        .ok()?
        .take(8 << 20)
        .read_to_string(&mut text)
        .ok()?;
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let listed: u32 = fields.nth(1)?.parse().ok()?;
        (listed == uid && !name.is_empty()).then(|| name.to_string())
    })
}

/// The kernel's name for this host.
pub fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
}

/// A file system's size as statvfs(3) reports it, in bytes and inodes.
pub struct FsSize {
    pub block_size: u64,
    pub blocks: u64,
    pub blocks_free: u64,
    pub blocks_available: u64,
    pub inodes: u64,
    pub inodes_free: u64,
}

pub fn statvfs(path: &Path) -> std::io::Result<FsSize> {
    let stat = rustix::fs::statvfs(path)?;
    Ok(FsSize {
        block_size: stat.f_frsize,
        blocks: stat.f_blocks,
        blocks_free: stat.f_bfree,
        blocks_available: stat.f_bavail,
        inodes: stat.f_files,
        inodes_free: stat.f_ffree,
    })
}

/// Sizes as the host's own tools print them (`1.5 GiB`), for check summaries and action reports.
pub fn human_bytes(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// How [`flock`] failed: another holder, or the system refused.
pub enum FlockError {
    Busy,
    Io(std::io::Error),
}

/// An exclusive flock(2) on `file`; `wait` blocks until the holder lets go, otherwise a held
/// lock is `Busy` at once. An interrupted wait is retried.
pub fn flock(file: &File, wait: bool) -> Result<(), FlockError> {
    let operation = if wait {
        FlockOperation::LockExclusive
    } else {
        FlockOperation::NonBlockingLockExclusive
    };
    loop {
        match rustix::fs::flock(file, operation) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(rustix::io::Errno::WOULDBLOCK) => return Err(FlockError::Busy),
            Err(errno) => return Err(FlockError::Io(errno.into())),
        }
    }
}

/// SIGKILL to the process group `leader` leads. A group already gone is not an error: there is
/// nothing left to stop.
pub fn kill_group(leader: i32) {
    if let Some(pid) = Pid::from_raw(leader) {
        let _ = rustix::process::kill_process_group(pid, Signal::KILL);
    }
}

/// Processes whose command name (comm) or executable basename equals `name`.
pub fn pids_named(name: &str) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| process_name_matches(*pid, name))
        .collect()
}

fn process_name_matches(pid: i32, name: &str) -> bool {
    if process_name(pid) == name {
        return true;
    }
    // comm is cut at 15 bytes; argv[0]'s basename is the full name.
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    let argv0 = String::from_utf8_lossy(argv0);
    argv0.rsplit('/').next() == Some(name)
}

/// The command name the kernel keeps (`/proc/PID/comm`, cut at 15 bytes); empty when the
/// process is gone.
pub fn process_name(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|name| name.trim_end().to_string())
        .unwrap_or_default()
}

/// Whether `pid` names a live process (a zombie has already ended).
pub fn pid_alive(pid: i32) -> bool {
    proc_stat(pid).is_some_and(|s| !s.zombie)
}

/// What `/proc/PID/stat` says about a process.
#[derive(Debug, Clone, Copy)]
pub struct ProcStat {
    pub parent: i32,
    /// Clock ticks after boot: with the pid, the process's identity.
    pub start: u64,
    /// The process group id.
    pub group: i32,
    /// The session id: the pid of the session's leader (a daemon's master after `setsid`),
    /// kept by its children after the leader is gone.
    pub session: i32,
    pub zombie: bool,
    /// Stopped by a signal (state `T`; `t` is stopped by a tracer, and may be let go).
    pub stopped: bool,
}

/// `/proc/PID/stat` of `pid`; `None` when there is no such process (any more).
pub fn proc_stat(pid: i32) -> Option<ProcStat> {
    parse_proc_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// The fields of `/proc/PID/stat` after the command name, which may hold spaces and
/// parentheses: they are counted from the last `)` (state, ppid, pgrp, …).
fn fields_after_comm(text: &str) -> Option<Vec<&str>> {
    let rest = &text[text.rfind(')')? + 1..];
    Some(rest.split_whitespace().collect())
}

/// The ppid field of a `/proc/PID/stat` text.
pub fn parent_in_stat(text: &str) -> Option<i32> {
    fields_after_comm(text)?.get(1)?.parse().ok()
}

/// Parses `/proc/PID/stat`: state, ppid, group, session, and start time as the 20th field after comm.
pub fn parse_proc_stat(text: &str) -> Option<ProcStat> {
    let fields = fields_after_comm(text)?;
    let state = *fields.first()?;
    Some(ProcStat {
        zombie: state == "Z",
        stopped: state == "T",
        parent: fields.get(1)?.parse().ok()?,
        group: fields.get(2)?.parse().ok()?,
        session: fields.get(3)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
    })
}

/// This process's memory as the kernel counts it (`/proc/self/status`): the peak resident set,
/// and the resident set now split into anonymous memory (heap, stacks) and file pages (the
/// binary and libraries), for the debug log.
pub fn memory_use() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map_or("?".to_string(), |value| value.trim().to_string())
    };
    format!(
        "peak RSS {}, now anonymous {} and file {}, {} threads",
        field("VmHWM"),
        field("RssAnon"),
        field("RssFile"),
        field("Threads")
    )
}

thread_local! {
    /// How many times this thread walked every process's descriptors ([`each_open_fd`]):
    /// tests prove the walks happen only where they must.
    static FD_WALKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many times this thread has walked every process's descriptors.
#[cfg(test)]
pub(crate) fn fd_walks_on_this_thread() -> u64 {
    FD_WALKS.with(|walks| walks.get())
}

/// Each open file descriptor of each process, this one included: the process's /proc/PID/fd
/// directory, opened once (look a descriptor up relative to it with `readlinkat` or `statat`,
/// not by a path walk), and the descriptor's number in it. `visit` breaks to stop the walk. A
/// process that ends meanwhile, or whose descriptors may not be read, is passed over; only an
/// unreadable /proc is an error.
pub fn each_open_fd(
    mut visit: impl FnMut(i32, BorrowedFd<'_>, &CStr) -> ControlFlow<()>,
) -> std::io::Result<()> {
    FD_WALKS.with(|walks| walks.set(walks.get() + 1));
    let procs = std::fs::read_dir("/proc")?;
    for pid in procs
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
    {
        let Ok(fd_dir) = rustix::fs::openat(
            rustix::fs::CWD,
            format!("/proc/{pid}/fd"),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            continue;
        };
        let Ok(entries) = rustix::fs::Dir::read_from(&fd_dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let fd = entry.file_name();
            if !fd.to_bytes().first().is_some_and(u8::is_ascii_digit) {
                continue;
            }
            if visit(pid, fd_dir.as_fd(), fd).is_break() {
                return Ok(());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_picks_the_largest_unit_below_1024() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn parses_stat_with_a_hostile_command_name() {
        let line = "4242 (a) b) Z (c) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
                    987654 1000 100 18446744073709551615";
        let s = parse_proc_stat(line).unwrap();
        assert_eq!(s.parent, 17);
        assert_eq!(s.group, 4242);
        assert_eq!(s.start, 987654);
        assert!(!s.zombie);
    }

    #[test]
    fn reads_its_own_stat() {
        let me = proc_stat(std::process::id() as i32).unwrap();
        assert_eq!(me.parent, std::os::unix::process::parent_id() as i32);
    }

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(pid_alive(std::process::id() as i32));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        assert!(!pid_alive(pid));
    }

    #[test]
    fn a_second_flock_on_the_same_file_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let first = File::create(&path).unwrap();
        let second = File::open(&path).unwrap();
        assert!(flock(&first, false).is_ok());
        assert!(matches!(flock(&second, false), Err(FlockError::Busy)));
        drop(first);
        assert!(flock(&second, false).is_ok());
    }

    #[test]
    fn statvfs_sees_the_root_file_system_and_refuses_a_missing_path() {
        let root = statvfs(Path::new("/")).unwrap();
        assert!(root.blocks > 0 && root.block_size > 0);
        assert!(statvfs(Path::new("/no/such/dir")).is_err());
    }
}
