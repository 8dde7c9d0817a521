//! The circuit breaker (`[policy] budget`): what the healer did in the last hour and to each
//! unit in the last day, read from the attempts (each keeps its plan's action count and the
//! units it (re)starts, migration 16), against the caps. Plans that ran count, whatever came
//! of them (a failed restart is a restart); dry runs, refused plans and a person's own
//! resolution do not.

use super::{Result, Store};
use crate::clock::now;
use crate::config::Budget;
use rusqlite::params;
use serde::Serialize;

const HOUR: f64 = 3600.0;
const DAY: f64 = 86_400.0;

/// Attempts that count against the budget.
const COUNTED: &str = "outcome NOT IN ('dry_run', 'rejected') AND source != 'person'";

/// The breaker as it stands: open when the next plan would be held (a cap is reached).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Breaker {
    pub open: bool,
    /// Why it is open, one line per cap reached.
    pub reasons: Vec<String>,
    pub actions_last_hour: i64,
    /// 0: no cap.
    pub actions_per_hour: u32,
    /// The most (re)started unit of the last day, if any was.
    pub most_restarted_unit: Option<UnitRestarts>,
    /// 0: no cap.
    pub restarts_per_unit_per_day: u32,
}

/// A unit and how many times plans (re)started it in the last day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitRestarts {
    pub unit: String,
    pub restarts: i64,
}

impl Store {
    fn actions_since(&self, since: f64) -> Result<i64> {
        Ok(self.conn.query_row(
            &format!(
                "SELECT COALESCE(SUM(COALESCE(actions, 1)), 0) FROM attempts
                  WHERE started_at >= ?1 AND {COUNTED}"
            ),
            [since],
            |row| row.get(0),
        )?)
    }

    /// (unit, times it was (re)started since `since`), most first; only `unit` when given.
    fn restarts_since_by_unit(&self, since: f64, unit: Option<&str>) -> Result<Vec<(String, i64)>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT u.value, COUNT(*) FROM attempts a, json_each(a.units) u
              WHERE a.started_at >= ?1 AND a.units IS NOT NULL AND {COUNTED}
                AND (?2 IS NULL OR u.value = ?2)
              GROUP BY u.value ORDER BY COUNT(*) DESC, u.value"
        ))?;
        let rows = stmt.query_map(params![since, unit], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Why a plan of `actions` actions (re)starting `units` may not run now, if the budget says
    /// so: the words the held plan and the incident keep.
    pub fn budget_refusal(
        &self,
        budget: &Budget,
        actions: usize,
        units: &[String],
    ) -> Result<Option<String>> {
        let at = now();
        if budget.actions_per_hour > 0 {
            let done = self.actions_since(at - HOUR)?;
            if done + actions as i64 > i64::from(budget.actions_per_hour) {
                return Ok(Some(format!(
                    "circuit breaker open: {done} action(s) in the last hour, and this plan's \
                     {actions} would pass [policy] budget.actions_per_hour = {}",
                    budget.actions_per_hour
                )));
            }
        }
        if budget.restarts_per_unit_per_day > 0 {
            let mut checked: Vec<&str> = Vec::new();
            for unit in units {
                if checked.contains(&unit.as_str()) {
                    continue;
                }
                checked.push(unit);
                let planned = units.iter().filter(|u| *u == unit).count() as i64;
                let done = self
                    .restarts_since_by_unit(at - DAY, Some(unit))?
                    .first()
                    .map_or(0, |(_, n)| *n);
                if done + planned > i64::from(budget.restarts_per_unit_per_day) {
                    return Ok(Some(format!(
                        "circuit breaker open: {unit} was (re)started {done} time(s) in the last \
                         day, and this plan would pass [policy] budget.restarts_per_unit_per_day = {}",
                        budget.restarts_per_unit_per_day
                    )));
                }
            }
        }
        Ok(None)
    }

    /// The breaker's state for people and Prometheus: open while a cap is reached.
    pub fn breaker(&self, budget: &Budget) -> Result<Breaker> {
        let at = now();
        let actions_last_hour = self.actions_since(at - HOUR)?;
        let units = self.restarts_since_by_unit(at - DAY, None)?;
        let mut reasons = Vec::new();
        let hourly = i64::from(budget.actions_per_hour);
        if hourly > 0 && actions_last_hour >= hourly {
            reasons.push(format!(
                "{actions_last_hour} action(s) in the last hour: [policy] budget.actions_per_hour is {hourly}"
            ));
        }
        let daily = i64::from(budget.restarts_per_unit_per_day);
        for (unit, count) in units.iter().filter(|(_, n)| daily > 0 && *n >= daily) {
            reasons.push(format!(
                "{unit} (re)started {count} time(s) in the last day: [policy] budget.restarts_per_unit_per_day is {daily}"
            ));
        }
        Ok(Breaker {
            open: !reasons.is_empty(),
            reasons,
            actions_last_hour,
            actions_per_hour: budget.actions_per_hour,
            most_restarted_unit: units
                .into_iter()
                .next()
                .map(|(unit, restarts)| UnitRestarts { unit, restarts }),
            restarts_per_unit_per_day: budget.restarts_per_unit_per_day,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Phase;
    use crate::store::NewAttempt;

    fn ran(store: &Store, incident: i64, actions: usize, units: &[String]) {
        store
            .begin_attempt(&NewAttempt {
                incident,
                phase: Phase::Fix,
                source: "remedy",
                plan_json: "[]",
                plan_hash: "h",
                restarts: !units.is_empty(),
                actions,
                units,
            })
            .unwrap();
    }

    #[test]
    fn the_breaker_opens_at_a_cap_and_refuses_a_plan_that_would_pass_it() {
        let (_dir, store, incident) = crate::store::store_with_incident();
        let budget = Budget {
            actions_per_hour: 5,
            restarts_per_unit_per_day: 2,
        };
        let web = ["web.service".to_string()];
        ran(&store, incident, 2, &web);
        assert!(!store.breaker(&budget).unwrap().open);
        assert_eq!(store.budget_refusal(&budget, 3, &[]).unwrap(), None);
        let hourly = store.budget_refusal(&budget, 4, &[]).unwrap().unwrap();
        assert!(hourly.contains("2 action(s) in the last hour"), "{hourly}");
        ran(&store, incident, 1, &web);
        let breaker = store.breaker(&budget).unwrap();
        assert!(breaker.open, "{breaker:?}");
        assert_eq!(
            breaker.most_restarted_unit,
            Some(UnitRestarts {
                unit: "web.service".into(),
                restarts: 2
            })
        );
        assert!(breaker.reasons[0].contains("web.service (re)started 2 time(s)"));
        let daily = store.budget_refusal(&budget, 1, &web).unwrap().unwrap();
        assert!(
            daily.contains("web.service was (re)started 2 time(s)"),
            "{daily}"
        );
        // Another unit has its own count; no cap at 0.
        assert_eq!(
            store
                .budget_refusal(&budget, 1, &["db.service".into()])
                .unwrap(),
            None
        );
        let open = Budget {
            actions_per_hour: 0,
            restarts_per_unit_per_day: 0,
        };
        assert_eq!(store.budget_refusal(&open, 100, &web).unwrap(), None);
        assert!(!store.breaker(&open).unwrap().open);
    }
}
