//! The one place that reads the wall clock. Times are stored as Unix seconds (f64) so that SQL
//! can compare and subtract them, and shown as RFC 3339.

use std::time::{SystemTime, UNIX_EPOCH};

pub type Timestamp = f64;

pub fn now() -> Timestamp {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

pub fn rfc3339(ts: Timestamp) -> String {
    let time = UNIX_EPOCH + std::time::Duration::from_secs_f64(ts.max(0.0));
    humantime::format_rfc3339_seconds(time).to_string()
}

/// A time as people read it from now: `3m ago`, or `in 2h` when it is still ahead (a silence's
/// end, a retry); `now` within a second either way.
pub fn relative(ts: Timestamp, now: Timestamp) -> String {
    let ahead = ts - now;
    if ahead.abs() < 1.0 || ahead.is_nan() {
        return "now".into();
    }
    // `as` saturates: a time in year 10000 is a very long span, not a panic.
    let span = span(ahead.abs() as u64);
    if ahead > 0.0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// `45s`, `12m`, `2h`, `1h30m`, `3d`: to the nearest minute below a day, so a silence of two
/// hours set a moment ago ends "in 2h", not "in 1h59m".
fn span(secs: u64) -> String {
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

#[cfg(test)]
mod tests {
    use super::relative;

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
        assert_eq!(
            relative(now + 8e12 * 86_400.0, now),
            format!("in {}d", (8e12 as u64))
        );
        assert_eq!(relative(f64::NAN, now), "now");
    }
}
