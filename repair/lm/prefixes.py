"""The left contexts a causal model reads gaps with: the key/value state after each, kept between calls.

Gaps in one sentence share its start, and score() and propose() of one gap share its left context, so
the state after a left context is kept (`PREFIX_MEMO` of them), and a new left context extends the kept
one it shares most tokens with. A left context that is the start of one of the windows of a document
read whole (`repair.lm.context.DocumentWindows`, handed in by the caller) costs no pass at all: it is
that window's cache, cut to it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

from repair.lm.base import shared_length
from repair.lm.context import ATTEND_BACK, DocumentWindows, Window
from repair.lm.engine import TOGETHER_TASKS, Engine, cached_length
from repair.lm.llama import KVCache
from repair.lm.memo import LRU

# left contexts whose key/value cache is kept: propose() and score() of one gap share it
PREFIX_MEMO = 2 * TOGETHER_TASKS

State = tuple[Any, "torch.Tensor"]  # the key/value cache after a left context, and the next token's log-distribution


class Prefixes:
    """The state after each recent left context (token ids, the start token first), computed on ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.memo: LRU[tuple[int, ...], State] = LRU(PREFIX_MEMO)

    def known(self, prefix: Sequence[int], windows: DocumentWindows | None) -> bool:
        """Whether the state after ``prefix`` is at hand without a pass over it: kept, or cut from a window."""
        return tuple(prefix) in self.memo or self.from_windows(prefix, windows)

    def base(self, prefix: Sequence[int]) -> tuple[Any, int]:
        """A copy of the kept cache sharing the most leading tokens with ``prefix``, cut to them, and their count.

        The last token is always left to compute, since its output predicts the gap.
        """
        base, reuse, surplus = None, 0, 0
        for other, (cache, _) in self.memo.items():
            common = min(shared_length(other, prefix), len(prefix) - 1)
            held = cached_length(cache)
            # a cache from a document's window holds only the start token and its last positions
            # (`from_windows`): cut back past those, it would hold other positions than the shared ones
            if held < len(other) and len(other) - common >= held - 1:
                continue
            if common > reuse:
                base, reuse, surplus = cache, common, len(other) - common
        if base is None:
            return None, 0
        cache = copy.deepcopy(base)
        if surplus:
            cache.crop(-surplus)  # a negative count drops that many positions from the end
        return cache, reuse

    def keep(self, prefix: Sequence[int], cache: Any, held: int, next_lp: torch.Tensor) -> None:
        """Remember the cache after ``prefix`` (cut to the ``held`` positions that are the prefix's, compacted)
        and the log-probabilities after it. A pass extends its cache by every segment it reads, and a cache may
        hold fewer positions than its prefix has tokens (`KVCache.sink_and_recent`)."""
        surplus = cache.get_seq_length() - held
        if surplus:
            cache.crop(-surplus)  # a negative count drops that many from the end (the only way transformers' caches go)
        for layer in cache.layers:  # the cut leaves views into the longer tensors: keep only what is used
            layer.keys, layer.values = layer.keys.clone(), layer.values.clone()
        self._remember(prefix, cache, next_lp)

    def _remember(self, prefix: Sequence[int], cache: Any, next_lp: torch.Tensor) -> None:
        # a row of a merged projection's output: a copy, or the memo would hold all of that output
        self.memo.put(tuple(prefix), (cache, next_lp.clone()))

    def state(self, prefix: list[int], windows: DocumentWindows | None) -> State:
        """The key/value cache after ``prefix`` and the log-probabilities of the next token.

        The caller gets its own copy of the cache, since a forward pass extends it in place.
        """
        if not self.known(prefix, windows):
            cache, reuse = self.base(prefix)
            held = cached_length(cache) + len(prefix) - reuse
            hidden, cache = self.engine.packed_pass([prefix[reuse:]], cache, reuse, shared=True)
            _, after = self.engine.segment_logprobs(hidden, [[]], keep=[hidden.shape[0] - 1])
            self.keep(prefix, cache, held, after[0])
        found = self.memo.get(tuple(prefix))
        assert found is not None  # just kept, or found kept: the newest entry is never the one dropped
        cache, next_lp = found
        return copy.deepcopy(cache), next_lp

    def from_windows(self, prefix: Sequence[int], windows: DocumentWindows | None) -> bool:
        """Keep the state after ``prefix`` if it is a gap's left context in ``windows``'s document (the start of
        one of its windows): the window's cache cut to it, and its hidden state there, give it with no pass over
        the prefix (a window not kept is read again first); whether it was."""
        found = windows.window_of(prefix) if windows is not None else None
        if windows is None or found is None:
            return False
        start, n = found
        window = windows.kept.get(start)
        if window is None:
            hidden, cache = self.engine.packed_pass([windows.seq(start)], None, 0, shared=True)
            window = Window(cache, hidden)
            windows.keep(start, window, evict=True)
        if isinstance(window.cache, KVCache):
            cache = window.cache.sink_and_recent(n, ATTEND_BACK)
        else:
            cache = copy.deepcopy(window.cache)
            if cache.get_seq_length() > n:
                cache.crop(n - cache.get_seq_length())
        _, after = self.engine.segment_logprobs(window.hidden[n - 1 : n], [[]], keep=[0])
        self._remember(prefix, cache, after[0])
        return True
