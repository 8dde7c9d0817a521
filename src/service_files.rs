//! Which files belong to a check's service, and which of them are live (docs/agents.md,
//! "Files tied to a service"). A log line names paths, and whoever writes the log (a local
//! user, or a remote client through a request path) chooses them; so what a plan may delete
//! without a person is decided from what the admin configured and what systemd reports, never
//! from the incident's text:
//!
//! - **named**: the `pidfile` of a `process` check, the `path` of a `file` check, the paths in
//!   the argv of its `command` and of its remedies (`--pidfile /run/app.pid`), the paths its
//!   remedies remove, the unit's `PIDFile=`, and the absolute paths written in the service's
//!   configuration files (a file named in those argvs or in the unit's `ExecStart=`: Redis's
//!   `logfile`, `pidfile` and `dir`);
//! - **trees**: the checks' `paths` (the service's state, runtime or spool, as the admin wrote
//!   them): every file at or under one is named;
//! - **directories**: those of its pid files, of the files its remedies remove and of its
//!   `logs`, the `logs` directories, the directories its remedies clean, and the unit's
//!   `RuntimeDirectory=`, `StateDirectory=`, `CacheDirectory=`, `LogsDirectory=`;
//! - **users**: the unit's `User=` (root when the unit names none), and the owners of its pid
//!   files and logs;
//! - **live**: the `logs` files and the files named above (a live log is deleted or emptied
//!   only with a person's approval); files written within [`LIVE_WITHIN`] and data files
//!   (`dump.rdb`, a database directory) are live for cleaning too.
//!
//! The service is the check's group: every check with the same `service` (else `unit`).

use crate::actions::fs::{is_data_name, Keep};
use crate::actions::Action;
use crate::config::{Check, Config};
use crate::untrusted_file::{self, Kind, Limits};
use regex::Regex;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// A file modified this recently is being written: cleaning leaves it (three timer periods).
pub const LIVE_WITHIN: Duration = Duration::from_secs(15 * 60);
/// A configuration file read for the paths it names is at most this long.
const CONFIG_BYTES: u64 = 256 * 1024;
/// Configuration files read per service.
const MAX_CONFIG_FILES: usize = 8;
const SYSTEMCTL_TIMEOUT: Duration = Duration::from_secs(2);

/// How a file stands with the check's service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tie {
    /// Named for the service by the admin's config or by systemd (the words say by what).
    Named(String),
    /// A file of the service's user in one of its directories.
    Owned,
    /// A live file (its log, a data file): deleted only with a person's approval.
    Live(String),
    /// Nothing but text ties it to the service.
    Untied,
}

/// The files of one check's service, as its config and systemd name them.
#[derive(Debug, Default)]
pub struct ServiceFiles {
    /// Each as written and as [`canonical`], with the words that say what names it.
    named: Vec<(PathBuf, PathBuf, String)>,
    pid_files: Vec<PathBuf>,
    logs: Vec<PathBuf>,
    directories: BTreeSet<PathBuf>,
    /// The checks' `paths`: everything at or under one is the service's.
    trees: Vec<PathBuf>,
    users: BTreeSet<u32>,
}

impl ServiceFiles {
    /// Gathers them for `check` and the checks of its service group; asks systemd about their
    /// units where it runs.
    pub fn of(config: &Config, check: &Check) -> ServiceFiles {
        let mut files = ServiceFiles::default();
        let group: Vec<&Check> = config
            .checks
            .iter()
            .filter(|c| {
                c.name == check.name || (check.group().is_some() && c.group() == check.group())
            })
            .collect();
        let group = if group.is_empty() { vec![check] } else { group };
        let mut words = Vec::new();
        for member in &group {
            files.add_check(member, &mut words);
        }
        if crate::sys::systemd_is_running() {
            let units: BTreeSet<String> = group
                .iter()
                .filter_map(|c| c.unit_name())
                .map(crate::actions::full_unit_name)
                .collect();
            for unit in units {
                files.add_unit(&unit, &mut words);
            }
        }
        files.add_words(&words);
        files.add_owners();
        files
    }

