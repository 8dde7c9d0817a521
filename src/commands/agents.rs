//! `orchestrator agents schema`: the JSON Schema of an agent's answer.

use super::CommandError;
use crate::cli::{AgentsCommand, Global};
use std::process::ExitCode;

pub fn exec(_global: &Global, command: AgentsCommand) -> Result<ExitCode, CommandError> {
    match command {
        AgentsCommand::Schema => {
            let schema = crate::agents::protocol::answer_schema();
            outln!("{}", serde_json::to_string_pretty(&schema)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
