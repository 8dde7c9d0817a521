//! One module per subcommand (house style: thin commands). Each turns arguments into a call to
//! the core and prints the result, as a table or, with `--json`, one JSON document.
//!
//! Output goes through `outln!`, `out!` and `errln!` ([`output::write_out`]): `println!` panics
//! when the reader of a pipe went away (`orchestrator incidents show 1 | head`), and these end
//! the printing quietly instead. The lints below keep it so.
#![deny(clippy::print_stdout, clippy::print_stderr)]

/// `println!` that stops quietly when stdout's reader went away (see `output`).
macro_rules! outln {
    () => { $crate::commands::output::write_out($crate::commands::output::Stream::Stdout, format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::commands::output::write_out(
            $crate::commands::output::Stream::Stdout,
            format_args!("{}\n", format_args!($($arg)*)),
        )
    };
}

/// `print!` that stops quietly when stdout's reader went away.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::commands::output::write_out($crate::commands::output::Stream::Stdout, format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::commands::output::write_out(
            $crate::commands::output::Stream::Stderr,
            format_args!("{}\n", format_args!($($arg)*)),
        )
    };
}

mod agents;
mod config;
mod consult;
mod cycle;
mod discover;
mod error;
mod escalate;
mod fix;
mod fleet;
mod incidents;
mod mcp;
mod metrics;
mod notify_failure;
mod output;
mod patterns;
mod report;
mod research;
mod scan;
mod serve;
mod silence;

pub use error::CommandError;

use crate::cli::{Cli, Command, Global};
use crate::config::Config;
use crate::journald;
use crate::lock::{CycleLock, DeliveryLock, LockError};
use crate::phases::deliver::Delivery;
use crate::phases::Runtime;
use crate::redact::Redactor;
use crate::store::Store;
use report::{PhaseReport, UnrecordedChecks, UnrecordedReport};
use std::process::ExitCode;

pub fn run(cli: Cli) -> ExitCode {
    let global = cli.global;
    let result = match cli.command {
        Command::Scan {
            exit_status,
            checks,
        } => scan::exec(&global, exit_status, &checks),
        Command::Fix => fix::exec(&global),
        Command::Research => research::exec(&global),
        Command::Consult => consult::exec(&global),
        Command::Escalate { resend, test } => escalate::exec(&global, &resend, test),
        Command::Serve { listen, login_link } => {
            serve::exec(&global, listen.as_deref(), login_link)
        }
        Command::Cycle => cycle::exec(&global),
        Command::Metrics {
            since,
            prometheus,
            textfile,
        } => metrics::exec(&global, since, prometheus, textfile.as_deref()),
        Command::Incidents { command } => incidents::exec(&global, command),
        Command::Silence { command } => silence::exec(&global, command),
        Command::Patterns { command } => patterns::exec(&global, command),
        Command::Config { command } => config::exec(&global, command),
        Command::NotifyFailure { unit } => notify_failure::exec(&global, &unit),
        Command::Mcp { incident } => mcp::exec(&global, incident),
        Command::Agents { command } => agents::exec(&global, command),
        Command::Fleet { command } => fleet::exec(&global, command),
    };
    // Output lost for another reason than a closed reader fails the command (exit 1).
    let result = result.and_then(|code| {
        output::finish()
            .map(|()| code)
            .map_err(|err| CommandError::Failure(anyhow::anyhow!(err)))
    });
    crate::clock::span("command done");
    if log::log_enabled!(log::Level::Debug) {
        log::debug!("memory: {}", crate::sys::memory_use());
    }
    match result {
        Ok(code) => code,
        Err(err) => {
            journald::print_error(&format!("orchestrator: {err}"));
            ExitCode::from(err.exit_code())
        }
    }
}

pub(crate) fn load_config(global: &Global) -> Result<Config, CommandError> {
    crate::clock::span("command line read");
    let config = Config::load(global.config.as_deref())?;
    crate::clock::span("config loaded");
    Ok(config)
}

/// Opens the store to record a person's decision (no lock: WAL lets readers in during a cycle).
/// On a full or read-only state disk it fails saying so: the decision is not recorded.
pub(crate) fn open_store(global: &Global, config: &Config) -> Result<Store, CommandError> {
    use crate::phases::broken_state;
    let path = config.db_path(global.db.as_deref());
    let store = Store::open(&path).map_err(|err| {
        if !err.is_storage_failure() {
            return CommandError::from(err);
        }
        let cause = broken_state::storage_failure(&err.into()).unwrap_or_default();
        CommandError::Failure(anyhow::anyhow!(
            "{}; nothing was recorded",
            broken_state::describe(&path, &cause)
        ))
    })?;
    Ok(store.masking_with(redactor(config)?))
}

