"""Local alignment of the damaged text against each clean reference.

Anchors are word n-grams rare in both texts (as in passim); anchors that line up
are chained, extended while the texts keep matching, and each resulting passage is
aligned word by word with rapidfuzz. Every difference inside a passage is labelled
``damage`` (the input's wording looks machine-made: an entity name, a function word,
a duplicate or nothing where the reference has other words) or ``variation`` (the
outlet wrote it otherwise). `reference_fixes` merges what several references say
about one span into one proposal.

Nothing here depends on the order the references come in: they are sorted by
content, and ties are broken by content, never by position in the list.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from rapidfuzz.distance import Indel, Levenshtein

from repair.edits import Evidence
from repair.stages.normalize import Normalized
from repair.text.english import ALIGN_STOPWORDS, AUXILIARIES
from repair.text.sentences import CLAUSE_BREAK_RE

DAMAGE = "damage"
VARIATION = "variation"


# a word as aligned: dotted initials even when re-tokenized ("U. S."), and a word with a clitic
# the tokenizer split off ("does n’t", "Assad ’s", "can not"), so tokenization artifacts do not break anchors
UNIT_RE = re.compile(r"\b\w\.(?: ?\w\.)+|\b[Cc]an ?not\b|\w+(?:[’'.\-]\w+)*(?: ?(?:n[’']t|[’'](?:s|re|ve|ll|d|m))\b)?")

CONTENT_N = 3  # anchors: n-grams of consecutive content words...
WORD_N = 4  # ...and of all words (quotes made of short words), with at least one content word
MAX_REPEAT = 2  # an n-gram is rare if it occurs at most this often in each text
MAX_GAP = 24  # chained anchors lie at most this many words apart in the input...
MAX_SHIFT = 8  # ...and their diagonals differ by at most this many words
EXTEND_WINDOW = 40  # words looked at beyond a chain's ends when extending it
XDROP = 6  # stop extending once the match score falls this far below its best
MIN_MATCHED = 5  # a passage shares at least this many words with its reference...
MIN_SCORE = 0.5  # ...and this similarity
CONTEXT_WINDOW = 6  # words either side of a difference looked at for "otherwise matches closely"
MIN_CONTEXT = 6  # matching words needed in both windows together...
MIN_SIDE = 2  # ...and in each
MAX_DAMAGE_WORDS = 4  # a damage difference is short on both sides
SPELLING_DISTANCE = 0.2  # normalized Levenshtein distance under which two names are one spelled otherwise
MAX_AFFIX = 3  # "al-Assad"/"Assad", "Mr Assad"/"Assad": a short prefix or suffix is a form of the name
MAX_INSERT_WORDS = 2  # ...and an insertion shorter still: outlets add words freely
MAX_MENTION_WORDS = 6  # a pasted mention may be longer ("Secretary of State Rex Tillerson")
LONG_RUN = 5  # exact matching words on each side that make weaker patterns count as damage
KEEP_WEIGHT = 0.8  # how much a reference agreeing with the input counts against a fix
MENTION_LEADS: frozenset[str] = frozenset({"the"})  # "the U.S.": a pasted mention may start with these
EDITORIAL = re.compile(r"[\[\]]")  # "[Mr Assad's rule]": an editor's words inside a quote
INNER_APOSTROPHE = {q: re.compile(rf"(?<=\w){q}(?=\w)") for q in "’'"}
PART_RE = re.compile(r"[^\W_]+")  # the parts of a hyphenated name


Span = tuple[int, int, int, int]  # doc units [start, end), ref units [start, end)
Op = tuple[str, int, int, int, int]  # an opcode in absolute unit indexes


@dataclass(frozen=True)
class Reference:
    """A clean(er) copy of the story, normalized with the same normalizer."""

    name: str  # the path as the user gave it
    normalized: Normalized  # .source is the raw reference text


@dataclass(frozen=True)
class Difference:
    """One token-level difference inside an aligned passage (normalized offsets on both sides)."""

    doc_start: int
    doc_end: int
    ref_start: int
    ref_end: int
    doc_text: str
    ref_text: str
    label: str  # damage | variation
    confidence: float  # 0..1 that the reference wording is the original here (all references considered)
    kind: str = ""  # substitution | gap | duplicate | stray | spelling | paraphrase | loose
    after: str = ""  # what doc.text[doc_start:doc_end] becomes to read as the reference does
    ref_raw_start: int = 0  # the reference span in the reference's raw text
    ref_raw_end: int = 0
    local_confidence: float = 0.0  # from this reference alone: the exact match around the span


@dataclass(frozen=True)
class Passage:
    """A stretch of the document that one reference covers closely."""

    ref: int  # index into the references
    doc_start: int
    doc_end: int
    ref_start: int
    ref_end: int
    score: float  # 0..1 similarity of the two stretches
    differences: tuple[Difference, ...]
    matched: int = 0  # words the two stretches share


@dataclass(frozen=True)
class Alignment:
    refs: tuple[Reference, ...]
    passages: tuple[Passage, ...]
    doc_text: str = ""  # the normalized input the passages' offsets point into

    def covering(self, start: int, end: int) -> list[Passage]:
        """Passages whose document span contains [start, end)."""
        return [p for p in self.passages if p.doc_start <= start and end <= p.doc_end]

    @cached_property
    def fixes(self) -> tuple[ReferenceFix, ...]:
        """The references' merged fixes (`reference_fixes`), computed once and carried with the alignment:
        detect, the alignment tables and the JSON all read these."""
        return tuple(_fixes_and_shares(self)[0])


@dataclass(frozen=True)
class Witness:
    """One reference's support for a fix: where it reads what, and how well its passage matches."""

    name: str
    ref_start: int  # normalized offsets in the reference
    ref_end: int
    ref_raw_start: int  # the same span in the reference's raw text
    ref_raw_end: int
    ref_text: str
    passage_score: float
    confidence: float  # from this reference alone


