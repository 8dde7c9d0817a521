//! Real daemons from Debian — nginx, redis-server, PostgreSQL — each run from its own binary in
//! a temporary directory, with its own config, on a free port, and a small control script for
//! restarts (no systemd). Each test injects one fault for real and runs `orchestrator cycle`
//! until the incident is closed or escalated, then asserts the outcome: fixed when it can be
//! fixed, escalated once naming the cause when it cannot, the live log and the data intact, a
//! healthy daemon never touched. Each scenario returns its row of the fault table that
//! `fault_table` prints (`scripts/bench-daemons.sh`).
//!
//! System tests: root (the daemons run as their own users: nobody, redis, postgres) and the
//! packages nginx, redis-server, postgresql and monitoring-plugins-basic.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const NGINX: Need = Need::Program("/usr/sbin/nginx", "nginx");
const REDIS: Need = Need::Program("/usr/bin/redis-server", "redis-server");
/// Debian 12's PostgreSQL (the `postgresql` package depends on `postgresql-15`).
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const POSTGRES: Need = Need::Program("/usr/lib/postgresql/15/bin/postgres", "postgresql");
const CHECK_TCP: &str = "/usr/lib/nagios/plugins/check_tcp";

/// At most this many cycles for one fault: a fault not settled by then is a failure.
const MAX_CYCLES: usize = 4;

/// One line of the table in the closing note.
#[derive(Debug)]
struct Row {
    fault: &'static str,
    /// `fixed in phase N by SOURCE`, `recovered`, `escalated: WHY` …
    outcome: String,
    /// Starts of the daemon by its control script after the fault.
    restarts: usize,
    /// From the fault to the incident's close or escalation.
    seconds: f64,
}

