"""The cloze view (`repair bench --cloze`) of the damaged cases alone, with the model work they took.

    OMP_NUM_THREADS=1 python benchmarks/cloze_cost.py --first-seed 3 [--no-refs] [--json out.json]
    OMP_NUM_THREADS=1 python benchmarks/cloze_cost.py --stories ../shared/stories [--quick] [--no-refs]
    ... --set drafts.min_starts=128 --set propose.drafts=12 --set propose.draft_lengths=1,2,3   # a variant, no edit

``--set STAGE.FIELD=VALUE`` changes a setting (`repair fix --show-settings` lists them; nested ones as
``propose.story.most=0``) through the file ``REPAIR_SETTINGS`` names, as any run can;
``--set drafts.FIELD=VALUE`` changes the embedded model's draft search (`repair.lm.drafts.DraftSettings`).

Candidate generation is what moves the cloze numbers, and its cost is tokens through the
model: this runs only the damaged copies (the clean runs count false edits, which need the
whole `repair bench`), counts every forward pass and token (`bench_model.Counted`) and prints
the cloze table with tokens per damaged case. Compare variants by these numbers, not by time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench_model import Counted
from rich.console import Console

from repair.bench.bench import BenchOptions, bench_cases, pipeline_repairer, run_case
from repair.bench.cloze import ClozeItem, cloze_json, cloze_table, loss_table
from repair.lm import load_model
from repair.stages.decide import DEFAULT_MIN_CONFIDENCE
from repair.stages.settings import ENV, default_settings


def variant(sets: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``--set`` as settings (nested by stage, for REPAIR_SETTINGS's file) and the draft search's fields.

    >>> variant(["propose.story.most=0", "drafts.min_starts=128", "propose.draft_lengths=1,2,3"])
    ({'propose': {'story': {'most': 0}, 'draft_lengths': [1, 2, 3]}}, {'min_starts': 128})
    """
    settings: dict[str, Any] = {}
    drafts: dict[str, Any] = {}
    for item in sets:
        name, value = item.split("=", 1)
        parsed = json.loads(f"[{value}]") if "," in value else json.loads(value)
        path = name.split(".")
        if path[0] == "drafts":
            drafts[path[1]] = parsed
            continue
        at = settings
        for part in path[:-1]:
            at = at.setdefault(part, {})
        at[path[-1]] = parsed
    return settings, drafts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first-seed", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--no-refs", action="store_true")
    parser.add_argument("--stories", type=Path, help="a stories folder: its held-out stories instead of the example")
    parser.add_argument("--quick", action="store_true", help="with --stories: the first few stories only")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--set", action="append", default=[], metavar="STAGE.FIELD=VALUE", help="a variant setting")
    args = parser.parse_args(argv)
    settings, drafts = variant(args.set)
    if settings:
        path = Path(tempfile.mkdtemp()) / "variant.json"
        path.write_text(json.dumps(settings), encoding="utf-8")
        os.environ[ENV] = str(path)
        default_settings()  # a wrong name fails now, not after the model loads
    options = BenchOptions(
        stories_dir=args.stories, quick=args.quick, seeds=args.seeds, first_seed=args.first_seed, refs=not args.no_refs
    )
    cases = [c for c in bench_cases(options)[0] if not c.clean]
    lm: Any = Counted(load_model(None))
    if drafts:
        lm.lm.drafts = replace(lm.lm.drafts, **drafts)
    run = pipeline_repairer(lm, DEFAULT_MIN_CONFIDENCE)
    cpu = time.process_time()
    items: list[ClozeItem] = []
    for c in cases:
        print(c.name, file=sys.stderr)
        items += run_case(c, run).items
    console = Console(width=120)
    console.print(loss_table(items))
    console.print(cloze_table(items))
    cost = {
        "set": args.set,
        "cases": len(cases),
        "passes": lm.passes,
        "tokens": lm.tokens,
        "tokens_per_case": lm.tokens / len(cases),
        "cpu_s": round(time.process_time() - cpu, 1),
    }
    console.print(cost)
    if args.json:
        args.json.write_text(json.dumps({"cost": cost, "cloze": cloze_json(items)}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
