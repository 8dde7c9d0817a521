//! A person's decisions on the dashboard: acknowledge, approve, dismiss, resolve, a verdict on
//! an agent's diagnosis, silences, and changes to learned patterns. Each is one store
//! transaction, by the same rules as the CLI
//! (`phases::approval`); the web process never acts on the host.

use super::forms::Form;
use super::server::Request;
use super::{Dashboard, Reply};
use crate::phases::approval::{self, ApprovalError, DecidedOn, Decision, ResolveError, Teaching};
use crate::store::Store;

impl Dashboard {
    pub(super) fn decide(&self, request: &mut Request, id: &str, action: &str) -> Reply {
        let Ok(id) = id.parse::<i64>() else {
            return Reply::text(404, "no such incident");
        };
        let form = match self.checked_form(request) {
            Ok(form) => form,
            Err(reply) => return reply,
        };
        let outcome = self
            .writer()
            .and_then(|mut store| self.apply(&mut store, id, action, &form));
        match outcome {
            Ok(()) => Reply::redirect(&format!("/incidents/{id}")),
            Err(reply) => reply,
        }
    }

    /// Adds or ends a silence from `/silences`, then shows that page again.
    pub(super) fn silence(
        &self,
        request: &mut Request,
        change: impl FnOnce(&Store, &Form) -> Result<(), Reply>,
    ) -> Reply {
        let outcome = self.checked_form(request).and_then(|form| {
            let store = self.writer()?;
            change(&store, &form)
        });
        match outcome {
            Ok(()) => Reply::redirect("/silences"),
            Err(reply) => reply,
        }
    }

    /// Disables, enables or forgets a pattern from `/patterns`, then shows that page again.
    pub(super) fn pattern_change(&self, request: &mut Request, id: &str, action: &str) -> Reply {
        let outcome = self.checked_form(request).and_then(|form| {
            let mut store = self.writer()?;
            super::patterns::change(&mut store, id, action, &form)
        });
        match outcome {
            Ok(()) => Reply::redirect("/patterns"),
            Err(reply) => reply,
        }
    }

    /// The store a decision is written through, masking with the config's rules too.
    fn writer(&self) -> Result<Store, Reply> {
        Ok(Store::open(&self.db)
            .map_err(conflict)?
            .masking_with(self.redactor.clone()))
    }

    fn apply(&self, store: &mut Store, id: i64, action: &str, form: &Form) -> Result<(), Reply> {
        let by = "dashboard";
        match action {
            "ack" => store
                .acknowledge(id, by, form.get("note").filter(|n| !n.is_empty()))
                .map_err(conflict),
            "approve" | "dismiss" => {
                let decision = match action {
                    "approve" => Decision::Approve,
                    _ => Decision::Dismiss,
                };
                // Same rules as the CLI; only recorded here, the next `fix` runs an approval.
                approval::decide(store, &self.config, id, decision, by, DecidedOn::Dashboard)
                    .map(|_| ())
                    .map_err(|err| match err {
                        ApprovalError::NoLongerAllowed { reasons, .. } => refused_by_policy(
                            "the plan no longer passes the policy and was not approved",
                            &reasons,
                            "a wider [policy], then approve again",
                        ),
                        other => conflict(other),
                    })
            }
            "resolve" => {
                let note = form
                    .get("note")
                    .filter(|n| !n.trim().is_empty())
                    .ok_or_else(|| conflict("a note is required"))?;
                let plan = form.get("plan").map(str::trim).filter(|p| !p.is_empty());
                // A plan typed here is judged like an agent's: the dashboard never teaches
                // beyond the policy (root can, from the CLI, with --outside-policy).
                approval::resolve_by_person(
                    store,
                    &self.config,
                    id,
                    by,
                    note,
                    plan,
                    Teaching::WithinPolicy,
                )
                .map(|_| ())
                .map_err(|err| match err {
                    ResolveError::NotAPlan(_) => conflict(format!("the plan is {err}")),
                    ResolveError::Refused(reasons) => refused_by_policy(
                        "the plan is refused by [policy], nothing was learned and the incident stays open",
                        &reasons,
                        &format!("orchestrator incidents resolve {id} --note TEXT --plan JSON --outside-policy"),
                    ),
                    ResolveError::Store(_) => conflict(err),
                })
            }
            "feedback" => {
                let agent = form
                    .get("agent")
                    .filter(|a| !a.is_empty())
                    .ok_or_else(|| conflict("which agent?"))?;
                let good = match form.get("verdict") {
                    Some("good") => true,
                    Some("bad") => false,
                    _ => return Err(conflict("the verdict is good or bad")),
                };
                store
                    .record_feedback(
                        id,
                        agent,
                        good,
                        form.get("note").filter(|n| !n.is_empty()),
                        by,
                    )
                    .map_err(conflict)
            }
            _ => Err(conflict(format!("unknown action `{action}`"))),
        }
    }
}

/// A decision the store cannot record (a closed incident, no held plan, a malformed plan).
pub(super) fn conflict(message: impl ToString) -> Reply {
    Reply::text(409, &message.to_string())
}

/// A decision the policy refuses: 403, with the policy's reasons and the way that remains.
fn refused_by_policy(what: &str, reasons: &str, instead: &str) -> Reply {
    Reply::text(
        403,
        &format!("{what}.\nreasons: {reasons}\ninstead: {instead}\n"),
    )
}
