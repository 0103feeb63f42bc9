"""Big inputs and corpora (issue 17): the fast path without the model, and a run that says how long it takes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import repair.cli
import repair.corpus.chunks


def stream_in_small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send even a small input down the streamed path, cut into several chunks."""
    monkeypatch.setattr(repair.corpus.chunks, "BIG_INPUT_BYTES", 0)
    monkeypatch.setattr(repair.corpus.chunks, "DEFAULT_CHUNK_CHARS", 2_000)


def no_loading(spec: str | None) -> None:
    raise AssertionError("the model was loaded")


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_fix_without_the_model_repairs_the_surface_and_never_loads_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, damaged_text: str, streamed: bool
) -> None:
    monkeypatch.setattr(repair.cli, "load_lm", no_loading)
    if streamed:
        stream_in_small_chunks(monkeypatch)
    src = tmp_path / "story.txt"
    src.write_text(damaged_text, encoding="utf-8")
    run = CliRunner().invoke(repair.cli.app, ["fix", str(src), "--no-model"])
    assert run.exit_code == 0, run.stderr
    out = (tmp_path / "story.repaired.txt").read_text(encoding="utf-8")
    assert "U.S. Secretary of State" in out
    assert json.loads((tmp_path / "story.edits.json").read_text(encoding="utf-8"))["model"] == ""
    assert "with the language model this takes" not in run.stderr


def test_fix_with_model_and_no_model_is_refused(tmp_path: Path, damaged_text: str) -> None:
    src = tmp_path / "story.txt"
    src.write_text(damaged_text, encoding="utf-8")
    run = CliRunner().invoke(repair.cli.app, ["fix", str(src), "--no-model", "--model", "smollm2"])
    assert run.exit_code == 2
    assert "--no-model" in run.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_a_long_input_says_how_long_the_model_takes_and_how_to_go_faster(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, damaged_text: str, streamed: bool
) -> None:
    monkeypatch.setattr(repair.cli, "load_lm", lambda spec: None)
    if streamed:
        monkeypatch.setattr(repair.corpus.chunks, "BIG_INPUT_BYTES", 0)
    src = tmp_path / "long.txt"
    src.write_text("\n\n".join([damaged_text] * 8), encoding="utf-8")  # over 2 minutes at the estimated rate
    run = CliRunner().invoke(repair.cli.app, ["fix", str(src)])
    assert run.exit_code == 0, run.stderr
    note = " ".join(run.stderr.split())
    assert "with the language model this takes about" in note and "--no-model" in note


def test_batch_without_the_model_never_loads_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import repair.lm

    monkeypatch.setattr(repair.lm, "load_model", no_loading)
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"d{i}.txt").write_text(f"The U. S. said on day {i} it would act , officials said .\n")
    out = tmp_path / "out"
    run = CliRunner().invoke(repair.cli.app, ["batch", str(folder), "--out", str(out), "--no-model"])
    assert run.exit_code == 0, run.stderr
    assert (out / "d1.repaired.txt").read_text(encoding="utf-8").startswith("The U.S. said")
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["settings"]["model"] == "none"


# --- progress: counts from inside the stages, a plain line when stderr is no terminal ------------------


class PlainConsole:
    """Stands for stderr redirected to a log: not a terminal, every line kept."""

    is_terminal = False

    def __init__(self) -> None:
        self.lines: list[str] = []

    def print(self, line: str, **_: object) -> None:
        self.lines.append(line)


def test_off_a_terminal_progress_is_a_plain_line_every_few_seconds() -> None:
    from repair.views.progress import Meter

    now = [0.0]
    console = PlainConsole()
    with Meter("repair", 1_000, console, every=5.0, clock=lambda: now[0]) as meter:
        for step in range(1, 11):
            now[0] = step * 2.0
            meter.update(step * 50, "proposing")
    # 10 updates over 20 s: a line at 6, 12 and 18 s, then the closing one
    assert len(console.lines) == 4
    assert console.lines[0] == "repair:  15%, 150/1,000 words, 25 words/s, ETA 34 s, proposing"
    assert console.lines[-1] == "repair: done, 1,000 words in 20 s"


