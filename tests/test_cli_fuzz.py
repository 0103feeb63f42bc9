"""Fuzzing `repair fix` end to end: random bytes through the file reader, the pipeline and the writers.

Whatever the bytes (BOMs, mixed line ends, NUL, invalid UTF-8, very long lines), the command
exits 0 or 2, never with a traceback, never changes its inputs, writes nothing when it
refuses, and with every edit rejected (``--min-confidence 1.0``) gives the input back byte
for byte. The same check runs at ten thousand examples in `benchmarks/fuzz.py --cli`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# --- what else the tool reads: edit lists, decisions files, and paths ---------------------------------------

SAMPLE = "The U. S. said Assad Assad must go .\n\nRussia can maintain Russia alliance with the    countries .\n"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
# pieces of names and texts a hostile user tries: markup, terminal control sequences, odd characters
HOSTILE = ["[/x]", "[bold]", "[", "]", "\\", "\x1b[2J", "\x1b]0;owned\x07", "\x9b31m", "\r", "\n", "\t", "..", " ", "-"]
CONTROLS = ("\x1b", "\x9b", "\x07")


def _mutate(draw: st.DrawFn, doc: object, depth: int = 0) -> object:
    """``doc`` with one node somewhere replaced, dropped, wrapped, nested deep or made NaN."""
    children = list(doc.items()) if isinstance(doc, dict) else list(enumerate(doc)) if isinstance(doc, list) else []
    if children and depth < 6 and draw(st.integers(0, 3)):
        key, child = children[draw(st.integers(0, len(children) - 1))]
        changed: Any = dict(doc) if isinstance(doc, dict) else list(doc)  # type: ignore[call-overload]
        if draw(st.integers(0, 5)) == 0:
            del changed[key]
        else:
            changed[key] = _mutate(draw, child, depth + 1)
        return changed
    how = draw(st.integers(0, 5))
    if how == 0:
        return [doc]
    if how == 1:
        return float("nan")
    if how == 2:
        return draw(st.sampled_from(["", "x" * 300, "\x1b[2J[/b]", -1, 2**64, 1.5, True, None, {}, []]))
    return draw(JSON_VALUES)


@st.composite
def mangled_json(draw: st.DrawFn, valid: dict[str, Any]) -> str:
    """A JSON document made from ``valid``: mutated one to three times, or cut short, or nested deep, or not JSON."""
    shape = draw(st.integers(0, 14))
    if shape == 0:
        return "[" * draw(st.sampled_from([10, 1000, 100_000]))
    if shape == 1:
        text = json.dumps(valid)
        return text[: draw(st.integers(0, len(text)))]
    if shape == 2:
        return "\ufeff" + json.dumps(valid)  # a BOM, as some editors add: read as the document it is
    doc: object = valid
    if shape <= 5:  # its strings made hostile, its shape kept: mostly still valid, so the views show them
        doc = _hostile_strings(draw, doc)
    else:
        for _ in range(draw(st.integers(1, 3))):
            doc = _mutate(draw, doc)
    return json.dumps(doc, ensure_ascii=draw(st.booleans()))


KEEP = frozenset({"input_sha256", "before", "kind", "decision", "format"})  # changed, these only make a refusal


def _hostile_strings(draw: st.DrawFn, doc: object, key: str = "") -> object:
    """``doc`` with some of its strings (not those in `KEEP`) replaced by markup and control sequences."""
    if isinstance(doc, dict):
        return {k: _hostile_strings(draw, v, k) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_hostile_strings(draw, v, key) for v in doc]
    if isinstance(doc, str) and key not in KEEP and draw(st.integers(0, 2)) == 0:
        return "".join(draw(st.lists(st.sampled_from(HOSTILE) | st.text(max_size=3), min_size=1, max_size=6)))
    return doc


def _made(folder: Path) -> tuple[Path, Path, dict[str, Any], dict[str, Any]]:
    """An input, its edit list and a valid decisions file for it, in ``folder``."""
    src = folder / "in.txt"
    src.write_text(SAMPLE, encoding="utf-8")
    ref = folder / "ref.txt"
    ref.write_text(SAMPLE.replace("Russia alliance", "its alliance"), encoding="utf-8")
    run = CliRunner().invoke(repair.cli.app, ["fix", str(src), "--ref", str(ref), "--no-model"])
    assert run.exit_code == 0, run.output
    listing = json.loads((folder / "in.edits.json").read_text(encoding="utf-8"))
    first = listing["edits"][0]
    decisions = {
        "format": "repair-decisions",
        "version": 1,
        "input": str(src),
        "input_sha256": listing["input_sha256"],
        "decisions": [
            {k: first[k] for k in ("start", "end", "before", "kind")} | {"decision": "chosen", "after": "x"},
        ],
    }
    return src, folder / "in.edits.json", listing, decisions


def check_command(args: list[str], folder: Path, keep: list[Path], stdin: str = "q\n") -> str:
    """Run ``repair ARGS``: exit 0 or 2, one line when refused, no traceback, no raw control
    sequence shown, and the files in ``keep`` (its inputs) unchanged. Says how it ended."""
    before = {p: p.read_bytes() for p in keep if os.path.isfile(p)}
    run = CliRunner().invoke(repair.cli.app, args, input=stdin)
    assert run.exit_code in (0, 2), (args, run.exit_code, run.output, run.exception)
    assert run.exception is None or isinstance(run.exception, SystemExit), repr(run.exception)
    assert "Traceback" not in run.output and "internal error" not in run.output, run.output
    assert not any(c in run.output for c in CONTROLS), ("a control sequence reached the terminal", run.output)
    if run.exit_code == 2:
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert {p: p.read_bytes() for p in before} == before, "an input changed"
    return "refused" if run.exit_code else "accepted"


READERS = ["report", "diff", "export-json", "export-m2", "export-tei", "review"]


@dataclass(frozen=True)
class ReadCase:
    """A mangled edit list or decisions file (``doc``), and the command that reads it."""

    what: str  # "edit list" | "decisions"
    command: str
    doc: str


@st.composite
def read_cases(draw: st.DrawFn, listing: dict[str, Any], decisions: dict[str, Any]) -> ReadCase:
    if draw(st.booleans()):
        return ReadCase("edit list", draw(st.sampled_from(READERS)), draw(mangled_json(listing)))
    return ReadCase("decisions", draw(st.sampled_from(["--apply", "resumed"])), draw(mangled_json(decisions)))


def check_read(case: ReadCase, folder: Path, src: Path, edits: Path) -> str:
    """Feed one mangled document to the command that reads it; see `check_command`."""
    doc = folder / "doc.json"
    doc.write_text(case.doc, encoding="utf-8", errors="surrogatepass")
    out = folder / "out"
    if case.what == "decisions":
        args = ["review", str(src), str(edits), "--out", f"{out}.txt", "--edits-out", f"{out}.json"]
        args += ["--apply", str(doc)] if case.command == "--apply" else ["--decisions", str(doc)]
        return check_command(args, folder, [src, edits] + ([doc] if case.command == "--apply" else []), "a\ns\nq\n")
    command, _, fmt = case.command.partition("-")
    args = [command, str(src), str(doc)]
    if command == "export":
        args += ["--format", fmt, "--out", f"{out}.{fmt}"]
    elif command == "report":
        args += ["--out", f"{out}.html"]
    elif command == "review":
        args += ["--out", f"{out}.txt", "--edits-out", f"{out}.json", "--decisions", f"{out}.d.json"]
    return check_command(args, folder, [src, doc], "a\nr\ns\nq\n")


def run_read_cases(examples: int, rng_seed: int) -> Counter[str]:
    """`check_read` over ``examples`` generated documents; how each ended, by what was read."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src, edits, listing, decisions = _made(folder)
        strategy = read_cases(listing, decisions)
        return tally(strategy, lambda c: f"{c.what} {check_read(c, folder, src, edits)}", examples, rng_seed)


