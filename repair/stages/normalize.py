"""Deterministic surface repairs with offsets kept: tokenization artifacts, mojibake, whitespace.

Each rule is a small named function ``text -> list[Edit]`` in the module-level
table `RULES`; the rules run one after another, each on the text the previous ones
produced, and `repair.text.layer.compose` turns the passes into edits on the input.
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

from repair.edits import Edit, Evidence, Kind
from repair.stages.spans import Suspect
from repair.text.layer import Layer, compose
from repair.text.sentences import LINE_END, PARAGRAPH_BREAK_RE, SPACED_END_RE


@dataclass(frozen=True)
class NormalizeSettings:
    """The numbers of the surface repairs: each rule's confidence (named after the rule, as ftfy names its
    fixers), the scores of a run of spaces that stands for a dropped word, and the size of a chunk.

    A rule's confidence is its raw one; `decide` calibrates it with the content edits' (`repair.stages.calibrate`).
    """

    stray_circumflex: float = 0.95
    ftfy_mojibake: float = 0.95
    trailing_spaces: float = 0.99
    collapse_spaces: float = 0.97
    stray_brackets: float = 0.9
    orphan_last_line: float = 0.75  # a name alone on the last line, indented by a space: surely debris
    orphan_last_line_unindented: float = 0.6  # ...not indented, after a finished paragraph
    orphan_finished_words: int = 12  # words of the line before that make it a finished paragraph
    split_abbreviations: float = 0.95  # capitals: "U. S."
    split_abbreviations_lower: float = 0.85  # lower case: "a. m." (more often a list or initials)
    contractions: float = 0.97
    plural_possessive: float = 0.85
    space_before_punctuation: float = 0.97
    split_ellipsis: float = 0.9
    space_before_marks: float = 0.93
    space_inside_brackets: float = 0.95
    quote_spacing: float = 0.9
    gap_long_run: float = 0.85  # a run of three or more spaces between two words: a dropped word
    gap_two_spaces: float = 0.6  # two spaces: as often a typing slip
    gap_beside_punctuation: float = 0.15  # taken off when the run is not between two words
    chunk_chars: int = 8000  # paragraphs are normalized a chunk at a time so composing edits stays cheap


DEFAULTS = NormalizeSettings()
Rule = Callable[[str, NormalizeSettings], list[Edit]]

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

LINE_RE = re.compile(rf"[^\r\n]*(?:{LINE_END}|\Z)")
LINE_START_RE = re.compile(r"(?<=\n)[^\r\n]")
DASHES = "—–‒―-"
SENTENCE_ENDS = ".!?…"
# what may follow a mark that ends a token: space, a line end, a closing quote or bracket
END = r"[\s\"”’')\]]|$"
# a line that clearly went through a tokenizer: a space before a comma or a period
TOKENIZED_RE = re.compile(rf"[^\s.] (?:,|\.(?! \.))(?:{END})", re.MULTILINE)
QUOTE_CHARS = '"“”‘’'
NAME = r"(?:[Tt]he )?[^\W\d_][\w’'.-]*(?: [^\W\d_][\w’'.-]*){0,3}"
# the last line, a name of up to four words, and the blank lines before it
ORPHAN_RE = re.compile(
    r"(?:\r\n|\r|\n)(?:[ \t]*(?:\r\n|\r|\n))*([ \t]*)"
    rf"({NAME})[ \t]*(?:\r\n|\r|\n)?\Z"
)
CIRCUMFLEX_RE = re.compile(r"(?<=[\x21-\x7e])Â(?:\xa0|(?=\s|$))|(?:^|(?<=\s))Â(?:[ \xa0]|(?=\s)|$)", re.MULTILINE)
BRACKETS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {v: k for k, v in BRACKETS.items()}


def _edit(text: str, start: int, end: int, after: str, kind: Kind, confidence: float, rule: str, detail: str) -> Edit:
    return Edit(start, end, text[start:end], after, kind, confidence, (Evidence(f"rule:{rule}", detail),))


def _regex_rule(
    name: str, pattern: str, after: str, kind: Kind, detail: str, flags: int = 0, *, tokenized_only: bool = False
) -> Rule:
    """A rule ``name`` replacing every match of ``pattern`` (usually a lone space) with ``after``, at the
    confidence of the setting of that name."""
    regex = re.compile(pattern, flags | re.MULTILINE)

    def rule(text: str, settings: NormalizeSettings) -> list[Edit]:
        spans = _tokenized_spans(text) if tokenized_only else [(0, len(text))]
        confidence = getattr(settings, name)
        return [
            _edit(text, m.start(), m.end(), after, kind, confidence, name, detail)
            for s, e in spans
            for m in regex.finditer(text, s, e)
        ]

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
    for m in PARAGRAPH_BREAK_RE.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return spans


def _tokenized_spans(text: str) -> list[tuple[int, int]]:
    """Paragraphs showing plain tokenizer damage; spacing that is right in French is fixed only there."""
    return [(s, e) for s, e in _paragraphs(text) if TOKENIZED_RE.search(text, s, e)]


# --- mojibake -------------------------------------------------------------------------------


def stray_circumflex(text: str, settings: NormalizeSettings) -> list[Edit]:
    """A "Â" ending a word, left where a no-break space was decoded as Latin-1 ("USÂ missile").

    No language ends a word in "Â" after an ASCII character, so it goes (with its no-break
    space, if still there); standing alone, it goes with the space after it.

    >>> [e.before for e in stray_circumflex("USÂ missile and ÂGE or ROMÂNIA, a Â b", DEFAULTS)]
    ['Â', 'Â ']
    """
    detail = "Â left by a no-break space read as Latin-1"
    fixes = [(m.start(), m.end(), " " if m.group() == "Â\xa0" else "") for m in CIRCUMFLEX_RE.finditer(text)]
    confidence = settings.stray_circumflex
    return [_edit(text, s, e, after, "mojibake", confidence, "stray_circumflex", detail) for s, e, after in fixes]


def ftfy_mojibake(text: str, settings: NormalizeSettings) -> list[Edit]:
    """What ftfy's decoding fixes change, line by line, as small edits ("doesnâ€™t" -> "doesn’t")."""
    out: list[Edit] = []
    why = "ftfy.fix_text"
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
            _edit(text, start + s0, start + s1, fixed[d0:d1], "mojibake", settings.ftfy_mojibake, "ftfy_mojibake", why)
            for s0, s1, d0, d1 in merged
        )
    return out


