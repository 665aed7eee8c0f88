#!/usr/bin/env bash
# Runs every cargo-fuzz target in turn, each from its committed seed corpus
# (fuzz/corpus/<target>/).
#
#   scripts/fuzz.sh --seconds N   fuzz each target for N seconds
#   scripts/fuzz.sh --minutes N   fuzz each target for N minutes
#   scripts/fuzz.sh --corpus      run each target over its corpus once (-runs=0),
#                                 the quick regression pass CI uses
#   scripts/fuzz.sh ... TARGET…   only these targets
#
# Needs a nightly toolchain and cargo-fuzz; installs them with rustup and
# cargo install when missing (cached in ~/.rustup and ~/.cargo/bin). New
# inputs the fuzzer finds go to fuzz/target/corpus/, not the committed seeds;
# a crash leaves its input in fuzz/artifacts/<target>/ and fails the run:
# turn it into a regression test (and a seed) before fixing it.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

mode=corpus
secs=0
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) mode=time; secs="$2"; shift 2 ;;
        --minutes) mode=time; secs=$(( $2 * 60 )); shift 2 ;;
        --corpus) mode=corpus; shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

cargo +nightly fuzz build --release

failed=0
for t in "${targets[@]}"; do
    seeds="corpus/$t"
    work="target/corpus/$t"
    mkdir -p "$work" "$seeds"
    if [ "$mode" = corpus ]; then
        args=(-runs=0)
        dirs=("$seeds")
    else
        args=(-max_total_time="$secs" -print_final_stats=1)
        dirs=("$work" "$seeds")
    fi
    printf '==> %s (%s)\n' "$t" "$mode"
    if ! cargo +nightly fuzz run --release "$t" "${dirs[@]}" -- "${args[@]}" -rss_limit_mb=2048 2>"target/$t.log"; then
        echo "FAILED: $t (see fuzz/target/$t.log and fuzz/artifacts/$t/)" >&2
        tail -20 "target/$t.log" >&2
        failed=1
    fi
    grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "target/$t.log" | tail -1 || true
done
exit $failed
