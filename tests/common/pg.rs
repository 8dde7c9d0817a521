//! A real PostgreSQL for the fleet's tests: Debian's server binaries run from a temporary
//! directory as the `postgres` user (trust authentication, no fsync), on a free port, stopped
//! when dropped. `psql` reads what orchestrator wrote.

use super::{free_port, wait_until, Need};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Debian 12's PostgreSQL (the `postgresql` package depends on `postgresql-15`).
pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
pub const POSTGRES: Need = Need::Program("/usr/lib/postgresql/15/bin/postgres", "postgresql");
pub const PSQL: Need = Need::Program("/usr/bin/psql", "postgresql-client");

pub struct Postgres {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// The address it listens on besides 127.0.0.1, if any.
    pub address: String,
    /// The network namespace it runs in (`ip netns`), if not this one.
    pub netns: Option<String>,
}

/// `program` in the network namespace `netns` (when given).
fn in_netns(netns: Option<&str>, program: &str) -> Command {
    match netns {
        Some(ns) => {
            let mut command = Command::new("ip");
            command.args(["netns", "exec", ns, program]);
            command
        }
        None => Command::new(program),
    }
}

fn as_postgres_in(netns: Option<&str>, program: &str) -> Command {
    let mut command = in_netns(netns, "setpriv");
    command
        .args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
        .arg(format!("{PG_BIN}/{program}"))
        .current_dir("/");
    command
}

fn as_postgres(program: &str) -> Command {
    as_postgres_in(None, program)
}

fn chown_postgres(path: &Path) {
    let status = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(path)
        .status()
        .expect("chown");
    assert!(status.success());
}

impl Postgres {
    /// A new cluster listening on 127.0.0.1 (and `extra`, an address of this machine, when
    /// given), started and ready.
    pub fn start(extra: Option<&str>) -> Postgres {
        Postgres::start_in(None, extra)
    }

    /// The same in the network namespace `netns` (`ip netns exec`), listening on its
    /// 127.0.0.1 and on `extra` there.
    pub fn start_in(netns: Option<&str>, extra: Option<&str>) -> Postgres {
        Postgres::start_with(
            netns,
            extra,
            "",
            "local all all trust\nhost all all 0.0.0.0/0 trust\n",
            &[],
        )
    }

    /// The most general: `conf` appended to its settings, `hba` as its pg_hba.conf, `files`
    /// (name, contents) written into its data directory, mode 0600, before it starts.
    pub fn start_with(
        netns: Option<&str>,
        extra: Option<&str>,
        conf: &str,
        hba: &str,
        files: &[(&str, &[u8])],
    ) -> Postgres {
        let dir = tempfile::Builder::new()
            .prefix("orch-fleet-pg-")
            .tempdir()
            .expect("tempdir");
        chown_postgres(dir.path());
        let data = dir.path().join("data");
        let output = as_postgres("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(&data)
            .output()
            .expect("initdb");
        assert!(
            output.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let port = free_port();
        let listen = match extra {
            Some(address) => format!("127.0.0.1,{address}"),
            None => "127.0.0.1".to_string(),
        };
        let conf = format!(
            "port = {port}\nlisten_addresses = '{listen}'\nunix_socket_directories = '{}'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 32MB\n\
             max_connections = 100\nlog_min_messages = warning\n{conf}",
            dir.path().display()
        );
        std::fs::write(data.join("postgresql.auto.conf"), conf)
            .expect("write postgresql.auto.conf");
        // Hosts on the test's own namespaces reach it by their addresses.
        std::fs::write(data.join("pg_hba.conf"), hba).expect("write pg_hba.conf");
        for (name, contents) in files {
            use std::os::unix::fs::PermissionsExt;
            let path = data.join(name);
            std::fs::write(&path, contents).expect("write a file of the cluster");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        chown_postgres(dir.path());
        let pg = Postgres {
            dir,
            port,
            address: extra.unwrap_or("127.0.0.1").to_string(),
            netns: netns.map(str::to_string),
        };
        pg.ctl("start");
        pg.sql("postgres", "CREATE DATABASE fleet");
        pg
    }

    pub fn ctl(&self, verb: &str) {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("postgres.log");
        let mut command = as_postgres_in(self.netns.as_deref(), "pg_ctl");
        command.arg("-D").arg(&data).args(["-w", "-t", "30"]);
        match verb {
            "start" => command.arg("-l").arg(&log).arg("start"),
            _ => command.args(["-m", "fast", verb]),
        };
        let output = command.output().expect("pg_ctl");
        assert!(
            output.status.success(),
            "pg_ctl {verb}: {}{}",
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        if verb == "start" {
            wait_until(
                "PostgreSQL accepts connections",
                Duration::from_secs(30),
                || {
                    in_netns(self.netns.as_deref(), &format!("{PG_BIN}/pg_isready"))
                        .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                        .status()
                        .is_ok_and(|s| s.success())
                },
            );
        }
    }

    /// The URL a host's `[fleet] database` names.
    pub fn url(&self) -> String {
        format!("postgresql://postgres@{}:{}/fleet", self.address, self.port)
    }

    /// Runs `sql` with psql on database `db`; its output, unaligned, tuples only.
    #[track_caller]
    pub fn sql(&self, db: &str, sql: &str) -> String {
        let output = in_netns(self.netns.as_deref(), "psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-XAtq", "-c", sql])
            .output()
            .expect("psql");
        assert!(
            output.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// A number from the fleet database.
    #[track_caller]
    pub fn count(&self, sql: &str) -> i64 {
        let text = self.sql("fleet", sql);
        text.parse()
            .unwrap_or_else(|_| panic!("{sql}: expected a number, got {text:?}"))
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres_in(self.netns.as_deref(), "pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "-w", "-t", "10", "stop"])
            .output();
    }
}
