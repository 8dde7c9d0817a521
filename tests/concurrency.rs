//! The cycle lock and crash safety: two cycles at once act once; a cycle killed mid-remedy
//! leaves a consistent database whose next run closes the attempt as interrupted.

mod common;
use common::*;
use std::time::Duration;

fn slow_remedy_config(service: &Service, sleep_secs: u32) -> String {
    format!(
        r#"
[cycle]
settle = "50ms"
[[checks]]
name = "web"
kind = "http"
url = "{url}"
remedy = [ {{ action = "run", argv = ["sleep", "{sleep_secs}"] }}, {{ action = "remove_file", path = "{pidfile}" }}, {{ action = "run", argv = {start} }} ]
"#,
        url = service.url(),
        pidfile = service.pidfile.display(),
        start = service.start_toml(),
    )
}

/// Starts a cycle, waits until its remedy runs, and kills it with SIGKILL.
fn kill_cycle_during_remedy(host: &Host) {
    let mut cycle = host.command(&["cycle"]).spawn().unwrap();
    wait_until("the remedy is running", Duration::from_secs(20), || {
        host.db_path().exists()
            && host
                .db()
                .query_row(
                    "SELECT COUNT(*) FROM attempts WHERE outcome = 'running'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .unwrap_or(0)
                == 1
    });
    signal(cycle.id() as i32, libc::SIGKILL);
    cycle.wait().unwrap();
}

#[test]
fn two_cycles_started_at_once_act_on_an_incident_once() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&slow_remedy_config(&service, 1));
    service.start();
    service.kill();
    let first = host
        .command(&["--json", "cycle"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let second = host
        .command(&["--json", "cycle"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    for output in &outputs {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let skipped = outputs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stdout).contains("\"skipped\": true"))
        .count();
    assert_eq!(skipped, 1, "exactly one cycle should have skipped");
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM attempts"), 1);
    assert_eq!(host.query_text("SELECT status FROM incidents"), "resolved");

    // With --wait the second one waits its turn instead.
    service.kill();
    let first = host.command(&["cycle"]).spawn().unwrap();
    let waited = host.run(&["--wait", "--json", "cycle"]).ok();
    assert!(!waited.stdout.contains("skipped"), "{}", waited.stdout);
    let _ = first.wait_with_output();
}

#[test]
fn a_cycle_killed_during_a_slow_remedy_leaves_the_attempt_interrupted() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&slow_remedy_config(&service, 30));
    service.start();
    service.kill();
    kill_cycle_during_remedy(&host);

    assert_eq!(host.query_text("PRAGMA integrity_check"), "ok");
    // The next run closes the dangling attempt and goes on: the check still fails, so phase 1
    // tries again.
    host.write_config(&slow_remedy_config(&service, 0));
    let fix = host.run(&["--json", "fix"]).ok().json();
    assert_eq!(
        host.query_text("SELECT outcome FROM attempts ORDER BY id LIMIT 1"),
        "interrupted"
    );
    assert_contains(
        &host.query_text("SELECT reason FROM attempts ORDER BY id LIMIT 1"),
        "stopped before it finished",
    );
    assert_eq!(fix["incidents"][0]["verdict"], "fixed", "{fix}");
    assert_eq!(host.query_text("PRAGMA integrity_check"), "ok");
}

#[test]
fn an_interrupted_attempt_whose_check_now_passes_is_recovered() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&slow_remedy_config(&service, 30));
    service.start();
    service.kill();
    kill_cycle_during_remedy(&host);
    let _ = std::fs::remove_file(&service.pidfile);
    service.start();
    let fix = host.run(&["--json", "fix"]).ok().json();
    assert_eq!(
        fix["interrupted_recovered"].as_array().unwrap().len(),
        1,
        "{fix}"
    );
    assert_eq!(host.query_text("SELECT status FROM incidents"), "recovered");
}

/// Whether `pid` runs: exists and is no zombie (PID 1 here may be slow to reap orphans).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let after_name = &stat[stat.rfind(')')? + 1..];
            Some(after_name.split_whitespace().next()? != "Z")
        })
        .unwrap_or(false)
}

/// Live processes on the host whose environment holds `NAME=VALUE` exactly.
fn processes_with_env(entry: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for dir in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = dir.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let environ = std::fs::read(dir.path().join("environ")).unwrap_or_default();
        if environ.split(|&b| b == 0).any(|e| e == entry.as_bytes()) && alive(pid) {
            found.push(pid);
        }
    }
    found
}

/// The pid a test process wrote into `file`, once it has.
fn pid_in(file: &std::path::Path) -> Option<i32> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

