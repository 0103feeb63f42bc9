"""What every language model offers the pipeline (`LanguageModel`), and the pure text helpers its backends share.

No torch here: the stages import this module only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol, TypeVar

from repair.text.sentences import WINDOW_BREAK_RE

# The sentence window around a gap: enough context to judge a filler, short enough to batch.
MIN_LEFT_CHARS = 60
MAX_LEFT_CHARS = 300

# The right context a filler is scored with: its first few words carry what ranks fillers. 60 -> 20 chars
# took 28% fewer model tokens on held-out seed 3 (with refs) at content F0.5 0.338 -> 0.359, and with the
# whole-document surprisal equal F0.5 over seeds 3-5 (benchmarks/README.md, "Throughput with the model").
# (An older cut to 6 words had cost 3 points on `--seeds 1 --limit 8 --no-refs`, before story candidates.)
# 20 -> 12 with the document as left context: the same damaged spans among the candidates (held-out seed 3, no
# references), 9% fewer model tokens.
MAX_RIGHT_CHARS = 12

# A model proposes blind to the right context, so it drafts many first words and lets the next
# few words of the right context rank them.
PROPOSE_STARTS = 16
RERANK_RIGHT_WORDS = 4  # words of right context MaskedLM.propose() ranks its fillers on
NO_SPACE_BEFORE = frozenset(".,;:!?)]}”’'%")
NO_SPACE_AFTER = frozenset("([{“‘")
Progress = Callable[[str], None]
T = TypeVar("T")


class ModelError(RuntimeError):
    """A model cannot be found or loaded; the message names what to install."""


class DocumentContext(Protocol):
    """What a model keeps of a document it read whole (`LanguageModel.read`), for the gaps proposed in it next:
    the caller hands it back with each gap of that document. A model that keeps nothing gives None."""

    text: str  # the document as read


class Reading(NamedTuple):
    """A document read whole: each model token's (char start, char end, surprisal in nats), and what the model
    keeps of it for the gaps proposed in it."""

    surprisal: list[tuple[int, int, float]]
    context: DocumentContext | None


class LanguageModel(Protocol):
    name: str

    def score(self, left: str, candidates: Sequence[str], right: str) -> list[float]:
        """Log-probability of ``left + c + right`` for each candidate c (higher fits better)."""
        ...

    def propose(
        self, left: str, right: str, n_words: int, k: int = 10, context: DocumentContext | None = None
    ) -> list[tuple[str, float]]:
        """Up to k fillers of about ``n_words`` words for the gap between left and right, best first; ``context``
        is what `read` gave for the document the gap is in, if the caller has it."""
        ...

    def surprisal(self, text: str) -> list[tuple[int, int, float]]:
        """Per model token: (char start, char end, surprisal in nats) over ``text``."""
        ...

    def read(self, text: str) -> Reading:
        """surprisal() of ``text`` read as a document, with what the model keeps of it for the gaps in it."""
        ...

    def score_parts(
        self, left: str, candidates: Sequence[str], right: str, context: DocumentContext | None = None
    ) -> list[tuple[float, float]]:
        """(log P(c | left), log P(right | left, c)) for each candidate c: its own cost and its fit with the right;
        ``context`` as for `propose`."""
        ...

    def surprisal_many(self, texts: Sequence[str]) -> list[list[tuple[int, int, float]]]:
        """surprisal() of each text, batched."""
        ...

    def run_together(self, tasks: Sequence[Callable[[], T]]) -> list[T]:
        """Run the tasks (each using this model) and return their results in order; a model that can
        works on them side by side, a model that cannot runs them one by one: the results are the same."""
        ...


def window(left: str, right: str) -> tuple[str, str]:
    """Clip the contexts of a gap to a sentence window: the left from a sentence start, the right to a sentence end.

    >>> window("Old news. He said we can ", " do it. Then more.")
    ('Old news. He said we can ', ' do it.')
    >>> window("x" * 400 + " tail of it ", "")[0]
    ' tail of it '
    """
    start = 0
    for boundary in WINDOW_BREAK_RE.finditer(left):
        if len(left) - boundary.end() >= MIN_LEFT_CHARS:
            start = boundary.end()
    if len(left) - start > MAX_LEFT_CHARS:
        start = len(left) - MAX_LEFT_CHARS
        space = re.search(r"\s", left[start:])
        start = start + space.start() if space else len(left)
    return left[start:], right_window(right)


def right_window(right: str) -> str:
    """The right context a filler is read with: to the sentence end, at most `MAX_RIGHT_CHARS` (a word's end).

    >>> right_window(" do it. Then more."), right_window(" and then the rest of a long one")
    (' do it.', ' and then')
    """
    end = len(right)
    stop = WINDOW_BREAK_RE.search(right)
    if stop:
        end = stop.start() + len(stop.group().rstrip())
    if end > MAX_RIGHT_CHARS:
        cut = right.rfind(" ", 0, MAX_RIGHT_CHARS)
        end = cut if cut > 0 else MAX_RIGHT_CHARS
    return right[:end]


def fit_filler(left: str, words: str, right: str) -> str:
    """The text to put between left and right for ``words``, with the spaces it needs.

    >>> fit_filler("We can", "not", "let it be.")
    ' not '
    >>> fit_filler("maintain ", "its", " alliance")
    'its'
    >>> fit_filler("the world ", "attention", ".")
    'attention'
    """
    words = words.strip()
    if not words:
        return ""
    before = "" if not left or left[-1].isspace() or left[-1] in NO_SPACE_AFTER else " "
    return before + words + space_after(right)


def space_after(right: str) -> str:
    """The space a filler needs before ``right``.

    >>> space_after("let it be."), space_after(", he said"), space_after(" it")
    (' ', '', '')
    """
    return "" if not right or right[0].isspace() or right[0] in NO_SPACE_BEFORE else " "


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop the leading whitespace a byte-level token carries, so spans start on the word.

    >>> trim_span("a  word", 1, 7)
    (3, 7)
    >>> trim_span("a  ", 1, 3)
    (1, 3)
    """
    stripped = len(text[start:end]) - len(text[start:end].lstrip())
    return (start + stripped, end) if stripped < end - start else (start, end)


def content_start(text: str, start: int, end: int) -> int:
    """Where a token's text begins, past its leading spaces; a token of spaces only belongs with what follows it.

    >>> content_start("a  word", 1, 7), content_start("a  word", 1, 2)
    (3, 2)
    """
    first = trim_span(text, start, end)[0]
    return first if text[first:end].strip() else end


def first_words(text: str, n: int) -> str:
    """The start of ``text`` up to the end of its n-th word (punctuation counts as a word).

    >>> first_words(" let this happen again.", 3)
    ' let this happen'
    >>> first_words(", he said", 2)
    ', he'
    """
    m = re.match(rf"\s*(?:(?:\w[\w'’-]*|[^\w\s]+)\s*){{0,{int(n)}}}", text)
    return m.group().rstrip() if m and m.group().strip() else text[: len(m.group()) if m else 0]


def shared_length(a: Sequence[object], b: Sequence[object]) -> int:
    """How many leading items ``a`` and ``b`` have in common.

    >>> shared_length([1, 2, 3], [1, 2, 4, 5])
    2
    """
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def packs(lengths: Sequence[int], budget: int) -> list[list[int]]:
    """Indices of items grouped in order into runs whose lengths sum to at most ``budget`` (a longer item goes alone).

    >>> packs([3, 4, 2, 5, 9], 9)
    [[0, 1, 2], [3], [4]]
    >>> packs([], 9)
    []
    """
    groups: list[list[int]] = []
    total = budget + 1
    for i, n in enumerate(lengths):
        if total + n > budget:
            groups.append([])
            total = 0
        groups[-1].append(i)
        total += n
    return groups


def rerank(lm: LanguageModel, left: str, right: str, texts: Sequence[str], k: int) -> list[tuple[str, float]]:
    """The k best drafted fillers as (filler, score) pairs, scored with the next few words of the right context.

    The words right after the gap are what separate fillers; the rest of the sentence would
    cost a forward pass per filler for little change in the order. Scores compare with each
    other, not with score() over a longer right context.
    """
    fillers = [fit_filler(left, t, right) for t in texts]
    if not fillers:
        return []
    scores = lm.score(left, fillers, first_words(right, RERANK_RIGHT_WORDS))
    return sorted(zip(fillers, scores, strict=True), key=lambda fs: -fs[1])[:k]
