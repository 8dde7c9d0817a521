//! The SQLite state (docs/architecture.md, "The database"). This module owns every SQL statement; the rest of the program speaks in
//! domain events (`observe_failure`, `record_fix`, …), each one transaction.
//!
//! It is also the boundary where secrets are masked: every write method masks the free text it
//! is given (check output, summaries, reasons, attempt output, agent answers, notes, messages)
//! with the store's [`Redactor`] before the text reaches the database. Whatever leaves later
//! (mail, webhook, dashboard, `incidents show`) is read from here and so is masked already.
//! Plans are the exception: they are typed actions that must run as they were judged.

mod agents;
mod attempts;
mod budget;
mod dashboard;
mod escalations;
mod facts;
pub(crate) mod file_modes;
mod fleet;
mod incidents;
mod memory;
mod metrics;
mod patterns;
mod record;
mod silences;
mod symptoms;

pub use agents::{Consultation, HeldPlan, NewConsultation};
pub use attempts::{Attempt, Lesson, NewAttempt, Pattern, Taught};
pub use budget::Breaker;
pub use dashboard::{CheckResultAt, DayOutcomes, NeedsPerson, Undelivered};
pub use escalations::{Escalation, Notification, Outgoing};
pub use fleet::{FleetPattern, OutboxEvent};
pub use incidents::{Event, Failure, Incident, IncidentFilter, Observation};
pub use metrics::{CheckState, Counts, Totals};
pub use patterns::PatternChange;
pub use record::{AgentRecord, Feedback};
pub use silences::{check_silence_span, MaintenanceRow, NewSilence, Silence, WindowState};
pub use symptoms::Linked;

use crate::exit::{EXIT_FAILURE, EXIT_NOTHING_TO_DO, EXIT_USAGE};
use crate::redact::Redactor;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Ordered migrations; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_agents.sql"),
    include_str!("migrations/0003_escalation.sql"),
    include_str!("migrations/0004_retention.sql"),
    include_str!("migrations/0005_pattern_taught.sql"),
    include_str!("migrations/0006_outbox.sql"),
    include_str!("migrations/0007_attempt_processes.sql"),
    include_str!("migrations/0008_counters.sql"),
    include_str!("migrations/0009_groups.sql"),
    include_str!("migrations/0010_silences.sql"),
    include_str!("migrations/0011_dash.sql"),
    include_str!("migrations/0012_facts.sql"),
    include_str!("migrations/0013_batches.sql"),
    include_str!("migrations/0014_agent_record.sql"),
    include_str!("migrations/0015_check_memory.sql"),
    include_str!("migrations/0016_daily_tools.sql"),
    include_str!("migrations/0017_fleet.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    // The cause is part of each message, so the fields are named `cause`: thiserror would
    // also report a field named `source` as the cause, and `{:#}` would print it twice.
    #[error("database {path}: {cause}")]
    Open {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error("cannot create the database directory {path}: {cause}")]
    Directory {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot prepare the database file {path}: {cause}")]
    File {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("database {path} has schema version {found}, newer than this orchestrator knows ({known}): upgrade orchestrator")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "database {0} does not exist (nothing was recorded there yet, or the path is mistyped)"
    )]
    Missing(PathBuf),
    #[error("{0} is not an orchestrator database (it has no schema version)")]
    NotOurs(PathBuf),
    #[error("database {path} has schema version {found}, older than this orchestrator's ({known}): run `orchestrator scan` once to upgrade it")]
    TooOld {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("no incident {0}")]
    NoIncident(i64),
    #[error("incident {0} has no open escalation to acknowledge")]
    NothingToAcknowledge(i64),
    #[error("incident {incident} is already acknowledged by {by} at {at}")]
    AlreadyAcknowledged {
        incident: i64,
        by: String,
        at: String,
    },
    #[error("incident {0} is already {1}")]
    AlreadyClosed(i64, String),
    #[error(
        "agent `{1}` was not asked about incident {0}: only the diagnoses it gave can be marked"
    )]
    NotConsulted(i64, String),
    #[error("no silence {0} (`orchestrator silence list --all` lists every one)")]
    NoSilence(i64),
    #[error("silence {0} already ended at {1}")]
    SilenceEnded(i64, String),
    /// A silence that would end before it starts, or too far ahead: refused, never stored.
    #[error("{0}")]
    SilenceOutOfRange(String),
    #[error("no notification {0} (`incidents show ID` and `metrics` name them)")]
    NoNotification(i64),
    #[error("notification {0} was sent at {1}: there is nothing to send again")]
    NotificationSent(i64, String),
    #[error("no pattern {0} (`orchestrator patterns list` lists them)")]
    NoPattern(i64),
    #[error("pattern {0} is already {1}")]
    PatternAlready(i64, String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Built on first use: compiling the rules costs more than a read-only page needs.
    redactor: std::cell::OnceCell<Redactor>,
    /// Opened with `immutable=1` (see [`Store::open_readonly`]).
    snapshot: bool,
}