/// Opens the store for reading and listing: it never creates, migrates or writes the database,
/// so it works on a read-only or full state disk, and a mistyped `--db` is an error.
pub(crate) fn open_store_readonly(global: &Global, config: &Config) -> Result<Store, CommandError> {
    let path = config.db_path(global.db.as_deref());
    Ok(Store::open_readonly(&path)?.masking_with(redactor(config)?))
}

/// Runs `work` as a phase holding the cycle lock: a second process skips (exit 0) or, with
/// `--wait`, waits. Every phase run is recorded in `cycles`. `work` fails with what the phase
/// returns: `anyhow` (a failure) or a typed error that says its own exit status.
pub(crate) fn with_phase_lock<R: PhaseReport, E>(
    global: &Global,
    name: &str,
    work: impl FnOnce(&mut Runtime) -> Result<R, E>,
) -> Result<ExitCode, CommandError>
where
    CommandError: From<E>,
{
    let config = load_config(global)?;
    run_phase(global, &config, name, false, work).map(|_| ExitCode::SUCCESS)
}

/// As [`with_phase_lock`], then, with the cycle lock released, sends the due notifications
/// and hands what happened to the report: a slow mail server never holds up the healing
/// phases of the next run.
pub(crate) fn with_phase_lock_then_deliver<R: PhaseReport, E>(
    global: &Global,
    name: &str,
    work: impl FnOnce(&mut Runtime) -> Result<R, E>,
) -> Result<ExitCode, CommandError>
where
    CommandError: From<E>,
{
    let config = load_config(global)?;
    run_phase(global, &config, name, true, work).map(|_| ExitCode::SUCCESS)
}

/// Runs and prints a phase; the report is returned for commands whose exit status depends on
/// it (`scan --exit-status`), or `None` when the phase was skipped.
pub(crate) fn run_phase<R: PhaseReport, E>(
    global: &Global,
    config: &Config,
    name: &str,
    deliver: bool,
    work: impl FnOnce(&mut Runtime) -> Result<R, E>,
) -> Result<Option<R>, CommandError>
where
    CommandError: From<E>,
{
    let db = config.db_path(global.db.as_deref());
    let (mut store, mut report) = {
        let _lock = match CycleLock::acquire(&db, global.wait) {
            Ok(lock) => lock,
            Err(LockError::Busy(path)) => {
                print_skipped(global, name, &path);
                return Ok(None);
            }
            Err(err) => return Err(err.into()),
        };
        crate::clock::span("cycle lock taken");
        remove_abandoned_workspaces(&db);
        let store = Store::open(&db)?;
        crate::clock::span("database opened and migrations checked");
        let mut store = store.masking_with(redactor(config)?);
        crate::clock::span("redaction rules read");
        // The fleet's outbox is filled (by triggers) only while `[fleet]` is configured.
        store.set_fleet_enabled(config.fleet.is_some())?;
        let cycle = store.begin_cycle(name)?;
        let mut runtime = Runtime {
            config,
            store: &mut store,
            dry_run: global.dry_run,
        };
        // Maintenance windows become silences before anything reads silences.
        crate::phases::maintenance::sync(&mut runtime)?;
        let report = work(&mut runtime)?;
        crate::clock::span(&format!("{name} done"));
        store.finish_cycle(cycle, &report.counts())?;
        (store, report)
    };
    if deliver && !global.dry_run {
        report.delivered(deliver_unlocked(config, &db, &mut store)?);
    }
    if global.json {
        output::print_json(&serde_json::to_value(&report)?);
    } else if journald::stdout_is_journal() {
        // In a unit the table would be a dozen journal lines per run: the phases have logged
        // each change of state already, and a scan adds its one summary line.
        if let Some(summary) = report.journal_summary() {
            log::info!("{summary}");
        }
    } else {
        let text = report.render_text();
        // Nothing left to print when `cycle` showed every part as it ran.
        if !text.is_empty() {
            outln!("{text}");
        }
    }
    crate::clock::span("report printed");
    Ok(Some(report))
}

/// Recovery of a killed run's agent workspaces (its context files hold the incident, facts
/// and logs): the run that takes the cycle lock removes those whose process is gone.
fn remove_abandoned_workspaces(db: &std::path::Path) {
    let removed = crate::agents::remove_abandoned_workspaces(&crate::agents::workspaces_dir(db));
    if !removed.is_empty() {
        let names: Vec<String> = removed.iter().map(|p| p.display().to_string()).collect();
        log::warn!(
            "removed {} agent workspace(s) a killed run left: {}",
            removed.len(),
            names.join(", ")
        );
    }
}

fn print_skipped(global: &Global, name: &str, lock: &std::path::Path) {
    let message = format!(
        "{name} skipped: another orchestrator cycle is running (it holds {})",
        lock.display()
    );
    if global.json {
        output::print_json(&serde_json::json!({ "skipped": true, "reason": message }));
    } else {
        outln!("{message}; use --wait to wait for it");
    }
}

