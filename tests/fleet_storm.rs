//! A fleet on one machine: ten hosts, each in its own network namespace (`ip netns`) and UTS
//! namespace (`unshare --uts`, its own host name), with its own state, its own flaky-service on
//! 127.0.0.1:8080 and its own dashboard; one PostgreSQL, one Prometheus (scraping the ten
//! dashboards, with contrib/prometheus/'s rules) and one Alertmanager in a hub namespace the
//! hosts reach over a bridge.
//!
//! A fault storm breaks the same service the same novel way (it reports itself unhealthy until
//! a flag file is removed) on the hosts one after another. Between faults every host runs
//! `fleet sync`, as its timer would. The first host fixes it in phase 2 (a fake agent command
//! that thinks for a second, then answers), the later ones in phase 1 from the fleet's pattern.
//! One host's link is cut (`ip link set eth0 down`) before its fault: it heals on its own, its
//! outbox keeps what it did, and after the link returns it drains, each event once. Then all
//! ten break at once and race: at most `blast_radius.hosts` act at a time, the others wait
//! saying so, and Prometheus passes the "blast radius reached" alert to Alertmanager.
//!
//! Each host's paths are the same (its directory is bind-mounted on one path in a mount
//! namespace of its own), as on real hosts of one fleet, so that one plan fits all.
//!
//! `ORCHESTRATOR_STORM_ISOLATED=1` runs the same storm on ten hosts without `[fleet]`, for the
//! comparison `scripts/bench-fleet.sh` prints. The figures of a run are written to
//! target/fleet-storm[-isolated].json.
//!
//! System test: root, iproute2, util-linux, postgresql, prometheus, prometheus-alertmanager.

use crate::common::pg::{Postgres, POSTGRES, PSQL};
use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PROMETHEUS: Need = Need::Program("/usr/bin/prometheus", "prometheus");
const IP: Need = Need::Program("/usr/sbin/ip", "iproute2");
const UNSHARE: Need = Need::Program("/usr/bin/unshare", "util-linux");
const HOSTS: usize = 10;
/// The host whose link is cut during the storm (1-based).
const CUT: usize = 6;
const SUBNET: &str = "10.213.0";

/// The hub: a network namespace with a bridge the hosts hang on, and the fleet's services.
struct Hub {
    ns: String,
    tag: String,
}

impl Hub {
    fn new() -> Hub {
        let tag = format!("os{}", std::process::id() % 100_000);
        let hub = Hub {
            ns: format!("{tag}hub"),
            tag,
        };
        ip(&["netns", "add", &hub.ns]);
        ip(&["-n", &hub.ns, "link", "set", "lo", "up"]);
        ip(&["-n", &hub.ns, "link", "add", "br0", "type", "bridge"]);
        ip(&[
            "-n",
            &hub.ns,
            "addr",
            "add",
            &format!("{SUBNET}.1/24"),
            "dev",
            "br0",
        ]);
        ip(&["-n", &hub.ns, "link", "set", "br0", "up"]);
        hub
    }

    fn host_ns(&self, n: usize) -> String {
        format!("{}h{n}", self.tag)
    }

    /// A host's namespace, on the bridge as SUBNET.(10+n).
    fn add_host(&self, n: usize) -> String {
        let ns = self.host_ns(n);
        let veth = format!("{}v{n}", self.tag);
        ip(&["netns", "add", &ns]);
        ip(&[
            "link", "add", &veth, "netns", &self.ns, "type", "veth", "peer", "name", "eth0",
            "netns", &ns,
        ]);
        ip(&["-n", &self.ns, "link", "set", &veth, "master", "br0", "up"]);
        ip(&[
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{SUBNET}.{}/24", 10 + n),
            "dev",
            "eth0",
        ]);
        ip(&["-n", &ns, "link", "set", "eth0", "up"]);
        ip(&["-n", &ns, "link", "set", "lo", "up"]);
        ns
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.ns, program]);
        command
    }

    /// GET from inside the hub (Prometheus' and Alertmanager's APIs, a host's dashboard).
    fn get(&self, url: &str, token: Option<&str>) -> Option<String> {
        let script = "import sys, urllib.request\n\
            r = urllib.request.Request(sys.argv[1])\n\
            if len(sys.argv) > 2: r.add_header('Authorization', 'Bearer ' + sys.argv[2])\n\
            print(urllib.request.urlopen(r, timeout=5).read().decode())";
        let mut command = self.command("/usr/bin/python3");
        command.args(["-c", script, url]);
        if let Some(token) = token {
            command.arg(token);
        }
        let output = command.output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        for n in 1..=HOSTS {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.host_ns(n)])
                .status();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

