"""Damage clean text the way a broken machine pipeline does, and keep the answer key.

The damage imitates the real damaged article of the bundled example: re-tokenized text
("U. S.", " , ", "does n’t"); names of the document (now and then a function word) pasted
over a pronoun, a function word, a content word, two or three words or a punctuation mark,
in the real article's mix (`repair.bench.originals.REAL_MIX`); words dropped leaving a run
of spaces; tokens added (a doubled word, a word or name put in, a stray bracket) and a
trailing name line. Each case draws its density, mix and habits from ranges (`Mix`).
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

from repair.bench.originals import PUNCTUATION, REAL_MIX, word_class
from repair.edits import Edit, apply_edits
from repair.text.english import CONNECTORS, NOT_NAMES, PASTED_FUNCTION_WORDS, TITLES
from repair.text.sentences import END_TOKENS
from repair.text.tokens import Token, tokenize

CORRUPTION_KINDS: tuple[str, ...] = ("tokenization", "substitution", "duplicate", "gap", "stray")  # the default
ALL_KINDS: tuple[str, ...] = (*CORRUPTION_KINDS, "mojibake")  # mojibake only on request: the AP example has none
MOJIBAKE_PER_100 = 0.3  # tokens holding a non-ASCII character written as UTF-8 read as Windows-1252

# Damaged spans per 100 words at rate 1.0: the real article 000 has 41 over about 800 words. Each case draws
# its own density from this range (times the rate), its own mix of originals around `REAL_MIX` and its own
# habits below, so that nothing fitted on the benchmark learns one corruptor's habits.
SPANS_PER_100_WORDS = (3.0, 7.0)
MIX_CONCENTRATION = 25.0  # Dirichlet concentration of a case's mix around the real one: lower, wilder cases
NAME_PASTE_SHARE = (0.7, 0.95)  # of the pastes over non-pronouns, the share that are names (else function words)
NEAR_MENTION_SHARE = (0.1, 0.6)  # of content and several-word sites, the share chosen beside a name
NEAREST_NAME_SHARE = (0.3, 0.9)  # of pasted names, the share that is the nearest name before (a coreference chain)
WORDS_LENGTHS: tuple[tuple[int, float], ...] = ((2, 0.7), (3, 0.3))  # tokens a several-word paste overwrites
# what an extra token is, each case drawing its weights around these: a word doubled ("Assad Assad"), a
# function word or a name put in ("he said. he But"), a stray bracket before a sentence
EXTRA_KINDS: dict[str, float] = {"double": 0.5, "function": 0.2, "name": 0.15, "bracket": 0.15}
TRAILING_LINE_CHANCE = 0.5  # chance (times the rate) of a trailing line holding one name
GAP_SPACES = (3, 4)  # a dropped word leaves this many spaces
NEAR = 2  # tokens from a name within which a site is "beside" it

POSSESSIVE_RE = re.compile(r"[’']s$")
# capitalized words that are no name alone: a coreference step pastes "Mr. Harlow", never "Mr"
NOT_PASTED = TITLES | frozenset("rep sen gov jan feb mar apr jun jul aug sep sept oct nov dec".split())
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
        if single and (opens_only or DEMONYM_RE.search(bare) or bare.lower().rstrip(".") in NOT_PASTED):
            continue  # a common word that opens sentences, an adjective of nationality, a title or abbreviation
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
class Mix:
    """One case's damage: how dense, of which originals, and the corruptor's habits, drawn per case."""

    spans_per_100: float  # damaged spans per 100 words
    shares: dict[str, float]  # original class (`ORIGINALS`) -> share of the spans
    name_paste: float  # share of pastes over non-pronouns that are names
    near_mention: float  # share of content and several-word sites beside a name
    nearest_name: float  # share of pasted names that are the nearest name before the site
    extras: dict[str, float]  # `EXTRA_KINDS` -> share of the extra tokens
    gap_spaces: tuple[int, ...]

    @classmethod
    def draw(cls, rng: random.Random, rate: float) -> Mix:
        """A case's mix: every number from its range, the shares from a Dirichlet around the real mix."""
        total = sum(REAL_MIX.values())
        return cls(
            spans_per_100=rng.uniform(*SPANS_PER_100_WORDS) * rate,
            shares=_dirichlet(rng, {k: MIX_CONCENTRATION * n / total for k, n in REAL_MIX.items()}),
            name_paste=rng.uniform(*NAME_PASTE_SHARE),
            near_mention=rng.uniform(*NEAR_MENTION_SHARE),
            nearest_name=rng.uniform(*NEAREST_NAME_SHARE),
            extras=_dirichlet(rng, {k: 8 * w for k, w in EXTRA_KINDS.items()}),
            gap_spaces=GAP_SPACES,
        )


