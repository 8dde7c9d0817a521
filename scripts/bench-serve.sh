#!/usr/bin/env bash
# Benchmark: the dashboard under load with 100 000 incidents in the database. wrk (Debian)
# against /health and the overview on loopback, for a bounded time each.
# usage: scripts/bench-serve.sh [INCIDENTS] [SECONDS]     (defaults 100000, 10)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-100000}
SECONDS_EACH=${2:-10}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet --bin orchestrator
BIN=$PWD/target/release/orchestrator
WORK=$(mktemp -d)
trap 'kill $SERVE 2>/dev/null || true; rm -rf "$WORK"' EXIT
printf '[[checks]]\nname = "memory"\nkind = "memory"\n' > "$WORK/o.toml"
"$BIN" -q -c "$WORK/o.toml" --db "$WORK/state.db" scan >/dev/null
python3 scripts/synthetic-history.py "$WORK/state.db" "$COUNT"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" -q -c "$WORK/o.toml" --db "$WORK/state.db" serve --listen "127.0.0.1:$PORT" &
SERVE=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
for path in /health /; do
  echo "== GET $path with $COUNT incidents (wrk -t2 -c16 -d${SECONDS_EACH}s --latency)"
  wrk -t2 -c16 -d"${SECONDS_EACH}s" --latency "http://127.0.0.1:$PORT$path" | grep -E "Requests/sec|99%|50%|Non-2xx|Socket errors" || true
done
echo "peak RSS of serve: $(awk '/VmHWM/ {print $2/1024 " MiB"}' /proc/$SERVE/status)"
