//! One bounded pool for "do this to every item, at most N at once": checks and agents use it.
//! Workers take the next item from a shared queue as soon as they are free, so one slow item
//! holds back only its own worker, never a batch of others.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Runs `work` on every item with at most `parallelism` threads and returns the results in the
/// items' order. An item whose work panicked yields `None`; the other items still run.
pub fn map_bounded<T, R, F>(items: &[T], parallelism: usize, work: F) -> Vec<Option<R>>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..parallelism.clamp(1, items.len().max(1)) {
            let tx = tx.clone();
            let (next, work) = (&next, &work);
            scope.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(index) else {
                    break;
                };
                // A panic stays with its item: the worker goes on to the next one.
                if let Ok(result) = catch_unwind(AssertUnwindSafe(|| work(item))) {
                    let _ = tx.send((index, result));
                }
            });
        }
        drop(tx);
        for (index, result) in rx {
            results[index] = Some(result);
        }
    });
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    #[test]
    fn a_slow_item_does_not_hold_back_the_items_after_it() {
        // Item 0 is "slow": it finishes only once item 3 has finished (bounded wait). With two
        // workers taking fixed chunks of two, item 3 could not start before item 0 ended, so the
        // completion order would be 1, 0, 2, 3; with a work queue the free worker takes 2 and 3.
        let completed = Mutex::new(Vec::new());
        let (last_done, wait_for_last) = mpsc::channel::<()>();
        let last_done = Mutex::new(last_done);
        let wait_for_last = Mutex::new(wait_for_last);
        let results = map_bounded(&[0, 1, 2, 3], 2, |&item| {
            if item == 0 {
                let _ = wait_for_last
                    .lock()
                    .unwrap()
                    .recv_timeout(Duration::from_secs(5));
            }
            completed.lock().unwrap().push(item);
            if item == 3 {
                let _ = last_done.lock().unwrap().send(());
            }
            item * 10
        });
        assert_eq!(*completed.lock().unwrap(), vec![1, 2, 3, 0]);
        assert_eq!(results, vec![Some(0), Some(10), Some(20), Some(30)]);
    }

    #[test]
    fn never_runs_more_than_parallelism_at_once() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let items: Vec<usize> = (0..12).collect();
        map_bounded(&items, 3, |_| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            running.fetch_sub(1, Ordering::SeqCst);
        });
        assert!(peak.load(Ordering::SeqCst) <= 3);
    }

    #[test]
    fn a_panicking_item_yields_none_and_the_rest_still_run() {
        let results = map_bounded(&[1, 2, 3], 1, |&item| {
            if item == 2 {
                panic!("item 2 fails on purpose");
            }
            item
        });
        assert_eq!(results, vec![Some(1), None, Some(3)]);
    }

    #[test]
    fn no_items_no_threads_no_results() {
        let none: &[u8] = &[];
        let results: Vec<Option<u8>> = map_bounded(none, 4, |_| 1);
        assert!(results.is_empty());
    }
}
