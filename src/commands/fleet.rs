//! `fleet sync|status`: the host's side of the fleet (README, "Fleet"). `sync` runs after each
//! cycle (the shipped unit's last step but the metrics), never under the cycle lock.

use super::{load_config, open_store, open_store_readonly, output, CommandError};
use crate::cli::{FleetCommand, Global};
use crate::fleet;
use crate::lock::{FleetLock, LockError};
use serde_json::json;
use std::process::ExitCode;

pub fn exec(global: &Global, command: FleetCommand) -> Result<ExitCode, CommandError> {
    let config = load_config(global)?;
    match command {
        FleetCommand::Sync => {
            let Some(fleet_config) = &config.fleet else {
                // Under the shipped unit every cycle runs this: no line in the journal for it.
                if !crate::journal::stdout_is_journal() {
                    say(global, "no [fleet] database is configured: nothing to sync");
                }
                return Ok(ExitCode::SUCCESS);
            };
            let db = config.db_path(global.db.as_deref());
            let _lock = match FleetLock::try_acquire(&db) {
                Ok(lock) => lock,
                Err(LockError::Busy(path)) => {
                    say(
                        global,
                        &format!(
                            "fleet sync skipped: another one runs (it holds {})",
                            path.display()
                        ),
                    );
                    return Ok(ExitCode::SUCCESS);
                }
                Err(err) => return Err(err.into()),
            };
            let mut store = open_store(global, &config)?;
            let report = fleet::sync(&config, fleet_config, &mut store);
            if global.json {
                output::print_json(&serde_json::to_value(&report)?);
            } else {
                outln!(
                    "fleet sync ({}): {} events pushed, {} already known, {} summarised, {} patterns pulled, {} waiting, {} ms",
                    report.host, report.pushed, report.already_known, report.summarised,
                    report.pulled, report.backlog, report.millis
                );
            }
            match &report.error {
                // The outbox keeps everything: the next sync sends it. Exit 1 so that the
                // person running it sees it; the shipped unit ignores it (`ExecStart=-`).
                Some(error) => Err(CommandError::Failure(anyhow::anyhow!(
                    "fleet sync: {error}; {} events wait in the outbox for the next sync",
                    report.backlog
                ))),
                None => Ok(ExitCode::SUCCESS),
            }
        }
        FleetCommand::Status => {
            let store = open_store_readonly(global, &config)?;
            let state = store.fleet_state()?;
            let host = fleet::host_name(&config);
            if global.json {
                output::print_json(&json!({
                    "configured": config.fleet.is_some(),
                    "host": host,
                    "state": state,
                }));
            } else {
                let when = |at: Option<f64>| {
                    at.map(crate::clock::rfc3339)
                        .unwrap_or_else(|| "never".to_string())
                };
                outln!(
                    "fleet:          {}",
                    if config.fleet.is_some() {
                        "configured"
                    } else {
                        "not configured"
                    }
                );
                outln!("host:           {host}");
                outln!("outbox:         {} events waiting", state.backlog);
                outln!("last sync:      {}", when(state.last_sync_at));
                outln!("last success:   {}", when(state.last_sync_ok_at));
                if let Some(error) = &state.last_sync_error {
                    outln!("last error:     {error}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn say(global: &Global, message: &str) {
    if global.json {
        output::print_json(&json!({ "skipped": true, "reason": message }));
    } else {
        outln!("{message}");
    }
}
