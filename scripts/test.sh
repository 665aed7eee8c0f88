#!/usr/bin/env bash
# Runs every check and test of the workspace. Needs only a Rust toolchain
# (rustup with rustfmt and clippy) and python3; fetches crates itself. As
# root it also installs PostgreSQL from Debian's packages if missing, for the
# relay tests against a real server (tests/pg/start_postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# Tests that need root (network namespaces, a throwaway PostgreSQL server)
# are #[ignore]d, so another user sees them reported as ignored, never as
# passed. As root they must really run: POLLEN_REQUIRE_NETNS=1 says so, and
# setting it as another user is an error rather than a silent skip.
if [ "$(id -u)" = 0 ]; then
    export POLLEN_REQUIRE_NETNS=1
elif [ "${POLLEN_REQUIRE_NETNS:-}" = 1 ]; then
    echo "POLLEN_REQUIRE_NETNS=1, but the tests that need root cannot run as uid $(id -u)" >&2
    exit 1
fi

# Each step says how long the run has taken so far, so the slow ones show.
started=$SECONDS
step() { printf '\n==> %s  [%dm%02ds in]\n' "$*" $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)); }

step "formatting"
cargo fmt --all -- --check

step "lints"
# (the CLI enables pollen-node's `postgres` feature, so this lints it too)
cargo clippy --workspace --all-targets --locked -- -D warnings

step "unit, property and scenario tests"
cargo build --workspace --locked
if [ "${POLLEN_REQUIRE_NETNS:-}" = 1 ]; then
    # In the same invocation as the rest: `cargo test -p pollen-tests` alone
    # resolves features differently and rebuilds most dependencies.
    echo "as root: the tests that need root (network namespaces, PostgreSQL) run too"
    cargo test --workspace --locked -- --include-ignored
else
    cargo test --workspace --locked
    echo "not root: the tests that need root were reported as ignored"
fi

step "benchmarks at small sizes (each prints its figures; none zero)"
./scripts/bench.sh --small

step "fuzz targets: build, and run each over its committed seed corpus"
# A timed fuzzing pass needs nightly and an ASan build of everything (well
# over 3 minutes on 2 cores), so CI only replays the seeds (-runs=0) on a
# stable build; scripts/fuzz.sh --seconds N does the real fuzzing.
(cd fuzz && cargo build --locked --quiet)
for dir in fuzz/corpus/*/; do
    t=$(basename "$dir")
    if ! fuzz/target/debug/"$t" -runs=0 "$dir" >/dev/null 2>&1; then
        echo "fuzz target $t fails on its corpus:" >&2
        fuzz/target/debug/"$t" -runs=0 "$dir" >&2 || true
        exit 1
    fi
done
echo "fuzz targets: ok ($(ls -d fuzz/corpus/*/ | wc -l) corpora replayed)"

step "mobile bindings (Python, Swift syntax, C header, Android/iOS type-check)"
./scripts/test-bindings.sh

step "mobile: Kotlin on the JVM and Robolectric, Android type-check, Swift syntax"
./scripts/test-mobile.sh

step "Bluetooth LE: btleplug on a mocked BlueZ, phone targets, platform code"
./scripts/test-ble.sh

step "all checks passed"
