"""What a hostile pass of about 200 cases broke (issue 27), one test (or more) per case, by its number.

Outputs are committed all or nothing (`repair.files.commit`), inputs are opened in one place
(`repair.files.textio.open_input`), every JSON the tool reads is checked whole against its schema
(`repair.files.schema`), and text from outside is escaped in one place before a terminal shows it
(`repair.views.terminal`). A user error is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import repair.cli
import repair.corpus.chunks
from repair.corpus.batch import run_batch
from repair.corpus.runners import no_model
from repair.files import commit
from repair.files.commit import claim_folder, write_all
from repair.files.textio import InputError

ROOT = Path(__file__).resolve().parent.parent
GOOD = "The U. S. said Assad Assad must go .\n\nRussia can maintain Russia alliance with the    countries .\n"
REF = "The U.S. said Assad must go.\n\nRussia can maintain its alliance with the other countries.\n"


def run(*args: str | Path, input: str | None = None) -> Result:
    """`repair ARGS` in this process (the model never loads: every run here is --no-model or reads no model)."""
    return CliRunner().invoke(repair.cli.app, [str(a) for a in args], input=input)


def refused(result: Result, *words: str) -> str:
    """The one error line of a refused run (exit 2, no traceback), checked to hold ``words``."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error: "), result.stderr
    assert sum(line.startswith("error") for line in lines) == 1, result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    for w in words:
        assert w in lines[-1], (w, lines[-1])
    return lines[-1]


def listing(folder: Path) -> dict[str, str]:
    """Every entry under ``folder``, hidden ones too, with a hash of each file's bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()[:12] if p.is_file() else "<dir>"
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """``a.txt`` and the outputs of ``repair fix a.txt --no-model`` beside it, as the issue's cases start."""
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "ref.txt").write_text(REF, encoding="utf-8")
    assert run("fix", tmp_path / "a.txt", "--ref", tmp_path / "ref.txt", "--no-model").exit_code == 0
    return tmp_path


def failing_rename(monkeypatch: pytest.MonkeyPatch, suffix: str, code: int = errno.EPERM) -> None:
    """Make the rename of a temp file over an output whose name ends in ``suffix`` fail, as over an immutable file."""
    real = os.replace

    def replace(src: Any, dst: Any, **kw: Any) -> None:
        if str(src).endswith(".tmp") and str(dst).endswith(suffix):
            raise OSError(code, os.strerror(code))
        real(src, dst, **kw)

    monkeypatch.setattr(os, "replace", replace)


# ---- 1. outputs all or nothing ----------------------------------------------------------------------------


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("fails", [".edits.json", ".report.html"])
def test_1_a_failed_rename_puts_back_the_outputs_renamed_before_it(
    folder: Path, monkeypatch: pytest.MonkeyPatch, fails: str, streamed: bool
) -> None:
    if streamed:
        monkeypatch.setattr(repair.corpus.chunks, "BIG_INPUT_BYTES", 0)
        fails = ".edits.json"  # a streamed run writes no report
    (folder / "a.repaired.txt").write_text("OLD\n", encoding="utf-8")
    (folder / "a.report.html").unlink()  # one output that did not exist before: it must not exist after
    before = listing(folder)
    failing_rename(monkeypatch, fails)
    refused(run("fix", folder / "a.txt", "--no-model"), "cannot write output file", fails, "left as they were")
    assert listing(folder) == before, "an output changed, or a temp file or backup was left"
    assert (folder / "a.repaired.txt").read_text(encoding="utf-8") == "OLD\n"


def test_1_an_immutable_edit_list_leaves_every_output_as_it_was(folder: Path) -> None:
    """The issue's own case, with a real ``chattr +i`` where the file system and the user allow it."""
    edits = folder / "a.edits.json"
    (folder / "a.repaired.txt").write_text("OLD\n", encoding="utf-8")
    edits.write_text("OLD\n", encoding="utf-8")
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(edits)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here (the monkeypatched test above covers the same path)")
    try:
        before = listing(folder)
        refused(run("fix", folder / "a.txt", "--no-model"), "a.edits.json")
        assert listing(folder) == before
    finally:
        subprocess.run(["chattr", "-i", str(edits)], check=True)


