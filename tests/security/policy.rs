//! Attacks on `[policy]` through an agent's plan: argv globs climbing out of their directory or
//! accepting option words, unit names that are not unit names, and kills aimed at processes the
//! incident does not own or at orchestrator itself. Each plants a victim (a file, a process)
//! and asserts that it survives and that the refusal names its reason; the kills the policy
//! does allow are shown to still work, so that the kill tests can fail both ways.

use crate::common::*;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Configures `host` with one check that always fails (a file that never exists) and no remedy
/// unless `check_extra` gives one, so each `cycle` hands the incident to the agent `evil`,
/// which proposes `plans` in turn, one per attempt.
fn configure_attack(host: &Host, policy: &str, check_extra: &str, plans: &[String]) {
    let answers = host.path("answers");
    std::fs::create_dir_all(&answers).unwrap();
    for (i, plan) in plans.iter().enumerate() {
        let answer = format!(
            r#"{{"diagnosis": "the fault is elsewhere", "confidence": 0.9, "plan": {plan}}}"#
        );
        std::fs::write(answers.join((i + 1).to_string()), answer).unwrap();
    }
    host.write_config(&format!(
        r#"
[cycle]
settle = "50ms"

[policy]
max_attempts = {attempts}
reopen_within = "0s"
{policy}

[[checks]]
name = "guarded"
kind = "file"
path = "{never}"
{check_extra}

[agents.evil]
command = ["sh", "{script}", "{answers}"]
timeout = "10s"

[research]
agent = "evil"
"#,
        attempts = plans.len(),
        never = host.path("never-exists").display(),
        script = answer_script(),
        answers = answers.display(),
    ));
}

/// The reasons of the attempts with this outcome, oldest first.
fn reasons(host: &Host, outcome: &str) -> Vec<String> {
    let db = host.db();
    let mut statement = db
        .prepare("SELECT reason FROM attempts WHERE outcome = ?1 ORDER BY id")
        .unwrap();
    let rows = statement
        .query_map([outcome], |row| row.get::<_, String>(0))
        .unwrap();
    rows.map(|r| r.unwrap()).collect()
}

fn quoted(text: impl AsRef<str>) -> String {
    serde_json::to_string(text.as_ref()).unwrap()
}

