//! Learned patterns in a person's hands (issue 22.4): `patterns list|show|disable|enable|forget`
//! and the dashboard's patterns page. A disabled pattern is never replayed by phase 1, which
//! says so; a forgotten one is deleted and its history keeps what it was.

use crate::common::*;

/// `backup` fails while its file is missing and has no remedy: only what a person taught fixes
/// it, a `run` of touch, which [policy] lets a person vouch for.
fn config(host: &Host) -> String {
    format!(
        "[cycle]\nsettle = \"10ms\"\n[policy]\nreopen_within = \"0s\"\ncommands = [[\"/usr/bin/touch\", \"**\"]]\n{}",
        file_check("backup", host.path("backup.tar").display())
    )
}

/// A pattern learned from a person: incident 1 resolved with the touch plan.
fn taught(host: &Host) {
    host.write_config(&config(host));
    host.run(&["scan"]).ok();
    let plan = format!(
        r#"[{{"action": "run", "argv": ["/usr/bin/touch", "{}"]}}]"#,
        host.path("backup.tar").display()
    );
    host.run(&[
        "incidents",
        "resolve",
        "1",
        "--note",
        "touched it",
        "--plan",
        &plan,
    ])
    .ok();
}

#[test]
fn a_disabled_pattern_is_never_replayed_and_a_forgotten_one_keeps_its_history() {
    let host = Host::new();
    taught(&host);
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    assert_eq!(cycle["fix"]["incidents"][0]["verdict"], "fixed", "{cycle}");
    assert!(host.path("backup.tar").exists());
    let listed = host.run(&["patterns", "list"]).ok();
    assert_contains(&listed.stdout, "ID  STATE   CHECK   WORKED  FAILED");
    assert_contains(&listed.stdout, "1   active  backup  2       0");

    let disabled = host
        .run(&[
            "patterns",
            "disable",
            "1",
            "--note",
            "touch hides the real fault",
            "--by",
            "alice",
        ])
        .ok();
    assert_contains(&disabled.stdout, "pattern 1 (run(/usr/bin/touch");
    assert_contains(&disabled.stdout, "disabled: phase 1 no longer replays it");
    std::fs::remove_file(host.path("backup.tar")).unwrap();
    let cycle = host.run(&["--json", "cycle"]).ok().json();
    let fix = &cycle["fix"]["incidents"][0];
    assert_eq!(fix["verdict"], "passed_on", "{cycle}");
    assert_eq!(fix["attempts"][0]["source"], "pattern:1");
    assert_eq!(fix["attempts"][0]["result"], "refused");
    assert_contains(
        fix["attempts"][0]["detail"].as_str().unwrap(),
        "not replayed: disabled by alice at ",
    );
    assert_contains(
        fix["detail"].as_str().unwrap(),
        "1 learned pattern(s) not replayed: a person disabled them",
    );
    assert!(!host.path("backup.tar").exists(), "a disabled pattern ran");
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM attempts WHERE incident = 3"),
        0,
        "nothing ran for the new incident"
    );
    let shown = host.run(&["patterns", "show", "1"]).ok();
    assert_contains(&shown.stdout, "pattern 1  disabled  check backup");
    assert_contains(&shown.stdout, "touch hides the real fault");
    assert_contains(&shown.stdout, "disabled  by alice");
    assert_contains(&shown.stdout, "incident 2 phase 1 → fixed");
    let again = host.run(&["patterns", "disable", "1", "--note", "x"]);
    assert_eq!(again.status, 3, "{}", again.stderr);
    assert_contains(&again.stderr, "pattern 1 is already disabled by alice");

    host.run(&["patterns", "enable", "1", "--by", "bob"]).ok();
    let forgotten = host
        .run(&[
            "patterns",
            "forget",
            "1",
            "--note",
            "wrong fix",
            "--by",
            "carol",
        ])
        .ok();
    assert_contains(&forgotten.stdout, "pattern 1 forgotten");
    assert_eq!(
        host.run(&["patterns", "list"]).ok().stdout.trim(),
        "no learned patterns"
    );
    let history = host.run(&["--json", "patterns", "show", "1"]).ok().json();
    assert_eq!(history["forgotten"], true);
    let actions: Vec<&str> = history["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["forgotten", "enabled", "disabled"]);
    assert_eq!(history["changes"][0]["by"], "carol");
    assert_eq!(history["changes"][0]["successes"], 2);
    let text = host.run(&["patterns", "show", "1"]).ok();
    assert_contains(&text.stdout, "pattern 1 was forgotten by carol at ");
    assert_eq!(host.run(&["patterns", "show", "99"]).status, 3);
    assert_eq!(
        host.run(&["patterns", "forget", "1", "--note", "x"]).status,
        3
    );
}

