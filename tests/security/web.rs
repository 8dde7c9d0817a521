//! The dashboard and learned plans as ways around `[policy]`: a DNS-rebinding page that posts a
//! plan to the token-less loopback dashboard, a plan typed on the dashboard that the policy
//! refuses, a pattern learned under a wider policy, an approval given before the policy was
//! narrowed. The victim of each is a file that the refused plan (`run /usr/bin/touch VICTIM`)
//! would create; the file is also what the check wants, so a plan that ran would "fix" it.

use crate::common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One HTTP exchange over a raw socket, so the test controls every header, Host included.
struct Answer {
    status: u16,
    body: String,
}

fn exchange(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    form: &[(&str, &str)],
) -> Answer {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the dashboard");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if method == "POST" {
        request.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).expect("send");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("read the reply");
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP reply: {reply:?}"));
    let body = reply
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Answer { status, body }
}

fn get(port: u16, path: &str, host: &str) -> Answer {
    exchange(port, "GET", path, &[("Host", host)], &[])
}

/// A POST as a browser sends it from a page served under `host`.
fn post_from(port: u16, path: &str, host: &str, form: &[(&str, &str)]) -> Answer {
    let origin = format!("http://{host}");
    exchange(
        port,
        "POST",
        path,
        &[("Host", host), ("Origin", &origin)],
        form,
    )
}

/// The plan the attacks try to get run as root.
fn touch_plan(victim: &Path) -> String {
    serde_json::json!([{"action": "run", "argv": ["/usr/bin/touch", victim.display().to_string()]}])
        .to_string()
}

/// A `file` check on the victim (missing: CRITICAL), with `extra` config before it.
fn watch_victim(host: &Host, extra: &str) -> PathBuf {
    let victim = host.path("victim");
    host.write_config(&format!(
        "{extra}\n{}",
        file_check("victim", victim.display())
    ));
    victim
}

/// A victim whose incident went through every phase to a person: the dashboard has something
/// to decide. No remedy, no agent, the default policy (`run` needs approval, `commands = []`).
fn escalated(host: &Host) -> PathBuf {
    let victim = watch_victim(host, "[cycle]\nsettle = \"50ms\"");
    host.run(&["cycle"]).ok();
    assert_eq!(
        host.query_text("SELECT status FROM incidents WHERE id = 1"),
        "escalated"
    );
    victim
}

#[track_caller]
fn assert_untouched(host: &Host, victim: &Path) {
    host.run(&["cycle"]).ok();
    host.run(&["cycle"]).ok();
    assert!(
        !victim.exists(),
        "the refused plan ran: {} exists",
        victim.display()
    );
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM patterns"),
        0,
        "a plan was learned"
    );
}