/// The one redactor of a process: the built-in rules and the config's `[context] redact`.
pub(crate) fn redactor(config: &Config) -> Result<Redactor, CommandError> {
    Ok(Redactor::new(&config.context.redact)?)
}

/// Delivery under its own lock; when another process holds it, that one sends what is due.
pub(crate) fn deliver_unlocked(
    config: &Config,
    db: &std::path::Path,
    store: &mut Store,
) -> Result<Vec<Delivery>, CommandError> {
    match DeliveryLock::try_acquire(db) {
        Ok(_lock) => {
            let delivered = crate::phases::deliver::deliver(config, store)?;
            // Under the same lock, so that two deliverers never tell it twice. A notice that
            // cannot be recorded now is told by the next run: the delivery stands.
            if let Err(err) = crate::phases::maintenance::announce(config, store) {
                log::warn!("maintenance notices wait for the next run: {err}");
            }
            Ok(delivered)
        }
        Err(LockError::Busy(path)) => {
            log::debug!(
                "not delivering: another orchestrator process delivers (it holds {})",
                path.display()
            );
            Ok(Vec::new())
        }
        Err(err) => Err(err.into()),
    }
}

/// For the commands that run the checks (`scan`, `cycle`): when the state cannot be kept (a
/// full, read-only or failing disk), the checks still run and print, a person is told directly
/// (see [`crate::phases::broken_state`]) and the exit status is 1, so systemd's `OnFailure=`
/// fires too. Any other error is returned as it is. `config` is the one the phase ran with.
pub(crate) fn or_tell_a_person(
    global: &Global,
    config: &Config,
    result: Result<ExitCode, CommandError>,
) -> Result<ExitCode, CommandError> {
    use crate::phases::broken_state;
    let db = config.db_path(global.db.as_deref());
    let err = match result {
        Ok(code) => {
            broken_state::state_is_back(&db);
            return Ok(code);
        }
        // Only a failure can be the state's: the other errors say what the user can do.
        Err(CommandError::Failure(err)) => err,
        Err(other) => return Err(other),
    };
    let Some(cause) = broken_state::storage_failure(&err) else {
        return Err(CommandError::Failure(err));
    };
    let problem = broken_state::describe(&db, &cause);
    let checks = match broken_state::checks_kept(&err) {
        Some(checks) => checks,
        None => run_checks_unrecorded(config)?,
    };
    let told = broken_state::tell_a_person(config, &db, &problem, &checks, global.dry_run);
    let report = UnrecordedReport {
        unrecorded: true,
        state_error: problem,
        scan: UnrecordedChecks { checks },
        direct_escalation: told,
    };
    if global.json {
        output::print_json(&serde_json::to_value(&report)?);
    } else {
        outln!("{}", report.render_text());
    }
    Ok(ExitCode::from(1))
}

fn run_checks_unrecorded(
    config: &Config,
) -> Result<Vec<crate::phases::scan::CheckLine>, CommandError> {
    let redactor = redactor(config)?;
    // No database: nothing remembered, and nothing to keep.
    let results = crate::checks::run_all(&config.checks, &[], config.cycle.parallelism);
    Ok(config
        .checks
        .iter()
        .zip(&results)
        .map(|(check, result)| crate::phases::scan::unrecorded_line(check, result, &redactor))
        .collect())
}

/// Who a person is, for decisions recorded from the shell: `cli:NAME` (see [`person`]).
pub(crate) fn operator(by: Option<&str>) -> Result<String, CommandError> {
    Ok(format!("cli:{}", person(by)?))
}

/// The person at the keyboard: `--by NAME`; else the one behind sudo (`$SUDO_USER`); else the
/// login name: the uid the kernel keeps from the login (`/proc/self/loginuid`), the owner of
/// the terminal (both survive `su`), `$LOGNAME`; else `$USER`; else the user's own name
/// (`uid N` when `/etc/passwd` does not list it). So root's shell
/// reached by `sudo -i` or `su -` still records alice, not root or `cli:unknown`.
pub(crate) fn person(by: Option<&str>) -> Result<String, CommandError> {
    if let Some(name) = by {
        let name = name.trim();
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(CommandError::Usage(format!(
                "--by {name:?}: give a person's name (not empty, no control characters)"
            )));
        }
        return Ok(name.to_string());
    }
    let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let logged_in = || {
        [crate::sys::login_uid(), crate::sys::terminal_owner()]
            .into_iter()
            .flatten()
            .find_map(crate::sys::user_name)
    };
    Ok(from_env("SUDO_USER")
        .or_else(logged_in)
        .or_else(|| from_env("LOGNAME"))
        .or_else(|| from_env("USER"))
        .unwrap_or_else(|| {
            let uid = rustix::process::getuid().as_raw();
            crate::sys::user_name(uid).unwrap_or_else(|| format!("uid {uid}"))
        }))
}
