"""Corpus mode: repair every document of a folder, a JSONL file or a Parquet file, resumably, in parallel.

A folder's documents come out as ``OUT/<name>.repaired.txt`` and ``OUT/<name>.edits.json``,
each document's pair followed by a done-marker (``OUT/.repair-batch/done/<name>.json``); a
JSONL file's (``{"id": ..., "text": ...}`` per line) come out as whole lines of
``OUT/repaired.jsonl`` (``{"id", "text", "edits", "references"}``), in input order. A Parquet
file's rows (`repair.corpus.parquet`) go as lines into a journal (``OUT/.repair-batch/rows.jsonl``)
and, once all are done, into ``OUT/repaired.parquet`` with the same four columns. The id and
text may be under other names (`Columns`), which the output keeps. Rerun after an interruption,
a batch skips what is finished and truncates a half-written last line. A document that cannot
be read or that the pipeline fails on is reported and skipped; the run goes on. When no
references are given, each document's references are the other documents of the corpus most
like it (`repair.corpus.similar`). What is written does not depend on the number of workers or
the order they finish in.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from repair.corpus import parquet
from repair.corpus.runners import LMFactory, Outcome, RepairFn, Runner, Task, local_runner, no_model, threads_per_worker
from repair.corpus.runners import no_model as no_model_factory
from repair.corpus.similar import DEFAULT_THRESHOLD, DEFAULT_TOP_K, SimilarityIndex
from repair.edits import KINDS, Edit
from repair.files.commit import append_line, check_writable, claim_folder, encoded, write_all, write_atomic
from repair.files.editlist import dump_edits
from repair.files.schema import validate_edits
from repair.files.textio import (
    UTF8_BOM,
    InputError,
    decode,
    parse_json,
    read_bytes,
    read_json,
    read_text,
    wide_encoding,
    wide_message,
)
from repair.lm.modelspec import check_model_spec
from repair.pipeline import repair_text
from repair.stages.decide import DEFAULT_MIN_CONFIDENCE
from repair.text.tokens import count_words

STATE_DIR = ".repair-batch"
JSONL_OUTPUT = "repaired.jsonl"
PARQUET_OUTPUT = "repaired.parquet"
PARQUET_JOURNAL = "rows.jsonl"  # in STATE_DIR: a Parquet run's rows as a JSONL run writes them
SUMMARY_FILE = "summary.json"
# what `repair fix` and `repair batch` write beside an input: never taken for a document
OUTPUT_SUFFIXES = (".repaired.txt", ".edits.json", ".report.html")


@dataclass(frozen=True)
class Doc:
    """One document of the corpus, or the reason it is not one."""

    key: str  # unique within the run: the output name (folder) or the id as JSON (JSONL)
    id: str | int  # what the user calls it: the file name, or the JSONL id
    source: str  # where it came from, as evidence names it: a path, or path#id
    text: str = ""
    problem: str = ""  # why it is skipped; "" for a good document


@dataclass(frozen=True)
class Columns:
    """Where a JSONL line or a Parquet row keeps the document's id and text; the output keeps the same names."""

    id: str = "id"
    text: str = "text"

    def check(self) -> None:
        """Refuse names the output could not hold apart."""
        taken = (parquet.EDITS_COLUMN, parquet.REFERENCES_COLUMN)
        if self.id == self.text:
            raise InputError(f"--id-column and --text-column are both {self.id!r}: give two different columns")
        for name, option in ((self.id, "--id-column"), (self.text, "--text-column")):
            if not name:
                raise InputError(f"{option} is empty: give a column name")
            if name in taken:
                raise InputError(f"{option} {name!r} would clash with the output's own {name!r} column")


@dataclass(frozen=True)
class Settings:
    """What must match for a rerun to resume an output folder rather than mix two runs in it."""

    input: str
    model: str
    min_confidence: float
    top_k: int
    threshold: float
    refs: str
    columns: Columns = Columns()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "input": self.input,
            "model": self.model,
            "min_confidence": self.min_confidence,
            "top_k": self.top_k,
            "threshold": self.threshold,
            "refs": self.refs,
        }
        if self.columns != Columns():  # only then: an output folder of a run before columns could be named resumes
            out["columns"] = {"id": self.columns.id, "text": self.columns.text}
        return out


