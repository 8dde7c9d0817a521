#!/usr/bin/env bash
# Benchmark: clean_files on a tree of DIRS x FILES files (default 100 x 1000 = 100 000), by
# directory descriptor (orchestrator's walk) against the walk by path it replaced and against
# `find -delete`. Each run gets a fresh tree of empty files (hyperfine --prepare, not timed;
# building 100 000 files takes far longer than removing them).
# usage: scripts/bench-clean.sh [RUNS] [DIRS] [FILES]   (default 5 100 1000; needs hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
DIRS=${2:-100}
FILES=${3:-1000}
cargo build --release --quiet --example clean-walk
WALK=$PWD/target/release/examples/clean-walk
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TREE=$WORK/tree
PREPARE="rm -rf $TREE && $WALK build $TREE $DIRS $FILES"
# A tree left by the last run is removed outside the timing.
hyperfine --runs "$RUNS" --prepare "$PREPARE" --cleanup "rm -rf $TREE" \
  --export-markdown "$WORK/result.md" \
  -n "by descriptor (clean_files)" "$WALK fd $TREE" \
  -n "by path (the old walk)" "$WALK paths $TREE" \
  -n "find -delete" "find $TREE -type f -name '*.tmp' -delete"
cat "$WORK/result.md"
