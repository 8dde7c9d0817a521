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

/// A GET as the browser of a person logged in with `cookie` sends it.
fn get_as(port: u16, path: &str, host: &str, cookie: &str) -> Answer {
    exchange(
        port,
        "GET",
        path,
        &[("Host", host), ("Cookie", cookie)],
        &[],
    )
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

/// The same from the browser of a person logged in with `cookie`.
fn post_as(port: u16, path: &str, host: &str, cookie: &str, form: &[(&str, &str)]) -> Answer {
    let origin = format!("http://{host}");
    exchange(
        port,
        "POST",
        path,
        &[("Host", host), ("Origin", &origin), ("Cookie", cookie)],
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
    let cookie = dashboard.login(&host);
    let csrf = csrf_of(&get_as(port, "/incidents/1", &ours, &cookie).body);
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
    let ack = post_as(
        port,
        "/incidents/1/ack",
        &format!("localhost:{port}"),
        &cookie,
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
    let cookie = dashboard.login(&host);
    let csrf = csrf_of(&get_as(port, "/incidents/1", &ours, &cookie).body);
    let plan = touch_plan(&victim);
    let form = [
        ("csrf", csrf.as_str()),
        ("note", "touched it"),
        ("plan", plan.as_str()),
    ];
    let answer = post_as(port, "/incidents/1/resolve", &ours, &cookie, &form);
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
    let cookie = dashboard.login(&host);
    let csrf = csrf_of(&get_as(dashboard.port, "/incidents/1", &ours, &cookie).body);
    let approve = post_as(
        dashboard.port,
        "/incidents/1/approve",
        &ours,
        &cookie,
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
    let cookie = dashboard.login(&host);
    let csrf = csrf_of(&get_as(dashboard.port, "/incidents/1", &ours, &cookie).body);
    let again = post_as(
        dashboard.port,
        "/incidents/1/approve",
        &ours,
        &cookie,
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

/// What a local user does to the loopback dashboard, run as `nobody` with real HTTP requests
/// (argv: the port, a plan to teach, the token file's path). It prints what each answer was.
const LOCAL_USER_ATTACK: &str = r#"
import http.client, json, re, sys, urllib.parse
port, plan, token_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def send(method, path, form=None, source='127.0.0.1'):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=10, source_address=(source, 0))
    headers = {'Host': '127.0.0.1:%d' % port, 'Origin': 'http://127.0.0.1:%d' % port}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers['Content-Type'] = 'application/x-www-form-urlencoded'
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    text = r.read().decode(errors='replace')
    c.close()
    return r.status, text
out = {}
out['read'], page = send('GET', '/incidents/1')
found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
out['csrf_shown'] = found is not None
csrf = found.group(1) if found else '0' * 64
out['ack'] = send('POST', '/incidents/1/ack', {'csrf': csrf, 'note': 'mine now'})[0]
out['silence'] = send('POST', '/silences', {'csrf': csrf, 'check': '*', 'for': '60d', 'note': 'quiet'})[0]
out['resolve'] = send('POST', '/incidents/1/resolve', {'csrf': csrf, 'note': 'fixed', 'plan': plan})[0]
out['approve'] = send('POST', '/incidents/1/approve', {'csrf': csrf})[0]
try:
    open(token_file).read()
    out['token_file'] = 'read'
except OSError as e:
    out['token_file'] = type(e).__name__
out['guesses'] = [send('POST', '/login', {'token': 'guess-%d' % i})[0] for i in range(12)]
out['other_sources'] = [send('POST', '/login', {'token': 'guess'}, '127.0.0.%d' % n)[0]
                        for n in range(2, 11) for _ in range(10)]
out['fresh_source'] = send('POST', '/login', {'token': 'guess'}, '127.0.0.77')[0]
out['forged_link'] = send('GET', '/login?code=9999999999.' + '0' * 32 + '.' + '0' * 64)[0]
print(json.dumps(out))
"#;

/// Issue 18, item 2: on a fresh install (no `[serve] token_file`) a local user can read the
/// loopback dashboard but decide nothing: every decision needs a login, the token lies in the
/// state directory where only root reads it, the login link needs it too, and guessing is
/// throttled per address and for all addresses together, without locking root out.
#[test]
fn a_local_user_can_read_the_dashboard_but_not_decide_nor_log_in() {
    crate::require_system!(
        "a_local_user_can_read_the_dashboard_but_not_decide_nor_log_in",
        Need::Root,
        PYTHON,
        SETPRIV
    );
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let host = Host::new();
    let victim = escalated(&host);
    // As installed: the config readable by everyone, the state files root's alone.
    std::fs::set_permissions(host.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(host.config_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let dashboard = Dashboard::start(&host);
    let port = dashboard.port;
    let token_file = host.path("state.db.dashboard-token");
    let attack = std::process::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .args(["/usr/bin/python3", "-c", LOCAL_USER_ATTACK])
        .arg(port.to_string())
        .arg(touch_plan(&victim))
        .arg(&token_file)
        .output()
        .expect("run the attack as nobody");
    let said = String::from_utf8_lossy(&attack.stdout);
    assert!(
        attack.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&attack.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&said).expect("the attack's report");
    assert_eq!(report["read"], 200, "reads stay open on loopback: {report}");
    assert_eq!(report["csrf_shown"], false, "{report}");
    for decision in ["ack", "silence", "resolve", "approve"] {
        assert_eq!(report[decision], 401, "{decision}: {report}");
    }
    assert_eq!(report["token_file"], "PermissionError", "{report}");
    assert_eq!(
        std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
        0o600,
        "serve generated its token, root's alone"
    );
    let guesses: Vec<i64> = serde_json::from_value(report["guesses"].clone()).unwrap();
    assert_eq!(&guesses[..10], &[403; 10], "{report}");
    assert_eq!(
        &guesses[10..],
        &[429, 429],
        "the 11th guess is not even checked"
    );
    let others: Vec<i64> = serde_json::from_value(report["other_sources"].clone()).unwrap();
    assert!(others.iter().all(|s| *s == 403), "{report}");
    assert_eq!(
        report["fresh_source"], 429,
        "100 failures in all hold every address: {report}"
    );
    assert_eq!(report["forged_link"], 403, "{report}");

    // Nothing was decided, and nobody cannot make a login link either.
    assert_eq!(
        host.query_text("SELECT status || ' ' || COALESCE(acknowledged_by, '-') FROM escalations"),
        "open -"
    );
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM silences"), 0);
    assert_untouched(&host, &victim);
    let link_as_nobody = host
        .command(&[
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--login-link",
        ])
        .uid(65534)
        .gid(65534)
        .output()
        .expect("serve --login-link as nobody");
    assert!(!link_as_nobody.status.success());
    assert_contains(
        &String::from_utf8_lossy(&link_as_nobody.stderr),
        "Permission denied",
    );

    // Throttled, the right token is not even compared; root's login link still works.
    let token = std::fs::read_to_string(&token_file).unwrap();
    let by_form = exchange(
        port,
        "POST",
        "/login",
        &[("Host", &format!("127.0.0.1:{port}"))],
        &[("token", token.trim())],
    );
    assert_eq!(by_form.status, 429, "{}", by_form.body);
    let cookie = dashboard.login(&host);
    let ours = format!("127.0.0.1:{port}");
    let csrf = csrf_of(&get_as(port, "/incidents/1", &ours, &cookie).body);
    let ack = post_as(port, "/incidents/1/ack", &ours, &cookie, &[("csrf", &csrf)]);
    assert_eq!(ack.status, 303, "{}", ack.body);
    assert_eq!(
        host.query_text("SELECT status FROM escalations"),
        "acknowledged"
    );
}

/// The session a login opens: a random id in an `HttpOnly; SameSite=Strict` cookie that
/// expires, never the token; a link works once; the raw token in the cookie is no session;
/// a bearer token that is wrong is a failed login like any other.
#[test]
fn a_login_opens_a_session_whose_cookie_is_not_the_token() {
    let host = Host::new();
    escalated(&host);
    let dashboard = Dashboard::start(&host);
    let port = dashboard.port;
    let ours = format!("127.0.0.1:{port}");
    let link = dashboard.login_link(&host, "/incidents/1");
    let first = exchange(
        port,
        "GET",
        link.trim_start_matches(&format!("http://{ours}")),
        &[("Host", &ours)],
        &[],
    );
    assert_eq!(first.status, 303, "{}", first.body);
    let again = exchange(
        port,
        "GET",
        link.trim_start_matches(&format!("http://{ours}")),
        &[("Host", &ours)],
        &[],
    );
    assert_eq!(again.status, 403, "a login link works once: {}", again.body);
    assert_contains(&again.body, "works once");

    let reply = http_agent()
        .get(&dashboard.login_link(&host, "/incidents/1"))
        .call()
        .unwrap();
    assert_eq!(
        reply.header_text("Location").as_deref(),
        Some("/incidents/1")
    );
    let set_cookie = reply.header_text("Set-Cookie").unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert_contains(&set_cookie, attribute);
    }
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let token = std::fs::read_to_string(host.path("state.db.dashboard-token")).unwrap();
    let token = token.trim();
    assert_eq!(token.len(), 64);
    assert!(!cookie.contains(token), "the cookie is the token: {cookie}");

    // The raw token where the session id belongs is no session.
    let raw = format!("orchestrator_session={token}");
    let page = get_as(port, "/incidents/1", &ours, &raw);
    assert!(
        !page.body.contains("name=\"csrf\""),
        "the raw token opened a session"
    );
    let csrf = csrf_of(&get_as(port, "/incidents/1", &ours, &cookie).body);
    let refused = post_as(port, "/incidents/1/ack", &ours, &raw, &[("csrf", &csrf)]);
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_contains(&refused.body, "log in first");
    assert_eq!(host.query_text("SELECT status FROM escalations"), "open");

    // The token as a bearer header decides (scripts); a wrong one is a failed login.
    let bearer = format!("Bearer {token}");
    let wrong = exchange(
        port,
        "POST",
        "/incidents/1/ack",
        &[("Host", &ours), ("Authorization", "Bearer guess")],
        &[("csrf", &csrf)],
    );
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    let by_bearer = exchange(
        port,
        "POST",
        "/incidents/1/ack",
        &[("Host", &ours), ("Authorization", &bearer)],
        &[("csrf", &csrf), ("note", "scripted")],
    );
    assert_eq!(by_bearer.status, 303, "{}", by_bearer.body);
    assert_eq!(
        host.query_text("SELECT status FROM escalations"),
        "acknowledged"
    );
}