def _dirichlet(rng: random.Random, alphas: dict[str, float]) -> dict[str, float]:
    draws = {k: rng.gammavariate(a, 1.0) for k, a in alphas.items()}
    total = sum(draws.values()) or 1.0
    return {k: v / total for k, v in draws.items()}


@dataclass(frozen=True)
class _Plan:
    """What happens at one token: its kind and, for a substitution, how far it reaches and what is pasted."""

    kind: str  # substitution | gap | duplicate | stray
    end: int = 0  # last token index + 1 that a substitution overwrites
    text: str = ""  # the pasted mention or word, or the token put in before this one


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
    mix = Mix.draw(rng, rate)
    toks = tokenize(clean)
    names = mentions(clean)
    plan = _Planner(clean, toks, names, mix, set(kinds), rng).plan()
    trailing = ""
    if "stray" in kinds and names and rng.random() < min(1.0, TRAILING_LINE_CHANCE * rate):
        trailing = _pick_name(names, rng)
    tokenized = "tokenization" in kinds
    segments = _segments(clean, toks, plan, tokenized=tokenized, rng=rng, gap_spaces=mix.gap_spaces)
    if "mojibake" in kinds:
        segments = _mojibake(segments, rate, random.Random(f"{seed}:mojibake"))
    if trailing:
        segments.append(Segment(f"\n {_form(trailing, tokenized)} \n", "", "stray"))
    damaged, answers = _answers(segments)
    if apply_edits(damaged, answers) != clean:  # the key must invert the damage exactly
        raise AssertionError("corrupt: the answer key does not restore the clean text")
    return Damage(clean, damaged, answers, seed, rate, tuple(k for k in ALL_KINDS if k in kinds))