/// A host directory the daemons' own users (nobody, redis, postgres) may enter.
fn daemon_host() -> Host {
    let host = Host::new();
    chmod(host.dir.path(), 0o755);
    host
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn chown(path: &Path, user: &str) {
    let status = Command::new("chown")
        .args(["-R", &format!("{user}:{user}")])
        .arg(path)
        .status()
        .expect("chown");
    assert!(status.success(), "chown {user} {}", path.display());
}

fn mkdir(path: &Path) -> PathBuf {
    std::fs::create_dir_all(path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
    path.to_path_buf()
}

/// Runs a control script (or any argv) and insists it succeeds.
#[track_caller]
fn ctl(script: &Path, verb: &str) {
    let output = Command::new(script).arg(verb).output().expect("run ctl");
    assert!(
        output.status.success(),
        "{} {verb}: {}{}",
        script.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The first line of a pid file (PostgreSQL's has more).
fn pid_in(file: &Path) -> Option<i32> {
    std::fs::read_to_string(file)
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

fn gone(pid: i32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

/// SIGKILL, then wait until the process is reaped: a zombie still holds its pid, and
/// PostgreSQL refuses to start while the pid in its lock file exists.
fn kill_hard(pid: i32) {
    signal(pid, libc::SIGKILL);
    wait_until(
        "the killed process is reaped",
        Duration::from_secs(10),
        || gone(pid),
    );
}

fn lines_in(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// The orchestrator config shared by every scenario: a short settle, the runbook in phase 2,
/// no phase-3 agents, and one mail recipient behind a port nobody listens on (the message is
/// composed and kept in the outbox; it is never sent).
fn orchestrator_config(checks: &str, policy: &str) -> String {
    format!(
        r#"
[cycle]
settle = "1s"

[agents.runbook]
builtin = "runbook"

[research]
agent = "runbook"

[escalation]
email = {{ to = ["ops@example.com"], from = "orchestrator@test", smtp = "smtp://127.0.0.1:{closed}" }}
message_timeout = "2s"

[policy]
{policy}

{checks}
"#,
        closed = free_port()
    )
}

/// Runs `orchestrator cycle` until `check`'s latest incident is closed or escalated; its
/// status.
fn cycle_until_settled(host: &Host, check: &str) -> String {
    for _ in 0..MAX_CYCLES {
        host.run(&["cycle"]).ok();
        let status = status_of(host, check);
        if ["resolved", "recovered", "escalated"].contains(&status.as_str()) {
            return status;
        }
    }
    let show = host.run(&["incidents", "list"]);
    panic!(
        "`{check}` not settled after {MAX_CYCLES} cycles: {}\n{}",
        status_of(host, check),
        show.stdout
    );
}

fn status_of(host: &Host, check: &str) -> String {
    host.db()
        .query_row(
            "SELECT status FROM incidents WHERE check_name = ?1 ORDER BY id DESC LIMIT 1",
            [check],
            |row| row.get(0),
        )
        .unwrap_or_else(|_| "none".into())
}

/// How `check`'s latest incident ended, and when (Unix seconds).
fn outcome_of(host: &Host, check: &str) -> (String, f64) {
    let db = host.db();
    let (status, phase, by, resolved_at, id): (
        String,
        Option<i64>,
        Option<String>,
        Option<f64>,
        i64,
    ) = db
        .query_row(
            "SELECT status, resolved_phase, resolved_by, resolved_at, id FROM incidents
             WHERE check_name = ?1 ORDER BY id DESC LIMIT 1",
            [check],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap_or_else(|e| panic!("no incident of {check}: {e}"));
    match status.as_str() {
        "resolved" => (
            format!(
                "fixed in phase {} by {}",
                phase.unwrap_or_default(),
                by.unwrap_or_default()
            ),
            resolved_at.unwrap_or_default(),
        ),
        "recovered" => ("recovered".into(), resolved_at.unwrap_or_default()),
        _ => {
            let at: f64 = db
                .query_row(
                    "SELECT created_at FROM escalations WHERE incident = ?1",
                    [id],
                    |r| r.get(0),
                )
                .unwrap_or_default();
            (format!("{status} ({})", why_of(host, check)), at)
        }
    }
}

/// The "Why:" line of the escalation mail of `check`'s incident, as composed in the outbox.
fn why_of(host: &Host, check: &str) -> String {
    let body = mail_of(host, check);
    body.lines()
        .find_map(|l| l.strip_prefix("Why:"))
        .map(|l| l.trim().to_string())
        .unwrap_or_default()
}

fn mail_of(host: &Host, check: &str) -> String {
    host.db()
        .query_row(
            "SELECT n.body FROM notifications n JOIN escalations e ON e.id = n.escalation
             JOIN incidents i ON i.id = e.incident
             WHERE i.check_name = ?1 AND n.kind = 'escalation' ORDER BY n.id LIMIT 1",
            [check],
            |r| r.get(0),
        )
        .unwrap_or_default()
}

/// Escalations of `check`, and escalation mails queued for them.
fn escalations_of(host: &Host, check: &str) -> (i64, i64) {
    let db = host.db();
    let count = |sql: &str| -> i64 { db.query_row(sql, [check], |r| r.get(0)).unwrap() };
    (
        count("SELECT COUNT(*) FROM escalations e JOIN incidents i ON i.id = e.incident WHERE i.check_name = ?1"),
        count("SELECT COUNT(*) FROM notifications n JOIN escalations e ON e.id = n.escalation JOIN incidents i ON i.id = e.incident WHERE i.check_name = ?1 AND n.kind = 'escalation'"),
    )
}

// ---------------------------------------------------------------------------------------------
// nginx

/// nginx in `DIR/nginx`: its config, html root, error log, pid file and control script.
struct Nginx {
    dir: PathBuf,
    port: u16,
}

impl Nginx {
    fn new(host: &Host) -> Nginx {
        let dir = mkdir(&host.path("nginx"));
        for sub in ["log", "html", "tmp"] {
            mkdir(&dir.join(sub));
        }
        std::fs::write(dir.join("html/health"), "ok\n").unwrap();
        let nginx = Nginx {
            dir,
            port: free_port(),
        };
        std::fs::write(nginx.conf(), nginx.config_text()).unwrap();
        write_script(
            &nginx.ctl(),
            &format!(
                r#"# nginx's control script: start | stop | restart. Every start is counted.
D={dir}
start() {{ echo start >> "$D/starts"; /usr/sbin/nginx -c "$D/nginx.conf" -e "$D/log/error.log"; }}
stop() {{
  [ -f "$D/nginx.pid" ] || return 0
  pid=$(head -n 1 "$D/nginx.pid")
  kill -TERM "$pid" 2>/dev/null || return 0
  kill -CONT "$pid" 2>/dev/null
  i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL "$pid" 2>/dev/null; return 0
}}
case "$1" in start) start ;; stop) stop ;; restart) stop; start ;; *) exit 2 ;; esac
"#,
                dir = nginx.dir.display()
            ),
        );
        nginx
    }

    fn config_text(&self) -> String {
        let d = self.dir.display();
        format!(
            "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/log/error.log;\nuser nobody nogroup;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n    access_log off;\n    client_body_temp_path {d}/tmp/body;\n    proxy_temp_path {d}/tmp/proxy;\n\
             \x20   fastcgi_temp_path {d}/tmp/fastcgi;\n    uwsgi_temp_path {d}/tmp/uwsgi;\n    scgi_temp_path {d}/tmp/scgi;\n\
             \x20   server {{ listen 127.0.0.1:{port}; root {d}/html; }}\n}}\n",
            port = self.port
        )
    }

    /// A stray `}` on line 6: nginx says `[emerg] unexpected "}" in …/nginx.conf:6`.
    fn break_config(&self) {
        let mut lines: Vec<String> = self.config_text().lines().map(String::from).collect();
        lines.insert(5, "}".into());
        std::fs::write(self.conf(), lines.join("\n") + "\n").unwrap();
    }

    fn conf(&self) -> PathBuf {
        self.dir.join("nginx.conf")
    }

    fn ctl(&self) -> PathBuf {
        self.dir.join("ctl")
    }

    fn pidfile(&self) -> PathBuf {
        self.dir.join("nginx.pid")
    }

    fn error_log(&self) -> PathBuf {
        self.dir.join("log/error.log")
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/health", self.port)
    }

    fn starts(&self) -> usize {
        lines_in(&self.dir.join("starts"))
    }

    fn start(&self) {
        ctl(&self.ctl(), "start");
        wait_until("nginx answers", Duration::from_secs(10), || self.healthy());
    }

    fn healthy(&self) -> bool {
        matches!(ureq_get(&self.url()), Some((200, _)))
    }

    fn master(&self) -> i32 {
        pid_in(&self.pidfile()).expect("nginx's pid file")
    }

    /// Its checks: HTTP and the pid file, one service; `extra` goes into each.
    fn checks(&self, extra: &str) -> String {
        let remedy = format!(
            "remedy = [{{ action = \"run\", argv = [\"{}\", \"restart\"], timeout = \"30s\" }}]",
            self.ctl().display()
        );
        format!(
            "[[checks]]\nname = \"nginx\"\nkind = \"http\"\nurl = \"{url}\"\ntimeout = \"2s\"\nservice = \"nginx\"\n\
             logs = [\"{log}\"]\n{remedy}\n{extra}\n\
             [[checks]]\nname = \"nginx-pid\"\nkind = \"process\"\npidfile = \"{pid}\"\nservice = \"nginx\"\n\
             logs = [\"{log}\"]\n{remedy}\n{extra}\n",
            url = self.url(),
            log = self.error_log().display(),
            pid = self.pidfile().display(),
        )
    }

    fn config_test(&self) -> String {
        format!(
            "config_test = [\"/usr/sbin/nginx\", \"-t\", \"-c\", \"{}\", \"-e\", \"{}\"]",
            self.conf().display(),
            self.error_log().display()
        )
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // The master first (else it forks a new worker for each one killed), then its session:
        // its workers, also those a killed master left behind.
        if let Some(master) = pid_in(&self.pidfile()) {
            signal(master, libc::SIGKILL);
            for pid in session_of(master) {
                signal(pid, libc::SIGKILL);
            }
        }
    }
}

/// The processes of the session `leader` leads (or led, if it is gone): a daemon's workers.
fn session_of(leader: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != leader)
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.split_whitespace().collect())
                .unwrap_or_default();
            fields.get(3).and_then(|s| s.parse::<i32>().ok()) == Some(leader)
                && fields.first() != Some(&"Z")
        })
        .collect()
}

/// SIGKILL of nginx's master: its worker lives on, holding the port, and the pid file names a
/// dead pid. A start cannot bind; the worker is the service's own orphan, stopped before the
/// start (the policy lets agents kill processes here without approval).
fn nginx_sigkill_leaves_its_worker_on_the_port() -> Row {
    let host = daemon_host();
    let nginx = Nginx::new(&host);
    host.write_config(&orchestrator_config(
        &nginx.checks(&nginx.config_test()),
        "actions = [\"restart_unit\", \"start_unit\", \"reset_failed\", \"clean_files\", \"remove_file\", \"remedy\", \"kill_process\"]\napprove = []",
    ));
    nginx.start();
    let master = nginx.master();
    let workers = session_of(master);
    assert!(!workers.is_empty(), "nginx has its worker");
    let before = nginx.starts();
    let injected = now_secs();
    kill_hard(master);
    assert!(nginx.healthy(), "the orphaned worker still serves");

    cycle_until_settled(&host, "nginx-pid");
    let (outcome, at) = outcome_of(&host, "nginx-pid");
    assert!(
        outcome.starts_with("fixed in phase 2 by agent:runbook"),
        "{outcome}"
    );
    let diagnosis =
        host.query_text("SELECT diagnosis FROM agent_consultations ORDER BY id DESC LIMIT 1");
    assert_contains(
        &diagnosis,
        "the service's own orphaned workers, not a squatter",
    );
    assert_contains(&diagnosis, &format!("pid {master}, pid file"));
    assert!(nginx.healthy());
    let new_master = nginx.master();
    assert_ne!(new_master, master);
    for worker in workers {
        wait_until(
            "the orphaned worker was stopped (and reaped)",
            Duration::from_secs(10),
            || gone(worker),
        );
    }
    Row {
        fault: "nginx: SIGKILL of the master, stale pid file, its worker on the port",
        outcome,
        restarts: nginx.starts() - before,
        seconds: at - injected,
    }
}

/// A foreign process holds nginx's port while nginx is down: the runbook names it and wants to
/// stop it, which the default policy leaves to a person; it is never killed unasked.
fn nginx_port_squatter() -> Row {
    let host = daemon_host();
    let nginx = Nginx::new(&host);
    host.write_config(&orchestrator_config(
        &nginx.checks(&nginx.config_test()),
        "",
    ));
    nginx.start();
    ctl(&nginx.ctl(), "stop");
    wait_until("nginx stopped", Duration::from_secs(10), || {
        !nginx.healthy() && !nginx.pidfile().exists()
    });
    let squatter = Squatter::on(nginx.port);
    let before = nginx.starts();
    let injected = now_secs();

    assert_eq!(cycle_until_settled(&host, "nginx"), "escalated");
    let (outcome, at) = outcome_of(&host, "nginx");
    let mail = mail_of(&host, "nginx");
    // The holder is found by a /proc walk bounded to 250 ms: on a host loaded enough to cut it
    // short (the note says so), the runbook cannot name it, and escalates all the same.
    let walk = host.query_text(
        "SELECT coalesce((SELECT json_extract(p.value, '$.note') FROM incident_facts f,
                json_each(f.facts, '$.probes') p WHERE json_extract(p.value, '$.name') = 'proc_fds'), '')",
    );
    if walk.starts_with("stopped after") {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("the /proc walk was cut short ({walk}): the squatter could not be named\n")
                .as_bytes(),
        );
        assert_contains(&mail, "Address already in use");
    } else {
        assert_contains(&mail, &format!("pid {}, python3", squatter.pid()));
        assert_contains(&mail, "waits for your approval");
    }
    assert_eq!(escalations_of(&host, "nginx"), (1, 1));
    assert!(
        !gone(squatter.pid()),
        "the foreign process is never killed unasked"
    );
    let restarts = nginx.starts() - before;
    assert_eq!(restarts, 1, "one start, refused by the port");
    Row {
        fault: "nginx: a foreign process on its port",
        outcome,
        restarts,
        seconds: at - injected,
    }
}

