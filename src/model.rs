//! Domain words shared by every layer: check status, severity, phase, incident status, attempt
//! outcome. Each maps to and from the text stored in SQLite and shown in JSON.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
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

/// The four phases. Stored as their number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    Fix = 1,
    Research = 2,
    Consult = 3,
    Escalate = 4,
}

impl Phase {
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
