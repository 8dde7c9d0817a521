use super::{with_phase_lock_then_deliver, CommandError};
use crate::cli::Global;
use crate::phases::escalate::escalate;
use std::process::ExitCode;

pub fn exec(global: &Global) -> Result<ExitCode, CommandError> {
    with_phase_lock_then_deliver(global, "escalate", escalate)
}
