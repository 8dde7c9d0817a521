//! The check kinds Monit users rely on, against real things: TLS servers (openssl s_server with
//! certificates made by openssl), log files rotated by rename and truncated, processes loading
//! memory and CPU; and `for_cycles` on a check that fails and passes for real.

mod common;
use common::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const OPENSSL: Need = Need::Program("/usr/bin/openssl", "openssl");

/// One scan's JSON line of the check `name`.
fn line<'a>(scan: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    scan["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name} in {scan}"))
}

fn scan(host: &Host) -> serde_json::Value {
    host.run(&["--json", "scan"]).ok().json()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed certificate for `cn` valid from `start` to `end` (openssl ca dates,
/// YYYYMMDDHHMMSSZ), as `NAME.pem` and `NAME.key` in `dir`.
fn certificate(dir: &Path, name: &str, cn: &str, start: &str, end: &str) {
    let ca = dir.join(format!("ca-{name}"));
    std::fs::create_dir_all(&ca).unwrap();
    std::fs::write(ca.join("index.txt"), "").unwrap();
    std::fs::write(ca.join("serial"), "01\n").unwrap();
    // An X.509 v3 certificate, as servers have: extensions make it one.
    std::fs::write(
        ca.join("ca.cnf"),
        format!(
            "[ca]\ndefault_ca = self\n[self]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n\
             default_md = sha256\npolicy = any\nemail_in_dn = no\nunique_subject = no\nx509_extensions = ext\n\
             [any]\ncommonName = supplied\n[ext]\nbasicConstraints = CA:FALSE\nsubjectAltName = DNS:{cn}\n"
        ),
    )
    .unwrap();
    let key = dir.join(format!("{name}.key"));
    let pem = dir.join(format!("{name}.pem"));
    let (key, pem) = (key.to_str().unwrap(), pem.to_str().unwrap());
    let subject = format!("/CN={cn}");
    openssl(
        &ca,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            key,
            "-out",
            "req.csr",
            "-subj",
            &subject,
        ],
    );
    openssl(
        &ca,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-selfsign",
            "-keyfile",
            key,
            "-in",
            "req.csr",
            "-out",
            pem,
            "-startdate",
            start,
            "-enddate",
            end,
            "-notext",
        ],
    );
}

