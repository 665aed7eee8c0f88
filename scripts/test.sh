#!/usr/bin/env bash
# Runs every check and test of the workspace. Needs only a Rust toolchain
# (rustup with rustfmt and clippy) and python3; fetches crates itself. As
# root it also installs PostgreSQL from Debian's packages if missing, for the
# relay tests against a real server (tests/pg/start_postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# As root the LAN mesh test over network namespaces must really run, not skip.
if [ "$(id -u)" = 0 ]; then export POLLEN_REQUIRE_NETNS=1; fi

step() { printf '\n==> %s\n' "$*"; }

step "formatting"
cargo fmt --all -- --check

step "lints"
# (the CLI enables pollen-node's `postgres` feature, so this lints it too)
cargo clippy --workspace --all-targets --locked -- -D warnings

step "unit, property and scenario tests"
cargo build --workspace --locked
cargo test --workspace --locked

step "fuzz targets build"
(cd fuzz && cargo check --locked --quiet)
echo "fuzz targets: ok"

step "mobile bindings (Python, Swift syntax, C header, Android/iOS type-check)"
./scripts/test-bindings.sh

step "mobile: Kotlin on the JVM and Robolectric, Android type-check, Swift syntax"
./scripts/test-mobile.sh

step "Bluetooth LE: btleplug on a mocked BlueZ, phone targets, platform code"
./scripts/test-ble.sh