# --- whitespace -----------------------------------------------------------------------------


def trailing_spaces(text: str, settings: NormalizeSettings) -> list[Edit]:
    """Spaces at a line end carry nothing.

    >>> [(e.start, e.end) for e in trailing_spaces("a  \\r\\nb ", DEFAULTS)]
    [(1, 3), (6, 7)]
    """
    confidence = settings.trailing_spaces
    return [
        _edit(text, m.start(), m.end(), "", "whitespace", confidence, "trailing_spaces", "spaces at a line end")
        for m in re.finditer(r"[ \t\xa0]+(?=\r\n|\r|\n|$)", text)
    ]


def gap_score(text: str, start: int, end: int, settings: NormalizeSettings) -> float:
    """How likely the run of spaces ``text[start:end]`` inside a line stands for a dropped word (0: layout).

    Runs beside a dash, between a sentence end and a quote, or after a sentence
    before a capital are layout; the rest, most surely between two words, are gaps.

    >>> [gap_score(t, *re.search(" +", t).span(), DEFAULTS) for t in ("the    countries", "end  — and", "U.S.    off")]
    [0.85, 0.0, 0.7]
    >>> gap_score('end."    "We', 5, 9, DEFAULTS), gap_score("end.    The", 4, 8, DEFAULTS)
    (0.0, 0.0)
    """
    prev, nxt = text[start - 1 : start], text[end : end + 1]
    if end - start < 2 or not prev.strip() or not nxt.strip() or text[start:end].strip(" "):
        return 0.0
    if prev in DASHES or nxt in DASHES:
        return 0.0
    # a quote glued to a sentence end closes it; a lone one ('end . "') may open the next:
    # the second collapse pass settles it once quotes are joined
    before_quote = text[start - 2] if start >= 2 else ""
    ends_sentence = prev in SENTENCE_ENDS or (prev in QUOTE_CHARS + ")]" and before_quote in tuple(SENTENCE_ENDS))
    if nxt in QUOTE_CHARS and (prev in QUOTE_CHARS or ends_sentence):
        return 0.0
    if ends_sentence and nxt.isupper():
        return 0.0  # two spaces after a sentence: a typing habit
    score = settings.gap_long_run if end - start > 2 else settings.gap_two_spaces
    return score if prev.isalnum() and (nxt.isalnum() or nxt in ",.;:!?") else score - settings.gap_beside_punctuation


