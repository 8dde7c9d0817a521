//! Server-side SVG pictures (the CSP allows no script): incidents per day by outcome, the
//! auto-fix ratio trend, and each check's recent results. Built only from numbers and fixed
//! words, so the markup is written out directly; each picture carries a text alternative.

use super::html::absolute;
use crate::model::Status;
use crate::store::{CheckResultAt, DayOutcomes};
use maud::{html, Escaper, Markup, PreEscaped};
use std::fmt::Write;

pub const DAYS: i64 = 30;
const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 34.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 22.0;

/// The outcome classes, bottom to top in a bar, with their colours and legend words.
const SERIES: [(&str, &str); 6] = [
    ("#0f766e", "fixed in phase 1"),
    ("#14b8a6", "fixed in phase 2"),
    ("#5eead4", "fixed in phase 3"),
    ("#dc2626", "escalated"),
    ("#94a3b8", "recovered by itself"),
    ("#f59e0b", "still open"),
];

/// Today as days since the Unix epoch (UTC).
pub fn today() -> i64 {
    (crate::clock::now() / 86_400.0).floor() as i64
}

/// When the first of the `DAYS` days up to `today` began, in Unix seconds.
pub fn first_day_at(today: i64) -> f64 {
    ((today - DAYS + 1) * 86_400) as f64
}

fn counts(day: &DayOutcomes) -> [i64; 6] {
    let [p1, p2, p3] = day.fixed;
    [p1, p2, p3, day.escalated, day.recovered, day.open]
}

/// The last `DAYS` UTC days up to `today`, each with its outcomes (zero when none).
fn window(per_day: &[DayOutcomes], today: i64) -> Vec<DayOutcomes> {
    (today - DAYS + 1..=today)
        .map(|day| {
            per_day
                .iter()
                .find(|d| d.day == day)
                .cloned()
                .unwrap_or(DayOutcomes {
                    day,
                    ..DayOutcomes::default()
                })
        })
        .collect()
}

fn day_label(day: i64) -> String {
    absolute(day as f64 * 86_400.0)[..10].to_string()
}

fn plot_width() -> f64 {
    WIDTH - LEFT - 6.0
}

fn plot_height() -> f64 {
    HEIGHT - TOP - BOTTOM
}

/// The frame both charts share: an SVG with its title, the x axis's first and last day.
fn svg(label: &str, first_day: i64, last_day: i64, inner: &str) -> Markup {
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{label}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{label}</title>\
         <line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{right}\" y2=\"{base}\" stroke=\"#94a3b8\"/>\
         <text x=\"{LEFT}\" y=\"{HEIGHT}\" dy=\"-6\">{first}</text><text x=\"{right}\" y=\"{HEIGHT}\" dy=\"-6\" text-anchor=\"end\">{last}</text>{inner}</svg>",
        base = TOP + plot_height(),
        right = LEFT + plot_width(),
        first = day_label(first_day),
        last = day_label(last_day),
    );
    PreEscaped(out)
}

fn empty(label: &str, message: &str) -> Markup {
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"chart empty-chart\" viewBox=\"0 0 {WIDTH} 60\" role=\"img\" aria-label=\"{label}: {message}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{label}: {message}</title>\
         <text x=\"{x}\" y=\"35\" text-anchor=\"middle\">{message}</text></svg>",
        x = WIDTH / 2.0
    );
    PreEscaped(out)
}

/// Incidents detected per day over the last 30 days, stacked by how they ended.
pub fn outcomes(per_day: &[DayOutcomes], today: i64) -> Markup {
    let days = window(per_day, today);
    let label = "Incidents per day over 30 days by outcome";
    let total: i64 = days.iter().map(DayOutcomes::total).sum();
    if total == 0 {
        return empty(label, "no incidents in 30 days");
    }
    let most = days
        .iter()
        .map(DayOutcomes::total)
        .max()
        .unwrap_or(1)
        .max(1);
    let slot = plot_width() / DAYS as f64;
    let unit = plot_height() / most as f64;
    let mut bars = format!(
        "<text x=\"{x}\" y=\"{TOP}\" dy=\"9\" text-anchor=\"end\">{most}</text>",
        x = LEFT - 4.0
    );
    for (i, day) in days.iter().enumerate() {
        let x = LEFT + i as f64 * slot + 1.0;
        let mut y = TOP + plot_height();
        for (count, (colour, word)) in counts(day).into_iter().zip(SERIES) {
            if count == 0 {
                continue;
            }
            let h = count as f64 * unit;
            y -= h;
            let _ = write!(
                bars,
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{colour}\"><title>{date}: {count} {word}</title></rect>",
                w = slot - 2.0,
                date = day_label(day.day),
            );
        }
    }
    let summary = SERIES
        .iter()
        .enumerate()
        .map(|(k, (_, word))| {
            let n: i64 = days.iter().map(|d| counts(d)[k]).sum();
            format!("{n} {word}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    html! {
        (svg(&format!("{label}: {total} incidents, {summary}"), days[0].day, today, &bars))
        ul.legend { @for (colour, word) in SERIES { li { i style={ "background:" (colour) } {} (word) } } }
    }
}

/// The share of decided incidents fixed without a person, per day (days with nothing
/// decided are left out of the line).
pub fn auto_fix_trend(per_day: &[DayOutcomes], today: i64) -> Markup {
    let days = window(per_day, today);
    let label = "Auto-fix ratio per day over 30 days";
    let slot = plot_width() / DAYS as f64;
    let points: Vec<(f64, f64)> = days
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            d.auto_fix_ratio().map(|r| {
                (
                    LEFT + (i as f64 + 0.5) * slot,
                    TOP + plot_height() * (1.0 - r),
                )
            })
        })
        .collect();
    if points.is_empty() {
        return empty(label, "nothing fixed or escalated in 30 days");
    }
    let path: String = points
        .iter()
        .enumerate()
        .map(|(i, (x, y))| format!("{}{x:.1} {y:.1}", if i == 0 { "M" } else { " L" }))
        .collect();
    let mut inner = format!(
        "<text x=\"{x}\" y=\"{TOP}\" dy=\"9\" text-anchor=\"end\">100%</text>\
         <path class=\"trend\" d=\"{path}\" fill=\"none\" stroke=\"#0f766e\" stroke-width=\"2\"/>",
        x = LEFT - 4.0
    );
    for (x, y) in &points {
        let _ = write!(
            inner,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"#0f766e\"/>"
        );
    }
    let ratios: Vec<f64> = days
        .iter()
        .filter_map(DayOutcomes::auto_fix_ratio)
        .collect();
    let last = ratios.last().copied().unwrap_or(0.0);
    svg(
        &format!(
            "{label}: {} days with decisions, the latest {:.0}%",
            ratios.len(),
            last * 100.0
        ),
        days[0].day,
        today,
        &inner,
    )
}

