//! A value computed at most once per time-to-live, shared by the workers. The lock is held
//! while computing, so a burst of requests waits for one computation instead of running one
//! each.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Cached<K, V> {
    ttl: Duration,
    slot: Mutex<Option<(Instant, K, V)>>,
}

impl<K: PartialEq, V: Clone> Cached<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Cached {
            ttl,
            slot: Mutex::new(None),
        }
    }

    /// The value kept for `key` if it is younger than the TTL, else `compute`'s (kept when
    /// it succeeds).
    pub fn get<E>(&self, key: K, compute: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        let mut slot = self
            .slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((at, kept_key, value)) = slot.as_ref() {
            if *kept_key == key && at.elapsed() < self.ttl {
                return Ok(value.clone());
            }
        }
        let value = compute()?;
        *slot = Some((Instant::now(), key, value.clone()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_reused_within_its_ttl_and_for_its_key_only() {
        let cache = Cached::new(Duration::from_secs(60));
        let mut runs = 0;
        let mut get = |key: i64| {
            cache
                .get(key, || {
                    runs += 1;
                    Ok::<_, ()>(key * 10)
                })
                .unwrap()
        };
        assert_eq!((get(1), get(1), get(2)), (10, 10, 20));
        assert_eq!(runs, 2);
        let expired = Cached::new(Duration::ZERO);
        assert_eq!(expired.get(1, || Ok::<_, ()>(1)), Ok(1));
        assert_eq!(expired.get(1, || Ok::<_, ()>(2)), Ok(2));
    }
}
