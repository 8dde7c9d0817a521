//! The one module that starts processes. Every command gets a timeout, runs in its own process
//! group, never goes through a shell, and has its output captured into temporary files rather
//! than pipes: a daemon that inherits stdout cannot make us wait for an EOF that never comes, and
//! a flood of output cannot grow our memory.
//!
//! Every process a command starts belongs to its tree, even one that left the process group with
//! `setsid` or was orphaned (see `tree` for how it is found). When the command ends, its
//! [`Containment`] decides the tree's fate: checks and agents have it ended whether they exit or
//! time out; actions have it ended only on a timeout, since a remedy may start a daemon on
//! purpose. The direct child of every command also gets `PR_SET_PDEATHSIG(SIGKILL)`, so it does
//! not outlive orchestrator if orchestrator is killed. That is safe for an action that starts a
//! daemon: the death signal is not inherited across `fork`, so the daemon it forks stays. What
//! the direct child's own children do when orchestrator is killed is [`run_traced`]'s concern.

mod tree;

pub use tree::{become_subreaper, end_leftovers, Killed, Leader, Trace, MARKER_VARIABLE};

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What becomes of the processes a command started once the command itself has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Containment {
    /// Every process of the tree is killed when the command ends, however it ends. For checks
    /// and agents: they report, they do not leave anything running.
    Tree,
    /// The tree is killed when the command times out or floods its output; on a normal exit
    /// what it started keeps running. For actions: a remedy may legitimately start a daemon.
    OnTimeout,
}

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
    /// What happens to the processes it leaves behind; [`Containment::Tree`] unless the caller
    /// needs them to outlive it.
    pub contain: Containment,
    /// The working directory; orchestrator's own when `None`.
    pub cwd: Option<PathBuf>,
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
            contain: Containment::Tree,
            cwd: None,
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

// The cause is part of each message, so the fields are named `cause`: a field named `source`
// would also be reported as the cause, and `{:#}` would print it twice.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("empty command")]
    Empty,
    #[error("cannot start `{program}`: {cause}")]
    Spawn {
        program: String,
        cause: std::io::Error,
    },
    #[error("cannot capture the output of `{program}`: {cause}")]
    Capture {
        program: String,
        cause: std::io::Error,
    },
}

pub fn run(spec: &CommandSpec) -> Result<CommandOutput, ExecError> {
    run_traced(spec, &|_| {})
}

