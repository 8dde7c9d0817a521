//! HTML building blocks in maud, which escapes every interpolated value by default: the page
//! frame (host name, last cycle, inline CSS), times, badges and tables. No JavaScript anywhere.

use crate::clock;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// What every page's header tells a person woken at 3 am: which host, and whether the cycles
/// still run.
pub struct Frame {
    /// Empty on the login page: the host name is not told before the token is.
    pub host: String,
    /// In a fleet: the navigation links the fleet page.
    pub fleet: bool,
    /// `None` on pages that do not read the database (the login page).
    pub cycle: Option<CycleState>,
}

pub struct CycleState {
    pub finished_at: Option<clock::Timestamp>,
    /// No cycle finished within `[serve] stale_after` (the rule `/health` answers 503 by).
    pub stale: bool,
    pub stale_after: f64,
}

/// Pages people leave open refresh themselves (a meta tag: the CSP allows no script); pages
/// with a form being filled in must not.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    Every30s,
    Never,
}

/// `2026-11-27 03:12 UTC` and, beside it, `(4m ago)`: both visible, not a tooltip.
pub fn time(ts: clock::Timestamp) -> Markup {
    let rfc = clock::rfc3339(ts);
    html! {
        time datetime=(rfc) title=(rfc) { (absolute(ts)) }
        " " span.ago { "(" (clock::relative(ts, clock::now())) ")" }
    }
}

/// A time as people read it, to the minute: `2026-11-27 03:12 UTC`.
pub fn absolute(ts: clock::Timestamp) -> String {
    let rfc = clock::rfc3339(ts);
    // `2026-11-27T03:12:45Z`: the date, the hour and the minute.
    match (rfc.get(..10), rfc.get(11..16)) {
        (Some(date), Some(minute)) => format!("{date} {minute} UTC"),
        _ => rfc,
    }
}

pub fn opt_time(ts: Option<clock::Timestamp>) -> Markup {
    match ts {
        Some(ts) => time(ts),
        None => html! { "—" },
    }
}

/// The class a word is painted with: critical in red, warning in amber, the rest by mood.
pub fn badge_class(word: &str) -> &'static str {
    match word {
        "critical" => "crit",
        "warning" => "amber",
        "ok" | "fixed" | "resolved" | "recovered" | "sent" | "winner" | "approved" => "good",
        "open" | "pending" | "sending" | "acknowledged" | "dry_run" | "held" | "retry"
        | "proposed" => "warn",
        "escalated" | "failed" | "not_fixed" | "rejected" | "interrupted" | "dismissed"
        | "flapping" => "bad",
        // A check that cannot decide is broken itself: violet, apart from the muted words.
        "unknown" => "unknown",
        _ => "muted",
    }
}

/// A coloured word: severities, statuses, outcomes, votes.
pub fn badge(word: &str) -> Markup {
    html! { span class={ "badge " (badge_class(word)) } { (word) } }
}

/// A table on a wide screen; on a narrow one (a phone) each row is a card whose cells wrap
/// onto the width, each after its column's name (`data-label`, drawn by CSS: no script), so
/// nothing scrolls sideways. The first column (the row's link) goes unlabelled.
pub fn table(headers: &[&str], rows: Vec<Vec<Markup>>, empty: &str) -> Markup {
    if rows.is_empty() {
        return html! { p.empty { (empty) } };
    }
    let label = |i: usize| headers.get(i).filter(|_| i > 0).copied();
    html! {
        div.scroll {
            table {
                thead { tr { @for h in headers { th { (h) } } } }
                tbody {
                    @for row in rows {
                        tr { @for (i, cell) in row.into_iter().enumerate() { td data-label=[label(i)] { (cell) } } }
                    }
                }
            }
        }
    }
}

