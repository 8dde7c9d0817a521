//! What the agents' investigation tools (`orchestrator mcp`) and their track record read: past
//! incidents like one and what fixed them, each agent's record, and a person's verdict on a
//! diagnosis.

use super::{Incident, Result, Store};
use rusqlite::params;
use serde::Serialize;

/// A closed incident like another one, and how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct SimilarIncident {
    pub incident: Incident,
    /// "signature" (the same failure, numbers and ids masked) or "check" (the same check).
    pub alike_by: &'static str,
    /// The plan that fixed it (the last verified attempt), as stored, and who proposed it.
    pub fixed_by_plan: Option<serde_json::Value>,
    pub fixed_by_source: Option<String>,
    /// What a person wrote when acknowledging or closing its escalation.
    pub note: Option<String>,
}

impl Store {
    /// Closed incidents of this host like `incident`, newest first: those with the same
    /// signature, then others of the same check; at most `limit`.
    pub fn similar_incidents(
        &self,
        incident: &Incident,
        limit: i64,
    ) -> Result<Vec<SimilarIncident>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {}, signature = ?2 AS same
               FROM incidents
              WHERE id != ?1 AND status IN ('resolved', 'recovered')
                AND (signature = ?2 OR check_name = ?3)
              ORDER BY same DESC, COALESCE(resolved_at, last_seen_at) DESC
              LIMIT ?4",
            super::incidents::INCIDENT_COLUMNS
        ))?;
        let rows = stmt.query_map(
            params![incident.id, incident.signature, incident.check, limit],
            |row| Ok((Incident::from_row(row)?, row.get::<_, bool>("same")?)),
        )?;
        let found = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        let mut similar = Vec::with_capacity(found.len());
        for (past, same) in found {
            let fix = self
                .conn
                .query_row(
                    "SELECT plan, source FROM attempts WHERE incident = ?1 AND outcome = 'fixed'
                      ORDER BY id DESC LIMIT 1",
                    [past.id],
                    |row| {
                        Ok((
                            row.get::<_, String>("plan")?,
                            row.get::<_, String>("source")?,
                        ))
                    },
                )
                .ok();
            let note = self
                .conn
                .query_row(
                    "SELECT note FROM escalations WHERE incident = ?1 AND note IS NOT NULL
                      ORDER BY id DESC LIMIT 1",
                    [past.id],
                    |row| row.get::<_, String>(0),
                )
                .ok();
            let (plan, source) = match fix {
                Some((plan, source)) => (serde_json::from_str(&plan).ok(), Some(source)),
                None => (None, None),
            };
            similar.push(SimilarIncident {
                incident: past,
                alike_by: if same { "signature" } else { "check" },
                fixed_by_plan: plan,
                fixed_by_source: source,
                note,
            });
        }
        Ok(similar)
    }
}

/// A person's verdict on an agent's diagnosis of an incident.
#[derive(Debug, Clone, Serialize)]
pub struct Feedback {
    pub incident: i64,
    pub agent: String,
    /// `good` or `bad`.
    pub verdict: String,
    pub note: Option<String>,
    pub by: String,
    pub at: crate::clock::Timestamp,
}

/// One agent's track record over a window (see orchestrator-metrics(1), "agents").
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AgentRecord {
    pub agent: String,
    /// Answers recorded (every vote and abstention).
    pub consultations: i64,
    /// Distinct incidents it was asked about.
    pub incidents: i64,
    /// Answers with a plan in the vocabulary (whatever the policy then said of it).
    pub proposed: i64,
    /// Proposals whose plan was verified to fix the incident (in the phase it proposed it).
    pub fixed: i64,
    /// Plans the policy refused, or outside the vocabulary.
    pub refused: i64,
    pub abstained: i64,
    /// Time spent answering, in seconds.
    pub seconds: f64,
    /// Tokens and cost where the CLI reported them (null when it never did).
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    /// A person's verdicts on its diagnoses.
    pub good: i64,
    pub bad: i64,
}

