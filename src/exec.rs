//! The one module that starts processes. Every command gets a timeout, runs in its own process
//! group (so a timeout kills its children too), never goes through a shell, and has its output
//! captured into temporary files rather than pipes: a daemon that inherits stdout cannot make us
//! wait for an EOF that never comes, and a flood of output cannot grow our memory.

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

/// A command to run: argv, a deadline, what to feed it, and how much output to keep.
#[derive(Debug, Clone)]
pub struct CommandSpec {
    pub argv: Vec<String>,
    pub timeout: Duration,
    pub stdin: Option<Vec<u8>>,
    pub env: Vec<(String, OsString)>,
    /// Variables the command must not inherit (secrets meant for us alone).
    pub env_remove: Vec<String>,
    /// Bytes of stdout and of stderr kept; the rest is counted, not stored.
    pub keep_bytes: usize,
    /// A process that writes more than this is killed: its output is garbage by then.
    pub kill_after_bytes: u64,
}

impl CommandSpec {
    pub fn new(argv: Vec<String>, timeout: Duration) -> Self {
        CommandSpec {
            argv,
            timeout,
            stdin: None,
            env: Vec::new(),
            env_remove: Vec::new(),
            keep_bytes: 64 * 1024,
            kill_after_bytes: 64 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    Exited(i32),
    Signalled(i32),
    TimedOut,
    TooMuchOutput,
}

#[derive(Debug, Clone)]
pub struct CommandOutput {
    pub ending: Ending,
    pub stdout: String,
    pub stderr: String,
    /// Total bytes written to stdout, kept or not.
    pub stdout_bytes: u64,
    pub truncated: bool,
    pub elapsed: Duration,
}

impl CommandOutput {
    pub fn success(&self) -> bool {
        self.ending == Ending::Exited(0)
    }

    pub fn exit_code(&self) -> Option<i32> {
        match self.ending {
            Ending::Exited(code) => Some(code),
            _ => None,
        }
    }

    /// One line for logs and attempt records: how it ended.
    pub fn describe_ending(&self) -> String {
        match self.ending {
            Ending::Exited(code) => format!("exit status {code}"),
            Ending::Signalled(sig) => format!("killed by signal {sig}"),
            Ending::TimedOut => format!(
                "timed out after {:.1}s and was killed",
                self.elapsed.as_secs_f64()
            ),
            Ending::TooMuchOutput => "killed: it wrote too much output".to_string(),
        }
    }

    /// stdout and stderr together, for an attempt's recorded output.
    pub fn combined(&self) -> String {
        let mut text = self.stdout.clone();
        if !self.stderr.is_empty() {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&self.stderr);
        }
        if self.truncated {
            text.push_str("\n[output truncated]");
        }
        text
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("empty command")]
    Empty,
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("cannot capture the output of `{program}`: {source}")]
    Capture {
        program: String,
        source: std::io::Error,
    },
}

pub fn run(spec: &CommandSpec) -> Result<CommandOutput, ExecError> {
    let program = spec.argv.first().ok_or(ExecError::Empty)?.clone();
    let capture_err = |source| ExecError::Capture {
        program: program.clone(),
        source,
    };
    let mut stdout_file = tempfile::tempfile().map_err(capture_err)?;
    let mut stderr_file = tempfile::tempfile().map_err(capture_err)?;

    let mut expression = duct::cmd(&program, &spec.argv[1..])
        .stdout_file(stdout_file.try_clone().map_err(capture_err)?)
        .stderr_file(stderr_file.try_clone().map_err(capture_err)?)
        .unchecked()
        .before_spawn(|command| {
            // Own process group: a timeout kills the whole tree the command started.
            command.process_group(0);
            Ok(())
        });
    expression = match &spec.stdin {
        Some(bytes) => expression.stdin_bytes(bytes.clone()),
        None => expression.stdin_null(),
    };
    for (key, value) in &spec.env {
        expression = expression.env(key, value);
    }
    for key in &spec.env_remove {
        expression = expression.env_remove(key);
    }

    let started = Instant::now();
    let handle = expression.start().map_err(|source| ExecError::Spawn {
        program: program.clone(),
        source,
    })?;
    let pid = handle.pids().first().copied();
    let ending = wait_with_deadline(&handle, pid, spec, &stdout_file, &stderr_file, started);
    let elapsed = started.elapsed();

    let (stdout, stdout_bytes, cut_out) = read_bounded(&mut stdout_file, spec.keep_bytes);
    let (stderr, _, cut_err) = read_bounded(&mut stderr_file, spec.keep_bytes);
    Ok(CommandOutput {
        ending,
        stdout,
        stderr,
        stdout_bytes,
        truncated: cut_out || cut_err,
        elapsed,
    })
}

