"""Find damaged spans: gaps, duplicates, disagreement with references, pasted names, misfit words.

Each detector is a small function returning `Suspect`s on the normalized text with a
prior `score` (0..1): how likely the span is damage before any candidate is weighed.
The language model only screens here (surprisal); `propose` and `decide` weigh fixes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from repair.edits import Evidence
from repair.lm import LanguageModel
from repair.lm.base import DocumentContext
from repair.stages.normalize import Normalized
from repair.stages.spans import Suspect
from repair.stages.witness import Alignment
from repair.text.document import Document
from repair.text.english import (
    ALLOWED_REPEATS,
    CLOSED_CLASS,
    DETERMINERS,
    FUNCTION_WORDS,
    HONORIFICS,
    PREPOSITIONS,
    SPEECH_VERBS,
    SUBJECT_PRONOUNS,
)
from repair.text.entities import Mention
from repair.text.sentences import OPENING_TOKENS
from repair.text.tokens import Token

# kinds whose reference reading the aligner gives only where the input shows the damage itself:
# doubled words, a name alone inside a long verbatim stretch
SHOWN_BY_ALIGNMENT = frozenset({"duplicate", "stray"})


@dataclass(frozen=True)
class Logistic:
    """A fitted logistic model over named signs: log-odds = ``bias`` + the sum of each sign times its weight. A span
    is kept as a suspect from ``min_prior`` on: one with no sign of damage is not worth the model's time."""

    bias: float
    weights: Mapping[str, float]
    min_prior: float

    def weigh(self, feats: Mapping[str, float]) -> dict[str, float]:
        """Log-odds contributions of the signs present: the bias, then each feature times its weight.

        >>> Logistic(-1.0, {"a": 0.5, "c": 1.0}, 0.5).weigh({"a": 1.0, "b": 0.0, "c": 2.0})
        {'base': -1.0, 'a': 0.5, 'c': 2.0}
        """
        return {"base": self.bias} | {n: self.weights.get(n, 0.0) * v for n, v in feats.items() if v}


@dataclass(frozen=True)
class DetectSettings:
    """The detectors' numbers. The three fitted models come from ``repair/data/detect.json``
    (`repair.stages.settings.load_settings`); the rest are set by hand.

    Of the pasted-name signs, those that look telling alone (a determiner before, another name
    touching) add nothing once the model's surprisal is known; a name after a preposition, in a
    list or before "said" is mostly real.
    """

    mention: Logistic  # a name pasted over words (`mention_features`), with the model's surprisal
    mention_no_model: Logistic  # the same without a model: the grammar signs carry it all
    function_word: Logistic  # a function word pasted over words (`function_word_features`)
    break_nats: float = 7.0  # surprisal of the word after a span above which the span reads as a break
    surprising_name_nats: float = 6.0  # a name's surprisal counts from here ("surprising name")
    misfit_nats: float = 5.0  # a function word's surprisal counts from here ("misfit")
    misfits_per_sentence: int = 1  # function words kept per sentence, the likeliest
    bare_name_share: float = 0.34  # "the Assad": a name written with "the" less often than this elsewhere
    longest_repeat: int = 4  # words in the longest repeated phrase looked for ("the U.S. the U.S.")
    repeat_prior: float = 0.85  # a repeated phrase or capitalized word ("Assad Assad")
    repeat_word_prior: float = 0.75  # a repeated lower-case word ("the the")
    allowed_repeat_prior: float = 0.35  # a repeat the language allows ("that that", "had had")
    reference_prior_floor: float = 0.05  # a reference's reading is a suspect at least this likely...
    reference_prior_ceiling: float = 0.99  # ...and at most this
    min_agreeing_refs: int = 2  # references that overrule an input showing no damage of its own


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
    found = gaps_take_readings(overruling(found, settings.min_agreeing_refs))
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


