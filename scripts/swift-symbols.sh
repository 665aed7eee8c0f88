#!/usr/bin/env bash
# The hand-written Swift against the generated bindings, and project.yml's
# Info.plist properties against what the Swift uses (scripts/swift_symbols.py),
# with its planted-mistake fixtures (scripts/test_swift_symbols.py). Needs
# the generated Swift (scripts/bindings.sh). tree-sitter-swift and PyYAML in
# the venv scripts/swift-syntax.sh uses.
#   scripts/swift-symbols.sh [target/bindings/swift/pollen.swift]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/target/tools/swift-venv"
if ! "$venv/bin/python" -c "import tree_sitter, tree_sitter_swift, yaml" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "tree-sitter==0.26.*" "tree-sitter-swift==0.7.*" "pyyaml==6.*"
fi
exec "$venv/bin/python" "$root/scripts/test_swift_symbols.py" "${1:-$root/target/bindings/swift/pollen.swift}"
