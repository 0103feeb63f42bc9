"""The files of a run: an input and its references read, the outputs named beside the input and
checked before any work is done (never an input overwritten)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from repair.files.textio import InputError, read_text


def read_inputs(input_path: Path, refs: Sequence[Path]) -> tuple[str, list[tuple[str, str]]]:
    """Read the input and the references, refusing a reference that is the input itself."""
    text = read_text(input_path, what="input")
    ref_texts: list[tuple[str, str]] = []
    for r in refs:
        if r.exists() and input_path.exists() and r.resolve() == input_path.resolve():
            raise InputError(f"reference is the input file itself: {r}")
        ref_texts.append((str(r), read_text(r, what="reference")))
    return text, ref_texts


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


def check_outputs(paths: Sequence[Path], *, protect: Sequence[Path] = ()) -> None:
    """Refuse outputs that cannot be written or would overwrite an input, before any work is done."""
    for path in paths:
        if any(path.exists() and p.exists() and path.resolve() == p.resolve() for p in protect):
            raise InputError(f"refusing to overwrite an input file: {path}")
        if not path.parent.is_dir():
            raise InputError(f"output folder does not exist: {path.parent}")
        if path.is_dir():
            raise InputError(f"output path is a directory: {path}")


