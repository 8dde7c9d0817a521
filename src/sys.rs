//! The host as the kernel shows it: small syscall wrappers and `/proc` readers that several
//! layers share. Bottom layer: imports nothing from the crate. Calls go through `rustix`, whose
//! safe wrappers leave no raw libc call here. (`exec` keeps the process-tree reading it owns, `actions::kill`
//! its pidfd-held reads, and `facts` its bounded walk of listeners and open files.)

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
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim_end() == name {
        return true;
    }
    // comm is cut at 15 bytes; argv[0]'s basename is the full name.
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    let argv0 = String::from_utf8_lossy(argv0);
    argv0.rsplit('/').next() == Some(name)
}

/// Whether `pid` names a live process (a zombie has already ended).
pub fn pid_alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid)
}

fn is_zombie(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        .unwrap_or(false)
}

/// Each open file descriptor of each process, this one included: the process's /proc/PID/fd
/// directory, opened once (look a descriptor up relative to it with `readlinkat` or `statat`,
/// not by a path walk), and the descriptor's number in it. `visit` breaks to stop the walk. A
/// process that ends meanwhile, or whose descriptors may not be read, is passed over; only an
/// unreadable /proc is an error.
pub fn each_open_fd(
    mut visit: impl FnMut(i32, BorrowedFd<'_>, &CStr) -> ControlFlow<()>,
) -> std::io::Result<()> {
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
