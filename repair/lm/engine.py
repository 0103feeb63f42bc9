"""The forward engine of the causal model: packed passes, merged across the tasks run together, and the output
projection; no text, no memory of earlier calls.

A forward pass costs some 45 ms however few its tokens (the weights are read from memory each time),
and a token ~0.6 ms (bfloat16, one core): segments are packed side by side in one pass, and the gaps
of a text are worked on side by side (`Engine.run_together`) so that the passes they ask for run
merged, a few hundred tokens each. These numbers trade speed for memory; they do not change a result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import torch

from repair.lm.base import T, packs
from repair.lm.llama import Block, Blocks, pack_mask
from repair.lm.threads import CoreWatch, runs_reduced
from repair.lm.together import HeadRequest, PassRequest, Together

HEAD_CHUNK = 512  # positions per output-projection call: each reads its 56 MB of weights, and holds 100 MB of scores
TOGETHER_TASKS = 32  # tasks run side by side: the memos of `repair.lm.causal` hold what each of them is working on
MERGE_TOKENS = 512  # tokens of merged requests per pass


def cached_length(cache: Any) -> int:
    """Positions a cache holds: fewer than the positions before the new tokens when it keeps only the recent
    ones (`KVCache.sink_and_recent`)."""
    return int(cache.get_seq_length()) if cache is not None else 0


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


class Engine:
    """Forward passes of a causal model (Hugging Face's, or the plain-torch LLaMA of `repair.lm.llama`)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.cores = CoreWatch(fixed=runs_reduced(model))
        self._together: Together | None = None  # set while `run_together` runs tasks

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
