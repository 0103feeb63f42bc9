"""Parquet corpora, and columns under other names: in and out, bad rows skipped, killed runs resumed byte for byte."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from repair.cli import app
from repair.corpus import parquet
from repair.corpus.batch import STATE_DIR, Columns, run_batch
from repair.corpus.runners import no_model
from repair.files.schema import validate_edits
from repair.files.textio import InputError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ROOT = Path(__file__).resolve().parent.parent
SUBJECTS = ("The minister", "Officials", "The U. S.", "Russia", "The council", "Lavrov")
CLAIMS = ("the the talks would go on", "Assad Assad must go", "the ceasefire held , mostly", "aid did n't arrive")


def texts(n: int) -> list[str]:
    """``n`` short damaged news texts, the same every time."""
    return [
        f"{SUBJECTS[i % 6]} said on day {i} that {CLAIMS[i % 4]} . {SUBJECTS[i * 7 % 6]} denied {CLAIMS[i % 3]} ."
        for i in range(n)
    ]


def write_parquet(path: Path, columns: dict[str, list[Any]], row_group_size: int = 100) -> Path:
    pq.write_table(pa.table(columns), path, row_group_size=row_group_size)
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "repair", *args], capture_output=True, text=True, env=env, check=False)


def test_parquet_in_and_out_keeps_the_column_names_and_the_order(tmp_path: Path) -> None:
    bodies = texts(250)
    corpus = write_parquet(tmp_path / "c.parquet", {"url": [f"u{i}" for i in range(250)], "body": bodies})
    summary = run_batch(corpus, tmp_path / "out", lm_factory=no_model, columns=Columns("url", "body"), top_k=0)
    assert summary.repaired == 250 and not summary.skipped
    table = pq.read_table(tmp_path / "out" / "repaired.parquet")
    assert table.schema.names == ["url", "body", "edits", "references"]
    rows = table.to_pylist()
    assert [r["url"] for r in rows] == [f"u{i}" for i in range(250)]
    assert "Assad must go" in rows[1]["body"] and "Assad Assad" not in rows[1]["body"]
    for row in rows:
        validate_edits(json.loads(row["edits"]))  # the edit list as JSON text, as the schema describes it
    assert json.loads(rows[1]["edits"])[0]["kind"] in {"duplicate", "tokenization"}


def test_integer_ids_stay_integers(tmp_path: Path) -> None:
    corpus = write_parquet(tmp_path / "c.parquet", {"id": pa.array([3, 1, 2], pa.int32()), "text": texts(3)})
    run_batch(corpus, tmp_path / "out", lm_factory=no_model, top_k=0)
    table = pq.read_table(tmp_path / "out" / "repaired.parquet")
    assert table.schema.field("id").type == pa.int32()
    assert table.column("id").to_pylist() == [3, 1, 2]


def test_the_output_is_written_a_row_group_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet, "ROW_GROUP_ROWS", 40)
    corpus = write_parquet(tmp_path / "c.parquet", {"id": [f"d{i}" for i in range(100)], "text": texts(100)}, 30)
    run_batch(corpus, tmp_path / "out", lm_factory=no_model, top_k=0)
    out = pq.ParquetFile(tmp_path / "out" / "repaired.parquet")
    assert [out.metadata.row_group(i).num_rows for i in range(out.num_row_groups)] == [40, 40, 20]


def test_bad_rows_are_skipped_with_the_reason(tmp_path: Path) -> None:
    corpus = write_parquet(
        tmp_path / "c.parquet",
        {"id": ["a", None, "c", "a", "e"], "text": [texts(1)[0], "no id", None, "the id of the first", "  "]},
    )
    summary = run_batch(corpus, tmp_path / "out", lm_factory=no_model, top_k=0)
    assert dict(summary.skipped) == {
        "row 2": "the id is missing (null)",
        "c": "the text is missing (null)",
        "row 4": "duplicate id (first on row 1)",
        "e": "document file holds only whitespace",
    }
    assert [r["id"] for r in pq.read_table(tmp_path / "out" / "repaired.parquet").to_pylist()] == ["a"]


def test_jsonl_columns_may_be_named_too(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"n": i, "body": t}) + "\n" for i, t in enumerate(texts(3))), encoding="utf-8")
    run_batch(corpus, tmp_path / "out", lm_factory=no_model, columns=Columns("n", "body"), top_k=0)
    rows = [json.loads(line) for line in (tmp_path / "out" / "repaired.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [sorted(r) for r in rows] == [["body", "edits", "n", "references"]] * 3
    assert [r["n"] for r in rows] == [0, 1, 2]


def test_a_rerun_with_other_columns_is_refused(tmp_path: Path) -> None:
    corpus = write_parquet(tmp_path / "c.parquet", {"id": ["a"], "text": texts(1), "other": ["x"]})
    run_batch(corpus, tmp_path / "out", lm_factory=no_model, top_k=0)
    with pytest.raises(InputError, match="columns"):
        run_batch(corpus, tmp_path / "out", lm_factory=no_model, columns=Columns("id", "other"), top_k=0)


def corpus_files(root: Path, n: int) -> dict[str, Path]:
    ids, bodies = [f"doc{i:04d}" for i in range(n)], texts(n)
    jsonl = root / "c.jsonl"
    jsonl.write_text(
        "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in zip(ids, bodies, strict=True)), encoding="utf-8"
    )
    return {"jsonl": jsonl, "parquet": write_parquet(root / "c.parquet", {"url": ids, "body": bodies})}


OUTPUT = {
    "jsonl": ("repaired.jsonl", "repaired.jsonl", []),
    "parquet": ("repaired.parquet", f"{STATE_DIR}/rows.jsonl", ["--id-column", "url", "--text-column", "body"]),
}


@pytest.mark.parametrize("form", ["jsonl", "parquet"])
def test_a_run_killed_mid_way_resumes_to_the_same_bytes(tmp_path: Path, form: str) -> None:
    """1,000 documents: SIGKILL once some rows are written, rerun the same command, compare with a whole run."""
    corpus = corpus_files(tmp_path, 1000)[form]
    output, rows, columns = OUTPUT[form]
    args = ["batch", str(corpus), "--no-model", "--top-k", "0", *columns]
    whole = run_cli(*args, "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr

    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "repair", *args, "--out", str(out)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = out / rows
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_bytes().count(b"\n") >= 100:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it was killed"
    written = journal.read_bytes().count(b"\n")
    assert 100 <= written < 1000
    assert form == "jsonl" or not (out / output).exists()

    again = run_cli(*args, "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert f"{written} finished before" in again.stderr
    for name in (output, "summary.json"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        ("parquet", [], "has no column 'id' (it has: url, body); name the right one with --id-column"),
        ("parquet", ["--id-column", "url", "--text-column", "url"], "are both 'url'"),
        ("parquet", ["--id-column", "url", "--text-column", "edits"], "would clash with the output's own 'edits'"),
        ("ints", ["--id-column", "url", "--text-column", "body"], "the text column 'body' holds int64, not strings"),
        ("junk", [], "cannot read"),
        ("folder", ["--text-column", "body"], "name columns of a JSONL or Parquet input, not a folder"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(tmp_path: Path, make: str, args: list[str], message: str) -> None:
    if make == "parquet":
        corpus = corpus_files(tmp_path, 3)["parquet"]
    elif make == "ints":
        corpus = write_parquet(tmp_path / "c.parquet", {"url": ["a"], "body": [1]})
    elif make == "junk":
        corpus = tmp_path / "c.parquet"
        corpus.write_text("not parquet at all", encoding="utf-8")
    else:
        corpus = tmp_path / "folder"
        corpus.mkdir()
        (corpus / "a.txt").write_text(texts(1)[0], encoding="utf-8")
    result = CliRunner().invoke(app, ["batch", str(corpus), "--out", str(tmp_path / "out"), "--no-model", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stdout == ""
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_without_pyarrow_the_error_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = corpus_files(tmp_path, 3)["parquet"]
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    result = CliRunner().invoke(app, ["batch", str(corpus), "--out", str(tmp_path / "out"), "--no-model"])
    assert result.exit_code == 2
    assert "Parquet needs pyarrow: pip install 'repair[parquet]'" in result.output
    assert len(result.output.strip().splitlines()) == 1
