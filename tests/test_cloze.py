"""The loss view of `repair bench`: per damaged span of the answer key, was it flagged, were its words proposed,
and was it fixed."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from repair.bench.bench import Case, pipeline_repairer, run_case
from repair.bench.cloze import cloze_json, loss, summary
from repair.cli import app
from repair.edits import Edit

GOLD = "Tillerson said Russia can keep its alliance with Syria, but he sees no role for Assad in the war."
DAMAGED = "Tillerson said Russia can keep Russia alliance with Syria, but he sees no role for Assad in    war."
REF = "Russia can keep its alliance with Syria, Tillerson said. He sees no role for Assad in the war, he said."


def key() -> tuple[Edit, ...]:
    pasted = DAMAGED.index("Russia alliance")
    gap = DAMAGED.index("   ")
    return (
        Edit(pasted, pasted + len("Russia"), "Russia", "its", "substitution", 1.0),
        Edit(gap, gap + 4, "    ", " the ", "gap", 1.0),
    )


def test_a_reference_reading_counts_as_the_original_ranked_first() -> None:
    case = Case("one", DAMAGED, GOLD, (("ref", REF),), key())
    items = run_case(case, pipeline_repairer(None, 0.7)).items
    assert [(i.kind, i.original) for i in items] == [("pronoun", "its"), ("gap", "the")]
    pasted, gap = items
    assert pasted.flagged and pasted.rank == 1 and pasted.wins
    # no model, and the reference offers no reading there: no candidate, no question, nothing shown
    assert not gap.flagged and gap.rank is None and gap.outcome == "unflagged"
    rows = summary(items)
    assert rows["pronoun"]["r1"] == 1.0 and rows["all"]["r1"] == 1.0 and rows["gap"]["flagged"] == 0.0


def test_each_span_has_one_outcome_and_a_fixed_one_reads_as_the_original() -> None:
    case = Case("one", DAMAGED, GOLD, (("ref", REF),), key())
    strict = run_case(case, pipeline_repairer(None, 1.0)).items[0]
    assert strict.outcome == "held" and not strict.fixed  # the reference's reading, kept under the threshold
    loose = run_case(case, pipeline_repairer(None, 0.0)).items[0]
    assert loose.outcome == "fixed"
    nothing = run_case(case, lambda text, refs: (text, ())).items
    assert nothing == ()  # a repairer that keeps no proposals gives no loss view
    rows = loss([strict, loose])
    assert rows["pronoun"]["fixed"] == 0.5 and rows["pronoun"]["held"] == 0.5 and rows["all"]["spans"] == 2


def test_the_json_keeps_every_span_and_flat_numbers_to_compare() -> None:
    case = Case("one", DAMAGED, GOLD, (), key())
    doc = cloze_json(run_case(case, pipeline_repairer(None, 0.7)).items)
    assert doc["metrics"]["cloze.gap.rall"] == 0.0 and len(doc["items"]) == 2
    assert doc["metrics"]["loss.all.unflagged"] + doc["metrics"]["loss.all.missing"] > 0
    assert doc["summary"]["all"]["spans"] == 2


def test_the_command_shows_the_cloze_table_and_keeps_it_in_json(tmp_path: Path) -> None:
    sub = tmp_path / "cases" / "one"
    sub.mkdir(parents=True)
    (sub / "gold.txt").write_text(GOLD, encoding="utf-8")
    args = ["corrupt", str(sub / "gold.txt"), "--seed", "1", "--rate", "4", "--out", str(sub / "input.txt")]
    assert CliRunner().invoke(app, [*args, "--answers", str(sub / "answers.json")]).exit_code == 0
    out = tmp_path / "r.json"
    bench = ["bench", "--cases", str(tmp_path / "cases"), "--no-model", "--cloze", "--json", str(out)]
    result = CliRunner().invoke(app, bench)
    assert result.exit_code == 0, result.output
    assert "cloze" in result.output and "where the damage is lost" in result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["cloze"]["summary"]["all"]["spans"] >= 1
    assert "cloze.all.flagged" in doc["metrics"]
