//! The config sections besides `[[checks]]`, with their defaults (listed in
//! man/orchestrator.toml.5).

use crate::actions::ActionKind;
use crate::duration::Duration;
use crate::model::{BuiltinAgent, Channel, WebhookFormat};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    pub db: Option<PathBuf>,
    /// Resolved incidents older than this are pruned.
    pub retention: Duration,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            db: None,
            retention: Duration::from_secs(90 * 86_400),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CycleConfig {
    /// Checks (and agents in consult) run at once.
    pub parallelism: usize,
    /// Wait after a plan runs, before the verifying check.
    pub settle: Duration,
    pub phase_timeout: PhaseTimeouts,
}

impl Default for CycleConfig {
    fn default() -> Self {
        CycleConfig {
            parallelism: 4,
            settle: Duration::from_secs(5),
            phase_timeout: PhaseTimeouts::default(),
        }
    }
}

/// The time one phase may spend on one incident: no new plan is started past it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhaseTimeouts {
    pub fix: Duration,
    pub research: Duration,
    pub consult: Duration,
}

impl Default for PhaseTimeouts {
    fn default() -> Self {
        PhaseTimeouts {
            fix: Duration::from_secs(30),
            research: Duration::from_secs(300),
            consult: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub command: Option<Vec<String>>,
    pub builtin: Option<BuiltinAgent>,
    #[serde(default = "default_agent_timeout")]
    pub timeout: Duration,
    /// Variables set for a command agent, placeholders filled in (`{mcp_config}`, …): for a
    /// CLI that reads its MCP servers from a file an environment variable names (Gemini's
    /// `GEMINI_CLI_SYSTEM_SETTINGS_PATH`).
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
}

fn valid_variable(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn default_agent_timeout() -> Duration {
    Duration::from_secs(300)
}

impl AgentConfig {
    pub fn validate(&self) -> Result<(), String> {
        match (&self.command, &self.builtin) {
            (Some(_), Some(_)) => {
                Err("an agent has either `command` or `builtin`, not both".into())
            }
            (None, None) => {
                Err("an agent needs `command = [...]` or `builtin = \"runbook\"`".into())
            }
            (Some(argv), None) if argv.is_empty() => Err("`command` must name a program".into()),
            (None, Some(_)) if !self.env.is_empty() => {
                Err("`env` is for a `command` agent; the builtin runs no program".into())
            }
            _ => match self.env.keys().find(|name| !valid_variable(name)) {
                Some(name) => Err(format!(
                    "`env`: `{name}` is not a variable name (letters, digits and _, not starting with a digit)"
                )),
                None => Ok(()),
            },
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResearchConfig {
    pub agent: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConsultConfig {
    #[serde(default)]
    pub agents: Vec<String>,
    #[serde(default = "default_quorum")]
    pub quorum: usize,
    /// Rank plans by their voters' track records instead of their count (docs/agents.md,
    /// "Phase 3"); a winner still needs `quorum` agents.
    #[serde(default)]
    pub weigh_by_record: bool,
}

fn default_quorum() -> usize {
    2
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Actions agent plans may run.
    pub actions: Vec<ActionKind>,
    /// Globs of units agents may touch besides the incident's own.
    pub units: Vec<String>,
    /// Globs of paths file actions may touch.
    pub paths: Vec<String>,
    /// Argv globs that `run` actions of agents may match, one list per allowed command.
    pub commands: Vec<Vec<String>>,
    /// Globs of process names (comm or executable name) agents' `kill_process` may signal
    /// besides the incident's own processes.
    pub processes: Vec<String>,
    /// Actions allowed only after a person approves the plan.
    pub approve: Vec<ActionKind>,
    /// Plans tried per incident and phase.
    pub max_attempts: u32,
    pub restart_limit: RestartLimit,
    pub flapping: Flapping,
    /// A check failing again this soon after its incident closed reopens that incident.
    pub reopen_within: Duration,
    /// The circuit breaker: what the healer may do at most on this host.
    pub budget: Budget,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            actions: vec![
                ActionKind::RestartUnit,
                ActionKind::StartUnit,
                ActionKind::ResetFailed,
                ActionKind::CleanFiles,
                ActionKind::RemoveFile,
                // The check's own remedies, as its config names them: what the runbook
                // proposes when a check has no unit.
                ActionKind::Remedy,
            ],
            units: Vec::new(),
            paths: vec!["/var/log/**".into(), "/tmp/**".into()],
            commands: Vec::new(),
            processes: Vec::new(),
            // Every other action the builtin runbook proposes is allowed, or asked of a person.
            approve: vec![
                ActionKind::KillProcess,
                ActionKind::Run,
                ActionKind::VacuumJournal,
            ],
            max_attempts: 3,
            restart_limit: RestartLimit::default(),
            flapping: Flapping::default(),
            reopen_within: Duration::from_secs(3600),
            budget: Budget::default(),
        }
    }
}

/// `[policy] budget`, the circuit breaker: at most `actions_per_hour` actions of plans on this
/// host within any hour, and at most `restarts_per_unit_per_day` (re)starts of one unit within
/// any day (sliding windows). A plan that would go past either is not run: it is held for a
/// person's approval, with the reason, as a plan `[policy] approve` asks about is. 0 lifts a
/// cap. A plan a person approved runs whatever the budget, and counts.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Budget {
    pub actions_per_hour: u32,
    pub restarts_per_unit_per_day: u32,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            actions_per_hour: 30,
            restarts_per_unit_per_day: 10,
        }
    }
}

/// At most `count` restarting plans per check within `within`; a scan that sees the check
/// healthy again starts the count afresh.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RestartLimit {
    pub count: u32,
    pub within: Duration,
}

impl Default for RestartLimit {
    fn default() -> Self {
        RestartLimit {
            count: 3,
            within: Duration::from_secs(1800),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Flapping {
    pub reopened: u32,
    pub within: Duration,
}

impl Default for Flapping {
    fn default() -> Self {
        Flapping {
            reopened: 3,
            within: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationConfig {
    #[serde(default = "default_repeat")]
    pub repeat: Duration,
    pub email: Option<EmailConfig>,
    pub webhook: Option<WebhookConfig>,
    pub json_webhook: Option<JsonWebhookConfig>,
    pub ntfy: Option<NtfyConfig>,
    pub slack: Option<SlackConfig>,
    pub matrix: Option<MatrixConfig>,
    /// The dashboard's address as people reach it, for links in notifications.
    pub dashboard_url: Option<String>,
    /// The first retry of an unsent notification waits this long; each next one twice as
    /// long, up to an hour.
    #[serde(default = "EscalationConfig::default_retry")]
    pub retry: Duration,
    /// The host's one name wherever orchestrator names it: the dashboard, the CLI, mail and
    /// alerts, metrics, an agent's context (default: the kernel's host name).
    pub hostname: Option<String>,
    /// The longest one message may take, connection to last answer; past it the message is
    /// retried later. Each channel may set its own.
    #[serde(default = "EscalationConfig::default_message_timeout")]
    pub message_timeout: Duration,
    /// The longest one channel may spend in one delivery run; what is left waits for the next
    /// run. Each channel has a budget of its own (and may set its length): the channels are
    /// delivered at once, so a hanging mail server never delays the webhook.
    #[serde(default = "EscalationConfig::default_delivery_budget")]
    pub delivery_budget: Duration,
    /// A firing alert is re-posted on every delivery run with `endsAt` this far ahead, so
    /// Alertmanager keeps it between runs and lets it lapse if orchestrator stops; "0s" leaves
    /// `endsAt` out (Alertmanager's `resolve_timeout` applies).
    #[serde(default = "EscalationConfig::default_alert_ttl")]
    pub alert_ttl: Duration,
}

impl EscalationConfig {
    pub fn default_retry() -> Duration {
        Duration::from_secs(30)
    }

    pub fn default_message_timeout() -> Duration {
        Duration::from_secs(20)
    }

    pub fn default_delivery_budget() -> Duration {
        Duration::from_secs(60)
    }

    /// Three timer intervals (5 min): one missed run does not resolve the alert.
    pub fn default_alert_ttl() -> Duration {
        Duration::from_secs(15 * 60)
    }

    /// The channels configured, in the order of their keys in orchestrator.toml(5).
    pub fn channels(&self) -> Vec<Channel> {
        let configured = [
            (Channel::Email, self.email.is_some()),
            (Channel::Webhook, self.webhook.is_some()),
            (Channel::JsonWebhook, self.json_webhook.is_some()),
            (Channel::Ntfy, self.ntfy.is_some()),
            (Channel::Slack, self.slack.is_some()),
            (Channel::Matrix, self.matrix.is_some()),
        ];
        configured
            .into_iter()
            .filter_map(|(channel, set)| set.then_some(channel))
            .collect()
    }

    /// The channel's own `message_timeout` and `delivery_budget`, else `[escalation]`'s.
    pub fn limits(&self, channel: Channel) -> ChannelLimits {
        let own = |timeout: &Option<Duration>, budget: &Option<Duration>| (*timeout, *budget);
        let (timeout, budget) = match channel {
            Channel::Email => self
                .email
                .as_ref()
                .map(|c| own(&c.message_timeout, &c.delivery_budget)),
            Channel::Webhook => self
                .webhook
                .as_ref()
                .map(|c| own(&c.message_timeout, &c.delivery_budget)),
            Channel::JsonWebhook => self
                .json_webhook
                .as_ref()
                .map(|c| own(&c.message_timeout, &c.delivery_budget)),
            Channel::Ntfy => self
                .ntfy
                .as_ref()
                .map(|c| own(&c.message_timeout, &c.delivery_budget)),
            Channel::Slack => self
                .slack
                .as_ref()
                .map(|c| own(&c.message_timeout, &c.delivery_budget)),
            Channel::Matrix => self
                .matrix
                .as_ref()
                .map(|c| own(&c.message_timeout, &c.delivery_budget)),
        }
        .unwrap_or_default();
        ChannelLimits {
            message_timeout: timeout.unwrap_or(self.message_timeout),
            delivery_budget: budget.unwrap_or(self.delivery_budget),
        }
    }

    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        for (key, value) in [
            ("message_timeout", &self.message_timeout),
            ("delivery_budget", &self.delivery_budget),
        ] {
            if value.std().is_zero() {
                problems.push((
                    "escalation",
                    format!("`{key}` must be longer than 0s: nothing could be sent"),
                ));
            }
            if let Some(why) = value.over_wait_limit() {
                problems.push(("escalation", format!("`{key}`: {why}")));
            }
        }
        for channel in self.channels() {
            let limits = self.limits(channel);
            for (key, value) in [
                ("message_timeout", limits.message_timeout),
                ("delivery_budget", limits.delivery_budget),
            ] {
                if value.std().is_zero() {
                    problems.push((
                        channel_key(channel),
                        format!("`{key}` must be longer than 0s: nothing could be sent"),
                    ));
                }
            }
        }
        self.validate_new_channels(&mut problems);
        if let Some(email) = &self.email {
            let smtp = email.smtp.trim();
            if !(smtp == "sendmail" || smtp.starts_with("smtp://") || smtp.starts_with("smtps://"))
            {
                problems.push(("escalation.email", format!("`smtp = \"{smtp}\"`: expected smtp://host:port, smtps://host:port or \"sendmail\"")));
            }
            if email.to.is_empty() {
                problems.push((
                    "escalation.email",
                    "`to` needs at least one address".to_string(),
                ));
            }
            if email.user.is_some()
                && email.password_file.is_none()
                && std::env::var_os("ORCHESTRATOR_SMTP_PASSWORD").is_none()
            {
                problems.push(("escalation.email", "`user` needs `password_file` (or ORCHESTRATOR_SMTP_PASSWORD in the environment)".to_string()));
            }
        }
        if let Some(webhook) = &self.webhook {
            if !(webhook.url.starts_with("http://") || webhook.url.starts_with("https://")) {
                problems.push((
                    "escalation.webhook",
                    format!("`url = \"{}\"` is not an http(s) URL", webhook.url),
                ));
            }
        }
        problems
    }
}

fn default_repeat() -> Duration {
    Duration::from_secs(86_400)
}

impl EscalationConfig {
    fn validate_new_channels(&self, problems: &mut Vec<(&'static str, String)>) {
        let http_url = |key: &'static str, name: &str, url: &str, problems: &mut Vec<_>| {
            if !is_http_url(url) {
                problems.push((key, format!("`{name} = \"{url}\"` is not an http(s) URL")));
            }
        };
        if let Some(json) = &self.json_webhook {
            http_url("escalation.json_webhook", "url", &json.url, problems);
        }
        if let Some(ntfy) = &self.ntfy {
            http_url("escalation.ntfy", "url", &ntfy.url, problems);
            if !is_ntfy_topic(&ntfy.topic) {
                problems.push((
                    "escalation.ntfy",
                    format!(
                        "`topic = \"{}\"`: a topic is 1 to 64 letters, digits, `-` or `_`",
                        ntfy.topic
                    ),
                ));
            }
        }
        if let Some(slack) = &self.slack {
            if slack.url_file.is_none() && std::env::var_os(SLACK_URL_VARIABLE).is_none() {
                problems.push((
                    "escalation.slack",
                    format!(
                        "needs `url_file` (a file holding the incoming-webhook URL) or \
                         {SLACK_URL_VARIABLE} in the environment"
                    ),
                ));
            }
        }
        if let Some(matrix) = &self.matrix {
            http_url(
                "escalation.matrix",
                "homeserver",
                &matrix.homeserver,
                problems,
            );
            if !is_matrix_room_id(&matrix.room) {
                problems.push((
                    "escalation.matrix",
                    format!(
                        "`room = \"{}\"` is not a room id: expected `!opaque:server` (the id in \
                         the room's settings; an alias `#name:server` cannot be sent to)",
                        matrix.room
                    ),
                ));
            }
            if matrix.token_file.is_none() && std::env::var_os(MATRIX_TOKEN_VARIABLE).is_none() {
                problems.push((
                    "escalation.matrix",
                    format!(
                        "needs `token_file` (a file holding the access token) or \
                         {MATRIX_TOKEN_VARIABLE} in the environment"
                    ),
                ));
            }
        }
    }
}

/// The `[escalation]` key of a channel, as problems name it.
pub fn channel_key(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "escalation.email",
        Channel::Webhook => "escalation.webhook",
        Channel::JsonWebhook => "escalation.json_webhook",
        Channel::Ntfy => "escalation.ntfy",
        Channel::Slack => "escalation.slack",
        Channel::Matrix => "escalation.matrix",
    }
}

fn is_http_url(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// ntfy's own rule for topic names.
fn is_ntfy_topic(topic: &str) -> bool {
    (1..=64).contains(&topic.len())
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `!opaque:server.name`: the send API takes a room id, never an alias.
fn is_matrix_room_id(room: &str) -> bool {
    let well_formed = room
        .strip_prefix('!')
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(opaque, server)| !opaque.is_empty() && !server.is_empty());
    well_formed && !room.chars().any(|c| c.is_whitespace() || c == '/')
}

/// Where each channel's secret is read from when the config names no file.
pub const JSON_WEBHOOK_TOKEN_VARIABLE: &str = "ORCHESTRATOR_JSON_WEBHOOK_TOKEN";
pub const NTFY_TOKEN_VARIABLE: &str = "ORCHESTRATOR_NTFY_TOKEN";
pub const SLACK_URL_VARIABLE: &str = "ORCHESTRATOR_SLACK_URL";
pub const MATRIX_TOKEN_VARIABLE: &str = "ORCHESTRATOR_MATRIX_TOKEN";

/// What one channel may spend: its own keys, else `[escalation]`'s.
#[derive(Debug, Clone, Copy)]
pub struct ChannelLimits {
    pub message_timeout: Duration,
    pub delivery_budget: Duration,
}

/// The generic JSON webhook: one POST per message, its body documented in orchestrator.toml(5).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JsonWebhookConfig {
    pub url: String,
    /// A file holding a token sent as `Authorization: Bearer` (else
    /// ORCHESTRATOR_JSON_WEBHOOK_TOKEN, else none).
    pub token_file: Option<PathBuf>,
    pub message_timeout: Option<Duration>,
    pub delivery_budget: Option<Duration>,
}

/// ntfy: a JSON publish to the server's root URL.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NtfyConfig {
    /// The server, e.g. `https://ntfy.sh`.
    pub url: String,
    pub topic: String,
    /// A file holding an access token (else ORCHESTRATOR_NTFY_TOKEN, else none).
    pub token_file: Option<PathBuf>,
    pub message_timeout: Option<Duration>,
    pub delivery_budget: Option<Duration>,
}

/// Slack's incoming webhook. Its URL is the secret, so it is never in the config text.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// A file holding the incoming-webhook URL (else ORCHESTRATOR_SLACK_URL).
    pub url_file: Option<PathBuf>,
    pub message_timeout: Option<Duration>,
    pub delivery_budget: Option<Duration>,
}

/// Matrix through the client-server API, as a user already in the room.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// The homeserver's base URL, e.g. `https://matrix.example.org`.
    pub homeserver: String,
    /// The room's id, `!opaque:server`.
    pub room: String,
    /// A file holding the access token (else ORCHESTRATOR_MATRIX_TOKEN).
    pub token_file: Option<PathBuf>,
    pub message_timeout: Option<Duration>,
    pub delivery_budget: Option<Duration>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    pub to: Vec<String>,
    pub from: String,
    /// `smtp://host:port`, `smtps://…`, or `sendmail`.
    pub smtp: String,
    #[serde(default)]
    pub starttls: bool,
    pub user: Option<String>,
    /// A file holding the SMTP password (never the password itself).
    pub password_file: Option<PathBuf>,
    pub message_timeout: Option<Duration>,
    pub delivery_budget: Option<Duration>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// Read so that an unknown format is refused; Alertmanager's is the only one.
    #[serde(default = "default_webhook_format")]
    pub format: WebhookFormat,
    pub message_timeout: Option<Duration>,
    pub delivery_budget: Option<Duration>,
}

fn default_webhook_format() -> WebhookFormat {
    WebhookFormat::Alertmanager
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    pub listen: String,
    pub token_file: Option<PathBuf>,
    /// `/health` is not ok when no cycle finished within this long: three times the shipped
    /// timer's 5-minute interval, so one slow or skipped run does not page anyone.
    pub stale_after: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: "127.0.0.1:8888".into(),
            token_file: None,
            stale_after: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContextConfig {
    /// Extra regular expressions whose matches are masked before context leaves the host.
    pub redact: Vec<String>,
    /// Journal lines of the unit given to agents.
    pub journal_lines: usize,
}

impl Default for ContextConfig {
    fn default() -> Self {
        ContextConfig {
            redact: Vec::new(),
            journal_lines: 50,
        }
    }
}

/// `[fleet]`: one central PostgreSQL the hosts share what they learned through (README,
/// "Fleet"). Optional: without it every host is whole on its own, as before.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FleetConfig {
    /// `postgresql://USER@HOST:PORT/DB`, with `?sslmode=require|verify-ca|verify-full` (and
    /// `sslrootcert=FILE`) for TLS. Never a password: that is read from `password_file` or
    /// ORCHESTRATOR_FLEET_PASSWORD.
    pub database: String,
    pub password_file: Option<PathBuf>,
    /// This host's name in the fleet (default: `[escalation] hostname`, else the kernel's).
    pub host: Option<String>,
    /// This host's dashboard as people reach it, linked from the fleet page (default:
    /// `[escalation] dashboard_url`).
    pub dashboard_url: Option<String>,
    #[serde(default)]
    pub trust_after: TrustAfter,
    #[serde(default)]
    pub withdraw_after: WithdrawAfter,
    #[serde(default)]
    pub blast_radius: BlastRadius,
    /// The longest a connection to the central database may take to open.
    #[serde(default = "FleetConfig::default_connect_timeout")]
    pub connect_timeout: Duration,
    /// The longest one statement may run (the server's `statement_timeout`, and the socket's
    /// `TCP_USER_TIMEOUT` a little past it, for a link that drops everything).
    #[serde(default = "FleetConfig::default_statement_timeout")]
    pub statement_timeout: Duration,
    /// The longest one `fleet sync` may take, push and pull together; what is left waits for
    /// the next one.
    #[serde(default = "FleetConfig::default_sync_budget")]
    pub sync_budget: Duration,
    /// Events the outbox keeps while the central database is away; past it the oldest are
    /// summarised (counts per kind, fixes per pattern) into one event.
    #[serde(default = "FleetConfig::default_outbox_limit")]
    pub outbox_limit: u32,
    /// A host whose last heartbeat is older than this is shown stale (red) on the fleet page.
    #[serde(default = "FleetConfig::default_stale_after")]
    pub stale_after: Duration,
}

impl FleetConfig {
    pub fn default_connect_timeout() -> Duration {
        Duration::from_secs(3)
    }
    pub fn default_statement_timeout() -> Duration {
        Duration::from_secs(5)
    }
    pub fn default_sync_budget() -> Duration {
        Duration::from_secs(30)
    }
    pub fn default_outbox_limit() -> u32 {
        10_000
    }
    /// Three runs of the shipped 5-minute timer, as `[serve] stale_after`.
    pub fn default_stale_after() -> Duration {
        Duration::from_secs(15 * 60)
    }

    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let url = self.database.trim();
        let Some(rest) = url
            .strip_prefix("postgresql://")
            .or_else(|| url.strip_prefix("postgres://"))
        else {
            problems.push((
                "fleet.database",
                format!("`{url}` is not a postgresql:// URL"),
            ));
            return problems;
        };
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if userinfo.contains(':') {
                problems.push((
                    "fleet.database",
                    format!(
                        "the URL holds a password: put it in `password_file` (or \
                         {FLEET_PASSWORD_VARIABLE}) so that the config can be read by others"
                    ),
                ));
            }
        }
        if let Some(mode) = url_parameter(url, "sslmode") {
            if !["disable", "require", "verify-ca", "verify-full"].contains(&mode.as_str()) {
                problems.push((
                    "fleet.database",
                    format!(
                        "sslmode `{mode}`: expected disable, require, verify-ca or verify-full \
                         (a fleet never falls back to plain text on its own)"
                    ),
                ));
            }
        }
        for (key, value) in [
            ("connect_timeout", &self.connect_timeout),
            ("statement_timeout", &self.statement_timeout),
            ("sync_budget", &self.sync_budget),
            ("stale_after", &self.stale_after),
        ] {
            // Bounded above too: a cycle may wait this long, and PostgreSQL takes a
            // statement_timeout in milliseconds that fit in 31 bits.
            if value.std().is_zero() || value.as_secs_f64() > 86_400.0 {
                problems.push((
                    "fleet",
                    format!("`{key}` must be between 1ms and 1d, got {value}"),
                ));
            }
        }
        if self.trust_after.fixes == 0 || self.trust_after.hosts == 0 {
            problems.push((
                "fleet.trust_after",
                "`fixes` and `hosts` must be at least 1: a pattern verified nowhere is trusted nowhere"
                    .to_string(),
            ));
        }
        if self.withdraw_after.hosts == 0 {
            problems.push((
                "fleet.withdraw_after",
                "`hosts` must be at least 1".to_string(),
            ));
        }
        let lease = self.blast_radius.lease.as_secs_f64();
        if self.blast_radius.hosts == 0 || self.blast_radius.per_hour == 0 {
            problems.push((
                "fleet.blast_radius",
                "`hosts` and `per_hour` must be at least 1: with 0 no host could ever act"
                    .to_string(),
            ));
        }
        if !(1.0..=3600.0).contains(&lease) {
            problems.push((
                "fleet.blast_radius",
                format!(
                    "`lease` must be between 1s and 1h, got {}",
                    self.blast_radius.lease
                ),
            ));
        }
        if self.outbox_limit < 100 {
            problems.push((
                "fleet",
                format!(
                    "`outbox_limit` must be at least 100, got {}",
                    self.outbox_limit
                ),
            ));
        }
        problems
    }
}

