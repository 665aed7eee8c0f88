#!/usr/bin/env bash
# Swift syntax check without a Swift compiler: tree-sitter-swift in a venv
# under target/tools (installed on first use), then scripts/swift_syntax.py.
#   scripts/swift-syntax.sh FILE_OR_DIR...
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/target/tools/swift-venv"
if ! "$venv/bin/python" -c "import tree_sitter, tree_sitter_swift" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "tree-sitter==0.26.*" "tree-sitter-swift==0.7.*"
fi
exec "$venv/bin/python" "$root/scripts/swift_syntax.py" "$@"
