#!/usr/bin/env bash
# Benchmark: phase 2's auto-fix rate on the repo's fault suite (tests/wordy.rs: 19 faults in
# nginx's, PostgreSQL's, Redis's, OpenSSH's and httpd's words), before and after. Builds the
# orchestrator of BASE (a commit, default the one before the facts work) in a scratch tree
# with its own target directory, then prints the suite's table for it and for this tree:
# fixed/total for the fixable classes, named/total (the escalation names the cause) for the
# others. The disk-full cases need root (a tmpfs); without it they are left out.
# usage: scripts/bench-runbook.sh [BASE]
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:-cf5a9f1}
SRC=${BENCH_BASE_SRC:-/tmp/orchestrator-bench-$BASE}
TARGET=${BENCH_BASE_TARGET:-/tmp/orchestrator-bench-target}
if [ ! -d "$SRC" ]; then
  mkdir -p "$SRC"
  git archive "$BASE" | tar -x -C "$SRC"
fi
(cd "$SRC" && CARGO_TARGET_DIR=$TARGET cargo build --quiet --bin orchestrator)
cargo build --quiet --bin orchestrator --example wordy-service
table() {
  ORCHESTRATOR_BENCH_BIN=$1 cargo test --quiet --test integration wordy::fault_suite_table -- --ignored --nocapture 2>&1 |
    sed -n '/^fault suite for/,/^$/p' | grep -E '^(fault suite|\||disk full:|missed)' | cut -c1-400
}
echo "before ($BASE):"
table "$TARGET/debug/orchestrator"
echo
echo "after ($(git rev-parse --short HEAD)):"
table "$PWD/target/debug/orchestrator"
