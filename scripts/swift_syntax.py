#!/usr/bin/env python3
"""Parses Swift files with tree-sitter-swift and fails on syntax errors.

Usage: swift_syntax.py FILE_OR_DIR...   (directories: every *.swift below)

No Swift compiler runs on Linux CI here; this catches syntax errors (not
type errors) in generated and hand-written Swift. Two valid constructs the
grammar (tree-sitter-swift 0.7) lacks are rewritten first, keeping lengths so
positions stay true: UniFFI's `@_documentation(visibility: private)`
attributes are blanked, and the empty tuple as a closure's whole body,
`{ () }` (UniFFI's Void callback returns), becomes `{ 0  }`. The grammar
rejects `()` as a value anywhere else too: write `Void()` in hand-written code.
"""

import re
import sys
from pathlib import Path

import tree_sitter_swift
from tree_sitter import Language, Parser

SWIFT = Language(tree_sitter_swift.language())
DOC_ATTR = re.compile(rb"@_documentation\([^)]*\)")
VOID_CLOSURE = re.compile(rb"\{ \(\) \}")


def swift_files(args):
    for a in args:
        p = Path(a)
        if p.is_dir():
            yield from sorted(p.rglob("*.swift"))
        elif p.is_file():
            yield p
        else:
            raise SystemExit(f"swift_syntax: {a}: no such file or directory")


def problems(tree):
    """(line, column, kind, text) of each ERROR or MISSING node."""
    out = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            kind = "missing " + node.type if node.is_missing else "error"
            row, col = node.start_point
            text = node.text.decode("utf-8", "replace")[:60] if node.text else ""
            out.append((row + 1, col + 1, kind, text))
            continue
        if node.has_error:
            stack.extend(node.children)
    return sorted(out)


def main(argv):
    if not argv:
        raise SystemExit(__doc__)
    parser = Parser(SWIFT)
    files = list(swift_files(argv))
    if not files:
        raise SystemExit("swift_syntax: no .swift files given")
    bad = 0
    for f in files:
        source = DOC_ATTR.sub(lambda m: b" " * len(m.group(0)), f.read_bytes())
        source = VOID_CLOSURE.sub(b"{ 0  }", source)
        found = problems(parser.parse(source))
        for line, col, kind, text in found:
            print(f"{f}:{line}:{col}: {kind}: {text!r}")
        bad += bool(found)
    print(f"swift syntax: {len(files)} file(s), {bad} with errors")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
