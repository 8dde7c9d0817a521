//! Agents (docs/agents.md): external commands or the builtin runbook, asked for a diagnosis and a
//! plan. Whatever they answer is untrusted: it is parsed strictly here and judged by the policy
//! before anything runs.

pub mod context;
pub mod protocol;
pub mod runbook;

use crate::actions::Plan;
use crate::config::{AgentConfig, Check};
use crate::exec::{self, CommandSpec, Containment, Ending};
use crate::model::BuiltinAgent;
use protocol::RawAnswer;
use serde_json::Value;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Bytes of an agent's stdout we read; more than this is garbage, not an answer.
pub const ANSWER_BYTES: usize = 1024 * 1024;
/// An agent writing more than this is killed.
const KILL_AFTER_BYTES: u64 = 8 * 1024 * 1024;

/// Bytes of the raw response stored with the consultation.
pub const STORED_RESPONSE_CHARS: usize = 16 * 1024;

/// What one agent said, as recorded.
#[derive(Debug, Clone)]
pub struct Consultation {
    pub agent: String,
    pub latency_ms: u64,
    pub response: String,
    pub answer: Answer,
    /// Tokens and cost, where the CLI reports them (Claude Code's JSON envelope).
    pub usage: protocol::Usage,
}

/// What orchestrator offers a command agent besides its prompt, at run time: an MCP server of
/// read-only tools on the incident (`orchestrator mcp`), and the answer's JSON Schema. Both are
/// written into the agent's workspace; their paths reach the agent as environment variables
/// and as placeholders in its argv (see [`expand`]).
#[derive(Debug, Clone, Default)]
pub struct Offer {
    pub incident: i64,
    /// The argv that starts `orchestrator … mcp --incident N`; none offered when empty.
    pub mcp_server: Vec<String>,
    /// Where the workspace is made: `workspaces_dir` of the database.
    pub workspaces: PathBuf,
}

/// The name the MCP server goes by in the config written for the agent: Claude Code calls its
/// tools `mcp__orchestrator__NAME`.
pub const MCP_SERVER_NAME: &str = "orchestrator";

impl Offer {
    fn split(&self) -> (&str, &[String]) {
        match self.mcp_server.split_first() {
            Some((command, args)) => (command, args),
            None => ("", &[]),
        }
    }

    /// The MCP client config most CLIs read (`claude --mcp-config FILE`, Gemini's and
    /// Cursor's `mcpServers`): one stdio server.
    pub fn mcp_config(&self) -> Value {
        let (command, args) = self.split();
        serde_json::json!({"mcpServers": {MCP_SERVER_NAME: {"command": command, "args": args}}})
    }

    /// The server as one TOML inline table, for Codex: `-c mcp_servers.orchestrator=VALUE`.
    /// JSON strings are TOML basic strings.
    fn mcp_server_toml(&self) -> String {
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let (command, args) = self.split();
        let args: Vec<String> = args.iter().map(|a| quote(a)).collect();
        format!(
            "{{command = {}, args = [{}]}}",
            quote(command),
            args.join(", ")
        )
    }

    /// The server's command line as one string, each word quoted as a POSIX shell reads it,
    /// for CLIs that take it so (goose's `--with-extension`). Nothing runs it through a shell
    /// here.
    fn mcp_command_line(&self) -> String {
        let quote = |word: &String| {
            let plain = !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c));
            if plain {
                word.clone()
            } else {
                format!("'{}'", word.replace('\'', "'\\''"))
            }
        };
        self.mcp_server
            .iter()
            .map(quote)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The placeholders an agent's argv may use, each replaced wherever it appears in a word:
/// `{mcp_config}` (the path of the MCP config file), `{mcp_server_toml}` (the server as a TOML
/// inline table), `{mcp_command}` (its command line as one string), `{answer_schema}` (the
/// path of the schema file), `{answer_schema_json}` (the schema itself, on one line) and
/// `{incident}` (the incident's id). The values are orchestrator's own (paths it made, its
/// config), never text from the incident.
pub const PLACEHOLDERS: [&str; 6] = [
    "{mcp_config}",
    "{mcp_server_toml}",
    "{mcp_command}",
    "{answer_schema}",
    "{answer_schema_json}",
    "{incident}",
];

fn expand(argv: &[String], offer: &Offer, workspace: &Workspace) -> Vec<String> {
    argv.iter()
        .map(|word| expand_word(word, offer, workspace))
        .collect()
}

