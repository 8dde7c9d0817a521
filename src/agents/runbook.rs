//! The builtin `runbook` agent: offline rules that map known failure signatures to plans
//! (docs/agents.md, "The builtin `runbook`"). It reads the same context as any agent and answers in the same form, so its
//! plans pass the same policy. It makes the tool useful with no LLM at all.

use super::protocol::RawAnswer;
use crate::actions::ActionKind;
use crate::config::Check;
use crate::evidence::says_no_space;
use crate::facts::{self, Facts};
use crate::sys::human_bytes;
use globset::GlobMatcher;
use regex::Regex;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Every action the rules below may propose: `config check` warns when `[policy]` forbids one
/// of them, and the default policy allows or asks approval for each.
pub const PROPOSES: [ActionKind; 6] = {
    use crate::actions::ActionKind::*;
    [
        RemoveFile,
        RestartUnit,
        Remedy,
        KillProcess,
        CleanFiles,
        VacuumJournal,
    ]
};

/// One step of a plan: `kind` with `fields`. Every action a rule proposes goes through here,
/// so a rule that proposes one missing from [`PROPOSES`] fails the rule's own tests.
fn step(kind: ActionKind, mut fields: Value) -> Value {
    debug_assert!(
        PROPOSES.contains(&kind),
        "the runbook proposes `{kind}`, missing from PROPOSES"
    );
    fields["action"] = json!(kind.name());
    fields
}

/// What a rule reads: the evidence as written and lower-cased, the host's facts (empty when
/// the context has none), and the paths the policy lets file actions touch.
struct Evidence {
    text: String,
    lower: String,
    facts: Facts,
    allowed_paths: Vec<GlobMatcher>,
}

/// A rule reads the evidence and the check, and may answer.
type Rule = fn(&Evidence, &Check) -> Option<RawAnswer>;

/// Rules on facts first (the service's own orphans on its port, a dead pid, a foreign listener,
/// a full filesystem, a path's mode, a config parse error), then the word rules as a fallback for contexts without facts.
const RULES: [Rule; 12] = [
    orphaned_workers,
    stale_pid_file,
    squatter,
    full_filesystem,
    permission_on_facts,
    bad_config,
    stale_file,
    address_in_use,
    no_space,
    resource_exhaustion,
    permission_denied,
    service_down,
];

pub fn propose(context: &Value, check: &Check) -> RawAnswer {
    let text = evidence_text(context);
    let evidence = Evidence {
        lower: text.to_lowercase(),
        text,
        facts: context
            .get("facts")
            .and_then(facts::from_value)
            .unwrap_or_default(),
        allowed_paths: allowed_paths(context),
    };
    RULES.iter().find_map(|rule| rule(&evidence, check)).unwrap_or_else(|| {
        abstain("None of the runbook's known failure signatures matches this incident; it needs a closer look.")
    })
}

fn allowed_paths(context: &Value) -> Vec<GlobMatcher> {
    context
        .pointer("/policy/paths")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(crate::actions::path_glob)
        .collect()
}

fn answer(diagnosis: String, confidence: f64, plan: Vec<Value>) -> RawAnswer {
    RawAnswer {
        diagnosis,
        confidence: Some(confidence),
        plan: Value::Array(plan),
        escalate: false,
    }
}

fn abstain(diagnosis: &str) -> RawAnswer {
    RawAnswer {
        diagnosis: diagnosis.to_string(),
        confidence: None,
        plan: Value::Array(Vec::new()),
        escalate: true,
    }
}

