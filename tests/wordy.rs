//! Phase 2 with the builtin runbook on services that speak other daemons' words
//! (examples/wordy-service.rs): a stale pid file, a taken port and a full disk are fixed; a
//! permission problem and a bad config file are escalated, the escalation naming the cause.
//! Each fault class in at least three wordings, among them nginx's, PostgreSQL's, Redis's and
//! OpenSSH's own messages, behind syslog, ISO 8601 and journal timestamps.
//!
//! `fault_suite_table` (ignored; scripts/bench-runbook.sh runs it) prints fixed/total per
//! class, for the binary named by `ORCHESTRATOR_BENCH_BIN` (default: this build).

use crate::common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// target/debug/examples/wordy-service, built on demand when a single test is run alone.
fn wordy_bin() -> PathBuf {
    let path = orchestrator_bin()
        .parent()
        .expect("bin dir")
        .join("examples/wordy-service");
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", "wordy-service"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo build --example wordy-service");
        assert!(status.success(), "building wordy-service failed");
    }
    path
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    StalePid,
    PortTaken,
    DiskFull,
    Permission,
    BadConfig,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::StalePid => "stale pid file",
            Fault::PortTaken => "port taken",
            Fault::DiskFull => "disk full",
            Fault::Permission => "permission",
            Fault::BadConfig => "bad config",
        }
    }

    fn fixable(self) -> bool {
        matches!(self, Fault::StalePid | Fault::PortTaken | Fault::DiskFull)
    }
}

/// One fault in one daemon's words, behind one timestamp style, watched by an `http` check
/// (which knows the port) or a `process` check on the pid file (which does not: the port
/// must be read from the message).
#[derive(Debug, Clone, Copy)]
struct Case {
    fault: Fault,
    wording: &'static str,
    stamp: &'static str,
    by_pidfile: bool,
}

const fn case(fault: Fault, wording: &'static str, stamp: &'static str) -> Case {
    Case {
        fault,
        wording,
        stamp,
        // httpd's "httpd (pid N) already running" names no file: only the check knows it.
        by_pidfile: matches!(wording.as_bytes(), b"httpd"),
    }
}

const fn by_pidfile(case: Case) -> Case {
    Case {
        by_pidfile: true,
        ..case
    }
}

/// The suite: what wordy-service says for each is quoted in examples/wordy-service.rs, e.g.
/// nginx `bind() to 127.0.0.1:PORT failed (98: Address already in use)`, PostgreSQL
/// `FATAL:  lock file "postmaster.pid" already exists`, Redis `Can't open the log file:
/// Permission denied` and `Failed opening the RDB file dump.rdb (in server root dir DIR) for
/// saving: No space left on device`, OpenSSH `Bind to port PORT on 127.0.0.1 failed: Address
/// already in use.`
const SUITE: [Case; 19] = [
    case(Fault::StalePid, "plain", "syslog"),
    case(Fault::StalePid, "postgres", "iso"),
    case(Fault::StalePid, "httpd", "journal"),
    case(Fault::PortTaken, "nginx", "syslog"),
    case(Fault::PortTaken, "sshd", "iso"),
    case(Fault::PortTaken, "redis", "journal"),
    case(Fault::PortTaken, "postgres", "syslog"),
    by_pidfile(case(Fault::PortTaken, "redis", "syslog")),
    by_pidfile(case(Fault::PortTaken, "sshd", "journal")),
    case(Fault::DiskFull, "redis", "iso"),
    case(Fault::DiskFull, "postgres", "journal"),
    case(Fault::DiskFull, "nginx", "syslog"),
    case(Fault::Permission, "nginx", "syslog"),
    case(Fault::Permission, "postgres", "iso"),
    case(Fault::Permission, "redis", "journal"),
    case(Fault::Permission, "sshd", "iso"),
    case(Fault::BadConfig, "nginx", "syslog"),
    case(Fault::BadConfig, "sshd", "journal"),
    case(Fault::BadConfig, "redis", "iso"),
];

/// Processes a case started (the squatter, holders of open files), killed when it ends.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One wordy-service under a host, and the faults planted for it.
struct Wordy {
    port: u16,
    log: PathBuf,
    pidfile: PathBuf,
    data: PathBuf,
    config: PathBuf,
    case: Case,
}

