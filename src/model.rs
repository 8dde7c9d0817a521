//! Domain words shared by every layer: check status, severity, phase, incident status, attempt
//! outcome. Each maps to and from the text stored in SQLite and shown in JSON; a stored text
//! that is no known word is a read error, never a guess.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A stored value that names no known word: the database was written by something else.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} {value:?} in the database")]
pub struct UnknownWord {
    pub what: &'static str,
    pub value: String,
}

fn unknown_word(what: &'static str, value: &str) -> FromSqlError {
    FromSqlError::Other(Box::new(UnknownWord {
        what,
        value: value.to_string(),
    }))
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every word, in the order declared.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            // Not every text enum is read back from text (`Outcome` is only written).
            #[allow(dead_code)]
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        // The one text of each word, in JSON as in SQL.
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::parse(&text).ok_or_else(|| {
                    let known: Vec<&str> = Self::ALL.iter().map(|word| word.as_str()).collect();
                    let known = known.join(", ");
                    serde::de::Error::custom(format!("unknown `{text}` (known: {known})"))
                })
            }
        }

        // Reads as its text where a `&str` is taken (pages print words as they are).
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let text = value.as_str()?;
                Self::parse(text).ok_or_else(|| unknown_word(stringify!($name), text))
            }
        }
    };
}

text_enum! {
    /// A check's verdict, in the Nagios plugin vocabulary (exit codes 0–3).
    Status { Ok => "ok", Warning => "warning", Critical => "critical", Unknown => "unknown" }
}

impl Status {
    pub fn from_exit_code(code: i32) -> Status {
        match code {
            0 => Status::Ok,
            1 => Status::Warning,
            2 => Status::Critical,
            _ => Status::Unknown,
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
            Status::Unknown => 3,
        }
    }

    /// The severity of the incident a failing check opens; `None` when it passes.
    pub fn severity(self) -> Option<Severity> {
        match self {
            Status::Ok => None,
            Status::Warning => Some(Severity::Warning),
            Status::Critical => Some(Severity::Critical),
            Status::Unknown => Some(Severity::Unknown),
        }
    }
}

text_enum! {
    /// How bad an incident is. `unknown` means the check itself could not decide.
    Severity { Warning => "warning", Critical => "critical", Unknown => "unknown" }
}

text_enum! {
    IncidentStatus { Open => "open", Escalated => "escalated", Resolved => "resolved", Recovered => "recovered" }
}

impl IncidentStatus {
    pub fn is_active(self) -> bool {
        matches!(self, IncidentStatus::Open | IncidentStatus::Escalated)
    }

    /// The incident state machine (docs/architecture.md, "An incident's life"): which status
    /// may follow which. Phase 4 escalates an open incident; a verified fix or a person
    /// resolves an active one; a passing check recovers it; failing again within
    /// `reopen_within` reopens a closed one. Moving between phases keeps the status `open`.
    pub fn can_become(self, next: IncidentStatus) -> bool {
        use IncidentStatus::*;
        matches!(
            (self, next),
            (Open, Escalated)
                | (Open | Escalated, Resolved | Recovered)
                | (Resolved | Recovered, Open)
        )
    }

    /// The statuses that may become `next`, as SQL: `status IN ('open', 'escalated')`, the
    /// guard of the store's UPDATE that makes the move.
    pub fn sql_may_become(next: IncidentStatus) -> String {
        let from: Vec<String> = IncidentStatus::ALL
            .iter()
            .copied()
            .filter(|status| status.can_become(next))
            .map(|status| format!("'{status}'"))
            .collect();
        format!("status IN ({})", from.join(", "))
    }
}

text_enum! {
    /// How an attempt ended. `running` exists only while the plan runs.
    Outcome {
        Running => "running",
        Fixed => "fixed",
        NotFixed => "not_fixed",
        Rejected => "rejected",
        Failed => "failed",
        Interrupted => "interrupted",
        DryRun => "dry_run",
    }
}

