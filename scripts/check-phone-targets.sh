#!/usr/bin/env bash
# Type-checks what the phones compile, pollen-ffi and pollen-runtime with its
# `ble` feature, for aarch64-linux-android and aarch64-apple-ios. There is no
# NDK or Xcode here, so nothing links: clang and the arm64 glibc headers stand
# in for the C parts. test-bindings.sh and test-ble.sh both call this with the
# same flags, so in one CI run the second call finds everything checked.
#   scripts/check-phone-targets.sh [android] [ios]    (default: both)
# Needs clang, llvm-ar and libc6-dev-arm64-cross (the callers install them).
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(android ios)
rustup target add aarch64-linux-android aarch64-apple-ios >/dev/null 2>&1

# One selection for both crates: checked apart, feature unification would
# differ and each check would rebuild the shared dependencies.
crates=(-p pollen-ffi -p pollen-runtime --features pollen-runtime/ble)

for t in "${targets[@]}"; do
    case "$t" in
        android)
            CC_aarch64_linux_android=clang AR_aarch64_linux_android=llvm-ar \
            CFLAGS_aarch64_linux_android="--target=aarch64-linux-android24 --sysroot=/nonexistent -isystem /usr/aarch64-linux-gnu/include" \
                cargo check -j2 --locked --target aarch64-linux-android "${crates[@]}"
            echo "aarch64-linux-android: ok"
            ;;
        ios)
            # A fixed empty SDKROOT: a fresh temporary path each run would
            # make the C build scripts run again.
            mkdir -p target/ios-sdk-stub
            SDKROOT="$PWD/target/ios-sdk-stub" IPHONEOS_DEPLOYMENT_TARGET=15.0 \
            CC_aarch64_apple_ios=clang AR_aarch64_apple_ios=llvm-ar \
            CFLAGS_aarch64_apple_ios="--target=aarch64-linux-gnu -isystem /usr/aarch64-linux-gnu/include" \
                cargo check -j2 --locked --target aarch64-apple-ios "${crates[@]}"
            echo "aarch64-apple-ios: ok"
            ;;
        *)
            echo "check-phone-targets: unknown target '$t' (android or ios)" >&2
            exit 2
            ;;
    esac
done
