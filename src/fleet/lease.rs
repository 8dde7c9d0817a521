//! Blast radius: at most `hosts` hosts act on one failure signature at a time, and at most
//! `per_hour` start to within an hour, counted in the central `leases` table by
//! `orchestrator_lease`, which serialises hosts racing for one signature.
//!
//! This is the one call a cycle makes to the central database. One connection serves the
//! whole process (a cycle), opened on the first plan that needs it; once it failed, the
//! database is taken as unreachable for the rest of the process, so a cycle waits at most one
//! `connect_timeout` (or one `statement_timeout`) for it. When it cannot be reached the lease
//! is granted locally, with a note on the incident's timeline: a host must heal itself without
//! the network, and a host cut off from the fleet is the one that cannot coordinate anyway.

use super::{host_name, Central, FleetError};
use crate::config::Config;
use std::sync::Mutex;

/// What the blast radius says about acting on a signature now.
#[derive(Debug)]
pub enum Lease {
    /// Not in a fleet: nothing to ask.
    NotInFleet,
    /// The central database granted lease `id`; release it when the plan is done.
    Granted { id: i64 },
    /// The central database could not be asked: acting anyway, and why.
    Local(String),
    /// Too many hosts act on this signature now or did within the hour: the plan waits.
    Wait(String),
}

enum Link {
    Untried,
    Up(Box<Central>),
    Down(String),
}

/// The process's one connection for leases.
static LINK: Mutex<Link> = Mutex::new(Link::Untried);

/// Asks for a lease on `signature` (see the module's comment).
pub fn lease(config: &Config, signature: &str) -> Lease {
    let Some(fleet) = &config.fleet else {
        return Lease::NotInFleet;
    };
    let host = host_name(config);
    let radius = &fleet.blast_radius;
    let result = with_link(config, |central| {
        let row = central
            .client
            .query_one(
                "SELECT lease, active, last_hour FROM orchestrator_lease($1, $2, $3, $4, $5)",
                &[
                    &signature,
                    &host,
                    &(radius.hosts as i32),
                    &(radius.per_hour as i32),
                    &radius.lease.as_secs_f64(),
                ],
            )
            .map_err(super::central::sql)?;
        Ok((
            row.get::<_, Option<i64>>(0),
            row.get::<_, i64>(1),
            row.get::<_, i64>(2),
        ))
    });
    match result {
        Ok((Some(id), _, _)) => Lease::Granted { id },
        Ok((None, active, last_hour)) => Lease::Wait(if active >= i64::from(radius.hosts) {
            format!(
                "waits: blast radius: {active} hosts act on this signature now ([fleet] blast_radius hosts = {})",
                radius.hosts
            )
        } else {
            format!(
                "waits: blast radius: {last_hour} hosts acted on this signature within the hour ([fleet] blast_radius per_hour = {})",
                radius.per_hour
            )
        }),
        Err(err) => Lease::Local(format!(
            "lease granted locally: {err}; this host acts alone on its own judgement"
        )),
    }
}

/// Ends a lease once its plan is done. A lease that cannot be released expires by itself.
pub fn release(config: &Config, lease: &Lease) {
    let Lease::Granted { id } = lease else {
        return;
    };
    let result = with_link(config, |central| {
        central
            .client
            .execute(
                "UPDATE leases SET released_at = clock_timestamp() WHERE id = $1",
                &[id],
            )
            .map_err(super::central::sql)
    });
    if let Err(err) = result {
        log::warn!("fleet: lease {id} not released ({err}); it expires by itself");
    }
}

/// Runs `work` on the process's connection, opening it the first time; a connection that
/// failed is not tried again by this process.
fn with_link<T>(
    config: &Config,
    work: impl FnOnce(&mut Central) -> Result<T, FleetError>,
) -> Result<T, FleetError> {
    let Some(fleet) = &config.fleet else {
        return Err(FleetError::Config("no [fleet]".into()));
    };
    let mut link = LINK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Link::Untried = *link {
        *link = match Central::connect(fleet) {
            Ok(central) => Link::Up(Box::new(central)),
            Err(err) => Link::Down(err.to_string()),
        };
    }
    let central = match &mut *link {
        Link::Up(central) => central,
        Link::Down(why) => return Err(FleetError::Unreachable(why.clone())),
        Link::Untried => return Err(FleetError::Unreachable("not connected".into())),
    };
    let result = work(central);
    if let Err(FleetError::Unreachable(why)) = &result {
        *link = Link::Down(why.clone());
    }
    result
}
