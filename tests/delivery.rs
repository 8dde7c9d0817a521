//! Delivery of escalations (issue 10): the outbox survives a crash at any write, a misbehaving
//! mail server or webhook never holds up healing, SMTP 5xx is permanent and 4xx transient,
//! reminders are per recipient, and Alertmanager keeps an open escalation firing.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PYTHON3: Need = Need::Program("/usr/bin/python3", "python3");

/// tests/servers/bad_smtp.py on a free port, in one of its modes; it exits by itself after
/// `lifetime`, and is killed when dropped.
struct BadServer {
    port: u16,
    child: Child,
}

impl BadServer {
    fn start(mode: &str, lifetime: Duration, spool: Option<&Path>) -> BadServer {
        let port = free_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/bad_smtp.py");
        let mut command = Command::new("/usr/bin/python3");
        command
            .arg(script)
            .arg(port.to_string())
            .arg(mode)
            .arg(lifetime.as_secs_f64().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(spool) = spool {
            command.arg(spool);
        }
        let child = command.spawn().expect("start bad_smtp.py");
        wait_until("bad_smtp.py listens", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        BadServer { port, child }
    }
}

impl Drop for BadServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A check that fails until `backup.tar` appears in `dir` and so reaches phase 4, plus `extra`.
fn escalating_config(dir: &Path, escalation: &str, extra: &str) -> String {
    format!(
        r#"
[cycle]
settle = "100ms"

[escalation]
retry = "1ms"
repeat = "24h"
{escalation}

[[checks]]
name = "nightly-backup"
kind = "file"
path = "{dir}/backup.tar"
{extra}"#,
        dir = dir.display()
    )
}

fn email_to(recipients: &[&str], smtp_port: u16) -> String {
    let to: Vec<String> = recipients.iter().map(|r| r.to_string()).collect();
    format!(
        "email = {{ to = {}, from = \"orchestrator@web-01\", smtp = \"smtp://127.0.0.1:{smtp_port}\" }}",
        toml_array(&to)
    )
}

fn web_check(service: &Service) -> String {
    format!(
        r#"
[[checks]]
name = "web"
kind = "http"
url = "{url}"
remedy = [ {{ action = "remove_file", path = "{pidfile}" }}, {{ action = "run", argv = {start}, timeout = "15s" }} ]
"#,
        url = service.url(),
        pidfile = service.pidfile.display(),
        start = service.start_toml(),
    )
}

fn statuses(host: &Host) -> Vec<(String, String, String)> {
    let db = host.db();
    let mut stmt = db
        .prepare(
            "SELECT recipient, status, COALESCE(last_error, '') FROM notifications ORDER BY id",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn a_hanging_dripping_or_endless_mail_server_never_holds_up_healing() {
    require_system!(
        "a_hanging_dripping_or_endless_mail_server_never_holds_up_healing",
        PYTHON3
    );
    for mode in ["hang", "drip", "endless"] {
        healing_goes_on_while_delivery_struggles(mode);
    }
}

/// Cycle A escalates and then delivers to the bad server (3 mails, 3 s each, 6 s budget); while
/// it delivers, the service breaks and cycle B must run (not skip) and heal it at once.
fn healing_goes_on_while_delivery_struggles(mode: &str) {
    let host = Host::new();
    let server = BadServer::start(mode, Duration::from_secs(60), None);
    // In hang mode the webhook hangs too.
    let webhook = if mode == "hang" {
        format!(
            "webhook = {{ url = \"http://127.0.0.1:{}/api/v2/alerts\", format = \"alertmanager\" }}",
            server.port
        )
    } else {
        String::new()
    };
    let service = Service::new(&host, "web");
    host.write_config(&escalating_config(
        host.dir.path(),
        &format!(
            "message_timeout = \"3s\"\ndelivery_budget = \"6s\"\n{}\n{webhook}",
            email_to(
                &["a@example.com", "b@example.com", "c@example.com"],
                server.port
            )
        ),
        &web_check(&service),
    ));
    service.start();

    let started = Instant::now();
    let mut cycle_a = host
        .command(&["cycle"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cycle A");
    wait_until(
        &format!("[{mode}] cycle A is sending"),
        Duration::from_secs(10),
        || sending(&host) >= 1,
    );

    service.kill();
    let b_started = Instant::now();
    let cycle_b = host.run(&["--json", "cycle"]).ok().json();
    let b_took = b_started.elapsed();
    assert!(
        cycle_b.get("skipped").is_none(),
        "[{mode}] cycle B was skipped: delivery held the cycle lock: {cycle_b}"
    );
    assert!(service.healthy(), "[{mode}] cycle B healed the service");
    assert_eq!(
        cycle_b["fix"]["incidents"][0]["verdict"], "fixed",
        "[{mode}] {cycle_b}"
    );
    assert!(
        b_took < Duration::from_secs(5),
        "[{mode}] cycle B took {b_took:?}"
    );
    assert!(
        cycle_a.try_wait().unwrap().is_none(),
        "[{mode}] cycle A is still delivering while B healed"
    );

    let a_status = wait_for_exit(&mut cycle_a, Duration::from_secs(15));
    let a_took = started.elapsed();
    assert!(a_status.success(), "[{mode}] cycle A: {a_status:?}");
    // 6 s of delivery budget plus the healing phases and start-up.
    assert!(
        a_took < Duration::from_secs(10),
        "[{mode}] cycle A took {a_took:?}"
    );

    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "[{mode}] cycle B healed in {b_took:?} while A delivered; A took {a_took:?} in all"
    );
    let rows = statuses(&host);
    let timed_out = rows
        .iter()
        .filter(|(_, status, error)| {
            status == "pending" && error.contains("no complete answer within")
        })
        .count();
    assert_eq!(
        timed_out, 2,
        "[{mode}] two tries cut by their deadline: {rows:?}"
    );
    assert!(
        rows.iter().all(|(_, status, _)| status == "pending"),
        "[{mode}] what the budget did not reach waits for the next run: {rows:?}"
    );
}

/// Rows in flight; 0 while cycle A has not created the database yet.
fn sending(host: &Host) -> i64 {
    host.db()
        .query_row(
            "SELECT COUNT(*) FROM notifications WHERE status = 'sending'",
            [],
            |r| r.get(0),
        )
        .unwrap_or(0)
}

fn wait_for_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn smtp_4xx_is_retried_and_5xx_fails_with_the_servers_words_at_every_stage() {
    require_system!(
        "smtp_4xx_is_retried_and_5xx_fails_with_the_servers_words_at_every_stage",
        PYTHON3
    );
    for stage in ["greeting", "ehlo", "mail", "rcpt", "data"] {
        for code in ["451", "554"] {
            let host = Host::new();
            let server =
                BadServer::start(&format!("{code}@{stage}"), Duration::from_secs(30), None);
            host.write_config(&escalating_config(
                host.dir.path(),
                &email_to(&["ops@example.com"], server.port),
                "",
            ));
            host.run(&["cycle"]).ok();
            let rows = statuses(&host);
            assert_eq!(rows.len(), 1, "{code}@{stage}: {rows:?}");
            let (_, status, error) = &rows[0];
            if code.starts_with('4') {
                assert_eq!(status, "pending", "{code}@{stage}: {error}");
                assert_contains(error, "try again later, the test server says");
            } else {
                assert_eq!(status, "failed", "{code}@{stage}: {error}");
                assert_contains(error, "554");
                assert_contains(error, "refused for good, the test server says");
                // Failed for good: later runs do not try again.
                host.run(&["escalate"]).ok();
                assert_eq!(host.query_i64("SELECT tries FROM notifications"), 1);
            }
            let failed = if code.starts_with('5') { 1 } else { 0 };
            let exposition = host.run(&["metrics", "--prometheus"]).ok().stdout;
            assert_contains(
                &exposition,
                &format!("orchestrator_notifications_failed_total {failed}\n"),
            );
        }
    }
}

#[test]
fn a_failed_notification_shows_the_servers_words_on_the_incident_page() {
    require_system!(
        "a_failed_notification_shows_the_servers_words_on_the_incident_page",
        PYTHON3
    );
    let host = Host::new();
    let server = BadServer::start("reject:nobody", Duration::from_secs(30), None);
    host.write_config(&escalating_config(
        host.dir.path(),
        &email_to(&["nobody@example.com"], server.port),
        "",
    ));
    host.run(&["cycle"]).ok();
    let dashboard = Dashboard::start(&host);
    let (status, page) = ureq_get(&dashboard.url("/incidents/1")).expect("incident page");
    assert_eq!(status, 200, "{page}");
    assert_contains(&page, "badge bad\">failed");
    assert_contains(&page, "nobody@example.com&gt;: no such user here");
    assert_contains(&page, "&lt;orchestrator.1.");
}

#[test]
fn a_refused_recipient_never_silences_the_reminders_of_the_others() {
    require_system!(
        "a_refused_recipient_never_silences_the_reminders_of_the_others",
        PYTHON3
    );
    let host = Host::new();
    let spool = host.path("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let server = BadServer::start("reject:gone", Duration::from_secs(60), Some(&spool));
    host.write_config(
        &escalating_config(
            host.dir.path(),
            &email_to(&["ops@example.com", "gone@example.com"], server.port),
            "",
        )
        .replace_once("repeat = \"24h\"", "repeat = \"1s\""),
    );
    host.run(&["cycle"]).ok();
    let rows = statuses(&host);
    assert_eq!(rows[0].1, "sent", "{rows:?}");
    assert_eq!(rows[1].1, "failed", "{rows:?}");
    let first_id = host.query_text(
        "SELECT idempotency_key FROM notifications WHERE recipient = 'ops@example.com'",
    );

    std::thread::sleep(Duration::from_millis(1100));
    let escalate = host.run(&["--json", "escalate"]).ok().json();
    assert_eq!(escalate["repeated"][0], 1, "{escalate}");
    let mails = spooled(&spool);
    assert_eq!(mails.len(), 2, "{mails:?}");
    let reminder = &mails[1];
    assert_contains(reminder, "still unresolved");
    assert_contains(reminder, &format!("In-Reply-To: {first_id}"));
    assert_contains(reminder, &format!("References: {first_id}"));
    assert_eq!(
        host.query_i64(
            "SELECT COUNT(*) FROM notifications WHERE kind = 'repeat' AND recipient = 'ops@example.com' AND status = 'sent'"
        ),
        1
    );
}

fn spooled(spool: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(spool)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[test]
fn alertmanager_keeps_an_open_escalation_firing_past_its_resolve_timeout() {
    require_system!(
        "alertmanager_keeps_an_open_escalation_firing_past_its_resolve_timeout",
        ALERTMANAGER
    );
    let host = Host::new();
    let alertmanager = Alertmanager::start_with(&host, Some("2s"));
    host.write_config(&escalating_config(
        host.dir.path(),
        &format!(
            "alert_ttl = \"3s\"\nwebhook = {{ url = \"{}\", format = \"alertmanager\" }}",
            alertmanager.webhook_url()
        ),
        "",
    ));
    host.run(&["cycle"]).ok();
    assert_eq!(alertmanager.active_alerts().len(), 1);

    // Re-posted by every run, it outlives both resolve_timeout (2 s) and alert_ttl (3 s).
    let until = Instant::now() + Duration::from_secs(6);
    while Instant::now() < until {
        host.run(&["escalate"]).ok();
        let alerts = alertmanager.active_alerts();
        assert_eq!(alerts.len(), 1, "still firing: {alerts:?}");
        std::thread::sleep(Duration::from_millis(700));
    }
    // Without re-posting it lapses: the runs were what kept it.
    wait_until(
        "the alert lapses once nobody re-posts it",
        Duration::from_secs(10),
        || alertmanager.active_alerts().is_empty(),
    );
    host.run(&["escalate"]).ok();
    assert_eq!(alertmanager.active_alerts().len(), 1, "fired again");

    std::fs::write(host.path("backup.tar"), "data").unwrap();
    host.run(&["cycle"]).ok();
    assert!(
        alertmanager.active_alerts().is_empty(),
        "resolved by the all-clear"
    );
    host.run(&["escalate"]).ok();
    assert!(
        alertmanager.active_alerts().is_empty(),
        "a resolved escalation is not re-posted"
    );
}

/// One crash-point scenario: a database copied from `template`, then `escalate` killed at its
/// `n`th pwrite64 (SQLite's only way to write its files), then an ordinary run.
struct CrashScenario<'a> {
    name: &'a str,
    host: &'a Host,
    template: PathBuf,
    /// The directory whose backup.tar the check looks for.
    check_dir: PathBuf,
    smtp_port: u16,
    /// The notification kind this scenario's run queues and sends.
    kind: &'a str,
}

impl CrashScenario<'_> {
    fn point_dir(&self, n: usize) -> PathBuf {
        self.host.path(&format!("{}-{n}", self.name))
    }

    /// The per-point hostname puts the point into every Message-ID: `@p7.escalation.test>`.
    fn domain(&self, n: usize) -> String {
        format!("p{n}.{}.test", self.name.replace('_', "-"))
    }

    fn prepare(&self, n: usize) -> (PathBuf, PathBuf) {
        let dir = self.point_dir(n);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("state.db");
        std::fs::copy(&self.template, &db).unwrap();
        let config = dir.join("orchestrator.toml");
        std::fs::write(
            &config,
            crash_config(&self.check_dir, self.smtp_port, &self.domain(n)),
        )
        .unwrap();
        (config, db)
    }

    fn orchestrator(&self, config: &Path, db: &Path) -> Command {
        let mut command = Command::new(orchestrator_bin());
        command
            .arg("-c")
            .arg(config)
            .arg("--db")
            .arg(db)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    /// How many pwrite64 calls one undisturbed run makes.
    fn count_writes(&self) -> usize {
        let (config, db) = self.prepare(0);
        let trace = self.point_dir(0).join("trace");
        let status = Command::new("/usr/bin/strace")
            .args(["-f", "-qq", "-e", "trace=pwrite64", "-o"])
            .arg(&trace)
            .arg(orchestrator_bin())
            .arg("-c")
            .arg(&config)
            .arg("--db")
            .arg(&db)
            .arg("escalate")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::read_to_string(trace)
            .unwrap()
            .lines()
            .filter(|l| l.contains("pwrite64("))
            .count()
    }

    /// Kills `escalate` at write `n`, then runs it normally; returns whether the kill happened.
    fn crash_then_recover(&self, n: usize) -> bool {
        let (config, db) = self.prepare(n);
        let killed = !Command::new("/usr/bin/strace")
            .args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=pwrite64", "-e"])
            .arg(format!("inject=pwrite64:signal=KILL:when={n}"))
            .arg(orchestrator_bin())
            .arg("-c")
            .arg(&config)
            .arg("--db")
            .arg(&db)
            .arg("escalate")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        let status = self
            .orchestrator(&config, &db)
            .arg("escalate")
            .status()
            .unwrap();
        assert!(
            status.success(),
            "{} point {n}: the next run fails",
            self.name
        );
        self.assert_sound(n, &db);
        killed
    }

    /// The database is sound and every notification of the scenario is sent.
    fn assert_sound(&self, n: usize, db: &Path) {
        let db = rusqlite::Connection::open(db).unwrap();
        let query = |sql: &str| -> String {
            db.query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0))
                .map(|v| format!("{v:?}"))
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        };
        let point = format!("{} point {n}", self.name);
        assert_eq!(query("PRAGMA integrity_check"), "Text(\"ok\")", "{point}");
        assert_eq!(
            query("SELECT COUNT(*) FROM escalations"),
            "Integer(1)",
            "{point}"
        );
        assert_eq!(
            query(&format!(
                "SELECT COUNT(*) FROM notifications WHERE kind = '{}' AND status = 'sent'",
                self.kind
            )),
            "Integer(2)",
            "{point}: both recipients' notifications exist and are sent"
        );
        assert_eq!(
            query("SELECT COUNT(*) FROM notifications WHERE status != 'sent'"),
            "Integer(0)",
            "{point}"
        );
    }

    /// The Message-IDs the point's database holds for the scenario's kind.
    fn keys(&self, n: usize) -> Vec<String> {
        let db = rusqlite::Connection::open(self.point_dir(n).join("state.db")).unwrap();
        let mut stmt = db
            .prepare("SELECT idempotency_key FROM notifications WHERE kind = ?1 ORDER BY id")
            .unwrap();
        let keys = stmt
            .query_map([self.kind], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        keys
    }
}

/// `repeat` is 1h: the reminders scenario's template dates its last mails two days back.
fn crash_config(check_dir: &Path, smtp_port: u16, hostname: &str) -> String {
    format!(
        r#"
[escalation]
retry = "1ms"
repeat = "1h"
hostname = "{hostname}"
{email}

[[checks]]
name = "nightly-backup"
kind = "file"
path = "{dir}/backup.tar"
"#,
        email = email_to(&["a@example.com", "b@example.com"], smtp_port),
        dir = check_dir.display()
    )
}

fn message_id_of(mail: &str) -> Option<String> {
    mail.lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .map(|id| id.trim().to_string())
}

#[test]
fn a_crash_at_every_write_of_escalate_loses_nothing_and_resends_only_with_the_same_message_id() {
    require_system!(
        "a_crash_at_every_write_of_escalate_loses_nothing_and_resends_only_with_the_same_message_id",
        STRACE,
        AIOSMTPD
    );
    let host = Host::new();
    let mut smtp = SmtpSink::new(&host);
    smtp.start();
    let started = Instant::now();

    // Scenario 1: an incident waits for phase 4; `escalate` opens the escalation, queues and
    // sends its mails.
    let waiting = host.path("waiting");
    std::fs::create_dir_all(&waiting).unwrap();
    let template = waiting.join("state.db");
    let config = waiting.join("orchestrator.toml");
    std::fs::write(&config, crash_config(&waiting, smtp.port, "template.test")).unwrap();
    for phase in ["scan", "fix", "research", "consult"] {
        let status = Command::new(orchestrator_bin())
            .arg("-c")
            .arg(&config)
            .arg("--db")
            .arg(&template)
            .arg(phase)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let escalation = CrashScenario {
        name: "escalation",
        host: &host,
        template: template.clone(),
        check_dir: waiting.clone(),
        smtp_port: smtp.port,
        kind: "escalation",
    };

    // Scenario 2: the escalation was announced and its check passes again; `escalate` queues
    // and sends the all-clear.
    let over = host.path("over");
    std::fs::create_dir_all(&over).unwrap();
    let over_template = over.join("state.db");
    std::fs::copy(&template, &over_template).unwrap();
    let over_config = over.join("orchestrator.toml");
    std::fs::write(
        &over_config,
        crash_config(&over, smtp.port, "template.test"),
    )
    .unwrap();
    let run = |phase: &str| {
        let status = Command::new(orchestrator_bin())
            .arg("-c")
            .arg(&over_config)
            .arg("--db")
            .arg(&over_template)
            .arg(phase)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    };
    run("escalate");
    std::fs::write(over.join("backup.tar"), "data").unwrap();
    run("scan");
    let all_clear = CrashScenario {
        name: "all_clear",
        host: &host,
        template: over_template.clone(),
        check_dir: over.clone(),
        smtp_port: smtp.port,
        kind: "all_clear",
    };

    // Scenario 3: the escalation was announced two days ago and nobody acknowledged it;
    // `escalate` queues and sends a reminder to each recipient.
    let stale = host.path("stale");
    std::fs::create_dir_all(&stale).unwrap();
    let stale_template = stale.join("state.db");
    std::fs::copy(&template, &stale_template).unwrap();
    let stale_config = stale.join("orchestrator.toml");
    std::fs::write(
        &stale_config,
        crash_config(&stale, smtp.port, "template.test"),
    )
    .unwrap();
    let status = Command::new(orchestrator_bin())
        .arg("-c")
        .arg(&stale_config)
        .arg("--db")
        .arg(&stale_template)
        .arg("escalate")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    rusqlite::Connection::open(&stale_template)
        .unwrap()
        .execute(
            "UPDATE notifications SET settled_at = settled_at - 172800",
            [],
        )
        .unwrap();
    let reminders = CrashScenario {
        name: "repeat",
        host: &host,
        template: stale_template.clone(),
        check_dir: stale.clone(),
        smtp_port: smtp.port,
        kind: "repeat",
    };

    let mut report = Vec::new();
    for scenario in [&escalation, &all_clear, &reminders] {
        let writes = scenario.count_writes();
        assert!(writes > 10, "{}: only {writes} writes", scenario.name);
        let killed = (1..=writes)
            .filter(|&n| scenario.crash_then_recover(n))
            .count();
        assert!(
            killed * 10 >= writes * 9,
            "{}: the injection killed only {killed} of {writes} runs",
            scenario.name
        );
        report.push((scenario, writes, killed));
    }

    // Every message the sink got is one of a point's notifications; each notification arrived,
    // at most one of a point's arrived twice, and a second copy has the same Message-ID.
    let received: Vec<String> = smtp
        .messages()
        .iter()
        .filter_map(|m| message_id_of(m))
        .collect();
    let mut summary = Vec::new();
    for (scenario, writes, killed) in &report {
        let mut resent = 0;
        for n in 1..=*writes {
            let domain = format!("@{}>", scenario.domain(n));
            let mut got: Vec<&String> =
                received.iter().filter(|id| id.ends_with(&domain)).collect();
            got.sort();
            let mut keys = scenario.keys(n);
            keys.sort();
            let mut distinct = got.clone();
            distinct.dedup();
            let distinct: Vec<String> = distinct.into_iter().cloned().collect();
            assert_eq!(
                distinct, keys,
                "{} point {n}: each notification arrives under its own Message-ID",
                scenario.name
            );
            let copies = got.len() - distinct.len();
            assert!(copies <= 1, "{} point {n}: {copies} resends", scenario.name);
            resent += copies;
        }
        summary.push(format!(
            "{}: {writes} crash points ({killed} killed), {resent} resent with the same Message-ID",
            scenario.name
        ));
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "crash points: {} in {:?}",
        summary.join("; "),
        started.elapsed()
    );
}

/// Runs `args` in the background while polling Alertmanager every 200 ms; each poll must show
/// every alert named in `names` as active. Returns the run's exit status and how many polls
/// there were.
fn run_while_firing(
    alertmanager: &Alertmanager,
    mut command: Command,
    names: &[&str],
    what: &str,
) -> (std::process::ExitStatus, usize) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start orchestrator");
    let mut polls = 0;
    loop {
        let active: Vec<String> = alertmanager
            .active_alerts()
            .iter()
            .map(|a| a["labels"]["alertname"].as_str().unwrap_or("").to_string())
            .collect();
        for name in names {
            assert!(
                active.iter().any(|a| a == name),
                "{what}: {name} is not active in Alertmanager (poll {polls}): {active:?}"
            );
        }
        polls += 1;
        if let Some(status) = child.try_wait().unwrap() {
            return (status, polls);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Issue 18.5, the attack: a mail server that accepts and never answers, three recipients, and
/// Alertmanager as the webhook. Before, mail spent the whole delivery budget first: the new
/// escalation's alert was never posted and the firing alerts lapsed. Each channel now has its
/// own thread and budget, and the firing alerts are re-posted before anything slow.
#[test]
fn a_hanging_mail_server_never_starves_the_webhook_and_firing_alerts_stay_active() {
    require_system!(
        "a_hanging_mail_server_never_starves_the_webhook_and_firing_alerts_stay_active",
        PYTHON3,
        ALERTMANAGER
    );
    let host = Host::new();
    let smtp = BadServer::start("hang", Duration::from_secs(120), None);
    let alertmanager = Alertmanager::start(&host);
    host.write_config(&escalating_config(
        host.dir.path(),
        &format!(
            "message_timeout = \"1s\"\ndelivery_budget = \"2s\"\nalert_ttl = \"5s\"\n{}\nwebhook = {{ url = \"{}\" }}",
            email_to(&["a@example.com", "b@example.com", "c@example.com"], smtp.port),
            alertmanager.webhook_url()
        ),
        "",
    ));

    // The first run escalates; its alert reaches Alertmanager although every mail hangs.
    let first = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(
        first["escalate"]["incidents"][0]["verdict"], "escalated",
        "{first}"
    );
    let alerts = alertmanager.active_alerts();
    assert_eq!(
        alerts.len(),
        1,
        "the new escalation's webhook went out in the first run: {alerts:?}"
    );
    let rows = host.query_text(
        "SELECT group_concat(channel || ':' || status, ' ') FROM notifications ORDER BY id",
    );
    assert!(rows.contains("webhook:sent"), "{rows}");
    assert_eq!(rows.matches("email:pending").count(), 3, "{rows}");

    // Runs go on, each spending the mail channel's whole budget on the hanging server; the
    // alert (endsAt 5 s ahead) stays active throughout, far past its TTL.
    let started = Instant::now();
    let (mut polls, mut runs) = (0, 0);
    while started.elapsed() < Duration::from_millis(7500) {
        runs += 1;
        let (status, seen) = run_while_firing(
            &alertmanager,
            host.command(&["escalate"]),
            &["OrchestratorEscalation"],
            &format!("run {runs}"),
        );
        assert!(status.success(), "run {runs}: {status:?}");
        polls += seen;
    }
    let held = started.elapsed();
    let tries = host.query_i64("SELECT SUM(tries) FROM notifications WHERE channel = 'email'");
    assert!(
        tries >= 2 * runs,
        "mail was tried in every run: {tries} tries in {runs} runs"
    );
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "firing for {held:?} over {runs} runs against a hanging mail server ({polls} polls, all active)"
    );
}

/// Issue 18.5 on a full state disk: an escalation is open and announced; then the disk fills
/// and the mail server hangs. Every run must post the state's own alert and re-post the open
/// escalation's, so Alertmanager shows both as firing for as long as the disk stays full,
/// although the direct mail goes out only once per `repeat`.
#[test]
fn on_a_full_state_disk_the_direct_alert_and_open_escalations_stay_active() {
    require_system!(
        "on_a_full_state_disk_the_direct_alert_and_open_escalations_stay_active",
        Need::Root,
        PYTHON3,
        ALERTMANAGER
    );
    let host = Host::new();
    let disk = SmallDisk::mount(host.path("state"), "1m");
    let db = disk.0.join("state.db");
    let alertmanager = Alertmanager::start(&host);
    let smtp = BadServer::start("hang", Duration::from_secs(120), None);
    let webhook = format!("webhook = {{ url = \"{}\" }}", alertmanager.webhook_url());
    let run = |args: &[&str]| {
        let mut command = host.command_with_db(&db, args);
        command.env("RUNTIME_DIRECTORY", host.path("run"));
        command
    };
    // While there is room, and before the mail server is configured, the escalation is
    // announced to Alertmanager.
    host.write_config(&escalating_config(
        host.dir.path(),
        &format!("alert_ttl = \"5s\"\n{webhook}"),
        "",
    ));
    let status = run(&["cycle"]).status().unwrap();
    assert!(status.success());
    assert_eq!(alertmanager.active_alerts().len(), 1);

    host.write_config(&escalating_config(
        host.dir.path(),
        &format!(
            "alert_ttl = \"5s\"\nmessage_timeout = \"1s\"\ndelivery_budget = \"2s\"\n{}\n{webhook}",
            email_to(&["ops@example.com"], smtp.port)
        ),
        "",
    ));
    disk.fill();
    let started = Instant::now();
    let both = ["OrchestratorEscalation", "OrchestratorStateUnwritable"];
    // The first run's state alert goes out while its mail hangs; from then on both fire.
    let mut first = run(&["--json", "cycle"]);
    let output = first.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "the unit fails, so OnFailure= fires"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["unrecorded"], true, "{report}");
    let names: Vec<String> = alertmanager
        .active_alerts()
        .iter()
        .map(|a| a["labels"]["alertname"].as_str().unwrap_or("").to_string())
        .collect();
    for name in both {
        assert!(
            names.iter().any(|n| n == name),
            "{name} fires after the first run: {names:?} ({report})"
        );
    }
    // Runs go on until they have outlasted the alerts' 5 s TTL by half as much again.
    let mut runs = 1;
    while started.elapsed() < Duration::from_millis(7500) {
        runs += 1;
        let (status, _) = run_while_firing(
            &alertmanager,
            run(&["cycle"]),
            &both,
            &format!("full-disk run {runs}"),
        );
        assert_eq!(status.code(), Some(1), "run {runs}");
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "full disk: both alerts firing for {:?} over {runs} runs against a hanging mail server",
        started.elapsed()
    );
}