/// Everything recorded about one incident: `incidents show --json` and `/api/incidents/ID`.
#[derive(Debug, serde::Serialize)]
pub struct IncidentRecord {
    pub incident: Incident,
    pub attempts: Vec<Attempt>,
    pub events: Vec<Event>,
    pub consultations: Vec<Consultation>,
    pub held_plan: Option<HeldPlan>,
    pub escalation: Option<Escalation>,
    pub notifications: Vec<Notification>,
    /// The incident this one is a symptom of, if any.
    pub cause: Option<Linked>,
    /// The incidents that are symptoms of this one.
    pub symptoms: Vec<Linked>,
    /// What was probed on the host before agents were asked (src/facts/).
    pub facts: Option<serde_json::Value>,
    /// People's verdicts on the agents' diagnoses (`incidents feedback`).
    pub feedback: Vec<Feedback>,
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            file_modes::create_dir(dir).map_err(|cause| StoreError::Directory {
                path: dir.to_path_buf(),
                cause,
            })?;
        }
        file_modes::prepare_database(path).map_err(|cause| StoreError::File {
            path: path.to_path_buf(),
            cause,
        })?;
        let open_err = |cause| StoreError::Open {
            path: path.to_path_buf(),
            cause,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        configure(&conn).map_err(open_err)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            redactor: std::cell::OnceCell::new(),
            snapshot: false,
        };
        store.migrate()?;
        Ok(store)
    }

    /// A read-only connection, for pages and listings that must never write: it never creates
    /// the file or its directory and never migrates. A missing file, or a schema other than the
    /// one this binary knows, is an error that says so.
    ///
    /// SQLite reads a WAL database through its `-shm` file, which it must create when no writer
    /// left one. Where it cannot (a read-only mount, a full disk) and no `-wal` holds
    /// uncommitted pages, the file is read as an immutable snapshot: every committed page is in
    /// it, and nothing can write it meanwhile.
    pub fn open_readonly(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::Missing(path.to_path_buf()));
        }
        let store = match Store::connect_readonly(path, false) {
            Err(err) if snapshot_is_safe(path) => {
                log::info!(
                    "database {}: reading it as a snapshot ({err})",
                    path.display()
                );
                Store::connect_readonly(path, true)?
            }
            other => other?,
        };
        let version = store.schema_version()?;
        let known = MIGRATIONS.len() as i64;
        match version {
            0 => Err(StoreError::NotOurs(path.to_path_buf())),
            v if v > known => Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found: v,
                known,
            }),
            v if v < known => Err(StoreError::TooOld {
                path: path.to_path_buf(),
                found: v,
                known,
            }),
            _ => Ok(store),
        }
    }

    fn connect_readonly(path: &Path, snapshot: bool) -> Result<Store> {
        let open_err = |cause| StoreError::Open {
            path: path.to_path_buf(),
            cause,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = if snapshot {
            Connection::open_with_flags(snapshot_uri(path), flags)
        } else {
            Connection::open_with_flags(path, flags)
        }
        .map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(open_err)?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
            redactor: std::cell::OnceCell::new(),
            snapshot,
        };
        // Opening is lazy: the first read is where a missing -shm shows.
        store.schema_version().map_err(|e| match e {
            StoreError::Sql(source) => open_err(source),
            other => other,
        })?;
        Ok(store)
    }

    /// The database file, as it was opened.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read as an immutable snapshot: a long-lived reader (the dashboard) opens it again for
    /// each page, so it never serves a file that changed after a remount.
    pub fn is_snapshot(&self) -> bool {
        self.snapshot
    }

    /// The record as people see it. Plans are kept as they must run, so a password in a
    /// plan's argv is masked here, for display, where every other text was masked when stored.
    pub fn incident_record(&self, id: i64) -> Result<IncidentRecord> {
        let redactor = self.redactor();
        let mut attempts = self.attempts(id)?;
        for attempt in &mut attempts {
            redactor.redact_value(&mut attempt.plan);
        }
        let mut held_plan = self.held_plan(id)?;
        if let Some(held) = &mut held_plan {
            held.plan = redactor.redact_json_text(&held.plan);
        }
        let mut escalation = self.escalation_of(id)?;
        if let Some(escalation) = &mut escalation {
            escalation.held_plan = escalation
                .held_plan
                .as_deref()
                .map(|plan| redactor.redact_json_text(plan));
        }
        Ok(IncidentRecord {
            incident: self.incident(id)?,
            attempts,
            events: self.events(id)?,
            consultations: self.consultations(id)?,
            held_plan,
            escalation,
            notifications: self.notifications_of(id)?,
            cause: self.cause_of(id)?,
            symptoms: self.symptoms_of(id)?,
            facts: self.facts_of(id)?,
            feedback: self.feedback_of(id)?,
        })
    }

    /// Masks with `redactor` (the built-in rules and the config's `[context] redact`) instead
    /// of the built-in rules alone.
    pub fn masking_with(self, redactor: Redactor) -> Store {
        Store {
            redactor: std::cell::OnceCell::from(redactor),
            ..self
        }
    }

    /// Text masked as the store masks what it keeps: for text that leaves the process without
    /// passing through the database (printed scan lines, log lines, an agent's live context).
    pub fn mask(&self, text: &str) -> String {
        self.redactor().redact(text)
    }

    /// The config's redactor, or the built-in rules when none was given.
    pub fn redactor(&self) -> &Redactor {
        self.redactor.get_or_init(Redactor::builtin)
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))?)
    }

    fn migrate(&mut self) -> Result<()> {
        let known = MIGRATIONS.len() as i64;
        let current = self.schema_version()?;
        if current > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: current,
                known,
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index as i64 + 1)?;
            tx.commit()?;
            log::info!(
                "database {}: applied migration {}",
                self.path.display(),
                index + 1
            );
        }
        Ok(())
    }

    /// Runs `work` as one transaction: what it writes is committed together, or none of it is.
    /// The store's own transactions within it are savepoints. A scan records all its results
    /// this way: one commit instead of a few per check, and a scan killed midway leaves the
    /// state of the scan before it, whole.
    pub fn in_one_transaction<T>(
        &mut self,
        work: impl FnOnce(&mut Store) -> Result<T>,
    ) -> Result<T> {
        // IMMEDIATE: the write lock is taken now, so no reader turned writer meets a busy
        // database halfway through.
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let done = work(self).and_then(|value| {
            self.conn.execute_batch("COMMIT")?;
            Ok(value)
        });
        if done.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        done
    }

    pub fn begin_cycle(&self, phase: &str) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO cycles (phase, started_at) VALUES (?1, ?2)",
            rusqlite::params![phase, crate::clock::now()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_cycle(&self, id: i64, counts: &serde_json::Value) -> Result<()> {
        self.conn.execute(
            "UPDATE cycles SET finished_at = ?2, counts = ?3 WHERE id = ?1",
            rusqlite::params![id, crate::clock::now(), counts.to_string()],
        )?;
        Ok(())
    }

    /// When the last cycle finished, for `/health`, the dashboard's header and
    /// `orchestrator_last_cycle_timestamp_seconds`: a run that looked at the host (`scan`, the
    /// timer's first step, or `cycle`). A person's `incidents approve` or `dismiss` takes the
    /// cycle lock too, but says nothing about whether the timer still runs.
    pub fn last_cycle_finished_at(&self) -> Result<Option<f64>> {
        // Newest first along the `finished_at` index: a scan is never far from the top.
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT finished_at FROM cycles WHERE finished_at IS NOT NULL AND phase IN ({CYCLE_STARTS})
                      ORDER BY finished_at DESC LIMIT 1"
                ),
                [],
                |row| row.get(0),
            )
            .optional()?)
    }
}

