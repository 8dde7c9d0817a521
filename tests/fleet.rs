//! The fleet against a real PostgreSQL (Debian's binaries run from a temporary directory):
//! several hosts, each its own directory, config and state database, on one machine. A fix
//! learned on one host reaches phase 1 of another only after the trust rule, is a hint to
//! agents below it, and is withdrawn everywhere once it failed on enough hosts; an outbox
//! resent after a lost answer is applied once; with the database down, healing goes on and
//! the outbox drains later; hosts racing for one signature stay within the blast radius.
//!
//! System tests: root (PostgreSQL runs as `postgres`) and the package postgresql. The fleet of
//! ten hosts in their own network and UTS namespaces is tests/fleet_storm.rs.

mod common;
use common::pg::{Postgres, POSTGRES, PSQL};
use common::*;
use std::path::{Path, PathBuf};

/// A host of the fleet: its directory, config and database, and the flag its check watches.
struct FleetHost {
    host: Host,
}

const FAULT: &str = "CRITICAL: the flag is gone";

/// `[fleet]` and the rest of a host's config. The check fails while `flag` is missing, always
/// with the same summary (so with the same signature on every host); `remedy`, when given, is
/// phase 1's; the agent answers with the file `answer` (absent: it abstains).
fn host_config(
    name: &str,
    pg: &str,
    flag: &Path,
    fleet_extra: &str,
    remedy: Option<&str>,
    settle: &str,
    answer: &Path,
) -> String {
    let check = format!(
        "test -e '{}' && echo 'OK: the flag is here' || {{ echo '{FAULT}'; exit 2; }}",
        flag.display()
    );
    let remedy = remedy
        .map(|r| format!("remedy = {r}\n"))
        .unwrap_or_default();
    format!(
        r#"[cycle]
settle = "{settle}"

[[checks]]
name = "flag"
kind = "command"
command = ["/bin/sh", "-c", {check:?}]
{remedy}
[agents.fixer]
command = [{answer_sh:?}, {answer:?}]
timeout = "20s"

[research]
agent = "fixer"

[policy]
actions = ["run"]
approve = []
commands = [["/usr/bin/touch", "**"]]
restart_limit = {{ count = 0, within = "1m" }}

[fleet]
database = "{pg}"
host = "{name}"
connect_timeout = "2s"
statement_timeout = "3s"
{fleet_extra}
"#,
        answer_sh = answer_script(),
        answer = answer.display().to_string(),
    )
}

impl FleetHost {
    fn new(name: &str, config: impl FnOnce(&Host) -> String) -> FleetHost {
        let host = Host::new();
        let text = config(&host);
        host.write_config(&text);
        let _ = name;
        FleetHost { host }
    }

    fn run(&self, args: &[&str]) -> Run {
        self.host.run(args)
    }

    fn cycle(&self) -> Run {
        self.run(&["cycle"]).ok()
    }

    fn sync(&self) -> serde_json::Value {
        let run = self.run(&["--json", "fleet", "sync"]);
        assert_eq!(
            run.status, 0,
            "fleet sync failed:\n{}{}",
            run.stdout, run.stderr
        );
        run.json()
    }

    /// How the newest incident ended: (status, resolved phase, resolved by).
    fn last_outcome(&self) -> (String, i64, String) {
        self.host
            .db()
            .query_row(
                "SELECT status, COALESCE(resolved_phase, 0), COALESCE(resolved_by, '') FROM incidents ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("an incident")
    }
}

/// The agent's answer: touch the flag (the same plan, so the same hash, on every host).
fn touch_answer(path: &Path, flag: &Path) -> PathBuf {
    let plan = serde_json::json!({
        "diagnosis": "the flag file is gone",
        "confidence": 0.9,
        "plan": [{"action": "run", "argv": ["/usr/bin/touch", flag.display().to_string()]}],
        "escalate": false,
    });
    std::fs::write(path, plan.to_string()).unwrap();
    path.to_path_buf()
}

fn shared_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("orch-fleet-shared-")
        .tempdir()
        .unwrap()
}

