#!/usr/bin/env bash
# Benchmark: `metrics --json` and `metrics --prometheus` over 1 000, 100 000 and 1 000 000 synthetic
# incidents (30 days of history, 7-day window), and a one-check `scan` over the same history
# (what a long history adds to every scan: the retention prune). Prints the median of 7 runs
# each (hyperfine).
# usage: scripts/bench-metrics.sh [COUNTS...]    (default: 1000 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine: apt-get install hyperfine" >&2; exit 1; }
cargo build --release --quiet --bin orchestrator
BIN=$PWD/target/release/orchestrator
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
printf '[[checks]]\nname = "memory"\nkind = "memory"\n' > "$WORK/o.toml"
for count in "${@:-1000 100000 1000000}"; do
  for n in $count; do
    db=$WORK/$n.db
    "$BIN" -q -c "$WORK/o.toml" --db "$db" scan >/dev/null
    python3 scripts/synthetic-history.py "$db" "$n" >/dev/null
    for command in "metrics --json" "metrics --prometheus" "scan"; do
      hyperfine --runs 7 --warmup 1 --export-json "$WORK/h.json" -N "$BIN -q -c $WORK/o.toml --db $db $command" >/dev/null
      python3 -c "import json,sys; r=json.load(open('$WORK/h.json'))['results'][0]; print(f'$n incidents, $command: median {r[\"median\"]*1000:.0f} ms (min {r[\"min\"]*1000:.0f}, max {r[\"max\"]*1000:.0f})')"
    done
  done
done