/// The runs that look at the host, as SQL: what "the last cycle" means.
const CYCLE_STARTS: &str = "'scan', 'cycle'";

/// The runs of a cycle, as SQL: the timer's five phases, or `cycle` doing them all. Not a
/// person's decision (`approve`, `dismiss`), which takes the cycle lock too.
pub(crate) const CYCLE_PHASES: &str = "'scan', 'fix', 'research', 'consult', 'escalate', 'cycle'";

/// `file:PATH?immutable=1`, the path percent-encoded where a URI needs it.
fn snapshot_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::from("file:");
    for &byte in path.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// A snapshot read is safe when nothing can write the file (its filesystem is mounted
/// read-only, or has no byte left for a writer's -wal) and no -wal holds pages the file lacks.
fn snapshot_is_safe(path: &Path) -> bool {
    let wal = file_modes::beside(path, "-wal");
    let wal_is_empty = std::fs::metadata(wal).map_or(true, |m| m.len() == 0);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let unwritable = rustix::fs::statvfs(dir).is_ok_and(|fs| {
        fs.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY) || fs.f_bavail == 0
    });
    wal_is_empty && unwritable
}

/// Whether `err` says the state cannot be kept: the disk is full, the filesystem is read-only
/// or failing, the file is unreadable or damaged. Such a failure must reach a person by
/// another way than the database. A busy database or a newer schema is not one of them.
pub fn is_storage_failure(err: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::*;
    matches!(
        err.sqlite_error_code(),
        Some(
            DiskFull
                | ReadOnly
                | CannotOpen
                | SystemIoFailure
                | DatabaseCorrupt
                | NotADatabase
                | PermissionDenied
        )
    )
}