text_enum! {
    /// What became of an agent's answer (`consultations.vote`): `proposed` in phase 2; in phase
    /// 3 `winner` or `loser` by the tally; `abstained`, or `rejected` (invalid or refused by
    /// the policy) in both.
    Vote {
        Proposed => "proposed",
        Winner => "winner",
        Loser => "loser",
        Abstained => "abstained",
        Rejected => "rejected",
    }
}

text_enum! {
    /// Where a notification goes (`notifications.channel`), named as its `[escalation]` key:
    /// `webhook` is Alertmanager's API, `json_webhook` the generic JSON body.
    Channel {
        Email => "email",
        Webhook => "webhook",
        JsonWebhook => "json_webhook",
        Ntfy => "ntfy",
        Slack => "slack",
        Matrix => "matrix",
    }
}

impl Channel {
    /// Whether one message's idempotency key is its own (a Message-ID, a Matrix txnId, the
    /// JSON body's `key`, an ntfy sequence id). An Alertmanager alert is known by its labels
    /// instead, so a POST of several alerts has one key per alert.
    pub fn keyed_per_message(self) -> bool {
        self != Channel::Webhook
    }
}

text_enum! {
    /// What a notification says (`notifications.kind`): the escalation, a reminder of it, or
    /// that it is over. `refresh` is a delivery only: the re-post that keeps a firing alert
    /// alive in Alertmanager, never queued.
    NotificationKind {
        Escalation => "escalation",
        Repeat => "repeat",
        AllClear => "all_clear",
        Refresh => "refresh",
    }
}

text_enum! {
    /// The agents built into orchestrator (`[agents.NAME] builtin = "runbook"`).
    BuiltinAgent { Runbook => "runbook" }
}

text_enum! {
    /// The body a webhook receives (`[escalation.webhook] format`).
    WebhookFormat { Alertmanager => "alertmanager" }
}

text_enum! {
    /// An escalation's state (`escalations.status`): a person has it, has seen it (reminders
    /// stop), or it is over because the incident closed.
    EscalationStatus { Open => "open", Acknowledged => "acknowledged", Resolved => "resolved" }
}

text_enum! {
    /// A notification's delivery (`notifications.status`): queued, being sent (resent with the
    /// same key when a run died here), delivered, or refused for good.
    NotificationStatus { Pending => "pending", Sending => "sending", Sent => "sent", Failed => "failed" }
}

text_enum! {
    /// A person's decision on a held plan (`escalations.decision`).
    HeldDecision { Approved => "approved", Dismissed => "dismissed" }
}

text_enum! {
    /// The kind of a line on an incident's timeline (`incident_events.kind`).
    EventKind {
        Opened => "opened",
        Reopened => "reopened",
        Flapping => "flapping",
        MovedToFix => "phase 1",
        MovedToResearch => "phase 2",
        MovedToConsult => "phase 3",
        MovedToEscalate => "phase 4",
        Held => "held",
        Approved => "approved",
        Dismissed => "dismissed",
        Withdrawn => "withdrawn",
        OutsidePolicy => "outside_policy",
        Escalated => "escalated",
        Acknowledged => "acknowledged",
        Resolved => "resolved",
        Recovered => "recovered",
        Symptom => "symptom",
        Released => "released",
        Feedback => "feedback",
        Resent => "resent",
        Fleet => "fleet",
    }
}

impl EventKind {
    /// The hand-off to `phase` (`phase N`).
    pub fn moved_to(phase: Phase) -> EventKind {
        match phase {
            Phase::Fix => EventKind::MovedToFix,
            Phase::Research => EventKind::MovedToResearch,
            Phase::Consult => EventKind::MovedToConsult,
            Phase::Escalate => EventKind::MovedToEscalate,
        }
    }

    /// A phase handing the incident on: what each phase found.
    pub fn is_handoff(self) -> bool {
        matches!(
            self,
            EventKind::MovedToFix
                | EventKind::MovedToResearch
                | EventKind::MovedToConsult
                | EventKind::MovedToEscalate
        )
    }

