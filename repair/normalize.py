"""Deterministic surface repairs with offsets kept: tokenization artifacts, mojibake, whitespace.

Each rule is a small named function ``text -> list[Edit]`` in the module-level
table `RULES`; the rules run one after another, each on the text the previous ones
produced, and `repair.edits.compose` turns the passes into edits on the input.
Runs of spaces that look like a dropped word are not collapsed: they come back as
``gap`` suspects for the later stages to fill.

>>> normalize("LUCCA , Italy ( AP ) — U. S. officials do n’t know .").text
'LUCCA, Italy (AP) — U.S. officials don’t know.'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import ftfy
from rapidfuzz.distance import Levenshtein

from repair.edits import Edit, Evidence, Layer, compose
from repair.spans import Suspect

Rule = Callable[[str], list[Edit]]

# only the fixers that undo wrong decoding; the others would change correct text
FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)
# paragraphs are normalized one chunk at a time so composing edits stays cheap
CHUNK_CHARS = 8000

LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|\Z)")
LINE_START_RE = re.compile(r"(?<=\n)[^\r\n]")
SENTENCE_END_RE = re.compile(r"(?<=[^\W\d_]{2}) ?[.!?] (?=[A-Z][a-z])")
BLANK_LINE_RE = re.compile(r"(?:\r\n|\r|\n)(?:[ \t]*(?:\r\n|\r|\n))+")
GAP_RE = re.compile(r"(?<=[^\W_]) {2,}(?=[^\W_]|[.,;:!?](?:[ \r\n\"”’')\]]|$))")
ABBREV_END_RE = re.compile(r"(?:^|[^\w.])(?:[^\W\d_]\.)+$", re.MULTILINE)
# a line that clearly went through a tokenizer: a space before a comma or a period
TOKENIZED_RE = re.compile(r"[^\s.] [,.](?:[ \"”’')\]]|$)", re.MULTILINE)
QUOTE_CHARS = '"“”‘’'
# the last line, one or two capitalized words, and the blank lines before it
ORPHAN_RE = re.compile(
    r"(?:\r\n|\r|\n)(?:[ \t]*(?:\r\n|\r|\n))*([ \t]*)([^\W\d_][\w’'-]*(?: [^\W\d_][\w’'-]*)?)[ \t]*(\r\n|\r|\n)?\Z"
)
BRACKETS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {v: k for k, v in BRACKETS.items()}


def _edit(text: str, start: int, end: int, after: str, kind: str, confidence: float, rule: str, detail: str) -> Edit:
    return Edit(start, end, text[start:end], after, kind, confidence, (Evidence(f"rule:{rule}", detail),))


def _regex_rule(
    pattern: str, after: str, kind: str, confidence: float, detail: str, flags: int = 0, *, tokenized_only: bool = False
) -> Rule:
    """A rule replacing every match of ``pattern`` (usually a lone space) with ``after``."""
    regex = re.compile(pattern, flags | re.MULTILINE)

    def rule(text: str) -> list[Edit]:
        spans = _tokenized_spans(text) if tokenized_only else [(0, len(text))]
        return [
            _edit(text, m.start(), m.end(), after, kind, confidence, rule.__name__, detail)
            for s, e in spans
            for m in regex.finditer(text, s, e)
        ]

    return rule


def _named(name: str, rule: Rule) -> Rule:
    rule.__name__ = rule.__qualname__ = name
    return rule


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """(offset, line without its break) for every line."""
    for m in LINE_RE.finditer(text):
        if m.start() == len(text) and m.start() > 0:
            break
        yield m.start(), m.group().rstrip("\r\n")


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of the blocks between blank lines."""
    spans, pos = [], 0
    for m in BLANK_LINE_RE.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return spans


def _tokenized_spans(text: str) -> list[tuple[int, int]]:
    """Paragraphs showing plain tokenizer damage; spacing that is right in French is fixed only there."""
    return [(s, e) for s, e in _paragraphs(text) if TOKENIZED_RE.search(text, s, e)]


# --- mojibake -------------------------------------------------------------------------------


def stray_circumflex(text: str) -> list[Edit]:
    """A lone "Â" after a word, left where a no-break space was decoded as Latin-1 ("USÂ missile").

    >>> [e.before for e in stray_circumflex("USÂ missile and ÂGE")]
    ['Â']
    """
    return [
        _edit(
            text,
            m.start(),
            m.end(),
            " " if m.group() == "Â\xa0" else "",
            "mojibake",
            0.95,
            "stray_circumflex",
            "Â left by a no-break space read as Latin-1",
        )
        for m in re.finditer(r"(?<=[\x21-\x7e])Â(?:\xa0|(?=[ \r\n]|$))", text)
    ]


