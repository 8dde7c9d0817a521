//! `config discover` against real daemons: Debian's nginx and redis-server run from their
//! binaries in a temporary directory. What it prints passes `config check`, its checks pass on
//! the host it was made on, and it writes nothing but stdout.

mod common;
use common::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const NGINX: Need = Need::Program("/usr/sbin/nginx", "nginx");
const REDIS: Need = Need::Program("/usr/bin/redis-server", "redis-server");
const STRACE: Need = Need::Program("/usr/bin/strace", "strace");

/// A daemon started from its binary, killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(argv: &[&str], dir: &Path) -> Daemon {
    let child = Command::new(argv[0])
        .args(&argv[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    Daemon(child)
}

fn nginx(dir: &Path, port: u16) -> Daemon {
    let d = dir.display();
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    std::fs::write(
        dir.join("nginx.conf"),
        format!(
            "daemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n\
             access_log {d}/access.log;\nclient_body_temp_path {d}/tmp/body;\nproxy_temp_path {d}/tmp/proxy;\n\
             fastcgi_temp_path {d}/tmp/fastcgi;\nuwsgi_temp_path {d}/tmp/uwsgi;\nscgi_temp_path {d}/tmp/scgi;\n\
             server {{ listen 127.0.0.1:{port}; location / {{ return 200 \"ok\\n\"; }} }}\n}}\n"
        ),
    )
    .unwrap();
    let conf = dir.join("nginx.conf");
    let log = dir.join("error.log");
    let daemon = start(
        &[
            "/usr/sbin/nginx",
            "-e",
            log.to_str().unwrap(),
            "-p",
            dir.to_str().unwrap(),
            "-c",
            conf.to_str().unwrap(),
        ],
        dir,
    );
    wait_until("nginx answers", Duration::from_secs(20), || {
        ureq_get(&format!("http://127.0.0.1:{port}/")).is_some_and(|(s, _)| s == 200)
            && dir.join("nginx.pid").exists()
    });
    daemon
}

fn redis(dir: &Path, port: u16) -> Daemon {
    let d = dir.display();
    std::fs::write(
        dir.join("redis.conf"),
        format!(
            "port {port}\nbind 127.0.0.1\ndaemonize no\npidfile {d}/redis.pid\nlogfile {d}/redis.log\n\
             dir {d}\nsave \"\"\nappendonly no\n"
        ),
    )
    .unwrap();
    let daemon = start(
        &[
            "/usr/bin/redis-server",
            dir.join("redis.conf").to_str().unwrap(),
        ],
        dir,
    );
    wait_until("redis listens", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && dir.join("redis.pid").exists()
    });
    daemon
}

/// The discovered check whose `field` is `value`.
fn check_with<'a>(config: &'a toml::Value, field: &str, value: &str) -> &'a toml::Value {
    config["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c.get(field).and_then(|v| v.as_str()) == Some(value))
        .unwrap_or_else(|| panic!("no check with {field} = {value:?}"))
}

