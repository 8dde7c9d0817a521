//! The tools of `orchestrator mcp`: what an agent may look at while it investigates an
//! incident. Every one is read-only (it reads the state database through a read-only
//! connection, the host through /proc, statvfs, journalctl and the check's own probe) and none
//! takes the cycle lock. Every answer is masked by the config's redactor and bounded in size.
//! They are plain synchronous functions; `super` serves them over MCP.

use crate::actions::Plan;
use crate::agents::context;
use crate::config::{Check, Config};
use crate::policy::{Policy, Verdict};
use crate::redact::Redactor;
use crate::store::{IncidentFilter, Store};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// The most text one answer may carry; past it the answer is cut and says so.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// Log lines a call may ask for, and bytes read back from the end of each log file.
const MAX_LOG_LINES: u64 = 1000;
const DEFAULT_LOG_LINES: u64 = 100;
const LOG_TAIL_BYTES: u64 = 48 * 1024;
const MAX_JOURNAL_LINES: u64 = 500;
/// Past incidents, patterns and incidents listed at most.
const MAX_LISTED: i64 = 50;
/// Bytes of a process's command line shown.
const CMDLINE_BYTES: u64 = 2048;

/// One tool as a client lists it.
pub struct Spec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub input: Value,
}

/// An input schema: an object of these properties, `required` of them mandatory.
fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

const INCIDENT_ID: &str = "the incident's id; defaults to the incident the agent was asked about";

/// Every tool, in the order clients list them.
pub fn specs() -> Vec<Spec> {
    vec![
        Spec {
            name: "incident",
            title: "The incident",
            description: "One incident as recorded: summary, evidence, status and phase, the facts probed on the host before agents were asked, its timeline, every plan tried with its outcome and reason, every agent's vote and diagnosis, a plan held for approval, and the admin's runbook for its check.",
            input: object(json!({"id": {"type": "integer", "description": INCIDENT_ID}}), &[]),
        },
        Spec {
            name: "incidents",
            title: "Incidents",
            description: "The incidents of this host, newest first: id, check, status, phase, severity, summary, when detected.",
            input: object(
                json!({
                    "active_only": {"type": "boolean", "description": "only incidents still open or escalated (default true)"},
                    "limit": {"type": "integer", "description": "at most this many (default 20, at most 50)"},
                }),
                &[],
            ),
        },
        Spec {
            name: "run_check",
            title: "Run a check again",
            description: "Runs one configured check once more, as a scan would, and returns its status, summary, output and performance data. Nothing is recorded and nothing is acted on.",
            input: object(json!({"check": {"type": "string", "description": "the check's name as configured"}}), &["check"]),
        },
        Spec {
            name: "check_logs",
            title: "The check's logs",
            description: "The last lines of each log file of a check (its `logs`), read back from the end of the file (at most 48 KiB of each); for a directory, its largest files.",
            input: object(
                json!({
                    "check": {"type": "string", "description": "the check's name"},
                    "lines": {"type": "integer", "description": "lines per file (default 100, at most 1000)"},
                }),
                &["check"],
            ),
        },
        Spec {
            name: "unit_journal",
            title: "The unit's journal",
            description: "`systemctl status` and the last lines of the journal of a check's systemd unit (where systemd runs).",
            input: object(
                json!({
                    "check": {"type": "string", "description": "the check whose unit is read"},
                    "lines": {"type": "integer", "description": "journal lines (default 100, at most 500)"},
                }),
                &["check"],
            ),
        },
        Spec {
            name: "listeners",
            title: "Who listens on a port",
            description: "The processes listening on a TCP port of this host: pid and command.",
            input: object(json!({"port": {"type": "integer", "description": "the TCP port, 1 to 65535"}}), &["port"]),
        },
        Spec {
            name: "filesystem",
            title: "A filesystem's usage",
            description: "Size, free space and free inodes of the filesystem holding an absolute path, and whether it counts as full (under 1% free).",
            input: object(json!({"path": {"type": "string", "description": "an absolute path on the filesystem"}}), &["path"]),
        },
        Spec {
            name: "process",
            title: "A process's status",
            description: "What /proc says of a process: name, state, parent, owner, threads, memory, start, command line, executable and cgroup (its systemd unit).",
            input: object(json!({"pid": {"type": "integer", "description": "the process id"}}), &["pid"]),
        },
        Spec {
            name: "similar_incidents",
            title: "Past incidents like this one",
            description: "Closed incidents of this host with the same failure signature, then others of the same check, newest first, with how each ended: the plan that fixed it and who proposed it, or a person's note.",
            input: object(
                json!({
                    "id": {"type": "integer", "description": INCIDENT_ID},
                    "limit": {"type": "integer", "description": "at most this many (default 10, at most 50)"},
                }),
                &[],
            ),
        },
        Spec {
            name: "patterns",
            title: "Learned patterns",
            description: "The plans phase 1 learned from verified fixes: the failure signature, the plan, how often it worked and failed, and who vouched for it.",
            input: object(json!({"check": {"type": "string", "description": "only the patterns of this check"}}), &[]),
        },
        Spec {
            name: "policy",
            title: "The policy",
            description: "What an agent's plan may do: the actions allowed and those that wait for a person, the units, paths, commands and processes it may touch, the action vocabulary with every field, and the limits (plans per incident, restarts).",
            input: object(json!({"check": {"type": "string", "description": "the check whose unit is the incident's own (defaults to the incident's check)"}}), &[]),
        },
        Spec {
            name: "judge_plan",
            title: "Judge a plan",
            description: "The policy's verdict on a proposed plan, with its reasons, exactly as a phase would judge it before running it: allowed, needs_approval, rejected, or invalid (not in the vocabulary). Nothing runs. Also says whether the same plan was already tried on the incident.",
            input: object(
                json!({
                    "plan": {"type": "array", "items": {"type": "object"}, "description": "the plan: a list of actions as in the answer"},
                    "id": {"type": "integer", "description": INCIDENT_ID},
                    "check": {"type": "string", "description": "judge for this check's unit instead of the incident's"},
                }),
                &["plan"],
            ),
        },
        Spec {
            name: "runbook",
            title: "The admin's runbook",
            description: "Guidance a person wrote for a check: known causes, what is safe to do, whom to call.",
            input: object(json!({"check": {"type": "string", "description": "the check's name (defaults to the incident's check)"}}), &[]),
        },
    ]
}

