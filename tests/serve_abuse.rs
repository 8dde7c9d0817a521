//! The dashboard under abuse: clients that announce a body and send none, thousands of idle
//! connections past the open-file limit, 64 MiB header lines, a listening socket that dies. The
//! victim each time is `/health` for a new client: it answers within a bound throughout, or the
//! process exits non-zero so its supervisor restarts it. Each test prints the median latency of
//! `/health` it saw (`cargo test --test integration serve_abuse:: -- --nocapture`).

use crate::common::*;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixDatagram;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a new client may wait for `/health` while the server is under attack.
const ANSWER_BOUND: Duration = Duration::from_secs(2);

/// `orchestrator serve` on a free loopback port with its stderr kept in a file.
struct Serve {
    port: u16,
    db: std::path::PathBuf,
    child: Child,
    stderr: std::path::PathBuf,
}

impl Serve {
    fn start(host: &Host, adjust: impl FnOnce(&mut Command)) -> Serve {
        host.write_config("[[checks]]\nname = \"memory\"\nkind = \"memory\"\n");
        // `/health` is ok only after a cycle finished.
        host.run(&["cycle"]).ok();
        let port = free_port();
        let stderr = host.path("serve.stderr");
        let mut command = host.command(&["serve", "--listen", &format!("127.0.0.1:{port}")]);
        command
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"));
        adjust(&mut command);
        let child = command.spawn().expect("start serve");
        let mut serve = Serve {
            port,
            db: host.db_path(),
            child,
            stderr,
        };
        wait_until(
            "the dashboard answers /health",
            Duration::from_secs(10),
            || {
                serve.assert_running();
                health(port).is_ok()
            },
        );
        serve
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    #[track_caller]
    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("try_wait") {
            panic!("serve exited ({status}): {}", self.stderr_text());
        }
    }

    fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// A field of /proc/PID/status in KiB (VmRSS, VmHWM).
    fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }

    fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// `/health` answered `attempts` times in a row, each within the bound; their latencies.
    #[track_caller]
    fn health_answers(&mut self, attempts: usize, during: &str) -> Vec<Duration> {
        (0..attempts)
            .map(|_| {
                self.assert_running();
                health(self.port).unwrap_or_else(|e| panic!("/health did not answer {during}: {e}"))
            })
            .collect()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// One `GET /health` from a new client; its latency if it answered 200 with status ok within
/// [`ANSWER_BOUND`].
fn health(port: u16) -> Result<Duration, String> {
    let start = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr(port), ANSWER_BOUND)
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(ANSWER_BOUND)).unwrap();
    stream.set_write_timeout(Some(ANSWER_BOUND)).unwrap();
    // The Host a browser on this machine sends: the dashboard answers no other without a token.
    let request =
        format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| format!("read after {:?}: {e}", start.elapsed()))?;
    let elapsed = start.elapsed();
    if !answer.starts_with("HTTP/1.1 200") || !answer.contains("\"status\":\"ok\"") {
        return Err(format!("unexpected answer: {answer:?}"));
    }
    if elapsed > ANSWER_BOUND {
        return Err(format!("answered only after {elapsed:?}"));
    }
    Ok(elapsed)
}

fn median(mut latencies: Vec<Duration>) -> Duration {
    latencies.sort();
    latencies[latencies.len() / 2]
}

fn report(what: &str, latencies: Vec<Duration>) {
    let n = latencies.len();
    eprintln!(
        "/health median latency {what}: {:?} (n={n})",
        median(latencies)
    );
}

