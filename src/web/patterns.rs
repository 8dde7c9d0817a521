//! The `/patterns` page: what phase 1 learned, each pattern's state and record, forms to
//! disable, enable or forget one, and the changes people made. The forms post to
//! `/patterns/ID/disable|enable|forget` through the same token, CSRF and same-origin checks as
//! every other decision (`Dashboard::checked_form`), and the same store calls as the CLI's
//! `patterns` command.

use super::forms::Form;
use super::html::{badge, hidden_csrf, opt_time, page, table, time, Frame, Refresh};
use super::Reply;
use crate::actions::Plan;
use crate::store::{Pattern, Store, StoreError, Taught};
use maud::{html, Markup};

/// How many of people's changes the page lists.
const CHANGES_SHOWN: i64 = 20;

pub fn page_html(store: &Store, csrf: &str, frame: &Frame) -> Result<String, StoreError> {
    let rows: Vec<Vec<Markup>> = store
        .patterns()?
        .iter()
        .map(|p| {
            vec![
                html! { (p.id) },
                html! {
                    (badge(p.state()))
                    @if let Some(why) = p.disabled() { br; small { (why) } }
                },
                html! { (p.check) },
                html! { code { (p.signature) } },
                html! { code { (store.mask(&Plan::describe_stored_text(&p.plan))) } },
                html! { "phase " (p.source_phase) },
                html! { (taught(p.taught)) },
                html! { (p.successes) },
                html! { (p.failures) },
                opt_time(p.last_used_at),
                forms(p, csrf),
            ]
        })
        .collect();
    let changes: Vec<Vec<Markup>> = store
        .pattern_changes(None, CHANGES_SHOWN)?
        .iter()
        .map(|c| {
            vec![
                time(c.at),
                html! { (c.pattern) },
                html! { (c.action) },
                html! { (c.by) },
                html! { (c.check) },
                html! { code { (store.mask(&Plan::describe_stored_text(&c.plan))) } },
                html! { (c.note) },
            ]
        })
        .collect();
    let body = html! {
        h1 { "Learned patterns" }
        p {
            "Every verified fix becomes a pattern; phase 1 tries them first, best record first. "
            "A disabled pattern is never replayed (phase 1 says so) and keeps its record; a "
            "forgotten one is deleted, and its history below keeps what it was."
        }
        (table(&["#", "State", "Check", "Signature", "Plan", "Learned in", "Vouched for by", "Worked", "Failed", "Last used", "Act"],
            rows, "Nothing learned yet."))
        h2 { "Changes by people" }
        (table(&["When", "Pattern", "What", "By", "Check", "Plan", "Why"], changes,
            "No pattern was disabled, enabled or forgotten."))
    };
    // No refresh: a person may be typing why.
    Ok(page(frame, "Patterns", Refresh::Never, body))
}

/// Disable (or enable) and forget, each with its reason.
fn forms(pattern: &Pattern, csrf: &str) -> Markup {
    let id = pattern.id;
    html! {
        @if pattern.disabled_at.is_some() {
            form.inline method="post" action={ "/patterns/" (id) "/enable" } {
                (hidden_csrf(csrf))
                button.secondary { "Enable" }
            }
        } @else {
            form.inline method="post" action={ "/patterns/" (id) "/disable" } {
                (hidden_csrf(csrf))
                input type="text" name="note" required placeholder="why" aria-label="why disable";
                button.secondary { "Disable" }
            }
        }
        form.inline method="post" action={ "/patterns/" (id) "/forget" } {
            (hidden_csrf(csrf))
            input type="text" name="note" required placeholder="why" aria-label="why forget";
            button.secondary { "Forget" }
        }
    }
}

/// Who vouched for a pattern's plan, which decides how phase 1 judges its replay.
fn taught(taught: Taught) -> &'static str {
    match taught {
        Taught::Unattended => "[policy]",
        Taught::Person => "a person",
        Taught::OutsidePolicy => "root, outside [policy]",
    }
}

/// A person's change from the page: 404 for no such pattern, 400 without a reason where one is
/// asked, 409 when it is already so.
pub fn change(store: &mut Store, id: &str, action: &str, form: &Form) -> Result<(), Reply> {
    let id: i64 = id
        .parse()
        .map_err(|_| Reply::text(404, "no such pattern"))?;
    let note = form.get("note").map(str::trim).unwrap_or("");
    let by = "dashboard";
    let needs_reason = |what: &str| Reply::text(400, &format!("say why you {what} it"));
    let done = match action {
        "disable" if note.is_empty() => return Err(needs_reason("disable")),
        "forget" if note.is_empty() => return Err(needs_reason("forget")),
        "disable" => store.disable_pattern(id, by, note).map(|_| ()),
        "enable" => store.enable_pattern(id, by, note).map(|_| ()),
        "forget" => store.forget_pattern(id, by, note).map(|_| ()),
        _ => return Err(Reply::text(404, "not found")),
    };
    done.map_err(|err| match err {
        StoreError::NoPattern(_) => Reply::text(404, &err.to_string()),
        other => Reply::text(409, &other.to_string()),
    })
}
