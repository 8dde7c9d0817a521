//! Agents (docs/agents.md): external commands or the builtin runbook, asked for a diagnosis and a
//! plan. Whatever they answer is untrusted: it is parsed strictly here and judged by the policy
//! before anything runs.

pub mod context;
pub mod protocol;
pub mod runbook;

use crate::actions::Plan;
use crate::config::{AgentConfig, Check};
use crate::exec::{self, CommandSpec, Containment, Ending};
use protocol::RawAnswer;
use serde_json::Value;
use std::io::Write;
use std::time::Instant;

/// Bytes of an agent's stdout we read; more than this is garbage, not an answer.
pub const ANSWER_BYTES: usize = 1024 * 1024;
/// An agent writing more than this is killed.
const KILL_AFTER_BYTES: u64 = 8 * 1024 * 1024;
/// Environment variables that hold orchestrator's own secrets.
const SECRET_VARIABLES: [&str; 1] = ["ORCHESTRATOR_SMTP_PASSWORD"];

/// Bytes of the raw response stored with the consultation.
pub const STORED_RESPONSE_CHARS: usize = 16 * 1024;

/// What one agent said, as recorded.
#[derive(Debug, Clone)]
pub struct Consultation {
    pub agent: String,
    pub latency_ms: u64,
    pub response: String,
    pub answer: Answer,
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

/// Asks one agent about an incident. Never fails: every failure is an abstention with a reason.
pub fn consult(
    name: &str,
    agent: &AgentConfig,
    check: &Check,
    context: &Value,
    prompt: &str,
) -> Consultation {
    let started = Instant::now();
    let (response, answer) = match (&agent.command, agent.builtin.as_deref()) {
        (_, Some("runbook")) => {
            let raw = runbook::propose(context, check);
            (serde_json::json!({"diagnosis": raw.diagnosis, "confidence": raw.confidence, "plan": raw.plan, "escalate": raw.escalate}).to_string(), Answer::from_raw(raw))
        }
        (Some(argv), _) => ask_command(argv, agent, context, prompt),
        _ => (String::new(), Answer::abstained("the agent has no command")),
    };
    let response: String = response.chars().take(STORED_RESPONSE_CHARS).collect();
    Consultation {
        agent: name.to_string(),
        latency_ms: started.elapsed().as_millis() as u64,
        response,
        answer,
    }
}

fn ask_command(
    argv: &[String],
    agent: &AgentConfig,
    context: &Value,
    prompt: &str,
) -> (String, Answer) {
    let context_file = match write_context(context) {
        Ok(file) => file,
        Err(err) => {
            return (
                String::new(),
                Answer::abstained(format!("cannot write the context file: {err}")),
            )
        }
    };
    let mut spec = CommandSpec::new(argv.to_vec(), agent.timeout.std());
    spec.stdin = Some(prompt.as_bytes().to_vec());
    spec.env.push((
        "ORCHESTRATOR_CONTEXT".into(),
        context_file.path().as_os_str().to_owned(),
    ));
    // An agent is an outside program: it gets the redacted context, never our secrets.
    spec.env_remove = SECRET_VARIABLES.iter().map(|v| v.to_string()).collect();
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
            first_line(&output.stderr)
        )),
        Ending::Exited(_) if output.truncated => Answer::abstained(format!(
            "the agent wrote more output than an answer can be ({} bytes; at most {ANSWER_BYTES})",
            output.stdout_bytes
        )),
        Ending::Exited(_) => match protocol::parse(&output.stdout) {
            Ok(raw) => Answer::from_raw(raw),
            Err(reason) => Answer::abstained(format!("unparsable answer: {reason}")),
        },
    };
    (output.stdout, answer)
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// The context file lives only while the agent runs, readable by us alone (tempfile's 0600).
fn write_context(context: &Value) -> std::io::Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new()
        .prefix("orchestrator-context-")
        .suffix(".json")
        .tempfile()?;
    serde_json::to_writer_pretty(&mut file, context)?;
    file.flush()?;
    Ok(file)
}
