use clap::Parser;
use orchestrator::cli::Cli;
use orchestrator::journald;
use std::process::ExitCode;

fn main() -> ExitCode {
    orchestrator::mark_start();
    limit_malloc_arenas();
    let cli = Cli::parse();
    init_logging(&cli);
    // Before any thread or command: orphans of the commands we run become ours to find and reap.
    orchestrator::become_subreaper();
    orchestrator::run(cli)
}

/// glibc gives each thread that allocates an arena of its own, up to eight per core, and a
/// scan's threads (its workers, one more per in-process check) each leave some 90 KiB resident
/// in theirs. Two arenas are enough for a few threads that mostly wait.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    // SAFETY: mallopt(3) sets an allocator parameter; it takes no pointer, and no other thread
    // exists yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

/// On a terminal: warnings and errors, with a timestamp and the level; when the report is
/// read there too, not the incidents' changes of state it prints itself (`journald::CHANGE`),
/// so that no result shows twice. In the journal (a systemd unit): info too, since those lines
/// are the state changes a person reads back with `journalctl -u`, each with its priority
/// prefix and without a timestamp of its own.
fn init_logging(cli: &Cli) {
    use std::io::IsTerminal;
    let journal = journald::stderr_is_journal();
    let reads_the_report = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
    let level = match (cli.global.quiet, cli.global.verbose, journal) {
        (true, _, _) => "error".to_string(),
        (false, 0, false) if reads_the_report => format!("warn,{}=off", journald::CHANGE),
        (false, 0, false) => "warn".to_string(),
        (false, 0 | 1, _) => "info".to_string(),
        (false, _, _) => "debug".to_string(),
    };
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level));
    builder.format_target(false);
    if journal {
        builder.format(|buf, record| {
            let text = record.args().to_string();
            journald::write_prefixed(buf, journald::priority(record.level()), &text)
        });
    }
    builder.init();
}