def ftfy_mojibake(text: str) -> list[Edit]:
    """What ftfy's decoding fixes change, line by line, as small edits ("doesnâ€™t" -> "doesn’t")."""
    out: list[Edit] = []
    for start, line in _lines(text):
        if line.isascii():
            continue
        fixed = ftfy.fix_text(line, FTFY_CONFIG)
        if fixed == line:
            continue
        ops = [op for op in Levenshtein.opcodes(line, fixed) if op.tag != "equal"]
        merged: list[list[int]] = []
        for op in ops:
            if merged and merged[-1][1] == op.src_start:
                merged[-1][1], merged[-1][3] = op.src_end, op.dest_end
            else:
                merged.append([op.src_start, op.src_end, op.dest_start, op.dest_end])
        out.extend(
            _edit(text, start + s0, start + s1, fixed[d0:d1], "mojibake", 0.95, "ftfy_mojibake", "ftfy.fix_text")
            for s0, s1, d0, d1 in merged
        )
    return out


# --- whitespace -----------------------------------------------------------------------------


def trailing_spaces(text: str) -> list[Edit]:
    """Spaces at a line end carry nothing.

    >>> [(e.start, e.end) for e in trailing_spaces("a  \\r\\nb ")]
    [(1, 3), (6, 7)]
    """
    return [
        _edit(text, m.start(), m.end(), "", "whitespace", 0.99, "trailing_spaces", "spaces at a line end")
        for m in re.finditer(r"[ \t\xa0]+(?=\r\n|\r|\n|$)", text)
        if m.end() > m.start()
    ]


def is_gap(text: str, start: int, end: int) -> bool:
    """Is the run of spaces text[start:end] where a word was dropped (between words, or a word and a period)?

    >>> is_gap("the    countries", 3, 7), is_gap("power   — and", 5, 8), is_gap("U.S.   officials", 4, 7)
    (True, False, True)
    """
    if end - start < 2 or text[start:end].strip(" "):
        return False
    m = GAP_RE.match(text, start)
    if m and m.end() == end:
        return True
    # after an abbreviation ("U.S.   officials") the run sits between two words too
    return text[end : end + 1].isalpha() and bool(ABBREV_END_RE.search(text, max(0, start - 40), start))


def collapse_spaces(text: str) -> list[Edit]:
    """Runs of spaces inside a line become one, except where a word seems dropped (see `is_gap`).

    >>> [e.before for e in collapse_spaces("(AP)   —  U.S. and the    countries")]
    ['   ', '  ']
    """
    return [
        _edit(text, m.start(), m.end(), " ", "whitespace", 0.97, "collapse_spaces", "run of spaces")
        for m in re.finditer(r"(?<=[^\s]) {2,}(?=[^\s])", text)
        if not is_gap(text, m.start(), m.end())
    ]


# --- stray tokens ---------------------------------------------------------------------------


def stray_brackets(text: str) -> list[Edit]:
    """An unmatched bracket standing alone as a token is debris ("Assad . [ As he").

    >>> [e.before for e in stray_brackets("the end . ] And")]
    ['] ']
    >>> [e.before for e in stray_brackets("Assad . [ As he said ( AP ) and")]
    ['[ ']
    """
    out: list[Edit] = []
    for p0, p1 in _paragraphs(text):
        stack: list[int] = []
        unmatched: list[int] = []
        for m in re.finditer(r"[()\[\]{}]", text[p0:p1]):
            ch, at = m.group(), p0 + m.start()
            if ch in BRACKETS:
                stack.append(at)
                continue
            opener = next((k for k in range(len(stack) - 1, -1, -1) if text[stack[k]] == CLOSERS[ch]), None)
            if opener is None:
                unmatched.append(at)
            else:
                unmatched.extend(stack[opener + 1 :])
                del stack[opener:]
        for at in sorted(unmatched + stack):
            before, after = text[at - 1 : at] if at else "", text[at + 1 : at + 2]
            if before not in ("", " ", "\n", "\r") or after not in ("", " ", "\n", "\r"):
                continue  # attached to a word: "1)" list items, smileys
            if after == " ":
                span = (at, at + 2)
            elif before == " ":
                span = (at - 1, at + 1)
            else:
                continue  # alone on its line: removing it would merge paragraphs
            if text[at] in CLOSERS and re.search(r"(?:^|[\r\n])[ \t]*\w{1,3} $", text[max(0, at - 6) : at]):
                continue  # "1 )" opens a list item
            if out and span[0] < out[-1].end:
                continue
            out.append(_edit(text, *span, "", "stray", 0.9, "stray_brackets", f"unmatched {text[at]!r}"))
    return out


