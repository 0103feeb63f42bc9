"""Fuzzing `repair fix` end to end: random bytes through the file reader, the pipeline and the writers.

Whatever the bytes (BOMs, mixed line ends, NUL, invalid UTF-8, very long lines), the command
exits 0 or 2, never with a traceback, never changes its inputs, writes nothing when it
refuses, and with every edit rejected (``--min-confidence 1.0``) gives the input back byte
for byte. The same check runs at ten thousand examples in `benchmarks/fuzz.py --cli`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from test_invariants import WORDS, FakeLM, adversarial_text
from typer.testing import CliRunner

import repair.cli
import repair.corpus.chunks
from repair.edits import apply_edits
from repair.files.editlist import load_edits

BOMS = [
    b"",
    b"",
    b"",
    b"",
    b"\xef\xbb\xbf",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b"\xff\xfe\x00\x00",
    b"\xef\xbb\xbf" * 2,
]
LINE_ENDS = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\n\n", "\r\n\r\n", "\x85"]
BAD_BYTES = [b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xe2\x80", b"\x00\x00"]


@st.composite
def mixed_lines(draw: st.DrawFn, max_lines: int = 8, long_line: int = 3000) -> str:
    """Lines of damaged-news-like text joined by every kind of line end, now and then one very long line."""
    lines = draw(st.lists(adversarial_text(12), min_size=1, max_size=max_lines))
    if draw(st.integers(0, 15)) == 0:
        lines.append(" ".join(draw(st.sampled_from(WORDS)) for _ in range(draw(st.integers(100, long_line // 4)))))
    out = ""
    for line in lines:
        out += line + draw(st.sampled_from(LINE_ENDS))
    return out


@st.composite
def file_bytes(draw: st.DrawFn, long_line: int = 3000) -> bytes:
    """What a user might hand the tool: text of many shapes, with a BOM, spliced bad bytes, or plain noise."""
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(st.binary(max_size=200))
    text = draw(mixed_lines(long_line=long_line))
    body = text.encode("utf-16" if shape == 1 else "utf-8", "surrogatepass")
    if shape in (2, 3):  # bad bytes spliced in
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(body)))
            body = body[:at] + draw(st.sampled_from(BAD_BYTES)) + body[at:]
    return draw(st.sampled_from(BOMS)) + body


@dataclass(frozen=True)
class CliCase:
    """One run's files and how it is made: the input, its references, and the streamed path or not."""

    data: bytes
    refs: tuple[bytes, ...]
    streamed: bool


@st.composite
def cli_cases(draw: st.DrawFn, long_line: int = 3000) -> CliCase:
    data = draw(file_bytes(long_line))
    refs: list[bytes] = []
    for _ in range(draw(st.integers(0, 2))):
        if draw(st.integers(0, 2)):  # mostly a copy with some words changed, as another outlet's would be
            words = data.split(b" ")
            for _ in range(draw(st.integers(0, 4))):
                if words:
                    words[draw(st.integers(0, len(words) - 1))] = draw(st.sampled_from(WORDS)).encode()
            refs.append(b" ".join(words))
        else:
            refs.append(draw(file_bytes(long_line)))
    return CliCase(data, tuple(refs), draw(st.integers(0, 4)) == 0)


def check_cli(case: CliCase, folder: Path) -> str:
    """Run `repair fix` on ``case`` twice (default threshold, then 1.0) and check every promise; say how it ended."""
    src = folder / "in.txt"
    src.write_bytes(case.data)
    ref_paths = []
    for i, r in enumerate(case.refs):
        ref_paths.append(folder / f"ref{i}.txt")
        ref_paths[-1].write_bytes(r)
    inputs = {p: p.read_bytes() for p in (src, *ref_paths)}
    ends = []
    for threshold in ("0.7", "1.0"):
        out, edits = folder / f"out{threshold}.txt", folder / f"edits{threshold}.json"
        args = ["fix", str(src), "--out", str(out), "--edits", str(edits), "--report", str(folder / "r.html")]
        args += [a for p in ref_paths for a in ("--ref", str(p))] + ["--min-confidence", threshold]
        run = CliRunner().invoke(repair.cli.app, args)
        assert run.exit_code in (0, 2), (run.exit_code, run.output, run.exception)
        assert run.exception is None or isinstance(run.exception, SystemExit), repr(run.exception)
        assert "Traceback" not in run.output and "internal error" not in run.output, run.output
        assert {p: p.read_bytes() for p in inputs} == inputs, "an input changed"
        if run.exit_code == 2:
            lines = run.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
            assert not out.exists() and not edits.exists()
            ends.append("refused")
            continue
        text = case.data.decode("utf-8")
        _, found = load_edits(edits.read_text(encoding="utf-8"), text)
        assert out.read_bytes() == apply_edits(text, found).encode("utf-8")
        if threshold == "1.0":
            assert not [e for e in found if e.applied], "--min-confidence 1.0 applied an edit"
            assert out.read_bytes() == case.data, "with every edit rejected the output is not the input"
        ends.append("repaired")
    assert len(set(ends)) == 1, ends  # the threshold never decides whether the input is refused
    return ends[0]


def run_case(case: CliCase) -> str:
    """`check_cli` in a fresh folder, with the fake model, through the streamed path when the case asks."""
    with pytest.MonkeyPatch.context() as mp, tempfile.TemporaryDirectory() as tmp:
        mp.setattr(repair.cli, "load_lm", lambda spec: FakeLM())
        if case.streamed:
            mp.setattr(repair.corpus.chunks, "BIG_INPUT_BYTES", 0)
            mp.setattr(repair.corpus.chunks, "DEFAULT_CHUNK_CHARS", 200)
        return check_cli(case, Path(tmp))


@seed(15)
@settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(cli_cases(long_line=1500))
def test_fix_on_any_bytes_keeps_its_promises(case: CliCase) -> None:
    run_case(case)