    fn add_check(&mut self, check: &Check, words: &mut Vec<String>) {
        if let Some(pidfile) = check.kind.pid_file() {
            self.name_pid_file(pidfile, "the check's `pidfile`");
        }
        let what = format!("the `{}` check's `path`", check.kind.name());
        for file in check.kind.files() {
            self.name(file, &what);
        }
        words.extend(check.kind.argv().iter().cloned());
        for path in &check.paths {
            self.trees.push(canonical(path));
        }
        for log in &check.logs {
            match untrusted_file::look(log) {
                Ok(meta) if meta.kind == Kind::Directory => {
                    self.directories.insert(canonical(log));
                }
                _ => {
                    self.logs.push(canonical(log));
                    self.add_directory_of(log);
                }
            }
        }
        for action in &check.remedy {
            match action {
                Action::Run { argv, .. } => words.extend(argv.iter().cloned()),
                Action::RemoveFile { path } => {
                    self.name(Path::new(path), "removed by its remedy");
                    self.add_directory_of(Path::new(path));
                }
                Action::CleanFiles { path, .. } => {
                    self.directories.insert(canonical(Path::new(path)));
                }
                _ => {}
            }
        }
    }

    fn add_unit(&mut self, unit: &str, words: &mut Vec<String>) {
        let Ok(values) = crate::checks::unit_info::unit_properties(
            unit,
            &[
                "PIDFile",
                "User",
                "RuntimeDirectory",
                "StateDirectory",
                "CacheDirectory",
                "LogsDirectory",
                "ExecStart",
            ],
            SYSTEMCTL_TIMEOUT,
        ) else {
            return;
        };
        let value = |key: &str| values.get(key).map(String::as_str).unwrap_or("");
        if !value("PIDFile").is_empty() {
            self.name_pid_file(Path::new(value("PIDFile")), "the unit's `PIDFile=`");
        }
        self.users.insert(match value("User") {
            "" | "root" => 0,
            name => uid_of_user(name).unwrap_or(u32::MAX),
        });
        for (key, base) in [
            ("RuntimeDirectory", "/run"),
            ("StateDirectory", "/var/lib"),
            ("CacheDirectory", "/var/cache"),
            ("LogsDirectory", "/var/log"),
        ] {
            for name in value(key).split_whitespace() {
                self.directories
                    .insert(canonical(&Path::new(base).join(name)));
            }
        }
        words.extend(exec_start_argv(value("ExecStart")));
    }

    /// The absolute paths among argv words (also after `=` in `--opt=/path`), named; and, for
    /// the ones that are configuration files, the paths written in them.
    fn add_words(&mut self, words: &[String]) {
        let mut configs = 0;
        for word in words {
            let Some(path) = absolute_in_word(word) else {
                continue;
            };
            self.name(&path, "a path in the service's command line");
            if configs >= MAX_CONFIG_FILES {
                continue;
            }
            // A program is not a configuration file; nor is anything but a regular file.
            let is_config = untrusted_file::look(&path)
                .is_ok_and(|meta| meta.kind == Kind::Regular && meta.mode & 0o111 == 0);
            if !is_config {
                continue;
            }
            let Ok(contents) = untrusted_file::read_head(&path, Limits::new(CONFIG_BYTES, 20_000))
            else {
                continue;
            };
            configs += 1;
            if contents.cut {
                log::debug!(
                    "{}: only its first {CONFIG_BYTES} bytes were read",
                    path.display()
                );
            }
            let text = contents.text();
            let why = format!("named in the service's configuration {}", path.display());
            for named in absolute_paths(&text) {
                self.name(&named, &why);
            }
        }
    }

    /// The owners of the pid files and logs are the service's users too.
    fn add_owners(&mut self) {
        for path in self.pid_files.iter().chain(&self.logs) {
            if let Ok(meta) = untrusted_file::look(path) {
                self.users.insert(meta.uid);
            }
        }
    }

    fn name(&mut self, path: &Path, why: &str) {
        if !path.is_absolute() {
            return;
        }
        let resolved = canonical(path);
        if !self.named.iter().any(|(_, p, _)| *p == resolved) {
            self.named
                .push((path.to_path_buf(), resolved, why.to_string()));
        }
    }

    fn name_pid_file(&mut self, path: &Path, why: &str) {
        self.name(path, why);
        self.add_directory_of(path);
        self.pid_files.push(canonical(path));
    }

    fn add_directory_of(&mut self, path: &Path) {
        if let Some(dir) = path.parent().filter(|d| *d != Path::new("/")) {
            self.directories.insert(canonical(dir));
        }
    }