def collapse_spaces(text: str, settings: NormalizeSettings) -> list[Edit]:
    """Runs of spaces inside a line become one, except where a word seems dropped (see `gap_score`).

    >>> [e.before for e in collapse_spaces("(AP)   —  U.S. and the    countries", DEFAULTS)]
    ['   ', '  ']
    """
    confidence = settings.collapse_spaces
    return [
        _edit(text, m.start(), m.end(), " ", "whitespace", confidence, "collapse_spaces", "run of spaces")
        for m in re.finditer(r"(?<=[^\s]) {2,}(?=[^\s])", text)
        if not gap_score(text, m.start(), m.end(), settings)
    ]


# --- stray tokens ---------------------------------------------------------------------------


def _unmatched_brackets(text: str, start: int, end: int) -> list[int]:
    """Offsets of the brackets in ``text[start:end]`` that close or open nothing.

    >>> _unmatched_brackets("a ( b [ c ) ] d", 0, 15)
    [6, 12]
    """
    stack: list[int] = []
    unmatched: list[int] = []
    for m in re.finditer(r"[()\[\]{}]", text[start:end]):
        ch, at = m.group(), start + m.start()
        if ch in BRACKETS:
            stack.append(at)
            continue
        opener = next((k for k in range(len(stack) - 1, -1, -1) if text[stack[k]] == CLOSERS[ch]), None)
        if opener is None:
            unmatched.append(at)
        else:
            unmatched.extend(stack[opener + 1 :])
            del stack[opener:]
    return sorted(unmatched + stack)


def stray_brackets(text: str, settings: NormalizeSettings) -> list[Edit]:
    """An unmatched bracket standing alone as a token is debris ("Assad . [ As he").

    >>> [e.before for e in stray_brackets("the end . ] And", DEFAULTS)]
    ['] ']
    >>> [e.before for e in stray_brackets("Assad . [ As he said ( AP ) and ( (", DEFAULTS)]
    ['[ ', ' ( (']
    """
    brackets: list[tuple[int, int]] = []
    for p0, p1 in _paragraphs(text):
        for at in _unmatched_brackets(text, p0, p1):
            if text[at - 1 : at] not in ("", " ", "\n", "\r") or text[at + 1 : at + 2] not in ("", " ", "\n", "\r"):
                continue  # attached to a word: "1)" list items, smileys
            if text[at] in CLOSERS and re.search(r"(?:^|[\r\n])[ \t]*\w{1,3} $", text[max(0, at - 6) : at]):
                continue  # "1 )" opens a list item
            brackets.append((at, at + 1))
    spans: list[tuple[int, int]] = []
    for s0, s1 in _merge(brackets, text, " "):
        if _line_end(text, _spaces_after(text, s1)):
            span = (_spaces_before(text, s0, " \t\xa0"), _spaces_after(text, s1))
        elif s0 == 0 or text[s0 - 1] in "\r\n":
            span = (s0, _spaces_after(text, s1))
        else:
            span = (_layout_start(text, s0, _spaces_after(text, s1), settings), _spaces_after(text, s1))
        spans.append(span)
    while True:  # a removal that now ends a line takes the spaces before it too
        merged = _merge(spans)
        spans = [(_spaces_before(text, s0, " \t\xa0") if _line_end(text, s1) else s0, s1) for s0, s1 in merged]
        if spans == merged:
            confidence = settings.stray_brackets
            detail = "unmatched bracket"
            return [_edit(text, s0, s1, "", "stray", confidence, "stray_brackets", detail) for s0, s1 in spans]


