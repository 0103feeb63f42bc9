"""The benchmark: damage clean texts, repair them, score each repair against its original.

By default the cases come from the bundled example: every clean version of the
story is damaged at a few seeds (`repair.bench.corrupt`) and repaired with the *other*
clean versions as references, and each clean version is also repaired as it is,
to count the edits the tool makes on text that needs none. A folder of cases
(``CASE/input.txt``, ``CASE/gold.txt``, ``CASE/refs/*.txt``, optionally
``CASE/answers.json``) can be used instead.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table

from repair.bench.cases import EXAMPLE, Case, example_cases, load_cases
from repair.bench.cloze import ClozeItem, cloze_items, cloze_json
from repair.bench.score import TOKENIZATION, Score, Tally, judge_edits, score_texts
from repair.bench.stories import QUICK_STORIES, Split, load_stories, story_cases
from repair.edits import KINDS, Edit
from repair.files.commit import check_outputs, write_all
from repair.files.textio import InputError, parse_json, read_text
from repair.lm import LanguageModel
from repair.lm.modelspec import check_model_spec
from repair.stages.calibrate import CalibrationMap, Features, Observation, ece, features, fit
from repair.stages.decide import DEFAULT_MIN_CONFIDENCE
from repair.stages.normalize import Normalized
from repair.stages.spans import Proposal
from repair.stages.verdict import SIGNS_SOURCE
from repair.text.tokens import tokenize

CALIBRATION_BINS = 10
SPREAD_DRAWS = 1000  # bootstrap draws of the cases for the interval of the pooled F0.5
SPREAD_SEED = 23
FORMAT_VERSION = 2  # 2: every edit's calibration features (kind, source, raw confidence, margin, refs)


@dataclass(frozen=True)
class Repaired:
    """A repair as the pipeline gives it: the output, every edit found, and what the loss view reads."""

    output: str
    edits: Sequence[Edit]
    doc: Normalized | None = None
    proposals: tuple[Proposal, ...] = ()


Repairer = Callable[[str, Sequence[tuple[str, str]]], "tuple[str, Sequence[Edit]] | Repaired"]
"""Repairs (input, references) into (output, every edit found, applied or not), or a `Repaired`."""

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Judged:
    """One edit the tool found, applied or not, and whether it was right (for calibration)."""

    confidence: float
    correct: bool
    applied: bool
    kind: str
    source: str = "rule"  # where the winning candidate came from (`repair.stages.calibrate.SOURCE_NAMES`)
    raw: float | None = None  # the confidence before calibration (None: the same as ``confidence``)
    margin: float | None = None  # nats from the winning candidate to the runner-up
    refs: int = 0  # references agreeing with the edit
    signs: tuple[tuple[str, float], ...] = ()  # what the decision model weighs (`repair.stages.verdict`)

    @classmethod
    def of(cls, edit: Edit, correct: bool) -> Judged:
        f = features(edit)
        signs = next((ev.candidates for ev in edit.evidence if ev.source == SIGNS_SOURCE), ())
        return cls(edit.confidence, correct, edit.applied, edit.kind, f.source, f.raw, f.margin, f.refs, signs)

    @property
    def observation(self) -> Observation:
        """What fitting a calibration map needs: the raw confidence, not the calibrated one."""
        raw = self.confidence if self.raw is None else self.raw
        return Observation(Features(self.kind, self.source, raw, self.margin, self.refs), self.correct)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "confidence": round(self.confidence, 4),
            "raw": None if self.raw is None else round(self.raw, 4),
            "margin": None if self.margin is None else round(self.margin, 3),
            "refs": self.refs,
            "correct": self.correct,
            "applied": self.applied,
            **({"signs": dict(self.signs)} if self.signs else {}),
        }

    @classmethod
    def from_json(cls, data: Any) -> Judged:
        """One edit of a --json result; version 1 results hold [confidence, correct, applied, kind]."""
        if isinstance(data, list):
            return cls(float(data[0]), bool(data[1]), bool(data[2]), str(data[3]))
        margin = data.get("margin")
        raw = data.get("raw")
        return cls(
            float(data["confidence"]),
            bool(data["correct"]),
            bool(data["applied"]),
            str(data["kind"]),
            str(data.get("source", "rule")),
            None if raw is None else float(raw),
            None if margin is None else float(margin),
            int(data.get("refs", 0)),
            tuple((str(k), float(v)) for k, v in (data.get("signs") or {}).items()),
        )


@dataclass(frozen=True)
class CaseResult:
    name: str
    clean: bool
    score: Score
    seconds: float
    words: int
    judged: tuple[Judged, ...] = ()
    error: str = ""
    items: tuple[ClozeItem, ...] = ()  # the loss view of the case's damaged spans (`repair.bench.cloze`)


@dataclass(frozen=True)
class BenchResult:
    """Every case's score, and the totals the table shows."""

    cases: tuple[CaseResult, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    load_seconds: float = 0.0  # loading the model, once

    @property
    def items(self) -> tuple[ClozeItem, ...]:
        """Every case's loss-view items, in case order."""
        return tuple(i for c in self.cases for i in c.items)

    @property
    def cloze(self) -> dict[str, Any]:
        """`repair.bench.cloze.cloze_json` of every item (empty without an answer key)."""
        return cloze_json(self.items) if self.items else {}

    @property
    def damaged(self) -> Score:
        """All damaged cases added up."""
        return sum((c.score for c in self.cases if not c.clean), Score())

    @property
    def clean(self) -> Score:
        """All clean cases added up: their edits are false edits."""
        return sum((c.score for c in self.cases if c.clean), Score())

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.cases)

    def damaged_kinds(self) -> set[str]:
        """The kinds of damage the gold texts undo: the only kinds whose edits can be judged right."""
        return {k for k, t in self.damaged.correction.items() if t.gold}

    @property
    def words(self) -> int:
        return sum(c.words for c in self.cases)

    def kinds(self) -> list[str]:
        """The kinds that occur, in the usual order."""
        seen = set(self.damaged.correction) | set(self.damaged.detection)
        return [k for k in KINDS if k in seen] + sorted(seen - set(KINDS))

    def spread(self) -> dict[str, float]:
        """How content correction F0.5 varies across the damaged cases (one per story in a stories run): the
        quartiles of the cases' own F0.5, and a 90% interval of the pooled F0.5 over cases drawn again
        (a bootstrap of `SPREAD_DRAWS` draws with a fixed seed, so a run always reports the same)."""
        scores = [c.score for c in self.cases if not c.clean]
        if len(scores) < 2:
            return {}
        own = sorted(s.overall("correction").f05 for s in scores)
        rng = random.Random(SPREAD_SEED)
        pooled = sorted(
            sum((rng.choice(scores) for _ in scores), Score()).overall("correction").f05 for _ in range(SPREAD_DRAWS)
        )

        def at(xs: list[float], q: float) -> float:
            return xs[min(len(xs) - 1, int(q * len(xs)))]

        return {
            "cases.f05.p25": at(own, 0.25),
            "cases.f05.median": at(own, 0.5),
            "cases.f05.p75": at(own, 0.75),
            "correction.overall.f05.low": at(pooled, 0.05),
            "correction.overall.f05.high": at(pooled, 0.95),
        }

    def metrics(self) -> dict[str, float]:
        """Flat numbers for machines and for comparing two runs."""
        d = self.damaged
        out: dict[str, float] = dict(self.spread())
        for stage in ("detection", "correction"):
            rows = {"overall": d.overall(stage), **getattr(d, stage)}
            for kind, t in rows.items():
                out[f"{stage}.{kind}.p"] = t.precision
                out[f"{stage}.{kind}.r"] = t.recall
                out[f"{stage}.{kind}.f05"] = t.f05
        out.update(
            {
                "wer_before": d.wer_before,
                "wer_after": d.wer_after,
                "cer_before": d.cer_before,
                "cer_after": d.cer_after,
                "false_per_1k_clean": self.clean.false_per_1k,
                "false_per_1k_damaged": d.false_per_1k,
                "seconds": self.seconds,
                "words_per_second": self.words / self.seconds if self.seconds else 0.0,
                "errors": float(sum(bool(c.error) for c in self.cases)),
            }
        )
        out.update(self.cloze.get("metrics", {}))
        # only edits of a kind the benchmark damaged can be judged right: the rest (a clean text's
        # own mojibake, kept in its gold) would only measure the gold's flaws
        kinds = self.damaged_kinds()
        judged = [j for c in self.cases for j in c.judged if j.kind in kinds]
        content = [j for j in judged if j.kind != TOKENIZATION]
        clean_words = sum(c.words for c in self.cases if c.clean)
        false_judged = sum(
            j.applied and not j.correct for c in self.cases if c.clean for j in c.judged if j.kind in kinds
        )
        out["false_per_1k_clean_judged"] = 1000 * false_judged / clean_words if clean_words else 0.0
        for name, group in (("all", judged), ("content", content)):
            out[f"ece.{name}"] = ece((j.confidence, j.correct) for j in group)
            out[f"ece_raw.{name}"] = ece((j.observation.features.raw, j.correct) for j in group)
        return {k: round(v, 4) for k, v in out.items()}

    def to_json(self) -> str:
        doc = {
            "version": FORMAT_VERSION,
            "settings": self.settings,
            "load_seconds": round(self.load_seconds, 3),
            "metrics": self.metrics(),
            "calibration": [vars(b) for b in calibration(self)],
            "calibration_content": [vars(b) for b in calibration(self, content=True)],
            **({"cloze": self.cloze} if self.cloze else {}),
            "cases": [
                {
                    "name": c.name,
                    "clean": c.clean,
                    "seconds": round(c.seconds, 3),
                    "words": c.words,
                    "error": c.error,
                    "score": c.score.to_json(),
                    "edits": [j.to_json() for j in c.judged],
                }
                for c in self.cases
            ],
        }
        return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def pipeline_repairer(lm: LanguageModel | None, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> Repairer:
    """The real pipeline, `repair.pipeline.repair_text`, as a repairer that keeps what the loss view reads."""
    from repair.pipeline import repair_text

    def run(text: str, refs: Sequence[tuple[str, str]]) -> Repaired:
        result = repair_text(text, refs, lm, min_confidence=min_confidence)
        return Repaired(result.output, result.edits, result.doc, result.proposals)

    return run


def run_case(case: Case, run: Repairer) -> CaseResult:
    """Repair one case and score it; a repair that raises is scored as the input left unchanged, its error kept."""
    started = time.perf_counter()
    error = ""
    try:
        got = run(case.input, case.refs)
        done = got if isinstance(got, Repaired) else Repaired(got[0], got[1])
    except Exception as exc:  # a crash is a result of the benchmark, not the end of it
        done, error = Repaired(case.input, ()), f"{type(exc).__name__}: {exc}"
    took = time.perf_counter() - started
    edits = tuple(e for e in done.edits if not e.question)  # a question proposes nothing to judge
    score = score_texts(case.input, case.gold, done.output, case.answers)
    verdicts = judge_edits(case.input, case.gold, edits) if edits else []
    judged = tuple(Judged.of(e, ok) for e, ok in zip(edits, verdicts, strict=True))
    words = sum(t.is_word for t in tokenize(case.input))
    items: tuple[ClozeItem, ...] = ()
    if case.answers and done.doc is not None:
        found = cloze_items(
            case.name,
            case.input,
            case.answers,
            done.doc,
            done.proposals,
            gold=case.gold,
            output=done.output,
            edits=done.edits,
        )
        items = tuple(found)
    return CaseResult(case.name, case.clean, score, took, words, judged, error, items)


# The repairer of a bench worker process: made once by the pool's initializer, used by every case the
# process runs. It lives in the worker only; the parent never touches it.
_WORKER: dict[str, Repairer] = {}


def _start_worker(make: Callable[[], Repairer]) -> None:
    # one compute thread per worker, set before the model loads: the workers share the cores, and the
    # model's sums (in bfloat16) come out the same as a one-thread run's
    os.environ["OMP_NUM_THREADS"] = "1"
    _WORKER["run"] = make()


def _work(case: Case) -> CaseResult:
    return run_case(case, _WORKER["run"])


def run_bench(
    cases: Sequence[Case],
    repair: Repairer | None = None,
    *,
    lm: LanguageModel | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    progress: Progress | None = None,
    settings: dict[str, Any] | None = None,
    load_seconds: float = 0.0,
    workers: int = 1,
    make_repairer: Callable[[], Repairer] | None = None,
) -> BenchResult:
    """Repair every case (with ``repair``, default the pipeline with ``lm``) and score it.

    A case whose repair raises is scored as left unchanged and its error is kept, so one crash
    does not hide the rest of the numbers. With ``workers`` > 1 and ``make_repairer`` (which
    builds a repairer, loading its model, once per worker process), the cases are repaired side
    by side in worker processes; the result is the same, in the same order.
    """
    say = progress or (lambda _msg: None)
    results: list[CaseResult] = []

    def report(i: int, r: CaseResult) -> None:
        say(f"[{i}/{len(cases)}] {r.name}")
        f05 = r.score.overall("correction").f05
        say(
            f"    {r.seconds:.1f} s, {r.words} words, {r.score.hyp_edits} edits"
            + ("" if r.clean else f", F0.5 {f05:.3f}")
        )

    if workers > 1 and make_repairer is not None and len(cases) > 1:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        # fork: the worker inherits ``make_repairer`` (a closure) without pickling it
        with ProcessPoolExecutor(workers, get_context("fork"), _start_worker, (make_repairer,)) as pool:
            for i, r in enumerate(pool.map(_work, cases), 1):
                report(i, r)
                results.append(r)
    else:
        run = repair or pipeline_repairer(lm, min_confidence)
        for i, case in enumerate(cases, 1):
            results.append(run_case(case, run))
            report(i, results[-1])
    return BenchResult(tuple(results), dict(settings or {}), load_seconds)


# ---- views ----------------------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def bench_table(result: BenchResult) -> Table:
    """Detection and correction P/R/F0.5 per kind (percent), content overall, tokenization apart."""
    d = result.damaged
    table = Table(
        title="repair quality on damaged cases (percent; counts in tokens)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for name in ("kind", "gold", "repair", "det\nP", "det\nR", "det\nF0.5", "cor\nP", "cor\nR", "cor\nF0.5"):
        table.add_column(name, justify="left" if name == "kind" else "right", no_wrap=True)

    def row(label: str, det: Tally, cor: Tally, style: str = "") -> None:
        cells = [str(cor.gold), str(cor.hyp), _pct(det.precision), _pct(det.recall), _pct(det.f05)]
        cells += [_pct(cor.precision), _pct(cor.recall), _pct(cor.f05)]
        table.add_row(label, *cells, style=style)

    for kind in result.kinds():
        if kind != TOKENIZATION:
            row(kind, d.detection.get(kind, Tally()), d.correction.get(kind, Tally()))
    row("content, all", d.overall("detection"), d.overall("correction"), style="bold")
    if TOKENIZATION in result.kinds():
        row(TOKENIZATION, d.detection[TOKENIZATION], d.correction.get(TOKENIZATION, Tally()), style="dim")
    return table


def text_table(result: BenchResult) -> Table:
    """Whole-text numbers: error rates before and after, false edits on clean text, time."""
    d, m = result.damaged, result.metrics()
    n_damaged = sum(not c.clean for c in result.cases)
    n_clean = len(result.cases) - n_damaged
    table = Table(title="whole text", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("measure")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    table.add_row("word error rate %", _pct(d.wer_before), _pct(d.wer_after))
    table.add_row("char error rate %", _pct(d.cer_before), _pct(d.cer_after))
    if "cases.f05.median" in m:
        quartiles = f"{_pct(m['cases.f05.p25'])} / {_pct(m['cases.f05.median'])} / {_pct(m['cases.f05.p75'])}"
        table.add_row("content F0.5 % per damaged case: quartiles", "", quartiles)
        interval = f"{_pct(m['correction.overall.f05.low'])} - {_pct(m['correction.overall.f05.high'])}"
        table.add_row("content F0.5 %, 90% interval over cases", "", interval)
    table.add_row("false edits / 1,000 words, clean text", "", f"{m['false_per_1k_clean']:.1f}")
    table.add_row("edits touching no damage / 1,000 words", "", f"{m['false_per_1k_damaged']:.1f}")
    table.add_row("cases (damaged + clean)", "", f"{n_damaged} + {n_clean}")
    wps = m["words_per_second"]
    table.add_row(
        "repair time s (words/s)",
        "",
        f"{m['seconds']:.1f} ({wps:.0f})" if wps >= 10 else f"{m['seconds']:.1f} ({wps:.2f})",
    )
    if result.load_seconds:
        table.add_row("model load s", "", f"{result.load_seconds:.1f}")
    if m["errors"]:
        table.add_row("[red]cases that crashed", "", f"[red]{int(m['errors'])}")
    return table


# metrics a comparison always shows, and whether higher is better
HEADLINE: tuple[tuple[str, bool], ...] = (
    ("detection.overall.f05", True),
    ("correction.overall.p", True),
    ("correction.overall.r", True),
    ("correction.overall.f05", True),
    ("correction.tokenization.f05", True),
    ("wer_after", False),
    ("cer_after", False),
    ("false_per_1k_clean", False),
    ("false_per_1k_clean_judged", False),
    ("ece.content", False),
    ("ece.all", False),
    ("seconds", False),
    ("errors", False),
)


RELATIVE_NOISE = {"seconds": 0.15}  # timings wobble; smaller changes are reported as the same


def compare_table(old: dict[str, float], new: dict[str, float]) -> Table:
    """Deltas from an earlier run's metrics: the headline numbers, and every per-kind F0.5."""
    table = Table(title="compared with the earlier run", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("metric", "old", "new", "delta", ""):
        table.add_column(name, justify="left" if name in ("metric", "") else "right")
    higher = dict(HEADLINE)
    names = [n for n, _ in HEADLINE] + sorted(
        n for n in set(old) | set(new) if n.startswith("correction.") and n.endswith(".f05") and n not in higher
    )
    for name in names:
        if name not in old and name not in new:
            continue
        a, b = old.get(name), new.get(name)
        if a is None or b is None:
            table.add_row(name, "-" if a is None else f"{a:.4f}", "-" if b is None else f"{b:.4f}", "", "")
            continue
        delta = b - a
        up = higher.get(name, True)
        noise = max(1e-4, RELATIVE_NOISE.get(name, 0.0) * abs(a))
        verdict = "same" if abs(delta) < noise else ("[green]better" if (delta > 0) == up else "[red]worse")
        table.add_row(name, f"{a:.4f}", f"{b:.4f}", f"{delta:+.4f}", verdict)
    return table


def load_metrics(text: str, *, name: str = "earlier result") -> dict[str, float]:
    """The metrics of a result written with --json."""
    try:
        doc = parse_json(text, name)
        return {str(k): float(v) for k, v in doc["metrics"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{name} is not a JSON result of `repair bench --json`: {exc}") from exc


def load_judged(text: str, *, name: str = "earlier result") -> tuple[list[Judged], set[str]]:
    """Every judged edit of a result written with --json, and the kinds of damage its gold undoes."""
    try:
        doc = parse_json(text, name)
        judged = [Judged.from_json(e) for c in doc["cases"] for e in c["edits"]]
        kinds = {k for c in doc["cases"] if not c["clean"] for k, t in c["score"]["correction"].items() if t["gold"]}
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise InputError(f"{name} is not a JSON result of `repair bench --json`: {exc}") from exc
    return judged, kinds


def fit_calibration_map(
    judged: Sequence[Judged],
    damaged_kinds: Collection[str],
    settings: dict[str, Any] | None = None,
    *,
    sources: Sequence[str] = (),
) -> CalibrationMap:
    """A calibration map fitted on judged edits (their raw confidences), with what it was fitted on.

    Only edits of the kinds of damage the benchmark made are fitted: the others could
    never be judged right (a clean text's own mojibake is kept in its gold), so their
    kinds keep raw confidences.
    """
    info = {
        "fitted_on": list(sources),
        "settings": dict(settings or {}),
        "edits": len(judged),
        "right": sum(j.correct for j in judged),
        "damaged_kinds": sorted(damaged_kinds),
    }
    return fit((j.observation for j in judged), info, judged_kinds=damaged_kinds)


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    edits: int
    mean_confidence: float
    share_correct: float


def calibration(result: BenchResult, bins: int = CALIBRATION_BINS, *, content: bool = False) -> list[CalibrationBin]:
    """Edits binned by confidence, with the share that was right: calibrated means the two agree.

    ``content`` keeps only content edits, which the many sure tokenization edits would hide.
    """
    judged = [j for c in result.cases for j in c.judged if not content or j.kind != TOKENIZATION]
    out = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [j for j in judged if low <= j.confidence < high or (b == bins - 1 and j.confidence == 1.0)]
        if inside:
            mean = sum(j.confidence for j in inside) / len(inside)
            share = sum(j.correct for j in inside) / len(inside)
            out.append(CalibrationBin(low, high, len(inside), round(mean, 4), round(share, 4)))
    return out


def calibration_png(result: BenchResult) -> bytes:
    """A reliability diagram (confidence against share correct), with how many edits each bin holds."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    bins = calibration(result)
    content = calibration(result, content=True)
    fig = Figure(figsize=(6, 6.5))
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    for label, data, color, shift in (
        ("all edits", bins, "tab:blue", -0.02),
        ("content edits", content, "tab:orange", 0.02),
    ):
        if data:
            xs = [b.mean_confidence for b in data]
            top.plot(xs, [b.share_correct for b in data], marker="o", color=color, label=label)
            bottom.bar([(b.low + b.high) / 2 + shift for b in data], [b.edits for b in data], width=0.04, color=color)
    if not bins:
        top.text(0.5, 0.5, "no edits", ha="center", va="center")
    total = sum(b.edits for b in bins)
    top.set_title(f"calibration: {total} edits, applied or not")
    top.set_ylabel("share of edits that are right")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.legend(loc="upper left")
    bottom.set_xlabel("edit confidence")
    bottom.set_ylabel("edits")
    fig.tight_layout()
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


# ---- the `repair bench` command as one call ---------------------------------------------------------------


@dataclass(frozen=True)
class BenchOptions:
    """What `repair bench` was asked: which cases, how to repair them, and what to write."""

    cases_dir: Path | None = None  # a folder of case folders; None: the bundled example at ``seeds`` seeds
    stories_dir: Path | None = None  # a folder of stories (`repair.bench.stories`), instead of either
    split: Split = "held-out"  # which stories: those held out (the default), those to fit on, or all
    quick: bool = False  # only the first few stories of the split
    seeds: int = 3
    first_seed: int = 0
    refs: bool = True
    limit: int | None = None
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    json_path: Path | None = None
    plot: Path | None = None
    fit_calibration: Path | None = None
    fit_with: tuple[Path, ...] = ()
    compare: Path | None = None
    model: str | None = None  # the --model spec the loader loads (None: the embedded default, or none at all)
    cloze: bool = False  # also print the cloze table (the JSON always keeps the loss view's items)
    workers: int = 1  # cases repaired side by side in this many processes, each loading the model once


@dataclass(frozen=True)
class BenchRun:
    """A finished bench: its result, the metrics of the --compare result if one was given, and the cloze items."""

    result: BenchResult
    before: dict[str, float] | None
    cloze: Sequence[ClozeItem] = ()


def bench_cases(o: BenchOptions) -> tuple[list[Case], str]:
    """The cases the options ask for, and where they came from."""
    if o.stories_dir is not None:
        stories = load_stories(o.stories_dir, o.split, QUICK_STORIES if o.quick else None)
        cases = story_cases(stories, refs=o.refs, first_seed=o.first_seed)
        where = f"{o.stories_dir} ({o.split}{', quick' if o.quick else ''}: {len(stories)} stories)"
    elif o.cases_dir is not None:
        cases, where = load_cases(o.cases_dir, refs=o.refs), str(o.cases_dir)
    else:
        cases = example_cases(EXAMPLE, seeds=o.seeds, refs=o.refs, first_seed=o.first_seed)
        where = str(EXAMPLE)
    return (cases[: o.limit] if o.limit else cases), where


def bench_run(
    options: BenchOptions, load_lm: Callable[[], LanguageModel | None], progress: Progress | None = None
) -> BenchRun:
    """Run the benchmark as asked and write its outputs (results, plot, fitted map).

    The outputs, the model spec and the earlier results it reads are checked first; the model is
    loaded (``load_lm``) only after, once here or, with several workers, once in each.
    """
    o = options
    check_outputs([p for p in (o.json_path, o.plot, o.fit_calibration) if p is not None])  # before the long run
    check_model_spec(o.model)
    old = load_metrics(read_text(o.compare, what="--compare result"), name=str(o.compare)) if o.compare else None
    extra = [load_judged(read_text(p, what="--fit-with result"), name=str(p)) for p in o.fit_with]
    cases, where = bench_cases(o)
    side_by_side = o.workers > 1 and len(cases) > 1
    started = time.perf_counter()
    lm = None if side_by_side else load_lm()
    loaded = time.perf_counter() - started
    settings = {
        "cases": where,
        "seeds": None if o.cases_dir or o.stories_dir else o.seeds,
        "first_seed": None if o.cases_dir else o.first_seed,
        "refs": o.refs,
        "limit": o.limit,
        "model": lm.name if lm is not None else (o.model or "default") if side_by_side else None,
        "min_confidence": o.min_confidence,
        "workers": o.workers,
    }

    def make_repairer() -> Repairer:
        return pipeline_repairer(load_lm(), o.min_confidence)

    result = run_bench(
        cases,
        lm=lm,
        min_confidence=o.min_confidence,
        progress=progress,
        settings=settings,
        load_seconds=loaded if lm is not None else 0.0,
        workers=o.workers,
        make_repairer=make_repairer,
    )
    if o.json_path is not None:
        write_all({o.json_path: result.to_json()})
    if o.plot is not None:
        write_all({o.plot: calibration_png(result)})
    if o.fit_calibration is not None:
        judged = [j for c in result.cases for j in c.judged] + [j for js, _ in extra for j in js]
        kinds = result.damaged_kinds().union(*(k for _, k in extra))
        sources = ["this run", *(str(p) for p in o.fit_with)]
        cmap = fit_calibration_map(judged, kinds, settings, sources=sources)
        write_all({o.fit_calibration: cmap.to_json()})
    return BenchRun(result, old, result.items)