def orphan_last_line(text: str) -> list[Edit]:
    """A last line of one or two capitalized words after a finished paragraph is pasted debris (" Syria").

    >>> [e.before for e in orphan_last_line("He left for Moscow on a long trip , he said .\\n Syria ")]
    ['\\n Syria ']
    >>> [e.before for e in orphan_last_line("He left for Moscow on a long trip , he said .\\n\\nThe End\\n")]
    ['\\n\\nThe End']
    >>> orphan_last_line("He left.\\nComments")
    []
    """
    m = ORPHAN_RE.search(text)
    if not m or not all(w[0].isupper() for w in m.group(2).split()):
        return []
    prev_start = max(text.rfind("\n", 0, m.start()), text.rfind("\r", 0, m.start())) + 1
    prev = text[prev_start : m.start()].rstrip()
    if len(prev.split()) < 12 or not re.search(r"[.!?][\"”’)]?$", prev):
        return []
    end = m.start(3) if m.group(3) else m.end()
    confidence = 0.75 if m.group(1) else 0.6  # a leading space is the mark of tokens glued on
    return [
        _edit(
            text,
            m.start(),
            end,
            "",
            "stray",
            confidence,
            "orphan_last_line",
            "one or two capitalized words alone after the last paragraph",
        )
    ]


# --- tokenization ---------------------------------------------------------------------------


def split_abbreviations(text: str) -> list[Edit]:
    """Single letters with periods split by a tokenizer join again ("U. S." -> "U.S.", "a. m." -> "a.m.").

    >>> [e.start for e in split_abbreviations("the U. N. and U. S. A. at 5 p. m. with George W. Bush")]
    [6, 16, 19, 30]
    """
    out: list[Edit] = []
    for m in re.finditer(r"(?<![\w.])(?:[A-Z]\.(?: [A-Z]\.)+|[a-z]\.(?: [a-z]\.)+)(?!\w)", text):
        confidence = 0.95 if m.group()[0].isupper() else 0.85
        out.extend(
            _edit(text, i, i + 1, "", "tokenization", confidence, "split_abbreviations", "abbreviation split up")
            for i in range(m.start(), m.end())
            if text[i] == " "
        )
    return out


contractions = _named("contractions", _regex_rule(
    r"(?<=[^\W_]) (?=n[’']t\b|[’'](?:s|m|re|ve|ll|d)\b)|(?<=[^\W_]n) (?=[’']t\b)|(?<=\b[Cc]an) (?=not\b(?! only\b))"
    r"|(?<=\b[Gg]on) (?=na\b)|(?<=\b[Ww]an) (?=na\b)|(?<=\b[Gg]ot) (?=ta\b)",
    "", "tokenization", 0.97, "contraction or clitic split off", re.IGNORECASE,
))  # fmt: skip


def plural_possessive(text: str) -> list[Edit]:
    """A lone apostrophe after a plural before a word is its possessive ("States ’ interests").

    >>> [e.start for e in plural_possessive("the States ’ interests, but ‘ the States ’ said")]
    [10]
    """
    out: list[Edit] = []
    for m in re.finditer(r"(?<=[^\W\d_][sS]) (?=[’'] [^\W\d_])", text):
        line_start = max(text.rfind("\n", 0, m.start()), text.rfind("\r", 0, m.start())) + 1
        before = text[line_start : m.start()]
        if before.count("‘") > len(re.findall(r"\w’(?!\w)", before)) or re.search(r"(?:^|\s)'\w", before):
            continue  # an open single quote: the apostrophe may close it
        out.append(
            _edit(
                text, m.start(), m.end(), "", "tokenization", 0.85, "plural_possessive", "plural possessive split off"
            )
        )
    return out


