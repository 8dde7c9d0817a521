//! `[[maintenance]]`: recurring maintenance windows, silences the config declares.
//!
//! ```toml
//! [[maintenance]]
//! name = "patching"              # names the window in silences and notices; unique
//! checks = ["web", "db"]         # configured checks, or ["*"] for every check
//! every = "sun 02:00"            # DAYS HH:MM: "daily", days ("mon,thu"), ranges ("mon-fri")
//! for = "2h"                     # how long each lasts: more than 0s, less than the gap to the next
//! timezone = "Europe/Berlin"     # IANA name; default the host's time zone (TZ, /etc/localtime)
//! note = "weekly kernel updates" # optional: shown with the silence
//! ```
//!
//! Time zone rules, as cron, systemd timers and RFC 5545 have them: `every` is wall-clock time
//! in `timezone`. A start that does not exist that day (the clocks jump forward over it) is
//! moved forward by the jump (02:30 on the spring-forward night starts at 03:30); one that
//! occurs twice (the clocks fall back) starts at the first. `for` is elapsed time, so a window
//! over a change of the clocks lasts exactly `for`.

use super::error::{Problem, Source};
use super::Check;
use crate::clock::Timestamp;
use crate::duration::Duration;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::Deserialize;
use std::ops::Range;
use toml::Spanned;

/// A window as written in the config.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MaintenanceTable {
    name: Spanned<String>,
    checks: Spanned<Vec<String>>,
    every: Spanned<String>,
    #[serde(rename = "for")]
    lasts: Spanned<Duration>,
    timezone: Option<Spanned<String>>,
    #[serde(default)]
    note: String,
}

/// A validated maintenance window.
#[derive(Debug, Clone)]
pub struct Maintenance {
    pub name: String,
    /// The checks it silences; None: every check.
    pub checks: Option<Vec<String>>,
    /// As written: `sun 02:00`.
    pub every: String,
    /// Monday first.
    days: [bool; 7],
    hour: i8,
    minute: i8,
    pub lasts: Duration,
    /// As written; None: the host's time zone.
    pub timezone: Option<String>,
    tz: TimeZone,
    pub note: String,
}

/// One occurrence of a window: from `starts_at` for `lasts`, as Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Occurrence {
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
}

/// Longest window name: it is part of every silence's `created_by`.
const NAME_MAX: usize = 64;

impl Maintenance {
    /// The occurrence in force at `at`, if any, and the next one to start after `at`.
    pub fn around(&self, at: Timestamp) -> (Option<Occurrence>, Option<Occurrence>) {
        let occurrences = self.occurrences_near(at);
        let current = occurrences
            .iter()
            .rev()
            .find(|o| o.starts_at <= at && at < o.ends_at)
            .copied();
        let next = occurrences.iter().find(|o| o.starts_at > at).copied();
        (current, next)
    }

