//! What the agent phases record: every consultation (vote), rejected plans, and plans held for
//! a person's approval with the decision on them.

use super::incidents::add_event;
use super::{Result, Store};
use crate::clock::{now, Timestamp};
use crate::model::{EventKind, HeldDecision, Phase, Vote};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

pub struct NewConsultation<'a> {
    pub incident: i64,
    pub agent: &'a str,
    pub phase: Phase,
    pub round: Option<i64>,
    pub response: &'a str,
    pub diagnosis: &'a str,
    pub plan_json: Option<&'a str>,
    pub plan_hash: Option<&'a str>,
    pub confidence: Option<f64>,
    pub vote: Vote,
    pub agreement: Option<&'a str>,
    pub latency_ms: u64,
    pub error: Option<&'a str>,
    /// What the CLI reported it spent, where it did.
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Consultation {
    pub id: i64,
    pub attempt: Option<i64>,
    pub agent: String,
    pub phase: Phase,
    pub round: Option<i64>,
    pub diagnosis: String,
    pub plan: Option<serde_json::Value>,
    pub plan_hash: Option<String>,
    pub confidence: Option<f64>,
    pub vote: Vote,
    pub agreement: Option<String>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub response: String,
    pub created_at: Timestamp,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
}

/// A plan waiting for (or decided by) a person.
#[derive(Debug, Clone, Serialize)]
pub struct HeldPlan {
    pub escalation: i64,
    pub incident: i64,
    pub plan: String,
    pub source: String,
    pub phase: Phase,
    pub reason: String,
    pub decision: Option<HeldDecision>,
    pub decided_by: Option<String>,
    pub executed_at: Option<Timestamp>,
}

const HELD_COLUMNS: &str = "id, incident, held_plan, COALESCE(held_source, '') AS held_source, COALESCE(held_phase, 4) AS held_phase, reason, decision, decided_by, executed_at";

fn held_from_row(row: &Row) -> rusqlite::Result<HeldPlan> {
    Ok(HeldPlan {
        escalation: row.get("id")?,
        incident: row.get("incident")?,
        plan: row.get("held_plan")?,
        source: row.get("held_source")?,
        phase: row.get("held_phase")?,
        reason: row.get("reason")?,
        decision: row.get("decision")?,
        decided_by: row.get("decided_by")?,
        executed_at: row.get("executed_at")?,
    })
}