/// The CSRF token every decision's form carries (checked by `Dashboard::checked_form`).
pub fn hidden_csrf(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

const CSS: &str = "
:root { --accent: #0f766e; --ink: #1f2933; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; --surface: #fff; --head: #f1f5f9; --field: #cbd5e1; }
@media (prefers-color-scheme: dark) {
  :root { --accent: #2dd4bf; --ink: #e5e7eb; --muted: #9ca3af; --line: #334155; --bg: #0b1220; --surface: #111827; --head: #1e293b; --field: #475569; }
  button { color: #0b1220; }
  .unacked, .undelivered { color: #fca5a5; } .undelivered { background: #450a0a; }
  h1.allclear { color: #4ade80; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', sans-serif; color: var(--ink); background: var(--bg); }
header { background: var(--surface); border-bottom: 3px solid var(--accent); padding: .7rem 1.5rem; display: flex; flex-wrap: wrap; gap: .4rem 1.5rem; align-items: baseline; }
header .brand { font-weight: 700; color: var(--accent); font-size: 1.1rem; }
header .host { font-weight: 700; font-size: 1.1rem; }
header nav { display: flex; flex-wrap: wrap; gap: .2rem 1rem; }
header nav a { color: var(--ink); text-decoration: none; }
header nav a:hover { color: var(--accent); }
header .cycle { color: var(--muted); font-size: .9rem; }
.stale { display: inline-block; background: #dc2626; color: #fff; font-weight: 700; padding: 0 .5rem; border-radius: 4px; }
main { max-width: 1150px; margin: 1.5rem auto; padding: 0 1.5rem; }
@media (max-width: 600px) { header, main { padding-left: .7rem; padding-right: .7rem; } }
h1 { font-size: 1.4rem; margin: 0 0 1rem; overflow-wrap: anywhere; } h2 { font-size: 1.05rem; margin: 1.8rem 0 .6rem; color: var(--accent); }
a { color: var(--accent); }
.ago { color: var(--muted); white-space: nowrap; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: .8rem; }
.card { background: var(--surface); border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; }
.card .value { font-size: 1.6rem; font-weight: 600; } .card .label { color: var(--muted); font-size: .85rem; }
.scroll { max-width: 100%; overflow-x: auto; }
table { width: 100%; border-collapse: collapse; background: var(--surface); border: 1px solid var(--line); border-radius: 8px; }
th, td { text-align: left; padding: .45rem .7rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--head); font-weight: 600; font-size: .85rem; color: var(--muted); }
td code, pre { font: 13px/1.4 ui-monospace, 'SFMono-Regular', Menlo, monospace; }
pre { background: #0f172a; color: #e2e8f0; padding: .7rem; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; }
.good { background: #dcfce7; color: #166534; } .warn { background: #fef3c7; color: #92400e; }
.bad { background: #fee2e2; color: #991b1b; } .muted { background: #e5e7eb; color: #374151; }
.crit { background: #dc2626; color: #fff; } .amber { background: #f59e0b; color: #1f2933; }
.empty { color: var(--muted); font-style: italic; }
.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .2rem 1rem; background: var(--surface); border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; }
.facts dt { color: var(--muted); } .facts dd { margin: 0; overflow-wrap: anywhere; }
form.inline { display: inline-block; margin: 0 .5rem .5rem 0; max-width: 100%; }
form.inline input[type=text] { width: 16rem; max-width: 100%; margin: 0 .4rem .4rem 0; }
form.block { background: var(--surface); border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; max-width: 700px; }
input[type=text], input[type=password], textarea { width: 100%; padding: .4rem; border: 1px solid var(--field); border-radius: 6px; font: inherit; margin: .2rem 0 .6rem; background: var(--surface); color: var(--ink); }
button { background: var(--accent); color: #fff; border: 0; border-radius: 6px; padding: .45rem .9rem; font: inherit; cursor: pointer; }
button.secondary { background: #475569; color: #fff; }
.notice { background: var(--head); border-left: 4px solid var(--accent); padding: .6rem 1rem; border-radius: 4px; overflow-wrap: anywhere; }
details summary { cursor: pointer; color: var(--accent); }
.notice.breaker { border-left-color: #dc2626; margin: 0 0 1rem; }
.filters, .pages { display: flex; flex-wrap: wrap; gap: .3rem 1rem; margin: 0 0 .8rem; }
.filters a.current { font-weight: 700; color: var(--ink); text-decoration: none; }
.chart { display: block; width: 100%; height: auto; max-width: 760px; background: var(--surface); border: 1px solid var(--line); border-radius: 8px; }
.chart text { fill: var(--muted); font-size: 11px; }
.legend { display: flex; flex-wrap: wrap; gap: .2rem 1rem; font-size: .85rem; color: var(--muted); margin: .3rem 0 0; padding: 0; list-style: none; }
.legend i { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .3rem; vertical-align: -1px; }
.strip { display: block; }
tr:has(.silenced) { background: var(--head); color: var(--muted); } tr:has(.silenced) .badge { filter: grayscale(1); }
ul.needs { list-style: none; margin: 0 0 1rem; padding: 0; display: grid; gap: .6rem; }
li.need { background: var(--surface); color: var(--ink); border: 1px solid var(--line); border-left: 6px solid var(--muted); border-radius: 8px; padding: .6rem .9rem; overflow-wrap: anywhere; }
li.need.crit { border-left-color: #dc2626; } li.need.amber { border-left-color: #f59e0b; } li.need.unknown { border-left-color: #7c3aed; }
li.need .what { display: flex; flex-wrap: wrap; gap: .2rem .5rem; align-items: baseline; }
li.need .check { font-weight: 700; font-size: 1.15rem; color: var(--ink); }
li.need .id { color: var(--muted); font-size: .85rem; }
li.need p { margin: .25rem 0 0; } li.need .summary { font-size: 1.05rem; }
li.need .when, li.need .held { color: var(--muted); font-size: .9rem; }
.unacked { color: #b91c1c; }
.undelivered { color: #991b1b; background: #fee2e2; border-radius: 4px; padding: .1rem .5rem; font-weight: 600; }
details.why summary { font-size: .85rem; }
h1.allclear { color: #166534; } h1 .count { color: var(--muted); font-weight: 400; }
.unknown { background: #7c3aed; color: #fff; }
td { overflow-wrap: anywhere; }
@media (max-width: 640px) {
  .scroll { overflow-x: visible; }
  .scroll table, .scroll tbody, .scroll tr, .scroll td { display: block; }
  .scroll table { border: 0; background: none; }
  .scroll thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
  .scroll tr { display: flex; flex-wrap: wrap; gap: .15rem .9rem; align-items: baseline; background: var(--surface); border: 1px solid var(--line); border-radius: 8px; padding: .5rem .7rem; margin: 0 0 .5rem; }
  .scroll td { border: 0; padding: 0; min-width: 0; max-width: 100%; }
  .scroll td[data-label]::before { content: attr(data-label) ' '; color: var(--muted); font-size: .8rem; }
}
select { padding: .4rem; border: 1px solid var(--field); background: var(--surface); color: var(--ink); border-radius: 6px; font: inherit; margin: .2rem 0 .6rem; display: block; }
";

/// The whole page around `body`, titled `title · HOST`.
pub fn page(frame: &Frame, title: &str, refresh: Refresh, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if refresh == Refresh::Every30s { meta http-equiv="refresh" content="30"; }
                title { (title) " · " @if !frame.host.is_empty() { (frame.host) " · " } "orchestrator" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    span.brand { "orchestrator" }
                    @if !frame.host.is_empty() { span.host { (frame.host) } }
                    nav {
                        a href="/" { "Overview" }
                        a href="/incidents" { "Incidents" }
                        a href="/patterns" { "Patterns" }
                        a href="/checks" { "Checks" }
                        a href="/silences" { "Silences" }
                        @if frame.fleet { a href="/fleet" { "Fleet" } }
                    }
                    @if let Some(cycle) = &frame.cycle { (cycle_line(cycle)) }
                }
                main { (body) }
            }
        }
    }
    .into_string()
}

/// When the last cycle finished, and a red warning when the timer seems to have stopped.
fn cycle_line(cycle: &CycleState) -> Markup {
    let limit = humantime::format_duration(std::time::Duration::from_secs(
        cycle.stale_after.max(0.0) as u64,
    ));
    html! {
        span.cycle {
            @match cycle.finished_at {
                Some(at) => { "last cycle " (time(at)) }
                None => { "no cycle has finished yet" }
            }
            @if cycle.stale {
                " " span.stale title={ "no cycle finished in the last " (limit) "; /health answers 503" } {
                    "stale: no cycle in " (limit) " — is the timer running?"
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolated_text_is_escaped() {
        let cell = html! { td { ("<script>alert('x')</script>\"><img onerror=x>") } };
        assert_eq!(
            cell.into_string(),
            "<td>&lt;script&gt;alert('x')&lt;/script&gt;&quot;&gt;&lt;img onerror=x&gt;</td>"
        );
    }

    #[test]
    fn times_read_to_the_minute_in_utc() {
        // 2026-11-27T03:12:45Z
        assert_eq!(absolute(1_795_749_165.0), "2026-11-27 03:12 UTC");
    }

    #[test]
    fn critical_is_red_and_warning_amber() {
        assert_eq!(badge_class("critical"), "crit");
        assert_eq!(badge_class("warning"), "amber");
        assert!(CSS.contains(".crit { background: #dc2626"));
    }
}
