"""Fit the decision model (`repair.stages.verdict`) on the judged edits of fit-story runs; choose the threshold.

    OMP_NUM_THREADS=1 repair bench --stories ../shared/stories --split fit [--no-refs] --json fit_[no]refs.json
    python benchmarks/decision_fit.py fit_refs.json fit_norefs.json --write repair/data/decide.json
    python benchmarks/decision_fit.py fit_refs.json fit_norefs.json --test held_refs.json held_norefs.json

Every content edit a `repair bench --json` run found, applied or not, carries the signs the decision
weighs and whether it was right; a logistic regression (scikit-learn) of right on signs, one for runs
with the language model and one without, gives the weights, written as data (``decide.json``, the
`decisions` of `repair.stages.decide.DecideSettings`). The fit runs are measured with the model
fitted on the other stories (five folds by story), and any ``--test`` runs with the model fitted on
all: content P / R / F0.5 and false content edits per 1,000 clean words at each threshold
(`benchmarks/threshold.py`'s sweep), so `--min-confidence` is chosen on stories the model did not see.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from threshold import THRESHOLDS, print_sweep, sweep

from repair.bench.bench import Judged
from repair.bench.score import TOKENIZATION
from repair.stages.logistic import Logistic

REGULARIZATION = 1.0  # scikit-learn's C: the inverse strength of the L2 penalty
FOLDS = 5


def run_condition(doc: dict[str, Any]) -> str:
    """Which decision model a run's edits train: "lm" with a language model, "nolm" without."""
    return "lm" if doc.get("settings", {}).get("model") else "nolm"


def story(case: dict[str, Any]) -> str:
    return str(case["name"]).split("/")[0]


def rows_of(doc: dict[str, Any]) -> list[tuple[str, dict[str, float], bool]]:
    """(story, signs, right) for every content edit with signs in a run's damaged and clean cases."""
    out = []
    for c in doc["cases"]:
        for e in c["edits"]:
            j = Judged.from_json(e)
            if j.kind != TOKENIZATION and j.signs:
                out.append((story(c), dict(j.signs), j.correct))
    return out


def fit(rows: Sequence[tuple[str, dict[str, float], bool]], c: float = REGULARIZATION) -> Logistic:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = DictVectorizer()
    x = vec.fit_transform([signs for _, signs, _ in rows])
    model = LogisticRegression(C=c, max_iter=5000).fit(x, [right for _, _, right in rows])
    names = vec.get_feature_names_out()
    weights = {str(n): round(float(w), 4) for n, w in zip(names, model.coef_[0], strict=True) if abs(w) > 1e-6}
    return Logistic(round(float(model.intercept_[0]), 4), weights)


def with_confidences(doc: dict[str, Any], models: dict[str, Logistic]) -> dict[str, Any]:
    """The run with each content edit's confidence given by ``models`` (story -> the model not fitted on it)."""
    out: dict[str, Any] = json.loads(json.dumps(doc))
    for c in out["cases"]:
        model = models[story(c)]
        for e in c["edits"]:
            j = Judged.from_json(e)
            if j.kind != TOKENIZATION and j.signs:
                e["confidence"] = model.probability(dict(j.signs))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="repair bench --json results on the fit stories")
    parser.add_argument("--test", type=Path, nargs="*", default=[], help="results on held-out stories, to measure")
    parser.add_argument("--write", type=Path, help="write the fitted models here (repair/data/decide.json)")
    parser.add_argument("-C", type=float, default=REGULARIZATION, help="inverse strength of the L2 penalty")
    args = parser.parse_args(argv)
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in args.runs]
    by_condition: dict[str, list[tuple[str, dict[str, float], bool]]] = {}
    for d in docs:
        by_condition.setdefault(run_condition(d), []).extend(rows_of(d))
    models: dict[str, Logistic] = {}
    for key, rows in sorted(by_condition.items()):
        models[key] = fit(rows, args.C)
        print(f"{key}: {len(rows)} edits, {sum(r for _, _, r in rows)} right", file=sys.stderr)
    for path, doc in zip(args.runs, docs, strict=True):
        key = run_condition(doc)
        stories = sorted({story(c) for c in doc["cases"]})
        folds = {s: i % FOLDS for i, s in enumerate(stories)}
        rows = by_condition[key]
        held = {}
        for k in range(FOLDS):
            model = fit([r for r in rows if folds.get(r[0], -1) != k], args.C)
            held.update({s: model for s, f in folds.items() if f == k})
        print(f"{path.name} ({key}, refs: {doc['settings'].get('refs')}; each story by the model of the others)")
        print_sweep(sweep(with_confidences(doc, held), lambda j: j.confidence, THRESHOLDS))
    for path in args.test:
        doc = json.loads(path.read_text(encoding="utf-8"))
        model = models[run_condition(doc)]
        every = {story(c): model for c in doc["cases"]}
        print(f"{path.name} ({run_condition(doc)}, refs: {doc['settings'].get('refs')}; held out)")
        print_sweep(sweep(with_confidences(doc, every), lambda j: j.confidence, THRESHOLDS))
    if args.write is not None:
        info = {
            "about": "Fitted decision models (`repair.stages.decide.DecideSettings.decisions`): log-odds that a"
            " content fix is right, from the signs its candidate carries (`repair.stages.verdict.decision_signs`);"
            " one for runs with the language model, one without.",
            "fitted_on": [p.name for p in args.runs],
            "edits": {k: len(rows) for k, rows in by_condition.items()},
            "regularization": args.C,
            "command": "python benchmarks/decision_fit.py FIT_RUNS... --write repair/data/decide.json",
        }
        plain = {k: {"bias": m.bias, "weights": dict(sorted(m.weights.items()))} for k, m in models.items()}
        out = {"info": info, "decisions": plain}
        args.write.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
