//! `notify-failure UNIT`: what systemd's `OnFailure=` runs when an orchestrator unit fails. It
//! needs no database (the failure may be the database's), only the config's `[escalation]`.

use super::{load_config, CommandError};
use crate::cli::Global;
use crate::phases::unrecorded;
use std::process::ExitCode;

pub fn exec(global: &Global, unit: &str) -> Result<ExitCode, CommandError> {
    let config = load_config(global)?;
    let db = config.db_path(global.db.as_deref());
    let told = unrecorded::unit_failed(&config, &db, unit, global.dry_run);
    if global.json {
        super::output::print_json(&serde_json::to_value(&told)?);
    } else {
        outln!(
            "{unit} failed; direct message: {}",
            super::report::direct_outcome(&told)
        );
    }
    // Nobody told: systemd shows this unit failed as well.
    Ok(match told.result {
        "failed" | "no_channel" => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}