class _Planner:
    """Chooses where which damage goes: spans drawn one by one, each of a class drawn from the case's mix,
    at a free site of that class; damage never touches other damage (one clean token between)."""

    def __init__(
        self, clean: str, toks: Sequence[Token], names: Counter[str], mix: Mix, kinds: set[str], rng: random.Random
    ) -> None:
        self.clean, self.toks, self.names, self.mix, self.rng = clean, toks, names, mix, rng
        self.busy = [False] * len(toks)
        self.plan_: dict[int, _Plan] = {}
        allowed: set[str] = set()
        if "substitution" in kinds and names:
            allowed |= {"pronoun", "function", "content", "words", "punctuation"}
        if "gap" in kinds:
            allowed.add("gap")
        self.extras = {
            k: w
            for k, w in mix.extras.items()
            if ("duplicate" if k == "double" else "stray") in kinds and (names or k != "name")
        }
        if self.extras:
            allowed.add("extra")
        self.classes = {k: w for k, w in mix.shares.items() if k in allowed}
        self.occurrences = _name_occurrences(clean, names)
        name_toks = {i for i, t in enumerate(toks) for s, e in self.occurrences if s <= t.start < e}
        self.near = {i for i in range(len(toks)) if any(abs(i - j) <= NEAR for j in name_toks)} - name_toks

    def plan(self) -> dict[int, _Plan]:
        n_words = sum(t.is_word for t in self.toks)
        expected = self.mix.spans_per_100 * n_words / 100
        # Poisson-like: the whole part, and one more with the chance of the fraction
        count = int(expected) + (self.rng.random() < expected - int(expected))
        if not self.classes:
            return {}
        keys = sorted(self.classes)
        for _ in range(count):
            for _attempt in range(4):
                cls = self.rng.choices(keys, weights=[self.classes[k] for k in keys])[0]
                if self._place(cls):
                    break
        return self.plan_

    def _free(self, i: int, j: int) -> bool:
        lo, hi = max(0, i - 1), min(len(self.toks), j + 1)
        return not any(self.busy[lo:hi]) and not any(
            _line_break(self.clean, self.toks[k], self.toks[k + 1])
            for k in range(max(0, i - 1), min(j, len(self.toks) - 1))
        )

    def _inner_word(self, i: int) -> bool:
        return 0 < i < len(self.toks) - 1 and self.toks[i].is_word

    def _sites(self, cls: str) -> list[tuple[int, int]]:
        toks, n = self.toks, len(self.toks)
        if cls == "words":
            length = self.rng.choices([k for k, _ in WORDS_LENGTHS], weights=[w for _, w in WORDS_LENGTHS])[0]
            return [
                (i, i + length)
                for i in range(1, n - length)
                if all(toks[k].is_word for k in range(i, i + length)) and self._free(i, i + length)
            ]
        if cls == "punctuation":
            return [
                (i, i + 1)
                for i in range(1, n - 1)
                if toks[i].text in PUNCTUATION
                and toks[i - 1].is_word
                and toks[i + 1].is_word
                and self.clean[toks[i].end : toks[i].end + 1] == " "
                and self._free(i, i + 1)
            ]
        if cls in ("pronoun", "function", "content"):
            return [
                (i, i + 1)
                for i in range(n)
                if self._inner_word(i) and word_class(toks[i].text) == cls and self._free(i, i + 1)
            ]
        if cls == "gap":
            return [(i, i + 2) for i in range(1, n - 1) if toks[i].is_word and self._free(i, i + 2)]
        return [(i, i) for i in range(1, n) if toks[i].is_word and self._free(i, i + 1)]  # extra: before token i

    def _place(self, cls: str) -> bool:
        sites = self._sites(cls)
        if cls in ("content", "words") and self.rng.random() < self.mix.near_mention:
            sites = [s for s in sites if s[0] in self.near or s[1] - 1 in self.near] or sites
        if cls == "extra":
            extra = self.rng.choices(sorted(self.extras), weights=[self.extras[k] for k in sorted(self.extras)])[0]
            if extra == "bracket":
                sites = [s for s in sites if self.toks[s[0] - 1].text in END_TOKENS - {":"}]
        if not sites:
            return False
        i, j = self.rng.choice(sites)
        if cls == "gap":
            self.plan_[i] = _Plan("gap")
        elif cls == "extra":
            if extra == "double":
                put = self.toks[i].text
            elif extra == "name":
                put = self._name(i)
            else:
                put = "[" if extra == "bracket" else self.rng.choice(PASTED_FUNCTION_WORDS)
            self.plan_[i] = _Plan("duplicate" if extra == "double" else "stray", text=put)
        else:
            original = self.clean[self.toks[i].start : self.toks[j - 1].end]
            name = cls == "pronoun" or self.rng.random() < self.mix.name_paste
            paste = self._name(i) if name else self.rng.choice(PASTED_FUNCTION_WORDS)
            if paste.lower() == original.lower():
                return False
            self.plan_[i] = _Plan("substitution", j, paste)
        for k in range(i, max(j, i + 1)):
            self.busy[k] = True
        return True

    def _name(self, i: int) -> str:
        """A name of the text: the nearest one before token ``i`` (a coreference chain), or any by frequency."""
        at = self.toks[i].start
        before = [(s, form) for (s, _e), form in self.occurrences.items() if s < at]
        if before and self.rng.random() < self.mix.nearest_name:
            return max(before)[1]
        return _pick_name(self.names, self.rng)


def _name_occurrences(clean: str, names: Counter[str]) -> dict[tuple[int, int], str]:
    """Where each name form stands in the text: (start, end) -> the form."""
    out: dict[tuple[int, int], str] = {}
    for form in sorted(names, key=len, reverse=True):
        bare = re.escape(form[4:] if form.lower().startswith("the ") else form)
        for m in re.finditer(rf"(?<!\w){bare}(?!\w)", clean):
            if not any(s <= m.start() < e for s, e in out):
                out[(m.start(), m.end())] = form
    return out


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
    clean: str,
    toks: Sequence[Token],
    plan: dict[int, _Plan],
    *,
    tokenized: bool,
    rng: random.Random,
    gap_spaces: Sequence[int] = GAP_SPACES,
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
            segs.append(Segment(" " * rng.choice(gap_spaces), clean[pos:nxt], "gap"))
            pos = nxt
            i += 1
            swallowed = True
            continue
        if step is not None and step.kind == "substitution" and not tok.is_word:
            # a name over punctuation takes the space before it too: "the vote." -> "the vote Harlow"
            segs.append(Segment(" " + _form(step.text, tokenized), clean[pos : tok.end], "substitution"))
            pos = tok.end
            i += 1
            swallowed = False
            continue
        if not swallowed:
            space = clean[pos : tok.start]
            segs.append(Segment(_gap(space, tokenized) if i > 0 else space, space, "tokenization"))
        if step is not None and step.kind in ("stray", "duplicate"):
            segs.append(Segment(f"{_form(step.text, tokenized)} ", "", step.kind))
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
