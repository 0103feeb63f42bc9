"""The published JSON Schema of the edit list (``repair/data/edits.schema.json``), and checking a document against it.

What `repair.files.editlist.EditListWriter` writes matches the schema (the tests check every edit list
they make); a reader checks what it is given with `validate_edit_list` before trusting it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from repair.files.textio import InputError

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data" / "edits.schema.json"
MAX_MESSAGE = 160  # a schema error quotes the offending value: a whole edit list must not reach the terminal


class SchemaError(InputError):
    """A JSON document that is not what the schema describes; the message says where and why, on one line."""


@cache
def edit_list_schema() -> dict[str, Any]:
    """The schema as a dict (read once: it is data, the same for every caller)."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@cache
def _validator(part: str) -> Any:
    from jsonschema import Draft202012Validator

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
    raise SchemaError(f"{name} does not fit edits.schema.json at {where or 'the top'}: {message}")


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