    /// How `path` stands with the service, for a `remove_file` no person approved.
    pub fn tie(&self, path: &Path) -> Tie {
        let written = path;
        let path = canonical(path);
        if self.logs.contains(&path) {
            return Tie::Live("a log the check names".into());
        }
        if path.file_name().is_some_and(is_data_name) {
            return Tie::Live("a data file".into());
        }
        let named = self
            .named
            .iter()
            .find(|(as_written, resolved, _)| as_written == written || *resolved == path);
        if let Some((_, _, why)) = named {
            return Tie::Named(why.clone());
        }
        if let Some(tree) = self.trees.iter().find(|tree| path.starts_with(tree)) {
            return Tie::Named(format!("under the check's `paths` ({})", tree.display()));
        }
        let in_directory = path
            .parent()
            .is_some_and(|dir| self.directories.contains(dir));
        let owner = untrusted_file::look(&path).ok().map(|m| m.uid);
        if in_directory && owner.is_some_and(|uid| self.users.contains(&uid)) {
            return Tie::Owned;
        }
        Tie::Untied
    }

    /// What `clean_files` keeps for a plan no admin wrote and no person approved: the files
    /// named for the service and its logs, files written within [`LIVE_WITHIN`], data files.
    pub fn keep(&self) -> Keep {
        let named: HashSet<(u64, u64)> = self
            .named
            .iter()
            .map(|(_, path, _)| path)
            .chain(&self.logs)
            .filter_map(|path| untrusted_file::look(path).ok())
            .filter(|meta| meta.kind == Kind::Regular)
            .map(|meta| (meta.device, meta.inode))
            .collect();
        Keep {
            named,
            written_after: SystemTime::now().checked_sub(LIVE_WITHIN),
            data: true,
        }
    }
}

/// The path with its directory's symlinks resolved (`/var/run/x.pid` is `/run/x.pid`), so that
/// two spellings of one file compare equal; the last name is kept as written.
fn canonical(path: &Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => parent
            .canonicalize()
            .map(|p| p.join(name))
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

fn absolute_in_word(word: &str) -> Option<PathBuf> {
    let value = word.rsplit_once('=').map_or(word, |(_, v)| v);
    let path = Path::new(value);
    (path.is_absolute() && !value.contains("..")).then(|| path.to_path_buf())
}

/// The absolute paths in a configuration file's text, outside comments.
fn absolute_paths(text: &str) -> Vec<PathBuf> {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        Regex::new(r#"(?:^|[\s"'=:])(/[A-Za-z0-9_.@+%-][A-Za-z0-9_.@+%/-]*)"#).expect("regex")
    });
    text.lines()
        .filter(|line| !line.trim_start().starts_with(['#', ';']))
        .flat_map(|line| pattern.captures_iter(line).map(|c| c[1].to_string()))
        .map(|p| PathBuf::from(p.trim_end_matches(['.', ',', ';', ')', '"', '\''])))
        .filter(|p| {
            !p.as_os_str()
                .as_encoded_bytes()
                .windows(2)
                .any(|w| w == b"..")
        })
        .take(1000)
        .collect()
}

/// The argv words of `systemctl show -p ExecStart`:
/// `{ path=/usr/bin/redis-server ; argv[]=/usr/bin/redis-server /etc/redis/redis.conf ; … }`.
fn exec_start_argv(value: &str) -> Vec<String> {
    value
        .split("argv[]=")
        .skip(1)
        .filter_map(|rest| rest.split(" ;").next())
        .flat_map(|argv| argv.split_whitespace().map(str::to_string))
        .collect()
}

