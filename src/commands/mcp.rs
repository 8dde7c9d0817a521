//! `orchestrator mcp`: the read-only investigation tools, served over MCP on stdio.

use super::{load_config, redactor, CommandError};
use crate::cli::Global;
use crate::mcp::Tools;
use std::process::ExitCode;

pub fn exec(global: &Global, incident: Option<i64>) -> Result<ExitCode, CommandError> {
    let config = load_config(global)?;
    let db = config.db_path(global.db.as_deref());
    let redactor = redactor(&config)?;
    let tools = Tools {
        config,
        db,
        incident,
        redactor,
    };
    crate::mcp::serve(tools).map_err(|err| CommandError::Failure(err.into()))?;
    Ok(ExitCode::SUCCESS)
}
