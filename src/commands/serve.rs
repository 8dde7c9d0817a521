use super::{load_config, CommandError};
use crate::cli::Global;
use crate::store::Store;
use crate::web;
use std::process::ExitCode;

pub fn exec(global: &Global, listen: Option<&str>) -> Result<ExitCode, CommandError> {
    let config = load_config(global)?;
    let db = config.db_path(global.db.as_deref());
    prepare_database(&db)?;
    let listen = listen
        .map(str::to_string)
        .unwrap_or_else(|| config.serve.listen.clone());
    let (dashboard, addr) = web::prepare(config, db, &listen)?;
    web::run(dashboard, addr)?;
    Ok(ExitCode::SUCCESS)
}

/// Creates and migrates the database once, so pages can open it read-only. On a full or
/// read-only state disk the dashboard still shows what is recorded; a person's decisions fail
/// with the reason until the disk is writable again.
fn prepare_database(db: &std::path::Path) -> Result<(), CommandError> {
    match Store::open(db) {
        Ok(_) => Ok(()),
        Err(err) if err.is_storage_failure() => {
            Store::open_readonly(db)?;
            log::error!(
                "critical: the dashboard cannot write {}: {err}; it serves what is recorded, read-only",
                db.display()
            );
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}
