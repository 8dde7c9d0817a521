//! The files real daemons leave, read and kept as they are: Debian's nginx, redis-server,
//! PostgreSQL 15 and OpenSSH's sshd run from their binaries in a temporary directory (no
//! systemd), each writing its own pid file; then Redis's disk filled with a rotated log beside
//! its live log and its `dump.rdb`. (A systemd `PIDFile=` is read on a real systemd in
//! tests/systemd.rs.)

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

const NGINX: Need = Need::Program("/usr/sbin/nginx", "nginx");
const REDIS: Need = Need::Program("/usr/bin/redis-server", "redis-server");
const REDIS_CLI: Need = Need::Program("/usr/bin/redis-cli", "redis-tools");
const POSTGRES: Need = Need::Program("/usr/lib/postgresql/15/bin/postgres", "postgresql");
const SSHD: Need = Need::Program("/usr/sbin/sshd", "openssh-server");
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[track_caller]
fn run_ok(command: &mut Command) -> String {
    let output = command.output().expect("run");
    assert!(
        output.status.success(),
        "{command:?}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The pid on the first line of a daemon's pid file, read by the test on its own.
fn first_line_pid(pidfile: &Path) -> Option<i32> {
    std::fs::read_to_string(pidfile)
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

fn wait_for_pid_file(daemon: &str, pidfile: &Path) -> i32 {
    wait_until(
        &format!("{daemon} writes {}", pidfile.display()),
        Duration::from_secs(30),
        || first_line_pid(pidfile).is_some(),
    );
    first_line_pid(pidfile).unwrap()
}

fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// A daemon started by the test; stopped (SIGTERM, or SIGINT for PostgreSQL's fast shutdown)
/// when dropped, by the pid in its pid file.
struct Daemon {
    pidfile: PathBuf,
    stop_signal: i32,
    /// A daemon that does not detach is our child: reaped here.
    child: Option<Child>,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(pid) = first_line_pid(&self.pidfile) {
            signal(pid, self.stop_signal);
        }
        if let Some(child) = &mut self.child {
            let _ = child.wait();
        }
    }
}

fn start_nginx(dir: &Path, port: u16) -> Daemon {
    let conf = dir.join("nginx.conf");
    let pidfile = dir.join("nginx.pid");
    let temp: Vec<String> = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
        .iter()
        .map(|t| format!("{t}_temp_path {};", dir.join(t).display()))
        .collect();
    std::fs::write(
        &conf,
        format!(
            "pid {pid};\nerror_log {dir}/nginx-error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  {temp}\n  server {{ listen 127.0.0.1:{port}; location / {{ return 200 \"ok\\n\"; }} }}\n}}\n",
            pid = pidfile.display(),
            dir = dir.display(),
            temp = temp.join(" "),
        ),
    )
    .unwrap();
    run_ok(
        Command::new("/usr/sbin/nginx")
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("nginx-error.log")),
    );
    wait_for_pid_file("nginx", &pidfile);
    Daemon {
        pidfile,
        stop_signal: libc::SIGTERM,
        child: None,
    }
}

/// redis-server with its configuration in `conf` (written by the caller), detached.
fn start_redis(conf: &Path, pidfile: &Path) -> Daemon {
    run_ok(Command::new("/usr/bin/redis-server").arg(conf));
    wait_for_pid_file("redis-server", pidfile);
    Daemon {
        pidfile: pidfile.to_path_buf(),
        stop_signal: libc::SIGTERM,
        child: None,
    }
}

fn redis_conf(dir: &Path, data: &Path, port: u16) -> PathBuf {
    let conf = dir.join("redis.conf");
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbind 127.0.0.1\ndaemonize yes\npidfile {pid}\nlogfile {data}/redis-server.log\ndir {data}\nsave \"\"\nappendonly no\n",
            pid = dir.join("redis-server.pid").display(),
            data = data.display(),
        ),
    )
    .unwrap();
    conf
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    run_ok(
        Command::new("/usr/bin/redis-cli")
            .args(["-p", &port.to_string()])
            .args(args),
    )
    .trim()
    .to_string()
}

