"""Calibrated confidence: the share of edits like this one that were right on the synthetic benchmark.

A raw confidence (a candidate's share among its rivals, or a rule's fixed number) is
mapped through a monotone step-and-slope curve fitted per group of edits: kind x source
(``substitution/model``, ``tokenization/rule``), falling back to the kind, then to all
edits, when a group has too few edits to fit. Fitting pools edits into a few bins of
raw confidence, shrinks each bin's share of right edits toward its group's share (and
a small group's share toward its parent's), then makes the bins non-decreasing by
pool-adjacent-violators, so a higher raw confidence never maps to a lower one.

The map ships as ``repair/data/calibration.json``; ``repair bench --fit-calibration``
refits it. ``REPAIR_CALIBRATION`` names another map file, or ``none`` for the raw shares.
"""

from __future__ import annotations

import json
import os
from bisect import bisect_right
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from repair.edits import Edit, Evidence
from repair.files.textio import InputError, parse_json, read_text

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "calibration.json"
ENV = "REPAIR_CALIBRATION"
FORMAT_VERSION = 1
ALL = "*"
CONTENT = "content"  # every kind but tokenization: a content edit never borrows the sure rules' curve
TOKENIZATION = "tokenization"
EVIDENCE_SOURCE = "decide:calibration"
# a group needs this many judged edits to get a curve of its own; below, its edits use the parent's
MIN_GROUP_EDITS = 12
MAX_BINS = 6
MIN_BIN_EDITS = 15
# pseudo-edits pulling a bin's share toward its group's, and a group's toward its parent's
BIN_PRIOR_EDITS = 4.0
GROUP_PRIOR_EDITS = 10.0
ECE_BINS = 10
# what `decide` names a winning candidate's source (`repair.edits.Source`, every one but "keep") in the
# calibration groups; keyed by plain strings, as an edit's evidence names them ("decide:lm")
SOURCE_NAMES: dict[str, str] = {
    "ref": "reference",
    "lm": "model",
    "pronoun": "pronoun",
    "delete": "delete",
    "story": "story",
    "drop": "drop",
    "mark": "punctuation",
    "names": "names",
    "paraphrase": "paraphrase",
}


@dataclass(frozen=True)
class Features:
    """What the calibration map reads off one edit, and what the benchmark records about it."""

    kind: str
    source: str  # rule | reference | pronoun | delete | model
    raw: float  # the confidence before calibration
    margin: float | None = None  # nats from the winning candidate to the runner-up (content edits)
    refs: int = 0  # references whose reading the edit follows


@dataclass(frozen=True)
class Observation:
    """One judged edit: its features and whether it moved the text toward the gold."""

    features: Features
    correct: bool


