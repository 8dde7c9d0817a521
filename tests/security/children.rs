//! Children escape: a plugin or an agent that leaves a `setsid` grandchild behind, on a normal
//! exit or past its timeout. The victim is the host: the grandchild must be gone before it can
//! act (it touches a marker file after a delay), and no process of it may remain. A remedy's
//! daemon, on the other hand, must survive, or healing breaks.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long an escaped grandchild waits before it acts (touches its marker).
const ACTS_AFTER: &str = "2";
/// Long enough for a grandchild that survived to have acted.
const ACTED_BY: Duration = Duration::from_millis(2600);

/// A script that leaves a detached grandchild behind, then does `then`. The grandchild writes
/// its pid, waits ACTS_AFTER seconds, touches the marker and lingers.
struct Escaper {
    script: PathBuf,
    marker: PathBuf,
    pidfile: PathBuf,
}

impl Escaper {
    fn new(host: &Host, name: &str, then: &str) -> Escaper {
        Escaper::written(host, name, "", then)
    }

    /// The grandchild is started by a subshell that exits at once (a double fork): it is an
    /// orphan from its first instant, its parent never seen by anyone.
    fn double_forking(host: &Host, name: &str, then: &str) -> Escaper {
        Escaper::written(host, name, "(", then)
    }

    fn written(host: &Host, name: &str, subshell: &str, then: &str) -> Escaper {
        let escaper = Escaper {
            script: host.path(&format!("{name}.sh")),
            marker: host.path(&format!("{name}.escaped")),
            pidfile: host.path(&format!("{name}.grandchild")),
        };
        let close = if subshell.is_empty() { "" } else { ")" };
        let text = format!(
            "{subshell}setsid sh -c 'echo $$ > {pid}; sleep {ACTS_AFTER}; touch {marker}; sleep 60' \
             </dev/null >/dev/null 2>&1 &{close}\n\
             # The grandchild exists before this command ends: the test proves a kill, not a race.\n\
             while [ ! -s {pid} ]; do sleep 0.01; done\n\
             {then}\n",
            pid = escaper.pidfile.display(),
            marker = escaper.marker.display(),
        );
        std::fs::write(&escaper.script, text).unwrap();
        escaper
    }

    fn argv(&self) -> String {
        toml_array(&["sh".to_string(), self.script.display().to_string()])
    }

    /// Asserts the grandchild never acted and that nothing of this host's commands remains.
    #[track_caller]
    fn assert_contained(&self, host: &Host, run: &Run, started: Instant) {
        assert!(
            self.pidfile.exists(),
            "the grandchild never started: the attack did not happen"
        );
        if let Some(rest) = ACTED_BY.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
        let left = processes_mentioning(host.dir.path());
        for &pid in &left {
            signal(pid, libc::SIGKILL);
        }
        assert!(
            !self.marker.exists(),
            "the escaped grandchild {} acted after its command ended\nstdout:\n{}\nstderr:\n{}",
            std::fs::read_to_string(&self.pidfile).unwrap_or_default(),
            run.stdout,
            run.stderr
        );
        assert!(left.is_empty(), "processes of the command remain: {left:?}");
    }
}

/// Live processes whose command line or environment mentions `dir` (the test host's own).
fn processes_mentioning(dir: &Path) -> Vec<i32> {
    let needle = dir.display().to_string();
    let mentions = |pid: i32, file: &str| {
        std::fs::read(format!("/proc/{pid}/{file}"))
            .map(|bytes| String::from_utf8_lossy(&bytes).contains(&needle))
            .unwrap_or(false)
    };
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| !is_zombie(pid) && (mentions(pid, "cmdline") || mentions(pid, "environ")))
        .collect()
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| Some(s[s.rfind(')')? + 1..].trim_start().starts_with('Z')))
        .unwrap_or(true)
}

fn command_check(name: &str, argv: &str, timeout: &str) -> String {
    format!(
        "[[checks]]\nname = \"{name}\"\nkind = \"command\"\ncommand = {argv}\ntimeout = \"{timeout}\"\n"
    )
}

