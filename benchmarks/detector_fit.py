"""Fit the paste detector (`repair.stages.detect.paste_suspects`) on the fit stories; measure it on held-out ones.

    OMP_NUM_THREADS=1 python benchmarks/detector_fit.py --write repair/data/detect.json
    OMP_NUM_THREADS=1 python benchmarks/detector_fit.py --ablate          # what each family of signs is worth

Every version of every fit story (`repair bench --stories`, split "fit") is damaged at ``--seeds``
seeds by `repair corrupt`; each unit of the damaged text (a name, a function word:
`repair.stages.signals`) is labelled by the answer key (does it overlap a paste or an added
token?) and described by its signs with the model's surprisal and without. A logistic
regression (scikit-learn) per kind of unit and condition gives the weights, written as data
(``repair/data/detect.json``, the `pastes` of `repair.stages.detect.DetectSettings`; each
model's minimum prior is kept as shipped). The held-out stories' units, damaged the same way,
measure it: log loss, ROC AUC, and the recall of damaged units at the probability that flags
1 clean unit in 20; ``--ablate`` refits without each family of signs and measures again. The
signs are cached (``--cache``), so refitting costs no model passes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from repair.bench.cases import Case
from repair.bench.corrupt import corrupt
from repair.bench.stories import SHARED, Split, load_stories, story_seed
from repair.lm import load_model
from repair.stages.detect import condition, token_surprisal
from repair.stages.logistic import Logistic
from repair.stages.normalize import normalize
from repair.stages.settings import default_settings
from repair.stages.signals import UNIT_KINDS, Context, signals, units_of
from repair.text.document import Document

DAMAGE_KINDS = frozenset({"substitution", "duplicate", "stray"})  # what a unit can be: a paste or an added token
DEFAULT_MIN_PRIOR = 0.15  # a new condition's prior from which a unit is a suspect (a refit keeps the shipped one)
REGULARIZATION = 1.0  # scikit-learn's C: the inverse strength of the L2 penalty
FAMILIES = {
    "grammar": ("prev=", "prev2=", "next=", "next2=", "word class=", "capital mid-sentence", "same word"),
    "name": ("name", "first mention", "person", "led by the", "possessive name", "titled"),
    "model": ("nats",),
    "position": ("sentence position",),
}
CLEAN_FLAG_RATE = 0.05  # the recall column: damaged units flagged where 1 clean unit in 20 is


def fit_and_test_cases(split: Split, seeds: int, folder: Path) -> list[Case]:
    """Every version of every story of ``split`` damaged at ``seeds`` seeds, the other versions its references."""
    cases = []
    for story in load_stories(folder, split):
        for k, (name, text) in enumerate(story.versions):
            others = tuple(v for i, v in enumerate(story.versions) if i != k)
            for seed in range(seeds):
                d = corrupt(text, story_seed(story, 1000 * (k + 1) + seed))
                cases.append(Case(f"{story.name}/{name}@{seed}", d.damaged, d.clean, others, d.answers))
    return cases


def rows_of(case: Case, lm: Any) -> list[dict[str, Any]]:
    """One row per unit of the case: its kind, label, and signs in each condition."""
    doc = normalize(case.input, default_settings().normalize)
    document = Document.of(doc.text)
    nats = token_surprisal(doc.text, document.tokens, lm).values
    damage = [(a.start, a.end) for a in case.answers if a.kind in DAMAGE_KINDS]
    contexts = {True: Context.of(document, nats), False: Context.of(document, None)}
    rows = []
    for u in units_of(document):
        bs, be = doc.layer.to_base(u.start, u.end)[:2]
        label = any(s < be and bs < e for s, e in damage)
        signs = {condition(u.kind, lm_): signals(u, ctx) for lm_, ctx in contexts.items()}
        rows.append({"case": case.name, "kind": u.kind, "label": label, "signs": signs})
    return rows


def gather(cases: Sequence[Case], lm: Any, cache: Path | None) -> list[dict[str, Any]]:
    if cache is not None and cache.exists():
        return [json.loads(line) for line in cache.read_text(encoding="utf-8").splitlines()]
    rows = []
    for i, case in enumerate(cases, 1):
        print(f"[{i}/{len(cases)}] {case.name}", file=sys.stderr)
        rows += rows_of(case, lm)
    if cache is not None:
        cache.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows


def _plain(m: Logistic) -> dict[str, Any]:
    weights = {n: round(w, 4) for n, w in sorted(m.weights.items())}
    return {"bias": round(m.bias, 4), "weights": weights, "min_prior": m.min_prior}


def _keep(signs: dict[str, float], drop: Iterable[str]) -> dict[str, float]:
    prefixes = tuple(drop)
    return {k: v for k, v in signs.items() if not (prefixes and k.startswith(prefixes))}


def fit_set(rows: Sequence[dict[str, Any]], key: str, drop: Iterable[str] = (), min_prior: float = 0.0) -> Logistic:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    drop = tuple(drop)
    X = [_keep(r["signs"][key], drop) for r in rows]
    y = [r["label"] for r in rows]
    vec = DictVectorizer()
    model = LogisticRegression(C=REGULARIZATION, max_iter=2000).fit(vec.fit_transform(X), y)
    weights = {n: float(w) for n, w in zip(vec.get_feature_names_out(), model.coef_[0], strict=True) if abs(w) > 1e-6}
    return Logistic(float(model.intercept_[0]), weights, min_prior)


def measure(weights: Logistic, rows: Sequence[dict[str, Any]], key: str, drop: Iterable[str] = ()) -> dict[str, float]:
    from sklearn.metrics import log_loss, roc_auc_score

    drop = tuple(drop)
    p = [weights.probability(_keep(r["signs"][key], drop)) for r in rows]
    y = [r["label"] for r in rows]
    clean = sorted((q for q, t in zip(p, y, strict=True) if not t), reverse=True)
    cut = clean[int(CLEAN_FLAG_RATE * len(clean))] if clean else 1.0
    damaged = [q for q, t in zip(p, y, strict=True) if t]
    return {
        "units": len(rows),
        "damaged": len(damaged),
        "log_loss": round(log_loss(y, p, labels=[False, True]), 4),
        "auc": round(roc_auc_score(y, p), 4) if damaged and clean else 0.0,
        "recall_at_5pct": round(sum(q > cut for q in damaged) / len(damaged), 4) if damaged else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=Path, default=SHARED)
    parser.add_argument("--seeds", type=int, default=2, help="damage draws per version of each fit story")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/repair-detector-fit.jsonl"))
    parser.add_argument("--test-cache", type=Path, default=Path("/tmp/repair-detector-test.jsonl"))
    parser.add_argument("--write", type=Path, help="write the fitted models here (repair/data/detect.json)")
    parser.add_argument("--ablate", action="store_true", help="refit without each family of signs, and measure")
    args = parser.parse_args(argv)
    needs_model = not (args.cache.exists() and args.test_cache.exists())
    lm = load_model(None) if needs_model else None
    train = gather(fit_and_test_cases("fit", args.seeds, args.stories), lm, args.cache)
    test = gather(fit_and_test_cases("held-out", 1, args.stories), lm, args.test_cache)
    shipped = default_settings().detect.pastes
    sets: dict[str, Logistic] = {}
    report: dict[str, Any] = {}
    for kind in UNIT_KINDS:
        for lm_ in (True, False):
            key = condition(kind, lm_)
            tr = [r for r in train if r["kind"] == kind]
            te = [r for r in test if r["kind"] == kind]
            old = shipped.get(key)
            sets[key] = fit_set(tr, key, min_prior=old.min_prior if old is not None else DEFAULT_MIN_PRIOR)
            report[key] = {"held-out": measure(sets[key], te, key)}
            if args.ablate:
                for family, prefixes in FAMILIES.items():
                    w = fit_set(tr, key, prefixes)
                    report[key][f"without {family}"] = measure(w, te, key, prefixes)
            print(key, json.dumps(report[key]), file=sys.stderr)
    info = {
        "about": "Fitted models of the paste detector (`repair.stages.detect.DetectSettings.pastes`): log-odds"
        " of the signs (`repair.stages.signals`) that a name or a function word was pasted over words or put in,"
        " one model per kind of unit and condition (`condition`), and the prior from which a unit is a suspect.",
        "fitted_on": f"fit stories of {args.stories.name}, every version damaged at {args.seeds} seeds",
        "units": len(train),
        "damaged": sum(r["label"] for r in train),
        "held_out": report,
        "command": "OMP_NUM_THREADS=1 python benchmarks/detector_fit.py --write repair/data/detect.json",
    }
    if args.write is not None:
        doc = {"info": info, "pastes": {k: _plain(m) for k, m in sorted(sets.items())}}
        args.write.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