impl Wordy {
    fn new(root: &Path, case: Case) -> Wordy {
        let dir = root.join("srv");
        let data = dir.join("data");
        std::fs::create_dir_all(dir.join("log")).unwrap();
        std::fs::create_dir_all(&data).unwrap();
        set_mode(&data, 0o700);
        let pidfile = match case.wording {
            "postgres" => data.join("postmaster.pid"),
            "httpd" => dir.join("httpd.pid"),
            _ => dir.join("pid"),
        };
        Wordy {
            port: free_port(),
            log: dir.join("log/app.log"),
            config: dir.join("app.conf"),
            pidfile,
            data,
            case,
        }
    }

    fn start_argv(&self) -> Vec<String> {
        let mut argv: Vec<String> = vec![wordy_bin().display().to_string(), "--daemon".into()];
        for (flag, value) in [
            ("--port", self.port.to_string()),
            ("--log", self.log.display().to_string()),
            ("--pidfile", self.pidfile.display().to_string()),
            ("--data", self.data.display().to_string()),
            ("--config", self.config.display().to_string()),
            ("--wording", self.case.wording.to_string()),
            ("--stamp", self.case.stamp.to_string()),
        ] {
            argv.push(flag.into());
            argv.push(value);
        }
        argv
    }

    fn healthy(&self) -> bool {
        ureq_get(&format!("http://127.0.0.1:{}/health", self.port))
            .is_some_and(|(status, _)| status == 200)
    }