def test_1_an_interrupt_between_renames_rolls_back_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = (tmp_path / n for n in ("a.txt", "b.txt", "c.txt"))
    a.write_text("old a", encoding="utf-8")
    real = os.replace

    def replace(src: Any, dst: Any, **kw: Any) -> None:
        if str(src).endswith(".tmp") and str(dst) == str(c):
            raise KeyboardInterrupt  # SIGTERM arrives as this (repair.cli.main)
        real(src, dst, **kw)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write_all({a: "new a", b: "new b", c: "new c"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"] and a.read_text(encoding="utf-8") == "old a"


def test_1_outputs_keep_a_symlink_as_a_symlink_when_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "target.txt").write_text("old", encoding="utf-8")
    link = tmp_path / "out.txt"
    link.symlink_to("target.txt")
    failing_rename(monkeypatch, "second.txt")
    with pytest.raises(InputError, match="left as they were"):
        write_all({link: "new", tmp_path / "second.txt": "x"})
    assert link.is_symlink() and link.read_text(encoding="utf-8") == "old"


# ---- 2. an output that is an input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kept"),
    [
        (["--out", "{d}/a.edits.json"], "a.edits.json"),
        (["--decisions", "{d}/a.edits.json"], "a.edits.json"),
        (["--apply", "{d}/d.json", "--out", "{d}/d.json"], "d.json"),
        (["--apply", "{d}/d.json", "--edits-out", "{d}/d.json"], "d.json"),
    ],
    ids=["out is the edit list", "decisions is the edit list", "out is the decisions", "edits-out is the decisions"],
)
def test_2_review_never_writes_over_its_edit_list_or_decisions(folder: Path, args: list[str], kept: str) -> None:
    listing_ = json.loads((folder / "a.edits.json").read_text(encoding="utf-8"))
    decisions = {"format": "repair-decisions", "version": 1, "input_sha256": listing_["input_sha256"], "decisions": []}
    (folder / "d.json").write_text(json.dumps(decisions), encoding="utf-8")
    before = listing(folder)
    argv = [a.format(d=folder) for a in args]
    refused(run("review", folder / "a.txt", folder / "a.edits.json", *argv, input="a\na\n"), "refusing to overwrite")
    assert listing(folder) == before, f"{kept} (an input) was written over"


def test_2_review_may_still_update_its_edit_list_when_asked(folder: Path) -> None:
    edits = folder / "a.edits.json"
    result = run("review", folder / "a.txt", edits, "--edits-out", edits, "-k", "duplicate", input="r\n")
    assert result.exit_code == 0, result.output
    assert '"decision": "rejected"' in edits.read_text(encoding="utf-8")


# ---- 3. a device or a FIFO named as an output ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/null", "device"])
def test_3_a_device_or_fifo_named_as_an_output_is_refused_not_replaced(folder: Path, kind: str) -> None:
    special = folder / "mynull"
    if kind == "fifo":
        os.mkfifo(special)
    elif kind == "link to /dev/null":
        special.symlink_to("/dev/null")
    else:
        try:
            os.mknod(special, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except OSError:
            pytest.skip("mknod is not allowed here (the link to /dev/null covers the same check)")
    mode = os.stat(special).st_mode
    for argv in (
        ["fix", folder / "a.txt", "--no-model", "--out", special],
        ["export", folder / "a.txt", folder / "a.edits.json", "-o", special],
    ):
        refused(run(*argv), "not a regular file", "mynull")
        assert os.stat(special).st_mode == mode, "the special file was replaced"


# ---- 4. batch outputs with the same name ------------------------------------------------------------------


def test_4_batch_gives_every_document_its_own_outputs(tmp_path: Path) -> None:
    docs = tmp_path / "in"
    docs.mkdir()
    texts = {"c.txt": "Assad Assad must go .", "c.md": "Moscow Moscow talks .", "c.txt.md": "Lavrov Lavrov met him ."}
    for name, text in texts.items():
        (docs / name).write_text(text, encoding="utf-8")
    result = run("batch", docs, "--out", tmp_path / "out", "--no-model")
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "out").glob("*.repaired.txt"))
    assert written == ["c.md.repaired.txt", "c.txt.md.repaired.txt", "c.txt.repaired.txt"]
    for name, text in texts.items():
        edits = json.loads((tmp_path / "out" / f"{name}.edits.json").read_text(encoding="utf-8"))
        assert edits["input"].endswith(name)
        assert (tmp_path / "out" / f"{name}.repaired.txt").read_text(encoding="utf-8").split()[0] == text.split()[0]
    again = run("batch", docs, "--out", tmp_path / "out", "--no-model")
    assert "3 finished before" in again.stderr