@dataclass(frozen=True)
class Record:
    """How one document ended, in this run or an earlier one."""

    failed: str = ""  # why the pipeline failed on it; "" when it was repaired
    applied: tuple[tuple[str, int], ...] = ()  # edits by kind
    held: tuple[tuple[str, int], ...] = ()  # reported, not applied, by kind
    words: int = 0

    @classmethod
    def of(cls, edits: Iterable[Edit | dict[str, Any]], words: int) -> Record:
        applied: Counter[str] = Counter()
        held: Counter[str] = Counter()
        for e in edits:
            kind, on = (e.kind, e.applied) if isinstance(e, Edit) else (str(e["kind"]), bool(e.get("applied", True)))
            (applied if on else held)[kind] += 1
        return cls("", tuple(sorted(applied.items())), tuple(sorted(held.items())), words)

    def to_json(self) -> dict[str, Any]:
        return {"failed": self.failed, "applied": dict(self.applied), "held": dict(self.held), "words": self.words}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        return cls(
            str(data.get("failed", "")),
            tuple(sorted((str(k), int(v)) for k, v in dict(data.get("applied", {})).items())),
            tuple(sorted((str(k), int(v)) for k, v in dict(data.get("held", {})).items())),
            int(data.get("words", 0)),
        )


@dataclass(frozen=True)
class Summary:
    """The whole corpus after a run: documents repaired, edits by kind, and what was skipped and why."""

    documents: int
    repaired: int
    changed: int  # documents with at least one applied edit
    words: int
    edits: tuple[tuple[str, int, int], ...]  # (kind, applied, not applied)
    skipped: tuple[tuple[str | int, str], ...]  # (document id, reason)
    skipped_references: tuple[tuple[str | int, str], ...] = ()
    settings: Settings | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "repaired": self.repaired,
            "changed": self.changed,
            "skipped": len(self.skipped),
            "words": self.words,
            "edits": {kind: {"applied": a, "not_applied": h} for kind, a, h in self.edits},
            "skipped_documents": [{"id": i, "reason": r} for i, r in self.skipped],
            "skipped_references": [{"id": i, "reason": r} for i, r in self.skipped_references],
            "settings": self.settings.to_json() if self.settings else {},
        }


@dataclass(frozen=True)
class Plan:
    """A run worked out before any repair: the documents, what is left to do, and what is done."""

    out_dir: Path
    jsonl: bool  # one row per document in input order (a JSONL or a Parquet corpus), not a file pair each
    docs: tuple[Doc, ...]
    tasks: tuple[Task, ...]
    done: dict[str, Record] = field(default_factory=dict)
    skipped_references: tuple[tuple[str | int, str], ...] = ()
    settings: Settings | None = None
    columns: Columns = Columns()
    parquet_schema: Any = None  # the output's, when the corpus is Parquet (pyarrow's type, unnamed here)

    @property
    def rows_path(self) -> Path:
        return _rows_path(self.out_dir, self.parquet_schema is not None)

    @property
    def words(self) -> int:
        return sum(count_words(t.text) for t in self.tasks)


def default_lm_factory(model: str | None) -> LMFactory:
    """A picklable factory that loads ``model`` (None: the embedded default) in whichever process calls it."""
    from repair.lm import load_model

    return partial(load_model, model)


def lm_choice(model: str | None, *, no_model: bool = False) -> tuple[str | None, LMFactory]:
    """The model's name as a run records it, and the factory that loads it; with ``no_model``, none at all,
    recorded as "none" so that a rerun with the model does not resume this run. A --model spec is checked
    here, before the corpus is read or the model libraries load."""
    if no_model:
        return "none", no_model_factory
    check_model_spec(model)
    return model, default_lm_factory(model)


