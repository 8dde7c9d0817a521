//! `config discover`: a commented config for what runs on this host, to start from.
//!
//! It only reads: /proc (processes, their command lines, open files, listening sockets,
//! control groups, mounts), the daemons' own config files named on their command lines, pid
//! files, systemd's unit directories, and one HTTP GET of each web server found (to learn
//! the status its front page answers). It starts no process and writes nothing but stdout.
//!
//! What it finds, in the order printed: known daemons (nginx, Apache, Redis, PostgreSQL,
//! MySQL/MariaDB, sshd, HAProxy, memcached), each with its health check, its pid file, its
//! logs and the config test it needs; the other listening TCP ports and the process behind
//! each; mounted filesystems; memory and load; the enabled service units that run, where
//! systemd runs. `config check` passes on the output.

use crate::sys;
use crate::untrusted_file;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Listening sockets and open files looked at, at most: a huge host still answers in bounded time.
const MOST_SOCKETS: usize = 4096;
const MOST_FDS_PER_PROCESS: usize = 4096;
/// Other listening ports given a check of their own, at most.
const MOST_PORTS: usize = 40;
/// Bytes of a daemon's config file read for its pid file and logs.
const CONFIG_BYTES: u64 = 256 * 1024;
const CONFIG_LINES: usize = 20_000;

/// A daemon orchestrator knows: how to find it and what a careful admin watches of it.
struct Daemon {
    /// Also the name of its checks and its service group.
    name: &'static str,
    /// The command names its processes have.
    processes: &'static [&'static str],
    /// Where Debian puts its pid file, when neither its command line nor its config says.
    pid_files: &'static [&'static str],
    /// Where Debian puts its logs (a directory or a file), when they exist.
    logs: &'static [&'static str],
    health: Health,
}

#[derive(Clone, Copy, PartialEq)]
enum Health {
    /// A GET of its front page.
    Http,
    /// `pg_isready`, when the client is installed; else a TCP connection.
    PgIsReady,
    /// A TCP connection to its port.
    Tcp,
}

const DAEMONS: &[Daemon] = &[
    Daemon {
        name: "nginx",
        processes: &["nginx"],
        pid_files: &["/run/nginx.pid"],
        logs: &["/var/log/nginx"],
        health: Health::Http,
    },
    Daemon {
        name: "apache",
        processes: &["apache2", "httpd"],
        pid_files: &[
            "/run/apache2/apache2.pid",
            "/run/httpd/httpd.pid",
            "/var/run/httpd.pid",
        ],
        logs: &["/var/log/apache2", "/var/log/httpd"],
        health: Health::Http,
    },
    Daemon {
        name: "redis",
        processes: &["redis-server"],
        pid_files: &["/run/redis/redis-server.pid", "/var/run/redis_6379.pid"],
        logs: &["/var/log/redis"],
        health: Health::Tcp,
    },
    Daemon {
        name: "postgresql",
        processes: &["postgres", "postmaster"],
        pid_files: &[],
        logs: &["/var/log/postgresql"],
        health: Health::PgIsReady,
    },
    Daemon {
        name: "mysql",
        processes: &["mysqld", "mariadbd"],
        pid_files: &["/run/mysqld/mysqld.pid"],
        logs: &["/var/log/mysql"],
        health: Health::Tcp,
    },
    Daemon {
        name: "sshd",
        processes: &["sshd"],
        pid_files: &["/run/sshd.pid"],
        logs: &["/var/log/auth.log"],
        health: Health::Tcp,
    },
    Daemon {
        name: "haproxy",
        processes: &["haproxy"],
        pid_files: &["/run/haproxy.pid"],
        logs: &["/var/log/haproxy.log"],
        health: Health::Tcp,
    },
    Daemon {
        name: "memcached",
        processes: &["memcached"],
        pid_files: &["/run/memcached/memcached.pid"],
        logs: &["/var/log/memcached.log"],
        health: Health::Tcp,
    },
];

/// One process as /proc shows it.
#[derive(Debug, Clone)]
struct Process {
    pid: i32,
    parent: i32,
    name: String,
    argv: Vec<String>,
}

/// What the host shows, read once.
struct Host {
    processes: BTreeMap<i32, Process>,
    /// Listening TCP sockets: (address, port) → pids holding them.
    listening: BTreeMap<(IpAddr, u16), BTreeSet<i32>>,
}

/// A daemon found running.
struct Found<'a> {
    daemon: &'a Daemon,
    masters: Vec<i32>,
    exe: Option<PathBuf>,
    ports: Vec<(IpAddr, u16)>,
    pid_file: Option<PathBuf>,
    logs: Vec<PathBuf>,
    unit: Option<String>,
    config_test: Option<Vec<String>>,
}