# ---- 5. two batches into one folder -----------------------------------------------------------------------


def test_5_a_second_batch_into_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    corpus = tmp_path / "in.jsonl"
    corpus.write_text("".join(json.dumps({"id": i, "text": f"Doc {i} said said so ."}) + "\n" for i in range(5)))
    out = tmp_path / "out"
    with claim_folder(out):  # the first run, holding it
        refused(run("batch", corpus, "--out", out, "--no-model"), "another run is writing to")
        with pytest.raises(InputError, match="another run"):
            run_batch(corpus, out, lm_factory=no_model)
    assert run("batch", corpus, "--out", out, "--no-model").exit_code == 0
    assert len((out / "repaired.jsonl").read_text(encoding="utf-8").splitlines()) == 5


def test_5_the_hold_ends_with_its_process_even_on_sigkill(tmp_path: Path) -> None:
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import time; from pathlib import Path; from repair.files.commit import claim_folder\n"
            f"with claim_folder(Path({str(out)!r})):\n print('held', flush=True); time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(InputError, match="another run"), claim_folder(out):
            pass
    finally:
        holder.kill()
        holder.wait()
    with claim_folder(out):
        pass


# ---- 6. a refused batch leaves nothing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "words"),
    [(["--refs", "nope"], "not found"), (["--cluster", "remote:x"], "--cluster takes local:N")],
    ids=["refs missing", "bad cluster"],
)
def test_6_a_refused_batch_leaves_no_settings_and_the_corrected_command_runs(
    tmp_path: Path, extra: list[str], words: str
) -> None:
    docs = tmp_path / "in"
    docs.mkdir()
    (docs / "a.txt").write_text(GOOD, encoding="utf-8")
    out = tmp_path / "out"
    refused(run("batch", docs, "--out", out, "--no-model", *extra), words)
    assert not out.exists(), listing(tmp_path)
    out.mkdir()
    refused(run("batch", docs, "--out", out, "--no-model", *extra), words)
    assert listing(out) == {}, "a refused run wrote in an existing output folder"
    assert run("batch", docs, "--out", out, "--no-model").exit_code == 0


# ---- 7. a JSONL file that starts with a BOM ---------------------------------------------------------------


def test_7_a_jsonl_bom_does_not_cost_the_first_document(tmp_path: Path) -> None:
    corpus = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": i, "text": f"Doc {i} : Assad Assad must go ."}) for i in range(3)]
    corpus.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")
    result = run("batch", corpus, "--out", tmp_path / "out", "--no-model")
    assert result.exit_code == 0 and "3 repaired" in result.stderr, result.stderr
    rows = (tmp_path / "out" / "repaired.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(r)["id"] for r in rows] == [0, 1, 2]


# ---- 8. a batch where nothing could be read ---------------------------------------------------------------


def _png(root: Path) -> Path:
    path = root / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20)
    return path


def _binaries(root: Path) -> Path:
    folder = root / "bins"
    folder.mkdir()
    for i in range(3):
        (folder / f"b{i}.bin").write_bytes(bytes(range(256)) * 4)
    return folder


def _utf16_jsonl(root: Path) -> Path:
    path = root / "wide.jsonl"
    path.write_bytes((json.dumps({"id": 1, "text": "Assad Assad must go."}) + "\n").encode("utf-16"))
    return path


@pytest.mark.parametrize(
    ("make", "words"),
    [(_png, "could be read"), (_binaries, "could be read"), (_utf16_jsonl, "UTF-16")],
    ids=["a png", "a folder of binaries", "utf-16 jsonl"],
)
def test_8_a_batch_with_nothing_readable_is_a_user_error(
    tmp_path: Path, make: Callable[[Path], Path], words: str
) -> None:
    refused(run("batch", make(tmp_path), "--out", tmp_path / "out", "--no-model"), words)
    assert not (tmp_path / "out").exists()


# ---- 9. EOF at the prompt for a replacement ---------------------------------------------------------------


