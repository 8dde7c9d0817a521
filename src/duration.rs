//! Human durations as the config writes them: `500ms`, `30s`, `5m`, `24h`, `7d`, or sums such
//! as `1h30m`. A bare number is rejected on purpose: `timeout = 30` is ambiguous. None is longer
//! than [`Duration::LIMIT`], 100 years, wherever it is written (config, command line,
//! dashboard): a time that far from now is still one RFC 3339 can write and a float holds
//! to the millisecond, so no arithmetic on durations and times can overflow.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub std::time::Duration);

impl Duration {
    /// The longest duration accepted anywhere: 36500d (100 years).
    pub const LIMIT: Duration = Duration::from_secs(36_500 * 86_400);
    /// How [`Duration::LIMIT`] is named in errors.
    pub const LIMIT_TEXT: &'static str = "36500d (100 years)";
    /// The longest timeout or wait inside a cycle (a check's or an agent's `timeout`, `settle`,
    /// a phase's time, a `run` action's): one day. The cycle holds its lock meanwhile.
    pub const WAIT_LIMIT: Duration = Duration::from_secs(86_400);
    pub const WAIT_LIMIT_TEXT: &'static str = "24h";

    /// Why `self`, a timeout or a wait, is refused: longer than [`Duration::WAIT_LIMIT`].
    pub fn over_wait_limit(&self) -> Option<String> {
        (*self > Duration::WAIT_LIMIT).then(|| {
            format!(
                "{self} is too long: a timeout or a wait is at most {}",
                Duration::WAIT_LIMIT_TEXT
            )
        })
    }

    pub const fn from_secs(secs: u64) -> Self {
        Duration(std::time::Duration::from_secs(secs))
    }
    pub const fn from_millis(ms: u64) -> Self {
        Duration(std::time::Duration::from_millis(ms))
    }
    pub fn as_secs_f64(&self) -> f64 {
        self.0.as_secs_f64()
    }
    pub fn std(&self) -> std::time::Duration {
        self.0
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid duration `{input}`: {why}")]
pub struct ParseDurationError {
    /// The text as given, cut to a readable length.
    input: String,
    why: String,
}

/// How an error quotes what it was given: at most this many characters.
const QUOTED: usize = 40;

/// `text` as an error quotes it: cut, with an ellipsis, when longer than [`QUOTED`].
pub fn quoted(text: &str) -> String {
    if text.chars().count() <= QUOTED {
        return text.to_string();
    }
    let head: String = text.chars().take(QUOTED - 1).collect();
    format!("{head}…")
}

impl FromStr for Duration {
    type Err = ParseDurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |why: &str| ParseDurationError {
            input: quoted(input),
            why: why.to_string(),
        };
        let grammar = |why: &str| {
            fail(&format!(
                "{why} (expected a number with a unit, like 500ms, 30s, 5m, 24h or 7d)"
            ))
        };
        let too_long = || {
            fail(&format!(
                "longer than the limit of {}",
                Duration::LIMIT_TEXT
            ))
        };
        let text = input.trim();
        check_config_grammar(text).map_err(grammar)?;
        // humantime does the arithmetic; the grammar check above keeps the config's stricter
        // rules (no bare numbers, no spaces, only the units the README documents).
        let parsed = humantime::parse_duration(text).map_err(|error| match error {
            humantime::DurationError::NumberOverflow => too_long(),
            _ => grammar("unknown unit"),
        })?;
        if parsed > Duration::LIMIT.0 {
            return Err(too_long());
        }
        Ok(Duration(parsed))
    }
}

/// The config accepts only `<digits><unit>` repeated, with `ms s m h d w` as units. humantime alone
/// would also take `30` (as an error we could not name), `5 minutes` or `1y`.
fn check_config_grammar(text: &str) -> Result<(), &'static str> {
    if text.is_empty() {
        return Err("it is empty");
    }
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err("a unit must follow a number");
        }
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        match &rest[..unit_len] {
            "ms" | "s" | "m" | "h" | "d" | "w" => {}
            "" => return Err("the unit is missing"),
            _ => return Err("unknown unit"),
        }
        rest = &rest[unit_len..];
    }
    Ok(())
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms == 0 {
            return write!(f, "0s");
        }
        let units = [
            (86_400_000, "d"),
            (3_600_000, "h"),
            (60_000, "m"),
            (1_000, "s"),
            (1, "ms"),
        ];
        let mut rest = ms;
        for (size, name) in units {
            if rest >= size {
                write!(f, "{}{}", rest / size, name)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_sums() {
        assert_eq!("30s".parse::<Duration>().unwrap(), Duration::from_secs(30));
        assert_eq!("5m".parse::<Duration>().unwrap(), Duration::from_secs(300));
        assert_eq!(
            "7d".parse::<Duration>().unwrap(),
            Duration::from_secs(7 * 86_400)
        );
        assert_eq!(
            "1h30m".parse::<Duration>().unwrap(),
            Duration::from_secs(5_400)
        );
        assert_eq!(
            "250ms".parse::<Duration>().unwrap(),
            Duration::from_millis(250)
        );
    }

    #[test]
    fn rejects_ambiguous_or_unknown() {
        assert!("30".parse::<Duration>().is_err());
        assert!("5 minutes".parse::<Duration>().is_err());
        assert!("m5".parse::<Duration>().is_err());
        assert!("".parse::<Duration>().is_err());
    }

    #[test]
    fn keeps_the_config_rules_humantime_alone_would_relax() {
        for text in ["1y", "5min", "1h 30m", "3sec", "2M"] {
            assert!(text.parse::<Duration>().is_err(), "{text} must be refused");
        }
        assert_eq!(
            "2w".parse::<Duration>().unwrap(),
            Duration::from_secs(14 * 86_400)
        );
        let error = "30".parse::<Duration>().unwrap_err().to_string();
        assert!(error.contains("the unit is missing"), "{error}");
    }

    #[test]
    fn a_duration_past_100_years_is_refused_naming_the_limit() {
        assert_eq!("36500d".parse::<Duration>().unwrap(), Duration::LIMIT);
        for text in [
            "36500d1ms",
            "36501d",
            "3000000d",
            "2913000d",
            "99999999999999999999d",
            "5215w",
        ] {
            let error = text.parse::<Duration>().unwrap_err().to_string();
            assert!(
                error.contains("longer than the limit of 36500d (100 years)"),
                "{error}"
            );
        }
    }

    #[test]
    fn an_error_quotes_a_long_input_cut() {
        let long = "1".repeat(70_000) + "x";
        let error = long.parse::<Duration>().unwrap_err().to_string();
        assert!(error.len() < 200, "{error}");
        assert!(error.contains("11111…`"), "{error}");
    }

    #[test]
    fn displays_round_trip() {
        for text in ["30s", "5m", "1h30m", "7d", "250ms"] {
            assert_eq!(text.parse::<Duration>().unwrap().to_string(), text);
        }
    }
}
