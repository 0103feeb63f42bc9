"""What each difference inside an aligned passage is: ``damage`` (the input's wording looks machine-made) or
``variation`` (the outlet wrote it otherwise), with the input span it would replace and how sure one
reference alone makes it.

Damage is what a broken pipeline leaves: an entity name, a function word, a duplicate or
nothing where the reference has other words, in a passage that otherwise matches closely.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz.distance import Levenshtein

from repair.stages.align import Aligned, Covered, Match, Reference, Side, Stretch, Unit, units
from repair.text.english import AUXILIARIES
from repair.text.sentences import CLAUSE_BREAK_RE

Label = Literal["damage", "variation"]
DAMAGE: Label = "damage"
VARIATION: Label = "variation"
# what a difference is: a damage kind (`repair.edits.SuspectKind`), or why it is a variation
DifferenceKind = Literal["substitution", "gap", "duplicate", "stray", "spelling", "paraphrase", "loose", "boundary"]

MENTION_LEADS: frozenset[str] = frozenset({"the"})  # "the U.S.": a pasted mention may start with these
EDITORIAL = re.compile(r"[\[\]]")  # "[Mr Assad's rule]": an editor's words inside a quote
INNER_APOSTROPHE = {q: re.compile(rf"(?<=\w){q}(?=\w)") for q in "’'"}
PART_RE = re.compile(r"[^\W_]+")  # the parts of a hyphenated name


@dataclass(frozen=True)
class LabelSettings:
    """The numbers that tell damage from variation, and one reference's confidence in a damage."""

    min_context: int = 6  # matching words needed in both windows around a difference together...
    min_side: int = 2  # ...and in each
    max_damage_words: int = 4  # a damage difference is short on both sides
    max_insert_words: int = 2  # ...and an insertion shorter still: outlets add words freely
    max_mention_words: int = 6  # a pasted mention may be longer ("Secretary of State Rex Tillerson")
    long_run: int = 5  # exact matching words on each side that make weaker patterns count as damage
    spelling_distance: float = 0.2  # normalized Levenshtein distance under which two names are one spelled otherwise
    max_affix: int = 3  # "al-Assad"/"Assad", "Mr Assad"/"Assad": a short prefix or suffix is a form of the name
    min_affixed: int = 4  # ...of a name at least this long
    min_respelled: int = 5  # names shorter than this are never one spelled otherwise
    # one reference's confidence in a damage: 1 - 0.5 ** (matching words around it / context_half), the words
    # on each side counted up to context_cap; each word of the difference beyond the first takes size_penalty
    # off, down to min_size_factor; a damage the input shows itself (a hole, a duplicate) halves the doubt
    # (evident_doubt); a variation keeps variation_share; all of it clamped to [floor, ceiling]
    context_cap: int = 10
    context_half: float = 4.0
    size_penalty: float = 0.1
    min_size_factor: float = 0.5
    evident_doubt: float = 0.5
    variation_share: float = 0.1
    floor: float = 0.02
    ceiling: float = 0.97


@dataclass(frozen=True)
class Difference:
    """One token-level difference inside an aligned passage (normalized offsets on both sides)."""

    doc_start: int
    doc_end: int
    ref_start: int
    ref_end: int
    doc_text: str
    ref_text: str
    label: Label
    confidence: float  # 0..1 that the reference wording is the original here (all references considered)
    kind: DifferenceKind
    after: str = ""  # what doc.text[doc_start:doc_end] becomes to read as the reference does
    ref_raw_start: int = 0  # the reference span in the reference's raw text
    ref_raw_end: int = 0
    local_confidence: float = 0.0  # from this reference alone: the exact match around the span


@dataclass(frozen=True)
class Passage(Covered):
    """A stretch of the document that one reference covers closely, and its differences labelled."""

    differences: tuple[Difference, ...]
    matched: int = 0  # words the two stretches share


@dataclass(frozen=True)
class Names:
    """What the input says about names, for telling a pasted one: every key and name base it uses (``known``),
    and the names it uses more than once (``entities``: what a broken pipeline pastes)."""

    known: frozenset[str]
    entities: frozenset[str]

    @classmethod
    def of(cls, side: Side) -> Names:
        counts = Counter(u.base for u in side.units if u.capital and not u.function)
        repeated = frozenset(k for k, n in counts.items() if n > 1)
        return cls(frozenset(side.keys) | {u.base for u in side.units}, repeated)


def labelled(aligned: Aligned, settings: LabelSettings) -> tuple[Passage, ...]:
    """Every passage of ``aligned`` with its differences labelled, in the order of its matches."""
    doc = aligned.doc
    if not aligned.matches:
        return ()
    gaps = frozenset(s.start for s in doc.suspects if s.kind == "gap")
    names = Names.of(aligned.side)
    return tuple(
        _passage(aligned.side, aligned.ref_sides[m.ref], aligned.refs[m.ref], m, gaps, names, settings)
        for m in aligned.matches
    )