impl Store {
    /// Records a person's verdict on `agent`'s diagnosis of `incident` (replacing an earlier
    /// one), with a line on the incident's timeline. The agent must have answered about it.
    pub fn record_feedback(
        &mut self,
        incident: i64,
        agent: &str,
        good: bool,
        note: Option<&str>,
        by: &str,
    ) -> Result<()> {
        self.incident(incident)?;
        let asked: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM agent_consultations WHERE incident = ?1 AND agent = ?2)",
            params![incident, agent],
            |row| row.get(0),
        )?;
        if !asked {
            return Err(super::StoreError::NotConsulted(incident, agent.to_string()));
        }
        let note = note.map(|n| self.mask(n));
        let verdict = if good { "good" } else { "bad" };
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO agent_feedback (incident, agent, verdict, note, by, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (incident, agent) DO UPDATE SET verdict = excluded.verdict, note = excluded.note,
                 by = excluded.by, at = excluded.at",
            params![incident, agent, verdict, note, by, crate::clock::now()],
        )?;
        let detail = match &note {
            Some(note) => format!("diagnosis of agent {agent} marked {verdict} by {by}: {note}"),
            None => format!("diagnosis of agent {agent} marked {verdict} by {by}"),
        };
        super::incidents::add_event(&tx, incident, crate::model::EventKind::Feedback, &detail)?;
        tx.commit()?;
        Ok(())
    }

    /// The verdicts on an incident's diagnoses, by agent.
    pub fn feedback_of(&self, incident: i64) -> Result<Vec<Feedback>> {
        let mut stmt = self.conn.prepare(
            "SELECT incident, agent, verdict, note, by, at FROM agent_feedback WHERE incident = ?1 ORDER BY agent",
        )?;
        let rows = stmt.query_map([incident], |row| {
            Ok(Feedback {
                incident: row.get("incident")?,
                agent: row.get("agent")?,
                verdict: row.get("verdict")?,
                note: row.get("note")?,
                by: row.get("by")?,
                at: row.get("at")?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Each agent's record over the answers given since `since` (and the verdicts given since
    /// then), by the definitions the counters of migration 14 keep for all time.
    pub fn agent_records(&self, since: crate::clock::Timestamp) -> Result<Vec<AgentRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT agent, COUNT(*) AS consultations, COUNT(DISTINCT incident) AS incidents,
                    COALESCE(SUM(plan_hash IS NOT NULL), 0) AS proposed,
                    COALESCE(SUM(EXISTS (SELECT 1 FROM attempts a WHERE a.incident = c.incident
                        AND a.phase = c.phase AND a.plan_hash = c.plan_hash AND a.outcome = 'fixed')), 0)
                        AS fixed,
                    COALESCE(SUM(vote = 'rejected' OR (attempt IS NOT NULL
                        AND (SELECT outcome FROM attempts a WHERE a.id = c.attempt) = 'rejected')), 0)
                        AS refused,
                    COALESCE(SUM(vote = 'abstained'), 0) AS abstained,
                    COALESCE(SUM(latency_ms), 0) / 1000.0 AS seconds,
                    SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
                    SUM(cost_usd) AS cost_usd
               FROM agent_consultations c WHERE created_at >= ?1 GROUP BY agent ORDER BY agent",
        )?;
        let rows = stmt.query_map([since], |row| {
            Ok(AgentRecord {
                agent: row.get("agent")?,
                consultations: row.get("consultations")?,
                incidents: row.get("incidents")?,
                proposed: row.get("proposed")?,
                fixed: row.get("fixed")?,
                refused: row.get("refused")?,
                abstained: row.get("abstained")?,
                seconds: row.get("seconds")?,
                input_tokens: row.get("input_tokens")?,
                output_tokens: row.get("output_tokens")?,
                cost_usd: row.get("cost_usd")?,
                good: 0,
                bad: 0,
            })
        })?;
        let mut records = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        for (agent, good, bad) in self.verdicts(Some(since))? {
            match records.iter_mut().find(|r| r.agent == agent) {
                Some(record) => (record.good, record.bad) = (good, bad),
                None => records.push(AgentRecord {
                    agent,
                    good,
                    bad,
                    ..AgentRecord::default()
                }),
            }
        }
        records.sort_by(|a, b| a.agent.cmp(&b.agent));
        Ok(records)
    }

    /// (agent, good, bad) verdicts given since `since`, or ever.
    pub fn verdicts(&self, since: Option<f64>) -> Result<Vec<(String, i64, i64)>> {
        let mut stmt = self.conn.prepare(
            "SELECT agent, COALESCE(SUM(verdict = 'good'), 0) AS good,
                    COALESCE(SUM(verdict = 'bad'), 0) AS bad
               FROM agent_feedback WHERE at >= ?1 GROUP BY agent ORDER BY agent",
        )?;
        let rows = stmt.query_map([since.unwrap_or(f64::MIN)], |row| {
            Ok((row.get("agent")?, row.get("good")?, row.get("bad")?))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

impl Store {
    /// Each agent's vote weight for phase 3's `weigh_by_record`, from its record since the
    /// database began: (verified fixes + good verdicts + 1) / (proposals + verdicts + 2). The
    /// share of its plans that fixed and of its diagnoses people called right, smoothed so that
    /// an agent with no record weighs 1/2 and one record never weighs 0 or 1.
    pub fn agent_weight(&self, agent: &str) -> Result<f64> {
        let counter = |name: &str| -> Result<f64> {
            use rusqlite::OptionalExtension;
            Ok(self
                .conn
                .query_row(
                    "SELECT value FROM counters WHERE name = ?1 AND label = ?2",
                    params![name, agent],
                    |row| row.get::<_, f64>(0),
                )
                .optional()?
                .unwrap_or(0.0))
        };
        let (good, bad): (f64, f64) = self.conn.query_row(
            "SELECT COALESCE(SUM(verdict = 'good'), 0) AS good, COALESCE(SUM(verdict = 'bad'), 0) AS bad
               FROM agent_feedback WHERE agent = ?1",
            [agent],
            |row| Ok((row.get::<_, i64>("good")? as f64, row.get::<_, i64>("bad")? as f64)),
        )?;
        let fixed = counter("agent_fixed")?;
        let proposed = counter("agent_proposed")?;
        Ok(weight(fixed, proposed, good, bad))
    }
}

/// The rule of [`Store::agent_weight`].
pub fn weight(fixed: f64, proposed: f64, good: f64, bad: f64) -> f64 {
    (fixed + good + 1.0) / (proposed.max(fixed) + good + bad + 2.0)
}

#[cfg(test)]
mod tests {
    use super::weight;

    #[test]
    fn a_new_agent_weighs_a_half_and_a_record_moves_it_but_never_to_the_ends() {
        assert_eq!(weight(0.0, 0.0, 0.0, 0.0), 0.5);
        assert_eq!(weight(0.0, 0.0, 2.0, 0.0), 0.75);
        assert!((weight(0.0, 0.0, 0.0, 1.0) - 1.0 / 3.0).abs() < 1e-9);
        assert!(weight(100.0, 100.0, 50.0, 0.0) < 1.0);
        assert!(weight(0.0, 100.0, 0.0, 50.0) > 0.0);
        // More fixes than proposals (a reopened incident fixed again) cannot pass 1.
        assert!(weight(5.0, 3.0, 0.0, 0.0) < 1.0);
    }
}
