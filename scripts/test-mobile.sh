#!/usr/bin/env bash
# The mobile layer, checked on Linux (no Android SDK, no Xcode):
#   1. the UniFFI bindings generated from pollen-ffi (scripts/bindings.sh);
#   2. one kotlinc run type-checks every Kotlin file of android/ (library,
#      app, tests) against android-all (the Android framework jar) plus the
#      generated bindings, JNA and kotlinx-coroutines;
#   3. the Kotlin test program on the JVM: three nodes over a loopback
#      platform transport, events, errors, the call+callback round trip;
#   4. Robolectric, offline: the foreground service runs the node and
#      follows Bluetooth, permissions, process death and boot; the app's
#      screens; the journey of two apps (own cores) through a carrier;
#      every screen drawn (native graphics) into docs/screenshots/;
#   5. every hand-written Swift file parses (tree-sitter-swift);
#   6. no Swift or Kotlin spells the GATT UUIDs: they come from the core's
#      gattContract() (scripts/gatt_literals.py, with a planted literal).
# Tools are installed and cached by scripts/mobile-tools.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

scripts/mobile-tools.sh
# shellcheck disable=SC1091
. target/mobile-tools/env.sh

scripts/bindings.sh
LIB_DIR=$ROOT/target/bindings/lib
GENERATED_KT=$ROOT/target/bindings/kotlin
[ -f "$LIB_DIR/libpollen_ffi.so" ] || { echo "no $LIB_DIR/libpollen_ffi.so" >&2; exit 1; }

OUT=$ROOT/target/mobile
mkdir -p "$OUT"
CLASSES=$OUT/android-classes.jar

echo "--> kotlinc: android library, app and tests against android-all"
mapfile -t SOURCES < <(find "$GENERATED_KT" android -name '*.kt' | sort)
COMPILE_CP=$ANDROID_ALL:$JNA_JAR:$COROUTINES_JAR:$ZXING_JAR:$ROBOLECTRIC_CP
start=$(date +%s)
"$KOTLINC" -jvm-target 17 -nowarn -cp "$COMPILE_CP" -d "$CLASSES" "${SOURCES[@]}"
echo "kotlinc: ${#SOURCES[@]} files compiled in $(($(date +%s) - start)) s"

echo "--> Kotlin bindings on the JVM"
java -Djna.library.path="$LIB_DIR" \
    -cp "$CLASSES:$JNA_JAR:$COROUTINES_JAR:$KOTLIN_STDLIB" \
    org.pollen.android.BindingsTestProgramKt

echo "--> Robolectric (SDK 35, offline): the service and its restarts; the app's screens; the two-app journey"
java -Djna.library.path="$LIB_DIR" \
    -Drobolectric.offline=true -Drobolectric.dependency.dir="$ROBOLECTRIC_SDK_DIR" \
    -Dpollen.manifest="$ROOT/android/pollen/src/main/AndroidManifest.xml" \
    -Dpollen.screenshots="$ROOT/docs/screenshots" \
    -cp "$CLASSES:$ROBOLECTRIC_CP:$ANDROID_ALL_35:$JNA_JAR:$COROUTINES_JAR:$KOTLIN_STDLIB" \
    org.pollen.android.JUnitSummaryKt org.pollen.android.PollenServiceTest org.pollen.android.MeshRestartTest \
    org.pollen.app.AppUiTest org.pollen.app.ServiceMeshTest org.pollen.app.JourneyTest \
    org.pollen.app.ScreenshotTest

echo "--> Swift syntax: the hand-written Swift (the generated file is checked by test-bindings.sh)"
scripts/swift-syntax.sh ios

echo "--> GATT contract: the UUIDs come from the core, never spelled in Swift or Kotlin"
PYTHONPATH=target/bindings/python python3 scripts/gatt_literals.py ios android
