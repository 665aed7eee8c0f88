#!/usr/bin/env bash
# The mobile layer, checked on Linux (no Android SDK, no Xcode):
#   1. the UniFFI bindings generated from pollen-ffi (scripts/bindings.sh);
#   2. one kotlinc run type-checks every Kotlin file of android/ (library,
#      app, tests) against android-all (the Android framework jar) plus the
#      generated bindings, JNA and kotlinx-coroutines;
#   3. the Kotlin test program on the JVM: three nodes over a loopback
#      platform transport, events, errors, the call+callback round trip;
#   4. Robolectric, offline, on SDK 35 (Java 17) and again on SDK 36 (the
#      newest Robolectric runs; Java 21+): the foreground service runs the node and
#      follows Bluetooth, permissions, process death and boot; the app's
#      screens; the journey of two apps (own cores) through a carrier;
#      another app reaching a board through the shared-documents service,
#      denied until the user grants it in Settings;
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

# robolectric JAVA SDK PLAIN_ANDROID_ALL SCREENSHOTS: every Robolectric class
# on one SDK (the classes list 35 and 36; robolectric.enabledSdks picks).
# java.io opened: Robolectric's ParcelFileDescriptor (behind the file
# picker's content resolver, bundles in Settings) reaches into FileDescriptor.
robolectric() {
    "$1" --add-opens java.base/java.io=ALL-UNNAMED -Djna.library.path="$LIB_DIR" \
        -Drobolectric.offline=true -Drobolectric.dependency.dir="$ROBOLECTRIC_SDK_DIR" \
        -Drobolectric.enabledSdks="$2" \
        -Dpollen.manifest="$ROOT/android/pollen/src/main/AndroidManifest.xml" \
        -Dpollen.screenshots="$4" \
        -cp "$CLASSES:$ROBOLECTRIC_CP:$3:$JNA_JAR:$COROUTINES_JAR:$KOTLIN_STDLIB" \
        org.pollen.android.JUnitSummaryKt org.pollen.android.PollenServiceTest org.pollen.android.MeshRestartTest \
        org.pollen.app.AppUiTest org.pollen.app.ServiceMeshTest org.pollen.app.JourneyTest \
        org.pollen.app.SharedDocsAccessTest org.pollen.app.ScreenshotTest
}

echo "--> Robolectric (SDK 35 on Java 17, offline): the service and its restarts; the app's screens; the two-app journey"
robolectric java 35 "$ANDROID_ALL_35" "$ROOT/docs/screenshots"

echo "--> Robolectric again on SDK 36, the newest it supports (Java 21+: $JAVA_NEWEST)"
if [ -n "$JAVA_NEWEST" ]; then
    robolectric "$JAVA_NEWEST" 36 "$ANDROID_ALL_36" "$OUT/screenshots-36"
else
    echo "SKIP Robolectric on SDK 36: no Java 21 or newer here (and not root to install one)"
fi

echo "--> Swift syntax: the hand-written Swift (the generated file is checked by test-bindings.sh)"
scripts/swift-syntax.sh ios

echo "--> GATT contract: the UUIDs come from the core, never spelled in Swift or Kotlin"
PYTHONPATH=target/bindings/python python3 scripts/gatt_literals.py ios android
