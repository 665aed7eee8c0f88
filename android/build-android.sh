#!/usr/bin/env bash
# Builds the Pollen Android library (AAR) and app (APK) on a developer machine
# with the Android SDK and NDK (not possible on CI here: no NDK, no Google Maven).
#
#   export ANDROID_HOME=~/Android/Sdk ANDROID_NDK_HOME=$ANDROID_HOME/ndk/<version>
#   android/build-android.sh            # release AAR + debug APK
#
# Steps: the core for each ABI with cargo-ndk (into target/android/jniLibs,
# which the library module packs), the Kotlin bindings with
# scripts/bindings.sh (target/bindings/kotlin), then Gradle.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${ANDROID_HOME:?set ANDROID_HOME to the Android SDK}"
: "${ANDROID_NDK_HOME:?set ANDROID_NDK_HOME to an NDK (r28 or newer)}"

# r28 is the first NDK that links for 16 KB pages by default (Android 15+
# devices with 16 KB pages refuse libraries aligned for 4 KB).
ndk_major=$(sed -n 's/^Pkg.Revision *= *\([0-9]*\).*/\1/p' "$ANDROID_NDK_HOME/source.properties" 2>/dev/null || true)
if [ -z "$ndk_major" ] || [ "$ndk_major" -lt 28 ]; then
    echo "build-android: NDK r28 or newer needed (found ${ndk_major:-none} in $ANDROID_NDK_HOME)" >&2
    exit 1
fi

ABIS=(arm64-v8a armeabi-v7a x86_64)
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
command -v cargo-ndk >/dev/null || cargo install --locked cargo-ndk

# 26 = the library's minSdk; the size-optimised profile from bindings/API.md.
# The page-size flag says the 16 KB alignment out loud (r28's default).
RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,max-page-size=16384" \
cargo ndk $(printf -- '-t %s ' "${ABIS[@]}") --platform 26 -o target/android/jniLibs \
    build --locked -p pollen-ffi --profile release-ffi

scripts/bindings.sh --release

cd android
# No wrapper jar is committed (a binary); `gradle wrapper` makes one locally.
GRADLE=./gradlew
[ -x "$GRADLE" ] || GRADLE=gradle
"$GRADLE" :pollen:assembleRelease :pollen:testDebugUnitTest :app:assembleDebug
echo "AAR: android/pollen/build/outputs/aar/pollen-release.aar"
echo "APK: android/app/build/outputs/apk/debug/app-debug.apk"