/// (marker, direct child's pid) recorded on the attempt `id` when its action started.
fn recorded_processes(host: &Host, id: i64) -> (String, i32) {
    host.db()
        .query_row(
            "SELECT exec_marker, exec_group FROM attempts WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap_or_else(|e| panic!("attempt {id} has no recorded processes: {e}"))
}

/// Starts `orchestrator ARGS`, waits until its attempt number `nth` runs an action whose
/// processes are recorded and `ready` holds, and kills it with SIGKILL.
fn kill_during_attempt(host: &Host, args: &[&str], nth: i64, ready: impl Fn() -> bool) {
    let mut run = host.command(args).spawn().unwrap();
    wait_until("the remedy is running", Duration::from_secs(20), || {
        host.db_path().exists()
            && host
                .db()
                .query_row(
                    "SELECT COUNT(*) = ?1 AND SUM(outcome = 'running' AND exec_group IS NOT NULL) = 1 FROM attempts",
                    [nth],
                    |r| r.get::<_, bool>(0),
                )
                .unwrap_or(false)
            && ready()
    });
    signal(run.id() as i32, libc::SIGKILL);
    run.wait().unwrap();
}

/// The same plan each time: the first run leaves a `setsid` grandchild that would touch `victim`
/// seconds later and then hangs; any later run passes at once. Then the service is restarted.
fn orphaning_remedy_config(host: &Host, service: &Service) -> String {
    let script = r#"[ -e "$1/ran-once" ] && exit 0
touch "$1/ran-once"
setsid sh -c 'echo $$ > "$1/grandchild.pid"; sleep 10; touch "$1/victim"' grandchild "$1" &
sleep 30"#;
    format!(
        r#"
[cycle]
settle = "50ms"
[[checks]]
name = "web"
kind = "http"
url = "{url}"
remedy = [ {{ action = "run", argv = ["sh", "-c", {script:?}, "remedy", "{dir}"], timeout = "60s" }}, {{ action = "remove_file", path = "{pidfile}" }}, {{ action = "run", argv = {start} }} ]
"#,
        url = service.url(),
        dir = host.dir.path().display(),
        pidfile = service.pidfile.display(),
        start = service.start_toml(),
    )
}

#[test]
fn a_killed_cycle_leaves_no_process_of_its_remedy_and_the_plan_is_retried_once() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&orphaning_remedy_config(&host, &service));
    service.start();
    service.kill();
    let grandchild_file = host.path("grandchild.pid");
    kill_during_attempt(&host, &["cycle"], 1, || pid_in(&grandchild_file).is_some());
    let (marker, direct_child) = recorded_processes(&host, 1);
    let grandchild = pid_in(&grandchild_file).unwrap();

    // Before any other run: the remedy's own process died with orchestrator, and its setsid
    // grandchild did not (which is why the next run must end it).
    wait_until(
        "the remedy's sh dies with orchestrator",
        Duration::from_secs(5),
        || !alive(direct_child),
    );
    assert!(alive(grandchild), "the setsid grandchild should still run");
    let entry = format!("ORCHESTRATOR_EXEC_ID={marker}");
    assert!(!processes_with_env(&entry).is_empty());

    let fix = host.run(&["--json", "fix"]).ok().json();
    assert!(
        !alive(grandchild),
        "the grandchild {grandchild} survived the recovery"
    );
    assert_eq!(
        processes_with_env(&entry),
        Vec::<i32>::new(),
        "processes of the interrupted remedy survived"
    );
    assert!(
        !host.path("victim").exists(),
        "the orphan went on repairing"
    );
    // Three: the grandchild `sh`, its `sleep 8`, and the `sleep 30` the remedy's own `sh` was
    // waiting for (orphaned, still in the remedy's process group).
    let reason = host.query_text("SELECT reason FROM attempts WHERE id = 1");
    assert_contains(&reason, "stopped before it finished; killed 3 process(es)");
    assert_contains(&reason, &format!("{grandchild} (sh)"));

    // Tried once more, the same plan, and this time it fixes.
    assert_eq!(fix["incidents"][0]["verdict"], "fixed", "{fix}");
    assert_eq!(
        host.query_text(
            "SELECT group_concat(outcome, ' ') FROM (SELECT outcome FROM attempts ORDER BY id)"
        ),
        "interrupted fixed"
    );
    assert_eq!(
        host.query_i64("SELECT COUNT(DISTINCT plan_hash) FROM attempts"),
        1
    );
}