    /// Every start from eight days before `at` to eight days after, in order: a window lasts
    /// less than a week, so the one in force and the next one are among them.
    fn occurrences_near(&self, at: Timestamp) -> Vec<Occurrence> {
        let Ok(now) = jiff::Timestamp::from_second(at.floor() as i64) else {
            return Vec::new();
        };
        let mut day = self.tz.to_datetime(now).date();
        for _ in 0..8 {
            day = day.yesterday().unwrap_or(day);
        }
        let mut found = Vec::new();
        for _ in 0..17 {
            if let Some(start) = self.start_on(day) {
                found.push(Occurrence {
                    starts_at: start,
                    ends_at: start + self.lasts.as_secs_f64(),
                });
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        found
    }

    /// When the window starts on `day`, if it does: a time the clocks skip moves forward by
    /// the jump, a time they repeat is its first occurrence ("compatible", RFC 5545's rule).
    fn start_on(&self, day: Date) -> Option<Timestamp> {
        if !self.days[weekday_index(day.weekday())] {
            return None;
        }
        let civil = day.at(self.hour, self.minute, 0, 0);
        let start = self.tz.to_ambiguous_timestamp(civil).compatible().ok()?;
        Some(start.as_second() as Timestamp)
    }

    /// `Europe/Berlin`, or the host's zone as it is known (`local time (Etc/UTC)`).
    pub fn zone_name(&self) -> String {
        match &self.timezone {
            Some(name) => name.clone(),
            None => format!(
                "the host's local time ({})",
                self.tz.iana_name().unwrap_or("unnamed zone")
            ),
        }
    }

    /// `web, db` or `every check`.
    pub fn targets(&self) -> String {
        match &self.checks {
            Some(checks) => checks.join(", "),
            None => "every check".to_string(),
        }
    }
}

fn weekday_index(day: Weekday) -> usize {
    usize::try_from(day.to_monday_zero_offset()).unwrap_or(0)
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day_of(word: &str) -> Option<usize> {
    let word = word.to_ascii_lowercase();
    let full = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    DAY_NAMES
        .iter()
        .position(|d| *d == word)
        .or_else(|| full.iter().position(|d| *d == word))
}

/// `DAYS HH:MM` → (days, hour, minute), or what is wrong with it.
fn parse_every(text: &str) -> Result<([bool; 7], i8, i8), String> {
    let expected = "expected DAYS HH:MM, like \"sun 02:00\", \"mon,thu 22:30\", \"mon-fri 06:00\" or \"daily 03:00\"";
    let mut words = text.split_whitespace();
    let (Some(days_text), Some(time_text), None) = (words.next(), words.next(), words.next())
    else {
        return Err(format!("`{text}`: {expected}"));
    };
    let mut days = [false; 7];
    if days_text.eq_ignore_ascii_case("daily") {
        days = [true; 7];
    } else {
        for part in days_text.split(',') {
            let unknown = |word: &str| {
                format!(
                    "`{text}`: `{word}` is not a day (mon, tue, wed, thu, fri, sat, sun or daily)"
                )
            };
            match part.split_once('-') {
                Some((from, to)) => {
                    let from = day_of(from).ok_or_else(|| unknown(from))?;
                    let to = day_of(to).ok_or_else(|| unknown(to))?;
                    // `fri-mon` wraps round the week's end.
                    let mut day = from;
                    loop {
                        days[day] = true;
                        if day == to {
                            break;
                        }
                        day = (day + 1) % 7;
                    }
                }
                None => days[day_of(part).ok_or_else(|| unknown(part))?] = true,
            }
        }
    }
    let bad_time =
        || format!("`{text}`: `{time_text}` is not a time of day HH:MM (00:00 to 23:59)");
    let (hour, minute) = time_text.split_once(':').ok_or_else(bad_time)?;
    let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(hour) || !two_digits(minute) {
        return Err(bad_time());
    }
    let hour: i8 = hour.parse().map_err(|_| bad_time())?;
    let minute: i8 = minute.parse().map_err(|_| bad_time())?;
    if hour > 23 || minute > 59 {
        return Err(bad_time());
    }
    Ok((days, hour, minute))
}

/// The shortest time from one start to the next, the clocks not changing: a window must end
/// before the next one starts.
fn shortest_gap(days: &[bool; 7]) -> std::time::Duration {
    let chosen: Vec<usize> = (0..7).filter(|d| days[*d]).collect();
    let gap_days = chosen
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let next = chosen[(i + 1) % chosen.len()];
            (next + 7 - day - 1) % 7 + 1
        })
        .min()
        .unwrap_or(7);
    std::time::Duration::from_secs(gap_days as u64 * 86_400)
}

/// Every window, each problem with the file, line and key; `checks` are the configured ones.
pub(super) fn validate(
    source: &Source,
    tables: Vec<Spanned<MaintenanceTable>>,
    checks: &[Check],
    problems: &mut Vec<Problem>,
) -> Vec<Maintenance> {
    let mut windows = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for table in tables {
        let raw = table.into_inner();
        let mut problem = |span: Range<usize>, key: &str, message: String| {
            problems.push(Problem::at(
                source,
                Some(span),
                Some(&format!("maintenance.{key}")),
                message,
            ));
        };
        let name = raw.name.get_ref().trim().to_string();
        let name_ok = !name.is_empty()
            && name.chars().count() <= NAME_MAX
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            problem(
                raw.name.span(),
                "name",
                format!(
                    "`{name}`: a window's name is 1 to {NAME_MAX} letters, digits, `-`, `_` or `.`"
                ),
            );
        } else if names.contains(&name) {
            problem(
                raw.name.span(),
                "name",
                format!("duplicate maintenance window `{name}`: names must be unique"),
            );
        }
        names.push(name.clone());
        let listed = raw.checks.get_ref();
        let targets = if listed.iter().any(|c| c == "*") {
            if listed.len() > 1 {
                problem(
                    raw.checks.span(),
                    "checks",
                    "`*` stands for every check and goes alone: `checks = [\"*\"]`".into(),
                );
            }
            None
        } else {
            if listed.is_empty() {
                problem(
                    raw.checks.span(),
                    "checks",
                    "name at least one check, or `[\"*\"]` for every check".into(),
                );
            }
            for check in listed {
                if !checks.iter().any(|c| &c.name == check) {
                    let known: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
                    problem(
                        raw.checks.span(),
                        "checks",
                        format!(
                            "`{check}` is not a configured check (the config has: {})",
                            if known.is_empty() {
                                "no checks".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    );
                }
            }
            Some(listed.clone())
        };
        let every = raw.every.get_ref().trim().to_string();
        let parsed = parse_every(&every);
        if let Err(message) = &parsed {
            problem(raw.every.span(), "every", message.clone());
        }
        let lasts = *raw.lasts.get_ref();
        if lasts.std().is_zero() {
            problem(
                raw.lasts.span(),
                "for",
                "a window must last longer than 0s".into(),
            );
        }
        if let Ok((days, _, _)) = &parsed {
            let gap = shortest_gap(days);
            if lasts.std() >= gap {
                problem(
                    raw.lasts.span(),
                    "for",
                    format!(
                        "{lasts} is as long as the time between two starts of `{every}` ({}): \
                         the checks would never leave maintenance (silence them instead)",
                        humantime::format_duration(gap)
                    ),
                );
            }
        }
        let zone = match &raw.timezone {
            None => Ok(TimeZone::system()),
            Some(name) => TimeZone::get(name.get_ref().trim()).map_err(|err| {
                problem(
                    name.span(),
                    "timezone",
                    format!(
                        "`{}` is not a time zone this host knows ({err}): an IANA name like \
                         Europe/Berlin, America/New_York or UTC, from /usr/share/zoneinfo",
                        name.get_ref()
                    ),
                )
            }),
        };
        if let (Ok((days, hour, minute)), Ok(tz), true) = (parsed, zone, name_ok) {
            windows.push(Maintenance {
                name,
                checks: targets,
                every,
                days,
                hour,
                minute,
                lasts,
                timezone: raw.timezone.map(|t| t.into_inner().trim().to_string()),
                tz,
                note: raw.note,
            });
        }
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// Berlin's rules as a POSIX TZ string, so that the test needs no time zone database.
    const BERLIN: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

    fn window(every: &str, lasts: &str) -> Maintenance {
        let text = format!(
            "[[checks]]\nname = \"web\"\nkind = \"memory\"\n\
             [[maintenance]]\nname = \"w\"\nchecks = [\"web\"]\nevery = \"{every}\"\nfor = \"{lasts}\"\ntimezone = \"UTC\"\n"
        );
        let config = Config::parse("t.toml", &text).unwrap_or_else(|e| panic!("{e}"));
        Maintenance {
            tz: TimeZone::posix(BERLIN).unwrap(),
            ..config.maintenance[0].clone()
        }
    }

    fn at(rfc3339: &str) -> Timestamp {
        rfc3339.parse::<jiff::Timestamp>().unwrap().as_second() as Timestamp
    }

    #[test]
    fn the_window_in_force_and_the_next_one_in_the_windows_time_zone() {
        let w = window("sun 02:00", "2h");
        // Sunday 2026-12-13, 02:00 in Berlin (CET, +01:00) is 01:00 UTC.
        let (current, next) = w.around(at("2026-12-13T01:30:00Z"));
        assert_eq!(current.unwrap().starts_at, at("2026-12-13T01:00:00Z"));
        assert_eq!(current.unwrap().ends_at, at("2026-12-13T03:00:00Z"));
        assert_eq!(next.unwrap().starts_at, at("2026-12-20T01:00:00Z"));
        let (current, next) = w.around(at("2026-12-13T03:00:00Z"));
        assert_eq!(current, None, "it ends at 03:00 UTC, not after");
        assert_eq!(next.unwrap().starts_at, at("2026-12-20T01:00:00Z"));
    }

    #[test]
    fn a_start_the_clocks_skip_moves_forward_and_a_repeated_one_starts_at_the_first() {
        let w = window("sun 02:30", "1h");
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist: 03:30 CEST.
        let (_, next) = w.around(at("2026-03-28T12:00:00Z"));
        assert_eq!(next.unwrap().starts_at, at("2026-03-29T01:30:00Z"));
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice: the first.
        let (_, next) = w.around(at("2026-10-24T12:00:00Z"));
        assert_eq!(next.unwrap().starts_at, at("2026-10-25T00:30:00Z"));
        assert_eq!(
            next.unwrap().ends_at,
            at("2026-10-25T01:30:00Z"),
            "for is elapsed time"
        );
    }

    #[test]
    fn days_ranges_and_daily() {
        assert_eq!(parse_every("daily 03:00").unwrap().0, [true; 7]);
        assert_eq!(
            parse_every("fri-mon 22:30").unwrap(),
            ([true, false, false, false, true, true, true], 22, 30)
        );
        assert_eq!(
            parse_every("Mon,Thursday 06:05").unwrap().0,
            [true, false, false, true, false, false, false]
        );
        for bad in [
            "sun",
            "sun 2:00",
            "sun 24:00",
            "sun 02:60",
            "funday 02:00",
            "sun 02:00 x",
            "",
        ] {
            assert!(parse_every(bad).is_err(), "{bad}");
        }
        assert_eq!(shortest_gap(&[true; 7]).as_secs(), 86_400);
        let weekend = [false, false, false, false, false, true, true];
        assert_eq!(shortest_gap(&weekend).as_secs(), 86_400);
        let sunday = [false, false, false, false, false, false, true];
        assert_eq!(shortest_gap(&sunday).as_secs(), 7 * 86_400);
    }

    #[test]
    fn the_man_page_describes_every_key_of_a_window() {
        let page = include_str!("../../man/orchestrator.toml.5");
        let section = page
            .split_once(".SH [[maintenance]]")
            .and_then(|(_, rest)| rest.split(".SH ").next())
            .expect("orchestrator.toml(5) has a [[maintenance]] section");
        for key in ["name", "checks", "every", "for", "timezone", "note"] {
            assert!(section.contains(&format!("\\fB{key}\\fR")), "{key}");
        }
    }

    #[test]
    fn every_problem_is_named_with_its_line_and_key() {
        let text = "[[checks]]\nname = \"web\"\nkind = \"memory\"\n\
                    [[maintenance]]\nname = \"a b\"\nchecks = [\"wbe\"]\nevery = \"sunday at 2\"\nfor = \"0s\"\ntimezone = \"Mars/Olympus\"\n\
                    [[maintenance]]\nname = \"daily\"\nchecks = [\"*\", \"web\"]\nevery = \"daily 03:00\"\nfor = \"1d\"\n";
        let problems = match Config::parse("t.toml", text) {
            Ok(_) => panic!("accepted"),
            Err(err) => err.problems(),
        };
        let want = [
            ("t.toml:5:", "maintenance.name", "a window's name is"),
            (
                "t.toml:6:",
                "maintenance.checks",
                "`wbe` is not a configured check (the config has: web)",
            ),
            ("t.toml:7:", "maintenance.every", "expected DAYS HH:MM"),
            ("t.toml:8:", "maintenance.for", "longer than 0s"),
            (
                "t.toml:9:",
                "maintenance.timezone",
                "`Mars/Olympus` is not a time zone",
            ),
            (
                "t.toml:12:",
                "maintenance.checks",
                "`*` stands for every check and goes alone",
            ),
            (
                "t.toml:14:",
                "maintenance.for",
                "the checks would never leave maintenance",
            ),
        ];
        assert_eq!(problems.len(), want.len(), "{problems:#?}");
        for (problem, (line, key, words)) in problems.iter().zip(want) {
            assert!(
                problem.starts_with(line) && problem.contains(key) && problem.contains(words),
                "{problem}\nwanted {line} {key} {words}"
            );
        }
    }
}
