"""Find damaged spans: gaps, duplicates, disagreement with references, pasted names, misfit words.

Each detector is a small function returning `Suspect`s on the normalized text with a
prior `score` (0..1): how likely the span is damage before any candidate is weighed.
The language model only screens here (surprisal); `propose` and `decide` weigh fixes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from repair.edits import Evidence
from repair.lm import LanguageModel
from repair.lm.base import DocumentContext
from repair.stages.logistic import Logistic, squash
from repair.stages.normalize import Normalized
from repair.stages.signals import Context, UnitKind, signals, units_of
from repair.stages.spans import Suspect
from repair.stages.witness import Alignment
from repair.text.document import Document
from repair.text.english import ALLOWED_REPEATS, FUNCTION_WORDS
from repair.text.tokens import Token, tokenize

# kinds whose reference reading the aligner gives only where the input shows the damage itself:
# doubled words, a name alone inside a long verbatim stretch
SHOWN_BY_ALIGNMENT = frozenset({"duplicate", "stray"})


def condition(kind: UnitKind, lm: bool) -> str:
    """The key of a fitted paste model: what kind of unit, and whether the run has the model's surprisal.

    >>> condition("name", True), condition("function", False)
    ('name/lm', 'function/nolm')
    """
    return f"{kind}/{'lm' if lm else 'nolm'}"


@dataclass(frozen=True)
class DetectSettings:
    """The detectors' numbers. The fitted paste models come from ``repair/data/detect.json``
    (`repair.stages.settings.load_settings`, refit by ``benchmarks/detector_fit.py``); the rest are set by hand.

    A paste model weighs the signs of one kind of unit (`repair.stages.signals`: a name, a function
    word) with the model's surprisal or without (`condition`): without, the other signs carry it all.
    """

    pastes: Mapping[str, Logistic]  # by `condition`
    longest_repeat: int = 4  # words in the longest repeated phrase looked for ("the U.S. the U.S.")
    repeat_prior: float = 0.85  # a repeated phrase or capitalized word ("Assad Assad")
    repeat_word_prior: float = 0.75  # a repeated lower-case word ("the the")
    allowed_repeat_prior: float = 0.35  # a repeat the language allows ("that that", "had had")
    reference_prior_floor: float = 0.05  # a reference's reading is a suspect at least this likely...
    reference_prior_ceiling: float = 0.99  # ...and at most this
    min_agreeing_refs: int = 2  # references that overrule an input showing no damage of its own
    evidence_signs: int = 6  # the strongest signs a paste suspect's evidence names
    overrule_prior: float = 0.3  # a detector's suspect lets one reference overrule the input from this prior on
    quote_min_confidence: float = 0.7  # a reference quoting a passage exactly overrules a paste in it from here


def detect(
    doc: Normalized,
    document: Document,
    alignment: Alignment,
    surprisal: Sequence[float] | None,
    settings: DetectSettings,
) -> tuple[Suspect, ...]:
    """Every suspect span of ``doc.text``, sorted by position; overlapping ones are kept for `decide`.

    ``document`` is `Document.of(doc.text)`; ``surprisal`` each of its tokens' (`token_surprisal`), None
    without a model.
    """
    found: list[Suspect] = list(doc.suspects)
    for detector in DETECTORS:
        found.extend(detector(document, alignment, surprisal, settings))
    found = gaps_take_readings(overruling(found, settings, document.text))
    return tuple(sorted(_dedupe(found), key=lambda s: (s.start, s.end, s.kind)))


@dataclass(frozen=True)
class Surprisal:
    """The model's read of a document: each token's surprisal, and what the model keeps of the document
    (`repair.lm.base.Reading`), which the pipeline hands to proposing with the document's gaps."""

    values: list[float]  # nats, per token of the `Document` (0 for a token the model gave none)
    context: DocumentContext | None


def token_surprisal(text: str, toks: Sequence[Token], lm: LanguageModel) -> Surprisal:
    """Surprisal (nats) of each word token given the whole document before it, read in one pass.

    A token's surprisal is that of its first model piece: how unexpected the word is where it stands.
    (A window of the sentence before made the model read every sentence twice, and its higher surprisals
    sent more suspects to proposing: the whole document took 39% fewer model tokens on held-out seed 3 at
    the same content F0.5, benchmarks/README.md, "Throughput with the model".)
    """
    out = [0.0] * len(toks)
    starts = {t.start: i for i, t in enumerate(toks)}
    pieces, context = lm.read(" ".join(text.split()))
    # surprisal is computed on the whitespace-folded text: map its chars back by walking both
    back = _fold_map(text, 0, len(text))
    for cs, _ce, nats in pieces:
        if cs < len(back):
            pos = back[cs]
            while pos < len(text) and text[pos].isspace():  # a model piece may start with the space before a word
                pos += 1
            i = starts.get(pos)
            if i is not None and out[i] == 0.0:
                out[i] = nats
    return Surprisal(out, context)


