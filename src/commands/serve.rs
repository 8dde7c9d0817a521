use super::{load_config, UsageError};
use crate::cli::Global;
use crate::store::Store;
use crate::web::{self, ServeError};
use std::process::ExitCode;

pub fn exec(global: &Global, listen: Option<&str>) -> anyhow::Result<ExitCode> {
    let config = load_config(global)?;
    let db = config.db_path(global.db.as_deref());
    // Create and migrate the database once, so pages can open it read-only.
    drop(Store::open(&db)?);
    let listen = listen
        .map(str::to_string)
        .unwrap_or_else(|| config.serve.listen.clone());
    let (dashboard, addr) = web::prepare(config, db, &listen).map_err(usage)?;
    web::run(dashboard, addr)?;
    Ok(ExitCode::SUCCESS)
}

/// A refused address or token is the user's to fix: exit 2.
fn usage(err: ServeError) -> anyhow::Error {
    match err {
        ServeError::Listen(..) => err.into(),
        other => UsageError(other.to_string()).into(),
    }
}