/// A python3 process listening on a port, answering nothing.
struct Squatter(Child);

impl Squatter {
    fn on(port: u16) -> Squatter {
        let child = Command::new("python3")
            .args([
                "-c",
                "import socket, sys, time\n\
                 s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
                 s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(64); time.sleep(300)",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("python3");
        wait_until("the squatter listens", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Squatter(child)
    }

    fn pid(&self) -> i32 {
        self.0.id() as i32
    }
}

impl Drop for Squatter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nginx runs, its config on disk is broken, and its check fails: the config test fails
/// before any restart, so the running server is left alone and a person is told, quoting it.
fn nginx_broken_config_is_never_restarted() -> Row {
    let host = daemon_host();
    let nginx = Nginx::new(&host);
    host.write_config(&orchestrator_config(
        &nginx.checks(&nginx.config_test()),
        "",
    ));
    nginx.start();
    let master = nginx.master();
    let before = nginx.starts();
    nginx.break_config();
    let injected = now_secs();
    std::fs::remove_file(nginx.dir.join("html/health")).unwrap();

    assert_eq!(cycle_until_settled(&host, "nginx"), "escalated");
    let (outcome, at) = outcome_of(&host, "nginx");
    let why = why_of(&host, "nginx");
    assert_contains(&why, "not restarted: the config test");
    assert_contains(
        &why,
        &format!("unexpected \"}}\" in {}:6", nginx.conf().display()),
    );
    assert_eq!(escalations_of(&host, "nginx"), (1, 1));
    assert_eq!(
        nginx.master(),
        master,
        "the running nginx was never stopped"
    );
    assert!(!gone(master));
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM attempts WHERE outcome = 'rejected'"),
        1
    );
    let restarts = nginx.starts() - before;
    assert_eq!(restarts, 0);
    Row {
        fault: "nginx: broken config on disk, config_test set",
        outcome,
        restarts,
        seconds: at - injected,
    }
}

/// nginx is down and its config broken, with no config test configured: one start fails with
/// `[emerg] unexpected "}"`, the runbook recognises the config error, and the mail's "Why:"
/// quotes it (not "phase 3: no consult agents configured").
fn nginx_broken_config_without_a_config_test() -> Row {
    let host = daemon_host();
    let nginx = Nginx::new(&host);
    host.write_config(&orchestrator_config(&nginx.checks(""), ""));
    nginx.start();
    ctl(&nginx.ctl(), "stop");
    wait_until("nginx stopped", Duration::from_secs(10), || {
        !nginx.healthy() && !nginx.pidfile().exists()
    });
    nginx.break_config();
    let before = nginx.starts();
    let injected = now_secs();

    assert_eq!(cycle_until_settled(&host, "nginx"), "escalated");
    let (outcome, at) = outcome_of(&host, "nginx");
    let why = why_of(&host, "nginx");
    assert_contains(&why, "phase 2: agent:runbook abstained");
    assert_contains(&why, "bad configuration file");
    assert_contains(
        &why,
        &format!("unexpected \"}}\" in {}:6", nginx.conf().display()),
    );
    assert_eq!(escalations_of(&host, "nginx"), (1, 1));
    let restarts = nginx.starts() - before;
    assert_eq!(restarts, 1, "one start, refused by nginx");
    Row {
        fault: "nginx: broken config, down, no config_test",
        outcome,
        restarts,
        seconds: at - injected,
    }
}

// ---------------------------------------------------------------------------------------------
// Redis

/// redis-server as user `redis`: data in `data/` (or a directory of the test's choice), its log
/// and pid file beside it, a control script.
struct Redis {
    dir: PathBuf,
    data: PathBuf,
    log: PathBuf,
    port: u16,
}

impl Redis {
    /// `data` holds the dump; `logs` the log file and the pid file.
    fn new(host: &Host, data: PathBuf, logs: PathBuf) -> Redis {
        let dir = mkdir(&host.path("redis"));
        mkdir(&data);
        mkdir(&logs);
        let redis = Redis {
            log: logs.join("redis-server.log"),
            dir,
            data,
            port: free_port(),
        };
        std::fs::write(
            redis.dir.join("redis.conf"),
            format!(
                "port {port}\nbind 127.0.0.1\ndaemonize yes\npidfile {logs}/redis.pid\nlogfile {log}\n\
                 dir {data}\nsave 1 1\nappendonly no\n",
                port = redis.port,
                logs = logs.display(),
                log = redis.log.display(),
                data = redis.data.display()
            ),
        )
        .unwrap();
        chown(&redis.data, "redis");
        chown(&logs, "redis");
        write_script(
            &redis.ctl(),
            &format!(
                r#"# redis-server's control script: start | stop | restart. Every start is counted.
D={dir}
PID={logs}/redis.pid
start() {{ echo start >> "$D/starts"; setpriv --reuid=redis --regid=redis --init-groups /usr/bin/redis-server "$D/redis.conf"; }}
stop() {{
  [ -f "$PID" ] || return 0
  pid=$(head -n 1 "$PID")
  kill -TERM "$pid" 2>/dev/null || return 0
  kill -CONT "$pid" 2>/dev/null
  i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL "$pid" 2>/dev/null; return 0
}}
case "$1" in start) start ;; stop) stop ;; restart) stop; start ;; *) exit 2 ;; esac
"#,
                dir = redis.dir.display(),
                logs = logs.display()
            ),
        );
        redis
    }

    fn ctl(&self) -> PathBuf {
        self.dir.join("ctl")
    }

    fn pidfile(&self) -> PathBuf {
        self.log.with_file_name("redis.pid")
    }

    fn starts(&self) -> usize {
        lines_in(&self.dir.join("starts"))
    }

    fn pid(&self) -> i32 {
        pid_in(&self.pidfile()).expect("redis's pid file")
    }

    fn start(&self) {
        ctl(&self.ctl(), "start");
        wait_until("redis answers", Duration::from_secs(10), || {
            self.cli(&["ping"]).as_deref() == Some("PONG")
        });
    }

    /// redis-cli's answer (it exits 0 on an error reply too: the text tells).
    fn cli(&self, args: &[&str]) -> Option<String> {
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// What a careful admin checks: a write (a read-only Redis answers PING), by the plugin.
    fn check(&self, extra: &str) -> String {
        format!(
            "[[checks]]\nname = \"redis\"\nkind = \"command\"\n\
             command = [\"{CHECK_TCP}\", \"-H\", \"127.0.0.1\", \"-p\", \"{port}\", \"-E\", \"-s\", \"SET orchestrator-probe 1\\\\r\\\\n\", \"-e\", \"+OK\", \"-q\", \"QUIT\\\\r\\\\n\", \"-M\", \"crit\", \"-t\", \"2\"]\n\
             timeout = \"5s\"\nlogs = [\"{log}\"]\n\
             remedy = [{{ action = \"run\", argv = [\"{ctl}\", \"restart\"], timeout = \"30s\" }}]\n{extra}\n",
            port = self.port,
            log = self.log.display(),
            ctl = self.ctl().display()
        )
    }

    /// Waits until a write is refused: Redis's save failed (MISCONF).
    fn wait_for_refused_writes(&self) {
        wait_until(
            "redis refuses writes (its save failed)",
            Duration::from_secs(15),
            || {
                self.cli(&["set", "probe", "1"])
                    .is_some_and(|a| a.starts_with("MISCONF"))
            },
        );
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(pid) = pid_in(&self.pidfile()) {
            signal(pid, libc::SIGCONT);
            signal(pid, libc::SIGKILL);
        }
    }
}

