#!/usr/bin/env bash
# The Bluetooth LE checks beyond `cargo test`: installs what they need
# (Debian packages as root, Rust targets through rustup), then
#  1. lints and builds with the `ble` feature (btleplug: libdbus-1-dev, pkg-config);
#  2. runs the smoke test of the btleplug layer against a mocked BlueZ on a
#     private D-Bus (scripts/ble/smoke_bluez.sh);
#  3. type-checks pollen-runtime with `ble` for aarch64-linux-android and
#     aarch64-apple-ios (no NDK or Xcode: no linking);
#  4. compiles the Android BLE code against android-all and parses the iOS
#     BLE code (scripts/ble/platform_check.sh), when those sources exist.
# Ends with one line "ble: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
pass=0
fail=0
stage() {
    local name=$1
    shift
    echo "--- $name"
    if "$@"; then
        echo "ok: $name"
        pass=$((pass + 1))
    else
        echo "FAILED: $name"
        fail=$((fail + 1))
    fi
}

need_pkgs=()
for p in libdbus-1-dev pkg-config dbus python3-dbusmock python3-dbus clang llvm libc6-dev-arm64-cross; do
    dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if [ "${#need_pkgs[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
    else
        echo "missing Debian packages (run as root to install): ${need_pkgs[*]}"
        exit 1
    fi
fi
rustup target add aarch64-linux-android aarch64-apple-ios >/dev/null 2>&1

lint() {
    cargo clippy -p pollen-runtime -p pollen-cli --features pollen-cli/ble --all-targets --locked -- -D warnings
}
stage "clippy with the ble feature" lint

build() { cargo build -p pollen-cli --features ble --locked -j2; }
stage "build pollen with the ble feature" build
stage "btleplug against a mocked BlueZ" bash scripts/ble/smoke_bluez.sh target/debug/pollen

stage "cargo check aarch64-linux-android --features ble" scripts/check-phone-targets.sh android
stage "cargo check aarch64-apple-ios --features ble" scripts/check-phone-targets.sh ios

if [ -x scripts/ble/platform_check.sh ]; then
    stage "Kotlin and Swift BLE code" scripts/ble/platform_check.sh
fi

echo "ble: $pass passed, $fail failed"
[ "$fail" = 0 ]
