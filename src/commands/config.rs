use super::error::EXIT_USAGE;
use super::{output, CommandError};
use crate::actions::full_unit_name;
use crate::cli::{ConfigCommand, Global};
use crate::config::{Config, DEFAULT_CONFIG_TEXT};
use serde_json::json;
use std::process::ExitCode;

pub fn exec(global: &Global, command: ConfigCommand) -> Result<ExitCode, CommandError> {
    match command {
        ConfigCommand::Default => {
            out!(
                "{}",
                default_for_this_host(crate::sys::systemd_is_running())
            );
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::Check { strict } => check(global, strict),
        ConfigCommand::Discover => {
            out!("{}", super::discover::discover());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The embedded default as this host would run it: on a host not booted with systemd the
/// checks that need it are left out, as [`Config::embedded_default`] leaves them out.
fn default_for_this_host(systemd: bool) -> String {
    const MARK: &str = "# Left out automatically on hosts not booted with systemd.";
    match (systemd, DEFAULT_CONFIG_TEXT.split_once(MARK)) {
        (false, Some((before, _))) => format!(
            "{}\n\n# The checks that need systemd (kind systemd-failed, systemd) are left out: this\n\
             # host is not booted with systemd.\n",
            before.trim_end()
        ),
        _ => DEFAULT_CONFIG_TEXT.to_string(),
    }
}

fn check(global: &Global, strict: bool) -> Result<ExitCode, CommandError> {
    let config = match Config::load(global.config.as_deref()) {
        Ok(config) => config,
        Err(err) if global.json => {
            output::print_json(&json!({ "ok": false, "problems": err.problems() }));
            return Ok(ExitCode::from(EXIT_USAGE));
        }
        Err(err) => return Err(err.into()),
    };
    let warnings = warnings(&config, crate::sys::systemd_is_running());
    let checks: Vec<_> = config
        .checks
        .iter()
        .map(|c| json!({ "name": c.name, "kind": c.kind.name() }))
        .collect();
    let db = config.db_path(global.db.as_deref());
    if global.json {
        let maintenance: Vec<_> = config
            .maintenance
            .iter()
            .map(|w| {
                let (current, next) = w.around(crate::clock::now());
                json!({
                    "name": w.name, "checks": w.checks, "every": w.every, "for": w.lasts.to_string(),
                    "timezone": w.zone_name(),
                    "in_force_until": current.map(|o| o.ends_at),
                    "next_starts_at": next.map(|o| o.starts_at),
                })
            })
            .collect();
        output::print_json(&json!({
            "ok": true, "source": config.source, "db": db, "checks": checks, "warnings": warnings,
            "maintenance": maintenance,
        }));
    } else {
        let names: Vec<&str> = config.checks.iter().map(|c| c.name.as_str()).collect();
        outln!("{}: ok", config.source);
        outln!("  {} checks: {}", names.len(), names.join(", "));
        outln!("  database: {}", db.display());
        for window in &config.maintenance {
            outln!("  maintenance {}", describe_window(window));
        }
        for warning in &warnings {
            errln!("warning: {warning}");
        }
    }
    if strict && !warnings.is_empty() {
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    Ok(ExitCode::SUCCESS)
}

/// `patching: web, db every sun 02:00 for 2h (Europe/Berlin); next 2026-12-13T01:00:00Z`, so
/// that a person sees at once when the window falls, in UTC.
fn describe_window(window: &crate::config::Maintenance) -> String {
    let (current, next) = window.around(crate::clock::now());
    let when = match (current, next) {
        (Some(now), _) => format!("in force until {}", crate::clock::rfc3339(now.ends_at)),
        (None, Some(next)) => format!("next {}", crate::clock::rfc3339(next.starts_at)),
        (None, None) => "no start found".to_string(),
    };
    format!(
        "{}: {} every {} for {} ({}); {when}",
        window.name,
        window.targets(),
        window.every,
        window.lasts,
        window.zone_name()
    )
}

/// What is valid but likely not what was meant: each names the key to look at.
fn warnings(config: &Config, systemd: bool) -> Vec<String> {
    let mut found = Vec::new();
    escalation_warnings(config, &mut found);
    agent_warnings(config, &mut found);
    check_warnings(config, systemd, &mut found);
    glob_warnings(config, &mut found);
    runbook_warnings(config, &mut found);
    found
}

fn escalation_warnings(config: &Config, found: &mut Vec<String>) {
    let Some(escalation) = config
        .escalation
        .as_ref()
        .filter(|e| !e.channels().is_empty())
    else {
        found.push(
            "[escalation]: no channel (email, webhook, json_webhook, ntfy, slack, matrix): \
             escalations only reach the dashboard and nobody is notified"
                .into(),
        );
        return;
    };
    // A secret file is read when a message is sent; one missing now fails every message then.
    let files = [
        (
            "email",
            "password_file",
            escalation
                .email
                .as_ref()
                .and_then(|c| c.password_file.as_ref()),
        ),
        (
            "json_webhook",
            "token_file",
            escalation
                .json_webhook
                .as_ref()
                .and_then(|c| c.token_file.as_ref()),
        ),
        (
            "ntfy",
            "token_file",
            escalation.ntfy.as_ref().and_then(|c| c.token_file.as_ref()),
        ),
        (
            "slack",
            "url_file",
            escalation.slack.as_ref().and_then(|c| c.url_file.as_ref()),
        ),
        (
            "matrix",
            "token_file",
            escalation
                .matrix
                .as_ref()
                .and_then(|c| c.token_file.as_ref()),
        ),
    ];
    for (channel, key, path) in files {
        let Some(path) = path else { continue };
        if let Err(e) = std::fs::File::open(path) {
            found.push(format!(
                "[escalation.{channel}] {key} {}: {e}: every message on this channel would fail",
                path.display()
            ));
        }
    }
}

/// Whether `[research] agent` or `[consult] agents` names the agent `name`.
fn used_by_a_phase(config: &Config, name: &str) -> bool {
    config.research.as_ref().is_some_and(|r| r.agent == name)
        || config
            .consult
            .as_ref()
            .is_some_and(|c| c.agents.iter().any(|agent| agent == name))
}

/// The agents no phase names.
fn agent_warnings(config: &Config, found: &mut Vec<String>) {
    for name in config.agents.keys() {
        if !used_by_a_phase(config, name) {
            found.push(format!(
                "[agents.{name}]: used by no phase (name it in [research] agent or [consult] agents)"
            ));
        }
    }
}

/// Kinds whose failure no restart of theirs mends: the whole host's resources and failed units
/// (what can be done, free a full disk or name the units, is the runbook's and a person's), a
/// log's error lines, a certificate's expiry. For them no `remedy` is no oversight.
const NOTHING_TO_RESTART: [&str; 6] = [
    "disk",
    "memory",
    "load",
    "systemd-failed",
    "log",
    "certificate",
];

fn check_warnings(config: &Config, systemd: bool, found: &mut Vec<String>) {
    for check in &config.checks {
        let host_wide = NOTHING_TO_RESTART.contains(&check.kind.name());
        if check.remedy.is_empty() && check.unit.is_none() && !host_wide {
            found.push(format!(
                "check `{}`: no `remedy` and no `unit`: phase 1 has nothing to try, so its \
                 incidents go to the agents or a person",
                check.name
            ));
        }
        if check.kind.needs_systemd() && !systemd {
            let what = check.kind.without_systemd();
            found.push(format!(
                "check `{}`: kind `{}` needs systemd, which is not running on this host: {what}",
                check.name,
                check.kind.name()
            ));
        }
    }
}

/// Globs the policy cannot compile are dropped when it judges, so they allow nothing.
fn glob_warnings(config: &Config, found: &mut Vec<String>) {
    let policy = &config.policy;
    let lists: [(&str, Vec<String>); 4] = [
        (
            "units",
            policy.units.iter().map(|u| full_unit_name(u)).collect(),
        ),
        ("paths", policy.paths.clone()),
        (
            "commands",
            policy.commands.iter().flatten().cloned().collect(),
        ),
        ("processes", policy.processes.clone()),
    ];
    for (key, globs) in lists {
        for glob in globs {
            if let Err(err) = globset::Glob::new(&glob) {
                found.push(format!(
                    "[policy] {key}: `{glob}` is not a valid glob ({}): it allows nothing",
                    err.kind()
                ));
            }
        }
    }
}

/// A runbook whose plans the policy refuses can only hand incidents on.
fn runbook_warnings(config: &Config, found: &mut Vec<String>) {
    let runbook_used = config.agents.iter().any(|(name, agent)| {
        agent.builtin.as_deref() == Some("runbook") && used_by_a_phase(config, name)
    });
    if !runbook_used {
        return;
    }
    let policy = &config.policy;
    let forbidden: Vec<&str> = crate::agents::runbook::PROPOSES
        .iter()
        .filter(|kind| !policy.actions.contains(kind) && !policy.approve.contains(kind))
        .map(|kind| kind.name())
        .collect();
    if !forbidden.is_empty() {
        found.push(format!(
            "[policy] actions: the builtin runbook proposes {}, which neither `actions` nor \
             `approve` lists: those plans will be rejected",
            forbidden.join(", ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_without_systemd_has_no_systemd_check_and_is_valid() {
        let text = default_for_this_host(false);
        let config = Config::parse("default", &text).unwrap();
        assert!(!config.checks.iter().any(|c| c.kind.needs_systemd()));
        assert!(!config.checks.is_empty());
        let with = Config::parse("default", &default_for_this_host(true)).unwrap();
        assert!(with.checks.iter().any(|c| c.kind.needs_systemd()));
    }

    #[test]
    fn the_default_policy_lets_the_runbook_propose() {
        let text = "[agents.runbook]\nbuiltin = \"runbook\"\n[research]\nagent = \"runbook\"\n";
        let config = Config::parse("t", text).unwrap();
        let mut found = Vec::new();
        runbook_warnings(&config, &mut found);
        assert_eq!(found, Vec::<String>::new());
    }
}
