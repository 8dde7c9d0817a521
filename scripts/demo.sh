#!/usr/bin/env bash
# A guided tour in a temporary directory: a small service is broken in several ways and
# orchestrator mends it in each phase — a configured remedy (phase 1), the offline runbook
# (phase 2), three agents voting (phase 3) — and what no one can fix is escalated (phase 4).
# Mail goes to a local SMTP sink (Debian's python3-aiosmtpd), whose inbox is shown at the end.
# Nothing outside the temporary directory is touched. usage: scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin orchestrator --example flaky-service
BIN=$PWD/target/release/orchestrator
SVC=$PWD/target/release/examples/flaky-service
DEMO=$(mktemp -d /tmp/orchestrator-demo.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SMTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DASH_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$DEMO/log" "$DEMO/state" "$DEMO/agents"
cleanup() {
  [ -f "$DEMO/web.pid" ] && kill -9 "$(cat "$DEMO/web.pid")" 2>/dev/null || true
  [ -n "${SMTP_PID:-}" ] && kill "$SMTP_PID" 2>/dev/null || true
  [ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null || true
  sleep 0.2; rm -rf "$DEMO"
}
trap cleanup EXIT
START="[\"$SVC\", \"--daemon\", \"--port\", \"$PORT\", \"--pidfile\", \"$DEMO/web.pid\", \"--logdir\", \"$DEMO/log\", \"--state\", \"$DEMO/state\"]"

# Three stand-ins for LLM agents: two propose the same fix, written differently; one another.
# Each reads the context file, and only knows about the web check.
agent() { # name answer
  cat > "$DEMO/agents/$1" <<SH
#!/bin/sh
cat > /dev/null
if ! grep -q '"check": "web"' "\$ORCHESTRATOR_CONTEXT"; then
  echo '{"diagnosis": "I do not know this check", "plan": [], "escalate": true}'; exit 0
fi
cat <<'JSON'
$(printf '%b' "$2")
JSON
SH
  chmod +x "$DEMO/agents/$1"
}
FLAG="$DEMO/state/unhealthy"
agent alice "{\"diagnosis\": \"the service reports itself unhealthy because of a leftover flag file\", \"confidence\": 0.8, \"plan\": [{\"action\": \"remove_file\", \"path\": \"$FLAG\"}]}"
agent bob "Looking at the data, the flag file is the cause.\n\`\`\`json\n{\"plan\": [{\"path\": \"$FLAG\", \"action\": \"remove_file\"}], \"diagnosis\": \"stale unhealthy flag\", \"confidence\": 0.7}\n\`\`\`"
agent carol "{\"diagnosis\": \"probably overloaded\", \"confidence\": 0.3, \"plan\": [{\"action\": \"remedy\"}]}"

cat > "$DEMO/orchestrator.toml" <<TOML
[state]
db = "$DEMO/state.db"

[cycle]
settle = "300ms"

[[checks]]
name = "web"
kind = "http"
url = "http://127.0.0.1:$PORT/health"
timeout = "2s"
logs = ["$DEMO/log/service.log"]
remedy = [ { action = "run", argv = $START } ]

[[checks]]
name = "nightly-backup"
kind = "file"
path = "$DEMO/backup.tar"
max_age = "1d"

[agents.runbook]
builtin = "runbook"
[agents.alice]
command = ["$DEMO/agents/alice"]
[agents.bob]
command = ["$DEMO/agents/bob"]
[agents.carol]
command = ["$DEMO/agents/carol"]

[research]
agent = "runbook"

[consult]
agents = ["alice", "bob", "carol"]
quorum = 2

[escalation]
hostname = "demo-host"
dashboard_url = "http://127.0.0.1:$DASH_PORT"
email = { to = ["ops@example.com"], from = "orchestrator@demo-host", smtp = "smtp://127.0.0.1:$SMTP_PORT" }

[serve]
listen = "127.0.0.1:$DASH_PORT"

[policy]
actions = ["remove_file", "remedy", "clean_files", "restart_unit"]
approve = ["kill_process", "run"]
paths = ["$DEMO/**"]
reopen_within = "0s"
TOML
export ORCHESTRATOR_CONFIG=$DEMO/orchestrator.toml
touch "$DEMO/backup.tar"
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$DEMO/mail" >/dev/null 2>&1 &
SMTP_PID=$!
"$SVC" --daemon --port "$PORT" --pidfile "$DEMO/web.pid" --logdir "$DEMO/log" --state "$DEMO/state" >/dev/null
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "A healthy host: every check passes"
"$BIN" cycle

step "Phase 1: the service dies cleanly; its configured remedy starts it again"
kill "$(cat "$DEMO/web.pid")"; while [ -f "$DEMO/web.pid" ]; do sleep 0.05; done
"$BIN" cycle

step "Phase 2: it crashes and leaves a stale pid file; the remedy fails, the runbook reads the log"
kill -9 "$(cat "$DEMO/web.pid")"; sleep 0.2
"$BIN" cycle

step "Phase 3: it reports itself unhealthy; the runbook abstains, three agents vote"
"$BIN" -q scan >/dev/null     # a healthy scan: the restart limit counts afresh
touch "$FLAG"
"$BIN" cycle

step "Phase 4: the nightly backup is missing; nobody can fix that, so a person gets a mail"
rm "$DEMO/backup.tar"
"$BIN" cycle
sleep 0.5
step "The mail in the local inbox"
for mail in "$DEMO"/mail/new/*; do
  /usr/bin/python3 -c 'import email, sys; m = email.message_from_file(open(sys.argv[1])); print("Subject:", m["Subject"]); print(); print(m.get_payload(decode=True).decode())' "$mail"
done

step "Phase 1 has learned: the same crash again is fixed at once by the pattern the runbook taught"
kill -9 "$(cat "$DEMO/web.pid")"; sleep 0.2
"$BIN" cycle

step "Incidents"
"$BIN" incidents list

step "Metrics"
"$BIN" metrics

step "The dashboard"
"$BIN" serve >/dev/null 2>&1 &
SERVE_PID=$!
echo "Open http://127.0.0.1:$DASH_PORT/ while this demo waits; press Enter to finish."
[ -t 0 ] && read -r _ || sleep 1
