#!/usr/bin/env bash
# Instruction counts (valgrind's callgrind) of the hot paths: the stable
# figures beside the timed ones of scripts/bench.sh, which a shared or noisy
# machine moves by tens of percent. Prints one JSON line:
#   seal, open, ingest_carried, ingest_opened: instructions per envelope
#     (`pollen bench envelopes`, each phase a function of its own);
#   recon_round: instructions for one whole reconciliation of ITEMS ids with
#     DIFF different on each side (`pollen bench recon`), both sides.
# Counts are user-space instructions: fsync and other waits cost none here.
#
#   scripts/callgrind.sh [--count N] [--items ITEMS] [--diff DIFF]
#   POLLEN=/path/to/pollen scripts/callgrind.sh   # another build (no cargo build)
set -euo pipefail
cd "$(dirname "$0")/.."

count=2000 items=10000 diff=100
while [ $# -gt 0 ]; do
    case "$1" in
        --count) count=$2; shift 2 ;;
        --items) items=$2; shift 2 ;;
        --diff) diff=$2; shift 2 ;;
        *) echo "usage: $0 [--count N] [--items N] [--diff N]" >&2; exit 2 ;;
    esac
done

if ! command -v valgrind >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y --no-install-recommends valgrind >&2
    else
        echo "valgrind is missing (apt-get install valgrind)" >&2
        exit 1
    fi
fi

pollen=${POLLEN:-}
if [ -z "$pollen" ]; then
    cargo build -p pollen-cli --release --locked --quiet
    pollen=target/release/pollen
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() { # NAME ARGS...: callgrind profile of `pollen ARGS` into $out/NAME.cg
    local name=$1
    shift
    valgrind --tool=callgrind --callgrind-out-file="$out/$name.cg" \
        "$pollen" "$@" >"$out/$name.out" 2>"$out/$name.err" || {
        cat "$out/$name.err" >&2
        exit 1
    }
    callgrind_annotate --inclusive=yes --threshold=100 "$out/$name.cg" >"$out/$name.txt" 2>/dev/null
}

run envelopes bench envelopes --count "$count" --json
run recon bench recon --items "$items" --diff "$diff" --json

python3 - "$out" "$count" "$items" "$diff" <<'PY'
import json, re, sys
out, count, items, diff = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def inclusive(name, pattern):
    """Largest inclusive count of a function whose name matches pattern."""
    best = None
    for line in open(f"{out}/{name}.txt", encoding="utf-8", errors="replace"):
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*?:?(\S.*?)(?: \[.*\])?$", line)
        if m and re.search(pattern, m.group(2)):
            n = int(m.group(1).replace(",", ""))
            best = n if best is None else max(best, n)
    return best

def per(n):
    return None if n is None else round(n / count)

seal = inclusive("envelopes", r"bench::seal_all\b")
open_ = inclusive("envelopes", r"bench::open_all\b")
carried = inclusive("envelopes", r"bench::ingest_carried\b")
opened = inclusive("envelopes", r"bench::ingest_opened\b")
note = None
if carried is None:
    # An older bench: its one ingest phase is a carrier's.
    carried = inclusive("envelopes", r"ingest_envelopes\b")
    note = "ingest_carried read from Node::ingest_envelopes (older bench)"
recon = inclusive("recon", r"recon::(bench::)?bench\b")
commit = json.loads(open(f"{out}/envelopes.out").read().strip().splitlines()[-1]).get("commit", "unknown")
line = {
    "bench": "callgrind", "commit": commit, "count": count, "items": items, "diff": diff,
    "seal_ir_per_envelope": per(seal), "open_ir_per_envelope": per(open_),
    "ingest_carried_ir_per_envelope": per(carried), "ingest_opened_ir_per_envelope": per(opened),
    "recon_round_ir": recon,
}
if note:
    line["note"] = note
print(json.dumps(line))
PY
