//! The policy agent plans must pass (docs/agents.md, "The policy"). Configured remedies are
//! trusted; agent plans are not: every action must be allowed, touch only the incident's unit or `units`, only paths
//! under `paths`, and run only argv matching `commands` — or the whole plan is rejected. The
//! incident's text never enters these decisions, so no log line can widen them.

use crate::actions::{full_unit_name, Action, Plan};
use crate::config::PolicyConfig;
use globset::{Glob, GlobBuilder, GlobMatcher};
use serde::Serialize;
use std::path::{Component, Path, PathBuf};

/// Plans longer than this are rejected: a fix is a few steps, not a script.
pub const MAX_PLAN_ACTIONS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", content = "reasons", rename_all = "snake_case")]
pub enum Verdict {
    Allowed,
    /// Every action is allowed, some only after a person approves (`[policy] approve`).
    NeedsApproval(Vec<String>),
    Rejected(Vec<String>),
}

pub struct Policy<'a> {
    config: &'a PolicyConfig,
    units: Vec<GlobMatcher>,
    paths: Vec<GlobMatcher>,
}

fn path_glob(pattern: &str) -> Option<GlobMatcher> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

impl<'a> Policy<'a> {
    pub fn new(config: &'a PolicyConfig) -> Policy<'a> {
        let units = config
            .units
            .iter()
            .filter_map(|u| Glob::new(&full_unit_name(u)).ok())
            .map(|g| g.compile_matcher())
            .collect();
        let paths = config.paths.iter().filter_map(|p| path_glob(p)).collect();
        Policy {
            config,
            units,
            paths,
        }
    }

    /// Judges a whole plan for an incident whose check guards `incident_unit`.
    pub fn judge(&self, plan: &Plan, incident_unit: Option<&str>) -> Verdict {
        let mut rejections = Vec::new();
        let mut approvals = Vec::new();
        if plan.is_empty() {
            rejections.push("the plan is empty".to_string());
        }
        if plan.actions().len() > MAX_PLAN_ACTIONS {
            rejections.push(format!(
                "the plan has {} actions; at most {MAX_PLAN_ACTIONS} are allowed",
                plan.actions().len()
            ));
        }
        for (index, action) in plan.actions().iter().enumerate() {
            let step = format!("action {} ({})", index + 1, action.kind());
            let kind = action.kind();
            if self.config.approve.contains(&kind) {
                approvals.push(format!(
                    "{step} needs a person's approval ([policy] approve)"
                ));
            } else if !self.config.actions.contains(&kind) {
                rejections.push(format!(
                    "{step}: `{kind}` is not allowed by [policy] actions"
                ));
                continue;
            }
            if let Err(why) = self.check_target(action, incident_unit) {
                rejections.push(format!("{step}: {why}"));
            }
        }
        match (rejections.is_empty(), approvals.is_empty()) {
            (false, _) => Verdict::Rejected(rejections),
            (true, false) => Verdict::NeedsApproval(approvals),
            (true, true) => Verdict::Allowed,
        }
    }

    fn check_target(&self, action: &Action, incident_unit: Option<&str>) -> Result<(), String> {
        match action {
            Action::RestartUnit { unit }
            | Action::StartUnit { unit }
            | Action::ResetFailed { unit } => {
                self.check_unit(unit.as_deref().or(incident_unit), incident_unit)
            }
            Action::Run { argv, .. } => self.check_argv(argv),
            Action::KillProcess { pid, name, .. } => match (pid, name) {
                (Some(pid), _) if *pid <= 1 => Err(format!("pid {pid} may never be signalled")),
                (None, None) => Err("kill_process needs `pid` or `name`".into()),
                _ => Ok(()),
            },
            Action::CleanFiles { path, glob, .. } => {
                if glob.as_deref().is_some_and(|g| g.contains('/')) {
                    return Err(
                        "clean_files `glob` matches file names and may not contain `/`".into(),
                    );
                }
                self.check_path(path)
            }
            Action::RemoveFile { path } => self.check_path(path),
            Action::VacuumJournal { .. } | Action::Remedy {} => Ok(()),
        }
    }

    fn check_unit(&self, unit: Option<&str>, incident_unit: Option<&str>) -> Result<(), String> {
        let Some(unit) = unit else {
            return Err("no unit named and the check guards none".into());
        };
        let unit = full_unit_name(unit);
        if incident_unit.map(full_unit_name).as_deref() == Some(unit.as_str())
            || self.units.iter().any(|g| g.is_match(&unit))
        {
            return Ok(());
        }
        Err(format!(
            "unit `{unit}` is neither the incident's own nor matched by [policy] units"
        ))
    }

    fn check_argv(&self, argv: &[String]) -> Result<(), String> {
        if argv.is_empty() {
            return Err("`run` needs a non-empty argv".into());
        }
        let allowed = self
            .config
            .commands
            .iter()
            .any(|pattern| argv_matches(pattern, argv));
        if allowed {
            Ok(())
        } else {
            Err(format!(
                "argv {argv:?} matches no entry of [policy] commands"
            ))
        }
    }

    fn check_path(&self, path: &str) -> Result<(), String> {
        let resolved = resolve_path(path)?;
        let text = resolved.to_string_lossy();
        if self.paths.iter().any(|g| g.is_match(text.as_ref())) {
            Ok(())
        } else {
            Err(format!(
                "path `{path}` (resolved: {text}) is not under [policy] paths"
            ))
        }
    }
}

/// An argv glob list matches when it has as many words as argv and each glob matches its
/// word; a last word of `**` matches any remaining words.
pub fn argv_matches(pattern: &[String], argv: &[String]) -> bool {
    let open_ended = pattern.last().is_some_and(|p| p == "**");
    let fixed = if open_ended {
        &pattern[..pattern.len() - 1]
    } else {
        pattern
    };
    if argv.len() < fixed.len() || (!open_ended && argv.len() != fixed.len()) {
        return false;
    }
    fixed.iter().zip(argv).all(|(glob, word)| {
        Glob::new(glob)
            .map(|g| g.compile_matcher().is_match(word))
            .unwrap_or(false)
    })
}

/// An absolute path with no `..`, and with symlinks in its existing part resolved, so that a
/// link under /tmp cannot lead a deletion to /etc.
fn resolve_path(path: &str) -> Result<PathBuf, String> {
    let path = Path::new(path);
    if !path.is_absolute() {
        return Err(format!("path `{}` is not absolute", path.display()));
    }
    if path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(format!("path `{}` contains `..`", path.display()));
    }
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut resolved = existing
        .canonicalize()
        .map_err(|e| format!("cannot resolve `{}`: {e}", path.display()))?;
    for name in rest.into_iter().rev() {
        resolved.push(name);
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::ActionKind;

    fn policy_config() -> PolicyConfig {
        PolicyConfig {
            actions: vec![
                ActionKind::RestartUnit,
                ActionKind::RemoveFile,
                ActionKind::CleanFiles,
                ActionKind::Run,
            ],
            units: vec!["worker-*".into()],
            paths: vec!["/tmp/**".into()],
            commands: vec![vec!["systemctl".into(), "reload".into(), "*".into()]],
            approve: vec![ActionKind::KillProcess],
            ..PolicyConfig::default()
        }
    }

    fn plan(json: &str) -> Plan {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn allows_the_incidents_unit_and_matching_units() {
        let config = policy_config();
        let policy = Policy::new(&config);
        assert_eq!(
            policy.judge(&plan(r#"[{"action":"restart_unit"}]"#), Some("web")),
            Verdict::Allowed
        );
        assert_eq!(
            policy.judge(
                &plan(r#"[{"action":"restart_unit","unit":"worker-3"}]"#),
                Some("web")
            ),
            Verdict::Allowed
        );
        assert!(matches!(
            policy.judge(
                &plan(r#"[{"action":"restart_unit","unit":"sshd"}]"#),
                Some("web")
            ),
            Verdict::Rejected(_)
        ));
    }

    #[test]
    fn rejects_the_whole_plan_for_one_bad_action() {
        let config = policy_config();
        let policy = Policy::new(&config);
        let verdict = policy.judge(
            &plan(r#"[{"action":"restart_unit"},{"action":"remove_file","path":"/etc/passwd"}]"#),
            Some("web"),
        );
        assert!(
            matches!(verdict, Verdict::Rejected(ref r) if r.len() == 1 && r[0].contains("/etc/passwd")),
            "{verdict:?}"
        );
        let verdict = policy.judge(
            &plan(r#"[{"action":"remove_file","path":"/tmp/../etc/passwd"}]"#),
            None,
        );
        assert!(matches!(verdict, Verdict::Rejected(_)));
        let verdict = policy.judge(&plan(r#"[{"action":"run","argv":["rm","-rf","/"]}]"#), None);
        assert!(matches!(verdict, Verdict::Rejected(_)));
        let verdict = policy.judge(&plan(r#"[{"action":"vacuum_journal"}]"#), None);
        assert!(matches!(verdict, Verdict::Rejected(_)));
    }

    #[test]
    fn argv_globs_match_word_by_word() {
        let pattern = vec![
            "systemctl".to_string(),
            "reload".to_string(),
            "*".to_string(),
        ];
        assert!(argv_matches(
            &pattern,
            &["systemctl".into(), "reload".into(), "nginx".into()]
        ));
        assert!(!argv_matches(
            &pattern,
            &[
                "systemctl".into(),
                "reload".into(),
                "nginx".into(),
                "x".into()
            ]
        ));
        assert!(!argv_matches(
            &pattern,
            &["systemctl".into(), "stop".into(), "nginx".into()]
        ));
    }

    #[test]
    fn approval_actions_hold_the_plan() {
        let config = policy_config();
        let policy = Policy::new(&config);
        let verdict = policy.judge(
            &plan(r#"[{"action":"kill_process","name":"w"},{"action":"restart_unit"}]"#),
            Some("web"),
        );
        assert!(matches!(verdict, Verdict::NeedsApproval(_)), "{verdict:?}");
    }
}
