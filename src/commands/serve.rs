use super::{load_config, CommandError};
use crate::cli::Global;
use crate::store::Store;
use crate::web;
use std::process::ExitCode;

pub fn exec(
    global: &Global,
    listen: Option<&str>,
    login_link: bool,
) -> Result<ExitCode, CommandError> {
    let config = load_config(global)?;
    let db = config.db_path(global.db.as_deref());
    if login_link {
        return print_login_link(global, &config, &db, listen);
    }
    prepare_database(&db)?;
    let listen = listen
        .map(str::to_string)
        .unwrap_or_else(|| config.serve.listen.clone());
    let (dashboard, addr) = web::prepare(config, db, &listen)?;
    web::run(dashboard, addr)?;
    Ok(ExitCode::SUCCESS)
}

/// `serve --login-link`: a one-time link to the dashboard as people reach it: `--listen`'s
/// address if given, else `[escalation] dashboard_url`, else `[serve] listen`.
fn print_login_link(
    global: &Global,
    config: &crate::config::Config,
    db: &std::path::Path,
    listen: Option<&str>,
) -> Result<ExitCode, CommandError> {
    let base = match listen {
        Some(listen) => format!("http://{listen}"),
        None => config
            .escalation
            .as_ref()
            .and_then(|e| e.dashboard_url.clone())
            .unwrap_or_else(|| format!("http://{}", config.serve.listen)),
    };
    let link = web::login_link(config, db, &base)?;
    if global.json {
        super::output::print_json(&serde_json::json!({
            "login_link": link,
            "valid_for_seconds": web::LOGIN_LINK_TTL,
        }));
    } else {
        outln!("{link}");
        errln!("(works once, within 10 minutes)");
    }
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
