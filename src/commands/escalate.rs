//! `escalate`: phase 4, then the delivery of what it queued. `--resend ID` sends again a
//! notification that did not go out, without the phase; `--test` sends a test message on
//! every channel, recording nothing.

use super::{
    deliver_unlocked, load_config, open_store, output, with_phase_lock_then_deliver, CommandError,
};
use crate::cli::Global;
use crate::phases::escalate::escalate;
use crate::phases::notices;
use serde_json::json;
use std::process::ExitCode;

pub fn exec(global: &Global, resend: &[i64], test: bool) -> Result<ExitCode, CommandError> {
    if test {
        return send_test(global);
    }
    if !resend.is_empty() {
        return send_again(global, resend);
    }
    with_phase_lock_then_deliver(global, "escalate", escalate)
}

/// Every channel gets a test message; any that did not take it fails the command (1).
fn send_test(global: &Global) -> Result<ExitCode, CommandError> {
    let config = load_config(global)?;
    let by = super::person(None)?;
    if global.dry_run {
        let channels = config
            .escalation
            .as_ref()
            .map(|e| e.channels())
            .unwrap_or_default();
        let names: Vec<String> = channels.iter().map(ToString::to_string).collect();
        outln!("dry run: a test message would go to: {}", names.join(", "));
        return Ok(ExitCode::SUCCESS);
    }
    let deliveries =
        notices::send_test(&config, &by).map_err(|err| CommandError::Usage(err.to_string()))?;
    let failed = deliveries.iter().filter(|d| d.result != "sent").count();
    if global.json {
        output::print_json(&json!({ "test": true, "deliveries": deliveries, "failed": failed }));
    } else {
        outln!("test message:");
        for delivery in &deliveries {
            let error = delivery
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            outln!(
                "  {} to {} → {}{error}",
                delivery.channel,
                delivery.recipient,
                delivery.result
            );
        }
    }
    Ok(match failed {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::from(super::error::EXIT_FAILURE),
    })
}

/// Queues the notifications again and delivers at once (under the delivery lock, not the
/// cycle lock: nothing else of phase 4 runs).
fn send_again(global: &Global, ids: &[i64]) -> Result<ExitCode, CommandError> {
    let config = load_config(global)?;
    let mut store = open_store(global, &config)?;
    let configured = config
        .escalation
        .as_ref()
        .map(|e| e.channels())
        .unwrap_or_default();
    // Every id is checked before any is queued: a refusal changes nothing.
    for id in ids {
        let notification = store.notification(*id)?;
        if !configured.contains(&notification.channel) {
            return Err(CommandError::Usage(format!(
                "notification {id} went by {}, which the config no longer has: nothing could send it",
                notification.channel
            )));
        }
    }
    let by = super::operator(None)?;
    let mut queued = Vec::new();
    for id in ids {
        if global.dry_run {
            queued.push(not_sent(&store, *id)?);
        } else {
            queued.extend(store.resend_notification(*id, &by)?);
        }
    }
    queued.sort_by_key(|n| n.id);
    queued.dedup_by_key(|n| n.id);
    let deliveries = if global.dry_run {
        Vec::new()
    } else {
        let db = config.db_path(global.db.as_deref());
        deliver_unlocked(&config, &db, &mut store)?
    };
    let ids: Vec<i64> = queued.iter().map(|n| n.id).collect();
    if global.json {
        output::print_json(&json!({ "resent": ids, "deliveries": deliveries }));
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if global.dry_run {
        "would be queued again"
    } else {
        "queued again"
    };
    for n in &queued {
        outln!(
            "notification {} ({} {} to {}, incident {}) {verb}",
            n.id,
            n.kind,
            n.channel,
            n.recipient,
            n.incident
        );
    }
    for delivery in &deliveries {
        let error = delivery
            .error
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        outln!(
            "  notification {} {} to {} → {}{error}",
            delivery.notification,
            delivery.channel,
            delivery.recipient,
            delivery.result
        );
    }
    if deliveries.is_empty() && !global.dry_run {
        outln!("  nothing was sent by this run (another orchestrator process may be delivering); the next delivery sends them");
    }
    Ok(ExitCode::SUCCESS)
}

/// The notification, when it has not gone out (what `--resend` would queue again).
fn not_sent(
    store: &crate::store::Store,
    id: i64,
) -> Result<crate::store::Notification, CommandError> {
    let notification = store.notification(id)?;
    if notification.status == crate::model::NotificationStatus::Sent {
        let at = notification.sent_at.map(crate::clock::rfc3339);
        return Err(crate::store::StoreError::NotificationSent(id, at.unwrap_or_default()).into());
    }
    Ok(notification)
}