@dataclass(frozen=True)
class ReferenceFix:
    """The references' merged proposal for one input span: replace ``doc_text`` by ``after``."""

    doc_start: int
    doc_end: int
    doc_text: str
    after: str
    kind: str  # substitution | gap | duplicate | stray
    confidence: float
    witnesses: tuple[Witness, ...]  # the references that agree, best first
    dissent: tuple[str, ...] = ()  # references covering the span that read otherwise

    @property
    def refs(self) -> tuple[str, ...]:
        return tuple(w.name for w in self.witnesses)

    def evidence(self) -> tuple[Evidence, ...]:
        """One Evidence per agreeing reference, naming its file and raw span."""
        others = f"; disagreeing: {', '.join(self.dissent)}" if self.dissent else ""
        agree = f"agreeing references: {len(self.witnesses)}{others}"
        return tuple(
            Evidence(
                source=f"ref:{w.name}",
                detail=f"reference reads “{w.ref_text}” ({agree})",
                span=(w.ref_raw_start, w.ref_raw_end),
                score=w.passage_score,
            )
            for w in self.witnesses
        )


@dataclass(frozen=True)
class _Unit:
    """An aligned word: its span, its matching key and what it is."""

    start: int
    end: int
    text: str
    key: str  # lower-cased letters and digits only: "U. S." and "US" both give "us"
    function: bool
    capital: bool
    possessive: bool


@dataclass(frozen=True)
class _Side:
    """One text as aligned: its units, their keys, and the names it uses."""

    text: str
    units: tuple[_Unit, ...]
    keys: tuple[str, ...] = field(init=False)
    known: frozenset[str] = field(init=False)  # every key and name base in the text
    entities: frozenset[str] = field(init=False)  # names used more than once: what a broken pipeline pastes

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(u.key for u in self.units))
        object.__setattr__(self, "known", frozenset(self.keys) | {_base(u) for u in self.units})
        counts = Counter(_base(u) for u in self.units if u.capital and not u.function)
        object.__setattr__(self, "entities", frozenset(k for k, n in counts.items() if n >= 2))