def test_9_the_end_of_input_at_the_replacement_prompt_decides_nothing(folder: Path) -> None:
    edits = folder / "a.edits.json"
    result = run("review", folder / "a.txt", edits, "--edits-out", folder / "r.json", input="s\nt\n")
    assert result.exit_code == 0, result.output
    saved = json.loads((folder / "r.json").read_text(encoding="utf-8"))
    assert not [e for e in saved["edits"] if e["decision"] == "chosen"], "EOF was taken for an empty replacement"
    decided = json.loads((folder / "a.decisions.json").read_text(encoding="utf-8"))["decisions"]
    assert [d["decision"] for d in decided] == ["skipped"]


# ---- 10. rich markup in a path ----------------------------------------------------------------------------


def test_10_markup_in_paths_is_printed_as_it_is(tmp_path: Path) -> None:
    odd = tmp_path / "d["
    odd.mkdir()
    src = odd / "nope].txt"
    src.write_text(GOOD, encoding="utf-8")
    result = run("fix", src, "--no-model", "--out", odd / "x].txt")
    assert result.exit_code == 0, result.output
    assert f"{odd}/x].txt" in "".join(result.stderr.split())  # as it is, wherever rich wrapped the line
    report = run("report", src, odd / "nope].edits.json")
    assert report.exit_code == 0 and f"{odd}/nope].report.html" in "".join(report.stderr.split())
    batch = run("batch", odd, "--out", tmp_path / "o[/b]", "--no-model")
    assert batch.exit_code == 0 and "o[/b]/summary.json" in "".join(batch.stderr.split()), batch.output


# ---- 11. a file name too long -----------------------------------------------------------------------------

LONG = "x" * 300 + ".txt"


@pytest.mark.parametrize(
    "args",
    [["--out", "{d}/" + LONG], ["--ref", "{d}/" + LONG], ["--edits", "{d}/" + LONG]],
    ids=["out", "ref", "edits"],
)
def test_11_a_name_too_long_is_a_user_error(folder: Path, args: list[str]) -> None:
    refused(run("fix", folder / "a.txt", "--no-model", *(a.format(d=folder) for a in args)), "too long")


def test_11_an_input_name_too_long_is_a_user_error(folder: Path) -> None:
    refused(run("fix", folder / LONG, "--no-model"), "input file name is too long")


def test_11_a_batch_document_whose_outputs_cannot_be_named_is_skipped_alone(tmp_path: Path) -> None:
    docs = tmp_path / "in"
    docs.mkdir()
    long = "y" * 245 + ".txt"  # a name the file system holds, but not with .repaired.txt after its stem
    (docs / long).write_text(GOOD, encoding="utf-8")
    (docs / "ok.txt").write_text(GOOD, encoding="utf-8")
    for _ in range(2):  # and the rerun too
        result = run("batch", docs, "--out", tmp_path / "out", "--no-model")
        assert result.exit_code == 0, result.output
        assert "1 skipped" in result.stderr and (tmp_path / "out" / "ok.repaired.txt").exists()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert "too long" in summary["skipped_documents"][0]["reason"]


# ---- 12. what is not a regular file, as an input ----------------------------------------------------------


def _limited(argv: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`repair ARGV` in a child held to 2 GB of memory and 60 s: a read without end fails the test, not the box."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    code = "import sys; from repair.cli import main; sys.argv[0] = 'repair'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, argv)],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["fix", "/dev/zero", "--no-model", "--out", "o.txt", "--edits", "e.json", "--report", "r.html"],
            "character device",
        ),
        (["fix", "a.txt", "--no-model", "--ref", "/dev/zero"], "reference is a character device"),
        (["export", "a.txt", "/dev/zero"], "edit list is a character device"),
        (["fix", "fifo", "--no-model", "--out", "o.txt", "--edits", "e.json", "--report", "r.html"], "FIFO"),
        (["fix", "a.txt", "--no-model", "--ref", "fifo"], "reference is a FIFO"),
        (["review", "a.txt", "a.edits.json", "--apply", "fifo"], "decisions is a FIFO"),
        (["batch", "fifo", "--out", "out", "--no-model"], "input is a FIFO"),
    ],
    ids=[
        "input /dev/zero",
        "ref /dev/zero",
        "export /dev/zero",
        "input fifo",
        "ref fifo",
        "decisions fifo",
        "batch fifo",
    ],
)
def test_12_a_device_or_fifo_as_input_is_refused_at_once(folder: Path, args: list[str], words: str) -> None:
    os.mkfifo(folder / "fifo")
    before = listing(folder)
    done = _limited(args, folder)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: ") and words in done.stderr, done.stderr
    assert listing(folder) == before


