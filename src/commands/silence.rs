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
            from,
            duration,
            until,
            note,
            by,
        } => {
            let check = check
                .map(|name| config.known_check(&name).map_err(CommandError::Usage))
                .transpose()?;
            let now = clock::now();
            let starts_at = match from {
                Some(from) => starts_at(&from, now)?,
                None => now,
            };
            let ends_at = match (duration, until) {
                (Some(duration), _) => starts_at + duration.as_secs_f64(),
                (None, Some(until)) => parse_rfc3339("--until", &until)?,
                (None, None) => return Err(CommandError::Usage("give --for or --until".into())),
            };
            if ends_at <= starts_at && starts_at > now {
                return Err(CommandError::Usage(format!(
                    "the silence would end at {}, which is not after its start, {}",
                    clock::rfc3339(ends_at),
                    clock::rfc3339(starts_at)
                )));
            }
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

/// How far in the past `--from` may be and still mean "now": the seconds a person takes to
/// type the command. Earlier is refused: a start in the past is most likely a time zone
/// mistaken, and a silence backdated would change what the history says.
const FROM_SLACK_SECS: f64 = 60.0;

/// `--from`: a start now or later.
fn starts_at(from: &str, now: Timestamp) -> Result<Timestamp, CommandError> {
    let at = parse_rfc3339("--from", from)?;
    if at < now - FROM_SLACK_SECS {
        return Err(CommandError::Usage(format!(
            "--from {} is in the past (it is {} now, UTC); leave --from out to start now",
            clock::rfc3339(at),
            clock::rfc3339(now)
        )));
    }
    Ok(at.max(now))
}

/// `--from` and `--until`: RFC 3339 with `Z` or a numeric offset; `option` names it.
fn parse_rfc3339(option: &str, text: &str) -> Result<Timestamp, CommandError> {
    clock::parse_rfc3339(text).ok_or_else(|| {
        CommandError::Usage(format!(
            "{option} `{}` is not an RFC 3339 time like 2026-11-27T18:00:00Z or 2026-11-27T19:00:00+01:00",
            crate::duration::quoted(text)
        ))
    })
}

fn print_one(global: &Global, what: &str, silence: &Silence) {
    if global.json {
        output::print_json(&json!({ "silence": silence }));
        return;
    }
    outln!(
        "silence {} {what}: {} {}",
        silence.id,
        silence.target(),
        match what {
            "expired" => format!("(was set by {})", silence.created_by),
            _ if silence.state == "pending" => format!(
                "{}; it starts at {}",
                silence.describe(),
                clock::rfc3339(silence.starts_at)
            ),
            _ => silence.describe(),
        }
    );
}

fn print_table(silences: &[Silence]) {
    if silences.is_empty() {
        outln!("no silence in force (silence list --all shows those that ended)");
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
    outln!(
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
    fn until_takes_utc_and_numeric_offsets() {
        let utc = parse_rfc3339("--until", "2026-11-27T18:00:00Z").unwrap();
        assert_eq!(
            parse_rfc3339("--until", "2026-11-27T19:00:00+01:00").unwrap(),
            utc
        );
        assert_eq!(
            parse_rfc3339("--until", "2026-11-27T13:30:00-04:30").unwrap(),
            utc
        );
        for bad in ["tomorrow", "2026-11-27", "2026-11-27T19:00:00+25:00", ""] {
            let err = parse_rfc3339("--from", bad).unwrap_err().to_string();
            assert!(
                err.contains("RFC 3339") && err.contains("--from"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_start_in_the_past_is_refused_beyond_a_minute_of_typing() {
        let now = parse_rfc3339("--from", "2026-11-27T18:00:00Z").unwrap();
        assert_eq!(starts_at("2026-11-27T17:59:30Z", now).unwrap(), now);
        assert_eq!(
            starts_at("2026-11-27T20:00:00+01:00", now).unwrap(),
            now + 3600.0
        );
        let err = starts_at("2026-11-27T17:00:00Z", now)
            .unwrap_err()
            .to_string();
        assert!(err.contains("is in the past"), "{err}");
    }
}
