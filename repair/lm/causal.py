"""Backend 1, the embedded default: a causal LM that fills a gap by scoring whole sentences, one per candidate,
batched, with the left context computed once and its key/value cache reused."""

from __future__ import annotations

import copy
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import torch

from repair.lm.base import (
    PROPOSE_STARTS,
    T,
    content_start,
    fit_filler,
    packs,
    right_window,
    shared_length,
    space_after,
    trim_span,
)
from repair.lm.context import ATTEND_BACK, Document, Window, clip, windows
from repair.lm.llama import Block, Blocks, KVCache, pack_mask
from repair.lm.threads import CoreWatch, runs_reduced
from repair.lm.together import HeadRequest, PassRequest, Together

PACK_TOKENS = 256  # tokens packed side by side in one forward pass; their attention grows with its square
REST_MEMO = 4096  # scored continuations kept: propose() ranks the fillers that score() then sees again
HEAD_CHUNK = 512  # positions per output-projection call: each reads its 56 MB of weights, and holds 100 MB of scores

# Rounds after the last word is drafted: one scores the drafts (a word may grow one piece meanwhile);
# each further round lets a longer word grow a piece more, for a whole forward pass.
PROPOSE_ROUNDS = 1

# Drafts start from the first tokens that hold STARTS_MASS of the next-token mass, at least PROPOSE_STARTS and
# at most STARTS_MAX of them.
STARTS_MAX = 16
STARTS_MASS = 0.9
# Next tokens a draft of several words branches into while it grows (the drafts kept to the number of starts):
# 1 -> 3 put 2-3-word originals among the candidates for 24% of the flagged, not 16% (held-out seed 3), for 4%
# more model tokens.
GROW_BRANCH = 3

# A forward pass costs some 45 ms however few its tokens (the weights are read from memory each time),
# and a token ~0.6 ms (bfloat16, one core): the gaps of a text are worked on side by side
# (`CausalLM.run_together`) so that the passes they ask for run merged, a few hundred tokens each.
TOGETHER_TASKS = 32  # tasks run side by side: the memos below hold what each of them is working on
MERGE_TOKENS = 512  # tokens of merged requests per pass
STEP_MEMO = (
    4 * TOGETHER_TASKS
)  # next-token distributions of drafts: propose() for one and two words share the first step
PREFIX_MEMO = (
    2 * TOGETHER_TASKS
)  # left contexts whose key/value cache is kept: propose() and score() of one gap share it
SURPRISAL_PACK = 1024  # tokens per pass when scoring many short texts (a cached context costs nothing there)
NEW_WORD = re.compile(r"^ (?!_)\w[\w'’-]*$")
WORD_PIECE = re.compile(r"^[\w'’-]+$")


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


def cached_length(cache: Any) -> int:
    """Positions a cache holds: fewer than the positions before the new tokens when it keeps only the recent
    ones (`KVCache.sink_and_recent`)."""
    return int(cache.get_seq_length()) if cache is not None else 0


def _likeliest(drafts: list[Draft], n: int) -> list[Draft]:
    """At most ``n`` drafts still being drafted (the likeliest by their own log-probability), and all others:
    branching words must not multiply the drafts a step reads."""
    live = [d for d in drafts if d.state in ("grow", "check")]
    if len(live) <= n:
        return drafts
    chosen = {id(d) for d in sorted(live, key=lambda d: -sum(d.lps))[:n]}
    return [d for d in drafts if d.state not in ("grow", "check") or id(d) in chosen]


def first_tokens(lp: torch.Tensor, k: int) -> Any:
    """The first tokens worth drafting from the log-distribution ``lp`` (-inf where not allowed): as many of the
    likeliest as hold `STARTS_MASS` of the allowed mass, between `PROPOSE_STARTS` (or k) and `STARTS_MAX`.

    A peaked distribution (a function word is due) needs few drafts; a flat one (a content word) many.

    >>> import torch
    >>> len(first_tokens(torch.log_softmax(torch.arange(200.0), 0), 1).indices)
    16
    """
    import torch

    least = max(k, PROPOSE_STARTS)
    top = torch.topk(lp, min(max(least, STARTS_MAX), lp.shape[0]))
    share = torch.exp(top.values - torch.logsumexp(lp, 0)).cumsum(0)
    wanted = int((share < STARTS_MASS).sum()) + 1
    n = min(max(least, wanted), len(top.values))
    return torch.return_types.topk((top.values[:n], top.indices[:n]))


