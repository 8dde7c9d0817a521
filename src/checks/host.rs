//! What the in-process checks (`disk`, `memory`, `load`, `process`, `file`) and the actions
//! share about the host: statvfs(3), processes by name, whether a pid lives, the host name.
//! They read /proc and the kernel directly, which costs microseconds instead of a fork.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub(crate) struct DiskUsage {
    pub total: u64,
    pub free: u64,
    pub used_percent: f64,
    pub inodes_used_percent: f64,
}

pub(crate) fn statvfs(path: &Path) -> std::io::Result<DiskUsage> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("path contains NUL"))?;
    // SAFETY: statvfs writes into the zeroed struct we own; the path is a valid C string.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above: a valid C string and a struct we own.
    if unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let block = stat.f_frsize as u64;
    let total = stat.f_blocks as u64 * block;
    let free = stat.f_bavail as u64 * block;
    // As df(1): used / (used + available to unprivileged users).
    let used = (stat.f_blocks as u64 - stat.f_bfree as u64) * block;
    let used_percent = if used + free == 0 {
        0.0
    } else {
        used as f64 * 100.0 / (used + free) as f64
    };
    let inodes_used_percent = if stat.f_files == 0 {
        0.0
    } else {
        (stat.f_files - stat.f_ffree) as f64 * 100.0 / stat.f_files as f64
    };
    Ok(DiskUsage {
        total,
        free,
        used_percent,
        inodes_used_percent,
    })
}

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

/// The kernel's name for this host.
pub fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
}

pub fn pid_alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid)
}

fn is_zombie(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        .unwrap_or(false)
}
