//! The `/silences` page: silences in force and recently ended, a form to add one for a check
//! or for all, and a button to end one. Written with `maud`, which escapes every value it
//! interpolates. The forms post to `/silences` and `/silences/ID/expire`, through the same
//! token, CSRF and same-origin checks as every other decision (`Dashboard::checked_form`).

use super::forms::Form;
use super::html::{hidden_csrf, opt_time, page, table, time, Frame, Refresh};
use super::Reply;
use crate::clock;
use crate::config::Config;
use crate::store::{check_silence_span, NewSilence, Silence, Store, StoreError};
use maud::{html, Markup};

/// How far back the page lists silences that ended.
const RECENT: f64 = 7.0 * 86_400.0;

/// The page; with `csrf` (a person logged in) its forms, else where to log in.
pub fn page_html(
    store: &Store,
    config: &Config,
    csrf: Option<&str>,
    frame: &Frame,
) -> Result<String, StoreError> {
    let listed = store.silences(true, Some(RECENT))?;
    let (in_force, ended): (Vec<&Silence>, Vec<&Silence>) =
        listed.iter().partition(|s| s.state != "expired");
    let body = html! {
        h1 { "Silences" }
        p {
            "A silenced check is still scanned and shown, but no phase acts on it and nobody is "
            "notified. It ends by itself at its end time."
        }
        h2 { "In force" }
        (silence_table(&in_force, csrf, "Ends", "No silence in force: orchestrator acts on every check."))
        h2 { "Maintenance windows" }
        (windows(config))
        h2 { "Add a silence" }
        @match csrf {
            Some(csrf) => (add_form(config, csrf)),
            None => p { a href="/login" { "Log in" } " to add or end a silence." },
        }
        h2 { "Ended in the last 7 days" }
        (silence_table(&ended, None, "Ended", "None."))
    };
    // No refresh: a person may be filling in the form.
    Ok(page(frame, "Silences", Refresh::Never, body))
}

/// With `csrf`, the last column is a button ending each; else it says when each ends, under
/// the heading `when`.
fn silence_table(silences: &[&Silence], csrf: Option<&str>, when: &str, empty: &str) -> Markup {
    let last = if csrf.is_some() { "End it" } else { when };
    let rows: Vec<Vec<Markup>> = silences
        .iter()
        .map(|s| {
            vec![
                html! { (s.id) },
                html! { (s.target()) },
                html! { (s.note) },
                html! { (s.created_by) },
                time(s.starts_at),
                time(s.ends_at),
                match csrf {
                    Some(csrf) => html! {
                        form.inline method="post" action={ "/silences/" (s.id) "/expire" } {
                            (hidden_csrf(csrf))
                            button.secondary { "Expire now" }
                        }
                    },
                    None => opt_time(Some(s.ended_at())),
                },
            ]
        })
        .collect();
    table(
        &["#", "Check", "Why", "By", "From", "Until", last],
        rows,
        empty,
    )
}

/// The config's `[[maintenance]]` windows: when each falls, and the next time it starts. In
/// force, each is also a silence in the table above.
fn windows(config: &Config) -> Markup {
    let now = clock::now();
    let rows: Vec<Vec<Markup>> = config
        .maintenance
        .iter()
        .map(|w| {
            let (current, next) = w.around(now);
            vec![
                html! { (w.name) },
                html! { (w.targets()) },
                html! { (w.every) " for " (w.lasts) },
                html! { (w.zone_name()) },
                match (current, next) {
                    (Some(current), _) => html! { "in force until " (time(current.ends_at)) },
                    (None, Some(next)) => time(next.starts_at),
                    (None, None) => html! { "—" },
                },
                html! { (w.note) },
            ]
        })
        .collect();
    table(
        &["Window", "Checks", "When", "Time zone", "Next", "Why"],
        rows,
        "None in the config ([[maintenance]] in orchestrator.toml(5)).",
    )
}

fn add_form(config: &Config, csrf: &str) -> Markup {
    html! {
        form.block method="post" action="/silences" {
            (hidden_csrf(csrf))
            label { "Check"
                select name="check" {
                    @for check in &config.checks { option value=(check.name) { (check.name) } }
                    option value="*" { "all checks" }
                }
            }
            label { "For (like 30m, 2h, 1h30m)"
                input type="text" name="for" value="2h" required;
            }
            label { "Why"
                input type="text" name="note" required placeholder="kernel upgrade, ticket OPS-123";
            }
            label { "Your name (optional)"
                input type="text" name="by";
            }
            button { "Silence" }
        }
    }
}

/// A silence as the add form describes it, checked; not stored yet.
#[derive(Debug)]
pub(crate) struct Requested {
    /// None: every check.
    check: Option<String>,
    by: String,
    note: String,
    starts_at: clock::Timestamp,
    ends_at: clock::Timestamp,
}

/// Reads and checks the add form: a configured check (or `*`), a duration within
/// `Duration::LIMIT`, a note. Each bad field is an error naming it.
pub(crate) fn requested(
    config: &Config,
    form: &Form,
    now: clock::Timestamp,
) -> Result<Requested, String> {
    let check = match form.get("check").map(str::trim) {
        None | Some("") => return Err("choose a check, or all checks".into()),
        Some("*") => None,
        Some(name) => Some(config.known_check(name)?),
    };
    let duration: crate::duration::Duration = form
        .get("for")
        .unwrap_or("")
        .trim()
        .parse()
        .map_err(|err| format!("for: {err}"))?;
    if duration.as_secs_f64() <= 0.0 {
        return Err("for: a silence must last longer than 0s".into());
    }
    let ends_at = now + duration.as_secs_f64();
    check_silence_span(now, ends_at).map_err(|why| format!("for: {why}"))?;
    let note = form
        .get("note")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or("a note is required: say why")?;
    let by = match form.get("by").map(str::trim).filter(|b| !b.is_empty()) {
        Some(name) => format!("dashboard:{name}"),
        None => "dashboard".into(),
    };
    Ok(Requested {
        check,
        by,
        note: note.to_string(),
        starts_at: now,
        ends_at,
    })
}

/// Adds the silence the form describes. Every bad field is a 400 naming it; nothing is stored.
pub fn add(store: &Store, config: &Config, form: &Form) -> Result<(), Reply> {
    let silence = requested(config, form, clock::now()).map_err(|why| Reply::text(400, &why))?;
    store
        .add_silence(&NewSilence {
            check: silence.check.as_deref(),
            created_by: &silence.by,
            note: &silence.note,
            starts_at: silence.starts_at,
            ends_at: silence.ends_at,
        })
        .map(|_| ())
        .map_err(|err| Reply::text(409, &err.to_string()))
}

pub fn expire(store: &Store, id: &str) -> Result<(), Reply> {
    let id: i64 = id
        .parse()
        .map_err(|_| Reply::text(404, "no such silence"))?;
    store
        .expire_silence(id)
        .map(|_| ())
        .map_err(|err| match err {
            StoreError::NoSilence(_) => Reply::text(404, &err.to_string()),
            other => Reply::text(409, &other.to_string()),
        })
}
