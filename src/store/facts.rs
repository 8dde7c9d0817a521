//! The facts gathered for an incident (src/facts.rs), kept as JSON: the latest gathering.

use super::{Result, Store};
use crate::clock::now;
use rusqlite::{params, OptionalExtension};
use serde_json::Value;

impl Store {
    /// Keeps `facts` as the incident's latest, masked like every other text the store keeps.
    pub fn record_facts(&self, incident: i64, facts: &Value) -> Result<()> {
        let mut facts = facts.clone();
        self.redactor().redact_value(&mut facts);
        self.conn.execute(
            "INSERT INTO incident_facts (incident, gathered_at, facts) VALUES (?1, ?2, ?3)
             ON CONFLICT (incident) DO UPDATE SET gathered_at = excluded.gathered_at, facts = excluded.facts",
            params![incident, now(), facts.to_string()],
        )?;
        Ok(())
    }

    /// The incident's latest facts, if any were gathered.
    pub fn facts_of(&self, incident: i64) -> Result<Option<Value>> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT facts FROM incident_facts WHERE incident = ?1",
                [incident],
                |row| row.get(0),
            )
            .optional()?;
        Ok(text.map(|t| serde_json::from_str(&t).unwrap_or(Value::Null)))
    }
}