/// The uid of a user name, from `/etc/passwd` (a number is taken as it is); `None` when it is
/// not there (a `DynamicUser=`).
pub fn uid_of_user(name: &str) -> Option<u32> {
    if let Ok(uid) = name.parse() {
        return Some(uid);
    }
    let passwd = untrusted_file::read_head(Path::new("/etc/passwd"), Limits::new(4 << 20, 200_000))
        .ok()?
        .text();
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then_some(())?;
        fields.nth(1)?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path, checks: &str) -> Config {
        let text = checks.replace("$DIR", &dir.display().to_string());
        Config::parse("t.toml", &text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn configured_files_are_tied_and_text_named_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("logs")).unwrap();
        std::fs::write(d.join("logs/app.log"), "").unwrap();
        std::fs::write(
            d.join("app.conf"),
            "# comment /etc/shadow\nlogfile $DIR/logs/app.log\npidfile /run/app-from-conf.pid\n"
                .replace("$DIR", &d.display().to_string()),
        )
        .unwrap();
        std::fs::create_dir(d.join("elsewhere")).unwrap();
        std::fs::write(d.join("elsewhere/queue.lock"), "").unwrap();
        std::fs::write(d.join("logs/stale.lock"), "").unwrap();
        let config = config(
            d,
            r#"
[[checks]]
name = "web"
kind = "http"
url = "http://127.0.0.1:9/"
logs = ["$DIR/logs/app.log"]
remedy = [ { action = "run", argv = ["/usr/bin/app", "--pidfile", "$DIR/app.pid", "--config=$DIR/app.conf"] } ]

[[checks]]
name = "web-pid"
kind = "process"
pidfile = "$DIR/run/web.pid"
service = "web"

[[checks]]
name = "other"
kind = "process"
pidfile = "$DIR/other.pid"
"#,
        );
        // `web` has no `service`: its group is itself, so web-pid's pid file is not its own.
        let files = ServiceFiles::of(&config, config.check("web").unwrap());
        assert_eq!(
            files.tie(&d.join("app.pid")),
            Tie::Named("a path in the service's command line".into())
        );
        assert!(
            matches!(files.tie(Path::new("/run/app-from-conf.pid")), Tie::Named(why) if why.contains("configuration"))
        );
        assert_eq!(
            files.tie(&d.join("logs/app.log")),
            Tie::Live("a log the check names".into())
        );
        assert_eq!(
            files.tie(&d.join("logs/dump.rdb")),
            Tie::Live("a data file".into())
        );
        // A file of the service's user (the log's owner) in its log directory.
        assert_eq!(files.tie(&d.join("logs/stale.lock")), Tie::Owned);
        assert_eq!(files.tie(&d.join("elsewhere/queue.lock")), Tie::Untied);
        assert_eq!(files.tie(Path::new("/etc/shadow")), Tie::Untied);
        assert_eq!(files.tie(&d.join("other.pid")), Tie::Untied);

        let grouped = ServiceFiles::of(&config, config.check("web-pid").unwrap());
        assert_eq!(
            grouped.tie(&d.join("run/web.pid")),
            Tie::Named("the check's `pidfile`".into())
        );
    }

    #[test]
    fn files_under_the_checks_paths_are_tied_and_a_data_file_there_stays_live() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("state/sub")).unwrap();
        std::fs::create_dir(d.join("statement")).unwrap();
        let config = config(
            d,
            "[[checks]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:9/\"\npaths = [\"$DIR/state\"]\n",
        );
        let files = ServiceFiles::of(&config, config.check("web").unwrap());
        for tied in ["state/maintenance.flag", "state/sub/queue.lock"] {
            assert!(
                matches!(files.tie(&d.join(tied)), Tie::Named(why) if why.contains("`paths`")),
                "{tied}"
            );
        }
        // A sibling whose name only starts the same, and anything outside: untied.
        assert_eq!(files.tie(&d.join("statement/x.lock")), Tie::Untied);
        assert_eq!(files.tie(&d.join("x.lock")), Tie::Untied);
        assert!(matches!(files.tie(&d.join("state/dump.rdb")), Tie::Live(_)));
        let refused = Config::parse(
            "t.toml",
            "[[checks]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:9/\"\npaths = [\"state\", \"/srv/../etc\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(refused.contains("key `paths`"), "{refused}");
    }

    #[test]
    fn the_service_keeps_its_logs_and_the_files_its_configuration_names() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("redis-server.log"), "").unwrap();
        std::fs::write(
            d.join("redis.conf"),
            format!("logfile {}/redis-server.log\n", d.display()),
        )
        .unwrap();
        let config = config(
            d,
            r#"
[[checks]]
name = "redis"
kind = "tcp"
address = "127.0.0.1:6379"
logs = ["$DIR"]
remedy = [ { action = "run", argv = ["redis-server", "$DIR/redis.conf"] } ]
"#,
        );
        let keep = ServiceFiles::of(&config, &config.checks[0]).keep();
        let log = std::fs::metadata(d.join("redis-server.log")).unwrap();
        assert!(keep.named.contains(&(log.dev(), log.ino())));
        assert!(keep.data);
        assert!(keep.written_after.is_some());
    }

    #[test]
    fn exec_start_words_and_user_names_are_read() {
        assert_eq!(
            exec_start_argv("{ path=/usr/bin/redis-server ; argv[]=/usr/bin/redis-server /etc/redis/redis.conf --daemonize no ; ignore_errors=no ; start_time=[n/a] }"),
            vec!["/usr/bin/redis-server", "/etc/redis/redis.conf", "--daemonize", "no"]
        );
        assert_eq!(uid_of_user("root"), Some(0));
        assert_eq!(uid_of_user("65534"), Some(65534));
        assert_eq!(uid_of_user("no-such-user-here"), None);
    }
}
