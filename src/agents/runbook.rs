//! The builtin `runbook` agent: offline rules that map known failure signatures to plans
//! (docs/agents.md, "The builtin `runbook`"). It reads the same context as any agent and answers in the same form, so its
//! plans pass the same policy. It makes the tool useful with no LLM at all.

use super::protocol::RawAnswer;
use crate::checks::host::pid_alive;
use crate::config::{Check, CheckKind};
use regex::Regex;
use serde_json::{json, Value};

/// A rule reads the evidence (as written and lower-cased) and the check, and may answer.
type Rule = fn(&str, &str, &Check) -> Option<RawAnswer>;

pub fn propose(context: &Value, check: &Check) -> RawAnswer {
    let text = evidence_text(context);
    let lower = text.to_lowercase();
    let rules: [Rule; 6] = [
        stale_file,
        address_in_use,
        no_space,
        resource_exhaustion,
        permission_denied,
        service_down,
    ];
    rules.iter().find_map(|rule| rule(&text, &lower, check)).unwrap_or_else(|| {
        abstain("None of the runbook's known failure signatures matches this incident; it needs a closer look.")
    })
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
    for attempt in context
        .get("attempts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
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
        return Some(
            json!({"action": "restart_unit", "unit": crate::actions::full_unit_name(unit)}),
        );
    }
    (!check.remedy.is_empty()).then(|| json!({"action": "remedy"}))
}

fn with_restart(mut plan: Vec<Value>, check: &Check) -> Vec<Value> {
    plan.extend(restart(check));
    plan
}

fn stale_file(text: &str, lower: &str, check: &Check) -> Option<RawAnswer> {
    if !(lower.contains("stale")
        || lower.contains("already running")
        || lower.contains("lock file")
        || lower.contains("pid file"))
    {
        return None;
    }
    let pattern = Regex::new(r"(/[A-Za-z0-9_./@-]+\.(?:pid|lock))\b").ok()?;
    let path = pattern
        .captures_iter(text)
        .map(|c| c[1].to_string())
        .find(|p| is_stale(p))?;
    let diagnosis = format!(
        "The service cannot start because {path} is left over from a process that no longer runs. \
         Removing the stale file and starting the service again should fix it."
    );
    Some(answer(
        diagnosis,
        0.9,
        with_restart(vec![json!({"action": "remove_file", "path": path})], check),
    ))
}

/// A pid file whose pid is dead, or a lock file that still exists.
fn is_stale(path: &str) -> bool {
    let Ok(contents) = std::fs::read_to_string(path) else {
        return false;
    };
    match contents.trim().parse::<i32>() {
        Ok(pid) => !pid_alive(pid),
        Err(_) => path.ends_with(".lock"),
    }
}

fn address_in_use(text: &str, lower: &str, check: &Check) -> Option<RawAnswer> {
    if !(lower.contains("address already in use") || lower.contains("eaddrinuse")) {
        return None;
    }
    let port = check_port(check).or_else(|| {
        let pattern = Regex::new(r":(\d{2,5})\b[^\n]*(?i:address already in use)").ok()?;
        pattern.captures(text)?[1].parse().ok()
    })?;
    let own = std::process::id() as i32;
    match listener_pids(port)
        .into_iter()
        .find(|pid| *pid > 1 && *pid != own)
    {
        Some(pid) => {
            let name = process_name(pid);
            let diagnosis = format!(
                "The service cannot bind port {port}: a stray process holds it (pid {pid}, {name}). \
                 Stopping that process and starting the service again should fix it."
            );
            let plan = with_restart(
                vec![json!({"action": "kill_process", "pid": pid, "signal": "TERM"})],
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

fn check_port(check: &Check) -> Option<u16> {
    match &check.kind {
        CheckKind::Http { url, .. } => super::context::port_of(url),
        CheckKind::Tcp { address } => super::context::port_of(address),
        _ => None,
    }
}

/// Pids of processes with a listening TCP socket on `port`, found through /proc: the socket's
/// inode in /proc/net/tcp{,6}, then the process whose fd links to it.
pub fn listener_pids(port: u16) -> Vec<i32> {
    let inodes: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter_map(|line| listening_inode(line, port))
                .collect::<Vec<_>>()
        })
        .collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    let targets: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| holds_socket(*pid, &targets))
        .collect()
}

fn listening_inode(line: &str, port: u16) -> Option<String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let local_port = u16::from_str_radix(fields.get(1)?.rsplit(':').next()?, 16).ok()?;
    // State 0A is TCP_LISTEN.
    (local_port == port && *fields.get(3)? == "0A").then(|| fields.get(9).map(|s| s.to_string()))?
}

fn holds_socket(pid: i32, targets: &[String]) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .map(|t| targets.iter().any(|s| t.as_os_str() == s.as_str()))
            .unwrap_or(false)
    })
}

fn process_name(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

fn no_space(_text: &str, lower: &str, check: &Check) -> Option<RawAnswer> {
    let disk_full = matches!(check.kind, CheckKind::Disk { .. });
    if !(disk_full || lower.contains("no space left on device") || lower.contains("enospc")) {
        return None;
    }
    let mut plan: Vec<Value> = check
        .logs
        .iter()
        .filter(|path| path.is_dir())
        .map(|dir| json!({"action": "clean_files", "path": dir.display().to_string(), "glob": "*"}))
        .collect();
    if crate::checks::systemd_is_running() {
        plan.push(
            json!({"action": "vacuum_journal", "max_size": crate::actions::DEFAULT_JOURNAL_SIZE}),
        );
    }
    if plan.is_empty() {
        return Some(abstain(
            "The disk is full, but the check names no log or cache directory the runbook may clean (add them to the check's `logs`).",
        ));
    }
    if !disk_full {
        plan.extend(restart(check));
    }
    let diagnosis = "The filesystem is out of space. Cleaning the check's log and cache directories (and the journal where \
                     there is one) should free it."
        .to_string();
    Some(answer(diagnosis, 0.8, plan))
}

fn resource_exhaustion(_text: &str, lower: &str, check: &Check) -> Option<RawAnswer> {
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

fn permission_denied(_text: &str, lower: &str, _check: &Check) -> Option<RawAnswer> {
    lower.contains("permission denied").then(|| {
        abstain("The service is denied access to one of its paths. Ownership and modes are outside the action vocabulary on purpose: a person must fix them.")
    })
}

fn service_down(_text: &str, lower: &str, check: &Check) -> Option<RawAnswer> {
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
        if crate::checks::systemd_is_running() {
            assert_contains_text(&plan_of(&answer), "vacuum_journal");
        } else {
            assert!(answer.escalate);
            assert_contains_text(&answer.diagnosis, "logs");
        }
    }

    fn assert_contains_text(text: &str, needle: &str) {
        assert!(text.contains(needle), "{needle:?} not in {text:?}");
    }
}
