//! The facts as short lines for people.

use super::*;

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
            crate::sys::human_bytes(f.free_bytes),
            crate::sys::human_bytes(f.total_bytes),
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
            crate::sys::human_bytes(d.bytes),
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
