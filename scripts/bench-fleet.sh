#!/usr/bin/env bash
# The fault storm of tests/fleet_storm.rs run twice: ten hosts in their own network and UTS
# namespaces with the fleet (one PostgreSQL), then the same ten isolated (no [fleet]). Prints
# each run's auto-fix ratio, median time to fix (detection to verified fix) and how each host
# fixed it; for the fleet, the median `fleet sync` time and the central database's rows and
# bytes. The fake agent thinks one second; a real one takes ten to sixty.
# usage: sudo scripts/bench-fleet.sh   (root; installs nothing: run scripts/test.sh once first)
set -euo pipefail
cd "$(dirname "$0")/.."
for isolated in 0 1; do
  ORCHESTRATOR_STORM_ISOLATED=$isolated ORCHESTRATOR_SYSTEM_TESTS=1 \
    cargo test --quiet --test fleet_storm -- --nocapture 2>&1 |
    grep -E '^(storm|central database|  )' || true
done
for figures in target/fleet-storm.json target/fleet-storm-isolated.json; do
  echo "== $figures"
  cat "$figures"
  echo
done
