//! The one place that decides a command's exit status (the table is in the README and in
//! orchestrator(1), EXIT STATUS). The layers below still return `anyhow` errors; they are
//! sorted into a [`CommandError`] once, by [`CommandError::from`], at the top of
//! [`super::run`].

use crate::config::ConfigError;
use crate::phases::approval::ApprovalError;
use crate::store::StoreError;

// Exit status 0: done (also a phase skipped because another cycle holds the lock).
/// Exit status 1: something failed while running (an action, the state disk, a mail server).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status 2: the user's to fix: bad arguments (clap uses 2 as well) or a bad config.
pub const EXIT_USAGE: u8 = 2;
/// Exit status 3: nothing to do: the incident, the held plan or the escalation named does not
/// exist or was already dealt with.
pub const EXIT_NOTHING_TO_DO: u8 = 3;

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
}

fn problem_lines(err: &ConfigError) -> String {
    err.problems()
        .iter()
        .map(|problem| format!("\n{problem}"))
        .collect()
}

/// A usage error from code that still returns `anyhow` (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl From<anyhow::Error> for CommandError {
    /// Sorts an error from the layers below by what the user can do about it.
    fn from(err: anyhow::Error) -> CommandError {
        let err = match err.downcast::<CommandError>() {
            Ok(sorted) => return sorted,
            Err(err) => err,
        };
        let err = match err.downcast::<ConfigError>() {
            Ok(config) => return CommandError::Config(config),
            Err(err) => err,
        };
        if err.downcast_ref::<UsageError>().is_some() {
            return CommandError::Usage(err.to_string());
        }
        if is_nothing_to_do(&err) {
            return CommandError::NothingToDo(err.to_string());
        }
        CommandError::Failure(err)
    }
}

impl From<ConfigError> for CommandError {
    fn from(err: ConfigError) -> CommandError {
        CommandError::Config(err)
    }
}

/// A named incident, held plan or escalation that is not there or already dealt with.
fn is_nothing_to_do(err: &anyhow::Error) -> bool {
    let store_says_so = |store: &StoreError| {
        matches!(
            store,
            StoreError::NoIncident(_)
                | StoreError::NothingToAcknowledge(_)
                | StoreError::AlreadyClosed(..)
                | StoreError::NoSilence(_)
                | StoreError::SilenceEnded(..)
        )
    };
    err.chain().any(|cause| {
        if let Some(store) = cause.downcast_ref::<StoreError>() {
            return store_says_so(store);
        }
        match cause.downcast_ref::<ApprovalError>() {
            Some(ApprovalError::NothingHeld(_) | ApprovalError::AlreadyDecided(..)) => true,
            Some(ApprovalError::Store(store)) => store_says_so(store),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_things_exit_3_and_other_failures_1() {
        let held: anyhow::Error = ApprovalError::NothingHeld(7).into();
        assert_eq!(CommandError::from(held).exit_code(), EXIT_NOTHING_TO_DO);
        let ack: anyhow::Error = StoreError::NothingToAcknowledge(7).into();
        assert_eq!(CommandError::from(ack).exit_code(), EXIT_NOTHING_TO_DO);
        let other = anyhow::anyhow!("disk on fire");
        assert_eq!(CommandError::from(other).exit_code(), EXIT_FAILURE);
        let usage: anyhow::Error = UsageError("bad".into()).into();
        assert_eq!(CommandError::from(usage).exit_code(), EXIT_USAGE);
    }

    #[test]
    fn a_context_does_not_hide_what_is_missing() {
        let err = anyhow::Error::from(StoreError::NoIncident(9)).context("approving");
        assert_eq!(CommandError::from(err).exit_code(), EXIT_NOTHING_TO_DO);
    }
}
