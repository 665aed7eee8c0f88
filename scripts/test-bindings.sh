#!/usr/bin/env bash
# The mobile bindings' checks: generated Python driven against the real core
# (three nodes over a loopback platform transport, Bonjour-style discovery),
# the generated and hand-written Swift parsed, the hand-written Swift's uses
# of the generated API and project.yml's plist keys checked
# (scripts/swift-symbols.sh), the generated C header compiled, and pollen-ffi type-checked for
# Android and iOS. Installs what it needs (apt as root, pip into a venv under
# target/, rustup targets).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v clang >/dev/null || missing+=(clang)
command -v llvm-ar >/dev/null || missing+=(llvm)
[ -d /usr/aarch64-linux-gnu/include ] || missing+=(libc6-dev-arm64-cross)
python3 -c "import venv, ensurepip" 2>/dev/null || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "test-bindings: needs ${missing[*]} (apt-get install -y ${missing[*]})" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "--- build and generate"
scripts/bindings.sh

echo "--- Python: three nodes, loopback platform links"
PYTHONPATH=target/bindings/python python3 bindings/python/tests/test_pollen.py

echo "--- Swift parses"
scripts/swift-syntax.sh target/bindings/swift ios

echo "--- hand-written Swift uses the generated API as declared; project.yml has the plist keys"
scripts/swift-symbols.sh target/bindings/swift/pollen.swift

echo "--- C header compiles"
clang -fsyntax-only -x c -Wall -Werror -Wno-pragma-once-outside-header target/bindings/swift/pollenFFI.h
echo "pollenFFI.h: ok"

echo "--- pollen-ffi and pollen-runtime (ble) type-check for Android and iOS"
scripts/check-phone-targets.sh