fn run_plan(argv: &[String]) -> String {
    let words: Vec<String> = argv.iter().map(quoted).collect();
    format!(r#"[{{"action": "run", "argv": [{}]}}]"#, words.join(", "))
}

#[test]
fn a_command_glob_over_a_directory_cannot_climb_out_of_it() {
    let host = Host::new();
    let fixers = host.path("fixers");
    std::fs::create_dir_all(&fixers).unwrap();
    // An allowed fixer that touches what it is given: the second attack aims it at the victim.
    let stamp = fixers.join("stamp");
    write_script(&stamp, "exec /usr/bin/touch \"$1\"\n");
    let victim = host.path("victim");
    let up = "/..".repeat(fixers.components().count() - 1);
    let climb = format!("{}{up}/usr/bin/touch", fixers.display());
    let back_out = format!("{}/../victim", fixers.display());
    let plans = [
        run_plan(&[climb.clone(), victim.display().to_string()]),
        run_plan(&[stamp.display().to_string(), back_out.clone()]),
    ];
    let policy = format!(
        "actions = [\"run\"]\napprove = []\ncommands = [[\"{}/*\", \"**\"]]",
        fixers.display()
    );
    configure_attack(&host, &policy, "", &plans);
    host.run(&["--json", "cycle"]).ok();

    assert!(!victim.exists(), "a command reached outside the fixers");
    let rejected = reasons(&host, "rejected");
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_contains(
        &rejected[0],
        &format!("argv word `{climb}` has a `..` component"),
    );
    assert_contains(
        &rejected[1],
        &format!("argv word `{back_out}` has a `..` component"),
    );
}

#[test]
fn a_star_never_accepts_an_option_word() {
    let host = Host::new();
    let spool = host.path("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let victim = spool.join("precious");
    std::fs::write(&victim, "keep me").unwrap();
    // The admin meant "find things in the spool"; `-delete` is a word too.
    let find = |word: &str| {
        run_plan(&[
            "/usr/bin/find".into(),
            spool.display().to_string(),
            word.into(),
        ])
    };
    let plans = [find("-delete"), find("--root=/")];
    let policy = format!(
        "actions = [\"run\"]\napprove = []\ncommands = [[\"/usr/bin/find\", \"{}\", \"*\"]]",
        spool.display()
    );
    configure_attack(&host, &policy, "", &plans);
    host.run(&["--json", "cycle"]).ok();

    assert!(victim.exists(), "find -delete ran");
    let rejected = reasons(&host, "rejected");
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    for (reason, word) in rejected.iter().zip(["-delete", "--root=/"]) {
        assert_contains(reason, word);
        assert_contains(reason, "matches no entry of [policy] commands");
    }
}

#[test]
fn unit_names_that_are_not_unit_names_never_reach_systemctl() {
    let host = Host::new();
    // A systemctl that only records that it ran: the victim is its record.
    let bin = host.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let record = host.path("systemctl-ran");
    write_script(
        &bin.join("systemctl"),
        &format!("echo \"$@\" >> {}\n", record.display()),
    );
    let plans = [
        r#"[{"action": "restart_unit", "unit": "../../etc/x"}]"#.to_string(),
        r#"[{"action": "restart_unit", "unit": "foo;bar"}]"#.to_string(),
    ];
    // Every unit name the glob can match is allowed: only the name rule stands in the way.
    let policy = "actions = [\"restart_unit\"]\nunits = [\"*\"]";
    // The admin's own remedy is held to the same rule when it runs.
    let remedy = r#"remedy = [ { action = "start_unit", unit = "web;reboot" } ]"#;
    configure_attack(&host, policy, remedy, &plans);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = host
        .command(&["--json", "cycle"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");

    assert!(
        !record.exists(),
        "systemctl ran: {}",
        std::fs::read_to_string(&record).unwrap_or_default()
    );
    let rejected = reasons(&host, "rejected");
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_contains(
        &rejected[0],
        "`../../etc/x` is not a valid unit name: `/` is not allowed",
    );
    assert_contains(
        &rejected[1],
        "`foo;bar` is not a valid unit name: `;` is not allowed",
    );
    let failed = reasons(&host, "failed");
    assert_contains(&failed[0], "`web;reboot` is not a valid unit name");
}

/// A process started by the test (not by orchestrator, so it is no child of it): a copy of
/// sleep under `name`, reaped as soon as it dies so that a kill shows at once.
struct Victim {
    pid: i32,
    dead: Arc<AtomicBool>,
}

impl Victim {
    fn start(host: &Host, name: &str) -> Victim {
        let program = host.path(name);
        std::fs::copy("/bin/sleep", &program).unwrap();
        let child = Command::new(&program)
            .arg("60")
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        Victim::reaped(child)
    }

    fn reaped(mut child: Child) -> Victim {
        let pid = child.id() as i32;
        let dead = Arc::new(AtomicBool::new(false));
        let flag = dead.clone();
        std::thread::spawn(move || {
            let _ = child.wait();
            flag.store(true, Ordering::SeqCst);
        });
        Victim { pid, dead }
    }

    fn alive(&self) -> bool {
        !self.dead.load(Ordering::SeqCst)
    }

    fn wait_dead(&self, what: &str) {
        wait_until(what, Duration::from_secs(10), || !self.alive());
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        if self.alive() {
            signal(self.pid, libc::SIGKILL);
        }
    }
}

/// A name unique to this test run: kills by name must not reach another run's processes.
fn unique(prefix: &str) -> String {
    format!("{prefix}{}", std::process::id())
}

fn kill_by_name(name: &str) -> String {
    format!(
        r#"[{{"action": "kill_process", "name": {}}}]"#,
        quoted(name)
    )
}

fn kill_by_pid(pid: i32) -> String {
    format!(r#"[{{"action": "kill_process", "pid": {pid}}}]"#)
}

const KILL_POLICY: &str = "actions = [\"kill_process\"]\napprove = []";

#[test]
fn a_kill_never_reaches_a_process_the_incident_does_not_own() {
    let host = Host::new();
    let name = unique("vsleep");
    let victim = Victim::start(&host, &name);
    let plans = [kill_by_name(&name), kill_by_pid(victim.pid)];
    configure_attack(&host, KILL_POLICY, "", &plans);
    host.run(&["--json", "cycle"]).ok();

    std::thread::sleep(Duration::from_millis(100));
    assert!(victim.alive(), "the unrelated process was killed");
    let failed = reasons(&host, "failed");
    assert_eq!(failed.len(), 2, "{failed:?}");
    for reason in &failed {
        assert_contains(
            reason,
            &format!(
                "refused, nothing signalled: pid {} ({name}) is outside the incident's scope",
                victim.pid
            ),
        );
        assert_contains(reason, "no [policy] processes");
    }
}

#[test]
fn a_kill_reaches_the_checks_own_process_and_what_policy_names() {
    let host = Host::new();
    let own = unique("own");
    let named = unique("named");
    let bystander = unique("bystander");
    let own_process = Victim::start(&host, &own);
    let named_process = Victim::start(&host, &named);
    let bystander_process = Victim::start(&host, &bystander);
    // The `process` check fails while `own` runs; `[policy] processes` adds `named*`.
    let host_config = |plans: &[String]| {
        let policy = format!("{KILL_POLICY}\nprocesses = [\"named*\"]");
        configure_attack(&host, &policy, "", plans);
        let config = std::fs::read_to_string(host.config_path()).unwrap();
        let config = config.replace(
            &format!(
                "kind = \"file\"\npath = \"{}\"",
                host.path("never-exists").display()
            ),
            &format!("kind = \"process\"\nprocess = \"{own}\"\nmin = 0\nmax = 0"),
        );
        host.write_config(&config);
    };
    host_config(&[
        kill_by_pid(named_process.pid),
        kill_by_pid(bystander_process.pid),
        kill_by_name(&own),
    ]);
    let cycle = host.run(&["--json", "cycle"]).ok().json();

    named_process.wait_dead("the process [policy] processes names is killed");
    own_process.wait_dead("the check's own process is killed");
    assert!(bystander_process.alive(), "a bystander was killed");
    assert_eq!(
        cycle["research"]["incidents"][0]["verdict"], "fixed",
        "{cycle}"
    );
    let failed = reasons(&host, "failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_contains(
        &failed[0],
        &format!(
            "pid {} ({bystander}) is outside the incident's scope (not named `{own}`, not matched by [policy] processes [\"named*\"])",
            bystander_process.pid
        ),
    );
}

/// `orchestrator serve`, a second orchestrator process, killed when dropped.
struct OtherOrchestrator(Child);

impl OtherOrchestrator {
    fn start(host: &Host) -> OtherOrchestrator {
        let port = free_port();
        let child = host
            .command(&["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until("serve answers", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        OtherOrchestrator(child)
    }
}

impl Drop for OtherOrchestrator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn no_kill_reaches_an_orchestrator_process_not_even_the_admins() {
    let host = Host::new();
    host.write_config("");
    let mut serve = OtherOrchestrator::start(&host);
    let serve_pid = serve.0.id() as i32;
    let plans = [kill_by_pid(serve_pid), kill_by_name("orchestrator")];
    // The admin allows every process name, and their own remedy aims at orchestrator too.
    let policy = format!("{KILL_POLICY}\nprocesses = [\"*\"]");
    let remedy = format!(r#"remedy = [ {{ action = "kill_process", pid = {serve_pid} }} ]"#);
    configure_attack(&host, &policy, &remedy, &plans);
    host.run(&["--json", "cycle"]).ok();

    std::thread::sleep(Duration::from_millis(100));
    assert!(
        serve.0.try_wait().unwrap().is_none(),
        "orchestrator serve was killed"
    );
    let failed = reasons(&host, "failed");
    assert_eq!(failed.len(), 3, "{failed:?}");
    let refused =
        format!("pid {serve_pid} (orchestrator) is an orchestrator process: never signalled");
    assert_contains(&failed[0], &refused);
    assert_contains(&failed[1], &refused);
    // By name it finds the cycle itself as well.
    assert_contains(&failed[2], &refused);
    assert_contains(
        &failed[2],
        "(orchestrator) is orchestrator itself: never signalled",
    );
}

/// A cgroup standing for a unit's, in the unified hierarchy (or systemd's named one), removed
/// when dropped.
struct UnitCgroup(PathBuf);

impl UnitCgroup {
    fn create(unit: &str) -> UnitCgroup {
        let root = [
            "/sys/fs/cgroup/unified",
            "/sys/fs/cgroup/systemd",
            "/sys/fs/cgroup",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.join("cgroup.procs").exists())
        .expect("a writable cgroup hierarchy");
        let path = root.join(unique("orch-test-")).join(unit);
        std::fs::create_dir_all(&path).unwrap();
        UnitCgroup(path)
    }

    fn adopt(&self, pid: i32) {
        std::fs::write(self.0.join("cgroup.procs"), pid.to_string()).unwrap();
    }
}

impl Drop for UnitCgroup {
    fn drop(&mut self) {
        let procs = std::fs::read_to_string(self.0.join("cgroup.procs")).unwrap_or_default();
        for pid in procs.lines().filter_map(|l| l.parse().ok()) {
            signal(pid, libc::SIGKILL);
        }
        wait_until("the test cgroup empties", Duration::from_secs(5), || {
            std::fs::read_to_string(self.0.join("cgroup.procs"))
                .map(|p| p.trim().is_empty())
                .unwrap_or(true)
        });
        let _ = std::fs::remove_dir(&self.0);
        let _ = std::fs::remove_dir(self.0.parent().unwrap());
    }
}

#[test]
fn a_kill_reaches_the_processes_of_the_incidents_unit() {
    crate::require_system!(
        "a_kill_reaches_the_processes_of_the_incidents_unit",
        Need::Root
    );
    let host = Host::new();
    let unit = format!("{}.service", unique("web"));
    let cgroup = UnitCgroup::create(&unit);
    let inside = Victim::start(&host, "worker");
    cgroup.adopt(inside.pid);
    let outside = Victim::start(&host, "worker2");
    let plans = [kill_by_pid(outside.pid), kill_by_pid(inside.pid)];
    configure_attack(&host, KILL_POLICY, &format!("unit = \"{unit}\""), &plans);
    host.run(&["--json", "cycle"]).ok();

    inside.wait_dead("the process in the unit's cgroup is killed");
    assert!(outside.alive(), "a process outside the unit was killed");
    let failed = reasons(&host, "failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_contains(
        &failed[0],
        &format!(
            "pid {} (worker2) is outside the incident's scope (not in the cgroup of {unit}",
            outside.pid
        ),
    );
    // Killed, yet the file check still fails: the attempt ran and did not fix it.
    assert_eq!(reasons(&host, "not_fixed").len(), 1);
}
