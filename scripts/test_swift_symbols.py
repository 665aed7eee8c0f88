#!/usr/bin/env python3
"""Tests scripts/swift_symbols.py: every fixture in scripts/swift-fixtures/
with a planted mistake (its `expect` file holds the message) must fail with
exactly that one problem; `good` must pass; the real ios/ tree must pass with
its uses actually resolved (not skipped).

Usage: test_swift_symbols.py BINDINGS_SWIFT   (run by scripts/swift-symbols.sh)
Prints `N passed, N failed`.
"""

import contextlib
import io
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import swift_symbols  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "scripts" / "swift-fixtures"


def run(args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = swift_symbols.main(args)
    return rc, out.getvalue()


def fixture_args(bindings, d):
    args = ["--bindings", bindings]
    if (d / "project.yml").exists():
        args += ["--project", str(d / "project.yml")]
    return args + [str(d / "Sources")]


def problems(output):
    return [line for line in output.splitlines() if not line.startswith("swift symbols:")]


def counts(output):
    summary = output.strip().splitlines()[-1]
    return {k: int(v) for v, k in re.findall(r"(\d+) (calls|fields|cases|inits|conformances|imports)", summary)}


def main(argv):
    bindings = argv[0]
    passed = failed = 0

    def check(name, ok, detail):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name}\n{detail}")

    for d in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        rc, out = run(fixture_args(bindings, d))
        expect = d / "expect"
        if expect.exists():
            want = expect.read_text().strip()
            found = problems(out)
            check(f"fixture {d.name} fails on its planted mistake",
                  rc == 1 and len(found) == 1 and want in found[0],
                  f"  want one problem containing {want!r}, got rc={rc}:\n{out}")
        else:
            c = counts(out)
            check(f"fixture {d.name} passes", rc == 0 and c["calls"] >= 5 and c["conformances"] == 1,
                  f"  rc={rc} counts={c}:\n{out}")

    ios = ROOT / "ios"
    rc, out = run(["--bindings", bindings, "--project", str(ios / "PollenApp" / "project.yml"),
                   "--package", str(ios / "PollenKit" / "Package.swift"), str(ios)])
    c = counts(out)
    # The real tree: no problem, and its calls were really resolved (a
    # checker that resolves nothing passes everything).
    check("ios/ passes", rc == 0, out)
    check("ios/ uses were resolved", c["calls"] >= 60 and c["fields"] >= 15 and c["conformances"] >= 4
          and c["imports"] >= 8, f"  counts {c}")
    print(out.strip().splitlines()[-1])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