#[test]
fn patterns_are_disabled_and_forgotten_from_the_dashboard_through_its_checked_forms() {
    let host = Host::new();
    taught(&host);
    let dashboard = Dashboard::start(&host);
    let http = http_agent();
    // Not logged in: a decision is refused before anything else is looked at.
    let anonymous = http
        .post(&dashboard.url("/patterns/1/disable"))
        .send_pairs(&[("note", "x")])
        .unwrap();
    assert_eq!(anonymous.code(), 401);
    let cookie = dashboard.login(&host);
    let get = |path: &str| {
        http.get(&dashboard.url(path))
            .header("Cookie", &cookie)
            .call()
            .unwrap()
            .text()
    };
    let page = get("/patterns");
    assert_contains(&page, "action=\"/patterns/1/disable\"");
    assert_contains(&page, "action=\"/patterns/1/forget\"");
    let csrf = csrf_of(&page);
    let post = |path: &str, pairs: &[(&str, &str)]| {
        http.post(&dashboard.url(path))
            .header("Cookie", &cookie)
            .send_pairs(pairs)
            .map(|reply| reply.code())
            .unwrap()
    };
    let state = || host.query_text("SELECT COALESCE(disabled_by, 'active') FROM patterns");
    assert_eq!(post("/patterns/1/disable", &[("note", "x")]), 403);
    assert_eq!(
        post("/patterns/1/disable", &[("csrf", "wrong"), ("note", "x")]),
        403
    );
    let foreign = http
        .post(&dashboard.url("/patterns/1/disable"))
        .header("Cookie", &cookie)
        .header("Origin", "http://evil.example")
        .send_pairs(&[("csrf", &csrf), ("note", "x")])
        .unwrap();
    assert_eq!(foreign.code(), 403);
    assert_eq!(post("/patterns/1/disable", &[("csrf", &csrf)]), 400);
    assert_eq!(state(), "active", "a refused form changed the pattern");
    assert_eq!(
        post(
            "/patterns/1/disable",
            &[("csrf", &csrf), ("note", "<b>flaky</b>")]
        ),
        303
    );
    assert_eq!(state(), "dashboard");
    assert_eq!(
        post("/patterns/1/disable", &[("csrf", &csrf), ("note", "y")]),
        409
    );
    let page = get("/patterns");
    assert_contains(&page, "<span class=\"badge muted\">disabled</span>");
    assert_contains(&page, "action=\"/patterns/1/enable\"");
    assert_contains(&page, "&lt;b&gt;flaky&lt;/b&gt;");
    assert!(!page.contains("<b>flaky</b>"), "the note was not escaped");
    assert_eq!(
        post("/patterns/1/forget", &[("csrf", &csrf), ("note", "gone")]),
        303
    );
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM patterns"), 0);
    assert_eq!(
        post("/patterns/1/forget", &[("csrf", &csrf), ("note", "gone")]),
        404
    );
    assert_eq!(
        post("/patterns/1/frobnicate", &[("csrf", &csrf), ("note", "x")]),
        404
    );
    let page = get("/patterns");
    assert_contains(&page, "Nothing learned yet.");
    // The change's row: its "What" cell (labelled for a phone's card).
    assert_contains(&page, "<td data-label=\"What\">forgotten</td>");
}
