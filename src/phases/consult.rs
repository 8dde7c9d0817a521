//! `consult`, phase 3 (docs/agents.md, "Phase 3: consult"): several agents answer in parallel; plans are normalised and
//! hashed; the plan proposed by at least `quorum` agents, and by more agents than any other,
//! wins, is judged by the policy, run and verified. No consensus: phase 4. Every vote is kept.

use super::agentic::{act, brief, conclude, ready, record, Briefing, Ready, Recorded, Step};
use super::attempt::Candidate;
use super::report::{pass_on, IncidentLine, NO_CONSULT_AGENTS};
use super::Runtime;
use crate::actions::Plan;
use crate::agents::{self, Answer, Consultation};
use crate::config::{Check, ConsultConfig};
use crate::model::{Phase, Vote};
use crate::policy::{Policy, Verdict as PolicyVerdict};
use crate::store::Incident;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize, Default)]
pub struct ConsultReport {
    pub incidents: Vec<IncidentLine>,
}

pub fn consult(rt: &mut Runtime) -> anyhow::Result<ConsultReport> {
    let mut report = ConsultReport::default();
    rt.recover_interrupted()?;
    for incident in rt.store.incidents_waiting(Phase::Consult)? {
        let line = match super::silenced(rt, &incident)? {
            Some(line) => line,
            None => consult_incident(rt, &incident)?,
        };
        report.incidents.push(line);
    }
    Ok(report)
}

fn consult_incident(rt: &mut Runtime, incident: &Incident) -> anyhow::Result<IncidentLine> {
    let line = IncidentLine::new(incident);
    let config = rt.config;
    let Some(consult) = config.consult.as_ref().filter(|c| !c.agents.is_empty()) else {
        return pass_on(
            rt,
            incident,
            Phase::Escalate,
            NO_CONSULT_AGENTS.into(),
            line,
        );
    };
    match ready(rt, incident, line)? {
        Ready::Done(line) => Ok(line),
        Ready::Ask(check, line) => vote_until_fixed(rt, incident, check, consult, line),
    }
}

fn vote_until_fixed(
    rt: &mut Runtime,
    incident: &Incident,
    check: &Check,
    consult: &ConsultConfig,
    mut line: IncidentLine,
) -> anyhow::Result<IncidentLine> {
    let started = std::time::Instant::now();
    let mut tried = rt
        .store
        .episode_plans(incident.id, Phase::Consult)?
        .judged();
    while tried.len() < rt.config.policy.max_attempts as usize {
        if started.elapsed() >= rt.config.cycle.phase_timeout.consult.std() {
            line.detail = format!(
                "phase 3 time ({}) used up; the next run goes on",
                rt.config.cycle.phase_timeout.consult
            );
            return Ok(line);
        }
        let briefing = brief(rt, incident, check)?;
        let answers = ask_all(rt, consult, check, &briefing);
        let tally = Tally::count(rt, check, &answers, consult);
        let consultation_ids = record_votes(rt, incident, check, &answers, &tally)?;
        let Some((hash, plan)) = tally.winner.clone() else {
            let reason = format!(
                "phase 3: no consensus ({})",
                tally.describe(consult.agents.len())
            );
            return pass_on(rt, incident, Phase::Escalate, reason, line);
        };
        if tried.contains(&hash) {
            let reason = "phase 3: the agents agree on a plan already tried".to_string();
            return pass_on(rt, incident, Phase::Escalate, reason, line);
        }
        let agreement = tally.agreement(consult.agents.len());
        let candidate = Candidate::new("consensus", plan);
        let (acted, attempt) = act(rt, incident, check, Phase::Consult, &candidate)?;
        if let Some(attempt) = attempt {
            let winners: Vec<i64> = consultation_ids
                .iter()
                .filter(|(h, _)| h.as_deref() == Some(hash.as_str()))
                .map(|(_, id)| *id)
                .collect();
            rt.store.link_consultations(&winners, attempt)?;
        }
        line = match conclude(rt, incident, &candidate, acted, line)? {
            Step::Done(line) => {
                return Ok(IncidentLine {
                    detail: format!("{} ({agreement})", line.detail),
                    ..line
                })
            }
            Step::Again(line) => line,
        };
        tried.push(hash);
    }
    pass_on(
        rt,
        incident,
        Phase::Escalate,
        format!("phase 3: {} consensus plan(s), none fixed it", tried.len()),
        line,
    )
}

/// Asks every agent, at most `[cycle] parallelism` at once; answers come back in config order.
fn ask_all(
    rt: &Runtime,
    consult: &ConsultConfig,
    check: &Check,
    briefing: &Briefing,
) -> Vec<Consultation> {
    let config = rt.config;
    let ask = |name: &String| match config.agents.get(name) {
        Some(agent) => agents::consult(
            name,
            agent,
            check,
            (&briefing.context, &briefing.prompt),
            &briefing.offer,
        ),
        None => Consultation {
            agent: name.clone(),
            latency_ms: 0,
            response: String::new(),
            answer: Answer::abstained("no such agent"),
            usage: Default::default(),
        },
    };
    // An agent that panicked gives no answer, as it did before the pool.
    crate::pool::map_bounded(&consult.agents, config.cycle.parallelism, ask)
        .into_iter()
        .flatten()
        .collect()
}

