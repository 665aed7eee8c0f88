#!/usr/bin/env bash
# Runs every `pollen bench` and checks each one's JSON line: one line naming
# the benchmark and the commit, every figure a number above zero (see
# scripts/bench_check.py). Prints the lines; exit status 1 if any benchmark
# failed, printed an error, no figure or a zero.
#
#   scripts/bench.sh           full sizes, release build (figures to quote;
#                              docs/PERFORMANCE.md)
#   scripts/bench.sh --small   small sizes on the debug build that
#                              scripts/test.sh has already built: checks that
#                              every benchmark still measures something (CI)
#
# Figures of a --small run say nothing about speed (debug build, tiny sizes).
set -euo pipefail
cd "$(dirname "$0")/.."

small=0
case "${1:-}" in
    --small) small=1 ;;
    "") ;;
    *) echo "usage: $0 [--small]" >&2; exit 2 ;;
esac

if [ "$small" = 1 ]; then
    cargo build -p pollen-cli --locked --quiet
    pollen=target/debug/pollen
else
    cargo build -p pollen-cli --release --locked --quiet
    pollen=target/release/pollen
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=0

# bench NAME SMALL_ARGS -- FULL_ARGS
bench() {
    local name=$1 args=()
    shift
    if [ "$small" = 1 ]; then
        while [ "$1" != -- ]; do args+=("$1"); shift; done
    else
        while [ "$1" != -- ]; do shift; done
        shift
        args=("$@")
    fi
    local start=$SECONDS
    if ! "$pollen" bench "$name" "${args[@]}" --json >"$out/$name.json" 2>"$out/$name.err"; then
        echo "bench $name failed:" >&2
        cat "$out/$name.err" >&2
        failed=1
        return
    fi
    if ! python3 scripts/bench_check.py "$name" "$out/$name.json"; then
        cat "$out/$name.json" "$out/$name.err" >&2
        failed=1
        return
    fi
    cat "$out/$name.json"
    echo "  ($name: $((SECONDS - start)) s)" >&2
}

bench envelopes --count 500 -- --count 10000
bench open --messages 1000 -- --messages 100000
bench sync --envelopes 500 -- --envelopes 100000
bench recon --items 10000 --diff 100 -- --items 100000 --diff 0
bench relay --clients 20 --envelopes 5 --idle 20 --uploads 2 -- --clients 1000
bench ble --bulk 20 --messages 10 -- --mtu 185
bench ceiling --senders 2000 --storage-kib 256 -- --senders 1000000
bench attachments --mib 1 -- --mib 5

if [ "$failed" != 0 ]; then
    echo "benchmarks: FAILED" >&2
    exit 1
fi
echo "benchmarks: every one printed its figures" >&2