# ---------------------------------------------------------------- reading the corpus


def _reason(exc: InputError, where: Path | str) -> str:
    """An InputError's message without the path the summary already shows."""
    msg = str(exc)
    return msg.removesuffix(f": {where}")


def read_folder(folder: Path, *, follow_links: bool = False) -> list[Doc]:
    """The files of ``folder`` (not hidden, not repair's own outputs, not folders), sorted by name.

    A symlink is followed only where it stays inside the folder, unless ``follow_links``: a link out of it
    (to /etc, say) is a skipped document, never read unasked. A file that is not a regular one (a FIFO,
    a device) is a skipped document too, as is one whose outputs' names the file system cannot hold.
    """
    try:
        entries = sorted(
            p for p in folder.iterdir() if not p.name.startswith(".") and not p.name.endswith(OUTPUT_SUFFIXES)
        )
    except OSError as exc:
        raise InputError(f"cannot list folder {folder}: {exc.strerror}") from exc
    inside = folder.resolve()
    files: list[tuple[Path, str]] = []  # a file, and why it is skipped ("" to read it)
    for p in entries:
        if os.path.isdir(p):
            continue
        outside = p.is_symlink() and not follow_links and not _resolved(p).is_relative_to(inside)
        files.append((p, "a link out of the input folder (--follow-links reads it)" if outside else ""))
    keys = output_keys([p for p, _ in files])
    docs = []
    for p, problem in files:
        if problem:
            docs.append(Doc(keys[p], p.name, str(p), problem=problem))
            continue
        try:
            docs.append(Doc(keys[p], p.name, str(p), read_text(p, what="document")))
        except InputError as exc:
            docs.append(Doc(keys[p], p.name, str(p), problem=_reason(exc, p)))
    return docs


