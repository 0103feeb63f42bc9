"""Backend 2: any Hugging Face masked LM (a local folder, or a hub name already in the local cache):
pseudo-log-likelihood scoring and real mask filling."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from repair.lm.base import (
    PROPOSE_STARTS,
    DocumentContext,
    ModelError,
    Reading,
    T,
    content_start,
    fit_filler,
    rerank,
    trim_span,
    window,
)
from repair.lm.threads import CoreWatch, runs_reduced
from repair.text.tokens import count_words

MASKED_BATCH = 32  # masked copies per forward pass (pseudo-log-likelihood)
MASKED_WINDOW = 128  # tokens of context around each masked token in surprisal()


class MaskedLM:
    """A Hugging Face masked LM: pseudo-log-likelihood scoring and real mask filling."""

    def __init__(self, model: Any, tokenizer: Any, name: str) -> None:
        if tokenizer.mask_token_id is None:
            raise ModelError(f"{name}: the tokenizer has no mask token, so it is not a masked language model")
        self.name = name
        self.model = model
        self.tokenizer = tokenizer
        limit = int(getattr(model.config, "max_position_embeddings", 512) or 512)
        self.max_tokens = max(8, min(limit, 512) - 2)
        self.special = frozenset(int(i) for i in tokenizer.all_special_ids)
        self.cores = CoreWatch(fixed=runs_reduced(model))

    def encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        enc = self.tokenizer(text, add_special_tokens=True, return_offsets_mapping=True, truncation=False)
        return list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]

    def masked_logprobs(self, seqs: list[list[int]], positions: list[int]) -> list[float]:
        """log p(original token) at ``positions[i]`` of ``seqs[i]`` with that token masked."""
        import torch

        mask_id = int(self.tokenizer.mask_token_id)
        pad_id = int(self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0)
        out: list[float] = []
        with torch.inference_mode():
            for i in range(0, len(seqs), MASKED_BATCH):
                batch, pos = seqs[i : i + MASKED_BATCH], positions[i : i + MASKED_BATCH]
                longest = max(len(s) for s in batch)
                ids = torch.tensor([s + [pad_id] * (longest - len(s)) for s in batch])
                attn = torch.tensor([[1] * len(s) + [0] * (longest - len(s)) for s in batch])
                rows = torch.arange(len(batch))
                where = torch.tensor(pos)
                truth = ids[rows, where].clone()
                ids[rows, where] = mask_id
                logits = self.model(input_ids=ids, attention_mask=attn).logits[rows, where].float()
                lp = logits.log_softmax(-1).gather(1, truth.unsqueeze(1)).squeeze(1)
                out.extend(float(x) for x in lp)
        return out

    def score(self, left: str, candidates: Sequence[str], right: str) -> list[float]:
        """Pseudo-log-likelihood of each candidate plus a window of right context (higher fits better)."""
        return [own + fit for own, fit in self.score_parts(left, candidates, right)]

    def score_parts(
        self, left: str, candidates: Sequence[str], right: str, context: DocumentContext | None = None
    ) -> list[tuple[float, float]]:
        """score() split in two: the pseudo-log-likelihood of the candidate's tokens and of the right context's.

        An approximation of the causal split: every token is judged with both sides visible,
        so the candidate's part already depends on the right context. A masked model reads a gap in its
        sentence window and keeps nothing of a document: ``context`` is not used.
        """
        self.cores.tune()
        wl, wr = window(left, right)
        seqs: list[list[int]] = []
        positions: list[int] = []
        owner: list[tuple[int, int]] = []  # (candidate, 0 for its own tokens or 1 for the right context's)
        for c_index, c in enumerate(candidates):
            text = wl + c + wr
            ids, offsets = self.encode(text)
            ids, offsets = self.clip(ids, offsets, len(wl))
            for p, (tok, (start, end)) in enumerate(zip(ids, offsets, strict=True)):
                if tok not in self.special and end > len(wl):
                    seqs.append(ids)
                    positions.append(p)
                    owner.append((c_index, int(content_start(text, start, end) >= len(wl) + len(c))))
        totals = [[0.0, 0.0] for _ in candidates]
        for (o, part), lp in zip(owner, self.masked_logprobs(seqs, positions) if seqs else [], strict=True):
            totals[o][part] += lp
        return [(own, fit) for own, fit in totals]

    def clip(
        self, ids: list[int], offsets: list[tuple[int, int]], focus: int
    ) -> tuple[list[int], list[tuple[int, int]]]:
        """Keep at most ``max_tokens`` tokens (plus the special ends), centred near char ``focus``."""
        if len(ids) <= self.max_tokens + 2:
            return ids, offsets
        body = list(range(1, len(ids) - 1))
        at = next((i for i in body if offsets[i][1] > focus), body[-1])
        lo = max(1, min(at - self.max_tokens // 2, len(ids) - 1 - self.max_tokens))
        keep = [0, *range(lo, lo + self.max_tokens), len(ids) - 1]
        return [ids[i] for i in keep], [offsets[i] for i in keep]

    def surprisal(self, text: str) -> list[tuple[int, int, float]]:
        """Per token: (char start, char end, -log p(token | everything else)) in nats."""
        self.cores.tune()
        ids, offsets = self.encode(text)
        cls_, sep = ids[0], ids[-1]
        body = [(t, o) for t, o in zip(ids[1:-1], offsets[1:-1], strict=True) if t not in self.special]
        width = min(MASKED_WINDOW, self.max_tokens)
        half = width // 2
        seqs: list[list[int]] = []
        positions: list[int] = []
        for i in range(len(body)):
            lo = max(0, min(i - half, len(body) - width))
            part = [t for t, _ in body[lo : lo + width]]
            seqs.append([cls_, *part, sep])
            positions.append(1 + i - lo)
        lps = self.masked_logprobs(seqs, positions) if seqs else []
        return [(*trim_span(text, s, e), -lp) for (_, (s, e)), lp in zip(body, lps, strict=True)]

    def surprisal_many(self, texts: Sequence[str]) -> list[list[tuple[int, int, float]]]:
        """surprisal() of each text (each already batches its masked copies)."""
        return [self.surprisal(t) for t in texts]

    def read(self, text: str) -> Reading:
        """surprisal() of the document; nothing of it is kept (gaps are read in their sentence window)."""
        return Reading(self.surprisal(text), None)

    def run_together(self, tasks: Sequence[Callable[[], T]]) -> list[T]:
        """The tasks one by one: this backend has no merged passes to share."""
        return [task() for task in tasks]

    def first_banned(self) -> list[int]:
        """Token ids that cannot begin a word: special tokens and word-piece continuations ("##s")."""
        pieces = self.tokenizer.convert_ids_to_tokens(list(range(len(self.tokenizer))))
        return sorted(self.special | {i for i, p in enumerate(pieces) if str(p).startswith("##")})

    def propose(
        self, left: str, right: str, n_words: int, k: int = 10, context: DocumentContext | None = None
    ) -> list[tuple[str, float]]:
        """Fill 1..n mask tokens between left and right (top first pieces, the rest greedy), re-ranked by score()
        (``context`` is not used: see `score_parts`)."""
        import torch

        self.cores.tune()
        n_words = max(1, n_words)
        wl, wr = window(left, right)
        stem, rest = wl.rstrip(), wr.lstrip()
        mask = str(self.tokenizer.mask_token)
        mask_id = int(self.tokenizer.mask_token_id)
        starts = max(k, PROPOSE_STARTS)
        texts: list[str] = []
        with torch.inference_mode():
            for n_masks in range(n_words, 2 * n_words + 1):
                filled = fit_filler(stem, " ".join([mask] * n_masks), rest)
                ids, offsets = self.encode(stem + filled + rest)
                ids, offsets = self.clip(ids, offsets, len(stem))
                slots = [p for p, t in enumerate(ids) if t == mask_id]
                if len(slots) != n_masks:
                    continue
                logits = self.model(input_ids=torch.tensor([ids])).logits[0, slots[0]].float()
                logits[self.first_banned()] = float("-inf")
                best = torch.topk(logits, min(starts, logits.shape[0]))
                firsts = best.indices[best.values > float("-inf")]
                batch = torch.tensor([ids] * len(firsts))
                batch[:, slots[0]] = firsts
                for slot in slots[1:]:
                    step = self.model(input_ids=batch).logits[:, slot].float()
                    step[:, list(self.special)] = float("-inf")
                    batch[:, slot] = step.argmax(dim=1)
                for row in batch.tolist():
                    pieces = self.tokenizer.convert_ids_to_tokens([row[s] for s in slots])
                    words_text = " ".join(self.tokenizer.convert_tokens_to_string(pieces).split())
                    if words_text and words_text not in texts:
                        texts.append(words_text)
        # Extra masks exist for words split into pieces; whole words beyond n_words are another gap's answer.
        exact = [t for t in texts if count_words(t) == n_words]
        return rerank(self, left, right, exact or texts, k)