def units(text: str) -> tuple[_Unit, ...]:
    """The words of ``text`` as aligned, with clitics and initials kept whole.

    >>> [u.key for u in units("the U. S. does n’t see Assad ’s")]
    ['the', 'us', 'doesnt', 'see', 'assads']
    """
    out = []
    for m in UNIT_RE.finditer(text):
        word = re.sub(r"\s+", "", m.group().lower().replace("’", "'"))
        key = re.sub(r"[\W_]+", "", word)
        if not key:
            continue
        acronym = m.group().isupper() and len(key) > 1  # "US" the country, not "us"
        out.append(
            _Unit(
                m.start(),
                m.end(),
                m.group(),
                key,
                word in ALIGN_STOPWORDS and not acronym,
                m.group()[0].isupper(),
                word.endswith("'s") and len(key) > 2,
            )
        )
    return tuple(out)


def _ngrams(side: _Side) -> dict[tuple[str, ...], list[tuple[int, int]]]:
    """Every anchor n-gram of a text with the unit spans where it occurs."""
    found: dict[tuple[str, ...], list[tuple[int, int]]] = defaultdict(list)
    content = [i for i, u in enumerate(side.units) if not u.function]
    for k in range(len(content) - CONTENT_N + 1):
        idx = content[k : k + CONTENT_N]
        found[("c", *(side.keys[i] for i in idx))].append((idx[0], idx[-1] + 1))
    for i in range(len(side.units) - WORD_N + 1):
        if any(not u.function for u in side.units[i : i + WORD_N]):
            found[("w", *side.keys[i : i + WORD_N])].append((i, i + WORD_N))
    return found


def _anchors(doc: _Side, ref: _Side) -> list[Span]:
    """(doc start, doc end, ref start, ref end) unit spans of the rare n-grams both texts share."""
    dg, rg = _ngrams(doc), _ngrams(ref)
    out: list[Span] = []
    for gram, dspans in dg.items():
        rspans = rg.get(gram)
        if rspans and len(dspans) <= MAX_REPEAT and len(rspans) <= MAX_REPEAT:
            out.extend((d0, d1, r0, r1) for d0, d1 in dspans for r0, r1 in rspans)
    return sorted(out)


def _chains(anchors: list[Span]) -> list[Span]:
    """Group anchors that lie on nearly the same diagonal close together; return each group's span."""
    chains: list[list[Span]] = []
    for a in anchors:
        best: tuple[int, int, int] | None = None
        for n, chain in enumerate(chains):
            last = chain[-1]
            gap = a[0] - last[1]
            shift = abs((a[0] - a[2]) - (last[0] - last[2]))
            if a[0] >= last[0] and a[2] >= last[2] and gap <= MAX_GAP and shift <= MAX_SHIFT:
                cand = (shift, max(gap, 0), n)
                best = cand if best is None or cand < best else best
        if best is None:
            chains.append([a])
        else:
            chains[best[2]].append(a)
    return [(min(a[0] for a in c), max(a[1] for a in c), min(a[2] for a in c), max(a[3] for a in c)) for c in chains]


def _reach(doc_keys: Sequence[str], ref_keys: Sequence[str]) -> tuple[int, int]:
    """How far two key lists keep matching from their starts (X-drop on the alignment's score)."""
    gain = best = 0
    reach = (0, 0)
    for op in Indel.opcodes(list(doc_keys), list(ref_keys)):
        size = (op.src_end - op.src_start) + (op.dest_end - op.dest_start)
        if op.tag == "equal":
            gain += op.src_end - op.src_start
            if gain > best:
                best, reach = gain, (op.src_end, op.dest_end)
        else:
            gain -= size
            if gain < best - XDROP:
                break
    return reach


