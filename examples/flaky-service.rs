//! A small HTTP service that can be broken on purpose, for orchestrator's tests and demo.
//!
//! flaky-service --port N [--pidfile F] [--logdir D] [--state D] [--daemon]
//!
//! - `GET /health` answers 200 `ok`; 500 while `STATE/unhealthy` exists; never answers while
//!   `STATE/hang` exists.
//! - `GET /crash` exits at once, leaving the pid file behind (a stale pid file).
//! - `GET /fill?mb=N` writes N MiB into the log directory.
//! - `GET /log?line=TEXT` appends TEXT to `LOGDIR/service.log`.
//! - At start it refuses to run while a stale pid file exists, and exits when the port is taken;
//!   both reasons go to stderr and `LOGDIR/service.log`. `STATE/die-after-ms` makes it exit that
//!   many milliseconds after starting.
//! - `--daemon` starts the service detached and returns once it answers (exit 0) or has died
//!   (exit 1 with its reason), as `systemctl start` would.
//! - SIGTERM removes the pid file and exits cleanly.

#[path = "common/detach.rs"]
mod detach;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static TERMINATE: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigterm(_: libc::c_int) {
    TERMINATE.store(true, Ordering::SeqCst);
}

#[derive(Clone, Default)]
struct Options {
    port: u16,
    pidfile: Option<PathBuf>,
    logdir: Option<PathBuf>,
    state: Option<PathBuf>,
    daemon: bool,
}

fn parse_args() -> Options {
    let mut options = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| fail(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--port" => {
                options.port = value()
                    .parse()
                    .unwrap_or_else(|_| fail("--port needs a number"))
            }
            "--pidfile" => options.pidfile = Some(value().into()),
            "--logdir" => options.logdir = Some(value().into()),
            "--state" => options.state = Some(value().into()),
            "--daemon" => options.daemon = true,
            other => fail(&format!("unknown argument {other}")),
        }
    }
    if options.port == 0 {
        fail("--port is required");
    }
    options
}

fn fail(message: &str) -> ! {
    eprintln!("flaky-service: {message}");
    std::process::exit(2)
}

fn log_line(options: &Options, line: &str) {
    if let Some(dir) = &options.logdir {
        let _ = std::fs::create_dir_all(dir);
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("service.log"))
        {
            let _ = writeln!(file, "{line}");
        }
    }
}

fn die(options: &Options, message: &str) -> ! {
    eprintln!("flaky-service: {message}");
    log_line(options, &format!("error: {message}"));
    std::process::exit(1)
}

/// Alive and not a zombie: an unreaped dead process must not block a restart.
fn pid_alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.trim_start().chars().next());
    pid > 0 && !stat.is_empty() && state != Some(Some('Z'))
}

fn main() {
    let options = parse_args();
    if options.daemon {
        daemonize(&options);
    }
    serve(options);
}

fn daemonize(options: &Options) -> ! {
    detach::start_detached("flaky-service", options.port, std::io::stderr())
}

fn serve(options: Options) {
    if let Some(pidfile) = &options.pidfile {
        if let Ok(text) = std::fs::read_to_string(pidfile) {
            let pid: i32 = text.trim().parse().unwrap_or(0);
            if pid_alive(pid) {
                die(
                    &options,
                    &format!("already running as pid {pid} ({})", pidfile.display()),
                );
            }
            die(
                &options,
                &format!(
                    "refusing to start: stale pid file {} (pid {pid} is not running)",
                    pidfile.display()
                ),
            );
        }
    }
    let listener = TcpListener::bind(("127.0.0.1", options.port))
        .unwrap_or_else(|e| die(&options, &format!("bind 127.0.0.1:{}: {e}", options.port)));
    if let Some(pidfile) = &options.pidfile {
        std::fs::write(pidfile, format!("{}\n", std::process::id()))
            .unwrap_or_else(|e| die(&options, &e.to_string()));
    }
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGTERM, on_sigterm as *const () as libc::sighandler_t);
    }
    log_line(&options, &format!("started on port {}", options.port));
    schedule_death(&options);
    listener
        .set_nonblocking(true)
        .unwrap_or_else(|e| die(&options, &e.to_string()));
    while !TERMINATE.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let options = options.clone();
                std::thread::spawn(move || handle(stream, &options));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    if let Some(pidfile) = &options.pidfile {
        let _ = std::fs::remove_file(pidfile);
    }
    log_line(&options, "stopped by SIGTERM");
}

fn schedule_death(options: &Options) {
    let Some(state) = &options.state else { return };
    let Ok(text) = std::fs::read_to_string(state.join("die-after-ms")) else {
        return;
    };
    let ms: u64 = text.trim().parse().unwrap_or(0);
    let options = options.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(ms));
        log_line(&options, "dying as told by die-after-ms");
        std::process::exit(1);
    });
}

fn state_flag(options: &Options, name: &str) -> bool {
    options
        .state
        .as_ref()
        .map(|s| s.join(name).exists())
        .unwrap_or(false)
}

fn handle(mut stream: TcpStream, options: &Options) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buffer = [0u8; 8192];
    let mut request = Vec::new();
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < buffer.len() {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let target = request.split_whitespace().nth(1).unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (status, body) = route(path, query, options);
    let reply = format!(
        "HTTP/1.0 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(reply.as_bytes());
}

fn route(path: &str, query: &str, options: &Options) -> (&'static str, String) {
    match path {
        "/health" if state_flag(options, "hang") => {
            std::thread::sleep(Duration::from_secs(3600));
            ("200 OK", "late\n".into())
        }
        "/health" if state_flag(options, "unhealthy") => {
            ("500 Internal Server Error", "unhealthy\n".into())
        }
        "/health" => ("200 OK", "ok\n".into()),
        "/crash" => {
            log_line(options, "crashing as asked");
            std::process::exit(3);
        }
        "/fill" => {
            let mb: usize = param(query, "mb").and_then(|v| v.parse().ok()).unwrap_or(1);
            fill(options, mb)
        }
        "/log" => {
            let line = param(query, "line").unwrap_or_default();
            log_line(options, &line);
            ("200 OK", "logged\n".into())
        }
        _ => ("404 Not Found", "not found\n".into()),
    }
}

fn fill(options: &Options, mb: usize) -> (&'static str, String) {
    let Some(dir) = &options.logdir else {
        return ("400 Bad Request", "no --logdir\n".into());
    };
    let name = dir.join(format!(
        "fill-{}.log",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let chunk = vec![b'x'; 1024 * 1024];
    let result = std::fs::File::create(&name)
        .and_then(|mut f| (0..mb).try_for_each(|_| f.write_all(&chunk)));
    match result {
        Ok(()) => ("200 OK", format!("wrote {mb} MiB to {}\n", name.display())),
        Err(e) => {
            log_line(options, &format!("write {}: {e}", name.display()));
            ("507 Insufficient Storage", format!("{e}\n"))
        }
    }
}

/// One decoded query parameter (`+` and `%XX` as a browser encodes them).
fn param(query: &str, key: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}
