//! Maintenance windows of the config (`[[maintenance]]`) at work: every locked command first
//! writes each window's occurrence in force and its next one as silences ([`sync`]), so that
//! whatever reads silences (every phase, the outbox, the scan's report, `silence list`, the
//! dashboard) treats a window as the silence it is, from its first second, even while no
//! command runs. After delivery, the people on the `[escalation]` channels are told once when
//! an occurrence starts and once when it ends ([`announce`]).

use super::notices::send_notice;
use super::Runtime;
use crate::clock::{now, rfc3339};
use crate::config::Config;
use crate::store::{MaintenanceRow, Store, WindowState};

/// Writes the windows' silences as the config says now; a silence of a window the config no
/// longer has (or has changed) that is in force or to come is expired.
pub fn sync(rt: &mut Runtime) -> crate::store::Result<()> {
    let at = now();
    let mut wanted = Vec::new();
    for window in &rt.config.maintenance {
        let (current, next) = window.around(at);
        for occurrence in current.into_iter().chain(next) {
            let checks: Vec<Option<String>> = match &window.checks {
                Some(checks) => checks.iter().cloned().map(Some).collect(),
                None => vec![None],
            };
            for check in checks {
                wanted.push(MaintenanceRow {
                    window: window.name.clone(),
                    check,
                    note: window.note.clone(),
                    starts_at: occurrence.starts_at,
                    ends_at: occurrence.ends_at,
                });
            }
        }
    }
    let (added, expired) = rt.store.sync_maintenance(&wanted)?;
    if added + expired > 0 {
        log::debug!("maintenance windows: {added} silence(s) written, {expired} expired");
    }
    Ok(())
}

/// Tells the people that a window started, or ended, once each; a notice no channel took is
/// tried again by the next delivery while it is still true. An occurrence that ended before
/// its start was told (nothing ran meanwhile, or the config dropped it) is told nothing.
/// Returns the notices sent, as their subjects.
pub fn announce(config: &Config, store: &Store) -> crate::store::Result<Vec<String>> {
    let at = now();
    let host = config.host_name();
    let mut told = Vec::new();
    for window in store.windows_to_announce()? {
        let ended = window.ended_at <= at;
        let (subject, body) = match (window.start_noticed, ended) {
            (false, true) => {
                store.mark_window_noticed(&window.silences, true, true)?;
                continue;
            }
            (false, false) => started(&host, &window),
            (true, true) if !window.end_noticed => finished(&host, &window),
            _ => continue,
        };
        log::warn!("{subject}");
        let deliveries = send_notice(config, "maintenance", &subject, &body);
        let reached = deliveries.is_empty() || deliveries.iter().any(|d| d.result == "sent");
        if reached {
            let start = !window.start_noticed;
            store.mark_window_noticed(&window.silences, start, !start)?;
            told.push(subject);
        }
    }
    Ok(told)
}

fn targets(window: &WindowState) -> String {
    if window.checks.iter().any(Option::is_none) {
        return "every check".into();
    }
    let names: Vec<&str> = window.checks.iter().flatten().map(String::as_str).collect();
    names.join(", ")
}

fn started(host: &str, window: &WindowState) -> (String, String) {
    let subject = format!(
        "[orchestrator] maintenance {} started on {host}: {} silenced until {}",
        window.window,
        targets(window),
        rfc3339(window.ended_at)
    );
    let mut body = format!(
        "The maintenance window `{}` of orchestrator's config started on {host} at {}.\n\n\
         Until {}, orchestrator still checks {} and shows what it finds, but acts on nothing \
         there and tells nobody about it.\n",
        window.window,
        rfc3339(window.starts_at),
        rfc3339(window.ended_at),
        targets(window),
    );
    if !window.note.is_empty() {
        body.push_str(&format!("\nWhy: {}\n", window.note));
    }
    body.push_str(
        "\nEnd it sooner with `orchestrator silence expire ID` (`orchestrator silence list`).\n",
    );
    (subject, body)
}

fn finished(host: &str, window: &WindowState) -> (String, String) {
    let subject = format!(
        "[orchestrator] maintenance {} ended on {host}: {} acted on again",
        window.window,
        targets(window)
    );
    let body = format!(
        "The maintenance window `{}` on {host} ended at {} (it began at {}).\n\n\
         orchestrator acts on {} again and tells people about what still fails.\n",
        window.window,
        rfc3339(window.ended_at),
        rfc3339(window.starts_at),
        targets(window),
    );
    (subject, body)
}