def _extend(doc: _Side, ref: _Side, span: Span) -> Span:
    """Grow a chain's span both ways while the texts keep matching."""
    d0, d1, r0, r1 = span
    while True:
        dn, rn = _reach(doc.keys[d1 : d1 + EXTEND_WINDOW], ref.keys[r1 : r1 + EXTEND_WINDOW])
        d1, r1 = d1 + dn, r1 + rn
        if max(dn, rn) < EXTEND_WINDOW // 2:
            break
    while True:
        lo_d, lo_r = max(0, d0 - EXTEND_WINDOW), max(0, r0 - EXTEND_WINDOW)
        dn, rn = _reach(doc.keys[lo_d:d0][::-1], ref.keys[lo_r:r0][::-1])
        d0, r0 = d0 - dn, r0 - rn
        if max(dn, rn) < EXTEND_WINDOW // 2:
            break
    return d0, d1, r0, r1


def _merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Fuse spans that overlap in both texts (one passage found from two chains)."""
    todo = sorted(set(spans))
    out: list[Span] = []
    for s in todo:
        for n, o in enumerate(out):
            if s[0] <= o[1] and o[0] <= s[1] and s[2] <= o[3] and o[2] <= s[3]:
                out[n] = (min(s[0], o[0]), max(s[1], o[1]), min(s[2], o[2]), max(s[3], o[3]))
                break
        else:
            out.append(s)
    return out if len(out) == len(todo) else _merge_spans(out)


def _trimmed_ops(doc: _Side, ref: _Side, span: Span) -> tuple[Span, list[Op]]:
    """Align a span word by word and trim it so it starts and ends with matching words."""
    d0, d1, r0, r1 = span
    ops = list(Indel.opcodes(list(doc.keys[d0:d1]), list(ref.keys[r0:r1])))
    while ops and ops[0].tag != "equal":
        ops.pop(0)
    while ops and ops[-1].tag != "equal":
        ops.pop()
    if not ops:
        return (d0, d0, r0, r0), []
    a, b = ops[0], ops[-1]
    return (d0 + a.src_start, d0 + b.src_end, r0 + a.dest_start, r0 + b.dest_end), [
        (o.tag, d0 + o.src_start, d0 + o.src_end, r0 + o.dest_start, r0 + o.dest_end) for o in ops
    ]


def _is_entity(u: _Unit, entity_keys: frozenset[str]) -> bool:
    return u.capital and not u.function and _base(u) in entity_keys


def _base(u: _Unit) -> str:
    return u.key[:-1] if u.possessive else u.key


def same_thing(doc_text: str, ref_text: str) -> bool:
    """Whether two wordings name the same thing, spelled, tokenized or ordered otherwise.

    >>> same_thing("the U. S.", "US"), same_thing("Sergey", "Sergei"), same_thing("Assad", "al-Assad")
    (True, True, True)
    >>> same_thing("Russia-US", "US-Russian")
    True
    >>> same_thing("Russia", "its"), same_thing("Russia", "Russia’s"), same_thing("Tuesday", "Thursday")
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
    if _one_word(dc, rc):
        return True
    dparts = sorted(p for u in du if not u.function for p in PART_RE.findall(u.text.lower()))
    rparts = sorted(p for u in ru if not u.function for p in PART_RE.findall(u.text.lower()))
    return 1 < len(dparts) == len(rparts) and all(_one_word(a, b) for a, b in zip(dparts, rparts, strict=True))


