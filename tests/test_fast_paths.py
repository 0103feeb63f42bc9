"""The surface path's fast versions against their plain twins (issue 26): each must give exactly what the
plain version it replaced gives, whatever the text."""

from __future__ import annotations

import json
import re
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from repair.edits import Edit
from repair.files.editlist import indented
from repair.stages import normalize as N
from repair.stages.decide import _inside_a_line, _layout_kept, _lines_around
from repair.stages.pronouns import pronoun_slots
from repair.stages.propose import Context
from repair.text.document import Document
from repair.text.english import CLAUSE_OPENERS, NOT_NOUNS, SUBJECT_VERBS
from repair.text.sentences import LINE_END_RE, PARAGRAPH_BREAK_RE, line_layout, sentence_at
from repair.text.tokens import tokenize

# texts made of what the rules look at: spaces, line ends, marks, clitics, brackets and a few words
PIECES = [*" \t\n\r.,;:!?%$€()[]{}’'\"-", "n’t", "'s", "’re", "can", "not", "only", "gon", "na", "U.", "S.", "The"]
PIECES += ["Assad", "Russia", "said", "its", "alliance", "the", "and", "he", "x", "1", "\xa0", "killed", "but", "wants"]
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
FAST = settings(max_examples=300, deadline=None)

# the rules' patterns as they were before the space was put first (issue 26), each the slow twin of its rule
END = N.END
PLAIN_PATTERNS = {
    "contractions": (
        r"(?<=[^\W_]) (?=n[’']t\b|[’'](?:s|m|re|ve|ll|d)\b)|(?<=[^\W_]n) (?=[’']t\b)|(?<=\b[Cc]an) (?=not\b(?! only\b))"
        r"|(?<=\b[Gg]on) (?=na\b)|(?<=\b[Ww]an) (?=na\b)|(?<=\b[Gg]ot) (?=ta\b)",
        re.IGNORECASE,
    ),
    "space_before_punctuation": (
        rf"(?<=\b[A-Za-z]\.) \.(?! \.)(?={END})|(?<=\S) (?=,(?:{END}))|(?<=[^\s.]) (?=\.(?!\.| \.)(?:{END}))",
        0,
    ),
    "space_before_marks": (rf"(?<=\S) (?=[;:!?]+(?:{END}))|(?<=\d) (?=%)|(?<=[$£€]) (?=\d)", 0),
    "space_inside_brackets": (r"(?<=[(\[{]) (?=[^\s)\]}])|(?<=[^\s(\[{]) (?=[)\]}])", 0),
}


@FAST
@given(texts)
def test_rules_match_their_plain_patterns(text: str) -> None:
    for name, (pattern, flags) in PLAIN_PATTERNS.items():
        plain = re.compile(pattern, flags | re.MULTILINE)
        spans = N._tokenized_spans(text) if name == "space_before_marks" else [(0, len(text))]
        want = [(m.start(), m.end()) for s, e in spans for m in plain.finditer(text, s, e)]
        assert [(e.start, e.end) for e in getattr(N, name)(text, N.DEFAULTS)] == want, name


@FAST
@given(st.text(alphabet="\r\n \tab", max_size=30))
def test_line_layout_is_what_the_patterns_find(text: str) -> None:
    assert line_layout(text) == (tuple(LINE_END_RE.findall(text)), len(PARAGRAPH_BREAK_RE.findall(text)))


def plain_sentence_at(spans: list[tuple[int, int]], pos: int) -> int:
    best = 0
    for i, (s, _) in enumerate(spans):
        if s > pos:
            break
        best = i
    return best


@FAST
@given(st.lists(st.integers(0, 50), max_size=12), st.integers(-1, 60))
def test_sentence_at_is_the_plain_walk(starts: list[int], pos: int) -> None:
    spans = [(s, s + 1) for s in sorted(starts)]
    assert sentence_at(spans, pos) == plain_sentence_at(spans, pos)


@FAST
@given(texts)
def test_mentions_come_in_order_and_apart(text: str) -> None:
    """`pronouns_for` bisects the mentions by start and by end: they must not overlap."""
    mentions = Document.of(text).mentions
    assert all(a.end <= b.start for a, b in pairwise(mentions))


def plain_pronoun_slots(text: str, start: int, end: int, chars: int) -> tuple[str, ...]:
    before = tokenize(text[max(0, start - chars) : start])
    after = tokenize(text[end : end + chars])
    prev = before[-1].text.lower() if before else "."
    nxt = after[0] if after else None
    word = nxt.text.lower() if nxt is not None and nxt.is_word else ""
    if word in SUBJECT_VERBS or (word.endswith("ed") and word not in NOT_NOUNS):
        return ("subject",)
    if word and word not in NOT_NOUNS and nxt is not None and nxt.text[0].islower():
        return ("possessive", "subject")
    return ("subject", "object") if prev in CLAUSE_OPENERS else ("object",)


@FAST
@given(texts, st.integers(0, 200), st.integers(0, 20))
def test_pronoun_slots_read_the_tokens_around(text: str, start: int, width: int) -> None:
    start = min(start, len(text))
    end = min(start + width, len(text))
    assert pronoun_slots(text, start, end, 60) == plain_pronoun_slots(text, start, end, 60)


@FAST
@given(texts, st.integers(0, 200))
def test_left_context_is_the_folded_text_before(text: str, at: int) -> None:
    at = min(at, len(text))
    left = " ".join(text[:at].split())
    if text[:at][-1:].isspace() and left:
        left += " "
    assert Context("", True, text, at).left == left


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@FAST
@given(json_values, st.integers(0, 3))
def test_indented_is_what_json_indents(value: object, level: int) -> None:
    plain = json.dumps(value, ensure_ascii=False, indent=1)
    assert indented(value, level) == plain.replace("\n", "\n" + " " * level)


@FAST
@given(
    st.text(alphabet="ab \t\r\n", max_size=16), st.integers(0, 16), st.integers(0, 4), st.text("ab \t\r\n", max_size=3)
)
def test_an_edit_inside_a_line_keeps_the_layout(text: str, start: int, width: int, after: str) -> None:
    """`hold_layout_changes` skips its check for an edit `_inside_a_line` says keeps the layout: it must."""
    start = min(start, len(text))
    end = min(start + width, len(text))
    e = Edit(start, end, text[start:end], after, "x", 1.0)
    if _inside_a_line(text, e):
        assert _layout_kept(text, *_lines_around(text, start, end), [e])