def mention_suspects(
    document: Document, alignment: Alignment, surprisal: Sequence[float] | None, settings: DetectSettings
) -> list[Suspect]:
    """Names of the document standing where grammar wants something else ("maintain Russia alliance")."""
    toks, mentions, keys = document.tokens, document.mentions, document.entities
    usage = article_usage(mentions)
    by_start = {t.start: i for i, t in enumerate(toks)}
    by_end = {t.end: i for i, t in enumerate(toks)}
    # without a model the surprisal signs are missing, and the other signs were fitted without them
    model = settings.mention if surprisal is not None else settings.mention_no_model
    out: list[Suspect] = []
    for k, m in enumerate(mentions):
        if m.key not in keys:
            continue
        first, last = by_start.get(m.start), by_end.get(m.end)
        if first is None or last is None:
            continue
        cues = model.weigh(mention_features(m, mentions, k, toks, first, last, surprisal, usage, settings))
        prior = _squash(cues)
        if prior < model.min_prior:
            continue
        out.append(
            Suspect(
                toks[with_honorific(toks, first)].start,
                m.end,
                "substitution",
                prior,
                f"the name “{m.text}” may have been pasted over words",
                (Evidence("detector:mention", _describe(cues), score=prior),),
                cause="mention",
                mention=m,
            )
        )
    return out


def with_honorific(toks: Sequence[Token], first: int) -> int:
    """The first token of a name with the honorific before it ("Mr Tillerson", "Dr. Who"): a pasted name
    comes with its title, and a pronoun restored in its place takes the title's place too.

    >>> from repair.text.tokens import tokenize
    >>> toks = tokenize("Then Mr. Tillerson and Mr Assad and Assad")
    >>> [with_honorific(toks, i) for i in (3, 6, 8)]
    [1, 5, 8]
    """
    dotted = first > 1 and toks[first - 1].text == "." and toks[first - 1].start == toks[first - 2].end
    i = first - 1 if dotted else first
    before = toks[i - 1] if i > 0 else None
    if before is not None and before.text.lower() in HONORIFICS and before.text[0].isupper():
        return i - 1
    return first


def mention_features(
    m: Mention,
    mentions: Sequence[Mention],
    k: int,
    toks: Sequence[Token],
    first: int,
    last: int,
    surprisal: Sequence[float] | None,
    usage: dict[str, float],
    settings: DetectSettings,
) -> dict[str, float]:
    """The raw signs that a name was pasted over words (0 where a sign is absent)."""
    f: dict[str, float] = {}
    prev = toks[first - 1] if first > 0 else None
    nxt = toks[last + 1] if last + 1 < len(toks) else None
    led = m.text.lower().startswith("the ")
    if prev is not None and prev.text.lower() in DETERMINERS | {"’s", "'s"} and not led:
        f["after a determiner"] = 1.0
    if prev is not None and (prev.text.endswith("’s") or prev.text.endswith("'s")):
        f["after a possessive"] = 1.0
    if prev is not None and prev.text.lower() in ("the", "a") and led:
        f["double determiner"] = 1.0
    if prev is not None and prev.text.lower() in SUBJECT_PRONOUNS:
        f["after a pronoun"] = 1.0
    if nxt is not None and nxt.is_word and nxt.text[0].islower() and nxt.text.lower() not in FUNCTION_WORDS:
        # a lower-case content word right after a name: "Russia alliance", "Russia interests"
        f["content word follows"] = 1.0
    if nxt is not None and nxt.is_word and nxt.text.lower() in ("the", "a", "an"):
        f["article follows"] = 1.0
    if nxt is not None and nxt.text.lower() in SUBJECT_PRONOUNS:
        f["pronoun follows"] = 1.0
    if prev is not None and prev.text.lower() in PREPOSITIONS:
        f["after a preposition"] = 1.0
    if prev is not None and prev.text.lower() in ("and", "or", ","):
        f["in a list"] = 1.0
    if nxt is not None and nxt.text.lower() in SPEECH_VERBS:
        f["a verb follows"] = 1.0
    if nxt is not None and nxt.text in (".", ",", ";", ":", "?", "!"):
        f["ends a clause"] = 1.0
    if prev is not None and prev.is_word and prev.text[0].islower() and prev.text.lower() not in FUNCTION_WORDS:
        f["after a content word"] = 1.0
    neighbours = [mentions[j] for j in (k - 1, k + 1) if 0 <= j < len(mentions)]
    if any(0 <= n.start - m.end <= 1 or 0 <= m.start - n.end <= 1 for n in neighbours):
        f["touches another name"] = 1.0
    if led and usage.get(m.key, 1.0) < settings.bare_name_share:
        # "the Assad": a name the document otherwise writes bare took the article of the words it replaced
        f["article it never takes"] = 1.0
    if surprisal is not None:
        head = surprisal[first]
        after = surprisal[last + 1] if nxt is not None and nxt.is_word else 0.0
        # the first word of a sentence is surprising whatever it is
        at_start = prev is None or prev.text in (".", "!", "?", '"', "“", "”") or "\n" in (prev.text,)
        f["surprising name"] = 0.0 if at_start else max(0.0, head - settings.surprising_name_nats)
        f["break after"] = max(0.0, after - settings.break_nats)
    return f