# ---- 13. edit lists and decisions files of the wrong shape ------------------------------------------------

BAD_EDIT_LISTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "nested 100,000 deep": lambda d: "[" * 100_000,
    "edits: [null]": lambda d: {**d, "edits": [None]},
    'evidence: ["x"]': lambda d: {**d, "edits": [{**d["edits"][0], "evidence": ["x"]}]},
    "span: [1]": lambda d: {
        **d,
        "edits": [{**d["edits"][0], "evidence": [{"source": "ref:x", "detail": "", "span": [1]}]}],
    },
    'min_confidence: "abc"': lambda d: {**d, "min_confidence": "abc"},
    "confidence: NaN": lambda d: json.dumps({**d, "edits": [{**d["edits"][0], "confidence": float("nan")}]}),
    "not an object": lambda d: [1, 2],
    "alternatives: [[1]]": lambda d: {**d, "edits": [{**d["edits"][0], "alternatives": [[1]]}]},
}


@pytest.mark.parametrize("command", ["report", "diff", "review", "export"])
@pytest.mark.parametrize("bad", BAD_EDIT_LISTS)
def test_13_an_edit_list_of_the_wrong_shape_is_one_line(folder: Path, command: str, bad: str) -> None:
    good = json.loads((folder / "a.edits.json").read_text(encoding="utf-8"))
    made = BAD_EDIT_LISTS[bad](good)
    (folder / "bad.json").write_text(made if isinstance(made, str) else json.dumps(made), encoding="utf-8")
    before = listing(folder)
    refused(run(command, folder / "a.txt", folder / "bad.json", input="a\n"), "bad.json")
    assert listing(folder) == before


BAD_DECISIONS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "nested 100,000 deep": lambda d: '{"a":' * 100_000,
    "decisions: [null]": lambda d: {**d, "decisions": [None]},
    "start: a string": lambda d: {**d, "decisions": [{**d["decisions"][0], "start": "0"}]},
    "chosen without after": lambda d: {**d, "decisions": [{**d["decisions"][0], "decision": "chosen"}]},
    "decisions: {}": lambda d: {**d, "decisions": {}},
    "unknown decision": lambda d: {**d, "decisions": [{**d["decisions"][0], "decision": "maybe"}]},
    "empty": lambda d: "",
}


@pytest.mark.parametrize("bad", BAD_DECISIONS)
@pytest.mark.parametrize("how", ["--apply", "resumed"])
def test_13_a_decisions_file_of_the_wrong_shape_is_one_line(folder: Path, bad: str, how: str) -> None:
    good = json.loads((folder / "a.edits.json").read_text(encoding="utf-8"))
    first = good["edits"][0]
    decided = {"start": first["start"], "end": first["end"], "before": first["before"], "kind": first["kind"]}
    doc = {
        "format": "repair-decisions",
        "version": 1,
        "input_sha256": good["input_sha256"],
        "decisions": [{**decided, "decision": "accepted"}],
    }
    made = BAD_DECISIONS[bad](doc)
    path = folder / "a.decisions.json"
    path.write_text(made if isinstance(made, str) else json.dumps(made), encoding="utf-8")
    args = ["--apply", path] if how == "--apply" else []
    line = refused(run("review", folder / "a.txt", folder / "a.edits.json", *args, input="a\n"), "decisions")
    assert "file file" not in line


# ---- 14. review with no standard input --------------------------------------------------------------------


def test_14_review_with_standard_input_closed_is_a_user_error(folder: Path) -> None:
    code = "import sys; from repair.cli import main; sys.argv[0] = 'repair'; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "review", "a.txt", "a.edits.json"],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(0),
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: review reads its keys from standard input, which is closed: give --apply DECISIONS"
    ]


