//! The SQLite state (DESIGN §7). This module owns every SQL statement; the rest of the program
//! speaks in domain events (`observe_failure`, `record_fix`, …), each one transaction.

mod agents;
mod attempts;
mod escalations;
mod incidents;
mod metrics;
pub(crate) mod private;

pub use agents::{Consultation, HeldPlan, NewConsultation};
pub use attempts::{Attempt, Lesson, NewAttempt, Pattern};
pub use escalations::{Escalation, Notification, Outgoing};
pub use incidents::{Event, Failure, Incident, IncidentFilter, Observation};
pub use metrics::{CheckState, Counts};

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Ordered migrations; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_agents.sql"),
    include_str!("migrations/0003_escalation.sql"),
    include_str!("migrations/0004_retention.sql"),
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

    pub fn incident_record(&self, id: i64) -> Result<IncidentRecord> {
        Ok(IncidentRecord {
            incident: self.incident(id)?,
            attempts: self.attempts(id)?,
            events: self.events(id)?,
            consultations: self.consultations(id)?,
            held_plan: self.held_plan(id)?,
            escalation: self.escalation_of(id)?,
            notifications: self.notifications_of(id)?,
        })
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