def head_logprobs(
    head: Any, hidden: torch.Tensor, targets: torch.Tensor, keep: Sequence[int] = ()
) -> tuple[torch.Tensor, torch.Tensor]:
    """log p(target) for each row of ``hidden`` (N × H) through the output projection, in chunks, and the whole
    log-distribution of the rows listed in ``keep``; a target below 0 asks for nothing (its value is meaningless).

    One call for all rows: with few rows, reading the projection's weights costs more than using them.
    """
    import torch

    wanted = {row: i for i, row in enumerate(keep)}
    out = []
    kept = [hidden.new_zeros(0)] * len(keep)
    for i in range(0, hidden.shape[0], HEAD_CHUNK):
        lp = torch.log_softmax(head(hidden[i : i + HEAD_CHUNK]).float(), dim=-1)
        out.append(lp.gather(1, targets[i : i + HEAD_CHUNK].clamp(min=0).unsqueeze(1)).squeeze(1))
        for row in range(i, min(i + HEAD_CHUNK, hidden.shape[0])):
            if row in wanted:
                kept[wanted[row]] = lp[row - i].clone()
    return (torch.cat(out) if out else hidden.new_zeros(0)), (torch.stack(kept) if kept else hidden.new_zeros(0))


@dataclass(frozen=True)
class Draft:
    """A filler being drafted by propose(): its tokens, their log-probabilities, and what it needs next.

    ``state`` is "grow" (fewer words than asked), "check" (its last word may go on),
    "ended" (complete; ``ahead`` is the log-probability of the token after the gap),
    "spec" (to be scored with the right context on the guess that its last word is complete)
    or "scored" (``score`` is its score()).
    """

    tokens: tuple[int, ...]
    lps: tuple[float, ...]
    words: int
    state: str
    ahead: float = 0.0
    score: float = 0.0

    def extend(self, token: int, lp: float, new_word: bool, state: str) -> Draft:
        """The draft with one more token."""
        return replace(
            self, tokens=(*self.tokens, token), lps=(*self.lps, lp), words=self.words + int(new_word), state=state
        )


