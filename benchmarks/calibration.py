"""Calibration offline: fit a map on some `repair bench --json` results, measure it on others.

Reads the judged edits the results record (raw confidence, kind, source, right or not),
so no pipeline run is needed. Prints, per group, how many edits, the share right and
the mean raw confidence; then the calibration error (ECE) of the raw and the calibrated
confidences on the held-out results, and the share right of the edits each would apply.

    python benchmarks/calibration.py --fit fit_refs.json fit_norefs.json --test test_refs.json test_norefs.json
    python benchmarks/calibration.py --fit a.json --test b.json --map repair/data/calibration.json  # a saved map
    python benchmarks/calibration.py --fit refs.json norefs.json --write repair/data/calibration.json  # ship it
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from repair.bench.bench import Judged, fit_calibration_map, load_judged
from repair.bench.score import TOKENIZATION
from repair.files.commit import write_all
from repair.stages.calibrate import CalibrationMap, ece
from repair.stages.decide import DEFAULT_MIN_CONFIDENCE


def load(paths: list[Path]) -> tuple[list[Judged], set[str]]:
    loaded = [load_judged(p.read_text(encoding="utf-8"), name=str(p)) for p in paths]
    return [j for js, _ in loaded for j in js], set().union(*(k for _, k in loaded))


def describe(path: Path) -> str:
    """A result file by name and the bench settings it was run with."""
    settings = json.loads(path.read_text(encoding="utf-8")).get("settings") or {}
    keys = ("seeds", "first_seed", "refs", "model", "min_confidence")
    return f"{path.name}: " + ", ".join(f"{k} {settings[k]}" for k in keys if k in settings)


def groups_table(judged: list[Judged]) -> None:
    rows: dict[str, list[Judged]] = defaultdict(list)
    for j in judged:
        rows[f"{j.kind}/{j.source}"].append(j)
    print(f"{'group':28} {'edits':>6} {'right':>6} {'raw':>6}")
    for key, js in sorted(rows.items(), key=lambda kv: -len(kv[1])):
        raw = sum(j.observation.features.raw for j in js) / len(js)
        print(f"{key:28} {len(js):6d} {sum(j.correct for j in js) / len(js):6.2f} {raw:6.2f}")


def report(name: str, judged: list[Judged], kinds: set[str], cmap: CalibrationMap, threshold: float) -> None:
    judged = [j for j in judged if j.kind in kinds]  # other kinds could never be judged right
    for label, js in (("all", judged), ("content", [j for j in judged if j.kind != TOKENIZATION])):
        if not js:
            continue
        raw = [(j.observation.features.raw, j.correct) for j in js]
        cal = [(cmap.calibrate(j.kind, j.source, c)[0], ok) for j, (c, ok) in zip(js, raw, strict=True)]
        kept_raw = [ok for c, ok in raw if c >= threshold]
        kept_cal = [ok for c, ok in cal if c >= threshold]
        print(
            f"{name:8} {label:8} edits {len(js):5d}  ECE raw {ece(raw):.3f} -> calibrated {ece(cal):.3f}  "
            f"at >= {threshold}: raw keeps {len(kept_raw)} ({_share(kept_raw)} right), "
            f"calibrated keeps {len(kept_cal)} ({_share(kept_cal)} right)"
        )


def _share(oks: list[bool]) -> str:
    return f"{sum(oks) / len(oks):.0%}" if oks else "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fit", type=Path, nargs="+", required=True, help="bench --json results to fit on")
    ap.add_argument("--test", type=Path, nargs="*", default=[], help="bench --json results to measure on")
    ap.add_argument("--map", type=Path, help="measure this saved map instead of the fit")
    ap.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE)
    ap.add_argument("--write", type=Path, help="write the fitted map here (e.g. repair/data/calibration.json)")
    args = ap.parse_args()
    fit_on, kinds = load(args.fit)
    groups_table(fit_on)
    if args.map:
        cmap = CalibrationMap.from_json(args.map.read_text(encoding="utf-8"), name=str(args.map))
    else:
        cmap = fit_calibration_map(fit_on, kinds, sources=[describe(p) for p in args.fit])
    report("fit", fit_on, kinds, cmap, args.min_confidence)
    if args.write:
        write_all({args.write: cmap.to_json()})
        print(f"calibration map: {args.write}", file=sys.stderr)
    for p in args.test:
        report(p.stem[:8], *load([p]), cmap, args.min_confidence)
    return 0


if __name__ == "__main__":
    sys.exit(main())
