//! The dashboard as the person paged at 3 am reads it: the host's name, when the last cycle
//! ran and whether the timer still runs, critical in red, acknowledgements, filters and pages,
//! the 30-day pictures and the check history, on a 1280 px screen and a 390 px phone.

use crate::common::*;

/// A file check for a file that is not there: `cycle` opens a critical incident and, with no
/// agent configured, escalates it (a real incident, today).
fn missing_file_config(host: &Host) -> String {
    file_check("backup", host.path("backup.tar").display())
}

/// Closed incidents on earlier days, as past cycles would have left them: `n` of each
/// outcome a day for the last `days` days (fixed in phase 1, 2 and 3, escalated, recovered).
fn past_incidents(host: &Host, days: i64, n: i64) {
    let db = host.db();
    let now = now_secs();
    let outcomes = [
        ("resolved", Some(1), Some("remedy"), 1),
        ("resolved", Some(2), Some("agent:runbook"), 2),
        ("resolved", Some(3), Some("consensus"), 3),
        ("resolved", Some(4), Some("person:alice"), 4),
        ("recovered", None, Some("check"), 1),
    ];
    for day in 1..=days {
        for (status, phase, by, max_phase) in outcomes {
            for _ in 0..n {
                let at = now - day as f64 * 86_400.0;
                db.execute(
                    "INSERT INTO incidents (check_name, signature, severity, status, phase, summary,
                         detected_at, last_seen_at, resolved_at, resolved_phase, resolved_by, max_phase)
                     VALUES ('old', 'old: gone', 'critical', ?1, ?2, 'it was gone', ?3, ?3, ?4, ?5, ?6, ?7)",
                    rusqlite::params![status, max_phase, at, at + 60.0, phase, by, max_phase],
                )
                .unwrap();
            }
        }
    }
}

fn get(url: &str) -> (u16, String) {
    ureq_get(url).unwrap_or_else(|| panic!("GET {url}: no answer"))
}