def _fold_map(text: str, start: int, end: int) -> list[int]:
    """For each char of ``" ".join(text[start:end].split())``, its offset in ``text``."""
    out: list[int] = []
    i = start
    while i < end and text[i].isspace():
        i += 1
    while i < end:
        if text[i].isspace():
            j = i
            while j < end and text[j].isspace():
                j += 1
            if j < end:
                out.append(i)
            i = j
        else:
            out.append(i)
            i += 1
    return out


def duplicate_suspects(
    document: Document, alignment: Alignment, surprisal: Sequence[float] | None, settings: DetectSettings
) -> list[Suspect]:
    """An n-gram (n = 1..4) repeated at once: "Assad Assad", "the the", "the U.S. the U.S."."""
    text, toks = document.text, document.tokens
    low = [t.text.lower() for t in toks]
    out: list[Suspect] = []
    taken: set[int] = set()
    for n in range(settings.longest_repeat, 0, -1):
        # only where the two copies' first words agree (cheap to find for all n-grams at once)
        starts = range(len(toks) - 2 * n + 1)
        for i in [i for i, a, b in zip(starts, low, low[n:], strict=False) if a == b]:
            first, second = toks[i : i + n], toks[i + n : i + 2 * n]
            if i in taken or not any(t.is_word for t in first):
                continue
            if low[i : i + n] != low[i + n : i + 2 * n]:
                continue
            if any(second[k].start - first[k].start != second[0].start - first[0].start for k in range(n)):
                continue  # same words, different spacing: not a machine's copy
            if text[first[-1].end : second[0].start] != " ":
                continue
            if any(c in text[first[0].start : second[0].start] for c in "\r\n"):
                continue  # deleting the first copy would take a line end with it
            if n == 1 and first[0].text.lower() in ALLOWED_REPEATS:
                prior = settings.allowed_repeat_prior
            else:
                prior = settings.repeat_prior if n > 1 or first[0].text[0].isupper() else settings.repeat_word_prior
            words = " ".join(t.text for t in first)
            out.append(
                Suspect(
                    first[0].start,
                    second[0].start,
                    "duplicate",
                    prior,
                    f"“{words}” is repeated at once",
                    (Evidence("detector:duplicate", f"repeated {n}-gram “{words}”"),),
                    cause="repeat",
                )
            )
            taken.update(range(i, i + 2 * n))
    return out


def paste_suspects(
    document: Document, alignment: Alignment, surprisal: Sequence[float] | None, settings: DetectSettings
) -> list[Suspect]:
    """Names and function words that look pasted over other words or put in ("maintain Russia alliance",
    "he said. he But"): each unit's signs (`repair.stages.signals`) weighed by the model fitted for this
    run's condition; its probability is the suspect's prior."""
    ctx = Context.of(document, surprisal)
    out: list[Suspect] = []
    for u in units_of(document):
        model = settings.pastes[condition(u.kind, surprisal is not None)]
        cues = model.weigh(signals(u, ctx))
        prior = squash(sum(cues.values()))
        if prior < model.min_prior:
            continue
        words = document.text[u.start : u.end]
        top = dict(sorted(cues.items(), key=lambda kv: -abs(kv[1]))[: settings.evidence_signs])
        evidence = (Evidence("detector:paste", _describe(top), score=prior),)
        if u.kind == "name":
            reason = f"the name “{words}” may have been pasted over words"
            out.append(
                Suspect(u.start, u.end, "substitution", prior, reason, evidence, cause="mention", mention=u.mention)
            )
        else:
            reason = f"“{words}” may have been pasted over words or put in"
            out.append(Suspect(u.start, u.end, "substitution", prior, reason, evidence, cause="misfit"))
    return out


def reference_suspects(
    document: Document, alignment: Alignment, surprisal: Sequence[float] | None, settings: DetectSettings
) -> list[Suspect]:
    """Spans where the references covering a passage agree on a different, damage-like reading."""
    lo, hi = settings.reference_prior_floor, settings.reference_prior_ceiling
    return [
        Suspect(
            f.doc_start,
            f.doc_end,
            f.kind,
            max(lo, min(hi, f.confidence)),
            f"{len(f.witnesses)} reference(s) read “{f.after.strip() or '∅'}” here",
            f.evidence(),
            readings=(f.after,),
            cause="reference",
        )
        for f in alignment.fixes
    ]