fn start_sshd(dir: &Path, port: u16) -> Daemon {
    let key = dir.join("ssh_host_ed25519_key");
    run_ok(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", ""])
            .arg("-f")
            .arg(&key),
    );
    // The privilege separation directory a packaged sshd's unit creates.
    std::fs::create_dir_all("/run/sshd").unwrap();
    let conf = dir.join("sshd_config");
    let pidfile = dir.join("sshd.pid");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nUsePAM no\n",
            key.display(),
            pidfile.display()
        ),
    )
    .unwrap();
    let child = Command::new("/usr/sbin/sshd")
        .arg("-D")
        .arg("-f")
        .arg(&conf)
        .arg("-E")
        .arg(dir.join("sshd.log"))
        .stdin(Stdio::null())
        .spawn()
        .expect("start sshd");
    wait_for_pid_file("sshd", &pidfile);
    Daemon {
        pidfile,
        stop_signal: libc::SIGTERM,
        child: Some(child),
    }
}

/// PostgreSQL refuses to run as root: `initdb` and `postgres` run as the package's `postgres`
/// user, in a directory of its own under `dir` (which must be searchable by it).
fn start_postgres(dir: &Path, port: u16) -> Daemon {
    let home = dir.join("pg");
    std::fs::create_dir(&home).unwrap();
    let status = Command::new("chown")
        .arg("postgres:postgres")
        .arg(&home)
        .status()
        .unwrap();
    assert!(status.success(), "chown postgres");
    let data = home.join("data");
    let as_postgres = |program: &str| {
        let mut command = Command::new("setpriv");
        command
            .args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
                &format!("{PG_BIN}/{program}"),
            ])
            .env("LANG", "C")
            .env_remove("LC_ALL");
        command
    };
    run_ok(
        as_postgres("initdb")
            .args(["--no-sync", "-A", "trust", "-U", "postgres", "-D"])
            .arg(&data),
    );
    let child = as_postgres("postgres")
        .arg("-D")
        .arg(&data)
        .arg("-k")
        .arg(&home)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start postgres");
    let pidfile = data.join("postmaster.pid");
    wait_until(
        "PostgreSQL is ready (postmaster.pid says so)",
        Duration::from_secs(60),
        || {
            std::fs::read_to_string(&pidfile)
                .is_ok_and(|text| text.lines().any(|l| l.trim() == "ready"))
        },
    );
    Daemon {
        pidfile,
        stop_signal: libc::SIGINT,
        child: Some(child),
    }
}

fn process_check(name: &str, pidfile: &Path, marker: &Path) -> String {
    format!(
        "[[checks]]\nname = \"{name}\"\nkind = \"process\"\npidfile = \"{}\"\nremedy = [ {{ action = \"run\", argv = [\"/usr/bin/touch\", \"{}\"] }} ]\n\n",
        pidfile.display(),
        marker.display()
    )
}