/// Votes by normalised plan hash. Plans the policy rejects do not vote.
struct Tally {
    /// Per plan hash: its votes, the sum of their weights (1 each unless `weigh_by_record`),
    /// and the plan.
    votes: BTreeMap<String, (usize, f64, Plan)>,
    /// Per answer: its hash if it voted, else why not.
    ballots: Vec<Result<String, String>>,
    winner: Option<(String, Plan)>,
}

impl Tally {
    fn count(
        rt: &Runtime,
        check: &Check,
        answers: &[Consultation],
        consult: &ConsultConfig,
    ) -> Tally {
        let policy = Policy::new(&rt.config.policy);
        let unit = check.unit.as_deref();
        let weight_of = |agent: &str| {
            if !consult.weigh_by_record {
                return 1.0;
            }
            // An agent whose record cannot be read weighs as one with none.
            rt.store.agent_weight(agent).unwrap_or(0.5)
        };
        let mut votes: BTreeMap<String, (usize, f64, Plan)> = BTreeMap::new();
        let mut ballots = Vec::new();
        for consultation in answers {
            let ballot = match &consultation.answer {
                Answer::Plan { plan, .. } => match policy.judge(plan, unit) {
                    PolicyVerdict::Rejected(reasons) => {
                        Err(format!("rejected by the policy: {}", reasons.join("; ")))
                    }
                    _ => {
                        let hash = plan.hash(unit);
                        let entry = votes
                            .entry(hash.clone())
                            .or_insert_with(|| (0, 0.0, plan.clone()));
                        entry.0 += 1;
                        entry.1 += weight_of(&consultation.agent);
                        Ok(hash)
                    }
                },
                Answer::Invalid { reason, .. } | Answer::Abstained { reason, .. } => {
                    Err(reason.clone())
                }
            };
            ballots.push(ballot);
        }
        // The most weight wins (votes, when unweighted); a tie is no consensus, and the winner
        // needs `quorum` agents however much it weighs.
        let best = votes.values().map(|(_, w, _)| *w).fold(0.0, f64::max);
        let leaders: Vec<(&String, &(usize, f64, Plan))> = votes
            .iter()
            .filter(|(_, (_, w, _))| (*w - best).abs() < 1e-9)
            .collect();
        let winner = match leaders.as_slice() {
            [(hash, (n, _, plan))] if *n >= consult.quorum => Some(((*hash).clone(), plan.clone())),
            _ => None,
        };
        Tally {
            votes,
            ballots,
            winner,
        }
    }

    /// "3/3", "2/3" for a consensus, "none" without.
    fn agreement(&self, asked: usize) -> String {
        match &self.winner {
            Some((hash, _)) => {
                format!("{}/{asked}", self.votes.get(hash).map_or(0, |v| v.0))
            }
            None => "none".into(),
        }
    }

    fn describe(&self, asked: usize) -> String {
        let voted: usize = self.votes.values().map(|(n, _, _)| n).sum();
        let counts: Vec<String> = self
            .votes
            .values()
            .map(|(n, w, plan)| {
                if (*w - *n as f64).abs() < 1e-9 {
                    format!("{n}× {}", plan.describe())
                } else {
                    format!("{n}× (weight {w:.2}) {}", plan.describe())
                }
            })
            .collect();
        format!(
            "{voted} of {asked} agents proposed a usable plan{}{}",
            if counts.is_empty() { "" } else { ": " },
            counts.join(", ")
        )
    }
}

/// Stores every vote with its round and the round's agreement; returns (hash, consultation id).
fn record_votes(
    rt: &Runtime,
    incident: &Incident,
    check: &Check,
    answers: &[Consultation],
    tally: &Tally,
) -> anyhow::Result<Vec<(Option<String>, i64)>> {
    let round = rt.store.next_consult_round()?;
    let agreement = tally.agreement(answers.len());
    let winning = tally.winner.as_ref().map(|(h, _)| h.clone());
    let mut ids = Vec::new();
    for (consultation, ballot) in answers.iter().zip(&tally.ballots) {
        let (vote, error) = match ballot {
            Ok(hash) if Some(hash) == winning.as_ref() => (Vote::Winner, None),
            Ok(_) => (Vote::Loser, None),
            // No vote: the agent abstained, or its plan was invalid or refused by the policy.
            Err(reason) => match consultation.answer {
                Answer::Abstained { .. } => (Vote::Abstained, Some(reason.clone())),
                _ => (Vote::Rejected, Some(reason.clone())),
            },
        };
        let recorded = Recorded {
            phase: Phase::Consult,
            round: Some(round),
            vote,
            agreement: Some(&agreement),
            error: error.as_deref(),
        };
        let id = record(rt, incident, check, consultation, recorded)?;
        ids.push((ballot.as_ref().ok().cloned(), id));
    }
    Ok(ids)
}
