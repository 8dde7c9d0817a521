//! The policy agent plans must pass (docs/agents.md, "The policy"). Configured remedies are trusted; agent plans are not: every
//! action must be allowed, touch only the incident's unit or `units`, only paths under `paths`,
//! and run only argv matching `commands` — or the whole plan is rejected. A `remove_file` of a
//! file that nothing but text ties to the incident's service, or of a live log or a data
//! file, waits for a person (`service_files`). The incident's text never enters these
//! decisions, so no log line can widen them. Which processes a
//! `kill_process` may signal is decided again when it runs (`actions::kill`), because a pid
//! judged here may belong to another process by then.

use crate::actions::{check_unit_name, full_unit_name, path_glob, signal_number, Action, Plan};
use crate::config::{Check, Config, PolicyConfig};
use crate::service_files::{ServiceFiles, Tie};
use globset::{Glob, GlobMatcher};
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

    /// Judges a plan for the incident of `check`: [`Policy::judge`], and then each `remove_file`
    /// must name a file tied to the check's service by its config or by systemd, or a file of
    /// the service's user in one of its directories, and no live log or data file; otherwise
    /// the plan waits for a person, with the reason. A log line that names a root-owned file
    /// thus never deletes it on its own.
    pub fn judge_for(&self, plan: &Plan, config: &Config, check: &Check) -> Verdict {
        let verdict = self.judge(plan, check.unit.as_deref());
        if matches!(verdict, Verdict::Rejected(_)) {
            return verdict;
        }
        let untied = untied_deletions(plan, config, check);
        match verdict {
            _ if untied.is_empty() => verdict,
            Verdict::NeedsApproval(mut reasons) => {
                reasons.extend(untied);
                Verdict::NeedsApproval(reasons)
            }
            _ => Verdict::NeedsApproval(untied),
        }
    }

    fn check_target(&self, action: &Action, incident_unit: Option<&str>) -> Result<(), String> {
        match action {
            Action::RestartUnit { unit }
            | Action::StartUnit { unit }
            | Action::ResetFailed { unit } => {
                self.check_unit(unit.as_deref().or(incident_unit), incident_unit)
            }
            Action::Run { argv, timeout } => {
                // A plan may not hold the cycle longer than a configured remedy could.
                if let Some(why) = timeout.as_ref().and_then(|t| t.over_wait_limit()) {
                    return Err(format!("`run` timeout: {why}"));
                }
                self.check_argv(argv)
            }
            Action::KillProcess { pid, name, signal } => check_kill(*pid, name.as_deref(), signal),
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
        check_unit_name(unit)?;
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
        check_argv_words(argv)?;
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

/// Why each `remove_file` of `plan` needs a person: the file is live, or only text ties it to
/// the service. The service's files are gathered only when the plan deletes something.
fn untied_deletions(plan: &Plan, config: &Config, check: &Check) -> Vec<String> {
    let mut files: Option<ServiceFiles> = None;
    let mut reasons = Vec::new();
    for (index, action) in plan.actions().iter().enumerate() {
        let Action::RemoveFile { path } = action else {
            continue;
        };
        let files = files.get_or_insert_with(|| ServiceFiles::of(config, check));
        let step = format!("action {} (remove_file)", index + 1);
        match files.tie(Path::new(path)) {
            Tie::Named(_) | Tie::Owned => {}
            Tie::Live(what) => reasons.push(format!(
                "{step}: `{path}` is {what}; a live file is deleted only with a person's approval"
            )),
            Tie::Untied => reasons.push(format!(
                "{step}: `{path}` is not tied to the service (neither named by its config or its \
                 unit's PIDFile=, nor a file of its user in its directories): a file only text \
                 names is deleted only with a person's approval"
            )),
        }
    }
    reasons
}

/// What `kill_process` must name. Which processes it may reach is decided when it runs.
fn check_kill(pid: Option<i32>, name: Option<&str>, signal: &Option<String>) -> Result<(), String> {
    if let Some(signal) = signal.as_deref().filter(|s| signal_number(s).is_none()) {
        return Err(format!(
            "signal `{signal}` is not one kill_process sends ({})",
            crate::actions::SIGNALS.join(", ")
        ));
    }
    match (pid, name) {
        (Some(pid), _) if pid <= 1 => Err(format!("pid {pid} may never be signalled")),
        (None, None) => Err("kill_process needs `pid` or `name`".into()),
        (None, Some(name)) if name.is_empty() || name.contains('/') => Err(format!(
            "kill_process `name` {name:?} must be a process name, not empty or a path"
        )),
        _ => Ok(()),
    }
}

/// Rules on the words of an agent's argv before any glob sees them:
/// - no word may be a path with a `..` component (`/opt/fixers/../../usr/bin/touch`, and
///   option values such as `--root=/srv/../etc` too): a glob over a directory must not reach
///   out of it;
/// - argv[0] is matched as written: a bare name (`touch`) is found through orchestrator's own
///   PATH, an absolute path is that file, and a relative path with a `/` (`bin/x`, which would
///   depend on the working directory) is refused.
fn check_argv_words(argv: &[String]) -> Result<(), String> {
    let Some(program) = argv.first() else {
        return Err("`run` needs a non-empty argv".into());
    };
    if let Some(word) = argv.iter().find(|w| has_parent_component(w)) {
        return Err(format!(
            "argv word `{word}` has a `..` component; name paths without `..`"
        ));
    }
    if program.contains('/') && !program.starts_with('/') {
        return Err(format!(
            "argv[0] `{program}` is a relative path; name the program by absolute path or bare name"
        ));
    }
    Ok(())
}

/// `..` as a path component of a word, also inside an option's value (`--root=../x`).
fn has_parent_component(word: &str) -> bool {
    word.split(['/', '=']).any(|part| part == "..")
}

/// An argv glob list matches when it has as many words as argv and each glob word matches its
/// argv word; a last pattern word of `**` matches any remaining words, options included (the
/// admin wrote it to allow exactly that). Within a word, `*` and `?` never match `/` (a `**`
/// path component still spans directories, as in `/opt/fixers/**`), and an argv word that
/// starts with `-` only matches a glob word that starts with `-` too, so `*` never accepts
/// `--root=/`. `..` is refused before matching ([`check_argv_words`]).
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
    fixed
        .iter()
        .zip(argv)
        .all(|(glob, word)| word_matches(glob, word))
}

fn word_matches(glob: &str, word: &str) -> bool {
    if word.starts_with('-') && !glob.starts_with('-') {
        return false;
    }
    path_glob(glob).is_some_and(|g| g.is_match(word))
}

/// An absolute path with no `..`, and with symlinks in its existing part resolved, so that the
/// verdict names where the path really leads. This judges text only: what keeps a deletion in
/// its tree when the tree changes under it is the descriptor walk in `actions::fs`.
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

    mod vocabulary {
        //! The actions as described to agents (`actions::vocabulary`) and the policy agree.
        use crate::actions::vocabulary::tests::with_fields;
        use crate::actions::vocabulary::{Field, ACTIONS};
        use crate::actions::{ActionKind, Plan};
        use crate::config::PolicyConfig;
        use crate::policy::{Policy, Verdict};
        use serde_json::json;

        fn permissive_policy() -> PolicyConfig {
            let config = format!(
                "[policy]\nactions = [{}]\napprove = []\npaths = [\"/var/log/**\"]\ncommands = [[\"/usr/local/bin/fix-web\", \"**\"]]\nprocesses = [\"web-*\"]\n",
                ACTIONS
                    .iter()
                    .map(|a| format!("\"{}\"", a.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            crate::config::Config::parse("test.toml", &config)
                .unwrap()
                .policy
        }

        /// A plan written from the vocabulary alone is judged on its targets, never refused for its
        /// shape: every listed field and every listed signal passes a policy that allows the action.
        #[test]
        fn the_vocabulary_and_the_policy_agree() {
            let config = permissive_policy();
            let policy = Policy::new(&config);
            let mut plans = Vec::new();
            for spec in ACTIONS {
                let mut fields: Vec<&Field> = spec.fields.iter().collect();
                if spec.kind == ActionKind::KillProcess {
                    // pid and name are alternatives: judge each.
                    fields.retain(|f| f.name != "pid");
                    plans.push(json!([with_fields(
                        spec,
                        spec.fields.iter().filter(|f| f.name != "name")
                    )]));
                    for name in spec.fields.iter().flat_map(|f| f.allowed) {
                        plans.push(
                            json!([{ "action": spec.name(), "name": "web-worker", "signal": name }]),
                        );
                    }
                }
                plans.push(json!([with_fields(spec, fields.into_iter())]));
            }
            for json in plans {
                let plan: Plan = serde_json::from_value(json.clone()).unwrap();
                assert_eq!(
                    policy.judge(&plan, Some("web.service")),
                    Verdict::Allowed,
                    "{json}"
                );
            }
        }
    }
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
    fn a_run_that_would_hold_the_cycle_past_a_day_is_refused() {
        let config = policy_config();
        let policy = Policy::new(&config);
        let run = |timeout: &str| {
            policy.judge(
                &plan(&format!(
                    r#"[{{"action":"run","argv":["systemctl","reload","web"],"timeout":"{timeout}"}}]"#
                )),
                None,
            )
        };
        assert!(matches!(run("24h"), Verdict::Allowed), "{:?}", run("24h"));
        let refused = run("36500d");
        assert!(
            matches!(refused, Verdict::Rejected(ref r) if r[0].contains("a timeout or a wait is at most 24h")),
            "{refused:?}"
        );
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

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    fn run_verdict(commands: &[&str], argv: &[&str]) -> Verdict {
        let config = PolicyConfig {
            commands: commands.iter().map(|c| words(c)).collect(),
            ..policy_config()
        };
        let plan = Plan(vec![Action::Run {
            argv: argv.iter().map(|w| w.to_string()).collect(),
            timeout: None,
        }]);
        Policy::new(&config).judge(&plan, None)
    }

    fn rejected_because(verdict: Verdict, why: &str) {
        match verdict {
            Verdict::Rejected(reasons) => assert!(
                reasons.iter().any(|r| r.contains(why)),
                "{reasons:?} lacks {why:?}"
            ),
            other => panic!("expected a rejection for {why:?}, got {other:?}"),
        }
    }

    #[test]
    fn a_star_never_crosses_a_slash() {
        let pattern = words("/opt/fixers/*");
        assert!(argv_matches(&pattern, &words("/opt/fixers/reset")));
        assert!(!argv_matches(&pattern, &words("/opt/fixers/sub/reset")));
        assert!(!argv_matches(
            &words("/opt/fixers/?"),
            &words("/opt/fixers//")
        ));
        // A whole `**` component spans directories, as the admin wrote it.
        assert!(argv_matches(
            &words("/opt/fixers/**"),
            &words("/opt/fixers/sub/reset")
        ));
    }

    #[test]
    fn parent_components_are_refused_anywhere_in_argv() {
        rejected_because(
            run_verdict(&["/opt/fixers/*"], &["/opt/fixers/../../usr/bin/touch"]),
            "has a `..` component",
        );
        rejected_because(
            run_verdict(
                &["/opt/fixers/reset **"],
                &["/opt/fixers/reset", "/srv/../etc"],
            ),
            "`/srv/../etc` has a `..` component",
        );
        rejected_because(
            run_verdict(
                &["/opt/fixers/reset **"],
                &["/opt/fixers/reset", "--root=../.."],
            ),
            "has a `..` component",
        );
        rejected_because(
            run_verdict(&["/opt/fixers/reset *"], &["/opt/fixers/reset", ".."]),
            "has a `..` component",
        );
        // Dots that are not a component are names like any other.
        assert_eq!(
            run_verdict(&["/opt/fixers/*"], &["/opt/fixers/..hidden"]),
            Verdict::Allowed
        );
        assert_eq!(
            run_verdict(&["/opt/fixers/reset *"], &["/opt/fixers/reset", "a..b"]),
            Verdict::Allowed
        );
    }

    #[test]
    fn a_glob_word_matches_an_option_only_when_it_is_one() {
        let pattern = words("/usr/bin/du *");
        assert!(argv_matches(&pattern, &words("/usr/bin/du log")));
        assert!(!argv_matches(&pattern, &words("/usr/bin/du --root=x")));
        assert!(!argv_matches(&pattern, &words("/usr/bin/du -")));
        assert!(argv_matches(
            &words("/usr/bin/du -* /var/*"),
            &words("/usr/bin/du -s /var/log")
        ));
        assert!(argv_matches(
            &words("/usr/bin/du --max-depth=? /var/*"),
            &words("/usr/bin/du --max-depth=1 /var/log")
        ));
        rejected_because(
            run_verdict(&["/usr/bin/du *"], &["/usr/bin/du", "--root=/"]),
            "matches no entry of [policy] commands",
        );
    }

    #[test]
    fn a_last_double_star_takes_any_remaining_words_options_included() {
        let pattern = words("/usr/bin/svc **");
        assert!(argv_matches(&pattern, &words("/usr/bin/svc")));
        assert!(argv_matches(
            &pattern,
            &words("/usr/bin/svc --daemon --port 8080")
        ));
        assert!(!argv_matches(&pattern, &words("/usr/bin/other --daemon")));
    }

    #[test]
    fn argv0_is_matched_as_written() {
        assert!(argv_matches(&words("touch /tmp/*"), &words("touch /tmp/x")));
        assert!(!argv_matches(
            &words("touch /tmp/*"),
            &words("/usr/bin/touch /tmp/x")
        ));
        assert!(!argv_matches(
            &words("/usr/bin/touch /tmp/*"),
            &words("touch /tmp/x")
        ));
        // A bare `*` as argv[0] allows bare names only, never a path.
        assert!(argv_matches(&words("* /tmp/x"), &words("touch /tmp/x")));
        assert!(!argv_matches(
            &words("* /tmp/x"),
            &words("/usr/bin/touch /tmp/x")
        ));
        rejected_because(
            run_verdict(&["**"], &["bin/touch", "/tmp/x"]),
            "is a relative path",
        );
    }

    #[test]
    fn unit_names_systemd_would_refuse_are_refused_with_the_reason() {
        let config = PolicyConfig {
            units: vec!["*".into(), "*.mount".into(), "*.device".into()],
            ..policy_config()
        };
        let policy = Policy::new(&config);
        let restart = |unit: &str| {
            policy.judge(
                &Plan(vec![Action::RestartUnit {
                    unit: Some(unit.to_string()),
                }]),
                Some("web"),
            )
        };
        rejected_because(restart("../../etc/x"), "`/` is not allowed");
        rejected_because(restart("foo;bar"), "`;` is not allowed");
        rejected_because(restart("--root=/"), "starts with `-`");
        rejected_because(restart("a@b@c"), "more than one `@`");
        rejected_because(restart("getty@.service"), "a template");
        rejected_because(restart(&"x".repeat(300)), "longer than 255 bytes");
        rejected_because(restart(""), "nothing before the suffix");
        assert_eq!(restart("getty@tty1"), Verdict::Allowed);
        assert_eq!(restart("sys-fs-fuse-connections.mount"), Verdict::Allowed);
        assert_eq!(restart("dev-disk-by\\x2duuid.device"), Verdict::Allowed);
        // The check's own unit is held to the same rule.
        rejected_because(
            policy.judge(&plan(r#"[{"action":"restart_unit"}]"#), Some("a b")),
            "` ` is not allowed",
        );
    }

    #[test]
    fn kill_process_signals_are_the_vocabulary() {
        let config = PolicyConfig {
            actions: vec![ActionKind::KillProcess],
            approve: Vec::new(),
            ..policy_config()
        };
        let policy = Policy::new(&config);
        let kill = |json: &str| policy.judge(&plan(json), None);
        assert_eq!(
            kill(r#"[{"action":"kill_process","name":"w","signal":"SIGQUIT"}]"#),
            Verdict::Allowed
        );
        rejected_because(
            kill(r#"[{"action":"kill_process","name":"w","signal":"STOP"}]"#),
            "signal `STOP` is not one kill_process sends",
        );
        rejected_because(
            kill(r#"[{"action":"kill_process","pid":-1}]"#),
            "pid -1 may never be signalled",
        );
        rejected_because(
            kill(r#"[{"action":"kill_process","name":"/usr/bin/sleep"}]"#),
            "must be a process name",
        );
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