def _resolved(path: Path) -> Path:
    """Where a link leads; a loop leads nowhere outside (reading it says what it is)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a loop: RuntimeError before Python 3.13
        return path.parent.resolve() / path.name


def output_keys(files: Sequence[Path]) -> dict[Path, str]:
    """Each file's output name: its stem, or its whole name where that is another's too; never one for two files.

    >>> sorted(output_keys([Path("a.txt"), Path("c.txt"), Path("c.md"), Path("c.txt.md")]).values())
    ['a', 'c.md', 'c.txt', 'c.txt.md']
    """
    keys = {p: p.stem for p in files}
    while True:
        owners: dict[str, list[Path]] = {}
        for p, key in keys.items():
            owners.setdefault(key, []).append(p)
        # names are unique within a folder, so each round some stems give way and it ends
        clashing = [p for ps in owners.values() if len(ps) > 1 for p in ps if keys[p] != p.name]
        if not clashing:
            return keys
        for p in clashing:
            keys[p] = p.name


def _unique(docs: Iterable[tuple[int, Doc]], unit: str) -> list[Doc]:
    """The documents, each one whose id came before made a skipped document that says where."""
    out: list[Doc] = []
    first: dict[str, int] = {}
    for n, doc in docs:
        if not doc.problem and doc.key in first:
            doc = Doc(f"#{n}", f"{unit} {n}", doc.source, problem=f"duplicate id (first on {unit} {first[doc.key]})")
        elif not doc.problem:
            first[doc.key] = n
        out.append(doc)
    return out


def read_jsonl(path: Path, columns: Columns = Columns(), *, what: str = "input") -> list[Doc]:
    """One document per line, ``{"id": ..., "text": ...}``; a bad line is a skipped document, not an error.

    A UTF-8 BOM before the first line is read past; a file in UTF-16 or UTF-32 is refused whole.
    """
    data = read_bytes(path, what=what, limit=None)
    wide = wide_encoding(data[:4096])
    if wide:
        raise InputError(wide_message(wide, path, what))
    lines = ((n, raw) for n, raw in enumerate(data.removeprefix(UTF8_BOM).split(b"\n"), 1) if raw.strip())
    return _unique(((n, _jsonl_doc(raw, n, path, columns)) for n, raw in lines), "line")


def read_parquet(path: Path, columns: Columns = Columns()) -> list[Doc]:
    """One document per row, its id and text from the two columns; a bad row is a skipped document."""
    records = parquet.read_records(path, columns.id, columns.text)
    rows = ((n, _record_doc(ident, text, n, f"row {n}", path)) for n, (ident, text) in enumerate(records, 1))
    return _unique(rows, "row")


def _jsonl_doc(raw: bytes, n: int, path: Path, columns: Columns) -> Doc:
    label = f"line {n}"
    try:
        obj = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return Doc(f"#{n}", label, f"{path}:{n}", problem=f"not UTF-8: invalid byte 0x{raw[exc.start]:02x}")
    except json.JSONDecodeError as exc:
        return Doc(f"#{n}", label, f"{path}:{n}", problem=f"not valid JSON: {exc.msg}")
    except RecursionError:
        return Doc(f"#{n}", label, f"{path}:{n}", problem="not valid JSON: nested too deep")
    if not isinstance(obj, dict) or columns.id not in obj or columns.text not in obj:
        return Doc(f"#{n}", label, f"{path}:{n}", problem=f"not an object with {columns.id!r} and {columns.text!r}")
    return _record_doc(obj[columns.id], obj[columns.text], n, label, path)


def _record_doc(ident: object, text: object, n: int, label: str, path: Path) -> Doc:
    """A document from a line's or a row's id and text, or the reason it is not one."""
    if ident is None:
        return Doc(f"#{n}", label, f"{path}:{n}", problem="the id is missing (null)")
    if isinstance(ident, bool) or not isinstance(ident, (str, int)):
        return Doc(f"#{n}", label, f"{path}:{n}", problem="the id is neither a string nor an integer")
    key = json.dumps(ident, ensure_ascii=False)
    if not isinstance(text, str):
        why = "the text is missing (null)" if text is None else "the text is not a string"
        return Doc(key, ident, f"{path}#{ident}", problem=why)
    try:
        text = decode(text.encode("utf-8", "surrogatepass"), label, what="document")
    except (InputError, UnicodeEncodeError) as exc:
        reason = _reason(exc, label) if isinstance(exc, InputError) else "the text holds invalid characters"
        return Doc(key, ident, f"{path}#{ident}", problem=reason)
    return Doc(key, ident, f"{path}#{ident}", text)


def read_corpus(
    path: Path, *, what: str = "input", columns: Columns | None = None, follow_links: bool = False
) -> tuple[list[Doc], bool]:
    """The documents of a folder, a JSONL or a Parquet file, and whether they are rows (JSONL or Parquet).

    ``columns`` name a row's id and text (None: the defaults); a folder has none to name. ``follow_links``:
    see `read_folder`.
    """
    if os.path.isdir(path):
        if columns not in (None, Columns()):
            raise InputError(f"--id-column and --text-column name columns of a JSONL or Parquet {what}, not a folder")
        return read_folder(path, follow_links=follow_links), False
    if not os.path.lexists(path):
        raise InputError(f"{what} not found (a folder of text files, a JSONL file or a Parquet file): {path}")
    columns = columns or Columns()
    columns.check()
    return (read_parquet(path, columns) if parquet.is_parquet(path) else read_jsonl(path, columns, what=what)), True


# ---------------------------------------------------------------- resuming


def _state(out_dir: Path) -> Path:
    return out_dir / STATE_DIR


def _rows_path(out_dir: Path, parquet_corpus: bool) -> Path:
    """Where a JSONL or Parquet run appends its rows as they come: the JSONL output, or a Parquet run's journal."""
    return _state(out_dir) / PARQUET_JOURNAL if parquet_corpus else out_dir / JSONL_OUTPUT


