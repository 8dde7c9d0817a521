//! HTML building blocks: escaping (every value goes through `esc`), the page frame with its
//! inline CSS, and small helpers for tables and badges. No JavaScript anywhere.

use crate::clock;

/// Escapes text for HTML content and attribute values alike.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn time(ts: f64) -> String {
    format!(
        "<time datetime=\"{0}\" title=\"{0}\">{1}</time>",
        esc(&clock::rfc3339(ts)),
        esc(&clock::age(ts, clock::now()))
    )
}

pub fn opt_time(ts: Option<f64>) -> String {
    ts.map(time).unwrap_or_else(|| "—".into())
}

/// A coloured word: statuses, outcomes, votes.
pub fn badge(word: &str) -> String {
    let class = match word {
        "ok" | "fixed" | "resolved" | "recovered" | "sent" | "winner" | "approved" => "good",
        "warning" | "open" | "pending" | "sending" | "acknowledged" | "dry_run" | "held"
        | "retry" | "proposed" => "warn",
        "critical" | "escalated" | "failed" | "not_fixed" | "rejected" | "interrupted"
        | "dismissed" => "bad",
        _ => "muted",
    };
    format!("<span class=\"badge {class}\">{}</span>", esc(word))
}

pub fn table(headers: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"empty\">{}</p>", esc(empty));
    }
    let head: String = headers
        .iter()
        .map(|h| format!("<th>{}</th>", esc(h)))
        .collect();
    let body: String = rows
        .iter()
        .map(|row| {
            format!(
                "<tr>{}</tr>",
                row.iter()
                    .map(|c| format!("<td>{c}</td>"))
                    .collect::<String>()
            )
        })
        .collect();
    format!("<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
}

const CSS: &str = "
:root { --accent: #0f766e; --ink: #1f2933; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', sans-serif; color: var(--ink); background: var(--bg); }
header { background: #fff; border-bottom: 3px solid var(--accent); padding: .7rem 1.5rem; display: flex; gap: 1.5rem; align-items: baseline; }
header .brand { font-weight: 700; color: var(--accent); font-size: 1.1rem; }
header nav a { color: var(--ink); text-decoration: none; margin-right: 1rem; }
header nav a:hover { color: var(--accent); }
main { max-width: 1150px; margin: 1.5rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; } h2 { font-size: 1.05rem; margin: 1.8rem 0 .6rem; color: var(--accent); }
a { color: var(--accent); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: .8rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; }
.card .value { font-size: 1.6rem; font-weight: 600; } .card .label { color: var(--muted); font-size: .85rem; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: .45rem .7rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f1f5f9; font-weight: 600; font-size: .85rem; color: var(--muted); }
td code, pre { font: 13px/1.4 ui-monospace, 'SFMono-Regular', Menlo, monospace; }
pre { background: #0f172a; color: #e2e8f0; padding: .7rem; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; }
.good { background: #dcfce7; color: #166534; } .warn { background: #fef3c7; color: #92400e; }
.bad { background: #fee2e2; color: #991b1b; } .muted { background: #e5e7eb; color: #374151; }
.empty { color: var(--muted); font-style: italic; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; }
.facts dt { color: var(--muted); } .facts dd { margin: 0; }
form.inline { display: inline-block; margin: 0 .5rem .5rem 0; }
form.block { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; max-width: 700px; }
input[type=text], input[type=password], textarea { width: 100%; padding: .4rem; border: 1px solid #cbd5e1; border-radius: 6px; font: inherit; margin: .2rem 0 .6rem; }
button { background: var(--accent); color: #fff; border: 0; border-radius: 6px; padding: .45rem .9rem; font: inherit; cursor: pointer; }
button.secondary { background: #475569; }
.notice { background: #ecfeff; border-left: 4px solid var(--accent); padding: .6rem 1rem; border-radius: 4px; }
details summary { cursor: pointer; color: var(--accent); }
tr:has(.silenced) { background: #f1f5f9; color: var(--muted); } tr:has(.silenced) .badge { filter: grayscale(1); }
select { padding: .4rem; border: 1px solid #cbd5e1; border-radius: 6px; font: inherit; margin: .2rem 0 .6rem; display: block; }
";

pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} · orchestrator</title><style>{CSS}</style></head><body>\
<header><span class=\"brand\">orchestrator</span><nav><a href=\"/\">Overview</a><a href=\"/incidents\">Incidents</a>\
<a href=\"/patterns\">Patterns</a><a href=\"/checks\">Checks</a><a href=\"/silences\">Silences</a></nav></header><main>{body}</main></body></html>",
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(esc("\"><img onerror=x>"), "&quot;&gt;&lt;img onerror=x&gt;");
    }
}
