#!/usr/bin/env bash
# Builds PollenKit's binary part on a Mac with Xcode: the core as a static
# library for iOS devices and the simulator (arm64 + x86_64), wrapped in
# ios/PollenKit/Frameworks/pollenFFI.xcframework with the generated C header,
# and copies the generated Swift into ios/PollenKit/Sources/PollenBindings/.
#
# and generates ios/PollenApp/PollenApp.xcodeproj (and its Info.plist) with
# XcodeGen from ios/PollenApp/project.yml.
#
#   ios/build-ios.sh          # needs Xcode 16+, rustup, XcodeGen (brew install xcodegen)
#   open ios/PollenApp/PollenApp.xcodeproj
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(uname)" = Darwin ] || { echo "build-ios.sh needs macOS with Xcode" >&2; exit 1; }
command -v xcodebuild >/dev/null || { echo "build-ios.sh needs Xcode 16+ (xcodebuild)" >&2; exit 1; }
command -v xcodegen >/dev/null || { echo "build-ios.sh needs XcodeGen: brew install xcodegen" >&2; exit 1; }
xcode=$(xcodebuild -version | awk 'NR==1 {print $2}')
[ "${xcode%%.*}" -ge 16 ] || { echo "build-ios.sh needs Xcode 16+ (found $xcode)" >&2; exit 1; }

PROFILE=release-ffi
DEVICE=aarch64-apple-ios
SIMS=(aarch64-apple-ios-sim x86_64-apple-ios)
export IPHONEOS_DEPLOYMENT_TARGET=15.0
rustup target add "$DEVICE" "${SIMS[@]}"
for t in "$DEVICE" "${SIMS[@]}"; do
    cargo build --locked -p pollen-ffi --profile "$PROFILE" --target "$t"
done

# The Swift and the header come from the host build's metadata: identical for
# every target.
scripts/bindings.sh --release

OUT=target/ios
rm -rf "$OUT" && mkdir -p "$OUT/headers" "$OUT/sim"
cp target/bindings/swift/pollenFFI.h "$OUT/headers/"
# The generated modulemap names the module pollenFFI; an XCFramework wants it
# called module.modulemap next to the header.
cp target/bindings/swift/pollenFFI.modulemap "$OUT/headers/module.modulemap"
lipo -create $(printf "target/%s/$PROFILE/libpollen_ffi.a " "${SIMS[@]}") -output "$OUT/sim/libpollen_ffi.a"

FRAMEWORK=ios/PollenKit/Frameworks/pollenFFI.xcframework
rm -rf "$FRAMEWORK"
xcodebuild -create-xcframework \
    -library "target/$DEVICE/$PROFILE/libpollen_ffi.a" -headers "$OUT/headers" \
    -library "$OUT/sim/libpollen_ffi.a" -headers "$OUT/headers" \
    -output "$FRAMEWORK"
cp target/bindings/swift/pollen.swift ios/PollenKit/Sources/PollenBindings/pollen.swift
echo "built $FRAMEWORK"

(cd ios/PollenApp && xcodegen generate --quiet)
echo "generated ios/PollenApp/PollenApp.xcodeproj and Info.plist; open it in Xcode"
