//! The attacker of the symlink-race tests: exchanges two names in one directory, atomically
//! (`renameat2(RENAME_EXCHANGE)`), as fast as it can, for a bounded time. Given a directory and
//! a symlink, every path walk through that name sees one or the other, switching under it.
//!
//! swap-racer A B SECONDS

use rustix::fs::{renameat_with, RenameFlags, CWD};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [a, b, seconds] = args.as_slice() else {
        eprintln!("usage: swap-racer A B SECONDS");
        std::process::exit(2);
    };
    let limit = Duration::from_secs_f64(seconds.parse().expect("SECONDS is a number"));
    let deadline = Instant::now() + limit;
    let mut swaps = 0u64;
    while Instant::now() < deadline {
        // An even number of swaps each time round leaves the names as they were when it stops.
        for _ in 0..2 {
            if let Err(err) = renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
                eprintln!("swap-racer: exchange {a} {b}: {err}");
                std::process::exit(1);
            }
        }
        swaps += 2;
    }
    println!("{swaps}");
}