@dataclass(frozen=True)
class Curve:
    """A monotone map from raw to calibrated confidence: linear between points, flat beyond them."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    edits: int = 0

    def __call__(self, raw: float) -> float:
        """The calibrated confidence at ``raw``.

        >>> c = Curve((0.2, 0.8), (0.1, 0.5))
        >>> c(0.0), round(c(0.5), 4), c(1.0)
        (0.1, 0.3, 0.5)
        """
        if not self.xs:
            return raw
        i = bisect_right(self.xs, raw)
        if i == 0:
            return self.ys[0]
        if i == len(self.xs):
            return self.ys[-1]
        x0, x1, y0, y1 = self.xs[i - 1], self.xs[i], self.ys[i - 1], self.ys[i]
        return y0 + (y1 - y0) * (raw - x0) / (x1 - x0) if x1 > x0 else y1


@dataclass(frozen=True)
class CalibrationMap:
    """Curves per group (see `chain`); an empty map leaves confidences raw.

    ``raw_kinds`` are kinds the benchmark could not judge (it made no damage of that
    kind, so none of their edits could count as right): they keep their raw confidence.
    """

    curves: dict[str, Curve] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    raw_kinds: tuple[str, ...] = ()

    def group(self, kind: str, source: str) -> str | None:
        """The most specific group with a curve (see `chain`)."""
        if kind in self.raw_kinds:
            return None
        return next((key for key in chain(kind, source) if key in self.curves), None)

    def calibrate(self, kind: str, source: str, raw: float) -> tuple[float, str | None]:
        """The calibrated confidence and the group whose curve gave it (None: no curve, raw kept)."""
        key = self.group(kind, source)
        return (raw, None) if key is None else (round(self.curves[key](raw), 4), key)

    def to_json(self) -> str:
        """The map as JSON, one line per group so a refit reads well in a diff."""
        groups = [
            json.dumps(k)
            + ": "
            + json.dumps({"edits": c.edits, "points": [list(p) for p in zip(c.xs, c.ys, strict=True)]})
            for k, c in sorted(self.curves.items())
        ]
        top = {"version": FORMAT_VERSION, "info": self.info, "raw_kinds": list(self.raw_kinds)}
        head = json.dumps(top, indent=1)[:-2]
        return head + ',\n "groups": {\n  ' + ",\n  ".join(groups) + "\n }\n}\n"

    @classmethod
    def from_json(cls, text: str, *, name: str = "calibration map") -> CalibrationMap:
        try:
            doc = parse_json(text, name)
            curves = {
                str(k): Curve(
                    tuple(float(x) for x, _ in g["points"]), tuple(float(y) for _, y in g["points"]), int(g["edits"])
                )
                for k, g in doc["groups"].items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"{name} is not a calibration map of `repair bench --fit-calibration`: {exc}") from exc
        for k, c in curves.items():
            if list(c.xs) != sorted(c.xs) or list(c.ys) != sorted(c.ys):
                raise InputError(f"{name}: the curve of {k} is not monotone")
            if any(not 0.0 <= y <= 1.0 for y in c.ys):
                raise InputError(f"{name}: the curve of {k} leaves 0..1")
        return cls(curves, dict(doc.get("info") or {}), tuple(str(k) for k in doc.get("raw_kinds") or ()))


IDENTITY = CalibrationMap()


def chain(kind: str, source: str) -> list[str]:
    """The groups an edit belongs to, the most specific first: the order a map looks for a curve.

    Where a kind has too few edits from a source, the source speaks before the kind: a
    reference's reading is right about as often whatever the kind, while a kind's own curve
    is mostly that of the model's guesses (a gap filled from a reference would borrow them).

    >>> chain("gap", "model")
    ['gap/model', 'content/model', 'gap', 'content', '*']
    >>> chain("tokenization", "rule")
    ['tokenization/rule', 'tokenization', '*']
    """
    if kind == TOKENIZATION:
        return [f"{kind}/{source}", kind, ALL]
    return [f"{kind}/{source}", f"{CONTENT}/{source}", kind, CONTENT, ALL]


def parent(key: str) -> str | None:
    """The group a group's share is shrunk toward when it has few edits.

    >>> [parent(k) for k in ("gap/model", "gap", "content/model", "content", "tokenization", "*")]
    ['gap', 'content', 'content', '*', '*', None]
    """
    if key == ALL:
        return None
    if "/" in key:
        return key.split("/")[0]
    return ALL if key in (CONTENT, TOKENIZATION) else CONTENT


@lru_cache(maxsize=4)
def _load(path: str) -> CalibrationMap:
    p = Path(path)
    if not p.exists():
        if p == DEFAULT_PATH:
            return IDENTITY  # not fitted yet: raw shares
        raise InputError(f"calibration map not found: {p} (from {ENV})")
    return CalibrationMap.from_json(read_text(p, what="calibration map"), name=str(p))


def default_map() -> CalibrationMap:
    """The shipped map, or the one ``REPAIR_CALIBRATION`` names (``none``: raw confidences)."""
    choice = os.environ.get(ENV, "").strip()
    if choice.lower() == "none":
        return IDENTITY
    return _load(choice or str(DEFAULT_PATH))


# ---- reading an edit -------------------------------------------------------------------------------------


def calibration_evidence(f: Features, calibrated: float, group: str | None) -> Evidence:
    """The raw confidence kept next to the calibrated one, so a reviewer sees both."""
    what = "share among candidates" if f.source != "rule" else "rule's confidence"
    margin = f", {f.margin:.2f} nats ahead of the runner-up" if f.margin is not None else ""
    if group is None:
        detail = f"{what} {f.raw:.2f}{margin}; not calibrated"
    else:
        detail = f"{what} {f.raw:.2f}{margin}; edits like it ({group}) were right {calibrated:.0%} of the time"
    return Evidence(EVIDENCE_SOURCE, detail, score=round(f.raw, 4))


def margin_of(candidates: Sequence[tuple[str, float]]) -> float | None:
    """Nats from the best candidate to the runner-up.

    >>> margin_of([("its", -3.0), ("Russia", -4.5)]), margin_of([("its", -3.0)])
    (1.5, None)
    """
    return candidates[0][1] - candidates[1][1] if len(candidates) > 1 else None


def features(edit: Edit) -> Features:
    """The calibration features of an edit as `decide` left it (raw confidence from its evidence)."""
    raw = edit.confidence
    chosen = [ev for ev in edit.evidence if ev.source == EVIDENCE_SOURCE and ev.score is not None]
    if chosen:
        raw = max(float(ev.score or 0.0) for ev in chosen)
    decided = next(
        (ev for ev in edit.evidence if ev.source.startswith("decide:") and ev.source[7:] in SOURCE_NAMES), None
    )
    refs = len({ev.source for ev in edit.evidence if ev.source.startswith("ref:")})
    if decided is None:
        return Features(edit.kind, "rule", raw, None, refs)
    source = SOURCE_NAMES[decided.source[7:]]
    return Features(edit.kind, source, raw, margin_of(decided.candidates), refs)


def calibrated(edit: Edit, features_: Features, cmap: CalibrationMap) -> Edit:
    """The edit with its calibrated confidence and the evidence of both numbers."""
    value, group = cmap.calibrate(features_.kind, features_.source, features_.raw)
    return replace(edit, confidence=value, evidence=(*edit.evidence, calibration_evidence(features_, value, group)))


# ---- fitting ---------------------------------------------------------------------------------------------


def pav(values: Sequence[float], weights: Sequence[float]) -> list[float]:
    """Pool adjacent violators: the non-decreasing sequence closest to ``values`` in weighted squares.

    >>> pav([0.2, 0.6, 0.4, 0.9], [1, 1, 1, 1])
    [0.2, 0.5, 0.5, 0.9]
    """
    blocks: list[list[float]] = []  # [value, weight, count]
    for v, w in zip(values, weights, strict=True):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    return [b[0] for b in blocks for _ in range(int(b[2]))]


def _bins(obs: Sequence[Observation]) -> list[list[Observation]]:
    """Up to MAX_BINS runs of equal size by raw confidence; equal raw values never split."""
    ranked = sorted(obs, key=lambda o: o.features.raw)
    n_bins = max(1, min(MAX_BINS, len(ranked) // MIN_BIN_EDITS))
    size = len(ranked) / n_bins
    out: list[list[Observation]] = [[]]
    for i, o in enumerate(ranked):
        if out[-1] and i >= size * len(out) and o.features.raw != out[-1][-1].features.raw:
            out.append([])
        out[-1].append(o)
    if len(out) > 1 and len(out[-1]) < MIN_BIN_EDITS / 2:
        out[-2].extend(out.pop())
    return out


def fit_curve(obs: Sequence[Observation], prior: float) -> Curve:
    """A monotone curve for one group, every bin's share shrunk toward ``prior`` by BIN_PRIOR_EDITS."""
    bins = _bins(obs)
    xs = [sum(o.features.raw for o in b) / len(b) for b in bins]
    shares = [(sum(o.correct for o in b) + BIN_PRIOR_EDITS * prior) / (len(b) + BIN_PRIOR_EDITS) for b in bins]
    ys = pav(shares, [float(len(b)) for b in bins])
    return Curve(tuple(round(x, 4) for x in xs), tuple(round(y, 4) for y in ys), len(obs))


