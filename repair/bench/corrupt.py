"""Damage clean text the way a broken machine pipeline does, and keep the answer key.

The damage imitates the bundled AP example: re-tokenized text ("U. S.", " , ",
"does n’t"), entity mentions of the document pasted over one to three words
("Russia obligation" for "its obligation"), stray function words, doubled words,
words dropped leaving a run of spaces, a stray bracket and a trailing name line.
Every change is recorded as an `Edit` on the *damaged* text whose ``after`` is the
original, so ``apply_edits(damaged, key)`` gives the clean text back.

The damaged text is built as a row of segments, each a (damaged, original, kind)
triple: joining the damaged sides gives the damaged text, joining the original
sides the clean one, and every segment whose sides differ is one answer.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from repair.edits import Edit, apply_edits
from repair.text.english import CONNECTORS, COREF_WORDS, NOT_NAMES, PASTED_FUNCTION_WORDS
from repair.text.sentences import END_TOKENS
from repair.text.tokens import Token, tokenize

CORRUPTION_KINDS: tuple[str, ...] = ("tokenization", "substitution", "duplicate", "gap", "stray")  # the default
ALL_KINDS: tuple[str, ...] = (*CORRUPTION_KINDS, "mojibake")  # mojibake only on request: the AP example has none
MOJIBAKE_PER_100 = 0.3  # tokens holding a non-ASCII character written as UTF-8 read as Windows-1252

# expected damage per 100 tokens at rate 1.0, measured on the AP example against its original
RATES_PER_100: dict[str, float] = {
    "substitution": 3.9,
    "duplicate": 0.2,
    "gap": 0.35,
    "stray": 0.06,  # brackets; a trailing name line comes on top
}
ENTITY_SHARE = 0.8  # share of substitutions that paste an entity mention (the rest paste function words)
# A coreference step pastes an entity's name over the pronouns that refer to it ("its alliance" ->
# "Russia alliance"); of the pastes on article 000 that its references settle, about a third
# stood where a pronoun or possessive was. Such a paste is always a name and one word long.
COREF_SHARE = 0.35
COREF_MAX_P = 0.8  # a pronoun is never certain to be overwritten, however few a text has
SPAN_LENGTHS: tuple[tuple[int, float], ...] = ((1, 0.6), (2, 0.3), (3, 0.1))  # tokens overwritten by one paste
TRAILING_LINE_CHANCE = 0.6  # chance (times the rate) of a trailing line holding one name
GAP_SPACES = (3, 4)  # a dropped word leaves this many spaces

POSSESSIVE_RE = re.compile(r"[’']s$")
DEMONYM_RE = re.compile(r"(?:ian|ean|ese|ish)$")

# tokenization artifacts, applied to one token of the clean text: (name, pattern, replacement)
RETOKENIZE: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("split abbreviation", re.compile(r"(?<=\b\w)\.(?=\w)"), ". "),  # U.S. -> U. S.
    ("split n't", re.compile(r"(?<=\w)(n[’']t)$"), r" \1"),  # doesn’t -> does n’t
    ("split clitic", re.compile(r"(?<=\w)([’'](?:s|re|ve|ll|d|m))$"), r" \1"),  # Assad’s -> Assad ’s
    ("split cannot", re.compile(r"^([Cc]an)(not)$"), r"\1 \2"),  # cannot -> can not
)


def retokenize(token: str) -> str:
    """The token as a machine tokenizer writes it.

    >>> [retokenize(t) for t in ["U.S.", "doesn’t", "Assad’s", "cannot", "Syria"]]
    ['U. S.', 'does n’t', 'Assad ’s', 'can not', 'Syria']
    """
    for _name, pattern, repl in RETOKENIZE:
        token = pattern.sub(repl, token)
    return token


@dataclass(frozen=True)
class Segment:
    damaged: str
    original: str
    kind: str = ""  # "" where nothing was damaged


@dataclass(frozen=True)
class Damage:
    """A damaged text, the clean text it came from, and the answer key between them."""

    clean: str
    damaged: str
    answers: tuple[Edit, ...]  # on the damaged text; ``after`` is the original wording
    seed: int
    rate: float
    kinds: tuple[str, ...]

    def to_json(self) -> str:
        doc = {
            "version": 1,
            "seed": self.seed,
            "rate": self.rate,
            "kinds": list(self.kinds),
            "note": "each answer is an edit on the damaged text: damaged[start:end] == before; after is the original",
            "answers": [
                {"kind": e.kind, "start": e.start, "end": e.end, "before": e.before, "after": e.after}
                for e in self.answers
            ],
            "clean": self.clean,
        }
        return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def load_answers(text: str) -> tuple[str, tuple[Edit, ...]]:
    """Read an answer key written by `Damage.to_json`: (clean text, answers)."""
    doc = json.loads(text)
    answers = tuple(
        Edit(int(a["start"]), int(a["end"]), str(a["before"]), str(a["after"]), str(a["kind"]), 1.0)
        for a in doc["answers"]
    )
    return str(doc["clean"]), answers


def mentions(text: str) -> Counter[str]:
    """The names a text mentions, with how often: runs of capitalized words, "the" kept where it usually leads.

    >>> sorted(mentions("The Kremlin said the U.S. and Russian President Vladimir Putin met in Russia.").items())
    [('Russia', 1), ('Russian President Vladimir Putin', 1), ('The Kremlin', 1), ('the U.S.', 1)]
    """
    toks = tokenize(text)
    lowered = {t.text for t in toks if t.text.islower()}
    seen: dict[str, list[str]] = {}  # bare name -> its surface forms, one per occurrence
    openers: Counter[str] = Counter()  # how often a bare name opens a sentence
    i = 0
    while i < len(toks):
        if not _is_name_word(toks[i], lowered):
            i += 1
            continue
        j = i + 1
        while j < len(toks) and not _line_break(text, toks[j - 1], toks[j]):
            if _is_name_word(toks[j], lowered):
                j += 1
            elif toks[j].text in CONNECTORS and j + 1 < len(toks) and _is_name_word(toks[j + 1], lowered):
                j += 2
            else:
                break
        bare = POSSESSIVE_RE.sub("", text[toks[i].start : toks[j - 1].end])
        led = i > 0 and toks[i - 1].text in ("the", "The") and not _line_break(text, toks[i - 1], toks[i])
        seen.setdefault(bare, []).append(f"{toks[i - 1].text} {bare}" if led else bare)
        if i == 0 or toks[i - 1].text in END_TOKENS or _line_break(text, toks[i - 1], toks[i]):
            openers[bare] += 1
        i = j
    in_longer = {w for bare in seen if " " in bare for w in bare.split()}
    found: Counter[str] = Counter()
    for bare, forms in seen.items():
        single = " " not in bare
        opens_only = openers[bare] == len(forms) and bare not in in_longer
        if single and (opens_only or DEMONYM_RE.search(bare)):
            continue  # a common word that opens sentences, or an adjective of nationality
        with_the = [f for f in forms if f != bare]
        form = Counter(with_the).most_common(1)[0][0] if 2 * len(with_the) >= len(forms) else bare
        found[form] = len(forms)
    return found


def _is_name_word(tok: Token, lowered: set[str]) -> bool:
    """Capitalized, not a function word, and not a common word that merely opens a sentence."""
    word = POSSESSIVE_RE.sub("", tok.text)
    if not word[:1].isupper() or word.lower() in NOT_NAMES:
        return False
    return word.isupper() or word.lower() not in lowered or "." in word


def _line_break(text: str, a: Token, b: Token) -> bool:
    return "\n" in text[a.end : b.start]


@dataclass(frozen=True)
class _Plan:
    """What happens at one token: its kind and, for a substitution, how far it reaches and what is pasted."""

    kind: str
    end: int = 0  # last token index + 1 that a substitution overwrites
    text: str = ""  # the pasted mention or word


def corrupt(clean: str, seed: int, *, rate: float = 1.0, kinds: Sequence[str] = CORRUPTION_KINDS) -> Damage:
    """Damage ``clean`` reproducibly for ``seed``; the answers turn the damage back into ``clean``.

    >>> d = corrupt("The U.S. said Russia doesn’t agree, and Russia left.", 1, kinds=["tokenization"])
    >>> d.damaged
    'The U. S. said Russia does n’t agree , and Russia left .'
    >>> apply_edits(d.damaged, d.answers) == d.clean
    True
    """
    unknown = [k for k in kinds if k not in ALL_KINDS]
    if unknown:
        raise ValueError(f"unknown damage kind(s): {', '.join(unknown)} (known: {', '.join(ALL_KINDS)})")
    rng = random.Random(seed)
    toks = tokenize(clean)
    names = mentions(clean)
    plan = _plan(clean, toks, names, rng, rate, set(kinds))
    trailing = ""
    if "stray" in kinds and names and rng.random() < min(1.0, TRAILING_LINE_CHANCE * rate):
        trailing = _pick_name(names, rng)
    segments = _segments(clean, toks, plan, tokenized="tokenization" in kinds, rng=rng)
    if "mojibake" in kinds:
        segments = _mojibake(segments, rate, random.Random(f"{seed}:mojibake"))
    if trailing:
        segments.append(Segment(f"\n {_form(trailing, 'tokenization' in kinds)} \n", "", "stray"))
    damaged, answers = _answers(segments)
    if apply_edits(damaged, answers) != clean:  # the key must invert the damage exactly
        raise AssertionError("corrupt: the answer key does not restore the clean text")
    return Damage(clean, damaged, answers, seed, rate, tuple(k for k in ALL_KINDS if k in kinds))


def _plan(
    clean: str, toks: Sequence[Token], names: Counter[str], rng: random.Random, rate: float, kinds: set[str]
) -> dict[int, _Plan]:
    """Choose, token by token, where which damage goes; spans never overlap.

    Damage lands only on words (a stray bracket only before a sentence), so the
    chance per eligible token is scaled up to keep the rate per 100 tokens of all kinds.
    """
    opens = [i > 0 and t.is_word and toks[i - 1].text in END_TOKENS - {":"} for i, t in enumerate(toks)]
    n_words = max(1, sum(t.is_word for t in toks))
    word_probs = [
        (k, RATES_PER_100[k] * rate / 100 * len(toks) / n_words)
        for k in ("substitution", "duplicate", "gap")
        if k in kinds
    ]
    coref = [t.is_word and t.text.lower() in COREF_WORDS for t in toks]
    n_coref = sum(coref)
    # substitutions split between pronouns (COREF_SHARE of them) and other words, same total
    subs = RATES_PER_100["substitution"] * rate / 100 * len(toks) if "substitution" in kinds and names else 0.0
    p_coref = min(COREF_MAX_P, COREF_SHARE * subs / n_coref) if n_coref else 0.0
    p_other_sub = max(0.0, subs - p_coref * n_coref) / max(1, n_words - n_coref)
    stray_p = RATES_PER_100["stray"] * rate / 100 * len(toks) / max(1, sum(opens)) if "stray" in kinds else 0.0
    plan: dict[int, _Plan] = {}
    busy_until = 0  # tokens before this index are taken by an earlier damage
    dropped_prev = False
    for i, tok in enumerate(toks):
        if i < busy_until:
            continue
        roll = rng.random()
        kind = ""
        probs = [
            (k, (p_coref if coref[i] else p_other_sub) if k == "substitution" and subs else p) for k, p in word_probs
        ]
        for k, p in [*probs, ("stray", stray_p if opens[i] else 0.0)]:
            if roll < p:
                kind = k
                break
            roll -= p
        if not kind or not tok.is_word:
            dropped_prev = False
            continue
        if kind == "substitution":
            end = i + 1 if coref[i] else _span_end(clean, toks, i, rng)
            original = clean[tok.start : toks[end - 1].end]
            pasted_name = names and (coref[i] or rng.random() < ENTITY_SHARE)
            paste = _pick_name(names, rng) if pasted_name else rng.choice(PASTED_FUNCTION_WORDS)
            if paste != original:
                plan[i] = _Plan("substitution", end, paste)
                busy_until = end
        elif kind == "gap":
            inside = 0 < i < len(toks) - 1 and not dropped_prev
            if inside and not _line_break(clean, toks[i - 1], tok) and not _line_break(clean, tok, toks[i + 1]):
                plan[i] = _Plan("gap")
                busy_until = i + 2  # the next token's leading space is swallowed too
        elif kind == "duplicate":
            plan[i] = _Plan("duplicate")
        elif kind == "stray":
            plan[i] = _Plan("stray", text="[")
        dropped_prev = plan.get(i, _Plan("")).kind == "gap"
    return plan


def _span_end(clean: str, toks: Sequence[Token], i: int, rng: random.Random) -> int:
    """End of a 1-3 word span from token i, staying on one line and among words."""
    want = rng.choices([n for n, _ in SPAN_LENGTHS], weights=[w for _, w in SPAN_LENGTHS])[0]
    end = i + 1
    while end < min(len(toks), i + want) and toks[end].is_word and not _line_break(clean, toks[end - 1], toks[end]):
        end += 1
    return end


def _pick_name(names: Counter[str], rng: random.Random) -> str:
    """A mention, the frequent ones more often (a coreference chain's head is pasted most)."""
    ordered = sorted(names)
    return rng.choices(ordered, weights=[names[n] for n in ordered])[0]


def _form(text: str, tokenized: bool) -> str:
    """How a clean stretch looks once re-tokenized: every token apart, split as a tokenizer splits."""
    if not tokenized:
        return text
    return " ".join(retokenize(t.text) for t in tokenize(text))


def _gap(space: str, tokenized: bool) -> str:
    """The whitespace between two tokens once re-tokenized: one space, line breaks kept."""
    if not tokenized or "\n" in space:
        return space
    return " "


def _segments(
    clean: str, toks: Sequence[Token], plan: dict[int, _Plan], *, tokenized: bool, rng: random.Random
) -> list[Segment]:
    segs: list[Segment] = []
    pos = 0  # everything of the clean text before pos has been emitted
    i = 0
    swallowed = False  # the space before this token went with a dropped word
    while i < len(toks):
        tok = toks[i]
        step = plan.get(i)
        if step is not None and step.kind == "gap":
            nxt = toks[i + 1].start
            segs.append(Segment(" " * rng.choice(GAP_SPACES), clean[pos:nxt], "gap"))
            pos = nxt
            i += 1
            swallowed = True
            continue
        if not swallowed:
            space = clean[pos : tok.start]
            segs.append(Segment(_gap(space, tokenized) if i > 0 else space, space, "tokenization"))
        if step is not None and step.kind == "stray":
            segs.append(Segment(f"{step.text} ", "", "stray"))
        if step is not None and step.kind == "duplicate":
            segs.append(Segment(f"{_form(tok.text, tokenized)} ", "", "duplicate"))
        if step is not None and step.kind == "substitution":
            end = toks[step.end - 1].end
            segs.append(Segment(_form(step.text, tokenized), clean[tok.start : end], "substitution"))
            pos = end
            i = step.end
            swallowed = False
            continue
        segs.append(Segment(_form(tok.text, tokenized), tok.text, "tokenization"))
        pos = tok.end
        i += 1
        swallowed = False
    tail = clean[pos:]
    segs.append(Segment(tail, tail))
    return segs


def mis_decode(text: str) -> str:
    """Text as it reads when its UTF-8 bytes are taken for Windows-1252.

    >>> mis_decode("doesn’t"), mis_decode("US\u00a0strike")
    ('doesnâ€™t', 'USÂ\xa0strike')
    """
    import ftfy.bad_codecs  # noqa: F401 (registers the sloppy codec that maps every byte)

    return text.encode("utf-8").decode("sloppy-windows-1252")


def _mojibake(segments: list[Segment], rate: float, rng: random.Random) -> list[Segment]:
    """Garble some untouched or re-tokenized tokens that hold a non-ASCII character."""
    eligible = [i for i, s in enumerate(segments) if s.kind in ("", "tokenization") and not s.damaged.isascii()]
    if not eligible:
        return segments
    n_tokens = sum(1 for s in segments if s.original.strip())
    p = min(1.0, MOJIBAKE_PER_100 * rate / 100 * n_tokens / len(eligible))
    out = list(segments)
    for i in eligible:
        if rng.random() < p:
            out[i] = Segment(mis_decode(segments[i].damaged), segments[i].original, "mojibake")
    return out


def _answers(segments: Iterable[Segment]) -> tuple[str, tuple[Edit, ...]]:
    """The damaged text and one answer per segment whose two sides differ."""
    parts: list[str] = []
    answers: list[Edit] = []
    pos = 0
    for s in segments:
        if s.damaged != s.original:
            answers.append(Edit(pos, pos + len(s.damaged), s.damaged, s.original, s.kind, 1.0))
        parts.append(s.damaged)
        pos += len(s.damaged)
    return "".join(parts), tuple(answers)