/// What the tools read: the config, the database (opened read-only for each call, so the
/// latest cycle shows), the incident the agent was asked about, and the redactor.
pub struct Tools {
    pub config: Config,
    pub db: PathBuf,
    pub incident: Option<i64>,
    pub redactor: Redactor,
}

type Args = Map<String, Value>;

impl Tools {
    /// A tool's answer as text (pretty JSON), masked and bounded, and whether it is an error.
    pub fn answer(&self, name: &str, args: &Args) -> (String, bool) {
        let (mut value, is_error) = match self.call(name, args) {
            Ok(value) => (value, false),
            Err(message) => (json!({ "error": message }), true),
        };
        self.redactor.redact_value(&mut value);
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        (bounded(text), is_error)
    }

    /// The tool's result, unmasked; an error is a message for the agent.
    pub fn call(&self, name: &str, args: &Args) -> Result<Value, String> {
        match name {
            "incident" => self.incident(args),
            "incidents" => self.incidents(args),
            "run_check" => self.run_check(args),
            "check_logs" => self.check_logs(args),
            "unit_journal" => self.unit_journal(args),
            "listeners" => listeners(args),
            "filesystem" => filesystem(args),
            "process" => process(args),
            "similar_incidents" => self.similar_incidents(args),
            "patterns" => self.patterns(args),
            "policy" => self.policy(args),
            "judge_plan" => self.judge_plan(args),
            "runbook" => self.runbook(args),
            _ => Err(format!("no tool named `{name}`")),
        }
    }

    fn store(&self) -> Result<Store, String> {
        Store::open_readonly(&self.db).map_err(|e| e.to_string())
    }

    fn incident_id(&self, args: &Args) -> Result<i64, String> {
        match args.get("id") {
            Some(value) => value
                .as_i64()
                .ok_or_else(|| "`id` must be an integer".to_string()),
            None => self.incident.ok_or_else(|| {
                "`id` is required: this server was started without --incident".to_string()
            }),
        }
    }

    fn check(&self, args: &Args) -> Result<&Check, String> {
        let name = string(args, "check")?.ok_or("`check` is required")?;
        self.named_check(name)
    }

    fn named_check(&self, name: &str) -> Result<&Check, String> {
        self.config
            .check(name)
            .ok_or_else(|| match self.config.known_check(name) {
                Err(known) => known.replace(" (or silence all checks)", ""),
                Ok(_) => format!("unknown check `{name}`"),
            })
    }