def _line_end(text: str, at: int) -> bool:
    return text[at : at + 1] in ("", "\n", "\r")


def _layout_start(text: str, start: int, end: int, settings: NormalizeSettings) -> int:
    """Where removing ``text[start:end]`` (brackets and the spaces after) begins: the spaces
    before stay as they are if they will be a gap, else they go down to one.
    """
    s0 = _spaces_before(text, start)
    if start - s0 < 2:
        return start
    joined = text[max(0, s0 - 2) : s0] + " " * (start - s0) + text[end : end + 1]
    run_start = min(2, s0)
    return start if gap_score(joined, run_start, run_start + start - s0, settings) else s0 + 1


def _merge(spans: Sequence[tuple[int, int]], text: str = "", joiners: str = "") -> list[tuple[int, int]]:
    """Sorted spans with those overlapping, touching, or apart only by ``joiners`` in ``text`` joined.

    >>> _merge([(5, 6), (0, 2), (2, 3)]), _merge([(0, 1), (2, 3)], "( ( x", " ")
    ([(0, 3), (5, 6)], [(0, 3)])
    """
    out: list[tuple[int, int]] = []
    for s0, s1 in sorted(spans):
        if out and (s0 <= out[-1][1] or (joiners and not text[out[-1][1] : s0].strip(joiners))):
            out[-1] = (out[-1][0], max(out[-1][1], s1))
        else:
            out.append((s0, s1))
    return out


def _spaces_after(text: str, at: int) -> int:
    """Where the run of spaces starting at ``at`` ends."""
    while text[at : at + 1] == " ":
        at += 1
    return at


def _spaces_before(text: str, at: int, spaces: str = " ") -> int:
    """Where the run of spaces ending at ``at`` starts."""
    while at > 0 and text[at - 1] in spaces:
        at -= 1
    return at


def orphan_last_line(text: str, settings: NormalizeSettings) -> list[Edit]:
    """A name alone on the last line, glued on after the text, is pasted debris (" Syria", " the U.S.").

    Indented by a space it is surely debris; without one only after a finished paragraph.

    >>> [e.before for e in orphan_last_line("He left for Moscow on a long trip , he said .\\n Syria ", DEFAULTS)]
    ['\\n Syria ']
    >>> [e.before for e in orphan_last_line("Join the conversation\\n the Assad \\n", DEFAULTS)]
    ['\\n the Assad \\n']
    >>> orphan_last_line("He left.\\nComments", DEFAULTS), orphan_last_line(" Syria", DEFAULTS)
    ([], [])
    """
    m = ORPHAN_RE.search(text)
    if not m or not all(w[0].isupper() for w in m.group(2).removeprefix("the ").split()):
        return []
    prev_start = max(text.rfind("\n", 0, m.start()), text.rfind("\r", 0, m.start())) + 1
    prev = text[prev_start : m.start()].rstrip()
    indented = bool(m.group(1))  # tokens glued on after the text start with a space
    if re.fullmatch(r"[ \t]+" + NAME, text[prev_start : m.start()]):
        return []  # names stacked up: which one is debris is unclear
    finished = len(prev.split()) >= settings.orphan_finished_words and re.search(r"[.!?][\"”’)]?$", prev)
    if not prev or not (indented or finished):
        return []
    detail = "a name alone on the last line"
    confidence = settings.orphan_last_line if indented else settings.orphan_last_line_unindented
    return [_edit(text, m.start(), m.end(), "", "stray", confidence, "orphan_last_line", detail)]


# --- tokenization ---------------------------------------------------------------------------


