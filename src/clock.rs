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
