use super::with_phase_lock;
use crate::cli::Global;
use crate::phases::consult::consult;
use std::process::ExitCode;

pub fn exec(global: &Global) -> anyhow::Result<ExitCode> {
    with_phase_lock(global, "consult", consult)
}