def _one_word(a: str, b: str) -> bool:
    """Whether two keys are one word spelled otherwise ("sergei"/"sergey", "alassad"/"assad")."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 4 and len(long_) - len(short) <= MAX_AFFIX and (long_.startswith(short) or long_.endswith(short)):
        return True
    return min(len(a), len(b)) >= 5 and float(Levenshtein.normalized_distance(a, b)) <= SPELLING_DISTANCE


@dataclass(frozen=True)
class _Stretch:
    """One differing stretch of a passage and how well the words around it match."""

    a: int  # doc units [a, b) against ref units [c, e)
    b: int
    c: int
    e: int
    near: tuple[int, int]  # matching words within CONTEXT_WINDOW before and after
    runs: tuple[int, int]  # exactly matching words directly before and after
    gap_mark: bool  # the input shows a hole here (a run of spaces, a gap suspect)


def _mention(du: Sequence[_Unit], pasted: Sequence[bool]) -> bool:
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


def _classify(doc: _Side, ref: _Side, st: _Stretch) -> tuple[str, str]:
    """(label, kind) of one differing stretch.

    Damage is what a broken pipeline leaves: a pasted mention, a function word, a
    doubled word or a hole where the reference has other words, in a passage that
    otherwise matches closely. The weaker the pattern, the longer the exact match
    around it must be (``LONG_RUN``) before it counts.
    """
    du, ru = doc.units[st.a : st.b], ref.units[st.c : st.e]
    dtext = doc.text[du[0].start : du[-1].end] if du else ""
    rtext = ref.text[ru[0].start : ru[-1].end] if ru else ""
    if du and ru and same_thing(dtext, rtext):
        return VARIATION, "spelling"
    if min(st.near) < MIN_SIDE or sum(st.near) < MIN_CONTEXT:
        return VARIATION, "loose"
    # a hole the input shows (a run of spaces) may sit at a sentence end: "further military    ."
    around = du or ([] if st.gap_mark else doc.units[max(st.a - 1, 0) : st.b + 1])
    if _crosses_sentence(doc.text, around) or _crosses_sentence(ref.text, ru):
        return VARIATION, "boundary"  # outlets cut and join sentences their own way
    dup = [doc.keys[i] in {doc.keys[j] for j in (i - 1, i + 1) if 0 <= j < len(doc.keys)} for i in range(st.a, st.b)]
    pasted = [_is_entity(u, doc.entities) or d for u, d in zip(du, dup, strict=True)]
    mention = bool(du) and _mention(du, pasted)
    long_run = min(st.runs) >= LONG_RUN
    if len(du) > (MAX_MENTION_WORDS if mention else MAX_DAMAGE_WORDS):
        return VARIATION, "paraphrase"
    if len(ru) > (MAX_DAMAGE_WORDS if du else MAX_INSERT_WORDS):
        return VARIATION, "paraphrase"
    ref_names = [_base(u) for u in ru if u.capital and not u.function]
    unknown = any(n not in doc.known for n in ref_names)
    if (unknown and not mention) or EDITORIAL.search(rtext):
        return VARIATION, "paraphrase"  # a title or name the input never uses, an editor's insert: style
    if not ru:
        if all(dup):
            return DAMAGE, "duplicate"
        if mention and not du[0].function and long_run:
            return DAMAGE, "stray"  # a name alone in the middle of a verbatim stretch
        return VARIATION, "paraphrase"
    if not du:
        if min(st.runs) < MIN_SIDE or (all(u.function for u in ru) and not (st.gap_mark or long_run)):
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


def _crosses_sentence(text: str, us: Sequence[_Unit]) -> bool:
    """Whether sentence punctuation or a line break lies between consecutive units."""
    return any(CLAUSE_BREAK_RE.search(text[x.end : y.start]) for x, y in itertools.pairwise(us))


def _local_confidence(label: str, runs: tuple[int, int], size: int, evident: bool) -> float:
    """Confidence from one reference: longer exact matches around a short span mean more.

    >>> _local_confidence("damage", (2, 2), 1, False) < _local_confidence("damage", (8, 8), 1, False)
    True
    """
    ctx = min(runs[0], 10) + min(runs[1], 10)
    base: float = (1.0 - 0.5 ** (ctx / 4.0)) * max(0.5, 1.0 - 0.1 * (size - 1))
    if evident:
        base = 1.0 - (1.0 - base) * 0.5
    if label == VARIATION:
        base *= 0.1
    return round(min(0.97, max(0.02, base)), 4)


def _stretches(doc: _Side, ops: list[Op], gap_points: frozenset[int]) -> list[_Stretch]:
    """The differing stretches of an aligned passage with their context.

    Context is counted where the words are: in the reference for an insertion, in
    the input for a deletion, on both (the weaker) for a substitution.
    """
    dm = {i for tag, d0, d1, _, _ in ops if tag == "equal" for i in range(d0, d1)}
    rm = {j for tag, _, _, r0, r1 in ops if tag == "equal" for j in range(r0, r1)}
    segs: list[Span] = []
    for tag, d0, d1, r0, r1 in ops:  # consecutive insert/delete opcodes form one stretch
        if tag == "equal":
            continue
        if segs and segs[-1][1] == d0 and segs[-1][3] == r0:
            segs[-1] = (segs[-1][0], d1, segs[-1][2], r1)
        else:
            segs.append((d0, d1, r0, r1))
    out = []
    for a, b, c, e in segs:
        dn = (_count(dm, a - CONTEXT_WINDOW, a), _count(dm, b, b + CONTEXT_WINDOW))
        rn = (_count(rm, c - CONTEXT_WINDOW, c), _count(rm, e, e + CONTEXT_WINDOW))
        dr, rr = (_run(dm, a - 1, -1), _run(dm, b, 1)), (_run(rm, c - 1, -1), _run(rm, e, 1))
        if a == b:
            near, runs = rn, rr
        elif c == e:
            near, runs = dn, dr
        else:
            near, runs = (min(dn[0], rn[0]), min(dn[1], rn[1])), (min(dr[0], rr[0]), min(dr[1], rr[1]))
        lo = doc.units[a - 1].end
        hi = doc.units[b].start if b < len(doc.units) else len(doc.text)
        hole = a == b and (bool(re.search(r"\s{2,}", doc.text[lo:hi])) or any(lo <= g <= hi for g in gap_points))
        out.append(_Stretch(a, b, c, e, near, runs, hole))
    return out


def _count(matched: set[int], lo: int, hi: int) -> int:
    return sum(1 for i in range(lo, hi) if i in matched)


def _run(matched: set[int], i: int, step: int) -> int:
    n = 0
    while i in matched and n < 50:
        n, i = n + 1, i + step
    return n


def _differences(
    doc: _Side,
    ref: _Side,
    reference: Reference,
    ops: list[Op],
    gap_points: frozenset[int],
) -> tuple[Difference, ...]:
    """Every differing stretch of an aligned passage, labelled, with the input span it would replace."""
    out = []
    for st in _stretches(doc, ops, gap_points):
        label, kind = _classify(doc, ref, st)
        ds, de = _doc_span(doc, st)
        rs = ref.units[st.c].start if st.c < st.e else ref.units[st.c - 1].end
        re_ = ref.units[st.e - 1].end if st.c < st.e else rs
        ref_text = ref.text[rs:re_]
        words = match_apostrophes(ref_text, doc.text)
        after = "" if st.c == st.e else words if st.a < st.b else " " + words
        evident = st.gap_mark or kind == "duplicate"  # the input shows the damage itself
        conf = _local_confidence(label, st.runs, max(st.b - st.a, st.e - st.c), evident)
        raw = reference.normalized.layer.to_base(rs, re_)
        out.append(
            Difference(ds, de, rs, re_, doc.text[ds:de], ref_text, label, conf, kind, after, raw[0], raw[1], conf)
        )
    return tuple(out)


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


def _doc_span(doc: _Side, st: _Stretch) -> tuple[int, int]:
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


def _passages_for(doc: _Side, ref: _Side, index: int, reference: Reference, gaps: frozenset[int]) -> list[Passage]:
    """The passages one reference covers, at most one per stretch of the input."""
    spans = _merge_spans(_extend(doc, ref, c) for c in _chains(_anchors(doc, ref)))
    found: list[Passage] = []
    for span in spans:
        (d0, d1, r0, r1), ops = _trimmed_ops(doc, ref, span)
        if not ops:
            continue
        dk, rk = list(doc.keys[d0:d1]), list(ref.keys[r0:r1])
        matched = sum(o[2] - o[1] for o in ops if o[0] == "equal")
        score = round(Indel.normalized_similarity(dk, rk), 4)
        if matched < MIN_MATCHED or score < MIN_SCORE:
            continue
        diffs = _differences(doc, ref, reference, ops, gaps)
        ds, de = doc.units[d0].start, doc.units[d1 - 1].end
        rs, re_ = ref.units[r0].start, ref.units[r1 - 1].end
        found.append(Passage(index, ds, de, rs, re_, score, diffs, matched))
    # a quote the reference repeats aligns twice to the same input stretch: keep the better
    kept: list[Passage] = []
    for p in sorted(found, key=lambda p: (-p.matched, -p.score, p.doc_start, p.ref_start)):
        if all(p.doc_end <= k.doc_start or k.doc_end <= p.doc_start for k in kept):
            kept.append(p)
    return kept


def align(doc: Normalized, refs: Sequence[Reference]) -> Alignment:
    """Find every passage of ``doc`` a reference covers, and the differences inside it.

    The references come back sorted by content, so the result is the same whatever
    order they were given in; ``Passage.ref`` indexes that sorted tuple.
    """
    ordered = tuple(sorted(refs, key=lambda r: (r.normalized.text, r.name, r.normalized.source)))
    side = _Side(doc.text, units(doc.text))
    if not side.units:
        return Alignment(ordered, (), doc.text)
    gaps = frozenset(s.start for s in doc.suspects if s.kind == "gap")
    passages: list[Passage] = []
    for n, r in enumerate(ordered):
        rside = _Side(r.normalized.text, units(r.normalized.text))
        passages.extend(_passages_for(side, rside, n, r, gaps))
    passages.sort(key=lambda p: (p.doc_start, p.doc_end, p.ref, p.ref_start))
    draft = Alignment(ordered, tuple(passages), doc.text)
    return _with_agreement(draft)


# ---- merging what several references say about one span ----


@dataclass(frozen=True)
class _Vote:
    ref: int
    passage: Passage
    diffs: tuple[Difference, ...]  # empty: this reference reads as the input does
    text: str  # the input span as this reference would have it
    weight: float


def _clusters(alignment: Alignment) -> list[tuple[int, int]]:
    """Input spans where damage differences from any reference overlap or touch."""
    spans = sorted((d.doc_start, d.doc_end) for p in alignment.passages for d in p.differences if d.label == DAMAGE)
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and (s < out[-1][1] or (s == out[-1][1] and (s == e or out[-1][0] == out[-1][1]))):
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _votes(alignment: Alignment, text: str, span: tuple[int, int]) -> list[_Vote]:
    """What each reference covering ``span`` reads there; a reference paraphrasing it abstains."""
    s, e = span
    votes = []
    for n in range(len(alignment.refs)):
        # a point (an insertion) is covered only strictly inside: a passage ending there knows nothing after it
        cover = [
            p
            for p in alignment.passages
            if p.ref == n and p.doc_start <= s and e <= p.doc_end and (s < e or p.doc_start < s < p.doc_end)
        ]
        if not cover:
            continue
        p = max(cover, key=lambda p: (p.score, -p.ref_start))
        inside = [
            d
            for d in p.differences
            if s <= d.doc_start and d.doc_end <= e and (s == e or (d.doc_start, d.doc_end) != (e, e))
        ]
        touching = [d for d in p.differences if d.doc_start < e and s < d.doc_end and d not in inside]
        if touching or any(d.label != DAMAGE for d in inside):
            continue
        if inside:
            parts, pos = [], s
            for d in sorted(inside, key=lambda d: (d.doc_start, d.doc_end)):
                parts += [text[pos : d.doc_start], d.after]
                pos = d.doc_end
            reading = "".join(parts) + text[pos:e]
            weight = max(d.local_confidence for d in inside)
        else:
            reading, weight = text[s:e], KEEP_WEIGHT * p.score
        votes.append(_Vote(n, p, tuple(inside), reading, weight))
    return votes


def _reading_key(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def _combine(weights: Iterable[float]) -> float:
    miss = 1.0
    for w in weights:
        miss *= 1.0 - w
    return 1.0 - miss


def _fixes_and_shares(alignment: Alignment) -> tuple[list[ReferenceFix], dict[tuple[int, int, int], float]]:
    """Merged fixes, and for every damage difference its agreement-aware confidence."""
    fixes: list[ReferenceFix] = []
    conf: dict[tuple[int, int, int], float] = {}
    doc_text = alignment.doc_text
    for span in _clusters(alignment):
        votes = _votes(alignment, doc_text, span)
        if not votes:
            continue
        groups: dict[str, list[_Vote]] = defaultdict(list)
        for v in votes:
            groups[_reading_key(v.text)].append(v)
        total = sum(v.weight for v in votes)
        keep_key = _reading_key(doc_text[span[0] : span[1]])

        # ties go to keeping the input, then to the reading itself: never to a list position
        ranked = sorted(groups, key=lambda k: (round(sum(v.weight for v in groups[k]), 9), k == keep_key, k))[::-1]
        for key in ranked:
            g = groups[key]
            share = sum(v.weight for v in g) / total if total else 0.0
            c = round(_combine(v.weight for v in g) * share, 4)
            for v in g:
                for d in v.diffs:
                    conf[(v.ref, d.doc_start, d.ref_start)] = c
        win = ranked[0]
        if win == keep_key:
            continue
        g = sorted(groups[win], key=lambda v: (-v.weight, alignment.refs[v.ref].name))
        share = sum(v.weight for v in g) / total
        reading = g[0].text
        witnesses = tuple(_witness(alignment, v) for v in g)
        dissent = tuple(sorted(alignment.refs[v.ref].name for v in votes if _reading_key(v.text) != win))
        kinds = {d.kind for v in g for d in v.diffs}
        kind = "substitution" if "substitution" in kinds or len(kinds) != 1 else kinds.pop()
        fixes.append(
            ReferenceFix(
                span[0],
                span[1],
                doc_text[span[0] : span[1]],
                reading,
                kind,
                round(_combine(v.weight for v in g) * share, 4),
                witnesses,
                dissent,
            )
        )
    return fixes, conf


def _witness(alignment: Alignment, v: _Vote) -> Witness:
    ds = v.diffs
    rs, re_ = min(d.ref_start for d in ds), max(d.ref_end for d in ds)
    raw = alignment.refs[v.ref].normalized.layer.to_base(rs, re_)
    ref_text = alignment.refs[v.ref].normalized.text[rs:re_]
    return Witness(alignment.refs[v.ref].name, rs, re_, raw[0], raw[1], ref_text, v.passage.score, v.weight)


def reference_fixes(alignment: Alignment) -> tuple[ReferenceFix, ...]:
    """One proposal per input span where the references covering it agree on a repair (`Alignment.fixes`)."""
    return alignment.fixes


def _with_agreement(alignment: Alignment) -> Alignment:
    _, conf = _fixes_and_shares(alignment)
    passages = tuple(
        replace(
            p,
            differences=tuple(
                replace(d, confidence=conf.get((p.ref, d.doc_start, d.ref_start), d.confidence)) for d in p.differences
            ),
        )
        for p in alignment.passages
    )
    return replace(alignment, passages=passages)


# ---- views: JSON and a table for the terminal ----


