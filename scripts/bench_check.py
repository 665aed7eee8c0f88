#!/usr/bin/env python3
"""Checks the JSON lines of `pollen bench ... --json` (see scripts/bench.sh).

Usage: bench_check.py NAME FILE
FILE holds what one benchmark printed on stdout. It must be exactly one JSON
object naming the benchmark NAME and a commit, with at least one figure, and
every figure (numbers, at any depth) must be a finite number above zero, and
none missing (null). Keys listed in INPUTS are the run's own settings, not
figures, and may be zero or null. Exit status 1 on any failure, with why.
"""
import json
import math
import sys

# Settings echoed back in the lines, not measured.
INPUTS = {"diff", "frame", "store", "mode", "mtu"}


def figures(value, path=""):
    """(path, value) of every leaf under value, INPUTS left out."""
    if isinstance(value, dict):
        for key, v in value.items():
            if key in INPUTS:
                continue
            yield from figures(v, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from figures(v, f"{path}[{i}]")
    else:
        yield path, value


def check(name, text):
    lines = [l for l in text.splitlines() if l.strip()]
    if len(lines) != 1:
        return [f"expected one JSON line, got {len(lines)}"]
    try:
        obj = json.loads(lines[0])
    except json.JSONDecodeError as e:
        return [f"not JSON: {e}"]
    if not isinstance(obj, dict):
        return ["not a JSON object"]
    errors = []
    if obj.get("bench") != name:
        errors.append(f"bench is {obj.get('bench')!r}, expected {name!r}")
    if not isinstance(obj.get("commit"), str) or not obj["commit"]:
        errors.append("no commit")
    measured = 0
    for path, v in figures({k: v for k, v in obj.items() if k not in ("bench", "commit")}):
        if isinstance(v, bool) or isinstance(v, str):
            continue
        if v is None:
            errors.append(f"{path}: not measured (null)")
        elif not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            errors.append(f"{path}: {v!r} is not a figure above zero")
        else:
            measured += 1
    if measured == 0:
        errors.append("no figure")
    return errors


def main():
    name, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        errors = check(name, f.read())
    for e in errors:
        print(f"bench {name}: {e}", file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