/// The config text for this host.
pub fn discover() -> String {
    let host = Host::read();
    let mut out = String::new();
    let hostname = sys::hostname().unwrap_or_else(|| "this host".into());
    let systemd = sys::systemd_is_running();
    let _ = writeln!(
        out,
        "# orchestrator config discovered on {hostname} at {} by `orchestrator config discover`.\n\
         # A start, not a verdict: read each check, keep what matters, add the remedies you trust\n\
         # (see examples/orchestrator.toml and orchestrator.toml(5)), then `orchestrator config check`.\n\
         # Nothing here restarts anything until you add a `remedy` (or a `unit`, for phase 1's\n\
         # restart_unit).",
        crate::clock::rfc3339(crate::clock::now())
    );
    let mut names = Names::default();
    let found: Vec<Found> = DAEMONS.iter().flat_map(|d| host.find(d)).collect();
    let mut covered_ports: BTreeSet<u16> = BTreeSet::new();
    let mut covered_units: BTreeSet<String> = BTreeSet::new();
    if !found.is_empty() {
        section(&mut out, "Known daemons");
    }
    for daemon in &found {
        covered_ports.extend(daemon.ports.iter().map(|(_, port)| *port));
        covered_units.extend(daemon.unit.clone());
        daemon_checks(&mut out, &host, daemon, &mut names);
    }
    listening_checks(&mut out, &host, &covered_ports, &mut names);
    filesystem_checks(&mut out, &mut names);
    section(&mut out, "Memory and load");
    out.push_str(
        "[[checks]]\nname = \"memory\"\nkind = \"memory\"\nwarn = \"10%\"        # available memory below this\ncrit = \"5%\"\n\n\
         [[checks]]\nname = \"load\"\nkind = \"load\"\nwarn = 2.0          # 5-minute load average per core\ncrit = 4.0\n",
    );
    unit_checks(&mut out, systemd, &covered_units, &mut names);
    out.push_str(
        "\n# Who hears about what orchestrator cannot fix (orchestrator.toml(5), [escalation]):\n\
         # [escalation]\n# email = { to = [\"ops@example.org\"], from = \"orchestrator@example.org\", smtp = \"localhost:25\" }\n",
    );
    out
}

fn section(out: &mut String, title: &str) {
    let _ = writeln!(out, "\n# ---- {title} ----\n");
}

/// Check names, each used once, made of the characters a name may hold.
#[derive(Default)]
struct Names(BTreeSet<String>);

impl Names {
    fn take(&mut self, wanted: &str) -> String {
        let mut base: String = wanted
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.@:".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        base = base.trim_matches('-').to_string();
        if base.is_empty() {
            base = "check".into();
        }
        let mut name = base.clone();
        let mut n = 2;
        while !self.0.insert(name.clone()) {
            name = format!("{base}-{n}");
            n += 1;
        }
        name
    }
}

