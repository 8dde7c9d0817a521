//! A small service that fails the way real daemons fail, in their words, for the runbook's
//! tests (tests/wordy.rs) and its bench (scripts/bench-runbook.sh).
//!
//! wordy-service --port N --log FILE [--pidfile F] [--data DIR] [--config F]
//!               [--wording nginx|postgres|redis|sshd|httpd|plain] [--stamp syslog|iso|journal|none]
//!               [--daemon] [--hold-port]
//!
//! At start it looks for the faults below, in this order, and refuses to run on the first it
//! finds, saying so in the chosen daemon's words on stderr and in the log file (which it keeps
//! open while it runs, as daemons do):
//! - a config file (`--config`) with a line that is not `key = value`;
//! - a pid file (`--pidfile`) naming a live pid (already running) or a dead one (stale);
//! - a data directory (`--data`) whose mode is not 0700, or a log file without owner write;
//! - a data directory where its state file cannot be written (a full disk);
//! - a port (`--port`) another process holds.
//!
//! Then it writes its pid file and answers `GET /health` with 200 until SIGTERM, which removes
//! the pid file. `--daemon` starts it detached and returns once it answers (exit 0) or has died
//! (exit 1, its error last), as a restart script would. `--hold-port` only holds the port and
//! never answers: a squatter.

#[path = "common/detach.rs"]
mod detach;

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

static TERMINATE: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigterm(_: libc::c_int) {
    TERMINATE.store(true, Ordering::SeqCst);
}

#[derive(Clone, Default)]
struct Options {
    port: u16,
    log: Option<PathBuf>,
    pidfile: Option<PathBuf>,
    data: Option<PathBuf>,
    config: Option<PathBuf>,
    wording: String,
    stamp: String,
    daemon: bool,
    hold_port: bool,
}

fn parse_args() -> Options {
    let mut options = Options {
        wording: "plain".into(),
        stamp: "iso".into(),
        ..Options::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--port" => options.port = value().parse().unwrap_or_else(|_| usage("bad --port")),
            "--log" => options.log = Some(value().into()),
            "--pidfile" => options.pidfile = Some(value().into()),
            "--data" => options.data = Some(value().into()),
            "--config" => options.config = Some(value().into()),
            "--wording" => options.wording = value(),
            "--stamp" => options.stamp = value(),
            "--daemon" => options.daemon = true,
            "--hold-port" => options.hold_port = true,
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if options.port == 0 {
        usage("--port is required");
    }
    options
}

fn usage(message: &str) -> ! {
    eprintln!("wordy-service: {message}");
    std::process::exit(2)
}

/// The log, opened once and kept open, as a daemon keeps its log.
struct Log {
    file: Option<File>,
    stamp: String,
}

impl Log {
    fn open(options: &Options) -> Log {
        let file = options
            .log
            .as_ref()
            .and_then(|path| OpenOptions::new().create(true).append(true).open(path).ok());
        Log {
            file,
            stamp: options.stamp.clone(),
        }
    }

    fn line(&mut self, text: &str) {
        let line = format!("{}{text}", prefix(&self.stamp));
        if let Some(file) = &mut self.file {
            let _ = writeln!(file, "{line}");
        }
        eprintln!("{line}");
    }

    fn refuse(&mut self, lines: &[String]) -> ! {
        for line in lines {
            self.line(line);
        }
        std::process::exit(1)
    }
}

/// A log line's timestamp in one of the styles daemons and journald use: each holds `HH:MM:SS`,
/// the minutes a careless port parser takes for a port.
fn prefix(stamp: &str) -> String {
    let now = SystemTime::now();
    let rfc = humantime::format_rfc3339_micros(now).to_string();
    let (date, time) = rfc
        .split_once('T')
        .unwrap_or(("1970-01-01", "00:00:00.000000Z"));
    let seconds = &time[..8];
    let micros = &time[9..15];
    let mut parts = date.split('-');
    let (_, month, day) = (parts.next(), parts.next(), parts.next());
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = month
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| months.get(m.wrapping_sub(1)))
        .unwrap_or(&"Jan");
    let day = day.unwrap_or("01");
    let pid = std::process::id();
    match stamp {
        "syslog" => format!("{month} {day} {seconds} testhost wordy[{pid}]: "),
        "journal" => format!("{month} {day} {seconds}.{micros} testhost wordy[{pid}]: "),
        "none" => String::new(),
        _ => format!("{date}T{seconds}+00:00 wordy[{pid}]: "),
    }
}

