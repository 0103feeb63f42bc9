"""Fit the weights of the pasted-name signs (``mention`` in repair/data/detect.json) on `repair corrupt` damage.

Every repeated name of every damaged copy is one example: its features from
`mention_features`, labelled pasted when it overlaps a substitution of the answer key.
Seeds differ from the bench's (seed 0) so the fit is not scored on its own data.

    OMP_NUM_THREADS=1 python benchmarks/mention_fit.py --seeds 1-6
    python benchmarks/mention_fit.py --no-model        # the features that need no model

Prints per feature how often it fires and how often it is right there, then the
fitted bias and weights (L2-regularised logistic regression, plain numpy) as the section
of ``repair/data/detect.json`` they would replace (``mention``, ``mention_no_model`` or
``function_word``; `repair.stages.settings` reads that file).

A better fit of the prior is not by itself a better pipeline: propose's thresholds
(generate_min_prior, keep_bonus_nats) were tuned against the priors in use. Refitted on the
damage that pastes names over pronouns too (seeds 1-6, after 5f9c74d), the weights raised
recall of the prior (>= 0.4: 0.56 -> 0.62) but on `repair bench --seeds 1 --no-refs`
(raw confidences) content F0.5 fell 0.317 -> 0.297 and false edits per 1k clean words rose
0.62 -> 1.56, so they were not adopted: refit the thresholds together with the weights.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from repair.bench.cases import DAMAGED_PREFIX, EXAMPLE
from repair.bench.corrupt import corrupt
from repair.edits import Edit
from repair.files.textio import read_text
from repair.lm import load_model
from repair.stages.detect import article_usage, function_word_features, mention_features, token_surprisal
from repair.stages.normalize import Normalized, normalize
from repair.stages.settings import default_settings
from repair.text.english import FUNCTION_WORDS
from repair.text.entities import entity_keys, find_mentions, split_pasted
from repair.text.tokens import Token, tokenize

SETTINGS = default_settings().detect


def damaged_copies(
    seeds: list[int], lm: object
) -> Iterator[tuple[tuple[Edit, ...], Normalized, tuple[Token, ...], list[float] | None]]:
    """Each clean example text damaged at each seed: the answer key, the normalized text, its tokens
    and (with a model) their surprisal."""
    paths = sorted(p for p in Path(EXAMPLE).glob("*.txt") if not p.name.startswith(DAMAGED_PREFIX))
    for p in paths:
        clean = read_text(p, what="clean text")
        for seed in seeds:
            d = corrupt(clean, seed)
            doc = normalize(d.damaged)
            toks = tokenize(doc.text)
            surprisal = token_surprisal(doc.text, toks, lm).values if lm is not None else None  # type: ignore[arg-type]
            yield d.answers, doc, toks, surprisal


def examples(seeds: list[int], lm: object) -> tuple[list[dict[str, float]], list[int], list[str]]:
    feats: list[dict[str, float]] = []
    labels: list[int] = []
    shown: list[str] = []
    for answers, doc, toks, surprisal in damaged_copies(seeds, lm):
        text = doc.text
        mentions = split_pasted(find_mentions(text), text)
        keys = entity_keys(mentions)
        usage = article_usage(mentions)
        by_start = {t.start: i for i, t in enumerate(toks)}
        by_end = {t.end: i for i, t in enumerate(toks)}
        subs = [(a.start, a.end) for a in answers if a.kind == "substitution"]
        for k, m in enumerate(mentions):
            first, last = by_start.get(m.start), by_end.get(m.end)
            if m.key not in keys or first is None or last is None:
                continue
            bs, be, _, _ = doc.layer.to_base(m.start, m.end)
            pasted = any(s < be and bs < e for s, e in subs)
            feats.append(mention_features(m, mentions, k, toks, first, last, surprisal, usage, SETTINGS))
            labels.append(int(pasted))
            left, right = text[max(0, m.start - 30) : m.start], text[m.end : m.end + 30]
            shown.append(f"{int(pasted)} {left}[{m.text}]{right}")
    return feats, labels, shown


def function_examples(seeds: list[int], lm: object) -> tuple[list[dict[str, float]], list[int]]:
    """Every function word of every damaged copy, labelled pasted when a substitution's paste is that word."""
    feats: list[dict[str, float]] = []
    labels: list[int] = []
    for answers, doc, toks, surprisal in damaged_copies(seeds, lm):
        assert surprisal is not None  # main() refuses --function without a model
        subs = [(a.start, a.end) for a in answers if a.kind == "substitution" and " " not in a.before.strip()]
        for i, t in enumerate(toks[:-1]):
            if t.text.lower() not in FUNCTION_WORDS:
                continue
            bs, be, _, _ = doc.layer.to_base(t.start, t.end)
            feats.append(function_word_features(toks, i, surprisal, SETTINGS))
            labels.append(int(any(s <= bs and be <= e for s, e in subs)))
    return feats, labels


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 3000) -> np.ndarray:
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ w))
        grad = x.T @ (p - y) / len(y) + l2 * np.r_[0.0, w[1:]] / len(y)
        w -= 0.5 * grad
    return w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1-4")
    ap.add_argument("--no-model", action="store_true")
    ap.add_argument("--function", action="store_true", help="fit the pasted function words' signs instead")
    args = ap.parse_args()
    if args.function and args.no_model:
        ap.error("the function words' signs include surprisal: --function needs the model")
    a, _, b = args.seeds.partition("-")
    seeds = list(range(int(a), int(b or a) + 1))
    lm = None if args.no_model else load_model("smollm2")
    if args.function:
        feats, labels = function_examples(seeds, lm)
        section = "function_word"
    else:
        feats, labels, _ = examples(seeds, lm)
        section = "mention_no_model" if lm is None else "mention"
    model = getattr(SETTINGS, section)
    names = list(model.weights)
    bias, weights = model.bias, model.weights
    x = np.array([[1.0] + [f.get(n, 0.0) for n in names] for f in feats])
    y = np.array(labels, dtype=float)
    print(f"{len(y)} examples, {int(y.sum())} pasted ({y.mean():.1%})")
    for j, n in enumerate(names, 1):
        on = x[:, j] > 0
        print(f"  {n:24} fires {on.sum():5d}  pasted there {y[on].mean() if on.any() else 0:.2f}")
    w = fit(x, y)
    cur = np.array([bias] + [weights.get(n, 0.0) for n in names])
    for label, ww in (("current", cur), ("fitted", w)):
        p = 1 / (1 + np.exp(-x @ ww))
        for t in (0.1, 0.2, 0.3, 0.4, 0.6):
            sel = p >= t
            prec = y[sel].mean() if sel.any() else 0.0
            rec = y[sel].sum() / y.sum()
            print(f"{label:8} prior>={t}: flagged {sel.sum():4d}  precision {prec:.2f}  recall {rec:.2f}")
    fitted = {"bias": round(w[0], 2), "weights": {n: round(v, 2) for n, v in zip(names, w[1:], strict=True)}}
    print(json.dumps({section: {**fitted, "min_prior": model.min_prior}}, indent=1))


if __name__ == "__main__":
    main()
