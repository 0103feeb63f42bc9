"""The HTML report and the terminal diff: what a reviewer sees, checked in a real headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from repair.cli import app
from repair.edits import Edit, Evidence, apply_edits
from repair.files.editlist import dump_edits
from repair.stages.align import Reference
from repair.stages.label import Passage
from repair.stages.normalize import normalize
from repair.stages.witness import Alignment
from repair.views.report import render_report
from repair.views.sidebyside import build_view

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (scripts/setup-browser.sh installs it)"
)

SOURCE = (
    "LUCCA , Italy ( AP ) Russia can maintain Russia alliance with the    countries .\n"
    "\n"
    "Assad Assad must go <script>alert('x')</script> USÂ.\n"
)
REFERENCE = "LUCCA, Italy (AP) Russia can maintain its alliance with the two countries."


def _edit(after: str, at: str, kind: str, conf: float, *, applied: bool = True, ev: tuple[Evidence, ...] = ()) -> Edit:
    start = SOURCE.index(at)
    return Edit(start, start + len(at), at, after, kind, conf, ev, applied)


@pytest.fixture
def edits() -> list[Edit]:
    subst = SOURCE.index("Russia alliance")
    return [
        _edit(",", " ,", "tokenization", 0.99, ev=(Evidence("rule:space_before_punctuation"),)),
        Edit(
            subst,
            subst + 6,
            "Russia",
            "its",
            "substitution",
            0.87,
            (
                Evidence("ref:ref.txt", "reference reads its", (38, 41), 0.91, (("its", -0.2), ("Russia", -2.3))),
                Evidence("lm:test-model", "", None, -0.4, (("its", -0.4), ("the", -1.9))),
            ),
        ),
        _edit(" two ", "    ", "gap", 0.42, applied=False, ev=(Evidence("lm:test-model", "dropped word", None, -3.1),)),
        _edit("", "Assad ", "duplicate", 0.95, ev=(Evidence("rule:repeat"),)),
        _edit("", "Â", "mojibake", 0.99, ev=(Evidence("rule:ftfy"),)),
    ]


@pytest.fixture
def alignment() -> Alignment:
    """One passage: the first line of the source against the reference."""
    doc = normalize(SOURCE)
    ref = Reference("ref.txt", normalize(REFERENCE))
    line_end = doc.text.index("\n")
    passage = Passage(0, 0, line_end, 0, len(ref.normalized.text), 0.9, ())
    return Alignment((ref,), (passage,))


class Columns(HTMLParser):
    """The text a reader sees in each column (markers and suggestions left out)."""

    SKIP = frozenset({"sugg", "cut", "pt", "badge", "refname", "others", "noref"})

    def __init__(self) -> None:
        super().__init__()
        self.cols: dict[str, list[str]] = {"in": [], "out": [], "ref": []}
        self.stack: list[tuple[str | None, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        col = next((c for c in ("in", "out", "ref") if "cell" in classes and c in classes), None)
        parent_col, parent_skip = self.stack[-1] if self.stack else (None, False)
        self.stack.append((col or parent_col, parent_skip or bool(self.SKIP & set(classes))))

    def handle_endtag(self, tag: str) -> None:
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][0] and not self.stack[-1][1]:
            self.cols[self.stack[-1][0]].append(data)


def columns(page: str) -> dict[str, str]:
    parser = Columns()
    parser.feed(page)
    return {k: "".join(v) for k, v in parser.cols.items()}


def squash(text: str) -> str:
    return "".join(text.split())


def test_columns_show_the_input_and_the_repaired_text(edits: list[Edit]) -> None:
    page = render_report(SOURCE, edits)
    cols = columns(page)
    assert squash(cols["in"]) == squash(SOURCE)
    assert squash(cols["out"]) == squash(apply_edits(SOURCE, edits))
    assert "maintain its alliance" in cols["out"]


def test_every_edit_is_marked_with_its_kind_and_has_an_evidence_card(edits: list[Edit]) -> None:
    page = render_report(SOURCE, edits)
    view = build_view(SOURCE, edits)
    for i, e in enumerate(view.edits):
        for side in ("in", "out", "card"):
            tag = re.search(rf'<[^>]*id="{side}-{i}"[^>]*>', page)
            assert tag is not None, (side, i)
            assert f"k-{e.kind}" in tag.group(), (side, i)
    card = page[page.index('id="card-1"') : page.index('id="card-2"')]
    assert "ref:ref.txt" in card and "reference reads its" in card
    assert "confidence 0.87" in card and "Russia" in card and "-2.300" in card


def test_unapplied_edit_is_dashed_and_only_suggested(edits: list[Edit]) -> None:
    page = render_report(SOURCE, edits)
    i = [e.kind for e in build_view(SOURCE, edits).edits].index("gap")
    out = re.search(rf'<span id="out-{i}" class="([^"]*)"[^>]*>(.*?)</span></span>', page)
    assert out is not None
    assert "na" in out.group(1).split()
    assert 'class="sugg"' in out.group(2) and "two" in out.group(2)
    assert "not applied" in page[page.index(f'id="card-{i}"') :]
    assert "two" not in columns(page)["out"]  # a suggestion is not part of the repaired text


def test_input_markup_is_escaped(edits: list[Edit]) -> None:
    page = render_report(SOURCE, edits, title="<b>title</b>")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<b>title" not in page
    assert page.count("<script>") == 1  # the report's own


def test_report_is_self_contained(edits: list[Edit]) -> None:
    page = render_report(SOURCE, edits)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|@import|url\(|<link\b""", page)
    assert "@media print" in page


