//! The fleet (README, "Fleet"): one central PostgreSQL that hosts tell what they saw and
//! learned, and read what the others learned. Each host stays whole on its own: its SQLite
//! file is its truth, the triggers of migration 17 queue what the fleet should know in its
//! outbox, and `fleet sync` (never under the cycle lock) pushes it and pulls the fleet's
//! patterns into the file. Phase 1 reads those from the file, never the network; the one call
//! a cycle makes to the central database is the blast-radius lease ([`lease`]), bounded in
//! time, and granted locally when the database cannot be reached.

mod central;
mod lease;
mod sync;
mod view;

pub use central::Central;
pub use lease::{lease, release, Lease};
pub use sync::sync;
pub use view::{FleetView, OpenEscalation};

use crate::config::{Config, FleetConfig};
use crate::store::{FleetPattern, Store};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("the fleet database cannot be reached: {0}")]
    Unreachable(String),
    #[error("the fleet database refused: {0}")]
    Sql(String),
    #[error("{0}")]
    Config(String),
    #[error("the fleet database has schema version {found}, newer than this orchestrator knows ({known}): upgrade orchestrator")]
    TooNew { found: i32, known: i32 },
    #[error("state database: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// This host's name in the fleet: `[fleet] host`, else the host's one name everywhere else
/// ([`Config::host_name`]: `[escalation] hostname`, else the kernel's, which in a UTS
/// namespace is the namespace's).
pub fn host_name(config: &Config) -> String {
    config
        .fleet
        .as_ref()
        .and_then(|f| f.host.clone())
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| config.host_name())
}

/// Where a fleet pattern stands on this host, by its own `[fleet]` rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Verified often enough on enough hosts: offered to phase 1 (and judged by the policy).
    Trusted,
    /// Below the trust rule: shown to agents, never run by phase 1.
    Hint,
    /// Failed on `withdraw_after.hosts` hosts: run nowhere, this host's own pattern included.
    Withdrawn,
}

pub fn standing(pattern: &FleetPattern, fleet: &FleetConfig) -> Standing {
    if pattern.failed_hosts >= i64::from(fleet.withdraw_after.hosts) {
        Standing::Withdrawn
    } else if pattern.fixes >= i64::from(fleet.trust_after.fixes)
        && pattern.hosts >= i64::from(fleet.trust_after.hosts)
    {
        Standing::Trusted
    } else {
        Standing::Hint
    }
}

/// Why a plan the fleet withdrew is not run here, if it did.
pub fn withdrawn(
    store: &Store,
    config: &Config,
    signature: &str,
    plan_hash: &str,
) -> crate::store::Result<Option<String>> {
    let Some(fleet) = &config.fleet else {
        return Ok(None);
    };
    Ok(store
        .fleet_pattern(signature, plan_hash)?
        .filter(|p| standing(p, fleet) == Standing::Withdrawn)
        .map(|p| {
            format!(
                "withdrawn by the fleet: it failed on {} hosts ([fleet] withdraw_after = {{ hosts = {} }})",
                p.failed_hosts, fleet.withdraw_after.hosts
            )
        }))
}

/// What the fleet knows about fixing an incident, for agents: the fleet's plans for its
/// signature first, then for its check, each with its record and standing here. Read from
/// the state database (what the last `fleet sync` pulled), never the network, so a phase or
/// a tool server may call it at any time. Empty outside a fleet.
pub fn hints(
    store: &Store,
    config: &Config,
    check: &str,
    signature: &str,
    limit: usize,
) -> crate::store::Result<Vec<Hint>> {
    let Some(fleet) = &config.fleet else {
        return Ok(Vec::new());
    };
    let mut patterns = store.fleet_patterns_for(signature)?;
    for other in store.fleet_patterns_of_check(check, limit as i64)? {
        if !patterns
            .iter()
            .any(|p| p.signature == other.signature && p.plan_hash == other.plan_hash)
        {
            patterns.push(other);
        }
    }
    patterns.truncate(limit);
    Ok(patterns
        .into_iter()
        .map(|pattern| Hint {
            standing: standing(&pattern, fleet),
            same_signature: pattern.signature == signature,
            plan: serde_json::from_str(&pattern.plan).unwrap_or(serde_json::Value::Null),
            signature: pattern.signature,
            plan_hash: pattern.plan_hash,
            check: pattern.check,
            fixes: pattern.fixes,
            failures: pattern.failures,
            hosts: pattern.hosts,
            failed_hosts: pattern.failed_hosts,
            verified_on: pattern.verified_on,
        })
        .collect())
}

/// One of the fleet's plans as an agent sees it: the plan and its record across the fleet.
#[derive(Debug, Clone, Serialize)]
pub struct Hint {
    pub standing: Standing,
    /// Learned on the same failure signature (else only on the same check).
    pub same_signature: bool,
    pub plan: serde_json::Value,
    pub signature: String,
    pub plan_hash: String,
    pub check: String,
    pub fixes: i64,
    pub failures: i64,
    pub hosts: i64,
    pub failed_hosts: i64,
    /// The hosts where it fixed at least once.
    pub verified_on: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fleet_knows_a_host_by_its_one_name_unless_fleet_host_says_otherwise() {
        let parse = |fleet_host: &str, hostname: &str| {
            let text = format!(
                "[escalation]\n{hostname}\n[fleet]\ndatabase = \"postgresql://orch@db.example/fleet\"\n{fleet_host}\n"
            );
            Config::parse("t.toml", &text).unwrap()
        };
        let config = parse("", "hostname = \"web-01\"");
        assert_eq!(host_name(&config), "web-01");
        assert_eq!(host_name(&config), config.host_name());
        assert_eq!(
            host_name(&parse("host = \"db-7\"", "hostname = \"web-01\"")),
            "db-7"
        );
        // A blank name is no name: the one rule's (a blank `hostname` falls to the kernel's).
        let blank = parse("host = \" \"", "hostname = \" \"");
        assert_eq!(host_name(&blank), blank.host_name());
        assert!(!host_name(&blank).trim().is_empty());
    }

    fn pattern(fixes: i64, hosts: i64, failed_hosts: i64) -> FleetPattern {
        FleetPattern {
            signature: "web: down".into(),
            plan_hash: "aa".into(),
            check: "web".into(),
            plan: "[]".into(),
            fixes,
            failures: failed_hosts,
            hosts,
            failed_hosts,
            verified_on: Vec::new(),
            revision: 1,
        }
    }

    #[test]
    fn a_pattern_is_trusted_after_n_fixes_on_m_hosts_and_withdrawn_after_k_failing_hosts() {
        let config = Config::parse(
            "t.toml",
            "[fleet]\ndatabase = \"postgresql://o@db/fleet\"\ntrust_after = { fixes = 3, hosts = 2 }\nwithdraw_after = { hosts = 2 }\n",
        )
        .unwrap();
        let fleet = config.fleet.as_ref().unwrap();
        assert_eq!(standing(&pattern(2, 2, 0), fleet), Standing::Hint);
        assert_eq!(standing(&pattern(5, 1, 0), fleet), Standing::Hint);
        assert_eq!(standing(&pattern(3, 2, 0), fleet), Standing::Trusted);
        assert_eq!(standing(&pattern(3, 2, 1), fleet), Standing::Trusted);
        assert_eq!(standing(&pattern(50, 20, 2), fleet), Standing::Withdrawn);
    }
}