    /// The check: a `process` check on the pid file, or an `http` check.
    fn check_toml(&self) -> String {
        let kind = if self.case.by_pidfile {
            format!(
                "kind = \"process\"\npidfile = \"{}\"",
                self.pidfile.display()
            )
        } else {
            format!(
                "kind = \"http\"\nurl = \"http://127.0.0.1:{}/health\"\ntimeout = \"1s\"",
                self.port
            )
        };
        let logs = if self.case.fault == Fault::DiskFull {
            self.log.parent().unwrap().display().to_string()
        } else {
            self.log.display().to_string()
        };
        format!(
            "[[checks]]\nname = \"app\"\n{kind}\nlogs = [\"{logs}\"]\nremedy = [ {{ action = \"run\", argv = {} }} ]\n",
            toml_array(&self.start_argv())
        )
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn config(host: &Host, wordy: &Wordy) -> String {
    format!(
        r#"
[cycle]
settle = "150ms"

[policy]
actions = ["remove_file", "remedy", "clean_files", "kill_process", "restart_unit"]
approve = ["run"]
paths = ["{dir}/**"]
processes = ["wordy-service"]
reopen_within = "0s"

[agents.runbook]
builtin = "runbook"

[research]
agent = "runbook"

{check}"#,
        dir = host.dir.path().display(),
        check = wordy.check_toml(),
    )
}

/// The pid of a process that has exited: what a crash leaves in a pid file.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// A process holding `path` open (as its stdin) until the case ends.
fn hold_open(path: &Path) -> Child {
    Command::new("sleep")
        .arg("300")
        .stdin(std::fs::File::open(path).unwrap())
        .spawn()
        .unwrap()
}

/// Plants the case's fault; returns what must live as long as the case.
fn plant(host: &Host, wordy: &mut Wordy) -> (Children, Option<SmallDisk>) {
    let mut children = Children(Vec::new());
    let mut disk = None;
    match wordy.case.fault {
        Fault::StalePid => {
            std::fs::write(&wordy.pidfile, format!("{}\n", dead_pid())).unwrap();
        }
        Fault::PortTaken => {
            let squatter = squat(wordy);
            children.0.push(squatter);
        }
        Fault::DiskFull => {
            let small = SmallDisk::mount(host.path("small"), "4m");
            *wordy = Wordy {
                log: small.0.join("log/app.log"),
                data: small.0.join("data"),
                ..Wordy::new(host.dir.path(), wordy.case)
            };
            let logdir = small.0.join("log");
            std::fs::create_dir_all(&logdir).unwrap();
            std::fs::create_dir_all(&wordy.data).unwrap();
            set_mode(&wordy.data, 0o700);
            // The live log, held open by a reader: never deleted.
            std::fs::write(&wordy.log, "earlier lines\n").unwrap();
            children.0.push(hold_open(&wordy.log));
            // A deleted file still held open: space no cleaning frees.
            let ghost = logdir.join("debug.log");
            std::fs::write(&ghost, vec![b'g'; 256 * 1024]).unwrap();
            children.0.push(hold_open(&ghost));
            std::fs::remove_file(&ghost).unwrap();
            std::fs::write(logdir.join("app.log.2.gz"), vec![b'z'; 1024 * 1024]).unwrap();
            // The filler becomes a rotated log: what cleaning frees first.
            small.fill();
            std::fs::rename(small.0.join("filler"), logdir.join("app.log.1")).unwrap();
            // Rotated an hour ago: cleaning leaves files written in the last 15 minutes.
            for rotated in ["app.log.1", "app.log.2.gz"] {
                let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
                std::fs::File::options()
                    .write(true)
                    .open(logdir.join(rotated))
                    .unwrap()
                    .set_modified(hour_ago)
                    .unwrap();
            }
            disk = Some(small);
        }
        Fault::Permission => {
            if wordy.case.wording == "redis" {
                std::fs::write(&wordy.log, "").unwrap();
                set_mode(&wordy.log, 0o444);
            } else {
                set_mode(&wordy.data, 0o755);
            }
        }
        Fault::BadConfig => {
            std::fs::write(&wordy.config, "port = 1\nbind-addr 127.0.0.1\n").unwrap();
        }
    }
    (children, disk)
}

/// What came of one case.
#[derive(Debug)]
struct Outcome {
    fixed: bool,
    /// The escalation's reason names the cause (the path and mode, the parse error).
    named: bool,
    /// The log the service (or another process) holds open is still there.
    live_log_kept: bool,
    /// The diagnosis names the deleted-but-open file and its holder.
    holders_named: bool,
    report: String,
}

fn cycle(host: &Host, bin: &Path) -> serde_json::Value {
    let output = Command::new(bin)
        .arg("-c")
        .arg(host.config_path())
        .arg("--db")
        .arg(host.db_path())
        .args(["--json", "cycle"])
        .env_remove("ORCHESTRATOR_CONFIG")
        .env_remove("ORCHESTRATOR_DB")
        .output()
        .expect("run orchestrator");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "cycle: {e}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The words a reason must hold to name the cause of `case`.
fn cause_words(wordy: &Wordy) -> Vec<String> {
    match wordy.case.fault {
        Fault::Permission if wordy.case.wording == "redis" => {
            vec![wordy.log.display().to_string(), "mode 0444".into()]
        }
        Fault::Permission => vec![wordy.data.display().to_string(), "mode 0755".into()],
        Fault::BadConfig => vec!["bind-addr".into()],
        _ => Vec::new(),
    }
}

fn run_case(bin: &Path, case: Case) -> Outcome {
    let host = Host::new();
    let mut wordy = Wordy::new(host.dir.path(), case);
    let (_children, _disk) = plant(&host, &mut wordy);
    host.write_config(&config(&host, &wordy));
    let report = cycle(&host, bin);
    let research = &report["research"]["incidents"][0];
    let fixed = research["verdict"] == "fixed" && wordy.healthy();
    let reason: String = host
        .db()
        .query_row("SELECT reason FROM escalations", [], |row| row.get(0))
        .unwrap_or_default();
    let named = !reason.is_empty() && cause_words(&wordy).iter().all(|w| reason.contains(w));
    let diagnosis: String = host
        .db()
        .query_row("SELECT diagnosis FROM agent_consultations", [], |row| {
            row.get(0)
        })
        .unwrap_or_default();
    // The deleted file a process still holds is named as what holds the space.
    let holders_named = diagnosis.contains("debug.log") && diagnosis.contains("held by pid");
    // Not just a file of that name: the service writes a new one when it starts again.
    let live_log_kept =
        std::fs::read_to_string(&wordy.log).is_ok_and(|text| text.starts_with("earlier lines"));
    kill_service(&wordy);
    Outcome {
        fixed,
        named,
        live_log_kept,
        holders_named,
        report: format!("{report}\nescalation: {reason}"),
    }
}

/// A squatter holding the service's port. A free port may be taken by another test between
/// `free_port` and the squatter's bind (the tests share one process): then the squatter exits,
/// and the case moves to another port, so that the port answering is the squatter's own.
fn squat(wordy: &mut Wordy) -> std::process::Child {
    for _ in 0..5 {
        let mut squatter = Command::new(wordy_bin())
            .args(["--hold-port", "--port", &wordy.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Its start: milliseconds, but seconds on a loaded machine.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if squatter.try_wait().unwrap().is_some() {
                break;
            }
            if std::net::TcpStream::connect(("127.0.0.1", wordy.port)).is_ok() {
                // Listening, and still alive after the connection: the port is its own.
                std::thread::sleep(Duration::from_millis(50));
                if squatter.try_wait().unwrap().is_none() {
                    return squatter;
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = squatter.kill();
        let _ = squatter.wait();
        wordy.port = free_port();
    }
    panic!("no squatter held a port in five tries");
}

fn kill_service(wordy: &Wordy) {
    let pid = std::fs::read_to_string(&wordy.pidfile)
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok());
    if let Some(pid) = pid.filter(|_| wordy.healthy()) {
        signal(pid, libc::SIGTERM);
    }
}

#[track_caller]
fn assert_case(case: Case) {
    let outcome = run_case(&orchestrator_bin(), case);
    if case.fault.fixable() {
        assert!(outcome.fixed, "{case:?} was not fixed: {}", outcome.report);
        if case.fault == Fault::DiskFull {
            assert!(outcome.live_log_kept, "{case:?}: the live log was deleted");
            assert!(
                outcome.holders_named,
                "{case:?}: the deleted-but-open file is not named: {}",
                outcome.report
            );
        }
    } else {
        assert!(!outcome.fixed, "{case:?}: {}", outcome.report);
        assert!(
            outcome.named,
            "{case:?}: the escalation does not name the cause: {}",
            outcome.report
        );
    }
}

/// Each wording of `fault`, all at once: the cases share nothing, and each mostly waits.
fn assert_cases_of(fault: Fault) {
    std::thread::scope(|scope| {
        let runs: Vec<_> = SUITE
            .into_iter()
            .filter(|c| c.fault == fault)
            .map(|c| scope.spawn(move || assert_case(c)))
            .collect();
        for run in runs {
            if let Err(panic) = run.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

#[test]
fn stale_pid_files_are_removed_in_every_wording() {
    assert_cases_of(Fault::StalePid);
}

#[test]
fn a_squatter_on_the_port_is_stopped_in_every_wording() {
    assert_cases_of(Fault::PortTaken);
}

#[test]
fn a_full_disk_is_cleaned_keeping_the_live_log_in_every_wording() {
    require_system!(
        "a_full_disk_is_cleaned_keeping_the_live_log_in_every_wording",
        Need::Root
    );
    assert_cases_of(Fault::DiskFull);
}

#[test]
fn permission_problems_are_escalated_naming_path_and_mode() {
    assert_cases_of(Fault::Permission);
}

#[test]
fn bad_config_files_are_escalated_quoting_the_parse_error() {
    assert_cases_of(Fault::BadConfig);
}

/// The table for the closing note: fixed/total of the fixable classes, named/total of the
/// escalated ones. `ORCHESTRATOR_BENCH_BIN` names the orchestrator to measure.
#[test]
#[ignore]
fn fault_suite_table() {
    let bin = std::env::var_os("ORCHESTRATOR_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(orchestrator_bin);
    // SAFETY: geteuid(2) has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut rows: Vec<(Fault, usize, usize)> = Vec::new();
    let (mut live_logs_kept, mut holders_named, mut disk_cases) = (0, 0, 0);
    for case in SUITE {
        if case.fault == Fault::DiskFull && !root {
            continue;
        }
        let outcome = run_case(&bin, case);
        let good = if case.fault.fixable() {
            outcome.fixed
        } else {
            outcome.named
        };
        if case.fault == Fault::DiskFull {
            disk_cases += 1;
            live_logs_kept += outcome.live_log_kept as usize;
            holders_named += outcome.holders_named as usize;
        }
        if !good {
            let _ = writeln!(std::io::stderr(), "missed {case:?}: {}", outcome.report);
        }
        match rows.iter_mut().find(|r| r.0 == case.fault) {
            Some(row) => {
                row.1 += good as usize;
                row.2 += 1;
            }
            None => rows.push((case.fault, good as usize, 1)),
        }
    }
    let rows_total: Vec<(Fault, usize)> = rows.iter().map(|r| (r.0, r.2)).collect();
    let mut table = format!("fault suite for {}\n", bin.display());
    table.push_str("| fault class | outcome wanted | result |\n|---|---|---|\n");
    for (fault, good, total) in rows {
        let wanted = if fault.fixable() {
            "fixed in phase 2"
        } else {
            "escalated naming the cause"
        };
        table.push_str(&format!(
            "| {} | {wanted} | {good}/{total} |\n",
            fault.name()
        ));
    }
    if disk_cases > 0 {
        table.push_str(&format!(
            "disk full: live log kept {live_logs_kept}/{disk_cases}, deleted-but-open holder named {holders_named}/{disk_cases}\n"
        ));
    }
    let _ = std::io::stderr().write_all(table.as_bytes());
    // A table is only worth printing when every case ran and was judged: each class of the
    // suite has its row, with every one of its cases counted.
    let expected = |fault: Fault| {
        SUITE
            .iter()
            .filter(|case| case.fault == fault && (root || fault != Fault::DiskFull))
            .count()
    };
    for fault in SUITE.iter().map(|case| case.fault) {
        let counted = rows_total
            .iter()
            .find(|(f, _)| *f == fault)
            .map_or(0, |r| r.1);
        assert_eq!(
            counted,
            expected(fault),
            "cases of {} counted",
            fault.name()
        );
    }
    assert_eq!(disk_cases, expected(Fault::DiskFull));
}

#[test]
fn the_facts_are_shown_by_incidents_show_and_the_dashboard() {
    let host = Host::new();
    let case = case(Fault::Permission, "nginx", "syslog");
    let mut wordy = Wordy::new(host.dir.path(), case);
    let (_children, _disk) = plant(&host, &mut wordy);
    host.write_config(&config(&host, &wordy));
    host.run(&["cycle"]).ok();
    let data = wordy.data.display().to_string();

    let text = host.run(&["incidents", "show", "1"]).ok().stdout;
    assert_contains(&text, "\nfacts:\n");
    assert_contains(&text, &format!("directory {data}: mode 0755"));
    assert_contains(&text, "(13: Permission denied)");

    let json = host.run(&["--json", "incidents", "show", "1"]).ok().json();
    let paths = json["facts"]["paths"].as_array().expect("facts.paths");
    assert!(
        paths
            .iter()
            .any(|p| p["path"] == data.as_str() && p["mode"] == "0755"),
        "{json}"
    );
    assert!(json["facts"]["probes"]
        .as_array()
        .is_some_and(|p| !p.is_empty()));

    let dashboard = Dashboard::start(&host);
    let (status, page) = ureq_get(&dashboard.url("/incidents/1")).expect("incident page");
    assert_eq!(status, 200, "{page}");
    assert_contains(&page, "<h2>Host facts</h2>");
    assert_contains(&page, &format!("directory {data}: mode 0755"));
    // Log text is escaped: the line's quotes arrive as entities, never as markup.
    assert_contains(&page, &format!("open() &quot;{data}&quot; failed"));
}

#[test]
fn the_escalation_mail_quotes_the_parse_error_and_the_facts() {
    require_system!(
        "the_escalation_mail_quotes_the_parse_error_and_the_facts",
        AIOSMTPD
    );
    let host = Host::new();
    let mut smtp = SmtpSink::new(&host);
    smtp.start();
    let mut wordy = Wordy::new(host.dir.path(), case(Fault::BadConfig, "sshd", "syslog"));
    let (_children, _disk) = plant(&host, &mut wordy);
    let escalation = format!(
        "[escalation]\nretry = \"1ms\"\nemail = {{ to = [\"ops@example.com\"], from = \"orchestrator@test\", smtp = \"smtp://127.0.0.1:{}\" }}\n",
        smtp.port
    );
    host.write_config(&format!("{escalation}{}", config(&host, &wordy)));
    host.run(&["cycle"]).ok();
    wait_until("the mail arrives", Duration::from_secs(10), || {
        !smtp.messages().is_empty()
    });
    let mail = decode_quoted_printable(&smtp.messages()[0]);
    let parse_error = format!(
        "{} line 2: Bad configuration option: bind-addr",
        wordy.config.display()
    );
    // The remedy printed its stop step first; the mail quotes the error it printed last.
    assert_contains(&mail, "run failed: ");
    assert!(
        !mail.contains("run failed: Stopping wordy-service"),
        "the first line was quoted: {mail}"
    );
    assert_contains(&mail, &parse_error);
    assert_contains(&mail, "bad configuration file");
    assert_contains(&mail, "What orchestrator found on the host:");
    assert_contains(&mail, "\n  | ");
}