def split_abbreviations(text: str, settings: NormalizeSettings) -> list[Edit]:
    """Single letters with periods split by a tokenizer join again ("U. S." -> "U.S.", "a. m." -> "a.m.").

    >>> [e.start for e in split_abbreviations("the U. N. and U. S. A. at 5 p. m. with George W. Bush", DEFAULTS)]
    [6, 16, 19, 30]
    """
    out: list[Edit] = []
    for m in re.finditer(r"(?<![\w.])(?:[A-Z]\.(?: [A-Z]\.)+|[a-z]\.(?: [a-z]\.)+)(?!\w)", text):
        confidence = settings.split_abbreviations if m.group()[0].isupper() else settings.split_abbreviations_lower
        out.extend(
            _edit(text, i, i + 1, "", "tokenization", confidence, "split_abbreviations", "abbreviation split up")
            for i in range(m.start(), m.end())
            if text[i] == " "
        )
    return out


contractions = _regex_rule(
    "contractions",
    # the space first, then what stands around it: a search for a space is far quicker than a look back at every char
    r" (?:(?<=[^\W_] )(?=n[’']t\b|[’'](?:s|m|re|ve|ll|d)\b)|(?<=[^\W_]n )(?=[’']t\b)|(?<=\b[Cc]an )(?=not\b(?! only\b))"
    r"|(?<=\b[Gg]on )(?=na\b)|(?<=\b[Ww]an )(?=na\b)|(?<=\b[Gg]ot )(?=ta\b))",
    "", "tokenization", "contraction or clitic split off", re.IGNORECASE,
)  # fmt: skip


def plural_possessive(text: str, settings: NormalizeSettings) -> list[Edit]:
    """A lone apostrophe after a plural before a word is its possessive ("States ’ interests").

    >>> [e.start for e in plural_possessive("the States ’ interests, but ‘ the States ’ said", DEFAULTS)]
    [10]
    """
    out: list[Edit] = []
    for m in re.finditer(r"(?<=[^\W\d_][sS]) (?=[’'] [^\W\d_])", text):
        line_start = max(text.rfind("\n", 0, m.start()), text.rfind("\r", 0, m.start())) + 1
        before = text[line_start : m.start()]
        if before.count("‘") > len(re.findall(r"\w’(?!\w)", before)) or re.search(r"(?:^|\s)'\w", before):
            continue  # an open single quote: the apostrophe may close it
        detail = "plural possessive split off"
        confidence = settings.plural_possessive
        out.append(_edit(text, m.start(), m.end(), "", "tokenization", confidence, "plural_possessive", detail))
    return out


space_before_punctuation = _regex_rule(
    "space_before_punctuation",
    rf" (?:(?<=\b[A-Za-z]\. )\.(?! \.)(?={END})|(?<=\S )(?=,(?:{END}))|(?<=[^\s.] )(?=\.(?!\.| \.)(?:{END})))",
    "", "tokenization", "space before a comma or period",
)  # fmt: skip


def split_ellipsis(text: str, settings: NormalizeSettings) -> list[Edit]:
    """An ellipsis a tokenizer cut into periods joins again, in a tokenized paragraph (". . ." is a style).

    >>> [e.start for e in split_ellipsis("a baby . . . I think , he said", DEFAULTS)]
    [8, 10]
    """
    confidence = settings.split_ellipsis
    return [
        _edit(text, i, i + 1, "", "tokenization", confidence, "split_ellipsis", "ellipsis split into periods")
        for s, e in _tokenized_spans(text)
        for m in re.finditer(r"(?<!\S)\.(?: \.){2,}(?![\w.])", text[s:e])
        for i in range(s + m.start(), s + m.end())
        if text[i] == " "
    ]


space_before_marks = _regex_rule(
    "space_before_marks",
    rf" (?:(?<=\S )(?=[;:!?]+(?:{END}))|(?<=\d )(?=%)|(?<=[$£€] )(?=\d))",
    "", "tokenization", "space before a mark, in a tokenized paragraph", tokenized_only=True,
)  # fmt: skip
space_inside_brackets = _regex_rule(
    "space_inside_brackets",
    r" (?:(?<=[(\[{] )(?=[^\s)\]}])|(?<=[^\s(\[{] )(?=[)\]}]))",
    "", "tokenization", "space inside brackets",
)  # fmt: skip


