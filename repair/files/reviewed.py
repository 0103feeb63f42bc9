"""The files of a review: the text as reviewed, its edit list and the decisions made, named beside the
input, written together after every key, and the decisions of an earlier review or the report read back."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repair.edits import Edit, apply_edits
from repair.files.commit import check_outputs, same_file, write_all
from repair.files.decisions import Decision, dump_decisions, load_decisions, recorded
from repair.files.editlist import dump_edits
from repair.files.textio import InputError, read_text


@dataclass(frozen=True)
class ReviewFiles:
    """Where a review of ``input_path`` (whose text is ``source``, its edit list's header ``meta``) writes."""

    input_path: Path
    source: str
    meta: Mapping[str, Any]
    text: Path
    edits: Path
    decisions: Path
    edit_list: Path | None = None  # the edit list read: ``edits`` may name it, to update it; no other output may
    applied: Path | None = None  # the decisions file given to --apply: no output may replace it

    @property
    def input_name(self) -> str:
        return str(self.meta.get("input") or self.input_path)

    def protected(self) -> tuple[Path, ...]:
        """The files no output may replace: the input, the decisions applied, and the edit list read unless
        ``edits`` names it."""
        keep = [self.input_path, self.applied]
        if self.edit_list is not None and not same_file(self.edit_list, self.edits):
            keep.append(self.edit_list)
        return tuple(p for p in keep if p is not None)

    def check(self, *, with_decisions: bool = True) -> None:
        """Refuse, before the first key, outputs that cannot be written or would replace an input."""
        check_outputs([self.text, self.edits, *([self.decisions] if with_decisions else [])], protect=self.protected())

    def save(self, edits: Sequence[Edit], seen: Sequence[int] = (), *, with_decisions: bool = True) -> None:
        """Write the text as decided and its edit list; with ``with_decisions`` the decisions file too,
        ``seen`` (indexes into ``edits``) naming the edits passed undecided, kept as skipped."""
        listing = dump_edits(
            self.source,
            edits,
            input_name=self.input_name,
            refs=[str(r) for r in self.meta.get("references") or []],
            ref_sha256=[str(h) for h in self.meta.get("references_sha256") or []],
            model=str(self.meta.get("model") or ""),
            min_confidence=float(self.meta.get("min_confidence") or 0.0),
        )
        outputs = {self.text: apply_edits(self.source, edits), self.edits: listing}
        if with_decisions:
            made = recorded(edits, seen)
            outputs[self.decisions] = dump_decisions(self.source, made, input_name=self.input_name)
        write_all(outputs, protect=self.protected())

    def saved_decisions(self) -> list[Decision]:
        """The decisions an earlier review of this input kept (none if it left no file)."""
        if not os.path.lexists(self.decisions):
            return []
        return self.read_decisions(self.decisions)

    def read_decisions(self, path: Path) -> list[Decision]:
        """A decisions file (saved by a review or downloaded from the report), checked to be this input's."""
        return load_decisions(read_text(path, what="decisions"), self.source, name=str(path))


def review_files(
    input_path: Path,
    source: str,
    meta: Mapping[str, Any],
    *,
    out: Path | None = None,
    edits_out: Path | None = None,
    decisions: Path | None = None,
    edit_list: Path | None = None,
    applied: Path | None = None,
) -> ReviewFiles:
    """The paths given, else INPUT's stem + .reviewed.txt, .reviewed.edits.json and .decisions.json.

    >>> f = review_files(Path("news/a.txt"), "", {})
    >>> f.text.name, f.edits.name, f.decisions.name
    ('a.reviewed.txt', 'a.reviewed.edits.json', 'a.decisions.json')
    """
    stem = input_path.with_suffix("") if input_path.suffix else input_path
    files = ReviewFiles(
        input_path,
        source,
        meta,
        out or stem.with_name(stem.name + ".reviewed.txt"),
        edits_out or stem.with_name(stem.name + ".reviewed.edits.json"),
        decisions or stem.with_name(stem.name + ".decisions.json"),
        edit_list,
        applied,
    )
    if len({files.text.resolve(), files.edits.resolve(), files.decisions.resolve()}) < 3:
        raise InputError("--out, --edits-out and --decisions must be three different files")
    return files
