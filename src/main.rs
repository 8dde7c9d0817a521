use clap::Parser;
use orchestrator::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    // Before any thread or command: orphans of the commands we run become ours to find and reap.
    orchestrator::exec::become_subreaper();
    orchestrator::commands::run(cli)
}

fn init_logging(cli: &Cli) {
    let level = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_target(false)
        .init();
}