    pub fn decided(decision: HeldDecision) -> EventKind {
        match decision {
            HeldDecision::Approved => EventKind::Approved,
            HeldDecision::Dismissed => EventKind::Dismissed,
        }
    }
}

/// The four phases. Stored, and shown in JSON, as their number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    Fix = 1,
    Research = 2,
    Consult = 3,
    Escalate = 4,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Fix, Phase::Research, Phase::Consult, Phase::Escalate];

    pub fn number(self) -> i64 {
        self as i64
    }

    pub fn from_number(n: i64) -> Option<Phase> {
        match n {
            1 => Some(Phase::Fix),
            2 => Some(Phase::Research),
            3 => Some(Phase::Consult),
            4 => Some(Phase::Escalate),
            _ => None,
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

impl Serialize for Phase {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.number())
    }
}

impl ToSql for Phase {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.number()))
    }
}

impl FromSql for Phase {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let number = value.as_i64()?;
        Phase::from_number(number).ok_or_else(|| unknown_word("Phase", &number.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn read<T: FromSql>(sql: &str) -> rusqlite::Result<T> {
        Connection::open_in_memory()
            .unwrap()
            .query_row(sql, [], |row| row.get(0))
    }

    #[test]
    fn a_word_goes_to_sql_and_back_as_its_text() {
        let conn = Connection::open_in_memory().unwrap();
        let (text, status): (String, IncidentStatus) = conn
            .query_row("SELECT ?1, ?1", [IncidentStatus::Escalated], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .unwrap();
        assert_eq!(
            (text.as_str(), status),
            ("escalated", IncidentStatus::Escalated)
        );
        assert_eq!(read::<Phase>("SELECT 3").unwrap(), Phase::Consult);
    }

    #[test]
    fn the_incident_state_machine() {
        use IncidentStatus::*;
        // (from, to): whether the move exists.
        let table = [
            (Open, [false, true, true, true]),
            (Escalated, [false, false, true, true]),
            (Resolved, [true, false, false, false]),
            (Recovered, [true, false, false, false]),
        ];
        for (from, row) in table {
            for (to, allowed) in IncidentStatus::ALL.iter().copied().zip(row) {
                assert_eq!(from.can_become(to), allowed, "{from} -> {to}");
            }
        }
        assert_eq!(
            IncidentStatus::sql_may_become(Resolved),
            "status IN ('open', 'escalated')"
        );
        assert_eq!(
            IncidentStatus::sql_may_become(Open),
            "status IN ('resolved', 'recovered')"
        );
        assert_eq!(
            IncidentStatus::sql_may_become(Escalated),
            "status IN ('open')"
        );
    }

    #[test]
    fn a_hand_off_is_stored_as_phase_and_its_number() {
        for phase in [Phase::Fix, Phase::Research, Phase::Consult, Phase::Escalate] {
            let kind = EventKind::moved_to(phase);
            assert_eq!(kind.as_str(), format!("phase {}", phase.number()));
            assert!(kind.is_handoff());
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert!(!EventKind::Flapping.is_handoff());
        assert_eq!(
            serde_json::to_string(&EventKind::MovedToConsult).unwrap(),
            r#""phase 3""#
        );
    }

    #[test]
    fn an_unknown_stored_word_is_an_error() {
        let err = read::<IncidentStatus>("SELECT 'reopend'")
            .unwrap_err()
            .to_string();
        assert!(err.contains(r#"unknown IncidentStatus "reopend""#), "{err}");
        let err = read::<Severity>("SELECT 'fatal'").unwrap_err().to_string();
        assert!(err.contains(r#"unknown Severity "fatal""#), "{err}");
        assert!(read::<Phase>("SELECT 0").is_err());
        assert!(read::<Outcome>("SELECT 42").is_err());
        assert!(read::<EventKind>("SELECT 'phase 5'").is_err());
    }
}
