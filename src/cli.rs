//! The command line. These doc comments are the only text of each option: `--help`,
//! the man pages and the completions are all generated from them.

use clap::{ArgAction, Args, Parser, Subcommand};
use std::path::PathBuf;

/// A self-healing toolkit for Linux hosts.
///
/// orchestrator finds faults on this host (failed units, dead endpoints, full disks,
/// monitoring-plugin checks) and fixes them in graduated phases: learned patterns and
/// configured remedies first, then AI agents, then a person. Every decision is kept in one
/// SQLite file.
#[derive(Debug, Parser)]
#[command(
    name = "orchestrator",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the
    /// embedded default]
    #[arg(
        short = 'c',
        long,
        env = "ORCHESTRATOR_CONFIG",
        global = true,
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for
    /// root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]
    #[arg(long, env = "ORCHESTRATOR_DB", global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Print one JSON document instead of tables
    #[arg(long, global = true)]
    pub json: bool,

    /// Decide and record what would be done, but execute no action
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// When another cycle holds the lock, wait for it instead of skipping
    #[arg(long, global = true)]
    pub wait: bool,

    /// Log more (-v: what is done, -vv: debugging); RUST_LOG overrides
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Log errors only
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every check; open, update, reopen or recover incidents
    ///
    /// When the state database cannot be written (a full, read-only or failing disk), the
    /// checks still run and print, no phase acts, and a person is told directly through
    /// [escalation] (mail and webhook, each within message_timeout) in one message marked as
    /// unrecorded that names the state problem and the failing checks. At most one such message
    /// per [escalation] repeat (once per boot when repeat is 0); the time of the last one is
    /// kept in $RUNTIME_DIRECTORY, else /run/orchestrator, and forgotten once a scan records
    /// again. The exit status is then 1, so systemd's OnFailure= fires too.
    Scan {
        /// Exit with the worst check's state, as monitoring plugins do: 0 OK, 1 WARNING,
        /// 2 CRITICAL, 3 UNKNOWN (critical outranks warning, warning outranks unknown; a scan
        /// skipped because a cycle holds the lock is UNKNOWN; one whose state database cannot
        /// be written exits 1, as without the option). Without it a scan that ran exits 0
        /// whatever the checks found, so the timer's chain of units goes on to fix them
        #[arg(long)]
        exit_status: bool,
        /// Run only this check (repeat for more), as named in the config: its result is
        /// recorded and its incident opened, updated or recovered as by a full scan; no phase
        /// acts on it. For trying a check after changing it, or a fault just repaired
        #[arg(long = "check", value_name = "NAME")]
        checks: Vec<String>,
    },
    /// Phase 1: try learned patterns, then the check's remedies, on incidents waiting for it
    Fix,
    /// Phase 2: one agent diagnoses each incident waiting for it and proposes a plan
    ///
    /// Facts about the incident's check are gathered on the host first (read-only, each probe
    /// bounded in time) and go into the agent's context. The builtin runbook reasons on them:
    /// a dead pid in a pid file the service refuses to start over is removed; a foreign
    /// process on the service's port is stopped (approval as [policy] says); a full filesystem
    /// (bytes or inodes) is freed of the rotated and dated files in the check's logs, never a
    /// live log or a data file; a permission problem (naming path, mode and owner) and a bad
    /// config file (quoting the parse error) are escalated.
    Research,
    /// Phase 3: several agents vote; the plan a quorum agrees on runs
    Consult,
    /// Phase 4: escalate to a person (email, webhook, dashboard) and retry unsent notifications
    ///
    /// --resend ID sends again a notification that failed for good (or one waiting for a
    /// retry) now, instead of running the phase: `incidents show` and `metrics` give the ids. It
    /// goes as the message it was, with the other notifications of its batch for the same
    /// channel and recipient, under the same idempotency key; the incident's timeline records
    /// who asked (a `resent` event). --test sends a test message to every configured channel
    /// (every mail recipient, the JSON webhook, ntfy, Slack, Matrix, and a test alert
    /// `OrchestratorTest` with severity info to Alertmanager, which lapses after 5 minutes)
    /// and prints what each channel answered; it needs no database and records nothing. It
    /// exits 1 when a channel did not take the message, 2 when no channel is configured.
    Escalate {
        /// Send this notification again now (repeat for more)
        #[arg(long, value_name = "ID", conflicts_with = "test")]
        resend: Vec<i64>,
        /// Send a test message to every configured channel and report each one's answer
        #[arg(long)]
        test: bool,
    },
    /// Run the phases in order in one process: scan, fix, research, consult, escalate
    ///
    /// When the state database cannot be written (a full, read-only or failing disk), the
    /// checks still run and print, no phase acts, and a person is told directly through
    /// [escalation] (mail and webhook, each within message_timeout) in one message marked as
    /// unrecorded that names the state problem and the failing checks. At most one such message
    /// per [escalation] repeat (once per boot when repeat is 0); the time of the last one is
    /// kept in $RUNTIME_DIRECTORY, else /run/orchestrator, and forgotten once a scan records
    /// again. The exit status is then 1, so systemd's OnFailure= fires too.
    Cycle,
    /// Auto-fix and escalation rates, time to resolve per phase, learning
    ///
    /// The table and `--json` count incidents detected within `--since`, with the names below.
    /// `--prometheus` and `--textfile` ignore `--since`: they print counters since the database
    /// began (see PROMETHEUS below), which a scraper turns into rates over any window.
    ///
    /// It reads through a read-only connection: it never creates, migrates or writes the
    /// database, works on a read-only or full state disk, and fails when the database does not
    /// exist or its schema is not this binary's.
    ///
    /// `host`: the host's one name (`[escalation] hostname`, else the kernel's), as the
    /// dashboard, mail and alerts give it. `detected`: incidents opened. `recovered`: closed by
    /// their check passing again.
    /// `open`: still open in phases 1-3. A symptom (an incident caused by a failing dependency
    /// or by its service's incident, `incidents show`: `caused by`) counts in none of these
    /// names: its cause does.
    ///
    /// `fixed_by_phase{1,2,3}`: verified fixes by a plan of that phase (an approved held plan
    /// counts for the phase that proposed it; a person's own resolution does not count). A
    /// verified fix stays a fix when its incident later comes back or flaps.
    /// `auto_fixed`: their sum. `escalated`: incidents that entered phase 4 (escalated, plans
    /// held for approval, flapping, resolved by a person). `flapped`: incidents that came back
    /// too often ([policy] flapping) and went to a person, counted on their own besides the
    /// fixes they undid. `silenced`: incidents detected while a silence covered their check
    /// (see `orchestrator silence`); no phase acts on them while it lasts, so they are neither
    /// fixes nor escalations then.
    ///
    /// `auto_fix_rate` = auto_fixed / (auto_fixed + escalated); `escalation_rate` = escalated /
    /// (auto_fixed + escalated); `phase_success_rate{N}` = fixed_by_phase{N} / incidents that
    /// entered phase N. A rate with nothing to divide by is null (NaN in Prometheus).
    ///
    /// `ttr_seconds{phase}`: detection to resolution of resolved incidents, by the phase that
    /// resolved them (4: a person), as p50, p90 (nearest rank) and mean.
    ///
    /// `patterns_total`: learned patterns; `patterns_new`: learned within the window;
    /// `pattern_fixes`: phase-1 fixes by a learned pattern. `agent_agreement{A}`: the share of
    /// phase-3 voting rounds whose agreement was A (`3/3`, `2/3`, ..., `none`).
    ///
    /// `agents`: each agent's track record over the answers given within the window:
    /// `consultations`, `incidents` (asked about), `proposed` (answers with a plan in the
    /// vocabulary), `fixed` (its plans verified to fix the incident), `refused` (plans the policy
    /// refused or outside the vocabulary), `abstained`, `seconds` answering, `input_tokens`,
    /// `output_tokens` and `cost_usd` where the CLI reported them (null when it never did),
    /// `good` and `bad` (a person's verdicts, `incidents feedback`), and `mean_seconds`,
    /// `tokens_per_incident`, `cost_usd_per_incident`.
    ///
    /// `notifications_failed`: notifications refused for good, ever (not windowed); the table
    /// names the newest, for `escalate --resend ID`. `notifications_unsent`: queued or waiting
    /// for a retry now. `circuit_breaker`: [policy] budget as it stands now: `open` (a cap is
    /// reached: new plans are held for a person's approval), `reasons`, `actions_last_hour`
    /// and its cap `actions_per_hour`, `most_restarted_unit` (`unit`, `restarts` in the last
    /// day) and its cap `restarts_per_unit_per_day` (0: no cap).
    ///
    /// PROMETHEUS. Counters, kept in the database as events happen (so reading them costs the
    /// same on any history) and never decreasing (retention does not lower them):
    /// `orchestrator_incidents_detected_total`, `_recovered_total`, `_escalated_total`,
    /// `_pattern_fixed_total`, `_flapped_total`, `_silenced_total`, `_auto_fixed_total{phase}`
    /// and `_entered_phase_total{phase}` (1-3), `orchestrator_notifications_failed_total`,
    /// `orchestrator_agent_rounds_total {agreement}`. They count as incidents open, before the
    /// scan knows one is a symptom: `_detected_total` and `_entered_phase_total{1}` include
    /// symptoms, `_escalated_total` never does (a symptom never enters phase 4). Gauges:
    /// `orchestrator_auto_fix_ratio`, `orchestrator_escalation_ratio`,
    /// `orchestrator_phase_success_ratio{phase}` (over the counters), `orchestrator_incidents_open`,
    /// `orchestrator_patterns`, `orchestrator_circuit_breaker_open` (1 while [policy] budget is
    /// reached) and `orchestrator_plan_actions_last_hour`. The histogram `orchestrator_time_to_resolve_seconds{phase}`
    /// (`_bucket{le}`, `_sum`, `_count`; bounds 1 s to 1 day) sums across hosts.
    /// `orchestrator_last_cycle_timestamp_seconds` (the last `scan` or `cycle` that finished, 0
    /// before the first; a person's `incidents approve` or `dismiss` is no cycle) and
    /// `orchestrator_last_cycle_success` (0 when the newest cycle not still running failed, or
    /// none ran; a cycle unfinished after [serve] stale_after counts as failed) let a stopped
    /// timer be alerted on; `orchestrator_build_info{version,host}` is 1. Per agent, counters since the
    /// database began: `orchestrator_agent_consultations_total`, `_incidents_total`,
    /// `_proposals_total`, `_fixes_total`, `_refused_total`, `_abstentions_total`,
    /// `_seconds_total`, `_cost_usd_total` `{agent}` and `orchestrator_agent_tokens_total
    /// {agent,direction}`; the gauge `orchestrator_agent_feedback{agent,verdict}`. Per check:
    /// `orchestrator_check_status{check}` (0-3) and each perfdata value under the name of its
    /// unit, in base units: `orchestrator_check_perfdata_seconds` (s, ms, us),
    /// `_bytes` (B, KB..TB), `_ratio` (%, divided by 100), and `orchestrator_check_perfdata`
    /// for counts and units it does not know, all labelled `{check,label}`.
    Metrics {
        /// The window, by detection time
        #[arg(long, default_value = "7d", value_name = "DURATION")]
        since: crate::duration::Duration,
        /// Print the Prometheus text exposition format
        #[arg(long)]
        prometheus: bool,
        /// Write the Prometheus exposition to this file atomically (node_exporter's textfile
        /// collector), instead of printing
        #[arg(long, value_name = "PATH")]
        textfile: Option<PathBuf>,
    },
    /// Serve the dashboard, the JSON API, /health and /metrics (default 127.0.0.1:8888)
    ///
    /// Every decision (acknowledge, approve, dismiss, resolve, silences) needs a person who
    /// logged in. Without [serve] token_file, the first start generates a token into
    /// DB.dashboard-token (0600, beside the database) and `serve --login-link` prints a
    /// one-time login link made from it (valid 10 minutes); reads stay open, on loopback only.
    /// The session cookie is a random id (HttpOnly, SameSite=Strict, 12 hours), never the
    /// token; failed logins are throttled (10 per address and 100 in all per 10 minutes, then
    /// 429). With [serve] token_file, every request needs that token (a bearer header or a
    /// login), reads too.
    ///
    /// Without [serve] token_file it listens on loopback only and answers only requests
    /// addressed to it: a Host header other than its listen address or localhost:PORT gets
    /// 421 Misdirected Request on every path, /health and /metrics included, so a web page
    /// that rebinds its own name to 127.0.0.1 can neither read nor decide anything. With a
    /// token any Host is served (proxies, remote names), and every POST must still come from
    /// the origin it names. A plan typed on the dashboard is judged by [policy] and refused
    /// with the reasons if it does not pass; the dashboard never teaches beyond the policy.
    ///
    /// Every page names the host and shows when the last cycle finished (UTC and how long
    /// ago), with a red "stale" warning when that is longer ago than [serve] stale_after, the
    /// rule /health answers by. The overview, the incident list and the checks reload every
    /// 30 seconds, without script. /incidents?status=WORD&page=N lists 50 a page (WORD: all,
    /// active, open, escalated, resolved, recovered); /api/incidents takes status, limit
    /// (default 200, at most 1000) and offset, and answers the total beside the incidents.
    Serve {
        /// Address to listen on [default: `[serve] listen`]; a non-loopback address needs
        /// `[serve] token_file`
        #[arg(long, value_name = "IP:PORT")]
        listen: Option<String>,
        /// Print a one-time login link (valid 10 minutes) and exit, instead of serving; needs
        /// read access to the state directory, where the dashboard's token is (root)
        #[arg(long)]
        login_link: bool,
    },
    /// List, show and handle incidents
    ///
    /// A person's plan (resolve --plan) is judged by [policy] like an agent's; you stand for
    /// the approval [policy] approve asks for, never for what the policy refuses. Root can
    /// teach a refused plan with resolve --plan JSON --outside-policy: the pattern is marked as
    /// taught outside the policy and the incident's timeline says who did it. Every plan
    /// replayed later (a learned pattern, an approved plan) is judged again under the policy
    /// as it is then: a pattern the policy now refuses is skipped, recorded as a rejected
    /// attempt with the reason, and kept; an approval the policy no longer honours is
    /// withdrawn and the plan waits for a person again. A pattern that is the check's
    /// configured remedy, or that root taught outside the policy, is replayed as written.
    Incidents {
        #[command(subcommand)]
        command: IncidentsCommand,
    },
    /// Pause orchestrator on a check, or on every check, for a while
    ///
    /// A silenced check is still scanned and shown (`scan`, the dashboard's checks page, with
    /// who silenced it, why and until when), but no phase acts on it: no learned pattern, no
    /// remedy, no agent, no escalation, no reminder, no all-clear, no plan a person approved
    /// on the dashboard; and nothing is notified (messages queued before it wait). An incident
    /// open when the silence starts is left as it is, in the phase it waits for, and that
    /// phase takes it up again when the silence ends. A silence ends by itself at its end time;
    /// `silence expire` ends it sooner. Every silence is kept in the database with its history.
    /// `metrics` counts incidents detected under a silence apart (`silenced`), never as
    /// escalations.
    Silence {
        #[command(subcommand)]
        command: SilenceCommand,
    },
    /// List, show, disable, enable and forget learned patterns
    ///
    /// Every verified fix becomes a pattern of its failure's signature, and phase 1 replays
    /// patterns first, best record first. A disabled pattern is never replayed: phase 1 names
    /// it in its report and hand-off ("not replayed: disabled by alice: ..."), agents no longer
    /// see it as a past fix, and it keeps its record until it is enabled again. Forgetting
    /// deletes it, so that the same fix learned again starts afresh under a new id; what it
    /// was, who forgot it, when and why stay in its history (`patterns show ID`), and a pattern
    /// id is never given twice. `list` and `show` only read the database.
    Patterns {
        #[command(subcommand)]
        command: PatternsCommand,
    },
    /// Validate the config or print the embedded default
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Serve read-only investigation tools to an agent over MCP (Model Context Protocol) on stdio
    ///
    /// The tools: incident (summary, facts, timeline, attempts, votes, the check's runbook),
    /// incidents, run_check (runs a check again; records and acts on nothing), check_logs (the
    /// last lines of the check's logs), unit_journal, listeners (on a port), filesystem (its
    /// usage), process (its status), similar_incidents (past incidents like this one and what
    /// fixed them), patterns, policy, judge_plan (the policy's verdict and reasons on a plan;
    /// runs nothing) and runbook. Every tool is annotated read-only; every answer is masked by
    /// the redactor ([context] redact too) and cut at 64 KiB. The database is read through a
    /// read-only connection, the cycle lock is never taken, and a missing database is an error
    /// of each tool that needs it, not of the server.
    ///
    /// Phases 2 and 3 offer it to command agents: the MCP config file (ORCHESTRATOR_MCP_CONFIG,
    /// placeholder {mcp_config}) starts `orchestrator -c CONFIG --db DB mcp --incident ID`.
    Mcp {
        /// The incident the agent was asked about: the default of the tools' `id`
        #[arg(long, value_name = "ID")]
        incident: Option<i64>,
    },
    /// What agents are held to: the JSON Schema of their answer
    Agents {
        #[command(subcommand)]
        command: AgentsCommand,
    },
    /// Tell a person directly that a systemd unit failed (what OnFailure= runs)
    ///
    /// Sends one message through [escalation] (mail and webhook, each within message_timeout)
    /// without opening the database, marked as not recorded. At most one per unit per
    /// [escalation] repeat (once per boot when repeat is 0); the time of the last one is kept in
    /// $RUNTIME_DIRECTORY, else /run/orchestrator. Quiet for 15 minutes after `scan` or `cycle`
    /// told a person that the state database cannot be written: that message says why the unit
    /// failed. Exits 1 when no channel took the message.
    NotifyFailure {
        /// The unit that failed (systemd's %i in orchestrator-failure@.service)
        unit: String,
    },
    /// Share what this host learned with the fleet's central PostgreSQL ([fleet])
    ///
    /// Each host stays whole on its own: its SQLite file is its truth, and what the fleet should
    /// know (incidents opened and closed, escalations, patterns learned, each verified fix and
    /// each failure) waits in an outbox there until `fleet sync` pushes it. With the central
    /// database down or slow, healing goes on and the outbox keeps everything (past
    /// [fleet] outbox_limit events the oldest are summarised, fixes kept as counts); it drains
    /// later, each event applied once by its key (host, origin, sequence).
    Fleet {
        #[command(subcommand)]
        command: FleetCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Push the outbox, send a heartbeat and pull the patterns other hosts learned
    ///
    /// Within [fleet] sync_budget; each call to the central database within connect_timeout
    /// and statement_timeout. It never takes the cycle lock (a second sync at once skips).
    /// Exits 0 without a [fleet] section, and 1 when the central database could not be reached
    /// or refused (what was not sent waits for the next sync; the shipped unit ignores the
    /// status).
    Sync,
    /// The fleet's state on this host: its name, the outbox, the last sync
    ///
    /// Read-only: never creates, migrates or writes the database.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// List incidents, newest first
    ///
    /// Read-only, like show: never creates, migrates or writes the database; a database that
    /// does not exist is an error.
    List {
        /// Only incidents still open or escalated
        #[arg(long)]
        active: bool,
        /// Only incidents with this status (open, escalated, resolved, recovered)
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
        /// Only incidents of this check
        #[arg(long, value_name = "NAME")]
        check: Option<String>,
        /// At most this many
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: i64,
    },
    /// Show one incident: its timeline, every attempt and every agent's vote
    ///
    /// With the facts gathered on the host before its agents were asked (phase 2 and 3): the
    /// unit's state, pid files and whether their pids live, who listens on the check's port and
    /// whether it is the service's own, free space and inodes under the check's paths, modes
    /// and owners of paths named in error lines, deleted files still held open, and the last
    /// error lines (`facts` in --json).
    ///
    /// Read-only, like list: never creates, migrates or writes the database.
    Show {
        /// The incident's id
        id: i64,
    },
    /// Approve the plan held for an incident, then run and verify it now
    Approve {
        /// The incident's id
        id: i64,
        /// Who decides, recorded as cli:NAME [default: $SUDO_USER, else the login name (the
        /// login uid, the terminal's owner, $LOGNAME), else $USER, else your user's name]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Dismiss the plan held for an incident; the incident stays escalated
    Dismiss {
        /// The incident's id
        id: i64,
        /// Who decides, recorded as cli:NAME [default: $SUDO_USER, else the login name (the
        /// login uid, the terminal's owner, $LOGNAME), else $USER, else your user's name]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Acknowledge an escalation: you are on it, so reminders stop
    Ack {
        /// The incident's id
        id: i64,
        /// A note kept with the escalation
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// Who decides, recorded as cli:NAME [default: $SUDO_USER, else the login name (the
        /// login uid, the terminal's owner, $LOGNAME), else $USER, else your user's name]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Resolve an incident by hand; with --plan, the plan that fixed it is learned
    ///
    /// The plan is judged by [policy] like an agent's (you stand for the approval that
    /// [policy] approve asks for); a plan the policy refuses is not learned and the incident
    /// stays open. Phase 1 judges every learned plan again, under the policy of the day, before
    /// it replays it.
    Resolve {
        /// The incident's id
        id: i64,
        /// What was wrong and what you did
        #[arg(long, value_name = "TEXT")]
        note: String,
        /// The plan that fixed it, as JSON: '[{"action": "restart_unit"}]'
        #[arg(long, value_name = "JSON")]
        plan: Option<String>,
        /// Learn the plan even if [policy] refuses it (root only). The pattern is marked as
        /// taught outside the policy and phase 1 replays it as written, unjudged, until it is
        /// deleted from the patterns table. The dashboard cannot do this
        #[arg(long, requires = "plan")]
        outside_policy: bool,
        /// Who decides, recorded as cli:NAME [default: $SUDO_USER, else the login name (the
        /// login uid, the terminal's owner, $LOGNAME), else $USER, else your user's name]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Mark an agent's diagnosis of an incident right (good) or wrong (bad)
    ///
    /// Kept in the agent's track record (`metrics`, /metrics, the dashboard) and, when
    /// [consult] weigh_by_record is on, in the weight of its votes. A later verdict on the same
    /// incident and agent replaces the earlier one.
    Feedback {
        /// The incident's id
        id: i64,
        /// The agent, as configured ([agents.NAME]); it must have been asked about the incident
        #[arg(long, value_name = "NAME")]
        agent: String,
        /// good or bad
        #[arg(value_enum)]
        verdict: Verdict,
        /// Why (kept with the verdict)
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// Who decides, recorded as cli:NAME [default: $SUDO_USER, else the login name (the
        /// login uid, the terminal's owner, $LOGNAME), else $USER, else your user's name]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AgentsCommand {
    /// Print the JSON Schema of the answer object an agent must print
    ///
    /// The same schema is written into every command agent's workspace
    /// (ORCHESTRATOR_ANSWER_SCHEMA, placeholders {answer_schema} for its path and
    /// {answer_schema_json} for its text), for CLIs that hold a model to a schema: `claude -p
    /// --json-schema`, `codex exec --output-schema`, `llm --schema`, ollama's `--format`. It is
    /// strict (every property required, none other allowed; fields a plan may leave out are
    /// nullable). An answer whose fields have the wrong types is an abstention with the reason.
    Schema,
}

/// A person's verdict on an agent's diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Verdict {
    /// The diagnosis was right
    Good,
    /// The diagnosis was wrong
    Bad,
}

#[derive(Debug, Subcommand)]
pub enum SilenceCommand {
    /// Silence a check (or every check with --all) from now (or --from), for --for or until --until
    Add {
        /// The check to silence, as named in the config
        #[arg(value_name = "CHECK", required_unless_present = "all")]
        check: Option<String>,
        /// Silence every check, including those added to the config later
        #[arg(long, conflicts_with = "check")]
        all: bool,
        /// When it starts, as RFC 3339 (see --until) [default: now]. A silence that starts
        /// later is listed as pending and acts on nothing until then; a time in the past is
        /// refused
        #[arg(long, value_name = "TIME")]
        from: Option<String>,
        /// How long, like 30m, 2h or 1h30m, from its start; at most 36500d (100 years)
        #[arg(
            long = "for",
            value_name = "DURATION",
            required_unless_present = "until",
            conflicts_with = "until"
        )]
        duration: Option<crate::duration::Duration>,
        /// Until when, as RFC 3339: 2026-11-27T18:00:00Z or 2026-11-27T19:00:00+01:00; within
        /// 36500d from now
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        /// Why: shown on the dashboard and in `silence list`
        #[arg(long, value_name = "TEXT")]
        note: String,
        /// Who [default: $SUDO_USER, else the login name (the login uid, the terminal's
        /// owner, $LOGNAME), else $USER, else your user's name]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// List silences in force or still to come, newest first; --all adds those that ended
    ///
    /// Read-only: never creates, migrates or writes the database.
    List {
        /// Also the silences that ended (by their time or `silence expire`)
        #[arg(long)]
        all: bool,
    },
    /// End a silence now; it is kept, marked expired
    Expire {
        /// The silence's id (`silence list` shows it)
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum PatternsCommand {
    /// List the learned patterns, best record first: their state (active, disabled, or skipped
    /// because they failed more often than they worked) and record
    List {
        /// Only the patterns of this check
        #[arg(long, value_name = "NAME")]
        check: Option<String>,
    },
    /// Show one pattern: its plan, signature, record, the attempts that replayed it and every
    /// change a person made to it (also for a forgotten one)
    Show {
        /// The pattern's id (`patterns list`; `pattern:ID` in attempts)
        id: i64,
    },
    /// Stop phase 1 from replaying a pattern; its record is kept
    Disable {
        /// The pattern's id
        id: i64,
        /// Why: shown with the pattern and wherever phase 1 says it did not replay it
        #[arg(long, value_name = "TEXT")]
        note: String,
        /// Who [default: $SUDO_USER, else $USER, else the user id]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Let phase 1 replay a disabled pattern again
    Enable {
        /// The pattern's id
        id: i64,
        /// Why (optional)
        #[arg(long, value_name = "TEXT", default_value = "")]
        note: String,
        /// Who [default: $SUDO_USER, else $USER, else the user id]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Delete a pattern; its history keeps what it was, who forgot it and why
    Forget {
        /// The pattern's id
        id: i64,
        /// Why
        #[arg(long, value_name = "TEXT")]
        note: String,
        /// Who [default: $SUDO_USER, else $USER, else the user id]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the config; print each problem with its file, line and key
    ///
    /// Every type, key and value problem of the file is printed in one run (a TOML syntax
    /// error alone, since the parser cannot read past it), and the exit status is 2. A valid
    /// config may still get warnings, on stderr: no escalation channel, agents no phase uses,
    /// checks of a service with no remedy and no unit (not disk, memory, load, systemd-failed,
    /// log and certificate checks: they have nothing to restart), checks that need systemd on a
    /// host without it, [policy] globs that do not compile, and a [policy] that refuses what
    /// the builtin runbook proposes. Warnings leave the exit status 0 unless --strict.
    Check {
        /// Exit 2 when there are warnings
        #[arg(long)]
        strict: bool,
    },
    /// Print the embedded default config
    ///
    /// On a host not booted with systemd, the checks that need it are left out, as they are
    /// when the embedded default is used without a file.
    Default,
    /// Print a commented config for what runs on this host
    ///
    /// Known daemons (nginx, Apache, Redis, PostgreSQL, MySQL/MariaDB, sshd, HAProxy, memcached),
    /// each with its health check, its pid file, its log files and its config test (as a
    /// comment); the other listening TCP ports and the process behind each; mounted file
    /// systems; memory and load; and, where systemd runs, the enabled service units that run.
    /// It only reads (/proc, the daemons' config and pid files, systemd's unit directories, one
    /// GET of each web server's front page, Redis's CONFIG GET) and writes nothing but stdout;
    /// `config check` passes on what it prints. A start to edit, not a verdict: add the
    /// remedies you trust.
    Discover,
}
