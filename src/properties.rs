//! Property tests (proptest): every way text enters orchestrator, fed arbitrary and extreme
//! input, never panics, and what it accepts holds to the documented limits. The config
//! parser (TOML-ish text, arbitrary values for known keys), the command line's time and
//! duration arguments (clap's own parser, then the checks the commands make), the dashboard's
//! forms and queries (the functions the web layer reads them with, the resolve form's plan
//! with the policy's judgement) and the redactor.
//!
//! Each property runs 64 cases by default, so that `cargo test` stays quick; set
//! `PROPTEST_CASES` for a longer hunt (`PROPTEST_CASES=20000 cargo test --lib properties`).
//! A failing case is saved under `proptest-regressions/properties.txt`, kept in the repository
//! and replayed first on every run.

use crate::actions::Plan;
use crate::clock::{self, LAST_TIME};
use crate::config::Config;
use crate::duration::Duration;
use crate::policy::Policy;
use crate::redact::Redactor;
use crate::web::{api_filter, requested_silence, since, Form, IncidentList};
use clap::Parser;
use proptest::prelude::*;

fn cases() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Durations as a person or an attacker writes them: valid, huge, negative, garbled.
fn duration_text() -> impl Strategy<Value = String> {
    let unit = prop::sample::select(vec!["ms", "s", "m", "h", "d", "w", "", "y", "min", " "]);
    prop_oneof![
        (0u64..100_000, unit.clone()).prop_map(|(n, u)| format!("{n}{u}")),
        (any::<u64>(), unit.clone()).prop_map(|(n, u)| format!("{n}{u}")),
        (36_000u64..37_000, Just("d")).prop_map(|(n, u)| format!("{n}{u}")),
        (1u64..5, Just("9"), 10usize..40, unit.clone())
            .prop_map(|(a, nine, len, u)| format!("{a}{}{u}", nine.repeat(len))),
        prop::collection::vec((0u64..1_000_000, unit), 1..5)
            .prop_map(|parts| parts.iter().map(|(n, u)| format!("{n}{u}")).collect()),
        Just("3000000d".to_string()),
        Just("2913000d".to_string()),
        Just("-5s".to_string()),
        "\\PC{0,12}",
    ]
}

/// Times as `--until` may be given them: RFC 3339 near and far, offsets, garbage.
fn time_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            0u32..10_100,
            0u32..14,
            0u32..33,
            0u32..25,
            0u32..61,
            0u32..62,
            prop::sample::select(vec!["Z", "+01:00", "-23:59", "+14:00", "+25:00", "", "z"])
        )
            .prop_map(|(y, mo, d, h, mi, s, zone)| format!(
                "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{zone}"
            )),
        Just("9999-12-31T23:59:59Z".to_string()),
        Just("9999-12-31T23:59:59-23:59".to_string()),
        Just("1970-01-01T00:00:00+00:01".to_string()),
        "\\PC{0,30}",
    ]
}

/// Any float, the extremes often.
fn timestamp() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::NAN),
        Just(LAST_TIME),
        Just(LAST_TIME + 1.0),
        -1e12..1e12f64,
    ]
}

/// A name: short, exactly at the limit, past it, or with any characters.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,10}",
        (195usize..210).prop_map(|n| "n".repeat(n)),
        Just("n".repeat(70_000)),
        "\\PC{0,20}",
    ]
}

