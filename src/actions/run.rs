//! Executing a plan: each action through `exec` (argv, timeout, bounded output) or a careful
//! file-system operation. Execution stops at the first failing action.

use super::kill::{kill_process, KillScope};
use super::{
    check_unit_name, describe_action, Action, ActionError, Plan, DEFAULT_CLEAN_GLOB,
    DEFAULT_JOURNAL_SIZE, DEFAULT_RUN_TIMEOUT, DEFAULT_SIGNAL, DEFAULT_UNIT_TIMEOUT,
};
use crate::exec::{self, CommandSpec};
use crate::sys;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

/// What an action may act on besides its own fields.
#[derive(Clone, Copy)]
pub struct ExecOptions<'a> {
    /// The check's unit: the default of unit actions.
    pub unit: Option<&'a str>,
    /// The check's configured remedies, for the `remedy` action.
    pub remedies: &'a [Action],
    /// Bytes of output kept per action.
    pub keep_bytes: usize,
    /// The processes `kill_process` may signal.
    pub kill_scope: KillScope<'a>,
    /// The live files `clean_files` leaves alone; `None` for the admin's remedies and plans a
    /// person approved.
    pub keep: Option<&'a super::fs::Keep>,
    /// Told what identifies each command's processes as it starts (and `None` when it has
    /// ended), so the attempt can record it: if orchestrator is killed, the next run ends what
    /// the command left running.
    pub on_trace: &'a dyn Fn(Option<&exec::Trace>),
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionReport {
    /// Which action, for words such as "restart_unit failed"; `action` describes it whole.
    #[serde(skip)]
    pub kind: super::ActionKind,
    pub action: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct PlanReport {
    pub actions: Vec<ActionReport>,
}

impl ActionReport {
    /// The lines that say why it failed: the last error lines of the command's own output
    /// (a restart script prints its stop step first and the parse error last), else its last
    /// line, else how the command ended.
    pub fn why(&self) -> String {
        let lines: Vec<&str> = self
            .detail
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let Some((ending, output)) = lines.split_first() else {
            return String::new();
        };
        let errors = crate::evidence::error_lines(&output.join("\n"));
        match (errors.as_slice(), output.last()) {
            ([.., before, last], _) => format!("{before} / {last}"),
            ([last], _) => last.clone(),
            ([], Some(last)) => last.to_string(),
            ([], None) => ending.to_string(),
        }
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
        let described = describe_action(action);
        log::info!("running {described}");
        let (ok, detail) = match execute_action(action, options) {
            Ok(detail) => (true, detail),
            Err(err) => (false, err.to_string()),
        };
        let action = ActionReport {
            kind: action.kind(),
            action: described,
            ok,
            detail,
        };
        report.actions.push(action);
        if !ok {
            break;
        }
    }
    report
}

fn run_remedies(options: &ExecOptions) -> ActionResult {
    if options.remedies.is_empty() {
        return Err(ActionError::Invalid(
            "the check has no configured remedies".into(),
        ));
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
    // The admin wrote the remedies: their kills name what they mean, even inside an agent's plan.
    let admins = ExecOptions {
        kill_scope: KillScope {
            admin_written: true,
            ..options.kill_scope
        },
        keep: None,
        ..*options
    };
    let inner = execute_plan(&plan, &admins);
    if inner.ok() {
        Ok(inner.output())
    } else {
        Err(ActionError::Failed(inner.output()))
    }
}

type ActionResult = Result<String, ActionError>;

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
            &options.kill_scope,
        ),
        Action::CleanFiles {
            path,
            older_than,
            glob,
        } => clean_files(
            Path::new(path),
            older_than.map(|d| d.std()).unwrap_or_default(),
            glob.as_deref().unwrap_or(DEFAULT_CLEAN_GLOB),
            options.keep,
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
        .ok_or_else(|| ActionError::Invalid("no unit given and the check names none".into()))?;
    check_unit_name(unit).map_err(ActionError::Invalid)?;
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
    let output = exec::run_traced(&spec, options.on_trace)?;
    let text = format!(
        "{} ({})\n{}",
        argv.join(" "),
        output.describe_ending(),
        output.combined()
    );
    if output.success() {
        Ok(text)
    } else {
        Err(ActionError::Failed(text))
    }
}

fn remove_file(path: &Path) -> ActionResult {
    super::fs::remove_file(path).map_err(ActionError::Refused)
}

/// Deletes regular files under `root` (recursively, by directory descriptor: never through a
/// symlink, never into another filesystem) whose name matches `glob` and that were last
/// modified longer ago than `older_than`, leaving alone what `keep` keeps.
fn clean_files(
    root: &Path,
    older_than: Duration,
    glob: &str,
    keep: Option<&super::fs::Keep>,
) -> ActionResult {
    let matcher = globset::Glob::new(glob)
        .map_err(|e| ActionError::Invalid(format!("bad glob {glob}: {e}")))?
        .compile_matcher();
    let nothing = super::fs::Keep::default();
    let cleaned = super::fs::clean_files(root, older_than, &matcher, keep.unwrap_or(&nothing))
        .map_err(ActionError::Refused)?;
    let mut summary = format!(
        "removed {} files ({}) under {}",
        cleaned.files,
        sys::human_bytes(cleaned.bytes),
        root.display()
    );
    if let Some(skipped) = cleaned.skipped() {
        summary.push_str(&format!("; {skipped}"));
    }
    if cleaned.stopped {
        return Err(ActionError::Failed(format!(
            "{summary}; stopped after examining {} entries",
            super::fs::MAX_ENTRIES
        )));
    }
    if cleaned.errors.is_empty() {
        Ok(summary)
    } else {
        Err(ActionError::Failed(format!(
            "{summary}; could not remove: {}",
            cleaned.errors.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(detail: &str) -> ActionReport {
        ActionReport {
            kind: crate::actions::ActionKind::Run,
            action: "run(restart.sh)".into(),
            ok: false,
            detail: detail.into(),
        }
    }

    #[test]
    fn why_quotes_the_last_error_lines_not_the_first_line() {
        let report = failed(
            "restart.sh (exit status 1)\nStopping toy... done\nStarting toy\n2026-11-27T08:15:42+00:00 toy: parse error in /etc/toy.conf line 3: expected `=`\ntoy: refusing to start",
        );
        assert_eq!(
            report.why(),
            "2026-11-27T08:15:42+00:00 toy: parse error in /etc/toy.conf line 3: expected `=` / toy: refusing to start"
        );
        assert_eq!(failed("restart.sh (exit status 1)\nbye").why(), "bye");
        assert_eq!(
            failed("restart.sh (timed out after 5.0s and was killed)").why(),
            "restart.sh (timed out after 5.0s and was killed)"
        );
    }
}