def test_off_a_terminal_a_line_comes_even_while_nothing_moves() -> None:
    import time

    from repair.views.progress import Meter

    console = PlainConsole()
    with Meter("repair", 1_000, console, every=0.05) as meter:
        meter.update(10, "detecting")
        time.sleep(0.5)
    assert len(console.lines) >= 3
    assert all("10/1,000 words" in line and "detecting" in line for line in console.lines[:-1])


def test_proposing_reports_suspects_done_and_gives_what_one_call_gives(damaged_text: str) -> None:
    from test_invariants import FakeLM

    from repair.pipeline import repair_text

    class SideBySide(FakeLM):
        def run_together(self, tasks: list[Any]) -> list[Any]:
            return [t() for t in tasks]

    heard: list[tuple[str, int, int]] = []
    text = "\n\n".join([damaged_text] * 2)
    waves = repair_text(text, [], SideBySide(), progress=lambda s, d=0, t=0, /: heard.append((s, d, t)))
    one_call = repair_text(text, [], FakeLM())
    assert waves.edits == one_call.edits
    counts = [(d, t) for s, d, t in heard if s == "proposing" and t]
    assert len(counts) > 1 and counts[-1][0] == counts[-1][1]
    assert [d for d, _ in counts] == sorted(d for d, _ in counts)
    assert [s for s, _, _ in heard if s != "proposing"] == ["normalizing", "aligning", "detecting", "deciding"]


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_fix_into_a_log_ends_with_a_plain_progress_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, damaged_text: str, streamed: bool
) -> None:
    if streamed:
        stream_in_small_chunks(monkeypatch)
    src = tmp_path / "story.txt"
    src.write_text(damaged_text, encoding="utf-8")
    run = CliRunner().invoke(repair.cli.app, ["fix", str(src), "--no-model"])
    assert run.exit_code == 0, run.stderr
    assert f"repair: done, {len(damaged_text.split()):,} words in" in run.stderr


# --- big single inputs: long lines cut at sentences, SIGINT leaves nothing -------------------------------


def test_a_long_line_is_cut_at_sentence_ends(damaged_text: str) -> None:
    from repair.corpus.chunks import rechunk

    line = (" ".join(damaged_text.split()) + " ") * 3
    pieces = [line[i : i + 997] for i in range(0, len(line), 997)]  # as a file is read, in blocks
    chunks = list(rechunk(pieces, 2_000))
    assert "".join(c.text for c in chunks) == "".join(pieces)
    assert len(chunks) > 5 and all(len(c.text) <= 2_000 for c in chunks)
    for c in chunks[:-1]:
        assert c.text.rstrip()[-1] in ".!?\"'”’", c.text[-40:]


CHILD = """
import sys
import repair.corpus.chunks, repair.cli, repair.pipeline
repair.corpus.chunks.BIG_INPUT_BYTES = 0
repair.corpus.chunks.DEFAULT_CHUNK_CHARS = 500
real = repair.pipeline._repair

def slow(*args, **kwargs):
    import time
    time.sleep(0.2)
    return real(*args, **kwargs)

repair.pipeline._repair = slow
sys.argv = ["repair", "fix", "--no-model", *sys.argv[1:]]
repair.cli.main()
"""


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_a_signal_half_way_through_a_streamed_file_leaves_nothing_written(
    tmp_path: Path, damaged_text: str, signum: str
) -> None:
    import signal
    import subprocess
    import sys
    import time

    src = tmp_path / "big.txt"
    src.write_text(damaged_text * 4, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(src)], stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".*.tmp")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)  # some chunks are in the temp files now
    proc.send_signal(getattr(signal, signum))
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "nothing was written" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.txt"]


def test_a_streamed_file_is_the_same_bytes_from_two_workers(
    tmp_path: Path, damaged_text: str, example_dir: Path
) -> None:
    """Chunks repaired side by side in two processes come back in order: the outputs are one worker's."""
    from repair.corpus.chunks import repair_file

    src = tmp_path / "big.txt"
    src.write_text(damaged_text * 6, encoding="utf-8")
    refs = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(example_dir.glob("00[12]_*.txt"))]
    outputs = {}
    for workers in (1, 2):
        text, edits = tmp_path / f"out{workers}.txt", tmp_path / f"out{workers}.edits.json"
        done = repair_file(src, text, edits, refs, chunk_chars=3_000, workers=workers)
        outputs[workers] = (text.read_bytes(), edits.read_bytes(), done)
    assert outputs[2] == outputs[1]
    assert outputs[1][2].applied