def test_reference_column_shows_the_covering_passage(edits: list[Edit], alignment: Alignment) -> None:
    page = render_report(SOURCE, edits, alignment.refs, alignment)
    ref_col = columns(page)["ref"]
    assert "maintain its alliance with the two countries" in ref_col
    assert "no reference covers this passage" in page  # the second paragraph has none
    assert page.count('class="cell ref none"') == 1


def test_without_alignment_every_reference_cell_says_so(edits: list[Edit]) -> None:
    page = render_report(SOURCE, edits)
    assert page.count("no reference covers this passage") == page.count('class="cell ref')


def test_counts_by_kind(edits: list[Edit]) -> None:
    page = render_report(SOURCE, edits)
    row = re.search(r'value="gap" checked>.*?</tr>', page)
    assert row is not None and "<td>0</td><td>1</td>" in row.group()


def test_no_edits_gives_a_page_that_says_so() -> None:
    page = render_report("A clean line.\n", [])
    assert "no edits" in page and squash(columns(page)["out"]) == "Acleanline."


def chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    command = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


@needs_chromium
def test_browser_runs_the_page_script_and_opens_evidence(
    tmp_path: Path, edits: list[Edit], alignment: Alignment
) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_report(SOURCE, edits, alignment.refs, alignment), encoding="utf-8")
    dom = chromium(tmp_path, page.as_uri() + "#in-1", "--dump-dom").stdout
    assert dom.count('class="colhead"') == 3
    assert re.search(r'id="in-1" class="e k-substitution[^"]*hl', dom)  # the linked edit is lit up
    pop = re.search(r'<div id="pop" class="pop k-substitution pinned"[^>]*>(.*?)</div>\s*<script>', dom, re.S)
    assert pop is not None, "the evidence popup did not open for the linked edit"
    assert "hidden" not in dom[dom.index('id="pop"') - 5 : dom.index('id="pop"') + 120]
    assert "ref:ref.txt" in pop.group(1) and "confidence 0.87" in pop.group(1)
    assert "showing 5 of 5 edits" in dom  # the filter script ran
    assert "<script>alert" not in dom