class CausalLM:
    """A causal LM that fills a gap by scoring the whole sentence with each candidate."""

    def __init__(self, model: Any, tokenizer: Any, name: str) -> None:
        self.name = name
        self.model = model
        self.tokenizer = tokenizer
        # The document-start token gives the first real token a context, so every token has a surprisal.
        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        if tokenizer.convert_ids_to_tokens(0) == "<|endoftext|>":  # SmolLM2 separates documents with it
            start = 0
        self.start_id: int = int(start if start is not None else 0)
        self._word_masks: tuple[torch.Tensor, torch.Tensor] | None = None
        # Remembered results, keyed by token ids, so a hit gives what a new forward pass would have.
        self._prefix_memo: OrderedDict[tuple[int, ...], tuple[Any, torch.Tensor]] = OrderedDict()
        self._rest_memo: OrderedDict[tuple[tuple[int, ...], tuple[int, ...]], tuple[float, ...]] = OrderedDict()
        self._step_memo: OrderedDict[tuple[tuple[int, ...], tuple[int, ...]], torch.Tensor] = OrderedDict()
        self.cores = CoreWatch(fixed=runs_reduced(model))
        self._together: Together | None = None  # set while `run_together` runs tasks
        self.document: Document | None = None  # the last document read whole: gaps in it reuse its windows

    def encode(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        enc = self.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
        return [
            (list(ids), [tuple(o) for o in offs])
            for ids, offs in zip(enc["input_ids"], enc["offset_mapping"], strict=True)
        ]

    # ------------------------------------------------ forward passes

    def packed_pass(
        self, segments: Sequence[Sequence[int]], cache: Any = None, context: int = 0, shared: bool = False
    ) -> tuple[torch.Tensor, Any]:
        """Hidden states (and the extended cache) of segments packed side by side in one row.

        Each segment sees the ``context`` tokens held in ``cache`` and its own earlier tokens;
        with ``shared``, the first segment extends the context and all the others see it too.
        On a CPU a pass costs as much as some 75 tokens, so packing is what makes small calls cheap;
        inside `run_together` the request waits to be merged with those of the other tasks.
        """
        request = PassRequest([list(s) for s in segments], cache, context, shared)
        if self._together is not None and self._together.inside():
            hidden, out = self._together.request(request)
            return hidden, out
        return self.merged_pass([request])[0]

    def merged_pass(self, requests: Sequence[PassRequest]) -> list[tuple[torch.Tensor, Any]]:
        """Several packed passes as one: the layers' matrix products run on all their tokens at once, while
        each request attends only to its own cache and segments (`Blocks`).

        Each request gets its hidden states and, if ``shared``, its cache extended by its first segment.
        """
        import torch

        if len(requests) == 1:
            q = requests[0]
            lead = len(q.segments[0]) if q.shared else 0
            owner = torch.repeat_interleave(torch.arange(len(q.segments)), torch.tensor([len(s) for s in q.segments]))
            pos = torch.cat(
                [torch.arange(len(s)) + q.context + (lead if q.shared and i else 0) for i, s in enumerate(q.segments)]
            )
            with torch.inference_mode():
                out = self.model.get_decoder()(
                    input_ids=torch.tensor([[t for s in q.segments for t in s]]),
                    position_ids=pos.unsqueeze(0),
                    attention_mask=pack_mask(owner, pos, cached_length(q.cache), q.shared),
                    past_key_values=q.cache,
                    use_cache=q.cache is not None or q.shared,
                )
            return [(out.last_hidden_state[0], out.past_key_values)]
        ids: list[int] = []
        positions: list[torch.Tensor] = []
        blocks: list[Block] = []
        for q in requests:
            lead = len(q.segments[0]) if q.shared else 0
            sizes = torch.tensor([len(s) for s in q.segments])
            owner = torch.repeat_interleave(torch.arange(len(q.segments)), sizes)
            pos = torch.cat(
                [torch.arange(len(s)) + q.context + (lead if q.shared and i else 0) for i, s in enumerate(q.segments)]
            )
            cached = cached_length(q.cache)
            start = len(ids)
            ids += [t for s in q.segments for t in s]
            positions.append(pos)
            blocks.append(
                Block(start, len(ids), q.cache if cached else None, pack_mask(owner, pos, cached, q.shared), lead)
            )
        with torch.inference_mode():
            out = self.model.get_decoder()(
                input_ids=torch.tensor([ids]),
                position_ids=torch.cat(positions).unsqueeze(0),
                attention_mask=Blocks(blocks),
                use_cache=False,
            )
        hidden = out.last_hidden_state[0]
        return [
            (hidden[b.start : b.end], b.out if q.shared else q.cache) for b, q in zip(blocks, requests, strict=True)
        ]

    def run_together(self, tasks: Sequence[Callable[[], T]]) -> list[T]:
        """Run the tasks (each using this model) side by side, their forward passes merged; results in order.

        Only one task runs Python at a time, handing over when it needs a pass, so the
        order of everything is fixed and the results do not depend on timing. Tasks go in
        waves of `TOGETHER_TASKS`; a model not run on plain torch runs them one by one.
        """
        if len(tasks) < 2 or not getattr(self.model, "plain_torch", False):
            return [task() for task in tasks]
        out: list[T] = []
        for i in range(0, len(tasks), TOGETHER_TASKS):
            self.cores.tune()
            self._together, self.cores.paused = Together(self.run_jobs), True
            try:
                out += self._together.run(tasks[i : i + TOGETHER_TASKS])
            finally:
                self._together, self.cores.paused = None, False
        return out

    def run_jobs(self, jobs: Sequence[PassRequest | HeadRequest]) -> list[Any]:
        """The jobs of tasks run together: the passes merged, and the output projections in one call."""
        passes = [i for i, j in enumerate(jobs) if isinstance(j, PassRequest)]
        heads = [i for i, j in enumerate(jobs) if isinstance(j, HeadRequest)]
        out: dict[int, Any] = {}
        out.update(zip(passes, self.run_merged([cast(PassRequest, jobs[i]) for i in passes]), strict=True))
        out.update(zip(heads, self.run_heads([cast(HeadRequest, jobs[i]) for i in heads]), strict=True))
        return [out[i] for i in range(len(jobs))]

    def run_heads(self, jobs: Sequence[HeadRequest]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """`head_logprobs` of several jobs in one call (the projection's weights are read once for all)."""
        import torch

        if not jobs:
            return []
        sizes = [int(j.hidden.shape[0]) for j in jobs]
        ends = [sum(sizes[: i + 1]) for i in range(len(sizes))]
        keep = [row for j, end in zip(jobs, ends, strict=True) for row in range(end - j.keep, end)]
        with torch.inference_mode():
            lps, dists = head_logprobs(
                self.model.get_output_embeddings(),
                torch.cat([j.hidden for j in jobs]),
                torch.cat([j.targets for j in jobs]),
                keep,
            )
        out = []
        kept = 0
        for j, size, end in zip(jobs, sizes, ends, strict=True):
            out.append((lps[end - size : end - j.keep], dists[kept : kept + j.keep]))
            kept += j.keep
        return out

    def run_merged(self, requests: Sequence[PassRequest]) -> list[tuple[torch.Tensor, Any]]:
        """The requests in as few merged passes of at most `MERGE_TOKENS` tokens as they fit in, in order."""
        out: list[tuple[torch.Tensor, Any]] = []
        for group in packs([sum(len(s) for s in q.segments) for q in requests], MERGE_TOKENS):
            out += self.merged_pass([requests[i] for i in group])
        return out

    def segment_logprobs(
        self,
        hidden: torch.Tensor,
        segments: Sequence[Sequence[int]],
        skip: Sequence[int] | None = None,
        keep: Sequence[int] = (),
    ) -> tuple[list[list[float]], torch.Tensor]:
        """From a packed pass's ``hidden`` states: log p of each token of each segment after its first (and after
        the first ``skip[i]`` of those in segment i), and the next-token log-distribution at the packed
        positions ``keep``."""
        import torch

        rows: list[int] = []
        targets: list[int] = []
        at = 0
        for i, s in enumerate(segments):
            for j in range(skip[i] if skip else 0, len(s) - 1):  # position j predicts token j+1
                rows.append(at + j)
                targets.append(s[j + 1])
            at += len(s)
        counted = len(rows)
        rows += keep
        targets += [-1] * len(keep)
        job = HeadRequest(
            hidden[torch.tensor(rows, dtype=torch.long)], torch.tensor(targets, dtype=torch.long), len(keep)
        )
        if self._together is not None and self._together.inside():
            lps, dists = self._together.request(job)
        else:
            lps, dists = self.run_heads([job])[0]
        values = lps[:counted].tolist()
        out: list[list[float]] = []
        at = 0
        for i, s in enumerate(segments):
            n = max(0, len(s) - 1 - (skip[i] if skip else 0))
            out.append(values[at : at + n])
            at += n
        return out, dists

    # ------------------------------------------------ the left context

    def prefix_base(self, prefix: Sequence[int]) -> tuple[Any, int]:
        """A copy of the kept cache sharing the most leading tokens with ``prefix``, cut to them, and their count.

        Gaps in one sentence share its start, so a new left context mostly extends a kept one.
        The last token is always left to compute, since its output predicts the gap.
        """
        base, reuse, surplus = None, 0, 0
        for other, (cache, _) in self._prefix_memo.items():
            common = min(shared_length(other, prefix), len(prefix) - 1)
            held = cached_length(cache)
            # a cache from a document's window holds only the start token and its last positions
            # (`from_document`): cut back past those, it would hold other positions than the shared ones
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

    def keep_prefix(self, prefix: Sequence[int], cache: Any, held: int, next_lp: torch.Tensor) -> None:
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
        self._prefix_memo[tuple(prefix)] = (cache, next_lp.clone())
        while len(self._prefix_memo) > PREFIX_MEMO:
            self._prefix_memo.popitem(last=False)

    def prefix_state(self, prefix: list[int]) -> tuple[Any, torch.Tensor]:
        """The key/value cache after ``prefix`` and the log-probabilities of the next token.

        Recent prefixes are kept, since score() and propose() of one gap share a left context.
        The caller gets its own copy of the cache, since a forward pass extends it in place.
        """
        key = tuple(prefix)
        if key not in self._prefix_memo and not self.from_document(prefix):
            cache, reuse = self.prefix_base(prefix)
            held = cached_length(cache) + len(prefix) - reuse
            hidden, cache = self.packed_pass([prefix[reuse:]], cache, reuse, shared=True)
            _, after = self.segment_logprobs(hidden, [[]], keep=[hidden.shape[0] - 1])
            self.keep_prefix(prefix, cache, held, after[0])
        self._prefix_memo.move_to_end(key)
        cache, next_lp = self._prefix_memo[key]
        return copy.deepcopy(cache), next_lp

    def from_document(self, prefix: Sequence[int]) -> bool:
        """Keep the state after ``prefix`` if it is a gap's left context in the document read last (the start of
        one of its windows): the window's cache cut to it, and its hidden state there, give it with no pass over
        the prefix (a window not kept is read again first); whether it was."""
        document = self.document
        found = document.window_of(prefix) if document is not None else None
        if document is None or found is None:
            return False
        start, n = found
        window = document.kept.get(start)
        if window is None:
            hidden, cache = self.packed_pass([document.seq(start)], None, 0, shared=True)
            window = Window(cache, hidden)
            document.keep(start, window, evict=True)
        else:
            document.kept.move_to_end(start)
        if isinstance(window.cache, KVCache):
            cache = window.cache.sink_and_recent(n, ATTEND_BACK)
        else:
            cache = copy.deepcopy(window.cache)
            if cache.get_seq_length() > n:
                cache.crop(n - cache.get_seq_length())
        _, after = self.segment_logprobs(window.hidden[n - 1 : n], [[]], keep=[0])
        self._remember(prefix, cache, after[0])
        return True

    # ------------------------------------------------ scoring fillers

    def score(self, left: str, candidates: Sequence[str], right: str) -> list[float]:
        """Log-probability of ``left + c + right`` for each candidate c (higher fits better).

        The contexts are clipped to a sentence window, and the part of the left context all
        candidates share is conditioned on, not scored: scores differ from the full log-probability by the same
        constant for every candidate, so they compare across candidate lengths.
        """
        return [own + fit for own, fit in self.score_parts(left, candidates, right)]

    def score_parts(self, left: str, candidates: Sequence[str], right: str) -> list[tuple[float, float]]:
        """(log P(c | left), log P(right | left, c)) for each candidate c, from one forward pass.

        The first part is the candidate's own cost, the second its fit with the words after
        it; they sum to score(). A token counts as the candidate's if its first non-space
        character lies before the right context (a token of spaces only goes with what follows).
        """
        if not candidates:
            return []
        self.cores.tune()
        prefix, rests, owns = self.split(left, candidates, right)
        return [
            (float(sum(lps[:n])), float(sum(lps[n:])))
            for lps, n in zip(self.continuations(prefix, rests), owns, strict=True)
        ]

    def split(self, left: str, candidates: Sequence[str], right: str) -> tuple[list[int], list[list[int]], list[int]]:
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
        return self.context_prefix(head, first_ids[:shared]), rests, owns

    def context_prefix(self, left: str, more: Sequence[int] = ()) -> list[int]:
        """The token ids a gap after ``left`` (then the tokens ``more``) is read with: the start token, then the
        left context from the start of its window (`repair.lm.context.clip`)."""
        ids = self.document.ids_of(left) if self.document is not None else None
        if ids is None:
            ids = self.encode([left])[0][0] if left else []
        return [self.start_id, *clip([*ids, *more])]

    def continuations(self, prefix: list[int], rests: Sequence[Sequence[int]]) -> list[tuple[float, ...]]:
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
            memo = self._rest_memo.get((key, rest))
            if memo is None:
                todo.append(rest)
            else:
                found[rest] = memo
                self._rest_memo.move_to_end((key, rest))
        for group in packs([len(r) for r in todo], PACK_TOKENS):
            segments = [todo[i] for i in group]
            if key in self._prefix_memo or self.from_document(prefix):
                cache, first_lp = self.prefix_state(prefix)
                hidden, _ = self.packed_pass(segments, cache, len(prefix))
                inner, _ = self.segment_logprobs(hidden, segments)
            else:
                cache, reuse = self.prefix_base(prefix)
                lead = prefix[reuse:]
                held = cached_length(cache) + len(lead)
                hidden, cache = self.packed_pass([lead, *segments], cache, reuse, shared=True)
                inner, after = self.segment_logprobs(
                    hidden, [lead, *segments], [len(lead)] + [0] * len(segments), keep=[len(lead) - 1]
                )
                first_lp = after[0]
                self.keep_prefix(prefix, cache, held, first_lp)
                inner = inner[1:]
            for rest, lps in zip(segments, inner, strict=True):
                found[rest] = (float(first_lp[rest[0]]), *lps)
                self._rest_memo[(key, rest)] = found[rest]
        while len(self._rest_memo) > REST_MEMO:
            self._rest_memo.popitem(last=False)
        return [found[tuple(r)] for r in rests]

    # ------------------------------------------------ surprisal

    def surprisal(self, text: str) -> list[tuple[int, int, float]]:
        """Per model token: (char start, char end, surprisal in nats); spans skip the token's leading space."""
        return self.surprisal_many([text])[0]

    def surprisal_many(self, texts: Sequence[str]) -> list[list[tuple[int, int, float]]]:
        """surprisal() of each text, short texts packed together into a few forward passes.

        A text asked alone, or longer than a window, is read as a document (`read_document`): its windows are
        kept for the gaps proposed in it next.
        """
        self.cores.tune()
        encoded = self.encode(list(texts)) if texts else []
        seqs = [[self.start_id, *ids] for ids, _ in encoded]
        alone = len(texts) == 1
        short = [] if alone else [i for i, s in enumerate(seqs) if len(s) > 1 and len(windows(len(s) - 1)) == 1]
        values: dict[int, list[float]] = {i: [] for i in range(len(seqs))}
        for group in packs([len(seqs[i]) for i in short], SURPRISAL_PACK):
            chosen = [seqs[short[g]] for g in group]
            hidden, _ = self.packed_pass(chosen)
            for g, lps in zip(group, self.segment_logprobs(hidden, chosen)[0], strict=True):
                values[short[g]] = [-v for v in lps]
        for i, (ids, offsets) in enumerate(encoded):
            if i not in short and ids:
                values[i] = self.read_document(texts[i], ids, [e for _, e in offsets])
        return [
            [(*trim_span(text, s, e), v) for (s, e), v in zip(offsets, values[i], strict=True)]
            for i, (text, (_, offsets)) in enumerate(zip(texts, encoded, strict=True))
        ]

    def read_document(self, text: str, ids: Sequence[int], ends: Sequence[int]) -> list[float]:
        """Surprisal of each token of ``text`` in overlapping windows (`repair.lm.context.windows`), each scoring
        its new tokens with the rest as context; the windows are kept (within a budget) as `self.document`."""
        document = Document(text, ids, ends, self.start_id)
        values: list[float] = []
        keeping = True
        for start, _end, first in windows(len(ids)):
            seq = document.seq(start)
            hidden, cache = self.packed_pass([seq], None, 0, shared=keeping)
            # position j of seq predicts seq[j + 1] = ids[start + j]: the window scores ids[first:end]
            values += [-v for v in self.segment_logprobs(hidden, [seq], skip=[first - start])[0][0]]
            keeping = keeping and document.keep(start, Window(cache, hidden))
        self.document = document
        return values

    # ------------------------------------------------ proposing fillers

    def word_masks(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Vocabulary masks: tokens that start a new word, and tokens that continue one."""
        import torch

        if self._word_masks is None:
            pieces = self.tokenizer.batch_decode([[i] for i in range(len(self.tokenizer))])
            size = self.model.get_output_embeddings().weight.shape[0]
            pieces = (pieces + [""] * size)[:size]
            new = torch.tensor([bool(NEW_WORD.match(p)) for p in pieces])
            cont = torch.tensor([bool(WORD_PIECE.match(p)) for p in pieces])
            self._word_masks = (new, cont)
        return self._word_masks

    def propose(self, left: str, right: str, n_words: int, k: int = 10) -> list[tuple[str, float]]:
        """Up to k fillers of about ``n_words`` words for the gap, best first, each with its score().

        A causal model cannot see the right context while generating: it drafts the best first
        words after the left context and extends each to ``n_words`` words by its `GROW_BRANCH`
        likeliest next tokens, keeping as many drafts as it started with. The step
        that ends a draft also gives the chance of the token after the gap, which cuts the
        drafts to the best few at no cost; only those are scored with the next words of the
        right context, in the same packed pass as any draft still finishing its last word.
        """
        self.cores.tune()
        n_words = max(1, n_words)
        wr = right_window(right)
        stem = left.rstrip()
        new, cont = self.word_masks()
        prefix = self.context_prefix(stem)
        tail = tuple(self.encode([space_after(wr) + wr])[0][0]) if wr.strip() else ()
        _, next_lp = self.prefix_state(prefix)
        allowed = new if stem else new | cont
        best = first_tokens(next_lp.masked_fill(~allowed, float("-inf")), k)
        drafts = [
            Draft((int(t),), (float(v),), 1, "check" if n_words == 1 else "grow")
            for t, v in zip(best.indices, best.values, strict=True)
            if v > float("-inf")
        ]
        for step in range(n_words + PROPOSE_ROUNDS):
            if step >= n_words:  # drafts still unsure where their words end are scored as they are, or dropped
                drafts = [replace(d, state="spec") if d.state == "check" else d for d in drafts if d.state != "grow"]
            probe = [d for d in drafts if d.state in ("grow", "check")]
            score: list[Draft] = []
            if not probe:  # every draft has its words: score the look-ahead's best and those still growing
                ended = sorted((d for d in drafts if d.state == "ended"), key=lambda d: -(sum(d.lps) + d.ahead))
                score = ended[:k] + [d for d in drafts if d.state == "spec"]
                if not score:
                    break
            kept = [d for d in drafts if d.state == "scored"] if score else [d for d in drafts if d not in probe]
            drafts = kept + _likeliest(self.advance(prefix, probe, score, tail, n_words), len(best.indices))
        ranked: dict[str, float] = {}
        for d in sorted((d for d in drafts if d.state == "scored"), key=lambda d: -d.score):
            words = " ".join(self.tokenizer.decode(list(d.tokens)).split())
            if words and words not in ranked:
                ranked[words] = d.score
        return [(fit_filler(left, w, right), s) for w, s in list(ranked.items())[:k]]

    def advance(
        self, prefix: list[int], probe: list[Draft], score: list[Draft], tail: tuple[int, ...], n_words: int
    ) -> list[Draft]:
        """One step for every draft in one packed pass: the next token of those being probed; for those being
        scored, the right context's log-probability, or their next token if their last word goes on."""
        import torch

        key = tuple(prefix)
        dists: dict[tuple[int, ...], torch.Tensor] = {}
        nexts = torch.zeros(0)  # nothing to compute when every probe is remembered and none is scored
        inner: list[list[float]] = []
        fresh = list(dict.fromkeys(d.tokens for d in probe if (key, d.tokens) not in self._step_memo))
        for d in probe:
            if d.tokens not in fresh:
                dists[d.tokens] = self._step_memo[(key, d.tokens)]
        segments = [list(t) for t in fresh] + [[*d.tokens, *tail] for d in score]
        if segments:
            cache, _ = self.prefix_state(prefix)
            hidden, _ = self.packed_pass(segments, cache, len(prefix))
            starts = [sum(len(s) for s in segments[:i]) for i in range(len(segments))]
            drafted = [len(t) for t in fresh] + [len(d.tokens) for d in score]
            # Only the scored drafts need the right context's log-probabilities; every draft needs its next token.
            inner, nexts = self.segment_logprobs(
                hidden,
                segments,
                skip=[n - 1 for n in drafted],
                keep=[s + n - 1 for s, n in zip(starts, drafted, strict=True)],
            )
            inner = inner[len(fresh) :]
            for i, tokens in enumerate(fresh):
                dists[tokens] = self._step_memo[(key, tokens)] = nexts[i].clone()  # see keep_prefix
            while len(self._step_memo) > STEP_MEMO:
                self._step_memo.popitem(last=False)
        new, cont = self.word_masks()
        words_only = new | cont
        out: list[Draft] = []
        for d in probe:
            lp = dists[d.tokens]
            if d.state == "grow":  # until a draft has its words it may only extend words
                for tok in lp.masked_fill(~words_only, float("-inf")).topk(GROW_BRANCH).indices.tolist():
                    grown = d.extend(tok, float(lp[tok]), bool(new[tok]), "grow")
                    out.append(replace(grown, state="check") if grown.words >= n_words else grown)
                continue
            tok = int(lp.argmax())
            if cont[tok]:  # the last word goes on
                out.append(d.extend(tok, float(lp[tok]), False, "check"))
            else:
                out.append(replace(d, state="ended", ahead=float(lp[tail[0]]) if tail else 0.0))
        for i, d in enumerate(score):
            lp = nexts[len(fresh) + i]
            tok = int(lp.argmax())
            if cont[tok]:
                out.append(d.extend(tok, float(lp[tok]), False, "spec"))
                continue
            lps = (*d.lps, *inner[i])
            self._rest_memo[(key, (*d.tokens, *tail))] = lps
            out.append(replace(d, state="scored", score=float(sum(lps))))
        while len(self._rest_memo) > REST_MEMO:
            self._rest_memo.popitem(last=False)
        return out
