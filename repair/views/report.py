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
from repair.files.editlist import sha256
from repair.stages.align import Reference
from repair.stages.normalize import Normalized, normalize
from repair.stages.witness import Alignment
from repair.views.sidebyside import View, build_view

# the reference text an evidence span points at is shown up to this length
SNIPPET_CHARS = 160
# fixes of the surface, not the wording: listed after the content edits, one collapsed line per kind
SURFACE_KINDS: tuple[str, ...] = ("tokenization", "whitespace", "mojibake")
CONTEXT_CHARS = 40  # of the text either side of an edit, on its card
SURFACE_HELP = {
    "tokenization": "spaces put back where a tokenizer split words and punctuation",
    "whitespace": "runs of spaces and stray line-end spaces",
    "mojibake": "text decoded with the wrong encoding, decoded again",
}


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


def card_order(edits: Sequence[Edit]) -> tuple[list[int], list[tuple[str, list[int]]]]:
    """Indexes of the content edits in text order, then of the surface fixes grouped by kind.

    >>> card_order([Edit(0, 1, "a", "b", "tokenization", 1.0), Edit(1, 2, "b", "c", "gap", 1.0)])
    ([1], [('tokenization', [0])])
    """
    content = [i for i, e in enumerate(edits) if e.kind not in SURFACE_KINDS]
    groups = [(k, [i for i, e in enumerate(edits) if e.kind == k]) for k in SURFACE_KINDS]
    return content, [(k, members) for k, members in groups if members]


def around(source: str, e: Edit, chars: int = CONTEXT_CHARS) -> tuple[str, str]:
    """A few words either side of an edit, cut at spaces, so a card can be read without the columns.

    >>> around("one two three four five", Edit(8, 13, "three", "3", "x", 1.0), chars=6)
    ('two ', ' four')
    """
    left = source[max(0, e.start - chars) : e.start]
    right = source[e.end : e.end + chars]
    if e.start > chars and " " in left:
        left = left[left.index(" ") + 1 :]
    if e.end + chars < len(source) and " " in right:
        right = right[: right.rindex(" ")]
    return " ".join(left.split("\n")[-1:]), right.split("\n")[0]


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
    min_confidence: float = 0.0,
    input_name: str = "input",
) -> str:
    """A self-contained HTML page: input, repaired text and covering reference side by side.

    ``doc`` is the normalized input the alignment was made on; without it the input
    is normalized again (the normalizer is deterministic). The confidence filter starts
    at ``min_confidence``, the run's threshold; decisions made on the page download as a
    decisions file for ``input_name`` (see `repair.files.decisions`).
    """
    view: View = build_view(source, edits, alignment, doc)
    shown_refs = tuple(alignment.refs) if alignment is not None else tuple(refs)
    template = _environment().get_template("report.html")
    content, surface = card_order(view.edits)
    return template.render(
        content=content,
        surface=surface,
        min_confidence=min_confidence,
        input_name=input_name,
        input_sha256=sha256(source),
        applied_ids=[i for i, e in enumerate(view.edits) if e.applied],
        surface_help=SURFACE_HELP,
        around=lambda e: around(source, e),
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
    from repair.pipeline import align_references, make_references

    doc = normalize(source)
    return doc, (align_references(doc, make_references(refs)) if refs else None)