    /// The check named by `check`, else the incident's.
    fn check_or_incidents(&self, args: &Args) -> Result<&Check, String> {
        if let Some(name) = string(args, "check")? {
            return self.named_check(name);
        }
        let id = self.incident_id(args)?;
        let incident = self.store()?.incident(id).map_err(|e| e.to_string())?;
        self.named_check(&incident.check)
    }

    fn incident(&self, args: &Args) -> Result<Value, String> {
        let id = self.incident_id(args)?;
        let store = self.store()?;
        let record = store.incident_record(id).map_err(|e| e.to_string())?;
        let check = self.config.check(&record.incident.check);
        let mut value = serde_json::to_value(&record).map_err(|e| e.to_string())?;
        if let Some(object) = value.as_object_mut() {
            // Who was mailed is not the agent's business; raw responses repeat the votes.
            object.remove("notifications");
            object.insert(
                "check".into(),
                check.map(context::describe_check).unwrap_or(Value::Null),
            );
            object.insert(
                "runbook".into(),
                json!(check.and_then(|c| c.runbook.as_deref())),
            );
        }
        for vote in value["consultations"].as_array_mut().into_iter().flatten() {
            if let Some(vote) = vote.as_object_mut() {
                vote.remove("response");
            }
        }
        Ok(crate::document::with_rfc3339(value))
    }

    fn incidents(&self, args: &Args) -> Result<Value, String> {
        let filter = IncidentFilter {
            active_only: boolean(args, "active_only")?.unwrap_or(true),
            limit: Some(integer(args, "limit")?.unwrap_or(20).clamp(1, MAX_LISTED)),
            ..IncidentFilter::default()
        };
        let incidents = self
            .store()?
            .incidents(&filter)
            .map_err(|e| e.to_string())?;
        let listed: Vec<Value> = incidents
            .iter()
            .map(|i| {
                json!({"id": i.id, "check": i.check, "status": i.status, "phase": i.phase,
                       "severity": i.severity, "summary": i.summary, "occurrences": i.occurrences,
                       "detected_at": i.detected_at})
            })
            .collect();
        Ok(crate::document::with_rfc3339(
            json!({ "incidents": listed }),
        ))
    }

    fn run_check(&self, args: &Args) -> Result<Value, String> {
        let check = self.check(args)?;
        // As a phase's re-check: from where the last scan stopped reading, moving nothing on.
        let memory = self
            .store()
            .and_then(|store| store.check_memory(&check.name).map_err(|e| e.to_string()))
            .unwrap_or_default();
        let result = crate::checks::run_check(check, crate::checks::Look::Recheck, &memory);
        let mut value = serde_json::to_value(&result).map_err(|e| e.to_string())?;
        value["check"] = json!(check.name);
        Ok(value)
    }

    fn check_logs(&self, args: &Args) -> Result<Value, String> {
        let check = self.check(args)?;
        let lines = integer(args, "lines")?
            .map_or(DEFAULT_LOG_LINES, |n| n.max(1) as u64)
            .min(MAX_LOG_LINES);
        let mut logs = Map::new();
        for path in &check.logs {
            let value = match context::log_tail(path, LOG_TAIL_BYTES, lines as usize) {
                Value::String(text) => Value::String(last_lines(&text, lines as usize)),
                other => other,
            };
            logs.insert(path.display().to_string(), value);
        }
        Ok(json!({"check": check.name, "lines": lines, "logs": logs}))
    }

    fn unit_journal(&self, args: &Args) -> Result<Value, String> {
        let check = self.check(args)?;
        let Some(unit) = check.unit.as_deref() else {
            return Err(format!("check `{}` has no unit", check.name));
        };
        let lines = integer(args, "lines")?
            .map_or(DEFAULT_LOG_LINES, |n| n.max(1) as u64)
            .min(MAX_JOURNAL_LINES);
        use crate::checks::journal;
        Ok(json!({
            "unit": unit,
            "status": journal::unit_status(unit),
            "journal": journal::journal_tail(unit, lines as usize),
        }))
    }

    fn similar_incidents(&self, args: &Args) -> Result<Value, String> {
        let id = self.incident_id(args)?;
        let limit = integer(args, "limit")?.unwrap_or(10).clamp(1, MAX_LISTED);
        let store = self.store()?;
        let incident = store.incident(id).map_err(|e| e.to_string())?;
        let similar = store
            .similar_incidents(&incident, limit)
            .map_err(|e| e.to_string())?;
        let listed: Vec<Value> = similar
            .iter()
            .map(|s| {
                json!({
                    "id": s.incident.id, "check": s.incident.check, "alike_by": s.alike_by,
                    "signature": s.incident.signature, "summary": s.incident.summary,
                    "status": s.incident.status, "detected_at": s.incident.detected_at,
                    "resolved_at": s.incident.resolved_at, "resolved_by": s.incident.resolved_by,
                    "fixed_by_plan": s.fixed_by_plan, "fixed_by_source": s.fixed_by_source,
                    "note": s.note,
                })
            })
            .collect();
        Ok(crate::document::with_rfc3339(json!({
            "incident": id, "signature": incident.signature, "similar": listed,
        })))
    }