def _quote_cue(text: str, at: int) -> str | None:
    """What a lone straight quote's neighbours say it is: "open", "close", or None when they allow both."""
    prev = text[at - 2] if at >= 2 and text[at - 1] == " " else "\n"
    nxt = text[at + 2] if text[at + 1 : at + 2] == " " and at + 2 < len(text) else "\n"
    if nxt in ",.;:!?)]":
        return "close"
    if prev in '\r\n"(:[':
        return "open"
    if nxt in '\r\n"':
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
        elif not space_after and text[at + 1] in ",.;:!?)]…":
            cue = "close"
        elif space_before or text[at - 1] in "([":
            cue = "open"
        elif space_after:
            cue = "close"
        else:
            continue  # glued inside a token (5'6"): not a quote mark
        expected = "close" if inside else "open"
        role = cue or expected
        if cue is None:
            pending.append(at)
        else:
            # a quote opening a line while one is open continues it into a new paragraph: no loss
            continued = cue == "open" and inside and text[at - 1 : at] in ("", "\n", "\r")
            if cue != expected and not continued:
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
    """Roles of lone curly double quotes: their shape says which they are."""
    return {
        start + m.start(): "close" if m.group() == "”" else "open"
        for m in re.finditer(r"(?:(?<=\s)|^)[“”](?=\s|$)", text[start:end], re.MULTILINE)
    }


def _single_roles(text: str, start: int, end: int) -> dict[int, str]:
    """Roles of lone single quotes (‘ ’ '), told apart from apostrophes.

    A lone ’ or ' closes a single quote opened before it; a lone ' opens one unless
    it follows a plural (a possessive, "States ' interests"). An opening ' never
    closed in the paragraph is left alone.

    >>> sorted(_single_roles("he said ' no ' and ‘ yes ’ to the States ' envoys", 0, 49).values())
    ['close', 'close', 'open', 'open']
    """
    roles: dict[int, str] = {}
    open_at: int | None = None
    for at in (start + m.start() for m in re.finditer("[‘’']", text[start:end])):
        space_before, space_after = _spaced(text, at)
        ch = text[at]
        opens = ch == "‘" or (ch == "'" and not re.search(r"[^\W\d_][sS] $", text[max(start, at - 3) : at]))
        if space_before and space_after:
            if open_at is not None and ch != "‘":
                roles[at], open_at = "close", None
            elif opens and text[at + 2 : at + 3] not in ",.;:!?)]":
                roles[at], open_at = "open", at
        elif ch != "‘" and (space_after or text[at + 1] in ",.;:!?)]…"):  # shaped as a closing quote
            open_at = None
        elif space_before and opens and text[at + 1] not in ",.;:!?)]…":
            open_at = at
    if open_at is not None and text[open_at] == "'":
        roles.pop(open_at, None)
    return roles


def _joins(ch: str, role: str) -> bool:
    """May an opening (closing) quote be joined to this next (previous) character?

    >>> _joins("W", "open"), _joins(".", "open"), _joins(".", "close"), _joins('"', "close")
    (True, False, True, False)
    """
    return len(ch) == 1 and (ch.isalnum() or ch in ("([{$£€#¿¡…" if role == "open" else ".,!?;:)]}%…"))


def quote_spacing(text: str, settings: NormalizeSettings) -> list[Edit]:
    """Lone quotes attach: an opening one to the next word, a closing one to the previous.

    >>> normalize('the distinction " does n’t matter . " " We can , " he said').text
    'the distinction "doesn’t matter." "We can," he said'
    """
    out: list[Edit] = []
    for p0, p1 in _paragraphs(text):
        roles = _pair_quotes(text, p0, p1) | _curly_roles(text, p0, p1) | _single_roles(text, p0, p1)
        for at, role in sorted(roles.items()):
            space, neighbour = (at + 1, at + 2) if role == "open" else (at - 1, at - 2)
            if neighbour >= 0 and text[space : space + 1] == " " and _joins(text[neighbour : neighbour + 1], role):
                detail = f"{role}ing quote joined to the {'next' if role == 'open' else 'previous'} word"
                confidence = settings.quote_spacing
                out.append(_edit(text, space, space + 1, "", "tokenization", confidence, "quote_spacing", detail))
    return out


