"""The machine-readable edit list (`edits.json`): writing it and reading it back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from repair.edits import Edit
from repair.files.textio import InputError

FORMAT_VERSION = 1


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dump_edits(
    source: str,
    edits: Sequence[Edit],
    *,
    input_name: str,
    refs: Sequence[str] = (),
    model: str = "",
    min_confidence: float = 0.0,
) -> str:
    """Serialize an edit list; the input's hash lets `repair report/review` check they match."""
    doc: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "input": input_name,
        "input_sha256": sha256(source),
        "references": list(refs),
        "model": model,
        "min_confidence": min_confidence,
        "edits": [e.to_json() for e in edits],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def load_edits(text: str, source: str, *, name: str = "edit list") -> tuple[dict[str, Any], list[Edit]]:
    """Parse an edit list and check it belongs to ``source``."""
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict) or "edits" not in doc:
            raise ValueError("no 'edits' field")
        if doc.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported version {doc.get('version')!r}")
        edits = [Edit.from_json(e) for e in doc["edits"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{name} is not a valid repair edit list: {exc}") from exc
    if doc.get("input_sha256") not in (None, sha256(source)):
        raise InputError(f"{name} was made for a different input (its input_sha256 does not match)")
    for e in edits:
        if not (0 <= e.start <= e.end <= len(source)) or source[e.start : e.end] != e.before:
            raise InputError(f"{name}: edit at {e.start}-{e.end} does not match the input text")
    return doc, edits
