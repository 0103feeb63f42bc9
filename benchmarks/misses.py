"""Error analysis: every content edit the pipeline missed or got wrong, per kind, with context and why.

Runs the stages one by one on the bench's cases (or a folder made with `repair corrupt`),
so each miss can say whether no suspect covered it, the original wording won, another
candidate won, or the edit stayed under the confidence bar.

    OMP_NUM_THREADS=1 python benchmarks/misses.py --no-refs --seeds 1 > /tmp/misses.txt
    python benchmarks/misses.py --clean --no-refs   # false edits on the clean texts

Output: one line per miss/wrong edit, then counts per (kind, diagnosis).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from repair.bench.cases import Case, example_cases, load_cases
from repair.bench.score import TOKENIZATION, TextEdit, extract_edits, label_hyp
from repair.lm import load_model
from repair.pipeline import repair_text
from repair.stages.decide import DEFAULT_MIN_CONFIDENCE
from repair.stages.spans import Proposal

CONTEXT = 40


def _ctx(text: str, start: int, end: int, after: str) -> str:
    left = " ".join(text[max(0, start - CONTEXT) : start].split())
    right = " ".join(text[end : end + CONTEXT].split())
    return f"…{left} [{text[start:end]!s} → {after}] {right}…"


def _covering(props: Sequence[tuple[int, int, Proposal]], e: TextEdit) -> list[tuple[int, int, Proposal]]:
    lo, hi = e.char_start, e.char_end
    return [(s, t, p) for s, t, p in props if s <= hi and lo <= t and (s < hi or lo < t or s == t == lo)]


def analyse(case: Case, lm: object, min_conf: float, out: Counter[tuple[str, str, str]], show: set[str]) -> None:
    result = repair_text(case.input, case.refs, lm, min_confidence=min_conf)  # type: ignore[arg-type]
    doc, proposals, edits, output = result.doc, result.proposals, result.edits, result.output
    props = []
    for p in proposals:
        bs, be, _, _ = doc.layer.to_base(p.suspect.start, p.suspect.end)
        props.append((bs, be, p))
    gold = [e for e in extract_edits(case.input, case.gold, case.answers) if e.kind != TOKENIZATION]
    hyp = [e for e in label_hyp(extract_edits(case.input, output), gold) if e.kind != TOKENIZATION]
    gold_keys, hyp_keys = {e.key for e in gold}, {e.key for e in hyp}
    unapplied = [e for e in edits if not e.applied]
    for e in gold:
        if e.key in hyp_keys:
            out[("gold", e.kind, "ok")] += 1
            continue
        cov = _covering(props, e)
        if not cov:
            why = "no suspect"
        else:
            tops = [(p.candidates[0] if p.candidates else None, p) for _, _, p in cov]
            if all(c is None or c.source == "keep" for c, _ in tops):
                why = "keep won"
            elif any(u.start <= e.char_end and e.char_start <= u.end for u in unapplied):
                why = "under bar"
            else:
                why = "wrong fix"
        ranks = [
            r
            for _, _, p in cov
            for r, c in enumerate(p.candidates)
            if "".join(c.text.split()) == "".join(e.after.split())
        ]
        if why != "no suspect":
            why += f" r{min(ranks)}" if ranks else " absent"
        out[("miss", e.kind, why)] += 1
        if "miss" in show:
            detail = ""
            for _, _, p in cov[:2]:
                cands = ", ".join(f"{c.text.strip() or '∅'}:{c.source}:{c.score:.1f}" for c in p.candidates[:4])
                detail += f" | {p.suspect.kind} {p.suspect.score:.2f} [{cands}]"
            print(f"MISS {e.kind:12} {why:10} {_ctx(case.input, e.char_start, e.char_end, e.after)}{detail}")
    for e in hyp:
        if e.key in gold_keys:
            continue
        why = "touches damage" if any(e.units & g.units for g in gold) else "false"
        out[("wrong", e.kind, why)] += 1
        if "wrong" in show:
            cov = _covering(props, e)
            detail = ""
            for _, _, p in cov[:1]:
                cands = ", ".join(f"{c.text.strip() or '∅'}:{c.source}:{c.score:.1f}" for c in p.candidates[:3])
                why_s = p.suspect.evidence[0].detail[:70] if p.suspect.evidence else ""
                detail = f" | {p.suspect.kind} {p.suspect.score:.2f} {why_s} [{cands}]"
            print(f"WRONG {e.kind:12} {why:14} {_ctx(case.input, e.char_start, e.char_end, e.after)}{detail}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-refs", action="store_true")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--cases", type=Path)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--clean", action="store_true", help="the clean cases only (every edit is false)")
    ap.add_argument("--no-model", action="store_true")
    ap.add_argument("--show", default="miss,wrong", help="what to list: miss, wrong")
    ap.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE)
    args = ap.parse_args(argv)
    refs = not args.no_refs
    cases = load_cases(args.cases, refs=refs) if args.cases else example_cases(seeds=args.seeds, refs=refs)
    cases = [c for c in cases if c.clean == args.clean][: args.limit]
    lm = None if args.no_model else load_model("smollm2")
    counts: Counter[tuple[str, str, str]] = Counter()
    for case in cases:
        print(f"== {case.name}", file=sys.stderr)
        print(f"== {case.name}")
        analyse(case, lm, args.min_confidence, counts, set(args.show.split(",")))
    print("\n== counts (what, kind, why)")
    for key, n in sorted(counts.items()):
        print(f"{n:5d}  {' '.join(key)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
