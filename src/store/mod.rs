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
mod escalations;
mod incidents;
mod metrics;
pub(crate) mod private;

pub use agents::{Consultation, HeldPlan, NewConsultation};
pub use attempts::{Attempt, Lesson, NewAttempt, Pattern, Taught};
pub use escalations::{DueReminder, Escalation, Notification, Outgoing};
pub use incidents::{Event, Failure, Incident, IncidentFilter, Observation};
pub use metrics::{CheckState, Counts, Totals};

use crate::redact::Redactor;
use rusqlite::{Connection, OpenFlags};
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
    include_str!("migrations/0008_counters.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create the database directory {path}: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot prepare the database file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {path} has schema version {found}, newer than this orchestrator knows ({known}): upgrade orchestrator")]
    TooNew {
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
    #[error("incident {0} is already {1}")]
    AlreadyClosed(i64, String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Built on first use: compiling the rules costs more than a read-only page needs.
    redactor: std::cell::OnceCell<Redactor>,
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
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private::create_dir(dir).map_err(|source| StoreError::Directory {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        private::prepare_database(path).map_err(|source| StoreError::File {
            path: path.to_path_buf(),
            source,
        })?;
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        configure(&conn).map_err(open_err)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            redactor: std::cell::OnceCell::new(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// A read-only connection, for pages and listings that must never write.
    pub fn open_readonly(path: &Path) -> Result<Store> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(open_err)?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
            redactor: std::cell::OnceCell::new(),
        };
        let version = store.schema_version()?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found: version,
                known,
            });
        }
        Ok(store)
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

    pub fn path(&self) -> &Path {
        &self.path
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

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))?)
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

    /// When the last phase run finished, for `/health` and for people asking "is it running?".
    pub fn last_cycle_finished_at(&self) -> Result<Option<f64>> {
        Ok(self
            .conn
            .query_row("SELECT MAX(finished_at) FROM cycles", [], |row| row.get(0))?)
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