fn expand_word(word: &str, offer: &Offer, workspace: &Workspace) -> String {
    if !word.contains('{') {
        return word.to_string();
    }
    let values = [
        workspace.mcp_config_file().display().to_string(),
        offer.mcp_server_toml(),
        offer.mcp_command_line(),
        workspace.schema_file().display().to_string(),
        protocol::answer_schema().to_string(),
        offer.incident.to_string(),
    ];
    let mut word = word.to_string();
    for (placeholder, value) in PLACEHOLDERS.iter().zip(&values) {
        if word.contains(placeholder) {
            word = word.replace(placeholder, value);
        }
    }
    word
}

#[derive(Debug, Clone)]
pub enum Answer {
    /// A plan in the vocabulary (not yet judged by the policy).
    Plan {
        diagnosis: String,
        confidence: Option<f64>,
        plan: Plan,
    },
    /// The agent answered, but its plan is not in the action vocabulary: rejected whole.
    Invalid {
        diagnosis: String,
        plan: Value,
        reason: String,
    },
    /// No usable answer: empty plan, `escalate`, timeout, crash, garbage.
    Abstained { diagnosis: String, reason: String },
}

impl Answer {
    fn from_raw(raw: RawAnswer) -> Answer {
        if raw.escalate {
            return Answer::Abstained {
                diagnosis: raw.diagnosis,
                reason: "the agent asked to escalate".into(),
            };
        }
        match serde_json::from_value::<Plan>(raw.plan.clone()) {
            Ok(plan) if plan.is_empty() => Answer::Abstained {
                diagnosis: raw.diagnosis,
                reason: "the agent proposed no plan".into(),
            },
            Ok(plan) => Answer::Plan {
                diagnosis: raw.diagnosis,
                confidence: raw.confidence,
                plan,
            },
            Err(err) => Answer::Invalid {
                diagnosis: raw.diagnosis,
                plan: raw.plan,
                reason: format!("the plan is not in the action vocabulary: {err}"),
            },
        }
    }

    /// No usable answer, for `reason`, and nothing diagnosed.
    pub fn abstained(reason: impl Into<String>) -> Answer {
        Answer::Abstained {
            diagnosis: String::new(),
            reason: reason.into(),
        }
    }

    pub fn diagnosis(&self) -> &str {
        match self {
            Answer::Plan { diagnosis, .. }
            | Answer::Invalid { diagnosis, .. }
            | Answer::Abstained { diagnosis, .. } => diagnosis,
        }
    }
}

/// Asks one agent about an incident, in a workspace under `workspaces` (see [`workspaces_dir`]).
/// Never fails: every failure is an abstention with a reason.
pub fn consult(
    name: &str,
    agent: &AgentConfig,
    check: &Check,
    (context, prompt): (&Value, &str),
    offer: &Offer,
) -> Consultation {
    let started = Instant::now();
    let (response, answer) = match (&agent.command, agent.builtin) {
        (_, Some(BuiltinAgent::Runbook)) => {
            let raw = runbook::propose(context, check);
            (serde_json::json!({"diagnosis": raw.diagnosis, "confidence": raw.confidence, "plan": raw.plan, "escalate": raw.escalate}).to_string(), Answer::from_raw(raw))
        }
        (Some(argv), _) => ask_command(argv, agent, context, prompt, offer),
        _ => (String::new(), Answer::abstained("the agent has no command")),
    };
    let usage = protocol::usage(&response);
    let response: String = response.chars().take(STORED_RESPONSE_CHARS).collect();
    Consultation {
        agent: name.to_string(),
        latency_ms: started.elapsed().as_millis() as u64,
        response,
        answer,
        usage,
    }
}