space_before_punctuation = _named("space_before_punctuation", _regex_rule(
    r"(?<=\b[A-Za-z]\.) \.(?=[ \"”’')\]]|$)|(?<=\S) (?=,(?:[ \"”’')\]]|$))|(?<=[^\s.]) (?=\.(?!\.)(?:[ \"”’')\]]|$))",
    "", "tokenization", 0.97, "space before a comma or period",
))  # fmt: skip
space_before_marks = _named("space_before_marks", _regex_rule(
    r"(?<=\S) (?=[;:!?]+(?:[ \"”’')\]]|$))|(?<=\d) (?=%)|(?<=[$£€]) (?=\d)",
    "", "tokenization", 0.93, "space before a mark, in a tokenized paragraph", tokenized_only=True,
))  # fmt: skip
space_inside_brackets = _named("space_inside_brackets", _regex_rule(
    r"(?<=[(\[{]) (?=[^\s)\]}])|(?<=[^\s(\[{]) (?=[)\]}])",
    "", "tokenization", 0.95, "space inside brackets",
))  # fmt: skip


def _quote_cue(text: str, at: int) -> str | None:
    """What a lone straight quote's neighbours say it is: "open", "close", or None when they allow both."""
    prev = text[at - 2] if at >= 2 and text[at - 1] == " " else "\n"
    nxt = text[at + 2] if text[at + 1 : at + 2] == " " and at + 2 < len(text) else "\n"
    if prev in '\r\n"(:[':
        return "open"
    if nxt in '\r\n",.;:!?)]':
        return "close"
    if prev in ",.!?" and nxt.islower():
        return "close"
    return None


def _spaced(text: str, at: int) -> tuple[bool, bool]:
    """Is there a space (or the text's edge) before and after ``text[at]``?"""
    return (at == 0 or text[at - 1].isspace()), (at + 1 >= len(text) or text[at + 1].isspace())


def _pair_quotes(text: str, start: int, end: int) -> dict[int, str]:
    """Roles of the lone straight double quotes of a paragraph: walked in order, open and close alternating.

    A quote whose neighbours settle its role is an anchor. One settled only by the
    alternation keeps its role unless a later anchor shows that the count went wrong
    since the last anchor (a quote lost to damage); then it is left alone.
    """
    roles: dict[int, str] = {}
    pending: list[int] = []
    inside = False
    for at in (start + m.start() for m in re.finditer('"', text[start:end])):
        space_before, space_after = _spaced(text, at)
        if space_before and space_after:
            cue = _quote_cue(text, at)
        elif space_before or text[at - 1] in "([":
            cue = "open"
        elif space_after or text[at + 1] in ",.;:!?)]…":
            cue = "close"
        else:
            continue  # glued inside a token (5'6"): not a quote mark
        expected = "close" if inside else "open"
        role = cue or expected
        if cue is None:
            pending.append(at)
        else:
            if cue != expected:
                for p in pending:
                    del roles[p]
            pending = []
        if space_before and space_after:
            roles[at] = role
        inside = role == "open"
    if inside:
        for p in pending:
            del roles[p]
    return roles


def _curly_roles(text: str, start: int, end: int) -> dict[int, str]:
    """Roles of lone curly quotes: their shape says it, except a lone ’ closes only an open ‘."""
    roles: dict[int, str] = {}
    open_singles = 0
    for at in (start + m.start() for m in re.finditer("[“”‘’]", text[start:end])):
        space_before, space_after = _spaced(text, at)
        lone = space_before and space_after
        ch = text[at]
        if ch == "‘" and space_before:
            open_singles += 1
        elif ch == "’" and space_after and open_singles:
            open_singles -= 1
            if lone:
                roles[at] = "close"
        if lone and ch in "“”‘":
            roles[at] = "close" if ch == "”" else "open"
    return roles


def quote_spacing(text: str) -> list[Edit]:
    """Lone quotes attach: an opening one to the next word, a closing one to the previous.

    >>> normalize('the distinction " does n’t matter . " " We can , " he said').text
    'the distinction "doesn’t matter." "We can," he said'
    """
    out: list[Edit] = []
    for p0, p1 in _paragraphs(text):
        roles = _pair_quotes(text, p0, p1) | _curly_roles(text, p0, p1)
        for at, role in sorted(roles.items()):
            if role == "open" and text[at + 1 : at + 2] == " " and text[at + 2 : at + 3] not in QUOTE_CHARS + "\r\n ":
                out.append(
                    _edit(
                        text,
                        at + 1,
                        at + 2,
                        "",
                        "tokenization",
                        0.9,
                        "quote_spacing",
                        "opening quote joined to the next word",
                    )
                )
            elif role == "close" and at >= 2 and text[at - 1] == " " and text[at - 2] not in QUOTE_CHARS + "\r\n ":
                out.append(
                    _edit(
                        text,
                        at - 1,
                        at,
                        "",
                        "tokenization",
                        0.9,
                        "quote_spacing",
                        "closing quote joined to the previous word",
                    )
                )
    return out


