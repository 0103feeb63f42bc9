"""`repair bench`: cases in, a table of scores out; a perfect repair scores 1.0, a crash is counted, not fatal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repair.bench.bench import (
    BenchResult,
    Case,
    Repairer,
    bench_table,
    calibration,
    calibration_png,
    compare_table,
    example_cases,
    fit_calibration_map,
    load_cases,
    load_judged,
    load_metrics,
    run_bench,
    text_table,
)
from repair.bench.corrupt import corrupt
from repair.cli import app
from repair.edits import Edit, Evidence, apply_edits
from repair.stages.calibrate import ALL, CalibrationMap, default_map

GOLD = (
    "Tillerson said Russia can keep its alliance with Syria, but the U.S. sees no role for Assad.\n"
    "The Kremlin said Putin would not meet Tillerson. Russia’s foreign minister will."
)
DAMAGED = (
    "Tillerson said Russia can keep Russia alliance with Syria , but the U. S. sees no role for Assad Assad .\n"
    "The Kremlin said Putin would not    Tillerson . Russia ’s foreign minister will ."
)
REF = "Russia can keep its alliance with Syria, Tillerson said. He sees no role for Assad, the U.S. envoy said."


@pytest.fixture()
def case_dir(tmp_path: Path) -> Path:
    """Two made-up cases: one damaged, one clean."""
    root = tmp_path / "cases"
    for name, text in (("damaged", DAMAGED), ("clean", GOLD)):
        sub = root / name
        (sub / "refs").mkdir(parents=True)
        (sub / "input.txt").write_text(text, encoding="utf-8")
        (sub / "gold.txt").write_text(GOLD, encoding="utf-8")
        (sub / "refs" / "other.txt").write_text(REF, encoding="utf-8")
    return root


def perfect(cases: Sequence[Case]) -> Repairer:
    """A fake pipeline that returns the gold text."""
    gold = {c.input: c.gold for c in cases}

    def run(text: str, refs: Sequence[tuple[str, str]]) -> tuple[str, Sequence[Edit]]:
        return gold[text], ()

    return run


def test_a_perfect_repair_scores_one(case_dir: Path) -> None:
    cases = load_cases(case_dir)
    result = run_bench(cases, perfect(cases))
    m = result.metrics()
    assert m["correction.overall.f05"] == m["detection.overall.f05"] == 1.0
    assert m["correction.tokenization.f05"] == 1.0
    assert m["wer_after"] == m["cer_after"] == 0.0 and m["wer_before"] > 0
    assert m["false_per_1k_clean"] == 0.0 and m["errors"] == 0


def test_doing_nothing_scores_no_recall(case_dir: Path) -> None:
    cases = load_cases(case_dir)
    result = run_bench(cases, lambda text, refs: (text, ()))
    assert result.metrics()["correction.overall.r"] == 0.0
    assert result.metrics()["wer_after"] == result.metrics()["wer_before"]


def test_the_table_has_the_promised_columns_and_rows(case_dir: Path) -> None:
    cases = load_cases(case_dir)
    result = run_bench(cases, perfect(cases))
    table = bench_table(result)
    headers = [str(c.header).replace("\n", " ") for c in table.columns]
    assert headers == ["kind", "gold", "repair", "det P", "det R", "det F0.5", "cor P", "cor R", "cor F0.5"]
    kinds = [str(c) for c in table.columns[0].cells]
    assert "content, all" in kinds and "tokenization" in kinds and "duplicate" in kinds
    assert list(table.columns[-1].cells)[kinds.index("content, all")] == "100.0"
    measures = [str(m) for m in text_table(result).columns[0].cells]
    assert any("word error rate" in m for m in measures) and any("clean text" in m for m in measures)


def test_a_crash_is_counted_and_scored_as_no_repair(case_dir: Path) -> None:
    def broken(text: str, refs: Sequence[tuple[str, str]]) -> tuple[str, Sequence[Edit]]:
        raise RuntimeError("stage exploded")

    result = run_bench(load_cases(case_dir), broken)
    assert result.metrics()["errors"] == 2
    assert all("stage exploded" in c.error for c in result.cases)
    assert result.metrics()["correction.overall.r"] == 0.0


def test_calibration_uses_every_edit_applied_or_not(case_dir: Path) -> None:
    cases = load_cases(case_dir)
    damaged = next(c for c in cases if not c.clean)
    i = damaged.input.index("Russia alliance")
    right = Edit(i, i + 6, "Russia", "its", "substitution", 0.95)
    wrong = Edit(i, i + 6, "Russia", "his", "substitution", 0.15, applied=False)

    def run(text: str, refs: Sequence[tuple[str, str]]) -> tuple[str, Sequence[Edit]]:
        return (text, (right, wrong)) if text == damaged.input else (text, ())

    result = run_bench(cases, run)
    bins = calibration(result)
    assert [(b.edits, b.share_correct) for b in bins] == [(1, 0.0), (1, 1.0)]
    png = calibration_png(result)
    assert png.startswith(b"\x89PNG")


def test_json_round_trip_and_comparison(case_dir: Path) -> None:
    cases = load_cases(case_dir)
    good = run_bench(cases, perfect(cases))
    bad = run_bench(cases, lambda text, refs: (text, ()))
    old = load_metrics(bad.to_json())
    assert old == bad.metrics()
    table = compare_table(old, good.metrics())
    verdicts = dict(zip(table.columns[0].cells, table.columns[4].cells, strict=True))
    assert "better" in str(verdicts["correction.overall.f05"])
    assert "better" in str(verdicts["wer_after"])


def test_example_cases_use_the_other_versions_as_references(example_dir: Path) -> None:
    cases = example_cases(example_dir, seeds=2)
    clean_files = sorted(p.name for p in example_dir.glob("*.txt") if not p.name.startswith("000_"))
    assert len(cases) == 3 * len(clean_files)
    first = cases[0]
    assert not first.clean and cases[1].clean  # seed 0 then the clean run: a --limit 2 run measures both
    assert first.name.split("@")[0] + ".txt" not in {name for name, _ in first.refs}
    assert len(first.refs) == len(clean_files) - 1
    assert first.input == corrupt(first.gold, 0).damaged
    assert not example_cases(example_dir, seeds=1, refs=False)[0].refs


def test_bad_case_folders_are_user_errors(tmp_path: Path) -> None:
    (tmp_path / "c1").mkdir()
    result = CliRunner().invoke(app, ["bench", "--cases", str(tmp_path), "--no-model"])
    assert result.exit_code == 2 and "needs input.txt and gold.txt" in result.output
    result = CliRunner().invoke(app, ["bench", "--cases", str(tmp_path / "nowhere"), "--no-model"])
    assert result.exit_code == 2 and "not found" in result.output


def test_the_command_runs_the_pipeline_and_writes_json_and_plot(case_dir: Path, tmp_path: Path) -> None:
    out, plot = tmp_path / "bench.json", tmp_path / "cal.png"
    args = ["bench", "--cases", str(case_dir), "--no-model", "--json", str(out), "--plot", str(plot)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "cor F0.5" in result.output.replace("\n", " ") or "F0.5" in result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert {"correction.overall.f05", "wer_before", "false_per_1k_clean", "seconds"} <= set(doc["metrics"])
    assert [c["name"] for c in doc["cases"]] == ["clean", "damaged"]
    assert plot.read_bytes().startswith(b"\x89PNG")
    again = CliRunner().invoke(app, ["bench", "--cases", str(case_dir), "--no-model", "--compare", str(out)])
    assert again.exit_code == 0 and "compared with the earlier run" in again.output


def test_a_result_is_a_plain_value(case_dir: Path) -> None:
    cases = load_cases(case_dir)
    result = run_bench(cases, perfect(cases))
    assert isinstance(result, BenchResult)
    assert json.loads(result.to_json())["metrics"] == result.metrics()


def test_a_case_folder_made_with_corrupt_uses_its_answer_key(tmp_path: Path) -> None:
    sub = tmp_path / "cases" / "one"
    sub.mkdir(parents=True)
    (sub / "gold.txt").write_text(GOLD, encoding="utf-8")
    args = ["corrupt", str(sub / "gold.txt"), "--seed", "2", "--rate", "4", "--out", str(sub / "input.txt")]
    assert CliRunner().invoke(app, [*args, "--answers", str(sub / "answers.json")]).exit_code == 0
    (case,) = load_cases(tmp_path / "cases")
    assert case.answers and case.input == corrupt(GOLD, 2, rate=4.0).damaged
    (sub / "gold.txt").write_text(GOLD + " More.", encoding="utf-8")
    result = CliRunner().invoke(app, ["bench", "--cases", str(tmp_path / "cases"), "--no-model"])
    assert result.exit_code == 2 and "made for another text" in result.output


def test_each_edit_records_what_calibration_needs_and_a_map_is_fitted_from_it(case_dir: Path) -> None:
    cases = load_cases(case_dir)
    damaged = next(c for c in cases if not c.clean)
    i = damaged.input.index("Russia alliance")
    why = (
        Evidence("decide:lm", "misfit", candidates=(("its", -3.0), ("Russia", -5.5))),
        Evidence("decide:calibration", "share 0.92", score=0.92),
    )
    right = Edit(i, i + 6, "Russia", "its", "substitution", 0.55, why)
    wrong = Edit(i, i + 6, "Russia", "his", "substitution", 0.3, why[:1], applied=False)

    def run(text: str, refs: Sequence[tuple[str, str]]) -> tuple[str, Sequence[Edit]]:
        return (text, (right, wrong)) if text == damaged.input else (text, ())

    result = run_bench(cases, run)
    rows = [e for c in json.loads(result.to_json())["cases"] for e in c["edits"]]
    assert rows[0] == {
        "kind": "substitution",
        "source": "model",
        "confidence": 0.55,
        "raw": 0.92,
        "margin": 2.5,
        "refs": 0,
        "correct": True,
        "applied": True,
    }
    assert (rows[1]["raw"], rows[1]["correct"]) == (0.3, False)
    judged, kinds = load_judged(result.to_json())
    assert judged == [j for c in result.cases for j in c.judged]
    assert kinds == result.damaged_kinds() and "substitution" in kinds and "mojibake" not in kinds
    assert result.metrics()["ece_raw.content"] == pytest.approx((0.08 + 0.3) / 2)
    cmap = fit_calibration_map(judged, kinds, sources=["test"])
    assert cmap.info["edits"] == 2 and cmap.info["fitted_on"] == ["test"]


def test_seeds_can_start_later_so_a_fit_is_measured_on_other_seeds(example_dir: Path) -> None:
    later = example_cases(example_dir, seeds=1, first_seed=2)
    assert [c.name.split("@")[1] for c in later[:2]] == ["2", "clean"]
    assert later[0].input == example_cases(example_dir, seeds=3)[3].input  # the third seed of the default run


def test_bench_writes_a_calibration_map_that_fix_can_read(
    case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "calibration.json"
    result = CliRunner().invoke(app, ["bench", "--cases", str(case_dir), "--no-model", "--fit-calibration", str(out)])
    assert result.exit_code == 0, result.output
    cmap = CalibrationMap.from_json(out.read_text(encoding="utf-8"))
    assert cmap.info["edits"] > 0 and ALL in cmap.curves
    monkeypatch.setenv("REPAIR_CALIBRATION", str(out))
    assert default_map().curves == cmap.curves


def test_false_edits_of_kinds_the_benchmark_never_damages_are_counted_apart(case_dir: Path) -> None:
    cases = load_cases(case_dir)
    clean = next(c for c in cases if c.clean)
    i = clean.input.index("Russia can")
    renamed = Edit(i, i + 6, "Russia", "Moscow", "substitution", 0.9)
    j = clean.input.index("Kremlin")
    respelled = Edit(j, j + 7, "Kremlin", "Kreml", "mojibake", 0.9)  # no damage of this kind in the gold

    def run(text: str, refs: Sequence[tuple[str, str]]) -> tuple[str, Sequence[Edit]]:
        edits = (renamed, respelled) if text == clean.input else ()
        return apply_edits(text, edits), edits

    m = run_bench(cases, run).metrics()
    words = next(c.words for c in run_bench(cases, run).cases if c.clean)
    assert m["false_per_1k_clean"] == pytest.approx(2000 / words, abs=1e-3)
    assert m["false_per_1k_clean_judged"] == pytest.approx(1000 / words, abs=1e-3)


def test_bench_with_model_and_no_model_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "--no-model", "--model", "smollm2", "--json", str(tmp_path / "b.json")])
    assert result.exit_code == 2
    assert "--no-model" in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "b.json").exists()