fn ask_command(
    argv: &[String],
    agent: &AgentConfig,
    context: &Value,
    prompt: &str,
    offer: &Offer,
) -> (String, Answer) {
    let workspace = match Workspace::new(context, offer) {
        Ok(workspace) => workspace,
        Err(err) => {
            return (
                String::new(),
                Answer::abstained(format!("cannot prepare the agent's workspace: {err}")),
            )
        }
    };
    let mut spec = CommandSpec::new(expand(argv, offer, &workspace), agent.timeout.std());
    spec.stdin = Some(prompt.as_bytes().to_vec());
    spec.env.push((
        "ORCHESTRATOR_CONTEXT".into(),
        workspace.context_file().into_os_string(),
    ));
    spec.env.push((
        "ORCHESTRATOR_ANSWER_SCHEMA".into(),
        workspace.schema_file().into_os_string(),
    ));
    spec.env.push((
        "ORCHESTRATOR_INCIDENT".into(),
        offer.incident.to_string().into(),
    ));
    if !offer.mcp_server.is_empty() {
        spec.env.push((
            "ORCHESTRATOR_MCP_CONFIG".into(),
            workspace.mcp_config_file().into_os_string(),
        ));
    }
    for (name, value) in &agent.env {
        spec.env
            .push((name.into(), expand_word(value, offer, &workspace).into()));
    }
    // Not orchestrator's own directory (`/` under systemd): a CLI that reads its working
    // directory as context (Gemini) or keeps per-directory state must find nothing there.
    spec.cwd = Some(workspace.work_dir());
    // Their scratch files (Gemini's error reports) go with the workspace, not into /tmp.
    spec.env
        .push(("TMPDIR".into(), workspace.tmp_dir().into_os_string()));
    // An agent is an outside program: it gets the redacted context, never our secrets (exec
    // scrubs every child's environment of them).
    spec.keep_bytes = ANSWER_BYTES;
    spec.kill_after_bytes = KILL_AFTER_BYTES;
    // An agent only answers: nothing it started may outlive its answer or its timeout.
    spec.contain = Containment::Tree;
    let output = match exec::run(&spec) {
        Ok(output) => output,
        Err(err) => return (String::new(), Answer::abstained(err.to_string())),
    };
    let answer = match output.ending {
        Ending::TimedOut => {
            Answer::abstained(format!("the agent timed out after {}", agent.timeout))
        }
        Ending::TooMuchOutput => {
            Answer::abstained("the agent wrote more output than an answer can be")
        }
        Ending::Signalled(sig) => {
            Answer::abstained(format!("the agent was killed by signal {sig}"))
        }
        Ending::Exited(code) if code != 0 => Answer::abstained(format!(
            "the agent exited with status {code}: {}",
            failure_reason(&output.stdout, &output.stderr)
        )),
        Ending::Exited(_) if output.truncated => Answer::abstained(format!(
            "the agent wrote more output than an answer can be ({} bytes; at most {ANSWER_BYTES})",
            output.stdout_bytes
        )),
        Ending::Exited(_) => match protocol::error_envelope(&output.stdout) {
            Some(reason) => Answer::abstained(format!("the agent reported an error: {reason}")),
            None => match protocol::parse(&output.stdout) {
                Ok(raw) => Answer::from_raw(raw),
                Err(reason) => Answer::abstained(format!("unparsable answer: {reason}")),
            },
        },
    };
    (output.stdout, answer)
}

/// Bytes of a failure's reason kept in the record.
const REASON_CHARS: usize = 300;

/// Why a command agent failed, in its own words: the reason in an error envelope on stdout
/// (Claude Code reports "Not logged in" there, with nothing on stderr), else the last line of
/// stderr, where CLIs put their verdict after warnings (Codex), else the last line of stdout.
fn failure_reason(stdout: &str, stderr: &str) -> String {
    let reason = protocol::error_envelope(stdout)
        .or_else(|| last_line(stderr))
        .or_else(|| last_line(stdout))
        .unwrap_or_else(|| "it printed nothing".to_string());
    reason.chars().take(REASON_CHARS).collect()
}

fn last_line(text: &str) -> Option<String> {
    text.lines()
        .map(|line| without_terminal_escapes(line).trim().to_string())
        .rfind(|line| !line.is_empty())
}

/// `line` without ANSI escape sequences (Gemini colours its errors) or other control characters:
/// the reason is stored and shown in mail, the dashboard and terminals.
fn without_terminal_escapes(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, then one final byte in @..~.
            if chars.next_if_eq(&'[').is_some() {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else if !c.is_control() {
            plain.push(c);
        }
    }
    plain
}

/// Where the consultations of the database `db` happen: `DB.agents`, beside it in the state
/// directory (root's alone, `0700`), never a shared `/tmp`. The workspaces of a process that
/// was killed are removed by the next run that takes the cycle lock
/// ([`remove_abandoned_workspaces`]).
pub fn workspaces_dir(db: &Path) -> PathBuf {
    crate::store::private::beside(db, ".agents")
}

/// Removes the workspaces under `workspaces` whose process is gone (killed in the middle of a
/// consultation: a normal end removes its own), and returns them. A workspace is named after
/// the pid and start time of the process that made it, so one of a live process, even of
/// another database's cycle, is never touched; nor is anything not named like a workspace.
pub fn remove_abandoned_workspaces(workspaces: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(workspaces) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = Owner::of_workspace(&name.to_string_lossy()) else {
            continue;
        };
        if owner.alive() {
            continue;
        }
        let path = entry.path();
        // std's remove_dir_all does not follow symlinks; an agent may have left some.
        let gone = match entry.file_type() {
            Ok(kind) if kind.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
        match gone {
            Ok(()) => removed.push(path),
            Err(err) => log::warn!(
                "cannot remove the abandoned agent workspace {}: {err}",
                path.display()
            ),
        }
    }
    removed
}

