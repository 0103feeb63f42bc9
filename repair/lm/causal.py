"""Backend 1, the embedded default: a causal LM that fills a gap by scoring whole sentences, one per candidate,
batched, with the left context computed once and its key/value cache reused.

`CausalLM` speaks text; beneath it `repair.lm.engine` runs the forward passes, `repair.lm.prefixes` keeps
the left contexts' states, `repair.lm.drafts` drafts fillers, and `repair.lm.context` holds a document
read whole, which `read` hands to the caller and the caller hands back with the gaps proposed in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

from repair.lm.base import (
    DocumentContext,
    Reading,
    T,
    content_start,
    fit_filler,
    packs,
    right_window,
    space_after,
    trim_span,
)
from repair.lm.context import DocumentWindows, Window, clip, windows
from repair.lm.drafts import STEP_MEMO, DraftSearch, DraftSettings, Rests, Steps, word_masks
from repair.lm.engine import Engine, cached_length
from repair.lm.memo import LRU
from repair.lm.prefixes import Prefixes

PACK_TOKENS = 256  # tokens packed side by side in one forward pass; their attention grows with its square
REST_MEMO = 4096  # scored continuations kept: propose() ranks the fillers that score() then sees again
SURPRISAL_PACK = 1024  # tokens per pass when scoring many short texts (a cached context costs nothing there)


def _last_word_start(left: str) -> int:
    """Where the run of spaces before the last word of ``left`` starts (0 if it has one word).

    >>> _last_word_start("He said  we "), _last_word_start("word")
    (7, 0)
    """
    stem = left.rstrip()
    cut = max(stem.rfind(" "), 0)
    while cut > 0 and stem[cut - 1].isspace():
        cut -= 1
    return cut


def _windows(context: DocumentContext | None) -> DocumentWindows | None:
    """The document read whole that a caller handed back, if this model made it."""
    return context if isinstance(context, DocumentWindows) else None


class CausalLM:
    """A causal LM that fills a gap by scoring the whole sentence with each candidate."""

    def __init__(self, model: Any, tokenizer: Any, name: str, drafts: DraftSettings | None = None) -> None:
        self.name = name
        self.model = model
        self.tokenizer = tokenizer
        # The document-start token gives the first real token a context, so every token has a surprisal.
        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        if tokenizer.convert_ids_to_tokens(0) == "<|endoftext|>":  # SmolLM2 separates documents with it
            start = 0
        self.start_id: int = int(start if start is not None else 0)
        self.engine = Engine(model)
        self.cores = self.engine.cores
        self.drafts = DraftSettings() if drafts is None else drafts
        # Remembered results, keyed by token ids, so a hit gives what a new forward pass would have.
        self.prefixes = Prefixes(self.engine)
        self.rests: Rests = LRU(REST_MEMO)
        self.steps: Steps = LRU(STEP_MEMO)
        self._word_masks: tuple[torch.Tensor, torch.Tensor] | None = None

    def encode(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        enc = self.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
        return [
            (list(ids), [tuple(o) for o in offs])
            for ids, offs in zip(enc["input_ids"], enc["offset_mapping"], strict=True)
        ]

    def run_together(self, tasks: Sequence[Callable[[], T]]) -> list[T]:
        """Run the tasks (each using this model) side by side, their forward passes merged (`Engine.run_together`)."""
        return self.engine.run_together(tasks)

    # ------------------------------------------------ scoring fillers

    def score(self, left: str, candidates: Sequence[str], right: str) -> list[float]:
        """Log-probability of ``left + c + right`` for each candidate c (higher fits better).

        The contexts are clipped to a sentence window, and the part of the left context all
        candidates share is conditioned on, not scored: scores differ from the full log-probability by the same
        constant for every candidate, so they compare across candidate lengths.
        """
        return [own + fit for own, fit in self.score_parts(left, candidates, right)]

    def score_parts(
        self, left: str, candidates: Sequence[str], right: str, context: DocumentContext | None = None
    ) -> list[tuple[float, float]]:
        """(log P(c | left), log P(right | left, c)) for each candidate c, from one forward pass.

        The first part is the candidate's own cost, the second its fit with the words after
        it; they sum to score(). A token counts as the candidate's if its first non-space
        character lies before the right context (a token of spaces only goes with what follows).
        ``context`` is what `read` gave for the document the gap is in: its windows give the left context.
        """
        if not candidates:
            return []
        self.cores.tune()
        windows = _windows(context)
        prefix, rests, owns = self.split(left, candidates, right, windows)
        return [
            (float(sum(lps[:n])), float(sum(lps[n:])))
            for lps, n in zip(self.continuations(prefix, rests, windows), owns, strict=True)
        ]

    def split(
        self, left: str, candidates: Sequence[str], right: str, windows: DocumentWindows | None = None
    ) -> tuple[list[int], list[list[int]], list[int]]:
        """The gap as token ids: the prefix all candidates share, each candidate's continuation, and how many
        of that continuation's tokens come before the right context.

        The left context is tokenized apart from its last word (a document's tokens are known already), and
        only that word is tokenized with each candidate and the right context: a byte-level tokenizer never
        joins a word to the space before the next, so the two give the tokens of the whole.
        """
        cut = _last_word_start(left)
        head, tail = left[:cut], left[cut:]
        wr = right_window(right)
        texts = [tail + c + wr for c in candidates]
        encoded = self.encode(texts)
        shared = 0
        first_ids, first_offs = encoded[0]
        while (
            shared < len(first_ids)
            and first_offs[shared][1] <= len(tail)
            and all(len(ids) > shared and ids[shared] == first_ids[shared] for ids, _ in encoded)
        ):
            shared += 1
        rests: list[list[int]] = []
        owns: list[int] = []
        for text, c, (ids, offs) in zip(texts, candidates, encoded, strict=True):
            edge = len(tail) + len(c)
            rests.append(ids[shared:])
            owns.append(sum(1 for s, e in offs[shared:] if content_start(text, s, e) < edge))
        return self.context_prefix(head, first_ids[:shared], windows), rests, owns

    def context_prefix(
        self, left: str, more: Sequence[int] = (), windows: DocumentWindows | None = None
    ) -> list[int]:
        """The token ids a gap after ``left`` (then the tokens ``more``) is read with: the start token, then the
        left context from the start of its window (`repair.lm.context.clip`); from ``windows``'s tokens where
        ``left`` is how that document starts."""
        ids = windows.ids_of(left) if windows is not None else None
        if ids is None:
            ids = self.encode([left])[0][0] if left else []
        return [self.start_id, *clip([*ids, *more])]

    def continuations(
        self, prefix: list[int], rests: Sequence[Sequence[int]], windows: DocumentWindows | None = None
    ) -> list[tuple[float, ...]]:
        """log p of each token of each rest after ``prefix``.

        Rests scored before are remembered; the others are packed into one forward pass, which
        also computes the prefix when it is new (extending the kept prefix it shares most with).
        """
        key = tuple(prefix)
        found: dict[tuple[int, ...], tuple[float, ...]] = {(): ()}
        todo: list[tuple[int, ...]] = []
        for rest in map(tuple, rests):
            if rest in found or rest in todo:
                continue
            memo = self.rests.get((key, rest))
            if memo is None:
                todo.append(rest)
            else:
                found[rest] = memo
        for group in packs([len(r) for r in todo], PACK_TOKENS):
            segments = [todo[i] for i in group]
            if self.prefixes.known(prefix, windows):
                cache, first_lp = self.prefixes.state(prefix, windows)
                hidden, _ = self.engine.packed_pass(segments, cache, len(prefix))
                inner, _ = self.engine.segment_logprobs(hidden, segments)
            else:
                cache, reuse = self.prefixes.base(prefix)
                lead = prefix[reuse:]
                held = cached_length(cache) + len(lead)
                hidden, cache = self.engine.packed_pass([lead, *segments], cache, reuse, shared=True)
                inner, after = self.engine.segment_logprobs(
                    hidden, [lead, *segments], [len(lead)] + [0] * len(segments), keep=[len(lead) - 1]
                )
                first_lp = after[0]
                self.prefixes.keep(prefix, cache, held, first_lp)
                inner = inner[1:]
            for rest, lps in zip(segments, inner, strict=True):
                found[rest] = (float(first_lp[rest[0]]), *lps)
                self.rests.add((key, rest), found[rest])
        self.rests.trim()
        return [found[tuple(r)] for r in rests]

    # ------------------------------------------------ surprisal

    def surprisal(self, text: str) -> list[tuple[int, int, float]]:
        """Per model token: (char start, char end, surprisal in nats); spans skip the token's leading space."""
        return self.surprisal_many([text])[0]

    def read(self, text: str) -> Reading:
        """``text`` read whole as a document: surprisal() of each token, and the windows read (kept within a
        budget) as the context to hand back with the gaps proposed in it."""
        self.cores.tune()
        ((ids, offsets),) = self.encode([text])
        values, windows = self.read_document(text, ids, [e for _, e in offsets]) if ids else ([], None)
        return Reading([(*trim_span(text, s, e), v) for (s, e), v in zip(offsets, values, strict=True)], windows)

    def surprisal_many(self, texts: Sequence[str]) -> list[list[tuple[int, int, float]]]:
        """surprisal() of each text, short texts packed together into a few forward passes.

        A text asked alone, or longer than a window, is read as a document (`read_document`).
        """
        self.cores.tune()
        encoded = self.encode(list(texts)) if texts else []
        seqs = [[self.start_id, *ids] for ids, _ in encoded]
        alone = len(texts) == 1
        short = [] if alone else [i for i, s in enumerate(seqs) if len(s) > 1 and len(windows(len(s) - 1)) == 1]
        values: dict[int, list[float]] = {i: [] for i in range(len(seqs))}
        for group in packs([len(seqs[i]) for i in short], SURPRISAL_PACK):
            chosen = [seqs[short[g]] for g in group]
            hidden, _ = self.engine.packed_pass(chosen)
            for g, lps in zip(group, self.engine.segment_logprobs(hidden, chosen)[0], strict=True):
                values[short[g]] = [-v for v in lps]
        for i, (ids, offsets) in enumerate(encoded):
            if i not in short and ids:
                values[i] = self.read_document(texts[i], ids, [e for _, e in offsets])[0]
        return [
            [(*trim_span(text, s, e), v) for (s, e), v in zip(offsets, values[i], strict=True)]
            for i, (text, (_, offsets)) in enumerate(zip(texts, encoded, strict=True))
        ]

    def read_document(self, text: str, ids: Sequence[int], ends: Sequence[int]) -> tuple[list[float], DocumentWindows]:
        """Surprisal of each token of ``text`` in overlapping windows (`repair.lm.context.windows`), each scoring
        its new tokens with the rest as context, and the document with the windows kept (within a budget)."""
        document = DocumentWindows(text, ids, ends, self.start_id)
        values: list[float] = []
        keeping = True
        for start, _end, first in windows(len(ids)):
            seq = document.seq(start)
            hidden, cache = self.engine.packed_pass([seq], None, 0, shared=keeping)
            # position j of seq predicts seq[j + 1] = ids[start + j]: the window scores ids[first:end]
            values += [-v for v in self.engine.segment_logprobs(hidden, [seq], skip=[first - start])[0][0]]
            keeping = keeping and document.keep(start, Window(cache, hidden))
        return values, document

    # ------------------------------------------------ proposing fillers

    def word_masks(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Vocabulary masks: tokens that start a new word, and tokens that continue one (computed once)."""
        if self._word_masks is None:
            self._word_masks = word_masks(self.tokenizer, self.model.get_output_embeddings().weight.shape[0])
        return self._word_masks

    def propose(
        self, left: str, right: str, n_words: int, k: int = 10, context: DocumentContext | None = None
    ) -> list[tuple[str, float]]:
        """Up to k fillers of about ``n_words`` words for the gap, best first, each with its score()
        (`repair.lm.drafts`); ``context`` as for `score_parts`."""
        self.cores.tune()
        n_words = max(1, n_words)
        wr = right_window(right)
        stem = left.rstrip()
        new, cont = self.word_masks()
        windows = _windows(context)
        prefix = self.context_prefix(stem, windows=windows)
        tail = tuple(self.encode([space_after(wr) + wr])[0][0]) if wr.strip() else ()
        _, next_lp = self.prefixes.state(prefix, windows)
        allowed = new if stem else new | cont
        search = DraftSearch(self.engine, self.prefixes, self.steps, self.rests, (new, cont), self.drafts, windows)
        scored = search.run(prefix, next_lp.masked_fill(~allowed, float("-inf")), tail, n_words, k)
        ranked: dict[str, float] = {}
        for d in sorted(scored, key=lambda d: -d.score):
            words = " ".join(self.tokenizer.decode(list(d.tokens)).split())
            if words and words not in ranked:
                ranked[words] = d.score
        return [(fit_filler(left, w, right), s) for w, s in list(ranked.items())[:k]]
