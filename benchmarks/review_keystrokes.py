"""Play the reviewer against an answer key: what one key per content edit fixes, with and without alternatives.

For each damaged copy (`repair corrupt` writes the text and its answer key) and the
edit list `repair fix` wrote for it, the reviewer goes through the content edits
(substitution, gap, duplicate, stray; questions included) in the order `repair review`
asks, pressing one key per edit through `repair.views.review.run_review`:

- accept/reject alone: ``a`` when the proposed fix is the gold one, else ``r``;
- with alternatives: ``a`` as above, else the digit of the alternative that is the gold
  fix, if one is, else ``r``.

Both spend the same keystrokes (one per edit); the difference is how many damaged
spans of the answer key end up fixed. Surface fixes (tokenization, whitespace) stay as
the tool decided in both. The tool alone (no review) is shown for reference.

    python benchmarks/review_keystrokes.py --case d1.txt d1.edits.json d1.answers.json [--case ...]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from repair.bench.corrupt import load_answers
from repair.bench.score import TOKENIZATION, extract_edits, judge_edits
from repair.edits import Edit, apply_edits
from repair.files.editlist import load_edits
from repair.views.review import ReviewState, run_review, start

CONTENT = ("substitution", "gap", "duplicate", "stray")


@dataclass(frozen=True)
class Outcome:
    """What one way of reviewing left: damaged spans fixed, edits made that are not in the key, keys pressed."""

    fixed: int
    wrong: int
    keys: int


def gold_fix(source: str, gold: str, e: Edit) -> tuple[bool, int | None]:
    """Whether the edit's own proposal is right, and the 1-based number of the first right alternative."""
    proposal_right = not e.question and judge_edits(source, gold, [replace(e, applied=True)])[0]
    variants = [replace(e, after=t, applied=True) for t, _ in e.alternatives]
    verdicts = judge_edits(source, gold, variants) if variants else []
    return proposal_right, next((k for k, ok in enumerate(verdicts, 1) if ok), None)


def key_for(source: str, gold: str, e: Edit, *, alternatives: bool) -> str:
    """The key the answer key calls for on edit ``e``."""
    right, k = gold_fix(source, gold, e)
    if right:
        return "a"
    if alternatives and k is not None and k <= 9:
        return str(k)
    return "r"


def review(source: str, gold: str, edits: Sequence[Edit], *, alternatives: bool) -> tuple[tuple[Edit, ...], int]:
    """Run the real review loop with scripted keys; the edits as decided and the keys pressed."""
    now = start(source, edits, CONTENT)
    pressed = 0

    def read_key() -> str:
        nonlocal pressed
        pressed += 1
        return key_for(source, gold, now.current, alternatives=alternatives)

    def saved(state: ReviewState) -> None:
        nonlocal now
        now = state

    final = run_review(now, read_key, lambda _r: None, saved)
    return final.edits, pressed


def outcome(source: str, gold: str, answers: Sequence[Edit], edits: Sequence[Edit], keys: int) -> Outcome:
    gold_keys = {g.key for g in extract_edits(source, gold, answers) if g.kind != TOKENIZATION}
    made = {h.key for h in extract_edits(source, apply_edits(source, edits)) if h.kind != TOKENIZATION}
    return Outcome(len(gold_keys & made), len(made - gold_keys), keys)


def cases(args: Sequence[Sequence[str]]) -> Iterator[tuple[str, str, str, list[Edit], tuple[Edit, ...]]]:
    for damaged, listing, key in args:
        source = Path(damaged).read_text(encoding="utf-8")
        gold, answers = load_answers(Path(key).read_text(encoding="utf-8"))
        _, edits = load_edits(Path(listing).read_text(encoding="utf-8"), source, name=listing)
        yield damaged, source, gold, edits, answers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", nargs=3, action="append", required=True, metavar=("DAMAGED", "EDITS", "ANSWERS"))
    args = parser.parse_args(argv)
    rows = []
    total = {"tool": [0, 0, 0], "a/r": [0, 0, 0], "alts": [0, 0, 0]}
    for name, source, gold, edits, answers in cases(args.case):
        damaged = len({g.key for g in extract_edits(source, gold, answers) if g.kind != TOKENIZATION})
        tool = outcome(source, gold, answers, edits, 0)
        plain = outcome(source, gold, answers, *review(source, gold, edits, alternatives=False))
        alts = outcome(source, gold, answers, *review(source, gold, edits, alternatives=True))
        asked = sum(1 for e in edits if e.kind in CONTENT)
        rows.append((Path(name).name, damaged, asked, tool, plain, alts))
        for label, o in (("tool", tool), ("a/r", plain), ("alts", alts)):
            total[label] = [total[label][0] + o.fixed, total[label][1] + o.wrong, total[label][2] + o.keys]
    print("case: damaged spans, content edits asked | fixed/wrong edits: tool alone, accept/reject, +alternatives")
    for name, damaged, asked, tool, plain, alts in rows:
        cells = [f"{o.fixed}/{o.wrong}" + (f" ({o.keys} keys)" if o.keys else "") for o in (tool, plain, alts)]
        print(f"{name}: {damaged} damaged, {asked} asked | " + " | ".join(cells))
    t, p, a = total["tool"], total["a/r"], total["alts"]
    print(
        f"total: tool {t[0]} fixed; accept/reject {p[0]} fixed with {p[2]} keys; with alternatives {a[0]} fixed with"
        f" {a[2]} keys: {a[0] - p[0]} more damaged spans fixed for the same keystrokes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