/// The value of `?KEY=VALUE` in a URL's query, if it is there.
pub fn url_parameter(url: &str, key: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Where the fleet database's password is read from when the config names no file.
pub const FLEET_PASSWORD_VARIABLE: &str = "ORCHESTRATOR_FLEET_PASSWORD";

/// A pattern verified elsewhere is offered to phase 1 only after `fixes` verified fixes on at
/// least `hosts` hosts; below that it is a hint to agents.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustAfter {
    pub fixes: u32,
    pub hosts: u32,
}

impl Default for TrustAfter {
    fn default() -> Self {
        TrustAfter { fixes: 3, hosts: 2 }
    }
}

/// A pattern that failed on `hosts` hosts is withdrawn on every host, its own included.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WithdrawAfter {
    pub hosts: u32,
}

impl Default for WithdrawAfter {
    fn default() -> Self {
        WithdrawAfter { hosts: 2 }
    }
}

/// At most `hosts` hosts act on one signature at a time and at most `per_hour` start to in an
/// hour; a host holds its lease for at most `lease` (a host that dies frees it by then).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlastRadius {
    pub hosts: u32,
    pub per_hour: u32,
    pub lease: Duration,
}

impl Default for BlastRadius {
    fn default() -> Self {
        BlastRadius {
            hosts: 3,
            per_hour: 20,
            lease: Duration::from_secs(600),
        }
    }
}