def _shrunk(obs: Sequence[Observation], parent: float) -> float:
    return (sum(o.correct for o in obs) + GROUP_PRIOR_EDITS * parent) / (len(obs) + GROUP_PRIOR_EDITS)


def fit(
    observations: Iterable[Observation],
    info: dict[str, Any] | None = None,
    *,
    judged_kinds: Collection[str] | None = None,
) -> CalibrationMap:
    """A curve for every group (see `chain`) with at least MIN_GROUP_EDITS edits.

    Each group's share of right edits is shrunk toward its parent's, and each bin's
    toward its group's, so a small group says little more than its parent does.
    Edits of a kind outside ``judged_kinds`` (the kinds of damage the benchmark made;
    None: all) are left out, and their kind keeps raw confidences.
    """
    everything = list(observations)
    obs = [o for o in everything if judged_kinds is None or o.features.kind in judged_kinds]
    raw_kinds = tuple(sorted({o.features.kind for o in everything} - {o.features.kind for o in obs}))
    if not obs:
        return CalibrationMap({}, dict(info or {}), raw_kinds)
    members: dict[str, list[Observation]] = {}
    for o in obs:
        for key in chain(o.features.kind, o.features.source):
            members.setdefault(key, []).append(o)
    share: dict[str, float] = {ALL: sum(o.correct for o in obs) / len(obs)}

    def prior(key: str) -> float:
        if key not in share:
            up = parent(key)
            share[key] = _shrunk(members[key], prior(up) if up is not None else 0.5)
        return share[key]

    curves = {
        key: fit_curve(group, prior(key))
        for key, group in sorted(members.items())
        if len(group) >= MIN_GROUP_EDITS or key == ALL
    }
    return CalibrationMap(curves, dict(info or {}), raw_kinds)


def ece(pairs: Iterable[tuple[float, bool]], bins: int = ECE_BINS) -> float:
    """Expected calibration error: the edit-weighted gap between confidence and share right, in equal bins.

    >>> ece([(0.9, True), (0.9, False)]), ece([(0.75, True), (0.75, True), (0.75, True), (0.75, False)])
    (0.4, 0.0)
    """
    rows = list(pairs)
    if not rows:
        return 0.0
    total = 0.0
    for b in range(bins):
        inside = [(c, ok) for c, ok in rows if min(int(c * bins), bins - 1) == b]
        if inside:
            conf = sum(c for c, _ in inside) / len(inside)
            share = sum(ok for _, ok in inside) / len(inside)
            total += len(inside) * abs(conf - share)
    return total / len(rows)
