"""What the benchmark repairs: cases of a damaged text, its clean original and its references.

Three sources: the bundled example's clean versions damaged at a few seeds (`example_cases`),
a folder of case folders (`load_cases`), and many real stories (`repair.bench.stories`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from repair.bench.corrupt import corrupt, load_answers
from repair.edits import Edit
from repair.files.textio import InputError, read_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ap-syria"
DEFAULT_SEEDS = 3
DEFAULT_RATE = 1.0
DAMAGED_PREFIX = "000_"  # in the bundled example, the damaged article; every other file is a clean version


@dataclass(frozen=True)
class Case:
    """One text to repair, the clean original it should come back to, and its references."""

    name: str
    input: str
    gold: str
    refs: tuple[tuple[str, str], ...] = ()  # (name, text)
    answers: tuple[Edit, ...] = ()  # the answer key, when the damage was made by `repair corrupt`

    @property
    def clean(self) -> bool:
        """A clean text run unchanged: every edit the tool makes on it is a false edit."""
        return self.input == self.gold


def example_cases(
    folder: Path = EXAMPLE,
    *,
    seeds: int = DEFAULT_SEEDS,
    refs: bool = True,
    rate: float = DEFAULT_RATE,
    first_seed: int = 0,
) -> list[Case]:
    """Cases from a folder of clean versions of one story: each damaged at ``seeds`` seeds, and each as it is.

    The seeds are ``first_seed`` .. ``first_seed + seeds - 1`` (fit a calibration on
    some, measure it on others). Per clean text the order is: the first seed, the clean
    run, then the other seeds, so the first two cases already measure both repair and
    false edits.
    """
    paths = sorted(p for p in folder.glob("*.txt") if not p.name.startswith(DAMAGED_PREFIX))
    if not paths:
        raise InputError(f"no clean texts (*.txt) in {folder}")
    texts = {p: read_text(p, what="clean text") for p in paths}
    cases: list[Case] = []
    for p in paths:
        others = tuple((q.name, texts[q]) for q in paths if q != p) if refs else ()
        runs: list[Case] = []
        for seed in range(first_seed, first_seed + seeds):
            d = corrupt(texts[p], seed, rate=rate)
            runs.append(Case(f"{p.stem}@{seed}", d.damaged, d.clean, others, d.answers))
        runs.insert(min(1, len(runs)), Case(f"{p.stem}@clean", texts[p], texts[p], others))
        cases.extend(runs)
    return cases


def load_cases(folder: Path, *, refs: bool = True) -> list[Case]:
    """Cases from a folder of case folders, each with input.txt, gold.txt and optionally refs/ and answers.json."""
    if not folder.is_dir():
        raise InputError(f"cases folder not found: {folder}")
    cases = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if not (sub / "input.txt").exists() or not (sub / "gold.txt").exists():
            raise InputError(f"case folder {sub} needs input.txt and gold.txt")
        text = read_text(sub / "input.txt", what="case input")
        gold = read_text(sub / "gold.txt", what="case gold")
        ref_texts = tuple(
            (p.name, read_text(p, what="case reference")) for p in sorted((sub / "refs").glob("*.txt")) if refs
        )
        answers: tuple[Edit, ...] = ()
        key = sub / "answers.json"
        if key.exists():
            try:
                clean, answers = load_answers(key.read_text(encoding="utf-8"))
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(f"{key} is not an answer key written by `repair corrupt`: {exc}") from exc
            if clean != gold:
                raise InputError(f"{key} was made for another text than {sub / 'gold.txt'}")
        cases.append(Case(sub.name, text, gold, ref_texts, answers))
    if not cases:
        raise InputError(f"no case folders (with input.txt and gold.txt) in {folder}")
    return cases