#[test]
fn requests_that_announce_a_body_and_send_none_do_not_freeze_the_workers() {
    let host = Host::new();
    let mut serve = Serve::start(&host, |_| {});
    report("at rest", serve.health_answers(20, "at rest"));

    // Four times as many as there are workers; each promises a body and sends none. Small and
    // large announced bodies both: a server may buffer the one and hand the other to a worker.
    let silent_since = Instant::now();
    let mut silent: Vec<TcpStream> = [100, 60_000]
        .iter()
        .cycle()
        .take(16)
        .map(|length| {
            let mut stream = TcpStream::connect(addr(serve.port)).expect("connect");
            let head = format!(
                "POST /login HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: {length}\r\n\r\n",
                serve.port
            );
            stream.write_all(head.as_bytes()).expect("send head");
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    report(
        "with 16 body-less requests open",
        serve.health_answers(20, "while 16 requests wait for their bodies"),
    );

    // The server gives up on them at its read deadline and says why.
    let victim = &mut silent[0];
    victim
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut answer = String::new();
    let _ = victim.read_to_string(&mut answer);
    let waited = silent_since.elapsed();
    assert!(
        answer.starts_with("HTTP/1.1 408") && answer.contains("request timeout"),
        "a request that never sends its body is closed with 408, got {answer:?} after {waited:?}"
    );
    assert!(
        waited >= Duration::from_secs(9) && waited < Duration::from_secs(14),
        "the read deadline is 10 s, the connection was closed after {waited:?}"
    );
    serve.health_answers(3, "after the deadline");
}

/// The limit the server runs under; the test itself needs room for its 2 000 connections.
const SERVER_OPEN_FILES: u64 = 1024;
const IDLE_CONNECTIONS: usize = 2000;

fn limit_open_files_to(command: &mut Command, open_files: u64) {
    // SAFETY: the closure only calls setrlimit(2), which is async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            let limit = rustix::process::Rlimit {
                current: Some(open_files),
                maximum: Some(open_files),
            };
            rustix::process::setrlimit(rustix::process::Resource::Nofile, limit)
                .map_err(std::io::Error::from)
        });
    }
}

/// Fires bursts of `/health` until every worker has opened its read-only database connection
/// (one descriptor on the database file each), so that none needs a new descriptor later.
fn warm_up_the_workers(serve: &mut Serve, workers: usize) {
    let db = serve.db.clone();
    wait_until(
        "every worker has the database open",
        Duration::from_secs(5),
        || {
            let burst: Vec<_> = (0..workers)
                .map(|_| {
                    let port = serve.port;
                    std::thread::spawn(move || health(port))
                })
                .collect();
            for request in burst {
                let _ = request.join();
            }
            let open = std::fs::read_dir(format!("/proc/{}/fd", serve.pid()))
                .unwrap()
                .flatten()
                .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t == db))
                .count();
            open >= workers
        },
    );
}

#[test]
fn accepting_survives_running_out_of_descriptors() {
    const OPEN_FILES: u64 = 26;
    let host = Host::new();
    // Room for the process's own descriptors and about six connections: below the connection
    // cap (at least 8), so accept(2) itself fails with EMFILE.
    let mut serve = Serve::start(&host, |command| limit_open_files_to(command, OPEN_FILES));
    warm_up_the_workers(&mut serve, 4);
    let mut idle = Vec::new();
    let mut latencies = Vec::new();
    for round in 0..10 {
        for _ in 0..10 {
            if let Ok(stream) =
                TcpStream::connect_timeout(&addr(serve.port), Duration::from_secs(1))
            {
                idle.push(stream);
            }
        }
        latencies.extend(serve.health_answers(1, &format!("in round {round} past EMFILE")));
    }
    report("with descriptors exhausted by idle connections", latencies);
    let stderr = serve.stderr_text();
    assert!(
        stderr.contains("cannot accept (Too many open files"),
        "the server did run out of descriptors and said so: {stderr}"
    );
    assert_eq!(
        stderr.matches("cannot accept").count(),
        1,
        "the warning is not repeated for every connection: {stderr}"
    );
    assert!(serve.open_fds() <= OPEN_FILES as usize);
}

fn raise_own_open_files(needed: u64) {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|n| n < needed) {
        let raised = Rlimit {
            current: limit.maximum.map(|max| max.min(needed)),
            ..limit
        };
        setrlimit(Resource::Nofile, raised).expect("raise the test's open-file limit");
    }
    let now = getrlimit(Resource::Nofile).current;
    assert!(
        now.is_none_or(|n| n >= needed),
        "the test needs {needed} open files (ulimit -n), has {now:?}"
    );
}