#[test]
fn rebinding_shaped_requests_are_refused_on_every_path() {
    let host = Host::new();
    let victim = escalated(&host);
    let dashboard = Dashboard::start(&host);
    let port = dashboard.port;
    let ours = format!("127.0.0.1:{port}");
    let csrf = csrf_of(&get(port, "/incidents/1", &ours).body);
    let evil = format!("evil.example:{port}");
    for path in [
        "/",
        "/incidents/1",
        "/patterns",
        "/login",
        "/api/incidents",
        "/api/incidents/1",
        "/health",
        "/metrics",
    ] {
        let answer = get(port, path, &evil);
        assert_eq!(
            answer.status, 421,
            "GET {path} under {evil}: {}",
            answer.body
        );
        assert_contains(
            &answer.body,
            &format!("Host `{evil}` is not this dashboard"),
        );
        assert!(
            !answer.body.contains(&csrf),
            "GET {path} leaked the CSRF token"
        );
    }
    // Even holding a CSRF token (read before the name was rebound), a rebinding page cannot
    // decide anything: its Origin matches its Host, but the Host is not ours.
    let plan = touch_plan(&victim);
    let resolve = [
        ("csrf", csrf.as_str()),
        ("note", "x"),
        ("plan", plan.as_str()),
    ];
    let answer = post_from(port, "/incidents/1/resolve", &evil, &resolve);
    assert_eq!(answer.status, 421, "{}", answer.body);
    let answer = post_from(port, "/incidents/1/ack", &evil, &[("csrf", &csrf)]);
    assert_eq!(answer.status, 421, "{}", answer.body);
    let missing_host = exchange(port, "GET", "/health", &[], &[]);
    assert_eq!(missing_host.status, 421, "{}", missing_host.body);
    assert_eq!(
        host.query_text("SELECT i.status || ' ' || e.status FROM incidents i JOIN escalations e ON e.incident = i.id"),
        "escalated open",
        "a refused request changed something"
    );
    assert_untouched(&host, &victim);
    // The dashboard's own names still work.
    for name in [ours.clone(), format!("localhost:{port}")] {
        assert_eq!(get(port, "/incidents/1", &name).status, 200, "{name}");
        assert_eq!(get(port, "/health", &name).status, 200, "{name}");
    }
    let ack = post_from(
        port,
        "/incidents/1/ack",
        &format!("localhost:{port}"),
        &[("csrf", &csrf)],
    );
    assert_eq!(ack.status, 303, "{}", ack.body);
    assert_eq!(
        host.query_text("SELECT status FROM escalations"),
        "acknowledged"
    );
}

#[test]
fn with_a_token_any_host_is_served_but_decisions_stay_same_origin() {
    let host = Host::new();
    let victim = escalated(&host);
    std::fs::write(host.path("token"), "s3cret-token\n").unwrap();
    watch_victim(
        &host,
        &format!(
            "[serve]\ntoken_file = \"{}\"\n",
            host.path("token").display()
        ),
    );
    let dashboard = Dashboard::start(&host);
    let port = dashboard.port;
    let proxied = "orchestrator.example.com";
    let bearer = ("Authorization", "Bearer s3cret-token");
    let without = get(port, "/api/incidents", proxied);
    assert_eq!(without.status, 401, "{}", without.body);
    let page = exchange(
        port,
        "GET",
        "/incidents/1",
        &[("Host", proxied), bearer],
        &[],
    );
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = csrf_of(&page.body);
    let cross_site = exchange(
        port,
        "POST",
        "/incidents/1/ack",
        &[("Host", proxied), ("Origin", "http://evil.example"), bearer],
        &[("csrf", &csrf)],
    );
    assert_eq!(cross_site.status, 403, "{}", cross_site.body);
    assert_contains(&cross_site.body, "cross-site request");
    assert_eq!(host.query_text("SELECT status FROM escalations"), "open");
    let same_site = exchange(
        port,
        "POST",
        "/incidents/1/ack",
        &[
            ("Host", proxied),
            ("Origin", &format!("https://{proxied}")),
            bearer,
        ],
        &[("csrf", &csrf)],
    );
    assert_eq!(same_site.status, 303, "{}", same_site.body);
    assert!(!victim.exists());
}

#[test]
fn a_plan_typed_on_the_dashboard_that_the_policy_refuses_is_not_learned() {
    let host = Host::new();
    let victim = escalated(&host);
    let dashboard = Dashboard::start(&host);
    let port = dashboard.port;
    let ours = format!("127.0.0.1:{port}");
    let csrf = csrf_of(&get(port, "/incidents/1", &ours).body);
    let plan = touch_plan(&victim);
    let form = [
        ("csrf", csrf.as_str()),
        ("note", "touched it"),
        ("plan", plan.as_str()),
    ];
    let answer = post_from(port, "/incidents/1/resolve", &ours, &form);
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_contains(&answer.body, "refused by [policy]");
    assert_contains(&answer.body, "matches no entry of [policy] commands");
    assert_contains(&answer.body, "--outside-policy");
    assert_eq!(
        host.query_text("SELECT status FROM incidents WHERE id = 1"),
        "escalated",
        "a refused plan closed the incident"
    );
    assert_untouched(&host, &victim);
}

