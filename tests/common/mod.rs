//! The integration-test harness: a temporary host directory with a config and a database, the
//! real `orchestrator` binary, and the real `flaky-service` program to break and mend.
#![allow(dead_code)]

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

/// One finished run of the binary.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
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
        let mut command = Command::new(orchestrator_bin());
        command
            .arg("-c")
            .arg(self.config_path())
            .arg("--db")
            .arg(self.db_path())
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
        unsafe {
            libc::kill(pid, sig);
        }
    }
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

pub fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected to find {needle:?} in:\n{haystack}"
    );
}

pub fn file_exists(path: &Path) -> bool {
    path.exists()
}