#[test]
fn a_plan_interrupted_twice_is_not_tried_a_third_time() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&slow_remedy_config(&service, 30));
    service.start();
    service.kill();
    for (nth, args) in [(1, &["cycle"][..]), (2, &["fix"][..])] {
        kill_during_attempt(&host, args, nth, || true);
        let (_, sleep) = recorded_processes(&host, nth);
        // `sleep` has no children: PDEATHSIG alone ends the plain remedy.
        wait_until(
            "the remedy's sleep dies with orchestrator",
            Duration::from_secs(5),
            || !alive(sleep),
        );
    }
    let fix = host.run(&["--json", "fix"]).ok().json();
    assert_eq!(fix["incidents"][0]["verdict"], "passed_on", "{fix}");
    assert_eq!(
        fix["incidents"][0]["attempts"],
        serde_json::json!([]),
        "{fix}"
    );
    assert_contains(
        &fix["incidents"][0]["detail"].to_string(),
        "1 plan(s) tried",
    );
    assert_eq!(
        host.query_text(
            "SELECT group_concat(outcome, ' ') FROM (SELECT outcome FROM attempts ORDER BY id)"
        ),
        "interrupted interrupted"
    );
    assert_eq!(
        host.query_i64("SELECT COUNT(DISTINCT plan_hash) FROM attempts"),
        1
    );
}

#[test]
fn an_agent_dies_with_a_killed_cycle() {
    let host = Host::new();
    let agent_pid = host.path("agent.pid");
    let missing = host.path("missing");
    let agent = format!("echo $$ > {}; exec sleep 30", agent_pid.display());
    host.write_config(&format!(
        r#"
[[checks]]
name = "flag"
kind = "file"
path = "{missing}"

[agents.hang]
command = ["sh", "-c", {agent:?}]
timeout = "60s"

[research]
agent = "hang"
"#,
        missing = missing.display(),
    ));
    let mut cycle = host.command(&["cycle"]).spawn().unwrap();
    wait_until("the agent runs", Duration::from_secs(20), || {
        pid_in(&agent_pid).is_some_and(alive)
    });
    let agent = pid_in(&agent_pid).unwrap();
    signal(cycle.id() as i32, libc::SIGKILL);
    cycle.wait().unwrap();
    wait_until(
        "the agent dies with orchestrator",
        Duration::from_secs(5),
        || !alive(agent),
    );
}

#[test]
fn an_approved_plan_interrupted_twice_is_not_run_a_third_time() {
    let host = Host::new();
    let missing = host.path("missing");
    let answer = host.path("answer");
    std::fs::write(
        &answer,
        r#"{"diagnosis": "slow", "confidence": 0.5, "plan": [{"action": "run", "argv": ["/usr/bin/sleep", "30"]}]}"#,
    )
    .unwrap();
    let answer_script = answer_script();
    host.write_config(&format!(
        r#"
[policy]
actions = []
approve = ["run"]
commands = [["/usr/bin/sleep", "**"]]

[[checks]]
name = "flag"
kind = "file"
path = "{missing}"

[agents.claude]
command = ["sh", "{answer_script}", "{answer}"]

[research]
agent = "claude"
"#,
        missing = missing.display(),
        answer = answer.display(),
    ));
    host.run(&["cycle"]).ok();
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM escalations WHERE held_plan IS NOT NULL"),
        1
    );
    // The dashboard only records the decision; the next `fix` runs the plan.
    host.db()
        .execute("UPDATE escalations SET decision = 'approved', decided_by = 'dashboard:alice', decided_at = 0", [])
        .unwrap();
    for nth in [1, 2] {
        kill_during_attempt(&host, &["fix"], nth, || true);
    }
    let fix = host.run(&["--json", "fix"]).ok().json();
    assert_contains(
        &fix["approved"][0]["detail"].to_string(),
        "interrupted twice",
    );
    assert_eq!(
        host.query_text(
            "SELECT group_concat(outcome, ' ') FROM (SELECT outcome FROM attempts ORDER BY id)"
        ),
        "interrupted interrupted"
    );
    assert_eq!(
        host.query_i64("SELECT executed_at IS NOT NULL FROM escalations"),
        1
    );
}