#[test]
fn two_thousand_idle_connections_under_ulimit_1024_leave_health_answering() {
    raise_own_open_files(IDLE_CONNECTIONS as u64 + 200);
    let host = Host::new();
    let mut serve = Serve::start(&host, |command| {
        limit_open_files_to(command, SERVER_OPEN_FILES)
    });
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", serve.pid())).unwrap();
    assert!(
        limits
            .lines()
            .any(|l| l.starts_with("Max open files") && l.contains(" 1024 ")),
        "the server runs under ulimit -n 1024:\n{limits}"
    );

    let started = Instant::now();
    let mut idle = Vec::with_capacity(IDLE_CONNECTIONS);
    let mut latencies = Vec::new();
    let mut most_fds = 0;
    while idle.len() < IDLE_CONNECTIONS {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "opening the idle connections took too long"
        );
        // A refused connection is the server's right; the test counts only what it holds.
        if let Ok(stream) = TcpStream::connect_timeout(&addr(serve.port), Duration::from_secs(1)) {
            idle.push(stream);
        }
        if idle.len() % 100 == 0 {
            latencies.extend(serve.health_answers(1, &format!("with {} idle", idle.len())));
            most_fds = most_fds.max(serve.open_fds());
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    latencies.extend(serve.health_answers(10, "with 2000 idle connections opened"));
    most_fds = most_fds.max(serve.open_fds());
    report("while 2000 idle connections are opened", latencies);

    // Bounded: the server holds its cap, not 2 000, and closed the oldest to make room.
    assert!(
        most_fds < 400,
        "the server held {most_fds} descriptors; its connection cap is 256"
    );
    let closed = idle.iter().filter(|s| closed_by_peer(s)).count();
    eprintln!("server descriptors at most {most_fds}; {closed} idle connections closed by it");
    assert!(
        closed >= IDLE_CONNECTIONS - 400,
        "only {closed} of {IDLE_CONNECTIONS} idle connections were closed by the server"
    );
    serve.assert_running();
}

/// End of file or a reset: closed. Nothing to read yet: still open.
fn closed_by_peer(mut stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    !matches!(stream.read(&mut [0u8; 1]),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

const HUGE_HEADER: usize = 64 << 20;

/// Sends a request whose one header line is 64 MiB; returns the bytes the server took before
/// it refused, and what it answered.
fn send_huge_header(port: u16) -> (usize, String, Duration) {
    let start = Instant::now();
    let mut stream = TcpStream::connect(addr(port)).expect("connect");
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut sent = 0;
    let head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ";
    let chunk = vec![b'a'; 1 << 20];
    if stream.write_all(head).is_ok() {
        while sent < HUGE_HEADER {
            match stream.write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    (
        sent,
        String::from_utf8_lossy(&answer).into_owned(),
        start.elapsed(),
    )
}

#[test]
fn four_64_mib_header_lines_are_refused_quickly_and_cost_no_memory() {
    let host = Host::new();
    let mut serve = Serve::start(&host, |_| {});
    let before = serve.memory_kib("VmRSS");
    let port = serve.port;
    // Four attackers, each sending one 64 MiB header line after another for a while.
    let attack_until = Instant::now() + Duration::from_millis(1500);
    let attackers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut attempts = vec![send_huge_header(port)];
                while Instant::now() < attack_until {
                    attempts.push(send_huge_header(port));
                }
                attempts
            })
        })
        .collect();
    let mut latencies = Vec::new();
    while Instant::now() < attack_until {
        latencies.extend(serve.health_answers(1, "while 64 MiB headers arrive"));
        std::thread::sleep(Duration::from_millis(50));
    }
    let attempts: Vec<_> = attackers
        .into_iter()
        .flat_map(|a| a.join().expect("attacker thread"))
        .collect();
    eprintln!("{} huge headers sent", attempts.len());
    for (sent, answer, took) in attempts {
        assert!(
            sent < HUGE_HEADER,
            "the server took all {sent} bytes of a 64 MiB header instead of refusing"
        );
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
            "a huge header is refused with 431 or a closed connection, got {answer:?}"
        );
        assert!(took < Duration::from_secs(5), "refusal took {took:?}");
    }
    report("while four 64 MiB headers are sent", latencies);
    let peak = serve.memory_kib("VmHWM");
    eprintln!("resident before {before} KiB, peak {peak} KiB");
    assert!(
        peak < before + 20 * 1024,
        "resident memory rose from {before} KiB to a peak of {peak} KiB"
    );

    // A header just over the cap, sent whole: the refusal names its reason.
    let mut stream = TcpStream::connect(addr(port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let request = format!(
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: {}\r\n\r\n",
        "a".repeat(17 * 1024)
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 431") && answer.contains("request header fields too large"),
        "got {answer:?}"
    );
    serve.health_answers(3, "after the huge headers");
}

#[test]
fn an_oversized_body_is_refused_with_a_413_the_client_can_read() {
    let host = Host::new();
    let mut serve = Serve::start(&host, |_| {});
    for _ in 0..5 {
        let mut stream = TcpStream::connect(addr(serve.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let body = "note=".to_string() + &"x".repeat(1 << 20);
        let request = format!(
            "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        // The whole body goes out (the server reads and drops it) before the answer is read.
        stream
            .write_all(request.as_bytes())
            .expect("the server takes the refused body instead of resetting the connection");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the answer");
        assert!(
            answer.starts_with("HTTP/1.1 413") && answer.contains("request body too large"),
            "{answer:?}"
        );
    }
    serve.health_answers(1, "after refused bodies");
}

/// The descriptor number of the server's listening socket, found through /proc.
fn listening_fd(pid: u32, port: u16) -> i32 {
    let table = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap();
    let local = format!(":{port:04X}");
    let inode = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f[1].ends_with(&local) && f[3] == "0A")
        .map(|f| f[9].to_string())
        .expect("the listening socket in /proc/PID/net/tcp");
    let target = format!("socket:[{inode}]");
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .find(|e| std::fs::read_link(e.path()).is_ok_and(|t| t.as_os_str() == target.as_str()))
        .and_then(|e| e.file_name().to_str()?.parse().ok())
        .expect("the listening socket's descriptor")
}

#[test]
fn a_dead_listener_makes_the_process_exit_non_zero() {
    let host = Host::new();
    let mut serve = Serve::start(&host, |_| {});
    // Take a duplicate of the server's listening socket (the test is its parent, which may)
    // and shut it down: the same socket, so its accept(2) now fails for good.
    let fd = listening_fd(serve.pid(), serve.port);
    let pid = rustix::process::Pid::from_raw(serve.pid() as i32).unwrap();
    let pidfd =
        rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).expect("pidfd_open");
    let listener =
        rustix::process::pidfd_getfd(&pidfd, fd, rustix::process::PidfdGetfdFlags::empty())
            .expect("pidfd_getfd");
    TcpStream::from(listener)
        .shutdown(std::net::Shutdown::Both)
        .expect("shut the listener down");

    let mut status = None;
    wait_until("serve exits", Duration::from_secs(5), || {
        status = serve.child.try_wait().unwrap();
        status.is_some()
    });
    let status = status.unwrap();
    assert!(
        !status.success() && status.code().is_some(),
        "serve exits with an error code when its listener dies, not {status}"
    );
    let stderr = serve.stderr_text();
    assert!(
        stderr.contains("stopped") && stderr.contains("Invalid argument"),
        "the exit names its reason: {stderr}"
    );
}

#[test]
fn systemd_hears_ready_and_then_watchdog_pings() {
    let host = Host::new();
    let socket_path = host.path("notify");
    let systemd = UnixDatagram::bind(&socket_path).expect("bind the notify socket");
    systemd
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _serve = Serve::start(&host, |command| {
        command
            .env("NOTIFY_SOCKET", &socket_path)
            .env("WATCHDOG_USEC", "200000");
    });
    let mut buf = [0u8; 64];
    let mut next = || {
        let n = systemd.recv(&mut buf).expect("a notification within 5 s");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert_eq!(next(), "READY=1");
    let start = Instant::now();
    for _ in 0..3 {
        assert_eq!(next(), "WATCHDOG=1");
    }
    // Every 100 ms (half of WATCHDOG_USEC) while the loop turns, idle or not.
    assert!(start.elapsed() < Duration::from_secs(2));
}

/// A real systemd (Debian's, booted in systemd-nspawn by scripts/systemd-testhost.sh, the root
/// shared with tests/systemd.rs and cached under target/); shut down when dropped.
struct Systemd;

const CONTAINER: &str = "orchserve";

fn testhost(args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/systemd-testhost.sh"))
        .args(args)
        .env("NAME", CONTAINER)
        .output()
        .expect("run systemd-testhost.sh")
}

fn testhost_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/systemd-testhost/rootfs")
}

impl Systemd {
    fn boot() -> Systemd {
        // A container left by a killed earlier run would block this one.
        let _ = testhost(&["down"]);
        let out = testhost(&["up"]);
        assert!(
            out.status.success(),
            "booting systemd failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Systemd
    }

    /// A command inside, as root: its exit code and stdout.
    fn run(&self, argv: &[&str]) -> (i32, String) {
        let mut args = vec!["exec"];
        args.extend_from_slice(argv);
        let out = testhost(&args);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        )
    }

    fn show(&self, property: &str) -> String {
        let (_, value) = self.run(&[
            "systemctl",
            "show",
            "--value",
            "-p",
            property,
            "orchestrator-dashboard.service",
        ]);
        value
    }

    /// The body of `/health`, also when it answers 503 (no cycle has run in the container).
    fn health(&self) -> String {
        let fetch = "import urllib.request as u, urllib.error as e\ntry: r = u.urlopen('http://127.0.0.1:8888/health', timeout=2)\nexcept e.HTTPError as err: r = err\nprint(r.read().decode())";
        self.run(&["python3", "-c", fetch]).1
    }
}

impl Drop for Systemd {
    fn drop(&mut self) {
        let _ = testhost(&["down"]);
    }
}

/// Installs into the cached root, with a drop-in that makes the watchdog quick to see.
fn install_the_dashboard_unit() {
    let root = testhost_root();
    let _ = std::fs::remove_dir_all(root.join("var/lib/orchestrator"));
    let install = Command::new("bash")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh"))
        .args(["--root", root.to_str().unwrap()])
        .args(["--binary", orchestrator_bin().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "install.sh into the container failed: {}",
        String::from_utf8_lossy(&install.stderr)
    );
    let drop_in = root.join("etc/systemd/system/orchestrator-dashboard.service.d");
    std::fs::create_dir_all(&drop_in).unwrap();
    std::fs::write(
        drop_in.join("test.conf"),
        "[Service]\nWatchdogSec=2s\nTimeoutAbortSec=1s\nRestartSec=1s\n",
    )
    .unwrap();
}

fn remove_the_drop_in() {
    let _ = std::fs::remove_dir_all(
        testhost_root().join("etc/systemd/system/orchestrator-dashboard.service.d"),
    );
}

#[test]
fn under_systemd_the_dashboard_is_ready_watched_and_restarted_when_frozen() {
    require_system!(
        "under_systemd_the_dashboard_is_ready_watched_and_restarted_when_frozen",
        Need::Root,
        NSPAWN,
        DEBOOTSTRAP
    );
    let _one = one_testhost();
    // The root must exist before it can be prepared: the first `up` builds it (debootstrap).
    if !testhost_root().join("lib/systemd/systemd").exists() {
        drop(Systemd::boot());
    }
    install_the_dashboard_unit();
    let systemd = Systemd::boot();
    // Type=notify: `start` returns only once the dashboard said READY=1.
    let (code, _) = systemd.run(&["systemctl", "start", "orchestrator-dashboard.service"]);
    let journal = || {
        systemd
            .run(&["journalctl", "-u", "orchestrator-dashboard", "--no-pager"])
            .1
    };
    assert_eq!(code, 0, "the unit did not start:\n{}", journal());
    assert_eq!(systemd.show("ActiveState"), "active");
    assert!(
        systemd.health().contains("\"database\":true"),
        "{}",
        journal()
    );
    let first = systemd.show("MainPID");

    // Freeze it: no more WATCHDOG=1, so systemd kills it and starts a new one.
    let (code, _) = systemd.run(&["kill", "-STOP", &first]);
    assert_eq!(code, 0);
    wait_until(
        "systemd restarts the frozen dashboard",
        Duration::from_secs(20),
        || {
            let pid = systemd.show("MainPID");
            systemd.show("ActiveState") == "active" && pid != first && pid != "0"
        },
    );
    assert!(
        systemd.health().contains("\"database\":true"),
        "{}",
        journal()
    );
    let log = journal();
    assert!(log.contains("Watchdog timeout"), "{log}");
    drop(systemd);
    remove_the_drop_in();
}