def article_usage(mentions: Sequence[Mention]) -> dict[str, float]:
    """Per name, the share of its mentions that carry "the" ("the U.S." 1.0, "Assad" 0.0)."""
    seen: dict[str, list[bool]] = {}
    for m in mentions:
        seen.setdefault(m.key, []).append(m.text.lower().startswith("the "))
    return {k: sum(v) / len(v) for k, v in seen.items()}


def surprisal_suspects(
    document: Document, alignment: Alignment, surprisal: Sequence[float] | None, settings: DetectSettings
) -> list[Suspect]:
    """Function words where the sentence breaks: "he said. he But", "are not our how"."""
    if surprisal is None:
        return []
    toks, model = document.tokens, settings.function_word
    out: list[Suspect] = []
    for s, e in document.sentences:
        scored: list[tuple[float, int, dict[str, float]]] = []
        for i, t in enumerate(toks):
            if not s <= t.start < e or t.text.lower() not in FUNCTION_WORDS or i + 1 >= len(toks):
                continue
            cues = model.weigh(function_word_features(toks, i, surprisal, settings))
            prior = _squash(cues)
            if prior >= model.min_prior:
                scored.append((prior, i, cues))
        for prior, i, cues in sorted(scored, key=lambda x: -x[0])[: settings.misfits_per_sentence]:
            t = toks[i]
            out.append(
                Suspect(
                    t.start,
                    t.end,
                    "substitution",
                    prior,
                    f"“{t.text}” breaks the sentence",
                    (Evidence("detector:surprisal", _describe(cues), score=prior),),
                    cause="misfit",
                )
            )
    return out


def function_word_features(
    toks: Sequence[Token], i: int, surprisal: Sequence[float], settings: DetectSettings
) -> dict[str, float]:
    """The raw signs that function word ``toks[i]`` was pasted over words (0 where a sign is absent)."""
    t = toks[i]
    prev = toks[i - 1] if i > 0 else None
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    low = t.text.lower()
    f: dict[str, float] = {
        "misfit": max(0.0, surprisal[i] - settings.misfit_nats),
        "break after": max(0.0, surprisal[i + 1] - settings.break_nats) if nxt is not None and nxt.is_word else 0.0,
    }
    opens = prev is None or prev.text in OPENING_TOKENS
    if prev is not None and prev.text.lower() in CLOSED_CLASS and low in CLOSED_CLASS:
        f["after a pronoun or determiner"] = 1.0  # "the he", "our how"
    if nxt is not None and nxt.text.lower() in CLOSED_CLASS and low in CLOSED_CLASS:
        f["before a pronoun or determiner"] = 1.0
    if t.text[0].isupper() and not opens:
        f["capital mid-sentence"] = 1.0  # "he said. he But"
    if nxt is not None and not nxt.is_word and nxt.text not in ("“", '"', "‘"):
        f["before punctuation"] = 1.0  # "the ." "of ,"
    if prev is not None and prev.text in ('"', "“", "”"):
        f["after a quote mark"] = 1.0
    return f


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
    mention_suspects,
    surprisal_suspects,
)


def overruling(found: Sequence[Suspect], min_agreeing_refs: int) -> list[Suspect]:
    """The suspects, less a reference's reading where the input shows no damage and one reference alone says so.

    Outlets reword ("wind, waves" / "wind speed, wave heights", "Brooks said" / "the mayor
    said"), so one reference differing is no sign of damage: it may overrule the input only
    where a detector of the input itself found something there (a gap, a pasted name, a
    misfit word, a duplicate), or where ``min_agreeing_refs`` references agree against the input.
    """
    shown = [s for s in found if not s.readings]
    return [
        s
        for s in found
        if not s.readings
        or s.kind in SHOWN_BY_ALIGNMENT
        or len({ev.source for ev in s.evidence if ev.source.startswith("ref:")}) >= min_agreeing_refs
        or any(_touches(s, d) for d in shown)
    ]


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


def _squash(cues: dict[str, float]) -> float:
    return 1.0 / (1.0 + math.exp(-sum(cues.values())))


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