impl StoreError {
    /// What it means for the user: an incident or silence that is not there, or was already
    /// dealt with, leaves nothing to do (3); anything else failed (1).
    pub fn exit_code(&self) -> u8 {
        match self {
            StoreError::NoIncident(_)
            | StoreError::NothingToAcknowledge(_)
            | StoreError::AlreadyAcknowledged { .. }
            | StoreError::AlreadyClosed(..)
            | StoreError::NoSilence(_)
            | StoreError::NotConsulted(..)
            | StoreError::SilenceEnded(..)
            | StoreError::NoNotification(_)
            | StoreError::NotificationSent(..)
            | StoreError::NoPattern(_)
            | StoreError::PatternAlready(..) => EXIT_NOTHING_TO_DO,
            StoreError::SilenceOutOfRange(_) => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }

    /// See [`is_storage_failure`].
    pub fn is_storage_failure(&self) -> bool {
        match self {
            StoreError::Open { cause, .. } | StoreError::Sql(cause) => is_storage_failure(cause),
            StoreError::Directory { .. } => true,
            // Making the file private failed: on a full or read-only disk, that is the disk.
            StoreError::File { cause, .. } => matches!(
                cause.raw_os_error(),
                Some(
                    libc::EROFS
                        | libc::ENOSPC
                        | libc::EDQUOT
                        | libc::EIO
                        | libc::EACCES
                        | libc::EPERM
                )
            ),
            _ => false,
        }
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    // WAL lets the dashboard read while a cycle writes; NORMAL is durable across crashes of
    // the process (not of the host), the usual pairing with WAL.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// For unit tests across the crate: a fresh database in a temporary directory, holding one open
/// critical incident of the check `web`.
#[cfg(test)]
pub(crate) fn store_with_incident() -> (tempfile::TempDir, Store, i64) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("state.db")).unwrap();
    let (incident, _) = store
        .observe_failure(&Failure {
            check: "web",
            signature: "web:down",
            severity: crate::model::Severity::Critical,
            summary: "down",
            evidence: "",
            reopen_within: 0.0,
            flapping_reopened: 0,
            flapping_within: 0.0,
        })
        .unwrap();
    (dir, store, incident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_scan_or_a_cycle_is_the_last_cycle() {
        let (_dir, store, _) = store_with_incident();
        assert_eq!(store.last_cycle_finished_at().unwrap(), None);
        store
            .conn
            .execute_batch(
                "INSERT INTO cycles (phase, started_at, finished_at) VALUES ('scan', 10, 11);
                 INSERT INTO cycles (phase, started_at, finished_at) VALUES ('fix', 12, 13);
                 INSERT INTO cycles (phase, started_at, finished_at) VALUES ('approve', 50, 51);
                 INSERT INTO cycles (phase, started_at, finished_at) VALUES ('dismiss', 60, 61);",
            )
            .unwrap();
        assert_eq!(store.last_cycle_finished_at().unwrap(), Some(11.0));
        store
            .conn
            .execute(
                "INSERT INTO cycles (phase, started_at, finished_at) VALUES ('cycle', 70, 71)",
                [],
            )
            .unwrap();
        assert_eq!(store.last_cycle_finished_at().unwrap(), Some(71.0));
    }

    #[test]
    fn what_is_missing_or_dealt_with_is_nothing_to_do_and_the_rest_a_failure() {
        let nothing_to_do = [
            StoreError::NoIncident(1),
            StoreError::NothingToAcknowledge(1),
            StoreError::AlreadyClosed(1, "resolved".into()),
            StoreError::AlreadyAcknowledged {
                incident: 1,
                by: "cli:alice".into(),
                at: "2026-11-27T03:12:00Z".into(),
            },
            StoreError::NoSilence(1),
            StoreError::SilenceEnded(1, "2026-11-27T18:00:00Z".into()),
            StoreError::NoNotification(1),
            StoreError::NotificationSent(1, "2026-11-27T18:00:00Z".into()),
            StoreError::NoPattern(1),
            StoreError::PatternAlready(1, "disabled".into()),
        ];
        for err in nothing_to_do {
            assert_eq!(err.exit_code(), EXIT_NOTHING_TO_DO, "{err}");
        }
        let failures = [
            StoreError::Missing("x.db".into()),
            StoreError::NotOurs("x.db".into()),
            StoreError::Sql(rusqlite::Error::InvalidQuery),
        ];
        for err in failures {
            assert_eq!(err.exit_code(), EXIT_FAILURE, "{err}");
        }
    }
}