/// How many rows a table of incidents on the page has.
fn incident_rows(page: &str) -> usize {
    page.matches("<tr><td><a href=\"/incidents/").count()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn the_incident_list_filters_by_status_and_pages_by_fifty() {
    let host = Host::new();
    host.write_config(&missing_file_config(&host));
    host.run(&["cycle"]).ok();
    // 12 days × 5 outcomes: 48 resolved by phases and people, 12 recovered.
    past_incidents(&host, 12, 1);
    let dashboard = Dashboard::start(&host);

    let (status, first) = get(&dashboard.url("/incidents?status=resolved"));
    assert_eq!(status, 200);
    assert_eq!(incident_rows(&first), 48);
    assert!(
        !first.contains("badge bad\">escalated"),
        "an escalated incident in the resolved list"
    );

    let (_, all) = get(&dashboard.url("/incidents"));
    assert_eq!(incident_rows(&all), 50, "a page holds 50");
    assert_contains(&all, "page 1 of 2, 61 incidents");
    assert_contains(&all, "href=\"/incidents?status=all&amp;page=2\"");
    assert!(
        !all.contains("rel=\"prev\""),
        "the first page has no newer page"
    );
    let (_, second) = get(&dashboard.url("/incidents?status=all&page=2"));
    assert_eq!(incident_rows(&second), 11);
    assert_contains(&second, "href=\"/incidents?status=all&amp;page=1\"");
    assert!(
        !second.contains("rel=\"next\""),
        "the last page has no older page"
    );

    let (_, escalated) = get(&dashboard.url("/incidents?status=escalated"));
    assert_eq!(incident_rows(&escalated), 1);
    assert_contains(&escalated, "href=\"/incidents/1\"");

    for bad in ["status=broken", "page=0", "page=two"] {
        let (status, body) = get(&dashboard.url(&format!("/incidents?{bad}")));
        assert_eq!(status, 400, "{bad}");
        assert_contains(&body, "expected");
    }
}

#[test]
fn the_incidents_api_honours_status_limit_and_offset() {
    let host = Host::new();
    host.write_config(&missing_file_config(&host));
    host.run(&["cycle"]).ok();
    past_incidents(&host, 12, 1);
    let dashboard = Dashboard::start(&host);
    let json = |query: &str| -> serde_json::Value {
        let (status, body) = get(&dashboard.url(&format!("/api/incidents{query}")));
        assert_eq!(status, 200, "{query}: {body}");
        serde_json::from_str(&body).unwrap()
    };
    let escalated = json("?status=escalated");
    // The API's documents are versioned and timed as the CLI's `--json` ones are.
    assert_eq!(escalated["version"], 1, "{escalated}");
    assert!(
        escalated["incidents"][0]["detected_at"].is_string(),
        "{escalated}"
    );
    assert_eq!(escalated["total"], 1);
    assert_eq!(escalated["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(escalated["incidents"][0]["status"], "escalated");

    let recovered = json("?status=recovered");
    assert_eq!(recovered["total"], 12);
    assert!(recovered["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["status"] == "recovered"));

    let page = json("?status=resolved&limit=10&offset=45");
    assert_eq!(page["total"], 48);
    assert_eq!(page["incidents"].as_array().unwrap().len(), 3);
    assert_eq!(
        (page["limit"].as_i64(), page["offset"].as_i64()),
        (Some(10), Some(45))
    );

    assert_eq!(json("")["incidents"].as_array().unwrap().len(), 61);
    let (status, body) = get(&dashboard.url("/api/incidents?status=sleeping"));
    assert_eq!(status, 400);
    assert_contains(&body, "unknown status `sleeping`");
}

#[test]
fn every_page_names_the_host_and_the_last_cycle_and_says_when_it_is_stale() {
    let host = Host::new();
    host.write_config(&missing_file_config(&host));
    let dashboard = Dashboard::start(&host);
    let (_, never) = get(&dashboard.url("/"));
    assert_contains(&never, "no cycle has finished yet");
    assert_contains(&never, "class=\"stale\"");

    host.run(&["cycle"]).ok();
    let name = hostname();
    let (_, overview) = get(&dashboard.url("/"));
    assert_contains(&overview, &format!("<span class=\"host\">{name}</span>"));
    assert_contains(
        &overview,
        &format!("<title>Overview · {name} · orchestrator</title>"),
    );
    assert_contains(&overview, "last cycle <time datetime=\"");
    assert_contains(&overview, " UTC</time> <span class=\"ago\">(");
    assert!(
        !overview.contains("class=\"stale\""),
        "a fresh cycle shown as stale"
    );
    assert_contains(&overview, "<meta http-equiv=\"refresh\" content=\"30\">");
    let (_, incident) = get(&dashboard.url("/incidents/1"));
    assert!(
        !incident.contains("http-equiv=\"refresh\""),
        "a page with forms must not reload under a person typing"
    );
    assert_contains(&incident, "<span class=\"badge crit\">critical</span>");

    // The same database read by a dashboard that wants a cycle every second: stale.
    host.write_config(&format!(
        "{}[serve]\nstale_after = \"1s\"\n",
        missing_file_config(&host)
    ));
    drop(dashboard);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let dashboard = Dashboard::start(&host);
    let (_, stale) = get(&dashboard.url("/checks"));
    assert_contains(&stale, "stale: no cycle in 1s");
}

#[test]
fn who_acknowledged_an_escalation_and_their_note_are_shown() {
    let host = Host::new();
    host.write_config(&missing_file_config(&host));
    host.run(&["cycle"]).ok();
    let dashboard = Dashboard::start(&host);
    let (_, before) = get(&dashboard.url("/incidents/1"));
    assert_contains(&before, "<dt>Acknowledged</dt><dd>not yet</dd>");
    host.command(&["incidents", "ack", "1", "--note", "on it <b>now</b>"])
        .env("SUDO_USER", "alice")
        .output()
        .unwrap();
    for path in ["/", "/incidents/1"] {
        let (_, page) = get(&dashboard.url(path));
        assert_contains(&page, "by <b>cli:alice</b> <time");
        assert_contains(&page, ": on it &lt;b&gt;now&lt;/b&gt;");
    }
}

#[test]
fn a_note_given_with_an_acknowledgement_on_the_dashboard_is_shown() {
    let host = Host::new();
    host.write_config(&missing_file_config(&host));
    host.run(&["cycle"]).ok();
    let dashboard = Dashboard::start(&host);
    let cookie = dashboard.login(&host);
    let http = http_agent();
    let page = http
        .get(&dashboard.url("/incidents/1"))
        .header("Cookie", &cookie)
        .call()
        .unwrap()
        .text();
    assert_contains(&page, "name=\"note\" placeholder=\"note (optional)");
    let csrf = csrf_of(&page);
    let posted = http
        .post(&dashboard.url("/incidents/1/ack"))
        .header("Cookie", &cookie)
        .send_pairs(&[("csrf", &csrf), ("note", "restoring from tape")])
        .unwrap();
    assert_eq!(posted.code(), 303);
    let (_, after) = get(&dashboard.url("/incidents/1"));
    assert_contains(&after, "by <b>dashboard</b> <time");
    assert_contains(&after, ": restoring from tape</dd>");
}

#[test]
fn the_overview_draws_thirty_days_by_outcome_and_the_auto_fix_trend() {
    let host = Host::new();
    // The backup is there: the check passes and nothing happened in 30 days.
    std::fs::write(host.path("backup.tar"), "data").unwrap();
    host.write_config(&missing_file_config(&host));
    host.run(&["scan"]).ok();
    let dashboard = Dashboard::start(&host);
    let (_, empty) = get(&dashboard.url("/"));
    assert_contains(
        &empty,
        "<text x=\"380\" y=\"35\" text-anchor=\"middle\">no incidents in 30 days</text>",
    );
    assert_contains(&empty, "nothing fixed or escalated in 30 days");
    drop(dashboard);

    std::fs::remove_file(host.path("backup.tar")).unwrap();
    host.run(&["cycle"]).ok();
    past_incidents(&host, 12, 1);
    // Older than the 30 days drawn: not counted.
    past_incidents_at(&host, 31);
    let dashboard = Dashboard::start(&host);
    let (_, overview) = get(&dashboard.url("/"));
    assert_contains(
        &overview,
        "aria-label=\"Incidents per day over 30 days by outcome: 61 incidents, 12 fixed in phase 1, \
         12 fixed in phase 2, 12 fixed in phase 3, 13 escalated, 12 recovered by itself, 0 still open\"",
    );
    // Each past day: 3 fixed of 4 decided (a person's fix counts as escalated); today the
    // one escalation.
    assert_contains(
        &overview,
        "aria-label=\"Auto-fix ratio per day over 30 days: 13 days with decisions, the latest 0%\"",
    );
    assert_eq!(overview.matches("<circle").count(), 13);
    assert_eq!(overview.matches("class=\"bar\"").count(), 12 * 5 + 1);
}

/// One incident fixed in phase 1, `days` days ago.
fn past_incidents_at(host: &Host, days: i64) {
    let at = now_secs() - days as f64 * 86_400.0;
    host.db()
        .execute(
            "INSERT INTO incidents (check_name, signature, severity, status, phase, summary,
                 detected_at, last_seen_at, resolved_at, resolved_phase, resolved_by, max_phase)
             VALUES ('older', 'older: gone', 'critical', 'resolved', 1, 'it was gone', ?1, ?1, ?1, 1, 'remedy', 1)",
            [at],
        )
        .unwrap();
}

#[test]
fn the_checks_page_draws_each_checks_recent_results() {
    let host = Host::new();
    host.write_config(&missing_file_config(&host));
    for _ in 0..3 {
        host.run(&["scan"]).ok();
    }
    std::fs::write(host.path("backup.tar"), "data").unwrap();
    host.run(&["scan"]).ok();
    let dashboard = Dashboard::start(&host);
    let (_, checks) = get(&dashboard.url("/checks"));
    assert_contains(
        &checks,
        "aria-label=\"last 4 results, 3 not ok, the latest ok\"",
    );
    assert_eq!(checks.matches("fill=\"#dc2626\"").count(), 3, "{checks}");
    assert_eq!(checks.matches("fill=\"#16a34a\"").count(), 1);
}

/// Where the screenshots are kept for people to look at: `target/screenshots/`.
fn screenshot_path(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A page laid out in a viewport `width`×`height`, and what the probe measures there.
struct Frame<'a> {
    html: &'a str,
    width: u32,
    height: u32,
    /// CSS selectors whose first match is measured (`rect`, colours).
    selectors: &'a [&'a str],
}

/// What the probe measured of one frame: `scroll_width` (the document's), `widest_right` and
/// `widest` (the element reaching furthest right, so that a box scrolling sideways inside the
/// page is seen too), and for each selector its first match's `left`, `right`, `top`,
/// `bottom`, `class`, `color`, `background` and `border_left` (computed), or null.
type Measured = serde_json::Value;

/// Lays each page out as a phone or a desktop shows it and measures it, all in one Chromium.
///
/// The dashboard's CSP forbids script (and framing), so each page's own bytes are put into a
/// local file as the `srcdoc` of an iframe exactly `width`×`height` px, beside a probe that
/// writes its measures into the DOM, which Chromium's `--dump-dom` prints: the same markup and
/// inline stylesheet, in a viewport of that size, with script allowed. (An iframe rather than
/// `--window-size`: headless Chromium lays a window out at least 500 px wide.)
fn measure(frames: &[Frame], dir: &std::path::Path) -> Vec<Measured> {
    let script = r#"function measure(f) {
  var d = f.contentDocument, w = f.contentWindow, out = {};
  out.scroll_width = d.documentElement.scrollWidth;
  out.widest_right = 0; out.widest = '';
  d.querySelectorAll('body *').forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.right > out.widest_right) {
      out.widest_right = r.right; out.widest = e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 60);
    }
  });
  JSON.parse(f.getAttribute('data-selectors')).forEach(function (sel) {
    var e = d.querySelector(sel);
    if (!e) { out[sel] = null; return; }
    var r = e.getBoundingClientRect(), c = w.getComputedStyle(e);
    out[sel] = {left: r.left, right: r.right, top: r.top, bottom: r.bottom, class: e.className,
      color: c.color, background: c.backgroundColor, border_left: c.borderLeftColor};
  });
  f.setAttribute('data-measured', JSON.stringify(out));
}"#;
    let escape = |text: &str| text.replace('&', "&amp;").replace('"', "&quot;");
    let mut page =
        format!("<!DOCTYPE html><html><body style=\"margin:0\"><script>{script}</script>");
    for frame in frames {
        let selectors = serde_json::to_string(frame.selectors).unwrap();
        page.push_str(&format!(
            "<iframe width=\"{}\" height=\"{}\" style=\"border:0;display:block\" data-selectors=\"{}\" \
             onload=\"measure(this)\" srcdoc=\"{}\"></iframe>",
            frame.width,
            frame.height,
            escape(&selectors),
            escape(frame.html)
        ));
    }
    page.push_str("</body></html>");
    let file = dir.join(format!("probe-{}.html", page.len()));
    std::fs::write(&file, page).unwrap();
    let dom = chromium_dom_at(&format!("file://{}", file.display()), 1280);
    let measured: Vec<Measured> = dom
        .split("data-measured=\"")
        .skip(1)
        .map(|rest| {
            let text = rest.split('"').next().unwrap();
            let json = text
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
        })
        .collect();
    assert_eq!(measured.len(), frames.len(), "the probe ran in every frame");
    measured
}

