//! What checks remember between scans (a log's offset, a process's CPU sample) and how many
//! scans in a row each has failed, for `for_cycles`.

use super::{Result, Store};
use crate::checks::Memory;
use crate::clock::now;
use rusqlite::{params, OptionalExtension};
use std::collections::HashMap;

impl Store {
    /// What the last scan left for the check `name` to remember; `Null` when nothing.
    pub fn check_memory(&self, name: &str) -> Result<Memory> {
        let text: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT memory FROM check_memory WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .optional()?;
        Ok(text
            .flatten()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Memory::Null))
    }

    /// What the last scan left for every check to remember, by check name (one query per scan).
    pub fn check_memories(&self) -> Result<HashMap<String, Memory>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, memory FROM check_memory WHERE memory IS NOT NULL")?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut found = HashMap::new();
        for row in rows {
            let (name, text) = row?;
            found.insert(name, serde_json::from_str(&text).unwrap_or(Memory::Null));
        }
        Ok(found)
    }

    /// Whether the check `name` has an incident open or escalated.
    pub fn has_active_incident(&self, name: &str) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM incidents WHERE check_name = ?1 AND status IN ('open', 'escalated'))",
            [name],
            |row| row.get(0),
        )?)
    }

    /// Keeps what a scan of `name` will need next time. Masked like every other text kept:
    /// a kind may remember a line it quoted.
    pub fn remember(&self, name: &str, memory: &Memory) -> Result<()> {
        let mut memory = memory.clone();
        self.redactor().redact_value(&mut memory);
        self.conn.execute(
            "INSERT INTO check_memory (name, memory, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET memory = excluded.memory, updated_at = excluded.updated_at",
            params![name, memory.to_string(), now()],
        )?;
        Ok(())
    }

    /// Counts one more scan of `name`: its failing streak grows when `failing`, else starts
    /// over. Returns the streak including this scan.
    pub fn count_failing_scan(&self, name: &str, failing: bool) -> Result<u32> {
        let streak: i64 = self.conn.query_row(
            "INSERT INTO check_memory (name, failing_streak, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET
                 failing_streak = CASE WHEN ?2 = 1 THEN MIN(failing_streak + 1, 1000000) ELSE 0 END,
                 updated_at = excluded.updated_at
             RETURNING failing_streak",
            params![name, i64::from(failing), now()],
            |row| row.get(0),
        )?;
        Ok(u32::try_from(streak).unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_round_trips_and_streaks_count_and_reset() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(store.check_memory("log").unwrap(), Memory::Null);
        store
            .remember("log", &serde_json::json!({"inode": 7, "offset": 42}))
            .unwrap();
        assert_eq!(store.check_memory("log").unwrap()["offset"], 42);
        assert_eq!(store.count_failing_scan("log", true).unwrap(), 1);
        assert_eq!(store.count_failing_scan("log", true).unwrap(), 2);
        assert_eq!(store.count_failing_scan("log", false).unwrap(), 0);
        assert_eq!(store.count_failing_scan("new", true).unwrap(), 1);
        // The streak leaves the memory alone, and the memory the streak.
        assert_eq!(store.check_memory("log").unwrap()["offset"], 42);
        store.remember("new", &Memory::Null).unwrap();
        assert_eq!(store.count_failing_scan("new", true).unwrap(), 2);
    }
}
