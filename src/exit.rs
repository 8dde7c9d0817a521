//! The exit statuses of the command line, one table (the README and orchestrator(1), EXIT
//! STATUS). They live at the bottom so each layer's error type can say, with its own
//! `exit_code()`, what it means for the user; `commands::CommandError` maps each one once.
//!
//! Exit status 0 is "done" (also a phase skipped because another cycle holds the lock).

/// Exit status 1: something failed while running (an action, the state disk, a mail server).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status 2: the user's to fix: bad arguments (clap uses 2 as well) or a bad config.
pub const EXIT_USAGE: u8 = 2;
/// Exit status 3: nothing to do: the incident, the held plan or the escalation named does not
/// exist or was already dealt with.
pub const EXIT_NOTHING_TO_DO: u8 = 3;