/// A TOML string, quoted and escaped.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn quoted_list<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items.iter().map(|i| quoted(i.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// The address a check connects to for a socket bound to `ip`.
fn connect_to(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => format!("127.0.0.1:{port}"),
        IpAddr::V6(v6) if v6.is_unspecified() => format!("127.0.0.1:{port}"),
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

fn daemon_checks(out: &mut String, host: &Host, found: &Found, names: &mut Names) {
    let daemon = found.daemon;
    let masters: Vec<String> = found.masters.iter().map(i32::to_string).collect();
    let ports: Vec<String> = found
        .ports
        .iter()
        .map(|(ip, port)| connect_to(*ip, *port))
        .collect();
    let _ = writeln!(
        out,
        "# {}: pid {}{}{}{}",
        daemon.name,
        masters.join(", "),
        found
            .exe
            .as_ref()
            .map(|e| format!(" ({})", e.display()))
            .unwrap_or_default(),
        if ports.is_empty() {
            String::new()
        } else {
            format!(", listening on {}", ports.join(", "))
        },
        found
            .unit
            .as_ref()
            .map(|u| format!(", unit {u}"))
            .unwrap_or_default(),
    );
    let name = names.take(daemon.name);
    let mut common = format!("service = {}\n", quoted(&name));
    if let Some(unit) = &found.unit {
        let _ = writeln!(common, "unit = {}", quoted(unit));
    }
    if !found.logs.is_empty() {
        let logs: Vec<String> = found.logs.iter().map(|l| l.display().to_string()).collect();
        let _ = writeln!(common, "logs = {}", quoted_list(&logs));
    }
    let _ = writeln!(out, "[[checks]]\nname = {}", quoted(&name));
    out.push_str(&health_check(found));
    out.push_str(&common);
    match &found.config_test {
        Some(argv) => {
            let _ = writeln!(
                out,
                "# config_test = {}   # run before any restart; a failure escalates with its output",
                quoted_list(argv)
            );
        }
        None if daemon.name == "postgresql" => out.push_str(
            "# PostgreSQL has no config test: it reports config errors in its log (above).\n",
        ),
        None => {}
    }
    out.push('\n');
    let process_name = names.take(&format!("{name}-process"));
    let _ = writeln!(
        out,
        "[[checks]]\nname = {}\nkind = \"process\"",
        quoted(&process_name)
    );
    match &found.pid_file {
        Some(pid_file) => {
            let _ = writeln!(out, "pidfile = {}", quoted(&pid_file.display().to_string()));
        }
        None => {
            let name = host
                .processes
                .get(&found.masters[0])
                .map(|p| p.name.clone())
                .unwrap_or_else(|| daemon.processes[0].to_string());
            let _ = writeln!(out, "process = {}   # no pid file found", quoted(&name));
        }
    }
    out.push_str(&common);
    out.push('\n');
}

/// The check that says whether the daemon serves: an HTTP GET, `pg_isready` or a connection.
fn health_check(found: &Found) -> String {
    let Some(&(ip, port)) = found.ports.first() else {
        return format!(
            "kind = \"process\"   # listens on no TCP port: watched by its processes\nprocess = {}\n",
            quoted(found.daemon.processes[0])
        );
    };
    let address = connect_to(ip, port);
    match found.daemon.health {
        Health::Http => {
            let url = format!("http://{address}/");
            match front_page_status(&url) {
                Some(200) | None => format!("kind = \"http\"\nurl = {}\n", quoted(&url)),
                Some(status) => format!(
                    "kind = \"http\"\nurl = {}\nexpect_status = {status}   # what it answers now\n",
                    quoted(&url)
                ),
            }
        }
        Health::PgIsReady if Path::new("/usr/bin/pg_isready").exists() => {
            let host = address
                .rsplit_once(':')
                .map(|(h, _)| h.trim_matches(['[', ']']))
                .unwrap_or("127.0.0.1");
            format!(
                "kind = \"command\"\ncommand = {}\n",
                quoted_list(&["/usr/bin/pg_isready", "-h", host, "-p", &port.to_string()])
            )
        }
        _ => format!("kind = \"tcp\"\naddress = {}\n", quoted(&address)),
    }
}

/// The status a GET of `url` answers now, within 2 s; `None` when it does not answer.
fn front_page_status(url: &str) -> Option<u16> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(2)))
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let status = agent.get(url).call().ok()?.status().as_u16();
    (status < 500).then_some(status)
}

fn listening_checks(out: &mut String, host: &Host, covered: &BTreeSet<u16>, names: &mut Names) {
    let mut seen = BTreeSet::new();
    let others: Vec<(&(IpAddr, u16), &BTreeSet<i32>)> = host
        .listening
        .iter()
        .filter(|((_, port), _)| !covered.contains(port) && seen.insert(*port))
        .collect();
    if others.is_empty() {
        return;
    }
    section(out, "Other listening TCP ports");
    for ((ip, port), pids) in others.iter().take(MOST_PORTS) {
        let who: Vec<String> = pids
            .iter()
            .filter_map(|pid| host.processes.get(pid))
            .map(|p| format!("{} (pid {})", p.name, p.pid))
            .collect();
        let process = pids
            .iter()
            .find_map(|pid| host.processes.get(pid))
            .map(|p| p.name.as_str())
            .unwrap_or("unknown");
        let name = names.take(&format!("port-{port}-{process}"));
        let _ = writeln!(
            out,
            "# {} listens on {}\n[[checks]]\nname = {}\nkind = \"tcp\"\naddress = {}\n",
            if who.is_empty() {
                "a process this user cannot see".to_string()
            } else {
                who.join(", ")
            },
            connect_to(*ip, *port),
            quoted(&name),
            quoted(&connect_to(*ip, *port)),
        );
    }
    if others.len() > MOST_PORTS {
        let _ = writeln!(
            out,
            "# … and {} more ports, left out.\n",
            others.len() - MOST_PORTS
        );
    }
}

/// File systems that hold data: on a block device or the network, not /proc, tmpfs, cgroups.
const DATA_FILESYSTEMS: &[&str] = &[
    "ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "vfat", "exfat", "jfs", "reiserfs",
    "nfs", "nfs4", "cifs", "overlay",
];

fn filesystem_checks(out: &mut String, names: &mut Names) {
    section(out, "Mounted filesystems");
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut mounts = data_mounts(&text);
    if !mounts.iter().any(|m| m == Path::new("/")) {
        mounts.insert(0, PathBuf::from("/"));
    }
    for mount in mounts {
        let wanted = if mount == Path::new("/") {
            "root-disk".to_string()
        } else {
            format!("disk{}", mount.display()).replace('/', "-")
        };
        let name = names.take(&wanted);
        let _ = writeln!(
            out,
            "[[checks]]\nname = {}\nkind = \"disk\"\npath = {}\nwarn = \"85%\"\ncrit = \"95%\"\n",
            quoted(&name),
            quoted(&mount.display().to_string())
        );
    }
}