fn status_colour(status: Status) -> &'static str {
    match status {
        Status::Ok => "#16a34a",
        Status::Warning => "#f59e0b",
        Status::Critical => "#dc2626",
        Status::Unknown => "#94a3b8",
    }
}

/// A check's recent results as a row of coloured cells, oldest on the left.
pub fn history_strip(results: &[CheckResultAt]) -> Markup {
    if results.is_empty() {
        return html! { "—" };
    }
    let cell = 8.0;
    let failing = results.iter().filter(|r| r.status != Status::Ok).count();
    let label = format!(
        "last {} results, {failing} not ok, the latest {}",
        results.len(),
        results.last().map(|r| r.status.as_str()).unwrap_or("")
    );
    let mut out = format!(
        "<svg class=\"strip\" width=\"{w}\" height=\"16\" viewBox=\"0 0 {w} 16\" role=\"img\" aria-label=\"{label}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{label}</title>",
        w = results.len() as f64 * cell
    );
    for (i, result) in results.iter().enumerate() {
        // Text from the database (the summary) goes through maud's escaper; the status is a
        // `Status`, one of four fixed words.
        let mut summary = String::new();
        let _ = Escaper::new(&mut summary).write_str(&result.summary);
        let _ = write!(
            out,
            "<rect class=\"cell\" x=\"{x}\" y=\"0\" width=\"{w}\" height=\"16\" fill=\"{colour}\"><title>{at}: {word}: {summary}</title></rect>",
            x = i as f64 * cell,
            w = cell - 1.0,
            colour = status_colour(result.status),
            word = result.status,
            at = absolute(result.checked_at),
        );
    }
    out.push_str("</svg>");
    PreEscaped(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: i64, fixed: i64, escalated: i64) -> DayOutcomes {
        DayOutcomes {
            day,
            fixed: [fixed, 0, 0],
            escalated,
            ..DayOutcomes::default()
        }
    }

    #[test]
    fn no_incidents_draws_a_chart_that_says_so() {
        let chart = outcomes(&[], 20_000).into_string();
        assert!(chart.contains("no incidents in 30 days"), "{chart}");
        assert!(!chart.contains("<rect"));
        let trend = auto_fix_trend(&[], 20_000).into_string();
        assert!(trend.contains("nothing fixed or escalated"), "{trend}");
    }

    #[test]
    fn bars_stack_each_outcome_and_old_days_fall_out() {
        let chart = outcomes(&[day(20_000, 2, 1), day(19_000, 5, 5)], 20_000).into_string();
        assert_eq!(chart.matches("class=\"bar\"").count(), 2, "{chart}");
        assert!(chart.contains("2 fixed in phase 1"));
        assert!(chart.contains("1 escalated"));
        assert!(
            chart.contains("aria-label=\"Incidents per day over 30 days by outcome: 3 incidents")
        );
    }

    #[test]
    fn the_trend_joins_the_days_with_decisions() {
        let trend = auto_fix_trend(&[day(19_990, 1, 1), day(20_000, 3, 0)], 20_000).into_string();
        assert!(trend.contains("<path class=\"trend\" d=\"M"), "{trend}");
        assert_eq!(trend.matches("<circle").count(), 2);
        assert!(trend.contains("the latest 100%"));
    }

    #[test]
    fn a_strip_has_one_cell_per_result() {
        let results: Vec<CheckResultAt> = [Status::Ok, Status::Critical, Status::Unknown]
            .into_iter()
            .map(|status| CheckResultAt {
                status,
                summary: "<i>x</i>".to_string(),
                checked_at: 0.0,
            })
            .collect();
        let strip = history_strip(&results).into_string();
        assert_eq!(strip.matches("class=\"cell\"").count(), 3);
        assert!(strip.contains("#dc2626"));
        assert!(strip.contains("&lt;i&gt;x&lt;/i&gt;"), "{strip}");
    }
}
