//! The dashboard in a real headless browser, its API, and its defences: escaping, CSRF,
//! same-origin, tokens, non-loopback refusal; decisions recorded for `fix` to carry out.

use crate::common::*;

const HOSTILE: &str = "<script>alert(1)</script>\\\"><img src=x onerror=alert(2)>";

fn hostile_config(host: &Host) -> String {
    format!(
        "[[checks]]\nname = \"backup\"\nkind = \"file\"\npath = \"{}/{HOSTILE}\"\n",
        host.dir.path().display()
    )
}

fn status_of(result: Result<HttpReply, ureq::Error>) -> u16 {
    match result {
        Ok(reply) => reply.code(),
        Err(e) => panic!("{e}"),
    }
}

fn get_text(http: &ureq::Agent, url: &str) -> String {
    http.get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .text()
}

/// A page as the person logged in with `cookie` sees it (with its forms).
fn get_text_as(http: &ureq::Agent, url: &str, cookie: &str) -> String {
    http.get(url)
        .header("Cookie", cookie)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .text()
}

fn get_json(http: &ureq::Agent, url: &str) -> serde_json::Value {
    serde_json::from_str(&get_text(http, url)).unwrap()
}

#[test]
fn a_browser_renders_the_pages_and_hostile_text_stays_text() {
    require_system!(
        "a_browser_renders_the_pages_and_hostile_text_stays_text",
        CHROMIUM
    );
    let host = Host::new();
    host.write_config(&hostile_config(&host));
    host.run(&["cycle"]).ok();
    let dashboard = Dashboard::start(&host);
    let overview = chromium_dom(&dashboard.url("/"));
    assert_contains(&overview, "Needs a person now");
    assert_contains(&overview, "escalation rate (7d)");
    assert_contains(&overview, "href=\"/incidents/1\"");
    // Logged in, as the forms show only to a person who may decide.
    let page = chromium_dom(&dashboard.login_link(&host, "/incidents/1"));
    assert_contains(&page, "Incident #1: backup");
    assert_contains(&page, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert!(
        !page.contains("<script>alert"),
        "a script element was injected"
    );
    assert!(!page.contains("<img"), "an img element was injected");
    assert_contains(&page, "phase 3: no consult agents configured");
    assert_contains(&page, "Acknowledge");
    for path in ["/patterns", "/checks", "/incidents"] {
        assert_contains(&chromium_dom(&dashboard.url(path)), "orchestrator");
    }
}

/// The screenshot proves what the DOM cannot: the inline stylesheet survives the strict
/// Content-Security-Policy and the page is painted as designed, not as bare HTML.
#[test]
fn a_browser_paints_the_pages_with_their_style() {
    require_system!("a_browser_paints_the_pages_with_their_style", CHROMIUM);
    let host = Host::new();
    host.write_config(&hostile_config(&host));
    host.run(&["cycle"]).ok();
    let dashboard = Dashboard::start(&host);
    // Each page's colours: the critical incident's red edge and badge on the overview, the
    // escalated badge on the incident's page.
    for (path, badge) in [("/", "#dc2626"), ("/incidents/1", "#fee2e2")] {
        let png = host.path(&format!("screenshot{}.png", path.replace('/', "-")));
        // As a person logged in sees it, forms included.
        let shot = Screenshot::take(&dashboard.login_link(&host, path), 1200, 800, &png);
        assert_eq!((shot.width, shot.height), (1200, 800));
        let all = (shot.width * shot.height) as usize;
        // The page background fills most of the view.
        assert!(
            shot.pixels_of("#f8fafc") > all / 3,
            "{path}: the page background is not painted ({})",
            png.display()
        );
        // The accent colour: at least the 3-pixel rule under the header, across the width.
        assert!(
            shot.pixels_of("#0f766e") >= 3 * 1000,
            "{path}: the accent colour is missing ({})",
            png.display()
        );
        assert!(
            shot.pixels_of(badge) > 100,
            "{path}: the {badge} badge is not painted ({})",
            png.display()
        );
    }
}

#[test]
fn api_health_and_metrics_answer_json_and_prometheus() {
    let host = Host::new();
    host.write_config(&hostile_config(&host));
    host.run(&["cycle"]).ok();
    let dashboard = Dashboard::start(&host);
    let http = http_agent();
    let health: serde_json::Value = get_json(&http, &dashboard.url("/health"));
    assert_eq!(health["database"], true);
    assert_eq!(health["open_escalations"], 1);
    assert!(health["last_cycle_finished_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    let list: serde_json::Value = get_json(&http, &dashboard.url("/api/incidents"));
    assert_eq!(list["incidents"][0]["check"], "backup");
    let one: serde_json::Value = get_json(&http, &dashboard.url("/api/incidents/1"));
    assert_eq!(one["escalation"]["status"], "open");
    let metrics: serde_json::Value = get_json(&http, &dashboard.url("/api/metrics"));
    assert_eq!(metrics["escalated"], 1);
    let text = get_text(&http, &dashboard.url("/metrics"));
    assert_contains(&text, "orchestrator_incidents_escalated_total 1");
    assert_eq!(
        status_of(http.get(&dashboard.url("/api/incidents/99")).call()),
        404
    );
}

/// What a person types on the dashboard is masked by the config's own `[context] redact`
/// rules before it is stored, as on the command line, not by the built-in rules alone.
#[test]
fn a_note_given_on_the_dashboard_is_masked_by_the_configs_rules() {
    let host = Host::new();
    host.write_config(&format!(
        "[context]\nredact = [\"vault-[0-9]+\"]\n\n{}",
        hostile_config(&host)
    ));
    host.run(&["cycle"]).ok();
    let dashboard = Dashboard::start(&host);
    let http = http_agent();
    let cookie = dashboard.login(&host);
    let csrf = csrf_of(&get_text_as(&http, &dashboard.url("/incidents/1"), &cookie));
    let ack = dashboard.url("/incidents/1/ack");
    assert_eq!(
        status_of(
            http.post(&ack)
                .header("Cookie", &cookie)
                .send_pairs(&[("csrf", &csrf), ("note", "key is vault-4711")])
        ),
        303
    );
    assert_eq!(
        host.query_text("SELECT note FROM escalations WHERE incident = 1"),
        "key is [REDACTED]"
    );
}

#[test]
fn posts_without_the_right_csrf_token_or_from_another_site_are_refused() {
    let host = Host::new();
    host.write_config(&hostile_config(&host));
    host.run(&["cycle"]).ok();
    let dashboard = Dashboard::start(&host);
    let http = http_agent();
    let cookie = dashboard.login(&host);
    let page = get_text_as(&http, &dashboard.url("/incidents/1"), &cookie);
    let csrf = csrf_of(&page);
    let ack = dashboard.url("/incidents/1/ack");
    let post = || http.post(&ack).header("Cookie", &cookie);
    assert_eq!(status_of(post().send_pairs(&[])), 403);
    assert_eq!(status_of(post().send_pairs(&[("csrf", "wrong")])), 403);
    assert_eq!(
        status_of(
            post()
                .header("Origin", "http://evil.example")
                .send_pairs(&[("csrf", &csrf)])
        ),
        403
    );
    assert_eq!(
        host.query_text("SELECT status FROM escalations"),
        "open",
        "a refused POST changed something"
    );
    let big = "x".repeat(100_000);
    assert_eq!(
        status_of(post().send_pairs(&[("csrf", &csrf), ("note", &big)])),
        413
    );
    let origin = format!("http://127.0.0.1:{}", dashboard.port);
    assert_eq!(
        status_of(
            post()
                .header("Origin", &origin)
                .send_pairs(&[("csrf", &csrf)])
        ),
        303
    );
    assert_eq!(
        host.query_text("SELECT status || ' ' || acknowledged_by FROM escalations"),
        "acknowledged dashboard"
    );
}

#[test]
fn resolving_with_a_plan_on_the_dashboard_teaches_phase_1() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    // The typed plan is judged by [policy]: its `run` must match `commands` (and `run` needing
    // approval is fine: the person typing it is that approval).
    host.write_config(&format!(
        "[cycle]\nsettle = \"100ms\"\n[policy]\nreopen_within = \"0s\"\ncommands = [[\"{}\", \"**\"]]\n\
         [[checks]]\nname = \"web\"\nkind = \"http\"\nurl = \"{}\"\n",
        service_bin().display(),
        service.url()
    ));
    service.start();
    service.kill();
    host.run(&["cycle"]).ok();
    let dashboard = Dashboard::start(&host);
    let http = http_agent();
    let cookie = dashboard.login(&host);
    let csrf = csrf_of(&get_text_as(&http, &dashboard.url("/incidents/1"), &cookie));
    let _ = std::fs::remove_file(&service.pidfile);
    service.start();
    let plan = serde_json::json!([
        {"action": "remove_file", "path": service.pidfile.display().to_string()},
        {"action": "run", "argv": service.start_argv()},
    ])
    .to_string();
    let form = [
        ("csrf", csrf.as_str()),
        ("note", "stale pid file after a crash"),
        ("plan", plan.as_str()),
    ];
    assert_eq!(
        status_of(
            http.post(&dashboard.url("/incidents/1/resolve"))
                .header("Cookie", &cookie)
                .send_pairs(&form)
        ),
        303
    );
    assert_eq!(
        host.query_text("SELECT status || ' ' || resolved_by FROM incidents"),
        "resolved person:dashboard"
    );
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM patterns"), 1);
    service.kill();
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(cycle["fix"]["incidents"][0]["verdict"], "fixed", "{cycle}");
}

#[test]
fn a_plan_approved_on_the_dashboard_is_run_by_the_next_fix() {
    let host = Host::new();
    let service = Service::new(&host, "web");
    let start_json = serde_json::to_string(&service.start_argv()).unwrap();
    let plan = format!(
        r#"[{{"action": "remove_file", "path": "{}"}}, {{"action": "run", "argv": {start_json}}}]"#,
        service.pidfile.display()
    );
    let answer = host.path("answer.json");
    std::fs::write(
        &answer,
        format!(r#"{{"diagnosis": "stale pid", "plan": {plan}}}"#),
    )
    .unwrap();
    host.write_config(&format!(
        r#"
[cycle]
settle = "100ms"
[policy]
actions = ["remove_file"]
approve = ["run"]
paths = ["{dir}/**"]
commands = [["{svc}", "**"]]
[agents.claude]
command = ["cat", "{answer}"]
[research]
agent = "claude"
[[checks]]
name = "web"
kind = "http"
url = "{url}"
"#,
        dir = host.dir.path().display(),
        svc = service_bin().display(),
        answer = answer.display(),
        url = service.url()
    ));
    service.start();
    service.kill();
    host.run(&["cycle"]).ok();
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM escalations WHERE held_plan IS NOT NULL"),
        1
    );
    let dashboard = Dashboard::start(&host);
    let http = http_agent();
    let cookie = dashboard.login(&host);
    let page = get_text_as(&http, &dashboard.url("/incidents/1"), &cookie);
    assert_contains(&page, "waits for approval");
    let csrf = csrf_of(&page);
    assert_eq!(
        status_of(
            http.post(&dashboard.url("/incidents/1/approve"))
                .header("Cookie", &cookie)
                .send_pairs(&[("csrf", &csrf)])
        ),
        303
    );
    assert!(
        !service.healthy(),
        "the dashboard must never act on the host itself"
    );
    assert_eq!(
        host.query_text("SELECT decision FROM escalations"),
        "approved"
    );
    let fix = host.run(&["--json", "fix"]).ok().json();
    assert_eq!(fix["approved"][0]["verdict"], "fixed", "{fix}");
    assert!(service.healthy());
}

#[test]
fn a_token_guards_every_request_and_a_public_address_needs_one() {
    let host = Host::new();
    host.write_config(&hostile_config(&host));
    let refused = host.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(refused.status, 2);
    assert_contains(&refused.stderr, "without a token");

    std::fs::write(host.path("token"), "s3cret-token\n").unwrap();
    host.write_config(&format!(
        "{}[serve]\ntoken_file = \"{}\"\n",
        hostile_config(&host),
        host.path("token").display()
    ));
    host.run(&["cycle"]).ok();
    let dashboard = Dashboard::start(&host);
    let http = http_agent();
    assert_eq!(
        status_of(http.get(&dashboard.url("/api/incidents")).call()),
        401
    );
    assert_eq!(status_of(http.get(&dashboard.url("/health")).call()), 401);
    let home = http.get(&dashboard.url("/")).call().unwrap();
    assert_eq!(
        (home.code(), home.header_text("Location")),
        (303, Some("/login".to_string()))
    );
    assert_eq!(
        status_of(
            http.get(&dashboard.url("/api/incidents"))
                .header("Authorization", "Bearer s3cret-token")
                .call()
        ),
        200
    );
    assert_eq!(
        status_of(
            http.post(&dashboard.url("/login"))
                .send_pairs(&[("token", "guess")])
        ),
        403
    );
    let login = http
        .post(&dashboard.url("/login"))
        .send_pairs(&[("token", "s3cret-token")])
        .unwrap();
    let cookie = login
        .header_text("Set-Cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        status_of(
            http.get(&dashboard.url("/"))
                .header("Cookie", &cookie)
                .call()
        ),
        200
    );
}

/// `/silences`: a silence added and expired through the forms, with the CSRF token and the
/// same-origin rule of every other decision; the checks page greys the silenced check with
/// who, why and until when; a hostile note stays text. What was stored is read back through
/// `silence list --json` (read-only).
#[test]
fn a_silence_is_added_and_expired_from_the_dashboard() {
    let host = Host::new();
    host.write_config(&hostile_config(&host));
    host.run(&["scan"]).ok();
    let dashboard = Dashboard::start(&host);
    let http = http_agent();
    let cookie = dashboard.login(&host);
    let stored = || {
        host.run(&["--json", "silence", "list", "--all"])
            .ok()
            .json()["silences"]
            .as_array()
            .unwrap()
            .clone()
    };
    let page = get_text_as(&http, &dashboard.url("/silences"), &cookie);
    assert_contains(&page, "No silence in force");
    assert_contains(&page, "<option value=\"backup\">backup</option>");
    let csrf = csrf_of(&page);
    let add = dashboard.url("/silences");
    // (status, body) of the add form.
    let form = |csrf: &str, check: &str, duration: &str| -> (u16, String) {
        let sent = http.post(&add).header("Cookie", &cookie).send_pairs(&[
            ("csrf", csrf),
            ("check", check),
            ("for", duration),
            ("note", HOSTILE),
            ("by", "alice"),
        ]);
        match sent {
            Ok(reply) => (reply.code(), reply.text()),
            Err(err) => panic!("POST /silences: {err}"),
        }
    };
    assert_eq!(form("wrong", "backup", "2h").0, 403);
    let foreign = http
        .post(&add)
        .header("Cookie", &cookie)
        .header("Origin", "http://evil.example")
        .send_pairs(&[
            ("csrf", &csrf),
            ("check", "backup"),
            ("for", "2h"),
            ("note", "x"),
        ]);
    assert_eq!(status_of(foreign), 403);
    let (status, unknown) = form(&csrf, "web", "2h");
    assert_eq!(status, 400, "{unknown}");
    assert_contains(&unknown, "unknown check `web`; the config has: backup");
    let (status, soon) = form(&csrf, "backup", "soon");
    assert_eq!(status, 400, "{soon}");
    assert_contains(&soon, "for: ");
    assert!(stored().is_empty(), "a refused POST stored a silence");

    assert_eq!(form(&csrf, "backup", "2h").0, 303);
    let silence = &stored()[0];
    assert_eq!(silence["check"], "backup");
    assert_eq!(silence["created_by"], "dashboard:alice");
    assert_eq!(silence["state"], "active");
    let page = get_text_as(&http, &dashboard.url("/silences"), &cookie);
    assert_contains(&page, "Expire now");
    assert!(
        !page.contains("<script>alert(1)"),
        "the note was not escaped"
    );
    assert_contains(&page, "&lt;script&gt;alert(1)&lt;/script&gt;");
    let checks = get_text(&http, &dashboard.url("/checks"));
    assert_contains(
        &checks,
        "<small class=\"silenced\">silenced by dashboard:alice until ",
    );
    assert!(
        !checks.contains("<script>alert(1)"),
        "the note was not escaped"
    );
    // The overview marks the open incident of the silenced check, the note in its tooltip.
    let overview = get_text(&http, &dashboard.url("/"));
    assert_contains(
        &overview,
        "<span class=\"badge muted\" title=\"silenced by dashboard:alice",
    );
    assert!(
        !overview.contains("<script>alert(1)"),
        "the note was not escaped"
    );

    let expire = dashboard.url("/silences/1/expire");
    let post = |url: &str, csrf: &str| {
        status_of(
            http.post(url)
                .header("Cookie", &cookie)
                .send_pairs(&[("csrf", csrf)]),
        )
    };
    assert_eq!(post(&expire, "wrong"), 403);
    assert_eq!(stored()[0]["state"], "active");
    assert_eq!(post(&expire, &csrf), 303);
    assert_eq!(stored()[0]["state"], "expired");
    assert_eq!(post(&expire, &csrf), 409);
    let missing = dashboard.url("/silences/9/expire");
    assert_eq!(post(&missing, &csrf), 404);
    let page = get_text(&http, &dashboard.url("/silences"));
    assert_contains(&page, "No silence in force");
    assert_contains(&page, "Ended in the last 7 days");
    assert!(!get_text(&http, &dashboard.url("/checks")).contains("class=\"silenced\""));
    assert!(!get_text(&http, &dashboard.url("/")).contains(">silenced</span>"));
    // All checks, through the same form.
    assert_eq!(form(&csrf, "*", "1h").0, 303);
    assert!(stored()[0]["check"].is_null());
}