/// The mount points of data file systems in a mountinfo text, one per source device (a bind
/// mount of the same device is left out).
fn data_mounts(mountinfo: &str) -> Vec<PathBuf> {
    let mut devices = BTreeSet::new();
    let mut found = Vec::new();
    for line in mountinfo.lines() {
        let Some((before, after)) = line.split_once(" - ") else {
            continue;
        };
        let fields: Vec<&str> = before.split_whitespace().collect();
        let mut after = after.split_whitespace();
        let (Some(fstype), Some(source)) = (after.next(), after.next()) else {
            continue;
        };
        let (Some(device), Some(root), Some(point)) = (fields.get(2), fields.get(3), fields.get(4))
        else {
            continue;
        };
        if !DATA_FILESYSTEMS.contains(&fstype) || *root != "/" {
            continue;
        }
        if devices.insert(format!("{device} {source}")) {
            found.push(PathBuf::from(unescape_mount(point)));
        }
    }
    found
}

/// mountinfo writes space, tab, newline and backslash in octal (`\040`).
fn unescape_mount(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let code = rest
            .get(at + 1..at + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(byte) => {
                out.push(byte as char);
                rest = &rest[at + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn unit_checks(out: &mut String, systemd: bool, covered: &BTreeSet<String>, names: &mut Names) {
    section(out, "systemd");
    if !systemd {
        out.push_str("# This host is not booted with systemd: no unit checks.\n");
        return;
    }
    out.push_str("[[checks]]\nname = \"failed-units\"\nkind = \"systemd-failed\"\n\n");
    let enabled = enabled_units(Path::new("/etc/systemd/system"));
    let running = running_units();
    let units: Vec<&String> = enabled
        .iter()
        .filter(|u| running.contains(*u) && !covered.contains(*u))
        .collect();
    if !units.is_empty() {
        out.push_str("# Enabled service units that run now:\n");
    }
    for unit in units {
        let name = names.take(unit.trim_end_matches(".service"));
        let _ = writeln!(
            out,
            "[[checks]]\nname = {}\nkind = \"systemd\"\nunit = {}\n",
            quoted(&name),
            quoted(unit)
        );
    }
}

/// The service units enabled under `dir` (`/etc/systemd/system`): the links in its
/// `*.wants` directories.
fn enabled_units(dir: &Path) -> BTreeSet<String> {
    let mut units = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return units;
    };
    for wants in entries.flatten() {
        if !wants.file_name().to_string_lossy().ends_with(".wants") {
            continue;
        }
        let Ok(links) = std::fs::read_dir(wants.path()) else {
            continue;
        };
        for link in links.flatten() {
            let name = link.file_name().to_string_lossy().into_owned();
            // A template's instances (`getty@tty1.service`) are started as they are named.
            if name.ends_with(".service") {
                units.insert(name);
            }
        }
    }
    units
}

/// The service units with a live process, from the processes' control groups.
fn running_units() -> BTreeSet<String> {
    let mut units = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return units;
    };
    for pid in entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
    {
        if let Some(unit) = unit_of(pid) {
            units.insert(unit);
        }
    }
    units
}

/// The service unit whose control group holds `pid`, from `/proc/PID/cgroup`.
fn unit_of(pid: i32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    unit_in_cgroup(&text)
}

fn unit_in_cgroup(text: &str) -> Option<String> {
    let path = text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        (id == "0" && controllers.is_empty() || controllers.contains("name=systemd"))
            .then_some(path)
    })?;
    path.split('/')
        .rev()
        .find(|part| part.ends_with(".service"))
        .map(str::to_string)
}