    fn patterns(&self, args: &Args) -> Result<Value, String> {
        let store = self.store()?;
        let patterns = match string(args, "check")? {
            Some(check) => store.patterns_of_check(check, MAX_LISTED),
            None => store.patterns(),
        }
        .map_err(|e| e.to_string())?;
        let listed: Vec<Value> = patterns
            .iter()
            .take(MAX_LISTED as usize)
            .map(|p| {
                json!({
                    "id": p.id, "check": p.check, "signature": p.signature,
                    "plan": serde_json::from_str::<Value>(&p.plan).unwrap_or(Value::Null),
                    "successes": p.successes, "failures": p.failures,
                    "learned_in_phase": p.source_phase, "vouched_for_by": p.taught,
                    "last_used_at": p.last_used_at,
                })
            })
            .collect();
        Ok(crate::document::with_rfc3339(json!({ "patterns": listed })))
    }

    fn policy(&self, args: &Args) -> Result<Value, String> {
        let unit = match self.check_or_incidents(args) {
            Ok(check) => check.unit.as_deref(),
            Err(_) if !args.contains_key("check") => None,
            Err(err) => return Err(err),
        };
        let policy = &self.config.policy;
        let mut described = context::describe_policy(&self.config, unit);
        described["max_attempts_per_phase"] = json!(policy.max_attempts);
        described["restart_limit"] = json!({
            "count": policy.restart_limit.count,
            "within": policy.restart_limit.within.to_string(),
        });
        Ok(json!({
            "policy": described,
            "vocabulary": crate::actions::vocabulary::vocabulary(),
        }))
    }

    fn judge_plan(&self, args: &Args) -> Result<Value, String> {
        let written = args.get("plan").cloned().ok_or("`plan` is required")?;
        let check = self.check_or_incidents(args).ok();
        let unit = check.and_then(|c| c.unit.as_deref());
        let plan: Plan = match serde_json::from_value(written.clone()) {
            Ok(plan) => plan,
            Err(err) => {
                return Ok(json!({
                    "verdict": "invalid",
                    "reasons": [format!("the plan is not in the action vocabulary: {err}")],
                    "plan": written,
                }))
            }
        };
        let (verdict, reasons) = match Policy::new(&self.config.policy).judge(&plan, unit) {
            Verdict::Allowed => ("allowed", Vec::new()),
            Verdict::NeedsApproval(reasons) => ("needs_approval", reasons),
            Verdict::Rejected(reasons) => ("rejected", reasons),
        };
        let hash = plan.hash(unit);
        let tried = match self.incident_id(args) {
            Ok(id) => self
                .store()?
                .attempts(id)
                .map_err(|e| e.to_string())?
                .into_iter()
                .filter(|a| a.plan_hash == hash)
                .map(|a| json!({"phase": a.phase, "source": a.source, "outcome": a.outcome, "reason": a.reason}))
                .collect(),
            Err(_) => Vec::new(),
        };
        Ok(json!({
            "verdict": verdict,
            "reasons": reasons,
            "unit": unit,
            "plan": serde_json::from_str::<Value>(&plan.to_json()).unwrap_or(written),
            "described": plan.describe(),
            "hash": hash,
            "already_tried": tried,
        }))
    }

    fn runbook(&self, args: &Args) -> Result<Value, String> {
        let check = self.check_or_incidents(args)?;
        Ok(json!({
            "check": check.name,
            "runbook": check.runbook,
            "note": if check.runbook.is_none() { "no runbook is written for this check" } else { "written by the host's administrator" },
        }))
    }
}

fn listeners(args: &Args) -> Result<Value, String> {
    let port = integer(args, "port")?.ok_or("`port` is required")?;
    let port = u16::try_from(port)
        .ok()
        .filter(|p| *p > 0)
        .ok_or("`port` must be from 1 to 65535")?;
    let found = crate::facts::listeners_on(port);
    let listed: Vec<Value> = found
        .iter()
        .map(|l| json!({"pid": l.pid, "command": l.command}))
        .collect();
    Ok(json!({"port": port, "listeners": listed}))
}

