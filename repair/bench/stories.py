"""Benchmark cases from many real stories, each told by several outlets.

A stories folder holds one folder per news event, each with the event's versions as ``*.txt``
(one per outlet). Per story, one version is damaged (`repair.bench.corrupt`) and repaired
with the others as references; the same version is also repaired as it is, to count the
edits made on text that needs none. Which version is damaged, and the damage's seed, follow
from the story's name, so a story's cases never change when others are added.

Stories are split by a fixed rule, a hash of the name, into *fit* stories (what detectors,
calibration and thresholds may be fitted on) and *held-out* stories (what every reported
figure is measured on). The texts are read at run time: they are the outlets' and are never
copied into this repository.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from repair.bench.cases import Case
from repair.bench.corrupt import corrupt
from repair.files.textio import InputError, read_text

Split = Literal["fit", "held-out", "all"]
SPLITS: tuple[Split, ...] = ("fit", "held-out", "all")
HELD_OUT_SHARE = 0.5  # of the stories, the share held out (by hash, so about this share)
QUICK_STORIES = 6  # stories in a quick run: enough to see a change move, a few minutes with the model
# where the shared stories live beside a checkout (`../shared/stories`): the default of `--stories`
SHARED = Path(__file__).resolve().parents[3] / "shared" / "stories"


@dataclass(frozen=True)
class Story:
    """One news event: its name and its versions (file name, text), sorted by file name."""

    name: str
    versions: tuple[tuple[str, str], ...]


def _unit(name: str, salt: str) -> float:
    """A number in [0, 1) fixed by the story's name: the same on every machine and run."""
    digest = hashlib.sha256(f"{salt}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(name: str) -> Split:
    """Whether a story is one to fit on or one held out, fixed by its name alone.

    >>> split_of("2010-38f7cbb7"), split_of("2010-38f7cbb7") == split_of("2010-38f7cbb7")
    ('held-out', True)
    """
    return "held-out" if _unit(name, "split") < HELD_OUT_SHARE else "fit"


def damaged_version(story: Story) -> int:
    """Which of the story's versions is damaged: fixed by its name, rotating over the outlets across stories."""
    return int(_unit(story.name, "version") * len(story.versions))


def story_seed(story: Story, first_seed: int = 0) -> int:
    """The damage's seed for a story: its name's, shifted by ``first_seed`` (another draw of damage)."""
    return int(_unit(story.name, "seed") * 1_000_000) + first_seed


def load_stories(folder: Path, split: Split = "held-out", limit: int | None = None) -> list[Story]:
    """The stories of ``folder`` in ``split``, sorted by name; the first ``limit`` of them if given."""
    if not folder.is_dir():
        raise InputError(f"stories folder not found: {folder}")
    stories = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if split != "all" and split_of(sub.name) != split:
            continue
        paths = sorted(sub.glob("*.txt"))
        if len(paths) < 2:
            continue  # a story needs a version to damage and one to read as a reference
        stories.append(Story(sub.name, tuple((p.name, read_text(p, what="story version")) for p in paths)))
    if not stories:
        raise InputError(f"no stories (folders with two or more *.txt versions) in {folder} for split {split}")
    return stories[:limit] if limit else stories


def story_cases(stories: Sequence[Story], *, refs: bool = True, first_seed: int = 0) -> list[Case]:
    """Per story: its damaged version (with the other versions as references), then the same version clean."""
    cases: list[Case] = []
    for story in stories:
        k = damaged_version(story)
        name, text = story.versions[k]
        others = tuple(v for i, v in enumerate(story.versions) if i != k) if refs else ()
        label = f"{story.name}/{Path(name).stem}"
        d = corrupt(text, story_seed(story, first_seed))
        cases.append(Case(label, d.damaged, d.clean, others, d.answers))
        cases.append(Case(f"{label}@clean", text, text, others))
    return cases
