"""A Parquet corpus: its id and text columns read a row group at a time, and the repaired rows written back.

pyarrow is an extra (``pip install 'repair[parquet]'``): imported here only, and only when a Parquet file is
read or written. A batch keeps its rows in a line-per-document journal while it runs (so a killed run resumes
as a JSONL one does); the Parquet output is written from the journal at the end, a row group at a time,
through a temp file and a rename. The same rows give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from repair.files.commit import staged
from repair.files.textio import InputError, open_input

SUFFIXES = (".parquet", ".pq")
# a row group closes at whichever comes first: readers hold one at a time, and both bounds are fixed,
# so the same rows always give the same groups (and the same bytes)
ROW_GROUP_ROWS = 1000
ROW_GROUP_CHARS = 64_000_000
EDITS_COLUMN = "edits"  # the edit list as JSON text: an array of edits/schema.json's #/$defs/edit
REFERENCES_COLUMN = "references"


def is_parquet(path: Path) -> bool:
    """Whether ``path`` names a Parquet file (by its suffix)."""
    return path.suffix.lower() in SUFFIXES


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InputError("Parquet needs pyarrow: pip install 'repair[parquet]'") from exc
    return pa, pq


def _unreadable(path: Path, exc: Exception) -> InputError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InputError(f"cannot read {path} as Parquet: {first}")


def _open(path: Path) -> Any:
    pa, pq = _pyarrow()
    fh = open_input(path, what="input")  # a regular file, or one line that says what it is
    try:
        return pq.ParquetFile(fh)
    except (OSError, pa.ArrowException) as exc:
        fh.close()
        raise _unreadable(path, exc) from exc


def _column_types(path: Path, pf: Any, id_column: str, text_column: str) -> tuple[Any, Any]:
    """The arrow types of the two columns, refused unless ids are integers or strings and texts strings."""
    pa, _pq = _pyarrow()
    schema = pf.schema_arrow
    for name, option in ((id_column, "--id-column"), (text_column, "--text-column")):
        if name not in schema.names:
            have = ", ".join(schema.names) or "none"
            raise InputError(f"{path} has no column {name!r} (it has: {have}); name the right one with {option}")

    def plain(t: Any) -> Any:
        return t.value_type if pa.types.is_dictionary(t) else t

    def stringy(t: Any) -> bool:
        return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))

    id_type, text_type = plain(schema.field(id_column).type), plain(schema.field(text_column).type)
    if not (pa.types.is_integer(id_type) or stringy(id_type)):
        raise InputError(f"{path}: the id column {id_column!r} holds {id_type}, not strings or integers")
    if not stringy(text_type):
        raise InputError(f"{path}: the text column {text_column!r} holds {text_type}, not strings")
    return id_type, text_type


def read_records(path: Path, id_column: str, text_column: str) -> Iterator[tuple[object, object]]:
    """(id, text) of every row in order, a row group at a time; None where a value is null."""
    pa, _pq = _pyarrow()
    pf = _open(path)
    _column_types(path, pf, id_column, text_column)
    for group in range(pf.num_row_groups):
        try:
            table = pf.read_row_group(group, columns=[id_column, text_column])
        except (OSError, pa.ArrowException) as exc:
            raise _unreadable(path, exc) from exc
        yield from zip(table.column(id_column).to_pylist(), table.column(text_column).to_pylist(), strict=True)


def output_schema(path: Path, id_column: str, text_column: str) -> Any:
    """The repaired rows' schema: the id as the input has it (integers kept, strings as strings), the repaired
    text, the edit list as JSON text and the references' names."""
    pa, _pq = _pyarrow()
    id_type, _text_type = _column_types(path, _open(path), id_column, text_column)
    return pa.schema(
        [
            (id_column, id_type if pa.types.is_integer(id_type) else pa.string()),
            (text_column, pa.string()),
            (EDITS_COLUMN, pa.string()),
            (REFERENCES_COLUMN, pa.list_(pa.string())),
        ]
    )


def _groups(rows: Iterable[dict[str, Any]], text_column: str) -> Iterator[list[dict[str, Any]]]:
    group: list[dict[str, Any]] = []
    chars = 0
    for row in rows:
        group.append(row)
        chars += len(row[text_column])
        if len(group) >= ROW_GROUP_ROWS or chars >= ROW_GROUP_CHARS:
            yield group
            group, chars = [], 0
    if group:
        yield group


def write_rows(rows: Iterable[dict[str, Any]], path: Path, schema: Any) -> None:
    """Write the rows (as a batch's JSONL has them: edits a list) to ``path``, all or nothing."""
    pa, pq = _pyarrow()
    id_column, text_column = schema.names[0], schema.names[1]
    try:
        with staged([path], binary=True) as (fh,), pq.ParquetWriter(fh, schema) as writer:
            for group in _groups(rows, text_column):
                columns = {
                    id_column: [r[id_column] for r in group],
                    text_column: [r[text_column] for r in group],
                    EDITS_COLUMN: [json.dumps(r[EDITS_COLUMN], ensure_ascii=False) for r in group],
                    REFERENCES_COLUMN: [r[REFERENCES_COLUMN] for r in group],
                }
                writer.write_table(pa.table(columns, schema=schema))
    except pa.ArrowException as exc:
        raise InputError(f"cannot write output file {path}: {exc}") from exc
