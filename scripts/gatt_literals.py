#!/usr/bin/env python3
"""The GATT contract is the core's (`gattContract()`, bindings/src/gatt.rs):
no hand-written Swift or Kotlin may spell Pollen's service or characteristic
UUIDs again. Reads the UUIDs from the core through the Python bindings and
looks for them in any letter case, with or without hyphens; then proves the
check fails on a planted literal.

Usage: PYTHONPATH=target/bindings/python gatt_literals.py DIR...
Prints `N passed, N failed`.
"""

import re
import sys
import tempfile
from pathlib import Path

import pollen


def patterns():
    c = pollen.gatt_contract()
    out = []
    for u in (c.service_uuid, c.write_uuid, c.notify_uuid):
        bare = u.replace("-", "")
        out.append(re.compile(f"{re.escape(u)}|{bare}", re.IGNORECASE))
    return out


def literals(dirs):
    """(file, line) of every Pollen UUID spelled out in .swift/.kt files."""
    pats = patterns()
    hits = []
    for d in dirs:
        for f in sorted(p for p in Path(d).rglob("*") if p.suffix in (".swift", ".kt")):
            for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
                if any(p.search(line) for p in pats):
                    hits.append(f"{f}:{n}: spells a Pollen GATT UUID; read it from gattContract()")
    return hits


def main(dirs):
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        passed, failed = passed + ok, failed + (not ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f"\n{detail}"))

    hits = literals(dirs)
    check(f"no Pollen GATT UUID literal in {' '.join(dirs)}", not hits, "\n".join(hits))
    with tempfile.TemporaryDirectory() as t:
        # A planted copy, upper case as Swift's CBUUID examples write them.
        u = pollen.gatt_contract().notify_uuid.upper()
        Path(t, "Planted.swift").write_text(f'let notify = CBUUID(string: "{u}")\n')
        Path(t, "Planted.kt").write_text('val s = "' + pollen.gatt_contract().service_uuid.replace("-", "") + '"\n')
        check("a planted literal is found (Swift, upper case; Kotlin, no hyphens)", len(literals([t])) == 2)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
