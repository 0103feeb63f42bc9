"""Whether two runs made the same edits: two ``edits.json`` files of `repair fix`, or two ``--json`` results of
`repair bench`, compared field by field with the timing fields left out (they differ from run to run).

    python benchmarks/compare_runs.py before/000.edits.json after/000.edits.json
    python benchmarks/compare_runs.py before/bench-refs.json after/bench-refs.json --ignore '$.settings.cases'

Prints each difference (its path in the JSON and both values, the first 20) and exits 1 if there is any,
else prints one line and exits 0. Used to show that a change which should not change behaviour (a move,
a re-layout) did not: the edit lists, their confidences, and every score derived from them are equal.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Keys that hold a duration or a rate: the only fields of a result that change when nothing else does.
TIMING_KEYS = frozenset({"seconds", "load_seconds", "words_per_second"})
SHOWN = 20


def without_timing(value: Any) -> Any:
    """``value`` with every timing field dropped, at any depth."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def differences(a: Any, b: Any, path: str = "$") -> Iterator[str]:
    """Where ``a`` and ``b`` differ, as JSON paths with both values.

    >>> list(differences({"x": [1, 2]}, {"x": [1, 3]}))
    ['$.x[1]: 2 != 3']
    >>> list(differences({"x": 1}, {"y": 1}))
    ['$.x: only in the first', '$.y: only in the second']
    """
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys()):
            if key not in b:
                yield f"{path}.{key}: only in the first"
            elif key not in a:
                yield f"{path}.{key}: only in the second"
            else:
                yield from differences(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{path}: {len(a)} items != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            yield from differences(x, y, f"{path}[{i}]")
    elif a != b or type(a) is not type(b):
        yield f"{path}: {json.dumps(a, ensure_ascii=False)[:120]} != {json.dumps(b, ensure_ascii=False)[:120]}"


def edit_count(doc: Any) -> int:
    """How many edits a result holds (an edits.json's list, or every case's of a bench result)."""
    if isinstance(doc, dict) and isinstance(doc.get("edits"), list):
        return len(doc["edits"])
    if isinstance(doc, dict) and isinstance(doc.get("cases"), list):
        return sum(len(c.get("edits", [])) for c in doc["cases"])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="PATH",
        help="a JSON path to leave out, as printed (e.g. '$.settings.cases', where two checkouts' examples live)",
    )
    args = parser.parse_args(argv)
    docs = []
    for path in (args.first, args.second):
        try:
            docs.append(without_timing(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as exc:
            print(f"compare_runs: cannot read {path}: {exc}", file=sys.stderr)
            return 2
    ignored = tuple(p + end for p in args.ignore for end in (":", ".", "["))
    found = [d for d in differences(*docs) if not d.startswith(ignored)]
    for line in found[:SHOWN]:
        print(line)
    if found:
        print(f"{len(found)} difference(s) between {args.first} and {args.second}")
        return 1
    print(f"identical apart from timing: {args.first} and {args.second} ({edit_count(docs[0])} edits)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
