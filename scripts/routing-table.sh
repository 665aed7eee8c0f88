#!/usr/bin/env bash
# Regenerates the policy table in docs/ROUTING.md: every policy on every
# scenario against the oracle, from `pollen sim --policy all --json`.
#   scripts/routing-table.sh            # the scenarios at their defaults (long: epidemic is slow)
#   scripts/routing-table.sh --small    # smaller crowds and shorter runs (minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p pollen-cli
out=target/routing
mkdir -p "$out"
declare -A args=([festival]="" [village]="" [city]="" [social]="")
note="scenario defaults"
if [ "${1:-}" = --small ]; then
    args=([festival]="--people 500 --hours 2" [village]="--people 150 --hours 24" [city]="--people 600 --hours 4" [social]="--people 500 --hours 24")
    note="small: festival 500 people 2 h, village 150 people 24 h, city 600 people 4 h, social 500 people 24 h"
fi
for s in festival village city social; do
    echo "simulating $s ..." >&2
    # shellcheck disable=SC2086
    ./target/release/pollen sim --scenario "$s" --policy all --seed 1 ${args[$s]} \
        --json --plot docs/routing > "$out/$s.json"
done
python3 scripts/routing_table.py "$out"/festival.json "$out"/village.json "$out"/city.json "$out"/social.json \
    --args "$note" --doc docs/ROUTING.md