#[test]
fn a_plugins_setsid_grandchild_dies_when_the_plugin_exits() {
    let host = Host::new();
    let plugin = Escaper::new(&host, "plugin", "echo 'OK - all fine'; exit 0");
    host.write_config(&command_check("escaper", &plugin.argv(), "10s"));
    let started = Instant::now();
    let scan = host.run(&["--json", "scan"]).ok();
    assert_eq!(
        scan.json()["opened"].as_array().unwrap().len(),
        0,
        "{}",
        scan.stdout
    );
    assert_contains(&scan.stderr, "running after it exited; killed them");
    plugin.assert_contained(&host, &scan, started);
}

/// Idle processes that are none of orchestrator's business; killed when dropped.
struct Bystanders(Vec<std::process::Child>);

impl Bystanders {
    fn start(count: usize) -> Bystanders {
        let children = (0..count)
            .map(|_| {
                std::process::Command::new("sleep")
                    .arg("120")
                    .spawn()
                    .expect("start an idle process")
            })
            .collect();
        Bystanders(children)
    }

    fn pids(&self) -> std::collections::HashSet<i32> {
        self.0.iter().map(|child| child.id() as i32).collect()
    }
}

impl Drop for Bystanders {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The paths under /proc a trace (`strace -o`) shows opened.
fn proc_paths_opened(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter(|line| line.contains("open"))
        .filter_map(|line| line.split('"').nth(1))
        .filter(|path| *path == "/proc" || path.starts_with("/proc/"))
        .map(str::to_string)
        .collect()
}

/// The issue-20 proof: finding a command's descendants costs what the command started, not
/// what runs on the host. orchestrator runs under strace (following its threads, detaching from
/// every program they exec, so the plugin and its grandchild run untraced), with 300 idle
/// processes beside it; the grandchild is still found and ended, and no /proc entry of an idle
/// process, nor the listing of /proc itself, is ever opened.
#[test]
fn a_double_forked_setsid_grandchild_is_ended_without_reading_the_rest_of_the_host() {
    crate::require_system!(
        "children::a_double_forked_setsid_grandchild_is_ended_without_reading_the_rest_of_the_host",
        STRACE
    );
    let host = Host::new();
    let bystanders = Bystanders::start(300);
    let plugin = Escaper::double_forking(&host, "plugin", "echo 'OK - all fine'; exit 0");
    host.write_config(&command_check("escaper", &plugin.argv(), "10s"));
    let trace = host.path("trace");
    let command = host.command(&["--json", "scan"]);
    let mut traced = std::process::Command::new("/usr/bin/strace");
    traced
        .args(["-f", "-b", "execve", "-qq", "-e", "trace=open,openat", "-o"])
        .arg(&trace)
        .arg(command.get_program())
        .args(command.get_args())
        .envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .env_remove("ORCHESTRATOR_CONFIG")
        .env_remove("ORCHESTRATOR_DB");
    let started = Instant::now();
    let scan = Run::from(traced.output().expect("run strace")).ok();
    assert_contains(&scan.stderr, "running after it exited; killed them");
    plugin.assert_contained(&host, &scan, started);

    let opened = proc_paths_opened(&std::fs::read_to_string(&trace).unwrap());
    assert!(
        opened.iter().any(|path| path.ends_with("/children")),
        "the trace shows no walk of the process tree at all: {opened:?}"
    );
    assert!(
        !opened.iter().any(|path| path == "/proc"),
        "the sweep listed every process of the host"
    );
    let idle = bystanders.pids();
    let looked_at: Vec<&String> = opened
        .iter()
        .filter(|path| {
            let pid = path.split('/').nth(2).and_then(|p| p.parse::<i32>().ok());
            pid.is_some_and(|pid| idle.contains(&pid))
        })
        .collect();
    assert!(
        looked_at.is_empty(),
        "the sweep read idle processes that are not orchestrator's: {looked_at:?}"
    );
}

#[test]
fn a_plugins_setsid_grandchild_dies_with_the_plugin_at_its_timeout() {
    let host = Host::new();
    let plugin = Escaper::new(&host, "plugin", "echo 'OK - thinking'; exec sleep 60");
    host.write_config(&command_check("hangs", &plugin.argv(), "500ms"));
    let started = Instant::now();
    let scan = host.run(&["--json", "scan"]).ok();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the scan waited for the hung plugin"
    );
    assert_contains(&scan.stdout, "plugin timed out after 0.5s");
    plugin.assert_contained(&host, &scan, started);
}