impl Host {
    fn read() -> Host {
        let mut processes = BTreeMap::new();
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for pid in entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            {
                let Some(stat) = sys::proc_stat(pid).filter(|s| !s.zombie) else {
                    continue;
                };
                let argv = std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|bytes| {
                        bytes
                            .split(|b| *b == 0)
                            .filter(|a| !a.is_empty())
                            .map(|a| String::from_utf8_lossy(a).into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                let name = sys::process_name(pid);
                processes.insert(
                    pid,
                    Process {
                        pid,
                        parent: stat.parent,
                        name,
                        argv,
                    },
                );
            }
        }
        let listening = listening(&processes);
        Host {
            processes,
            listening,
        }
    }

    /// Whether `process` is one of `daemon`'s, by command name or argv[0]'s basename.
    fn is_of(&self, process: &Process, daemon: &Daemon) -> bool {
        let argv0 = process
            .argv
            .first()
            .map(|a| a.rsplit('/').next().unwrap_or(a));
        // nginx and postgres rename their processes ("nginx: worker process"): the first word.
        let word = argv0.map(|a| a.split([':', ' ']).next().unwrap_or(a));
        daemon
            .processes
            .iter()
            .any(|name| process.name == *name || word == Some(name))
    }

    /// Each running instance of `daemon`: one per master (a process of its whose parent is
    /// not), with what its tree of processes holds.
    fn find<'a>(&self, daemon: &'a Daemon) -> Vec<Found<'a>> {
        let ours: BTreeSet<i32> = self
            .processes
            .values()
            .filter(|p| self.is_of(p, daemon))
            .map(|p| p.pid)
            .collect();
        ours.iter()
            .copied()
            .filter(|pid| {
                self.processes
                    .get(pid)
                    .is_some_and(|p| !ours.contains(&p.parent))
            })
            .map(|master| self.instance(daemon, master))
            .collect()
    }

    fn instance<'a>(&self, daemon: &'a Daemon, master: i32) -> Found<'a> {
        let masters = vec![master];
        let tree = self.tree(&masters);
        let ports: Vec<(IpAddr, u16)> = self
            .listening
            .iter()
            .filter(|(_, pids)| pids.iter().any(|pid| tree.contains(pid)))
            .map(|(socket, _)| *socket)
            .collect();
        let first = master;
        let exe = std::fs::read_link(format!("/proc/{first}/exe")).ok();
        let argv = self
            .processes
            .get(&first)
            .map(|p| original_argv(&p.argv))
            .unwrap_or_default();
        let config = config_file(daemon, &argv);
        let config_text = config.as_deref().and_then(read_config);
        let asked = ports.first().and_then(|(ip, port)| {
            (daemon.name == "redis").then(|| redis_settings(&connect_to(*ip, *port)))
        });
        let asked = asked.unwrap_or_default();
        let mut places: Vec<PathBuf> = asked.pidfile.iter().map(PathBuf::from).collect();
        places.extend(std::fs::read_link(format!("/proc/{first}/cwd")).ok());
        places.extend(
            config
                .as_deref()
                .and_then(Path::parent)
                .map(Path::to_path_buf),
        );
        let pid_file = pid_file(daemon, &argv, config_text.as_deref(), &masters, &places);
        let mut logs = logs(daemon, &argv, config_text.as_deref(), &tree);
        if let Some(log) = asked.logfile.map(PathBuf::from) {
            let log = match &asked.dir {
                Some(dir) if log.is_relative() => Path::new(dir).join(log),
                _ => log,
            };
            if log.is_absolute() && !logs.contains(&log) {
                logs.insert(0, log);
            }
        }
        let config_test = config_test(daemon, exe.as_deref(), &argv, config.as_deref());
        Found {
            daemon,
            unit: unit_of(first),
            masters,
            exe,
            ports,
            pid_file,
            logs,
            config_test,
        }
    }

    fn tree(&self, roots: &[i32]) -> BTreeSet<i32> {
        let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
        for p in self.processes.values() {
            children.entry(p.parent).or_default().push(p.pid);
        }
        let mut tree: BTreeSet<i32> = roots.iter().copied().collect();
        let mut queue: Vec<i32> = roots.to_vec();
        while let Some(pid) = queue.pop() {
            for child in children.get(&pid).into_iter().flatten() {
                if tree.insert(*child) {
                    queue.push(*child);
                }
            }
        }
        tree
    }
}

/// The listening TCP sockets and the processes holding each.
fn listening(processes: &BTreeMap<i32, Process>) -> BTreeMap<(IpAddr, u16), BTreeSet<i32>> {
    let mut by_inode: HashMap<String, (IpAddr, u16)> = HashMap::new();
    for (table, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1).take(MOST_SOCKETS) {
            if let Some((inode, socket)) = listening_socket(line, v6) {
                by_inode.insert(format!("socket:[{inode}]"), socket);
            }
        }
    }
    let mut found: BTreeMap<(IpAddr, u16), BTreeSet<i32>> = BTreeMap::new();
    for socket in by_inode.values() {
        found.entry(*socket).or_default();
    }
    for pid in processes.keys() {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten().take(MOST_FDS_PER_PROCESS) {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            if let Some(socket) = by_inode.get(target.to_string_lossy().as_ref()) {
                found.entry(*socket).or_default().insert(*pid);
            }
        }
    }
    found
}

/// The inode, address and port of a LISTEN line of /proc/net/tcp or tcp6.
fn listening_socket(line: &str, v6: bool) -> Option<(String, (IpAddr, u16))> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    // State 0A is TCP_LISTEN.
    if fields.get(3) != Some(&"0A") {
        return None;
    }
    let (address, port) = fields.get(1)?.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = if v6 {
        let mut bytes = [0u8; 16];
        for (i, word) in bytes.chunks_mut(4).enumerate() {
            let hex = address.get(i * 8..i * 8 + 8)?;
            word.copy_from_slice(&u32::from_str_radix(hex, 16).ok()?.to_le_bytes());
        }
        IpAddr::V6(Ipv6Addr::from(bytes))
    } else {
        let raw = u32::from_str_radix(address, 16).ok()?;
        IpAddr::V4(Ipv4Addr::from(raw.to_le_bytes()))
    };
    Some((fields.get(9)?.to_string(), (ip, port)))
}