def _passage(
    doc: Side, ref: Side, reference: Reference, m: Match, gaps: frozenset[int], names: Names, settings: LabelSettings
) -> Passage:
    out = []
    for st in m.stretches:
        hole = _hole(doc, st, gaps)
        label, kind = _classify(doc, ref, st, hole, names, settings)
        ds, de = _doc_span(doc, st)
        rs = ref.units[st.c].start if st.c < st.e else ref.units[st.c - 1].end
        re_ = ref.units[st.e - 1].end if st.c < st.e else rs
        ref_text = ref.text[rs:re_]
        words = match_apostrophes(ref_text, doc.text)
        after = "" if st.c == st.e else words if st.a < st.b else " " + words
        evident = hole or kind == "duplicate"  # the input shows the damage itself
        conf = local_confidence(label, st.runs, max(st.b - st.a, st.e - st.c), evident, settings)
        raw = reference.normalized.layer.to_base(rs, re_)
        out.append(
            Difference(ds, de, rs, re_, doc.text[ds:de], ref_text, label, conf, kind, after, raw[0], raw[1], conf)
        )
    return Passage(m.ref, m.doc_start, m.doc_end, m.ref_start, m.ref_end, m.score, tuple(out), m.matched)


def _hole(doc: Side, st: Stretch, gaps: frozenset[int]) -> bool:
    """Whether the input shows a hole where the reference has words: a run of spaces, or a gap suspect."""
    if st.a != st.b:
        return False
    lo = doc.units[st.a - 1].end
    hi = doc.units[st.b].start if st.b < len(doc.units) else len(doc.text)
    return bool(re.search(r"\s{2,}", doc.text[lo:hi])) or any(lo <= g <= hi for g in gaps)


def local_confidence(label: Label, runs: tuple[int, int], size: int, evident: bool, settings: LabelSettings) -> float:
    """Confidence from one reference: longer exact matches around a short span mean more.

    >>> s = LabelSettings()
    >>> local_confidence("damage", (2, 2), 1, False, s) < local_confidence("damage", (8, 8), 1, False, s)
    True
    """
    cap = settings.context_cap
    ctx = min(runs[0], cap) + min(runs[1], cap)
    size_factor = max(settings.min_size_factor, 1.0 - settings.size_penalty * (size - 1))
    base: float = (1.0 - 0.5 ** (ctx / settings.context_half)) * size_factor
    if evident:
        base = 1.0 - (1.0 - base) * settings.evident_doubt
    if label == VARIATION:
        base *= settings.variation_share
    return round(min(settings.ceiling, max(settings.floor, base)), 4)


def match_apostrophes(text: str, like: str) -> str:
    """Write the apostrophes inside words the way ``like`` mostly does.

    >>> match_apostrophes("Russia's", "Syria’s future, Assad’s forces"), match_apostrophes("it’s", "it's")
    ('Russia’s', "it's")
    """
    curly, straight = len(INNER_APOSTROPHE["’"].findall(like)), len(INNER_APOSTROPHE["'"].findall(like))
    if curly == straight:
        return text
    old, new = ("'", "’") if curly > straight else ("’", "'")
    return INNER_APOSTROPHE[old].sub(new, text)


def _doc_span(doc: Side, st: Stretch) -> tuple[int, int]:
    """The input span a difference replaces: an insertion goes right after the previous word,
    a deletion takes one neighbouring run of spaces along."""
    if st.a == st.b:
        p = doc.units[st.a - 1].end
        return p, p
    s, e = doc.units[st.a].start, doc.units[st.b - 1].end
    if st.c < st.e:
        return s, e
    stripped = len(doc.text[:s].rstrip(" \t"))
    if stripped < s:
        return stripped, e
    return s, len(doc.text) - len(doc.text[e:].lstrip(" \t"))


def same_thing(doc_text: str, ref_text: str, settings: LabelSettings) -> bool:
    """Whether two wordings name the same thing, spelled, tokenized or ordered otherwise.

    >>> s = LabelSettings()
    >>> same_thing("the U. S.", "US", s), same_thing("Sergey", "Sergei", s), same_thing("Assad", "al-Assad", s)
    (True, True, True)
    >>> same_thing("Russia-US", "US-Russian", s)
    True
    >>> same_thing("Russia", "its", s), same_thing("Russia", "Russia’s", s), same_thing("Tuesday", "Thursday", s)
    (False, False, False)
    """
    du, ru = units(doc_text), units(ref_text)
    if "".join(u.key for u in du) == "".join(u.key for u in ru):
        return True
    if any(u.possessive for u in du) != any(u.possessive for u in ru):
        return False
    dc = "".join(u.key for u in du if not u.function)
    rc = "".join(u.key for u in ru if not u.function)
    if not dc or not rc:
        return False
    if _one_word(dc, rc, settings):
        return True
    dparts = sorted(p for u in du if not u.function for p in PART_RE.findall(u.text.lower()))
    rparts = sorted(p for u in ru if not u.function for p in PART_RE.findall(u.text.lower()))
    pairs = zip(dparts, rparts, strict=True) if len(dparts) == len(rparts) else ()
    return 1 < len(dparts) == len(rparts) and all(_one_word(a, b, settings) for a, b in pairs)