/// [`run`], telling `on_trace` what identifies the command's processes: once with the marker
/// before the command starts (so nothing it does is ever unrecorded), once more with its leader
/// when it runs, and `None` once it has ended and what it left was settled (what an action
/// left running then, it left on purpose). A caller that writes the trace down can have a later
/// run end what is left of the command if orchestrator is killed meanwhile ([`end_leftovers`]).
pub fn run_traced(
    spec: &CommandSpec,
    on_trace: &dyn Fn(Option<&Trace>),
) -> Result<CommandOutput, ExecError> {
    let program = spec.argv.first().ok_or(ExecError::Empty)?.clone();
    become_subreaper();
    tree::reap_adopted();
    let capture_err = |cause| ExecError::Capture {
        program: program.clone(),
        cause,
    };
    let mut stdout_file = tempfile::tempfile().map_err(capture_err)?;
    let mut stderr_file = tempfile::tempfile().map_err(capture_err)?;

    let contain = spec.contain;
    let parent = rustix::process::getpid();
    let mut expression = duct::cmd(&program, &spec.argv[1..])
        .stdout_file(stdout_file.try_clone().map_err(capture_err)?)
        .stderr_file(stderr_file.try_clone().map_err(capture_err)?)
        .unchecked()
        .before_spawn(move |command| {
            // Own process group: a timeout kills the group at once, before the tree sweep.
            command.process_group(0);
            // SAFETY: the closure makes only async-signal-safe system calls (prctl, getppid).
            unsafe { command.pre_exec(move || die_with_parent(parent)) };
            Ok(())
        });
    expression = match &spec.stdin {
        Some(bytes) => expression.stdin_bytes(bytes.clone()),
        None => expression.stdin_null(),
    };
    if let Some(dir) = &spec.cwd {
        expression = expression.dir(dir);
    }
    for key in inherited_secrets(spec) {
        expression = expression.env_remove(key);
    }
    for (key, value) in &spec.env {
        expression = expression.env(key, value);
    }
    for key in &spec.env_remove {
        expression = expression.env_remove(key);
    }
    // Set last, so no caller's variable can take the marker away.
    let marker = tree::new_marker();
    expression = expression.env(MARKER_VARIABLE, &marker);
    let trace = Trace::new(marker.clone());
    on_trace(Some(&trace));

    let started = Instant::now();
    let handle = expression.start().map_err(|cause| {
        on_trace(None);
        ExecError::Spawn {
            program: program.clone(),
            cause,
        }
    })?;
    let pid = handle.pids().first().copied();
    let mut tree = tree::Tree::new(marker, pid);
    on_trace(Some(&trace.with_leader(tree.leader())));
    let ending = wait_with_deadline(
        &handle,
        pid,
        &mut tree,
        spec,
        &stdout_file,
        &stderr_file,
        started,
    );
    // The command's own time, not the sweep's: a timeout reads "timed out after 0.5s".
    let elapsed = started.elapsed();
    settle_tree(&mut tree, contain, &ending, &program);
    on_trace(None);
    log::debug!(
        "`{program}` and what it left were settled {:?} after it ended",
        started.elapsed().saturating_sub(elapsed)
    );

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

/// systemd's handles meant for orchestrator's own process: its notify socket and watchdog
/// (a child could report it ready or alive), sockets it passes, and its credentials directory.
const SERVICE_HANDLES: &[&str] = &[
    "NOTIFY_SOCKET",
    "WATCHDOG_PID",
    "WATCHDOG_USEC",
    "LISTEN_FDS",
    "LISTEN_PID",
    "LISTEN_FDNAMES",
    "CREDENTIALS_DIRECTORY",
];

/// The variables of orchestrator's own environment no child inherits: every `ORCHESTRATOR_*`
/// (its settings and secrets, `ORCHESTRATOR_SMTP_PASSWORD` first) and systemd's handles for
/// its own service. Plugins, remedies, agent-proposed commands and agents alike get a scrubbed
/// environment; what the command's spec sets itself (an agent's `ORCHESTRATOR_CONTEXT`), and
/// the marker set after, it keeps.
fn inherited_secrets(spec: &CommandSpec) -> Vec<OsString> {
    std::env::vars_os()
        .map(|(key, _)| key)
        .filter(|key| {
            let name = key.to_string_lossy();
            (name.starts_with("ORCHESTRATOR_") || SERVICE_HANDLES.contains(&name.as_ref()))
                && !spec.env.iter().any(|(set, _)| set.as_str() == name)
        })
        .collect()
}

/// In the child, before exec: SIGKILL when orchestrator dies. The signal follows the thread that
/// forked, which is the thread that waits for this child until it ends, so it cannot fire early.
fn die_with_parent(parent: rustix::process::Pid) -> std::io::Result<()> {
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
    // orchestrator may have died before the signal was armed: then nobody would send it.
    if rustix::process::getppid() != Some(parent) {
        return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
    }
    Ok(())
}

/// Ends or releases what the command left behind, as its containment says.
fn settle_tree(tree: &mut tree::Tree, contain: Containment, ending: &Ending, program: &str) {
    let killed_by_us = matches!(ending, Ending::TimedOut | Ending::TooMuchOutput);
    if contain == Containment::OnTimeout && !killed_by_us {
        let left = tree.release();
        if left > 0 {
            log::info!("`{program}` left {left} process(es) running, as actions may");
        }
        return;
    }
    let killed = tree.end();
    if killed > 0 && !killed_by_us {
        log::warn!(
            "`{program}` left {killed} process(es) running after it exited; killed them \
             (a check or an agent may not leave processes behind)"
        );
    } else if killed > 0 {
        log::info!("killed {killed} more process(es) of `{program}` after it was stopped");
    }
}

fn wait_with_deadline(
    handle: &duct::Handle,
    pid: Option<u32>,
    tree: &mut tree::Tree,
    spec: &CommandSpec,
    stdout: &File,
    stderr: &File,
    started: Instant,
) -> Ending {
    let exited = pid.and_then(exit_notifier);
    let mut pause = Duration::from_millis(1);
    loop {
        tree.record();
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
        wait_for_exit(exited.as_ref(), pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// A pidfd of the command's direct child: readable once it has exited, so the wait ends at
/// the exit instead of at the next poll. Opened while the child cannot have been reaped yet
/// (only this thread waits for it), so the pid is still the child's. None before Linux 5.3.
fn exit_notifier(pid: u32) -> Option<std::os::fd::OwnedFd> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
}

/// Waits `pause`, or less if the child exits meanwhile.
fn wait_for_exit(exited: Option<&std::os::fd::OwnedFd>, pause: Duration) {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let Some(fd) = exited else {
        return std::thread::sleep(pause);
    };
    let timeout = Timespec {
        tv_sec: pause.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: pause.subsec_nanos().into(),
    };
    // An interrupted poll just ends this pause early; the caller looks again either way.
    let _ = poll(&mut [PollFd::new(fd, PollFlags::IN)], Some(&timeout));
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
        crate::sys::kill_group(pid);
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
    fn a_program_that_cannot_start_names_its_cause_once() {
        let err = run(&CommandSpec::new(
            argv(&["/nonexistent/program"]),
            Duration::from_secs(5),
        ))
        .unwrap_err();
        // As the commands print it: the whole chain, `{:#}`.
        let said = format!("{:#}", anyhow::Error::from(err));
        assert_eq!(said.matches("(os error 2)").count(), 1, "{said}");
        assert!(
            said.starts_with("cannot start `/nonexistent/program`"),
            "{said}"
        );
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
    fn the_trace_names_the_command_while_it_runs_and_is_cleared_after() {
        let seen = std::cell::RefCell::new(Vec::new());
        let note = |trace: Option<&Trace>| seen.borrow_mut().push(trace.cloned());
        let spec = CommandSpec::new(argv(&["true"]), Duration::from_secs(5));
        run_traced(&spec, &note).unwrap();
        let seen = seen.into_inner();
        assert_eq!(seen.len(), 3, "{seen:?}");
        let (before, running) = (seen[0].clone().unwrap(), seen[1].clone().unwrap());
        assert!(
            before.leader.is_none(),
            "the marker is written before the start"
        );
        assert_eq!(running.marker, before.marker);
        assert!(running.leader.is_some_and(|l| l.pid > 0 && l.start > 0));
        assert_eq!(seen[2], None, "an ended command is no longer traced");
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

    /// The pid a test command wrote into `file`, waiting (bounded) for it to appear.
    fn pid_in(file: &std::path::Path) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            if let Ok(pid) = text.trim().parse() {
                return pid;
            }
            assert!(
                Instant::now() < deadline,
                "{} never named a pid",
                file.display()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether `pid` exists at all (alive or a zombie nobody reaped).
    fn exists(pid: i32) -> bool {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    }

    fn contained(script: &str, timeout: Duration, contain: Containment) -> CommandOutput {
        let mut spec = CommandSpec::new(argv(&["sh", "-c", script]), timeout);
        spec.contain = contain;
        run(&spec).unwrap()
    }

    /// Runs `sh -c` with a `setsid` grandchild (started through `launcher`, which writes its pid
    /// to `{PIDFILE}` and sleeps) followed by `rest`; returns the command's ending and the
    /// grandchild's pid.
    fn with_setsid_grandchild(
        launcher: &str,
        rest: &str,
        timeout: Duration,
        contain: Containment,
    ) -> (Ending, i32) {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid").display().to_string();
        let script = format!(
            "setsid {launcher} sh -c 'echo $$ > {pidfile}; exec sleep 30' & {}",
            rest.replace("{PIDFILE}", &pidfile)
        );
        let out = contained(&script, timeout, contain);
        (out.ending, pid_in(std::path::Path::new(&pidfile)))
    }

    #[test]
    fn a_setsid_grandchild_is_ended_and_reaped_when_the_command_exits() {
        let (ending, pid) = with_setsid_grandchild(
            "",
            "while [ ! -s {PIDFILE} ]; do sleep 0.01; done",
            Duration::from_secs(5),
            Containment::Tree,
        );
        assert_eq!(ending, Ending::Exited(0));
        assert!(
            !exists(pid),
            "the setsid grandchild {pid} outlived its command"
        );
    }

    #[test]
    fn a_setsid_grandchild_is_ended_at_the_timeout() {
        let (ending, pid) = with_setsid_grandchild(
            "",
            "sleep 30",
            Duration::from_millis(300),
            Containment::Tree,
        );
        assert_eq!(ending, Ending::TimedOut);
        assert!(
            !exists(pid),
            "the setsid grandchild {pid} outlived the timeout"
        );
    }

    #[test]
    fn a_double_forked_setsid_descendant_is_ended_without_listing_the_host() {
        // The subshell forks the `setsid` grandchild and exits at once: the grandchild is an
        // orphan before any poll can see it under the command, so only the subreaper and the
        // marker lead the sweep to it, and the sweep looks at orchestrator's subtree only.
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid").display().to_string();
        let script = format!(
            "(setsid sh -c 'echo $$ > {pidfile}; exec sleep 30' &); \
             while [ ! -s {pidfile} ]; do sleep 0.01; done"
        );
        let walks = tree::host_walks_on_this_thread();
        let out = contained(&script, Duration::from_secs(5), Containment::Tree);
        let pid = pid_in(std::path::Path::new(&pidfile));
        assert_eq!(out.ending, Ending::Exited(0));
        assert!(
            !exists(pid),
            "the double-forked grandchild {pid} outlived its command"
        );
        assert_eq!(
            tree::host_walks_on_this_thread(),
            walks,
            "the sweep listed every process of the host"
        );
    }

    #[test]
    fn a_child_that_cleared_its_environment_is_still_ended() {
        // No marker to find it by: it is known because a poll saw it in the tree.
        let (ending, pid) = with_setsid_grandchild(
            "env -i",
            "sleep 0.3",
            Duration::from_secs(5),
            Containment::Tree,
        );
        assert_eq!(ending, Ending::Exited(0));
        assert!(
            !exists(pid),
            "the env-cleared grandchild {pid} outlived its command"
        );
    }

    #[test]
    fn an_action_may_leave_a_daemon_but_not_a_hung_tree() {
        let dir = tempfile::tempdir().unwrap();
        let daemon_pidfile = dir.path().join("daemon");
        let started = format!(
            "setsid sh -c 'echo $$ > {}; exec sleep 30' &",
            daemon_pidfile.display()
        );
        let out = contained(&started, Duration::from_secs(5), Containment::OnTimeout);
        assert_eq!(out.ending, Ending::Exited(0));
        let daemon = pid_in(&daemon_pidfile);
        std::thread::sleep(Duration::from_millis(200));
        let daemon_alive = crate::sys::pid_alive(daemon);

        let hung_pidfile = dir.path().join("hung");
        let hung = format!(
            "setsid sh -c 'echo $$ > {}; exec sleep 30' & sleep 30",
            hung_pidfile.display()
        );
        let out = contained(&hung, Duration::from_millis(300), Containment::OnTimeout);
        assert_eq!(out.ending, Ending::TimedOut);
        let hung = pid_in(&hung_pidfile);

        // Stop the daemon before asserting, so a failure leaves nothing behind.
        if let Some(daemon) = rustix::process::Pid::from_raw(daemon) {
            let _ = rustix::process::kill_process(daemon, rustix::process::Signal::KILL);
        }
        assert!(
            daemon_alive,
            "the daemon an action started did not survive its exit"
        );
        assert!(
            !exists(hung),
            "the tree of a hung action outlived its timeout"
        );
    }

    #[test]
    fn a_sweep_ends_only_the_tree_of_the_command_that_ended() {
        let dir = tempfile::tempdir().unwrap();
        let long = dir.path().join("long-lived");
        let short = dir.path().join("short-lived");
        // The long command's grandchild must still be running when the short one is swept.
        let long_script = format!(
            "setsid sh -c 'sleep 0.8; touch {}' & sleep 1.5",
            long.display()
        );
        let short_script = format!("setsid sh -c 'sleep 0.8; touch {}' &", short.display());
        std::thread::scope(|scope| {
            let first =
                scope.spawn(|| contained(&long_script, Duration::from_secs(5), Containment::Tree));
            std::thread::sleep(Duration::from_millis(100));
            contained(&short_script, Duration::from_secs(5), Containment::Tree);
            assert_eq!(first.join().unwrap().ending, Ending::Exited(0));
        });
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            long.exists(),
            "another command's sweep killed a process still running command"
        );
        assert!(
            !short.exists(),
            "the short command's grandchild outlived it"
        );
    }

    #[test]
    fn a_parent_cannot_act_while_its_tree_is_being_killed() {
        // Killed one by one, `sleep 1; touch` would run `touch` the moment `sleep` dies; the
        // tree is frozen first. Several at once, to load the machine as a scan does.
        let dir = tempfile::tempdir().unwrap();
        let scripts: Vec<String> = (0..8)
            .map(|i| {
                let pid = dir.path().join(format!("{i}.pid"));
                let acted = dir.path().join(format!("{i}.acted"));
                format!(
                    "setsid sh -c 'echo $$ > {p}; sleep 1; touch {a}; sleep 30' & \
                     while [ ! -s {p} ]; do sleep 0.01; done",
                    p = pid.display(),
                    a = acted.display()
                )
            })
            .collect();
        std::thread::scope(|scope| {
            for script in &scripts {
                scope.spawn(|| contained(script, Duration::from_secs(5), Containment::Tree));
            }
        });
        std::thread::sleep(Duration::from_millis(1300));
        let acted: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".acted"))
            .collect();
        assert!(acted.is_empty(), "grandchildren acted: {acted:?}");
    }

    #[test]
    fn the_death_signal_spares_a_command_fed_by_a_helper_thread() {
        // duct writes stdin from a thread of its own; the death signal follows the thread that
        // forked, which must be this one, which waits until the command is done.
        let handle = std::thread::spawn(|| {
            let mut spec = CommandSpec::new(
                argv(&["sh", "-c", "cat > /dev/null; sleep 0.3; echo done"]),
                Duration::from_secs(5),
            );
            spec.stdin = Some(b"question".to_vec());
            run(&spec).unwrap()
        });
        let out = handle.join().unwrap();
        assert_eq!(out.ending, Ending::Exited(0));
        assert_eq!(out.stdout, "done\n");
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