impl Store {
    pub fn next_consult_round(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(MAX(round), 0) + 1 FROM agent_consultations",
            [],
            |row| row.get(0),
        )?)
    }

    pub fn record_consultation(&self, c: &NewConsultation) -> Result<i64> {
        let response = self.redactor().redact_json_text(c.response);
        let diagnosis = self.mask(c.diagnosis);
        let error = c.error.map(|e| self.mask(e));
        // Shown, never run (the attempt keeps the plan that runs): masked value by value.
        let plan = c.plan_json.map(|p| self.redactor().redact_json_text(p));
        self.conn.execute(
            "INSERT INTO agent_consultations (incident, agent, phase, round, response, diagnosis, plan, plan_hash, confidence,
                 vote, agreement, latency_ms, error, created_at, input_tokens, output_tokens, cost_usd)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                c.incident,
                c.agent,
                c.phase.number(),
                c.round,
                response,
                diagnosis,
                plan,
                c.plan_hash,
                c.confidence,
                c.vote,
                c.agreement,
                c.latency_ms as i64,
                error,
                now(),
                c.input_tokens,
                c.output_tokens,
                c.cost_usd
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Ties consultations to the attempt that ran the plan they proposed.
    pub fn link_consultations(&self, consultations: &[i64], attempt: i64) -> Result<()> {
        for id in consultations {
            self.conn.execute(
                "UPDATE agent_consultations SET attempt = ?2 WHERE id = ?1",
                params![id, attempt],
            )?;
        }
        Ok(())
    }

    pub fn consultations(&self, incident: i64) -> Result<Vec<Consultation>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, attempt, agent, phase, round, diagnosis, plan, plan_hash, confidence, vote, agreement, latency_ms, error,
                    response, created_at, input_tokens, output_tokens, cost_usd
             FROM agent_consultations WHERE incident = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([incident], |row| {
            let plan: Option<String> = row.get("plan")?;
            Ok(Consultation {
                id: row.get("id")?,
                attempt: row.get("attempt")?,
                agent: row.get("agent")?,
                phase: row.get("phase")?,
                round: row.get("round")?,
                diagnosis: row.get("diagnosis")?,
                plan: plan.and_then(|p| serde_json::from_str(&p).ok()),
                plan_hash: row.get("plan_hash")?,
                confidence: row.get("confidence")?,
                vote: row.get("vote")?,
                agreement: row.get("agreement")?,
                latency_ms: row.get("latency_ms")?,
                error: row.get("error")?,
                response: row.get("response")?,
                created_at: row.get("created_at")?,
                input_tokens: row.get("input_tokens")?,
                output_tokens: row.get("output_tokens")?,
                cost_usd: row.get("cost_usd")?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// A plan the policy refused: recorded as a `rejected` attempt with the reasons.
    pub fn record_rejected_plan(
        &self,
        incident: i64,
        phase: Phase,
        source: &str,
        plan_json: &str,
        plan_hash: &str,
        reason: &str,
    ) -> Result<i64> {
        let reason = self.mask(reason);
        let at = now();
        self.conn.execute(
            "INSERT INTO attempts (incident, phase, source, plan, plan_hash, outcome, reason, started_at, finished_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'rejected', ?6, ?7, ?7)",
            params![incident, phase.number(), source, plan_json, plan_hash, reason, at],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Holds a plan for approval: an escalation carrying the plan, and the incident
    /// handed to phase 4 — one transaction.
    pub fn hold_plan(
        &mut self,
        incident: i64,
        phase: Phase,
        source: &str,
        plan_json: &str,
        reason: &str,
    ) -> Result<i64> {
        let reason = &self.mask(reason);
        let tx = self.conn.transaction()?;
        let at = now();
        tx.execute(
            "INSERT INTO escalations (incident, status, reason, held_plan, held_source, held_phase, created_at)
             VALUES (?1, 'open', ?2, ?3, ?4, ?5, ?6)",
            params![incident, reason, plan_json, source, phase.number(), at],
        )?;
        let escalation = tx.last_insert_rowid();
        tx.execute(
            "UPDATE incidents SET phase = 4, max_phase = 4, handoff = ?2 WHERE id = ?1 AND status = 'open'",
            params![incident, reason],
        )?;
        add_event(
            &tx,
            incident,
            EventKind::Held,
            &format!("plan from {source} held for approval: {reason}"),
        )?;
        tx.commit()?;
        Ok(escalation)
    }

    /// The incident's latest held plan, decided or not.
    pub fn held_plan(&self, incident: i64) -> Result<Option<HeldPlan>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {HELD_COLUMNS} FROM escalations WHERE incident = ?1 AND held_plan IS NOT NULL ORDER BY id DESC LIMIT 1"),
                [incident],
                held_from_row,
            )
            .optional()?)
    }

    /// Records a person's decision on a held plan.
    pub fn decide_held_plan(&mut self, escalation: i64, approved: bool, by: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        let at = now();
        let decision = if approved {
            HeldDecision::Approved
        } else {
            HeldDecision::Dismissed
        };
        tx.execute(
            "UPDATE escalations SET decision = ?2, decided_by = ?3, decided_at = ?4 WHERE id = ?1",
            params![escalation, decision, by, at],
        )?;
        let incident: i64 = tx.query_row(
            "SELECT incident FROM escalations WHERE id = ?1",
            [escalation],
            |row| row.get(0),
        )?;
        add_event(
            &tx,
            incident,
            EventKind::decided(decision),
            &format!("held plan {decision} by {by}"),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Approved plans that have not run yet (approved on the dashboard; `fix` runs them).
    pub fn approved_plans_pending(&self) -> Result<Vec<HeldPlan>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {HELD_COLUMNS} FROM escalations WHERE decision = 'approved' AND executed_at IS NULL AND held_plan IS NOT NULL ORDER BY id"
        ))?;
        let rows = stmt.query_map([], held_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn mark_held_plan_executed(&self, escalation: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE escalations SET executed_at = ?2 WHERE id = ?1",
            params![escalation, now()],
        )?;
        Ok(())
    }

    /// An approved plan ran and did not fix the incident: it no longer waits for anyone's
    /// approval, so the escalation's reason and the incident's hand-off say what happened
    /// instead (the dashboard, `incidents show` and every reminder read them), on the timeline
    /// too; the escalation stays open for a person.
    pub fn approved_plan_failed(&mut self, escalation: i64, reason: &str) -> Result<()> {
        let reason = &self.mask(reason);
        let tx = self.conn.transaction()?;
        let incident: i64 = tx.query_row(
            "UPDATE escalations SET reason = ?2 WHERE id = ?1 RETURNING incident",
            params![escalation, reason],
            |row| row.get(0),
        )?;
        tx.execute(
            "UPDATE incidents SET handoff = ?2 WHERE id = ?1 AND status IN ('open', 'escalated')",
            params![incident, reason],
        )?;
        add_event(&tx, incident, EventKind::Escalated, reason)?;
        tx.commit()?;
        Ok(())
    }

    /// An approval the policy no longer honours: the plan waits for a person's decision again,
    /// with the reason on the incident's timeline.
    pub fn withdraw_approval(&mut self, escalation: i64, reason: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        let incident: i64 = tx.query_row(
            "UPDATE escalations SET decision = NULL, decided_by = NULL, decided_at = NULL WHERE id = ?1
             RETURNING incident",
            [escalation],
            |row| row.get(0),
        )?;
        add_event(&tx, incident, EventKind::Withdrawn, reason)?;
        tx.commit()?;
        Ok(())
    }

    /// Closes an incident's open escalations (its plan fixed it, or it recovered).
    pub fn close_escalations(&self, incident: i64, note: &str) -> Result<()> {
        let note = self.mask(note);
        self.conn.execute(
            "UPDATE escalations SET status = 'resolved', note = COALESCE(note, ?2) WHERE incident = ?1 AND status != 'resolved'",
            params![incident, note],
        )?;
        Ok(())
    }

    /// The check's latest recorded result: (status, summary, output).
    pub fn last_check_result(&self, check: &str) -> Result<Option<(String, String, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT status, summary, output FROM checks WHERE name = ?1",
                [check],
                |row| Ok((row.get("status")?, row.get("summary")?, row.get("output")?)),
            )
            .optional()?)
    }
}