fn main() {
    let options = parse_args();
    if options.daemon {
        daemonize(&options);
    }
    if options.hold_port {
        hold_port(&options);
    }
    let mut log = Log::open(&options);
    check_config(&options, &mut log);
    check_pidfile(&options, &mut log);
    check_permissions(&options, &mut log);
    check_space(&options, &mut log);
    let listener = bind(&options, &mut log);
    serve(&options, &mut log, listener);
}

fn check_config(options: &Options, log: &mut Log) {
    let Some(path) = &options.config else { return };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let bad = text
        .lines()
        .enumerate()
        .map(|(at, l)| (at + 1, l.trim()))
        .find(|(_, l)| !l.is_empty() && !l.starts_with('#') && !l.contains('='));
    let Some((line, content)) = bad else { return };
    let key = content.split_whitespace().next().unwrap_or(content);
    let p = path.display();
    let lines = match options.wording.as_str() {
        "nginx" => vec![
            format!("[emerg] 812#812: unknown directive \"{key}\" in {p}:{line}"),
            format!("nginx: configuration file {p} test failed"),
        ],
        "sshd" => vec![
            format!("{p} line {line}: Bad configuration option: {key}"),
            format!("{p}: terminating, 1 bad configuration options"),
        ],
        "redis" => vec![
            "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***".into(),
            format!("Reading the configuration file, at line {line}"),
            format!(">>> '{content}'"),
            "Bad directive or wrong number of arguments".into(),
        ],
        "postgres" => vec![
            format!("LOG:  syntax error in file \"{p}\" line {line}, near token \"{key}\""),
            format!("FATAL:  configuration file \"{p}\" contains errors"),
        ],
        _ => vec![format!(
            "error: cannot parse {p} line {line}: expected key = value"
        )],
    };
    log.refuse(&lines)
}

fn check_pidfile(options: &Options, log: &mut Log) {
    let Some(path) = &options.pidfile else { return };
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let pid: i32 = text
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .parse()
        .unwrap_or(0);
    let p = path.display();
    let dir = path.parent().unwrap_or(Path::new("/")).display();
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    if pid_alive(pid) {
        log.refuse(&[format!("already running as pid {pid} ({p})")]);
    }
    let lines = match options.wording.as_str() {
        "postgres" => vec![
            format!("FATAL:  lock file \"{name}\" already exists"),
            format!(
                "HINT:  Is another postmaster (PID {pid}) running in data directory \"{dir}\"?"
            ),
        ],
        "httpd" => vec![format!("httpd (pid {pid}) already running")],
        "plain" => vec![format!(
            "pid file {p} exists, refusing to start (stale pid file?)"
        )],
        _ => vec![format!(
            "Another instance is already running (pid file {p}, pid {pid})"
        )],
    };
    log.refuse(&lines)
}

/// Alive and not a zombie.
fn pid_alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.trim_start().chars().next());
    pid > 0 && !stat.is_empty() && state != Some(Some('Z'))
}

/// Like PostgreSQL and OpenSSH, it checks modes itself (it may run as root, whom the kernel
/// never denies): the data directory must be 0700, the log file writable by its owner.
fn check_permissions(options: &Options, log: &mut Log) {
    if options.wording == "redis" {
        if let Some(path) = &options.log {
            if mode_of(path).is_some_and(|m| m & 0o200 == 0) {
                log.refuse(&["# Can't open the log file: Permission denied".into()]);
            }
        }
    }
    let Some(dir) = &options.data else { return };
    let Some(mode) = mode_of(dir) else { return };
    if mode == 0o700 {
        return;
    }
    let d = dir.display();
    let lines = match options.wording.as_str() {
        "nginx" => vec![format!(
            "[emerg] 812#812: open() \"{d}\" failed (13: Permission denied)"
        )],
        "postgres" => vec![
            format!("FATAL:  data directory \"{d}\" has invalid permissions"),
            "DETAIL:  Permissions should be u=rwx (0700) or u=rwx,g=rx (0750).".into(),
        ],
        "sshd" => vec![
            "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@".into(),
            format!("Permissions 0{mode:o} for '{d}' are too open."),
        ],
        _ => vec![format!("error: {d}: Permission denied")],
    };
    log.refuse(&lines)
}