Detector = Callable[[Document, Alignment, "Sequence[float] | None", DetectSettings], list[Suspect]]
DETECTORS: tuple[Detector, ...] = (  # gaps come from `normalize` (runs of spaces), in ``doc.suspects``
    duplicate_suspects,
    reference_suspects,
    paste_suspects,
)


def overruling(found: Sequence[Suspect], settings: DetectSettings, text: str) -> list[Suspect]:
    """The suspects, less a reference's reading where the input shows no damage and one reference alone says so.

    Outlets reword ("wind, waves" / "wind speed, wave heights", "Brooks said" / "the mayor
    said"), so one reference differing is no sign of damage: it may overrule the input only
    where a detector of the input itself found something there at ``overrule_prior`` at least
    (a gap, a pasted name, a misfit word, a duplicate), where ``min_agreeing_refs`` references
    agree against the input, or inside a quotation: outlets quote word for word, so a reference
    that quotes the passage exactly (its reading at ``quote_min_confidence``) overrules a name
    or function word standing where its words differ.
    """
    shown = [s for s in found if not s.readings and s.score >= settings.overrule_prior]
    return [
        s
        for s in found
        if not s.readings
        or s.kind in SHOWN_BY_ALIGNMENT
        or len({ev.source for ev in s.evidence if ev.source.startswith("ref:")}) >= settings.min_agreeing_refs
        or any(_touches(s, d) for d in shown)
        or (s.score >= settings.quote_min_confidence and _pasted_in_quote(text, s))
    ]


def _pasted_in_quote(text: str, s: Suspect) -> bool:
    """Whether the span stands inside a quotation on its line and holds only names and function words.

    >>> t = 'He said: " We can keep Russia alliance , " and left.'
    >>> k = t.index("Russia")
    >>> _pasted_in_quote(t, Suspect(k, k + 6, "substitution", 0.9, "", cause="reference"))
    True
    >>> k = t.index("left")
    >>> _pasted_in_quote(t, Suspect(k, k + 4, "substitution", 0.9, "", cause="reference"))
    False
    """
    if not text or s.start == s.end:
        return False
    line = text.rfind("\n", 0, s.start) + 1
    before = text[line : s.start]
    opened = before.rfind("“") > before.rfind("”") or before.count('"') % 2 == 1
    words = [t for t in tokenize(text[s.start : s.end]) if t.is_word]
    pasted = all(t.text[0].isupper() or t.text.lower() in FUNCTION_WORDS for t in words)
    return opened and bool(words) and pasted


def _touches(s: Suspect, d: Suspect) -> bool:
    """Whether two spans overlap, a point counting as inside a span it lies in or at the edge of."""
    if s.start == s.end or d.start == d.end:
        return d.start <= s.end and s.start <= d.end
    return d.start < s.end and s.start < d.end


def gaps_take_readings(found: Sequence[Suspect]) -> list[Suspect]:
    """A reference's insertion at a run of spaces becomes that gap's reading: one suspect spanning the run.

    The aligner places an insertion after the word before it, so kept apart it would fill
    the gap beside the run of spaces and leave the run ("pressed    governments"), and the
    gap itself would be filled by the model with words no witness read. Merged, the
    reference's words are the gap's first candidate and replace the run (`propose` spaces them).
    """
    gaps = [s for s in found if s.kind == "gap" and s.start < s.end and not s.readings]
    taken: dict[Suspect, list[Suspect]] = {}
    rest: list[Suspect] = []
    for s in found:
        g = next((g for g in gaps if s.readings and s.start == s.end and g.start <= s.start <= g.end), None)
        if g is None:
            rest.append(s)
        else:
            taken.setdefault(g, []).append(s)
    merged = [
        replace(
            g,
            score=max(g.score, *(r.score for r in refs)),
            reason=refs[0].reason,
            evidence=g.evidence + tuple(ev for r in refs for ev in r.evidence),
            readings=tuple(w.strip() for r in refs for w in r.readings),
        )
        for g, refs in taken.items()
    ]
    return [s for s in rest if s not in taken] + merged


def _describe(cues: dict[str, float]) -> str:
    return "; ".join(f"{k} {v:+.1f}" for k, v in cues.items() if v)


def _dedupe(found: list[Suspect]) -> list[Suspect]:
    """One suspect per (span, kind): the strongest, with the evidence of all."""
    best: dict[tuple[int, int, str], Suspect] = {}
    for s in found:
        key = (s.start, s.end, s.kind)
        if key not in best:
            best[key] = s
        else:
            old = best[key]
            top = s if s.score > old.score else old
            best[key] = replace(top, evidence=old.evidence + s.evidence, readings=old.readings + s.readings)
    return list(best.values())
