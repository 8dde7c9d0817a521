//! One bounded pass over /proc/*/fd: the holders of listening sockets, and the files deleted
//! but still held open.

use super::*;

#[derive(Default)]
pub(super) struct ProcWalk {
    pub(super) listeners: Vec<Listener>,
    /// (device, file) of deleted files still open.
    pub(super) deleted: Vec<(u64, DeletedOpen)>,
}

/// One pass over /proc/*/fd: the holders of `sockets`, and (if wanted) every deleted file
/// still open. Bounded by [`PROC_WALK_BUDGET`] and [`MAX_FDS`].
pub(super) fn proc_walk(
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
