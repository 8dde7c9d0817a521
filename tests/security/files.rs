//! Files a local user controls where orchestrator expects a log or a pid file, and log lines
//! that name files. A log replaced by a symlink to a root-only file, or by a FIFO; a pid file
//! symlinked to `/dev/zero`, or swapped for a FIFO just before a kill; and `nobody` appending
//! a line that names a root-owned lock or pid file. Each is done for real against the built
//! binary; the victim (a secret, the cycle's progress, memory, a root-owned file) must survive.

use crate::common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NOBODY: u32 = 65534;
const NOGROUP: u32 = 65534;

fn running_as_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// What a process left behind: how it ended and what it printed.
struct Ended {
    status: Option<i32>,
    signal: Option<i32>,
    stdout: String,
}

/// Runs `command` and waits at most `limit` for it; a process still running then is killed
/// and the test fails naming `what`.
#[track_caller]
// Reaped by waitpid(2) itself, polled: `Child::try_wait` would do, but this keeps the status raw.
#[allow(clippy::zombie_processes)]
fn run_within(mut command: Command, limit: Duration, what: &str) -> Ended {
    let mut child: Child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut { stdout }, &mut text);
        text
    });
    let pid = child.id() as i32;
    let deadline = Instant::now() + limit;
    loop {
        let mut status = 0;
        // SAFETY: waiting on our own child, WNOHANG: no blocking, no other effect.
        let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if done == pid {
            let exited = libc::WIFEXITED(status);
            return Ended {
                status: exited.then(|| libc::WEXITSTATUS(status)),
                signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
                stdout: reader.join().unwrap_or_default(),
            };
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One failing check (a file that never exists) with `check_extra` keys, and `agent` as the
/// phase-2 agent.
fn configure(host: &Host, check_extra: &str, agent: &str, policy: &str) {
    host.write_config(&format!(
        r#"
[cycle]
settle = "50ms"

{policy}

[[checks]]
name = "app"
kind = "file"
path = "{never}"
{check_extra}

{agent}

[research]
agent = "{agent_name}"
"#,
        never = host.path("never-exists").display(),
        agent_name = agent
            .split_once(']')
            .and_then(|(head, _)| head.strip_prefix("[agents."))
            .unwrap_or("runbook"),
    ));
}

/// The spy: keeps its prompt and context file under `host/spy.*` and asks for a person.
fn spy_agent(host: &Host) -> String {
    let answer = host.path("spy.answer");
    std::fs::write(
        &answer,
        r#"{"diagnosis": "not sure", "plan": [], "escalate": true}"#,
    )
    .unwrap();
    format!(
        "[agents.spy]\ncommand = [\"sh\", \"{}\", \"{}\", \"{}\"]\ntimeout = \"10s\"",
        answer_script(),
        answer.display(),
        host.path("spy").display()
    )
}

const RUNBOOK: &str = "[agents.runbook]\nbuiltin = \"runbook\"";

/// Every text a person or an agent gets about incident 1: the prompt and context file (when a
/// spy was asked), `incidents show` as text and JSON, and the dashboard's incident page.
fn everything_shown(host: &Host) -> String {
    let mut shown = String::new();
    for file in ["spy.stdin", "spy.context"] {
        shown.push_str(&std::fs::read_to_string(host.path(file)).unwrap_or_default());
    }
    shown.push_str(&host.run(&["incidents", "show", "1"]).ok().stdout);
    shown.push_str(&host.run(&["--json", "incidents", "show", "1"]).ok().stdout);
    let dashboard = Dashboard::start(host);
    let page = ureq_get(&dashboard.url("/incidents/1")).expect("the incident page");
    assert_eq!(page.0, 200, "{}", page.1);
    shown.push_str(&page.1);
    shown
}

#[test]
fn a_log_symlinked_to_a_root_only_file_never_reaches_the_prompt_or_the_dashboard() {
    let host = Host::new();
    let vault = host.path("vault");
    std::fs::create_dir(&vault).unwrap();
    let secret = vault.join("shadow");
    std::fs::write(
        &secret,
        "2026-11-27T08:15:42Z FATAL: vault-marker-7Q3 root:$6$salt$hash error\n",
    )
    .unwrap();
    chmod(&secret, 0o600);
    chmod(&vault, 0o700);
    let logs = host.path("logs");
    std::fs::create_dir(&logs).unwrap();
    let log = logs.join("app.log");
    std::os::unix::fs::symlink(&secret, &log).unwrap();
    if running_as_root() {
        // The attacker's own symlink in the attacker's own log directory.
        std::os::unix::fs::lchown(&log, Some(NOBODY), Some(NOGROUP)).unwrap();
        std::os::unix::fs::lchown(&logs, Some(NOBODY), Some(NOGROUP)).unwrap();
    }
    configure(
        &host,
        &format!("logs = [\"{}\"]", log.display()),
        &spy_agent(&host),
        "",
    );
    host.run(&["--json", "cycle"]).ok();

    assert!(host.path("spy.stdin").exists(), "the spy was not asked");
    let shown = everything_shown(&host);
    assert!(
        !shown.contains("vault-marker-7Q3"),
        "the root-only file's lines were shown:\n{shown}"
    );
    // The log is reported, not read.
    assert_contains(
        &host.run(&["incidents", "show", "1"]).ok().stdout,
        &format!("log {}: a symlink", log.display()),
    );
}

#[test]
fn a_fifo_as_a_log_never_holds_the_cycle() {
    let host = Host::new();
    let log = host.path("app.log");
    mkfifo(&log);
    configure(
        &host,
        &format!("logs = [\"{}\"]", log.display()),
        &spy_agent(&host),
        "",
    );
    let ended = run_within(
        host.command(&["--json", "cycle"]),
        Duration::from_secs(60),
        "a cycle whose check's log is a FIFO nobody writes",
    );
    assert_eq!(ended.status, Some(0), "{}", ended.stdout);
    assert!(host.path("spy.stdin").exists(), "the spy was not asked");
    assert_contains(
        &host.run(&["incidents", "show", "1"]).ok().stdout,
        &format!("log {}: a FIFO", log.display()),
    );
    // The lock was let go: the next phase runs, it does not skip.
    let scan = host.run(&["--json", "scan"]).ok().json();
    assert_eq!(scan["skipped"], serde_json::Value::Null, "{scan}");
}

#[test]
fn a_pid_file_symlinked_to_dev_zero_costs_no_memory() {
    let host = Host::new();
    let pidfile = host.path("app.pid");
    std::os::unix::fs::symlink("/dev/zero", &pidfile).unwrap();
    if running_as_root() {
        std::os::unix::fs::lchown(&pidfile, Some(NOBODY), Some(NOGROUP)).unwrap();
    }
    // A `process` check on the pid file, the runbook gathering facts on it.
    let config = format!(
        "[[checks]]\nname = \"app\"\nkind = \"process\"\npidfile = \"{}\"\n\n{RUNBOOK}\n\n[research]\nagent = \"runbook\"\n",
        pidfile.display()
    );
    host.write_config(&config);
    // Under 2 GiB of address space the old reader died of a failed allocation within seconds.
    // The peak RSS comes from GNU time: wait4's own figure for a child spawned by this test
    // binary (vfork, then exec) starts at the test binary's peak, hundreds of MiB when the
    // other tests of the crate run beside it; `time` forks the child from its own small image.
    let time = Path::new("/usr/bin/time");
    let rss_file = host.path("peak-rss-kib");
    let mut command = if time.exists() {
        let mut command = Command::new(time);
        command
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&rss_file)
            .arg("prlimit");
        command
    } else {
        Command::new("prlimit")
    };
    command.arg("--as=2147483648").arg("--");
    command.arg(orchestrator_bin());
    command
        .arg("-c")
        .arg(host.config_path())
        .arg("--db")
        .arg(host.db_path())
        .args(["--json", "cycle"])
        .env_remove("ORCHESTRATOR_CONFIG")
        .env_remove("ORCHESTRATOR_DB");
    let ended = run_within(
        command,
        Duration::from_secs(60),
        "a cycle whose pid file is a symlink to /dev/zero",
    );
    assert_eq!(
        (ended.status, ended.signal),
        (Some(0), None),
        "{}",
        ended.stdout
    );
    match std::fs::read_to_string(&rss_file) {
        Ok(text) => {
            let peak_kib: u64 = text.trim().parse().expect("time's %M");
            assert!(
                peak_kib < 200 * 1024,
                "the cycle peaked at {} MiB",
                peak_kib / 1024
            );
        }
        Err(_) => eprintln!(
            "skipped the peak memory bound of a_pid_file_symlinked_to_dev_zero_costs_no_memory: \
             needs /usr/bin/time (Debian's `time`; scripts/test.sh installs it)"
        ),
    }
    let summary = host.query_text("SELECT summary FROM checks WHERE name = 'app'");
    assert_contains(&summary, "a symlink");
}

#[test]
fn a_fifo_pid_file_never_blocks_the_kill_scope() {
    let host = Host::new();
    let pidfile = host.path("app.pid");
    // A pid no process can have: the check fails on a stale pid file.
    std::fs::write(&pidfile, "999999999\n").unwrap();
    let bystander = host.path("bystander");
    std::fs::copy("/bin/sleep", &bystander).unwrap();
    let mut victim = Command::new(&bystander)
        .arg("120")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    // The attacker swaps the pid file for a FIFO while the agent thinks; the agent asks to
    // kill a process that only the pid file could tie to the incident.
    let answer = host.path("answer.json");
    std::fs::write(
        &answer,
        format!(
            r#"{{"diagnosis": "kill it", "confidence": 0.9, "plan": [{{"action": "kill_process", "pid": {}}}]}}"#,
            victim.id()
        ),
    )
    .unwrap();
    let agent = host.path("agent.sh");
    write_script(
        &agent,
        &format!(
            "cat > /dev/null\nrm -f {p}\nmkfifo {p}\ncat {a}\n",
            p = pidfile.display(),
            a = answer.display()
        ),
    );
    host.write_config(&format!(
        r#"
[cycle]
settle = "50ms"

[policy]
actions = ["kill_process"]
approve = []
max_attempts = 1

[[checks]]
name = "app"
kind = "process"
pidfile = "{pidfile}"

[agents.racer]
command = ["{agent}"]
timeout = "10s"

[research]
agent = "racer"
"#,
        pidfile = pidfile.display(),
        agent = agent.display(),
    ));
    let ended = run_within(
        host.command(&["--json", "cycle"]),
        Duration::from_secs(60),
        "a cycle whose kill scope reads a FIFO pid file",
    );
    let alive = victim.try_wait().unwrap().is_none();
    let _ = victim.kill();
    let _ = victim.wait();
    assert_eq!(ended.status, Some(0), "{}", ended.stdout);
    assert!(alive, "the bystander was killed");
    let reason = host.query_text("SELECT reason FROM attempts");
    assert_contains(&reason, "is outside the incident's scope");
}

/// `nobody` appends `line` to the log of the check `app`, which the runbook reads under the
/// default policy. `victim_dir` holds root's file; the host is open to `nobody` (0755).
fn nobody_writes_a_log_line(host: &Host, line: &str) {
    chmod(host.dir.path(), 0o755);
    let svc = host.path("svc");
    std::fs::create_dir(&svc).unwrap();
    let log = svc.join("app.log");
    std::fs::write(&log, "").unwrap();
    for path in [&svc, &log] {
        std::os::unix::fs::chown(path, Some(NOBODY), Some(NOGROUP)).unwrap();
    }
    // The default policy: no [policy] section at all.
    configure(
        host,
        &format!("logs = [\"{}\"]", log.display()),
        RUNBOOK,
        "",
    );
    let status = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .args(["sh", "-c", "echo \"$1\" >> \"$2\"", "sh", line])
        .arg(&log)
        .status()
        .expect("setpriv");
    assert!(status.success(), "nobody could not write the log");
}

fn root_owned_victim(host: &Host, dir_mode: u32, name: &str, contents: &str) -> std::path::PathBuf {
    let dir = host.path(&format!("victim-{dir_mode:o}"));
    std::fs::create_dir_all(&dir).unwrap();
    chmod(&dir, dir_mode);
    let victim = dir.join(name);
    std::fs::write(&victim, contents).unwrap();
    chmod(&victim, 0o644);
    victim
}

#[test]
fn a_lock_file_named_only_by_a_log_line_is_never_deleted() {
    crate::require_system!(
        "a_lock_file_named_only_by_a_log_line_is_never_deleted",
        Need::Root
    );
    let host = Host::new();
    let victim = root_owned_victim(&host, 0o755, "queue.lock", "root's queue\n");
    nobody_writes_a_log_line(
        &host,
        &format!(
            "lock file {} exists, stale? refusing to start",
            victim.display()
        ),
    );
    let cycle = host.run(&["--json", "cycle"]).ok().json();

    assert!(
        victim.exists(),
        "the root-owned lock file was deleted: {cycle}"
    );
    assert_eq!(
        cycle["research"]["incidents"][0]["verdict"], "held",
        "{cycle}"
    );
    let reason = cycle["research"]["incidents"][0]["detail"].to_string();
    assert_contains(&reason, &victim.display().to_string());
    assert_contains(&reason, "not tied to the service");
}

#[test]
fn a_dead_pid_file_named_only_by_a_log_line_is_never_deleted() {
    crate::require_system!(
        "a_dead_pid_file_named_only_by_a_log_line_is_never_deleted",
        Need::Root
    );
    let host = Host::new();
    let victim = root_owned_victim(&host, 0o755, "app.pid", "999999999\n");
    nobody_writes_a_log_line(
        &host,
        &format!(
            "pid file {} exists, refusing to start (stale pid file?)",
            victim.display()
        ),
    );
    let cycle = host.run(&["--json", "cycle"]).ok().json();

    assert!(
        victim.exists(),
        "the root-owned pid file was deleted: {cycle}"
    );
    assert_eq!(
        cycle["research"]["incidents"][0]["verdict"], "held",
        "{cycle}"
    );
    assert_contains(
        &cycle["research"]["incidents"][0]["detail"].to_string(),
        "not tied to the service",
    );
}

#[test]
fn facts_never_reveal_files_the_log_writer_cannot_see() {
    crate::require_system!(
        "facts_never_reveal_files_the_log_writer_cannot_see",
        Need::Root
    );
    let host = Host::new();
    let lock = root_owned_victim(&host, 0o700, "queue.lock", "root's queue\n");
    let pid = root_owned_victim(&host, 0o700, "app.pid", "999999999\n");
    let absent = lock.with_file_name("absent.pid");
    nobody_writes_a_log_line(
        &host,
        &format!(
            "lock file {} exists, stale? refusing to start\npid file {} exists, refusing to start (stale pid file?)\npid file {} exists: Permission denied",
            lock.display(),
            pid.display(),
            absent.display()
        ),
    );
    host.run(&["--json", "cycle"]).ok();

    assert!(
        lock.exists() && pid.exists(),
        "a root-owned file was deleted"
    );
    let facts = host.run(&["--json", "incidents", "show", "1"]).ok().json()["facts"].clone();
    let hidden = lock.parent().unwrap().display().to_string();
    for field in ["pid_files", "paths", "filesystems"] {
        assert!(
            !facts[field].to_string().contains(&hidden),
            "facts.{field} tells about files nobody cannot see: {}",
            facts[field]
        );
    }
    // What a person reads carries no fact on them either, only the log's own words.
    let shown = everything_shown(&host);
    for said in [
        format!("pid file {}:", pid.display()),
        format!("{}: mode", pid.display()),
        format!("filesystem of {hidden}"),
        format!("path {}", absent.display()),
    ] {
        assert!(!shown.contains(&said), "shown: {said}");
    }
}
