//! What the in-process checks (`disk`, `memory`, `load`, `process`, `file`) share about the
//! host: a file system's usage as df(1) computes it, and the `sys` calls they use. They read
//! /proc and the kernel directly, which costs microseconds instead of a fork.

use crate::sys;
use std::path::Path;

pub(crate) struct DiskUsage {
    pub total: u64,
    pub free: u64,
    pub used_percent: f64,
    pub inodes_used_percent: f64,
}

pub(crate) fn statvfs(path: &Path) -> std::io::Result<DiskUsage> {
    let fs = sys::statvfs(path)?;
    let total = fs.blocks * fs.block_size;
    let free = fs.blocks_available * fs.block_size;
    // As df(1): used / (used + available to unprivileged users).
    let used = (fs.blocks - fs.blocks_free) * fs.block_size;
    let used_percent = if used + free == 0 {
        0.0
    } else {
        used as f64 * 100.0 / (used + free) as f64
    };
    let inodes_used_percent = if fs.inodes == 0 {
        0.0
    } else {
        (fs.inodes - fs.inodes_free) as f64 * 100.0 / fs.inodes as f64
    };
    Ok(DiskUsage {
        total,
        free,
        used_percent,
        inodes_used_percent,
    })
}
