#!/usr/bin/env bash
# Benchmark: a healthy `scan` over 50 checks (20 in-process, 20 http against a local
# flaky-service, 10 monitoring-plugin commands). Prints medians over RUNS runs of wall time, CPU
# time (user+sys) and peak RSS, and the slowest single check for comparison.
# usage: scripts/bench-scan.sh [RUNS]   (default 15; needs /usr/bin/time and monitoring-plugins)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-15}
cargo build --release --quiet --bin orchestrator --example flaky-service
BIN=$PWD/target/release/orchestrator
SVC=$PWD/target/release/examples/flaky-service
PLUGINS=/usr/lib/nagios/plugins
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { [ -f "$WORK/svc.pid" ] && kill "$(cat "$WORK/svc.pid")" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
"$SVC" --daemon --port "$PORT" --pidfile "$WORK/svc.pid" >/dev/null

CONFIG=$WORK/bench.toml
{
  echo '[cycle]'; echo 'parallelism = 4'
  for i in $(seq 1 4); do
    printf '[[checks]]\nname = "disk-%s"\nkind = "disk"\npath = "/"\n' "$i"
    printf '[[checks]]\nname = "memory-%s"\nkind = "memory"\n' "$i"
    printf '[[checks]]\nname = "load-%s"\nkind = "load"\n' "$i"
    printf '[[checks]]\nname = "tcp-%s"\nkind = "tcp"\naddress = "127.0.0.1:%s"\n' "$i" "$PORT"
    printf '[[checks]]\nname = "pid-%s"\nkind = "process"\npidfile = "%s/svc.pid"\n' "$i" "$WORK"
  done
  for i in $(seq 1 20); do
    printf '[[checks]]\nname = "http-%s"\nkind = "http"\nurl = "http://127.0.0.1:%s/health"\n' "$i" "$PORT"
  done
  for i in $(seq 1 4); do
    printf '[[checks]]\nname = "plugin-tcp-%s"\nkind = "command"\ncommand = ["%s/check_tcp", "-H", "127.0.0.1", "-p", "%s"]\n' "$i" "$PLUGINS" "$PORT"
    printf '[[checks]]\nname = "plugin-disk-%s"\nkind = "command"\ncommand = ["%s/check_disk", "-w", "5%%", "-c", "2%%", "-p", "/"]\n' "$i" "$PLUGINS"
  done
  for i in 1 2; do
    printf '[[checks]]\nname = "plugin-load-%s"\nkind = "command"\ncommand = ["%s/check_load", "-w", "50,50,50", "-c", "99,99,99"]\n' "$i" "$PLUGINS"
  done
} > "$CONFIG"
"$BIN" -c "$CONFIG" config check >/dev/null

"$BIN" -q -c "$CONFIG" --db "$WORK/state.db" scan >/dev/null   # migrate once
for i in $(seq 1 "$RUNS"); do
  /usr/bin/time -f "%e %U %S %M" -a -o "$WORK/times" "$BIN" -q -c "$CONFIG" --db "$WORK/state.db" --json scan > "$WORK/scan.json"
  python3 - "$WORK/scan.json" >> "$WORK/slowest" <<'PY'
import json, sys
checks = json.load(open(sys.argv[1]))["checks"]
bad = [c["name"] for c in checks if c["status"] != "ok"]
assert not bad, f"not healthy: {bad}"
print(max(c["duration_ms"] for c in checks))
PY
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
WALL=$(awk '{print $1*1000}' "$WORK/times" | median)
CPU=$(awk '{print ($2+$3)*1000}' "$WORK/times" | median)
RSS=$(awk '{print $4/1024}' "$WORK/times" | median)
SLOW=$(median < "$WORK/slowest")
echo "healthy scan of 50 checks (20 in-process, 20 http, 10 plugins), parallelism 4, median of $RUNS runs:"
echo "  wall time      ${WALL} ms"
echo "  CPU time       ${CPU} ms (user+sys)"
echo "  peak RSS       ${RSS} MiB"
echo "  slowest check  ${SLOW} ms (median of the slowest check per run)"
