//! The time to gather the facts for one incident (src/facts/), for the closing note of
//! issue 13: a check with a port, a pid file and a log, on this host as it is, gathered RUNS
//! times in-process; prints the median, the fastest and the slowest, and one gathering.
//!
//! bench-facts [RUNS]   (default 101)

use std::io::Write;

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(101);
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let pidfile = dir.path().join("app.pid");
    std::fs::write(&pidfile, "999999999\n").expect("pid file");
    let log = dir.path().join("app.log");
    let mut file = std::fs::File::create(&log).expect("log");
    for i in 0..200 {
        writeln!(
            file,
            "2026-11-27T08:15:{:02}+00:00 app[7]: request {i} served",
            i % 60
        )
        .expect("log");
    }
    let evidence = format!(
        "Nov 27 08:15:42 host app[7]: pid file {} exists, refusing to start (stale pid file?)\n\
         Nov 27 08:15:42 host app[7]: bind() to 127.0.0.1:{port} failed (98: Address already in use)\n\
         Nov 27 08:15:42 host app[7]: open() \"{}\" failed (13: Permission denied)\n",
        pidfile.display(),
        log.display()
    );
    let config = dir.path().join("bench.toml");
    std::fs::write(
        &config,
        format!(
            "[[checks]]\nname = \"app\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/health\"\nlogs = [\"{}\"]\n",
            log.display()
        ),
    )
    .expect("config");
    let cpu_before = cpu_seconds();
    let (times, facts) =
        orchestrator::time_facts(&config, "app", &evidence, runs).expect("gather facts");
    let cpu_per_run = (cpu_seconds() - cpu_before) * 1000.0 / runs as f64;
    let mut times: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
    times.sort_by(f64::total_cmp);
    println!(
        "gathering facts, {runs} runs: median {:.2} ms, fastest {:.2} ms, slowest {:.2} ms; CPU {cpu_per_run:.2} ms per gathering",
        times[runs / 2],
        times[0],
        times[runs - 1]
    );
    println!("{facts}");
    drop(listener);
}

/// User and system CPU time of this process: what a gathering costs, whatever else the host
/// is busy with (wall time on a loaded host mostly measures the wait for a core).
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage(2) writes into the zeroed struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