# ---- 15. a full disk ---------------------------------------------------------------------------------------


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write to disk that flushes fails as on a full disk (ENOSPC); reads and small probes still work."""

    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    real_fdopen = os.fdopen

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = real_fdopen(fd, mode, *args, **kwargs)
        if "w" not in mode:
            return fh

        class Full:
            def __getattr__(self, name: str) -> Any:
                return getattr(fh, name)

            def write(self, data: Any) -> int:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            def __enter__(self) -> Any:
                return self

            def __exit__(self, *exc: object) -> None:
                fh.close()

        return Full()

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(commit.os, "fdopen", fdopen)


def test_15_a_jsonl_batch_that_fills_the_disk_is_a_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's case: the rows of a JSONL run are appended and flushed one by one; the disk fills under them."""

    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)
    corpus = tmp_path / "in.jsonl"
    corpus.write_text(json.dumps({"id": 1, "text": GOOD}) + "\n", encoding="utf-8")
    refused(run("batch", corpus, "--out", tmp_path / "out", "--no-model"), "No space left on device")


@pytest.mark.parametrize("shape", ["folder", "jsonl"])
def test_15_batch_on_a_full_disk_is_a_user_error(tmp_path: Path, shape: str, full_disk: None) -> None:
    if shape == "folder":
        corpus = tmp_path / "in"
        corpus.mkdir()
        (corpus / "a.txt").write_text(GOOD, encoding="utf-8")
    else:
        corpus = tmp_path / "in.jsonl"
        corpus.write_text(json.dumps({"id": 1, "text": GOOD}) + "\n", encoding="utf-8")
    refused(run("batch", corpus, "--out", tmp_path / "out", "--no-model"), "No space left on device")


