#!/usr/bin/env bash
# Installs what the mobile checks need on a Linux machine without the Android
# SDK or Xcode, cached under target/mobile-tools/ (a second run only checks):
#   - kotlinc (npm package kotlin-compiler: the full JetBrains compiler),
#   - jars from Maven Central (scripts/mobile/pom.xml): android-all (the
#     Android framework as a plain jar), Robolectric and its instrumented
#     android-all, JNA, kotlinx-coroutines, ZXing, JUnit.
# (The Swift syntax check installs its own tree-sitter: scripts/swift-syntax.sh.)
# Writes target/mobile-tools/env.sh, which the test scripts source.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/target/mobile-tools
KOTLIN_VERSION=2.4.20
mkdir -p "$TOOLS"
# Runs a command, showing its output only if it fails.
quiet() {
    local out
    out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
}

# kotlinc: npm serves JetBrains' release zip repackaged, bin/ and lib/ intact.
KOTLIN_HOME=$TOOLS/kotlin-$KOTLIN_VERSION
if [ ! -x "$KOTLIN_HOME/bin/kotlinc" ]; then
    echo "mobile-tools: fetching kotlinc $KOTLIN_VERSION (npm)"
    tmp=$(mktemp -d "$TOOLS/kotlin.XXXX")
    (cd "$tmp" && npm pack --silent "kotlin-compiler@$KOTLIN_VERSION" >/dev/null \
        && tar xzf "kotlin-compiler-$KOTLIN_VERSION.tgz")
    rm -rf "$KOTLIN_HOME"
    mv "$tmp/package" "$KOTLIN_HOME"
    rm -rf "$tmp"
fi

# Jars: resolved into a repository under target/ and used in place (no copies;
# android-all alone is 230 MB).
M2=$TOOLS/m2
CP_FILE=$TOOLS/classpath.txt
if [ ! -s "$CP_FILE" ] || [ scripts/mobile/pom.xml -nt "$CP_FILE" ]; then
    echo "mobile-tools: resolving jars (Maven Central)"
    quiet mvn -B -f scripts/mobile/pom.xml -Dmaven.repo.local="$M2" \
        dependency:build-classpath -Dmdep.outputFile="$CP_FILE.tmp"
    mv "$CP_FILE.tmp" "$CP_FILE"
fi
jar_of() { tr ':' '\n' <"$CP_FILE" | grep "/$1" | head -n1; }
ANDROID_ALL=$(jar_of 'android-all-17-')
ROBOLECTRIC_SDK_JAR=$(jar_of 'android-all-instrumented-')
JNA_JAR=$(jar_of 'jna-[0-9]')
COROUTINES_JAR=$(jar_of 'kotlinx-coroutines-core-jvm-')
JUNIT_JARS=$(jar_of 'junit-4.13'):$(jar_of 'hamcrest-core-')
ZXING_JAR=$(jar_of 'zxing/core/')
# Robolectric's sandbox loads the instrumented framework itself from
# ROBOLECTRIC_SDK_DIR (offline mode). The test's own class path needs a plain
# android-all it can read on Java 17 (17 is Java 21 bytecode; an instrumented
# one breaks code outside the sandbox), hence the same SDK's plain jar.
maven_jar() { # group:artifact:version -> the jar in $M2, fetched once
    local g=${1%%:*} rest=${1#*:}
    local a=${rest%%:*} v=${rest#*:}
    local jar=$M2/${g//.//}/$a/$v/$a-$v.jar
    if [ ! -s "$jar" ]; then
        quiet mvn -B -Dmaven.repo.local="$M2" dependency:get -Dartifact="$1" -Dtransitive=false
    fi
    echo "$jar"
}
ANDROID_ALL_35=$(maven_jar org.robolectric:android-all:15-robolectric-13954326)
# SDK 36 (Android 16, "Baklava"), the newest Robolectric 4.16.1 runs: its
# framework is Java 21 bytecode, so it runs under Java 21+ (JAVA_NEWEST).
ANDROID_ALL_36=$(maven_jar org.robolectric:android-all:16-robolectric-13921718)
SDK_36_JAR=$(maven_jar org.robolectric:android-all-instrumented:16-robolectric-13921718-i7)
JAVA_NEWEST=
for j in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/java-21-openjdk-amd64; do
    [ -x "$j/bin/java" ] && { JAVA_NEWEST=$j/bin/java; break; }
done
if [ -z "$JAVA_NEWEST" ] && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-21-jdk-headless >/dev/null \
        && JAVA_NEWEST=/usr/lib/jvm/java-21-openjdk-amd64/bin/java
fi
# androidx.test comes as .aar: its classes.jar is what goes on a class path.
AAR_DIR=$TOOLS/aar-classes
mkdir -p "$AAR_DIR"
ROBOLECTRIC_CP=
for j in $(tr ':' '\n' <"$CP_FILE" | grep -v '/android-all'); do
    case $j in
    *.aar)
        out=$AAR_DIR/$(basename "$j" .aar).jar
        [ -s "$out" ] || unzip -p "$j" classes.jar >"$out"
        j=$out ;;
    esac
    ROBOLECTRIC_CP=${ROBOLECTRIC_CP:+$ROBOLECTRIC_CP:}$j
done
for j in "$ANDROID_ALL" "$ROBOLECTRIC_SDK_JAR" "$JNA_JAR" "$COROUTINES_JAR" "$ZXING_JAR"; do
    [ -f "$j" ] || { echo "mobile-tools: missing jar ($j)" >&2; exit 1; }
done
# Offline, Robolectric finds each SDK's instrumented jar in one directory.
ROBOLECTRIC_SDK_DIR=$TOOLS/robolectric-sdks
mkdir -p "$ROBOLECTRIC_SDK_DIR"
ln -sf "$ROBOLECTRIC_SDK_JAR" "$SDK_36_JAR" "$ROBOLECTRIC_SDK_DIR/"

cat >"$TOOLS/env.sh" <<ENV
# Written by scripts/mobile-tools.sh.
KOTLIN_HOME='$KOTLIN_HOME'
KOTLINC='$KOTLIN_HOME/bin/kotlinc'
KOTLIN_STDLIB='$KOTLIN_HOME/lib/kotlin-stdlib.jar'
ANDROID_ALL='$ANDROID_ALL'
ROBOLECTRIC_SDK_DIR='$ROBOLECTRIC_SDK_DIR'
ANDROID_ALL_35='$ANDROID_ALL_35'
ANDROID_ALL_36='$ANDROID_ALL_36'
JAVA_NEWEST='$JAVA_NEWEST'
JNA_JAR='$JNA_JAR'
COROUTINES_JAR='$COROUTINES_JAR'
JUNIT_JARS='$JUNIT_JARS'
ZXING_JAR='$ZXING_JAR'
ROBOLECTRIC_CP='$ROBOLECTRIC_CP'
ENV
echo "mobile-tools: ready ($TOOLS)"
