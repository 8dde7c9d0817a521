//! What reaches journald when systemd runs orchestrator: stderr named by `JOURNAL_STREAM`
//! gets sd-daemon `<N>` priority prefixes and no timestamp, a healthy cycle leaves one line,
//! an escalation is a warning, a config error is an error. Off the journal nothing changes.
//! The "journal" here is a plain file whose device and inode `JOURNAL_STREAM` names, as
//! systemd names its stream socket; tests/systemd.rs reads a real journal.

use crate::common::*;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};

/// A file that stands in for journald's stream, and the `DEV:INODE` systemd would name it by.
struct FakeJournal {
    file: File,
    stream: String,
}

impl FakeJournal {
    fn new() -> FakeJournal {
        let file = tempfile::tempfile().expect("tempfile");
        let meta = file.metadata().expect("fstat");
        let stream = format!("{}:{}", meta.dev(), meta.ino());
        FakeJournal { file, stream }
    }

    fn handle(&self) -> Stdio {
        Stdio::from(self.file.try_clone().expect("dup"))
    }

    fn text(&self) -> String {
        std::fs::read_to_string(format!("/proc/self/fd/{}", fd_of(&self.file))).expect("read")
    }
}

fn fd_of(file: &File) -> i32 {
    std::os::fd::AsRawFd::as_raw_fd(file)
}

/// The command as a unit runs it: the default log filter (no RUST_LOG), stdout and stderr
/// both the journal, `JOURNAL_STREAM` naming it.
fn as_a_unit(host: &Host, journal: &FakeJournal, args: &[&str]) -> i32 {
    let status = unit_command(host, args)
        .env("JOURNAL_STREAM", &journal.stream)
        .stdout(journal.handle())
        .stderr(journal.handle())
        .status()
        .expect("run orchestrator");
    status.code().unwrap_or(-1)
}

fn unit_command(host: &Host, args: &[&str]) -> Command {
    let mut command = host.command(args);
    command.env_remove("RUST_LOG").env_remove("JOURNAL_STREAM");
    command
}

fn healthy_config() -> String {
    let mut config = String::new();
    for name in ["hosts", "passwd", "group"] {
        config.push_str(&file_check(name, format!("/etc/{name}")));
        config.push('\n');
    }
    config
}

fn failing_config(host: &Host) -> String {
    file_check("nightly-backup", host.path("backup.tar").display())
}

/// Lines that carry a timestamp of their own, as env_logger's default format writes one.
fn stamped(text: &str) -> Vec<&str> {
    let stamp = regex::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}").unwrap();
    text.lines().filter(|line| stamp.is_match(line)).collect()
}

#[test]
fn in_the_journal_a_healthy_cycle_is_one_info_line_without_a_timestamp() {
    let host = Host::new();
    host.write_config(&healthy_config());
    // The first run creates the database (its migrations are news, logged once).
    host.run(&["cycle"]).ok();
    let journal = FakeJournal::new();
    assert_eq!(as_a_unit(&host, &journal, &["cycle"]), 0);
    assert_eq!(
        journal.text(),
        "<6>cycle: 3 checks, 3 ok; no incident\n",
        "a healthy cycle in the journal is one info line"
    );
}

#[test]
fn in_the_journal_the_unit_chain_of_a_healthy_host_leaves_one_line() {
    let host = Host::new();
    host.write_config(&healthy_config());
    host.run(&["scan"]).ok();
    let journal = FakeJournal::new();
    for phase in ["scan", "fix", "research", "consult", "escalate"] {
        assert_eq!(as_a_unit(&host, &journal, &[phase]), 0, "{phase}");
    }
    assert_eq!(journal.text(), "<6>scan: 3 checks, 3 ok; no incident\n");
}

#[test]
fn in_the_journal_an_escalation_is_a_warning_and_every_line_has_a_priority() {
    let host = Host::new();
    host.write_config(&failing_config(&host));
    let journal = FakeJournal::new();
    assert_eq!(as_a_unit(&host, &journal, &["cycle"]), 0);
    let text = journal.text();
    assert!(
        text.lines()
            .any(|l| l.starts_with("<4>incident 1 (nightly-backup) escalated: ")),
        "no warning for the escalation:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("<4>check nightly-backup: incident 1 Opened: ")),
        "no warning for the failing check:\n{text}"
    );
    assert!(
        text.lines().any(
            |l| l == "<6>cycle: 1 check, 0 ok, 1 failing (nightly-backup); incidents: 1 opened"
        ),
        "no summary line:\n{text}"
    );
    let unprefixed: Vec<&str> = text
        .lines()
        .filter(|l| !regex::Regex::new(r"^<[0-7]>").unwrap().is_match(l))
        .collect();
    assert!(
        unprefixed.is_empty(),
        "lines without a priority: {unprefixed:?}\n{text}"
    );
    assert!(
        stamped(&text).is_empty(),
        "timestamps in the journal:\n{text}"
    );
}

#[test]
fn in_the_journal_a_config_error_is_an_error_line_by_line() {
    let host = Host::new();
    host.write_config(
        "[[checks]]\nname = \"a\"\nkind = \"no-such-kind\"\n\n[cycle]\nsettle = \"soon\"\n",
    );
    let journal = FakeJournal::new();
    assert_eq!(as_a_unit(&host, &journal, &["scan"]), 2);
    let text = journal.text();
    assert!(
        text.starts_with("<3>orchestrator: invalid config:\n"),
        "{text}"
    );
    assert!(text.lines().count() >= 2, "{text}");
    assert!(
        text.lines().all(|l| l.starts_with("<3>")),
        "a config error line below err:\n{text}"
    );
}

#[test]
fn off_the_journal_lines_keep_their_timestamp_and_carry_no_prefix() {
    let other = FakeJournal::new();
    for journal_stream in [None, Some(other.stream.as_str()), Some("garbage")] {
        let host = Host::new();
        host.write_config(&failing_config(&host));
        let mut command = unit_command(&host, &["cycle"]);
        if let Some(value) = journal_stream {
            command.env("JOURNAL_STREAM", value);
        }
        let out = command.output().expect("run orchestrator");
        assert_eq!(out.status.code(), Some(0));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let warning = stderr
            .lines()
            .find(|l| l.contains("escalated"))
            .unwrap_or_else(|| panic!("{journal_stream:?}: no escalation line:\n{stderr}"));
        assert!(
            warning.starts_with('[') && warning.contains("WARN"),
            "{journal_stream:?}: {warning}"
        );
        assert_eq!(stamped(warning).len(), 1, "{journal_stream:?}: {warning}");
        assert!(
            !stderr.lines().any(|l| l.starts_with('<')),
            "{journal_stream:?}: a prefix off the journal:\n{stderr}"
        );
        // People read the table; the journal's summary line is not for them.
        assert!(stdout.contains("CHECK"), "{journal_stream:?}: {stdout}");
    }
}

#[test]
fn with_only_stderr_in_the_journal_the_table_still_goes_to_stdout() {
    let host = Host::new();
    host.write_config(&healthy_config());
    let journal = FakeJournal::new();
    let out = unit_command(&host, &["cycle"])
        .env("JOURNAL_STREAM", &journal.stream)
        .stderr(journal.handle())
        .output()
        .expect("run orchestrator");
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("CHECK") && stdout.contains("passwd"),
        "{stdout}"
    );
    // A new database: its migrations are logged, at info.
    let text = journal.text();
    assert!(text.starts_with("<6>database "), "{text}");
    assert!(text.lines().all(|l| l.starts_with("<6>")), "{text}");
}