/// SIGSTOP: Redis holds its port and answers nothing; the check times out (CRITICAL) and its
/// control script's restart (TERM, CONT, then KILL if need be) brings it back with its data.
fn redis_sigstop() -> Row {
    let host = daemon_host();
    let redis = Redis::new(&host, host.path("redis/data"), host.path("redis/log"));
    host.write_config(&orchestrator_config(&redis.check(""), ""));
    redis.start();
    assert_eq!(redis.cli(&["set", "kept", "value"]).as_deref(), Some("OK"));
    let before = redis.starts();
    let stopped = redis.pid();
    let injected = now_secs();
    signal(stopped, libc::SIGSTOP);

    assert_eq!(cycle_until_settled(&host, "redis"), "resolved");
    let (outcome, at) = outcome_of(&host, "redis");
    assert!(
        outcome.starts_with("fixed in phase 1 by remedy"),
        "{outcome}"
    );
    assert_ne!(redis.pid(), stopped);
    assert_eq!(redis.cli(&["get", "kept"]).as_deref(), Some("value"));
    Row {
        fault: "Redis: SIGSTOP",
        outcome,
        restarts: redis.starts() - before,
        seconds: at - injected,
    }
}

/// A small tmpfs holds Redis's dump, its live log and a rotated log that fills it: Redis can
/// not save and refuses writes. Its check depends on the disk check without `depends_on`
/// (implicitly, by filesystem), so it waits; the runbook frees the rotated log; Redis saves
/// again by itself and its check recovers. Never restarted; the live log and the data intact.
fn redis_full_disk(files_kept: bool) -> Row {
    let host = daemon_host();
    let disk = SmallDisk::mount(host.path("redis-disk"), "1m");
    chmod(&disk.0, 0o755);
    let redis = Redis::new(&host, disk.0.clone(), disk.0.clone());
    let disk_check = format!(
        "[[checks]]\nname = \"redis-disk\"\nkind = \"disk\"\npath = \"{d}\"\ncrit = \"95%\"\nlogs = [\"{d}\"]\n",
        d = disk.0.display()
    );
    host.write_config(&orchestrator_config(
        &format!("{}{disk_check}", redis.check("")),
        "",
    ));
    redis.start();
    assert_eq!(redis.cli(&["set", "kept", "value"]).as_deref(), Some("OK"));
    wait_until("the dump is saved", Duration::from_secs(10), || {
        disk.0.join("dump.rdb").exists()
    });
    let live_log_start = std::fs::read_to_string(&redis.log).unwrap();
    let dump = std::fs::read(disk.0.join("dump.rdb")).unwrap();
    let pid = redis.pid();
    // The runbook may delete its pid file (see `files_kept`): Redis is stopped by its pid.
    let _stop = KillOnDrop(pid);
    let before = redis.starts();
    let injected = now_secs();
    fill_with_rotated_log(&disk.0.join("redis-server.log.1"));
    redis.wait_for_refused_writes();

    assert_eq!(cycle_until_settled(&host, "redis-disk"), "resolved");
    // Redis saves again on its own, 5 s after its last failed save; the shipped timer's next
    // cycle is 5 minutes away, so the test waits for Redis, not for orchestrator.
    wait_until(
        "redis accepts writes again",
        Duration::from_secs(15),
        || redis.cli(&["set", "probe", "1"]).as_deref() == Some("OK"),
    );
    let status = cycle_until_settled(&host, "redis");
    assert_eq!(status, "recovered");
    let caused_by = host.query_text(
        "SELECT detail FROM incident_events WHERE kind = 'symptom' ORDER BY id LIMIT 1",
    );
    assert_contains(&caused_by, "implicit dependency");
    let (outcome, _) = outcome_of(&host, "redis-disk");
    let (_, at) = outcome_of(&host, "redis");
    assert!(!gone(pid), "Redis was never restarted");
    let restarts = redis.starts() - before;
    assert_eq!(restarts, 0);
    assert!(
        !disk.0.join("redis-server.log.1").exists(),
        "the rotated log is gone"
    );
    assert_eq!(redis.cli(&["get", "kept"]).as_deref(), Some("value"));
    if files_kept {
        let live_log = std::fs::read_to_string(&redis.log).expect("the live log is kept");
        assert!(
            live_log.starts_with(&live_log_start),
            "the live log is intact"
        );
        let kept = std::fs::read(disk.0.join("dump.rdb")).expect("the dump is kept");
        assert!(!kept.is_empty() && !dump.is_empty());
        assert_eq!(redis.pid(), pid, "the pid file is kept");
    }
    Row {
        fault: "Redis: small tmpfs full (rotated + live logs, dump)",
        outcome: format!("{outcome}; redis recovered"),
        restarts,
        seconds: at - injected,
    }
}

