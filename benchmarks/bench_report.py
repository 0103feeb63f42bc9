"""Time the review surface on the bundled example: HTML report, terminal diff, exports (no model).

    python benchmarks/bench_report.py [--copies N]

With --copies N the example is repeated N times (edits shifted along) to see how it scales.
"""

from __future__ import annotations

import argparse
import io
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from repair.pipeline import repair_text
from repair.views.diffview import render_diff
from repair.views.export import to_m2, to_tei
from repair.views.report import render_report
from repair.views.sidebyside import build_view

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ap-syria"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1)
    args = parser.parse_args()
    text = next(EXAMPLE.glob("000_*.txt")).read_text(encoding="utf-8")
    refs = [(str(p), p.read_text(encoding="utf-8")) for p in sorted(EXAMPLE.glob("00[1-9]_*.txt"))]
    result = repair_text(text, refs if args.copies == 1 else [], None)
    step = len(text) + 2
    source = (text + "\n\n") * args.copies if args.copies > 1 else text
    edits = [
        replace(e, start=e.start + k * step, end=e.end + k * step) for k in range(args.copies) for e in result.edits
    ]
    alignment = result.alignment if args.copies == 1 else None
    doc = result.doc if args.copies == 1 else None

    def timed(label: str, fn: object) -> None:
        t0 = time.perf_counter()
        out = fn()  # type: ignore[operator]
        size = len(out.encode("utf-8")) if isinstance(out, str) else 0
        print(f"{label:>8}: {time.perf_counter() - t0:6.3f} s  {size / 1024:8.1f} KiB")

    print(f"{len(source):,} chars, {len(edits):,} edits, {len(alignment.passages) if alignment else 0} passages")
    timed("report", lambda: render_report(source, edits, (), alignment, doc=doc))
    console = Console(file=io.StringIO(), width=160)
    timed("diff", lambda: console.print(render_diff(build_view(source, edits, alignment, doc), width=160)))
    timed("m2", lambda: to_m2(source, edits))
    timed("tei", lambda: to_tei(source, edits, refs=[n for n, _ in refs]))


if __name__ == "__main__":
    main()
