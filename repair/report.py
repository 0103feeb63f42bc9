"""The side-by-side HTML report a reviewer reads.

STUB: the report helper fills this in. The interface is fixed.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from repair.align import Alignment, Reference
from repair.edits import Edit


def render_report(
    source: str,
    edits: Sequence[Edit],
    refs: Sequence[Reference] = (),
    alignment: Alignment | None = None,
    *,
    title: str = "repair report",
) -> str:
    """A self-contained HTML page: input, repaired text and covering reference side by side."""
    return f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title><pre>{html.escape(source)}</pre>"