/// Whether nothing in the measured page reaches past its viewport's right edge: neither the
/// page nor a box inside it scrolls sideways.
#[track_caller]
fn assert_fits(measured: &Measured, width: u32, what: &str) {
    let scroll = measured["scroll_width"].as_f64().unwrap();
    let right = measured["widest_right"].as_f64().unwrap();
    assert!(
        scroll <= f64::from(width) && right <= f64::from(width) + 0.5,
        "{what} at {width} px scrolls sideways: the page is {scroll} px wide, {} reaches {right} px",
        measured["widest"]
    );
}

#[test]
fn on_a_phone_and_a_desktop_the_pages_show_the_host_the_cycle_red_critical_and_charts() {
    require_system!(
        "on_a_phone_and_a_desktop_the_pages_show_the_host_the_cycle_red_critical_and_charts",
        CHROMIUM
    );
    let host = Host::new();
    host.write_config(&missing_file_config(&host));
    host.run(&["cycle"]).ok();
    host.run(&["scan"]).ok();
    past_incidents(&host, 20, 1);
    // A silence with a long note: its page and the greyed check row must fit a phone too.
    let silenced = host.run(&[
        "silence",
        "add",
        "backup",
        "--for",
        "2h",
        "--note",
        "restoring the backup volume from tape, ticket OPS-1234, do not restart anything",
    ]);
    assert_eq!(silenced.status, 0, "{}", silenced.stderr);
    let dashboard = Dashboard::start(&host);
    let name = hostname();

    // What the DOM must hold does not depend on the width (and `--dump-dom` lays a page out
    // at least 500 px wide anyway); the widths are for painting and overflow, below.
    let overview = chromium_dom(&dashboard.url("/"));
    assert_contains(&overview, &format!("<span class=\"host\">{name}</span>"));
    assert_contains(&overview, "last cycle <time");
    assert!(
        regex_like_minute(&overview),
        "no absolute time like 2026-11-27 03:12 UTC on the overview"
    );
    assert!(
        overview.matches("class=\"bar\"").count() >= 20 * 5,
        "bars missing"
    );
    assert_contains(&overview, "<path class=\"trend\" d=\"M");
    assert_contains(
        &overview,
        "aria-label=\"Incidents per day over 30 days by outcome: 101 incidents",
    );
    let escalated = chromium_dom(&dashboard.url("/incidents?status=escalated"));
    assert_contains(&escalated, "<span class=\"badge crit\">critical</span>");

    let pages = [
        ("/", "overview"),
        ("/incidents?status=escalated", "incidents-escalated"),
        ("/incidents/1", "incident"),
        ("/checks", "checks"),
        ("/silences", "silences"),
        ("/patterns", "patterns"),
    ];
    let mut laid_out = Vec::new();
    for width in [1280, 390] {
        for (path, shot_name) in pages {
            let png = screenshot_path(&format!("{shot_name}-{width}.png"));
            let html = ureq_get(&dashboard.url(path)).unwrap().1;
            let shot = phone_screenshot(&html, width, 2400, &png);
            assert_eq!(shot.width, width);
            if path == "/" {
                // The charts are painted: the phase-2 bars and their legend, the trend line.
                for colour in ["#14b8a6", "#0f766e"] {
                    assert!(
                        shot.pixels_of(colour) > 200,
                        "{path} at {width}: no {colour} in the charts ({})",
                        png.display()
                    );
                }
            }
            if path == "/incidents?status=escalated" {
                // The critical badge is the only #dc2626 on this page (no stale warning).
                assert!(
                    shot.pixels_of("#dc2626") > 150,
                    "{path} at {width}: the critical badge is not red ({})",
                    png.display()
                );
            }
            laid_out.push((path, width, html));
        }
    }
    // No page scrolls sideways, at either width: not the page, not a box inside it.
    let html = ureq_get(&dashboard.url("/")).unwrap().1;
    let wide = html.replacen("<main>", "<main><div style=\"width:2000px\">wide</div>", 1);
    let mut frames: Vec<Frame> = laid_out
        .iter()
        .map(|(_, width, html)| Frame {
            html,
            width: *width,
            height: 900,
            selectors: &[],
        })
        .collect();
    frames.push(Frame {
        html: &wide,
        width: 390,
        height: 900,
        selectors: &[],
    });
    let measured = measure(&frames, host.dir.path());
    for ((path, width, _), measured) in laid_out.iter().zip(&measured) {
        assert_fits(measured, *width, path);
    }
    // The probe can see an overflow: the same page with a 2000 px wide block is measured so.
    assert!(measured[laid_out.len()]["scroll_width"].as_f64().unwrap() >= 2000.0);
    // A reader who prefers a dark scheme gets one: the page background turns dark.
    let png = screenshot_path("overview-dark-390.png");
    let dark = Screenshot::take_with(
        &dashboard.url("/"),
        390,
        900,
        &png,
        &["--blink-settings=preferredColorScheme=0"],
    );
    let all = (dark.width * dark.height) as usize;
    assert!(
        dark.pixels_of("#0b1220") > all / 4 && dark.pixels_of("#f8fafc") == 0,
        "the dark scheme is not painted ({})",
        png.display()
    );
}