RULES: tuple[Rule, ...] = (
    stray_circumflex,
    ftfy_mojibake,
    trailing_spaces,
    collapse_spaces,
    stray_brackets,
    split_abbreviations,
    contractions,
    quote_spacing,
    plural_possessive,
    space_before_marks,  # before the commas and periods that show a paragraph was tokenized are joined
    space_before_punctuation,
    space_inside_brackets,
)
FINAL_RULES: tuple[Rule, ...] = (orphan_last_line,)  # rules that look at the whole text


@dataclass(frozen=True)
class Normalized:
    """The input, the normalized text derived from it, and the gap suspects found on the way."""

    layer: Layer
    suspects: tuple[Suspect, ...] = ()  # gaps, in normalized-text offsets

    @property
    def source(self) -> str:
        return self.layer.base

    @property
    def text(self) -> str:
        return self.layer.text

    @property
    def edits(self) -> tuple[Edit, ...]:
        return self.layer.edits


def run_rules(text: str, rules: Sequence[Rule]) -> tuple[Edit, ...]:
    """Apply the rules one after another; return the passes composed into edits on ``text``."""
    passes: list[list[Edit]] = []
    current = text
    for rule in rules:
        found = rule(current)
        if found:
            passes.append(found)
            current = Layer(current, tuple(found)).text
    return compose(text, passes)


def chunks(text: str, size: int = CHUNK_CHARS) -> list[tuple[int, int]]:
    """Spans that normalize independently: whole paragraphs, up to ``size`` chars when they can.

    A paragraph longer than ``size`` is cut at line starts, or failing that at sentence
    ends with an even number of quotes before them.

    >>> chunks("ab\\n\\ncd\\n\\nef", 5)
    [(0, 4), (4, 8), (8, 10)]
    """
    cuts = [0]
    for p0, p1 in _paragraphs(text):
        if p0 > cuts[-1] and p1 - cuts[-1] > size:
            cuts.append(p0)
        while p1 - cuts[-1] > size:
            cut = _cut_point(text, cuts[-1] + size // 2, p1)
            if cut is None:
                break
            cuts.append(cut)
    return list(zip(cuts, [*cuts[1:], len(text)], strict=True))


def _cut_point(text: str, lo: int, hi: int) -> int | None:
    """The first line start, or failing that sentence start outside quotes, at or after ``lo``."""
    m = LINE_START_RE.search(text, lo, hi)
    if m:
        return m.start()
    quotes = text.count('"', 0, lo)
    for m in SENTENCE_END_RE.finditer(text[lo:hi]):
        if (quotes + text.count('"', lo, lo + m.start())) % 2 == 0:
            return lo + m.end()
    return None


def normalize(text: str, *, chunk_chars: int = CHUNK_CHARS) -> Normalized:
    """Normalize ``text``; every change is an Edit on ``text``."""
    edits: list[Edit] = []
    for c0, c1 in chunks(text, chunk_chars):
        edits.extend(replace(e, start=e.start + c0, end=e.end + c0) for e in run_rules(text[c0:c1], RULES))
    current = Layer(text, tuple(edits))
    final = [e for rule in FINAL_RULES for e in rule(current.text)]
    if final:
        current = Layer(text, compose(text, [edits, final]))
    return Normalized(current, gap_suspects(current.text))


def gap_suspects(text: str) -> tuple[Suspect, ...]:
    """Runs of spaces where a word was dropped, as ``gap`` suspects covering the run.

    >>> [(s.start, s.end) for s in gap_suspects("the    countries and a durable   .")]
    [(3, 7), (30, 33)]
    """
    out = []
    for m in re.finditer(r"(?<=\S) {2,}(?=\S)", text):
        if is_gap(text, m.start(), m.end()):
            n = m.end() - m.start()
            out.append(
                Suspect(
                    m.start(),
                    m.end(),
                    "gap",
                    0.85 if n > 2 else 0.6,
                    f"{n} spaces inside a sentence: a word may have been dropped",
                )
            )
    return tuple(out)