#[test]
fn a_fix_is_a_hint_below_the_trust_rule_then_run_by_phase_1_and_withdrawn_when_it_fails_on_k_hosts()
{
    require_system!(
        "a_fix_is_a_hint_below_the_trust_rule_then_run_by_phase_1_and_withdrawn_when_it_fails_on_k_hosts",
        Need::Root,
        POSTGRES,
        PSQL
    );
    let pg = Postgres::start(None);
    let shared = shared_dir();
    let flag = shared.path().join("flags/flag");
    std::fs::create_dir_all(flag.parent().unwrap()).unwrap();
    let answer = touch_answer(&shared.path().join("answer.json"), &flag);
    let abstain = shared.path().join("no-such-answer");
    let rules = "trust_after = { fixes = 2, hosts = 2 }\nwithdraw_after = { hosts = 2 }";
    let make = |name: &str, answer: &Path| {
        FleetHost::new(name, |_| {
            host_config(name, &pg.url(), &flag, rules, None, "100ms", answer)
        })
    };
    let alpha = make("alpha", &answer);
    let bravo = make("bravo", &answer);
    let charlie = make("charlie", &abstain);

    // alpha learns it in phase 2 and tells the fleet.
    alpha.cycle();
    assert_eq!(
        alpha.last_outcome(),
        ("resolved".into(), 2, "agent:fixer".into())
    );
    assert!(alpha.sync()["pushed"].as_i64().unwrap() > 0);

    // bravo: one fix on one host is below the rule: a hint to its agent, not a phase-1 plan.
    std::fs::remove_file(&flag).unwrap();
    bravo.sync();
    let record = shared.path().join("bravo-agent");
    let bravo_config = std::fs::read_to_string(bravo.host.config_path())
        .unwrap()
        .replace_once(
            &format!("{:?}]", answer.display().to_string()),
            &format!(
                "{:?}, {:?}]",
                answer.display().to_string(),
                record.display().to_string()
            ),
        );
    bravo.host.write_config(&bravo_config);
    bravo.cycle();
    assert_eq!(
        bravo.last_outcome(),
        ("resolved".into(), 2, "agent:fixer".into())
    );
    let context: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}.context", record.display())).unwrap(),
    )
    .unwrap();
    let hint = &context["fleet_hints"][0];
    assert_eq!(hint["standing"], "hint", "{context:#}");
    assert_eq!(hint["verified_on"], serde_json::json!(["alpha"]));
    assert_eq!(hint["fixes"], 1);
    assert_eq!(
        hint["plan"][0]["argv"][1],
        flag.display().to_string(),
        "{hint}"
    );
    assert_contains(
        &std::fs::read_to_string(format!("{}.stdin", record.display())).unwrap(),
        "fleet_hints",
    );
    bravo.sync();
    assert_eq!(
        pg.sql("fleet", "SELECT fixes || '/' || hosts || '/' || array_to_string(verified_on, ',') FROM patterns"),
        "2/2/alpha,bravo"
    );

    // charlie: two fixes on two hosts: phase 1 runs the fleet's plan; its agent would abstain.
    std::fs::remove_file(&flag).unwrap();
    charlie.sync();
    charlie.cycle();
    let (status, phase, by) = charlie.last_outcome();
    assert_eq!((status.as_str(), phase), ("resolved", 1), "{by}");
    assert!(by.starts_with("fleet:"), "{by}");
    let metrics = charlie.run(&["metrics", "--prometheus"]).ok().stdout;
    assert_contains(&metrics, "orchestrator_fleet_pattern_fixed_total 1");
    charlie.sync();
    assert_eq!(pg.count("SELECT hosts FROM patterns"), 3);

    // The plan now fails (its directory is gone) on charlie and on bravo, each replaying what
    // it learned: two failing hosts withdraw it everywhere, alpha's own pattern included.
    std::fs::remove_dir_all(flag.parent().unwrap()).unwrap();
    for host in [&charlie, &bravo] {
        host.cycle();
        host.sync();
    }
    assert_eq!(pg.count("SELECT failed_hosts FROM patterns"), 2);
    std::fs::create_dir_all(flag.parent().unwrap()).unwrap();
    alpha.sync();
    let alpha_config = std::fs::read_to_string(alpha.host.config_path())
        .unwrap()
        .replace_once(
            &format!("{:?}]", answer.display().to_string()),
            &format!("{:?}]", abstain.display().to_string()),
        );
    alpha.host.write_config(&alpha_config);
    alpha.cycle();
    let replayed = alpha.host.query_i64(
        "SELECT COUNT(*) FROM attempts WHERE incident = (SELECT MAX(id) FROM incidents) AND source LIKE 'pattern:%'",
    );
    assert_eq!(
        replayed, 0,
        "a withdrawn pattern is not replayed, not even where it was learned"
    );
    assert!(!flag.exists());
}