def _marker(out_dir: Path, key: str) -> Path:
    return _state(out_dir) / "done" / f"{key}.json"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_settings(out_dir: Path, settings: Settings) -> None:
    """Refuse to resume a run made in OUT with other settings (`record_settings` writes them when work begins)."""
    path = _state(out_dir) / "settings.json"
    if not os.path.lexists(path):
        return
    wanted = settings.to_json()
    stored = read_json(path, what="batch settings")
    if not isinstance(stored, dict):
        raise InputError(f"batch settings {path} is not an object; remove it to start over")
    changed = [k for k in wanted if stored.get(k) != wanted[k]]
    if changed:
        what = ", ".join(f"{k} {stored.get(k)!r} there, {wanted[k]!r} now" for k in changed)
        raise InputError(f"{out_dir} holds a batch run with other settings ({what}): use another --out")


def record_settings(out_dir: Path, settings: Settings) -> None:
    """Write the run's settings in OUT, once, as the first thing a run that goes ahead writes there."""
    path = _state(out_dir) / "settings.json"
    try:
        (_state(out_dir) / "done").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {_state(out_dir) / 'done'}: {exc.strerror}") from exc
    if not os.path.lexists(path):
        write_atomic(path, json.dumps(settings.to_json(), indent=1) + "\n")


def _folder_done(out_dir: Path, docs: Sequence[Doc]) -> dict[str, Record]:
    """Documents whose marker says they are finished, for the same text as now."""
    done: dict[str, Record] = {}
    for d in docs:
        path = _marker(out_dir, d.key)
        if d.problem or not os.path.lexists(path):
            continue
        try:
            data = read_json(path, what="marker")
            rec = Record.from_json(data)
        except (InputError, ValueError, TypeError, AttributeError):
            continue  # a marker is written atomically; an unreadable or tampered one just means: redo
        lost = not rec.failed and not os.path.exists(out_dir / f"{d.key}.repaired.txt")
        if data.get("input_sha256") == _sha(d.text) and not lost:
            done[d.key] = rec
    return done


def recover_jsonl(path: Path, id_key: str = "id") -> list[dict[str, Any]]:
    """The whole lines of an output JSONL, each an object with an id (under ``id_key``); a half-written last
    line is cut off the file."""
    if not os.path.lexists(path):
        return []
    data = read_bytes(path, what="output", limit=None)
    end = data.rfind(b"\n") + 1
    if end < len(data):
        try:
            os.truncate(path, end)
        except OSError as exc:
            raise InputError(f"cannot cut the half-written last line off {path}: {exc.strerror}") from exc
    rows = []
    for n, line in enumerate(data[:end].splitlines(), 1):
        row = parse_json(line, f"{path} line {n}") if line.strip() else None
        ident = row.get(id_key) if isinstance(row, dict) else None
        if not isinstance(row, dict) or isinstance(ident, bool) or not isinstance(ident, (str, int)):
            raise InputError(
                f"{path} line {n} is damaged (not a row this tool wrote); move the file away to start over"
            )
        rows.append(row)
    return rows


def _jsonl_done(out_dir: Path, rows_path: Path, columns: Columns) -> dict[str, Record]:
    """The documents finished before: the rows written, and those the pipeline failed on."""
    done: dict[str, Record] = {}
    for n, row in enumerate(recover_jsonl(rows_path, columns.id), 1):
        if not isinstance(row.get(columns.text), str):
            damaged = "its text is not a string"
            raise InputError(f"{rows_path} line {n} is damaged ({damaged}); move the file away to start over")
        validate_edits(row.get("edits", []), name=f"{rows_path} line {n}")
        words = count_words(row[columns.text])
        done[json.dumps(row[columns.id], ensure_ascii=False)] = Record.of(row.get("edits", []), words)
    for row in recover_jsonl(_state(out_dir) / "failed.jsonl"):
        done[json.dumps(row["id"], ensure_ascii=False)] = Record(failed=str(row.get("reason", "")))
    return done


# ---------------------------------------------------------------- planning


