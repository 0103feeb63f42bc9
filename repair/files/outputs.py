"""The files of a run: an input and its references read, the outputs named beside the input and
checked before any work is done (never an input overwritten)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from repair.files.editlist import sha256
from repair.files.textio import InputError, read_text


def read_inputs(input_path: Path, refs: Sequence[Path]) -> tuple[str, list[tuple[str, str]]]:
    """Read the input and the references, refusing a reference that is the input itself."""
    return read_text(input_path, what="input"), read_references(input_path, refs)


def read_references(input_path: Path, refs: Sequence[Path]) -> list[tuple[str, str]]:
    """Read the references (name, text), refusing one that is the input itself."""
    ref_texts: list[tuple[str, str]] = []
    for r in refs:
        if os.path.exists(r) and os.path.exists(input_path) and r.resolve() == input_path.resolve():
            raise InputError(f"reference is the input file itself: {r}")
        ref_texts.append((str(r), read_text(r, what="reference")))
    return ref_texts


def default_outputs(input_path: Path) -> tuple[Path, Path, Path]:
    """The repaired text, edit list and report beside ``input_path``.

    >>> [p.name for p in default_outputs(Path("news/a.txt"))]
    ['a.repaired.txt', 'a.edits.json', 'a.report.html']
    """
    stem = input_path.with_suffix("") if input_path.suffix else input_path
    return (
        stem.with_name(stem.name + ".repaired.txt"),
        stem.with_name(stem.name + ".edits.json"),
        stem.with_name(stem.name + ".report.html"),
    )


def recorded_references(meta: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """The references an edit list names that can be read and are what the run read, and a note on each other.

    A reference is read only if its text has the hash the run recorded (``references_sha256``): an edit
    list is a file anyone may have edited, and a name in it must not put some other file's text (notes,
    keys) into a report. One recorded without a hash (an edit list from before hashes were kept) is not read.
    """
    names = [str(n) for n in meta.get("references") or []]
    hashes = [str(h) for h in meta.get("references_sha256") or []]
    found: list[tuple[str, str]] = []
    notes: list[str] = []
    for i, name in enumerate(names):
        if i >= len(hashes):
            notes.append(
                f"reference {name} (named in the edit list) is not read: no hash of it was recorded; give it with --ref"
            )
            continue
        try:
            text = read_text(Path(name), what="reference")
        except InputError as exc:
            notes.append(f"{exc} (named in the edit list)")
            continue
        if sha256(text) != hashes[i]:
            changed = "its text is not the one the run read (changed, or another file); give it with --ref"
            notes.append(f"reference {name} (named in the edit list) is not read: {changed}")
            continue
        found.append((name, text))
    return found, notes
