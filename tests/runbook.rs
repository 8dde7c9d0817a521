//! The builtin runbook alone, on real faults of the real service: a stale pid file after a
//! crash, a port held by a stray process, a log directory filling a small filesystem. Each is
//! fixed in phase 2, and the same fault again is fixed in phase 1 by the learned pattern.

mod common;
use common::*;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn runbook_config(host: &Host, service: &Service, check: &str) -> String {
    format!(
        r#"
[cycle]
settle = "150ms"

[policy]
actions = ["remove_file", "remedy", "clean_files", "kill_process", "restart_unit"]
approve = ["run"]
paths = ["{dir}/**"]
# The stray holding the port is no process of the check's: the admin names it.
processes = ["flaky-service"]
reopen_within = "0s"

[agents.runbook]
builtin = "runbook"

[research]
agent = "runbook"

{check}
logs = ["{log}"]
remedy = [ {{ action = "run", argv = {start} }} ]
"#,
        dir = host.dir.path().display(),
        log = service.logdir.join("service.log").display(),
        start = service.start_toml(),
    )
}

fn http_check(service: &Service) -> String {
    format!(
        "[[checks]]\nname = \"web\"\nkind = \"http\"\nurl = \"{}\"\ntimeout = \"1s\"",
        service.url()
    )
}

#[test]
fn a_crash_leaving_a_stale_pid_file_is_fixed_by_the_runbook_then_by_phase_1() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&runbook_config(&host, &service, &http_check(&service)));
    service.start();
    service.kill();
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(
        cycle["fix"]["incidents"][0]["verdict"], "passed_on",
        "{cycle}"
    );
    assert_eq!(
        cycle["research"]["incidents"][0]["verdict"], "fixed",
        "{cycle}"
    );
    assert!(service.healthy());
    let diagnosis = host.query_text("SELECT diagnosis FROM agent_consultations");
    assert_contains(&diagnosis, &service.pidfile.display().to_string());
    assert_contains(&diagnosis, "left over from a process that no longer runs");

    service.kill();
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(cycle["fix"]["incidents"][0]["verdict"], "fixed", "{cycle}");
    assert_contains(
        cycle["fix"]["incidents"][0]["detail"].as_str().unwrap(),
        "pattern:",
    );
    assert!(service.healthy());
}

struct Stray(Child);

impl Drop for Stray {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Another program holding the service's port and never answering on it.
fn stray_on(host: &Host, port: u16) -> Stray {
    let state = host.path("stray-state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("hang"), "").unwrap();
    let child = Command::new(service_bin())
        .args(["--port", &port.to_string(), "--state"])
        .arg(&state)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the stray holds the port", Duration::from_secs(5), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    Stray(child)
}

#[test]
fn a_port_held_by_a_stray_process_is_freed_by_the_runbook() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&runbook_config(&host, &service, &http_check(&service)));
    let mut stray = stray_on(&host, service.port);
    let stray_pid = stray.0.id();
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(
        cycle["research"]["incidents"][0]["verdict"], "fixed",
        "{cycle}"
    );
    assert!(service.healthy());
    assert!(
        stray.0.try_wait().unwrap().is_some(),
        "the stray process still runs"
    );
    let diagnosis = host.query_text("SELECT diagnosis FROM agent_consultations");
    assert_contains(&diagnosis, &format!("pid {stray_pid}"));
    assert_contains(
        &host.query_text("SELECT plan FROM attempts WHERE phase = 2"),
        &format!("\"pid\":{stray_pid}"),
    );
}

#[test]
fn with_the_default_policy_stopping_the_stray_waits_for_approval() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    let config = runbook_config(&host, &service, &http_check(&service))
        .replace_once("\"kill_process\", ", "")
        .replace_once(
            "approve = [\"run\"]",
            "approve = [\"run\", \"kill_process\"]",
        );
    host.write_config(&config);
    let mut stray = stray_on(&host, service.port);
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(
        cycle["research"]["incidents"][0]["verdict"], "held",
        "{cycle}"
    );
    assert!(
        stray.0.try_wait().unwrap().is_none(),
        "the stray was stopped without approval"
    );
    host.run(&["incidents", "approve", "1"]).ok();
    assert!(service.healthy());
    assert!(stray.0.try_wait().unwrap().is_some());
}

/// A small tmpfs, unmounted when dropped.
#[test]
fn a_log_directory_filling_a_small_disk_is_cleaned_by_the_runbook_then_by_phase_1() {
    require_system!(
        "a_log_directory_filling_a_small_disk_is_cleaned_by_the_runbook_then_by_phase_1",
        Need::Root
    );
    let host = Host::new();
    let disk = SmallDisk::mount(host.path("small"), "4m");
    let mut service = Service::new(&host, "web");
    service.logdir = disk.0.join("log");
    std::fs::create_dir_all(&service.logdir).unwrap();
    let check = format!(
        "[[checks]]\nname = \"small-disk\"\nkind = \"disk\"\npath = \"{}\"\ncrit = \"90%\"",
        disk.0.display()
    );
    let config = runbook_config(&host, &service, &check).replace_once(
        &format!(
            "logs = [\"{}\"]",
            service.logdir.join("service.log").display()
        ),
        &format!("logs = [\"{}\"]", service.logdir.display()),
    );
    // A disk check has nothing to restart: no remedy, so phase 1 passes it on at once.
    let config = config.replace_once(
        &format!(
            "remedy = [ {{ action = \"run\", argv = {} }} ]",
            service.start_toml()
        ),
        "",
    );
    host.write_config(&config);
    service.start();
    let fill = ureq_get(&format!("http://127.0.0.1:{}/fill?mb=8", service.port)).unwrap();
    assert_eq!(fill.0, 507, "the disk should have filled up: {}", fill.1);
    // The filler is a dated file from an hour ago; the service's own log is live.
    age_fillers(&service.logdir);

    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(
        cycle["research"]["incidents"][0]["verdict"], "fixed",
        "{cycle}"
    );
    assert_contains(
        &host.query_text("SELECT diagnosis FROM agent_consultations"),
        "out of space",
    );
    assert_eq!(host.query_text("SELECT status FROM checks"), "ok");

    assert!(
        service.logdir.join("service.log").exists(),
        "the live log was removed"
    );

    ureq_get(&format!("http://127.0.0.1:{}/fill?mb=8", service.port)).unwrap();
    age_fillers(&service.logdir);
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(cycle["fix"]["incidents"][0]["verdict"], "fixed", "{cycle}");
    assert_contains(
        cycle["fix"]["incidents"][0]["detail"].as_str().unwrap(),
        "pattern:",
    );
}

/// Sets the `fill-*.log` files of `dir` an hour back: cleaning leaves a file written in the
/// last 15 minutes, which may be a live log.
fn age_fillers(dir: &std::path::Path) {
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("fill-")
        {
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(hour_ago)
                .unwrap();
        }
    }
}