/// SIGKILLs a process when dropped, whatever became of its pid file.
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        signal(self.0, libc::SIGCONT);
        signal(self.0, libc::SIGKILL);
    }
}

/// Writes a rotated log until the filesystem refuses the next byte.
fn fill_with_rotated_log(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).expect("rotated log");
    let line = b"1:M 27 Nov 2026 08:15:42.123 * an old line of a rotated log, kept too long\n";
    loop {
        match file.write(line) {
            Ok(n) if n == line.len() => continue,
            Ok(_) => continue,
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    let mut last = [b'x'; 1];
    while file.write(&last).is_ok() {
        last[0] = b'x';
    }
    // Rotated an hour ago, as a real one would be: a file written in the last minutes is live
    // and never freed for space.
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    file.set_modified(hour_ago)
        .expect("backdate the rotated log");
}

/// Redis's data directory loses its permissions: it cannot save and refuses writes, but still
/// serves reads. A restart would leave it not running (it cannot enter its directory), so phase
/// 1 does not restart; the runbook names the directory, its mode and owner; a person is told.
fn redis_data_directory_permission() -> Row {
    let host = daemon_host();
    let redis = Redis::new(&host, host.path("redis/data"), host.path("redis/log"));
    host.write_config(&orchestrator_config(&redis.check(""), ""));
    redis.start();
    assert_eq!(redis.cli(&["set", "kept", "value"]).as_deref(), Some("OK"));
    let pid = redis.pid();
    let before = redis.starts();
    let injected = now_secs();
    chmod(&redis.data, 0o000);
    redis.wait_for_refused_writes();

    assert_eq!(cycle_until_settled(&host, "redis"), "escalated");
    let (outcome, at) = outcome_of(&host, "redis");
    let why = why_of(&host, "redis");
    assert_contains(&why, "agent:runbook abstained");
    assert_contains(&why, &format!("{}: mode 0000", redis.data.display()));
    let handoffs = host.query_text(
        "SELECT group_concat(detail, ' | ') FROM incident_events WHERE kind = 'phase 2'",
    );
    assert_contains(&handoffs, "phase 1: nothing restarted; a permission error");
    assert_eq!(escalations_of(&host, "redis"), (1, 1));
    assert_eq!(redis.pid(), pid, "Redis was never restarted");
    assert_eq!(
        redis.cli(&["get", "kept"]).as_deref(),
        Some("value"),
        "it still serves reads"
    );
    let restarts = redis.starts() - before;
    assert_eq!(restarts, 0);
    chmod(&redis.data, 0o755);
    Row {
        fault: "Redis: data directory mode 0000",
        outcome,
        restarts,
        seconds: at - injected,
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/// One `initdb` per test binary (it takes a few seconds); each test copies it.
fn pg_template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("orch-pg-template-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        mkdir(&dir);
        chown(&dir, "postgres");
        let output = Command::new("setpriv")
            .args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
            .arg(format!("{PG_BIN}/initdb"))
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(dir.join("data"))
            .current_dir("/")
            .output()
            .expect("initdb");
        assert!(
            output.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        // SAFETY: atexit takes a plain function pointer; it runs once as the process exits.
        unsafe { libc::atexit(remove_pg_template) };
        dir
    })
}

extern "C" fn remove_pg_template() {
    let dir = std::env::temp_dir().join(format!("orch-pg-template-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(dir);
}

/// A PostgreSQL cluster copied from the template, on a free port, run as `postgres` by its
/// control script (pg_ctl).
struct Postgres {
    dir: PathBuf,
    port: u16,
}

impl Postgres {
    fn new(host: &Host) -> Postgres {
        let dir = mkdir(&host.path("pg"));
        let status = Command::new("cp")
            .arg("-a")
            .arg(pg_template().join("data"))
            .arg(&dir)
            .status()
            .expect("cp");
        assert!(status.success());
        mkdir(&dir.join("sock"));
        let pg = Postgres {
            dir,
            port: free_port(),
        };
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(pg.data().join("postgresql.conf"))
            .unwrap();
        use std::io::Write;
        write!(
            conf,
            "port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\n\
             shared_buffers = 16MB\nmax_connections = 10\n",
            pg.port,
            pg.dir.join("sock").display()
        )
        .unwrap();
        chown(&pg.dir, "postgres");
        write_script(
            &pg.ctl(),
            &format!(
                r#"# PostgreSQL's control script: start | stop | restart. Every start is counted.
D={dir}
as_postgres() {{ setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }}
start() {{ echo start >> "$D/starts"; as_postgres {PG_BIN}/pg_ctl -D "$D/data" -l "$D/postgres.log" -w -t 20 start >/dev/null; }}
stop() {{ as_postgres {PG_BIN}/pg_ctl -D "$D/data" -m fast -w -t 20 stop >/dev/null 2>&1; return 0; }}
case "$1" in start) start ;; stop) stop ;; restart) stop; start ;; *) exit 2 ;; esac
"#,
                dir = pg.dir.display()
            ),
        );
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn ctl(&self) -> PathBuf {
        self.dir.join("ctl")
    }

    fn pidfile(&self) -> PathBuf {
        self.data().join("postmaster.pid")
    }

    fn starts(&self) -> usize {
        lines_in(&self.dir.join("starts"))
    }

    fn postmaster(&self) -> i32 {
        pid_in(&self.pidfile()).expect("postmaster.pid")
    }

    fn start(&self) {
        ctl(&self.ctl(), "start");
        wait_until(
            "PostgreSQL accepts connections",
            Duration::from_secs(20),
            || self.ready(),
        );
    }

    fn ready(&self) -> bool {
        Command::new(format!("{PG_BIN}/pg_isready"))
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .status()
            .is_ok_and(|s| s.success())
    }

    /// pg_isready speaks the monitoring-plugins protocol: 0 accepting, 1 rejecting, 2 no
    /// answer (CRITICAL), 3 no attempt (UNKNOWN).
    fn checks(&self, extra: &str) -> String {
        format!(
            "[[checks]]\nname = \"db\"\nkind = \"command\"\n\
             command = [\"{PG_BIN}/pg_isready\", \"-h\", \"127.0.0.1\", \"-p\", \"{port}\", \"-U\", \"postgres\", \"-t\", \"2\"]\n\
             timeout = \"5s\"\nservice = \"db\"\nlogs = [\"{log}\"]\n\
             remedy = [{{ action = \"run\", argv = [\"{ctl}\", \"restart\"], timeout = \"30s\" }}]\n{extra}\n",
            port = self.port,
            log = self.dir.join("postgres.log").display(),
            ctl = self.ctl().display()
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(pid) = pid_in(&self.pidfile()) {
            // SIGQUIT: PostgreSQL's immediate shutdown, children included.
            signal(pid, libc::SIGQUIT);
        }
    }
}

/// The application in front of the database (tests/servers/pg_app.py) and its control script,
/// which only counts the restarts asked of it (there must be none).
struct App {
    port: u16,
    child: Child,
    restarts: PathBuf,
    ctl: PathBuf,
}

impl App {
    fn start(host: &Host, pg: &Postgres) -> App {
        let port = free_port();
        let child = Command::new("python3")
            .arg(format!(
                "{}/tests/servers/pg_app.py",
                env!("CARGO_MANIFEST_DIR")
            ))
            .arg(port.to_string())
            .arg(format!("{PG_BIN}/pg_isready"))
            .arg(pg.port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3");
        let app = App {
            port,
            child,
            restarts: host.path("app-restarts"),
            ctl: host.path("app-ctl"),
        };
        write_script(
            &app.ctl,
            &format!("echo restart >> {}\n", app.restarts.display()),
        );
        wait_until("the app answers", Duration::from_secs(10), || {
            matches!(ureq_get(&app.url()), Some((200, _)))
        });
        app
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/health", self.port)
    }

    fn check(&self) -> String {
        format!(
            "[[checks]]\nname = \"app\"\nkind = \"http\"\nurl = \"{url}\"\ntimeout = \"5s\"\ndepends_on = [\"db\"]\n\
             remedy = [{{ action = \"run\", argv = [\"{ctl}\"] }}]\n",
            url = self.url(),
            ctl = self.ctl.display()
        )
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The database is SIGKILLed under the application that depends on it: one incident is worked
/// on, the database's; it is restarted once (over its stale, many-line postmaster.pid), and the
/// application recovers without being touched.
fn postgres_down_under_its_app() -> Row {
    let host = daemon_host();
    let pg = Postgres::new(&host);
    pg.start();
    let app = App::start(&host, &pg);
    host.write_config(&orchestrator_config(
        &format!("{}{}", pg.checks(""), app.check()),
        "",
    ));
    let before = pg.starts();
    let injected = now_secs();
    kill_hard(pg.postmaster());
    wait_until("the app fails", Duration::from_secs(10), || {
        matches!(ureq_get(&app.url()), Some((503, _)))
    });

    assert_eq!(cycle_until_settled(&host, "db"), "resolved");
    assert_eq!(cycle_until_settled(&host, "app"), "recovered");
    let (outcome, at) = outcome_of(&host, "db");
    assert!(
        outcome.starts_with("fixed in phase 1 by remedy"),
        "{outcome}"
    );
    assert!(pg.ready());
    assert_eq!(lines_in(&app.restarts), 0, "the app was never restarted");
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM escalations"),
        0,
        "nobody is woken"
    );
    Row {
        fault: "PostgreSQL: SIGKILL under the app that depends on it",
        outcome: format!("{outcome}; app recovered, never restarted"),
        restarts: pg.starts() - before,
        seconds: at - injected,
    }
}

/// A healthy PostgreSQL watched through its pid file, postmaster.pid, whose first line is the
/// pid and the others its data directory, port, socket directory…: never touched.
fn postgres_healthy_with_its_many_line_pid_file() -> Row {
    let host = daemon_host();
    let pg = Postgres::new(&host);
    pg.start();
    let pidfile_check = format!(
        "[[checks]]\nname = \"db-pid\"\nkind = \"process\"\npidfile = \"{}\"\nservice = \"db\"\n\
         remedy = [{{ action = \"run\", argv = [\"{}\", \"restart\"], timeout = \"30s\" }}]\n",
        pg.pidfile().display(),
        pg.ctl().display()
    );
    host.write_config(&orchestrator_config(
        &format!("{}{pidfile_check}", pg.checks("")),
        "",
    ));
    assert!(lines_in(&pg.pidfile()) > 5, "postmaster.pid has many lines");
    let postmaster = pg.postmaster();
    let before = pg.starts();
    for _ in 0..2 {
        host.run(&["cycle"]).ok();
    }
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM incidents"), 0);
    assert_eq!(pg.postmaster(), postmaster, "never restarted");
    let restarts = pg.starts() - before;
    assert_eq!(restarts, 0);
    Row {
        fault: "PostgreSQL: healthy, many-line postmaster.pid",
        outcome: "untouched (no incident)".into(),
        restarts,
        seconds: 0.0,
    }
}

// ---------------------------------------------------------------------------------------------
// The tests, and the table.

/// Restart only what would start, in every phase, with no daemon needed (a plain `cargo test`):
/// a failing `config_test` keeps phase 1's remedy and phase 2's plan from running, and the
/// incident goes to a person quoting it; a passing one heads the attempt's output.
#[test]
fn a_failing_config_test_keeps_every_phases_restart_from_running() {
    for phase in [1, 2] {
        let host = Host::new();
        let up = host.path("up");
        let test = host.path("config-test");
        write_script(
            &test,
            "echo 'app: [emerg] unexpected \"}\" in /srv/app.conf:6' >&2\nexit 1\n",
        );
        let start = format!("[\"/usr/bin/touch\", \"{}\"]", up.display());
        let answer = host.path("answer.json");
        std::fs::write(
            &answer,
            format!(r#"{{"diagnosis": "down", "plan": [{{"action": "run", "argv": {start}}}]}}"#),
        )
        .unwrap();
        let (remedy, agent) = if phase == 1 {
            (
                format!("remedy = [{{ action = \"run\", argv = {start} }}]"),
                String::new(),
            )
        } else {
            (
                String::new(),
                format!(
                    "[agents.canned]\ncommand = [\"{}\", \"{}\"]\n[research]\nagent = \"canned\"\n\
                     [policy]\nactions = [\"run\"]\napprove = []\ncommands = [[\"/usr/bin/touch\", \"**\"]]\n",
                    answer_script(),
                    answer.display()
                ),
            )
        };
        host.write_config(&format!(
            "[cycle]\nsettle = \"100ms\"\n{agent}\n{}{remedy}\nconfig_test = [\"{}\"]\n",
            file_check("app", up.display()),
            test.display()
        ));
        host.run(&["cycle"]).ok();
        assert!(!up.exists(), "phase {phase}: the restart ran");
        assert_eq!(
            host.query_text("SELECT status || ' ' || phase FROM incidents"),
            "escalated 4"
        );
        let reason = host.query_text("SELECT handoff FROM incidents");
        assert_contains(
            &reason,
            &format!("phase {phase}: not restarted: the config test `{}` failed (exit status 1): app: [emerg] unexpected \"}}\" in /srv/app.conf:6", test.display()),
        );
        assert_eq!(
            host.query_text("SELECT outcome || ' ' || restarts FROM attempts"),
            "rejected 0"
        );
    }
    // Passing, the test's words head the attempt's output and the restart runs.
    let host = Host::new();
    let up = host.path("up");
    host.write_config(&format!(
        "[cycle]\nsettle = \"100ms\"\n{}remedy = [{{ action = \"run\", argv = [\"/usr/bin/touch\", \"{}\"] }}]\n\
         config_test = [\"/usr/bin/echo\", \"test is successful\"]\n",
        file_check("app", up.display()),
        up.display()
    ));
    host.run(&["cycle"]).ok();
    assert_eq!(host.query_text("SELECT status FROM incidents"), "resolved");
    let output = host.query_text("SELECT output FROM attempts");
    assert!(
        output.starts_with(
            "config test `/usr/bin/echo test is successful` succeeded: test is successful"
        ),
        "{output}"
    );
}

/// A fix is verified only when the failing fact is gone: an agent's restart after which the
/// check passes while its filesystem stays full is `not_fixed`: nothing is learned and no fix
/// is counted (the passing check then makes the incident `recovered`).
#[test]
fn a_check_that_passes_on_a_disk_still_full_is_not_a_verified_fix() {
    require_system!(
        "a_check_that_passes_on_a_disk_still_full_is_not_a_verified_fix",
        Need::Root
    );
    let host = Host::new();
    let disk = SmallDisk::mount(host.path("disk"), "256k");
    disk.fill();
    let up = disk.0.join("up");
    let answer = host.path("answer.json");
    std::fs::write(
        &answer,
        format!(
            r#"{{"diagnosis": "down", "plan": [{{"action": "run", "argv": ["/usr/bin/touch", "{}"]}}]}}"#,
            up.display()
        ),
    )
    .unwrap();
    host.write_config(&format!(
        "[cycle]\nsettle = \"100ms\"\n[agents.canned]\ncommand = [\"{}\", \"{}\"]\n[research]\nagent = \"canned\"\n\
         [policy]\nactions = [\"run\"]\napprove = []\ncommands = [[\"/usr/bin/touch\", \"**\"]]\n{}",
        answer_script(),
        answer.display(),
        file_check("app", up.display())
    ));
    host.run(&["cycle"]).ok();
    assert!(
        up.exists(),
        "the agent's plan ran (an empty file needs no block)"
    );
    let (outcome, reason) = host
        .db()
        .query_row("SELECT outcome, reason FROM attempts", [], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .unwrap();
    assert_eq!(outcome, "not_fixed", "{reason}");
    assert_contains(
        &reason,
        "not verified: the check passes after 100ms, but the filesystem of",
    );
    assert_contains(&reason, "is full (0 B of");
    // Not a fix: nothing learned, not counted as fixed; the check passing, it is `recovered`.
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM patterns"), 0);
    assert_eq!(
        host.query_text("SELECT status || ' ' || coalesce(resolved_by, '-') FROM incidents"),
        "recovered check"
    );
}

/// The reason phase 1 would not restart, kept on the incident's timeline.
#[test]
fn phase_1_hands_on_a_permission_error_in_the_log_instead_of_restarting() {
    let host = Host::new();
    let up = host.path("up");
    let log = host.path("app.log");
    std::fs::write(
        &log,
        format!("app: cannot open {}: Permission denied\n", up.display()),
    )
    .unwrap();
    host.write_config(&format!(
        "[cycle]\nsettle = \"100ms\"\n{}logs = [\"{}\"]\nremedy = [{{ action = \"run\", argv = [\"/usr/bin/touch\", \"{}\"] }}]\n",
        file_check("app", up.display()),
        log.display(),
        up.display()
    ));
    host.run(&["fix"]).ok();
    host.run(&["scan"]).ok();
    let fix = host.run(&["--json", "fix"]).ok().json();
    assert!(!up.exists(), "the remedy restarted over a permission error");
    let detail = fix["incidents"][0]["detail"].as_str().unwrap_or_default();
    assert_contains(detail, "phase 1: nothing restarted; a permission error");
    assert_contains(detail, "a restart cannot mend it, and would hide it");
    assert_eq!(host.query_text("SELECT outcome FROM attempts"), "rejected");
}

#[test]
fn nginx_killed_leaves_a_worker_on_its_port_which_is_stopped_as_its_own() {
    require_system!(
        "nginx_killed_leaves_a_worker_on_its_port_which_is_stopped_as_its_own",
        Need::Root,
        NGINX
    );
    nginx_sigkill_leaves_its_worker_on_the_port();
}

#[test]
fn a_foreign_process_on_nginxs_port_is_escalated_once_and_never_killed_unasked() {
    require_system!(
        "a_foreign_process_on_nginxs_port_is_escalated_once_and_never_killed_unasked",
        Need::Root,
        NGINX
    );
    nginx_port_squatter();
}

#[test]
fn a_running_nginx_with_a_broken_config_is_never_restarted() {
    require_system!(
        "a_running_nginx_with_a_broken_config_is_never_restarted",
        Need::Root,
        NGINX
    );
    nginx_broken_config_is_never_restarted();
}

#[test]
fn nginx_down_on_a_broken_config_is_escalated_quoting_its_words() {
    require_system!(
        "nginx_down_on_a_broken_config_is_escalated_quoting_its_words",
        Need::Root,
        NGINX
    );
    nginx_broken_config_without_a_config_test();
}

#[test]
fn a_stopped_redis_is_restarted_with_its_data() {
    require_system!(
        "a_stopped_redis_is_restarted_with_its_data",
        Need::Root,
        REDIS,
        PLUGINS
    );
    redis_sigstop();
}

#[test]
fn a_full_redis_disk_waits_for_its_disk_check_and_redis_is_never_restarted() {
    require_system!(
        "a_full_redis_disk_waits_for_its_disk_check_and_redis_is_never_restarted",
        Need::Root,
        REDIS,
        PLUGINS
    );
    redis_full_disk(false);
}

#[test]
fn a_full_redis_disk_is_freed_keeping_the_live_log_and_the_data() {
    require_system!(
        "a_full_redis_disk_is_freed_keeping_the_live_log_and_the_data",
        Need::Root,
        REDIS,
        PLUGINS
    );
    redis_full_disk(true);
}

#[test]
fn redis_with_an_unreadable_data_directory_is_not_restarted_and_a_person_is_told() {
    require_system!(
        "redis_with_an_unreadable_data_directory_is_not_restarted_and_a_person_is_told",
        Need::Root,
        REDIS,
        PLUGINS
    );
    redis_data_directory_permission();
}

#[test]
fn a_database_down_under_its_app_is_restarted_once_and_the_app_never() {
    require_system!(
        "a_database_down_under_its_app_is_restarted_once_and_the_app_never",
        Need::Root,
        POSTGRES
    );
    postgres_down_under_its_app();
}

#[test]
fn a_healthy_postgresql_with_a_many_line_pid_file_is_never_touched() {
    require_system!(
        "a_healthy_postgresql_with_a_many_line_pid_file_is_never_touched",
        Need::Root,
        POSTGRES
    );
    postgres_healthy_with_its_many_line_pid_file();
}

/// A scenario of the fault table: its short name, and the run that returns its row.
type Scenario = (&'static str, fn() -> Row);

/// The fault table of the closing note: every scenario in turn, one row each (a scenario that
/// fails its assertions prints why instead of a row). `scripts/bench-daemons.sh` runs it.
#[test]
#[ignore = "prints the fault table; run by scripts/bench-daemons.sh"]
fn fault_table() {
    require_system!("fault_table", Need::Root, NGINX, REDIS, POSTGRES, PLUGINS);
    let scenarios: [Scenario; 9] = [
        ("nginx SIGKILL", nginx_sigkill_leaves_its_worker_on_the_port),
        ("nginx squatter", nginx_port_squatter),
        (
            "nginx broken config",
            nginx_broken_config_is_never_restarted,
        ),
        (
            "nginx broken config, no test",
            nginx_broken_config_without_a_config_test,
        ),
        ("Redis SIGSTOP", redis_sigstop),
        ("Redis full disk", || redis_full_disk(true)),
        ("Redis permission", redis_data_directory_permission),
        ("PostgreSQL under its app", postgres_down_under_its_app),
        (
            "PostgreSQL healthy",
            postgres_healthy_with_its_many_line_pid_file,
        ),
    ];
    let mut table = String::from("| fault | outcome | restarts | time |\n|---|---|---|---|\n");
    for (name, scenario) in scenarios {
        let started = Instant::now();
        match std::panic::catch_unwind(scenario) {
            Ok(row) => table.push_str(&format!(
                "| {} | {} | {} | {:.1} s |\n",
                row.fault, row.outcome, row.restarts, row.seconds
            )),
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let why: String = why
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(160)
                    .collect();
                table.push_str(&format!(
                    "| {name} | FAILED after {:.1} s: {why} | | |\n",
                    started.elapsed().as_secs_f64()
                ));
            }
        }
    }
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "\n{table}");
}
