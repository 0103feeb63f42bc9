"""Choose `--min-confidence` offline: content P / R / F0.5 and false content edits per 1,000 clean words at
each threshold, from `repair bench --json` results run with raw confidences, calibrated by a map.

    OMP_NUM_THREADS=1 REPAIR_CALIBRATION=none repair bench --first-seed 3 --seeds 3 --json test_refs.json
    python benchmarks/threshold.py --map repair/data/calibration.json test_refs.json test_norefs.json

Every edit the tool found is in the result, applied or held, judged as if applied; at a threshold the ones
whose calibrated confidence reaches it count. Content = the kinds the benchmark damages but tokenization.
Edit by edit: the bench's own P/R count aligned tokens, so its figure at the run's threshold differs a
little (seed 3 with refs at 0.7: 0.346 here, 0.366 there); confirm a choice with a real `repair bench`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from repair.bench.bench import Judged
from repair.bench.score import TOKENIZATION, Tally
from repair.stages.calibrate import CalibrationMap

THRESHOLDS = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def by_map(cmap: CalibrationMap) -> Callable[[Judged], float]:
    """An edit's confidence as the calibration map gives it from its raw share."""
    return lambda j: cmap.calibrate(j.kind, j.source, j.observation.features.raw)[0]


def sweep(
    doc: dict[str, Any], confidence: Callable[[Judged], float], thresholds: tuple[float, ...]
) -> list[dict[str, float]]:
    """One row per threshold: content precision, recall, F0.5, and false content edits per 1k clean words,
    the edits' confidences given by ``confidence``."""
    damaged = [c for c in doc["cases"] if not c["clean"]]
    gold = sum(t["gold"] for c in damaged for k, t in c["score"]["correction"].items() if k != TOKENIZATION)
    # the kinds the benchmark damages: a clean text's own mojibake is kept in its gold, never judged right
    kinds = {k for c in damaged for k, t in c["score"]["correction"].items() if t["gold"] and k != TOKENIZATION}
    clean_words = sum(c["score"]["words"] for c in doc["cases"] if c["clean"])
    judged: list[tuple[bool, Judged]] = []
    for c in doc["cases"]:
        for e in c["edits"]:
            j = Judged.from_json(e)
            if j.kind in kinds:
                judged.append((bool(c["clean"]), j))
    rows = []
    for t in thresholds:
        applied = [(clean, j) for clean, j in judged if confidence(j) >= t]
        ok = sum(j.correct for clean, j in applied if not clean)
        hyp = sum(1 for clean, _ in applied if not clean)
        false = sum(not j.correct for clean, j in applied if clean)
        tally = Tally(hyp=hyp, hyp_ok=ok, gold=gold, gold_ok=ok)  # the bench's P / R / F0.5, its conventions too
        rows.append(
            {
                "threshold": t,
                "p": tally.precision,
                "r": tally.recall,
                "f05": tally.f05,
                "false_per_1k": 1000 * false / clean_words,
            }
        )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", type=Path, nargs="+", help="bench --json results, run with REPAIR_CALIBRATION=none")
    ap.add_argument("--map", type=Path, required=True, help="the calibration map to apply")
    args = ap.parse_args()
    cmap = CalibrationMap.from_json(args.map.read_text(encoding="utf-8"), name=str(args.map))
    for path in args.results:
        doc = json.loads(path.read_text(encoding="utf-8"))
        print(f"{path.name} (refs: {doc.get('settings', {}).get('refs')})")
        print_sweep(sweep(doc, by_map(cmap), THRESHOLDS))
    return 0


def print_sweep(rows: list[dict[str, float]]) -> None:
    print(f"{'threshold':>9} {'P':>6} {'R':>6} {'F0.5':>6} {'false/1k clean':>15}")
    for row in rows:
        t, p, r, f, false = (row[k] for k in ("threshold", "p", "r", "f05", "false_per_1k"))
        print(f"{t:>9.2f} {p:>6.3f} {r:>6.3f} {f:>6.3f} {false:>15.2f}")


if __name__ == "__main__":
    sys.exit(main())