#[test]
fn real_pid_files_are_read_by_the_one_reader_and_a_healthy_postgresql_is_left_alone() {
    require_system!(
        "real_pid_files_are_read_by_the_one_reader_and_a_healthy_postgresql_is_left_alone",
        Need::Root,
        NGINX,
        REDIS,
        POSTGRES,
        SSHD
    );
    let host = Host::new();
    chmod(host.dir.path(), 0o755);
    let dir = host.dir.path();
    let redis_pidfile = dir.join("redis-server.pid");
    let daemons = [
        ("nginx", start_nginx(dir, free_port())),
        (
            "redis-server",
            start_redis(&redis_conf(dir, dir, free_port()), &redis_pidfile),
        ),
        ("postgres", start_postgres(dir, free_port())),
        ("sshd", start_sshd(dir, free_port())),
    ];
    let postmaster = &daemons[2].1.pidfile;
    assert!(
        std::fs::read_to_string(postmaster).unwrap().lines().count() >= 7,
        "postmaster.pid has its many lines"
    );

    // A `process` check per pid file, each with a "restart" that leaves a mark; and a failing
    // check whose log names every pid file, so the facts read them too.
    let mut config = String::from("[cycle]\nsettle = \"50ms\"\n\n");
    for (name, daemon) in &daemons {
        config.push_str(&process_check(
            name,
            &daemon.pidfile,
            &dir.join(format!("{name}.restarted")),
        ));
    }
    let log = dir.join("app.log");
    let lines: Vec<String> = daemons
        .iter()
        .map(|(_, d)| format!("pid file {} exists, refusing to start", d.pidfile.display()))
        .collect();
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    config.push_str(&format!(
        "[[checks]]\nname = \"app\"\nkind = \"file\"\npath = \"{}\"\nlogs = [\"{}\"]\n\n[agents.runbook]\nbuiltin = \"runbook\"\n\n[research]\nagent = \"runbook\"\n",
        dir.join("never-there").display(),
        log.display()
    ));
    host.write_config(&config);
    let cycle = host.run(&["--json", "cycle"]).ok().json();

    // The check: each pid file's first line is its daemon's live pid.
    for (name, daemon) in &daemons {
        let pid = first_line_pid(&daemon.pidfile).unwrap();
        let (status, summary): (String, String) = host
            .db()
            .query_row(
                "SELECT status, summary FROM checks WHERE name = ?1",
                [name],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!(status, "ok", "{name}: {summary}");
        assert_eq!(
            summary,
            format!("pid {pid} from {} is running", daemon.pidfile.display())
        );
        assert!(
            !dir.join(format!("{name}.restarted")).exists(),
            "{name} was restarted while healthy: {cycle}"
        );
    }
    // A healthy PostgreSQL opens no incident at all: only `app` has one.
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM incidents WHERE check_name != 'app'"),
        0,
        "{cycle}"
    );

    // The facts: each pid file named by the log, its pid alive and named.
    let facts = host.run(&["--json", "incidents", "show", "1"]).ok().json()["facts"].clone();
    for (name, daemon) in &daemons {
        let pid = first_line_pid(&daemon.pidfile).unwrap();
        let fact = facts["pid_files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == daemon.pidfile.display().to_string())
            .unwrap_or_else(|| panic!("no fact on {name}'s pid file: {facts}"));
        assert_eq!(fact["pid"], pid, "{fact}");
        assert_eq!(fact["alive"], true, "{fact}");
        assert_eq!(fact["command"], comm(pid), "{fact}");
    }
    drop(daemons);
}

#[test]
fn a_full_redis_disk_frees_its_rotated_log_and_keeps_the_live_log_and_dump_rdb() {
    require_system!(
        "a_full_redis_disk_frees_its_rotated_log_and_keeps_the_live_log_and_dump_rdb",
        Need::Root,
        REDIS,
        REDIS_CLI
    );
    let host = Host::new();
    let disk = SmallDisk::mount(host.path("disk"), "4m");
    let port = free_port();
    let conf = redis_conf(host.dir.path(), &disk.0, port);
    let _redis = start_redis(&conf, &host.path("redis-server.pid"));
    assert_eq!(redis_cli(port, &["SET", "greeting", "hello"]), "OK");
    assert_eq!(redis_cli(port, &["SAVE"]), "OK");
    let live = disk.0.join("redis-server.log");
    let dump = disk.0.join("dump.rdb");
    let live_before = std::fs::read(&live).unwrap();
    let dump_before = std::fs::read(&dump).unwrap();
    assert!(!live_before.is_empty() && !dump_before.is_empty());
    // Last night's rotated log fills the rest of the disk. Every file is an hour old, so
    // only what names them keeps the live log: Redis opens it for each line, it is held by
    // no process, and its name is not a rotated one.
    disk.fill();
    let rotated = disk.0.join("redis-server.log.1");
    std::fs::rename(disk.0.join("filler"), &rotated).unwrap();
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for file in [&rotated, &live, &dump] {
        std::fs::File::options()
            .write(true)
            .open(file)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
    }
    // The default policy; the disk check and Redis are one service.
    host.write_config(&format!(
        r#"
[cycle]
settle = "100ms"

[[checks]]
name = "redis-disk"
kind = "disk"
path = "{disk}"
crit = "90%"
logs = ["{disk}"]
service = "redis"

[[checks]]
name = "redis"
kind = "tcp"
address = "127.0.0.1:{port}"
service = "redis"
remedy = [ {{ action = "run", argv = ["/usr/bin/redis-server", "{conf}"] }} ]

[agents.runbook]
builtin = "runbook"

[research]
agent = "runbook"
"#,
        disk = disk.0.display(),
        conf = conf.display(),
    ));
    let cycle = host.run(&["--json", "cycle"]).ok().json();

    let verdict = &cycle["research"]["incidents"][0];
    assert_eq!(verdict["verdict"], "fixed", "{cycle}");
    assert!(!rotated.exists(), "the rotated log was not removed");
    let live_after = std::fs::read(&live).expect("the live log was deleted");
    assert!(
        live_after.starts_with(&live_before),
        "the live log was emptied or rewritten"
    );
    assert_eq!(
        std::fs::read(&dump).expect("dump.rdb was deleted"),
        dump_before
    );
    assert_eq!(redis_cli(port, &["GET", "greeting"]), "hello");
}
