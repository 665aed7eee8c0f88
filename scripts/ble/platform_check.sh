#!/usr/bin/env bash
# The phones' BLE code, checked on Linux (no Android SDK, no Xcode):
#   - the Kotlin radio (android/pollen/.../ble/) compiles against android-all,
#     the Android framework as a plain jar, and the generated bindings (its
#     `BleRadio` is the bindings' foreign trait), warnings as errors;
#   - Robolectric's Bluetooth shadows drive it (PollenBleTest): start,
#     advertise, scan, a central subscribes, a write reaches the core, a
#     refused notification ends the link, stop;
#   - the Swift radio (ios/PollenKit/Sources/PollenKit/Ble/) parses.
# Tools come from scripts/mobile-tools.sh and scripts/swift-syntax.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
KT_DIR=android/pollen/src/main/kotlin/org/pollen/android/ble
SWIFT_DIR=ios/PollenKit/Sources/PollenKit/Ble

scripts/mobile-tools.sh
# shellcheck disable=SC1091
. target/mobile-tools/env.sh
OUT=target/ble-platform
mkdir -p "$OUT"
# The generated bindings, compiled on their own: generated code is not held
# to -Werror, the radio is.
scripts/bindings.sh >/dev/null
mapfile -t GENERATED < <(find target/bindings/kotlin -name '*.kt' | sort)
"$KOTLINC" -jvm-target 17 -nowarn -cp "$JNA_JAR:$COROUTINES_JAR" -d "$OUT/bindings.jar" "${GENERATED[@]}"
BINDINGS_CP=$OUT/bindings.jar:$JNA_JAR:$COROUTINES_JAR
start=$(date +%s)
"$KOTLINC" -jvm-target 17 -Werror -cp "$ANDROID_ALL:$BINDINGS_CP" -d "$OUT/ble-radio.jar" \
    "$KT_DIR/BleContract.kt" "$KT_DIR/PollenBle.kt"
echo "kotlinc: Android BLE radio compiled against android-all in $(($(date +%s) - start)) s"
# The compiled radio must really implement the core's contract.
unzip -l "$OUT/ble-radio.jar" >"$OUT/ble-radio.list"
grep -q 'org/pollen/android/ble/PollenBle.class' "$OUT/ble-radio.list"

TEST_DIR=android/pollen/src/test/kotlin/org/pollen/android
"$KOTLINC" -jvm-target 17 -nowarn -cp "$ANDROID_ALL:$ROBOLECTRIC_CP:$BINDINGS_CP" -d "$OUT/ble-test.jar" \
    "$KT_DIR/BleContract.kt" "$KT_DIR/PollenBle.kt" "$TEST_DIR/ble/PollenBleTest.kt" "$TEST_DIR/JUnitSummary.kt"
# PollenGatt reads the UUIDs from the core (gattContract()): the library loads.
# SDK 35 on Java 17, then SDK 36 on Java 21+ as scripts/test-mobile.sh does.
ble_robolectric() { # JAVA SDK PLAIN_ANDROID_ALL
    "$1" -Djna.library.path=target/bindings/lib \
        -Drobolectric.offline=true -Drobolectric.dependency.dir="$ROBOLECTRIC_SDK_DIR" \
        -Drobolectric.enabledSdks="$2" \
        -cp "$OUT/ble-test.jar:$BINDINGS_CP:$ROBOLECTRIC_CP:$3:$KOTLIN_STDLIB" \
        org.pollen.android.JUnitSummaryKt org.pollen.android.ble.PollenBleTest 2>&1 |
        grep -v '^\[Robolectric\] WARN\|^WARNING: '
}
ble_robolectric java 35 "$ANDROID_ALL_35"
if [ -n "$JAVA_NEWEST" ]; then
    ble_robolectric "$JAVA_NEWEST" 36 "$ANDROID_ALL_36"
else
    echo "SKIP PollenBleTest on SDK 36: no Java 21 or newer here"
fi

scripts/swift-syntax.sh "$SWIFT_DIR"
