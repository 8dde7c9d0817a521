//! Executing a plan: each action through `exec` (argv, timeout, bounded output) or a careful
//! file-system operation. Execution stops at the first failing action.

use super::{
    Action, Plan, DEFAULT_CLEAN_GLOB, DEFAULT_JOURNAL_SIZE, DEFAULT_RUN_TIMEOUT, DEFAULT_SIGNAL,
    DEFAULT_UNIT_TIMEOUT,
};
use crate::checks::host;
use crate::exec::{self, CommandSpec};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// What an action may act on besides its own fields.
pub struct ExecOptions<'a> {
    /// The check's unit: the default of unit actions.
    pub unit: Option<&'a str>,
    /// The check's configured remedies, for the `remedy` action.
    pub remedies: &'a [Action],
    /// Bytes of output kept per action.
    pub keep_bytes: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionReport {
    pub action: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct PlanReport {
    pub actions: Vec<ActionReport>,
}

impl ActionReport {
    /// The line that says why it failed: the first line of the command's own output, else
    /// how the command ended.
    pub fn why(&self) -> String {
        let mut lines = self.detail.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines.next().unwrap_or("");
        lines.next().unwrap_or(first).to_string()
    }
}

impl PlanReport {
    pub fn ok(&self) -> bool {
        self.actions.iter().all(|a| a.ok)
    }

    /// The record kept with the attempt: one block per action.
    pub fn output(&self) -> String {
        let blocks: Vec<String> = self
            .actions
            .iter()
            .map(|a| {
                format!(
                    "{} {}: {}",
                    if a.ok { "ok" } else { "FAILED" },
                    a.action,
                    a.detail.trim_end()
                )
            })
            .collect();
        blocks.join("\n")
    }
}

pub fn execute_plan(plan: &Plan, options: &ExecOptions) -> PlanReport {
    let mut report = PlanReport::default();
    for action in plan.actions() {
        let described = Plan(vec![action.clone()]).describe();
        log::info!("running {described}");
        let result = match action {
            Action::Remedy {} => run_remedies(options),
            other => execute_action(other, options),
        };
        let (ok, detail) = match result {
            Ok(detail) => (true, detail),
            Err(detail) => (false, detail),
        };
        let action = ActionReport {
            action: described,
            ok,
            detail,
        };
        if !ok {
            // The same words the attempt records as its reason.
            log::warn!("{} failed: {}", action.action, action.why());
        }
        report.actions.push(action);
        if !ok {
            break;
        }
    }
    report
}

fn run_remedies(options: &ExecOptions) -> Result<String, String> {
    if options.remedies.is_empty() {
        return Err("the check has no configured remedies".into());
    }
    // Remedies cannot refer to `remedy` again: that would recurse.
    let plan = Plan(
        options
            .remedies
            .iter()
            .filter(|a| !matches!(a, Action::Remedy {}))
            .cloned()
            .collect(),
    );
    let inner = execute_plan(&plan, options);
    if inner.ok() {
        Ok(inner.output())
    } else {
        Err(inner.output())
    }
}

type ActionResult = Result<String, String>;

/// How long `kill_process` waits for its targets to exit.
const KILL_WAIT: Duration = Duration::from_secs(10);

fn execute_action(action: &Action, options: &ExecOptions) -> ActionResult {
    match action {
        Action::RestartUnit { unit } => systemctl("restart", unit.as_deref(), options),
        Action::StartUnit { unit } => systemctl("start", unit.as_deref(), options),
        Action::ResetFailed { unit } => systemctl("reset-failed", unit.as_deref(), options),
        Action::Run { argv, timeout } => {
            run_argv(argv, timeout.unwrap_or(DEFAULT_RUN_TIMEOUT).std(), options)
        }
        Action::KillProcess { pid, name, signal } => kill_process(
            *pid,
            name.as_deref(),
            signal.as_deref().unwrap_or(DEFAULT_SIGNAL),
        ),
        Action::CleanFiles {
            path,
            older_than,
            glob,
        } => clean_files(
            Path::new(path),
            older_than.map(|d| d.std()).unwrap_or_default(),
            glob.as_deref().unwrap_or(DEFAULT_CLEAN_GLOB),
        ),
        Action::RemoveFile { path } => remove_file(Path::new(path)),
        Action::VacuumJournal { max_size } => {
            let size = max_size.as_deref().unwrap_or(DEFAULT_JOURNAL_SIZE);
            let argv = vec!["journalctl".to_string(), format!("--vacuum-size={size}")];
            run_argv(&argv, DEFAULT_UNIT_TIMEOUT.std(), options)
        }
        Action::Remedy {} => run_remedies(options),
    }
}

fn systemctl(verb: &str, unit: Option<&str>, options: &ExecOptions) -> ActionResult {
    let unit = unit
        .or(options.unit)
        .ok_or("no unit given and the check names none")?;
    let argv = vec![
        "systemctl".to_string(),
        verb.to_string(),
        "--".to_string(),
        unit.to_string(),
    ];
    run_argv(&argv, DEFAULT_UNIT_TIMEOUT.std(), options)
}

fn run_argv(argv: &[String], timeout: Duration, options: &ExecOptions) -> ActionResult {
    let mut spec = CommandSpec::new(argv.to_vec(), timeout);
    spec.keep_bytes = options.keep_bytes;
    // A remedy may start a daemon on purpose; only a hung one has its tree killed.
    spec.contain = exec::Containment::OnTimeout;
    let output = exec::run(&spec).map_err(|err| err.to_string())?;
    let text = format!(
        "{} ({})\n{}",
        argv.join(" "),
        output.describe_ending(),
        output.combined()
    );
    if output.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

fn signal_number(name: &str) -> Option<i32> {
    Some(match super::normalise_signal(name).as_str() {
        "TERM" | "15" => libc::SIGTERM,
        "KILL" | "9" => libc::SIGKILL,
        "HUP" | "1" => libc::SIGHUP,
        "INT" | "2" => libc::SIGINT,
        "QUIT" | "3" => libc::SIGQUIT,
        "USR1" | "10" => libc::SIGUSR1,
        "USR2" | "12" => libc::SIGUSR2,
        _ => return None,
    })
}

fn kill_process(pid: Option<i32>, name: Option<&str>, signal: &str) -> ActionResult {
    let signo = signal_number(signal).ok_or_else(|| format!("unknown signal {signal}"))?;
    let targets: Vec<i32> = match (pid, name) {
        (Some(pid), _) => vec![pid],
        (None, Some(name)) => host::pids_named(name),
        (None, None) => return Err("kill_process needs `pid` or `name`".into()),
    };
    let own = std::process::id() as i32;
    let targets: Vec<i32> = targets
        .into_iter()
        .filter(|p| *p > 1 && *p != own)
        .collect();
    if targets.is_empty() {
        // Nothing to stop is the state the plan wanted.
        return Ok(format!(
            "no matching process ({})",
            pid.map(|p| p.to_string())
                .or(name.map(str::to_string))
                .unwrap_or_default()
        ));
    }
    let mut signalled = Vec::new();
    for target in &targets {
        // SAFETY: kill(2) on a positive pid other than 1 and ourselves.
        if unsafe { libc::kill(*target, signo) } == 0 {
            signalled.push(target.to_string());
        }
    }
    if signalled.is_empty() {
        return Err(format!(
            "could not signal {targets:?}: {}",
            std::io::Error::last_os_error()
        ));
    }
    let sent = format!(
        "sent SIG{} to pid {}",
        super::normalise_signal(signal),
        signalled.join(", ")
    );
    wait_for_exit(&targets, sent)
}

/// Like `systemctl stop`, a kill is done when the processes are gone: the next action (a start
/// on the port they held) must not race their exit.
fn wait_for_exit(pids: &[i32], sent: String) -> ActionResult {
    let deadline = std::time::Instant::now() + KILL_WAIT;
    let mut pause = Duration::from_millis(1);
    while std::time::Instant::now() < deadline {
        if !pids.iter().any(|pid| host::pid_alive(*pid)) {
            return Ok(format!("{sent}; exited"));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
    let alive: Vec<String> = pids
        .iter()
        .filter(|p| host::pid_alive(**p))
        .map(|p| p.to_string())
        .collect();
    Err(format!(
        "{sent}; still running after {}s: {}",
        KILL_WAIT.as_secs(),
        alive.join(", ")
    ))
}

fn remove_file(path: &Path) -> ActionResult {
    match std::fs::symlink_metadata(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            Ok(format!("{} was already gone", path.display()))
        }
        Err(err) => Err(format!("{}: {err}", path.display())),
        Ok(meta) if meta.is_dir() => Err(format!(
            "{} is a directory; remove_file removes one file",
            path.display()
        )),
        Ok(_) => std::fs::remove_file(path)
            .map(|_| format!("removed {}", path.display()))
            .map_err(|e| format!("{}: {e}", path.display())),
    }
}

/// Deletes regular files under `root` (recursively, never following symlinks) whose name
/// matches `glob` and that were last modified longer ago than `older_than`.
fn clean_files(root: &Path, older_than: Duration, glob: &str) -> ActionResult {
    let matcher = globset::Glob::new(glob)
        .map_err(|e| format!("bad glob {glob}: {e}"))?
        .compile_matcher();
    let meta = std::fs::symlink_metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", root.display()));
    }
    let now = SystemTime::now();
    let (mut count, mut bytes, mut errors) = (0u64, 0u64, Vec::new());
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                pending.push(path);
                continue;
            }
            let old_enough = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .map(|age| age >= older_than)
                .unwrap_or(false);
            if meta.is_file() && old_enough && matcher.is_match(entry.file_name()) {
                match std::fs::remove_file(&path) {
                    Ok(()) => {
                        count += 1;
                        bytes += meta.len();
                    }
                    Err(err) => errors.push(format!("{}: {err}", path.display())),
                }
            }
        }
    }
    let summary = format!(
        "removed {count} files ({}) under {}",
        host::human_bytes(bytes),
        root.display()
    );
    if errors.is_empty() {
        Ok(summary)
    } else {
        Err(format!(
            "{summary}; could not remove: {}",
            errors.join("; ")
        ))
    }
}
