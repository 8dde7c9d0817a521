# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_orchestrator_global_optspecs
    string join \n c/config= db= json dry-run wait v/verbose q/quiet h/help V/version
end

function __fish_orchestrator_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_orchestrator_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_orchestrator_using_subcommand
    set -l cmd (__fish_orchestrator_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c orchestrator -n "__fish_orchestrator_needs_command" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_needs_command" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_needs_command" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "scan" -d 'Run every check; open, update, reopen or recover incidents'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "fix" -d 'Phase 1: try learned patterns, then the check\'s remedies, on incidents waiting for it'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "research" -d 'Phase 2: one agent diagnoses each incident waiting for it and proposes a plan'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "consult" -d 'Phase 3: several agents vote; the plan a quorum agrees on runs'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "escalate" -d 'Phase 4: escalate to a person (email, webhook, dashboard) and retry unsent notifications'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "cycle" -d 'Run the phases in order in one process: scan, fix, research, consult, escalate'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "metrics" -d 'Auto-fix and escalation rates, time to resolve per phase, learning'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "serve" -d 'Serve the dashboard, the JSON API, /health and /metrics (default 127.0.0.1:8888)'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "incidents" -d 'List, show and handle incidents'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "silence" -d 'Pause orchestrator on a check, or on every check, for a while'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "patterns" -d 'List, show, disable, enable and forget learned patterns'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "config" -d 'Validate the config or print the embedded default'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "mcp" -d 'Serve read-only investigation tools to an agent over MCP (Model Context Protocol) on stdio'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "agents" -d 'What agents are held to: the JSON Schema of their answer'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "notify-failure" -d 'Tell a person directly that a systemd unit failed (what OnFailure= runs)'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "fleet" -d 'Share what this host learned with the fleet\'s central PostgreSQL ([fleet])'
complete -c orchestrator -n "__fish_orchestrator_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand scan" -l check -d 'Run only this check (repeat for more), as named in the config: its result is recorded and its incident opened, updated or recovered as by a full scan; no phase acts on it. For trying a check after changing it, or a fault just repaired' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand scan" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand scan" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand scan" -l exit-status -d 'Exit with the worst check\'s state, as monitoring plugins do: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (critical outranks warning, warning outranks unknown; a scan skipped because a cycle holds the lock is UNKNOWN; one whose state database cannot be written exits 1, as without the option). Without it a scan that ran exits 0 whatever the checks found, so the timer\'s chain of units goes on to fix them'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand scan" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand scan" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand scan" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand scan" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand scan" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand scan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand scan" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fix" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fix" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fix" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fix" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fix" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fix" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fix" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fix" -s h -l help -d 'Print help'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fix" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand research" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand research" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand research" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand research" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand research" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand research" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand research" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand research" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand research" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand consult" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand consult" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand consult" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand consult" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand consult" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand consult" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand consult" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand consult" -s h -l help -d 'Print help'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand consult" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand escalate" -l resend -d 'Send this notification again now (repeat for more)' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand escalate" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand escalate" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand escalate" -l test -d 'Send a test message to every configured channel and report each one\'s answer'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand escalate" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand escalate" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand escalate" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand escalate" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand escalate" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand escalate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand escalate" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand cycle" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand cycle" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand cycle" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand cycle" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand cycle" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand cycle" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand cycle" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand cycle" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand cycle" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand metrics" -l since -d 'The window, by detection time' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand metrics" -l textfile -d 'Write the Prometheus exposition to this file atomically (node_exporter\'s textfile collector), instead of printing' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand metrics" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand metrics" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand metrics" -l prometheus -d 'Print the Prometheus text exposition format'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand metrics" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand metrics" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand metrics" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand metrics" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand metrics" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand metrics" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand metrics" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand serve" -l listen -d 'Address to listen on [default: `[serve] listen`]; a non-loopback address needs `[serve] token_file`' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand serve" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand serve" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand serve" -l login-link -d 'Print a one-time login link (valid 10 minutes) and exit, instead of serving; needs read access to the state directory, where the dashboard\'s token is (root)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand serve" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand serve" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand serve" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand serve" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand serve" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand serve" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -f -a "list" -d 'List incidents, newest first'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -f -a "show" -d 'Show one incident: its timeline, every attempt and every agent\'s vote'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -f -a "approve" -d 'Approve the plan held for an incident, then run and verify it now'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -f -a "dismiss" -d 'Dismiss the plan held for an incident; the incident stays escalated'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -f -a "ack" -d 'Acknowledge an escalation: you are on it, so reminders stop'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -f -a "resolve" -d 'Resolve an incident by hand; with --plan, the plan that fixed it is learned'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -f -a "feedback" -d 'Mark an agent\'s diagnosis of an incident right (good) or wrong (bad)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and not __fish_seen_subcommand_from list show approve dismiss ack resolve feedback help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from list" -l status -d 'Only incidents with this status (open, escalated, resolved, recovered)' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from list" -l check -d 'Only incidents of this check' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from list" -l limit -d 'At most this many' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from list" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from list" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from list" -l active -d 'Only incidents still open or escalated'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from list" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from list" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from show" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from show" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from show" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from show" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from show" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from approve" -l by -d 'Who decides, recorded as cli:NAME [default: $SUDO_USER, else the login name (the login uid, the terminal\'s owner, $LOGNAME), else $USER, else your user\'s name]' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from approve" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from approve" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from approve" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from approve" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from approve" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from approve" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from approve" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from approve" -s h -l help -d 'Print help'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from approve" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from dismiss" -l by -d 'Who decides, recorded as cli:NAME [default: $SUDO_USER, else the login name (the login uid, the terminal\'s owner, $LOGNAME), else $USER, else your user\'s name]' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from dismiss" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from dismiss" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from dismiss" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from dismiss" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from dismiss" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from dismiss" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from dismiss" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from dismiss" -s h -l help -d 'Print help'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from dismiss" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from ack" -l note -d 'A note kept with the escalation' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from ack" -l by -d 'Who decides, recorded as cli:NAME [default: $SUDO_USER, else the login name (the login uid, the terminal\'s owner, $LOGNAME), else $USER, else your user\'s name]' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from ack" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from ack" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from ack" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from ack" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from ack" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from ack" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from ack" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from ack" -s h -l help -d 'Print help'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from ack" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from resolve" -l note -d 'What was wrong and what you did' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from resolve" -l plan -d 'The plan that fixed it, as JSON: \'[{"action": "restart_unit"}]\'' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from resolve" -l by -d 'Who decides, recorded as cli:NAME [default: $SUDO_USER, else the login name (the login uid, the terminal\'s owner, $LOGNAME), else $USER, else your user\'s name]' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from resolve" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from resolve" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from resolve" -l outside-policy -d 'Learn the plan even if [policy] refuses it (root only). The pattern is marked as taught outside the policy and phase 1 replays it as written, unjudged, until it is deleted from the patterns table. The dashboard cannot do this'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from resolve" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from resolve" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from resolve" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from resolve" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from resolve" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from resolve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from resolve" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from feedback" -l agent -d 'The agent, as configured ([agents.NAME]); it must have been asked about the incident' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from feedback" -l note -d 'Why (kept with the verdict)' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from feedback" -l by -d 'Who decides, recorded as cli:NAME [default: $SUDO_USER, else the login name (the login uid, the terminal\'s owner, $LOGNAME), else $USER, else your user\'s name]' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from feedback" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from feedback" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from feedback" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from feedback" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from feedback" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from feedback" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from feedback" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from feedback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from feedback" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from help" -f -a "list" -d 'List incidents, newest first'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one incident: its timeline, every attempt and every agent\'s vote'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from help" -f -a "approve" -d 'Approve the plan held for an incident, then run and verify it now'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from help" -f -a "dismiss" -d 'Dismiss the plan held for an incident; the incident stays escalated'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from help" -f -a "ack" -d 'Acknowledge an escalation: you are on it, so reminders stop'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from help" -f -a "resolve" -d 'Resolve an incident by hand; with --plan, the plan that fixed it is learned'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from help" -f -a "feedback" -d 'Mark an agent\'s diagnosis of an incident right (good) or wrong (bad)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand incidents; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and not __fish_seen_subcommand_from add list expire help" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and not __fish_seen_subcommand_from add list expire help" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and not __fish_seen_subcommand_from add list expire help" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and not __fish_seen_subcommand_from add list expire help" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and not __fish_seen_subcommand_from add list expire help" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and not __fish_seen_subcommand_from add list expire help" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and not __fish_seen_subcommand_from add list expire help" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and not __fish_seen_subcommand_from add list expire help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and not __fish_seen_subcommand_from add list expire help" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and not __fish_seen_subcommand_from add list expire help" -f -a "add" -d 'Silence a check (or every check with --all) from now (or --from), for --for or until --until'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and not __fish_seen_subcommand_from add list expire help" -f -a "list" -d 'List silences in force or still to come, newest first; --all adds those that ended'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and not __fish_seen_subcommand_from add list expire help" -f -a "expire" -d 'End a silence now; it is kept, marked expired'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and not __fish_seen_subcommand_from add list expire help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -l from -d 'When it starts, as RFC 3339 (see --until) [default: now]. A silence that starts later is listed as pending and acts on nothing until then; a time in the past is refused' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -l for -d 'How long, like 30m, 2h or 1h30m, from its start; at most 36500d (100 years)' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -l until -d 'Until when, as RFC 3339: 2026-11-27T18:00:00Z or 2026-11-27T19:00:00+01:00; within 36500d from now' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -l note -d 'Why: shown on the dashboard and in `silence list`' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -l by -d 'Who [default: $SUDO_USER, else the login name (the login uid, the terminal\'s owner, $LOGNAME), else $USER, else your user\'s name]' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -l all -d 'Silence every check, including those added to the config later'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from list" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from list" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from list" -l all -d 'Also the silences that ended (by their time or `silence expire`)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from list" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from list" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from expire" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from expire" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from expire" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from expire" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from expire" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from expire" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from expire" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from expire" -s h -l help -d 'Print help'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from expire" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from help" -f -a "add" -d 'Silence a check (or every check with --all) from now (or --from), for --for or until --until'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from help" -f -a "list" -d 'List silences in force or still to come, newest first; --all adds those that ended'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from help" -f -a "expire" -d 'End a silence now; it is kept, marked expired'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand silence; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -f -a "list" -d 'List the learned patterns, best record first: their state (active, disabled, or skipped because they failed more often than they worked) and record'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -f -a "show" -d 'Show one pattern: its plan, signature, record, the attempts that replayed it and every change a person made to it (also for a forgotten one)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -f -a "disable" -d 'Stop phase 1 from replaying a pattern; its record is kept'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -f -a "enable" -d 'Let phase 1 replay a disabled pattern again'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -f -a "forget" -d 'Delete a pattern; its history keeps what it was, who forgot it and why'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and not __fish_seen_subcommand_from list show disable enable forget help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from list" -l check -d 'Only the patterns of this check' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from list" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from list" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from list" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from list" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from show" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from show" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from show" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from show" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from show" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from disable" -l note -d 'Why: shown with the pattern and wherever phase 1 says it did not replay it' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from disable" -l by -d 'Who [default: $SUDO_USER, else $USER, else the user id]' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from disable" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from disable" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from disable" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from disable" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from disable" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from disable" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from disable" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from disable" -s h -l help -d 'Print help'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from disable" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from enable" -l note -d 'Why (optional)' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from enable" -l by -d 'Who [default: $SUDO_USER, else $USER, else the user id]' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from enable" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from enable" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from enable" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from enable" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from enable" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from enable" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from enable" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from enable" -s h -l help -d 'Print help'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from enable" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from forget" -l note -d 'Why' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from forget" -l by -d 'Who [default: $SUDO_USER, else $USER, else the user id]' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from forget" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from forget" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from forget" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from forget" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from forget" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from forget" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from forget" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from forget" -s h -l help -d 'Print help'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from forget" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the learned patterns, best record first: their state (active, disabled, or skipped because they failed more often than they worked) and record'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one pattern: its plan, signature, record, the attempts that replayed it and every change a person made to it (also for a forgotten one)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from help" -f -a "disable" -d 'Stop phase 1 from replaying a pattern; its record is kept'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from help" -f -a "enable" -d 'Let phase 1 replay a disabled pattern again'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from help" -f -a "forget" -d 'Delete a pattern; its history keeps what it was, who forgot it and why'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand patterns; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and not __fish_seen_subcommand_from check default discover help" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and not __fish_seen_subcommand_from check default discover help" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and not __fish_seen_subcommand_from check default discover help" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and not __fish_seen_subcommand_from check default discover help" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and not __fish_seen_subcommand_from check default discover help" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and not __fish_seen_subcommand_from check default discover help" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and not __fish_seen_subcommand_from check default discover help" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and not __fish_seen_subcommand_from check default discover help" -s h -l help -d 'Print help'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and not __fish_seen_subcommand_from check default discover help" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and not __fish_seen_subcommand_from check default discover help" -f -a "check" -d 'Validate the config; print each problem with its file, line and key'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and not __fish_seen_subcommand_from check default discover help" -f -a "default" -d 'Print the embedded default config'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and not __fish_seen_subcommand_from check default discover help" -f -a "discover" -d 'Print a commented config for what runs on this host'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and not __fish_seen_subcommand_from check default discover help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from check" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from check" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from check" -l strict -d 'Exit 2 when there are warnings'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from check" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from check" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from check" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from default" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from default" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from default" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from default" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from default" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from default" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from default" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from default" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from default" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from discover" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from discover" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from discover" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from discover" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from discover" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from discover" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from discover" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from discover" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from discover" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate the config; print each problem with its file, line and key'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "default" -d 'Print the embedded default config'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "discover" -d 'Print a commented config for what runs on this host'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand mcp" -l incident -d 'The incident the agent was asked about: the default of the tools\' `id`' -r
complete -c orchestrator -n "__fish_orchestrator_using_subcommand mcp" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand mcp" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand mcp" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand mcp" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand mcp" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand mcp" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand mcp" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand mcp" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand mcp" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and not __fish_seen_subcommand_from schema help" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and not __fish_seen_subcommand_from schema help" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and not __fish_seen_subcommand_from schema help" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and not __fish_seen_subcommand_from schema help" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and not __fish_seen_subcommand_from schema help" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and not __fish_seen_subcommand_from schema help" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and not __fish_seen_subcommand_from schema help" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and not __fish_seen_subcommand_from schema help" -s h -l help -d 'Print help'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and not __fish_seen_subcommand_from schema help" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and not __fish_seen_subcommand_from schema help" -f -a "schema" -d 'Print the JSON Schema of the answer object an agent must print'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and not __fish_seen_subcommand_from schema help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and __fish_seen_subcommand_from schema" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and __fish_seen_subcommand_from schema" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and __fish_seen_subcommand_from schema" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and __fish_seen_subcommand_from schema" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and __fish_seen_subcommand_from schema" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and __fish_seen_subcommand_from schema" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and __fish_seen_subcommand_from schema" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and __fish_seen_subcommand_from schema" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and __fish_seen_subcommand_from schema" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and __fish_seen_subcommand_from help" -f -a "schema" -d 'Print the JSON Schema of the answer object an agent must print'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand agents; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand notify-failure" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand notify-failure" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand notify-failure" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand notify-failure" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand notify-failure" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand notify-failure" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand notify-failure" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand notify-failure" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand notify-failure" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and not __fish_seen_subcommand_from sync status help" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and not __fish_seen_subcommand_from sync status help" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and not __fish_seen_subcommand_from sync status help" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and not __fish_seen_subcommand_from sync status help" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and not __fish_seen_subcommand_from sync status help" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and not __fish_seen_subcommand_from sync status help" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and not __fish_seen_subcommand_from sync status help" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and not __fish_seen_subcommand_from sync status help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and not __fish_seen_subcommand_from sync status help" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and not __fish_seen_subcommand_from sync status help" -f -a "sync" -d 'Push the outbox, send a heartbeat and pull the patterns other hosts learned'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and not __fish_seen_subcommand_from sync status help" -f -a "status" -d 'The fleet\'s state on this host: its name, the outbox, the last sync'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and not __fish_seen_subcommand_from sync status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from sync" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from sync" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from sync" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from sync" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from sync" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from sync" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from sync" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from sync" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from sync" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from status" -s c -l config -d 'Config file [default: /etc/orchestrator/orchestrator.toml when it exists, else the embedded default]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from status" -l db -d 'SQLite database [default: `[state] db`, else /var/lib/orchestrator/orchestrator.db for root and $XDG_STATE_HOME/orchestrator/orchestrator.db otherwise]' -r -F
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from status" -l json -d 'Print one JSON document instead of tables'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from status" -l dry-run -d 'Decide and record what would be done, but execute no action'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from status" -l wait -d 'When another cycle holds the lock, wait for it instead of skipping'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Log more (-v: what is done, -vv: debugging); RUST_LOG overrides'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Log errors only'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "sync" -d 'Push the outbox, send a heartbeat and pull the patterns other hosts learned'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "status" -d 'The fleet\'s state on this host: its name, the outbox, the last sync'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "scan" -d 'Run every check; open, update, reopen or recover incidents'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "fix" -d 'Phase 1: try learned patterns, then the check\'s remedies, on incidents waiting for it'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "research" -d 'Phase 2: one agent diagnoses each incident waiting for it and proposes a plan'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "consult" -d 'Phase 3: several agents vote; the plan a quorum agrees on runs'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "escalate" -d 'Phase 4: escalate to a person (email, webhook, dashboard) and retry unsent notifications'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "cycle" -d 'Run the phases in order in one process: scan, fix, research, consult, escalate'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "metrics" -d 'Auto-fix and escalation rates, time to resolve per phase, learning'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "serve" -d 'Serve the dashboard, the JSON API, /health and /metrics (default 127.0.0.1:8888)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "incidents" -d 'List, show and handle incidents'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "silence" -d 'Pause orchestrator on a check, or on every check, for a while'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "patterns" -d 'List, show, disable, enable and forget learned patterns'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "config" -d 'Validate the config or print the embedded default'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "mcp" -d 'Serve read-only investigation tools to an agent over MCP (Model Context Protocol) on stdio'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "agents" -d 'What agents are held to: the JSON Schema of their answer'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "notify-failure" -d 'Tell a person directly that a systemd unit failed (what OnFailure= runs)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "fleet" -d 'Share what this host learned with the fleet\'s central PostgreSQL ([fleet])'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and not __fish_seen_subcommand_from scan fix research consult escalate cycle metrics serve incidents silence patterns config mcp agents notify-failure fleet help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from incidents" -f -a "list" -d 'List incidents, newest first'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from incidents" -f -a "show" -d 'Show one incident: its timeline, every attempt and every agent\'s vote'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from incidents" -f -a "approve" -d 'Approve the plan held for an incident, then run and verify it now'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from incidents" -f -a "dismiss" -d 'Dismiss the plan held for an incident; the incident stays escalated'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from incidents" -f -a "ack" -d 'Acknowledge an escalation: you are on it, so reminders stop'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from incidents" -f -a "resolve" -d 'Resolve an incident by hand; with --plan, the plan that fixed it is learned'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from incidents" -f -a "feedback" -d 'Mark an agent\'s diagnosis of an incident right (good) or wrong (bad)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from silence" -f -a "add" -d 'Silence a check (or every check with --all) from now (or --from), for --for or until --until'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from silence" -f -a "list" -d 'List silences in force or still to come, newest first; --all adds those that ended'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from silence" -f -a "expire" -d 'End a silence now; it is kept, marked expired'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from patterns" -f -a "list" -d 'List the learned patterns, best record first: their state (active, disabled, or skipped because they failed more often than they worked) and record'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from patterns" -f -a "show" -d 'Show one pattern: its plan, signature, record, the attempts that replayed it and every change a person made to it (also for a forgotten one)'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from patterns" -f -a "disable" -d 'Stop phase 1 from replaying a pattern; its record is kept'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from patterns" -f -a "enable" -d 'Let phase 1 replay a disabled pattern again'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from patterns" -f -a "forget" -d 'Delete a pattern; its history keeps what it was, who forgot it and why'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Validate the config; print each problem with its file, line and key'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "default" -d 'Print the embedded default config'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "discover" -d 'Print a commented config for what runs on this host'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from agents" -f -a "schema" -d 'Print the JSON Schema of the answer object an agent must print'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from fleet" -f -a "sync" -d 'Push the outbox, send a heartbeat and pull the patterns other hosts learned'
complete -c orchestrator -n "__fish_orchestrator_using_subcommand help; and __fish_seen_subcommand_from fleet" -f -a "status" -d 'The fleet\'s state on this host: its name, the outbox, the last sync'
