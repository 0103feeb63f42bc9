"""The alignment shown: as tables for the terminal and as JSON (`repair align`)."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import PurePath
from typing import TYPE_CHECKING

from repair.stages.label import DAMAGE
from repair.stages.witness import Alignment

if TYPE_CHECKING:
    from rich.table import Table


def alignment_json(alignment: Alignment) -> dict[str, object]:
    """The alignment and the merged fixes as plain JSON data."""
    return {
        "refs": [r.name for r in alignment.refs],
        "passages": [
            {
                **asdict(replace(p, differences=())),
                "ref": alignment.refs[p.ref].name,
                "differences": [asdict(d) for d in p.differences],
            }
            for p in alignment.passages
        ],
        "fixes": [{**asdict(f), "refs": list(f.refs)} for f in alignment.fixes],
    }


def _clip(text: str, width: int = 70) -> str:
    """One line of at most ``width`` characters.

    >>> _clip("a  b\\nc" + "d" * 80, 10)
    'a b cdddd…'
    """
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _short(name: str) -> str:
    """A reference's file name without its folder, for narrow tables."""
    return PurePath(name).name or name


def alignment_tables(alignment: Alignment) -> list[Table]:
    """Rich tables: each covered stretch of the input with its differences, then the fixes."""
    from rich.table import Table

    from repair.views.terminal import shown

    text = alignment.doc_text
    passages = Table(title="passages the references cover", title_justify="left", show_lines=True)
    for col, kw in (
        ("input", {"no_wrap": True}),
        ("text", {}),
        ("reference", {}),
        ("score", {"justify": "right"}),
        ("differences", {}),
    ):
        passages.add_column(col, **kw)
    for p in alignment.passages:
        diffs = "\n".join(
            f"{'[red]damage[/]' if d.label == DAMAGE else '[dim]variation[/]'} "
            f"{shown(_clip(d.doc_text.strip(), 30) or '∅')} → {shown(_clip(d.ref_text, 30) or '∅')}"
            f"{f' [bold]{d.confidence:.2f}[/]' if d.label == DAMAGE else ''}"
            for d in p.differences
        )
        passages.add_row(
            f"{p.doc_start}–{p.doc_end}",
            shown(_clip(text[p.doc_start : p.doc_end])),
            shown(_short(alignment.refs[p.ref].name)),
            f"{p.score:.2f}",
            diffs or "[green]identical[/]",
        )
    fixes = Table(title="what the references would repair", title_justify="left")
    for col in ("input", "now", "reference reads", "references", "confidence"):
        fixes.add_column(col)
    for f in alignment.fixes:
        fixes.add_row(
            f"{f.doc_start}–{f.doc_end}",
            shown(_clip(f.doc_text.strip(), 40) or "∅"),
            shown(_clip(f.after.strip(), 40) or "∅ (delete)"),
            shown(", ".join(map(_short, f.refs)))
            + (f" [dim](against: {shown(', '.join(map(_short, f.dissent)))})[/]" if f.dissent else ""),
            f"{f.confidence:.2f}",
        )
    return [passages, fixes]
