use super::output;
use crate::cli::{ConfigCommand, Global};
use crate::config::{Config, DEFAULT_CONFIG_TEXT};
use serde_json::json;
use std::process::ExitCode;

pub fn exec(global: &Global, command: ConfigCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConfigCommand::Default => {
            print!("{DEFAULT_CONFIG_TEXT}");
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::Check => check(global),
    }
}

fn check(global: &Global) -> anyhow::Result<ExitCode> {
    let config = match Config::load(global.config.as_deref()) {
        Ok(config) => config,
        Err(err) if global.json => {
            output::print_json(&json!({ "ok": false, "problems": err.problems() }));
            return Ok(ExitCode::from(super::error::EXIT_USAGE));
        }
        Err(err) => return Err(err.into()),
    };
    let checks: Vec<_> = config
        .checks
        .iter()
        .map(|c| json!({ "name": c.name, "kind": c.kind.name() }))
        .collect();
    let db = config.db_path(global.db.as_deref());
    if global.json {
        output::print_json(
            &json!({ "ok": true, "source": config.source, "db": db, "checks": checks }),
        );
    } else {
        let names: Vec<&str> = config.checks.iter().map(|c| c.name.as_str()).collect();
        println!("{}: ok", config.source);
        println!("  {} checks: {}", names.len(), names.join(", "));
        println!("  database: {}", db.display());
    }
    Ok(ExitCode::SUCCESS)
}