fn wait_with_deadline(
    handle: &duct::Handle,
    pid: Option<u32>,
    spec: &CommandSpec,
    stdout: &File,
    stderr: &File,
    started: Instant,
) -> Ending {
    let mut pause = Duration::from_millis(1);
    loop {
        match handle.try_wait() {
            Ok(Some(output)) => return ending_of(output.status),
            Ok(None) => {}
            Err(err) => {
                log::warn!("waiting for a child failed: {err}");
                return Ending::Signalled(0);
            }
        }
        let written = file_len(stdout) + file_len(stderr);
        let over_time = started.elapsed() >= spec.timeout;
        if over_time || written > spec.kill_after_bytes {
            kill_group(pid);
            let _ = handle.kill();
            let _ = handle.wait();
            return if over_time {
                Ending::TimedOut
            } else {
                Ending::TooMuchOutput
            };
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

fn ending_of(status: std::process::ExitStatus) -> Ending {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Ending::Exited(code),
        (None, Some(sig)) => Ending::Signalled(sig),
        (None, None) => Ending::Signalled(0),
    }
}

fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill(2) with a negative pid signals the process group the child leads.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

fn file_len(file: &File) -> u64 {
    file.metadata().map(|m| m.len()).unwrap_or(0)
}

/// Reads at most `keep` bytes, cut at a character boundary; returns the text, the total size
/// and whether it was cut.
fn read_bounded(file: &mut File, keep: usize) -> (String, u64, bool) {
    let total = file_len(file);
    let mut bytes = Vec::with_capacity(keep.min(total as usize));
    if file.seek(SeekFrom::Start(0)).is_ok() {
        let _ = file.take(keep as u64).read_to_end(&mut bytes);
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    (text, total, total > keep as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn captures_output_and_status() {
        let out = run(&CommandSpec::new(
            argv(&["sh", "-c", "echo hi; echo err >&2; exit 3"]),
            Duration::from_secs(5),
        ))
        .unwrap();
        assert_eq!(out.ending, Ending::Exited(3));
        assert_eq!(out.stdout, "hi\n");
        assert_eq!(out.stderr, "err\n");
    }

    #[test]
    fn kills_the_whole_group_at_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("child-survived");
        let script = format!("(sleep 1; touch {}) & sleep 30", marker.display());
        let out = run(&CommandSpec::new(
            argv(&["sh", "-c", &script]),
            Duration::from_millis(200),
        ))
        .unwrap();
        assert_eq!(out.ending, Ending::TimedOut);
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            !marker.exists(),
            "the background child outlived the timeout"
        );
    }

    #[test]
    fn bounds_kept_output() {
        let mut spec = CommandSpec::new(
            argv(&["head", "-c", "100000", "/dev/zero"]),
            Duration::from_secs(5),
        );
        spec.keep_bytes = 1000;
        let out = run(&spec).unwrap();
        assert_eq!(out.stdout.len(), 1000);
        assert_eq!(out.stdout_bytes, 100_000);
        assert!(out.truncated);
    }

    #[test]
    fn a_missing_program_is_an_error_not_a_panic() {
        let err = run(&CommandSpec::new(
            argv(&["/nonexistent/program"]),
            Duration::from_secs(1),
        ))
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/program"));
    }
}