fn mode_of(path: &Path) -> Option<u32> {
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

/// Writes 64 KiB of state into the data directory, as a database writes its journal.
fn check_space(options: &Options, log: &mut Log) {
    let Some(dir) = &options.data else { return };
    let path = dir.join("state.db");
    let result = File::create(&path)
        .and_then(|mut f| f.write_all(&[0u8; 64 * 1024]).and_then(|_| f.sync_all()));
    let Err(error) = result else { return };
    if error.raw_os_error() != Some(libc::ENOSPC) {
        log.refuse(&[format!("error: cannot write {}: {error}", path.display())]);
    }
    let _ = std::fs::remove_file(&path);
    let d = dir.display();
    let p = path.display();
    let pid = std::process::id();
    let lines = match options.wording.as_str() {
        "redis" => vec![format!(
            "# Failed opening the RDB file dump.rdb (in server root dir {d}) for saving: No space left on device"
        )],
        "postgres" => vec![format!(
            "PANIC:  could not write to file \"pg_wal/xlogtemp.{pid}\": No space left on device"
        )],
        "nginx" => vec![format!(
            "[crit] 812#812: *5 pwrite() \"{p}\" failed (28: No space left on device)"
        )],
        _ => vec![format!("error: write {p}: No space left on device")],
    };
    log.refuse(&lines)
}

fn bind(options: &Options, log: &mut Log) -> TcpListener {
    match TcpListener::bind(("127.0.0.1", options.port)) {
        Ok(listener) => listener,
        Err(_) => {
            let port = options.port;
            let lines = match options.wording.as_str() {
                "nginx" => vec![format!(
                    "[emerg] 812#812: bind() to 127.0.0.1:{port} failed (98: Address already in use)"
                )],
                "sshd" => vec![format!(
                    "error: Bind to port {port} on 127.0.0.1 failed: Address already in use."
                )],
                "redis" => vec![format!(
                    "# Warning: Could not create server TCP listening socket 127.0.0.1:{port}: bind: Address already in use"
                )],
                "postgres" => vec![
                    "LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use".into(),
                    format!("HINT:  Is another postmaster already running on port {port}? If not, wait a few seconds and retry."),
                ],
                _ => vec![format!("error: listen tcp 127.0.0.1:{port}: bind: address already in use")],
            };
            log.refuse(&lines)
        }
    }
}

fn serve(options: &Options, log: &mut Log, listener: TcpListener) {
    if let Some(pidfile) = &options.pidfile {
        if let Err(e) = std::fs::write(pidfile, format!("{}\n", std::process::id())) {
            log.refuse(&[format!("error: cannot write {}: {e}", pidfile.display())]);
        }
    }
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGTERM, on_sigterm as *const () as libc::sighandler_t);
    }
    log.line(&format!(
        "ready to accept connections on port {}",
        options.port
    ));
    let _ = listener.set_nonblocking(true);
    while !TERMINATE.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => answer(stream),
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    if let Some(pidfile) = &options.pidfile {
        let _ = std::fs::remove_file(pidfile);
    }
    log.line("received SIGTERM, exiting");
}

fn answer(mut stream: TcpStream) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buffer = [0u8; 2048];
    let _ = stream.read(&mut buffer);
    let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
}

/// A squatter: holds the port, never answers, until killed.
fn hold_port(options: &Options) -> ! {
    let _listener = TcpListener::bind(("127.0.0.1", options.port))
        .unwrap_or_else(|e| usage(&format!("cannot hold port {}: {e}", options.port)));
    println!("holding port {}", options.port);
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// Starts the service detached as an init script would, saying so first; its own last words
/// come last when it fails, where a restart script's output ends.
fn daemonize(options: &Options) -> ! {
    println!("Stopping wordy-service: not running");
    println!("Starting wordy-service on port {}", options.port);
    let _ = std::io::stdout().flush();
    detach::start_detached("wordy-service", options.port, std::io::stdout())
}
