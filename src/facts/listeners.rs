//! Who listens on the check's port and the ports the evidence says were taken, and whether
//! that is the service itself or a squatter.

use super::*;

/// The port an HTTP or TCP check connects to.
pub fn check_port(check: &Check) -> Option<u16> {
    check.kind.port()
}

/// The check's own port and the ports its evidence says were taken.
pub(super) fn ports_of(check: &Check, evidence: &str) -> Vec<u16> {
    let mut ports: Vec<u16> = check_port(check).into_iter().collect();
    for port in ports_in_use(evidence) {
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    ports
}

/// Ports named by "address already in use" messages. A port is read only where it follows an
/// address (`0.0.0.0:80`, `[::]:80`, `*:6379`, `tcp :8080`) or the word "port" (`port 22`), so
/// a timestamp's `08:15:42` is never taken for one. PostgreSQL names the port on its HINT
/// line, after the line that says the address is in use: lines up to two after count.
pub fn ports_in_use(evidence: &str) -> Vec<u16> {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        Regex::new(
            r"(?i)(?:\b\d{1,3}(?:\.\d{1,3}){3}|\]|\*|\blocalhost|\btcp6?\s*|\budp6?\s*|\bbind\(?\)?\s+to\s+):(\d{1,5})\b|\bport\s+(\d{1,5})\b",
        )
        .expect("regex")
    });
    let lines: Vec<&str> = evidence.lines().collect();
    let mut ports = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let lower = line.to_lowercase();
        if !(lower.contains("address already in use") || lower.contains("eaddrinuse")) {
            continue;
        }
        for nearby in &lines[at..lines.len().min(at + 3)] {
            for captures in pattern.captures_iter(nearby) {
                let number = captures.get(1).or_else(|| captures.get(2));
                if let Some(port) = number.and_then(|m| m.as_str().parse::<u16>().ok()) {
                    if port > 0 && !ports.contains(&port) {
                        ports.push(port);
                    }
                }
            }
            if !ports.is_empty() {
                break;
            }
        }
    }
    ports
}

/// What marks a process as the check's own rather than a squatter (none, by default).
#[derive(Default)]
pub(super) struct OwnProcesses {
    pids: BTreeSet<i32>,
    /// The pids the service's pid files name, alive or not, and whether each lives: a daemon's
    /// master leads the session (and process group) its workers keep, even once it is dead.
    leaders: BTreeMap<i32, bool>,
    control_group: Option<String>,
    name: Option<String>,
}

/// Whose a listening process is.
#[derive(Debug, PartialEq)]
pub(super) enum Whose {
    Foreign,
    Own,
    /// The service's own, whose leader (the pid file's pid) is dead.
    Orphan,
}

impl OwnProcesses {
    pub(super) fn of(check: &Check, facts: &Facts) -> OwnProcesses {
        let mut pids: BTreeSet<i32> = facts
            .pid_files
            .iter()
            .filter(|p| p.alive)
            .filter_map(|p| p.pid)
            .collect();
        pids.extend(facts.unit.as_ref().and_then(|u| u.main_pid));
        let leaders = facts
            .pid_files
            .iter()
            .filter_map(|p| Some((p.pid?, p.alive)))
            .collect();
        let name = check.kind.process_name().map(str::to_string);
        OwnProcesses {
            pids,
            leaders,
            control_group: facts.unit.as_ref().and_then(|u| u.control_group.clone()),
            name,
        }
    }

    pub(super) fn whose(&self, pid: i32, command: &str) -> Whose {
        if self.pids.contains(&pid) || self.name.as_deref() == Some(command) {
            return Whose::Own;
        }
        if let Some(stat) = crate::sys::proc_stat(pid) {
            let led = [stat.session, stat.group]
                .iter()
                .find_map(|id| self.leaders.get(id).copied());
            match led {
                Some(true) => return Whose::Own,
                Some(false) => return Whose::Orphan,
                None => {}
            }
        }
        let Some(group) = &self.control_group else {
            return Whose::Foreign;
        };
        let in_unit = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .map(|text| {
                text.lines()
                    .any(|l| l.rsplit(':').next() == Some(group.as_str()))
            })
            .unwrap_or(false);
        if in_unit {
            Whose::Own
        } else {
            Whose::Foreign
        }
    }
}

/// The listeners among the processes of the sessions (or process groups) the service's pid
/// files name: one `stat` read per process, then the descriptors of those few only.
pub(super) fn own_listeners(sockets: &BTreeMap<String, u16>, own: &OwnProcesses) -> Vec<Listener> {
    let mut found = Vec::new();
    if sockets.is_empty() || own.leaders.is_empty() {
        return found;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    let pids = entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok());
    for pid in pids {
        let led = crate::sys::proc_stat(pid).is_some_and(|stat| {
            own.leaders.contains_key(&stat.session) || own.leaders.contains_key(&stat.group)
        });
        if !led {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten().take(MAX_FDS) {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(port) = sockets.get(target.to_string_lossy().as_ref()) else {
                continue;
            };
            if found
                .iter()
                .any(|l: &Listener| l.pid == pid && l.port == *port)
            {
                continue;
            }
            let command = process_name(pid);
            let whose = own.whose(pid, &command);
            found.push(Listener {
                port: *port,
                pid,
                command,
                own: whose != Whose::Foreign,
                orphan: whose == Whose::Orphan,
            });
        }
    }
    found
}

/// The processes listening on TCP `port`, found by the same bounded /proc walk as the facts'
/// listeners; none is marked the service's own.
pub fn listeners_on(port: u16) -> Vec<Listener> {
    let sockets = listening_sockets(&[port]);
    if sockets.is_empty() {
        return Vec::new();
    }
    proc_walk(&sockets, false, &OwnProcesses::default())
        .0
        .listeners
}

/// `socket:[INODE]` → port, for the TCP sockets listening on `ports`.
pub(super) fn listening_sockets(ports: &[u16]) -> BTreeMap<String, u16> {
    if ports.is_empty() {
        return BTreeMap::new();
    }
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .flat_map(|table| listening_lines(table))
        .filter_map(|line| listening_inode(&line, ports))
        .map(|(inode, port)| (format!("socket:[{inode}]"), port))
        .collect()
}

/// The LISTEN lines of a /proc/net/tcp table. The kernel lists listening sockets before
/// the established and TIME_WAIT ones, so reading stops at the first other state: a busy
/// host has thousands of those, and each costs the kernel time to print.
pub(super) fn listening_lines(table: &str) -> Vec<String> {
    use std::io::BufRead;
    let Ok(file) = File::open(table) else {
        return Vec::new();
    };
    std::io::BufReader::new(file)
        .lines()
        .skip(1)
        .map_while(Result::ok)
        // State 0A is TCP_LISTEN.
        .take_while(|line| line.split_whitespace().nth(3) == Some("0A"))
        .collect()
}

/// The inode of a LISTEN line (see [`listening_lines`]) on one of `ports`.
pub(super) fn listening_inode(line: &str, ports: &[u16]) -> Option<(String, u16)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let port = u16::from_str_radix(fields.get(1)?.rsplit(':').next()?, 16).ok()?;
    ports
        .contains(&port)
        .then(|| Some((fields.get(9)?.to_string(), port)))?
}