/// openssl's date form for now + `days`.
fn days_from_now(days: i64) -> String {
    let at = now_secs() as i64 + days * 86_400;
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{at}"), "+%Y%m%d%H%M%SZ"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `openssl s_server` on a free port with `NAME.pem`, and `SNI.pem` for the name `sni`.
struct TlsServer {
    child: Child,
    port: u16,
}

impl TlsServer {
    fn start(dir: &Path, name: &str, sni: Option<(&str, &str)>) -> TlsServer {
        let port = free_port();
        let mut command = Command::new("openssl");
        command
            .current_dir(dir)
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args([
                "-cert",
                &format!("{name}.pem"),
                "-key",
                &format!("{name}.key"),
            ]);
        if let Some((server_name, other)) = sni {
            command.args([
                "-servername",
                server_name,
                "-cert2",
                &format!("{other}.pem"),
                "-key2",
                &format!("{other}.key"),
            ]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server");
        wait_until("s_server listens", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        TlsServer { child, port }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn certificate_expiry_is_judged_on_real_tls_servers_with_sni() {
    require_system!(
        "certificate_expiry_is_judged_on_real_tls_servers_with_sni",
        OPENSSL
    );
    let host = Host::new();
    let dir = host.dir.path();
    let long_ago = "20200101000000Z";
    certificate(dir, "fine", "fine.test", long_ago, &days_from_now(90));
    certificate(dir, "soon", "soon.test", long_ago, &days_from_now(20));
    certificate(
        dir,
        "very-soon",
        "very-soon.test",
        long_ago,
        &days_from_now(3),
    );
    certificate(dir, "expired", "expired.test", long_ago, "20200201000000Z");
    certificate(
        dir,
        "future",
        "future.test",
        &days_from_now(10),
        &days_from_now(100),
    );
    let fine = TlsServer::start(dir, "fine", Some(("expired.test", "expired")));
    let soon = TlsServer::start(dir, "soon", None);
    let very_soon = TlsServer::start(dir, "very-soon", None);
    let future = TlsServer::start(dir, "future", None);
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = free_port();
    let check = |name: &str, port: u16, extra: &str| {
        format!(
            "[[checks]]\nname = \"{name}\"\nkind = \"certificate\"\naddress = \"127.0.0.1:{port}\"\n\
             server_name = \"{name}.test\"\ntimeout = \"3s\"\n{extra}\n"
        )
    };
    let config = [
        check("fine", fine.port, ""),
        // The same server gives the expired certificate to the name it was told to (SNI).
        check("expired", fine.port, ""),
        check("soon", soon.port, ""),
        check("very-soon", very_soon.port, ""),
        check(
            "soon-with-short-warning",
            soon.port,
            "warn_days = 10\ncrit_days = 2",
        ),
        check("future", future.port, ""),
        check("not-tls", plain.local_addr().unwrap().port(), ""),
        check("closed", closed, ""),
    ]
    .concat();
    host.write_config(&config);
    // A server that accepts and never speaks: the handshake times out at the check's timeout.
    let scan = scan(&host);
    let expect = [
        ("fine", "ok", "CN=fine.test"),
        ("expired", "critical", "expired"),
        ("soon", "warning", "expires in 19 day(s)"),
        ("very-soon", "critical", "expires in 2 day(s)"),
        ("soon-with-short-warning", "ok", "expires in 19 day(s)"),
        ("future", "critical", "is not valid before"),
        ("not-tls", "critical", "timed out"),
        ("closed", "critical", "refused"),
    ];
    for (name, status, said) in expect {
        let check = line(&scan, name);
        assert_eq!(check["status"], status, "{check}");
        assert_contains(check["summary"].as_str().unwrap(), said);
    }
    assert_contains(
        line(&scan, "expired")["summary"].as_str().unwrap(),
        "CN=expired.test",
    );
    let days: f64 = host
        .query_text("SELECT perfdata FROM checks WHERE name = 'fine'")
        .parse::<serde_json::Value>()
        .unwrap()[0]["value"]
        .as_f64()
        .unwrap();
    assert_eq!(days, 89.0);
}

#[test]
fn certificate_keys_are_checked_with_their_line() {
    let host = Host::new();
    host.write_config(
        "[[checks]]\nname = \"tls\"\nkind = \"certificate\"\naddress = \"example.org\"\n\
         [[checks]]\nname = \"tls2\"\nkind = \"certificate\"\naddress = \"example.org:443\"\nwarn_days = 5\ncrit_days = 10\n",
    );
    let run = host.run(&["config", "check"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert_contains(&run.stderr, "orchestrator.toml:4:");
    assert_contains(&run.stderr, "expected host:port");
    assert_contains(&run.stderr, "orchestrator.toml:10:");
    assert_contains(&run.stderr, "`crit_days` (10) is more than `warn_days` (5)");
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

fn log_check(name: &str, path: &Path, pattern: &str) -> String {
    format!(
        "[[checks]]\nname = \"{name}\"\nkind = \"log\"\npath = \"{}\"\npattern = \"{pattern}\"\n",
        path.display()
    )
}

#[test]
fn a_log_check_follows_rotation_by_rename_and_truncation_across_scans() {
    let host = Host::new();
    let log = host.path("app.log");
    append(&log, "ERROR written before orchestrator watched\n");
    host.write_config(&log_check("app-log", &log, "ERROR|panic"));
    let first = scan(&host);
    assert_eq!(line(&first, "app-log")["status"], "ok", "{first}");
    assert_contains(
        line(&first, "app-log")["summary"].as_str().unwrap(),
        "watching",
    );

    // Rotation by rename, the daemon still writing to the old file, then a new file.
    append(&log, "ERROR one\nfine\n");
    std::fs::rename(&log, host.path("app.log.1")).unwrap();
    append(
        &host.path("app.log.1"),
        "ERROR two, before the daemon reopened its log\n",
    );
    append(&log, "panic: three\n");
    let rotated = scan(&host);
    let check = line(&rotated, "app-log");
    assert_eq!(check["status"], "critical", "{check}");
    let summary = check["summary"].as_str().unwrap();
    assert_contains(summary, "3 new line(s)");
    assert_contains(summary, "ERROR one");
    assert_contains(summary, "rotated");
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM incidents WHERE check_name = 'app-log'"),
        1
    );
    assert_contains(
        &host.query_text("SELECT output FROM checks WHERE name = 'app-log'"),
        "panic: three",
    );

    // Nothing new: the next scan passes and the incident recovers.
    let quiet = scan(&host);
    assert_eq!(line(&quiet, "app-log")["status"], "ok", "{quiet}");
    assert_eq!(line(&quiet, "app-log")["change"], "recovered", "{quiet}");

    // Truncated in place (copytruncate): read from the start again.
    std::fs::write(&log, "ERROR four\n").unwrap();
    let truncated = scan(&host);
    let check = line(&truncated, "app-log");
    assert_eq!(check["status"], "critical", "{check}");
    assert_contains(check["summary"].as_str().unwrap(), "ERROR four");
    assert_contains(check["summary"].as_str().unwrap(), "truncated");

    // Rotated away and deleted (compressed) before a scan: the new file is still read.
    append(&log, "lost line\n");
    std::fs::rename(&log, host.path("app.log.2")).unwrap();
    std::fs::remove_file(host.path("app.log.2")).unwrap();
    append(&log, "ERROR five\n");
    let gone = scan(&host);
    let check = line(&gone, "app-log");
    assert_eq!(check["status"], "critical", "{check}");
    let summary = check["summary"].as_str().unwrap();
    assert_contains(summary, "1 new line(s)");
    assert_contains(summary, "ERROR five");
    // The new file may take the deleted one's inode number: its first bytes tell them apart.
    assert!(
        summary.contains("the rotated file is gone") || summary.contains("replaced"),
        "{summary}"
    );
}

#[test]
fn a_log_match_is_not_cleared_by_the_recheck_before_acting_and_reaches_a_person() {
    let host = Host::new();
    let log = host.path("app.log");
    append(&log, "");
    host.write_config(&log_check("app-log", &log, "Out of memory"));
    scan(&host);
    append(&log, "kernel: Out of memory: Killed process 4242 (java)\n");
    let found = scan(&host);
    assert_eq!(line(&found, "app-log")["status"], "critical", "{found}");
    // Phase 1 looks again before acting: the line does not clear, so the incident is handed
    // on (nothing to try) rather than marked recovered.
    host.run(&["fix"]).ok();
    let incident = "SELECT status || ' ' || phase FROM incidents WHERE check_name = 'app-log'";
    assert_eq!(host.query_text(incident), "open 2");
    // The re-check did not move the offset: the next scan sees no new line and passes.
    let quiet = scan(&host);
    assert_eq!(line(&quiet, "app-log")["change"], "recovered", "{quiet}");
}

#[test]
fn a_log_check_refuses_a_symlink_and_a_fifo_planted_by_another_user() {
    let host = Host::new();
    let secret = host.path("secret");
    std::fs::write(&secret, "ERROR the secret\n").unwrap();
    let link = host.path("link.log");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    let fifo = host.path("fifo.log");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let config = [
        log_check("link", &link, "ERROR"),
        log_check("fifo", &fifo, "ERROR"),
    ]
    .concat();
    host.write_config(&config);
    let found = scan(&host);
    for (name, said) in [("link", "symbolic link"), ("fifo", "not a regular file")] {
        let check = line(&found, name);
        assert_eq!(check["status"], "unknown", "{check}");
        assert_contains(check["summary"].as_str().unwrap(), said);
        assert!(!check["summary"].as_str().unwrap().contains("secret"));
    }
}

#[test]
fn log_keys_are_checked_with_their_line() {
    let host = Host::new();
    host.write_config(
        "[[checks]]\nname = \"a\"\nkind = \"log\"\npath = \"/var/log/x\"\npattern = \"(unclosed\"\n\
         [[checks]]\nname = \"b\"\nkind = \"log\"\npattern = \"x\"\n\
         [[checks]]\nname = \"c\"\nkind = \"log\"\npath = \"/x\"\npattern = \"x\"\nmax_bytes = \"1TiB\"\nseverity = \"fatal\"\n",
    );
    let run = host.run(&["config", "check"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    for said in [
        "orchestrator.toml:5:",
        "not a regular expression",
        "needs `path` (a log file) or `journal`",
        "orchestrator.toml:15:",
        "expected a size from 1 byte to 64MiB",
        "orchestrator.toml:16:",
        "expected \"critical\" or \"warning\", got \"fatal\"",
    ] {
        assert_contains(&run.stderr, said);
    }
}

#[test]
fn for_cycles_opens_an_incident_only_after_that_many_failing_scans_in_a_row() {
    let host = Host::new();
    let flag = host.path("ready");
    host.write_config(&format!(
        "[[checks]]\nname = \"ready\"\nkind = \"file\"\npath = \"{}\"\nfor_cycles = 3\n",
        flag.display()
    ));
    let incidents = || host.query_i64("SELECT COUNT(*) FROM incidents");
    let pending = |scan: &serde_json::Value| line(scan, "ready")["pending"]["streak"].as_i64();
    let first = scan(&host);
    assert_eq!(line(&first, "ready")["status"], "critical", "{first}");
    assert_eq!(pending(&first), Some(1), "{first}");
    assert_eq!(line(&first, "ready")["pending"]["of"], 3, "{first}");
    let text = host.run(&["scan"]).ok().stdout;
    assert_contains(&text, "[failing 2 of 3 scans: not counted yet]");
    // Passing once starts the streak over: nobody was woken by the two failures.
    std::fs::write(&flag, "").unwrap();
    assert_eq!(pending(&scan(&host)), None);
    std::fs::remove_file(&flag).unwrap();
    assert_eq!(pending(&scan(&host)), Some(1));
    assert_eq!(pending(&scan(&host)), Some(2));
    assert_eq!(incidents(), 0);
    let third = scan(&host);
    assert_eq!(line(&third, "ready")["change"], "opened", "{third}");
    assert_eq!(pending(&third), None);
    // Failing on with the incident open: seen, as without for_cycles.
    assert_eq!(line(&scan(&host), "ready")["change"], "seen");
    // A pass counts at once.
    std::fs::write(&flag, "").unwrap();
    assert_eq!(line(&scan(&host), "ready")["change"], "recovered");
    // And failing again must again last three scans before the incident reopens.
    std::fs::remove_file(&flag).unwrap();
    assert_eq!(pending(&scan(&host)), Some(1));
    assert_eq!(pending(&scan(&host)), Some(2));
    let again = scan(&host);
    assert_eq!(line(&again, "ready")["change"], "reopened", "{again}");
    assert_eq!(incidents(), 1);
}

#[test]
fn for_cycles_out_of_range_is_a_config_error_with_its_line() {
    let host = Host::new();
    host.write_config("[[checks]]\nname = \"a\"\nkind = \"file\"\npath = \"/x\"\nfor_cycles = 0\n");
    let run = host.run(&["config", "check"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert_contains(&run.stderr, "orchestrator.toml:5:");
    assert_contains(
        &run.stderr,
        "expected a number of scans from 1 to 1000, got 0",
    );
}

const PYTHON3: Need = Need::Program("/usr/bin/python3", "python3");

/// A real process: 150 MiB resident, 40 files open, three `sleep` children, and (with `busy`)
/// one core spinning. Killed with its children when dropped.
struct Hog {
    child: Child,
}

impl Hog {
    fn start(host: &Host, busy: bool) -> Hog {
        let script = format!(
            r#"
import os, subprocess, sys, time
ballast = b"x" * (150 * 1024 * 1024)
files = [open("{dir}/open-%d" % i, "w") for i in range(40)]
kids = [subprocess.Popen(["sleep", "600"]) for _ in range(3)]
open("{dir}/hog.pid", "w").write("%d\n" % os.getpid())
deadline = time.time() + 600
while time.time() < deadline:
    if not {busy}:
        time.sleep(0.5)
"#,
            dir = host.dir.path().display(),
            busy = if busy { "True" } else { "False" },
        );
        let child = Command::new("/usr/bin/python3")
            .args(["-c", &script])
            .process_group(0)
            .spawn()
            .expect("python3");
        let pidfile = host.path("hog.pid");
        wait_until("the hog is up", Duration::from_secs(30), || {
            std::fs::read_to_string(&pidfile).is_ok_and(|t| t.ends_with('\n'))
        });
        Hog { child }
    }
}

impl Drop for Hog {
    fn drop(&mut self) {
        // The whole group: python and its `sleep` children.
        // SAFETY: kill takes plain integers; a group already gone only makes it fail.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

use std::os::unix::process::CommandExt;

#[test]
fn resources_of_a_real_process_memory_cpu_files_children() {
    require_system!(
        "resources_of_a_real_process_memory_cpu_files_children",
        PYTHON3
    );
    let host = Host::new();
    let _hog = Hog::start(&host, true);
    let pidfile = host.path("hog.pid");
    let check = |name: &str, limits: &str| {
        format!(
            "[[checks]]\nname = \"{name}\"\nkind = \"resources\"\npidfile = \"{}\"\n{limits}\n",
            pidfile.display()
        )
    };
    host.write_config(
        &[
            check("memory-over", "max_memory = \"100MiB\""),
            check("memory-under", "max_memory = \"1GiB\""),
            check("files-over", "max_open_files = 30"),
            check("children-over", "max_children = 2"),
            check("children-under", "max_children = 3"),
            // A spinning core is 100%, or what a loaded machine leaves it: well above 5%.
            check("cpu-over", "max_cpu = 5\nfor_cycles = 2"),
            check("cpu-under", "max_cpu = \"400%\""),
        ]
        .concat(),
    );
    let first = scan(&host);
    let expect = [
        ("memory-over", "critical", "> 100.0 MiB"),
        ("memory-under", "ok", "3 children"),
        ("files-over", "critical", "open files > 30"),
        ("children-over", "critical", "3 children > 2"),
        ("children-under", "ok", "cpu from the next scan on"),
        ("cpu-over", "ok", "cpu from the next scan on"),
    ];
    for (name, status, said) in expect {
        let check = line(&first, name);
        assert_eq!(check["status"], status, "{check}");
        assert_contains(check["summary"].as_str().unwrap(), said);
    }
    // The CPU rate is over the interval between scans: one core spinning is about 100%.
    std::thread::sleep(Duration::from_secs(1));
    let second = scan(&host);
    let cpu = line(&second, "cpu-over");
    assert_eq!(cpu["status"], "critical", "{cpu}");
    assert_eq!(cpu["pending"]["streak"], 1, "{cpu}");
    assert_contains(cpu["summary"].as_str().unwrap(), "> 5%");
    assert_eq!(line(&second, "cpu-under")["status"], "ok");
    let third = scan(&host);
    assert_eq!(line(&third, "cpu-over")["change"], "opened", "{third}");
    let perf: serde_json::Value = host
        .query_text("SELECT perfdata FROM checks WHERE name = 'cpu-under'")
        .parse()
        .unwrap();
    let cpu = perf
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["label"] == "cpu")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    assert!(
        (5.0..=150.0).contains(&cpu),
        "one busy core measured as {cpu}%"
    );
}

#[test]
fn resources_by_name_count_the_masters_and_their_workers() {
    require_system!(
        "resources_by_name_count_the_masters_and_their_workers",
        PYTHON3
    );
    let host = Host::new();
    let hog = Hog::start(&host, false);
    host.write_config(
        "[[checks]]\nname = \"sleepers\"\nkind = \"resources\"\nprocess = \"sleep\"\nmax_children = 0\nmax_cpu = 5\n\
         [[checks]]\nname = \"gone\"\nkind = \"resources\"\nprocess = \"no-such-daemon\"\nmax_memory = \"1GiB\"\n",
    );
    let found = scan(&host);
    // Each `sleep` is a master of its own (its parent is python3): none has children.
    let sleepers = line(&found, "sleepers");
    assert_eq!(sleepers["status"], "ok", "{sleepers}");
    assert_contains(sleepers["summary"].as_str().unwrap(), "0 children");
    // Sleeping processes use no CPU over the interval.
    std::thread::sleep(Duration::from_millis(500));
    let again = scan(&host);
    let sleepers = line(&again, "sleepers");
    assert_eq!(sleepers["status"], "ok", "{sleepers}");
    assert!(
        !sleepers["summary"].as_str().unwrap().contains("next scan"),
        "{sleepers}"
    );
    let gone = line(&found, "gone");
    assert_eq!(gone["status"], "critical", "{gone}");
    assert_contains(
        gone["summary"].as_str().unwrap(),
        "no process named no-such-daemon",
    );
    drop(hog);
}

#[test]
fn resources_keys_are_checked_with_their_line() {
    let host = Host::new();
    host.write_config(
        "[[checks]]\nname = \"a\"\nkind = \"resources\"\nprocess = \"nginx\"\n\
         [[checks]]\nname = \"b\"\nkind = \"resources\"\nprocess = \"nginx\"\nmax_cpu = \"lots\"\n",
    );
    let run = host.run(&["config", "check"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert_contains(&run.stderr, "needs at least one of max_memory, max_cpu");
    assert_contains(&run.stderr, "orchestrator.toml:9:");
    assert_contains(&run.stderr, "expected a percentage of one core");
}
