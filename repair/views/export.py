"""The edit list in other tools' formats: JSON (our own), M2 (ERRANT) and TEI (critical apparatus)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from repair.edits import Edit, apply_edits
from repair.files.editlist import dump_edits
from repair.views.sidebyside import blocks_spans, split_primary

FORMATS: tuple[str, ...] = ("json", "m2", "tei")
TEI_NS = "http://www.tei-c.org/ns/1.0"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
# characters XML 1.0 cannot hold at all, even escaped
XML_BAD_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
M2_NOOP = "A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0"


@dataclass(frozen=True)
class TokenEdit:
    """An edit in space-separated token offsets within one sentence."""

    start: int
    end: int
    kind: str
    correction: tuple[str, ...]


def export(
    source: str,
    edits: Sequence[Edit],
    fmt: str,
    *,
    input_name: str = "input",
    refs: Sequence[str] = (),
    ref_sha256: Sequence[str] = (),
    title: str = "",
    model: str = "",
    min_confidence: float = 0.0,
) -> str:
    """The edit list as ``fmt`` (json, m2 or tei); ``model``, ``min_confidence`` and the references' hashes
    (``ref_sha256``, for json) are the run's."""
    if fmt == "json":
        return dump_edits(
            source,
            edits,
            input_name=input_name,
            refs=refs,
            ref_sha256=ref_sha256,
            model=model,
            min_confidence=min_confidence,
        )
    if fmt == "m2":
        return to_m2(source, edits)
    if fmt == "tei":
        return to_tei(source, edits, input_name=input_name, refs=refs, title=title)
    raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")


def m2_sentence(text: str, edits: Sequence[Edit]) -> tuple[list[str], list[TokenEdit]]:
    """Space tokens of one sentence and its applied edits (offsets relative to ``text``) in token offsets.

    An edit is widened to the whole tokens it touches, edits that then share a token
    merge, and tokens the edit leaves as they were are trimmed off again.

    >>> toks, found = m2_sentence("the U. S. and and it", [
    ...     Edit(6, 7, " ", "", "tokenization", 1.0), Edit(10, 14, "and ", "", "duplicate", 1.0)])
    >>> [(e.start, e.end, e.correction) for e in found]
    [(1, 3, ('U.S.',)), (3, 4, ())]
    """
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    tokens = [text[s:e] for s, e in spans]
    groups: list[tuple[int, int, list[Edit]]] = []  # widened char span, edits
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        touched = [i for i, (s, t) in enumerate(spans) if t >= e.start and s <= e.end]
        ws = min([e.start] + [spans[i][0] for i in touched])
        we = max([e.end] + [spans[i][1] for i in touched])
        if groups and ws < groups[-1][1]:
            gs, ge, members = groups.pop()
            groups.append((gs, max(ge, we), [*members, e]))
        else:
            groups.append((ws, we, [e]))
    out: list[TokenEdit] = []
    for ws, we, members in groups:
        first = sum(1 for _, t in spans if t <= ws)
        last = sum(1 for s, _ in spans if s < we)
        local = [Edit(m.start - ws, m.end - ws, m.before, m.after, m.kind, m.confidence) for m in members]
        before = tokens[first:last]
        after = apply_edits(text[ws:we], local).split()
        # trim the tokens that stayed the same at either end
        while before and after and before[-1] == after[-1]:
            before, after, last = before[:-1], after[:-1], last - 1
        while before and after and before[0] == after[0]:
            before, after, first = before[1:], after[1:], first + 1
        if not before and not after:
            continue  # a change of spacing inside a run of space: no token changes
        kinds = list(dict.fromkeys(m.kind for m in members))
        out.append(TokenEdit(first, first + len(before), "+".join(kinds), tuple(after)))
    return tokens, out


def token_reach(text: str, edit: Edit) -> tuple[int, int]:
    """The edit's span widened to the whole space-separated tokens it touches on either side.

    >>> token_reach('term . " Since', Edit(6, 7, " ", "", "tokenization", 1.0))
    (5, 8)
    """
    s, e = edit.start, edit.end
    while s > 0 and not text[s - 1].isspace():
        s -= 1
    while e < len(text) and not text[e].isspace():
        e += 1
    return s, e


