//! Failed logins slow the guesser down: at most [`PER_SOURCE`] failures from one address and
//! [`GLOBAL`] from all addresses together within [`WINDOW`]; beyond that, a token given to log
//! in is answered 429 without being compared at all, so a right guess is not even looked at.
//! The window of an address starts at its first failure; a success from it clears its count.
//! (A one-time login link is still honoured meanwhile, see `auth.rs`: root is never locked out.)
//!
//! Memory is bounded: entries are dropped when their window ends, and never more than
//! [`MAX_SOURCES`] are kept (the oldest goes first).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(10 * 60);
pub const PER_SOURCE: u32 = 10;
pub const GLOBAL: u32 = 100;
const MAX_SOURCES: usize = 1024;

#[derive(Default)]
pub struct Throttle {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    sources: HashMap<IpAddr, Count>,
    global: Option<Count>,
}

#[derive(Clone, Copy)]
struct Count {
    since: Instant,
    failures: u32,
}

impl Count {
    fn current(self, now: Instant) -> Option<Count> {
        (now.saturating_duration_since(self.since) < WINDOW).then_some(self)
    }

    /// How long until this window ends.
    fn left(self, now: Instant) -> Duration {
        WINDOW.saturating_sub(now.saturating_duration_since(self.since))
    }
}

impl Throttle {
    /// `Err(wait)` when a login attempt from `source` must not be checked now: how long until
    /// it may be.
    pub fn admit(&self, source: IpAddr, now: Instant) -> Result<(), Duration> {
        let state = self.lock();
        let global = state.global.and_then(|c| c.current(now));
        if let Some(count) = global.filter(|c| c.failures >= GLOBAL) {
            return Err(count.left(now));
        }
        let own = state.sources.get(&source).and_then(|c| c.current(now));
        if let Some(count) = own.filter(|c| c.failures >= PER_SOURCE) {
            return Err(count.left(now));
        }
        Ok(())
    }

    /// Counts a failed login from `source`.
    pub fn failed(&self, source: IpAddr, now: Instant) {
        let mut state = self.lock();
        if state.sources.len() >= MAX_SOURCES {
            state.sources.retain(|_, c| c.current(now).is_some());
        }
        let bump = |count: Option<Count>| match count.and_then(|c| c.current(now)) {
            Some(c) => Count {
                failures: c.failures.saturating_add(1),
                ..c
            },
            None => Count {
                since: now,
                failures: 1,
            },
        };
        state.global = Some(bump(state.global));
        let own = bump(state.sources.get(&source).copied());
        if state.sources.len() >= MAX_SOURCES && !state.sources.contains_key(&source) {
            let oldest = state
                .sources
                .iter()
                .min_by_key(|(_, c)| c.since)
                .map(|(ip, _)| *ip);
            if let Some(oldest) = oldest {
                state.sources.remove(&oldest);
            }
        }
        state.sources.insert(source, own);
    }

    /// A login from `source` succeeded: its own failures are forgotten.
    pub fn succeeded(&self, source: IpAddr) {
        self.lock().sources.remove(&source);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[cfg(test)]
    fn sources_kept(&self) -> usize {
        self.lock().sources.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::from(0x7f00_0000 + n))
    }

    #[test]
    fn one_source_gets_its_failures_then_waits_out_its_window() {
        let throttle = Throttle::default();
        let start = Instant::now();
        for _ in 0..PER_SOURCE {
            assert!(throttle.admit(ip(1), start).is_ok());
            throttle.failed(ip(1), start);
        }
        let wait = throttle.admit(ip(1), start).unwrap_err();
        assert_eq!(wait, WINDOW);
        assert!(
            throttle.admit(ip(2), start).is_ok(),
            "another source is not held"
        );
        let later = start + Duration::from_secs(60);
        assert_eq!(
            throttle.admit(ip(1), later).unwrap_err(),
            WINDOW - Duration::from_secs(60)
        );
        assert!(throttle.admit(ip(1), start + WINDOW).is_ok());
    }

    #[test]
    fn all_sources_together_are_held_at_the_global_limit() {
        let throttle = Throttle::default();
        let start = Instant::now();
        for n in 0..GLOBAL {
            let source = ip(n / 5);
            assert!(throttle.admit(source, start).is_ok(), "failure {n}");
            throttle.failed(source, start);
        }
        assert!(throttle.admit(ip(9999), start).is_err());
        assert!(throttle.admit(ip(9999), start + WINDOW).is_ok());
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_sources() {
        let throttle = Throttle::default();
        let start = Instant::now();
        // Failed login links are counted whether throttled or not: the bound must hold anyway.
        for n in 0..20_000 {
            throttle.failed(ip(n), start + Duration::from_millis(n as u64));
        }
        assert!(
            throttle.sources_kept() <= MAX_SOURCES,
            "{}",
            throttle.sources_kept()
        );
    }

    #[test]
    fn a_success_clears_the_sources_count() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for _ in 0..PER_SOURCE - 1 {
            throttle.failed(ip(1), now);
        }
        throttle.succeeded(ip(1));
        throttle.failed(ip(1), now);
        assert!(throttle.admit(ip(1), now).is_ok());
    }
}