#[test]
fn an_outbox_resent_after_a_lost_answer_is_applied_once() {
    require_system!(
        "an_outbox_resent_after_a_lost_answer_is_applied_once",
        Need::Root,
        POSTGRES,
        PSQL
    );
    let pg = Postgres::start(None);
    let shared = shared_dir();
    let flag = shared.path().join("flag");
    let answer = touch_answer(&shared.path().join("answer.json"), &flag);
    let alpha = FleetHost::new("alpha", |_| {
        host_config("alpha", &pg.url(), &flag, "", None, "100ms", &answer)
    });
    for _ in 0..3 {
        alpha.cycle();
        std::fs::remove_file(&flag).unwrap();
    }
    let waiting = alpha.host.query_i64("SELECT COUNT(*) FROM fleet_outbox");
    assert!(waiting >= 9, "{waiting} events queued");
    // The sync's answer is lost after the central database committed: the host still has
    // every row, as a copy taken before the sync has.
    let before = alpha.host.path("before.db");
    alpha
        .host
        .db()
        .execute(&format!("VACUUM INTO '{}'", before.display()), [])
        .unwrap();
    let first = alpha.sync();
    assert_eq!(first["pushed"], waiting);
    let applied = pg.sql("fleet", "SELECT fixes || '/' || (SELECT COUNT(*) FROM events) || '/' || (SELECT COUNT(*) FROM incidents) FROM pattern_hosts");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", alpha.host.db_path().display()));
    }
    std::fs::copy(&before, alpha.host.db_path()).unwrap();
    let second = alpha.sync();
    assert_eq!(second["pushed"], 0, "{second}");
    assert_eq!(second["already_known"], waiting, "{second}");
    assert_eq!(
        pg.sql("fleet", "SELECT fixes || '/' || (SELECT COUNT(*) FROM events) || '/' || (SELECT COUNT(*) FROM incidents) FROM pattern_hosts"),
        applied,
        "nothing doubled"
    );
    assert_eq!(pg.count("SELECT fixes FROM pattern_hosts"), 3);
    assert_eq!(alpha.host.query_i64("SELECT COUNT(*) FROM fleet_outbox"), 0);
}