@needs_chromium
def test_browser_screenshot_and_print(tmp_path: Path, edits: list[Edit]) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_report(SOURCE, edits), encoding="utf-8")
    shot = tmp_path / "report.png"
    chromium(tmp_path, page.as_uri(), f"--screenshot={shot}", "--window-size=1400,1000")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = tmp_path / "report.pdf"
    chromium(tmp_path, page.as_uri(), f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert pdf.read_bytes()[:5] == b"%PDF-"


@pytest.fixture(scope="module")
def example(example_dir: Path) -> tuple[str, list[tuple[str, str]]]:
    text = next(example_dir.glob("000_*.txt")).read_text(encoding="utf-8")
    refs = [(str(p), p.read_text(encoding="utf-8")) for p in sorted(example_dir.glob("00[1-9]_*.txt"))]
    return text, refs


def test_example_report_shows_the_pipelines_output(example: tuple[str, list[tuple[str, str]]]) -> None:
    from repair.pipeline import repair_text

    text, refs = example
    result = repair_text(text, refs, None)
    page = render_report(text, result.edits, result.alignment.refs, result.alignment, doc=result.doc)
    cols = columns(page)
    assert squash(cols["in"]) == squash(text)
    assert squash(cols["out"]) == squash(result.output)
    for i in range(len(result.edits)):
        assert f'id="in-{i}"' in page and f'id="card-{i}"' in page
    if result.alignment.passages:
        assert page.count('class="cell ref"') >= 1  # some paragraph is covered by a reference


@needs_chromium
def test_example_report_in_the_browser(tmp_path: Path, example: tuple[str, list[tuple[str, str]]]) -> None:
    from repair.pipeline import repair_text

    text, refs = example
    result = repair_text(text, refs, None)
    page = tmp_path / "000.report.html"
    page.write_text(
        render_report(text, result.edits, result.alignment.refs, result.alignment, doc=result.doc), encoding="utf-8"
    )
    dom = chromium(tmp_path, page.as_uri(), "--dump-dom").stdout
    blocks = len(build_view(text, result.edits, result.alignment, result.doc).blocks)
    assert dom.count('class="cell in"') == dom.count('class="cell out"') == blocks
    assert f"showing {len(result.edits)} of {len(result.edits)} edits" in dom
    shot = tmp_path / "report.png"
    chromium(tmp_path, page.as_uri(), f"--screenshot={shot}", "--window-size=1400,1000")
    assert shot.stat().st_size > 10_000


@pytest.fixture
def saved(tmp_path: Path, edits: list[Edit]) -> tuple[Path, Path]:
    src = tmp_path / "article.txt"
    src.write_text(SOURCE, encoding="utf-8")
    listing = tmp_path / "article.edits.json"
    listing.write_text(dump_edits(SOURCE, edits, input_name=str(src)), encoding="utf-8")
    return src, listing


def test_report_command_writes_the_page_from_a_saved_edit_list(tmp_path: Path, saved: tuple[Path, Path]) -> None:
    src, listing = saved
    ref = tmp_path / "ref.txt"
    ref.write_text(REFERENCE, encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(src), str(listing), "--ref", str(ref)])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "article.report.html").read_text(encoding="utf-8")
    assert "maintain its alliance" in columns(page)["out"]


def test_report_command_refuses_an_edit_list_for_another_input(tmp_path: Path, saved: tuple[Path, Path]) -> None:
    _, listing = saved
    other = tmp_path / "other.txt"
    other.write_text("Some other text entirely.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(other), str(listing)])
    assert result.exit_code == 2
    assert "different input" in result.output and "Traceback" not in result.output


def test_diff_command_finds_the_default_edit_list(saved: tuple[Path, Path]) -> None:
    src, _ = saved
    result = CliRunner().invoke(app, ["diff", str(src)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "input" in result.output and "repaired" in result.output and "reference" in result.output
    assert "maintain its" in result.output and "[?two]" in result.output
    assert "no reference covers this passage" in result.output


def test_diff_command_without_an_edit_list_says_what_to_do(tmp_path: Path) -> None:
    src = tmp_path / "lonely.txt"
    src.write_text("A text with no edit list.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["diff", str(src)])
    assert result.exit_code == 2
    assert "repair fix" in result.output


def test_content_edits_come_first_with_their_alternatives_and_surface_fixes_fold_by_kind() -> None:
    text = "He said it 's Assad , and Russia alliance held .\n"

    def at(before: str, after: str, kind: str, conf: float, **kw: Any) -> Edit:
        s = text.index(before)
        return Edit(s, s + len(before), before, after, kind, conf, **kw)

    edits = [
        at(" 's", "'s", "tokenization", 0.95),
        at("Assad", "that", "substitution", 0.3, applied=False, alternatives=(("that", 0.3), ("this", 0.25))),
        at(" ,", ",", "tokenization", 0.9),
        at("Russia", "Russia", "substitution", 0.2, applied=False, alternatives=(("its", 0.2),)),
    ]
    page = render_report(text, edits, min_confidence=0.7)
    cards = page.index('id="card-1"'), page.index('id="card-3"'), page.index('<details class="group')
    assert cards[0] < cards[1] < cards[2] < page.index('id="card-0"')  # content first, the surface folded after
    assert "<b>2 tokenization</b> fixes" in page
    assert 'data-text="this"' in page and ">0.25<" in page  # an alternative a click can choose
    assert "<b>question</b>" in page and "keep the text" in page
    assert 'id="conf" min="0" max="1" step="0.05" value="0.70"' in page
    assert 'href="#edit-2">edit 2</a>' in page  # the second edit is "edit 2", and its link says so