/// Everything an operator would read: summaries, outputs, status, journal, log tails, attempts.
pub(crate) fn evidence_text(context: &Value) -> String {
    let mut parts = Vec::new();
    for pointer in [
        "/incident/summary",
        "/incident/evidence",
        "/last_result/summary",
        "/last_result/output",
        "/unit_status",
        "/journal",
    ] {
        if let Some(s) = context.pointer(pointer).and_then(Value::as_str) {
            parts.push(s.to_string());
        }
    }
    if let Some(logs) = context.get("logs").and_then(Value::as_object) {
        parts.extend(logs.values().filter_map(Value::as_str).map(str::to_string));
    }
    // A plan that was not run (`rejected`) printed nothing: its reason is orchestrator's own
    // judgement, which may quote the service's words already read above.
    for attempt in context
        .get("attempts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| a.get("outcome").and_then(Value::as_str) != Some("rejected"))
    {
        for key in ["output", "reason"] {
            if let Some(s) = attempt.get(key).and_then(Value::as_str) {
                parts.push(s.to_string());
            }
        }
    }
    parts.join("\n")
}

/// How this check's service is restarted: its unit, else its configured remedies.
fn restart(check: &Check) -> Option<Value> {
    if let Some(unit) = &check.unit {
        return Some(step(
            ActionKind::RestartUnit,
            json!({"unit": crate::actions::full_unit_name(unit)}),
        ));
    }
    (!check.remedy.is_empty()).then(|| step(ActionKind::Remedy, json!({})))
}

fn with_restart(mut plan: Vec<Value>, check: &Check) -> Vec<Value> {
    plan.extend(restart(check));
    plan
}

/// Words of a service refusing to start over a pid or lock file.
const PID_FILE_WORDS: [&str; 8] = [
    "pid",
    "lock file",
    "lockfile",
    "already running",
    "already exists",
    "exists",
    "stale",
    "refus",
];

/// A pid file whose pid is dead, on a service that says it will not start over it: stale,
/// whatever the file is called (`/srv/app/pid`, `postmaster.pid`).
fn stale_pid_file(evidence: &Evidence, check: &Check) -> Option<RawAnswer> {
    if !PID_FILE_WORDS.iter().any(|w| evidence.lower.contains(w)) {
        return None;
    }
    let stale = evidence.facts.stale_pid_files().next()?;
    let pid = stale.pid?;
    let path = &stale.path;
    let diagnosis = format!(
        "The service cannot start because its pid file {path} is left over from a process that no \
         longer runs (pid {pid}): the file is stale. Removing it and starting the service again \
         should fix it."
    );
    Some(answer(
        diagnosis,
        0.9,
        with_restart(
            vec![step(ActionKind::RemoveFile, json!({"path": path}))],
            check,
        ),
    ))
}

fn says_address_in_use(lower: &str) -> bool {
    lower.contains("address already in use")
        || lower.contains("eaddrinuse")
        || lower.contains("address in use")
}

/// The service's main process died (its pid file names a dead pid) and left its own processes
/// holding its port, as nginx's workers do when their master is killed: they are the service's
/// own, not a squatter, and a new start cannot bind until they are stopped.
fn orphaned_workers(evidence: &Evidence, check: &Check) -> Option<RawAnswer> {
    if !says_address_in_use(&evidence.lower) {
        return None;
    }
    let facts = &evidence.facts;
    let mut orphans: Vec<&facts::Listener> = Vec::new();
    for listener in facts.orphans() {
        if !orphans.iter().any(|o| o.pid == listener.pid) {
            orphans.push(listener);
        }
    }
    let first = orphans.first()?;
    let leader = facts
        .stale_pid_files()
        .next()
        .map(|p| {
            format!(
                "its main process (pid {}, pid file {}) is dead",
                p.pid.unwrap_or_default(),
                p.path
            )
        })
        .unwrap_or_else(|| "its main process is dead".into());
    let held: Vec<String> = orphans
        .iter()
        .map(|o| format!("pid {}, {}", o.pid, o.command))
        .collect();
    let diagnosis = format!(
        "The service cannot bind port {}: {leader}, but processes it left behind still hold the \
         port ({}): the service's own orphaned workers, not a squatter. Stopping them and starting \
         the service again should fix it.",
        first.port,
        held.join("; ")
    );
    let kills = orphans
        .iter()
        .map(|o| {
            step(
                ActionKind::KillProcess,
                json!({"pid": o.pid, "signal": "TERM"}),
            )
        })
        .collect();
    Some(answer(diagnosis, 0.85, with_restart(kills, check)))
}

/// A process that is not the service's own listens on the port the service wants.
fn squatter(evidence: &Evidence, check: &Check) -> Option<RawAnswer> {
    if !says_address_in_use(&evidence.lower) {
        return None;
    }
    let listener = evidence.facts.squatters().next()?;
    let (port, pid, command) = (listener.port, listener.pid, &listener.command);
    let diagnosis = format!(
        "The service cannot bind port {port}: another process holds it (pid {pid}, {command}), \
         not the service's own. Stopping that process and starting the service again should fix it."
    );
    let plan = with_restart(
        vec![step(
            ActionKind::KillProcess,
            json!({"pid": pid, "signal": "TERM"}),
        )],
        check,
    );
    Some(answer(diagnosis, 0.85, plan))
}

/// Rotated and dated files: what cleaning removes first. `*.1`, `*.2.gz`, `*.old`,
/// `app-20261127.log`, `app.log.2026-11-27`.
pub const ROTATED_GLOB: &str = "{*.[0-9],*.[0-9][0-9],*.gz,*.xz,*.bz2,*.zst,*.old,*.bak,*[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*,*[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]*}";

/// A full filesystem (bytes or inodes) under the service's paths, known from the facts or the
/// words `No space left on device`.
fn full_filesystem(evidence: &Evidence, check: &Check) -> Option<RawAnswer> {
    let facts = &evidence.facts;
    let full: Vec<&facts::Filesystem> = facts.full_filesystems().collect();
    let disk_check = check.kind.filesystem().is_some();
    if full.is_empty() && !says_no_space(&evidence.lower) && !disk_check {
        return None;
    }
    if full.is_empty() && facts.filesystems.is_empty() {
        // No facts: the word rule decides.
        return None;
    }
    let directories = cleanable_directories(check, &full, &evidence.allowed_paths);
    let holders = deleted_but_open(facts);
    let Some(plan) = freeing_plan(&directories, check) else {
        return Some(abstain(&format!(
            "The filesystem is full{}, but the check names no log or cache directory under [policy] paths \
             that the runbook may clean (add them to the check's `logs`).{holders}",
            describe_full(&full)
        )));
    };
    let shown: Vec<String> = directories
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    let diagnosis = format!(
        "The filesystem is out of space{}. Cleaning the rotated and dated files of {} (never a live log: \
         one a process holds open, the service names or that was written in the last 15 minutes, nor a \
         data file) should free it.{holders}",
        describe_full(&full),
        shown.join(", ")
    );
    Some(answer(diagnosis, 0.8, plan))
}

fn describe_full(full: &[&facts::Filesystem]) -> String {
    let parts: Vec<String> = full
        .iter()
        .map(|f| {
            format!(
                "{}: {} and {} inodes free",
                f.path,
                human_bytes(f.free_bytes),
                f.free_inodes
            )
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

/// Files deleted but still open: the real holders of space, named in the diagnosis.
fn deleted_but_open(facts: &Facts) -> String {
    if facts.deleted_open.is_empty() {
        return String::new();
    }
    let held: Vec<String> = facts
        .deleted_open
        .iter()
        .map(|d| {
            format!(
                "{} ({}) held by pid {} ({})",
                d.path,
                human_bytes(d.bytes),
                d.pid,
                d.command
            )
        })
        .collect();
    format!(
        " Deleted files still held open keep their space until their holder restarts or closes them: {}.",
        held.join("; ")
    )
}

/// The check's log directories (and the directories of its log files) on a full filesystem
/// (any, when the facts name none), within `[policy] paths`.
fn cleanable_directories(
    check: &Check,
    full: &[&facts::Filesystem],
    allowed: &[GlobMatcher],
) -> Vec<PathBuf> {
    let mut directories: Vec<PathBuf> = Vec::new();
    for path in &check.logs {
        let dir = if path.is_dir() {
            path.clone()
        } else {
            match path.parent() {
                Some(parent) if parent.is_dir() => parent.to_path_buf(),
                _ => continue,
            }
        };
        let on_full = full.is_empty() || full.iter().any(|f| same_filesystem(&dir, &f.path));
        if on_full && !directories.contains(&dir) && is_allowed(&dir, allowed) {
            directories.push(dir);
        }
    }
    directories
}

fn same_filesystem(a: &Path, b: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev(),
        _ => false,
    }
}

/// A file action on some file under `dir` passes the policy. No policy in the context (a
/// bare context) allows everything: the policy judges the plan anyway.
fn is_allowed(dir: &Path, allowed: &[GlobMatcher]) -> bool {
    allowed.is_empty()
        || allowed
            .iter()
            .any(|g| g.is_match(dir.join("x")) || g.is_match(dir))
}

/// What frees space: each directory cleaned, then the journal vacuumed where systemd runs,
/// then the service restarted (unless the check is the disk itself); `None` when none of it
/// applies.
fn freeing_plan(directories: &[PathBuf], check: &Check) -> Option<Vec<Value>> {
    let mut plan: Vec<Value> = directories
        .iter()
        .flat_map(|dir| clean_steps(dir))
        .collect();
    if crate::sys::systemd_is_running() {
        plan.push(step(
            ActionKind::VacuumJournal,
            json!({"max_size": crate::actions::DEFAULT_JOURNAL_SIZE}),
        ));
    }
    if plan.is_empty() {
        return None;
    }
    if check.kind.filesystem().is_none() {
        plan.extend(restart(check));
    }
    Some(plan)
}

/// Only rotated and dated files are removed for space: a log without such a name may be the
/// live one even when no process holds it open (Redis opens its log for each line), and what
/// is live is never deleted without a person (`clean_files` also keeps, for any plan not the
/// admin's, the files the service names, files written in the last 15 minutes and data).
fn clean_steps(dir: &Path) -> Vec<Value> {
    let path = dir.display().to_string();
    vec![step(
        ActionKind::CleanFiles,
        json!({"path": path, "glob": ROTATED_GLOB}),
    )]
}

/// A permission problem, with the mode and owner of each path the error lines name.
fn permission_on_facts(evidence: &Evidence, _check: &Check) -> Option<RawAnswer> {
    let facts = &evidence.facts;
    let line = facts
        .error_lines
        .iter()
        .rev()
        .find(|l| facts::is_permission_line(l))?;
    if facts.paths.is_empty() {
        return None;
    }
    let paths: Vec<String> = facts.paths.iter().map(facts::describe_path).collect();
    Some(abstain(&format!(
        "The service is denied access: \"{}\". {}. Ownership and modes are outside the action vocabulary \
         on purpose: a person must fix them.",
        line.trim(),
        paths.join("; ")
    )))
}

/// Words of a configuration file that does not parse, as nginx, OpenSSH, Redis, PostgreSQL
/// and others say it.
const CONFIG_ERROR_WORDS: [&str; 14] = [
    "syntax error",
    "parse error",
    "failed to parse",
    "could not parse",
    "unable to parse",
    "bad configuration option",
    "unknown directive",
    "bad directive",
    "fatal config file error",
    "contains errors",
    "configuration file test failed",
    "invalid configuration",
    "unexpected token",
    "unknown configuration",
];

/// nginx's own words for a file it cannot parse: an `[emerg]` line that ends with the place in
/// the file (`[emerg] unexpected "}" in /etc/nginx/nginx.conf:6`), or `nginx -t`'s verdict
/// (`configuration file /etc/nginx/nginx.conf test failed`). A bind or an open() failure is an
/// `[emerg]` too, but names no place in the configuration.
fn nginx_config_error(line: &str) -> bool {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        Regex::new(r#"(?i)\[emerg\].*\sin\s+\S+:\d+\s*$|configuration file \S+ test failed"#)
            .expect("regex")
    });
    pattern.is_match(line)
}

/// A service refusing to start on a bad config file: a person must mend the file; the
/// diagnosis quotes the parse error.
fn bad_config(evidence: &Evidence, _check: &Check) -> Option<RawAnswer> {
    let quoted = config_error_lines(&evidence.text);
    if quoted.is_empty() {
        return None;
    }
    Some(abstain(&format!(
        "The service refuses to start on a bad configuration file: {}. A person must correct the file; \
         restarting cannot help.",
        quoted.join(" / ")
    )))
}

/// The lines that say where the configuration is wrong, the last three of them.
pub fn config_error_lines(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut quoted: Vec<String> = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        if orchestrators_own(line) {
            continue;
        }
        let lower = line.to_lowercase();
        let decisive = CONFIG_ERROR_WORDS.iter().any(|w| lower.contains(w))
            || (lower.contains("config") && lower.contains("line") && lower.contains("error"))
            || nginx_config_error(line);
        if !decisive {
            continue;
        }
        // Redis prints the offending directive on the lines before its verdict.
        let context_before = lines[at.saturating_sub(2)..at]
            .iter()
            .filter(|l| l.contains(">>> ") || l.to_lowercase().contains("at line"));
        for l in context_before.chain(std::iter::once(line)) {
            let l = l.to_string();
            quoted.retain(|q| q != &l);
            quoted.push(l);
        }
    }
    let keep = quoted.len().saturating_sub(3);
    quoted.split_off(keep)
}

/// An attempt's reason ("run failed: …") repeats what the service printed; the service's
/// own lines are quoted instead.
fn orchestrators_own(line: &str) -> bool {
    line.split_once(" failed: ").is_some_and(|(action, _)| {
        !action.is_empty() && action.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    })
}

fn stale_file(evidence: &Evidence, check: &Check) -> Option<RawAnswer> {
    let (text, lower) = (&evidence.text, &evidence.lower);
    if !(lower.contains("stale")
        || lower.contains("already running")
        || lower.contains("lock file")
        || lower.contains("pid file"))
    {
        return None;
    }
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    let pattern =
        PATTERN.get_or_init(|| Regex::new(r"(/[A-Za-z0-9_./@-]+\.(?:pid|lock))\b").expect("regex"));
    let path = pattern
        .captures_iter(text)
        .map(|c| c[1].to_string())
        .find(|p| is_stale(&evidence.facts, p))?;
    let diagnosis = format!(
        "The service cannot start because {path} is left over from a process that no longer runs. \
         Removing the stale file and starting the service again should fix it."
    );
    Some(answer(
        diagnosis,
        0.9,
        with_restart(
            vec![step(ActionKind::RemoveFile, json!({"path": path}))],
            check,
        ),
    ))
}

/// A pid file whose pid is dead, or a lock file that holds no pid, as the facts found it. The
/// runbook reads no file itself: the facts looked only where the log's writers could look
/// (src/facts/writers.rs, `Writers`), so a log line cannot make it judge a file they cannot see.
fn is_stale(facts: &Facts, path: &str) -> bool {
    facts.pid_files.iter().any(|file| {
        file.path == path
            && file.problem.is_none()
            && match file.pid {
                Some(_) => !file.alive,
                None => path.ends_with(".lock"),
            }
    })
}

/// The word rule for a taken port, for contexts without facts: the port is the check's, else
/// the one the message names after an address or the word "port" (never a timestamp's
/// minutes: see [`facts::ports_in_use`]).
fn address_in_use(evidence: &Evidence, check: &Check) -> Option<RawAnswer> {
    if !says_address_in_use(&evidence.lower) {
        return None;
    }
    let port = facts::check_port(check)
        .or_else(|| facts::ports_in_use(&evidence.text).into_iter().next())?;
    match facts::listeners_on(port).into_iter().find(|l| l.pid > 1) {
        Some(facts::Listener { pid, command, .. }) => {
            let diagnosis = format!(
                "The service cannot bind port {port}: a stray process holds it (pid {pid}, {command}). \
                 Stopping that process and starting the service again should fix it."
            );
            let plan = with_restart(
                vec![step(
                    ActionKind::KillProcess,
                    json!({"pid": pid, "signal": "TERM"}),
                )],
                check,
            );
            Some(answer(diagnosis, 0.85, plan))
        }
        None => {
            let diagnosis = format!("Port {port} was taken when the service last tried to start, but nothing holds it now; starting it again should work.");
            restart(check).map(|r| answer(diagnosis, 0.6, vec![r]))
        }
    }
}

fn no_space(evidence: &Evidence, check: &Check) -> Option<RawAnswer> {
    let disk_full = check.kind.filesystem().is_some();
    if !(disk_full || says_no_space(&evidence.lower)) {
        return None;
    }
    let directories: Vec<PathBuf> = check
        .logs
        .iter()
        .filter(|path| path.is_dir())
        .cloned()
        .collect();
    let Some(plan) = freeing_plan(&directories, check) else {
        return Some(abstain(
            "The disk is full, but the check names no log or cache directory the runbook may clean (add them to the check's `logs`).",
        ));
    };
    let diagnosis = "The filesystem is out of space. Cleaning the check's log and cache directories (and the journal where \
                     there is one) should free it."
        .to_string();
    Some(answer(diagnosis, 0.8, plan))
}

fn resource_exhaustion(evidence: &Evidence, check: &Check) -> Option<RawAnswer> {
    let lower = &evidence.lower;
    let cause = if lower.contains("too many open files") || lower.contains("emfile") {
        "ran out of file descriptors (too many open files)"
    } else if lower.contains("out of memory")
        || lower.contains("oom")
        || lower.contains("cannot allocate memory")
    {
        "ran out of memory"
    } else {
        return None;
    };
    let diagnosis = format!("The service {cause}; a restart releases what it leaked. If it recurs, its limits or a leak need a person.");
    restart(check).map(|r| answer(diagnosis, 0.7, vec![r]))
}

fn permission_denied(evidence: &Evidence, _check: &Check) -> Option<RawAnswer> {
    let lower = &evidence.lower;
    lower.contains("permission denied").then(|| {
        abstain("The service is denied access to one of its paths. Ownership and modes are outside the action vocabulary on purpose: a person must fix them.")
    })
}

fn service_down(evidence: &Evidence, check: &Check) -> Option<RawAnswer> {
    let lower = &evidence.lower;
    let signs = [
        "connection refused",
        "inactive",
        "failed",
        "exited",
        "not running",
        "dead",
        "timed out",
        "processes running, expected",
    ];
    if !signs.iter().any(|s| lower.contains(s)) {
        return None;
    }
    let diagnosis = "The service is down (it exited or stopped answering) with no sign of a deeper cause; starting it again should fix it.";
    restart(check).map(|r| answer(diagnosis.to_string(), 0.6, vec![r]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn check_with_unit() -> Check {
        let config = Config::parse("t.toml", "[[checks]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:9/\"\nunit = \"web\"\n").unwrap();
        config.checks[0].clone()
    }

    fn context(journal: &str) -> Value {
        json!({"incident": {"summary": "http://127.0.0.1:9/: Connection refused"}, "journal": journal})
    }

    fn plan_of(answer: &RawAnswer) -> String {
        answer.plan.to_string()
    }

    #[test]
    fn exhaustion_and_plain_crashes_restart_the_unit() {
        let check = check_with_unit();
        for journal in [
            "accept(): Too many open files",
            "Out of memory: Killed process 4242 (web)",
            "web.service: Main process exited, code=killed",
        ] {
            let answer = propose(&context(journal), &check);
            assert!(!answer.escalate, "{journal}: {answer:?}");
            assert_eq!(
                plan_of(&answer),
                r#"[{"action":"restart_unit","unit":"web.service"}]"#,
                "{journal}"
            );
            assert!(!answer.diagnosis.is_empty());
        }
    }

    #[test]
    fn permission_problems_and_unknown_faults_go_to_a_person() {
        let check = check_with_unit();
        let denied = propose(
            &json!({"journal": "open(/var/lib/web/db): Permission denied"}),
            &check,
        );
        assert!(denied.escalate);
        assert_contains_text(&denied.diagnosis, "a person must fix");
        let unknown = propose(
            &json!({"incident": {"summary": "the moon is in the wrong phase"}}),
            &check,
        );
        assert!(unknown.escalate);
    }

    #[test]
    fn a_disk_without_cleanable_paths_is_escalated() {
        let config =
            Config::parse("t.toml", "[[checks]]\nname = \"d\"\nkind = \"disk\"\n").unwrap();
        let answer = propose(
            &json!({"incident": {"summary": "/: 99% used"}}),
            &config.checks[0],
        );
        if crate::sys::systemd_is_running() {
            assert_contains_text(&plan_of(&answer), "vacuum_journal");
        } else {
            assert!(answer.escalate);
            assert_contains_text(&answer.diagnosis, "logs");
        }
    }

    /// A pid no process can have: above the kernel's pid_max.
    const DEAD_PID: i32 = 999_999_999;

    fn check_named(toml_body: &str) -> Check {
        let config = Config::parse(
            "t.toml",
            &format!("[[checks]]\nname = \"app\"\n{toml_body}"),
        )
        .unwrap();
        config.checks[0].clone()
    }

    /// The context as `build` makes it: the log text, and the facts gathered from it.
    fn context_with_facts(check: &Check, log: &str) -> Value {
        let facts = crate::facts::gather(check, log);
        json!({"journal": log, "facts": facts})
    }

    fn context_with(log: &str, facts: Facts) -> Value {
        json!({"journal": log, "facts": facts})
    }

    #[test]
    fn a_dead_pid_in_a_pid_file_is_stale_whatever_its_name_and_wording() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let check = check_named("kind = \"tcp\"\naddress = \"127.0.0.1:9\"\nunit = \"app\"");
        // (file name, log lines): the issue's daemon, PostgreSQL, Apache httpd, a lock file.
        let cases = [
            ("pid", format!("Nov 27 08:15:42 web app[77]: pid file {d}/pid exists, refusing to start (stale pid file?)")),
            ("postmaster.pid", format!("2026-11-27 08:15:42.001 UTC [77] FATAL:  lock file \"postmaster.pid\" already exists\n2026-11-27 08:15:42.001 UTC [77] HINT:  Is another postmaster (PID {DEAD_PID}) running in data directory \"{d}\"?")),
            ("httpd.pid", format!("[Fri Nov 27 08:15:42.123456 2026] [core:warn] [pid 77] AH00098: pid file {d}/httpd.pid overwritten -- Unclean shutdown of previous Apache run?\nhttpd (pid {DEAD_PID}) already running")),
            ("app.lock", format!("2026-11-27T08:15:42+00:00 app: another instance is already running (lock {d}/app.lock)")),
        ];
        for (name, log) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, format!("{DEAD_PID}\n{d}\n")).unwrap();
            let answer = propose(&context_with_facts(&check, &log), &check);
            assert!(!answer.escalate, "{log}: {answer:?}");
            assert_eq!(
                plan_of(&answer),
                format!(
                    r#"[{{"action":"remove_file","path":"{}"}},{{"action":"restart_unit","unit":"app.service"}}]"#,
                    path.display()
                ),
                "{log}"
            );
            assert_contains_text(&answer.diagnosis, &format!("pid {DEAD_PID}"));
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn a_live_pid_in_a_pid_file_is_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pid");
        std::fs::write(&path, std::process::id().to_string()).unwrap();
        let check = check_named("kind = \"tcp\"\naddress = \"127.0.0.1:9\"\nunit = \"app\"");
        let log = format!("pid file {} exists, refusing to start", path.display());
        let answer = propose(&context_with_facts(&check, &log), &check);
        assert!(!plan_of(&answer).contains("remove_file"), "{answer:?}");
    }

    fn squatter_facts(port: u16) -> Facts {
        Facts {
            listeners: vec![crate::facts::Listener {
                port,
                pid: 4242,
                command: "python3".into(),
                own: false,
                orphan: false,
            }],
            ..Facts::default()
        }
    }

    #[test]
    fn a_foreign_listener_is_a_squatter_in_every_daemons_words() {
        let check = check_named("kind = \"tcp\"\naddress = \"127.0.0.1:8080\"\nunit = \"app\"");
        for log in [
            "Nov 27 08:15:42 web nginx[812]: 2026/11/27 08:15:42 [emerg] 812#812: bind() to 0.0.0.0:8080 failed (98: Address already in use)",
            "2026-11-27T08:15:42+00:00 web sshd[90]: error: Bind to port 8080 on 0.0.0.0 failed: Address already in use.",
            "Nov 27 08:15:42.123456 web redis-server[4]: 4:M 27 Nov 2026 08:15:42.123 # Warning: Could not create server TCP listening socket *:8080: bind: Address already in use",
            "2026-11-27 08:15:42.001 UTC [77] LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use",
        ] {
            let answer = propose(&context_with(log, squatter_facts(8080)), &check);
            assert_eq!(
                plan_of(&answer),
                r#"[{"action":"kill_process","pid":4242,"signal":"TERM"},{"action":"restart_unit","unit":"app.service"}]"#,
                "{log}"
            );
            assert_contains_text(&answer.diagnosis, "pid 4242, python3");
            assert_contains_text(&answer.diagnosis, "port 8080");
        }
        let mut own = squatter_facts(8080);
        own.listeners[0].own = true;
        let answer = propose(
            &context_with(
                "bind() to 0.0.0.0:8080 failed (98: Address already in use)",
                own,
            ),
            &check,
        );
        assert!(!plan_of(&answer).contains("kill_process"), "{answer:?}");
    }

    #[test]
    fn the_word_rule_reads_the_port_not_the_timestamps_minutes() {
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = holder.local_addr().unwrap().port();
        // A check without a port of its own: the port comes from the message.
        let check = check_named("kind = \"process\"\nprocess = \"app\"\nunit = \"app\"");
        for log in [
            format!("Nov 27 08:15:42 web nginx[812]: [emerg] bind() to 0.0.0.0:{port} failed (98: Address already in use)"),
            format!("2026-11-27T08:15:42+00:00 web sshd[90]: Bind to port {port} on 0.0.0.0 failed: Address already in use."),
            format!("Nov 27 08:15:42.123456 web redis[4]: Could not create server TCP listening socket *:{port}: bind: Address already in use"),
        ] {
            let answer = propose(&json!({ "journal": log }), &check);
            // The holder is this test process, which the rule never stops: it names the port.
            assert_contains_text(&answer.diagnosis, &format!("Port {port} "));
        }
    }

    fn full_facts(dir: &Path, deleted: bool) -> Facts {
        Facts {
            filesystems: vec![crate::facts::Filesystem {
                path: dir.display().to_string(),
                total_bytes: 4 << 20,
                free_bytes: 0,
                total_inodes: 1024,
                free_inodes: 10,
                full: true,
                ..crate::facts::Filesystem::default()
            }],
            deleted_open: deleted
                .then(|| crate::facts::DeletedOpen {
                    pid: 4242,
                    command: "app".into(),
                    path: dir.join("old.log").display().to_string(),
                    bytes: 3 << 20,
                })
                .into_iter()
                .collect(),
            ..Facts::default()
        }
    }

    #[test]
    fn a_full_filesystem_is_cleaned_rotated_files_first_in_every_daemons_words() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let check = check_named(&format!(
            "kind = \"tcp\"\naddress = \"127.0.0.1:9\"\nunit = \"app\"\nlogs = [\"{d}\"]"
        ));
        for log in [
            "4:M 27 Nov 2026 08:15:42.123 # Failed opening the RDB file dump.rdb (in server root dir /var/lib/redis) for saving: No space left on device",
            "2026-11-27 08:15:42.001 UTC [77] PANIC:  could not write to file \"pg_wal/xlogtemp.77\": No space left on device",
            "2026/11/27 08:15:42 [crit] 812#812: *5 pwrite() \"/var/lib/nginx/body/0000000001\" failed (28: No space left on device)",
            "Nov 27 08:15:42 web app[7]: cannot create /srv/app/sess/x: ENOSPC",
        ] {
            let answer = propose(&context_with(log, full_facts(dir.path(), true)), &check);
            assert!(!answer.escalate, "{log}: {answer:?}");
            let plan = plan_of(&answer);
            let rotated = format!(r#"{{"action":"clean_files","glob":{},"path":"{d}"}}"#, serde_json::to_string(ROTATED_GLOB).unwrap());
            assert!(plan.starts_with(&format!("[{rotated},")), "{plan}");
            assert!(plan.ends_with(r#"{"action":"restart_unit","unit":"app.service"}]"#), "{plan}");
            assert_contains_text(&answer.diagnosis, "held by pid 4242 (app)");
        }
    }

    #[test]
    fn cleaning_stays_under_the_policys_paths() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let check = check_named(&format!(
            "kind = \"tcp\"\naddress = \"127.0.0.1:9\"\nlogs = [\"{d}\"]"
        ));
        let mut context = context_with(
            "write failed: No space left on device",
            full_facts(dir.path(), false),
        );
        context["policy"] = json!({"paths": ["/elsewhere/**"]});
        let answer = propose(&context, &check);
        if !crate::sys::systemd_is_running() {
            assert!(answer.escalate, "{answer:?}");
            assert_contains_text(&answer.diagnosis, "[policy] paths");
        }
        assert!(!plan_of(&answer).contains("clean_files"), "{answer:?}");
    }

    #[test]
    fn rotated_names_match_the_rotated_glob_and_live_ones_do_not() {
        let glob = globset::Glob::new(ROTATED_GLOB).unwrap().compile_matcher();
        for name in [
            "app.log.1",
            "app.log.2.gz",
            "error.log.old",
            "app-20261127.log",
            "app.log.2026-11-27",
            "x.bak",
            "app.log.12",
        ] {
            assert!(glob.is_match(name), "{name}");
        }
        for name in ["app.log", "toy.err", "service.log", "redis.log"] {
            assert!(!glob.is_match(name), "{name}");
        }
    }

    #[test]
    fn permission_problems_name_the_path_its_mode_and_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let log = dir.path().join("redis.log");
        std::fs::write(&log, "").unwrap();
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o444)).unwrap();
        let key = dir.path().join("ssh_host_rsa_key");
        std::fs::write(&key, "").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).unwrap();
        let check = check_named(&format!(
            "kind = \"tcp\"\naddress = \"127.0.0.1:9\"\nunit = \"app\"\nlogs = [\"{}\"]",
            log.display()
        ));
        let uid = current_uid();
        for (line, path, mode) in [
            (format!("2026/11/27 08:15:42 [emerg] 812#812: open() \"{}\" failed (13: Permission denied)", log.display()), log.display().to_string(), "0444"),
            ("4:M 27 Nov 2026 08:15:42.123 # Can't open the log file: Permission denied".to_string(), log.display().to_string(), "0444"),
            (format!("Permissions 0644 for '{}' are too open.", key.display()), key.display().to_string(), "0644"),
            (format!("2026-11-27 08:15:42.001 UTC [77] FATAL:  data directory \"{d}/data\" has invalid permissions\n2026-11-27 08:15:42.001 UTC [77] DETAIL:  Permissions should be u=rwx (0700) or u=rwx,g=rx (0750)."), data.display().to_string(), "0777"),
        ] {
            let answer = propose(&context_with_facts(&check, &line), &check);
            assert!(answer.escalate, "{line}: {answer:?}");
            assert_contains_text(&answer.diagnosis, &format!("{path}: mode {mode}, owner uid {uid}"));
            assert_contains_text(&answer.diagnosis, "a person must fix");
        }
    }

    fn current_uid() -> u32 {
        rustix::process::getuid().as_raw()
    }

    #[test]
    fn a_bad_config_file_is_escalated_quoting_the_parse_error() {
        let check = check_with_unit();
        for (log, quoted) in [
            ("2026/11/27 08:15:42 [emerg] 812#812: unknown directive \"servr\" in /etc/nginx/nginx.conf:12\nnginx: configuration file /etc/nginx/nginx.conf test failed", "unknown directive \"servr\" in /etc/nginx/nginx.conf:12"),
            ("Nov 27 08:15:42 web sshd[90]: /etc/ssh/sshd_config line 3: Bad configuration option: Porrt\nNov 27 08:15:42 web sshd[90]: /etc/ssh/sshd_config: terminating, 1 bad configuration options", "/etc/ssh/sshd_config line 3: Bad configuration option: Porrt"),
            ("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'bind-addr 127.0.0.1'\nBad directive or wrong number of arguments", ">>> 'bind-addr 127.0.0.1'"),
            ("2026-11-27 08:15:42.001 UTC [77] LOG:  syntax error in file \"/etc/postgresql/16/main/postgresql.conf\" line 3, near token \"=\"\n2026-11-27 08:15:42.001 UTC [77] FATAL:  configuration file \"/etc/postgresql/16/main/postgresql.conf\" contains errors", "syntax error in file \"/etc/postgresql/16/main/postgresql.conf\" line 3"),
        ] {
            let answer = propose(&json!({ "journal": log }), &check);
            assert!(answer.escalate, "{log}: {answer:?}");
            assert_contains_text(&answer.diagnosis, quoted);
            assert_contains_text(&answer.diagnosis, "bad configuration file");
        }
    }

    #[test]
    fn nginx_names_a_config_error_by_its_place_in_the_file() {
        let check = check_with_unit();
        for (log, quoted) in [
            ("nginx: [emerg] unexpected \"}\" in /srv/nginx/nginx.conf:6", "unexpected \"}\" in /srv/nginx/nginx.conf:6"),
            ("2026/11/27 08:15:42 [emerg] 812#812: unexpected end of file, expecting \";\" or \"}\" in /etc/nginx/sites-enabled/app:14", "unexpected end of file"),
            ("nginx: [emerg] invalid number of arguments in \"listen\" directive in /etc/nginx/nginx.conf:9\nnginx: configuration file /etc/nginx/nginx.conf test failed", "configuration file /etc/nginx/nginx.conf test failed"),
        ] {
            let answer = propose(&json!({ "journal": log }), &check);
            assert!(answer.escalate, "{log}: {answer:?}");
            assert_contains_text(&answer.diagnosis, quoted);
            assert_contains_text(&answer.diagnosis, "bad configuration file");
        }
        // A bind or open() failure is an [emerg] too, but not a config error.
        for line in [
            "nginx: [emerg] bind() to 127.0.0.1:8080 failed (98: Address already in use)",
            "nginx: [emerg] open() \"/srv/nginx/error.log\" failed (13: Permission denied)",
            "nginx: the configuration file /srv/nginx/nginx.conf syntax is ok\nnginx: configuration file /srv/nginx/nginx.conf test is successful",
        ] {
            assert!(config_error_lines(line).is_empty(), "{line}");
        }
    }

    #[test]
    fn the_services_own_orphans_on_its_port_are_stopped_not_called_squatters() {
        let check = check_named(
            "kind = \"process\"\npidfile = \"/srv/nginx/nginx.pid\"\nremedy = [{ action = \"run\", argv = [\"/srv/nginx/ctl\", \"restart\"] }]",
        );
        let facts = Facts {
            pid_files: vec![crate::facts::PidFile {
                path: "/srv/nginx/nginx.pid".into(),
                pid: Some(DEAD_PID),
                ..crate::facts::PidFile::default()
            }],
            listeners: vec![crate::facts::Listener {
                port: 8080,
                pid: 4242,
                command: "nginx".into(),
                own: true,
                orphan: true,
            }],
            ..Facts::default()
        };
        let log = "nginx: [emerg] bind() to 127.0.0.1:8080 failed (98: Address already in use)";
        let answer = propose(&context_with(log, facts), &check);
        assert_eq!(
            plan_of(&answer),
            r#"[{"action":"kill_process","pid":4242,"signal":"TERM"},{"action":"remedy"}]"#
        );
        assert_contains_text(&answer.diagnosis, "own orphaned workers, not a squatter");
        assert_contains_text(
            &answer.diagnosis,
            &format!("pid {DEAD_PID}, pid file /srv/nginx/nginx.pid"),
        );
    }

    fn assert_contains_text(text: &str, needle: &str) {
        assert!(text.contains(needle), "{needle:?} not in {text:?}");
    }
}