/// A TOML value for a key: a string of some sort, a number, a list, a table.
fn value() -> impl Strategy<Value = String> {
    let string = prop_oneof![duration_text(), time_text(), name(), "[ -~]{0,30}"]
        .prop_map(|s| format!("{:?}", s));
    let scalar = prop_oneof![
        string.clone(),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("TOML has no NaN literal here", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        any::<bool>().prop_map(|b| b.to_string()),
    ];
    prop_oneof![
        3 => scalar.clone(),
        1 => prop::collection::vec(string.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
        1 => prop::collection::vec(
            (prop::sample::select(vec!["action", "argv", "timeout", "unit", "path", "fix"]), scalar),
            0..3
        )
        .prop_map(|pairs| {
            let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            format!("{{ {} }}", inner.join(", "))
        }),
    ]
}

/// Tables and the keys each may have (and a few it may not).
const TABLES: &[(&str, &[&str])] = &[
    ("[state]", &["retention", "db"]),
    ("[cycle]", &["parallelism", "settle", "phase_timeout"]),
    ("[cycle.phase_timeout]", &["fix", "research", "consult"]),
    (
        "[policy]",
        &[
            "reopen_within",
            "max_attempts",
            "restart_limit",
            "flapping",
            "actions",
        ],
    ),
    ("[policy.flapping]", &["reopened", "within"]),
    ("[policy.restart_limit]", &["count", "within"]),
    (
        "[escalation]",
        &[
            "repeat",
            "retry",
            "alert_ttl",
            "message_timeout",
            "delivery_budget",
            "hostname",
            "webhook",
        ],
    ),
    ("[serve]", &["stale_after", "listen"]),
    ("[context]", &["redact", "journal_lines"]),
    ("[agents.a]", &["builtin", "command", "timeout"]),
    ("[research]", &["agent"]),
    ("[consult]", &["agents", "quorum"]),
    (
        "[[checks]]",
        &[
            "name",
            "kind",
            "timeout",
            "depends_on",
            "service",
            "unit",
            "remedy",
            "path",
            "max_age",
            "url",
            "command",
            "warn",
            "crit",
            "bogus",
        ],
    ),
];

/// A config written from the tables above, each key given an arbitrary value; a check table
/// starts with a name and a kind so that validation gets past them.
fn config_text() -> impl Strategy<Value = String> {
    let line = (0..TABLES.len()).prop_flat_map(|table| {
        let keys = TABLES[table].1;
        (
            Just(table),
            prop::collection::vec((prop::sample::select(keys), value()), 0..5),
            name(),
            prop::sample::select(vec!["file", "memory", "load", "http", "command", "nope"]),
        )
    });
    prop::collection::vec(line, 0..6).prop_map(|tables| {
        let mut text = String::new();
        for (table, keys, name, kind) in tables {
            text.push_str(TABLES[table].0);
            text.push('\n');
            if TABLES[table].0 == "[[checks]]" {
                text.push_str(&format!(
                    "name = {name:?}\nkind = {kind:?}\npath = \"/tmp\"\n"
                ));
            }
            for (key, value) in keys {
                text.push_str(&format!("{key} = {value}\n"));
            }
        }
        text
    })
}

/// A config that loads holds to every limit it documents.
fn holds_to_the_limits(config: &Config) {
    let durations = [
        config.state.retention,
        config.cycle.settle,
        config.policy.reopen_within,
        config.policy.restart_limit.within,
        config.policy.flapping.within,
        config.serve.stale_after,
    ];
    for duration in durations {
        assert!(duration <= Duration::LIMIT, "{duration}");
    }
    for wait in [
        config.cycle.settle,
        config.cycle.phase_timeout.fix,
        config.cycle.phase_timeout.research,
        config.cycle.phase_timeout.consult,
    ] {
        assert!(wait <= Duration::WAIT_LIMIT, "{wait}");
    }
    if let Some(escalation) = &config.escalation {
        for duration in [escalation.repeat, escalation.retry, escalation.alert_ttl] {
            assert!(duration <= Duration::LIMIT, "{duration}");
        }
        assert!(escalation.message_timeout <= Duration::WAIT_LIMIT);
        assert!(escalation.delivery_budget <= Duration::WAIT_LIMIT);
    }
    assert!(config.checks.len() <= 10_000);
    for check in &config.checks {
        assert!(check.name.chars().count() <= 200);
        assert!(check.timeout <= Duration::WAIT_LIMIT, "{}", check.timeout);
        assert!(check.depends_on.len() <= 100);
    }
    for (name, agent) in &config.agents {
        assert!(name.chars().count() <= 200);
        assert!(agent.timeout <= Duration::WAIT_LIMIT);
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn the_config_parser_never_panics_and_what_it_accepts_is_within_the_limits(
        text in config_text()
    ) {
        match Config::parse("fuzz.toml", &text) {
            Ok(config) => holds_to_the_limits(&config),
            Err(err) => {
                // Every problem prints, a line of any length shown cut.
                for line in err.to_string().lines() {
                    prop_assert!(line.chars().count() < 2_000, "{}", &line[..200]);
                }
            }
        }
    }

    #[test]
    fn the_config_parser_takes_any_text(text in "\\PC{0,300}") {
        if let Err(err) = Config::parse("fuzz.toml", &text) {
            let _ = err.to_string();
        }
    }

    #[test]
    fn a_duration_parses_within_the_limit_or_says_why(text in duration_text()) {
        match text.parse::<Duration>() {
            Ok(duration) => {
                prop_assert!(duration <= Duration::LIMIT);
                prop_assert_eq!(duration.to_string().parse::<Duration>(), Ok(duration));
            }
            Err(err) => prop_assert!(err.to_string().chars().count() < 300),
        }
    }

    #[test]
    fn any_time_is_shown_and_read_back(ts in timestamp(), now in timestamp()) {
        let shown = clock::rfc3339(ts);
        prop_assert_eq!(shown.len(), 20, "{}", shown);
        let back = clock::parse_rfc3339(&shown).expect("what rfc3339 writes, it reads");
        prop_assert!((back - clock::clamp(ts)).abs() < 1.0, "{} {}", ts, back);
        let _ = clock::relative(ts, now);
        let _ = clock::duration_from_secs(ts);
    }

    #[test]
    fn the_command_lines_time_and_duration_arguments_never_panic(
        duration in duration_text(),
        until in time_text(),
        limit in "\\PC{0,20}",
    ) {
        let now = clock::now();
        let parse = |args: &[&str]| {
            crate::cli::Cli::try_parse_from(std::iter::once("orchestrator").chain(args.iter().copied()))
        };
        // `silence add --for`: clap reads it with Duration's parser; the command then checks
        // the span it makes.
        if parse(&["silence", "add", "web", "--note", "n", &format!("--for={duration}")]).is_ok() {
            let parsed: Duration = duration.parse().expect("clap took it");
            prop_assert!(parsed <= Duration::LIMIT);
            let _ = crate::store::check_silence_span(now, now + parsed.as_secs_f64());
        }
        // `--until` is read by the command: an RFC 3339 time, then the span.
        let until_arg = format!("--until={until}");
        let taken = parse(&["silence", "add", "--all", "--note", "n", &until_arg]).is_ok();
        prop_assert!(taken, "clap refused {}", until_arg);
        if let Some(ends_at) = clock::parse_rfc3339(&until) {
            prop_assert!((0.0..=LAST_TIME).contains(&ends_at));
            if crate::store::check_silence_span(now, ends_at).is_ok() {
                prop_assert!(ends_at <= now + Duration::LIMIT.as_secs_f64());
            }
        }
        let _ = parse(&["metrics", &format!("--since={duration}")]);
        let _ = parse(&["incidents", "list", &format!("--limit={limit}")]);
    }

    #[test]
    fn the_dashboards_forms_and_queries_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..200),
        pairs in prop::collection::vec(
            (prop::sample::select(vec!["check", "for", "note", "by", "status", "page", "limit", "offset", "since"]),
             prop_oneof![duration_text(), name(), "\\PC{0,12}", any::<i64>().prop_map(|n| n.to_string())]),
            0..6
        ),
    ) {
        let config = Config::parse("t.toml", "[[checks]]\nname = \"web\"\nkind = \"memory\"\n")
            .expect("a valid config");
        let structured = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let now = clock::now();
        for raw in [&body[..], structured.as_bytes()] {
            let form = Form::parse(raw);
            if let Ok(silence) = requested_silence(&config, &form, now) {
                let span = format!("{silence:?}");
                prop_assert!(span.contains("ends_at"));
            }
            let query = String::from_utf8_lossy(raw);
            if let Ok(list) = IncidentList::parse(&query) {
                let _ = list.filter();
                let _ = list.url();
            }
            let _ = api_filter(&query);
            prop_assert!(since(&query) <= Duration::LIMIT.as_secs_f64());
        }
    }

    #[test]
    fn a_plan_typed_in_the_resolve_form_is_read_and_judged_without_panic(
        actions in prop::collection::vec(
            prop::collection::vec(
                (prop::sample::select(vec!["action", "unit", "argv", "timeout", "path", "older_than", "glob", "pid", "name", "signal", "max_size"]),
                 prop_oneof![
                     prop::sample::select(vec!["\"restart_unit\"", "\"run\"", "\"clean_files\"", "\"kill_process\"", "\"remove_file\"", "\"vacuum_journal\"", "\"remedy\""]).prop_map(str::to_string),
                     duration_text().prop_map(|d| format!("{d:?}")),
                     name().prop_map(|n| format!("{n:?}")),
                     any::<i64>().prop_map(|n| n.to_string()),
                     Just("[\"systemctl\", \"reload\", \"web\"]".to_string()),
                 ]),
                0..5
            ),
            0..4
        ),
        garbage in "\\PC{0,40}",
    ) {
        let objects: Vec<String> = actions
            .iter()
            .map(|fields| {
                let inner: Vec<String> = fields.iter().map(|(k, v)| format!("{k:?}: {v}")).collect();
                format!("{{{}}}", inner.join(", "))
            })
            .collect();
        let policy_config = crate::config::PolicyConfig::default();
        let policy = Policy::new(&policy_config);
        for text in [format!("[{}]", objects.join(", ")), garbage] {
            if let Ok(plan) = serde_json::from_str::<Plan>(&text) {
                let _ = policy.judge(&plan, Some("web.service"));
                let _ = plan.describe();
                let _ = plan.hash(Some("web"));
            }
        }
    }

    #[test]
    fn the_redactor_takes_any_text(
        parts in prop::collection::vec(
            prop_oneof![
                prop::sample::select(vec![
                    "password=", "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----",
                    "Authorization: Bearer ", "https://user:", "@host/", "-p", "--password ",
                    "AKIA", "sk_live_", "eyJ", ".eyJ", "$6$", "secret: ", "\n", " ", "=", ":",
                ]).prop_map(str::to_string),
                "\\PC{0,30}",
                "[A-Za-z0-9+/=_.-]{0,60}",
            ],
            0..12
        ),
        extra in prop::collection::vec("\\PC{0,12}", 0..2)
            .prop_filter("compiling every rule again is slow: a custom one now and then", |e| e.is_empty() || e[0].len() % 4 == 0),
    ) {
        static BUILTIN: std::sync::LazyLock<Redactor> = std::sync::LazyLock::new(Redactor::builtin);
        let text: String = parts.concat();
        let redactor = &*BUILTIN;
        let once = redactor.redact(&text);
        let _ = redactor.redact(&once);
        let argv: Vec<String> = parts.clone();
        let _ = redactor.redact_argv(&argv);
        let _ = redactor.redact_json_text(&text);
        // `[context] redact` patterns come from the config: any text compiles or is refused.
        if let Ok(custom) = Redactor::new(&extra) {
            let _ = custom.redact(&text);
        }
    }
}