fn strings(value: &toml::Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn discover_finds_nginx_and_redis_with_their_pid_files_logs_and_config_test() {
    require_system!(
        "discover_finds_nginx_and_redis_with_their_pid_files_logs_and_config_test",
        Need::Root,
        NGINX,
        REDIS,
        STRACE,
    );
    let host = Host::new();
    let web_dir = host.path("web");
    let cache_dir = host.path("cache");
    std::fs::create_dir_all(&web_dir).unwrap();
    std::fs::create_dir_all(&cache_dir).unwrap();
    let (web_port, cache_port) = (free_port(), free_port());
    let _nginx = nginx(&web_dir, web_port);
    let _redis = redis(&cache_dir, cache_port);

    // Under strace: every file it opens for writing, creates, renames or removes is seen.
    let trace = host.path("trace");
    let empty = host.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let run = Run::from(
        Command::new("/usr/bin/strace")
            .args(["-f", "-qq", "-o"])
            .arg(&trace)
            .args([
                "-e",
                "trace=open,openat,openat2,creat,mkdir,mkdirat,unlink,unlinkat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,truncate,ftruncate",
            ])
            .arg(orchestrator_bin())
            .args(["config", "discover"])
            .current_dir(&empty)
            .env("HOME", &empty)
            .output()
            .unwrap(),
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    let trace = std::fs::read_to_string(&trace).unwrap();
    assert!(
        trace.contains("/proc/"),
        "strace saw no file opened: {trace}"
    );
    let writes: Vec<&str> = trace
        .lines()
        .filter(|l| {
            let opens = l.contains("open");
            let writes = l.contains("O_WRONLY") || l.contains("O_RDWR") || l.contains("O_CREAT");
            (opens && writes && !l.contains("\"/dev/null\""))
                || [
                    "creat(",
                    "mkdir",
                    "unlink",
                    "rename",
                    "link(",
                    "linkat(",
                    "symlink",
                    "truncate(",
                ]
                .iter()
                .any(|call| l.contains(call))
        })
        .collect();
    assert!(writes.is_empty(), "config discover wrote: {writes:#?}");
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);

    let text = run.stdout;
    let config: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let web_url = format!("http://127.0.0.1:{web_port}/");
    let web = check_with(&config, "url", &web_url);
    assert_eq!(web["kind"].as_str(), Some("http"));
    assert!(web.get("expect_status").is_none(), "it answers 200: {web}");
    let web_logs = strings(&web["logs"]);
    assert!(
        web_logs.contains(&web_dir.join("error.log").display().to_string()),
        "{web_logs:?}"
    );
    let service = web["service"].as_str().unwrap();
    let web_pid = check_with(
        &config,
        "pidfile",
        &web_dir.join("nginx.pid").display().to_string(),
    );
    assert_eq!(web_pid["service"].as_str(), Some(service));
    // The config test, as a comment until the key exists on this branch (issue 19 item 3).
    let test_line = text
        .lines()
        .find(|l| {
            l.starts_with("# config_test")
                && l.contains(&web_dir.join("nginx.conf").display().to_string())
        })
        .unwrap_or_else(|| panic!("no config test for our nginx:\n{text}"));
    assert_contains(test_line, "\"-t\"");
    assert_contains(test_line, "\"-p\"");

    let cache = check_with(&config, "address", &format!("127.0.0.1:{cache_port}"));
    assert_eq!(cache["kind"].as_str(), Some("tcp"));
    let cache_logs = strings(&cache["logs"]);
    assert!(
        cache_logs.contains(&cache_dir.join("redis.log").display().to_string()),
        "{cache_logs:?}"
    );
    check_with(
        &config,
        "pidfile",
        &cache_dir.join("redis.pid").display().to_string(),
    );

    // `config check` passes on it, and the checks for our two daemons pass on this host.
    host.write_config(&text);
    let checked = host.run(&["config", "check"]);
    assert_eq!(checked.status, 0, "{}\n{text}", checked.stderr);
    let scan = host.run(&["--json", "scan"]).ok().json();
    let ours = [
        web["name"].as_str().unwrap().to_string(),
        web_pid["name"].as_str().unwrap().to_string(),
        cache["name"].as_str().unwrap().to_string(),
    ];
    for line in scan["checks"].as_array().unwrap() {
        if ours.iter().any(|name| line["name"] == name.as_str()) {
            assert_eq!(line["status"], "ok", "{line}");
        }
    }
}

#[test]
fn discover_prints_a_config_that_config_check_accepts_on_any_host() {
    let host = Host::new();
    let run = host.run(&["config", "discover"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_contains(&run.stdout, "kind = \"disk\"");
    assert_contains(&run.stdout, "name = \"memory\"");
    host.write_config(&run.stdout);
    let checked = host.run(&["config", "check"]);
    assert_eq!(checked.status, 0, "{}\n{}", checked.stderr, run.stdout);
    assert!(
        !host.db_path().exists(),
        "discover or check created the database"
    );
}
