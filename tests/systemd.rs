//! On a real systemd (Debian's systemd 252 booted as PID 1 in systemd-nspawn by
//! scripts/systemd-testhost.sh, its root cached under target/): install with scripts/install.sh,
//! let the timer fire the whole chain, restart a killed unit through systemctl, see a failed
//! unit, and find the unit's journal lines in an agent's context; and start every unit shipped in
//! systemd/, verified and scored by systemd-analyze.

use crate::common::*;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

/// The container's machine name: one per checkout, so that two clones (worktrees, or CI beside
/// a developer's run) booting their test host at once never share a name or a cgroup.
fn container_name() -> String {
    let checkout = env!("CARGO_MANIFEST_DIR");
    // FNV-1a: stable across runs and toolchains, unlike std's hasher.
    let hash = checkout.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("orchtest-{:08x}", hash as u32)
}

/// The tests here share one container name and one cached root (with `serve_abuse`'s): one
/// at a time.
fn one_container() -> MutexGuard<'static, ()> {
    one_testhost()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/systemd-testhost.sh")
}

fn rootfs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/systemd-testhost/rootfs")
}

/// The booted container; shut down when dropped, whatever the test did.
struct Container;

impl Container {
    fn boot() -> Container {
        // A container left by a killed earlier run would block this one.
        let _ = Command::new("bash")
            .arg(script())
            .arg("down")
            .env("NAME", container_name())
            .output();
        let out = Command::new("bash")
            .arg(script())
            .arg("up")
            .env("NAME", container_name())
            .output()
            .expect("run systemd-testhost.sh");
        assert!(
            out.status.success(),
            "booting systemd failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Container
    }

    /// Runs a command inside, as root, and returns its output.
    fn run(&self, argv: &[&str]) -> Output {
        Command::new("bash")
            .arg(script())
            .arg("exec")
            .args(argv)
            .env("NAME", container_name())
            .output()
            .expect("exec in the container")
    }

    #[track_caller]
    fn ok(&self, argv: &[&str]) -> String {
        let out = self.run(argv);
        assert!(
            out.status.success(),
            "{argv:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn sh(&self, script: &str) -> String {
        self.ok(&["sh", "-c", script])
    }

    fn orchestrator_json(&self, args: &[&str]) -> serde_json::Value {
        let mut argv = vec!["/usr/local/bin/orchestrator", "--json"];
        argv.extend_from_slice(args);
        let text = self.ok(&argv);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("down")
            .env("NAME", container_name())
            .output();
    }
}

/// A clean slate in the (cached, not yet booted) root, which is reused between runs, then
/// scripts/install.sh into it as a staged root: the units, the binary and the example config.
fn install_into_rootfs() -> PathBuf {
    let root = rootfs();
    let _ = std::fs::remove_dir_all(root.join("var/lib/orchestrator"));
    let _ = std::fs::remove_file(root.join("etc/orchestrator/orchestrator.toml"));
    let _ = std::fs::remove_file(root.join("var/lib/prometheus/node-exporter/orchestrator.prom"));
    // Test drop-ins (these tests' and tests/serve_abuse.rs') would change the shipped units.
    for unit in shipped_units() {
        let _ = std::fs::remove_dir_all(root.join(format!("etc/systemd/system/{unit}.d")));
    }
    let install = Command::new("bash")
        .arg(repo().join("scripts/install.sh"))
        .arg("--destdir")
        .arg(&root)
        .arg("--binary")
        .arg(orchestrator_bin())
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "install.sh into the container failed: {}",
        String::from_utf8_lossy(&install.stderr)
    );
    root
}

/// Files written into the (cached, not yet booted) root before boot. The config install.sh
/// wrote is kept aside as `installed.toml`, for `config check --strict` on this systemd.
fn prepare_rootfs() {
    let root = install_into_rootfs();
    std::fs::copy(
        root.join("etc/orchestrator/orchestrator.toml"),
        root.join("etc/orchestrator/installed.toml"),
    )
    .unwrap();
    let write = |path: &str, text: &str| {
        let full = root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    };
    write(
        "/etc/systemd/system/demo-web.service",
        "[Unit]\nDescription=a web service to break\n[Service]\nExecStart=/usr/bin/python3 -m http.server 8080 --bind 127.0.0.1\n",
    );
    // A forking daemon whose pid file systemd reads (PIDFile=), written by Debian's
    // start-stop-daemon as sysvinit-era units do.
    write(
        "/etc/systemd/system/forky.service",
        "[Unit]\nDescription=a forking daemon with a pid file\n[Service]\nType=forking\nPIDFile=/run/forky.pid\nExecStart=/sbin/start-stop-daemon --start --background --make-pidfile --pidfile /run/forky.pid --exec /bin/sleep -- infinity\n",
    );
    write(
        "/etc/systemd/system/broken.service",
        "[Unit]\nDescription=always fails\n[Service]\nType=oneshot\nExecStart=/bin/false\n",
    );
    write(
        "/etc/systemd/system/noisy.service",
        "[Unit]\nDescription=logs and dies\n[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo journal-marker-4242: cannot open /data/db.sqlite; exit 1'\n",
    );
    // The timer of the test fires soon and often; the shipped one waits 2 minutes after boot.
    write(
        "/etc/systemd/system/orchestrator.timer.d/test.conf",
        "[Timer]\nOnBootSec=\nOnActiveSec=1s\nOnUnitActiveSec=2s\nRandomizedDelaySec=0\nAccuracySec=1s\n",
    );
    write(
        "/usr/local/lib/record-agent",
        "#!/bin/sh\ncat > /dev/null\ncat \"$ORCHESTRATOR_CONTEXT\" >> /var/lib/orchestrator/agent-contexts.log\necho '{\"diagnosis\": \"not sure\", \"plan\": [], \"escalate\": true}'\n",
    );
    std::fs::set_permissions(
        root.join("usr/local/lib/record-agent"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    write(
        "/etc/orchestrator/orchestrator.toml",
        r#"
[cycle]
settle = "1s"

[[checks]]
name = "web"
kind = "systemd"
unit = "demo-web.service"
remedy = [ { action = "restart_unit" } ]

[[checks]]
name = "noisy"
kind = "systemd"
unit = "noisy.service"

[[checks]]
name = "forky"
kind = "process"
pidfile = "/run/forky.pid"
unit = "forky.service"

[[checks]]
name = "failed-units"
kind = "systemd-failed"
ignore = ["noisy.service"]

[agents.recorder]
command = ["/usr/local/lib/record-agent"]

[research]
agent = "recorder"
"#,
    );
}

#[test]
fn on_a_real_systemd_the_timer_runs_the_chain_and_units_are_restarted() {
    require_system!(
        "on_a_real_systemd_the_timer_runs_the_chain_and_units_are_restarted",
        Need::Root,
        NSPAWN,
        DEBOOTSTRAP
    );
    let _one = one_container();
    // The rootfs must exist before it can be prepared: the first `up` builds it (debootstrap).
    if !rootfs().join("lib/systemd/systemd").exists() {
        drop(Container::boot());
    }
    prepare_rootfs();
    let container = Container::boot();
    // Every config the project ships passes `config check --strict` where systemd runs: the
    // default install.sh wrote and the example orchestrator.toml(5) points to.
    for config in [
        "/etc/orchestrator/installed.toml",
        "/usr/local/share/doc/orchestrator/examples/orchestrator.toml",
    ] {
        container.ok(&[
            "/usr/local/bin/orchestrator",
            "-c",
            config,
            "config",
            "check",
            "--strict",
        ]);
    }
    container.ok(&["systemctl", "start", "demo-web.service"]);
    container.ok(&["systemctl", "start", "forky.service"]);
    let _ = container.run(&["systemctl", "start", "broken.service"]);
    let _ = container.run(&["systemctl", "start", "noisy.service"]);

    let scan = container.orchestrator_json(&["scan"]);
    let status = |name: &str| {
        scan["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("web"), "ok", "{scan}");
    assert_eq!(status("failed-units"), "critical", "{scan}");
    // The pid file systemd itself took the main pid from (PIDFile=), read by the one reader.
    let main_pid = container.ok(&[
        "systemctl",
        "show",
        "-p",
        "MainPID",
        "--value",
        "forky.service",
    ]);
    assert_eq!(status("forky"), "ok", "{scan}");
    let forky = scan["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "forky")
        .unwrap();
    assert_eq!(
        forky["summary"],
        format!("pid {} from /run/forky.pid is running", main_pid.trim()),
        "{forky}"
    );
    let failed = scan["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "failed-units")
        .unwrap();
    assert!(
        failed["summary"]
            .as_str()
            .unwrap()
            .contains("broken.service"),
        "{failed}"
    );

    // Kill the unit's main process: systemd marks it failed, `fix` restarts it with systemctl.
    container.ok(&["systemctl", "kill", "--signal=KILL", "demo-web.service"]);
    wait_until("the unit is down", Duration::from_secs(10), || {
        container
            .run(&["systemctl", "is-active", "--quiet", "demo-web.service"])
            .status
            .code()
            != Some(0)
    });
    let cycle = container.orchestrator_json(&["cycle"]);
    let web = cycle["fix"]["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check"] == "web")
        .cloned()
        .unwrap_or_default();
    assert_eq!(web["verdict"], "fixed", "{cycle}");
    container.ok(&["systemctl", "is-active", "demo-web.service"]);

    // The noisy unit's journal lines reached the agent's context.
    let context = container.ok(&["cat", "/var/lib/orchestrator/agent-contexts.log"]);
    assert!(
        context.contains("journal-marker-4242"),
        "the journal is not in the context:\n{context}"
    );
    assert!(context.contains("\"unit\": \"noisy.service\""), "{context}");

    // The timer fires the whole chain, then the metrics textfile.
    container.ok(&["systemctl", "daemon-reload"]);
    container.ok(&["systemctl", "start", "orchestrator.timer"]);
    wait_until("the timer ran the chain", Duration::from_secs(60), || {
        let out = container.run(&[
            "test",
            "-s",
            "/var/lib/prometheus/node-exporter/orchestrator.prom",
        ]);
        out.status.success()
    });
    let phases = container.sh(
        "journalctl -u orchestrator.service -o cat --no-pager | grep -c 'orchestrator' || true",
    );
    let cycles = container.orchestrator_json(&["incidents", "list"]);
    assert!(cycles["incidents"].as_array().is_some());
    let ran = container.sh(
        "python3 -c \"import sqlite3; c=sqlite3.connect('/var/lib/orchestrator/orchestrator.db'); print(' '.join(sorted({r[0] for r in c.execute('SELECT phase FROM cycles')})))\"",
    );
    for phase in ["consult", "escalate", "fix", "research", "scan"] {
        assert!(
            ran.contains(phase),
            "the timer's chain did not run {phase}: {ran} ({phases})"
        );
    }
    let metrics = container.ok(&["cat", "/var/lib/prometheus/node-exporter/orchestrator.prom"]);
    assert!(
        metrics.contains("orchestrator_check_status{check=\"web\"} 0"),
        "{metrics}"
    );

    // A failed cycle starts orchestrator-failure@orchestrator.service (OnFailure=), which runs
    // notify-failure; this config has no [escalation], so it says nobody could be told.
    container.ok(&["systemctl", "stop", "orchestrator.timer"]);
    container.sh(
        "mkdir -p /run/systemd/system/orchestrator.service.d && \
         printf '[Service]\\nExecStartPre=/bin/false\\n' > /run/systemd/system/orchestrator.service.d/fail.conf && \
         systemctl daemon-reload",
    );
    let _ = container.run(&["systemctl", "start", "orchestrator.service"]);
    wait_until(
        "OnFailure= ran notify-failure",
        // A failed cycle, then systemd's OnFailure= start: seconds, but a loaded machine has
        // taken over 30.
        Duration::from_secs(90),
        || {
            container
                .sh("journalctl -b -u orchestrator-failure@orchestrator.service.service -o cat --no-pager || true")
                .contains("orchestrator.service failed; direct message: no_channel")
        },
    );
}

/// Every unit file in systemd/, by name: a unit added there later is covered with no change here.
fn shipped_units() -> Vec<String> {
    let mut units: Vec<String> = std::fs::read_dir(repo().join("systemd"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".service") || name.ends_with(".timer"))
        .collect();
    units.sort();
    units
}

/// `systemd-analyze security`'s verdict: "→ Overall exposure level for UNIT: 1.6 OK 🙂".
fn exposure(report: &str) -> Option<(f64, String)> {
    let line = report
        .lines()
        .find(|l| l.contains("Overall exposure level for"))?;
    let mut words = line.rsplit_once(": ")?.1.split_whitespace();
    let score = words.next()?.parse().ok()?;
    Some((score, words.next()?.to_string()))
}

/// systemd 252's levels (src/analyze/analyze-security.c): PERFECT 0, SAFE < 1.0, OK < 5.0,
/// MEDIUM < 7.5, EXPOSED < 9.0, UNSAFE < 10, DANGEROUS 10.
const OK_OR_BETTER: &[&str] = &["PERFECT", "SAFE", "OK"];

/// The example config as installed, plus one check that is always critical so that the cycle
/// opens an incident for a person to acknowledge on the dashboard.
fn add_an_always_critical_check(root: &std::path::Path) {
    let config = root.join("etc/orchestrator/orchestrator.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[[checks]]\nname = \"nothing-listens\"\nkind = \"tcp\"\naddress = \"127.0.0.1:9\"\n",
    );
    std::fs::write(config, text).unwrap();
}

#[test]
fn every_shipped_unit_starts_verifies_and_scores_on_a_real_systemd() {
    require_system!(
        "every_shipped_unit_starts_verifies_and_scores_on_a_real_systemd",
        Need::Root,
        NSPAWN,
        DEBOOTSTRAP
    );
    let _one = one_container();
    let started = Instant::now();
    if !rootfs().join("lib/systemd/systemd").exists() {
        drop(Container::boot());
    }
    let root = install_into_rootfs();
    add_an_always_critical_check(&root);
    let container = Container::boot();
    let mut units = shipped_units();
    assert!(units.len() >= 3, "{units:?}");
    // Timers first: a started timer keeps the service it triggers loaded, so that service's
    // Result= can be read once it finished.
    units.sort_by_key(|unit| !unit.ends_with(".timer"));
    let unit_dir = "/usr/local/lib/systemd/system";

    for unit in &units {
        if unit.contains('@') {
            println!("{unit}: a template, not started bare (its instances are)");
            continue;
        }
        // --man=no: the container has no man(1); tests/install.rs checks that every
        // Documentation=man: page is installed.
        let verify = container.run(&[
            "systemd-analyze",
            "verify",
            "--man=no",
            &format!("{unit_dir}/{unit}"),
        ]);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        );
        assert!(
            verify.status.success() && said.trim().is_empty(),
            "systemd-analyze verify {unit}:\n{said}"
        );
        start_and_check(&container, unit);
    }

    // The dashboard, through systemd: /health answers, and a person's decision is written
    // into the database from inside its sandbox.
    let health = container.ok(&["python3", "-c", FETCH_HEALTH]);
    assert_contains(&health, "\"status\":\"ok\"");
    let incidents = container.orchestrator_json(&["incidents", "list"]);
    let incident = incidents["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check"] == "nothing-listens")
        .unwrap_or_else(|| {
            // Rare under heavy load and not reproduced alone: say what the cycle did.
            let journal = container.run(&[
                "journalctl",
                "-u",
                "orchestrator.service",
                "--no-pager",
                "-n",
                "80",
            ]);
            panic!(
                "the cycle opened no incident: {incidents}\n{}",
                String::from_utf8_lossy(&journal.stdout)
            )
        })["id"]
        .to_string();
    // A person logs in as root does, with the one-time link `serve --login-link` prints.
    let link = container.orchestrator_json(&["serve", "--login-link"])["login_link"]
        .as_str()
        .expect("a login link")
        .to_string();
    container.ok(&["python3", "-c", ACKNOWLEDGE, &incident, &link]);
    let escalation = container.ok(&["python3", "-c", ESCALATION_STATUS, &incident]);
    assert_eq!(
        escalation.trim(),
        "acknowledged dashboard",
        "incident {incident}"
    );

    for unit in units
        .iter()
        .filter(|u| u.ends_with(".service") && !u.contains('@'))
    {
        let report = container.ok(&["systemd-analyze", "security", "--no-pager", unit]);
        let (score, level) =
            exposure(&report).unwrap_or_else(|| panic!("no exposure level for {unit}:\n{report}"));
        println!("systemd-analyze security {unit}: {score} {level}");
        if unit == "orchestrator-dashboard.service" {
            assert!(
                OK_OR_BETTER.contains(&level.as_str()),
                "the dashboard is {score} {level}:\n{report}"
            );
        }
    }
    println!(
        "every shipped unit started, verified and scored in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

const FETCH_HEALTH: &str = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:8888/health', timeout=5).read().decode())";

/// Acknowledges incident argv[1] the way a browser does: the login link argv[2] (its session
/// cookie kept), the page's CSRF token, then the form.
const ACKNOWLEDGE: &str = r#"
import re, sys, http.cookiejar, urllib.parse, urllib.request as u
browser = u.build_opener(u.HTTPCookieProcessor(http.cookiejar.CookieJar()))
browser.open(sys.argv[2], timeout=5).read()
base = 'http://127.0.0.1:8888/incidents/' + sys.argv[1]
page = browser.open(base, timeout=5).read().decode()
csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
form = urllib.parse.urlencode({'csrf': csrf, 'note': 'seen'}).encode()
browser.open(u.Request(base + '/ack', data=form), timeout=5).read()
"#;

/// The status of incident argv[1]'s escalation and who acted on it, read from the database.
const ESCALATION_STATUS: &str = r#"
import sqlite3, sys
db = sqlite3.connect('/var/lib/orchestrator/orchestrator.db')
row = db.execute('SELECT status, acknowledged_by FROM escalations WHERE incident = ?', (int(sys.argv[1]),)).fetchone()
print(*row)
"#;

/// Starts one unit and checks it did what its kind promises: a oneshot ran to success, a
/// long-running service and a timer are active.
fn start_and_check(container: &Container, unit: &str) {
    let show = |property: &str| {
        container
            .ok(&["systemctl", "show", "--value", "-p", property, unit])
            .trim()
            .to_string()
    };
    let journal = || {
        container
            .run(&["journalctl", "-u", unit, "--no-pager", "-n", "40"])
            .stdout
    };
    // A oneshot's start returns when it finished; a notify service's once it said READY=1.
    let start = container.run(&["systemctl", "start", unit]);
    assert!(
        start.status.success(),
        "systemctl start {unit} failed:\n{}\n{}",
        String::from_utf8_lossy(&start.stderr),
        String::from_utf8_lossy(&journal())
    );
    let kind = show("Type");
    if kind == "oneshot" {
        // systemd logs each job's end with JOB_RESULT= ("done", "failed", ...).
        let jobs = container.ok(&[
            "journalctl",
            "-b",
            "--no-pager",
            "-o",
            "json",
            &format!("UNIT={unit}"),
            "JOB_TYPE=start",
        ]);
        let last = jobs
            .lines()
            .rev()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find_map(|entry| entry["JOB_RESULT"].as_str().map(str::to_string));
        assert_eq!(last.as_deref(), Some("done"), "{unit}: {jobs}");
        // A finished oneshot nothing refers to is unloaded, and `show` then prints defaults:
        // its Result= counts only while it is loaded (a timer that triggers it keeps it so).
        if show("InactiveExitTimestampMonotonic") != "0" {
            assert_eq!(show("Result"), "success", "{unit}");
            assert_eq!(show("ExecMainStatus"), "0", "{unit}");
            println!("{unit}: oneshot ran, Result=success");
        } else {
            println!("{unit}: oneshot ran, job done (unloaded since, so no Result= to read)");
        }
    } else {
        assert_eq!(
            show("ActiveState"),
            "active",
            "{unit}:\n{}",
            String::from_utf8_lossy(&journal())
        );
        println!("{unit}: active");
    }
}

#[test]
fn no_shipped_timer_relies_on_persistent_without_a_calendar() {
    // Persistent= only applies to OnCalendar= (systemd.timer(5)); on a monotonic timer it
    // promises a catch-up that never happens.
    for unit in shipped_units().iter().filter(|u| u.ends_with(".timer")) {
        let text = std::fs::read_to_string(repo().join("systemd").join(unit)).unwrap();
        let set = |key: &str| {
            text.lines()
                .any(|l| l.trim_start().starts_with(&format!("{key}=")) && !l.ends_with('='))
        };
        let persistent = text.lines().any(|l| {
            matches!(
                l.trim().strip_prefix("Persistent="),
                Some("true" | "yes" | "1" | "on")
            )
        });
        assert!(
            !persistent || set("OnCalendar"),
            "{unit}: Persistent= without OnCalendar= does nothing"
        );
    }
}

/// The unit's lines reach the journal with their priorities: `journalctl -p warning` shows the
/// escalation and not the routine summary, and no line carries a second timestamp.
#[test]
fn on_a_real_systemd_the_journal_keeps_the_priorities_of_the_units_lines() {
    require_system!(
        "on_a_real_systemd_the_journal_keeps_the_priorities_of_the_units_lines",
        Need::Root,
        NSPAWN,
        DEBOOTSTRAP
    );
    let _one = one_container();
    if !rootfs().join("lib/systemd/systemd").exists() {
        drop(Container::boot());
    }
    prepare_rootfs();
    // Over the shared config: one check that passes, one that fails with no remedy and no
    // agent, so that one run of the unit escalates it.
    std::fs::write(
        rootfs().join("etc/orchestrator/orchestrator.toml"),
        "[[checks]]\nname = \"passwd\"\nkind = \"file\"\npath = \"/etc/passwd\"\n\n\
         [[checks]]\nname = \"nightly-backup\"\nkind = \"file\"\npath = \"/srv/backup.tar\"\n",
    )
    .unwrap();
    let container = Container::boot();
    container.ok(&["systemctl", "start", "orchestrator.service"]);

    // This boot's lines only: the root, and with it the journal, is kept between runs.
    let journal = |priority: &str| {
        container.ok(&[
            "journalctl",
            "-b",
            "-u",
            "orchestrator.service",
            "-p",
            priority,
            "-o",
            "cat",
            "--no-pager",
        ])
    };
    let summary = "scan: 2 checks, 1 ok, 1 failing (nightly-backup); incidents: 1 opened";
    let stored = std::time::Instant::now() + Duration::from_secs(10);
    while !journal("info").contains(summary) && std::time::Instant::now() < stored {
        std::thread::sleep(Duration::from_millis(100));
    }
    let info = journal("info");
    assert!(
        info.contains(summary),
        "no summary line in the journal:\n{info}"
    );
    let warnings = journal("warning");
    assert!(
        warnings.contains("incident 1 (nightly-backup) escalated: "),
        "the escalation is not a warning in the journal:\n{warnings}\nall:\n{}",
        journal("debug")
    );
    assert!(
        warnings.contains("check nightly-backup: incident 1 Opened: "),
        "{warnings}"
    );
    assert!(
        !warnings.contains(summary),
        "the routine summary is stored as a warning:\n{warnings}"
    );
    let stamp = regex::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}").unwrap();
    let stamped: Vec<&str> = info.lines().filter(|l| stamp.is_match(l)).collect();
    assert!(
        stamped.is_empty(),
        "lines with a second timestamp: {stamped:?}"
    );
    let prefixed: Vec<&str> = info.lines().filter(|l| l.starts_with('<')).collect();
    assert!(
        prefixed.is_empty(),
        "prefixes journald did not take: {prefixed:?}"
    );
}

/// A `log` check reads a unit's journal from its cursor, and `config discover` lists the
/// enabled units that run, on a real systemd: the check fails on the scan after the unit
/// logged the pattern and passes on the next; discover's output passes `config check`.
#[test]
fn on_a_real_systemd_a_log_check_reads_the_journal_and_discover_lists_running_units() {
    require_system!(
        "on_a_real_systemd_a_log_check_reads_the_journal_and_discover_lists_running_units",
        Need::Root,
        NSPAWN,
        DEBOOTSTRAP
    );
    let _one = one_container();
    if !rootfs().join("lib/systemd/systemd").exists() {
        drop(Container::boot());
    }
    prepare_rootfs();
    let root = rootfs();
    std::fs::write(
        root.join("etc/orchestrator/orchestrator.toml"),
        "[[checks]]\nname = \"noisy-log\"\nkind = \"log\"\njournal = \"noisy.service\"\npattern = \"journal-marker-[0-9]+\"\n",
    )
    .unwrap();
    let wants = root.join("etc/systemd/system/multi-user.target.wants");
    std::fs::create_dir_all(&wants).unwrap();
    // Enabled for this test only: the cached root is shared with the other tests.
    struct Enabled(PathBuf);
    impl Drop for Enabled {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let link = Enabled(wants.join("demo-web.service"));
    let _ = std::fs::remove_file(&link.0);
    std::os::unix::fs::symlink("/etc/systemd/system/demo-web.service", &link.0).unwrap();
    let container = Container::boot();

    let status = |scan: &serde_json::Value| scan["checks"][0]["status"].as_str().map(String::from);
    let first = container.orchestrator_json(&["scan"]);
    assert_eq!(status(&first).as_deref(), Some("ok"), "{first}");
    let _ = container.run(&["systemctl", "start", "noisy.service"]);
    let logged = std::time::Instant::now() + Duration::from_secs(20);
    while !container
        .sh("journalctl -u noisy.service -o cat --no-pager || true")
        .contains("journal-marker-4242")
        && std::time::Instant::now() < logged
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let found = container.orchestrator_json(&["scan"]);
    assert_eq!(status(&found).as_deref(), Some("critical"), "{found}");
    let summary = found["checks"][0]["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("journal-marker-4242"), "{summary}");
    let quiet = container.orchestrator_json(&["scan"]);
    assert_eq!(status(&quiet).as_deref(), Some("ok"), "{quiet}");

    let discovered = container.ok(&["/usr/local/bin/orchestrator", "config", "discover"]);
    assert!(
        discovered.contains("kind = \"systemd-failed\""),
        "{discovered}"
    );
    assert!(
        discovered.contains("unit = \"demo-web.service\""),
        "the enabled, running demo-web.service is not in:\n{discovered}"
    );
    container.sh(
        "/usr/local/bin/orchestrator config discover > /root/discovered.toml && \
         /usr/local/bin/orchestrator -c /root/discovered.toml config check",
    );
}
