"""How fast normalization runs, and how much of simulated surface damage it undoes.

Run: python benchmarks/bench_normalize.py

1. Article 000 of the bundled example: edits by kind and gap suspects.
2. Speed on 1 MB of text built from article 000 (as paragraphs, as lines, as one long line).
3. Simulated damage: each clean reference (001-004, mojibake fixed first) damaged by
   `repair.bench.corrupt` with tokenization only must normalize back to the clean text (lines
   still differing are listed); with every kind of damage, the dropped words must come
   back as gap suspects and the stray brackets and trailing name lines must be removed.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from repair.bench.corrupt import corrupt
from repair.stages.normalize import normalize

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ap-syria"
SEEDS = range(5)


def article() -> None:
    text = next(EXAMPLE.glob("000_*.txt")).read_text(encoding="utf-8")
    out = normalize(text)
    kinds = Counter(e.kind for e in out.edits)
    rules = Counter(ev.source for e in out.edits for ev in e.evidence)
    print(f"article 000: {len(out.edits)} edits {dict(kinds)}; {len(out.suspects)} gap suspects")
    print("  by rule:", ", ".join(f"{k.removeprefix('rule:')} {n}" for k, n in rules.most_common()))


def speed() -> None:
    body = next(EXAMPLE.glob("000_*.txt")).read_text(encoding="utf-8").rsplit("\n", 1)[0]
    for label, sep in (("paragraphs", "\n\n"), ("lines", "\n"), ("one line", " ")):
        text = sep.join([body] * (1_000_000 // len(body) + 1))[:1_000_000]
        t0, c0 = time.perf_counter(), time.process_time()
        out = normalize(text)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"1 MB as {label}: {wall:.2f} s wall, {cpu:.2f} s CPU, {len(out.edits)} edits, {len(out.suspects)} gaps")


def simulated() -> None:
    cleans = [normalize(p.read_text(encoding="utf-8")).text for p in sorted(EXAMPLE.glob("00[1-4]_*.txt"))]
    lines = same = 0
    for clean in cleans:
        for seed in SEEDS:
            got = normalize(corrupt(clean, seed, kinds=["tokenization"]).damaged).text.splitlines()
            for want, have in zip(clean.splitlines(), got, strict=True):
                lines += 1
                same += want == have
                if want != have and seed == 0:
                    print(f"  differs: {want[:70]!r}\n       got {have[:70]!r}")
    print(f"tokenization only: {same}/{lines} lines restored exactly")
    gaps = found = false = strays = removed = 0
    for clean in cleans:
        for seed in SEEDS:
            damage = corrupt(clean, seed, rate=2.0)
            out = normalize(damage.damaged)
            runs = [out.layer.to_base(s.start, s.end)[:2] for s in out.suspects]
            dropped = [a for a in damage.answers if a.kind == "gap"]
            gaps += len(dropped)
            found += sum(any(b0 <= a.start and a.end <= b1 for b0, b1 in runs) for a in dropped)
            false += sum(not any(b0 <= a.start and a.end <= b1 for a in dropped) for b0, b1 in runs)
            stray = [a for a in damage.answers if a.kind == "stray"]
            strays += len(stray)
            removed += sum(
                any(e.kind == "stray" and e.start <= a.start and a.end <= e.end for e in out.edits) for a in stray
            )
    print(f"all damage (rate 2): gaps {found}/{gaps} found, {false} false; strays {removed}/{strays} removed")


if __name__ == "__main__":
    article()
    speed()
    simulated()
