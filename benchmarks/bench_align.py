"""How fast alignment runs, and how well reference fixes undo simulated damage.

Run: python benchmarks/bench_align.py

1. Speed: article 000 of the bundled example against 001-004 (best of several runs).
2. Simulated damage: each reference in turn is damaged with `repair.bench.corrupt` and aligned
   against its own clean text plus the other references (recall), then against the other
   outlets only (precision: their wording differs, so a fix that hurts is variation taken
   for damage). Every merged fix is applied alone and counted as helping (fewer word
   differences from the clean text) or hurting.
"""

from __future__ import annotations

import time
from pathlib import Path

from rapidfuzz.distance import Indel

from repair.bench.corrupt import corrupt
from repair.edits import Edit, apply_edits
from repair.pipeline import align_references as align
from repair.stages.align import Reference, units
from repair.stages.normalize import normalize

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ap-syria"
SEEDS = range(5)


def word_distance(a: str, b: str) -> int:
    return int(Indel.distance([u.key for u in units(a)], [u.key for u in units(b)]))


def speed() -> None:
    files = sorted(EXAMPLE.glob("*.txt"))
    doc = normalize(files[0].read_text(encoding="utf-8"))
    refs = [Reference(p.name, normalize(p.read_text(encoding="utf-8"))) for p in files[1:]]
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        alignment = align(doc, refs)
        times.append(time.perf_counter() - t0)
    print(
        f"align 000 against 001-004: best {min(times) * 1000:.0f} ms, median {sorted(times)[3] * 1000:.0f} ms;"
        f" {len(alignment.passages)} passages, {len(alignment.fixes)} fixes"
    )


def simulated(with_clean: bool) -> None:
    files = sorted(EXAMPLE.glob("*.txt"))[1:]
    helped = hurt = neutral = before_total = after_total = 0
    for clean_path in files:
        clean = clean_path.read_text(encoding="utf-8")
        others = [Reference(p.name, normalize(p.read_text(encoding="utf-8"))) for p in files if p != clean_path]
        for seed in SEEDS:
            dmg = corrupt(clean, seed)
            doc = normalize(dmg.damaged)
            target = normalize(clean).text
            refs = [Reference("clean", normalize(clean)), *others] if with_clean else others
            fixes = align(doc, refs).fixes
            base = word_distance(doc.text, target)
            for f in fixes:
                one = apply_edits(doc.text, [Edit(f.doc_start, f.doc_end, f.doc_text, f.after, f.kind, f.confidence)])
                delta = word_distance(one, target) - base
                helped += delta < 0
                hurt += delta > 0
                neutral += delta == 0
            edits = [Edit(f.doc_start, f.doc_end, f.doc_text, f.after, f.kind, f.confidence) for f in fixes]
            before_total += base
            after_total += word_distance(apply_edits(doc.text, edits), target)
    which = "the clean text + the other outlets" if with_clean else "the other outlets only"
    print(f"simulated damage ({len(files)} texts x {len(SEEDS)} seeds), references = {which}:")
    print(f"  word differences from the clean text: {before_total} before, {after_total} after the fixes")
    print(f"  fixes: {helped} helped, {neutral} neutral, {hurt} hurt")


if __name__ == "__main__":
    speed()
    simulated(with_clean=True)
    simulated(with_clean=False)
