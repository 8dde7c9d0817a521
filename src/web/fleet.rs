//! The fleet page (`/fleet`): every host of the central database with its last heartbeat
//! (stale in red), its version and its backlog; the open escalations of every host, worst
//! first, each linked to the incident on that host's own dashboard; the fleet's patterns and
//! where they were verified. It reads the central database and decides nothing: approvals stay
//! on each host, judged by its own policy.

use super::html::{badge, opt_time, page, table, time, Frame, Refresh};
use crate::config::FleetConfig;
use crate::fleet::{FleetView, OpenEscalation};
use maud::{html, Markup};

pub fn page_html(fleet: &FleetConfig, view: &FleetView, frame: &Frame) -> String {
    let now = crate::clock::now();
    let stale_after = fleet.stale_after.as_secs_f64();
    let stale = view
        .hosts
        .iter()
        .filter(|h| now - h.last_heartbeat_at > stale_after)
        .count();
    let hosts: Vec<Vec<Markup>> = view
        .hosts
        .iter()
        .map(|host| {
            let is_stale = now - host.last_heartbeat_at > stale_after;
            vec![
                html! { (host_link(&host.name, host.dashboard_url.as_deref())) },
                html! {
                    (time(host.last_heartbeat_at))
                    @if is_stale { " " span.stale { "stale" } }
                },
                opt_time(host.last_cycle_at),
                html! { (host.version) },
                html! { (host.backlog) },
            ]
        })
        .collect();
    let escalations: Vec<Vec<Markup>> = view.escalations.iter().map(escalation_row).collect();
    let patterns: Vec<Vec<Markup>> = view
        .patterns
        .iter()
        .map(|p| {
            vec![
                html! { code { (p.signature) } },
                html! { code { (p.plan) } },
                html! { (p.fixes) " on " (p.hosts) " host(s)" },
                html! { (p.failures) " on " (p.failed_hosts) " host(s)" },
                html! { (p.verified_on.join(", ")) },
            ]
        })
        .collect();
    let body = html! {
        h1 { "Fleet" }
        p {
            (view.hosts.len()) " hosts"
            @if stale > 0 { ", " span.stale { (stale) " stale" } " (no heartbeat in " (fleet.stale_after) ")" }
            ", " (view.escalations.len()) " open escalations. Read from the fleet database; "
            "approvals are made on each host's own dashboard, by its own policy."
        }
        h2 { "Open escalations, worst first" }
        (table(&["host", "incident", "check", "severity", "status", "since", "why"], escalations, "no open escalation on any host"))
        h2 { "Hosts" }
        (table(&["host", "last heartbeat", "last cycle", "version", "outbox"], hosts, "no host has reported yet"))
        h2 { "Patterns" }
        (table(&["signature", "plan", "verified fixes", "failures", "verified on"], patterns, "no pattern learned yet"))
    };
    page(frame, "Fleet", Refresh::Every30s, body)
}

fn escalation_row(e: &OpenEscalation) -> Vec<Markup> {
    vec![
        host_link(&e.host, e.dashboard_url.as_deref()),
        match incident_url(e.dashboard_url.as_deref(), e.incident) {
            Some(url) => html! { a href=(url) { "#" (e.incident) } },
            None => html! { "#" (e.incident) },
        },
        html! { (e.check) },
        badge(&e.severity),
        badge(&e.status),
        time(e.opened_at),
        html! { (e.reason) },
    ]
}

fn host_link(name: &str, dashboard: Option<&str>) -> Markup {
    match dashboard.filter(|url| is_http(url)) {
        Some(url) => html! { a href=(url) { (name) } },
        None => html! { (name) },
    }
}

/// A link into a host's own dashboard, only to an http(s) address: the URL is what the host
/// said of itself, and a `javascript:` one must not become a link.
fn incident_url(dashboard: Option<&str>, incident: i64) -> Option<String> {
    let base = dashboard.filter(|url| is_http(url))?;
    Some(format!(
        "{}/incidents/{incident}",
        base.trim_end_matches('/')
    ))
}

fn is_http(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_http_dashboard_becomes_a_link() {
        assert_eq!(
            incident_url(Some("http://h1:8888/"), 7).as_deref(),
            Some("http://h1:8888/incidents/7")
        );
        assert_eq!(incident_url(Some("javascript:alert(1)//"), 7), None);
        assert_eq!(incident_url(None, 7), None);
    }
}