/// A failing check with no remedy: phase 1 passes it on, so `cycle` asks the agent.
fn agent_config(agent: &Escaper, timeout: &str) -> String {
    format!(
        "[cycle]\nsettle = \"100ms\"\n\n[research]\nagent = \"escaper\"\n\n\
         [agents.escaper]\ncommand = {argv}\ntimeout = \"{timeout}\"\n\n{check}",
        argv = agent.argv(),
        check = command_check(
            "broken",
            &toml_array(&[
                "sh".into(),
                "-c".into(),
                "echo 'CRITICAL - down'; exit 2".into()
            ]),
            "5s"
        ),
    )
}

fn consultation(host: &Host) -> String {
    host.query_text("SELECT vote || ': ' || COALESCE(error, '') FROM agent_consultations")
}

#[test]
fn an_agents_setsid_grandchild_dies_when_the_agent_answers() {
    let host = Host::new();
    let answer = r#"{"diagnosis": "cannot tell", "escalate": true}"#;
    let agent = Escaper::new(&host, "agent", &format!("cat >/dev/null; echo '{answer}'"));
    host.write_config(&agent_config(&agent, "10s"));
    let started = Instant::now();
    let cycle = host.run(&["--json", "cycle"]).ok();
    assert_contains(&consultation(&host), "the agent asked to escalate");
    assert_contains(&cycle.stderr, "running after it exited; killed them");
    agent.assert_contained(&host, &cycle, started);
}

#[test]
fn an_agents_setsid_grandchild_dies_with_the_agent_at_its_timeout() {
    let host = Host::new();
    let agent = Escaper::new(&host, "agent", "exec sleep 60");
    host.write_config(&agent_config(&agent, "500ms"));
    let started = Instant::now();
    let cycle = host.run(&["--json", "cycle"]).ok();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the cycle waited for the hung agent"
    );
    assert_contains(&consultation(&host), "the agent timed out after");
    agent.assert_contained(&host, &cycle, started);
}

#[test]
fn a_remedys_daemon_survives_the_remedys_exit() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    host.write_config(&format!(
        "[cycle]\nsettle = \"100ms\"\n\n[[checks]]\nname = \"web\"\nkind = \"http\"\n\
         url = \"{url}\"\ntimeout = \"2s\"\nremedy = [ {{ action = \"run\", argv = {start} }} ]\n",
        url = service.url(),
        start = service.start_toml(),
    ));
    // Down and clean: the remedy `flaky-service --daemon` starts it detached and exits 0.
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(cycle["fix"]["incidents"][0]["verdict"], "fixed", "{cycle}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        service.healthy(),
        "the daemon the remedy started did not survive orchestrator's containment"
    );
}

#[test]
fn a_plugin_dies_with_orchestrator_when_orchestrator_is_killed() {
    let host = Host::new();
    let pidfile = host.path("plugin.pid");
    let script = host.path("plugin.sh");
    std::fs::write(
        &script,
        format!("echo $$ > {}; exec sleep 60\n", pidfile.display()),
    )
    .unwrap();
    let argv = toml_array(&["sh".to_string(), script.display().to_string()]);
    host.write_config(&command_check("slow", &argv, "60s"));
    let mut orchestrator = host.command(&["scan"]).spawn().unwrap();
    wait_until("the plugin runs", Duration::from_secs(10), || {
        std::fs::read_to_string(&pidfile).is_ok_and(|t| t.ends_with('\n'))
    });
    let plugin: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    orchestrator.kill().unwrap();
    orchestrator.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while !is_zombie(plugin) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let survived = !is_zombie(plugin);
    if survived {
        signal(plugin, libc::SIGKILL);
    }
    assert!(
        !survived,
        "the plugin outlived orchestrator's SIGKILL (no parent-death signal)"
    );
}
