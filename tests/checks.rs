//! The in-process check kinds against real files, sockets and processes.

use crate::common::*;

#[test]
fn every_in_process_kind_reports_what_the_host_shows() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    service.start();
    let closed = free_port();
    let dir = host.dir.path().display().to_string();
    std::fs::write(host.path("fresh.txt"), "x").unwrap();
    std::fs::write(host.path("big.txt"), vec![b'x'; 4096]).unwrap();
    std::fs::write(host.path("stale.pid"), "999999999\n").unwrap();
    let config = format!(
        r#"
[[checks]]
name = "http-ok"
kind = "http"
url = "{url}"
contains = "ok"
[[checks]]
name = "http-wrong-body"
kind = "http"
url = "{url}"
contains = "banana"
[[checks]]
name = "tcp-ok"
kind = "tcp"
address = "127.0.0.1:{port}"
[[checks]]
name = "tcp-closed"
kind = "tcp"
address = "127.0.0.1:{closed}"
[[checks]]
name = "disk-ok"
kind = "disk"
path = "{dir}"
warn = "100%"
crit = "100%"
[[checks]]
name = "disk-free-bytes"
kind = "disk"
path = "{dir}"
crit = "1000000TiB"
[[checks]]
name = "memory"
kind = "memory"
warn = 0
crit = 0
[[checks]]
name = "load"
kind = "load"
warn = 1000.0
crit = 1000.0
[[checks]]
name = "process-pidfile"
kind = "process"
pidfile = "{pidfile}"
[[checks]]
name = "process-stale-pidfile"
kind = "process"
pidfile = "{dir}/stale.pid"
[[checks]]
name = "process-too-few"
kind = "process"
process = "no-such-daemon-here"
[[checks]]
name = "file-fresh"
kind = "file"
path = "{dir}/fresh.txt"
max_age = "1h"
[[checks]]
name = "file-too-big"
kind = "file"
path = "{dir}/big.txt"
max_size = "1KiB"
[[checks]]
name = "file-missing"
kind = "file"
path = "{dir}/missing.txt"
[[checks]]
name = "file-must-not-exist"
kind = "file"
path = "{dir}/missing.txt"
exists = false
"#,
        url = service.url(),
        port = service.port,
        pidfile = service.pidfile.display(),
    );
    host.write_config(&config);
    let scan = host.run(&["--json", "scan"]).ok().json();
    let expected = [
        ("http-ok", "ok"),
        ("http-wrong-body", "critical"),
        ("tcp-ok", "ok"),
        ("tcp-closed", "critical"),
        ("disk-ok", "ok"),
        ("disk-free-bytes", "critical"),
        ("memory", "ok"),
        ("load", "ok"),
        ("process-pidfile", "ok"),
        ("process-stale-pidfile", "critical"),
        ("process-too-few", "critical"),
        ("file-fresh", "ok"),
        ("file-too-big", "critical"),
        ("file-missing", "critical"),
        ("file-must-not-exist", "ok"),
    ];
    let checks = scan["checks"].as_array().unwrap();
    assert_eq!(checks.len(), expected.len(), "{scan}");
    for (check, (name, status)) in checks.iter().zip(expected) {
        assert_eq!(check["name"], name);
        assert_eq!(check["status"], status, "{check}");
    }
    assert_contains(
        &host.query_text("SELECT summary FROM checks WHERE name = 'process-stale-pidfile'"),
        "stale pid file",
    );
}

#[test]
fn a_hanging_endpoint_is_critical_at_its_timeout() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    service.start();
    service.set_flag("hang", "");
    host.write_config(&format!(
        "[[checks]]\nname = \"web\"\nkind = \"http\"\nurl = \"{}\"\ntimeout = \"300ms\"\n",
        service.url()
    ));
    let scan = host.run(&["--json", "scan"]).ok().json();
    assert_eq!(scan["checks"][0]["status"], "critical", "{scan}");
    assert_contains(scan["checks"][0]["summary"].as_str().unwrap(), "timed out");
}

#[test]
fn the_embedded_default_config_runs_as_is() {
    let host = Host::new();
    let run = std::process::Command::new(orchestrator_bin())
        .args(["--json", "--db"])
        .arg(host.db_path())
        .arg("cycle")
        .env_remove("ORCHESTRATOR_CONFIG")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let names: Vec<&str> = report["scan"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.starts_with(&["root-disk", "memory", "load"]),
        "{names:?}"
    );
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM cycles WHERE finished_at IS NOT NULL"),
        1
    );
}

/// Monit's `if size < 1 KB`: an empty backup is a failed backup, and so is one a day old, even
/// when the backup job itself said nothing.
#[test]
fn an_empty_or_old_backup_is_critical() {
    let host = Host::new();
    let dir = host.path("backups");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("empty.tar.gz"), b"").unwrap();
    std::fs::write(dir.join("fresh.tar.gz"), vec![b'x'; 4096]).unwrap();
    let old = dir.join("old.tar.gz");
    std::fs::write(&old, vec![b'x'; 4096]).unwrap();
    let two_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(48 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(two_days_ago)
        .unwrap();
    std::os::unix::fs::symlink(dir.join("fresh.tar.gz"), dir.join("latest.tar.gz")).unwrap();
    let backup_check = |name: &str, file: &str| {
        format!(
            "[[checks]]\nname = \"{name}\"\nkind = \"file\"\npath = \"{}\"\nmin_size = \"1KB\"\nmax_age = \"26h\"\n",
            dir.join(file).display()
        )
    };
    host.write_config(
        &[
            backup_check("backup-empty", "empty.tar.gz"),
            backup_check("backup-fresh", "fresh.tar.gz"),
            backup_check("backup-old", "old.tar.gz"),
            backup_check("backup-link", "latest.tar.gz"),
        ]
        .concat(),
    );
    let scan = host.run(&["--json", "scan"]).ok().json();
    let checks = scan["checks"].as_array().unwrap();
    let expected = [
        ("backup-empty", "critical", "is 0 B (min 1000 B)"),
        ("backup-fresh", "ok", "is 4.0 KiB"),
        ("backup-old", "critical", "is 2d old (max 1d2h)"),
        ("backup-link", "critical", "is a symbolic link"),
    ];
    assert_eq!(checks.len(), expected.len(), "{scan}");
    for (check, (name, status, summary)) in checks.iter().zip(expected) {
        assert_eq!(check["name"], name);
        assert_eq!(check["status"], status, "{check}");
        assert_contains(check["summary"].as_str().unwrap(), summary);
    }
    assert_eq!(
        host.query_i64(
            "SELECT COUNT(*) FROM incidents WHERE check_name = 'backup-empty' AND severity = 'critical'"
        ),
        1
    );
}