/// The command line a daemon was started with. nginx writes its over with one title
/// (`nginx: master process /usr/sbin/nginx -c /x.conf -g daemon off;`): the words after
/// "master process", with `-g`'s words kept together as nginx read them.
fn original_argv(argv: &[String]) -> Vec<String> {
    let Some(rest) = argv
        .first()
        .filter(|_| argv.len() == 1)
        .and_then(|title| title.split_once("master process "))
        .map(|(_, rest)| rest)
    else {
        return argv.to_vec();
    };
    let mut words = rest.split_whitespace().peekable();
    let mut out = Vec::new();
    while let Some(word) = words.next() {
        out.push(word.to_string());
        if word == "-g" {
            let mut value = Vec::new();
            while let Some(next) = words.next_if(|w| !w.starts_with('-')) {
                value.push(next);
            }
            out.push(value.join(" "));
        }
    }
    out
}

/// What Redis says of itself (`CONFIG GET`): its title hides its command line and it holds no
/// file open but its data. Empty when it does not answer or wants a password.
#[derive(Default)]
struct RedisSettings {
    pidfile: Option<String>,
    logfile: Option<String>,
    dir: Option<String>,
}

fn redis_settings(address: &str) -> RedisSettings {
    use std::io::{Read, Write as _};
    let ask = || -> Option<String> {
        let addr = address.parse().ok()?;
        let mut stream =
            std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
        stream
            .set_write_timeout(Some(Duration::from_secs(1)))
            .ok()?;
        let mut request = String::new();
        for key in ["pidfile", "logfile", "dir"] {
            request.push_str(&format!(
                "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n${}\r\n{key}\r\n",
                key.len()
            ));
        }
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = Vec::new();
        let mut buffer = [0u8; 4096];
        // Three replies, each an array of two bulk strings; a bounded read.
        while answer.len() < 64 * 1024 {
            let n = stream.read(&mut buffer).ok()?;
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
            if String::from_utf8_lossy(&answer).matches("\r\n").count() >= 3 * 5 {
                break;
            }
        }
        Some(String::from_utf8_lossy(&answer).into_owned())
    };
    let Some(answer) = ask() else {
        return RedisSettings::default();
    };
    let lines: Vec<&str> = answer.split("\r\n").collect();
    let value = |key: &str| -> Option<String> {
        let at = lines.iter().position(|l| *l == key)?;
        let value = lines.get(at + 2)?;
        (!value.is_empty()).then(|| value.to_string())
    };
    RedisSettings {
        pidfile: value("pidfile"),
        logfile: value("logfile"),
        dir: value("dir"),
    }
}

/// The value after `flag` in `argv` (`-c FILE`, or `-cFILE`), or of `--flag=VALUE`.
fn flag_value<'a>(argv: &'a [String], flag: &str) -> Option<&'a str> {
    argv.iter().enumerate().find_map(|(i, arg)| {
        if arg == flag {
            return argv.get(i + 1).map(String::as_str);
        }
        if let Some(value) = arg.strip_prefix(flag) {
            if flag.starts_with("--") {
                return value.strip_prefix('=');
            }
            return (!value.is_empty()).then_some(value);
        }
        None
    })
}

/// The daemon's main config file, as its command line names it (or Debian's default).
fn config_file(daemon: &Daemon, argv: &[String]) -> Option<PathBuf> {
    let named = match daemon.name {
        "nginx" => flag_value(argv, "-c").map(PathBuf::from).or_else(|| {
            let prefix = flag_value(argv, "-p");
            prefix.map(|p| Path::new(p).join("conf/nginx.conf"))
        }),
        "haproxy" => flag_value(argv, "-f").map(PathBuf::from),
        "redis" => argv
            .iter()
            .skip(1)
            .find(|a| a.ends_with(".conf"))
            .map(PathBuf::from),
        "sshd" => flag_value(argv, "-f").map(PathBuf::from),
        _ => None,
    };
    let default = match daemon.name {
        "nginx" => Some("/etc/nginx/nginx.conf"),
        "haproxy" => Some("/etc/haproxy/haproxy.cfg"),
        "redis" => Some("/etc/redis/redis.conf"),
        _ => None,
    };
    named.or_else(|| default.map(PathBuf::from))
}

/// A config file's text, when it is a regular file: read as every file another user may
/// control is (a daemon's argv may name one of its user's files), its head only.
fn read_config(path: &Path) -> Option<String> {
    let limits = untrusted_file::Limits::new(CONFIG_BYTES, CONFIG_LINES);
    untrusted_file::read_head(path, limits)
        .ok()
        .map(|contents| contents.text())
}

