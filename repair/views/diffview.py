"""The report's side-by-side view in a terminal, with rich: input, repaired text, reference."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from repair.edits import Edit
from repair.views.sidebyside import Run, Span, View
from repair.views.terminal import text_shown

# rich colours per edit kind (the HTML report's palette, near enough)
KIND_STYLES: dict[str, str] = {
    "tokenization": "blue",
    "mojibake": "magenta",
    "whitespace": "bright_black",
    "duplicate": "dark_orange",
    "gap": "green",
    "substitution": "red",
    "stray": "yellow",
}
OTHER_STYLE = "cyan"
# below this width a third column leaves too little room for each
MIN_WIDTH_FOR_REFERENCE = 110


def kind_style(kind: str) -> str:
    """The rich colour of an edit kind.

    >>> kind_style("gap"), kind_style("something new")
    ('green', 'cyan')
    """
    return KIND_STYLES.get(kind, OTHER_STYLE)


def _runs(text: Text, runs: Sequence[Run], colour: str, *, struck: bool) -> None:
    for r in runs:
        shown = text_shown(r.text)
        if not r.changed:
            text.append(shown, style=f"underline {colour}")
        elif r.space:
            text.append("·" * len(r.text) if struck else shown, style=f"bold {colour} on grey23")
        else:
            text.append(shown, style=f"bold {colour} strike" if struck else f"bold reverse {colour}")


def input_text(spans: Sequence[Span], edits: Sequence[Edit]) -> Text:
    """The input column: removed words struck through, in their kind's colour."""
    text = Text()
    for s in spans:
        if s.edit is None:
            text.append(text_shown(s.text))
            continue
        e = edits[s.edit]
        colour = kind_style(e.kind)
        if s.badge:
            text.append("?", style=f"bold {colour}")
        elif not s.runs:
            text.append("‸", style=f"bold {colour}")
        else:
            _runs(text, s.runs, colour if e.applied else f"{colour} dim", struck=True)
    return text


def output_text(spans: Sequence[Span], edits: Sequence[Edit]) -> Text:
    """The repaired column: new words highlighted; suggestions not applied in [? …] brackets."""
    text = Text()
    for s in spans:
        if s.edit is None:
            text.append(text_shown(s.text))
            continue
        colour = kind_style(edits[s.edit].kind)
        if s.suggestion or s.badge:
            text.append(text_shown("".join(r.text for r in s.runs)))
            shown = text_shown("".join(r.text for r in s.suggestion).strip()) or "∅"
            text.append(f"[?{shown}]", style=f"italic {colour}")
        else:
            _runs(text, s.runs, colour, struck=False)
    return text


def reference_text(view: View, index: int) -> Text:
    """The reference column of block ``index``: the passage, with the aligner's differences underlined."""
    ref = view.blocks[index].ref
    if ref is None:
        return Text("no reference covers this passage", style="dim italic")
    text = Text(f"{text_shown(ref.name)} ({ref.score:.2f})\n", style="dim")
    for i, chunk in enumerate(ref.chunks):
        if i:
            text.append(" … ", style="dim")
        for piece, label in chunk.pieces():
            text.append(text_shown(piece), style="underline" if label else "")
    return text


def diff_table(view: View, *, width: int, show_reference: bool | None = None) -> RenderableType:
    """A table with one row per block: input | repaired | reference (when there is room)."""
    with_ref = width >= MIN_WIDTH_FOR_REFERENCE if show_reference is None else show_reference
    table = Table(show_lines=True, expand=True, pad_edge=False)
    table.add_column("input", ratio=1, overflow="fold")
    table.add_column("repaired", ratio=1, overflow="fold")
    if with_ref:
        table.add_column("reference", ratio=1, overflow="fold")
    for i, b in enumerate(view.blocks):
        cells: list[RenderableType] = [input_text(b.input, view.edits), output_text(b.output, view.edits)]
        if with_ref:
            cells.append(reference_text(view, i))
        table.add_row(*cells)
    return table


def legend(edits: Sequence[Edit]) -> Text:
    """One line naming the kinds present, each in its colour, with counts."""
    text = Text("edits: ")
    kinds: dict[str, int] = {}
    for e in edits:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    for k, n in kinds.items():
        text.append(f"{text_shown(k)} {n}", style=f"bold {kind_style(k)}")
        text.append("  ")
    held = sum(1 for e in edits if not e.applied)
    text.append(f"(not applied: {held}, shown as [?…])" if held else "", style="italic")
    return text


def render_diff(view: View, *, width: int, show_reference: bool | None = None) -> RenderableType:
    """The whole terminal view: a legend line, then the side-by-side table."""
    return Group(legend(view.edits), diff_table(view, width=width, show_reference=show_reference))