/// The process a workspace belongs to: its pid and start time (the pair names one process for
/// the whole boot, even once the pid is reused).
#[derive(Debug, PartialEq, Eq)]
struct Owner {
    pid: i32,
    start: u64,
}

impl Owner {
    fn this_process() -> Owner {
        let pid = std::process::id() as i32;
        Owner {
            pid,
            start: crate::sys::proc_stat(pid).map(|s| s.start).unwrap_or(0),
        }
    }

    /// `PID-START-` as a workspace's name begins.
    fn prefix(&self) -> String {
        format!("{}-{}-", self.pid, self.start)
    }

    fn of_workspace(name: &str) -> Option<Owner> {
        let mut parts = name.splitn(3, '-');
        let pid = parts.next()?.parse().ok()?;
        let start = parts.next()?.parse().ok()?;
        parts.next()?;
        Some(Owner { pid, start })
    }

    fn alive(&self) -> bool {
        crate::sys::proc_stat(self.pid).is_some_and(|s| !s.zombie && s.start == self.start)
    }
}

/// Where one consultation happens: a private directory (0700) holding the context file, the
/// answer's schema, the MCP config (when a server is offered), the agent's working directory,
/// empty when the agent starts, and its TMPDIR. Dropping it removes the whole tree (std's
/// `remove_dir_all` does not follow symlinks); the agent's processes are gone by then.
/// If orchestrator is killed first, the next run's recovery removes it.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    const CONTEXT: &'static str = "context.json";
    const SCHEMA: &'static str = "answer-schema.json";
    const MCP_CONFIG: &'static str = "mcp.json";
    const WORK: &'static str = "work";
    const TMP: &'static str = "tmp";

    fn new(context: &Value, offer: &Offer) -> std::io::Result<Workspace> {
        crate::store::private::make_dir(&offer.workspaces)?;
        let dir = tempfile::Builder::new()
            .prefix(&Owner::this_process().prefix())
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(&offer.workspaces)?;
        write_private(&dir.path().join(Self::CONTEXT), context)?;
        write_private(&dir.path().join(Self::SCHEMA), &protocol::answer_schema())?;
        if !offer.mcp_server.is_empty() {
            write_private(&dir.path().join(Self::MCP_CONFIG), &offer.mcp_config())?;
        }
        for subdir in [Self::WORK, Self::TMP] {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(dir.path().join(subdir))?;
        }
        Ok(Workspace { dir })
    }

    fn context_file(&self) -> PathBuf {
        self.dir.path().join(Self::CONTEXT)
    }

    fn schema_file(&self) -> PathBuf {
        self.dir.path().join(Self::SCHEMA)
    }

    fn mcp_config_file(&self) -> PathBuf {
        self.dir.path().join(Self::MCP_CONFIG)
    }

    fn work_dir(&self) -> PathBuf {
        self.dir.path().join(Self::WORK)
    }

    fn tmp_dir(&self) -> PathBuf {
        self.dir.path().join(Self::TMP)
    }
}

