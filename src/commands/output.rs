//! Printing for people and for scripts: aligned tables, and JSON documents that carry
//! `"version"` and whose times (`at`, `*_at`) are RFC 3339.
//!
//! Every line a command prints goes through [`write_out`] (the `outln!` and `out!` macros of
//! `commands`), never `println!`, which panics when its reader went away. A reader that closes
//! the pipe (`orchestrator incidents list | head`) ends the printing quietly, as it ends any
//! Unix tool: nothing more is written, and the command goes on to the end of its work (an
//! acting command finishes what it started; a read command has nothing left to do) and exits
//! with the status it would have had. SIGPIPE stays ignored, as Rust sets it: the dashboard
//! writes to sockets, and a cycle must not die halfway through its work because its reader
//! went away. Any other write error (a full disk under `> file`) is kept and makes the command
//! fail once it is done ([`finish`]), so lost output is never a silent success.

use crate::document::document;
use serde_json::Value;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The reader of stdout went away: nothing more is written there.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// A write to stdout failed for another reason than a closed reader.
static STDOUT_FAILED: Mutex<Option<String>> = Mutex::new(None);

/// Where a line goes.
#[derive(Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Writes `text` to the stream. On stdout, a closed reader (EPIPE) stops all further output
/// quietly; another error is kept for [`finish`]. On stderr, where errors and warnings go, a
/// failed write has nowhere left to be told and is dropped.
pub fn write_out(stream: Stream, text: std::fmt::Arguments) {
    match stream {
        Stream::Stderr => {
            let _ = std::io::stderr().lock().write_fmt(text);
        }
        Stream::Stdout => {
            if STDOUT_CLOSED.load(Ordering::Relaxed) {
                return;
            }
            let mut stdout = std::io::stdout().lock();
            if let Err(err) = stdout.write_fmt(text) {
                stopped(err);
            }
        }
    }
}

/// Sends what is buffered now (a line that does not end yet, like the progress of `cycle`).
pub fn flush() {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    if let Err(err) = std::io::stdout().lock().flush() {
        stopped(err);
    }
}

fn stopped(err: std::io::Error) {
    STDOUT_CLOSED.store(true, Ordering::Relaxed);
    if err.kind() != std::io::ErrorKind::BrokenPipe {
        let mut failed = STDOUT_FAILED.lock().unwrap_or_else(|e| e.into_inner());
        failed.get_or_insert_with(|| err.to_string());
    }
}

/// At the end of a command: the output is flushed, and an error other than a closed reader
/// (which is how `| head` ends, not a failure) is returned to fail the command.
pub fn finish() -> Result<(), String> {
    flush();
    let failed = STDOUT_FAILED.lock().unwrap_or_else(|e| e.into_inner());
    match failed.as_ref() {
        Some(err) => Err(format!("cannot write the output to stdout: {err}")),
        None => Ok(()),
    }
}

/// Prints one JSON document: `"version"` and the fields of `value` (an object), with every
/// time as RFC 3339 (`document::document`, which the dashboard's API writes too).
pub fn print_json(value: &Value) {
    let text = serde_json::to_string_pretty(&document(value)).unwrap_or_else(|_| "null".into());
    write_out(Stream::Stdout, format_args!("{text}\n"));
}

/// A plain aligned table; the last column is left ragged.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let columns = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    // Padded by hand: a format width over 65 535 (a long cell) panics in `format!`.
    let render = |cells: Vec<&str>| {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < cells.len() {
                let width = widths.get(i).copied().unwrap_or(0);
                let pad = width.saturating_sub(cell.chars().count()) + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        line.trim_end().to_string()
    };
    let mut out = vec![render(headers.to_vec())];
    for row in rows {
        out.push(render(row.iter().map(String::as_str).collect()));
    }
    out.join("\n")
}

/// Cuts a cell to `max` characters for a table.
pub fn cell(text: &str, max: usize) -> String {
    let first_line = text.lines().next().unwrap_or("");
    if first_line.chars().count() <= max {
        return first_line.to_string();
    }
    let cut: String = first_line.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_cell_of_any_length_is_padded() {
        let long = "n".repeat(70_000);
        let rows = vec![
            vec![long.clone(), "ok".into()],
            vec!["web".into(), "critical".into()],
        ];
        let printed = table(&["CHECK", "STATUS"], &rows);
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(
            lines[0],
            format!("CHECK{}STATUS", " ".repeat(70_000 - 5 + 2))
        );
        assert_eq!(lines[1], format!("{long}  ok"));
        assert_eq!(
            lines[2],
            format!("web{}critical", " ".repeat(70_000 - 3 + 2))
        );
    }

    #[test]
    fn times_become_rfc3339_and_every_document_has_a_version() {
        let document = document(&json!({
            "events": [{"at": 0.0, "kind": "opened"}],
            "incident": {"detected_at": 0.0, "phase": 1},
        }));
        assert_eq!(document["version"], 1);
        assert_eq!(document["events"][0]["at"], "1970-01-01T00:00:00Z");
        assert_eq!(document["incident"]["detected_at"], "1970-01-01T00:00:00Z");
        assert_eq!(document["incident"]["phase"], 1);
    }
}
