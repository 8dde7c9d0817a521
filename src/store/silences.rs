//! Silences: a person pauses orchestrator on a check, or on every check, for a while. The store
//! keeps every silence ever made; expiring one early only sets `expired_at`.

use super::{Result, Store, StoreError};
use crate::clock::{clamp, now, rfc3339, Timestamp};
use crate::duration::Duration;
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

pub struct NewSilence<'a> {
    /// None silences every check.
    pub check: Option<&'a str>,
    pub created_by: &'a str,
    pub note: &'a str,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct Silence {
    pub id: i64,
    /// None: every check.
    pub check: Option<String>,
    pub created_at: Timestamp,
    pub created_by: String,
    pub note: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub expired_at: Option<Timestamp>,
    /// `active`, `pending` (starts later) or `expired` (ended by its time or by a person), as of
    /// the moment it was read.
    pub state: &'static str,
    /// The config's maintenance window it stands for (`[[maintenance]] name`), if it does.
    pub maintenance: Option<String>,
}

impl Silence {
    /// "web" or "all checks", for people.
    pub fn target(&self) -> &str {
        self.check.as_deref().unwrap_or("all checks")
    }

    /// When it stopped or will stop: the earlier of its end and a person's expiry.
    pub fn ended_at(&self) -> Timestamp {
        self.expired_at
            .map_or(self.ends_at, |e| e.min(self.ends_at))
    }

    /// "silenced by alice until 2026-11-27T10:00:00Z: kernel upgrade", for pages and reports.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "silenced by {} until {}",
            self.created_by,
            crate::clock::rfc3339(self.ends_at)
        );
        if !self.note.is_empty() {
            text.push_str(&format!(": {}", self.note));
        }
        text
    }
}

/// Whether a silence from `starts_at` to `ends_at` may be kept: it ends after it starts, and
/// within `Duration::LIMIT` (100 years) of it, like every duration orchestrator takes. The
/// CLI (`--for`, `--until`) and the dashboard's form say so before anything is stored, and
/// [`Store::add_silence`] refuses what they did not.
pub fn check_silence_span(
    starts_at: Timestamp,
    ends_at: Timestamp,
) -> std::result::Result<(), String> {
    if ends_at.is_nan() || ends_at <= starts_at {
        return Err(format!(
            "the silence would end at {}, which is not in the future",
            rfc3339(ends_at)
        ));
    }
    // `starts_at + LIMIT` rounds as the caller's `now + duration` did: `ends_at - starts_at`
    // could come out a micro-second over for a span of exactly the limit.
    if ends_at > starts_at + Duration::LIMIT.as_secs_f64() {
        return Err(format!(
            "a silence lasts at most {}; this one would end at {}",
            Duration::LIMIT_TEXT,
            rfc3339(ends_at)
        ));
    }
    Ok(())
}

const COLUMNS: &str =
    "id, check_name, created_at, created_by, note, starts_at, ends_at, expired_at, maintenance";

/// One occurrence of a config's maintenance window on one check (None: every check), as
/// `Store::sync_maintenance` writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceRow {
    pub window: String,
    pub check: Option<String>,
    pub note: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
}

/// An occurrence of a maintenance window that started, with what its notices have said:
/// its silences (one per check) grouped.
#[derive(Debug, Clone)]
pub struct WindowState {
    pub window: String,
    pub starts_at: Timestamp,
    /// When the last of its silences ended or ends (a person may expire them sooner).
    pub ended_at: Timestamp,
    /// None: every check.
    pub checks: Vec<Option<String>>,
    pub note: String,
    pub silences: Vec<i64>,
    pub start_noticed: bool,
    pub end_noticed: bool,
}

/// The SQL condition of a silence in force at `?1`.
const IN_FORCE: &str =
    "starts_at <= ?1 AND ends_at > ?1 AND (expired_at IS NULL OR expired_at > ?1)";