#[test]
fn with_the_fleet_database_down_healing_goes_on_and_the_outbox_drains_later() {
    require_system!(
        "with_the_fleet_database_down_healing_goes_on_and_the_outbox_drains_later",
        Need::Root,
        POSTGRES,
        PSQL
    );
    let pg = Postgres::start(None);
    let shared = shared_dir();
    let flag = shared.path().join("flag");
    let answer = touch_answer(&shared.path().join("answer.json"), &flag);
    let remedy = format!(
        "[{{ action = \"run\", argv = [\"/usr/bin/touch\", {:?}] }}]",
        flag.display().to_string()
    );
    let alpha = FleetHost::new("alpha", |_| {
        host_config(
            "alpha",
            &pg.url(),
            &flag,
            "",
            Some(&remedy),
            "100ms",
            &answer,
        )
    });
    alpha.cycle();
    alpha.sync();
    pg.ctl("stop");
    std::fs::remove_file(&flag).unwrap();
    let started = std::time::Instant::now();
    alpha.cycle();
    assert_eq!(
        alpha.last_outcome().0,
        "resolved",
        "it heals without the fleet"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let note = alpha.host.query_text(
        "SELECT detail FROM incident_events WHERE kind = 'fleet' ORDER BY id DESC LIMIT 1",
    );
    assert_contains(&note, "lease granted locally");
    let sync = alpha.run(&["fleet", "sync"]);
    assert_eq!(sync.status, 1, "{}{}", sync.stdout, sync.stderr);
    assert_contains(&sync.stderr, "wait in the outbox");
    let waiting = alpha.host.query_i64("SELECT COUNT(*) FROM fleet_outbox");
    assert!(waiting >= 3, "{waiting}");
    let last_seq = alpha.host.query_i64("SELECT MAX(seq) FROM fleet_outbox");
    assert_contains(
        &alpha.run(&["metrics", "--prometheus"]).ok().stdout,
        &format!("orchestrator_fleet_outbox_events {waiting}"),
    );
    pg.ctl("start");
    let report = alpha.sync();
    assert_eq!(report["pushed"], waiting);
    assert_eq!(report["backlog"], 0);
    assert_eq!(
        pg.count("SELECT COUNT(*) FROM events WHERE host = 'alpha'"),
        last_seq,
        "every event of the host, each once"
    );
    assert_eq!(
        pg.count("SELECT COUNT(DISTINCT seq) FROM events WHERE host = 'alpha'"),
        last_seq
    );
    assert_eq!(
        pg.count("SELECT MAX(seq) FROM events WHERE host = 'alpha'"),
        last_seq
    );
}

#[test]
fn the_blast_radius_holds_when_hosts_race_for_one_signature() {
    require_system!(
        "the_blast_radius_holds_when_hosts_race_for_one_signature",
        Need::Root,
        POSTGRES,
        PSQL
    );
    let pg = Postgres::start(None);
    let shared = shared_dir();
    let abstain = shared.path().join("no-such-answer");
    let radius = "blast_radius = { hosts = 2, per_hour = 4, lease = \"1m\" }";
    let hosts: Vec<FleetHost> = (0..6)
        .map(|n| {
            let name = format!("racer-{n}");
            FleetHost::new(&name.clone(), |host| {
                let flag = host.path("flag");
                let remedy = format!(
                    "[{{ action = \"run\", argv = [\"/usr/bin/touch\", {:?}] }}]",
                    flag.display().to_string()
                );
                host_config(
                    &name,
                    &pg.url(),
                    &flag,
                    radius,
                    Some(&remedy),
                    "4s",
                    &abstain,
                )
            })
        })
        .collect();
    for host in &hosts {
        let scan = host.run(&["scan"]).ok();
        assert_contains(&scan.stdout, "incident 1 opened");
    }
    // Rounds of all six at once: the first lets two act (two at a time), the second two more
    // (four an hour); the third finds nobody acting and still lets nobody: four an hour.
    let first = fix_all_at_once(&hosts);
    let second = fix_all_at_once(&hosts);
    let third = fix_all_at_once(&hosts);
    let overlap = pg.count(
        "SELECT COALESCE(MAX(n), 0) FROM (SELECT (SELECT COUNT(*) FROM leases m
            WHERE m.acquired_at <= l.acquired_at AND COALESCE(m.released_at, m.expires_at) > l.acquired_at) AS n
           FROM leases l) t",
    );
    assert!(overlap <= 2, "{overlap} hosts acted at once");
    assert_eq!(pg.count("SELECT COUNT(*) FROM leases"), 4, "four an hour");
    let waited =
        |outputs: &[String], words: &str| outputs.iter().filter(|o| o.contains(words)).count();
    // The first two act; the rest start within their settle time and find two acting (one
    // starting late under load may find them done, and act: the counts still hold).
    assert!(
        waited(&first, "hosts act on this signature now") >= 2,
        "{first:#?}"
    );
    assert!(waited(&second, "waits: blast radius") >= 2, "{second:#?}");
    assert_eq!(
        waited(&third, "hosts acted on this signature within the hour"),
        2,
        "{third:#?}"
    );
    let fixed = hosts
        .iter()
        .filter(|h| h.last_outcome().0 == "resolved")
        .count();
    assert_eq!(fixed, 4);
    let waiting = &hosts.iter().find(|h| h.last_outcome().0 == "open").unwrap();
    assert_contains(
        &waiting.host.query_text(
            "SELECT detail FROM incident_events WHERE kind = 'fleet' ORDER BY id DESC LIMIT 1",
        ),
        "waits: blast radius",
    );
    assert_eq!(
        waiting.host.query_i64("SELECT phase FROM incidents"),
        1,
        "it waits in phase 1"
    );
    assert_contains(
        &waiting.run(&["metrics", "--prometheus"]).ok().stdout,
        "orchestrator_fleet_lease_waits_total 3",
    );
}

