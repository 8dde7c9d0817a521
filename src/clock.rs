//! The one place that reads the wall clock. Times are stored as Unix seconds (f64) so that SQL
//! can compare and subtract them, and shown as RFC 3339.
//!
//! Every time shown goes through [`rfc3339`] or [`age`], which take any float: a time before
//! 1970, past the year 9999 (RFC 3339 has four digits for the year), infinite or not a number
//! (a row an older binary wrote) is clamped to that range, never a panic.

use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

pub type Timestamp = f64;

/// 9999-12-31T23:59:59Z: the last second RFC 3339 can write. Later times are shown as it.
pub const LAST_TIME: Timestamp = 253_402_300_799.0;

pub fn now() -> Timestamp {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `ts` within what can be shown: 1970 to the end of 9999; not a number is 1970.
pub fn clamp(ts: Timestamp) -> Timestamp {
    if ts.is_nan() {
        return 0.0;
    }
    ts.clamp(0.0, LAST_TIME)
}

pub fn rfc3339(ts: Timestamp) -> String {
    let time = UNIX_EPOCH + duration_from_secs(clamp(ts).floor());
    let mut text = String::new();
    // Within the clamped range humantime writes every time; the fallback is for its error.
    match write!(text, "{}", humantime::format_rfc3339_seconds(time)) {
        Ok(()) => text,
        Err(_) => "9999-12-31T23:59:59Z".to_string(),
    }
}

/// Seconds as a `Duration`, saturating: negative or not a number is zero, too large is the
/// largest (`Duration::from_secs_f64` panics on both).
pub fn duration_from_secs(secs: f64) -> std::time::Duration {
    if secs.is_nan() || secs <= 0.0 {
        return std::time::Duration::ZERO;
    }
    std::time::Duration::try_from_secs_f64(secs).unwrap_or(std::time::Duration::MAX)
}

/// An RFC 3339 time with `Z` or a numeric offset (humantime reads only UTC), between 1970 and
/// the end of 9999: `2026-11-27T18:00:00Z`, `2026-11-27T19:00:00+01:00`. None for anything
/// else. What `silence add --until` takes.
pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let (utc, offset_secs) = match split_offset(text) {
        Some((time, offset)) => (format!("{time}Z"), offset),
        None => (text.to_string(), 0),
    };
    let time = humantime::parse_rfc3339(&utc).ok()?;
    let secs = time.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    Some(clamp(secs - offset_secs as f64))
}

/// `2026-11-27T19:00:00+01:00` → (`2026-11-27T19:00:00`, 3600).
fn split_offset(text: &str) -> Option<(&str, i64)> {
    let cut = text.len().checked_sub(6)?;
    let (time, offset) = (text.get(..cut)?, text.get(cut..)?);
    let sign = match offset.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = offset.get(1..)?.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let hours: i64 = hours.parse().ok()?;
    let minutes: i64 = minutes.parse().ok()?;
    (hours < 24 && minutes < 60).then_some((time, sign * (hours * 3600 + minutes * 60)))
}

/// A time as people read it from now: `3m ago`, or `in 2h` when it is still ahead (a silence's
/// end, a retry); `now` within a second either way.
pub fn relative(ts: Timestamp, now: Timestamp) -> String {
    let ahead = clamp(ts) - clamp(now);
    if ahead.abs() < 1.0 {
        return "now".into();
    }
    // `as` saturates: an absurd difference is a large number, not a panic.
    let span = in_words(ahead.abs() as u64);
    if ahead > 0.0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// `45s`, `12m`, `2h`, `1h30m`, `3d`: to the nearest minute below a day, so a silence of two
/// hours set a moment ago ends "in 2h", not "in 1h59m".
fn in_words(secs: u64) -> String {
    if secs < 60 {
        return format!("{secs}s");
    }
    let minutes = secs.saturating_add(30) / 60;
    match minutes {
        0..=59 => format!("{minutes}m"),
        60..=1439 => match minutes % 60 {
            0 => format!("{}h", minutes / 60),
            rest => format!("{}h{rest:02}m", minutes / 60),
        },
        _ => format!("{}d", minutes / 1440),
    }
}

/// When `main` began, for the timing spans of the debug log (`-vv`).
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Marks the start of the process; the first call wins.
pub fn mark_start() {
    STARTED.get_or_init(std::time::Instant::now);
}

/// One step of a command's timing, logged at debug level with the time since `main` began:
/// `timing: checks ran at 12.3 ms`. Reading the debug log of a run (`-vv`) shows where a
/// command spends its time; what it costs when debug is off is one level comparison.
pub fn span(step: &str) {
    if log::log_enabled!(log::Level::Debug) {
        let at = STARTED.get().map(|s| s.elapsed()).unwrap_or_default();
        log::debug!("timing: {step} at {:.1} ms", at.as_secs_f64() * 1000.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_float_is_shown_as_a_time_between_1970_and_9999() {
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(LAST_TIME), "9999-12-31T23:59:59Z");
        for far in [LAST_TIME + 1.0, 1e15, 1e300, f64::MAX, f64::INFINITY] {
            assert_eq!(rfc3339(far), "9999-12-31T23:59:59Z", "{far}");
        }
        for before in [-1.0, -1e300, f64::NEG_INFINITY, f64::NAN] {
            assert_eq!(rfc3339(before), "1970-01-01T00:00:00Z", "{before}");
        }
        assert_eq!(relative(f64::NEG_INFINITY, f64::INFINITY), "2932897d ago");
        assert_eq!(relative(f64::INFINITY, 0.0), "in 2932897d");
        assert_eq!(relative(f64::NAN, 0.0), "now");
    }

    #[test]
    fn past_times_read_as_ago_and_future_ones_as_in() {
        let now = 1_000_000.0;
        assert_eq!(relative(now, now), "now");
        assert_eq!(relative(now - 45.0, now), "45s ago");
        assert_eq!(relative(now - 240.0, now), "4m ago");
        assert_eq!(relative(now - 5400.0, now), "1h30m ago");
        assert_eq!(relative(now - 3.0 * 86_400.0, now), "3d ago");
        // A silence ending in two hours is not "0s ago".
        assert_eq!(relative(now + 7200.0, now), "in 2h");
        assert_eq!(relative(now + 7199.0, now), "in 2h");
        assert_eq!(relative(now + 7140.0, now), "in 1h59m");
        assert_eq!(relative(now + 80.0, now), "in 1m");
    }

    #[test]
    fn seconds_become_a_duration_saturating() {
        assert_eq!(duration_from_secs(-5.0), std::time::Duration::ZERO);
        assert_eq!(duration_from_secs(f64::NAN), std::time::Duration::ZERO);
        assert_eq!(duration_from_secs(1e300), std::time::Duration::MAX);
        assert_eq!(duration_from_secs(1.5).as_millis(), 1500);
    }

    #[test]
    fn rfc3339_takes_utc_and_numeric_offsets_within_its_years() {
        let utc = parse_rfc3339("2026-11-27T18:00:00Z").unwrap();
        assert_eq!(parse_rfc3339("2026-11-27T19:00:00+01:00"), Some(utc));
        assert_eq!(parse_rfc3339("2026-11-27T13:30:00-04:30"), Some(utc));
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59Z"), Some(LAST_TIME));
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59-23:59"), Some(LAST_TIME));
        for bad in [
            "tomorrow",
            "2026-11-27",
            "2026-11-27T19:00:00+25:00",
            "2026-11-27T19:00:00+1:000",
            "10000-01-01T00:00:00Z",
            "",
            "é+01:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
