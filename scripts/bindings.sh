#!/usr/bin/env bash
# Builds libpollen_ffi and generates its Kotlin, Swift and Python bindings.
#
#   scripts/bindings.sh            debug library (quick to build, what tests use)
#   scripts/bindings.sh --release  the shipped profile `release-ffi` (stripped, LTO)
#
# Output, always in the same place:
#   target/bindings/lib/libpollen_ffi.so         (JNA: -Djna.library.path=target/bindings/lib)
#   target/bindings/kotlin/uniffi/pollen/pollen.kt
#   target/bindings/swift/{pollen.swift,pollenFFI.h,pollenFFI.modulemap}
#   target/bindings/python/pollen/               (package: PYTHONPATH=target/bindings/python,
#                                                 or pip install target/bindings/python)
set -euo pipefail
cd "$(dirname "$0")/.."

profile=dev
dir=debug
if [ "${1:-}" = "--release" ]; then
    profile=release-ffi
    dir=release-ffi
fi

# Bindings are generated from the debug library: the shipped one is stripped,
# and stripping drops the metadata symbols uniffi-bindgen reads. Both come
# from the same source, so the API checksums the bindings verify agree.
if [ "$profile" = dev ]; then
    # The whole workspace, as scripts/test.sh builds it: built alone, the two
    # crates would resolve features differently and rebuild most dependencies.
    cargo build -j2 --locked --workspace
else
    cargo build -j2 --locked -p pollen-ffi -p uniffi-bindgen
    cargo build -j2 --locked --profile "$profile" -p pollen-ffi
fi

case "$(uname -s)" in
    Darwin) lib=libpollen_ffi.dylib ;;
    *) lib=libpollen_ffi.so ;;
esac
out=target/bindings
rm -rf "$out"
mkdir -p "$out/lib" "$out/python/pollen"
cp "target/$dir/$lib" "$out/lib/"

gen() {
    target/debug/uniffi-bindgen generate "target/debug/$lib" --language "$1" --out-dir "$2" --no-format >/dev/null
}
gen kotlin "$out/kotlin"
gen swift "$out/swift"
gen python "$out/python-generated"

# The Python package: our __init__ re-exports the generated module, which
# loads the library from its own directory.
cp bindings/python/pollen/__init__.py "$out/python/pollen/"
cp "$out/python-generated/pollen.py" "$out/python/pollen/_ffi.py"
cp "$out/lib/$lib" "$out/python/pollen/"
cp bindings/python/pyproject.toml "$out/python/"
rm -rf "$out/python-generated"

echo "bindings in $out: $(cd "$out" && find . -type f | sort | tr '\n' ' ')"
