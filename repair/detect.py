"""Find damaged spans: gaps, duplicates, disagreement with references, pasted names, misfit words.

Each detector is a small function returning `Suspect`s on the normalized text with a
prior `score` (0..1): how likely the span is damage before any candidate is weighed.
The language model only screens here (surprisal); `propose` and `decide` weigh fixes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

from repair.align import Alignment, reference_fixes
from repair.document import Token, tokenize
from repair.edits import Evidence
from repair.entities import Mention, entity_keys, find_mentions, split_pasted
from repair.lm import LanguageModel
from repair.normalize import Normalized
from repair.sentences import sentence_spans
from repair.spans import Suspect

# a repeat the language allows ("that that", "had had") is weighed, not deleted by rule
ALLOWED_REPEATS = frozenset({"that", "had", "is", "do", "very", "no", "so", "far", "bye", "yes", "ha", "knock"})
FUNCTION_WORDS = frozenset(
    """a an the this that these those it its he his him she her they their them we our us you your i my me
    but and or nor so for if as at by in on of to from with into over after before since though while when
    where whether which who whom whose what how because then there not no is are was were be been has have
    had do does did will would can could should may might must""".split()
)
DETERMINERS = frozenset({"the", "a", "an", "its", "his", "her", "their", "our", "this", "that", "these", "those"})
# surprisal (nats) of the word after a span above which the span reads as a break in the sentence
BREAK_NATS = 7.0
MAX_SURPRISAL_SUSPECTS_PER_SENTENCE = 1
# a name with no sign of being pasted is not worth the model's time
MIN_MENTION_PRIOR = 0.2


def detect(doc: Normalized, alignment: Alignment, lm: LanguageModel | None) -> tuple[Suspect, ...]:
    """Every suspect span of ``doc.text``, sorted by position; overlapping ones are kept for `decide`."""
    text = doc.text
    toks = tokenize(text)
    surprisal = token_surprisal(text, toks, lm) if lm is not None else None
    found: list[Suspect] = list(doc.suspects)
    for detector in DETECTORS:
        found.extend(detector(text, toks, alignment, surprisal))
    return tuple(sorted(_dedupe(found), key=lambda s: (s.start, s.end, s.kind)))


def token_surprisal(text: str, toks: Sequence[Token], lm: LanguageModel) -> list[float]:
    """Surprisal (nats) of each word token given the sentence before it and the previous sentence.

    A token's surprisal is that of its first model piece: how unexpected the word is where it stands.
    All sentence windows go to the model in one batch.
    """
    out = [0.0] * len(toks)
    starts = {t.start: i for i, t in enumerate(toks)}
    spans = sentence_spans(text)
    windows = [(spans[k - 1][0] if k > 0 else s, s, e) for k, (s, e) in enumerate(spans)]
    scored = lm.surprisal_many([" ".join(text[left:e].split()) for left, _, e in windows])
    for (left, s, e), pieces in zip(windows, scored, strict=True):
        # surprisal is computed on the whitespace-folded window: map its chars back by walking both
        back = _fold_map(text, left, e)
        for cs, _ce, nats in pieces:
            if cs < len(back):
                pos = back[cs]
                while pos < e and text[pos].isspace():  # a model piece may start with the space before a word
                    pos += 1
                i = starts.get(pos)
                if i is not None and pos >= s and out[i] == 0.0:
                    out[i] = nats
    return out


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


def gap_suspects(
    text: str, toks: Sequence[Token], alignment: Alignment, surprisal: list[float] | None
) -> list[Suspect]:
    """Gaps come from `normalize` (runs of spaces); nothing more to find here."""
    return []


def duplicate_suspects(
    text: str, toks: Sequence[Token], alignment: Alignment, surprisal: list[float] | None
) -> list[Suspect]:
    """An n-gram (n = 1..4) repeated at once: "Assad Assad", "the the", "the U.S. the U.S."."""
    out: list[Suspect] = []
    taken: set[int] = set()
    for n in (4, 3, 2, 1):
        for i in range(len(toks) - 2 * n + 1):
            first, second = toks[i : i + n], toks[i + n : i + 2 * n]
            if i in taken or not any(t.is_word for t in first):
                continue
            if [t.text.lower() for t in first] != [t.text.lower() for t in second]:
                continue
            if any(second[k].start - first[k].start != second[0].start - first[0].start for k in range(n)):
                continue  # same words, different spacing: not a machine's copy
            if text[first[-1].end : second[0].start] != " ":
                continue
            if any(c in text[first[0].start : second[0].start] for c in "\r\n"):
                continue  # deleting the first copy would take a line end with it
            if n == 1 and first[0].text.lower() in ALLOWED_REPEATS:
                prior = 0.35
            else:
                prior = 0.85 if n > 1 or first[0].text[0].isupper() else 0.75
            words = " ".join(t.text for t in first)
            out.append(
                Suspect(
                    first[0].start,
                    second[0].start,
                    "duplicate",
                    prior,
                    f"“{words}” is repeated at once",
                    (Evidence("detector:duplicate", f"repeated {n}-gram “{words}”"),),
                )
            )
            taken.update(range(i, i + 2 * n))
    return out


def mention_suspects(
    text: str, toks: Sequence[Token], alignment: Alignment, surprisal: list[float] | None
) -> list[Suspect]:
    """Names of the document standing where grammar wants something else ("maintain Russia alliance")."""
    mentions = split_pasted(find_mentions(text), text)
    keys = entity_keys(mentions)
    by_start = {t.start: i for i, t in enumerate(toks)}
    by_end = {t.end: i for i, t in enumerate(toks)}
    out: list[Suspect] = []
    for k, m in enumerate(mentions):
        if m.key not in keys:
            continue
        first, last = by_start.get(m.start), by_end.get(m.end)
        if first is None or last is None:
            continue
        cues = _mention_cues(m, mentions, k, toks, first, last, surprisal)
        prior = _squash(cues)
        if prior < MIN_MENTION_PRIOR:
            continue
        out.append(
            Suspect(
                m.start,
                m.end,
                "substitution",
                prior,
                f"the name “{m.text}” may have been pasted over words",
                (Evidence("detector:mention", _describe(cues), score=prior),),
            )
        )
    return out


def _mention_cues(
    m: Mention,
    mentions: Sequence[Mention],
    k: int,
    toks: Sequence[Token],
    first: int,
    last: int,
    surprisal: list[float] | None,
) -> dict[str, float]:
    """Log-odds contributions of the signs that a name was pasted here."""
    cues: dict[str, float] = {"base": -2.6}
    prev = toks[first - 1] if first > 0 else None
    nxt = toks[last + 1] if last + 1 < len(toks) else None
    if prev is not None and prev.text.lower() in DETERMINERS | {"’s", "'s"} and not m.text.lower().startswith("the "):
        cues["after a determiner"] = 1.6
    if prev is not None and (prev.text.endswith("’s") or prev.text.endswith("'s")):
        cues["after a possessive"] = 1.8
    if prev is not None and prev.text.lower() in ("the", "a") and m.text.lower().startswith("the "):
        cues["double determiner"] = 2.5
    if nxt is not None and nxt.is_word and nxt.text[0].islower() and nxt.text.lower() not in FUNCTION_WORDS:
        # a lower-case content word right after a name: "Russia alliance", "Russia interests"
        cues["content word follows"] = 0.6
    if nxt is not None and nxt.is_word and nxt.text.lower() in ("the", "a", "an"):
        cues["article follows"] = 0.8
    neighbours = [mentions[j] for j in (k - 1, k + 1) if 0 <= j < len(mentions)]
    if any(0 <= n.start - m.end <= 1 or 0 <= m.start - n.end <= 1 for n in neighbours):
        cues["touches another name"] = 1.0
    if surprisal is not None:
        head = surprisal[first]
        after = surprisal[last + 1] if nxt is not None and nxt.is_word else 0.0
        # the first word of a sentence is surprising whatever it is
        at_start = prev is None or prev.text in (".", "!", "?", '"', "“", "”") or "\n" in (prev.text,)
        cues["surprising name"] = 0.0 if at_start else 0.25 * max(0.0, head - 6.0)
        cues["break after"] = 0.35 * max(0.0, after - BREAK_NATS)
    return cues


def surprisal_suspects(
    text: str, toks: Sequence[Token], alignment: Alignment, surprisal: list[float] | None
) -> list[Suspect]:
    """Function words where the sentence breaks: "he said. he But", "are not our how"."""
    if surprisal is None:
        return []
    out: list[Suspect] = []
    for s, e in sentence_spans(text):
        idx = [i for i, t in enumerate(toks) if s <= t.start < e]
        scored: list[tuple[float, int]] = []
        for i in idx:
            t = toks[i]
            if t.text.lower() not in FUNCTION_WORDS or i + 1 >= len(toks):
                continue
            nxt = surprisal[i + 1] if toks[i + 1].is_word else 0.0
            # a pasted function word is both unexpected itself and breaks the word after it
            badness = max(0.0, surprisal[i] - 5.0) + max(0.0, nxt - BREAK_NATS)
            if badness > 4.0:
                scored.append((badness, i))
        for badness, i in sorted(scored, reverse=True)[:MAX_SURPRISAL_SUSPECTS_PER_SENTENCE]:
            t = toks[i]
            prior = _squash({"base": -3.0, "misfit": 0.3 * badness})
            out.append(
                Suspect(
                    t.start,
                    t.end,
                    "substitution",
                    prior,
                    f"“{t.text}” breaks the sentence",
                    (Evidence("detector:surprisal", f"misfit {badness:.1f} nats", score=prior),),
                )
            )
    return out


def reference_suspects(
    text: str, toks: Sequence[Token], alignment: Alignment, surprisal: list[float] | None
) -> list[Suspect]:
    """Spans where the references covering a passage agree on a different, damage-like reading."""
    return [
        Suspect(
            f.doc_start,
            f.doc_end,
            f.kind if f.kind in ("gap", "duplicate", "stray") else "substitution",
            max(0.05, min(0.99, f.confidence)),
            f"{len(f.witnesses)} reference(s) read “{f.after.strip() or '∅'}” here",
            f.evidence(),
            readings=(f.after,),
        )
        for f in reference_fixes(alignment)
    ]


Detector = Callable[[str, Sequence[Token], Alignment, "list[float] | None"], list[Suspect]]
DETECTORS: tuple[Detector, ...] = (
    gap_suspects,
    duplicate_suspects,
    reference_suspects,
    mention_suspects,
    surprisal_suspects,
)


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