/// `value` as JSON in a new file of mode 0600. create_new is O_EXCL: it never opens what is
/// already there, a symlink included.
fn write_private(path: &std::path::Path, value: &Value) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    serde_json::to_writer_pretty(&mut file, value)?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_explained_by_the_envelope_then_stderr_then_stdout() {
        let envelope =
            r#"{"type":"result","is_error":true,"result":"Not logged in · Please run /login"}"#;
        assert_eq!(
            failure_reason(envelope, ""),
            "Not logged in · Please run /login"
        );
        let codex = "WARNING: proceeding, even though we could not create PATH aliases\nNot inside a trusted directory and --skip-git-repo-check was not specified.\n\n";
        assert_eq!(
            failure_reason("", codex),
            "Not inside a trusted directory and --skip-git-repo-check was not specified."
        );
        assert_eq!(failure_reason("boom\n", ""), "boom");
        assert_eq!(failure_reason("", " \n"), "it printed nothing");
        assert_eq!(failure_reason("", &"x".repeat(5000)).len(), REASON_CHARS);
    }

    #[test]
    fn terminal_escapes_are_stripped_from_reasons() {
        let gemini = "\u{1b}[31mGemini CLI is not running in a trusted directory.\u{1b}[0m";
        assert_eq!(
            without_terminal_escapes(gemini),
            "Gemini CLI is not running in a trusted directory."
        );
        assert_eq!(without_terminal_escapes("a\u{7}b\u{1b}c"), "abc");
    }

    #[test]
    fn placeholders_are_filled_with_the_workspace_and_the_server() {
        let state = tempfile::tempdir().unwrap();
        let offer = Offer {
            workspaces: workspaces_dir(&state.path().join("state.db")),
            incident: 42,
            mcp_server: vec![
                "/opt/my tools/orchestrator".into(),
                "-c".into(),
                "/etc/o.toml".into(),
                "mcp".into(),
            ],
        };
        let workspace = Workspace::new(&serde_json::json!({}), &offer).unwrap();
        let argv: Vec<String> = [
            "claude",
            "--mcp-config",
            "{mcp_config}",
            "--json-schema",
            "{answer_schema_json}",
            "-c",
            "mcp_servers.orchestrator={mcp_server_toml}",
            "--with-extension",
            "{mcp_command}",
            "--output-schema",
            "{answer_schema}",
            "incident-{incident}",
            "{unknown}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let expanded = expand(&argv, &offer, &workspace);
        let config: Value =
            serde_json::from_str(&std::fs::read_to_string(&expanded[2]).unwrap()).unwrap();
        assert_eq!(
            config["mcpServers"]["orchestrator"]["args"],
            serde_json::json!(["-c", "/etc/o.toml", "mcp"])
        );
        let schema: Value = serde_json::from_str(&expanded[4]).unwrap();
        assert_eq!(schema, protocol::answer_schema());
        let toml: toml::Value = toml::from_str(&format!(
            "x = {}",
            &expanded[6]["mcp_servers.orchestrator=".len()..]
        ))
        .unwrap();
        assert_eq!(
            toml["x"]["command"].as_str(),
            Some("/opt/my tools/orchestrator")
        );
        assert_eq!(
            expanded[8],
            "'/opt/my tools/orchestrator' -c /etc/o.toml mcp"
        );
        assert_eq!(
            std::fs::read_to_string(&expanded[10]).unwrap(),
            serde_json::to_string_pretty(&protocol::answer_schema()).unwrap()
        );
        assert_eq!(expanded[11], "incident-42");
        assert_eq!(expanded[12], "{unknown}");
    }

    #[test]
    fn the_workspace_is_private_empty_and_removed() {
        let state = tempfile::tempdir().unwrap();
        let workspaces = workspaces_dir(&state.path().join("state.db"));
        let offer = Offer {
            incident: 7,
            mcp_server: vec!["/usr/bin/orchestrator".into(), "mcp".into()],
            workspaces: workspaces.clone(),
        };
        let workspace = Workspace::new(&serde_json::json!({"incident": 1}), &offer).unwrap();
        let root = workspace.dir.path().to_path_buf();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&workspace.context_file()), 0o600);
        assert_eq!(mode(&workspace.schema_file()), 0o600);
        assert_eq!(mode(&workspace.mcp_config_file()), 0o600);
        assert_eq!(std::fs::read_dir(workspace.work_dir()).unwrap().count(), 0);
        assert_eq!(std::fs::read_dir(workspace.tmp_dir()).unwrap().count(), 0);
        std::fs::write(workspace.work_dir().join("left-behind"), "x").unwrap();
        assert!(root.starts_with(&workspaces));
        assert_eq!(mode(&workspaces), 0o700);
        drop(workspace);
        assert!(!root.exists());
    }

    #[test]
    fn only_the_workspaces_of_processes_that_are_gone_are_removed() {
        let state = tempfile::tempdir().unwrap();
        let workspaces = workspaces_dir(&state.path().join("state.db"));
        let offer = Offer {
            incident: 1,
            mcp_server: Vec::new(),
            workspaces: workspaces.clone(),
        };
        let ours = Workspace::new(&serde_json::json!({}), &offer).unwrap();
        // A process that is gone: its pid with another start time.
        let me = Owner::this_process();
        let dead = workspaces.join(format!("{}-{}-x1", me.pid, me.start + 1));
        std::fs::create_dir_all(dead.join("work/deep")).unwrap();
        let victim = state.path().join("victim");
        std::fs::create_dir(&victim).unwrap();
        std::fs::write(victim.join("keep"), "x").unwrap();
        std::os::unix::fs::symlink(&victim, dead.join("work/link")).unwrap();
        let stranger = workspaces.join("not-a-workspace");
        std::fs::create_dir(&stranger).unwrap();
        assert_eq!(remove_abandoned_workspaces(&workspaces), vec![dead.clone()]);
        assert!(!dead.exists());
        assert!(ours.dir.path().exists() && stranger.exists());
        assert!(victim.join("keep").exists(), "a symlink in it was followed");
        assert!(remove_abandoned_workspaces(&state.path().join("none")).is_empty());
    }
}