/// A stored silence, its times clamped to what can be shown (`clock::clamp`): a row an older
/// binary wrote may end after the year 9999, or at infinity.
fn silence_from_row(row: &Row, at: Timestamp) -> rusqlite::Result<Silence> {
    let starts_at = clamp(row.get("starts_at")?);
    let ends_at = clamp(row.get("ends_at")?);
    let expired_at: Option<Timestamp> = row.get::<_, Option<Timestamp>>("expired_at")?.map(clamp);
    let state = if expired_at.is_some_and(|e| e <= at) || ends_at <= at {
        "expired"
    } else if starts_at > at {
        "pending"
    } else {
        "active"
    };
    Ok(Silence {
        id: row.get("id")?,
        check: row.get("check_name")?,
        created_at: clamp(row.get("created_at")?),
        created_by: row.get("created_by")?,
        note: row.get("note")?,
        starts_at,
        ends_at,
        expired_at,
        state,
        maintenance: row.get("maintenance")?,
    })
}

impl Store {
    pub fn add_silence(&self, new: &NewSilence) -> Result<Silence> {
        check_silence_span(new.starts_at, new.ends_at).map_err(StoreError::SilenceOutOfRange)?;
        let at = now();
        self.conn.execute(
            "INSERT INTO silences (check_name, created_at, created_by, note, starts_at, ends_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                new.check,
                at,
                self.mask(new.created_by),
                self.mask(new.note),
                new.starts_at,
                new.ends_at
            ],
        )?;
        self.silence(self.conn.last_insert_rowid())
    }

    pub fn silence(&self, id: i64) -> Result<Silence> {
        let at = now();
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM silences WHERE id = ?1"),
                [id],
                |row| silence_from_row(row, at),
            )
            .optional()?
            .ok_or(StoreError::NoSilence(id))
    }

    /// Silences in force or still to come; with `with_ended`, also those that ended within
    /// `ended_since` seconds (all of them when it is None), newest first.
    pub fn silences(&self, with_ended: bool, ended_since: Option<f64>) -> Result<Vec<Silence>> {
        let at = now();
        // Those that end (or ended) after `oldest`: now, or the start of the window.
        let oldest = if with_ended {
            ended_since.map_or(f64::NEG_INFINITY, |window| at - window)
        } else {
            at
        };
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM silences
              WHERE MIN(ends_at, COALESCE(expired_at, ends_at)) > ?1
              ORDER BY id DESC"
        ))?;
        let rows = stmt.query_map([oldest], |row| silence_from_row(row, at))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The silence covering `check` now, if any (the one lasting longest when several do).
    pub fn silence_of(&self, check: &str) -> Result<Option<Silence>> {
        let at = now();
        // Asked for every check of every scan: prepared once per connection.
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM silences
                  WHERE (check_name IS NULL OR check_name = ?2) AND {IN_FORCE}
                  ORDER BY ends_at DESC LIMIT 1"
            ))?
            .query_row(params![at, check], |row| silence_from_row(row, at))
            .optional()?)
    }

    /// Makes the silences of the config's maintenance windows what `wanted` says (each window's
    /// occurrence in force and its next one), in one transaction: new ones are added (a row
    /// a person expired is left expired), a changed end or note is updated, and a window's
    /// silence in force or to come that is no longer wanted (the config changed) is expired
    /// now. Returns how many were added and how many expired.
    pub fn sync_maintenance(&mut self, wanted: &[MaintenanceRow]) -> Result<(usize, usize)> {
        let at = now();
        let tx = self.conn.transaction()?;
        let mut added = 0;
        for row in wanted {
            let by = format!("maintenance:{}", row.window);
            added += tx.execute(
                "INSERT INTO silences (check_name, created_at, created_by, note, starts_at, ends_at, maintenance)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (maintenance, COALESCE(check_name, ''), starts_at) WHERE maintenance IS NOT NULL
                 DO UPDATE SET ends_at = excluded.ends_at, note = excluded.note
                 WHERE expired_at IS NULL AND (ends_at != excluded.ends_at OR note != excluded.note)",
                params![row.check, at, by, row.note, row.starts_at, row.ends_at, row.window],
            )?;
        }
        let mut stmt = tx.prepare(
            "SELECT id, maintenance, check_name, starts_at FROM silences
              WHERE maintenance IS NOT NULL AND expired_at IS NULL AND ends_at > ?1",
        )?;
        let live: Vec<(i64, String, Option<String>, Timestamp)> = stmt
            .query_map([at], |r| {
                Ok((
                    r.get("id")?,
                    r.get("maintenance")?,
                    r.get("check_name")?,
                    r.get("starts_at")?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        let mut expired = 0;
        for (id, window, check, starts_at) in live {
            let still = wanted
                .iter()
                .any(|w| w.window == window && w.check == check && w.starts_at == starts_at);
            if !still {
                expired += tx.execute(
                    "UPDATE silences SET expired_at = ?2 WHERE id = ?1",
                    params![id, at],
                )?;
            }
        }
        tx.commit()?;
        Ok((added, expired))
    }

    /// The occurrences of maintenance windows that started and whose start or end has not
    /// been told yet, oldest first.
    pub fn windows_to_announce(&self) -> Result<Vec<WindowState>> {
        let at = now();
        let mut stmt = self.conn.prepare(
            "SELECT id, maintenance, check_name, note, starts_at,
                    MIN(ends_at, COALESCE(expired_at, ends_at)) AS ended_at, start_noticed_at, end_noticed_at
               FROM silences
              WHERE maintenance IS NOT NULL AND starts_at <= ?1
                AND (start_noticed_at IS NULL OR end_noticed_at IS NULL)
              ORDER BY starts_at, maintenance, id",
        )?;
        let mut rows = stmt.query([at])?;
        let mut windows: Vec<WindowState> = Vec::new();
        while let Some(row) = rows.next()? {
            let (id, window, check): (i64, String, Option<String>) = (
                row.get("id")?,
                row.get("maintenance")?,
                row.get("check_name")?,
            );
            let (starts_at, ended_at): (Timestamp, Timestamp) =
                (row.get("starts_at")?, row.get("ended_at")?);
            let start_noticed = row.get::<_, Option<f64>>("start_noticed_at")?.is_some();
            let end_noticed = row.get::<_, Option<f64>>("end_noticed_at")?.is_some();
            match windows
                .iter_mut()
                .find(|w| w.window == window && w.starts_at == starts_at)
            {
                Some(found) => {
                    found.checks.push(check);
                    found.silences.push(id);
                    found.ended_at = found.ended_at.max(ended_at);
                    found.start_noticed &= start_noticed;
                    found.end_noticed &= end_noticed;
                }
                None => windows.push(WindowState {
                    window,
                    starts_at,
                    ended_at,
                    checks: vec![check],
                    note: row.get("note")?,
                    silences: vec![id],
                    start_noticed,
                    end_noticed,
                }),
            }
        }
        Ok(windows)
    }

    /// The notice that the window started (`start`) or ended (`end`) was told, or needs not be.
    pub fn mark_window_noticed(&self, silences: &[i64], start: bool, end: bool) -> Result<()> {
        let at = now();
        for id in silences {
            self.conn.execute(
                "UPDATE silences SET
                     start_noticed_at = CASE WHEN ?2 THEN COALESCE(start_noticed_at, ?4) ELSE start_noticed_at END,
                     end_noticed_at = CASE WHEN ?3 THEN COALESCE(end_noticed_at, ?4) ELSE end_noticed_at END
                  WHERE id = ?1",
                params![id, start, end, at],
            )?;
        }
        Ok(())
    }

    /// Ends a silence now. One that already ended is an error naming when.
    pub fn expire_silence(&self, id: i64) -> Result<Silence> {
        let silence = self.silence(id)?;
        if silence.state == "expired" {
            return Err(StoreError::SilenceEnded(
                id,
                crate::clock::rfc3339(silence.ended_at()),
            ));
        }
        self.conn.execute(
            "UPDATE silences SET expired_at = ?2 WHERE id = ?1 AND expired_at IS NULL",
            params![id, now()],
        )?;
        self.silence(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_of_exactly_the_limit_is_allowed_whatever_the_clocks_fraction() {
        let limit = Duration::LIMIT.as_secs_f64();
        // Times of day with every kind of fraction: `(now + limit) - now` exceeds `limit` by
        // a rounding step for some of them (the dashboard's 36500d was refused at random).
        for step in 0..10_000 {
            let now = 1_796_000_000.0 + f64::from(step) * 0.012_345_6;
            assert_eq!(check_silence_span(now, now + limit), Ok(()), "at {now}");
            assert!(
                check_silence_span(now, now + limit + 1.0).is_err(),
                "at {now}"
            );
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("test.db")).unwrap();
        (dir, store)
    }

    fn add(store: &Store, check: Option<&str>, from: f64, to: f64) -> Silence {
        let at = now();
        store
            .add_silence(&NewSilence {
                check,
                created_by: "alice",
                note: "kernel upgrade",
                starts_at: at + from,
                ends_at: at + to,
            })
            .unwrap()
    }

    #[test]
    fn a_silence_covers_its_check_or_every_check_while_in_force() {
        let (_dir, store) = store();
        add(&store, Some("web"), -10.0, 3600.0);
        assert_eq!(store.silence_of("web").unwrap().unwrap().state, "active");
        assert!(store.silence_of("db").unwrap().is_none());
        add(&store, None, -10.0, 60.0);
        assert!(store.silence_of("db").unwrap().is_some());
        // The longest wins when several cover a check.
        assert_eq!(
            store.silence_of("web").unwrap().unwrap().check.as_deref(),
            Some("web")
        );
    }

    #[test]
    fn a_silence_out_of_range_is_refused_and_one_stored_so_is_read_clamped() {
        let (_dir, store) = store();
        let at = now();
        for (from, to) in [
            (0.0, 0.0),
            (0.0, -1.0),
            (0.0, f64::NAN),
            (0.0, 36_501.0 * 86_400.0),
        ] {
            let refused = store.add_silence(&NewSilence {
                check: None,
                created_by: "x",
                note: "",
                starts_at: at + from,
                ends_at: at + to,
            });
            assert!(
                matches!(refused, Err(StoreError::SilenceOutOfRange(_))),
                "{to}: {refused:?}"
            );
        }
        store
            .conn
            .execute(
                "INSERT INTO silences (check_name, created_at, created_by, starts_at, ends_at)
                 VALUES ('web', ?1, 'old', ?1, ?2)",
                params![at, f64::INFINITY],
            )
            .unwrap();
        let read = store.silence_of("web").unwrap().unwrap();
        assert_eq!(read.ends_at, crate::clock::LAST_TIME);
        assert_eq!(read.state, "active");
        assert!(read.describe().contains("until 9999-12-31T23:59:59Z"));
    }

    #[test]
    fn ended_silences_are_kept_and_listed_apart() {
        let (_dir, store) = store();
        let ended = add(&store, Some("web"), -100.0, -50.0);
        let active = add(&store, Some("web"), -10.0, 3600.0);
        assert!(store.silence_of("web").unwrap().is_some());
        let expired = store.expire_silence(active.id).unwrap();
        assert_eq!(expired.state, "expired");
        assert!(store.silence_of("web").unwrap().is_none());
        assert!(store.silences(false, None).unwrap().is_empty());
        let all = store.silences(true, None).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(store.silence(ended.id).unwrap().state, "expired");
        let again = store.expire_silence(active.id).unwrap_err().to_string();
        assert!(again.contains("already ended"), "{again}");
        let missing = store.expire_silence(99).unwrap_err().to_string();
        assert!(missing.contains("no silence 99"), "{missing}");
    }
}