def _one_word(a: str, b: str, settings: LabelSettings) -> bool:
    """Whether two keys are one word spelled otherwise ("sergei"/"sergey", "alassad"/"assad")."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if (
        len(short) >= settings.min_affixed
        and len(long_) - len(short) <= settings.max_affix
        and (long_.startswith(short) or long_.endswith(short))
    ):
        return True
    if min(len(a), len(b)) < settings.min_respelled:
        return False
    return float(Levenshtein.normalized_distance(a, b)) <= settings.spelling_distance


def _mention(du: Sequence[Unit], pasted: Sequence[bool]) -> bool:
    """Whether the input's words are one pasted mention ("the U.S.", "Secretary of State Rex Tillerson").

    Names (or doubled words), maybe after a leading "the", with function words only
    between two capitalized words.
    """
    lead = 1 if du[0].function and du[0].key in MENTION_LEADS else 0
    body = du[lead:]
    if not body:
        return False
    for i, (u, p) in enumerate(zip(body, pasted[lead:], strict=True)):
        inner = 0 < i < len(body) - 1 and body[i - 1].capital and body[i + 1].capital
        if not (p or (u.function and inner)):
            return False
    return True


def _classify(
    doc: Side, ref: Side, st: Stretch, hole: bool, names: Names, settings: LabelSettings
) -> tuple[Label, DifferenceKind]:
    """(label, kind) of one differing stretch.

    Damage is what a broken pipeline leaves: a pasted mention, a function word, a
    doubled word or a hole where the reference has other words, in a passage that
    otherwise matches closely. The weaker the pattern, the longer the exact match
    around it must be (``long_run``) before it counts.
    """
    du, ru = doc.units[st.a : st.b], ref.units[st.c : st.e]
    dtext = doc.text[du[0].start : du[-1].end] if du else ""
    rtext = ref.text[ru[0].start : ru[-1].end] if ru else ""
    if du and ru and same_thing(dtext, rtext, settings):
        return VARIATION, "spelling"
    if min(st.near) < settings.min_side or sum(st.near) < settings.min_context:
        return VARIATION, "loose"
    # a hole the input shows (a run of spaces) may sit at a sentence end: "further military    ."
    around = du or ([] if hole else doc.units[max(st.a - 1, 0) : st.b + 1])
    if _crosses_sentence(doc.text, around) or _crosses_sentence(ref.text, ru):
        return VARIATION, "boundary"  # outlets cut and join sentences their own way
    dup = [doc.keys[i] in {doc.keys[j] for j in (i - 1, i + 1) if 0 <= j < len(doc.keys)} for i in range(st.a, st.b)]
    pasted = [(u.capital and not u.function and u.base in names.entities) or d for u, d in zip(du, dup, strict=True)]
    mention = bool(du) and _mention(du, pasted)
    long_run = min(st.runs) >= settings.long_run
    if len(du) > (settings.max_mention_words if mention else settings.max_damage_words):
        return VARIATION, "paraphrase"
    if len(ru) > (settings.max_damage_words if du else settings.max_insert_words):
        return VARIATION, "paraphrase"
    ref_names = [u.base for u in ru if u.capital and not u.function]
    unknown = any(n not in names.known for n in ref_names)
    if (unknown and not mention) or EDITORIAL.search(rtext):
        return VARIATION, "paraphrase"  # a title or name the input never uses, an editor's insert: style
    if not ru:
        if all(dup):
            return DAMAGE, "duplicate"
        if mention and not du[0].function and long_run:
            return DAMAGE, "stray"  # a name alone in the middle of a verbatim stretch
        return VARIATION, "paraphrase"
    if not du:
        if min(st.runs) < settings.min_side or (all(u.function for u in ru) and not (hole or long_run)):
            return VARIATION, "paraphrase"
        return DAMAGE, "gap"
    if not (mention or all(u.function for u in du)):
        return VARIATION, "paraphrase"  # the input has words of its own here
    tense = any(u.key in AUXILIARIES for u in (*du, *ru))
    if all(u.function for u in (*du, *ru)) and not any(dup) and (tense or not long_run):
        return VARIATION, "paraphrase"  # "was"/"is", "a"/"the": outlets differ in these
    renamed = all(u.capital or u.function for u in ru) and any(n not in "".join(u.key for u in du) for n in ref_names)
    if renamed and not long_run:
        return VARIATION, "paraphrase"  # the reference names something else here ("Moscow" for "Russia")
    return DAMAGE, "substitution"


def _crosses_sentence(text: str, us: Sequence[Unit]) -> bool:
    """Whether sentence punctuation or a line break lies between consecutive units."""
    return any(CLAUSE_BREAK_RE.search(text[x.end : y.start]) for x, y in itertools.pairwise(us))