/// A config that lets the agent's `touch` run unattended (`wide`), or the default policy.
fn agent_config(host: &Host, answer: &Path, policy: &str) -> PathBuf {
    watch_victim(
        host,
        &format!(
            "[cycle]\nsettle = \"50ms\"\n[policy]\nreopen_within = \"0s\"\n{policy}\n\
             [agents.claude]\ncommand = [\"cat\", \"{}\"]\n[research]\nagent = \"claude\"\n",
            answer.display()
        ),
    )
}

const RUN_TOUCH: &str =
    "actions = [\"run\"]\napprove = []\ncommands = [[\"/usr/bin/touch\", \"**\"]]";

fn agent_answers_touch(host: &Host) -> PathBuf {
    let answer = host.path("answer.json");
    let plan = touch_plan(&host.path("victim"));
    std::fs::write(
        &answer,
        format!(r#"{{"diagnosis": "missing", "plan": {plan}}}"#),
    )
    .unwrap();
    answer
}

#[test]
fn a_pattern_learned_under_a_wider_policy_is_skipped_once_run_is_removed() {
    let host = Host::new();
    let answer = agent_answers_touch(&host);
    let victim = agent_config(&host, &answer, RUN_TOUCH);
    host.run(&["cycle"]).ok();
    assert!(
        victim.exists(),
        "the allowed agent plan should have fixed it"
    );
    assert_eq!(
        host.query_text("SELECT resolved_by FROM incidents WHERE id = 1"),
        "agent:claude"
    );
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM patterns"), 1);

    // The admin takes `run` away; the same fault comes back.
    agent_config(&host, &answer, "");
    std::fs::remove_file(&victim).unwrap();
    host.run(&["scan"]).ok();
    let fix = host.run(&["--json", "fix"]).ok().json();
    let line = &fix["incidents"][0];
    assert_eq!(line["attempts"][0]["source"], "pattern:1", "{fix}");
    assert_eq!(line["attempts"][0]["result"], "refused", "{fix}");
    let reason = line["attempts"][0]["detail"].as_str().unwrap();
    assert_contains(
        reason,
        "pattern:1 not replayed: the current [policy] refuses it",
    );
    assert_contains(reason, "matches no entry of [policy] commands");
    assert_contains(
        line["detail"].as_str().unwrap(),
        "1 learned pattern(s) skipped",
    );
    assert!(
        !victim.exists(),
        "the pattern ran after the policy removed `run`"
    );

    // Kept, not deleted, and not charged a failure; the refusal is on the incident's record.
    assert_eq!(
        host.query_text("SELECT successes || '/' || failures FROM patterns WHERE id = 1"),
        "1/0"
    );
    let show = host.run(&["incidents", "show", "2"]).ok().stdout;
    assert_contains(&show, "pattern:1 → rejected");
    assert_contains(&show, "not replayed: the current [policy] refuses it");
    // Recorded once: a second `fix` does not stack refusals.
    host.run(&["fix"]).ok();
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM attempts WHERE incident = 2 AND outcome = 'rejected'"),
        1
    );
    host.run(&["cycle"]).ok();
    assert!(!victim.exists());
}