/// The values of a directive in a config text: `pid /run/x.pid;` (nginx), `pidfile x` (Redis).
fn directive<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let mut words = line.split_whitespace();
            (words.next()? == name).then(|| words.next())?
        })
        .map(|value| value.trim_end_matches(';').trim_matches(['"', '\'']))
        .filter(|value| !value.is_empty())
        .collect()
}

/// The pid file that holds one of `masters`: from the command line, the config, or Debian's
/// default place; read with the facts' pid-file reader (one pid-file reader for the program).
fn pid_file(
    daemon: &Daemon,
    argv: &[String],
    config: Option<&str>,
    masters: &[i32],
    places: &[PathBuf],
) -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    match daemon.name {
        "nginx" => {
            if let Some(global) = flag_value(argv, "-g") {
                candidates.extend(
                    directive(&global.replace(';', ";\n"), "pid")
                        .iter()
                        .map(PathBuf::from),
                );
            }
            candidates.extend(
                config
                    .map(|c| directive(c, "pid"))
                    .unwrap_or_default()
                    .iter()
                    .map(PathBuf::from),
            );
        }
        "redis" => {
            candidates.extend(flag_value(argv, "--pidfile").map(PathBuf::from));
            candidates.extend(
                config
                    .map(|c| directive(c, "pidfile"))
                    .unwrap_or_default()
                    .iter()
                    .map(PathBuf::from),
            );
        }
        "postgresql" => {
            candidates.extend(flag_value(argv, "-D").map(|d| Path::new(d).join("postmaster.pid")));
        }
        "haproxy" => candidates.extend(flag_value(argv, "-p").map(PathBuf::from)),
        _ => {}
    }
    candidates.extend(daemon.pid_files.iter().map(PathBuf::from));
    // Then any `*.pid` where pid files live, in the daemon's working directory and beside its
    // config: a pid file is proven by the pid it holds.
    let mut dirs: Vec<PathBuf> = vec!["/run".into(), "/var/run".into()];
    for place in places {
        if place.extension().is_some_and(|e| e == "pid") {
            candidates.push(place.clone());
        } else {
            dirs.push(place.clone());
        }
    }
    for name in daemon.processes.iter().chain([&daemon.name]) {
        dirs.push(Path::new("/run").join(name));
    }
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        candidates.extend(
            entries
                .flatten()
                .take(2000)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "pid")),
        );
    }
    candidates.into_iter().find(|path| {
        crate::facts::read_pid_file(path)
            .and_then(|p| p.pid)
            .is_some_and(|pid| masters.contains(&pid))
    })
}

/// The daemon's log files: those its processes hold open, those its command line and config
/// name, and Debian's default places that exist.
fn logs(
    daemon: &Daemon,
    argv: &[String],
    config: Option<&str>,
    tree: &BTreeSet<i32>,
) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    let mut add = |path: PathBuf| {
        if path.is_absolute() && !found.contains(&path) {
            found.push(path);
        }
    };
    for pid in tree {
        for path in open_log_files(*pid) {
            add(path);
        }
    }
    match daemon.name {
        "nginx" => {
            for path in config
                .map(|c| directive(c, "error_log"))
                .unwrap_or_default()
            {
                add(PathBuf::from(path));
            }
        }
        "redis" => {
            add_all(&mut add, flag_value(argv, "--logfile"));
            for path in config.map(|c| directive(c, "logfile")).unwrap_or_default() {
                add(PathBuf::from(path));
            }
        }
        _ => {}
    }
    for path in daemon.logs {
        if Path::new(path).exists() {
            add(PathBuf::from(path));
        }
    }
    found
}

fn add_all(add: &mut impl FnMut(PathBuf), value: Option<&str>) {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        add(PathBuf::from(value));
    }
}

/// The regular files named `*.log` (or under /var/log) that `pid` holds open for writing.
fn open_log_files(pid: i32) -> Vec<PathBuf> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    fds.flatten()
        .take(MOST_FDS_PER_PROCESS)
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter(|path| {
            let text = path.to_string_lossy();
            text.starts_with('/')
                && !text.ends_with(" (deleted)")
                && (text.ends_with(".log") || text.starts_with("/var/log/"))
        })
        .collect()
}

