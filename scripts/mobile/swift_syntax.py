"""Syntax check for Swift files (no Swift compiler on Linux CI): parses each
file with tree-sitter-swift and fails on ERROR or MISSING nodes.

Usage: python swift_syntax.py FILE.swift...
"""

import re
import sys

import tree_sitter
import tree_sitter_swift

# UniFFI emits `@_documentation(visibility: private)`, which the grammar does
# not know; blanking it (same length) keeps line and column numbers true.
_DOC_ATTR = re.compile(rb"@_documentation\([^)]*\)")


def problems(source: bytes, parser: tree_sitter.Parser) -> list[str]:
    """Returns `line:col: what` for every ERROR or MISSING node."""
    source = _DOC_ATTR.sub(lambda m: b" " * len(m.group(0)), source)
    found = []
    stack = [parser.parse(source).root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            line, col = node.start_point
            text = source[node.start_byte : node.end_byte][:60].decode("utf-8", "replace")
            kind = "missing " + node.type if node.is_missing else "error"
            found.append(f"{line + 1}:{col + 1}: {kind} near {text!r}")
        elif node.has_error:
            stack.extend(node.children)
    return found


def main(paths: list[str]) -> int:
    if not paths:
        print("swift_syntax: no files given", file=sys.stderr)
        return 2
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
    bad = 0
    for path in paths:
        with open(path, "rb") as f:
            found = problems(f.read(), parser)
        for p in found:
            print(f"{path}:{p}")
        bad += bool(found)
    print(f"swift syntax: {len(paths) - bad} of {len(paths)} files parse cleanly")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
