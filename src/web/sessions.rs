//! Who logged in: sessions, each a random id in an `HttpOnly; SameSite=Strict` cookie (never the
//! token itself), valid for [`SESSION_TTL`] from the login. Kept in memory, bounded: a restart of
//! `serve` ends every session. Ids are kept as their SHA-256, so a lookup's timing tells
//! nothing about a guessed id.
//!
//! The nonces of the login links used so far are kept too, until their links expire, so that a
//! link works once.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// How long a login lasts.
pub const SESSION_TTL: f64 = 12.0 * 3600.0;

/// Sessions kept at most; a new login beyond that ends the oldest. Only a person holding the
/// token can log in, so this bounds memory, not who may stay.
const MAX_SESSIONS: usize = 256;

/// Used login-link nonces kept at most; a link used when this many are unexpired is refused.
const MAX_USED_LINKS: usize = 1024;

#[derive(Default)]
pub struct Sessions {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// SHA-256 of a session id → when it expires.
    live: HashMap<[u8; 32], f64>,
    /// Nonce of a used login link → when the link expires.
    used_links: HashMap<String, f64>,
}

impl Sessions {
    /// A new session valid from `now`: its id, to be sent in the cookie.
    pub fn open(&self, now: f64) -> String {
        let id = crate::random::random_hex(32);
        let mut state = self.lock();
        state.live.retain(|_, expiry| *expiry > now);
        if state.live.len() >= MAX_SESSIONS {
            let oldest = state
                .live
                .iter()
                .min_by(|a, b| a.1.total_cmp(b.1))
                .map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                state.live.remove(&oldest);
            }
        }
        state.live.insert(digest(&id), now + SESSION_TTL);
        id
    }

    /// Whether `id` names a session that has not expired.
    pub fn valid(&self, id: &str, now: f64) -> bool {
        let key = digest(id);
        let mut state = self.lock();
        match state.live.get(&key) {
            Some(expiry) if *expiry > now => true,
            Some(_) => {
                state.live.remove(&key);
                false
            }
            None => false,
        }
    }

    /// Marks a login link's nonce used; false when it was used before (or too many are).
    pub fn use_link(&self, nonce: &str, expiry: f64, now: f64) -> bool {
        let mut state = self.lock();
        state.used_links.retain(|_, until| *until > now);
        if state.used_links.contains_key(nonce) || state.used_links.len() >= MAX_USED_LINKS {
            return false;
        }
        state.used_links.insert(nonce.to_string(), expiry);
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding it leaves consistent maps: every change is one call.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn digest(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lasts_its_time_and_no_longer() {
        let sessions = Sessions::default();
        let id = sessions.open(1000.0);
        assert_eq!(id.len(), 64);
        assert!(sessions.valid(&id, 1000.0 + SESSION_TTL - 1.0));
        assert!(!sessions.valid(&id, 1000.0 + SESSION_TTL));
        assert!(!sessions.valid(&id, 1000.0), "an expired session is gone");
        assert!(!sessions.valid("guess", 1000.0));
    }

    #[test]
    fn sessions_are_bounded_and_the_oldest_goes_first() {
        let sessions = Sessions::default();
        let first = sessions.open(0.0);
        let later: Vec<String> = (1..=MAX_SESSIONS)
            .map(|i| sessions.open(i as f64))
            .collect();
        assert_eq!(sessions.lock().live.len(), MAX_SESSIONS);
        assert!(!sessions.valid(&first, 10.0));
        assert!(later
            .iter()
            .all(|id| sessions.valid(id, 10.0 + MAX_SESSIONS as f64)));
    }

    #[test]
    fn a_login_link_works_once() {
        let sessions = Sessions::default();
        assert!(sessions.use_link("n1", 600.0, 0.0));
        assert!(!sessions.use_link("n1", 600.0, 1.0));
        assert!(sessions.use_link("n2", 600.0, 1.0));
        // Expired nonces are forgotten: their links are refused as expired by then.
        sessions.use_link("n3", 700.0, 2.0);
        assert!(sessions.use_link("n4", 1300.0, 650.0));
        assert_eq!(sessions.lock().used_links.len(), 2);
    }
}