/// `orchestrator fix` on every host at once; what each printed.
fn fix_all_at_once(hosts: &[FleetHost]) -> Vec<String> {
    let running: Vec<std::process::Child> = hosts
        .iter()
        .map(|h| {
            h.host
                .command(&["fix"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    running
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        })
        .collect()
}

#[test]
fn an_outbox_over_its_limit_is_summarised_and_every_fix_still_counts_in_the_fleet() {
    require_system!(
        "an_outbox_over_its_limit_is_summarised_and_every_fix_still_counts_in_the_fleet",
        Need::Root,
        POSTGRES,
        PSQL
    );
    let pg = Postgres::start(None);
    let shared = shared_dir();
    let flag = shared.path().join("flag");
    let answer = touch_answer(&shared.path().join("answer.json"), &flag);
    let alpha = FleetHost::new("alpha", |_| {
        host_config(
            "alpha",
            &pg.url(),
            &flag,
            "outbox_limit = 100",
            None,
            "100ms",
            &answer,
        )
    });
    alpha.run(&["scan"]).ok();
    // A long time away from the fleet: 250 verified fixes and 50 failures of one plan.
    let db = alpha.host.db();
    for n in 0..300 {
        let kind = if n % 6 == 5 {
            "fix_failed"
        } else {
            "fix_verified"
        };
        db.execute(
            "INSERT INTO fleet_outbox (kind, at, body) VALUES (?1, ?2, json_object('signature', 'flag: CRITICAL: the flag is gone', 'plan_hash', 'abcd', 'check', 'flag', 'plan', '[]'))",
            rusqlite::params![kind, n as f64],
        )
        .unwrap();
    }
    let report = alpha.sync();
    assert!(report["summarised"].as_i64().unwrap() > 200, "{report}");
    assert_eq!(report["backlog"], 0);
    assert_eq!(
        pg.sql(
            "fleet",
            "SELECT fixes || '/' || failures FROM pattern_hosts WHERE plan_hash = 'abcd'"
        ),
        "250/50",
        "summarised, not lost"
    );
    assert_eq!(
        pg.count("SELECT COUNT(*) FROM events WHERE kind = 'summary'"),
        1
    );
}

#[test]
fn the_fleet_page_shows_every_host_stale_ones_in_red_and_open_escalations_linked_to_their_host() {
    require_system!(
        "the_fleet_page_shows_every_host_stale_ones_in_red_and_open_escalations_linked_to_their_host",
        Need::Root,
        POSTGRES,
        PSQL
    );
    let pg = Postgres::start(None);
    let shared = shared_dir();
    let flag = shared.path().join("flag");
    let abstain = shared.path().join("no-such-answer");
    let make = |name: &str| {
        FleetHost::new(name, |_| {
            host_config(
                name,
                &pg.url(),
                &flag,
                &format!("dashboard_url = \"http://{name}.example.org:8888\""),
                None,
                "100ms",
                &abstain,
            )
        })
    };
    let (alpha, bravo) = (make("alpha"), make("bravo"));
    // Nobody can fix it on alpha: a person is needed there.
    alpha.cycle();
    assert_eq!(alpha.last_outcome().0, "escalated");
    alpha.sync();
    std::fs::write(&flag, "").unwrap();
    bravo.cycle();
    bravo.sync();
    pg.sql(
        "fleet",
        "UPDATE hosts SET last_heartbeat_at = now() - interval '2 hours' WHERE name = 'bravo'",
    );
    let dashboard = Dashboard::start(&bravo.host);
    let (status, page) = ureq_get(&dashboard.url("/fleet")).expect("GET /fleet");
    assert_eq!(status, 200, "{page}");
    assert_contains(&page, "href=\"http://alpha.example.org:8888/incidents/1\"");
    assert_contains(&page, "<span class=\"stale\">stale</span>");
    assert_contains(&page, "1 stale");
    assert_contains(&page, "bravo");
    assert_contains(&page, "href=\"/fleet\"");
    // Read-only: no form, no decision on another host's escalation.
    assert!(!page.contains("<form"), "{page}");
    drop(pg);
    let (status, said) = ureq_get(&dashboard.url("/fleet")).expect("GET /fleet");
    assert_eq!(status, 503);
    assert_contains(&said, "the fleet page cannot be shown");
}

#[test]
fn fleet_sync_without_a_fleet_does_nothing_and_says_so() {
    let host = Host::new();
    host.write_config(&file_check("backup", host.path("missing").display()));
    let run = host.run(&["fleet", "sync"]).ok();
    assert_contains(&run.stdout, "no [fleet] database is configured");
    host.run(&["scan"]).ok();
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM fleet_outbox"),
        0,
        "outside a fleet nothing is queued"
    );
    let status = host.run(&["--json", "fleet", "status"]).ok().json();
    assert_eq!(status["configured"], false);
}

/// A test CA and a server certificate for `localhost` and 127.0.0.1 it signed, made by
/// openssl: (CA certificate, server certificate, server key), PEM.
fn certificates(dir: &Path, name: &str) -> (PathBuf, Vec<u8>, Vec<u8>) {
    let path = |file: &str| dir.join(format!("{name}-{file}"));
    let openssl = |args: &[&str]| {
        let output = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let (ca_key, ca, key, csr, cert, ext) = (
        path("ca.key"),
        path("ca.pem"),
        path("server.key"),
        path("server.csr"),
        path("server.crt"),
        path("ext.cnf"),
    );
    let s = |p: &PathBuf| p.display().to_string();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &s(&ca_key),
        "-out",
        &s(&ca),
        "-days",
        "2",
        "-subj",
        "/CN=orchestrator test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &s(&key),
        "-out",
        &s(&csr),
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        &s(&csr),
        "-CA",
        &s(&ca),
        "-CAkey",
        &s(&ca_key),
        "-CAcreateserial",
        "-out",
        &s(&cert),
        "-days",
        "2",
        "-extfile",
        &s(&ext),
    ]);
    (
        ca,
        std::fs::read(&cert).unwrap(),
        std::fs::read(&key).unwrap(),
    )
}