/// The command that tests the daemon's config without touching the running one.
fn config_test(
    daemon: &Daemon,
    exe: Option<&Path>,
    argv: &[String],
    config: Option<&Path>,
) -> Option<Vec<String>> {
    let exe = exe.map(|e| e.display().to_string());
    let program = |fallback: &str| exe.clone().unwrap_or_else(|| fallback.to_string());
    let mut test = match daemon.name {
        "nginx" => {
            let mut test = vec![program("nginx"), "-t".into()];
            if let Some(config) = flag_value(argv, "-c") {
                test.extend(["-c".into(), config.into()]);
            }
            if let Some(prefix) = flag_value(argv, "-p") {
                test.extend(["-p".into(), prefix.into()]);
            }
            if let Some(global) = flag_value(argv, "-g") {
                test.extend(["-g".into(), global.into()]);
            }
            test
        }
        "apache" => vec!["apachectl".into(), "configtest".into()],
        "sshd" => vec![program("sshd"), "-t".into()],
        "haproxy" => vec![
            program("haproxy"),
            "-c".into(),
            "-f".into(),
            config?.display().to_string(),
        ],
        "mysql" if exe.as_deref().is_some_and(|e| e.ends_with("mysqld")) => {
            vec![program("mysqld"), "--validate-config".into()]
        }
        _ => return None,
    };
    if daemon.name == "sshd" {
        test.extend(
            flag_value(argv, "-f")
                .map(|f| ["-f".to_string(), f.to_string()])
                .into_iter()
                .flatten(),
        );
    }
    Some(test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_lines_of_both_tables_are_read() {
        let v4 = "   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0";
        let (inode, (ip, port)) = listening_socket(v4, false).unwrap();
        assert_eq!(
            (inode.as_str(), ip.to_string().as_str(), port),
            ("12345", "127.0.0.1", 8080)
        );
        let v6 = "   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0";
        let (_, (ip, port)) = listening_socket(v6, true).unwrap();
        assert_eq!((ip.to_string().as_str(), port), ("::1", 22));
        let established = v4.replace(" 0A ", " 01 ");
        assert!(listening_socket(&established, false).is_none());
    }

    #[test]
    fn data_mounts_skip_pseudo_file_systems_and_bind_mounts() {
        let mountinfo = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
23 22 0:21 / /proc rw - proc proc rw
24 22 8:2 / /srv/my\\040data rw - xfs /dev/sda2 rw
25 22 8:1 /var/lib/x /mnt/bind rw - ext4 /dev/sda1 rw
26 22 0:30 / /run rw - tmpfs tmpfs rw
27 22 8:2 / /srv/again rw - xfs /dev/sda2 rw
";
        let mounts = data_mounts(mountinfo);
        assert_eq!(
            mounts,
            vec![PathBuf::from("/"), PathBuf::from("/srv/my data")]
        );
    }

    #[test]
    fn a_process_unit_is_read_from_its_control_group() {
        assert_eq!(
            unit_in_cgroup("0::/system.slice/nginx.service\n").as_deref(),
            Some("nginx.service")
        );
        assert_eq!(
            unit_in_cgroup("0::/user.slice/user-1000.slice/session-2.scope\n"),
            None
        );
        assert_eq!(
            unit_in_cgroup("12:cpu:/x\n1:name=systemd:/system.slice/ssh.service\n").as_deref(),
            Some("ssh.service")
        );
    }

    #[test]
    fn enabled_units_are_the_links_in_wants_directories() {
        let dir = tempfile::tempdir().unwrap();
        let wants = dir.path().join("multi-user.target.wants");
        std::fs::create_dir(&wants).unwrap();
        std::os::unix::fs::symlink(
            "/lib/systemd/system/nginx.service",
            wants.join("nginx.service"),
        )
        .unwrap();
        std::os::unix::fs::symlink("/lib/systemd/system/x.timer", wants.join("x.timer")).unwrap();
        std::fs::create_dir(dir.path().join("other")).unwrap();
        let units = enabled_units(dir.path());
        assert_eq!(
            units.into_iter().collect::<Vec<_>>(),
            vec!["nginx.service".to_string()]
        );
    }

    #[test]
    fn directives_and_flags_are_read_as_daemons_write_them() {
        let conf = "user www-data;\npid /run/custom.pid;\n  error_log \"/var/log/x/error.log\" warn;\n# pid /not/this;\n";
        assert_eq!(directive(conf, "pid"), vec!["/run/custom.pid"]);
        assert_eq!(directive(conf, "error_log"), vec!["/var/log/x/error.log"]);
        let argv: Vec<String> = ["nginx", "-c", "/x/n.conf", "-gdaemon off;"]
            .map(String::from)
            .to_vec();
        assert_eq!(flag_value(&argv, "-c"), Some("/x/n.conf"));
        assert_eq!(flag_value(&argv, "-g"), Some("daemon off;"));
        let argv: Vec<String> = ["redis-server", "--pidfile=/r.pid"]
            .map(String::from)
            .to_vec();
        assert_eq!(flag_value(&argv, "--pidfile"), Some("/r.pid"));
    }

    #[test]
    fn names_are_unique_and_valid() {
        let mut names = Names::default();
        assert_eq!(names.take("port-80-my server"), "port-80-my-server");
        assert_eq!(names.take("port-80-my server"), "port-80-my-server-2");
        assert_eq!(names.take("///"), "check");
    }
}
