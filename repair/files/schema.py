"""The published JSON Schemas of what the tool reads back (``repair/data/*.schema.json``), and the one check
of a document against them: the edit list (``edits.schema.json``) and a reviewer's decisions file
(``decisions.schema.json``).

What `repair.files.editlist.EditListWriter` writes matches its schema (the tests check every edit list
they make); every reader parses with `repair.files.textio.parse_json` (no NaN, no nesting past the
recursion limit) and checks the whole document here before trusting any part of it, so that a document
of the wrong shape is one line naming where and why, never an exception from deep inside.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from repair.files.textio import InputError

DATA = Path(__file__).resolve().parents[1] / "data"
SCHEMA_PATH = DATA / "edits.schema.json"
DECISIONS_SCHEMA_PATH = DATA / "decisions.schema.json"
MAX_MESSAGE = 160  # a schema error quotes the offending value: a whole edit list must not reach the terminal


class SchemaError(InputError):
    """A JSON document that is not what the schema describes; the message says where and why, on one line."""


@cache
def _schema(path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def edit_list_schema() -> dict[str, Any]:
    """The edit list's schema as a dict (read once: it is data, the same for every caller)."""
    return _schema(SCHEMA_PATH)


def decisions_schema() -> dict[str, Any]:
    """The decisions file's schema as a dict."""
    return _schema(DECISIONS_SCHEMA_PATH)


@cache
def _validator(part: str) -> Any:
    from jsonschema import Draft202012Validator

    if part == "decisions":
        return Draft202012Validator(decisions_schema())
    schema = edit_list_schema()
    if part == "edits":  # a bare array of edits, as each row of a batch's JSONL output carries
        edits = {"type": "array", "items": {"$ref": "#/$defs/edit"}}
        schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], **edits}
    return Draft202012Validator(schema)


def _check(part: str, doc: object, name: str) -> None:
    from jsonschema.exceptions import best_match

    error = best_match(_validator(part).iter_errors(doc))
    if error is None:
        return
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    message = " ".join(error.message.split())
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    file = DECISIONS_SCHEMA_PATH.name if part == "decisions" else SCHEMA_PATH.name
    raise SchemaError(f"{name} does not fit {file} at {where or 'the top'}: {message}")


def validate_edit_list(doc: object, *, name: str = "edit list") -> None:
    """Raise `SchemaError` unless ``doc`` (parsed JSON) is an edit list as the schema describes it.

    >>> validate_edit_list({"version": 1, "edits": []})
    Traceback (most recent call last):
    ...
    repair.files.schema.SchemaError: edit list does not fit edits.schema.json at the top: 'input' is a required property
    """
    _check("list", doc, name)


def validate_edits(edits: object, *, name: str = "edits") -> None:
    """Raise `SchemaError` unless ``edits`` is an array of edits (the ``edits`` of a batch output row).

    >>> validate_edits([{"start": 0}])
    Traceback (most recent call last):
    ...
    repair.files.schema.SchemaError: edits does not fit edits.schema.json at [0]: 'end' is a required property
    """
    _check("edits", edits, name)


def validate_decisions(doc: object, *, name: str = "decisions file") -> None:
    """Raise `SchemaError` unless ``doc`` (parsed JSON) is a decisions file as its schema describes it.

    >>> validate_decisions({"format": "repair-decisions", "version": 1, "input": "a.txt", "input_sha256": "0" * 64,
    ...   "decisions": [{"start": 0, "end": 1, "before": "a", "kind": "gap", "decision": "chosen"}]}, name="d.json")
    Traceback (most recent call last):
    ...
    repair.files.schema.SchemaError: d.json does not fit decisions.schema.json at decisions[0]: 'after' is a ...
    """
    _check("decisions", doc, name)
