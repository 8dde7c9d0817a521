use super::{with_phase_lock, CommandError};
use crate::cli::Global;
use crate::phases::research::research;
use std::process::ExitCode;

pub fn exec(global: &Global) -> Result<ExitCode, CommandError> {
    with_phase_lock(global, "research", research)
}