#[test]
fn an_approval_given_before_the_policy_was_narrowed_does_not_run() {
    let host = Host::new();
    let answer = agent_answers_touch(&host);
    let needs_approval =
        "actions = []\napprove = [\"run\"]\ncommands = [[\"/usr/bin/touch\", \"**\"]]";
    let victim = agent_config(&host, &answer, needs_approval);
    host.run(&["cycle"]).ok();
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM escalations WHERE held_plan IS NOT NULL"),
        1
    );
    let dashboard = Dashboard::start(&host);
    let ours = format!("127.0.0.1:{}", dashboard.port);
    let csrf = csrf_of(&get(dashboard.port, "/incidents/1", &ours).body);
    let approve = post_from(
        dashboard.port,
        "/incidents/1/approve",
        &ours,
        &[("csrf", &csrf)],
    );
    assert_eq!(approve.status, 303, "{}", approve.body);

    // Before the next `fix`, the admin removes the command from the policy.
    agent_config(
        &host,
        &answer,
        "actions = []\napprove = [\"run\"]\ncommands = []",
    );
    let fix = host.run(&["--json", "fix"]).ok().json();
    let line = &fix["approved"][0];
    assert_eq!(line["attempts"][0]["result"], "refused", "{fix}");
    assert_contains(
        line["detail"].as_str().unwrap(),
        "matches no entry of [policy] commands",
    );
    assert!(
        !victim.exists(),
        "an approval outlived the policy that allowed it"
    );
    assert_eq!(
        host.query_i64(
            "SELECT COUNT(*) FROM escalations WHERE decision IS NULL AND executed_at IS NULL"
        ),
        1,
        "the plan should wait for a person again"
    );
    let show = host.run(&["incidents", "show", "1"]).ok().stdout;
    assert_contains(&show, "withdrawn");
    assert_contains(&show, "awaiting approval");
    // Approving it again is judged again, on the dashboard (restarted, as a config change
    // needs) and on the command line.
    drop(dashboard);
    let dashboard = Dashboard::start(&host);
    let ours = format!("127.0.0.1:{}", dashboard.port);
    let csrf = csrf_of(&get(dashboard.port, "/incidents/1", &ours).body);
    let again = post_from(
        dashboard.port,
        "/incidents/1/approve",
        &ours,
        &[("csrf", &csrf)],
    );
    assert_eq!(again.status, 403, "{}", again.body);
    assert_contains(&again.body, "no longer passes the policy");
    let cli = host.run(&["incidents", "approve", "1"]);
    assert_eq!(cli.status, 1, "{}", cli.stderr);
    assert_contains(&cli.stderr, "no longer passes the policy");
    assert!(!victim.exists());
}

#[test]
fn root_can_teach_a_plan_outside_the_policy_only_from_the_cli_and_it_is_recorded() {
    crate::require_system!("root_can_teach_a_plan_outside_the_policy", Need::Root);
    let host = Host::new();
    let victim = escalated(&host);
    let plan = touch_plan(&victim);
    let args = [
        "incidents",
        "resolve",
        "1",
        "--note",
        "touched it",
        "--plan",
        plan.as_str(),
    ];

    let refused = host.run(&args);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert_contains(&refused.stderr, "refused by [policy]");
    assert_contains(&refused.stderr, "--outside-policy");
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM patterns"), 0);

    let outside = [&args[..], &["--outside-policy"]].concat();
    let as_nobody = {
        use std::os::unix::process::CommandExt;
        let output = host
            .command(&outside)
            .uid(65534)
            .gid(65534)
            .output()
            .expect("run as nobody");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert_eq!(as_nobody.0, Some(2), "{}", as_nobody.1);
    assert_contains(&as_nobody.1, "--outside-policy is for root only");
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM patterns"), 0);

    let taught = host.run(&[&["--json"][..], &outside].concat()).ok();
    assert_contains(&taught.stderr, "teaches a plan OUTSIDE [policy]");
    assert_contains(&taught.stderr, "matches no entry of [policy] commands");
    assert_eq!(taught.json()["taught"], "outside_policy");
    assert_eq!(
        host.query_text("SELECT taught FROM patterns WHERE id = 1"),
        "outside_policy"
    );
    assert_contains(
        &host.query_text("SELECT detail FROM incident_events WHERE kind = 'outside_policy'"),
        "taught its plan outside [policy]",
    );
    // What root asked for: the fault recurs and phase 1 replays the plan, unjudged.
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(cycle["fix"]["incidents"][0]["verdict"], "fixed", "{cycle}");
    assert!(victim.exists());
}
