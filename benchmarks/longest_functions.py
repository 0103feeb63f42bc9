"""The longest functions of a package, by lines from ``def`` to its last line: where a function may do too much.

    python benchmarks/longest_functions.py repair 5
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def longest(root: Path, n: int) -> list[tuple[int, str]]:
    rows = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
                where = f"{path.relative_to(root.parent)}:{node.lineno} {node.name}"
                rows.append((node.end_lineno - node.lineno + 1, where))
    return sorted(rows, reverse=True)[:n]


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "repair")
    for length, where in longest(root, int(sys.argv[2]) if len(sys.argv) > 2 else 5):
        print(f"{length:5d}  {where}")