#[test]
fn recovery_leaves_alone_a_daemon_an_earlier_action_started() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    // The service is started by the plan's second action, and a third one hangs.
    host.write_config(&format!(
        r#"
[cycle]
settle = "50ms"
[[checks]]
name = "web"
kind = "http"
url = "{url}"
remedy = [ {{ action = "remove_file", path = "{pidfile}" }}, {{ action = "run", argv = {start} }}, {{ action = "run", argv = ["sleep", "30"] }} ]
"#,
        url = service.url(),
        pidfile = service.pidfile.display(),
        start = service.start_toml(),
    ));
    service.start();
    service.kill();
    // Killed in the third action: the second has ended (and its daemon is no longer the
    // attempt's concern) once the recorded process is the `sleep`.
    let in_third_action = || {
        host.db()
            .query_row("SELECT exec_group FROM attempts WHERE id = 1", [], |r| {
                r.get::<_, Option<i32>>(0)
            })
            .ok()
            .flatten()
            .and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).ok())
            .is_some_and(|name| name.trim() == "sleep")
    };
    kill_during_attempt(&host, &["cycle"], 1, in_third_action);
    let daemon = service.pid().expect("the remedy started the service");
    let (_, sleep) = recorded_processes(&host, 1);
    assert_ne!(sleep, daemon);

    assert!(alive(daemon), "the service died with orchestrator");
    let fix = host.run(&["--json", "fix"]).ok().json();
    assert!(
        alive(daemon),
        "the recovery killed the service the remedy started: {}",
        host.query_text("SELECT reason FROM attempts")
    );
    assert!(service.healthy());
    assert_eq!(
        fix["interrupted_recovered"],
        serde_json::json!([1]),
        "{fix}"
    );
    assert_eq!(host.query_text("SELECT status FROM incidents"), "recovered");
}

/// What a scan left in the database: (rows of the history strip, open incidents, checks whose
/// last result is critical).
fn scan_state(db: &std::path::Path) -> (i64, i64, i64) {
    let db = rusqlite::Connection::open(db).unwrap();
    let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    (
        count("SELECT COUNT(*) FROM check_history"),
        count("SELECT COUNT(*) FROM incidents WHERE status = 'open'"),
        count("SELECT COUNT(*) FROM checks WHERE status = 'critical'"),
    )
}

/// `strace OPTIONS orchestrator -c CONFIG --db DB scan`, its own output discarded.
fn traced_scan(host: &Host, db: &std::path::Path, options: &[&str]) -> std::process::Command {
    let scan = host.command_with_db(db, &["scan"]);
    let mut traced = std::process::Command::new("/usr/bin/strace");
    traced
        .args(options)
        .arg(scan.get_program())
        .args(scan.get_args())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    traced
}

/// The pwrite64 calls of one undisturbed `scan`.
fn scan_writes(host: &Host, db: &std::path::Path) -> usize {
    let trace = host.path("writes").display().to_string();
    let options = ["-f", "-qq", "-e", "trace=pwrite64", "-o", &trace];
    assert!(traced_scan(host, db, &options).status().unwrap().success());
    std::fs::read_to_string(trace)
        .unwrap()
        .lines()
        .filter(|line| line.contains("pwrite64("))
        .count()
}

/// A scan records all its results in one transaction: killed at any of its disk writes (strace
/// fault injection), it leaves the state of the scan before it or all of its own results,
/// never some of them, and the next scan records the host as it is.
#[test]
fn a_scan_killed_at_any_write_records_all_its_results_or_none() {
    require_system!(
        "a_scan_killed_at_any_write_records_all_its_results_or_none",
        STRACE
    );
    let host = Host::new();
    let files: Vec<std::path::PathBuf> = (0..6).map(|i| host.path(&format!("f{i}"))).collect();
    for file in &files {
        std::fs::write(file, "x").unwrap();
    }
    let config: String = files
        .iter()
        .enumerate()
        .map(|(i, file)| file_check(&format!("file-{i}"), file.display()))
        .collect();
    host.write_config(&config);
    host.run(&["scan"]).ok();
    let template = host.path("template.db");
    std::fs::copy(host.db_path(), &template).unwrap();
    let before = scan_state(&template);
    assert_eq!(before, (6, 0, 0));
    // Half the checks now fail: the scan under test records six results and opens three.
    for file in &files[..3] {
        std::fs::remove_file(file).unwrap();
    }
    let after = (12, 3, 3);
    let db = host.path("crash.db");
    std::fs::copy(&template, &db).unwrap();
    let writes = scan_writes(&host, &db);
    assert_eq!(scan_state(&db), after);
    assert!(writes > 3, "only {writes} writes");

    for n in 1..=writes {
        std::fs::copy(&template, &db).unwrap();
        let inject = format!("inject=pwrite64:signal=KILL:when={n}");
        let options = [
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            "trace=pwrite64",
            "-e",
            &inject,
        ];
        traced_scan(&host, &db, &options).status().unwrap();
        let state = scan_state(&db);
        assert!(
            state == before || state == after,
            "killed at write {n} of {writes}: {state:?} is neither {before:?} nor {after:?}"
        );
        let next = Run::from(host.command_with_db(&db, &["scan"]).output().unwrap()).ok();
        let (history, open, critical) = scan_state(&db);
        assert_eq!((open, critical), (3, 3), "after write {n}: {}", next.stderr);
        assert!(history == 18 || history == 12, "after write {n}: {history}");
    }
}