RULES: tuple[Rule, ...] = (
    stray_circumflex,
    trailing_spaces,  # before ftfy, which judges each line as it will stand
    ftfy_mojibake,
    collapse_spaces,
    stray_brackets,
    contractions,
    quote_spacing,
    plural_possessive,
    split_ellipsis,
    space_before_marks,  # before the commas and periods that show a paragraph was tokenized are joined
    space_before_punctuation,
    space_inside_brackets,
    split_abbreviations,  # late, for "U. S. ." and letters whose periods were only now joined
    collapse_spaces,  # again: a quote joined to a sentence end makes the run after it layout
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


def run_rules(text: str, rules: Sequence[Rule], settings: NormalizeSettings) -> tuple[Edit, ...]:
    """Apply the rules one after another; return the passes composed into edits on ``text``."""
    passes: list[list[Edit]] = []
    current = text
    for rule in rules:
        found = rule(current, settings)
        if found:
            passes.append(found)
            current = Layer(current, tuple(found)).text
    return compose(text, passes)


def chunks(text: str, size: int) -> list[tuple[int, int]]:
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
            cut = _cut_point(text, max(p0, cuts[-1]) + size // 2, p1, p0, size)
            if cut is None:
                break
            cuts.append(cut)
    return list(zip(cuts, [*cuts[1:], len(text)], strict=True))


def _cut_point(text: str, lo: int, hi: int, p0: int, size: int) -> int | None:
    """The first line start, or sentence end outside quotes, at or after ``lo``.

    Failing a sentence end with an even number of quotes before it within ``size``
    chars (a lost quote makes the count odd), any sentence end will do. A sentence
    is cut before the space after it, so no chunk ends in a space its rules would
    take for one at a line end.
    """
    m = LINE_START_RE.search(text, lo, hi)
    hi = m.start() if m else hi
    quotes = text.count('"', p0, lo)
    first = None
    for s in SPACED_END_RE.finditer(text, lo, hi):
        first = s.end() - 1 if first is None else first
        if (quotes + text.count('"', lo, s.start())) % 2 == 0:
            return s.end() - 1
        if s.start() > lo + size:
            break
    return first if first is not None else (m.start() if m else None)


def normalize(text: str, settings: NormalizeSettings = DEFAULTS) -> Normalized:
    """Normalize ``text``; every change is an Edit on ``text``."""
    edits: list[Edit] = []
    for c0, c1 in chunks(text, settings.chunk_chars):
        found = run_rules(text[c0:c1], RULES, settings)
        edits.extend(replace(e, start=e.start + c0, end=e.end + c0) for e in found)
    current = Layer(text, tuple(edits))
    final = [e for rule in FINAL_RULES for e in rule(current.text, settings)]
    if final:
        current = Layer(text, compose(text, [edits, final]))
    return Normalized(current, gap_suspects(current.text, settings))


def gap_suspects(text: str, settings: NormalizeSettings) -> tuple[Suspect, ...]:
    """Runs of spaces where a word was dropped, as ``gap`` suspects covering the run.

    >>> [(s.start, s.end, s.score) for s in gap_suspects("the    countries and a durable   .", DEFAULTS)]
    [(3, 7, 0.85), (30, 33, 0.85)]
    """
    out = []
    for m in re.finditer(r"(?<=\S) {2,}(?=\S)", text):
        score = gap_score(text, m.start(), m.end(), settings)
        if score:
            n = m.end() - m.start()
            why = f"{n} spaces inside a sentence: a word may be missing"
            out.append(Suspect(m.start(), m.end(), "gap", score, why, cause="spaces"))
    return tuple(out)
