#!/usr/bin/env bash
# Builds Pollen (release) and runs the narrated sneakernet walk-through.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p pollen-cli
exec target/release/pollen demo "$@"
