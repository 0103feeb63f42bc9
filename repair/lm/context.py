"""The left context a causal model reads a gap with: the document before it, in the windows of the surprisal pass.

Detection reads the whole document once, in windows of `WINDOW` tokens that overlap by
`WINDOW - STRIDE` (each window's first tokens are only context for the rest). A gap is read
with the same window the surprisal pass scored its position in, from that window's start:
then its left context is a slice of a window already computed, and the window's key/value
cache, kept here, makes it free. Every gap of a document gets up to a window of the text
before it instead of its own sentence, which is what lets the model recall a word the
story used before (held-out seed 3, no references: content words among the candidates
37% -> 47% for 21% fewer model tokens, `benchmarks/README.md`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from repair.lm.memo import LRU

WINDOW = 1024  # token positions per window, the start token included
STRIDE = 768  # new tokens per window after the first; the rest is context carried over
# A gap attends to its window's start token and the last ATTEND_BACK positions before it, not to all of them:
# the words there were read with everything before them, and attention over a whole window cost a third more
# per token (a merged pass of 512 tokens, 32 gaps: 1.97 s with 64 positions before each, 2.59 s with 1,000).
ATTEND_BACK = 256
# The kept windows' caches are bounded: an article's one or two windows always fit, a 64,000-character chunk
# of a big file keeps its first windows (later gaps there compute their own context).
KEEP_BYTES = 320 * 1024 * 1024


def window_start(position: int) -> int:
    """The first token (of the text without its start token) of the window that scores token ``position``.

    The first window scores tokens 0..WINDOW-2; window j >= 1 starts at j*STRIDE and scores from
    where the one before it stopped, so each token is scored with at least WINDOW-1-STRIDE before it.

    >>> [window_start(p) for p in (0, 1022, 1023, 1790, 1791)]
    [0, 0, 768, 768, 1536]
    """
    carried = WINDOW - 1 - STRIDE
    return 0 if position < WINDOW - 1 else ((position - carried) // STRIDE) * STRIDE


def windows(n: int) -> list[tuple[int, int, int]]:
    """(start, end, first scored) token ranges of the windows over a text of ``n`` tokens.

    >>> windows(10)
    [(0, 10, 0)]
    >>> windows(2000)
    [(0, 1023, 0), (768, 1791, 1023), (1536, 2000, 1791)]
    """
    out: list[tuple[int, int, int]] = []
    done = 0
    while done < n or not out:
        start = window_start(done)
        end = min(n, start + WINDOW - 1)
        out.append((start, end, done))
        done = end
    return out


def clip(ids: Sequence[int]) -> Sequence[int]:
    """The left context a gap after ``ids`` is read with: from the start of the window that scores the gap's
    first token.

    >>> len(clip(list(range(1500)))), clip(list(range(1500)))[0]
    (732, 768)
    """
    return ids[window_start(len(ids)) :]


@dataclass(frozen=True)
class Window:
    """One window of a document as the model read it: the key/value cache after its tokens and the last hidden
    state at each position (what predicts the token after it)."""

    cache: Any
    hidden: Any

    def nbytes(self) -> int:
        layers = getattr(self.cache, "layers", [])
        kv = sum(int(t.numel()) * t.element_size() for layer in layers for t in (layer.keys, layer.values))
        return int(kv + self.hidden.numel() * self.hidden.element_size())


class DocumentWindows:
    """A document as the surprisal pass read it (`CausalLM.read`): its text, its tokens and their ends, and the
    windows kept. Detection gets it with the surprisal and hands it to proposing, whose gaps are read from it.

    The windows detection read are kept while `KEEP_BYTES` allows (an article's all); a gap in a window not
    kept has the window read again, once, in place of the one used longest ago.
    """

    def __init__(self, text: str, ids: Sequence[int], ends: Sequence[int], start_id: int) -> None:
        self.text = text
        self.ids = list(ids)
        self.ends = list(ends)  # char end of each token
        self.start_id = start_id
        # by the window's first token, least recently used first
        self.kept: LRU[int, Window] = LRU(KEEP_BYTES, cost=Window.nbytes)

    def seq(self, start: int) -> list[int]:
        """The token ids of the window that begins at token ``start``, the start token first."""
        return [self.start_id, *self.ids[start : min(len(self.ids), start + WINDOW - 1)]]

    def keep(self, start: int, window: Window, *, evict: bool = False) -> bool:
        """Keep a window within the budget, making room (``evict``) or not; whether it was kept."""
        size = window.nbytes()
        if evict:
            self.kept.make_room(size)
        if not self.kept.fits(size):
            return False
        self.kept.add(start, window)
        return True

    def ids_of(self, left: str) -> list[int] | None:
        """The document's tokens of ``left`` if ``left`` is how the document starts and ends where a token does
        (a left context cut inside a token is tokenized on its own)."""
        if not self.text.startswith(left):
            return None
        n = bisect_right(self.ends, len(left))
        return self.ids[:n] if (self.ends[n - 1] if n else 0) == len(left) else None

    def window_of(self, prefix: Sequence[int]) -> tuple[int, int] | None:
        """(first token of the window, length) when ``prefix`` is how a gap's left context is read from one of
        this document's windows (`clip`): the start token, then the document from a window's start."""
        n = len(prefix) - 1
        if n < 0 or prefix[0] != self.start_id:
            return None
        for start in range(0, len(self.ids), STRIDE):
            if window_start(start + n) == start and self.ids[start : start + n] == list(prefix[1:]):
                return start, n + 1
            if start > len(self.ids) - n:
                break
        return None