def to_m2(source: str, edits: Sequence[Edit]) -> str:
    """The applied edits in M2 as ERRANT reads it: an S line per sentence, an A line per edit.

    >>> print(to_m2("He said Assad Assad must go.", [Edit(8, 14, "Assad ", "", "duplicate", 0.9)]), end="")
    S He said Assad Assad must go.
    A 2 3|||duplicate||||||REQUIRED|||-NONE-|||0
    """
    applied = [e for e in edits if e.applied]
    blocks: list[str] = []
    for s, e in blocks_spans(source, applied, target=0, keep=[token_reach(source, x) for x in applied]):
        mine = [x for x in applied if s <= x.start < e or (e == len(source) and x.start == e)]
        local = [Edit(x.start - s, x.end - s, x.before, x.after, x.kind, x.confidence) for x in mine]
        tokens, found = m2_sentence(source[s:e], local)
        if not tokens and not found:
            continue
        lines = ["S " + " ".join(tokens)]
        for t in found:
            lines.append(f"A {t.start} {t.end}|||{t.kind}|||{' '.join(t.correction)}|||REQUIRED|||-NONE-|||0")
        if not found:
            lines.append(M2_NOOP)
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def xml_text(text: str) -> str:
    """Text XML 1.0 can hold: characters it forbids become U+FFFD.

    >>> xml_text("a\\x00b")
    'a\\ufffdb'
    """
    return XML_BAD_RE.sub("\ufffd", text)


def to_tei(
    source: str, edits: Sequence[Edit], *, input_name: str = "input", refs: Sequence[str] = (), title: str = ""
) -> str:
    """A TEI document: the repaired text, each edit an ``<app>`` with the input's reading as a ``<rdg>``.

    Applied edits: ``<lem>`` the repaired reading, ``<rdg wit="#input">`` the damaged one.
    Edits not applied: ``<lem wit="#input">`` the input's reading, ``<rdg type="suggestion">``.
    An unapplied edit that overlaps an applied one has no place in a single apparatus and is left out.
    """
    ET.register_namespace("", TEI_NS)

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{TEI_NS}}}{tag}", {k.replace("_", ":"): v for k, v in attrs.items()})
        if text:
            node.text = xml_text(text)
        return node

    ref_ids = {name: f"ref{i + 1}" for i, name in enumerate(refs)}
    root = ET.Element(f"{{{TEI_NS}}}TEI")
    header = el(root, "teiHeader")
    file_desc = el(header, "fileDesc")
    el(el(file_desc, "titleStmt"), "title", title or f"repair: {input_name}")
    el(el(file_desc, "publicationStmt"), "p", "Edits found by repair; the readings of the damaged input as rdg.")
    wits = el(el(file_desc, "sourceDesc"), "listWit")
    el(wits, "witness", f"the damaged input: {input_name}").set(XML_ID, "input")
    for name, wid in ref_ids.items():
        el(wits, "witness", f"reference: {name}").set(XML_ID, wid)
    enc = el(header, "encodingDesc")
    el(enc, "variantEncoding", method="parallel-segmentation", location="internal")
    body = el(el(root, "text"), "body")

    primary_idx, _ = split_primary(edits)
    primary = [edits[i] for i in primary_idx]
    for s, e in blocks_spans(source, primary, target=1 << 62):
        para = el(body, "p")
        para.tail = "\n"
        last: ET.Element | None = None
        pos = s
        for x in primary:
            if not (s <= x.start < e or (e == len(source) and x.start == e)):
                continue
            _put(para, last, source[pos : x.start])
            app = el(para, "app", type=x.kind, cert=f"{x.confidence:.2f}")
            supporting = sorted({ref_ids[v.source[4:]] for v in x.evidence if v.source[4:] in ref_ids})
            if x.applied:
                lem = el(app, "lem", x.after)
                if supporting:
                    lem.set("wit", " ".join("#" + w for w in supporting))
                if x.decision:
                    lem.set("type", x.decision)  # the reviewer's reading: accepted, or chosen among the alternatives
                el(app, "rdg", x.before, wit="#input")
            else:
                app.set("subtype", "rejected" if x.decision == "rejected" else "not-applied")
                el(app, "lem", x.before, wit="#input")
                if not x.question:
                    el(app, "rdg", x.after, type="suggestion")
            for text, share in x.alternatives:
                if text not in (x.after, x.before):
                    el(app, "rdg", text, type="alternative", cert=f"{share:.2f}")
            last = app
            pos = x.end
        _put(para, last, source[pos:e].rstrip("\r\n"))
    ET.indent(header, level=1)
    root.text = header.tail = body.text = "\n"
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _put(para: ET.Element, last: ET.Element | None, text: str) -> None:
    """Append text to a paragraph of mixed content: after its last child, or as its text."""
    text = xml_text(text)
    if last is None:
        para.text = (para.text or "") + text
    else:
        last.tail = (last.tail or "") + text