fn filesystem(args: &Args) -> Result<Value, String> {
    let path = string(args, "path")?.ok_or("`path` is required")?;
    let path = Path::new(path);
    if !path.is_absolute() {
        return Err("`path` must be absolute".into());
    }
    let size = crate::sys::statvfs(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let total = size.blocks.saturating_mul(size.block_size);
    let free = size.blocks_available.saturating_mul(size.block_size);
    let share = |part: u64, whole: u64| (whole > 0).then(|| part as f64 * 100.0 / whole as f64);
    let full = |part: u64, whole: u64| share(part, whole).is_some_and(|p| p < 1.0);
    Ok(json!({
        "path": path.display().to_string(),
        "total_bytes": total,
        "free_bytes": free,
        "free_percent": share(free, total),
        "total_inodes": size.inodes,
        "free_inodes": size.inodes_free,
        "free_inodes_percent": share(size.inodes_free, size.inodes),
        "full": full(free, total) || full(size.inodes_free, size.inodes),
        "human": format!("{} free of {}", crate::sys::human_bytes(free), crate::sys::human_bytes(total)),
    }))
}

fn process(args: &Args) -> Result<Value, String> {
    let pid = integer(args, "pid")?.ok_or("`pid` is required")?;
    let pid = i32::try_from(pid)
        .ok()
        .filter(|p| *p > 0)
        .ok_or("`pid` must be a positive process id")?;
    let dir = PathBuf::from(format!("/proc/{pid}"));
    let status =
        read_bounded(&dir.join("status"), 16 * 1024).ok_or_else(|| format!("no process {pid}"))?;
    let wanted = [
        "Name", "State", "PPid", "Uid", "Gid", "Threads", "VmRSS", "VmSize",
    ];
    let mut fields = Map::new();
    for line in status.lines() {
        if let Some((key, value)) = line.split_once(':') {
            if wanted.contains(&key) {
                fields.insert(
                    key.to_lowercase(),
                    json!(value.split_whitespace().collect::<Vec<_>>().join(" ")),
                );
            }
        }
    }
    let cmdline = read_bounded(&dir.join("cmdline"), CMDLINE_BYTES)
        .map(|c| c.trim_end_matches('\0').replace('\0', " "))
        .unwrap_or_default();
    let cgroup = read_bounded(&dir.join("cgroup"), 4096)
        .map(|c| {
            c.lines()
                .filter_map(|l| l.rsplit(':').next())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let exe = std::fs::read_link(dir.join("exe"))
        .map(|p| p.display().to_string())
        .ok();
    let started = crate::sys::proc_stat(pid).map(|s| s.start);
    Ok(json!({
        "pid": pid,
        "status": fields,
        "cmdline": cmdline,
        "exe": exe,
        "cgroup": cgroup,
        "start_ticks_after_boot": started,
    }))
}

/// At most `limit` bytes of a /proc file, as text.
fn read_bounded(path: &Path, limit: u64) -> Option<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The last `n` lines of `text`; the first may be cut, as a tail read from a byte offset is.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `text` cut to [`MAX_ANSWER_BYTES`] at a character boundary, saying so.
fn bounded(text: String) -> String {
    if text.len() <= MAX_ANSWER_BYTES {
        return text;
    }
    let mut cut = MAX_ANSWER_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}\n[... cut: the answer is {} bytes, at most {MAX_ANSWER_BYTES} are sent; ask for less]",
        &text[..cut],
        text.len()
    )
}

fn string<'a>(args: &'a Args, key: &str) -> Result<Option<&'a str>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn integer(args: &Args, key: &str) -> Result<Option<i64>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("`{key}` must be an integer")),
    }
}

fn boolean(args: &Args, key: &str) -> Result<Option<bool>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_bool()
            .map(Some)
            .ok_or_else(|| format!("`{key}` must be true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_an_object_schema_and_an_answer() {
        let names: Vec<&str> = specs().iter().map(|s| s.name).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        for spec in specs() {
            assert_eq!(spec.input["type"], "object", "{}", spec.name);
        }
    }

    #[test]
    fn a_long_answer_is_cut_at_a_character_and_says_so() {
        let text = "é".repeat(MAX_ANSWER_BYTES);
        let cut = bounded(text);
        assert!(cut.len() < MAX_ANSWER_BYTES + 200);
        assert!(cut.contains("[... cut: the answer is"));
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc");
    }
}
