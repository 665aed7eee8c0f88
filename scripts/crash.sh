#!/usr/bin/env bash
# The crash-safety test (tests/tests/crash_kills.rs) for a long run: kills a
# node at random points of ingest, sync, bundle import and eviction KILLS
# times (default 1000; CI runs 100 through `cargo test`). A failure prints
# its seed; POLLEN_CRASH_SEED=SEED replays the same kill points.
#
#   scripts/crash.sh [KILLS]
set -euo pipefail
cd "$(dirname "$0")/.."
POLLEN_CRASH_KILLS=${1:-1000} cargo test -p pollen-tests --locked --test crash_kills -- --nocapture
