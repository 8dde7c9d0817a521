//! The one place that decides a command's exit status (the table is in the README and in
//! orchestrator(1), EXIT STATUS; its numbers are in [`crate::exit`]). Every command returns
//! `Result<_, CommandError>`. Each typed error of a layer below says what it means for the user
//! with its own `exit_code()` (`StoreError`, `ApprovalError`, `ResolveError`, `ConfigError`,
//! `ServeError`, `LockError`); the `From` impls here map that code to a variant once, and
//! [`super::run`] prints the error and exits with [`CommandError::exit_code`]. An `anyhow`
//! error, what the phases return, is a failure while running (1), whatever it holds.

use crate::config::ConfigError;
use crate::lock::LockError;
use crate::phases::approval::{ApprovalError, ResolveError};
use crate::store::StoreError;
use crate::web::ServeError;

pub use crate::exit::{EXIT_FAILURE, EXIT_NOTHING_TO_DO, EXIT_USAGE};

/// Why a command did not succeed, which is what its exit status says.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Bad arguments or a refused input (`--plan` that is not a plan, a bad `--listen`).
    #[error("{0}")]
    Usage(String),
    /// The config is invalid: every problem, one per line.
    #[error("invalid config:{}", problem_lines(.0))]
    Config(ConfigError),
    /// What the command names is not there, or was already dealt with.
    #[error("{0}")]
    NothingToDo(String),
    /// Anything else that went wrong while running.
    #[error("{0:#}")]
    Failure(anyhow::Error),
}

impl CommandError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Usage(_) | CommandError::Config(_) => EXIT_USAGE,
            CommandError::NothingToDo(_) => EXIT_NOTHING_TO_DO,
            CommandError::Failure(_) => EXIT_FAILURE,
        }
    }

    /// Sorts a layer's error by the exit status it says it means: 3 nothing to do, 2 the
    /// user's to fix, anything else a failure (kept whole, so its causes print once).
    fn sorted<E>(code: u8, err: E) -> CommandError
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        match code {
            EXIT_NOTHING_TO_DO => CommandError::NothingToDo(err.to_string()),
            EXIT_USAGE => CommandError::Usage(err.to_string()),
            _ => CommandError::Failure(err.into()),
        }
    }
}

fn problem_lines(err: &ConfigError) -> String {
    err.problems()
        .iter()
        .map(|problem| format!("\n{problem}"))
        .collect()
}

impl From<anyhow::Error> for CommandError {
    /// What the phases return: a runtime failure. A phase whose error can mean anything else
    /// returns a typed error instead (as `approval::approve` does).
    fn from(err: anyhow::Error) -> CommandError {
        CommandError::Failure(err)
    }
}

impl From<ConfigError> for CommandError {
    fn from(err: ConfigError) -> CommandError {
        debug_assert_eq!(err.exit_code(), EXIT_USAGE);
        CommandError::Config(err)
    }
}

impl From<StoreError> for CommandError {
    fn from(err: StoreError) -> CommandError {
        CommandError::sorted(err.exit_code(), err)
    }
}

impl From<ApprovalError> for CommandError {
    fn from(err: ApprovalError) -> CommandError {
        match err {
            // The run's own error as it came, so `{:#}` prints its causes as before.
            ApprovalError::Run(err) => CommandError::Failure(err),
            err => CommandError::sorted(err.exit_code(), err),
        }
    }
}

impl From<ResolveError> for CommandError {
    fn from(err: ResolveError) -> CommandError {
        CommandError::sorted(err.exit_code(), err)
    }
}

impl From<ServeError> for CommandError {
    fn from(err: ServeError) -> CommandError {
        CommandError::sorted(err.exit_code(), err)
    }
}

impl From<LockError> for CommandError {
    fn from(err: LockError) -> CommandError {
        CommandError::sorted(err.exit_code(), err)
    }
}

/// Failures of the commands' own work: writing JSON, a metrics text file.
macro_rules! failures {
    ($($error:ty),*) => {$(
        impl From<$error> for CommandError {
            fn from(err: $error) -> CommandError {
                CommandError::Failure(err.into())
            }
        }
    )*};
}

failures!(serde_json::Error, std::io::Error, regex::Error);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_layer_is_sorted_by_its_own_exit_code() {
        let held = CommandError::from(ApprovalError::NothingHeld(7));
        assert_eq!(held.exit_code(), EXIT_NOTHING_TO_DO);
        let ack = CommandError::from(StoreError::NothingToAcknowledge(7));
        assert_eq!(ack.exit_code(), EXIT_NOTHING_TO_DO);
        let missing = CommandError::from(ApprovalError::Store(StoreError::NoIncident(9)));
        assert_eq!(missing.exit_code(), EXIT_NOTHING_TO_DO);
        assert_eq!(missing.to_string(), "no incident 9");
        let refused = CommandError::from(ResolveError::Refused("no".into()));
        assert_eq!(refused.exit_code(), EXIT_USAGE);
        let listen = CommandError::from(ServeError::BadListen("x".into()));
        assert_eq!(listen.exit_code(), EXIT_USAGE);
    }

    #[test]
    fn anything_from_the_phases_is_a_failure_printed_with_its_causes() {
        let err = anyhow::Error::from(StoreError::NoIncident(9)).context("approving");
        let sorted = CommandError::from(err);
        assert_eq!(sorted.exit_code(), EXIT_FAILURE);
        assert_eq!(sorted.to_string(), "approving: no incident 9");
        let run = CommandError::from(ApprovalError::Run(anyhow::anyhow!("disk on fire")));
        assert_eq!(run.exit_code(), EXIT_FAILURE);
        assert_eq!(run.to_string(), "disk on fire");
    }
}