#[test]
fn tls_is_used_when_the_url_asks_and_the_servers_certificate_is_verified() {
    require_system!(
        "tls_is_used_when_the_url_asks_and_the_servers_certificate_is_verified",
        Need::Root,
        POSTGRES,
        PSQL,
        Need::Program("/usr/bin/openssl", "openssl")
    );
    let shared = shared_dir();
    let (ca, cert, key) = certificates(shared.path(), "good");
    let (other_ca, _, _) = certificates(shared.path(), "other");
    // Only TLS connections over TCP are let in.
    let pg = Postgres::start_with(
        None,
        None,
        "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n",
        "local all all trust\nhostssl all all 0.0.0.0/0 trust\nhostnossl all all 0.0.0.0/0 reject\n",
        &[("server.crt", &cert), ("server.key", &key)],
    );
    let flag = shared.path().join("flag");
    std::fs::write(&flag, "").unwrap();
    let abstain = shared.path().join("no-such-answer");
    let base = format!("postgresql://postgres@localhost:{}/fleet", pg.port);
    let with = |url: &str| {
        let host = FleetHost::new("alpha", |_| {
            host_config("alpha", url, &flag, "", None, "100ms", &abstain)
        });
        host.run(&["--json", "fleet", "sync"])
    };
    let verified = with(&format!(
        "{base}?sslmode=verify-full&sslrootcert={}",
        ca.display()
    ));
    assert_eq!(verified.status, 0, "{}{}", verified.stdout, verified.stderr);
    assert_eq!(
        pg.count("SELECT COUNT(*) FROM hosts WHERE name = 'alpha'"),
        1
    );
    // `require` verifies too: a server whose certificate no trusted CA signed is refused.
    let forged = with(&format!(
        "{base}?sslmode=require&sslrootcert={}",
        other_ca.display()
    ));
    assert_eq!(forged.status, 1);
    assert_contains(&forged.stderr, "certificate");
    // Without sslmode it is plain text, which this server refuses.
    let plain = with(&base);
    assert_eq!(plain.status, 1);
    assert_contains(&plain.stderr, "no encryption");
}