def tally(strategy: st.SearchStrategy[Any], check: Any, examples: int, rng_seed: int) -> Counter[str]:
    """Run ``check`` on ``examples`` cases drawn from ``strategy``; count the labels it returns."""
    ends: Counter[str] = Counter()

    @seed(rng_seed)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(case: Any) -> None:
        ends[check(case)] += 1

    run()
    return ends


def test_mangled_edit_lists_and_decisions_files_are_read_or_refused_in_one_line() -> None:
    ends = run_read_cases(60, 27)
    assert ends["edit list refused"] and ends["decisions refused"], ends


@st.composite
def hostile_names(draw: st.DrawFn) -> str:
    """A file name built of hostile pieces and ordinary characters; now and then too long for the file system."""
    pieces = draw(st.lists(st.sampled_from(HOSTILE) | st.text(st.characters(exclude_categories=("Cs",)), max_size=4)))
    name = "".join(pieces).replace("/", "_").replace("\x00", "_") or "_"
    if draw(st.integers(0, 6)) == 0:
        name = name + "x" * 300
    if draw(st.integers(0, 6)) == 0:
        name += "\udcff"  # an undecodable byte, as argv brings it
    return name.lstrip("-") or "_"


@dataclass(frozen=True)
class PathCase:
    """Which command gets a hostile name, and where."""

    where: str  # input | out | ref | folder | batch-out
    name: str


@st.composite
def path_cases(draw: st.DrawFn) -> PathCase:
    return PathCase(draw(st.sampled_from(["input", "out", "ref", "folder", "batch-out"])), draw(hostile_names()))


def check_path(case: PathCase, folder: Path) -> str:
    """Run the command ``case`` names with its hostile name; see `check_command`. Says how it ended."""
    work = Path(tempfile.mkdtemp(dir=folder))
    plain = work / "plain.txt"
    plain.write_text(SAMPLE, encoding="utf-8")
    odd = work / case.name
    try:
        if case.where in ("input", "ref"):
            odd.write_text(SAMPLE.replace("Russia alliance", "its alliance"), encoding="utf-8")
        elif case.where == "folder":
            odd.mkdir()
            (odd / f"{case.name[:50]}.txt").write_text(SAMPLE, encoding="utf-8")
    except (OSError, UnicodeEncodeError):
        pass  # a name the file system refuses: the command must refuse it too, in one line
    keep = [plain, odd]
    if case.where == "input":
        args = ["fix", str(odd), "--no-model"]
    elif case.where == "out":
        args = ["fix", str(plain), "--no-model", "--out", str(odd)]
    elif case.where == "ref":
        args = ["fix", str(plain), "--no-model", "--ref", str(odd)]
    elif case.where == "folder":
        args, keep = ["batch", str(odd), "--out", str(work / "out"), "--no-model"], [plain]
    else:
        args = ["batch", str(work), "--out", str(odd), "--no-model"]
    return check_command(args, folder, keep)


def run_path_cases(examples: int, rng_seed: int) -> Counter[str]:
    """`check_path` over ``examples`` generated names; how each ended."""
    with tempfile.TemporaryDirectory() as tmp:
        return tally(path_cases(), lambda c: f"{c.where} {check_path(c, Path(tmp))}", examples, rng_seed)


def test_hostile_paths_are_used_or_refused_in_one_line() -> None:
    ends = run_path_cases(40, 27)
    assert sum(n for what, n in ends.items() if what.endswith("accepted")), ends
