//! `silence add|list|expire`: a person pauses orchestrator on a check, or on every check.

use super::{load_config, open_store, open_store_readonly, output, CommandError};
use crate::cli::{Global, SilenceCommand};
use crate::clock::{self, Timestamp};
use crate::store::{check_silence_span, NewSilence, Silence};
use serde_json::json;
use std::process::ExitCode;

pub fn exec(global: &Global, command: SilenceCommand) -> Result<ExitCode, CommandError> {
    let config = load_config(global)?;
    match command {
        SilenceCommand::Add {
            check,
            all: _,
            duration,
            until,
            note,
            by,
        } => {
            let check = check
                .map(|name| config.known_check(&name).map_err(CommandError::Usage))
                .transpose()?;
            let starts_at = clock::now();
            let ends_at = match (duration, until) {
                (Some(duration), _) => starts_at + duration.as_secs_f64(),
                (None, Some(until)) => parse_until(&until)?,
                (None, None) => return Err(CommandError::Usage("give --for or --until".into())),
            };
            check_silence_span(starts_at, ends_at).map_err(CommandError::Usage)?;
            let by = super::person(by.as_deref())?;
            let store = open_store(global, &config)?;
            let silence = store.add_silence(&NewSilence {
                check: check.as_deref(),
                created_by: &by,
                note: &note,
                starts_at,
                ends_at,
            })?;
            print_one(global, "added", &silence);
        }
        SilenceCommand::List { all } => {
            let store = open_store_readonly(global, &config)?;
            let silences = store.silences(all, None)?;
            if global.json {
                output::print_json(&json!({ "silences": silences }));
            } else {
                print_table(&silences);
            }
        }
        SilenceCommand::Expire { id } => {
            let store = open_store(global, &config)?;
            let silence = store.expire_silence(id)?;
            print_one(global, "expired", &silence);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--until`: RFC 3339 with `Z` or a numeric offset.
fn parse_until(text: &str) -> Result<Timestamp, CommandError> {
    clock::parse_rfc3339(text).ok_or_else(|| {
        CommandError::Usage(format!(
            "--until `{}` is not an RFC 3339 time like 2026-11-27T18:00:00Z or 2026-11-27T19:00:00+01:00",
            crate::duration::quoted(text)
        ))
    })
}

fn print_one(global: &Global, what: &str, silence: &Silence) {
    if global.json {
        output::print_json(&json!({ "silence": silence }));
        return;
    }
    println!(
        "silence {} {what}: {} {}",
        silence.id,
        silence.target(),
        match what {
            "expired" => format!("(was set by {})", silence.created_by),
            _ => silence.describe(),
        }
    );
}

fn print_table(silences: &[Silence]) {
    if silences.is_empty() {
        println!("no silence in force (silence list --all shows those that ended)");
        return;
    }
    let now = clock::now();
    let rows: Vec<Vec<String>> = silences
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.state.to_string(),
                s.target().to_string(),
                s.created_by.clone(),
                clock::rfc3339(s.starts_at),
                format!(
                    "{} ({})",
                    clock::rfc3339(s.ended_at()),
                    clock::relative(s.ended_at(), now)
                ),
                s.note.clone(),
            ]
        })
        .collect();
    println!(
        "{}",
        output::table(
            &["ID", "STATE", "CHECK", "BY", "FROM", "UNTIL", "NOTE"],
            &rows
        )
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_names_what_it_takes() {
        assert!(parse_until("2026-11-27T19:00:00+01:00").is_ok());
        for bad in ["tomorrow", "2026-11-27", "2026-11-27T19:00:00+25:00", ""] {
            let err = parse_until(bad).unwrap_err().to_string();
            assert!(err.contains("RFC 3339"), "{bad}: {err}");
        }
    }
}
