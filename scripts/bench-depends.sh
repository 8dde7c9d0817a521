#!/usr/bin/env bash
# Benchmark: `scan` and `fix` over N `file` checks in one `depends_on` chain (c0 depends on c1,
# … on c{N-1}), every one failing, so the first scan opens N incidents and links N-1 of them to
# the deepest as symptoms: the most work the cause walks can be given. Prints medians over RUNS
# runs of wall and CPU time (user+sys) for a first scan (fresh database), a repeated scan and
# `fix`, for each N, so that the cost per check can be compared across sizes.
# usage: scripts/bench-depends.sh [RUNS] [N…]   (default 5 runs of 400 and 3000; needs /usr/bin/time)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
shift || true
if (($# > 0)); then SIZES=("$@"); else SIZES=(400 3000); fi
cargo build --release --quiet --bin orchestrator
BIN=$PWD/target/release/orchestrator
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

chain() {
  local n=$1
  printf '[cycle]\nparallelism = 4\n'
  for ((i = 0; i < n; i++)); do
    printf '[[checks]]\nname = "c%d"\nkind = "file"\npath = "%s/missing"\n' "$i" "$WORK"
    if ((i + 1 < n)); then printf 'depends_on = ["c%d"]\n' $((i + 1)); fi
  done
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# Runs `$@` under /usr/bin/time, appending "wall_ms cpu_ms" to the file named by $OUT.
timed() {
  /usr/bin/time -f "%e %U %S" -o "$WORK/t" "$@" >/dev/null
  awk '{printf "%d %d\n", $1*1000, ($2+$3)*1000}' "$WORK/t" >> "$OUT"
}

echo "depends_on chain of N failing file checks, median of $RUNS runs (wall / CPU, ms):"
printf '%-6s %-20s %-20s %-20s\n' N "first scan" "repeated scan" fix
for n in "${SIZES[@]}"; do
  chain "$n" > "$WORK/chain.toml"
  "$BIN" -c "$WORK/chain.toml" config check >/dev/null 2>&1
  rm -f "$WORK"/first "$WORK"/again "$WORK"/fix
  for ((r = 0; r < RUNS; r++)); do
    rm -f "$WORK"/state.db*
    OUT=$WORK/first timed "$BIN" -q -c "$WORK/chain.toml" --db "$WORK/state.db" scan
    OUT=$WORK/again timed "$BIN" -q -c "$WORK/chain.toml" --db "$WORK/state.db" scan
    OUT=$WORK/fix timed "$BIN" -q -c "$WORK/chain.toml" --db "$WORK/state.db" fix
  done
  symptoms=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM incidents WHERE caused_by IS NOT NULL").fetchone()[0])' "$WORK/state.db")
  cell() { echo "$(awk '{print $1}' "$1" | median) / $(awk '{print $2}' "$1" | median)"; }
  printf '%-6s %-20s %-20s %-20s (%s symptoms)\n' "$n" "$(cell "$WORK/first")" "$(cell "$WORK/again")" "$(cell "$WORK/fix")" "$symptoms"
done
