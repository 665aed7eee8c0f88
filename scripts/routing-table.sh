#!/usr/bin/env bash
# Regenerates the policy table in docs/ROUTING.md: every policy on every
# scenario against the oracle, from `pollen sim --policy all --json`.
#   scripts/routing-table.sh            # the scenarios at their defaults (long: epidemic is slow)
#   SIM_ARGS="--people 500 --hours 2" scripts/routing-table.sh   # a quicker, smaller table
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p pollen-cli
out=target/routing
mkdir -p "$out"
for s in festival village city; do
    echo "simulating $s ..." >&2
    # shellcheck disable=SC2086
    ./target/release/pollen sim --scenario "$s" --policy all --seed 1 ${SIM_ARGS:-} \
        --json --plot docs/routing > "$out/$s.json"
done
python3 scripts/routing_table.py "$out"/festival.json "$out"/village.json "$out"/city.json \
    --args "${SIM_ARGS:-}" --doc docs/ROUTING.md