#[track_caller]
fn ip(args: &[&str]) {
    let output = Command::new("ip").args(args).output().expect("ip");
    assert!(
        output.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// One host of the fleet.
struct StormHost {
    n: usize,
    name: String,
    ns: String,
    host: Host,
    /// Where every host sees its own directory.
    mount: PathBuf,
    dashboard: Option<Child>,
}

impl StormHost {
    fn address(&self) -> String {
        format!("{SUBNET}.{}", 10 + self.n)
    }

    /// `program args…` as this host: in its network namespace, with its own host name (UTS)
    /// and its directory mounted on the fleet's common path.
    fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.ns, "unshare", "--uts", "--mount"])
            .args(["--propagation", "private", "--", "/bin/sh", "-c"])
            .arg(r#"hostname "$0" && mount --bind "$1" "$2" && shift 2 && exec "$@""#)
            .arg(&self.name)
            .arg(self.host.dir.path())
            .arg(&self.mount)
            .arg(program)
            .args(args)
            .env("RUST_LOG", "info");
        command
    }

    fn orchestrator(&self, args: &[&str]) -> Command {
        let config = self.host.config_path().display().to_string();
        let db = self.host.db_path().display().to_string();
        let mut all = vec!["-c", config.as_str(), "--db", db.as_str()];
        all.extend_from_slice(args);
        let mut command = self.command(&orchestrator_bin(), &all);
        command
            .env_remove("ORCHESTRATOR_CONFIG")
            .env_remove("ORCHESTRATOR_DB");
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::from(self.orchestrator(args).output().expect("run orchestrator"))
    }

    fn start_service(&self) {
        let argv = service_argv(&self.mount);
        let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
        let output = self
            .command(Path::new(&argv[0]), &args)
            .output()
            .expect("start flaky-service");
        assert!(
            output.status.success(),
            "flaky-service on {}: {}",
            self.name,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The novel fault: the service reports itself unhealthy (HTTP 500) until the flag goes.
    fn break_it(&self) {
        std::fs::write(self.host.path("state/unhealthy"), "").unwrap();
    }

    fn start_dashboard(&mut self) {
        let listen = format!("{}:8888", self.address());
        let child = self
            .orchestrator(&["serve", "--listen", &listen])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        self.dashboard = Some(child);
    }

    fn sync(&self) -> Run {
        self.run(&["--json", "fleet", "sync"])
    }

    /// The storm's incident on this host: (status, phase, by, seconds to fix).
    fn outcome(&self, incident: i64) -> (String, i64, String, f64) {
        self.host
            .db()
            .query_row(
                "SELECT status, COALESCE(resolved_phase, 0), COALESCE(resolved_by, ''),
                        COALESCE(resolved_at - detected_at, -1) FROM incidents WHERE id = ?1",
                [incident],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap_or_else(|e| panic!("{}: incident {incident}: {e}", self.name))
    }
}

impl Drop for StormHost {
    fn drop(&mut self) {
        if let Some(child) = &mut self.dashboard {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Ok(text) = std::fs::read_to_string(self.host.path("svc.pid")) {
            if let Ok(pid) = text.trim().parse() {
                signal(pid, libc::SIGKILL);
            }
        }
    }
}

fn service_argv(mount: &Path) -> Vec<String> {
    let at = |p: &str| mount.join(p).display().to_string();
    vec![
        service_bin().display().to_string(),
        "--daemon".into(),
        "--port".into(),
        "8080".into(),
        "--pidfile".into(),
        at("svc.pid"),
        "--logdir".into(),
        at("log"),
        "--state".into(),
        at("state"),
    ]
}

fn host_config(host: &StormHost, pg_url: Option<&str>, agent: &Path, settle: &str) -> String {
    let remedy = toml_array(&service_argv(&host.mount));
    let fleet = match pg_url {
        Some(url) => format!(
            "[fleet]\ndatabase = \"{url}\"\ndashboard_url = \"http://{addr}:8888\"\n\
             trust_after = {{ fixes = 1, hosts = 1 }}\nblast_radius = {{ hosts = 3, per_hour = 100, lease = \"2m\" }}\n\
             connect_timeout = \"2s\"\nstatement_timeout = \"3s\"\n",
            addr = host.address()
        ),
        None => String::new(),
    };
    format!(
        r#"[cycle]
settle = "{settle}"

[[checks]]
name = "web"
kind = "http"
url = "http://127.0.0.1:8080/health"
timeout = "3s"
remedy = [{{ action = "run", argv = {remedy} }}]
# The service's state directory, where its maintenance flag lives: an agent's plan may remove
# what is there without a person (a file only the log names would wait for one).
paths = ["{state}"]

[agents.thinker]
command = [{agent:?}]
timeout = "30s"

[research]
agent = "thinker"

[serve]
token_file = "{token}"

{fleet}"#,
        agent = agent.display().to_string(),
        token = host.host.path("token").display(),
        state = host.mount.join("state").display(),
    )
}

/// The median of some seconds.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Runs `work` for every host at once and waits for all.
fn all_at_once<T: Send>(hosts: &[StormHost], work: impl Fn(&StormHost) -> T + Sync) -> Vec<T> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = hosts.iter().map(|h| scope.spawn(|| work(h))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a host's thread"))
            .collect()
    })
}

/// A child process killed when dropped, even when the test fails.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_prometheus(hub: &Hub, dir: &Path, hosts: &[StormHost]) -> (Killed, Killed) {
    let contrib = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/prometheus");
    std::fs::copy(
        contrib.join("orchestrator.rules.yml"),
        dir.join("orchestrator.rules.yml"),
    )
    .unwrap();
    std::fs::write(dir.join("token"), "fleet-token\n").unwrap();
    let targets: Vec<String> = hosts
        .iter()
        .map(|h| format!("'{}:8888'", h.address()))
        .collect();
    let prometheus_yml = std::fs::read_to_string(contrib.join("prometheus.yml"))
        .unwrap()
        .replace("scrape_interval: 1m", "scrape_interval: 1s")
        .replace("evaluation_interval: 1m", "evaluation_interval: 1s")
        .replace(
            "/etc/prometheus/orchestrator.token",
            &dir.join("token").display().to_string(),
        )
        .replace(
            "['web1.example.org:8888', 'web2.example.org:8888', 'db1.example.org:8888']",
            &format!("[{}]", targets.join(", ")),
        );
    std::fs::write(dir.join("prometheus.yml"), prometheus_yml).unwrap();
    std::fs::write(
        dir.join("alertmanager.yml"),
        "route:\n  receiver: nobody\n  group_by: [alertname, instance, check]\nreceivers:\n  - name: nobody\n",
    )
    .unwrap();
    let alertmanager = hub
        .command("/usr/bin/prometheus-alertmanager")
        .arg(format!(
            "--config.file={}",
            dir.join("alertmanager.yml").display()
        ))
        .arg(format!("--storage.path={}", dir.join("am").display()))
        .args([
            "--web.listen-address=127.0.0.1:9093",
            "--cluster.listen-address=",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("alertmanager");
    let prometheus = hub
        .command("/usr/bin/prometheus")
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .args(["--web.listen-address=127.0.0.1:9090"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus");
    (Killed(prometheus), Killed(alertmanager))
}

#[test]
fn a_fault_storm_across_ten_hosts_is_learned_once_and_fixed_everywhere() {
    require_system!(
        "a_fault_storm_across_ten_hosts_is_learned_once_and_fixed_everywhere",
        Need::Root,
        IP,
        UNSHARE,
        POSTGRES,
        PSQL,
        PROMETHEUS,
        ALERTMANAGER
    );
    let isolated = std::env::var_os("ORCHESTRATOR_STORM_ISOLATED").is_some_and(|v| v == "1");
    let began = Instant::now();
    let hub = Hub::new();
    let work = tempfile::Builder::new()
        .prefix("orch-storm-")
        .tempdir()
        .unwrap();
    let mount = work.path().join("here");
    std::fs::create_dir_all(&mount).unwrap();
    let pg = Postgres::start_in(Some(&hub.ns), Some(&format!("{SUBNET}.1")));
    // The agent: thinks a second (an LLM takes longer), then removes the flag.
    let answer = serde_json::json!({
        "diagnosis": "the service reports itself unhealthy: its state holds the flag `unhealthy`",
        "confidence": 0.8,
        "plan": [{"action": "remove_file", "path": mount.join("state/unhealthy").display().to_string()}],
        "escalate": false,
    });
    let agent = work.path().join("agent.sh");
    std::fs::write(work.path().join("answer.json"), answer.to_string()).unwrap();
    write_script(
        &agent,
        &format!(
            "cat > /dev/null\nsleep 1\ncat '{}'\n",
            work.path().join("answer.json").display()
        ),
    );
    let mut hosts: Vec<StormHost> = (1..=HOSTS)
        .map(|n| {
            let ns = hub.add_host(n);
            let host = Host::new();
            std::fs::create_dir_all(host.path("state")).unwrap();
            std::fs::create_dir_all(host.path("log")).unwrap();
            std::fs::write(host.path("token"), "fleet-token\n").unwrap();
            StormHost {
                n,
                name: format!("host{n:02}"),
                ns,
                host,
                mount: mount.clone(),
                dashboard: None,
            }
        })
        .collect();
    let url = pg.url();
    for host in &mut hosts {
        let config = host_config(host, (!isolated).then_some(url.as_str()), &agent, "500ms");
        host.host.write_config(&config);
        host.start_service();
    }
    // A first healthy cycle everywhere: every host says it is there.
    all_at_once(&hosts, |h| {
        h.run(&["cycle"]).ok();
        if !isolated {
            let sync = h.sync();
            assert_eq!(sync.status, 0, "{}: {}{}", h.name, sync.stdout, sync.stderr);
        }
    });
    // Dashboards once each database exists (serve and a first cycle creating one database at
    // once can meet SQLite's busy WAL switch).
    for host in &mut hosts {
        host.start_dashboard();
    }
    let _monitoring = start_prometheus(&hub, work.path(), &hosts);
    if !isolated {
        assert_eq!(pg.count("SELECT COUNT(*) FROM hosts"), HOSTS as i64);
        // Each host named itself by its UTS namespace's host name.
        let mut dashboard = None;
        wait_until(
            "host03's dashboard answers",
            Duration::from_secs(20),
            || {
                dashboard = hub.get(
                    &format!("http://{}:8888/", hosts[2].address()),
                    Some("fleet-token"),
                );
                dashboard.is_some()
            },
        );
        assert_contains(&dashboard.unwrap_or_default(), "host03");
    }

    // The storm, one host after another; between faults every host syncs, as its timer would.
    let mut incidents = Vec::new();
    let mut sync_millis = Vec::new();
    for (i, host) in hosts.iter().enumerate() {
        if !isolated && i > 0 {
            for run in all_at_once(&hosts, |h| h.sync()) {
                if let Ok(report) = serde_json::from_str::<serde_json::Value>(&run.stdout) {
                    if report["error"].is_null() {
                        sync_millis.push(report["millis"].as_f64().unwrap_or(0.0));
                    }
                }
            }
        }
        if host.n == CUT {
            ip(&["-n", &host.ns, "link", "set", "eth0", "down"]);
        }
        if host.n == CUT + 2 {
            ip(&["-n", &hosts[CUT - 1].ns, "link", "set", "eth0", "up"]);
        }
        host.break_it();
        let cycle = host.run(&["cycle"]).ok();
        let incident = host.host.query_i64("SELECT MAX(id) FROM incidents");
        let outcome = host.outcome(incident);
        assert_eq!(
            outcome.0, "resolved",
            "{}:\n{}{}",
            host.name, cycle.stdout, cycle.stderr
        );
        incidents.push(incident);
        // The unit's step after the cycle (it fails on the cut host; the outbox keeps all).
        if !isolated {
            let sync = host.sync();
            assert_eq!(
                sync.status != 0,
                host.n == CUT,
                "{}: {}{}",
                host.name,
                sync.stdout,
                sync.stderr
            );
        }
    }

    // Figures: how each host fixed it, how long it took.
    let outcomes: Vec<(String, i64, String, f64)> = hosts
        .iter()
        .zip(&incidents)
        .map(|(h, &i)| h.outcome(i))
        .collect();
    let fixed = outcomes
        .iter()
        .filter(|o| o.0 == "resolved" && !o.2.starts_with("person"))
        .count();
    let ratio = fixed as f64 / HOSTS as f64;
    let ttf = median(outcomes.iter().map(|o| o.3).collect());
    let by_phase: Vec<String> = hosts
        .iter()
        .zip(&outcomes)
        .map(|(h, o)| format!("{} phase {} by {} in {:.1}s", h.name, o.1, o.2, o.3))
        .collect();
    eprintln!(
        "storm ({}): auto-fix ratio {:.0}%, median time to fix {ttf:.2}s, median sync {:.0} ms\n  {}",
        if isolated { "ten isolated hosts" } else { "fleet" },
        ratio * 100.0,
        median(sync_millis.clone()),
        by_phase.join("\n  ")
    );
    assert_eq!(ratio, 1.0);

    if isolated {
        write_figures(
            "fleet-storm-isolated.json",
            &serde_json::json!({
                "auto_fix_ratio": ratio, "median_seconds_to_fix": ttf, "outcomes": by_phase,
            }),
        );
        for o in &outcomes {
            assert_eq!(o.1, 2, "without a fleet every host asks its agent");
        }
        return;
    }

    // The first host learned it in phase 2; the others used the fleet's pattern in phase 1.
    assert_eq!(
        (outcomes[0].1, outcomes[0].2.as_str()),
        (2, "agent:thinker")
    );
    for (host, outcome) in hosts.iter().zip(&outcomes).skip(1) {
        assert_eq!(outcome.1, 1, "{}: {outcome:?}", host.name);
        assert!(
            outcome.2.starts_with("fleet:") || outcome.2.starts_with("pattern:"),
            "{}: {outcome:?}",
            host.name
        );
    }
    // The cut host healed alone, with a lease granted locally, and told the fleet later.
    let cut = &hosts[CUT - 1];
    assert_contains(
        &cut.host.query_text(
            "SELECT group_concat(detail, ' | ') FROM incident_events WHERE kind = 'fleet'",
        ),
        "lease granted locally",
    );
    for run in all_at_once(&hosts, |h| h.sync()) {
        assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    }
    assert_eq!(cut.host.query_i64("SELECT COUNT(*) FROM fleet_outbox"), 0);
    let last_seq = cut
        .host
        .query_i64("SELECT seq FROM sqlite_sequence WHERE name = 'fleet_outbox'");
    let name = &cut.name;
    assert_eq!(
        pg.sql("fleet", &format!("SELECT COUNT(*) || '/' || COUNT(DISTINCT seq) || '/' || MAX(seq) FROM events WHERE host = '{name}'")),
        format!("{last_seq}/{last_seq}/{last_seq}"),
        "every event of the cut host arrived, each once"
    );
    assert_eq!(
        pg.count(&format!(
            "SELECT COUNT(*) FROM incidents WHERE host = '{name}' AND status = 'resolved'"
        )),
        1
    );
    assert_eq!(pg.count("SELECT SUM(fixes) FROM patterns"), HOSTS as i64);

    // All ten at once: the blast radius lets three act at a time.
    for host in &hosts {
        let config = std::fs::read_to_string(host.host.config_path())
            .unwrap()
            .replace("settle = \"500ms\"", "settle = \"5s\"");
        host.host.write_config(&config);
        host.break_it();
    }
    let leases_before = pg.count("SELECT COALESCE(MAX(id), 0) FROM leases");
    let mut waited = 0;
    for _round in 0..6 {
        let runs = all_at_once(&hosts, |h| h.run(&["cycle"]));
        waited += runs
            .iter()
            .filter(|r| r.stdout.contains("waits: blast radius"))
            .count();
        if hosts.iter().all(|h| {
            h.outcome(h.host.query_i64("SELECT MAX(id) FROM incidents"))
                .0
                == "resolved"
        }) {
            break;
        }
    }
    let overlap = pg.count(&format!(
        "SELECT COALESCE(MAX(n), 0) FROM (SELECT (SELECT COUNT(*) FROM leases m WHERE m.id > {leases_before}
            AND m.acquired_at <= l.acquired_at AND COALESCE(m.released_at, m.expires_at) > l.acquired_at) AS n
           FROM leases l WHERE l.id > {leases_before}) t"
    ));
    assert!(overlap <= 3, "{overlap} hosts acted at once");
    assert!(
        waited > 0,
        "ten hosts at once, three at a time: some must wait"
    );
    for host in &hosts {
        let last = host.host.query_i64("SELECT MAX(id) FROM incidents");
        assert_eq!(host.outcome(last).0, "resolved", "{}", host.name);
    }

    // One view: the fleet page of any host lists every host and the pattern's hosts.
    let page = hub
        .get(
            &format!("http://{}:8888/fleet", hosts[0].address()),
            Some("fleet-token"),
        )
        .expect("the fleet page");
    for host in &hosts {
        assert_contains(&page, &host.name);
    }
    assert_contains(
        &page,
        &format!("href=\"http://{}:8888\"", hosts[0].address()),
    );

    // Prometheus scrapes all ten and hands the blast-radius alert to Alertmanager.
    let query =
        "http://127.0.0.1:9090/api/v1/query?query=count(up%7Bjob%3D%22orchestrator%22%7D%3D%3D1)";
    wait_until(
        "Prometheus scrapes the ten dashboards",
        Duration::from_secs(30),
        || {
            hub.get(query, None)
                .is_some_and(|body| body.contains(&format!("\"{HOSTS}\"")))
        },
    );
    wait_until(
        "Alertmanager holds OrchestratorBlastRadiusReached",
        Duration::from_secs(40),
        || {
            hub.get("http://127.0.0.1:9093/api/v2/alerts", None)
                .is_some_and(|body| body.contains("OrchestratorBlastRadiusReached"))
        },
    );

    // What the central database holds per host, for the closing note.
    let sizes = pg.sql(
        "fleet",
        "SELECT string_agg(relname || '=' || n_live_tup || ' rows/' || pg_total_relation_size(relid) || ' B', ', ' ORDER BY relname)
           FROM pg_stat_user_tables",
    );
    let events = pg.count("SELECT COUNT(*) FROM events");
    let event_bytes = pg.count("SELECT COALESCE(SUM(pg_column_size(e.*)), 0) FROM events e");
    eprintln!(
        "central database after the storm: {sizes}\n  {events} events, {event_bytes} bytes of event rows ({} B each)\n  wall time {:.0}s",
        event_bytes / events.max(1),
        began.elapsed().as_secs_f64()
    );
    write_figures(
        "fleet-storm.json",
        &serde_json::json!({
            "auto_fix_ratio": ratio,
            "median_seconds_to_fix": ttf,
            "median_sync_millis": median(sync_millis),
            "outcomes": by_phase,
            "events": events,
            "event_row_bytes": event_bytes,
            "tables": sizes,
            "race_waits": waited,
            "race_max_overlap": overlap,
        }),
    );
}

fn write_figures(name: &str, figures: &serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(name);
    let _ = std::fs::write(
        path,
        serde_json::to_string_pretty(figures).unwrap_or_default(),
    );
}
