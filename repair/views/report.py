"""The side-by-side HTML report a reviewer reads.

One self-contained file (inline CSS and JS, no network): input, repaired text and
the best covering reference per paragraph, edits coloured by kind, each edit's
confidence and evidence on hover or click, filters by kind and confidence, and a
density bar showing where the damage is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import jinja2

from repair.edits import KINDS, Edit, Evidence
from repair.stages.align import Alignment, Reference
from repair.stages.normalize import Normalized, normalize
from repair.views.sidebyside import View, build_view

# the reference text an evidence span points at is shown up to this length
SNIPPET_CHARS = 160


@dataclass(frozen=True)
class KindCount:
    kind: str
    css: str
    applied: int
    held: int


def kind_class(kind: str) -> str:
    """A CSS class for an edit kind, safe whatever the kind string holds.

    >>> kind_class("substitution"), kind_class("Odd <kind>")
    ('k-substitution', 'k-odd-kind')
    """
    return "k-" + (re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-") or "other")


def kind_counts(edits: Sequence[Edit]) -> list[KindCount]:
    """Applied and not-applied counts per kind, known kinds first in pipeline order."""
    applied = Counter(e.kind for e in edits if e.applied)
    held = Counter(e.kind for e in edits if not e.applied)
    seen = set(applied) | set(held)
    kinds = [k for k in KINDS if k in seen] + sorted(seen - set(KINDS))
    return [KindCount(k, kind_class(k), applied[k], held[k]) for k in kinds]


def snippet(refs: Sequence[Reference], ev: Evidence) -> str:
    """The reference text an evidence's span points at, if the evidence names a known reference."""
    if ev.span is None or not ev.source.startswith("ref:"):
        return ""
    name = ev.source[4:]
    for r in refs:
        if r.name == name:
            s, e = ev.span
            text = r.normalized.source[max(0, s) : max(0, e)]
            return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
    return ""


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("repair.views", "templates"),
        autoescape=True,  # the input may hold markup: every piece of text is escaped
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["kind_class"] = kind_class
    return env


def render_report(
    source: str,
    edits: Sequence[Edit],
    refs: Sequence[Reference] = (),
    alignment: Alignment | None = None,
    *,
    title: str = "repair report",
    doc: Normalized | None = None,
) -> str:
    """A self-contained HTML page: input, repaired text and covering reference side by side.

    ``doc`` is the normalized input the alignment was made on; without it the input
    is normalized again (the normalizer is deterministic).
    """
    view: View = build_view(source, edits, alignment, doc)
    shown_refs = tuple(alignment.refs) if alignment is not None else tuple(refs)
    template = _environment().get_template("report.html")
    return template.render(
        title=title,
        view=view,
        edits=view.edits,
        counts=kind_counts(view.edits),
        refs=shown_refs,
        has_passages=bool(alignment is not None and alignment.passages),
        length=max(1, len(source)),
        snippet=lambda ev: snippet(shown_refs, ev),
        unique=lambda evidence: list(dict.fromkeys(evidence)),  # an edit that absorbed others may repeat theirs
        known_kinds=KINDS,
    )


def realign(source: str, refs: Sequence[tuple[str, str]]) -> tuple[Normalized, Alignment | None]:
    """Normalize ``source`` and align it against (name, text) references, to show beside a saved edit list."""
    from repair.pipeline import make_references
    from repair.stages.align import align

    doc = normalize(source)
    return doc, (align(doc, make_references(refs)) if refs else None)