/// Whether the page shows a time as people read it: `2026-11-27 03:12 UTC`.
fn regex_like_minute(page: &str) -> bool {
    page.match_indices(" UTC</time>").any(|(end, _)| {
        let start = end.saturating_sub(16);
        let text = &page.as_bytes()[start..end];
        text.len() == 16
            && text.iter().enumerate().all(|(i, b)| match i {
                4 | 7 => *b == b'-',
                10 => *b == b' ',
                13 => *b == b':',
                _ => b.is_ascii_digit(),
            })
    })
}

/// tests/servers/bad_smtp.py on a free port in `mode` (`reject:WORD`, `550@rcpt`, …), for a
/// minute; killed when dropped.
struct SmtpServer {
    port: u16,
    child: std::process::Child,
}

impl SmtpServer {
    fn start(mode: &str) -> SmtpServer {
        let port = free_port();
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/bad_smtp.py");
        let child = std::process::Command::new("/usr/bin/python3")
            .arg(script)
            .args([&port.to_string(), mode, "120"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start bad_smtp.py");
        wait_until(
            "bad_smtp.py listens",
            std::time::Duration::from_secs(10),
            || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        );
        SmtpServer { port, child }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small demo host, built by real cycles: the flaky service `web` crashes twice and phase 1
/// restarts it; the nightly backup goes missing and is escalated (the mail goes out) and
/// acknowledged by alice; then `web` reports itself unhealthy, nothing fixes it, and its
/// escalation's mail is refused for good (550); a load plugin warns and is watched. Earlier
/// days' incidents are added as past cycles would have left them, for the charts.
struct DemoHost {
    host: Host,
    web: Service,
    /// The failing check's summary, as the scan words it.
    web_summary: String,
}

fn demo_config(host: &Host, web: &Service, smtp_port: u16) -> String {
    format!(
        r#"[cycle]
settle = "300ms"

[[checks]]
name = "web"
kind = "http"
url = "{url}"
timeout = "2s"
logs = ["{log}"]
remedy = [ {{ action = "run", argv = {start} }} ]

[[checks]]
name = "nightly-backup"
kind = "file"
path = "{backup}"
max_age = "1d"

[[checks]]
name = "load-plugin"
kind = "command"
command = ["/bin/sh", "-c", "echo 'LOAD WARNING - load average per core: 2.61, 2.40, 2.02'; exit 1"]

[escalation]
hostname = "web-01"
email = {{ to = ["ops@example.com"], from = "orchestrator@web-01", smtp = "smtp://127.0.0.1:{smtp_port}" }}

[policy]
reopen_within = "0s"
"#,
        url = web.url(),
        log = web.logdir.join("service.log").display(),
        start = web.start_toml(),
        backup = host.path("backup.tar").display(),
    )
}

fn demo_host() -> DemoHost {
    let host = Host::new();
    let web = Service::new(&host, "web");
    std::fs::write(host.path("backup.tar"), "data").unwrap();
    let accepting = SmtpServer::start("reject:nobody-is-refused");
    host.write_config(&demo_config(&host, &web, accepting.port));
    web.start();
    host.run(&["cycle"]).ok();
    for _ in 0..2 {
        web.crash_clean();
        host.run(&["cycle"]).ok();
        assert!(web.healthy(), "phase 1 did not restart web");
    }
    std::fs::remove_file(host.path("backup.tar")).unwrap();
    host.run(&["cycle"]).ok();
    let backup = host.query_i64("SELECT id FROM incidents WHERE check_name = 'nightly-backup'");
    assert_eq!(
        host.query_text(&format!(
            "SELECT n.status FROM notifications n JOIN escalations e ON e.id = n.escalation WHERE e.incident = {backup}"
        )),
        "sent"
    );
    host.command(&[
        "incidents",
        "ack",
        &backup.to_string(),
        "--note",
        "restoring last night's backup from tape",
    ])
    .env("SUDO_USER", "alice")
    .output()
    .unwrap();

    let refusing = SmtpServer::start("550@rcpt");
    host.write_config(&demo_config(&host, &web, refusing.port));
    web.set_flag("unhealthy", "");
    host.run(&["cycle"]).ok();
    let web_incident = host
        .query_i64("SELECT id FROM incidents WHERE check_name = 'web' AND status = 'escalated'");
    assert_eq!(
        host.query_text(&format!(
            "SELECT n.status FROM notifications n JOIN escalations e ON e.id = n.escalation WHERE e.incident = {web_incident}"
        )),
        "failed"
    );
    let web_summary = host.query_text(&format!(
        "SELECT summary FROM incidents WHERE id = {web_incident}"
    ));
    past_incidents(&host, 20, 1);
    DemoHost {
        host,
        web,
        web_summary,
    }
}

/// A page as a phone of `width`×`height` shows it, painted into `png`. Headless Chromium lays
/// a window out at least 500 px wide, so the page's own bytes are shown in an iframe exactly
/// that size (as [`measure`] lays them out), and the window is cut to it.
fn phone_screenshot(html: &str, width: u32, height: u32, png: &std::path::Path) -> Screenshot {
    let srcdoc = html.replace('&', "&amp;").replace('"', "&quot;");
    let frame = format!(
        "<!DOCTYPE html><html><body style=\"margin:0\"><iframe width=\"{width}\" height=\"{height}\" \
         style=\"border:0;display:block\" srcdoc=\"{srcdoc}\"></iframe></body></html>"
    );
    let file = png.with_extension("html");
    std::fs::write(&file, frame).unwrap();
    let shot = Screenshot::take(&format!("file://{}", file.display()), width, height, png);
    let _ = std::fs::remove_file(&file);
    shot
}

#[test]
fn the_overviews_first_screen_names_what_is_broken_on_a_desktop_and_a_phone() {
    require_system!(
        "the_overviews_first_screen_names_what_is_broken_on_a_desktop_and_a_phone",
        CHROMIUM
    );
    let demo = demo_host();
    let dashboard = Dashboard::start(&demo.host);
    let get_page = |path: &str| ureq_get(&dashboard.url(path)).unwrap().1;
    // A desktop's first screen, and a phone's (390×844, as an iPhone 12 to 15 shows a page).
    let screens = [(1280, 800), (390, 844)];

    let overview = get_page("/");
    let summary = format!("<p class=\"summary\">{}</p>", demo.web_summary);
    assert_contains(&overview, &summary);
    assert!(
        overview.find(&summary) < overview.find("Being worked on"),
        "what needs a person comes first"
    );
    for (width, height) in screens {
        let png = screenshot_path(&format!("first-screen-overview-{width}.png"));
        let shot = phone_screenshot(&overview, width, height, &png);
        // The severity's red (the card's edge and its badge) is painted on the first screen,
        // and so is the refused mail, in red on pink.
        assert!(
            shot.pixels_of("#dc2626") > 1000,
            "no critical red on the first screen ({})",
            png.display()
        );
        assert!(
            shot.pixels_of("#fee2e2") > 2000,
            "the failed delivery is not flagged in red ({})",
            png.display()
        );
    }
    let selectors = [
        "li.need",
        "li.need .check",
        "li.need .summary",
        "li.need .undelivered",
        "li.need:nth-child(2) .acked",
    ];
    let frames: Vec<Frame> = screens
        .iter()
        .map(|&(width, height)| Frame {
            html: &overview,
            width,
            height,
            selectors: &selectors,
        })
        .collect();
    for (measured, (width, height)) in measure(&frames, demo.host.dir.path()).iter().zip(screens) {
        let at = format!("the overview at {width}×{height}");
        assert_fits(measured, width, &at);
        // The worst first: the unacknowledged critical `web`, red-edged.
        let card = &measured["li.need"];
        assert_eq!(card["class"], "need crit", "{at}: {measured}");
        assert_eq!(card["border_left"], "rgb(220, 38, 38)", "{at}");
        for selector in selectors {
            let seen = &measured[selector];
            assert!(
                seen["top"].as_f64().unwrap() >= 0.0
                    && seen["bottom"].as_f64().unwrap() <= f64::from(height)
                    && seen["left"].as_f64().unwrap() >= 0.0
                    && seen["right"].as_f64().unwrap() <= f64::from(width),
                "{at}: {selector} is not on the first screen: {seen}"
            );
        }
        assert_eq!(
            measured["li.need .undelivered"]["color"],
            "rgb(153, 27, 27)"
        );
    }
    assert_contains(
        &overview,
        "<b class=\"unacked\">nobody has acknowledged it</b>",
    );
    assert_contains(&overview, "acknowledged by <b>cli:alice</b>");
    assert_contains(
        &overview,
        "email to ops@example.com failed: smtp://127.0.0.1:",
    );
    assert_contains(&overview, "(550): 5.7.1 refused for good");

    // Every list page shows each row's check and summary on a phone without sideways
    // scrolling: its rows are cards there, and nothing reaches past the screen's edge.
    let lists = ["/", "/incidents", "/checks", "/patterns", "/silences"];
    let pages: Vec<(&str, u32, String)> = lists
        .iter()
        .flat_map(|path| [(*path, 390, get_page(path)), (*path, 1280, get_page(path))])
        .collect();
    let frames: Vec<Frame> = pages
        .iter()
        .map(|(_, width, html)| Frame {
            html,
            width: *width,
            height: 844,
            selectors: &["tbody td:nth-child(2)", "thead"],
        })
        .collect();
    for ((path, width, _), measured) in pages.iter().zip(measure(&frames, demo.host.dir.path())) {
        assert_fits(&measured, *width, path);
        if *width == 390 && !measured["thead"].is_null() {
            // A card, not a table: the column names stand before each value instead.
            let head = &measured["thead"];
            assert!(
                head["right"].as_f64().unwrap() - head["left"].as_f64().unwrap() <= 1.0,
                "{path}: the table's head is shown on a phone: {head}"
            );
        }
    }
    let html = get_page("/incidents");
    for (width, height) in screens {
        let png = screenshot_path(&format!("first-screen-incidents-{width}.png"));
        phone_screenshot(&html, width, height, &png);
    }
    // The README's two pictures: UPDATE_SCREENSHOTS=1 draws them again from this demo host.
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        for (width, _) in screens {
            let shot = screenshot_path(&format!("first-screen-overview-{width}.png"));
            std::fs::copy(&shot, docs.join(format!("overview-{width}.png"))).unwrap();
        }
    }
    let _ = &demo.web;
}

#[test]
fn the_host_has_one_name_on_the_dashboard_in_the_cli_and_in_metrics() {
    let host = Host::new();
    host.write_config(&format!(
        "{}[escalation]\nhostname = \"web-01\"\n",
        missing_file_config(&host)
    ));
    host.run(&["cycle"]).ok();
    let dashboard = Dashboard::start(&host);
    let (_, overview) = get(&dashboard.url("/"));
    assert_contains(&overview, "<span class=\"host\">web-01</span>");
    assert_contains(&overview, "<title>Overview · web-01 · orchestrator</title>");
    let kernel = hostname();
    if kernel != "web-01" {
        assert!(
            !overview.contains(&format!(">{kernel}<")),
            "the kernel's name {kernel} beside web-01"
        );
    }
    let (_, api) = get(&dashboard.url("/api/metrics"));
    assert_contains(&api, "\"host\":\"web-01\"");
    let (_, prometheus) = get(&dashboard.url("/metrics"));
    assert_contains(&prometheus, "host=\"web-01\"");

    let text = host.run(&["metrics"]).ok().stdout;
    assert!(
        text.starts_with("incidents detected on web-01 in the last 7d: 1"),
        "{text}"
    );
    assert_eq!(
        host.run(&["--json", "metrics"]).ok().json()["host"],
        "web-01"
    );
    let exposition = host.run(&["metrics", "--prometheus"]).ok().stdout;
    assert_contains(
        &exposition,
        &format!(
            "orchestrator_build_info{{version=\"{}\",host=\"web-01\"}} 1",
            env!("CARGO_PKG_VERSION")
        ),
    );
}
