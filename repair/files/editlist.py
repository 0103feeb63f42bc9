"""The machine-readable edit list (`edits.json`): writing it and reading it back."""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import IO, Any

from repair.edits import Edit, Evidence
from repair.files.textio import InputError, parse_json

FORMAT_VERSION = 1
_string: Callable[[str], str] = json.encoder.encode_basestring  # the C one, as a plain dumps uses


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EditListWriter:
    """Writes an edit list one edit at a time, so a streamed run never holds them all; the one writer of
    ``edits.json``: what it writes is byte for byte ``json.dumps(doc, indent=1)`` of the whole list."""

    def __init__(
        self,
        out: IO[str],
        *,
        input_sha256: str,
        input_name: str,
        refs: Sequence[str] = (),
        ref_sha256: Sequence[str] = (),
        model: str = "",
        min_confidence: float = 0.0,
    ) -> None:
        head: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "input": input_name,
            "input_sha256": input_sha256,
            "references": list(refs),
            # what each reference held, so that `repair report` and `diff` read a named file only if it is that one
            "references_sha256": list(ref_sha256),
            "model": model,
            "min_confidence": min_confidence,
        }
        self.head = head  # what the tests check against the schema, with each edit as it is added
        self.out = out
        self.count = 0
        out.write(json.dumps(head, ensure_ascii=False, indent=1).removesuffix("\n}") + ',\n "edits": [')

    def add(self, edit: Edit) -> None:
        items = []
        for key, value in edit.to_json().items():
            if key != "evidence":
                items.append(_string(key) + ": " + indented(value, 3))
            elif edit.evidence:  # a run repeats the same few evidence entries: each is encoded once
                items.append('"evidence": [' + ",".join("\n    " + _evidence(e) for e in edit.evidence) + "\n   ]")
            else:
                items.append('"evidence": []')
        self.out.write((",\n  {" if self.count else "\n  {") + ",".join("\n   " + i for i in items) + "\n  }")
        self.count += 1

    def close(self) -> None:
        self.out.write("\n ]\n}\n" if self.count else "]\n}\n")


def indented(value: Any, level: int = 0) -> str:
    """``json.dumps(value, ensure_ascii=False, indent=1)``, its lines after the first indented ``level`` spaces.

    json's indenting encoder is its pure-Python one, a call per value and per level: a big edit list spent
    half its time there. This one builds the same text from the C string encoder, which a plain dumps uses.

    >>> print(indented({"a": [1, 2.5, None], "b": {}, "c": "é\\n"}, 2))
    {
       "a": [
        1,
        2.5,
        null
       ],
       "b": {},
       "c": "é\\n"
      }
    """
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int or (kind is float and math.isfinite(value)):
        return repr(value)  # as json writes them: NaN and the infinities below
    if isinstance(value, dict):
        if not value:
            return "{}"
        pad = "\n" + " " * (level + 1)
        items = (pad + _string(str(k)) + ": " + indented(v, level + 1) for k, v in value.items())
        return "{" + ",".join(items) + "\n" + " " * level + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        pad = "\n" + " " * (level + 1)
        return "[" + ",".join(pad + indented(v, level + 1) for v in value) + "\n" + " " * level + "]"
    return json.dumps(value)  # numbers, booleans, None: the C encoder's path


@lru_cache(maxsize=1 << 12)
def _evidence(evidence: Evidence) -> str:
    """One evidence entry as the edit list indents it (an edit's at two spaces, its entries at four)."""
    return indented(evidence.to_json(), 4)


def dump_edits(
    source: str,
    edits: Sequence[Edit],
    *,
    input_name: str,
    refs: Sequence[str] = (),
    ref_sha256: Sequence[str] = (),
    model: str = "",
    min_confidence: float = 0.0,
) -> str:
    """Serialize an edit list; the input's hash lets `repair report/review` check they match, the references'
    (``ref_sha256``, one per name in ``refs``) that the files named are still the ones the run read."""
    out = io.StringIO()
    writer = EditListWriter(
        out,
        input_sha256=sha256(source),
        input_name=input_name,
        refs=refs,
        ref_sha256=ref_sha256,
        model=model,
        min_confidence=min_confidence,
    )
    for e in edits:
        writer.add(e)
    writer.close()
    return out.getvalue()


def load_edits(text: str | bytes, source: str, *, name: str = "edit list") -> tuple[dict[str, Any], list[Edit]]:
    """Parse an edit list, check the whole of it against its schema, and check it belongs to ``source``."""
    from repair.files.schema import validate_edit_list

    doc = parse_json(text, name)
    validate_edit_list(doc, name=name)
    edits = [Edit.from_json(e) for e in doc["edits"]]
    if doc.get("input_sha256") not in (None, sha256(source)):
        raise InputError(f"{name} was made for a different input (its input_sha256 does not match)")
    for e in edits:
        if not (0 <= e.start <= e.end <= len(source)) or source[e.start : e.end] != e.before:
            raise InputError(f"{name}: edit at {e.start}-{e.end} does not match the input text")
    return doc, edits