def test_15_fix_on_a_full_disk_is_a_user_error_and_leaves_no_temp(folder: Path, full_disk: None) -> None:
    before = listing(folder)
    refused(run("fix", folder / "a.txt", "--no-model"), "No space left on device")
    assert listing(folder) == before


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB file system, where mounting one is allowed (root in a container that permits it)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
        ).returncode
    ):
        pytest.skip("cannot mount a small tmpfs here (the monkeypatched full disk covers the same paths)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_15_a_real_full_disk(tiny_disk: Path) -> None:
    docs = tiny_disk / "in"
    docs.mkdir()
    for i in range(3):
        (docs / f"d{i}.txt").write_text(GOOD, encoding="utf-8")
    (tiny_disk / "fill").write_bytes(os.urandom(44_000))
    before = listing(tiny_disk)
    refused(run("fix", docs / "d0.txt", "--no-model"), "No space left on device")
    assert listing(tiny_disk) == before
    refused(run("batch", docs, "--out", tiny_disk / "out", "--no-model"), "No space left on device")
    corpus = tiny_disk.parent / "corpus.jsonl"  # the corpus elsewhere; its rows fill the disk half-way
    corpus.write_text("".join(json.dumps({"id": i, "text": f"{i}: {GOOD}"}) + "\n" for i in range(200)))
    refused(run("batch", corpus, "--out", tiny_disk / "rows", "--no-model"), "No space left on device")


# ---- 16. a tampered edit list names a private file --------------------------------------------------------


def test_16_report_and_diff_read_a_recorded_reference_only_if_it_is_the_one_the_run_read(folder: Path) -> None:
    secret = folder / "private_notes.txt"
    secret.write_text("the combination is 12-34-56\n", encoding="utf-8")
    edits = folder / "a.edits.json"
    doc = json.loads(edits.read_text(encoding="utf-8"))
    assert doc["references"] == [str(folder / "ref.txt")] and len(doc["references_sha256"]) == 1
    page = folder / "page.html"
    assert run("report", folder / "a.txt", edits, "-o", page).exit_code == 0
    assert "no reference covers" not in page.read_text(encoding="utf-8"), "the untouched reference is read"
    doc["references"] = [str(secret)]
    edits.write_text(json.dumps(doc), encoding="utf-8")
    for argv in (["report", folder / "a.txt", edits, "-o", page], ["diff", folder / "a.txt", edits]):
        result = run(*argv)
        assert result.exit_code == 0, result.output
        assert "not read" in result.stderr and "12-34-56" not in result.output
    assert "12-34-56" not in page.read_text(encoding="utf-8")
    doc["references_sha256"] = []  # an edit list without the hashes: nothing is read on its word alone
    doc["references"] = [str(folder / "ref.txt")]
    edits.write_text(json.dumps(doc), encoding="utf-8")
    result = run("report", folder / "a.txt", edits, "-o", page)
    assert "no hash" in result.stderr and "no reference covers" in page.read_text(encoding="utf-8")


# ---- 17. terminal control sequences ------------------------------------------------------------------------

CLEAR = "\x1b[2J"
TITLE = "\x1b]0;owned\x07"
CSI = "\x9b31m"


def _no_raw_controls(output: str) -> None:
    for seq in (CLEAR, TITLE, CSI, "\x07"):
        assert seq not in output, (seq, output)


@pytest.fixture
def nasty(tmp_path: Path) -> Path:
    src = tmp_path / "n.txt"
    src.write_text(f"The U. S. said {CLEAR}Assad Assad{TITLE} must go {CSI}.\n", encoding="utf-8")
    assert run("fix", src, "--no-model").exit_code == 0
    return src


def test_17_diff_shows_control_sequences_escaped(nasty: Path) -> None:
    result = run("diff", nasty)
    assert result.exit_code == 0, result.output
    _no_raw_controls(result.output)
    assert "\\x1b[2J" in result.output


def test_17_review_shows_control_sequences_escaped(nasty: Path) -> None:
    result = run("review", nasty, nasty.with_name("n.edits.json"), input="s\ns\ns\nq\n")
    assert result.exit_code == 0, result.output
    _no_raw_controls(result.output)


def test_17_batch_shows_control_sequences_in_ids_escaped(tmp_path: Path) -> None:
    corpus = tmp_path / "in.jsonl"
    rows = [{"id": f"x{CLEAR}{TITLE}", "text": ""}, {"id": "ok", "text": GOOD}, {"id": f"[/b]{CSI}", "text": 3}]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = run("batch", corpus, "--out", tmp_path / "out", "--no-model")
    assert result.exit_code == 0, result.output
    _no_raw_controls(result.output)
    assert "[/b]" in result.stderr


def test_17_export_to_a_terminal_shows_them_escaped_and_to_a_file_keeps_them(
    nasty: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import types

    edits = nasty.with_name("n.edits.json")
    piped = run("export", nasty, edits)
    assert CLEAR in piped.stdout, "data written to a pipe is the data"

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(repair.cli, "sys", types.SimpleNamespace(**{**vars(sys), "stdout": screen}))
    assert run("export", nasty, edits).exit_code == 0
    _no_raw_controls(screen.getvalue())
    assert "\\x1b[2J" in screen.getvalue()


# ---- 18. symlinks out of the input folder -----------------------------------------------------------------


def test_18_batch_follows_no_link_out_of_its_folder_unless_asked(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("SECRET outside text , said said the host .\n", encoding="utf-8")
    docs = tmp_path / "in"
    docs.mkdir()
    (docs / "a.txt").write_text(GOOD, encoding="utf-8")
    (docs / "link.txt").symlink_to(outside)
    (docs / "inside.txt").symlink_to("a.txt")
    (docs / "loop.txt").symlink_to("loop.txt")
    result = run("batch", docs, "--out", tmp_path / "out", "--no-model")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    reasons = {d["id"]: d["reason"] for d in summary["skipped_documents"]}
    assert "link out of the input folder" in reasons["link.txt"] and "loop" in reasons["loop.txt"]
    assert summary["repaired"] == 2 and not (tmp_path / "out" / "link.repaired.txt").exists()
    followed = run("batch", docs, "--out", tmp_path / "out2", "--no-model", "--follow-links")
    assert followed.exit_code == 0 and "SECRET" in (tmp_path / "out2" / "link.repaired.txt").read_text()


# ---- 19. workers die with their parent --------------------------------------------------------------------

SLOW_POOL = """
import sys, time
from repair.corpus.runners import Task, local_runner, no_model

def slow(text, refs, lm, *, min_confidence=0.5):
    time.sleep(300)

if __name__ == "__main__":
    with local_runner(2, no_model, slow) as run:
        for outcome in run([Task(i, str(i), "a b", (), 0.5) for i in range(6)]):
            pass
"""


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc")
def test_19_the_workers_and_the_resource_tracker_die_with_a_killed_parent(tmp_path: Path) -> None:
    script = tmp_path / "pool.py"
    script.write_text(SLOW_POOL, encoding="utf-8")
    parent = subprocess.Popen([sys.executable, str(script)], env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while len(kids := _children(parent.pid)) < 3 and time.monotonic() < deadline:  # two workers, one tracker
            time.sleep(0.2)
        assert len(kids) >= 3, kids
        time.sleep(1)  # the workers' initializers have run once the pool takes tasks
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 20
    while any(_alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [k for k in kids if _alive(k)]
    for k in left:
        os.kill(k, signal.SIGKILL)
    assert not left, "processes of the pool outlived their parent"


# ---- the minor ones --------------------------------------------------------------------------------------


def test_nul_after_the_first_64_kib_is_refused_by_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "n.txt"
    src.write_bytes(b"word " * 20_000 + b"\x00 and on\n")
    refused(run("fix", src, "--no-model"), "binary")
    monkeypatch.setattr(repair.corpus.chunks, "BIG_INPUT_BYTES", 0)
    refused(run("fix", src, "--no-model"), "binary")


def test_streamed_outputs_get_the_usual_permissions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "a.txt"
    src.write_text(GOOD, encoding="utf-8")
    assert run("fix", src, "--no-model").exit_code == 0
    whole = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.glob("a.*.*")}
    monkeypatch.setattr(repair.corpus.chunks, "BIG_INPUT_BYTES", 0)
    assert run("fix", src, "--no-model", "--out", tmp_path / "s.txt", "--edits", tmp_path / "s.json").exit_code == 0
    assert stat.S_IMODE((tmp_path / "s.txt").stat().st_mode) == whole["a.repaired.txt"] != 0o600
    assert stat.S_IMODE((tmp_path / "s.json").stat().st_mode) == whole["a.edits.json"]


def test_utf16_without_a_bom_and_with_non_ascii_is_named(tmp_path: Path) -> None:
    src = tmp_path / "w.txt"
    src.write_bytes("The “U. S.” said – naïvely – Assad Assad must go .\n".encode("utf-16-le"))
    refused(run("fix", src, "--no-model"), "UTF-16LE, not UTF-8", "iconv")


def test_a_symlink_loop_is_called_one(tmp_path: Path) -> None:
    (tmp_path / "loop.txt").symlink_to("loop.txt")
    refused(run("fix", tmp_path / "loop.txt", "--no-model"), "symlink loop")
    refused(run("fix", tmp_path / "loop.txt", "--no-model", "--out", tmp_path / "loop.txt"), "symlink loop")


def test_an_empty_decisions_file_is_named_once(folder: Path) -> None:
    (folder / "d.json").write_text("", encoding="utf-8")
    line = refused(run("review", folder / "a.txt", folder / "a.edits.json", "--apply", folder / "d.json"))
    assert "decisions file is empty" in line and "file file" not in line


def test_a_nan_confidence_never_reaches_an_exported_json(folder: Path) -> None:
    edits = folder / "a.edits.json"
    doc = json.loads(edits.read_text(encoding="utf-8"))
    doc["edits"][0]["confidence"] = float("nan")
    edits.write_text(json.dumps(doc), encoding="utf-8")
    result = run("export", folder / "a.txt", edits, "--format", "json")
    refused(result, "NaN")
    assert "NaN" not in result.stdout


def test_an_interrupt_before_a_command_takes_over_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM is a KeyboardInterrupt from `main` on; in a command's imports it used to end in silence (130)."""

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(repair.cli, "app", interrupted)
    monkeypatch.setattr(signal, "signal", lambda *a: None)  # leave the test process's handlers alone
    with pytest.raises(SystemExit) as done:
        repair.cli.main()
    assert done.value.code == 130


def test_an_interrupt_inside_click_is_an_interrupt_not_an_abort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted while a command imports what it needs (outside its own handler), click calls it an abort."""

    class Loading:
        def __getattr__(self, name: str) -> Any:
            raise KeyboardInterrupt

    monkeypatch.setitem(sys.modules, "repair.fix", Loading())
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    result = run("fix", tmp_path / "a.txt", "--no-model")
    assert result.exit_code == 130 and "interrupted" in result.stderr, result.output


def test_the_one_escape_leaves_ordinary_text_alone() -> None:
    from repair.views.terminal import shown, text_shown

    assert shown("plain path/a.txt") == "plain path/a.txt"
    assert text_shown("line one\n\tline two\r\n") == "line one\n\tline two\r\n"


def test_threads_never_share_a_claimed_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    entered = threading.Event()
    leave = threading.Event()

    def hold() -> None:
        with claim_folder(out):
            entered.set()
            leave.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    entered.wait(10)
    try:
        with pytest.raises(InputError, match="another run"), claim_folder(out):
            pass
    finally:
        leave.set()
        holder.join()
