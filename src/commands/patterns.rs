//! `patterns list|show|disable|enable|forget`: what phase 1 learned, and a person's say on it.

use super::{load_config, open_store, open_store_readonly, output, CommandError};
use crate::actions::Plan;
use crate::cli::{Global, PatternsCommand};
use crate::clock;
use crate::store::{Pattern, PatternChange, Store, StoreError, Taught};
use serde_json::json;
use std::process::ExitCode;

pub fn exec(global: &Global, command: PatternsCommand) -> Result<ExitCode, CommandError> {
    let config = load_config(global)?;
    let who = |by: Option<String>| super::person(by.as_deref());
    match command {
        PatternsCommand::List { check } => {
            let store = open_store_readonly(global, &config)?;
            list(global, &store, check.as_deref())
        }
        PatternsCommand::Show { id } => {
            let store = open_store_readonly(global, &config)?;
            show(global, &store, id)
        }
        PatternsCommand::Disable { id, note, by } => {
            let mut store = open_store(global, &config)?;
            let pattern = store.disable_pattern(id, &who(by)?, &note)?;
            changed(
                global,
                &store,
                &pattern,
                "disabled: phase 1 no longer replays it",
            );
            Ok(ExitCode::SUCCESS)
        }
        PatternsCommand::Enable { id, note, by } => {
            let mut store = open_store(global, &config)?;
            let pattern = store.enable_pattern(id, &who(by)?, &note)?;
            changed(
                global,
                &store,
                &pattern,
                "enabled: phase 1 may replay it again",
            );
            Ok(ExitCode::SUCCESS)
        }
        PatternsCommand::Forget { id, note, by } => {
            let mut store = open_store(global, &config)?;
            let forgotten = store.forget_pattern(id, &who(by)?, &note)?;
            if global.json {
                let shown = masked_changes(&store, vec![forgotten]);
                output::print_json(&json!({ "forgotten": shown.first() }));
            } else {
                outln!(
                    "pattern {id} forgotten: {} ({}, worked {}, failed {}); `patterns show {id}` keeps what it was",
                    store.mask(&shown_plan(&forgotten.plan)),
                    forgotten.check,
                    forgotten.successes,
                    forgotten.failures
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn shown_plan(plan: &str) -> String {
    Plan::describe_stored_text(plan)
}

fn list(global: &Global, store: &Store, check: Option<&str>) -> Result<ExitCode, CommandError> {
    let patterns: Vec<Pattern> = store
        .patterns()?
        .into_iter()
        .filter(|p| check.is_none_or(|name| p.check == name))
        .collect();
    if global.json {
        let listed: Vec<serde_json::Value> =
            patterns.iter().map(|p| pattern_json(store, p)).collect();
        output::print_json(&json!({ "patterns": listed }));
        return Ok(ExitCode::SUCCESS);
    }
    if patterns.is_empty() {
        outln!("no learned patterns");
        return Ok(ExitCode::SUCCESS);
    }
    let now = clock::now();
    let rows: Vec<Vec<String>> = patterns
        .iter()
        .map(|p| {
            vec![
                p.id.to_string(),
                p.state().to_string(),
                p.check.clone(),
                p.successes.to_string(),
                p.failures.to_string(),
                p.last_used_at
                    .map_or_else(|| "-".to_string(), |at| clock::relative(at, now)),
                output::cell(&store.mask(&shown_plan(&p.plan)), 80),
            ]
        })
        .collect();
    outln!(
        "{}",
        output::table(
            &[
                "ID",
                "STATE",
                "CHECK",
                "WORKED",
                "FAILED",
                "LAST USED",
                "PLAN"
            ],
            &rows
        )
    );
    Ok(ExitCode::SUCCESS)
}

fn show(global: &Global, store: &Store, id: i64) -> Result<ExitCode, CommandError> {
    let changes = store.pattern_changes(Some(id), 50)?;
    let pattern = match store.pattern(id) {
        Ok(pattern) => Some(pattern),
        // Forgotten: its history says what it was.
        Err(StoreError::NoPattern(_)) if !changes.is_empty() => None,
        Err(err) => return Err(err.into()),
    };
    let attempts = store.pattern_attempts(id, 20)?;
    if global.json {
        output::print_json(&json!({
            "pattern": pattern.as_ref().map(|p| pattern_json(store, p)),
            "forgotten": pattern.is_none(),
            "changes": masked_changes(store, changes),
            "attempts": attempts,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    match &pattern {
        Some(p) => {
            outln!("pattern {}  {}  check {}", p.id, p.state(), p.check);
            outln!("plan:        {}", store.mask(&shown_plan(&p.plan)));
            outln!("signature:   {}", p.signature);
            outln!(
                "record:      worked {}, failed {}; learned in phase {} at {}, last used {}",
                p.successes,
                p.failures,
                p.source_phase,
                clock::rfc3339(p.created_at),
                p.last_used_at
                    .map_or_else(|| "never".into(), clock::rfc3339)
            );
            outln!("vouched for: {}", vouched(p.taught));
            if let Some(why) = p.disabled() {
                outln!("not replayed: {why} (`orchestrator patterns enable {id}`)");
            }
        }
        None => {
            let last = &changes[0];
            outln!(
                "pattern {id} was forgotten by {} at {}{}",
                last.by,
                clock::rfc3339(last.at),
                note_suffix(&last.note)
            );
            outln!("plan was:    {}", store.mask(&shown_plan(&last.plan)));
            outln!("signature:   {}", last.signature);
            outln!(
                "record:      worked {}, failed {} (check {})",
                last.successes,
                last.failures,
                last.check
            );
        }
    }
    outln!("\nchanges by people:");
    if changes.is_empty() {
        outln!("  none");
    }
    for change in &changes {
        outln!(
            "  {}  {:<9} by {}{}",
            clock::rfc3339(change.at),
            change.action,
            change.by,
            note_suffix(&change.note)
        );
    }
    outln!("\nreplays (newest first):");
    if attempts.is_empty() {
        outln!("  none");
    }
    for attempt in &attempts {
        outln!(
            "  {}  incident {} phase {} → {}",
            clock::rfc3339(attempt.started_at),
            attempt.incident,
            attempt.phase,
            attempt.outcome
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Plans are stored as they must run; a secret in one is masked where it is shown.
fn masked_changes(store: &Store, changes: Vec<PatternChange>) -> Vec<PatternChange> {
    changes
        .into_iter()
        .map(|c| PatternChange {
            plan: store.mask(&c.plan),
            ..c
        })
        .collect()
}

fn note_suffix(note: &str) -> String {
    if note.is_empty() {
        String::new()
    } else {
        format!(": {note}")
    }
}

/// Who vouched for a pattern's plan, which decides how phase 1 judges its replay.
fn vouched(taught: Taught) -> &'static str {
    match taught {
        Taught::Unattended => "[policy] (judged again at each replay)",
        Taught::Person => "a person (stands for [policy] approve)",
        Taught::OutsidePolicy => "root, outside [policy] (replayed unjudged)",
    }
}

/// A pattern in `--json`: its fields, its `state`, its plan masked for display.
fn pattern_json(store: &Store, pattern: &Pattern) -> serde_json::Value {
    let mut value = serde_json::to_value(pattern).unwrap_or_default();
    value["state"] = json!(pattern.state());
    value["plan"] = json!(store.mask(&pattern.plan));
    value
}

fn changed(global: &Global, store: &Store, pattern: &Pattern, what: &str) {
    if global.json {
        output::print_json(&json!({ "pattern": pattern_json(store, pattern) }));
    } else {
        outln!(
            "pattern {} ({}, check {}) {what}",
            pattern.id,
            store.mask(&shown_plan(&pattern.plan)),
            pattern.check
        );
    }
}
