#!/usr/bin/env bash
# The fault table of tests/daemons.rs: each fault injected for real into Debian's nginx,
# redis-server or PostgreSQL run from its binary in a temporary directory, and what orchestrator
# made of it: the outcome, the number of restarts (starts by the daemon's control script after
# the fault) and the time from the fault to the incident's close or escalation. Cycles run back
# to back, with `settle = "1s"`; the shipped timer runs one every 5 minutes.
# usage: sudo scripts/bench-daemons.sh   (root; installs nothing: run scripts/test.sh once first)
set -euo pipefail
cd "$(dirname "$0")/.."
ORCHESTRATOR_SYSTEM_TESTS=1 cargo test --quiet --test integration -- --ignored --nocapture --exact daemons::fault_table 2>/dev/null |
  grep '^|'
