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

/// "3m ago"-style age for tables read by people.
pub fn age(ts: Timestamp, now: Timestamp) -> String {
    let secs = (now - ts).max(0.0) as u64;
    match secs {
        0..=59 => format!("{secs}s ago"),
        60..=3599 => format!("{}m ago", secs / 60),
        3600..=86_399 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86_400),
    }
}
