//! The integration-test harness: a temporary host directory with a config and a database, the
//! real `orchestrator` binary, and the real `flaky-service` program to break and mend.
#![allow(dead_code)]

mod scripted;
// Not every test binary that includes the harness uses it.
#[allow(unused_imports)]
pub use scripted::ScriptedSink;
pub mod pg;

use rusqlite::Connection;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub fn orchestrator_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_orchestrator"))
}

/// target/debug/examples/flaky-service, built on demand when a single test is run alone.
pub fn service_bin() -> PathBuf {
    let bin = orchestrator_bin();
    let path = bin
        .parent()
        .expect("bin dir")
        .join("examples/flaky-service");
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", "flaky-service"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo build --example flaky-service");
        assert!(status.success(), "building flaky-service failed");
    }
    path
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Polls `condition` until it holds or `limit` passes; panics with `what` on timeout.
pub fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if condition() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out after {limit:?} waiting until {what}");
}

/// Now as the database stores times: Unix seconds.
pub fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// One finished run of the binary.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Run {
        Run {
            status: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.status, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A temporary "host": a directory with the config, the database and whatever a test puts there.
pub struct Host {
    pub dir: tempfile::TempDir,
}

impl Host {
    pub fn new() -> Host {
        Host {
            dir: tempfile::Builder::new()
                .prefix("orch-test-")
                .tempdir()
                .expect("tempdir"),
        }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn config_path(&self) -> PathBuf {
        self.path("orchestrator.toml")
    }

    pub fn db_path(&self) -> PathBuf {
        self.path("state.db")
    }

    pub fn write_config(&self, text: &str) -> &Host {
        std::fs::write(self.config_path(), text).expect("write config");
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        self.command_with_db(&self.db_path(), args)
    }

    /// `orchestrator -c CONFIG --db DB ARGS…` with a database of the test's choosing.
    pub fn command_with_db(&self, db: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(orchestrator_bin());
        command
            .arg("-c")
            .arg(self.config_path())
            .arg("--db")
            .arg(db)
            .args(args)
            .env_remove("ORCHESTRATOR_CONFIG")
            .env_remove("ORCHESTRATOR_DB")
            .env("RUST_LOG", "info");
        command
    }

    /// Runs `orchestrator -c CONFIG --db DB ARGS…` and waits for it.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run orchestrator"))
    }

    pub fn db(&self) -> Connection {
        Connection::open(self.db_path()).expect("open db")
    }

    pub fn query_i64(&self, sql: &str) -> i64 {
        self.db()
            .query_row(sql, [], |row| row.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub fn query_text(&self, sql: &str) -> String {
        self.db()
            .query_row(sql, [], |row| row.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// A flaky-service instance: port, pid file, log and state directories under a host.
pub struct Service {
    pub port: u16,
    pub pidfile: PathBuf,
    pub logdir: PathBuf,
    pub state: PathBuf,
}

impl Service {
    pub fn new(host: &Host, name: &str) -> Service {
        let service = Service {
            port: free_port(),
            pidfile: host.path(&format!("{name}.pid")),
            logdir: host.path(&format!("{name}-log")),
            state: host.path(&format!("{name}-state")),
        };
        std::fs::create_dir_all(&service.logdir).expect("logdir");
        std::fs::create_dir_all(&service.state).expect("state dir");
        service
    }

    /// The argv that starts it detached and returns when it answers: what a remedy runs.
    pub fn start_argv(&self) -> Vec<String> {
        vec![
            service_bin().display().to_string(),
            "--daemon".into(),
            "--port".into(),
            self.port.to_string(),
            "--pidfile".into(),
            self.pidfile.display().to_string(),
            "--logdir".into(),
            self.logdir.display().to_string(),
            "--state".into(),
            self.state.display().to_string(),
        ]
    }

    /// The start argv as a TOML array, for configs.
    pub fn start_toml(&self) -> String {
        toml_array(&self.start_argv())
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/health", self.port)
    }

    #[track_caller]
    pub fn start(&self) {
        let argv = self.start_argv();
        let output = Command::new(&argv[0])
            .args(&argv[1..])
            .output()
            .expect("start flaky-service");
        assert!(
            output.status.success(),
            "flaky-service did not start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pub fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(&self.pidfile)
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    pub fn healthy(&self) -> bool {
        ureq_get(&self.url())
            .map(|(status, _)| status == 200)
            .unwrap_or(false)
    }

    /// SIGKILL: the service dies and leaves its pid file behind.
    pub fn kill(&self) {
        if let Some(pid) = self.pid() {
            signal(pid, libc::SIGKILL);
        }
        wait_until(
            "the killed service stops answering",
            Duration::from_secs(5),
            || !self.healthy(),
        );
    }

    /// Kill and remove the pid file: the service is simply down.
    pub fn crash_clean(&self) {
        self.kill();
        let _ = std::fs::remove_file(&self.pidfile);
    }

    pub fn set_flag(&self, name: &str, contents: &str) {
        std::fs::write(self.state.join(name), contents).expect("write state flag");
    }

    pub fn clear_flag(&self, name: &str) {
        let _ = std::fs::remove_file(self.state.join(name));
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            signal(pid, libc::SIGKILL);
        }
    }
}

pub fn signal(pid: i32, sig: i32) {
    if pid > 1 {
        // SAFETY: kill takes plain integers; a stale pid only makes it fail.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// The stand-in agent that keeps what it was given and prints a canned answer
/// (tests/agents/answer.sh).
pub fn answer_script() -> String {
    format!("{}/tests/agents/answer.sh", env!("CARGO_MANIFEST_DIR"))
}

/// Writes an executable (`0755`) shell script at `path`: `#!/bin/sh`, then `body`.
pub fn write_script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}"))
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// A `[[checks]]` table of kind `file`: critical while `path` is missing.
pub fn file_check(name: &str, path: impl std::fmt::Display) -> String {
    format!("[[checks]]\nname = \"{name}\"\nkind = \"file\"\npath = \"{path}\"\n")
}

pub fn toml_array(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// A tiny HTTP GET over a raw socket, so the harness needs no HTTP client.
pub fn ureq_get(url: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest
        .split_once('/')
        .map(|(a, p)| (a, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(authority).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    let status = reply.split_whitespace().nth(1)?.parse().ok()?;
    let body = reply
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

/// `config check --strict` passes on `config` as this host would run it: exit 0 where systemd
/// runs; where it does not (CI, containers), the only warnings are the ones saying so, about a
/// check of a systemd kind (tests/systemd.rs runs it strict on a real systemd).
#[track_caller]
pub fn assert_passes_strict(config: &Path) {
    let out = Command::new(orchestrator_bin())
        .arg("-c")
        .arg(config)
        .args(["--json", "config", "check", "--strict"])
        .env_remove("ORCHESTRATOR_CONFIG")
        .output()
        .expect("run orchestrator config check");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: {}",
            config.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("{}: {report}", config.display()))
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    let systemd = Path::new("/run/systemd/system").is_dir();
    let about_the_config: Vec<&&str> = warnings
        .iter()
        .filter(|w| systemd || !w.contains("needs systemd, which is not running on this host"))
        .collect();
    assert!(
        about_the_config.is_empty(),
        "config check --strict warns about {}: {about_the_config:?}",
        config.display()
    );
    let expected = if warnings.is_empty() { 0 } else { 2 };
    assert_eq!(
        out.status.code(),
        Some(expected),
        "{}: {report}",
        config.display()
    );
}

pub fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected to find {needle:?} in:\n{haystack}"
    );
}

/// A small tmpfs mounted for one test (root only), unmounted when dropped.
pub struct SmallDisk(pub PathBuf);

impl SmallDisk {
    pub fn mount(path: PathBuf, size: &str) -> SmallDisk {
        std::fs::create_dir_all(&path).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success(), "mounting a tmpfs needs root");
        SmallDisk(path)
    }

    /// Writes a filler file until the filesystem refuses the next byte (ENOSPC).
    pub fn fill(&self) {
        use std::io::Write;
        let mut filler = std::fs::File::create(self.0.join("filler")).expect("filler");
        for chunk in [65536, 4096, 1] {
            let bytes = vec![0u8; chunk];
            loop {
                match filler.write(&bytes) {
                    Ok(n) if n == chunk => continue,
                    Ok(_) => continue,
                    Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                    Err(e) => panic!("filling {}: {e}", self.0.display()),
                }
            }
        }
        let left = rustix::fs::statvfs(&self.0).expect("statvfs").f_bavail;
        assert_eq!(left, 0, "the disk should be full");
    }

    pub fn remount_read_only(&self) {
        let status = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success(), "remount read-only");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// A real SMTP server: Debian's aiosmtpd, storing mail in a Maildir. Started on demand.
pub struct SmtpSink {
    pub port: u16,
    pub maildir: PathBuf,
    child: Option<std::process::Child>,
}

impl SmtpSink {
    /// A sink on a free port, not started yet (so tests can see mail wait for it).
    pub fn new(host: &Host) -> SmtpSink {
        SmtpSink {
            port: free_port(),
            maildir: host.path("maildir"),
            child: None,
        }
    }

    pub fn start(&mut self) {
        // Debian's own interpreter: the python3 first on PATH may lack the package.
        let child = Command::new("/usr/bin/python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{}", self.port),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&self.maildir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start aiosmtpd (apt-get install python3-aiosmtpd)");
        self.child = Some(child);
        let port = self.port;
        wait_until("the SMTP server listens", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .flatten()
            .map(|e| {
                (
                    e.metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH),
                    e.path(),
                )
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| std::fs::read_to_string(p).unwrap_or_default())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A plain HTTP receiver standing for Alertmanager: answers 200 and keeps each POST body.
pub struct WebhookSink {
    pub port: u16,
    pub bodies: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl WebhookSink {
    pub fn start() -> WebhookSink {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut length = 0usize;
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                kept.lock().unwrap().push(format!(
                    "{} {}",
                    request_line.trim(),
                    String::from_utf8_lossy(&body)
                ));
                let _ = reader.get_mut().write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        WebhookSink { port, bodies }
    }

    pub fn received(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }
}

/// A real Alertmanager (Debian's prometheus-alertmanager) on a free loopback port, clustering
/// off, state in the host directory; stopped when dropped.
pub struct Alertmanager {
    pub port: u16,
    child: std::process::Child,
}

impl Alertmanager {
    pub fn start(host: &Host) -> Alertmanager {
        Alertmanager::start_with(host, None)
    }

    /// With `resolve_timeout` (e.g. "2s"): how long Alertmanager keeps an alert that has no
    /// `endsAt` and is not posted again (its default is 5m).
    pub fn start_with(host: &Host, resolve_timeout: Option<&str>) -> Alertmanager {
        let port = free_port();
        let config = host.path("alertmanager.yml");
        let global = resolve_timeout
            .map(|t| format!("global:\n  resolve_timeout: {t}\n"))
            .unwrap_or_default();
        std::fs::write(
            &config,
            format!("{global}route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n"),
        )
        .expect("write alertmanager.yml");
        let child = Command::new("/usr/bin/prometheus-alertmanager")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                host.path("alertmanager").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start prometheus-alertmanager (apt-get install prometheus-alertmanager)");
        let ready = format!("http://127.0.0.1:{port}/-/ready");
        wait_until("Alertmanager is ready", Duration::from_secs(20), || {
            matches!(ureq_get(&ready), Some((200, _)))
        });
        Alertmanager { port, child }
    }

    pub fn webhook_url(&self) -> String {
        format!("http://127.0.0.1:{}/api/v2/alerts", self.port)
    }

    /// The alerts Alertmanager holds as firing (resolved ones are not listed).
    pub fn active_alerts(&self) -> Vec<serde_json::Value> {
        let (status, body) = ureq_get(&self.webhook_url()).expect("GET /api/v2/alerts");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("Alertmanager answers JSON")
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `orchestrator serve` on a free loopback port, stopped when dropped.
pub struct Dashboard {
    pub port: u16,
    child: std::process::Child,
}

impl Dashboard {
    pub fn start(host: &Host) -> Dashboard {
        let port = free_port();
        let child = host
            .command(&["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start serve");
        wait_until("the dashboard answers", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Dashboard { port, child }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A one-time login link as root prints it (`serve --login-link`), that leads to the page
    /// at `next` once logged in.
    #[track_caller]
    pub fn login_link(&self, host: &Host, next: &str) -> String {
        let listen = format!("127.0.0.1:{}", self.port);
        let link = host
            .run(&["serve", "--listen", &listen, "--login-link"])
            .ok()
            .stdout
            .trim()
            .to_string();
        format!("{link}&next={next}")
    }

    /// Logs in as root does: `serve --login-link` prints a one-time link, and following it
    /// opens a session. Returns the session cookie as a `Cookie` header sends it.
    #[track_caller]
    pub fn login(&self, host: &Host) -> String {
        let link = self.login_link(host, "/");
        let reply = http_agent()
            .get(&link)
            .call()
            .unwrap_or_else(|e| panic!("GET {link}: {e}"));
        assert_eq!(reply.code(), 303, "the login link was refused");
        reply
            .header_text("Set-Cookie")
            .expect("a session cookie")
            .split(';')
            .next()
            .unwrap()
            .to_string()
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium (Debian's chromium) run once on `url` with `what` to do; its stdout.
fn chromium(what: &[&str], url: &str) -> Vec<u8> {
    let profile = tempfile::tempdir().expect("profile dir");
    let output = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .args(what)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .current_dir(profile.path())
        .output()
        .expect("run chromium (apt-get install chromium)");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Headless Chromium's serialised DOM of a page.
pub fn chromium_dom(url: &str) -> String {
    String::from_utf8_lossy(&chromium(&["--dump-dom"], url)).into_owned()
}

/// Headless Chromium's serialised DOM of a page laid out in a window `width` px wide.
pub fn chromium_dom_at(url: &str, width: u32) -> String {
    let size = format!("--window-size={width},900");
    String::from_utf8_lossy(&chromium(&["--dump-dom", &size], url)).into_owned()
}

/// A page as Chromium paints it, `width`×`height`, decoded to 8-bit RGB or RGBA pixels.
pub struct Screenshot {
    pub width: u32,
    pub height: u32,
    channels: usize,
    pixels: Vec<u8>,
}

impl Screenshot {
    pub fn take(url: &str, width: u32, height: u32, png: &Path) -> Screenshot {
        Screenshot::take_with(url, width, height, png, &[])
    }

    /// The same with more Chromium switches, e.g. `--blink-settings=preferredColorScheme=0`
    /// for a reader who prefers a dark scheme.
    pub fn take_with(url: &str, width: u32, height: u32, png: &Path, extra: &[&str]) -> Screenshot {
        let shot = format!("--screenshot={}", png.display());
        let size = format!("--window-size={width},{height}");
        let what: Vec<&str> = [shot.as_str(), size.as_str()]
            .into_iter()
            .chain(extra.iter().copied())
            .collect();
        chromium(&what, url);
        let file = std::fs::File::open(png).expect("chromium wrote the screenshot");
        let mut reader = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .expect("a PNG");
        let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut pixels).expect("decode the PNG");
        assert!(
            matches!(info.color_type, png::ColorType::Rgb | png::ColorType::Rgba)
                && info.bit_depth == png::BitDepth::Eight,
            "chromium writes 8-bit RGB(A), not {:?} {:?}",
            info.color_type,
            info.bit_depth
        );
        pixels.truncate(info.buffer_size());
        Screenshot {
            width: info.width,
            height: info.height,
            channels: info.color_type.samples(),
            pixels,
        }
    }

    /// How many pixels have exactly this colour ("#rrggbb").
    pub fn pixels_of(&self, hex: &str) -> usize {
        let rgb: Vec<u8> = (0..3)
            .map(|i| u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).expect("#rrggbb"))
            .collect();
        self.pixels
            .chunks_exact(self.channels)
            .filter(|p| p[..3] == rgb[..])
            .count()
    }
}

/// Mail as a reader sees it: quoted-printable soft line breaks joined and `=XX` decoded
/// (lettre picks quoted-printable for lines longer than 76 characters).
pub fn decode_quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The environment variable that turns the system tests on (`scripts/test.sh` sets it), as
/// cargo's own suite does with `CARGO_CONTAINER_TESTS`.
pub const SYSTEM_TESTS_VAR: &str = "ORCHESTRATOR_SYSTEM_TESTS";

/// What a system test needs beyond a plain `cargo test`: root, or a program from a Debian
/// package.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    Root,
    /// (path, the Debian package that provides it)
    Program(&'static str, &'static str),
    /// (a file the install leaves, the PyPI requirement scripts/test.sh installs into a venv
    /// under target/)
    PipPackage(&'static str, &'static str),
}

pub const CHROMIUM: Need = Need::Program("/usr/bin/chromium", "chromium");
pub const AIOSMTPD: Need = Need::Program(
    "/usr/lib/python3/dist-packages/aiosmtpd/__init__.py",
    "python3-aiosmtpd",
);
pub const ALERTMANAGER: Need = Need::Program(
    "/usr/bin/prometheus-alertmanager",
    "prometheus-alertmanager",
);
pub const PLUGINS: Need = Need::Program(
    "/usr/lib/nagios/plugins/check_tcp",
    "monitoring-plugins-basic",
);
pub const STRACE: Need = Need::Program("/usr/bin/strace", "strace");
pub const PYTHON: Need = Need::Program("/usr/bin/python3", "python3");
pub const SETPRIV: Need = Need::Program("/usr/bin/setpriv", "util-linux");
pub const NSPAWN: Need = Need::Program("/usr/bin/systemd-nspawn", "systemd-container");
pub const DEBOOTSTRAP: Need = Need::Program("/usr/sbin/debootstrap", "debootstrap");
/// The official MCP SDK for Python, the client tests/mcp.rs drives `orchestrator mcp` with;
/// scripts/test.sh installs it (pinned) into target/mcp-venv and leaves this marker.
pub const MCP_SDK: Need = Need::PipPackage(
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/mcp-venv/.installed-mcp==2.3.0"
    ),
    "mcp==2.3.0",
);

/// The Python of the venv holding the MCP SDK.
pub fn mcp_python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/mcp-venv/bin/python")
}

impl Need {
    fn missing(self) -> Option<String> {
        match self {
            // SAFETY: geteuid(2) has no preconditions.
            Need::Root if unsafe { libc::geteuid() } != 0 => Some("root".to_string()),
            Need::Program(path, package) if !Path::new(path).exists() => {
                Some(format!("{path} (apt-get install {package})"))
            }
            Need::PipPackage(marker, requirement) if !Path::new(marker).exists() => Some(format!(
                "{requirement} in target/mcp-venv (scripts/test.sh installs it with pip)"
            )),
            _ => None,
        }
    }
}

/// Whether a system test should run. Off (the default for a plain `cargo test`), it prints why
/// it skips and returns false; on (`ORCHESTRATOR_SYSTEM_TESTS=1`, set by `scripts/test.sh`), a
/// missing need fails the test instead of hiding it.
#[track_caller]
pub fn system_test(name: &str, needs: &[Need]) -> bool {
    let missing: Vec<String> = needs.iter().filter_map(|n| n.missing()).collect();
    let enabled = std::env::var_os(SYSTEM_TESTS_VAR).is_some_and(|v| v != "0" && !v.is_empty());
    if enabled {
        assert!(
            missing.is_empty(),
            "system test {name} needs {} (scripts/test.sh installs the packages)",
            missing.join(", ")
        );
        return true;
    }
    let needs: Vec<String> = needs
        .iter()
        .map(|n| match n {
            Need::Root => "root".to_string(),
            Need::Program(_, package) => package.to_string(),
            Need::PipPackage(_, requirement) => format!("{requirement} from PyPI"),
        })
        .collect();
    // Straight to the stream, not through `eprintln!`, which the test harness captures: a
    // skip must be seen.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped system test {name}: needs {}; run scripts/test.sh (sets {SYSTEM_TESTS_VAR}=1)",
        needs.join(", ")
    );
    false
}

/// The test host of scripts/systemd-testhost.sh boots from one root cached under target/:
/// the tests that boot it (`systemd`, `serve_abuse`) hold this while they do, one at a time,
/// whatever name their container has. (They ran in separate binaries, one after the other,
/// before the integration tests became one crate.)
pub fn one_testhost() -> std::sync::MutexGuard<'static, ()> {
    static ONE_TESTHOST: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE_TESTHOST
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub use crate::require_system;

/// Returns from the calling test unless system tests are on; see [`system_test`].
#[macro_export]
macro_rules! require_system {
    ($name:expr, $($need:expr),+ $(,)?) => {
        if !$crate::common::system_test($name, &[$($need),+]) {
            return;
        }
    };
}

/// Config edits in tests: `replace` that fails loudly when its text is not there exactly once,
/// so an edit can not silently do nothing.
pub trait ReplaceOnce {
    fn replace_once(&self, from: &str, to: &str) -> String;
}

impl ReplaceOnce for str {
    #[track_caller]
    fn replace_once(&self, from: &str, to: &str) -> String {
        let found = self.matches(from).count();
        assert_eq!(found, 1, "expected {from:?} once in:\n{self}");
        self.replacen(from, to, 1)
    }
}

/// An HTTP answer from the dashboard (ureq 3 hands back an `http::Response`).
pub type HttpReply = ureq::http::Response<ureq::Body>;

/// An HTTP client for dashboard tests: redirects are answers to look at, not to follow, and a
/// 4xx/5xx is an answer too, not an error.
pub fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into()
}

/// The CSRF token of the first form on a dashboard page.
#[track_caller]
pub fn csrf_of(page: &str) -> String {
    let field = "name=\"csrf\" value=\"";
    let start = page.find(field).expect("a CSRF field") + field.len();
    page[start..].split('"').next().unwrap().to_string()
}

/// Posts an HTML form from `(name, value)` pairs.
pub trait SendPairs {
    fn send_pairs(self, pairs: &[(&str, &str)]) -> Result<HttpReply, ureq::Error>;
}

impl SendPairs for ureq::RequestBuilder<ureq::typestate::WithBody> {
    fn send_pairs(self, pairs: &[(&str, &str)]) -> Result<HttpReply, ureq::Error> {
        self.send_form(pairs.iter().copied())
    }
}

/// What tests read of an answer.
pub trait ReplyText {
    fn code(&self) -> u16;
    fn header_text(&self, name: &str) -> Option<String>;
    fn text(self) -> String;
}

impl ReplyText for HttpReply {
    fn code(&self) -> u16 {
        self.status().as_u16()
    }

    fn header_text(&self, name: &str) -> Option<String> {
        self.headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    }

    fn text(self) -> String {
        self.into_body().read_to_string().unwrap_or_default()
    }
}
