//! `orchestrator … | head`: a reader that goes away ends the printing quietly, as it ends any
//! Unix tool, with no panic and no exit status outside the documented table; an acting command
//! still finishes its work. Each command runs with its stdout a pipe whose reading end was
//! closed before it started, so its very first write meets EPIPE (`println!` would panic there:
//! exit 101). Output lost for another reason (`> /dev/full`) is an error, exit 1.

mod common;
use common::*;
use std::process::Stdio;

/// A missing file that a remedy creates (`fixed`), and one nothing fixes (escalated).
fn config(host: &Host) -> String {
    format!(
        "[cycle]\nsettle = \"10ms\"\n\
         [[checks]]\nname = \"backup\"\nkind = \"file\"\npath = \"{dir}/backup.tar\"\n\
         remedy = [{{ action = \"run\", argv = [\"/usr/bin/touch\", \"{dir}/backup.tar\"] }}]\n\
         {gone}",
        dir = host.dir.path().display(),
        gone = file_check("gone", host.path("gone.tar").display()),
    )
}

/// Runs the binary with stdout (and, with `stderr_too`, stderr) a pipe nobody reads any more.
fn with_closed_pipe(host: &Host, args: &[&str], stderr_too: bool) -> Run {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut command = host.command(args);
    let stderr = if stderr_too {
        Stdio::from(writer.try_clone().expect("dup the pipe"))
    } else {
        Stdio::piped()
    };
    command.stdout(writer).stderr(stderr);
    Run::from(command.output().expect("run orchestrator"))
}

#[track_caller]
fn assert_quiet_end(args: &[&str], run: &Run, status: i32) {
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("Broken pipe"),
        "{args:?} complained about the closed pipe:\n{}",
        run.stderr
    );
    assert_eq!(run.status, status, "{args:?}\n{}", run.stderr);
}

#[test]
fn every_command_that_prints_ends_quietly_when_its_reader_is_gone() {
    let host = Host::new();
    host.write_config(&config(&host));
    // The acting commands first: their work is done in full although nobody reads them.
    for args in [&["cycle"][..], &["--json", "cycle"]] {
        let run = with_closed_pipe(&host, args, false);
        assert_quiet_end(args, &run, 0);
    }
    assert!(host.path("backup.tar").exists(), "the remedy did not run");
    assert_eq!(
        host.query_text("SELECT GROUP_CONCAT(check_name || ' ' || status, ', ') FROM incidents"),
        "backup resolved, gone escalated"
    );
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM cycles WHERE finished_at IS NULL"),
        0,
        "a cycle was left unfinished"
    );
    host.run(&["silence", "add", "gone", "--for", "1h", "--note", "x"])
        .ok();
    let read_commands: &[&[&str]] = &[
        &["scan"],
        &["--json", "scan"],
        &["scan", "--exit-status"],
        &["incidents", "list"],
        &["--json", "incidents", "list"],
        &["incidents", "show", "2"],
        &["--json", "incidents", "show", "2"],
        &["metrics"],
        &["--json", "metrics"],
        &["metrics", "--prometheus"],
        &["silence", "list"],
        &["--json", "silence", "list"],
        &["patterns", "list"],
        &["--json", "patterns", "list"],
        &["patterns", "show", "1"],
        &["scan", "--check", "gone"],
        &["config", "default"],
        &["config", "check"],
        &["--json", "config", "check"],
        &["fix"],
        &["escalate"],
        &["--help"],
        &["incidents", "show", "--help"],
    ];
    for args in read_commands {
        let expected = if args.contains(&"--exit-status") {
            2
        } else {
            0
        };
        let run = with_closed_pipe(&host, args, false);
        assert_quiet_end(args, &run, expected);
        // Logs and warnings on the same closed pipe (`2>&1 | head`) end as quietly.
        let both = with_closed_pipe(&host, args, true);
        assert_eq!(both.status, expected, "{args:?} with 2>&1");
    }
    // A read command that fails still says its status from the table.
    let missing = with_closed_pipe(&host, &["incidents", "show", "99"], false);
    assert_quiet_end(&["incidents", "show", "99"], &missing, 3);
}

#[test]
fn a_reader_that_takes_a_few_lines_and_leaves_ends_the_command_quietly() {
    let host = Host::new();
    host.write_config(&config(&host));
    host.run(&["cycle"]).ok();
    // Like `| head -n 1`: one line read, then the pipe closed while the command still writes.
    let mut child = host
        .command(&["--json", "incidents", "show", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 1];
    std::io::Read::read_exact(&mut stdout, &mut first).expect("a first byte");
    drop(stdout);
    let output = child.wait_with_output().expect("wait");
    let run = Run::from(output);
    assert_quiet_end(&["--json", "incidents", "show", "2"], &run, 0);
}

#[test]
fn output_lost_for_another_reason_is_an_error() {
    let host = Host::new();
    host.write_config(&config(&host));
    host.run(&["cycle"]).ok();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let run = Run::from(
        host.command(&["incidents", "list"])
            .stdout(full)
            .output()
            .expect("run"),
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_contains(&run.stderr, "cannot write the output to stdout");
}