def _fit_names(docs: Sequence[Doc], out_dir: Path) -> list[Doc]:
    """The documents, those whose output names the file system of ``out_dir`` cannot hold made skipped ones."""
    try:
        longest = os.pathconf(out_dir if out_dir.exists() else out_dir.parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        longest = 255
    out = []
    for d in docs:
        name = f"{d.key}{OUTPUT_SUFFIXES[0]}"
        if not d.problem and len(name.encode("utf-8", "surrogateescape")) > longest:
            d = replace(d, text="", problem=f"its name is too long for its outputs ({name} is over {longest} bytes)")
        out.append(d)
    return out


def plan_batch(
    input_path: Path,
    out_dir: Path,
    *,
    refs_path: Path | None = None,
    model: str | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    top_k: int = DEFAULT_TOP_K,
    threshold: float = DEFAULT_THRESHOLD,
    columns: Columns | None = None,
    follow_links: bool = False,
) -> Plan:
    """Read the corpus and the references, pick each document's references, and find what is left to do.

    ``model`` is the model's name as the run records it (see `lm_choice`, which checks the spec);
    ``columns`` name a JSONL or Parquet corpus's id and text (None: "id" and "text"), and its references'.
    Nothing is written in ``out_dir`` (`execute` records the settings when the work begins), so a refused
    run leaves nothing behind; hold the folder (`repair.files.commit.claim_folder`) from here to the end
    of `execute`.
    """
    docs, jsonl = read_corpus(input_path, columns=columns, follow_links=follow_links)
    columns = columns or Columns()
    is_parquet = jsonl and parquet.is_parquet(input_path)  # a folder named x.parquet is a folder
    schema = parquet.output_schema(input_path, columns.id, columns.text) if is_parquet else None
    if not docs:
        raise InputError(f"input holds no documents: {input_path}")
    out_dir = out_dir.resolve()
    if not jsonl and out_dir == input_path.resolve():
        raise InputError("--out must not be the input folder: the outputs would be read as documents next time")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise InputError(f"--out is a file, not a folder: {out_dir}")
    for given in (input_path, refs_path):
        if given is not None and given.resolve() in (out_dir / JSONL_OUTPUT, out_dir / PARQUET_OUTPUT):
            raise InputError(f"--out would write over an input: {given}")
    ref_docs: list[Doc] = []
    if refs_path is not None:
        ref_columns = None if os.path.isdir(refs_path) else columns
        ref_docs = read_corpus(refs_path, what="references", columns=ref_columns, follow_links=follow_links)[0]
    if not jsonl:
        docs = _fit_names(docs, out_dir)
    unreadable = [d for d in docs if d.problem]
    if len(unreadable) == len(docs):
        first = unreadable[0]
        raise InputError(
            f"no document of {input_path} could be read ({len(docs)} skipped; {first.id}: {first.problem})"
        )
    settings = Settings(
        str(input_path.resolve()),
        model or "default",
        min_confidence,
        top_k,
        threshold,
        str(refs_path.resolve()) if refs_path else "",
        columns,
    )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder {out_dir}: {exc.strerror}") from exc
    check_writable(out_dir / "summary.json")  # before any document is repaired, not after them all
    check_settings(out_dir, settings)
    good = [d for d in docs if not d.problem]
    if jsonl:
        done = _jsonl_done(out_dir, _rows_path(out_dir, schema is not None), columns)
    else:
        done = _folder_done(out_dir, good)
    todo = [d for d in good if d.key not in done]

    skipped_refs: list[tuple[str | int, str]] = []
    if refs_path is None:
        pool = good
        index = SimilarityIndex([d.text for d in pool] if todo else [])
    else:
        pool = [r for r in ref_docs if not r.problem]
        skipped_refs = [(r.id, r.problem) for r in ref_docs if r.problem]
        # every document counts, finished or not, so a resumed run picks what a whole run would
        index = SimilarityIndex([r.text for r in pool], [d.text for d in good])
    # the index never offers a text identical to the query: a document is not its own reference
    matches = [index.query(d.text, k=top_k, threshold=threshold) for d in todo]
    tasks = tuple(
        Task(i, d.key, d.text, tuple((pool[m.index].source, pool[m.index].text) for m in ms), min_confidence)
        for i, (d, ms) in enumerate(zip(todo, matches, strict=True))
    )
    return Plan(out_dir, jsonl, tuple(docs), tasks, done, tuple(skipped_refs), settings, columns, schema)


# ---------------------------------------------------------------- running


@contextmanager
def open_runner(
    *,
    workers: int = 1,
    cluster: str | None = None,
    scheduler: str | None = None,
    lm_factory: LMFactory = no_model,
    repair: RepairFn = repair_text,
) -> Iterator[Runner]:
    """The runner a command line asks for: local processes, a local Dask cluster (``local:N``), or a scheduler."""
    if cluster is None and scheduler is None:
        with local_runner(workers, lm_factory, repair) as run:
            yield run
        return
    if cluster is not None and scheduler is not None:
        raise InputError("give --cluster or --scheduler, not both")
    from repair.corpus.cluster import dask_runner, parse_cluster

    size = parse_cluster(cluster) if cluster is not None else None
    threads = threads_per_worker(size or 1)
    with dask_runner(
        local_workers=size, scheduler=scheduler, lm_factory=lm_factory, repair=repair, threads=threads
    ) as run:
        yield run


# ---------------------------------------------------------------- writing


class _Writer:
    """Writes outcomes as they come: a folder's files at once, JSONL lines in input order."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.waiting: dict[int, Outcome] = {}
        self.next_index = 0
        self.records: dict[str, Record] = dict(plan.done)
        self.docs = {d.key: d for d in plan.docs}
        self.refs = {t.key: [name for name, _ in t.refs] for t in plan.tasks}
        self.ref_sha256 = {t.key: [_sha(text) for _, text in t.refs] for t in plan.tasks}

    def take(self, outcome: Outcome) -> None:
        if self.plan.jsonl:
            self.waiting[outcome.index] = outcome
            while self.next_index in self.waiting:
                self._append(self.waiting.pop(self.next_index))
                self.next_index += 1
        else:
            self._write_files(outcome)

    def _record(self, o: Outcome) -> Record:
        rec = Record(failed=o.error, words=o.words) if o.error else Record.of(o.edits, o.words)
        self.records[o.key] = rec
        return rec

    def _write_files(self, o: Outcome) -> None:
        doc = self.docs[o.key]
        out = self.plan.out_dir
        if not o.error:
            edits_json = dump_edits(
                doc.text,
                o.edits,
                input_name=doc.source,
                refs=self.refs[o.key],
                ref_sha256=self.ref_sha256[o.key],
                model=o.model,
                min_confidence=self.plan.settings.min_confidence if self.plan.settings else 0.0,
            )
            outputs = {out / f"{o.key}.repaired.txt": o.output, out / f"{o.key}.edits.json": edits_json}
        else:
            outputs = {}
        marker = {"id": doc.id, "input_sha256": _sha(doc.text), **self._record(o).to_json()}
        # the marker last: renamed after the outputs, in the same all-or-nothing commit
        outputs[_marker(out, o.key)] = json.dumps(marker, ensure_ascii=False) + "\n"
        write_all(outputs, protect=(Path(doc.source),))

    def _append(self, o: Outcome) -> None:
        doc = self.docs[o.key]
        if o.error:
            path = _state(self.plan.out_dir) / "failed.jsonl"
            row: dict[str, Any] = {"id": doc.id, "reason": o.error}
        else:
            path = self.plan.rows_path
            row = output_row(self.plan.columns, doc.id, o.output, o.edits, self.refs[o.key])
        append_line(path, encoded(json.dumps(row, ensure_ascii=False) + "\n"))
        self._record(o)

    def finish(self) -> None:
        """Put the rows in input order if an earlier run with other documents left them otherwise; then, for a
        Parquet corpus, write them into the Parquet output."""
        if not self.plan.jsonl:
            return
        path = self.plan.rows_path
        rows = recover_jsonl(path, self.plan.columns.id)
        order = {d.key: i for i, d in enumerate(self.plan.docs)}
        keys = [json.dumps(r[self.plan.columns.id], ensure_ascii=False) for r in rows]
        ranks = [order.get(k, len(order)) for k in keys]
        if ranks != sorted(ranks):
            rows = [r for _, r in sorted(zip(ranks, rows, strict=True), key=lambda p: p[0])]
            write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        if self.plan.parquet_schema is not None:
            parquet.write_rows(rows, self.plan.out_dir / PARQUET_OUTPUT, self.plan.parquet_schema)


def output_row(
    columns: Columns, ident: str | int, text: str, edits: Iterable[Edit], refs: Sequence[str]
) -> dict[str, Any]:
    """One document of a JSONL or Parquet run's output: its id, the repaired text, the edits, the references."""
    return {columns.id: ident, columns.text: text, "edits": [e.to_json() for e in edits], "references": list(refs)}


def summarize(plan: Plan, records: dict[str, Record]) -> Summary:
    """The corpus as it stands: every document of the input, whichever run finished it."""
    applied: Counter[str] = Counter()
    held: Counter[str] = Counter()
    skipped: list[tuple[str | int, str]] = []
    repaired = changed = words = 0
    for d in plan.docs:
        rec = records.get(d.key)
        if d.problem or rec is None or rec.failed:
            skipped.append((d.id, d.problem or (rec.failed if rec else "not finished")))
            continue
        repaired += 1
        words += count_words(d.text)
        changed += any(n for _, n in rec.applied)
        applied.update(dict(rec.applied))
        held.update(dict(rec.held))
    kinds = [k for k in KINDS if k in applied or k in held] + sorted((set(applied) | set(held)) - set(KINDS))
    return Summary(
        len(plan.docs),
        repaired,
        changed,
        words,
        tuple((k, applied[k], held[k]) for k in kinds),
        tuple(skipped),
        plan.skipped_references,
        plan.settings,
    )


def execute(plan: Plan, runner: Runner, on_outcome: Callable[[Outcome], None] | None = None) -> Summary:
    """Record the run's settings, run the plan's tasks, write each result as it comes, then the summary."""
    if plan.settings is not None:
        record_settings(plan.out_dir, plan.settings)
    writer = _Writer(plan)
    for outcome in runner(plan.tasks):
        writer.take(outcome)
        if on_outcome:
            on_outcome(outcome)
    writer.finish()
    summary = summarize(plan, writer.records)
    write_atomic(plan.out_dir / SUMMARY_FILE, json.dumps(summary.to_json(), ensure_ascii=False, indent=1) + "\n")
    return summary


def run_batch(
    input_path: Path,
    out_dir: Path,
    *,
    refs_path: Path | None = None,
    workers: int = 1,
    model: str | None = None,
    lm_factory: LMFactory | None = None,
    repair: RepairFn = repair_text,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    top_k: int = DEFAULT_TOP_K,
    threshold: float = DEFAULT_THRESHOLD,
    columns: Columns | None = None,
    runner: Runner | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    follow_links: bool = False,
) -> Summary:
    """Repair a corpus into ``out_dir``: the library face of `repair batch`.

    ``lm_factory`` (picklable when ``workers`` > 1) builds the model in each worker; by
    default it loads ``model``. ``runner`` replaces the local workers (see `repair.corpus.cluster`).
    The output folder is held for the run: a second run into it meanwhile is refused.
    """
    with claim_folder(out_dir):
        plan = plan_batch(
            input_path,
            out_dir,
            refs_path=refs_path,
            model=model,
            min_confidence=min_confidence,
            top_k=top_k,
            threshold=threshold,
            columns=columns,
            follow_links=follow_links,
        )
        if runner is not None:
            return execute(plan, runner, on_outcome)
        factory = lm_factory or default_lm_factory(model)
        with local_runner(workers, factory, repair) as local:
            return execute(plan, local, on_outcome)
